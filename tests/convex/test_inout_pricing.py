"""In-out pricing of the branch-and-bound route (``inout_pricing._price``): the oracle
asks between the best dual-feasible point and the restricted program's ``lam``.  Its claims,
checked independently: a pattern violated at such a point is violated at ``lam`` (so it is a
new column), a proof there is a valid lower bound (below ``P*`` of the enumeration route),
the mis-pricings in a row are bounded, and a search cut by its time cap turns the
stabilisation off."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
from convex_cases import quadratic_problem

import verify.convex.candidate_patterns as cp
import verify.convex.column_generation_bab as cgb
import verify.convex.final_proof as fp
import verify.convex.inout_pricing as pricing
import verify.convex.lazy_restricted as lr
from verify.convex.branch_and_bound import objective
from verify.convex.column_generation import column_generation
from verify.convex.support_chambers import SupportOracle
from verify.geometry.chambers import enumerate_chambers

THR = 1.0 + 1e-7


_problem = quadratic_problem


def _setup(seed: int, N: int = 14, d: int = 3, scale: float = 1.3):
    """The exact optimum ``lam*`` (enumeration), a feasible centre ``0.9 lam*`` with its
    trees, and an infeasible ``lam`` (``lam*`` stretched and perturbed)."""
    X, y = _problem(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)  # always the trees
    rng = np.random.default_rng(seed)
    star = cgb.exact_support(y, ref.lam)
    inside = 0.9 * star
    p, m = dual.maximize(inside, prove_below=THR)
    best = (pricing._estimate(y, inside, p, m), inside, p, m)
    out = cgb.exact_support(y, scale * star + 0.3 * np.abs(rng.standard_normal(N)) * y
                            * star.any())
    return X, y, ref, dual, best, out


@pytest.mark.parametrize("seed", range(6))
def test_a_violator_at_the_inout_point_is_violated_at_lam(seed):
    X, y, ref, dual, best, out = _setup(seed)
    sep, plus, minus, best2, alpha, conv = pricing._price(dual, y, out, best, 0.5, THR, None,
                                                          10_000, None, None)
    found = [r for r in (plus, minus) if r.status in ("violated", "exceeded") and r.lower > THR]
    assert found, "a lam 1.3 x the optimum is infeasible: some pattern is violated"
    for r in found:
        # the point's value is linear in lam: above 1 at sep and <= 1 at lam_in force > 1 at lam
        assert objective(X, sep, r.u, r.sign) > THR
        assert objective(X, out, r.u, r.sign) > THR
    assert not conv and alpha == 0.5
    # every bound the pricing keeps is a valid lower bound (enumeration's P* above it)
    assert best2[0] >= best[0] and best2[0] <= ref.value * (1 + 1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_mispricings_are_bounded_and_proofs_are_lower_bounds(seed, monkeypatch):
    X, y, ref, dual, best, _ = _setup(seed)
    out = 0.99 * cgb.exact_support(y, ref.lam)  # feasible: every point between is proved
    asked = []
    real = dual.maximize

    def spy(lam, **kw):
        asked.append(np.asarray(lam).copy())
        return real(lam, **kw)

    monkeypatch.setattr(dual, "maximize", spy)
    sep, plus, minus, best2, alpha, conv = pricing._price(dual, y, out, best, 0.5, THR, None,
                                                          10_000, None, None)
    # each proof moves the centre: the points approach lam geometrically, and after
    # _MISPRICES of them lam itself is asked, where the proof converges
    assert len(asked) == pricing._MISPRICES + 1 and conv and sep is out
    assert np.allclose(asked[0], cgb.exact_support(y, 0.5 * pricing._center(best) + 0.5 * out))
    dist = [np.linalg.norm(a - out) for a in asked]
    assert all(b <= 0.5 * a * (1 + 1e-6) for a, b in zip(dist, dist[1:])) and dist[-1] == 0
    assert plus.status == minus.status == "proved"
    assert best[0] < best2[0] <= ref.value * (1 + 1e-7)


def test_a_proved_point_within_gap_converges_without_asking_at_lam(monkeypatch):
    X, y, ref, dual, best, _ = _setup(1)
    out = 0.99 * cgb.exact_support(y, ref.lam)
    calls = []
    real = dual.maximize
    monkeypatch.setattr(dual, "maximize", lambda lam, **kw: calls.append(1) or real(lam, **kw))
    sep, *_, conv = pricing._price(dual, y, out, best, 0.5, THR, 0.5, 10_000, None, None)
    assert conv and len(calls) == 1 and sep is not out


def test_a_cut_search_turns_the_stabilisation_off(monkeypatch):
    X, y, ref, dual, best, out = _setup(2)
    out = 0.99 * cgb.exact_support(y, ref.lam)  # feasible: a proof needs the whole tree
    caps = []
    real = dual.maximize

    def spy(lam, **kw):
        caps.append(kw["time_limit"])
        return real(lam, **kw)

    monkeypatch.setattr(dual, "maximize", spy)
    sep, plus, minus, best2, alpha, conv = pricing._price(dual, y, out, best, 0.5, THR, None,
                                                          10_000, 1e9, 0.0)  # a cap of 0 s
    assert alpha == 0.0 and caps[0] == 0.0 and caps[1] > 1e6  # then lam, with the time left
    assert sep is out and conv


@pytest.mark.parametrize("seed,N,d", [(0, 10, 2), (1, 14, 3), (3, 12, 4)])
def test_the_route_with_and_without_stabilisation_agrees(seed, N, d, monkeypatch):
    X, y = _problem(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    vals = []
    for a in (0.0, 0.5):
        monkeypatch.setattr(cgb, "_STABILITY", a)
        sol = cgb.solve_branch_and_bound(X, y, support_limit=0)
        assert sol.status.value == "optimal"
        assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
        vals.append(sol.value)
    assert abs(vals[0] - vals[1]) <= 1e-6 * ref.value


def _below_lam_in(y, ref, dual, s_out: float) -> np.ndarray:
    """A ``lam`` with ``s(lam) = s_out`` whose value is far below ``P*``: ``lam*`` with the
    weight of the positive class cut to 30 %, scaled (what a program missing rows, or solved
    inaccurately, may return: its value is then no upper bound)."""
    v = cgb.exact_support(y, np.where(y > 0, 0.3, 1.0) * cgb.exact_support(y, ref.lam))
    p, m = dual.maximize(v, prove_below=THR)
    return cgb.exact_support(y, s_out * v / max(p.upper, m.upper))


@pytest.mark.parametrize("gap", [None, 5e-7])
@pytest.mark.parametrize("seed", range(4))
def test_a_proof_above_lams_value_prices_at_lam_itself(seed, gap):
    """``lam`` infeasible (``s = 1.05``) with ``y^T lam`` below the proved ``lam_in``'s bound:
    the in-out point between them is proved, but neither is it progress (the old code stopped
    the loop there, "solver accuracy", with lam's violators never priced) nor is ``y^T lam`` an
    upper bound (the old code called the proof within ``gap`` of it: converged)."""
    X, y, ref, dual, best, _ = _setup(seed)
    out = _below_lam_in(y, ref, dual, 1.05)
    assert float(y @ out) < best[0]
    sep, plus, minus, best2, alpha, conv = pricing._price(dual, y, out, best, 0.5, THR, gap,
                                                          10_000, None, None)
    assert not conv and sep is out
    found = [r for r in (plus, minus) if r.status == "violated" and r.lower > THR]
    assert found and all(objective(X, out, r.u, r.sign) > THR for r in found)
    assert best2[0] == best[0]  # the in-out proof gained nothing: lam_in stays


def test_a_proof_at_lam_converges_on_the_best_proved_point():
    """``lam`` feasible but below the proved ``lam_in`` (its program misses rows): the loop
    converges, on ``lam_in``'s point and trees, not on ``lam``'s weaker bound."""
    X, y, ref, dual, best, _ = _setup(1)
    out = _below_lam_in(y, ref, dual, 0.95)
    sep, plus, minus, best2, alpha, conv = pricing._price(dual, y, out, best, 0.5, THR, None,
                                                          10_000, None, None)
    assert conv and sep is best[1] and plus is best[2] and minus is best[3]
    assert pricing._estimate(y, sep, plus, minus) == best[0] > float(y @ out)


def test_the_tolerance_reaches_the_loop_from_solve_and_certify(tmp_path, monkeypatch):
    """``--tolerance`` of ``solve`` and ``certify`` is the loop's ``gap`` (half of it), and the
    verdict the loop's early stop gives is the one the exact bounds prove."""
    import json
    from fractions import Fraction

    from verify.checker.check import check_file
    from verify.cli.main import main

    X, y = _problem(0, 20, 5)
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    gaps = []
    real = cgb.solve_branch_and_bound

    def spy(*args, **kw):
        gaps.append(kw.get("gap"))
        return real(*args, **kw)

    monkeypatch.setattr(cgb, "solve_branch_and_bound", spy)
    model, cert = tmp_path / "m.npz", tmp_path / "c.json"
    assert main(["solve", str(data), "--limit", "50", "--tolerance", "1e-2", "-o", str(model)]) == 0
    assert main(["certify", str(data), str(model), "--limit", "50", "--tolerance", "1e-2",
                 "-o", str(cert)]) == 0
    assert gaps == [5e-3, 5e-3]
    c = json.loads(cert.read_text())["classes"][0]
    assert c["method"] == "branch-and-bound" and c["verdict"] == "globally-optimal-within"
    assert Fraction(c["relative_gap"]["exact"]) <= Fraction(1, 100)
    assert check_file(cert, data=data, model=model).valid
    assert main(["solve", str(data), "--limit", "50"]) == 0 and gaps[-1] == 5e-7


def _fake_clock(monkeypatch) -> list[float]:
    """The route's ``time.monotonic`` (the loop's and its helpers', not the searches') runs
    ``shift[0]`` seconds ahead of the real clock; returns ``shift`` (set it to jump)."""
    shift = [0.0]
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + shift[0],
                            perf_counter=time.perf_counter)
    for module in (cgb, pricing, fp, lr, cp):
        monkeypatch.setattr(module, "time", clock)
    return shift


def test_a_budget_that_runs_out_after_a_mispricing_says_budget(monkeypatch):
    """The loop's deadline passes right after a proof at an in-out point (a mis-pricing, no
    violator): the reason is the budget (raise --budget), not "solver accuracy" (the old
    message, which names the wrong cause).  The clock is faked: the first search at an in-out
    point that proves both signs moves it past every deadline."""
    X, y = _problem(0, 40, 6)
    shift = _fake_clock(monkeypatch)
    real = cgb._price
    seen = []

    def price(dual, y_, lam, best, *args):
        real_max = dual.maximize

        def maximize(point, **kw):
            plus, minus = real_max(point, **kw)
            if point is not lam and plus.status == minus.status == "proved" and not shift[0]:
                shift[0] = 1e6
                seen.append(point)
            return plus, minus

        dual.maximize = maximize
        try:
            return real(dual, y_, lam, best, *args)
        finally:
            dual.maximize = real_max

    monkeypatch.setattr(cgb, "_price", price)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0, gap=0.0, budget=100.0)
    assert seen, "the case has a mis-pricing"
    assert sol.status.value == "restricted" and "raise --budget" in sol.message
    assert "solver accuracy" not in sol.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_route_converged_at_an_inout_point_returns_that_point(seed, monkeypatch):
    """With ``gap = 1e-2`` the loop ends at a proved in-out point: the solution's ``lam`` is
    that point (its trees are the evidence: same support), optimal within the gap of the
    enumeration's ``P*``, which the exact bounds bracket."""
    X, y = _problem(seed, 20, 3)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    ends = []
    real = cgb._price

    def spy(dual, y_, lam, *args):
        out = real(dual, y_, lam, *args)
        ends.append((out[0] is not lam, out[5]))
        return out

    monkeypatch.setattr(cgb, "_price", spy)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0, gap=1e-2)
    assert ends[-1] == (True, True), "converged at an in-out point"
    assert sol.status.value == "optimal" and sol.evidence.complete
    assert sol.evidence.evidence["support"] == np.flatnonzero(sol.lam).tolist()
    assert sol.s <= THR
    assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
    assert float(sol.upper_bound - sol.lower_bound) <= 1e-2 * float(sol.upper_bound)


def test_the_final_proof_starts_from_the_best_point_priced(monkeypatch):
    """A loop stopped by ``max_rounds`` hands the final proof the best point the oracle saw
    (its anytime bound), not the last restricted ``lam``."""
    X, y = _problem(1, 30, 5)
    bests, starts = [], []
    real_price, real_final = cgb._price, cgb._final_proof

    def price(*args):
        out = real_price(*args)
        bests.append(out[3])
        return out

    def final(dual, y_, lam, *args, **kwargs):
        starts.append(lam)
        return real_final(dual, y_, lam, *args, **kwargs)

    monkeypatch.setattr(cgb, "_price", price)
    monkeypatch.setattr(cgb, "_final_proof", final)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0, max_rounds=10)
    assert sol.status.value == "restricted" and bests and len(starts) == 1
    assert starts[0] is bests[-1][1]
    assert float(sol.lower_bound) >= bests[-1][0] * (1 - 1e-9)


def test_the_final_proof_reuses_the_best_points_own_trees(monkeypatch):
    """With a budget and trees grown long enough (``_FIRST_TREES`` made tiny), the loop hands
    the final proof the two trees of its best point, which are then not grown again, and the
    exact lower bound (their evidence) is at least that point's anytime bound and below the
    network's exact upper bound."""
    X, y = _problem(1, 30, 5)
    monkeypatch.setattr(fp, "_FIRST_TREES", 1e-9)
    monkeypatch.setattr(fp, "_TREE_DUAL_ROUNDS", 0)  # only the first trees: the wiring
    bests, given, regrown = [], [], []
    real_price, real_final, real_max = cgb._price, cgb._final_proof, SupportOracle.maximize

    def price(*args):
        out = real_price(*args)
        bests.append(out[3])
        return out

    def final(dual, y_, lam, thr, node_limit, seconds, trees=None, **kwargs):
        given.append(trees)
        proving[0] = True
        return real_final(dual, y_, lam, thr, node_limit, seconds, trees)

    proving = [False]

    def maximize(self, lam, **kw):
        if proving[0] and not kw.get("refine", False):
            regrown.append(lam)
        return real_max(self, lam, **kw)

    monkeypatch.setattr(cgb, "_price", price)
    monkeypatch.setattr(cgb, "_final_proof", final)
    monkeypatch.setattr(SupportOracle, "maximize", maximize)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0, max_rounds=10, budget=60.0)
    assert sol.status.value == "restricted" and bests and len(given) == 1
    assert given[0] is not None, "the loop passes its trees"
    assert given[0][0] is bests[-1][2] and given[0][1] is bests[-1][3]
    assert regrown == []  # the proof's first trees are the loop's
    assert float(sol.lower_bound) >= bests[-1][0] * (1 - 1e-9)
    assert sol.lower_bound <= sol.upper_bound  # both exact


def test_the_gap_is_asked_only_of_a_program_that_violates_no_row(monkeypatch):
    """The loop passes ``gap`` to the pricing only when the restricted program violates no
    row (lazy margin and wall rows all in): otherwise ``y^T lam`` is no upper bound."""
    for name, v in (("_ALL_SAMPLES", 5), ("_START_SAMPLES", 5), ("_CUT_SAMPLES", 1)):
        monkeypatch.setattr(lr, name, v)  # programs that often miss rows
    for name in ("_MAX_CUTS", "_LOOP_CUTS"):  # read by the loop
        monkeypatch.setattr(cgb, name, 1)
    X, y = _problem(1, 30, 3)
    wholes, gaps = [], []
    real_cuts, real_price = cgb._restricted_with_cuts, cgb._price

    def cuts(*args, **kw):
        out = real_cuts(*args, **kw)
        wholes.append(out[2])
        return out

    def price(dual, y_, lam, best, alpha, thr, gap, *args):
        gaps.append((gap, wholes[-1]))
        return real_price(dual, y_, lam, best, alpha, thr, gap, *args)

    monkeypatch.setattr(cgb, "_restricted_with_cuts", cuts)
    monkeypatch.setattr(cgb, "_price", price)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0)
    assert any(not w for _, w in gaps) and any(w for _, w in gaps)
    assert all((g is None) == (not w) for g, w in gaps) and sol.status.value == "optimal"


def test_the_optimal_label_follows_the_exact_bounds(monkeypatch):
    """A loop that converged on a restricted value that is not quite an upper bound (an
    inaccurate program; faked here by an upper bound 1 % higher) is not called optimal: the
    label follows the exact bounds, and the message says why."""
    from fractions import Fraction

    X, y = _problem(1, 14, 3)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0)
    assert sol.status.value == "optimal"
    real = cgb._network_ub

    def inflated(X_, y_, neurons):
        ub, nr = real(X_, y_, neurons)
        return (None if ub is None else ub * Fraction(101, 100)), nr

    monkeypatch.setattr(cgb, "_network_ub", inflated)
    worse = cgb.solve_branch_and_bound(X, y, support_limit=0)
    assert worse.status.value == "restricted"
    assert "exact bounds are" in worse.message and worse.lower_bound == sol.lower_bound


@pytest.mark.parametrize("seed,N,d", [(0, 40, 6), (1, 30, 5)])
def test_close_proofs_extend_the_loop_past_half_the_budget(seed, N, d, monkeypatch):
    """Once a proved point is within _CLOSE of the program's value the loop may run to
    _LOOP_SHARE_CLOSE of the budget.  The clock is faked: at that moment it jumps to 60 % of
    the budget (past the loop's first deadline, 50 %), and the loop goes on to converge
    instead of stopping with "the budget ... ran out"."""
    X, y = _problem(seed, N, d)
    shift = _fake_clock(monkeypatch)
    real = cgb._price
    start = time.monotonic()

    def price(dual, y_, lam, best, *args):
        out = real(dual, y_, lam, best, *args)
        b, conv = out[3], out[5]
        if (not conv and not shift[0] and b[2].status == b[3].status == "proved"
                and b[0] >= (1 - cgb._CLOSE) * float(y_ @ lam)):
            shift[0] = 60.0 - (time.monotonic() - start)
        return out

    monkeypatch.setattr(cgb, "_price", price)
    sol = cgb.solve_branch_and_bound(X, y, support_limit=0, budget=100.0)
    assert shift[0], "the case has a close proof before convergence"
    assert sol.status.value == "optimal" and "ran out" not in sol.message
