"""The branch-and-bound oracle against enumeration (Lemma 4 per chamber) and a 2-D angle grid,
and its exact evidence against a small independent verifier written here."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.convex.branch_and_bound import bab_maximize, objective
from verify.convex.branch_and_bound_evidence import bab_evidence, evidence_from_results
from verify.convex.chamber_oracle import nnls_slack, oracle
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers

_NONE = {"indices": [], "values": []}  # an absent multiplier object: no multipliers


def _enum_max(X, lam):
    """``max(0, max_j max_{K_j, ball} +-lam^T D_j X u)`` for both signs (Lemma 4 per chamber,
    the residual norm computed directly), and the pattern list."""
    P = enumerate_chambers(X).pattern_matrix()
    best = [0.0, 0.0]
    for D in P:
        A = np.where(D, 1.0, -1.0)[:, None] * X
        v = X.T @ np.where(D, lam, 0.0)
        for i, s in enumerate((1, -1)):
            best[i] = max(best[i], nnls_slack(A, s * v)[1])
    return best, P


def _close(res, true, tol=1e-9):
    t = tol * max(1.0, abs(true))
    assert res.lower <= true + t and res.upper >= true - t
    assert res.upper == pytest.approx(true, abs=t) and res.lower == pytest.approx(true, abs=t)
    assert res.value == pytest.approx(res.lower, abs=t) or res.lower == 0.0


def _gaussian(seed, N, d, zero=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    lam = rng.standard_normal(N)
    lam[rng.random(N) < zero] = 0.0
    return X, lam


@pytest.mark.parametrize("seed", range(8))
def test_equals_enumeration_both_signs(seed):
    X, lam = _gaussian(seed, 6 + seed, 2 + seed % 3)
    (sp, sm), _ = _enum_max(X, lam)
    for sign, true in ((1, sp), (-1, sm)):
        res = bab_maximize(X, lam, sign=sign)
        assert res.complete and res.status == "proved"
        _close(res, true)
        assert abs(np.linalg.norm(res.u) - 1.0) < 1e-12


def test_refine_splits_tight_leaves_and_stays_an_upper_bound():
    """refine=True closes nodes only at the target: a target below the maximum refines the
    tree further than the plain search (which closes at the best value), every leaf bound is
    still an upper bound of the enumeration maximum, and the best value is the same."""
    finer = 0
    for seed in range(4):
        finer += _refine_case(seed)
    assert finer >= 3


def _refine_case(seed: int) -> int:
    X, lam = _gaussian(10 + seed, 9, 3, zero=0.0)
    (sp, sm), _ = _enum_max(X, lam)
    finer = 0
    for sign, true in ((1, sp), (-1, sm)):
        plain = bab_maximize(X, lam, sign=sign, prove_below=0.5 * true)
        fine = bab_maximize(X, lam, sign=sign, prove_below=0.5 * true, refine=True,
                            node_limit=400)
        assert fine.n_leaves >= plain.n_leaves
        finer += fine.n_leaves > plain.n_leaves
        assert fine.upper >= true - 1e-9 * max(1.0, true)
        assert all(leaf.bound >= -1e-12 for leaf in fine.leaves)
        assert fine.lower == pytest.approx(true, rel=1e-9)
    return finer


def test_equals_chamber_oracle():
    X, lam = _gaussian(11, 10, 3, zero=0.0)
    P = enumerate_chambers(X).pattern_matrix()
    ref = oracle(X, lam, P, exact_values=True)
    for sign, col in ((1, 0), (-1, 1)):
        res = bab_maximize(X, lam, sign=sign)
        _close(res, max(0.0, ref.values[:, col].max()), tol=1e-8)


_small = st.integers(-3, 3)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hypothesis_small_integer_data(data):
    """Degenerate arrangements: repeated, parallel and zero rows, zero and tied lambdas."""
    d = data.draw(st.integers(2, 4))
    N = data.draw(st.integers(1, 12))
    X = np.array(data.draw(st.lists(st.lists(_small, min_size=d, max_size=d),
                                    min_size=N, max_size=N)), dtype=float) / 2.0
    lam = np.array(data.draw(st.lists(st.integers(-4, 4), min_size=N, max_size=N)), float) / 4
    (sp, sm), _ = _enum_max(X, lam)
    for sign, true in ((1, sp), (-1, sm)):
        res = bab_maximize(X, lam, sign=sign)
        assert res.complete
        _close(res, true)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(2, 12))
def test_hypothesis_gaussian(seed, d, N):
    X, lam = _gaussian(seed, N, d)
    (sp, sm), _ = _enum_max(X, lam)
    _close(bab_maximize(X, lam, sign=1), sp)
    _close(bab_maximize(X, lam, sign=-1), sm)


@pytest.mark.parametrize("seed", range(4))
def test_angle_grid_in_2d(seed):
    X, lam = _gaussian(100 + seed, 9, 2, zero=0.2)
    n = 200_000
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    vals = lam @ np.maximum(X @ np.stack([np.cos(t), np.sin(t)]), 0.0)
    tol = np.abs(lam) @ np.linalg.norm(X, axis=1) * (2 * np.pi / n)
    for sign, g in ((1, max(vals.max(), 0.0)), (-1, max(-vals.min(), 0.0))):
        res = bab_maximize(X, lam, sign=sign)
        assert res.upper >= g - 1e-12 and res.lower >= g - 1e-12
        assert res.upper <= g + tol


def test_rows_outside_the_support_change_nothing():
    X, lam = _gaussian(5, 12, 3, zero=0.4)
    S = np.flatnonzero(lam)
    out = np.flatnonzero(lam == 0)
    assert out.size >= 2
    X2 = X.copy()
    X2[out] = np.random.default_rng(0).standard_normal((out.size, 3)) * 100
    X2[out[0]] = 0.0
    X2[out[1]] = X[S[0]]  # a copy of a support row, outside the support
    for sign in (1, -1):
        a, b = bab_maximize(X, lam, sign=sign), bab_maximize(X2, lam, sign=sign)
        assert (a.upper, a.lower, a.nodes) == (b.upper, b.lower, b.nodes)
        assert np.array_equal(a.u, b.u) and np.array_equal(a.pattern[S], b.pattern[S])
        # dropping the rows altogether, or permuting all rows: the same maximum
        c = bab_maximize(X[S], lam[S], sign=sign)
        assert (c.upper, c.lower) == (a.upper, a.lower)
        perm = np.random.default_rng(1).permutation(12)
        p = bab_maximize(X[perm], lam[perm], sign=sign)
        assert p.upper == pytest.approx(a.upper, abs=1e-12)
        assert p.lower == pytest.approx(a.lower, abs=1e-12)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_anytime_bounds_at_every_budget(seed):
    X, lam = _gaussian(seed, 12, 4, zero=0.0)
    (sp, sm), _ = _enum_max(X, lam)
    for sign, true in ((1, sp), (-1, sm)):
        full = bab_maximize(X, lam, sign=sign)
        assert full.nodes > 5  # a real tree
        seen_budget = False
        for limit in range(1, full.nodes + 2):
            res = bab_maximize(X, lam, sign=sign, node_limit=limit, batch=1)
            assert res.upper >= true - 1e-12 and res.lower <= true + 1e-12
            if not res.complete:
                seen_budget = True
                assert res.status == "budget" and "node_limit" in res.reason
        assert seen_budget
        tl = bab_maximize(X, lam, sign=sign, time_limit=0.0)
        assert tl.status == "budget" and "time_limit" in tl.reason and tl.upper >= true - 1e-12


def test_stop_above_returns_a_genuine_violator():
    X, lam = _gaussian(3, 10, 3, zero=0.0)
    (sp, sm), P = _enum_max(X, lam)
    key = {row.tobytes() for row in P}
    for sign, true in ((1, sp), (-1, sm)):
        thr = 0.8 * true
        res = bab_maximize(X, lam, sign=sign, stop_above=thr)
        assert res.status == "violated"
        # recomputed independently, exactly: sign * lam^T (X u)_+ with the float u, ||u|| <= 1
        u = [Fraction(float(v)) for v in res.u]
        val = sum(sign * Fraction(float(lam[n])) * max(Fraction(0), sum(
            Fraction(float(X[n, j])) * u[j] for j in range(3))) for n in range(10))
        nu = sum(v * v for v in u)
        assert val > Fraction(thr) * max(1, nu)  # still > thr after scaling u into the ball
        assert res.interior and res.pattern.tobytes() in key  # an actual chamber
        D = res.pattern
        A = np.where(D, 1.0, -1.0)[:, None] * X
        assert nnls_slack(A, sign * X.T @ np.where(D, lam, 0.0))[1] > thr


@pytest.mark.parametrize("seed", [2, 4, 5])
def test_collected_violators_are_genuine_distinct_chambers(seed):
    rng = np.random.default_rng(seed)
    X, lam = rng.standard_normal((12, 3)), rng.standard_normal(12)
    key = {row.tobytes() for row in enumerate_chambers(X).pattern_matrix()}
    seen = 0
    for sign in (1, -1):
        thr = 0.6 * bab_maximize(X, lam, sign=sign).upper
        res = bab_maximize(X, lam, sign=sign, stop_above=thr, collect=5, explore=40)
        assert res.status == "violated" and len(res.others) <= 5
        pats = [res.pattern.tobytes()] + [o[0].tobytes() for o in res.others]
        assert len(set(pats)) == len(pats) and set(pats) <= key  # distinct actual chambers
        values = [o[2] for o in res.others]
        assert values == sorted(values, reverse=True) and all(v <= res.lower for v in values)
        for pattern, u, v in res.others:
            assert abs(np.linalg.norm(u) - 1.0) < 1e-12
            assert objective(X, lam, u, sign) == pytest.approx(v, rel=1e-12) and v > thr
            A = np.where(pattern, 1.0, -1.0)[:, None] * X  # the chamber's own maximum
            assert nnls_slack(A, sign * X.T @ np.where(pattern, lam, 0.0))[1] > thr
        seen += len(res.others)
    assert seen >= 1  # these cases do have other violators


def test_explore_continues_the_same_search_and_collect_changes_nothing():
    X, lam = _gaussian(4, 12, 3, zero=0.0)
    thr = 0.6 * bab_maximize(X, lam, sign=-1).upper
    first = bab_maximize(X, lam, sign=-1, stop_above=thr)
    same = bab_maximize(X, lam, sign=-1, stop_above=thr, collect=5)
    more = bab_maximize(X, lam, sign=-1, stop_above=thr, explore=10)
    assert (first.nodes, first.lower, first.upper) == (same.nodes, same.lower, same.upper)
    assert first.others == [] and more.others == []  # nothing collected without `collect`
    assert more.nodes > first.nodes and more.lower > first.lower  # a better violator
    assert more.status == "violated"


@pytest.mark.parametrize("seed", range(8))
def test_a_small_collect_keeps_the_best_of_the_others(seed):
    """``collect`` does not change the search, so ``collect=k`` returns the first ``k`` of
    the others a large ``collect`` returns: the pool keeps the best distinct *chambers*, not
    points whose raw sign vectors differ only on ties (which the final dedup merges)."""
    rng = np.random.default_rng(seed)
    X, lam = rng.standard_normal((14, 3)), rng.standard_normal(14)
    for sign in (1, -1):
        thr = 0.5 * bab_maximize(X, lam, sign=sign).upper
        big = bab_maximize(X, lam, sign=sign, stop_above=thr, collect=1000, explore=60)
        for k in (1, 2, 4):
            res = bab_maximize(X, lam, sign=sign, stop_above=thr, collect=k, explore=60)
            assert [o[0].tobytes() for o in res.others] == [
                o[0].tobytes() for o in big.others[:k]]


def test_explore_stays_within_one_batch_of_its_nodes():
    X, lam = _gaussian(4, 12, 3, zero=0.0)
    thr = 0.6 * bab_maximize(X, lam, sign=-1).upper
    first = bab_maximize(X, lam, sign=-1, stop_above=thr)
    for explore in (1, 3, 10, 40):
        res = bab_maximize(X, lam, sign=-1, stop_above=thr, explore=explore, batch=8)
        assert res.complete or res.nodes - first.nodes >= explore
        assert res.nodes - first.nodes < explore + 2 * 8


@pytest.mark.parametrize("bad", [-1, 1.5, "4", True, None])
def test_bad_collect_or_explore_is_an_input_error(bad):
    X = np.eye(3)
    for name in ("collect", "explore"):
        with pytest.raises(InputError, match=name):
            bab_maximize(X, np.ones(3), stop_above=0.1, **{name: bad})


def test_keep_leaves_false_gives_the_same_search():
    X, lam = _gaussian(9, 10, 3, zero=0.0)
    a = bab_maximize(X, lam)
    b = bab_maximize(X, lam, keep_leaves=False)
    assert (a.upper, a.lower, a.nodes, a.n_leaves) == (b.upper, b.lower, b.nodes, b.n_leaves)
    assert len(a.leaves) == a.n_leaves > 1 and b.leaves == []
    with pytest.raises(InputError, match="keep_leaves"):
        evidence_from_results(X, lam, b, bab_maximize(X, lam, sign=-1))


def test_targets():
    X, lam = _gaussian(8, 10, 3, zero=0.1)
    (sp, _), _ = _enum_max(X, lam)
    hi = bab_maximize(X, lam, prove_below=sp * 1.01)
    assert hi.status == "proved" and hi.upper <= sp * 1.01
    lo = bab_maximize(X, lam, prove_below=sp * 0.9)
    assert lo.status == "exceeded" and lo.lower > sp * 0.9
    both = bab_maximize(X, lam, stop_above=sp * 1.01)
    assert both.status == "proved" and both.complete


def test_sign_propagation_settles_implied_rows():
    # x_1 = 2 x_0: once the sign of x_0^T u is split, x_1's is implied (l >= 0 or h <= 0)
    X = np.array([[1.0, 0.2], [2.0, 0.4], [0.0, 1.0], [-0.5, 1.0]])
    lam = np.array([1.0, 1.0, 1.0, -1.5])
    (sp, _), _ = _enum_max(X, lam)
    res = bab_maximize(X, lam, gap=0.0)
    _close(res, sp)
    assert any(leaf.path for leaf in res.leaves)
    for leaf in res.leaves:
        rows = {n for n, _ in leaf.path}
        assert not {0, 1} <= rows  # never both split
        for a, b in ((0, 1), (1, 0)):
            if a in rows:
                assert b in leaf.settled
                lo, hi = leaf.intervals[b][:2]
                assert min(hi, -lo) <= 1e-12


def _node_max(X, mu, sig, P):
    """Max over the node's cone and the ball of mu^T (Xu)_+ and of each +-x_n^T u, from the
    chambers compatible with sig (their closures cover the cone for Gaussian data)."""
    best, ext = 0.0, np.zeros((len(mu), 2))
    for D in P:
        if any((sig[n] > 0 and not D[n]) or (sig[n] < 0 and D[n]) for n in range(len(mu))):
            continue
        A = np.where(D, 1.0, -1.0)[:, None] * X
        best = max(best, nnls_slack(A, X.T @ np.where(D, mu, 0.0))[1])
        for n in range(len(mu)):
            ext[n, 0] = max(ext[n, 0], nnls_slack(A, X[n])[1])
            ext[n, 1] = max(ext[n, 1], nnls_slack(A, -X[n])[1])
    return best, ext


@pytest.mark.parametrize("seed", range(4))
def test_node_bounds_are_valid_and_exact_at_terminal_nodes(seed):
    from verify.convex.node_bound import _node_bound

    rng = np.random.default_rng(40 + seed)
    X = rng.standard_normal((7, 3))
    mu = rng.standard_normal(7)
    P = enumerate_chambers(X).pattern_matrix()
    norms = np.linalg.norm(X, axis=1)
    for _ in range(12):
        sig = rng.choice([-1, 0, 0, 1], size=7).astype(np.int8)
        if rng.random() < 0.3:  # a terminal node: every positive row fixed
            sig[mu > 0] = rng.choice([-1, 1], size=int((mu > 0).sum()))
        r = _node_bound(sig, {}, X, mu, norms)
        true, ext = _node_max(X, mu, sig, P)
        assert r.bound >= true - 1e-12
        for n, (lo, hi, *_) in r.intervals.items():
            assert hi >= ext[n, 0] - 1e-12 and -lo >= ext[n, 1] - 1e-12
            assert hi == pytest.approx(ext[n, 0], abs=1e-9)  # Lemma 4 is exact
        if r.split < 0:
            assert r.bound == pytest.approx(true, abs=1e-9)
        if r.cand_u is not None:  # a genuine value (the local search may leave the node)
            assert r.cand_val == pytest.approx(objective(X, mu, r.cand_u), abs=1e-12)


def test_executor_gives_identical_results():
    X, lam = _gaussian(13, 12, 4, zero=0.0)
    for sign in (1, -1):
        a = bab_maximize(X, lam, sign=sign, batch=4)
        with ThreadPoolExecutor(2) as ex:
            b = bab_maximize(X, lam, sign=sign, batch=4, executor=ex)
        assert (a.upper, a.lower, a.nodes, a.status) == (b.upper, b.lower, b.nodes, b.status)
        assert np.array_equal(a.u, b.u)
        assert [(lf.path, lf.bound) for lf in a.leaves] == [(lf.path, lf.bound) for lf in b.leaves]


def test_empty_support_and_bad_input():
    X = np.eye(3)
    res = bab_maximize(X, np.zeros(3))
    assert (res.upper, res.lower, res.status, res.nodes) == (0.0, 0.0, "proved", 1)
    ev = bab_evidence(X, np.zeros(3))
    assert ev.s == 0 and ev.evidence == {
        "support": [], "trees": {k: [{"leaf": {"rows": []}}] for k in "+-"}}  # no z: none
    for kw in ({"sign": 2}, {"node_limit": 0}, {"batch": 0}, {"gap": -1.0},
               {"stop_above": float("nan")}):
        with pytest.raises(InputError):
            bab_maximize(X, np.ones(3), **kw)
    with pytest.raises(InputError):
        bab_maximize(X, np.ones(2))
    with pytest.raises(InputError):
        bab_maximize(np.full((3, 3), np.inf), np.ones(3))


# --------------------------------------------------------------------------- exact evidence


def _check_evidence(X, lam, ev, s):
    """Independent exact replay of the format (notes/bab_format.md), plain Fractions."""
    R = Fraction
    S = ev["support"]
    assert S == sorted(set(S)) and all((lam[n] != 0) == (n in S) for n in range(len(lam)))
    x = {n: [R(float(v)) for v in X[n]] for n in S}

    def comb(terms):  # sum of coefficient * vector
        out = [R(0)] * X.shape[1]
        for c, v in terms:
            out = [o + c * vi for o, vi in zip(out, v)]
        return out

    def sq(v):
        return sum(t * t for t in v)

    def zvec(zd, sigma):
        idx, vals = zd["indices"], [R(v) for v in zd["values"]]
        assert idx == sorted(set(idx)) and all(i in sigma for i in idx)
        assert all(v >= 0 for v in vals)
        return [(v * sigma[i], x[i]) for i, v in zip(idx, vals)]

    assert s >= 0
    for key, t in (("+", 1), ("-", -1)):
        mu = {n: t * R(float(lam[n])) for n in S}
        nodes, pos, stack = ev["trees"][key], 0, [()]
        while stack:
            path = stack.pop()
            node = nodes[pos]
            pos += 1
            sigma = dict(path)
            if "split" in node:
                n = node["split"]
                assert n in S and n not in sigma
                stack.append(path + ((n, -1),))
                stack.append(path + ((n, 1),))
                continue
            leaf = node["leaf"]
            listed = [r["row"] for r in leaf["rows"]]
            assert sorted(listed) == sorted(n for n in S if n not in sigma)
            terms = [(mu[n], x[n]) for n, sg in sigma.items() if sg > 0]
            B = R(0)
            for r in leaf["rows"]:
                n = r["row"]
                if "alpha" in r:
                    al = R(r["alpha"])
                    assert mu[n] < 0 and 0 <= al <= 1
                    terms.append((mu[n] * al, x[n]))
                    continue
                a, b, lo, hi = (R(r[k]) for k in ("a", "b", "l", "h"))
                assert mu[n] > 0 and hi >= 0 and -lo >= 0 and lo <= hi
                assert sq(comb([(R(1), x[n])] + zvec(r.get("zh", _NONE), sigma))) <= hi * hi
                assert sq(comb([(R(-1), x[n])] + zvec(r.get("zl", _NONE), sigma))) <= lo * lo
                assert a * lo + b >= max(lo, 0) and a * hi + b >= max(hi, 0)
                terms.append((mu[n] * a, x[n]))
                B += mu[n] * b
            terms += zvec(leaf.get("z", _NONE), sigma)
            assert s - B >= 0 and sq(comb(terms)) <= (s - B) ** 2
        assert pos == len(nodes)


@pytest.mark.parametrize("seed,N,d", [(0, 8, 2), (1, 9, 3), (2, 10, 4), (3, 7, 3)])
def test_evidence_replays_exactly(seed, N, d):
    X, lam = _gaussian(seed, N, d, zero=0.25)
    (sp, sm), _ = _enum_max(X, lam)
    ev = bab_evidence(X, lam)
    assert ev.complete
    _check_evidence(X, lam, ev.evidence, ev.s)
    true = max(sp, sm)
    assert float(ev.s) >= true - 1e-12
    assert float(ev.s) <= max(r.upper for r in ev.results) + 1e-12
    assert float(ev.s) == pytest.approx(true, abs=1e-9)
    assert ev.s.denominator <= 2**64
    # the verifier can fail: s just below the largest leaf bound is rejected
    with pytest.raises(AssertionError):
        _check_evidence(X, lam, ev.evidence, ev.s - Fraction(1, 2**40))
    if len(ev.evidence["trees"]["+"]) > 1:  # a dropped leaf is rejected
        bad = {**ev.evidence, "trees": {**ev.evidence["trees"],
                                        "+": ev.evidence["trees"]["+"][:-1]}}
        with pytest.raises((AssertionError, IndexError)):
            _check_evidence(X, lam, bad, ev.s)


def test_evidence_of_a_target_and_of_an_unfinished_tree():
    X, lam = _gaussian(4, 12, 3, zero=0.0)
    (sp, sm), _ = _enum_max(X, lam)
    target = 1.05 * max(sp, sm)
    ev = bab_evidence(X, lam, prove_below=target)
    _check_evidence(X, lam, ev.evidence, ev.s)
    assert ev.complete and max(sp, sm) - 1e-12 <= float(ev.s) <= target + 1e-12
    plus = bab_maximize(X, lam, node_limit=3, batch=1)
    minus = bab_maximize(X, lam, sign=-1, node_limit=3, batch=1)
    ev2 = evidence_from_results(X, lam, plus, minus)
    assert not ev2.complete
    _check_evidence(X, lam, ev2.evidence, ev2.s)
    assert float(ev2.s) >= max(sp, sm) - 1e-12


def _bvls(M, c0, k):
    from scipy.optimize import lsq_linear

    n = M.shape[1]
    ub = np.concatenate([np.ones(k), np.full(n - k, np.inf)])
    return lsq_linear(M, -c0, bounds=(np.zeros(n), ub), method="bvls", tol=1e-14).x


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 8), st.integers(1, 20), st.integers(0, 20),
       st.floats(0.1, 10.0))
def test_box_least_squares_matches_bvls(seed, d, k, p, scale):
    """The node's bounded least squares (one NNLS with penalty rows, then the exact solve on
    its active set) reaches scipy's bvls optimum, inside the box, on random instances (rank
    deficient ones included: d < k + p)."""
    import verify.convex.node_bound as nb

    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, k + p)) * scale
    c0 = rng.standard_normal(d) * scale * rng.uniform(0.1, 5.0)
    w = nb._box_lsq(M, c0, k)
    assert np.all(w >= 0) and np.all(w[:k] <= 1)
    ref = _bvls(M, c0, k)
    got, best = np.linalg.norm(c0 + M @ w), np.linalg.norm(c0 + M @ ref)
    assert got <= best + 1e-9 * max(1.0, np.linalg.norm(c0))


def test_box_least_squares_falls_back_when_the_active_set_fails(monkeypatch):
    """When the active-set solve of the penalty answer is not optimal (forced here), the exact
    bvls route answers: same optimum."""
    import verify.convex.node_bound as nb

    rng = np.random.default_rng(3)
    M, c0 = rng.standard_normal((5, 9)), 3 * rng.standard_normal(5)
    want = np.linalg.norm(c0 + M @ nb._box_lsq(M, c0, 4))
    monkeypatch.setattr(nb, "_polish", lambda *a: None)
    w = nb._box_lsq(M, c0, 4)
    assert np.all(w >= 0) and np.all(w[:4] <= 1)
    assert abs(np.linalg.norm(c0 + M @ w) - want) <= 1e-9 * max(1.0, want)
