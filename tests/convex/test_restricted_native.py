"""The restricted dual (129) in Clarabel's native API against the same program through CVXPY,
against the chamber route, on degenerate data, and its infeasibility ray (phase one)."""

from __future__ import annotations

import numpy as np
import pytest

import verify.convex.lazy_restricted as lr
from verify.convex.chamber_oracle import as_patterns, chamber_walls
from verify.convex.column_generation import _solve_restricted, column_generation
from verify.convex.column_generation_bab import (
    initial_patterns,
    ray_violators,
    solve_branch_and_bound,
)
from verify.convex.programs import _choice
from verify.convex.restricted_native import solve_restricted_clarabel
from verify.geometry.chambers import enumerate_chambers
from verify.status import Status

CLARABEL = _choice("CLARABEL")


def _gauss(seed: int, N: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(rng.random(N) < 0.5, 1.0, -1.0)
    y[0], y[1] = 1.0, -1.0
    return X, y


def _degenerate(kind: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = _gauss(7, 12, 3)
    if kind == "duplicates":  # repeated rows with the same label
        X = np.vstack([X, X[:4]])
        y = np.concatenate([y, y[:4]])
    elif kind == "rank-deficient":  # third feature = first + second
        X[:, 2] = X[:, 0] + X[:, 1]
    elif kind == "integer-ties":  # many exact ties x_n^T x_m = 0 and parallel rows
        X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [2, 2, 0], [1, 0, 1],
                      [0, 1, 1], [1, 1, 1], [-1, 1, 0], [0, -1, 1]], dtype=float)
        y = np.array([1, -1, 1, 1, 1, -1, -1, 1, -1, 1], dtype=float)
    return X, y


def _check_network(X, y, P, sol, tol=1e-6):
    """(14)'s margin and cone constraints for the recovered ``u, u'`` (all rows)."""
    U, Up = sol.u, sol.u_prime
    S = np.where(P, 1.0, -1.0)  # (p, N) signs of each pattern's cone
    scale = max(1.0, float(np.abs(np.concatenate([U.ravel(), Up.ravel()])).max()))
    for j in range(P.shape[0]):
        for V in (U[:, j], Up[:, j]):
            assert np.all(S[j] * (X @ V) >= -tol * scale * np.linalg.norm(X, axis=1))
    f = sum(P[j] * (X @ (Up[:, j] - U[:, j])) for j in range(P.shape[0]))
    assert np.all(y * f >= 1 - tol * scale)
    obj = np.linalg.norm(U, axis=0).sum() + np.linalg.norm(Up, axis=0).sum()
    assert obj == pytest.approx(sol.value, rel=1e-6)


def _both(X, y, P, walls):
    a = _solve_restricted(X, y, P, [w.copy() for w in walls], CLARABEL, native=False)
    b = _solve_restricted(X, y, P, [w.copy() for w in walls], CLARABEL, native=True)
    return a, b


@pytest.mark.parametrize("seed,N,d", [(0, 12, 2), (1, 14, 3), (2, 16, 3), (3, 10, 4)])
def test_native_equals_cvxpy_over_the_chambers(seed, N, d):
    X, y = _gauss(seed, N, d)
    P, _ = as_patterns(enumerate_chambers(X), N)
    walls = chamber_walls(X, P)
    a, b = _both(X, y, P, walls)
    assert a.status == b.status == Status.RESTRICTED
    assert b.value == pytest.approx(a.value, rel=1e-7)
    assert np.allclose(b.lam, a.lam, atol=1e-5 * np.abs(a.lam).max())
    _check_network(X, y, P, a)
    _check_network(X, y, P, b)


@pytest.mark.parametrize("kind", ["duplicates", "rank-deficient", "integer-ties"])
def test_native_equals_cvxpy_on_degenerate_data(kind):
    X, y = _degenerate(kind)
    P, _ = as_patterns(enumerate_chambers(X), X.shape[0])
    walls = chamber_walls(X, P)
    a, b = _both(X, y, P, walls)
    assert a.status == b.status == Status.RESTRICTED
    assert b.value == pytest.approx(a.value, rel=1e-7)
    _check_network(X, y, P, b)


@pytest.mark.parametrize("seed", [0, 4])
def test_native_equals_cvxpy_on_a_working_set_with_few_walls(seed):
    # the branch-and-bound route's programs: a few patterns with only some of their walls
    X, y = _gauss(seed, 30, 4)
    P, W = initial_patterns(X, y, start=np.random.default_rng(seed).standard_normal((4, 40)))
    rows = np.arange(30)
    walls = [lr._start_rows(X, w, rows) for w in W]
    a, b = _both(X, y, P, walls)
    assert a.status == b.status
    if a.status == Status.RESTRICTED:
        assert b.value == pytest.approx(a.value, rel=1e-7)


def test_zero_row_makes_the_dual_unbounded_in_both_paths():
    X, y = _gauss(5, 10, 3)
    X[3] = 0.0  # y_3 f(0) = 0 < 1: no network has margin 1 there
    P, _ = as_patterns(enumerate_chambers(X), 10)
    walls = chamber_walls(X, P)
    a, b = _both(X, y, P, walls)
    assert a.status == b.status == Status.INFEASIBLE
    assert a.ray is None  # CVXPY gives no certificate
    r = b.ray  # the ray is (up to the solver's scale) lam_3 alone
    assert r is not None and float(y @ r) > 0
    assert abs(r[3]) > 0.99 * np.abs(r).max()


@pytest.mark.parametrize("seed", [2, 14, 15])
def test_infeasible_start_is_widened_by_the_ray(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((14, 3))
    y = np.where(rng.random(14) < 0.5, 1.0, -1.0)
    rows = np.arange(14)
    P, W = initial_patterns(X, y)
    walls = [lr._start_rows(X, w, rows) for w in W]
    a, b = _both(X, y, P, walls)
    assert a.status == b.status == Status.INFEASIBLE  # this case exercises phase one
    ray = b.ray
    # the ray's certificate: y^T ray > 0 and ray^T D_j X u <= 0 on every cone (up to tolerance)
    assert float(y @ ray) > 0
    RP, RW = ray_violators(X, y, ray, P, top=8)
    assert len(RP) >= 1
    known = {row.tobytes() for row in P}
    assert all(row.tobytes() not in known for row in RP)
    mu = ray / np.abs(ray).max()  # each new pattern has a positive value for one sign
    assert all(abs(float(mu @ np.maximum(X @ w, 0))) > 0 for w in RW)
    # end to end: the branch-and-bound route starts there and agrees with the chamber route
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    sol = solve_branch_and_bound(X, y)
    assert sol.status == Status.OPTIMAL
    assert sol.value == pytest.approx(ref.value, rel=1e-6)
    assert float(sol.lower_bound) <= ref.value * (1 + 1e-9)
    assert float(sol.upper_bound) >= ref.value * (1 - 1e-9)


def test_native_result_types_and_status():
    X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
    P = np.array([[True, False], [False, True]])
    res = solve_restricted_clarabel(X, y, P, [np.array([0, 1])] * 2)
    assert res.status == Status.OPTIMAL and res.value == pytest.approx(2.0, rel=1e-9)
    assert res.U.shape == res.Up.shape == (2, 2)
    bad = solve_restricted_clarabel(X, y, np.array([[True, False]]), [np.array([0, 1])])
    assert bad.status == Status.INFEASIBLE and bad.lam is None and bad.ray is not None


@pytest.mark.parametrize("seed,N,d", [(1, 14, 3), (3, 12, 4)])
def test_branch_and_bound_route_same_optimum_native_and_cvxpy(seed, N, d, monkeypatch):
    X, y = _gauss(seed, N, d)
    native = solve_branch_and_bound(X, y)
    real = lr._solve_restricted

    def via_cvxpy(*args, **kw):
        return real(*args, **{**kw, "native": False})

    monkeypatch.setattr(lr, "_solve_restricted", via_cvxpy)
    cvx = solve_branch_and_bound(X, y)
    assert native.status == cvx.status == Status.OPTIMAL
    assert native.value == pytest.approx(cvx.value, rel=1e-7)
    assert float(native.lower_bound) <= cvx.value * (1 + 1e-9) <= float(native.upper_bound) * (
        1 + 2e-9)


@pytest.mark.parametrize("seed,N,d", [(1, 14, 3), (2, 16, 3), (3, 20, 3)])
def test_lazy_margin_rows_give_the_same_optimum(seed, N, d, monkeypatch):
    # margin rows of only a few samples at first (as for N > _ALL_SAMPLES), the others added
    # when violated: the same P* as the chamber route and as all rows at once
    X, y = _gauss(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    full = solve_branch_and_bound(X, y)
    monkeypatch.setattr(lr, "_ALL_SAMPLES", 4)
    monkeypatch.setattr(lr, "_START_SAMPLES", 3)
    monkeypatch.setattr(lr, "_CUT_SAMPLES", 2)
    assert len(lr._initial_samples(X, y)) == max(3, 4 * d) < N
    lazy = solve_branch_and_bound(X, y)
    assert lazy.status == full.status == Status.OPTIMAL
    assert lazy.value == pytest.approx(ref.value, rel=1e-6)
    assert lazy.value == pytest.approx(full.value, rel=1e-7)
    assert float(lazy.lower_bound) <= ref.value * (1 + 1e-9) <= float(lazy.upper_bound) * (
        1 + 2e-9)


def test_lazy_margin_rows_native_equals_cvxpy():
    X, y = _gauss(4, 20, 3)
    P, _ = as_patterns(enumerate_chambers(X), 20)
    walls = chamber_walls(X, P)
    S = np.arange(0, 20, 2)
    a = _solve_restricted(X, y, P, walls, CLARABEL, native=False, samples=S)
    b = _solve_restricted(X, y, P, walls, CLARABEL, native=True, samples=S)
    assert a.status == b.status == Status.RESTRICTED
    assert b.value == pytest.approx(a.value, rel=1e-7)
    assert np.all(a.lam[1::2] == 0) and np.all(b.lam[1::2] == 0)
    full = _solve_restricted(X, y, P, walls, CLARABEL)
    assert b.value <= full.value * (1 + 1e-9)  # fewer margin rows: a relaxation


def test_default_solve_does_not_import_cvxpy(tmp_path):
    # Clarabel through its native API: `verify solve` never pays CVXPY's ~1.3 s import
    import subprocess
    import sys

    X, y = _gauss(3, 16, 3)
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,label\n" + "".join(
        ",".join(repr(float(v)) for v in r) + f",{int(t)}\n" for r, t in zip(X, y)))
    code = ("import sys\nfrom verify.cli.main import main\n"
            f"rc = main(['solve', {str(path)!r}])\n"
            "print('CVXPY' if 'cvxpy' in sys.modules else 'no cvxpy', rc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert "optimal" in out.stdout, out.stdout + out.stderr
    assert out.stdout.strip().endswith("no cvxpy 0"), out.stdout + out.stderr
