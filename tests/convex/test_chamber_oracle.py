"""Lemma 4 (slack multipliers), the oracle and the chamber walls, each against a second route."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from scipy.optimize import linprog

from verify.convex.chamber_oracle import (
    SparseVector,
    chamber_walls,
    nnls_slack,
    oracle,
    slack_multipliers,
)
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers


def _cone_max_cvxpy(X, D, v):
    u = cp.Variable(X.shape[1])
    S = np.where(D, 1.0, -1.0)
    prob = cp.Problem(cp.Maximize(v @ u), [cp.norm(u) <= 1, cp.multiply(S, X @ u) >= 0])
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lemma4_nnls_equals_conic_max(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((7, 3))
    P = enumerate_chambers(X).pattern_matrix()
    for j in rng.choice(len(P), 6, replace=False):
        v = rng.standard_normal(3)
        A = np.where(P[j], 1.0, -1.0)[:, None] * X
        z, val, kkt = nnls_slack(A, v)
        assert (z >= 0).all() and np.count_nonzero(z) <= 3
        assert kkt < 1e-10
        assert val == pytest.approx(_cone_max_cvxpy(X, P[j], v), abs=1e-8)


def test_slack_multipliers_are_sparse_and_tight():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, 3))
    lam = rng.standard_normal(9)
    P = enumerate_chambers(X).pattern_matrix()
    for j in range(0, len(P), 7):
        zp, zm, (vp, vm) = slack_multipliers(X, lam, P[j])
        assert isinstance(zp, SparseVector) and len(zp.indices) <= 3 and len(zm.indices) <= 3
        assert min(zp.values + zm.values, default=1.0) > 0
        v = X.T @ np.where(P[j], lam, 0.0)
        assert vp == pytest.approx(_cone_max_cvxpy(X, P[j], v), abs=1e-8)
        assert vm == pytest.approx(_cone_max_cvxpy(X, P[j], -v), abs=1e-8)
        S = np.where(P[j], 1.0, -1.0)
        assert vp == pytest.approx(np.linalg.norm(v + X.T @ (S * zp.dense())), abs=1e-12)


def _grid_max(X, lam, n=200_000):
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    U = np.stack([np.cos(t), np.sin(t)])
    vals = lam @ np.maximum(X @ U, 0.0)
    return vals.max(), -vals.min()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_oracle_matches_angle_grid_in_2d(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 2))
    lam = rng.standard_normal(8)
    P = enumerate_chambers(X).pattern_matrix()
    res = oracle(X, lam, P, exact_values=True)
    gmax, gmin = _grid_max(X, lam)
    assert res.value >= max(gmax, gmin) - 1e-12  # an upper bound ...
    # ... and tight up to the grid's resolution (a maximum at a kink is off by O(step))
    tol = 2.0 * np.abs(lam) @ np.linalg.norm(X, axis=1) * (2 * np.pi / 200_000)
    assert res.value == pytest.approx(max(gmax, gmin), abs=tol)
    assert res.values[:, 0].max() == pytest.approx(gmax, abs=tol)
    assert res.values[:, 1].max() == pytest.approx(gmin, abs=tol)


@pytest.mark.parametrize("seed", [4, 5])
def test_oracle_screening_walls_and_top_agree_with_full_nnls(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((10, 3))
    lam = rng.standard_normal(10) * 0.6
    P = enumerate_chambers(X).pattern_matrix()
    walls = chamber_walls(X, P)
    full = oracle(X, lam, P, exact_values=True)
    screened = oracle(X, lam, P)
    with_walls = oracle(X, lam, P, exact_values=True, walls=walls)
    top = oracle(X, lam, P, top=3, walls=walls)
    assert np.all(screened.values >= full.values - 1e-12)  # screening keeps upper bounds
    assert np.allclose(with_walls.values, full.values, atol=1e-10)
    violated = full.values > 1.0
    assert np.allclose(screened.values[violated], full.values[violated], atol=1e-10)
    assert top.value == pytest.approx(full.value, abs=1e-10)
    value, chamber, sign, values = full  # unpacks like a tuple
    assert values[chamber, 0 if sign > 0 else 1] == value == values.max()
    k3 = np.sort(full.values.max(axis=1))[-3:]
    t3 = np.sort(top.values.max(axis=1))[-3:]
    if k3[0] > 1.0:
        assert np.allclose(k3, t3, atol=1e-10)


def test_walls_are_exactly_the_non_redundant_rows():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((8, 3))
    P = enumerate_chambers(X).pattern_matrix()
    walls = chamber_walls(X, P)
    for j in range(len(P)):
        S = np.where(P[j], 1.0, -1.0)
        for n in range(8):
            # row n is a wall iff dropping it lets some u leave the cone through it
            others = [k for k in range(8) if k != n]
            res = linprog(S[n] * X[n], A_ub=-(S[others][:, None] * X[others]),
                          b_ub=np.zeros(7), bounds=(-1, 1), method="highs")
            assert (res.fun < -1e-7) == (n in set(walls[j].tolist())), (j, n)


def test_parallel_rows_share_one_wall():
    X = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    ch = enumerate_chambers(X)
    walls = chamber_walls(X, ch)
    assert len(ch) == 4 and all(len(w) == 2 for w in walls)


def test_bad_inputs():
    X = np.ones((3, 2))
    with pytest.raises(InputError, match="lambda of length"):
        oracle(X, np.ones(2), np.ones((1, 3), bool))
    with pytest.raises(InputError, match="shape"):
        oracle(X, np.ones(3), np.ones((1, 4), bool))


#: ``verify.convex.chamber_oracle.__all__`` before the exact bounds moved to verify.convex.bounds
# (a contract).


