"""Column generation (verify.convex.column_generation) against the direct program and a 2-D angle
grid.
"""

from __future__ import annotations

import numpy as np
import pytest
from convex_cases import REL, brackets, grid_dual_check, random_problem

from verify.convex.bounds import upper_bound
from verify.convex.chamber_oracle import chamber_walls
from verify.convex.column_generation import _solve_restricted, column_generation
from verify.convex.programs import solve_primal
from verify.convex.solvers import choose_solver
from verify.geometry.chambers import enumerate_chambers
from verify.status import Status


@pytest.mark.parametrize(("seed", "N", "d"), [(3, 12, 2), (4, 12, 3), (5, 9, 4)])
def test_column_generation_equals_direct(seed, N, d):
    X, y = random_problem(seed, N, d)
    ch = enumerate_chambers(X)
    direct = solve_primal(X, y, ch)
    cg = column_generation(X, y, chambers=ch, per_round=3)
    assert cg.status is Status.OPTIMAL and cg.method == "column-generation"
    assert cg.value == pytest.approx(direct.value, rel=REL)
    assert cg.s <= 1 + 1e-9 and cg.working_set <= len(ch)
    brackets(cg, direct.value)
    # the recovered network is optimal: its exact UB is P*
    assert float(upper_bound(X, y, cg.W1, cg.w2)) == pytest.approx(direct.value, rel=REL)


def test_2d_dual_certificate_on_angle_grid():
    X, y = random_problem(6, 10, 2)
    sol = column_generation(X, y)
    m = grid_dual_check(X, sol.lam)
    assert m <= 1 + 1e-8  # dual feasible on a fine grid of u ...
    assert m >= 1 - 1e-3  # ... and some constraint is active
    assert y @ sol.lam == pytest.approx(sol.value, rel=REL)


def test_tree_chained_restricted_dual_equals_primal_and_gives_its_variables():
    X, y = random_problem(12, 12, 3)
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


def test_restricted_value_is_never_below_the_optimum():
    # Over an incomplete (sampled) chamber list the program is a restriction of (14): its
    # value must be >= P*.  (Walls read off an incomplete list would relax it instead.)
    from verify.geometry.chambers import enumerate_chambers

    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((14, 4))
        y = np.where(rng.random(14) < 0.5, 1, -1)
        full = column_generation(X, y)
        sampled = enumerate_chambers(X, mode="sampled", samples=40, seed=seed)
        res = column_generation(X, y, chambers=sampled)
        assert res.status == "restricted" and res.lower_bound is None
        assert res.value >= full.value * (1 - 1e-7)


def test_windowed_tree_for_large_working_sets_gives_the_same_optimum(monkeypatch):
    from verify.convex import column_generation as colgen

    X, y = random_problem(5, 30, 3)
    exact = column_generation(X, y)
    monkeypatch.setattr(colgen, "_MST_DENSE_MAX", 10)  # force the memory-light tree
    P = enumerate_chambers(X).pattern_matrix()
    parent = colgen._tree_parents(P)
    for j in range(len(parent)):  # a forest rooted at the empty pattern: no cycles
        k, steps = j, 0
        while k >= 0:
            k, steps = parent[k], steps + 1
            assert steps <= len(parent)
    windowed = column_generation(X, y)
    assert windowed.status == exact.status == "optimal"
    assert abs(windowed.value - exact.value) <= 1e-7 * exact.value


def test_default_rounds_capped_by_n_still_reach_the_direct_optimum():
    # default per_round = min(max(50, p // 10), 2N + 2): here 2N + 2 = 30 < 50 chambers a round
    X, y = random_problem(21, 14, 3)
    ch = enumerate_chambers(X)
    assert len(ch) > 100
    direct = solve_primal(X, y, ch)
    cg = column_generation(X, y, chambers=ch)
    assert cg.status is Status.OPTIMAL and cg.rounds > 1
    assert cg.value == pytest.approx(direct.value, rel=REL)
    brackets(cg, direct.value)
    assert cg.lower_bound <= direct.upper_bound and direct.lower_bound <= cg.upper_bound


def test_sampled_list_without_the_candidate_chambers_still_gives_a_restricted_answer():
    # issue 10 item 8: none of the candidate neurons' chambers is among a few sampled gates,
    # which used to build an empty restricted program ("need at least one array to
    # concatenate").  Now the candidates' patterns join the list and chambers are added until
    # the program is feasible; the value is a restriction's: >= P* (the exact optimum).
    from verify.convex.column_generation import _initial_working_set

    rng = np.random.default_rng(2)
    X = rng.standard_normal((20, 4))
    y = np.where(rng.random(20) < 0.5, 1.0, -1.0)
    sampled = enumerate_chambers(X, mode="sampled", samples=12, seed=0)
    assert not sampled.complete and _initial_working_set(X, y, sampled.pattern_matrix()) == []
    res = column_generation(X, y, chambers=sampled)
    assert res.status in ("restricted", "inaccurate") and res.lower_bound is None
    assert res.neurons and res.upper_bound is not None  # its network classifies every sample
    full = column_generation(X, y)
    assert full.status == "optimal"
    assert res.value >= full.value * (1 - 1e-7)
    assert res.upper_bound >= full.lower_bound
    assert "chamber list not proven complete" in res.message


def test_seeds_from_a_separating_network_make_the_restricted_program_feasible():
    # the patterns of any network that classifies every sample make (14) feasible; with
    # them, a single sampled gate is enough for a restricted answer no larger than the net's
    rng = np.random.default_rng(6)
    X = rng.standard_normal((16, 3))
    y = np.where(rng.random(16) < 0.5, 1.0, -1.0)
    exact = column_generation(X, y)
    W1 = np.column_stack([n.w1 for n in exact.neurons])
    w2 = np.array([n.w2 for n in exact.neurons])
    assert (y * (np.maximum(X @ W1, 0) @ w2) > 0).all()
    seeds = (X @ W1 >= 0).T
    one = enumerate_chambers(X, mode="sampled", samples=1, seed=0)
    res = column_generation(X, y, chambers=one, seeds=seeds)
    assert res.status in ("restricted", "inaccurate") and res.lower_bound is None
    assert res.value >= exact.value * (1 - 1e-7)
    assert res.value <= exact.value * (1 + 1e-5)  # the seeds hold an optimal network
    with pytest.raises(Exception, match="seeds"):
        column_generation(X, y, chambers=one, seeds=np.ones((2, 5), dtype=bool))


def test_the_budget_stops_the_rounds_and_says_so():
    """--sampled ignored --budget (the trial: 8 min 21 s on breast-cancer); now the rounds
    stop at the budget, the message says so, and the answer is still a valid restriction."""
    import numpy as np

    from verify.convex.column_generation import column_generation
    from verify.geometry.chambers import enumerate_chambers

    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 5))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1.0, -1.0)
    ch = enumerate_chambers(X, mode="sampled", samples=3000)
    sol = column_generation(X, y, chambers=ch, budget=0.0)
    assert sol.rounds == 1 and "budget of 0 s ran out; raise --budget" in sol.message
    assert sol.lower_bound is None and sol.upper_bound is not None
