"""Column generation without the chamber list (the branch-and-bound route), cross-checked
against column generation over the exact enumerated chambers, and end to end through the
certificate and the trusted checker."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from convex_cases import quadratic_problem

from verify.checker.check import check_file
from verify.cli.main import main
from verify.convex.column_generation import column_generation
from verify.convex.column_generation_bab import (
    exact_support,
    heuristic_violators,
    initial_patterns,
    solve_branch_and_bound,
)
from verify.convex.routes import solve_binary
from verify.geometry.chambers import enumerate_chambers

_problem = quadratic_problem


@pytest.mark.parametrize("seed,N,d", [(0, 10, 2), (1, 14, 3), (2, 16, 3), (3, 12, 4)])
def test_same_optimum_as_the_enumeration_route(seed, N, d):
    X, y = _problem(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    sol = solve_branch_and_bound(X, y, support_limit=0)  # the trees (support chambers: own test)
    assert sol.method == "branch-and-bound" and sol.status.value == "optimal"
    assert abs(sol.value - ref.value) <= 1e-6 * ref.value
    # both routes' rigorous brackets contain each other's optimum
    assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
    assert float(sol.upper_bound - sol.lower_bound) <= 1e-6 * ref.value
    # the evidence is for exactly this lam: support exact, sign-projected
    S = sol.evidence.evidence["support"]
    assert S == np.flatnonzero(sol.lam).tolist() and np.all(y * sol.lam >= 0)


def test_a_tiny_budget_still_gives_a_valid_lower_bound():
    X, y = _problem(5, 18, 4)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    sol = solve_branch_and_bound(X, y, max_rounds=1)
    assert sol.status.value == "restricted" and "rounds" in sol.message
    assert 0 < sol.lower_bound <= ref.upper_bound  # weaker, never wrong
    assert sol.upper_bound >= ref.lower_bound


def test_exact_support_and_sign_projection():
    y = np.array([1.0, 1.0, -1.0, -1.0])
    lam = np.array([1.0, -0.3, -2.0, 1e-15])
    assert exact_support(y, lam).tolist() == [1.0, 0.0, -2.0, 0.0]


def test_heuristic_violators_are_violators():
    X, y = _problem(7, 20, 3)
    lam = 0.8 * y
    P, U = heuristic_violators(X, lam, 1.0, top=10)
    assert len(P) >= 1
    for p, u in zip(P, U):
        u = u / np.linalg.norm(u)
        assert np.array_equal(p, X @ u >= 0)
        assert abs(lam @ np.maximum(X @ u, 0)) > 1.0


def test_initial_patterns_include_the_networks_own():
    X, y = _problem(8, 12, 3)
    W1 = np.random.default_rng(0).standard_normal((3, 4))
    P, _ = initial_patterns(X, y, start=W1)
    for i in range(4):
        assert any(np.array_equal(p, X @ W1[:, i] >= 0) for p in P)


def test_solve_binary_routes_beyond_the_limit_to_branch_and_bound():
    X, y = _problem(2, 16, 3)
    sol, method, orth, ch = solve_binary(X, y, limit=10)
    assert method == "branch-and-bound" and "beyond --limit 10" in sol.message
    assert sol.lower_bound is not None
    sol2, method2, _, _ = solve_binary(X, y, limit=10, sampled=True)
    assert method2 == "restricted" and sol2.lower_bound is None


def test_the_warm_start_is_asked_only_beyond_the_limit_and_only_without_a_start():
    X, y = _problem(2, 16, 3)
    calls = []

    def warm(Xw, yw):
        calls.append((Xw.shape, yw.tolist()))
        return np.random.default_rng(1).standard_normal((3, 5))

    ref, _, _, _ = solve_binary(X, y)  # the chamber route: never asked
    assert calls == []
    sol, method, _, _ = solve_binary(X, y, limit=10, warm_start=warm)
    assert calls == [((16, 3), y.tolist())] and method == "branch-and-bound"
    assert "gradient-descent network (5 neurons" in sol.message
    assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
    solve_binary(X, y, limit=10, warm_start=warm, start=np.ones((3, 2)))
    assert len(calls) == 1  # a given start wins
    assert solve_binary(X, y, limit=10, warm_start=lambda a, b: None)[0].lower_bound is not None


@pytest.fixture
def files(tmp_path):
    X, y = _problem(2, 16, 3)
    (tmp_path / "d.json").write_text(json.dumps({"X": X.tolist(), "y": y.astype(int).tolist()}))
    return tmp_path


def test_certificate_with_branch_and_bound_evidence_checks(files, capsys):
    d = files
    assert main(["solve", str(d / "d.json"), "--limit", "10", "-o", str(d / "opt.npz")]) == 0
    out = capsys.readouterr().out
    assert "branch-and-bound" in out and "unknown" not in out
    assert main(["certify", str(d / "d.json"), str(d / "opt.npz"), "-o", str(d / "c.cert.json"),
                 "--limit", "10"]) == 0
    cert = json.loads((d / "c.cert.json").read_text())
    assert cert["version"] == 2 and cert["classes"][0]["method"] == "branch-and-bound"
    assert cert["classes"][0]["verdict"] == "globally-optimal-within"
    res = check_file(d / "c.cert.json")
    assert res.valid and res.lower_bound > 0
    # tampering with the proven s is caught by the replay, with a rule named
    ent = cert["classes"][0]
    ent["s"] = str(Fraction(ent["s"]) / 2)
    (d / "bad.cert.json").write_text(json.dumps(cert))
    bad = check_file(d / "bad.cert.json")
    assert not bad.valid and any(f.rule.startswith("bab-") for f in bad.failures)


@pytest.mark.parametrize("value,needle", [("-1", "positive number of seconds"),
                                          ("abc", "expected a number of seconds"),
                                          ("inf", "positive number of seconds"),
                                          ("nan", "positive number of seconds")])
def test_bad_budget_is_one_line_and_exit_2(files, capsys, value, needle):
    for cmd in (["solve", str(files / "d.json")],
                ["certify", str(files / "d.json"), str(files / "m.npz"), "-o",
                 str(files / "c.json")]):
        assert main([*cmd, "--budget", value]) == 2
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err
    assert not (files / "c.json").exists()


def test_idle_patterns_are_pruned_and_the_optimum_is_unchanged(monkeypatch):
    """Patterns whose neurons are zero in a restricted optimum leave the working set (their
    columns are zero, so the optimum is unchanged); the route still reaches the chamber
    route's P*, and pruning did happen."""
    import verify.convex.column_generation_bab as cgb
    from verify.convex.column_generation import column_generation

    calls = []
    real = cgb._prune

    def spy(*a, **k):
        keep = real(*a, **k)
        calls.append(None if keep is None else int((~keep).sum()))
        return keep

    monkeypatch.setattr(cgb, "_prune", spy)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1.0, -1.0)
    sol = cgb.solve_branch_and_bound(X, y)
    ref = column_generation(X, y)
    assert sol.status.value == "optimal"
    assert abs(sol.value - ref.value) <= 1e-6 * ref.value
    assert float(sol.lower_bound) <= ref.value * (1 + 1e-9)
    assert any(c for c in calls if c)  # some pattern was dropped


def test_a_solver_failure_after_widening_is_retried_with_random_patterns(monkeypatch):
    """Gaussian 1000x3 (the issue's rank-3 goal data): after an infeasible start was widened
    by the ray's patterns, Clarabel failed (NumericalError, then CVXPY's form too) and solve
    exited 2.  The widening's patterns are now replaced by random directions once."""
    import verify.convex.column_generation_bab as cgb
    import verify.convex.lazy_restricted as lr
    from verify.convex.column_generation import column_generation
    from verify.convex.programs import ConvexSolution
    from verify.errors import SolverError
    from verify.status import Status

    real = cgb._restricted_with_cuts
    calls = []

    def flaky(X, y, P, walls, rows, choice, samples=None, deadline=None,
              max_cuts=lr._MAX_CUTS):
        calls.append(len(P))
        if len(calls) == 1:  # an infeasible start without a ray: widened at random
            sol = ConvexSolution(float("nan"), None, None, Status.INFEASIBLE, "restricted",
                                 np.zeros(X.shape[0]), (), {}, 0, len(P), 0, None, "")
            return sol, samples, False
        if len(calls) == 2:
            raise SolverError("CLARABEL failed: NumericalError")
        return real(X, y, P, walls, rows, choice, samples, deadline=deadline, max_cuts=max_cuts)

    monkeypatch.setattr(cgb, "_restricted_with_cuts", flaky)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((25, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1.0, -1.0)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0)
    ref = column_generation(X, y)
    assert len(calls) >= 3 and calls[2] <= calls[1]
    assert sol.status.value == "optimal" and abs(sol.value - ref.value) <= 1e-6 * ref.value


def test_idle_neurons_bring_no_wall_rows(monkeypatch):
    """A neuron at (numerical) zero has a slack dual constraint: its cone's missing rows
    change nothing, and its noise direction used to bring dozens of rows per cut round (on
    breast-cancer 190 per pattern, restricted solves of 10 s).  Only live neurons are asked
    for violated rows, and the program still ends violating no row of a live neuron."""
    import verify.convex.candidate_patterns as cp
    import verify.convex.column_generation_bab as cgb
    import verify.convex.lazy_restricted as lr
    from verify.convex.programs import _choice

    tops, asked = [], []
    real_solve, real_rows = lr._solve_restricted, lr._violated_rows

    def solve(*a, **k):
        sol = real_solve(*a, **k)
        if sol.u is not None:
            tops.append(max(np.linalg.norm(sol.u, axis=0).max(),
                            np.linalg.norm(sol.u_prime, axis=0).max()))
        return sol

    def violated(X, pattern, u, rows, have):
        asked.append(np.linalg.norm(u) / tops[-1])
        return real_rows(X, pattern, u, rows, have)

    monkeypatch.setattr(lr, "_solve_restricted", solve)
    monkeypatch.setattr(lr, "_violated_rows", violated)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1.0, -1.0)
    P0, W0 = cgb.initial_patterns(X, y)
    PR, WR = cp._unique(X, rng.standard_normal((30, 3)))
    P, W = np.vstack([P0, PR]), np.vstack([W0, WR])
    P, first = np.unique(P, axis=0, return_index=True)
    W = W[first]
    rows = np.flatnonzero(X.any(axis=1))
    walls = [lr._start_rows(X, w, rows) for w in W]
    sol, _, whole = lr._restricted_with_cuts(X, y, P, walls, rows, _choice(None))
    assert whole and asked and min(asked) > lr._PRUNE_REL
    a = np.maximum(np.linalg.norm(sol.u, axis=0), np.linalg.norm(sol.u_prime, axis=0))
    idle = a <= lr._PRUNE_REL * a.max()
    assert idle.sum() >= 3 and (~idle).sum() >= 1  # the case has idle patterns at all
    for j in np.flatnonzero(~idle):  # live neurons: inside their cones on every row
        for u in (sol.u[:, j], sol.u_prime[:, j]):
            if np.linalg.norm(u) <= lr._PRUNE_REL * a.max():
                continue
            side = np.where(P[j], 1.0, -1.0) * (X @ u)
            assert side.min() >= -1e-9 * np.linalg.norm(u) * np.linalg.norm(X, axis=1).max()


@pytest.mark.parametrize("bad", [-1, 0, "x", float("nan"), float("inf"), True])
def test_a_bad_budget_through_the_api_is_an_input_error(bad):
    """verify.solve(budget='x') was accepted, and beyond the limit float('x') raised a bare
    ValueError; every route now refuses it up front with the option named."""
    import verify
    from verify.errors import InputError

    X, y = _problem(2, 16, 3)
    with pytest.raises(InputError, match="budget: expected a positive number"):
        solve_binary(X, y, limit=10, budget=bad)
    with pytest.raises(InputError, match="budget: expected a positive number"):
        verify.solve((X, y), budget=bad)


@pytest.mark.parametrize("seed,N,d", [(1, 14, 3), (3, 12, 4)])
def test_every_collected_violator_joins_the_working_set(seed, N, d, monkeypatch):
    """The oracle's other violators (``BabResult.others``) become columns of the next program,
    and with them or without them the route ends at the enumeration's optimum."""
    import verify.convex.candidate_patterns as cp
    import verify.convex.column_generation_bab as cgb
    import verify.convex.inout_pricing as pricing
    from verify.convex.support_chambers import SupportOracle

    X, y = _problem(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    offered: list[bytes] = []
    programs: list[set[bytes]] = []
    real_max, real_solve = SupportOracle.maximize, cgb._restricted_with_cuts

    def spy_max(self, lam, **kw):
        p, m = real_max(self, lam, **kw)
        for r in (p, m):
            if r.status in ("violated", "exceeded") and r.lower > 1 + 1e-7:
                offered.extend(o[0].tobytes() for o in r.others)
        return p, m

    def spy_solve(X_, y_, P, *a, **kw):
        programs.append({q.tobytes() for q in P})
        return real_solve(X_, y_, P, *a, **kw)

    monkeypatch.setattr(SupportOracle, "maximize", spy_max)
    monkeypatch.setattr(cgb, "_restricted_with_cuts", spy_solve)
    def no_violators(X_, lam, thr, top, seed=0):
        return np.zeros((0, N), bool), np.zeros((0, d))

    # only the oracle prices: the loop's cheap pricing and ray_violators' local search
    monkeypatch.setattr(cgb, "heuristic_violators", no_violators)
    monkeypatch.setattr(cp, "heuristic_violators", no_violators)
    values = []
    for collect in (4, 0):
        monkeypatch.setattr(pricing, "_COLLECT", collect)
        offered.clear()
        programs.clear()
        sol = solve_branch_and_bound(X, y, support_limit=0)
        assert sol.status.value == "optimal"
        assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
        values.append(sol.value)
        if collect:
            assert offered, "the case must have other violators to test the wiring"
            every = set().union(*programs)
            assert all(k in every for k in offered)
        else:
            assert offered == []
    assert abs(values[0] - values[1]) <= 1e-6 * ref.value


def test_budget_message_says_what_the_loop_used():
    """trial22: 'the budget of 2 s ran out' after 1.3 s (the loop stops at its share of the
    budget, the final proof ends early), and 'time limit 0.39 s reached' for --budget 40 (the
    oracle's last slice): the message names the loop's share and the seconds it ran."""
    import re
    import time

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 6))
    y = np.where(rng.standard_normal(60) > 0, 1.0, -1.0)
    t0 = time.monotonic()
    sol = solve_branch_and_bound(X, y, budget=2.0)
    spent = time.monotonic() - t0
    assert sol.status.value == "restricted"
    m = re.search(r"the loop stopped after \d+ rounds at ([0-9.]+) s, its share of the "
                  r"2 s budget \(raise --budget\)", sol.message)
    assert m, sol.message
    assert float(m.group(1)) <= spent
    assert "ran out" not in sol.message and "time limit" not in sol.message
