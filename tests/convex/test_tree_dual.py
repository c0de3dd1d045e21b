"""The dual over the leaves of branch-and-bound trees (verify.convex.tree_dual)."""

from __future__ import annotations

import numpy as np
import pytest

from verify.convex.branch_and_bound import bab_maximize
from verify.convex.column_generation import column_generation
from verify.convex.column_generation_bab import exact_support
from verify.convex.final_proof import _final_proof
from verify.convex.support_chambers import SupportOracle, support_maximize
from verify.convex.tree_dual import tree_dual
from verify.geometry.chambers import enumerate_chambers


def _case(seed: int, N: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.standard_normal(N) > 0, 1.0, -1.0)
    lam = y * rng.uniform(0.1, 2.0, N)  # diag(y) lam >= 0, far from feasible
    return X, y, lam


def _exact_s(X: np.ndarray, lam: np.ndarray) -> float:
    """s(lam) by the chambers of X_S (the enumeration route of the oracle)."""
    plus, minus = support_maximize(X, lam)
    return max(plus.upper, minus.upper)


def _p_star_on_support(X: np.ndarray, y: np.ndarray, S: np.ndarray) -> float:
    """P* of the max-margin problem on the samples S alone, by the full chamber list."""
    ch = enumerate_chambers(X[S])
    return column_generation(X[S], y[S], chambers=ch).value


@pytest.mark.parametrize("seed,N,d,nodes", [(0, 10, 2, 3), (1, 12, 3, 5), (2, 14, 3, 40),
                                            (3, 9, 4, 1), (4, 16, 2, 200)])
def test_every_leaf_bound_at_most_one_proves_s_at_most_one(seed, N, d, nodes):
    """Whatever the trees (cut short at a few nodes, or finished), the new lam has s <= 1 by
    the chambers of X_S, is never worse than lam / max(1, s), and never above P* on S (weak
    duality): three independent checks of the program's validity."""
    X, y, lam = _case(seed, N, d)
    trees = [bab_maximize(X, lam, sign=s, prove_below=1.0, node_limit=nodes) for s in (1, -1)]
    new = tree_dual(X, y, lam, trees)
    assert new is not None and np.all(y * new >= 0)
    assert set(np.flatnonzero(new)) <= set(np.flatnonzero(lam))
    assert _exact_s(X, new) <= 1.0 + 1e-6
    before = float(y @ lam) / max(1.0, *(t.upper for t in trees))
    assert float(y @ new) >= before * (1 - 1e-6)
    S = np.flatnonzero(lam)
    assert float(y @ new) <= _p_star_on_support(X, y, S) * (1 + 1e-6)


@pytest.mark.parametrize("iters", [None, 1, 0, "inside"])
def test_the_answer_is_scaled_to_every_leaf_bound_at_most_one(iters, monkeypatch):
    """Cutting planes run to the end, cut short after one or no linear program, or a linear
    program whose answer lies deep inside the feasible set (half of it): the answer is scaled
    by its largest leaf bound over *every* leaf, so s <= 1 holds by the chambers of X_S, and
    that bound is exactly 1 (scaling up is free by homogeneity)."""
    import scipy.optimize

    import verify.convex.tree_dual as td

    if iters == "inside":
        real = scipy.optimize.linprog

        def half(*a, **k):
            got = real(*a, **k)
            got.x = 0.5 * got.x
            return got

        monkeypatch.setattr(scipy.optimize, "linprog", half)
    elif iters is not None:
        monkeypatch.setattr(td, "_ITERATIONS", iters)
    X, y, lam = _case(8, 14, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=0.5, node_limit=60) for s in (1, -1)]
    assert sum(t.n_leaves for t in trees) > 6
    new = tree_dual(X, y, lam, trees)
    assert new is not None
    assert np.all(y * new >= 0) and float(y @ new) > 0
    assert _exact_s(X, new) <= 1.0 + 1e-9
    T = np.flatnonzero(lam)
    leaves, _ = td._leaves(X, y, T, T, trees)
    S = np.flatnonzero(new)
    top = max(td._bound(leaf, new[T], X[T]) for leaf in leaves)
    assert set(S) <= set(T) and top == pytest.approx(1.0, abs=1e-9)


def test_rounds_of_the_final_proof_reach_p_star_on_the_support():
    """Trees, the dual over their leaves, fresh trees, ...: in 2-D the partitions become fine
    enough that the bound meets P* of the support (the enumeration route), from a lam whose
    own bound y^T lam / s is far below it."""
    X, y, lam = _case(5, 14, 2)
    S = np.flatnonzero(lam)
    p_star = _p_star_on_support(X, y, S)
    dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)  # always trees
    plus, minus = dual.maximize(lam, prove_below=1.0)
    first = float(y @ lam) / max(1.0, plus.upper, minus.upper)
    assert first < 0.9 * p_star
    out, plus, minus = _final_proof(dual, y, lam, 1.0 + 1e-9, 10_000, None)
    lb = float(y @ out) / max(1.0, plus.upper, minus.upper)
    assert p_star * (1 - 1e-4) <= lb <= p_star * (1 + 1e-6)
    assert _exact_s(X, out) <= 1.0 + 1e-6


def test_the_final_proof_keeps_the_best_bound_and_stops_without_trees():
    """The rounds keep the best anytime bound seen; with the chambers of X_S as the oracle
    there is no tree, and lam comes back as it was (its bound is exact already)."""
    X, y, lam = _case(6, 12, 3)
    exact = SupportOracle(X)  # the chambers of X_S fit: no tree
    out, plus, minus = _final_proof(exact, y, lam, 1.0, 1000, 30.0)
    assert np.array_equal(out, lam)
    trees = SupportOracle(X, oracle_limit=0, evidence_limit=0)
    p0, m0 = trees.maximize(lam, prove_below=1.0)
    out, plus, minus = _final_proof(trees, y, lam, 1.0, 1000, 30.0)
    before = float(y @ lam) / max(1.0, p0.upper, m0.upper)
    after = float(y @ out) / max(1.0, plus.upper, minus.upper)
    assert after > 1.05 * before
    assert np.array_equal(out, exact_support(y, out))


def test_a_failing_solver_in_the_rounds_keeps_the_first_trees(monkeypatch):
    """The program is only a candidate search: if its solver raises inside it, the final proof
    returns the first trees' lam and bound instead of a traceback."""
    import verify.convex.tree_dual as td

    def boom(*args, **kwargs):
        raise RuntimeError("solver panic")

    monkeypatch.setattr(td, "dual_over_leaves", boom)
    X, y, lam = _case(9, 12, 3)
    dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)
    out, plus, minus = _final_proof(dual, y, lam, 1.0, 1000, 10.0)
    assert np.array_equal(out, lam) and plus.support.tolist() == np.flatnonzero(lam).tolist()


def test_trees_of_another_lambda_are_refused():
    X, y, lam = _case(7, 10, 2)
    trees = [bab_maximize(X, lam, sign=s, prove_below=1.0) for s in (1, -1)]
    other = lam.copy()
    other[0] = 0.0
    with pytest.raises(ValueError, match="support of lam"):
        tree_dual(X, y, other, trees)


def test_a_tree_without_its_leaves_is_refused():
    """keep_leaves=False leaves the tree's list empty: its sign would constrain nothing and
    the answer would be far above what the partition proves (seed 3: y^T lam = 115)."""
    X, y, lam = _case(3, 12, 3)
    trees = [bab_maximize(X, lam, sign=1, prove_below=1.0),
             bab_maximize(X, lam, sign=-1, prove_below=1.0, keep_leaves=False)]
    with pytest.raises(ValueError, match="leaves"):
        tree_dual(X, y, lam, trees)


def test_a_zero_row_in_the_support_is_ignored():
    """x_n = 0 contributes nothing to lam^T (Xu)_+; the trees still list it (settled, or a
    beta row), which raised KeyError."""
    X, y, lam = _case(3, 12, 3)
    X[0] = 0.0
    trees = [bab_maximize(X, lam, sign=s, prove_below=1.0, node_limit=40) for s in (1, -1)]
    new = tree_dual(X, y, lam, trees)
    assert new is not None and new[0] == 0.0 and np.all(y * new >= 0)
    assert _exact_s(X, new) <= 1.0 + 1e-6


def test_the_leaf_relaxation_is_the_searchs():
    """Without the warm start (the parent's multipliers, an upper bound only) the search's
    leaf bound is the relaxation's optimum: tree_dual's leaf bound at the trees' own lam is
    the same, for every leaf of both signs."""
    import verify.convex.node_bound as nb
    import verify.convex.tree_dual as td

    for seed in range(3):
        X, y, lam = _case(seed, 10, 3)
        old = nb._warm_start
        nb._warm_start = lambda *a, **k: None
        try:
            trees = [bab_maximize(X, lam, sign=s, prove_below=0.7, node_limit=40)
                     for s in (1, -1)]
        finally:
            nb._warm_start = old
        T = np.flatnonzero(lam)
        leaves, prio = td._leaves(X, y, T, T, trees)
        vals = np.array([td._bound(leaf, lam[T], X[T]) for leaf in leaves])
        assert len(leaves) == sum(t.n_leaves for t in trees) > 2
        assert np.allclose(vals, prio, rtol=0, atol=1e-9)


def test_a_poor_solver_point_never_makes_the_answer_worse_than_lam(monkeypatch):
    """Linear programs whose answers keep one row only (the longest x_n) are far below the
    optimum: the answer is then lam itself scaled to its tightest leaf, never worse than the
    trees already prove."""
    import scipy.optimize

    X, y, lam = _case(8, 14, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=0.5, node_limit=60) for s in (1, -1)]
    real = scipy.optimize.linprog
    T = np.flatnonzero(lam)
    j = int(np.argmax(np.linalg.norm(X[T], axis=1)))

    def poor(*a, **k):
        got = real(*a, **k)
        keep = np.zeros_like(got.x)
        keep[j] = got.x[j]
        got.x = keep
        return got

    monkeypatch.setattr(scipy.optimize, "linprog", poor)
    new = tree_dual(X, y, lam, trees)
    before = float(y @ lam) / max(t.upper for t in trees)
    assert float(y @ new) >= before * (1 - 1e-9)
    assert np.all(y * new >= 0) and _exact_s(X, new) <= 1.0 + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_every_cut_supports_its_leaf_bound(seed):
    """A leaf's cut at x is a supporting hyperplane of its bound: equal at x, and below the
    bound (recomputed by its own bounded least squares) at every lam of the labels' signs."""
    import verify.convex.tree_dual as td

    X, y, lam = _case(seed, 12, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=1.0, node_limit=30) for s in (1, -1)]
    T = np.flatnonzero(lam)
    leaves, _ = td._leaves(X, y, T, T, trees)
    rng = np.random.default_rng(seed)
    others = [y[T] * rng.uniform(0.0, 2.0, T.size) for _ in range(20)]
    for leaf in leaves:
        val, phi, _, _ = td._cut(leaf, lam[T], X[T])
        assert float(phi @ lam[T]) == pytest.approx(val, rel=1e-9, abs=1e-12)
        for other in others:
            assert float(phi @ other) <= td._bound(leaf, other, X[T]) + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_the_cutting_planes_meet_the_cone_program(seed):
    """Two independent solutions of the same program over every leaf: Kelley's cutting planes
    (HiGHS, lam alone) and the second-order cone program with each leaf's beta and z as
    variables (Clarabel, verify.convex.leaf_program).  Same y^T lam to 1e-5 relative, and the
    cone program's own answer, before any rescaling, has every leaf's bound <= 1."""
    import verify.convex.tree_dual as td
    from verify.convex.leaf_program import LeafProgram

    X, y, lam = _case(seed, 12, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=1.0, node_limit=30) for s in (1, -1)]
    T = np.flatnonzero(lam)
    leaves, _ = td._leaves(X, y, T, T, trees)
    box = td._BOX * float(np.abs(lam).max())
    prog = LeafProgram(y[T], X[T], box)
    for leaf in leaves:
        prog.add_chord(leaf)
    x = prog.solve(None)[:T.size]
    assert max(td._bound(leaf, x, X[T]) for leaf in leaves) <= 1.0 + 1e-5
    new = tree_dual(X, y, lam, trees)
    assert float(y @ new) == pytest.approx(float(y[T] @ x), rel=1e-5)
    before = float(y @ lam) / max(1.0, *(t.upper for t in trees))
    assert float(y @ new) >= before * (1 - 1e-9)


@pytest.mark.parametrize("grown", [30.0, 0.0])
def test_the_final_proof_reuses_the_loops_trees_only_when_grown_long_enough(grown):
    """The loop's trees for the point (here marked as grown for ``grown`` seconds) are the
    first trees when they took at least half the seconds the first trees would get: then the
    first search of the proof is already a refined one (for the dual's new lam); otherwise
    the trees are grown again.  Either way the bound is at least the given trees' own."""
    import dataclasses

    X, y, lam = _case(6, 12, 3)
    dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)
    given = tuple(dataclasses.replace(t, seconds=grown / 2)
                  for t in dual.maximize(lam, prove_below=1.0, node_limit=20))
    calls = []
    real = dual.maximize

    def spy(lam_, **kw):
        calls.append((np.array(lam_), kw.get("refine", False)))
        return real(lam_, **kw)

    dual.maximize = spy
    out, plus, minus = _final_proof(dual, y, lam, 1.0, 1000, 30.0, trees=given)
    first_is_regrown = np.array_equal(calls[0][0], lam) and not calls[0][1]
    assert first_is_regrown == (grown == 0.0)
    before = float(y @ lam) / max(1.0, *(t.upper for t in given))
    assert float(y @ out) / max(1.0, plus.upper, minus.upper) >= before * (1 - 1e-12)


def test_the_rounds_use_the_current_support_until_one_gains_nothing(monkeypatch):
    """The program over every sample of the first support took ~3x the seconds of the one
    over the current support on breast-cancer, for the same answer: the rounds use the current
    support, and every first-support sample (so that dropped samples can come back, which the
    test above needs to reach P*) only after a round that gained nothing."""
    import verify.convex.final_proof as fp
    import verify.convex.tree_dual as td

    calls = []
    real = td.dual_over_leaves

    def spy(X, y, lam, trees, *, rows=None, time_limit=None):
        out = real(X, y, lam, trees, rows=rows, time_limit=time_limit)
        calls.append((None if rows is None else sorted(np.asarray(rows).tolist()),
                      np.flatnonzero(lam).tolist()))
        return out

    monkeypatch.setattr(td, "dual_over_leaves", spy)
    monkeypatch.setattr(fp, "_JOIN", 0)  # no sample from outside (the test below)
    monkeypatch.setattr(fp, "_MISSED", -np.inf)  # nor the stop when every margin is >= 1
    X, y, lam = _case(5, 14, 2)
    dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)
    marks = []
    real_est = fp._estimate

    def est(y_, lam_, p, m):
        v = real_est(y_, lam_, p, m)
        marks.append(v)
        return v

    monkeypatch.setattr(fp, "_estimate", est)
    fp._final_proof(dual, y, lam, 1.0 + 1e-9, 10_000, None)
    first = np.flatnonzero(lam).tolist()
    assert calls[0][0] is None  # the first program: the first support itself
    narrow = [c for c in calls[1:] if c[0] is None]
    wide = [i for i, c in enumerate(calls) if c[0] is not None]
    assert narrow and wide
    for i in wide:
        assert calls[i][0] == first
        # the round before gained less than the threshold over the best before it
        assert marks[i] <= max(marks[:i]) * (1.0 + fp._TREE_DUAL_GAIN)


@pytest.mark.parametrize("seed", range(4))
def test_screening_by_old_multipliers_changes_nothing_but_the_work(seed, monkeypatch):
    """A leaf whose last multipliers already bound it by 1 is not solved again: the answer is
    the one every leaf solved exactly in every round gives, to 1e-6, with fewer bounded least
    squares."""
    import verify.convex.tree_dual as td

    X, y, lam = _case(seed, 14, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=0.5, node_limit=80) for s in (1, -1)]
    calls = []
    real = td._cut

    def counted(*a):
        calls.append(1)
        return real(*a)

    monkeypatch.setattr(td, "_cut", counted)
    screened = tree_dual(X, y, lam, trees)
    n_screened = len(calls)
    calls.clear()
    monkeypatch.setattr(td, "_screen", lambda *a: np.inf)
    exact = tree_dual(X, y, lam, trees)
    assert float(y @ screened) == pytest.approx(float(y @ exact), rel=1e-6)
    assert n_screened < len(calls)


@pytest.mark.parametrize("seed", [5, 11])
def test_samples_the_network_misses_join_and_the_bound_passes_p_star_of_the_first_rows(
        seed, monkeypatch):
    """From a lam on 5 of 16 samples (2-D), the rounds alone can at best reach P* of those 5
    (every lam they try lives on them, or on rows the programs drop); the samples the program's
    network misses (margin < 1) join its rows, and the bound goes past P* of the 5 towards
    P* of all 16 (the chamber route), never above it."""
    import verify.convex.final_proof as fp

    X, y, _ = _case(seed, 16, 2)
    T = np.arange(5)
    lam = np.zeros(16)
    lam[T] = y[T]
    p_first = _p_star_on_support(X, y, T)
    p_all = _p_star_on_support(X, y, np.arange(16))
    assert p_first < p_all * (1 - 1e-3)
    bounds = {}
    for join in (0, 10):
        monkeypatch.setattr(fp, "_JOIN", join)
        dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)
        neurons: list = []
        out, plus, minus = _final_proof(dual, y, lam, 1.0 + 1e-9, 10_000, None, neurons=neurons)
        bounds[join] = float(y @ out) / max(1.0, plus.upper, minus.upper)
        assert _exact_s(X, out) <= 1.0 + 1e-6
        assert bounds[join] <= p_all * (1 + 1e-6)
        assert all(abs(np.linalg.norm(n.direction) - 1.0) < 1e-9 and n.norm > 0
                   for n in neurons)
    assert bounds[0] <= p_first * (1 + 1e-6)
    assert bounds[10] > p_first * (1 + 1e-3)


@pytest.mark.parametrize("seed", [5, 11])
def test_the_final_proofs_networks_give_the_upper_bound_when_the_loop_stops_early(
        seed, monkeypatch):
    """One round of the loop (the working set is far from optimal: its network is ~30 %
    above P*), then the final proof: its programs' networks, their norms refitted over every
    sample, give a rigorous upper bound within 1e-5 of P* (the chamber route), with the lower
    bound; without them the upper bound stays the loop's."""
    import verify.convex.column_generation_bab as cgb

    X, y, _ = _case(seed, 16, 2)
    p_star = _p_star_on_support(X, y, np.arange(16))
    got = cgb.solve_branch_and_bound(X, y, max_rounds=1, support_limit=0)
    real = cgb._final_proof
    monkeypatch.setattr(cgb, "_final_proof", lambda *a, neurons=None, **k: real(*a, **k))
    loop_only = cgb.solve_branch_and_bound(X, y, max_rounds=1, support_limit=0)
    assert float(loop_only.upper_bound) > 1.2 * p_star
    assert p_star * (1 - 1e-5) <= float(got.lower_bound) <= p_star * (1 + 1e-9)
    assert p_star * (1 - 1e-9) <= float(got.upper_bound) <= p_star * (1 + 1e-5)


def test_cuts_that_do_not_separate_the_point_end_the_cutting_planes(monkeypatch):
    """Every cut valid but none separating the linear program's point (the weakest valid cut,
    phi = 0: every leaf's bound is >= 0): the next linear program would return the same point,
    so the cutting planes stop after one instead of solving it again _ITERATIONS times; the
    answer is still scaled to every leaf's bound <= 1 (s <= 1 by the chambers of X_S)."""
    import scipy.optimize

    import verify.convex.tree_dual as td

    real_cut, real_lp = td._cut, scipy.optimize.linprog
    lps = []

    def weak(leaf, x, XS):
        val, phi, w, u = real_cut(leaf, x, XS)
        return val, np.zeros_like(phi), w, np.zeros_like(u)

    def counted(*a, **k):
        lps.append(1)
        return real_lp(*a, **k)

    monkeypatch.setattr(td, "_cut", weak)
    monkeypatch.setattr(scipy.optimize, "linprog", counted)
    X, y, lam = _case(8, 14, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=0.5, node_limit=60) for s in (1, -1)]
    new = tree_dual(X, y, lam, trees)
    assert len(lps) == 1
    assert new is not None and np.all(y * new >= 0)
    assert _exact_s(X, new) <= 1.0 + 1e-9


def test_a_sweep_past_its_deadline_bounds_no_more_leaves_exactly(monkeypatch):
    """The last step of a sweep bounds exactly the screened leaves above the largest exact
    bound (tightness only); once the deadline has passed it stops, and every value it returns
    is still an upper bound on its leaf's (the point scaled by their largest stays feasible).
    A fake clock: the deadline passes right after the first leaf."""
    import verify.convex.tree_dual as td

    X, y, lam = _case(8, 14, 3)
    trees = [bab_maximize(X, lam, sign=s, prove_below=0.5, node_limit=60) for s in (1, -1)]
    T = np.flatnonzero(lam)
    leaves, _ = td._leaves(X, y, T, T, trees)
    assert 1 < len(leaves) < 256  # the first pass looks at the clock once, at its first leaf
    XS, ws = X[T], [None] * len(leaves)
    vals = td._sweep(leaves, lam[T], XS, ws)[0]
    x = lam[T] / vals.max()
    td._sweep(leaves, x, XS, ws)  # ws: every leaf's multipliers at x itself
    exact = np.array([td._bound(leaf, x, XS) for leaf in leaves])

    class Clock:
        calls = 0

        def monotonic(self) -> float:
            Clock.calls += 1
            return 0.0 if Clock.calls == 1 else 10.0

    cuts = []
    real = td._cut
    monkeypatch.setattr(td, "_cut", lambda *a: cuts.append(1) or real(*a))
    monkeypatch.setattr(td, "time", Clock())
    got = td._sweep(leaves, x, XS, ws, deadline=1.0)
    assert got is not None
    assert cuts == []  # every leaf screened below 1 + _VIOLATED, none bounded after the deadline
    assert np.all(got[0] >= exact - 1e-12)


@pytest.mark.parametrize("seed", [5, 11])
def test_the_rounds_stop_once_the_network_classifies_every_sample(seed):
    """With a budget the rounds go on while it lasts, except when the program gains nothing
    and its network has margin >= 1 on every sample: lower and upper bound meet then, so the
    proof stops (it used to spend the rest of its 30 s on 40 rounds of the same trees)."""
    X, y, _ = _case(seed, 16, 2)
    lam = np.zeros(16)
    lam[:5] = y[:5]
    p_all = _p_star_on_support(X, y, np.arange(16))
    dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)
    calls = []
    real = dual.maximize

    def spy(lam_, **kw):
        calls.append(1)
        return real(lam_, **kw)

    dual.maximize = spy
    out, plus, minus = _final_proof(dual, y, lam, 1.0 + 1e-9, 10_000, 30.0)
    lb = float(y @ out) / max(1.0, plus.upper, minus.upper)
    assert p_all * (1 - 1e-5) <= lb <= p_all * (1 + 1e-6)
    assert len(calls) < 15
