"""Figures (verify.plots.figures) and the numbers behind them (verify.plots.plot_data).

Rendering: every kind, for the paper's F.1 and F.2 data, to PNG and SVG.  Geometry: each helper
is checked against an independent route (brute force over a dense grid of unit vectors, a small
convex program per point, closed forms for N = 2).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import cvxpy as cp
import numpy as np
import pytest

from verify.convex.routes import solve_binary
from verify.errors import InputError
from verify.io.datasets import paper_dataset
from verify.plots.figures import KINDS, plot, save_figure
from verify.plots.plot_data import (
    chamber_extreme_points,
    ellipse_boundary,
    load_trajectory,
    polar_boundary,
    rectified_ellipsoid_boundary,
    rectified_ellipsoid_spikes,
    relative_gap,
    support_value,
)

PNG = b"\x89PNG\r\n\x1a\n"


def gd(X, y, *, m=6, steps=300, lr=0.1, scale=1e-3, seed=0):
    """A tiny full-batch gradient descent (summed logistic loss), recorded at every step."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((X.shape[1], m))
    W *= scale / np.linalg.norm(W, axis=0)
    w2 = scale * rng.choice([-1.0, 1.0], m)
    out = {k: [] for k in ("W1", "w2", "ub", "loss")}
    for _ in range(steps + 1):
        H = X @ W
        q = y * (np.maximum(H, 0) @ w2)
        out["W1"].append(W.copy())
        out["w2"].append(w2.copy())
        out["loss"].append(np.sum(np.log1p(np.exp(-q))))
        norms = np.sum(np.linalg.norm(W, axis=0) * np.abs(w2))
        out["ub"].append(norms / q.min() if q.min() > 0 else np.inf)
        lt = y / (1 + np.exp(q))
        W, w2 = W + lr * (X.T @ ((H > 0) * lt[:, None])) * w2, w2 + lr * (np.maximum(H, 0).T @ lt)
    return {k: np.array(v) for k, v in out.items()}


def unit_grid(n=200_001):
    t = np.linspace(0, 2 * np.pi, n)
    return np.column_stack([np.cos(t), np.sin(t)])


@pytest.fixture(scope="module")
def cases():
    out = {}
    for name in ("F.1", "F.2"):
        ds = paper_dataset(name)
        X, y = ds.X, ds.y.astype(float)
        out[name] = (X, y, solve_binary(X, y)[0], [gd(X, y, seed=s) for s in range(2)])
    return out


# ----------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_renders_png_and_svg(cases, kind, tmp_path):
    """F.1 to PNG and F.2 to SVG (each save costs about a second on a loaded machine)."""
    for name, suffix in (("F.1", ".png"), ("F.2", ".svg")):
        X, y, sol, runs = cases[name]
        traj = runs if kind in ("seeds", "gap") else runs[0]
        out = tmp_path / f"{kind}{suffix}"
        plot(kind, X, y, trajectory=traj, solution=sol, output=out)
        if suffix == ".png":
            assert out.read_bytes()[:8] == PNG and out.stat().st_size > 5000
        else:
            root = ET.parse(out).getroot()
            assert root.tag.endswith("svg") and len(list(root.iter())) > 50
    assert sorted(os.listdir(tmp_path)) == [f"{kind}.png", f"{kind}.svg"]  # no temporary files


def test_plot_computes_the_solution_and_takes_a_dataset(tmp_path):
    ds = paper_dataset("F.1")
    fig = plot("rectified-ellipsoid", ds, output=tmp_path / "q.svg",
               model=(np.array([[1.0, -0.3], [0.2, 1.0]]), np.array([1.0, -1.0])))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("trained" in s for s in labels) and any("optimal" in s for s in labels)


def test_plot_reads_data_from_a_trajectory_file(tmp_path):
    ds = paper_dataset("F.2")
    t = gd(ds.X, ds.y.astype(float))
    p = tmp_path / "t.npz"
    np.savez(p, X=ds.X, y=ds.y.astype(float), steps=np.arange(301), **t)
    plot("circle", trajectory=str(p), output=tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG


def test_save_figure_overwrites_atomically(tmp_path):
    from matplotlib.figure import Figure

    p = tmp_path / "f.pdf"
    p.write_bytes(b"old")
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1])
    save_figure(fig, p)
    assert p.read_bytes()[:5] == b"%PDF-" and os.listdir(tmp_path) == ["f.pdf"]
    assert (p.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_trajectory_figures_on_more_samples_without_saving():
    """d = 2 with N = 3: circle and seeds (one row: no rectified panel), gap, alignment."""
    X = np.array([[1.0, 0.2], [0.1, 1.0], [-1.0, -0.3]])
    y = np.array([1.0, 1.0, -1.0])
    runs = [gd(X, y, steps=60, seed=s) for s in range(3)]
    assert len(plot("seeds", X, y, trajectory=runs).axes) == 3
    fig = plot("circle", X, y, trajectory=runs[0], model=(np.eye(2), np.array([1.0, -1.0])))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels.count("cone boundary") == 1 and "model neuron" in labels
    assert "optimal neuron" in labels
    gap = plot("gap", X, y, trajectory=runs)
    title = gap.axes[0].get_title()
    p_star = solve_binary(X, y)[0].value
    assert f"{p_star:.6g}" in title
    # P* from the trajectory's metadata when no solution is given
    assert "12.5" in plot("gap", X, y, trajectory={**runs[0], "p_star": 12.5}).axes[0].get_title()
    assert len(plot("alignment", X, y, trajectory=runs[0]).axes) == 2
    dead = {**runs[0], "W1": runs[0]["W1"].copy()}
    dead["W1"][:, :, 0] = 0.0  # a zero neuron: no direction, drawn as nothing
    assert len(plot("circle", X, y, trajectory=dead).axes) == 2
    with pytest.raises(InputError, match="'alignment' needs labels y"):
        plot("alignment", X, None, trajectory=runs[0])


# ----------------------------------------------------------------------------- refusals


def test_two_dimensional_figures_refuse_other_shapes():
    rng = np.random.default_rng(0)
    X5 = rng.standard_normal((2, 5))
    t5 = {"W1": rng.standard_normal((3, 5, 4)), "w2": np.ones((3, 4))}
    for kind in ("circle", "seeds"):
        with pytest.raises(InputError, match=f"figure '{kind}' needs d = 2 features, the data "
                                             "have d = 5"):
            plot(kind, X5, [1, -1], trajectory=t5)
    X3 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    for kind in ("rectified-ellipsoid", "polar", "ellipsoid", "rectified-trajectories"):
        with pytest.raises(InputError, match=f"figure '{kind}' needs N = 2 samples, the data "
                                             "have N = 3"):
            plot(kind, X3, [1, -1, 1], trajectory={"W1": np.ones((2, 2, 1))})
    with pytest.raises(InputError, match="the ellipsoid needs N = 2"):
        ellipse_boundary(X3)


def test_bad_requests_raise_input_error(tmp_path):
    ds = paper_dataset("F.1")
    t = gd(ds.X, ds.y.astype(float), steps=5)
    with pytest.raises(InputError, match="figure kind: expected one of"):
        plot("histogram", ds.X, ds.y)
    with pytest.raises(InputError, match="needs a training trajectory"):
        plot("circle", ds.X, ds.y)
    with pytest.raises(InputError, match="takes one trajectory, received 2"):
        plot("circle", ds.X, ds.y, trajectory=[t, t])
    with pytest.raises(InputError, match=r"ending in \.png, \.svg or \.pdf"):
        plot("ellipsoid", ds.X, ds.y, output=tmp_path / "x.jpg")
    with pytest.raises(InputError, match="does not exist"):
        plot("ellipsoid", ds.X, ds.y, output=tmp_path / "no" / "x.png")
    with pytest.raises(InputError, match="W1 must have shape|W1"):
        plot("circle", ds.X, ds.y, trajectory={"W1": np.ones((2, 3))})
    with pytest.raises(InputError, match=r"rectified must have shape \(6, 2, 6\)"):
        plot("circle", ds.X, ds.y, trajectory={**t, "rectified": np.ones((6, 3, 6))})
    with pytest.raises(InputError, match="labels in"):
        plot("polar", ds.X, [1, 2])
    with pytest.raises(InputError, match="model: expected one binary network"):
        plot("rectified-ellipsoid", ds.X, ds.y, model=(np.ones((3, 2)), np.ones(2)))
    with pytest.raises(InputError, match="recorded on other data"):
        plot("circle", ds.X, ds.y, trajectory={**t, "X": ds.X + 1.0})
    with pytest.raises(InputError, match="recorded with other labels"):
        plot("circle", ds.X, ds.y, trajectory={**t, "X": ds.X, "y": -ds.y})
    with pytest.raises(InputError, match="expected a .npz"):
        plot("circle", ds.X, ds.y, trajectory=str(tmp_path / "t.csv"))


# ----------------------------------------------------------------------------- geometry


def min_norm_preimage(X, v):
    """min ||u|| s.t. (Xu)_+ = v: x_n^T u = v_n where v_n > 0, x_n^T u <= 0 where v_n = 0."""
    u = cp.Variable(X.shape[1])
    pos = v > 0
    cons = [X[pos] @ u == v[pos]] if pos.any() else []
    if (~pos).any():
        cons.append(X[~pos] @ u <= 0)
    prob = cp.Problem(cp.Minimize(cp.norm(u)), cons)
    prob.solve(solver=cp.CLARABEL)
    return prob.value


@pytest.mark.parametrize("d", [2, 5])
def test_rectified_boundary_points_lie_in_q_and_hold_the_spikes(d):
    rng = np.random.default_rng(d)
    for X in (paper_dataset("F.1").X, paper_dataset("F.2").X, rng.standard_normal((2, d))):
        B = rectified_ellipsoid_boundary(X)
        assert B.min() >= 0.0
        for v in B[:: len(B) // 10]:
            assert min_norm_preimage(X, v) <= 1 + 1e-6
        a = rectified_ellipsoid_spikes(X)
        for k in range(2):
            tip = np.zeros(2)
            tip[k] = a[k]
            assert np.min(np.linalg.norm(B - tip, axis=1)) < 1e-12


def test_spike_lengths_closed_form_and_brute_force():
    for X in (paper_dataset("F.1").X, paper_dataset("F.2").X, np.array([[1.0, 0.2], [0.3, 1.0]])):
        a = rectified_ellipsoid_spikes(X)
        x1, x2 = X
        if x1 @ x2 <= 0:  # the unconstrained maximiser x_1/||x_1|| already has x_2^T u <= 0
            want = [np.linalg.norm(x1), np.linalg.norm(x2)]
        else:  # the tip is where the ellipse meets the axis: |det X| / ||x_other||
            det = abs(np.linalg.det(X))
            want = [det / np.linalg.norm(x2), det / np.linalg.norm(x1)]
        np.testing.assert_allclose(a, want, rtol=1e-12)
        V = unit_grid() @ X.T
        for k in range(2):
            brute = V[V[:, 1 - k] <= 0, k].max()
            assert brute <= a[k] + 1e-12 and a[k] - brute < 1e-4  # grid step 3e-5


def dist_to_polyline(P, B):
    A, C = B[:-1], B[1:]
    AC = C - A
    L2 = np.maximum(np.sum(AC * AC, axis=1), 1e-300)
    t = np.clip(((P[:, None, :] - A[None]) * AC[None]).sum(-1) / L2, 0, 1)
    proj = A[None] + t[..., None] * AC[None]
    return np.linalg.norm(P[:, None, :] - proj, axis=-1).min(axis=1)


@pytest.mark.parametrize("d", [2, 4])
def test_random_points_of_q_are_inside_the_drawn_boundary(d):
    from matplotlib.path import Path

    rng = np.random.default_rng(10 + d)
    for X in (paper_dataset("F.1").X, paper_dataset("F.2").X, rng.standard_normal((2, d))):
        if X.shape[1] != d:
            X = np.hstack([X, np.zeros((2, d - 2))])
        B = rectified_ellipsoid_boundary(X)
        U = rng.standard_normal((1500, d))
        U *= (rng.random(1500) ** (1 / d) / np.linalg.norm(U, axis=1))[:, None]
        P = np.maximum(U @ X.T, 0.0)
        inside = Path(B).contains_points(P) | (dist_to_polyline(P, B) < 1e-4)
        assert inside.all()


def test_ellipse_boundary_preimages():
    rng = np.random.default_rng(3)
    for X in (paper_dataset("F.1").X, rng.standard_normal((2, 4)), np.array([[1.0, 2], [2, 4]])):
        V, U = ellipse_boundary(X)
        np.testing.assert_allclose(U @ X.T, V, atol=1e-12)
        assert np.all(np.linalg.norm(U, axis=1) <= 1 + 1e-12)
        # every boundary point maximises its own normal direction (support of X B)
        n = rng.standard_normal(2)
        assert np.max(V @ n) >= np.linalg.norm(X.T @ n) * (1 - 1e-4)


def test_optimal_lambda_touches_q():
    for name in ("F.1", "F.2"):
        ds = paper_dataset(name)
        lam = solve_binary(ds.X, ds.y.astype(float))[0].lam
        B = rectified_ellipsoid_boundary(ds.X, n=4001)
        assert abs(np.max(np.abs(B @ lam)) - 1) < 1e-4
        assert abs(support_value(ds.X, lam) - 1) < 1e-6


@pytest.mark.parametrize("d", [2, 3])
def test_support_value_two_routes(d):
    rng = np.random.default_rng(20 + d)
    for _ in range(5):
        X = rng.standard_normal((2, d))
        B = rectified_ellipsoid_boundary(X, n=20001)
        for lam in rng.standard_normal((5, 2)):
            h, sampled = support_value(X, lam), np.max(np.abs(B @ lam))
            assert sampled <= h + 1e-9 and h - sampled < 1e-6 * max(1.0, h)


def test_chamber_extremes_against_a_grid():
    rng = np.random.default_rng(5)
    G = unit_grid()
    for X in (paper_dataset("F.1").X, paper_dataset("F.2").X, rng.standard_normal((3, 2))):
        lam = rng.standard_normal(X.shape[0])
        H = G @ X.T
        for p in chamber_extreme_points(X, lam):
            D = p["pattern"]
            inside = np.all(np.where(D, H >= 0, H <= 0), axis=1)
            vals = np.where(D, H, 0.0)[inside] @ lam
            brute_max = max(vals.max(initial=0.0), 0.0)
            brute_min = min(vals.min(initial=0.0), 0.0)
            assert brute_max <= p["max"] + 1e-9 and p["max"] - brute_max < 1e-4  # grid step
            assert brute_min >= p["min"] - 1e-9 and brute_min - p["min"] < 1e-4
            np.testing.assert_allclose(p["v_max"], np.maximum(X @ p["u_max"], 0), atol=1e-9)
            assert lam @ p["v_max"] == pytest.approx(p["max"], abs=1e-9)


def test_polar_boundary_is_on_the_constraint():
    for name in ("F.1", "F.2"):
        X = paper_dataset(name).X
        Pb = polar_boundary(X, n=181)
        B = rectified_ellipsoid_boundary(X, n=20001)
        h = np.max(np.abs(Pb @ B.T), axis=1)  # the constraint by the sampled route
        np.testing.assert_allclose(h, 1.0, atol=1e-6)


def test_polar_boundary_cut_where_unbounded():
    X = np.array([[1.0, 0.0], [0.0, 0.0]])  # Q = [0, 1] x {0}: Q* is the strip |lam_1| <= 1
    Pb = polar_boundary(X, n=9, radius=5.0)
    np.testing.assert_allclose(np.abs(Pb[:, 0]), np.where(np.abs(Pb[:, 1]) < 5, 1.0, 0.0),
                               atol=1e-12)
    assert np.linalg.norm(Pb, axis=1).max() == pytest.approx(5.0)


# ----------------------------------------------------------------------------- trajectories


def test_load_trajectory_fills_directions_rectified_and_alignment():
    ds = paper_dataset("F.1")
    X, y = ds.X, ds.y.astype(float)
    t = load_trajectory(gd(X, y, steps=50), X, y)
    W = gd(X, y, steps=50)["W1"]
    assert t["steps"].tolist() == list(range(51))
    for k in (0, 25, 50):
        for i in range(W.shape[2]):
            w = W[k, :, i]
            np.testing.assert_allclose(t["direction"][k, :, i], w / np.linalg.norm(w))
            want = np.maximum(X @ w, 0) / np.linalg.norm(w)
            np.testing.assert_allclose(t["rectified"][k, :, i], want)
            g = sum(y[n] * X[n] for n in range(2) if X[n] @ w > 0) * t["sign"][k, i]
            if np.linalg.norm(g) > 0:
                cos = w @ g / (np.linalg.norm(w) * np.linalg.norm(g))
                assert t["alignment"][k, i] == pytest.approx(cos, abs=1e-12)


def test_relative_gap_masks_negative_margins():
    g = relative_gap({"ub": np.array([np.inf, 3.0, 2.5])}, 2.0)
    assert np.isnan(g[0]) and g[1:].tolist() == [0.5, 0.25]
    with pytest.raises(InputError, match="P\\*"):
        relative_gap({"ub": np.ones(2)}, 0.0)


def test_with_the_real_trainer(tmp_path):
    dyn = pytest.importorskip("verify.network.training")
    ds = paper_dataset("F.1")
    X, y = ds.X, ds.y.astype(float)
    sol = solve_binary(X, y)[0]
    runs = [dyn.train(X, y, neurons=6, steps=300, lr=0.1, seed=s, record="log",
                      record_points=20, p_star=sol.value).trajectory for s in (0, 1)]
    paths = []
    for k, tr in enumerate(runs):
        paths.append(tmp_path / f"t{k}.npz")
        tr.save(paths[-1])
    # the trainer's own alignment / rectified / gap agree with the ones derived here
    full = load_trajectory(str(paths[0]))
    mine = load_trajectory({"W1": runs[0].W1, "w2": runs[0].w2, "steps": runs[0].steps}, X, y)
    ok = np.isfinite(full["alignment"])
    np.testing.assert_allclose(mine["alignment"][ok], full["alignment"][ok], atol=1e-9)
    np.testing.assert_allclose(mine["rectified"], np.nan_to_num(full["rectified"]), atol=1e-12)
    fin = np.isfinite(full["gap"])
    np.testing.assert_allclose(relative_gap(full, sol.value)[fin], full["gap"][fin], rtol=1e-9)
    plot("circle", X, y, trajectory=str(paths[0]), solution=sol, output=tmp_path / "c.png")
    plot("seeds", trajectory=[str(p) for p in paths], output=tmp_path / "seeds.svg")
    plot("gap", trajectory=runs, output=tmp_path / "gap.png")  # P* from the files
    ET.parse(tmp_path / "seeds.svg")
    assert all((tmp_path / f).stat().st_size > 5000 for f in os.listdir(tmp_path)
               if f.endswith(".png"))


def test_gap_title_never_calls_an_unproven_value_p_star():
    d = json.loads((Path(__file__).resolve().parents[2] / "examples" / "grid3.json").read_text())
    X, y = np.array(d["X"], dtype=float), np.array(d["y"], dtype=float)
    sol = solve_binary(X, y, limit=2, sampled=True)[0]
    assert sol.status.value == "restricted"
    runs = [gd(X, y, steps=30, seed=s) for s in range(2)]
    fig = plot("gap", X, y, trajectory=runs, solution=sol)
    title = fig.axes[0].get_title()
    assert "P^*=" not in title and "best value found" in title and "not proven" in title
    assert f"{sol.value:.6g}" in title and "P^*" not in fig.axes[0].get_ylabel()
    assert fig.axes[1].get_title() == "training loss"
    proven = plot("gap", X, y, trajectory=runs, solution=solve_binary(X, y)[0])
    assert proven.axes[0].get_title().startswith("certificate gap ($P^*=")


def test_right_panels_have_titles_and_seeds_a_marker_key():
    X = np.array([[1.0, 0.2], [0.1, 1.0], [-1.0, -0.3]])
    y = np.array([1.0, 1.0, -1.0])
    runs = [gd(X, y, steps=60, seed=s) for s in range(2)]
    al = plot("alignment", X, y, trajectory=runs[0])
    assert all(a.get_title() for a in al.axes)
    assert all(a.get_title() for a in plot("gap", X, y, trajectory=runs).axes)
    seeds = plot("seeds", X, y, trajectory=runs)
    texts = [t.get_text() for t in seeds.legends[0].get_texts()]
    assert texts[:2] == ["open: initial direction (step 0)", "filled: final direction"]
