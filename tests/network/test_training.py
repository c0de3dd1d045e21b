"""Tests of verify.network.training (gradient descent) and verify.network.trajectory (what it
records).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

from verify.convex.closed_form import solve_orthogonally_separable
from verify.errors import InputError
from verify.network.kkt import alignment, loss_weights
from verify.network.model import Network, objective_upper_bound
from verify.network.training import initialise, loss_and_gradient, train, train_dataset
from verify.network.trajectory import Trajectory, log_losses, record_steps, snapshot

F1_X = np.array([[1.65, 0.47], [-0.47, 1.35]])
F1_y = np.array([1, -1])


@pytest.fixture(scope="module")
def f1_p_star():
    return solve_orthogonally_separable(F1_X, F1_y.astype(float))


@pytest.fixture(scope="module")
def f1_runs(f1_p_star):
    kw = dict(neurons=10, steps=2000, lr=0.2, init_scale=1e-6, seed=0, record="log",
              record_points=40, p_star=f1_p_star.value)
    return {s: train(F1_X, F1_y, schedule=s, **kw) for s in ("constant", "loss-scaled")}


def _loss(X, y, W1, w2):
    q = y * (np.maximum(X @ W1, 0.0) @ w2)
    return float(np.sum(np.logaddexp(0.0, -q)))


def test_gradient_matches_central_differences():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((7, 3))
    y = np.where(rng.random(7) < 0.5, -1, 1)
    W1 = rng.standard_normal((3, 5))
    w2 = rng.standard_normal(5)
    pre = X @ W1
    assert np.min(np.abs(pre)) > 0.01  # no sample near a kink: differences stay on one side
    assert np.any(pre > 0) and np.any(pre < 0)
    L, gW1, gw2 = loss_and_gradient(X, y, W1, w2)
    assert L == pytest.approx(_loss(X, y, W1, w2), rel=1e-15)
    h = 1e-6  # moves every pre-activation by < h * max ||x_n|| << 0.01
    num_W1 = np.zeros_like(W1)
    for idx in np.ndindex(W1.shape):
        E = np.zeros_like(W1)
        E[idx] = h
        num_W1[idx] = (_loss(X, y, W1 + E, w2) - _loss(X, y, W1 - E, w2)) / (2 * h)
    num_w2 = np.array([
        (_loss(X, y, W1, w2 + h * e) - _loss(X, y, W1, w2 - h * e)) / (2 * h) for e in np.eye(5)
    ])
    np.testing.assert_allclose(gW1, num_W1, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gw2, num_w2, rtol=1e-6, atol=1e-8)


def test_subgradient_is_zero_at_the_kink():
    # x^T w1 = 0 exactly: the paper's convention takes 0 as the derivative of (.)_+ there
    X = np.array([[1.0, -1.0]])
    _, gW1, _ = loss_and_gradient(X, np.array([1]), np.array([[1.0], [1.0]]), np.array([2.0]))
    assert np.all(gW1 == 0.0)


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_trainer_uses_zero_at_the_kink(schedule):
    # the only sample sits exactly on the neuron's kink: with derivative 1[x^T w > 0] = 0 and
    # (x^T w)_+ = 0 nothing moves (with 1[x^T w >= 0] the first layer would move)
    X = np.array([[1.0, -1.0]])
    W1, w2 = np.array([[1.0], [1.0]]), np.array([2.0])
    r = train(X, np.array([1]), neurons=1, steps=3, lr=0.5, init=(W1, w2), schedule=schedule)
    assert np.array_equal(r.W1, W1) and np.array_equal(r.w2, w2)


def test_one_step_is_the_euler_step_of_the_flow():
    # W(t+1) = W(t) - lr * gradient, with the gradient of an independent route
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 3))
    y = np.where(rng.random(6) < 0.5, -1, 1)
    W0, v0 = initialise(3, 4, init_scale=0.7, seed=2)
    r = train(X, y, neurons=4, steps=1, lr=0.3, init=(W0, v0))
    _, gW1, gw2 = loss_and_gradient(X, y, W0, v0)
    np.testing.assert_allclose(r.W1, W0 - 0.3 * gW1, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(r.w2, v0 - 0.3 * gw2, rtol=1e-14, atol=1e-16)
    # Lemma 1 in discrete time: the invariant moves by lr^2 (w2^2 |g|^2 - (w1^T g)^2)
    g = -gW1 / v0[None, :]  # g_i = sum over active n of lam_n x_n
    inv0 = np.sum(W0**2, axis=0) - v0**2
    inv1 = np.sum(r.W1**2, axis=0) - r.w2**2
    pred = 0.09 * (v0**2 * np.sum(g * g, axis=0) - np.sum(W0 * g, axis=0) ** 2)
    np.testing.assert_allclose(inv1 - inv0, pred, rtol=1e-6, atol=1e-15)


def test_invariant_drift_shrinks_with_the_step_size():
    drifts = []
    for lr, steps in ((0.2, 100), (0.1, 200), (0.05, 400)):  # same time horizon lr * steps
        r = train(F1_X, F1_y, neurons=10, steps=steps, lr=lr, init_scale=0.3, seed=3,
                  record=[0, steps])
        inv = r.trajectory.invariant
        drifts.append(np.max(np.abs(inv[-1] - inv[0])))
    assert drifts[0] > 1e-6  # the test measures something
    assert drifts[0] / drifts[1] > 1.8 and drifts[1] / drifts[2] > 1.8


def test_scaled_initialisation_is_exact():
    W1, w2 = initialise(4, 50, init_scale=0.01, seed=9)
    assert W1.shape == (4, 50) and w2.shape == (50,)
    eps = Fraction(1, 2**50)
    for i in range(50):
        n2 = sum(Fraction(float(a)) ** 2 for a in W1[:, i])  # exact squared norm
        assert abs(n2 - Fraction(float(w2[i])) ** 2) <= eps * n2
        assert abs(n2 - Fraction(1, 10_000)) <= eps * n2 * 4
    assert 10 < np.sum(w2 > 0) < 40  # both signs
    WK, vK = initialise(4, 50, init_scale=0.01, seed=9, n_classes=2)
    assert np.array_equal(WK[0], W1) and np.array_equal(vK[0], w2)
    r = train(F1_X, F1_y, neurons=6, steps=0, init_scale=0.25, seed=4, record="log")
    assert np.allclose(np.linalg.norm(r.W1, axis=0), 0.25, rtol=1e-15)
    assert np.max(np.abs(r.trajectory.invariant[0])) <= 1e-16


def test_determinism_same_arrays_and_bytes(tmp_path):
    kw = dict(neurons=5, steps=300, lr=0.2, seed=12, record="log", schedule="loss-scaled")
    a, b = train(F1_X, F1_y, **kw), train(F1_X, F1_y, **kw)
    assert np.array_equal(a.W1, b.W1) and np.array_equal(a.w2, b.w2)
    for name in ("W1", "w2", "loss", "margin", "lambda_tilde", "alignment", "ub"):
        assert np.array_equal(getattr(a.trajectory, name), getattr(b.trajectory, name),
                              equal_nan=True)
    a.trajectory.save(tmp_path / "a.npz")
    b.trajectory.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    c = train(F1_X, F1_y, **{**kw, "seed": 13})
    assert not np.array_equal(a.W1, c.W1)


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_k_classes_equal_k_binary_runs(schedule):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, 4))
    Y = np.where((np.arange(9) % 3)[:, None] == np.arange(3)[None], 1, -1)
    rk = train(X, Y, neurons=5, steps=200, seed=4, schedule=schedule, record="log")
    assert rk.W1.shape == (3, 4, 5) and rk.w2.shape == (3, 5)
    W0, v0 = initialise(4, 5, init_scale=1e-3, seed=4, n_classes=3)
    tk = rk.trajectory
    assert np.array_equal(tk.W1[0], W0)
    margins = []
    for k in range(3):
        rb = train(X, Y[:, k], neurons=5, steps=200, schedule=schedule, init=(W0[k], v0[k]),
                   record="log")
        np.testing.assert_array_equal(rb.W1, rk.W1[k])
        np.testing.assert_array_equal(rb.w2, rk.w2[k])
        np.testing.assert_array_equal(rb.trajectory.lambda_tilde, tk.lambda_tilde[:, k])
        np.testing.assert_array_equal(rb.trajectory.margin, tk.margin[:, k])
        margins.append(rb.margin)
    assert rk.margin == min(margins)
    assert tk.rectified.shape == (len(tk), 3, 9, 5) and tk.y.shape == (9, 3)


def test_recorded_quantities_match_the_exact_routes():
    r = train(F1_X, F1_y, neurons=6, steps=400, lr=0.2, seed=1, init_scale=0.05)
    net = Network(r.W1, r.w2)
    s = snapshot(F1_X, F1_y[None, :].astype(float), r.W1[None], r.w2[None])
    np.testing.assert_allclose(s["lambda_tilde"][0], loss_weights(net, F1_X, F1_y), rtol=1e-13)
    np.testing.assert_allclose(s["alignment"][0], alignment(net, F1_X, F1_y), rtol=1e-12,
                               equal_nan=True)
    ub, ub_float = objective_upper_bound(net, F1_X, F1_y)
    assert s["ub"] == pytest.approx(ub_float, rel=1e-13) and s["ub"] <= float(ub) * (1 + 1e-15)
    sq = np.sum(r.W1**2) + np.sum(r.w2**2)
    assert r.margin == pytest.approx(np.min(net.margins(F1_X, F1_y)) / sq, rel=1e-13)


def test_f1_positive_margin_and_shrinking_gap(f1_runs, f1_p_star):
    r = f1_runs["constant"]
    tr = r.trajectory
    assert r.margin > 0 and np.isfinite(r.ub)
    fin = np.flatnonzero(np.isfinite(tr.ub))
    assert fin.size > 5 and tr.steps[fin[0]] < 500
    gap = tr.gap[fin]
    assert np.all(gap > 0)  # UB(theta) >= P*: an upper bound
    late = gap[len(gap) // 2:]
    assert np.all(np.diff(late) < 0) and late[-1] < 0.5 * late[0]
    # rigorous: the exact UB of the trained network is above the rigorous lower bound of P*
    ub, _ = objective_upper_bound(Network(r.W1, r.w2), F1_X, F1_y)
    assert ub >= f1_p_star.lower_bound
    # the margin tends to its optimum 1/(2 P*) from below
    assert 0 < tr.margin[-1] <= 1 / (2 * f1_p_star.value) * (1 + 1e-9)


def test_f1_theorem1_alignment_early(f1_runs):
    tr = f1_runs["constant"].trajectory
    A0 = np.maximum(F1_X @ tr.W1[0], 0.0)
    good = (F1_y @ A0 != 0) & (np.sign(F1_y @ A0) == np.sign(tr.w2[0]))
    assert good.sum() >= 2
    early = np.flatnonzero(tr.loss >= 0.999 * tr.loss[0])  # the network is still tiny
    assert np.min(tr.alignment[early[-1]][good]) > 0.999
    assert np.min(tr.alignment[0][good]) < 0.99  # they were not aligned at the start
    # a neuron with sign(y^T (X w1)_+) != sign(w2) never grows while the loss stays flat
    bad = (F1_y @ A0 != 0) & ~good
    norms = np.linalg.norm(tr.W1, axis=1)
    assert np.all(norms[early[-1]][bad] <= norms[0][bad] * (1 + 1e-6))


def test_loss_scaled_reaches_smaller_gap(f1_runs):
    c, s = f1_runs["constant"], f1_runs["loss-scaled"]
    assert s.trajectory.gap[-1] < 0.1 * c.trajectory.gap[-1]
    assert np.isfinite(s.log_loss) and s.log_loss < c.log_loss


def test_huge_margins_stay_finite():
    W1 = np.array([[30.0, -1.0], [2.0, 30.0]])
    w2 = np.array([30.0, -30.0])
    L, gW1, gw2 = loss_and_gradient(F1_X, F1_y, W1, w2)
    assert L == 0.0 and np.all(np.isfinite(gW1)) and np.all(np.isfinite(gw2))
    q = np.array([[1e6, 2e6, 1e6]])
    assert log_losses(q)[0] == pytest.approx(-1e6 + np.log(2.0), rel=1e-15)
    r = train(F1_X, F1_y, neurons=2, steps=5, schedule="loss-scaled", init=(W1, w2), record="log")
    assert np.all(np.isfinite(r.W1)) and np.isfinite(r.log_loss) and r.log_loss < -1000


def test_trajectory_shapes_save_load(tmp_path, f1_p_star):
    r = train(F1_X, F1_y, neurons=3, steps=50, record="log", record_points=8,
              p_star=f1_p_star.value)
    tr = r.trajectory
    T = len(tr)
    assert tr.steps[0] == 0 and tr.steps[-1] == 50 and np.all(np.diff(tr.steps) > 0)
    shapes = {"W1": (T, 2, 3), "w2": (T, 3), "direction": (T, 2, 3), "rectified": (T, 2, 3),
              "invariant": (T, 3), "loss": (T,), "margin": (T,), "lambda_tilde": (T, 2),
              "alignment": (T, 3), "ub": (T,), "gap": (T,), "X": (2, 2), "y": (2,)}
    for name, shape in shapes.items():
        assert getattr(tr, name).shape == shape, name
    np.testing.assert_allclose(np.linalg.norm(tr.direction, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(tr.rectified, np.maximum(F1_X @ tr.direction, 0.0))
    p = tmp_path / "t.npz"
    tr.save(p)
    with np.load(p, allow_pickle=False) as z:
        assert set(shapes) <= set(z.files) and str(z["schedule"]) == "constant"
    back = Trajectory.load(p)
    for name in shapes:
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    assert back.metadata() == tr.metadata() and back.p_star == f1_p_star.value
    assert r.to_dict()["trajectory"]["steps"] == tr.steps.tolist()
    with np.load(p, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["loss"] = arrays["loss"][:-1]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(InputError, match="loss"):
        Trajectory.load(tmp_path / "short.npz")
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(InputError, match="trajectory"):
        Trajectory.load(tmp_path / "bad.npz")


def test_dataset_and_model_helpers(tmp_path):
    from verify.io.datasets import paper_dataset
    from verify.io.models import load_weights

    r = train_dataset(paper_dataset("F.1"), neurons=3, steps=20, seed=5)
    r.save_model(tmp_path / "m.npz")
    mw = load_weights(tmp_path / "m.npz")
    assert np.array_equal(mw.W1, r.W1) and r.network().n_neurons == 3
    assert record_steps(10, points=3).tolist() == [0, 1, 3, 10]


@pytest.mark.parametrize(
    ("args", "kw", "match"),
    [
        ((F1_X, np.array([1, 0])), {}, "labels"),
        ((F1_X, np.array([1, -1, 1])), {}, "labels"),
        ((np.array([1.0, 2.0]), F1_y), {}, "X"),
        ((np.array([[np.nan, 1.0], [1.0, 1.0]]), F1_y), {}, "non-finite"),
        ((F1_X, F1_y), {"schedule": "cosine"}, "schedule"),
        ((F1_X, F1_y), {"lr": 0.0}, "lr"),
        ((F1_X, F1_y), {"steps": -1}, "steps"),
        ((F1_X, F1_y), {"neurons": 0}, "neurons"),
        ((F1_X, F1_y), {"init_scale": -1.0}, "init_scale"),
        ((F1_X, F1_y), {"seed": -3}, "seed"),
        ((F1_X, F1_y), {"record": "linear"}, "record"),
        ((F1_X, F1_y), {"record": [0, 99]}, "record"),
        ((F1_X, F1_y), {"init": (np.ones((3, 2)), np.ones(2))}, "init"),
        ((F1_X, F1_y), {"p_star": -1.0}, "p_star"),
    ],
)
def test_bad_input(args, kw, match):
    with pytest.raises(InputError, match=match):
        train(*args, **{"steps": 5, **kw})


def test_f1_limit_neurons_are_the_closed_form_optimum(f1_runs, f1_p_star):
    # Theorem 4: theta/|theta| tends to a global optimum; on F.1 its neurons are w_+ and w_-
    r = f1_runs["loss-scaled"]
    n = np.linalg.norm(r.W1, axis=0)
    grown = n > 1e-3 * n.max()
    assert 2 <= grown.sum() < 10  # sparse: the neurons of the wrong sign never grew
    for nu in f1_p_star.neurons:
        mine = grown & (np.sign(r.w2) == nu.sign)
        assert mine.any()
        cos = (np.asarray(nu.direction) @ r.W1[:, mine]) / n[mine]
        assert np.all(cos > 1 - 1e-6)


# --------------------------------------------------------------------------- failed runs


def _no_warnings():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")  # a numpy RuntimeWarning would raise here
    return ctx


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_non_finite_run_stops_and_says_so(schedule):
    ctx = _no_warnings()
    try:
        r = train(F1_X, F1_y, lr=1e200, steps=200, init_scale=1.0, schedule=schedule,
                  record="log")
    finally:
        ctx.__exit__(None, None, None)
    assert not r.succeeded and "non-finite" in r.diverged and "lower the step size" in r.diverged
    assert np.all(np.isfinite(r.W1)) and np.all(np.isfinite(r.w2))  # the last finite weights
    assert r.steps_run is not None and r.steps_run < 200
    assert r.problems[0].startswith("training diverged")
    assert np.all(np.isfinite(r.trajectory.loss))


def test_growing_loss_is_a_divergence():
    # Gaussian labels on 200 x 10 (the run): the loss-scaled step blows the loss up
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    y = np.sign(rng.standard_normal(200))
    ctx = _no_warnings()
    try:
        r = train(X, y, schedule="loss-scaled", steps=10_000, lr=0.1)
    finally:
        ctx.__exit__(None, None, None)
    assert r.loss > 2 * 200 * np.log(2)
    assert not r.succeeded and "the loss grew from 138.629 to" in r.diverged


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_dead_network_is_reported(schedule):
    rng = np.random.default_rng(0)
    rng.standard_normal((200, 10)), rng.standard_normal(200)  # the draws of the test above
    X = rng.uniform(4, 8, (30, 3))  # all features positive, far from the origin
    y = np.where(X[:, 0] > 6, 1, -1)
    r = train(X, y, schedule=schedule, steps=500, lr=0.1)
    # every neuron inactive on every sample: the output is exactly 0 everywhere
    assert np.all(X @ r.W1 <= 0) and r.loss == pytest.approx(30 * np.log(2))
    assert r.dead_samples == tuple(range(30)) and r.misclassified == tuple(range(30))
    assert not r.succeeded and r.margin == 0.0 and math.copysign(1.0, r.margin) == 1.0
    assert r.problems == [
        "dead network on all 30 samples (rows 0, 1, 2, 3, 4, … (0-based)): every neuron is "
        "inactive there and the output is exactly 0; centre or scale the features, add --bias, "
        "lower the step size, or start wider (more --neurons, a larger --init-scale such as 1)"
    ]


def test_successful_run_has_no_problems():
    r = train(F1_X, F1_y, neurons=10, steps=2000, lr=0.2, init_scale=1e-3, seed=0)
    assert r.succeeded and r.problems == [] and r.dead_samples == () and r.diverged is None
    d = r.to_dict()
    assert d["succeeded"] is True and d["problems"] == [] and d["misclassified"] == []


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_auto_step_size_scales_with_the_data(schedule):
    """The loss is a sum: lr 0.1 diverges on 300 rows of standardised 8-D data (the new-user
    trial's case), the default ``lr="auto"`` = 1/||X||_2^2 there does not, and small data keep
    0.1 (the paper's runs are unchanged)."""
    from verify.network.training import auto_lr

    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 8))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1, -1)
    top = np.linalg.norm(X, 2) ** 2
    assert auto_lr(X) == pytest.approx(1 / top) and auto_lr(F1_X) == 0.1
    bad = train(X, y, neurons=20, steps=300, lr=0.1, init_scale=1.0, schedule=schedule)
    assert not bad.succeeded
    if schedule == "constant":
        assert bad.diverged is not None
    good = train(X, y, neurons=20, steps=300, init_scale=1.0, schedule=schedule)
    assert good.lr == pytest.approx(1 / top) and good.diverged is None
    assert bad.diverged is not None or good.loss < bad.loss / 3
    with pytest.raises(InputError, match="or 'auto'"):
        train(X, y, lr="fast")


def test_warm_start_is_the_documented_training_run():
    """warm_start is train(init_scale=1, loss-scaled) with the steps cut by the work cap."""
    from verify.network import training as tr

    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 5))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0, 1, -1)
    W = tr.warm_start(X, y, neurons=6, steps=300)
    ref = tr.train(X, y, neurons=6, steps=300, init_scale=1.0, schedule="loss-scaled")
    assert W.shape == (5, 6) and np.array_equal(W, ref.W1)
    # the work cap: 40 x 5 x 6 = 1200 per step, so a cap of 60,000 allows 50 steps
    old = tr.WARM_WORK
    try:
        tr.WARM_WORK = 60_000
        W50 = tr.warm_start(X, y, neurons=6, steps=300)
    finally:
        tr.WARM_WORK = old
    ref50 = tr.train(X, y, neurons=6, steps=50, init_scale=1.0, schedule="loss-scaled")
    assert np.array_equal(W50, ref50.W1) and not np.array_equal(W50, W)


def test_warm_start_of_a_diverging_run_is_none(monkeypatch):
    from verify.network import training as tr

    real = tr.train

    def diverging(*a, **k):
        import dataclasses

        return dataclasses.replace(real(*a, **k), diverged="non-finite weights")

    monkeypatch.setattr(tr, "train", diverging)
    X = np.array([[1.0, 0.2], [-0.3, 1.0]])
    assert tr.warm_start(X, np.array([1, -1]), neurons=2, steps=10) is None


def test_a_dead_sub_network_is_named():
    """Three classes: the trial's dead-network message did not say which one-vs-all
    sub-network was dead."""
    from verify.network import training as tr

    X = np.array([[1.0, 0.5], [0.5, 1.0], [-1.0, -1.0]])
    Y = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    W1 = np.array([np.abs(np.eye(2)) for _ in range(3)])  # (K, d, m): row 2 dead in every one
    W1[2] = np.array([[1.0, -1.0], [1.0, -1.0]])  # ... except class 2's
    w2 = np.ones((3, 2))
    r = tr.train(X, Y, neurons=2, steps=0, init=(W1, w2))
    assert r.dead_classes == (0, 1) and r.dead_samples == (2,)
    assert "in the one-vs-all sub-networks of class index 0, 1 (0-based)" in r.problems[0]
