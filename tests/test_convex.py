"""All routes to P* agree where they both apply, and the rigorous bounds bracket it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verify.arrangements import enumerate_chambers
from verify.convex import (
    column_generation,
    solve_dual,
    solve_orthogonally_separable,
    solve_primal,
    solve_spike_free,
    spike_free_restated_value,
    upper_bound,
)
from verify.errors import InputError
from verify.separability import orthogonal_separability
from verify.spikefree import spike_free
from verify.status import Status

REL = 1e-6


def _random(seed, N, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(rng.standard_normal(N) > 0, 1.0, -1.0)
    y[:2] = (1.0, -1.0)
    return X, y


def _orth_separable(seed, N, d):
    """Class +1 positive on the first k coordinates and negative on the rest, class -1 the
    other way round: same-class inner products > 0, cross-class < 0 (with a margin that
    survives the rounding of a random rotation)."""
    rng = np.random.default_rng(seed)
    k = max(1, d // 2)
    y = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    X = np.abs(rng.standard_normal((N, d))) + 0.1
    X[y > 0, k:] *= -0.3
    X[y < 0, :k] *= -0.3
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return X @ Q.T, y


def _brackets(sol, value=None):
    value = sol.value if value is None else value
    assert sol.lower_bound is not None and sol.upper_bound is not None
    assert float(sol.lower_bound) <= value * (1 + 1e-7)  # value: a float solver answer
    assert float(sol.upper_bound) >= value * (1 - 1e-7)
    assert float(sol.upper_bound - sol.lower_bound) <= REL * value


def _grid_dual_check(X, lam, n=100_000):
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    vals = lam @ np.maximum(X @ np.stack([np.cos(t), np.sin(t)]), 0.0)
    return np.abs(vals).max()


@pytest.mark.parametrize(("seed", "N", "d"), [(0, 8, 2), (1, 8, 3), (2, 10, 3)])
def test_strong_duality_direct_primal_vs_dual(seed, N, d):
    X, y = _random(seed, N, d)
    ch = enumerate_chambers(X)
    assert ch.complete
    p = solve_primal(X, y, ch)
    q = solve_dual(X, y, ch)
    assert p.status is Status.OPTIMAL and p.method == "direct"
    assert q.value == pytest.approx(p.value, rel=REL)
    assert y @ p.lam == pytest.approx(p.value, rel=REL)  # the paper's sign convention
    assert (y * p.lam >= 0).all()
    _brackets(p)
    # the convex variables themselves: objective, cones and margin of program (14)
    P = ch.pattern_matrix()
    U, Up = p.u, p.u_prime
    norms = np.linalg.norm(U, axis=0).sum() + np.linalg.norm(Up, axis=0).sum()
    assert norms == pytest.approx(p.value, rel=REL)
    S = np.where(P, 1.0, -1.0).T
    assert (S * (X @ U)).min() >= -1e-7 and (S * (X @ Up)).min() >= -1e-7
    assert (y * (P.T * (X @ (Up - U))).sum(axis=1)).min() >= 1 - 1e-7
    assert float(q.lower_bound) <= p.value * (1 + 1e-9)
    assert float(q.lower_bound) == pytest.approx(p.value, rel=REL)


@pytest.mark.parametrize(("seed", "N", "d"), [(3, 12, 2), (4, 12, 3), (5, 9, 4)])
def test_column_generation_equals_direct(seed, N, d):
    X, y = _random(seed, N, d)
    ch = enumerate_chambers(X)
    direct = solve_primal(X, y, ch)
    cg = column_generation(X, y, chambers=ch, per_round=3)
    assert cg.status is Status.OPTIMAL and cg.method == "column-generation"
    assert cg.value == pytest.approx(direct.value, rel=REL)
    assert cg.s <= 1 + 1e-9 and cg.working_set <= len(ch)
    _brackets(cg, direct.value)
    # the recovered network is optimal: its exact UB is P*
    assert float(upper_bound(X, y, cg.W1, cg.w2)) == pytest.approx(direct.value, rel=REL)


def test_2d_dual_certificate_on_angle_grid():
    X, y = _random(6, 10, 2)
    sol = column_generation(X, y)
    m = _grid_dual_check(X, sol.lam)
    assert m <= 1 + 1e-8  # dual feasible on a fine grid of u ...
    assert m >= 1 - 1e-3  # ... and some constraint is active
    assert y @ sol.lam == pytest.approx(sol.value, rel=REL)


@pytest.mark.parametrize(("seed", "N", "d"), [(0, 8, 2), (1, 8, 3), (2, 7, 5), (3, 10, 3)])
def test_closed_form_equals_direct_on_orthogonally_separable_data(seed, N, d):
    X, y = _orth_separable(seed, N, d)
    assert orthogonal_separability(X, (y > 0).astype(int)).separable
    cf = solve_orthogonally_separable(X, y)
    direct = solve_primal(X, y, enumerate_chambers(X))
    assert cf.status is Status.OPTIMAL and cf.method == "closed-form"
    assert cf.value == pytest.approx(direct.value, rel=REL)
    _brackets(cf, direct.value)
    assert len(cf.neurons) == 2 and {n.sign for n in cf.neurons} == {1, -1}
    assert (y * cf.lam >= 0).all()
    assert y @ cf.lam == pytest.approx(direct.value, rel=REL)


def test_closed_form_2d_brute_force():
    X, y = _orth_separable(7, 9, 2)
    cf = solve_orthogonally_separable(X, y)
    assert _grid_dual_check(X, cf.lam) <= 1 + 1e-8
    # primal side: the best 2-neuron network over an angle grid (one neuron per class)
    t = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    U = np.stack([np.cos(t), np.sin(t)])
    best = np.inf
    for sign in (1.0, -1.0):
        F = np.maximum(X[y == sign] @ U, 0.0)  # (n_class, grid)
        G = np.maximum(X[y == -sign] @ U, 0.0)
        ok = (F.min(axis=0) > 0) & (G.max(axis=0) == 0)
        best_c = (1.0 / F.min(axis=0)[ok]).min()  # ||w|| for a unit direction
        best = best_c if sign > 0 else best + best_c
    assert cf.value <= best * (1 + 1e-9)
    assert cf.value == pytest.approx(best, rel=1e-6)


def test_closed_form_single_class_and_paper_f1():
    X = np.array([[1.0, 0.2], [0.8, 1.0]])
    sol = solve_orthogonally_separable(X, np.array([1.0, 1.0]))
    assert len(sol.neurons) == 1 and sol.neurons[0].sign == 1
    _brackets(sol)
    X = np.array([[1.65, 0.47], [-0.47, 1.35]])
    y = np.array([1.0, -1.0])
    cf = solve_orthogonally_separable(X, y)
    assert cf.value == pytest.approx(solve_primal(X, y, enumerate_chambers(X)).value, rel=REL)


def test_closed_form_refuses_non_separable_data():
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    with pytest.raises(InputError, match="not orthogonally separable"):
        solve_orthogonally_separable(X, np.array([1.0, 1.0, -1.0]))


def test_spike_free_route_on_whitened_data():
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0
    X = np.zeros((4, 6))
    X[:, [4, 0, 2, 5]] = H  # X X^T = I exactly (dyadic entries), N = 4 <= d = 6
    assert (X @ X.T == np.eye(4)).all()
    y = np.array([1.0, 1.0, 1.0, -1.0])
    assert spike_free(X).spike_free is True
    sf = solve_spike_free(X, y)
    direct = solve_primal(X, y, enumerate_chambers(X))
    assert sf.status is Status.OPTIMAL and sf.method == "spike-free"
    assert sf.value == pytest.approx(direct.value, rel=REL)
    assert sf.value == pytest.approx(np.sqrt(3) + 1, rel=REL)  # sqrt(N+) + sqrt(N-)
    _brackets(sf, direct.value)
    assert spike_free_restated_value(X, y) == pytest.approx(sf.value, rel=REL)


def test_restatement_66_is_not_equivalent():
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0])
    assert spike_free(X).spike_free is True
    direct = solve_primal(X, y, enumerate_chambers(X)).value
    sf = solve_spike_free(X, y)
    assert sf.value == pytest.approx(direct, rel=REL)
    assert direct == pytest.approx(1 + np.sqrt(2), rel=REL)
    restated = spike_free_restated_value(X, y)
    assert restated == pytest.approx(1 + 1 / np.sqrt(2), rel=REL)
    assert restated < direct - 0.5  # a strictly smaller dual value: not equivalent


def test_spike_free_route_refuses_data_with_spikes():
    X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(InputError, match="not spike-free"):
        solve_spike_free(X, np.array([1.0, -1.0, 1.0]))


def test_restricted_pattern_list_is_not_optimal():
    X, y = _random(10, 8, 2)
    ch = enumerate_chambers(X)
    full = solve_primal(X, y, ch)
    P = ch.pattern_matrix()
    part = solve_primal(X, y, P)  # a bare array: completeness not claimed
    assert part.status is Status.RESTRICTED and part.lower_bound is None
    assert part.value == pytest.approx(full.value, rel=REL)
    sub = [n.pattern for n in full.neurons][:1] + [0, 1, 2, 3, 4, 5]
    small = solve_primal(X, y, P[sorted(set(sub))])
    if small.status is Status.RESTRICTED:
        assert small.value >= full.value * (1 - 1e-9)


def test_to_dict_is_json_ready_and_bad_input():
    X, y = _random(11, 6, 2)
    sol = column_generation(X, y)
    d = json.loads(json.dumps(sol.to_dict()))
    assert d["status"] == "optimal" and d["lower_bound"]["exact"].count("/") <= 1
    with pytest.raises(InputError, match="labels in"):
        column_generation(X, np.arange(6.0))
    with pytest.raises(InputError, match="6 labels"):
        solve_orthogonally_separable(X, y[:5])


def test_polish_refits_norms_to_margin_one():
    from verify.convex import Neuron, polish

    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0, 1.0])
    nr = (Neuron(1, (1.0, 0.0), 0.5), Neuron(-1, (0.0, 1.0), 3.0))
    out = polish(X, y, nr)
    # x3 = (1, 1): c1 - c2 >= 1, x1: c1 >= 1, x2: c2 >= 1  ->  c = (2, 1)
    assert [round(n.norm, 9) for n in out] == [2.0, 1.0]
    assert float(upper_bound(X, y, np.column_stack([n.w1 for n in out]),
                             np.array([n.w2 for n in out]))) == pytest.approx(3.0, rel=1e-9)


def test_tree_chained_restricted_dual_equals_primal_and_gives_its_variables():
    from verify.convex import _solve_restricted
    from verify.duality import chamber_walls
    from verify.solvers import choose_solver

    X, y = _random(12, 12, 3)
    P = enumerate_chambers(X).pattern_matrix()
    walls = chamber_walls(X, P)
    rng = np.random.default_rng(0)
    for size in (30, len(P)):
        idx = np.sort(rng.choice(len(P), size, replace=False))
        prim = solve_primal(X, y, P[idx], bounds=False)
        dual = _solve_restricted(X, y, P[idx], [walls[j] for j in idx], choose_solver("CLARABEL"))
        if prim.status is Status.INFEASIBLE:
            assert dual.status is Status.INFEASIBLE
            continue
        assert dual.value == pytest.approx(prim.value, rel=REL)
        U, Up = dual.u, dual.u_prime  # minus the cone multipliers: a solution of (14)
        S = np.where(P[idx], 1.0, -1.0).T
        assert (S * (X @ U)).min() >= -1e-7 and (S * (X @ Up)).min() >= -1e-7
        assert (y * (P[idx].T * (X @ (Up - U))).sum(axis=1)).min() >= 1 - 1e-7
        cost = np.linalg.norm(U, axis=0).sum() + np.linalg.norm(Up, axis=0).sum()
        assert cost == pytest.approx(prim.value, rel=REL)
