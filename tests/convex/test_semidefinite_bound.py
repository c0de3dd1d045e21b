"""The semidefinite node bound: valid against enumeration of the node's chambers and a 2-D
angle grid, never worse than the truth, and a search that uses it still finds the enumeration
maximum (both signs), with identical results on an executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.convex.branch_and_bound import bab_maximize
from verify.convex.chamber_oracle import nnls_slack
from verify.convex.node_bound import SdpPolicy, _node_bound
from verify.convex.semidefinite_bound import multiplier_matrix, semidefinite_bound
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers

#: Try the semidefinite bound on every node below the root, whatever its chord bound.
EVERYWHERE = SdpPolicy(depth=1, ratio=1e9)


def _node_max(X, mu, sig, P):
    """Max over the node's cone and the ball of mu^T (Xu)_+ (Lemma 4 on each chamber whose
    pattern agrees with sig; their closures cover the cone for Gaussian data)."""
    best = 0.0
    for D in P:
        if any((sig[n] > 0 and not D[n]) or (sig[n] < 0 and D[n]) for n in range(len(mu))):
            continue
        A = np.where(D, 1.0, -1.0)[:, None] * X
        best = max(best, nnls_slack(A, X.T @ np.where(D, mu, 0.0))[1])
    return best


def _enum_max(X, lam):
    P = enumerate_chambers(X).pattern_matrix()
    return [_node_max(X, s * lam, np.zeros(len(lam), dtype=np.int8), P) for s in (1, -1)]


@pytest.mark.parametrize("seed", range(6))
def test_node_bound_is_valid_and_its_multipliers_give_it(seed):
    rng = np.random.default_rng(300 + seed)
    N, d = 8, 2 + seed % 3
    X = rng.standard_normal((N, d))
    mu = rng.standard_normal(N)
    P = enumerate_chambers(X).pattern_matrix()
    norms = np.linalg.norm(X, axis=1)
    tried = 0
    for _ in range(20):
        sig = rng.choice([-1, 0, 0, 0, 1], size=N).astype(np.int8)
        chord = _node_bound(sig, {}, X, mu, norms)
        if chord.split < 0:
            continue
        sd = semidefinite_bound(sig, X, mu, chord)
        assert sd is not None
        tried += 1
        true = _node_max(X, mu, sig, P)
        assert sd.bound >= true - 1e-9
        # the bound is tau + rho R with rho I - M psd, recomputed here
        M = multiplier_matrix(sig, X, mu, sd)
        assert np.linalg.eigvalsh(sd.rho * np.eye(len(M)) - M)[0] >= -1e-12
        H = np.array([max(chord.intervals[int(q)][1], 0.0) for q in sd.lifted])
        assert sd.bound == pytest.approx(sd.tau + sd.rho * (2 + H @ H), abs=1e-12)
        assert min(sd.t.min(initial=0), sd.tx.min(initial=0), sd.cone.min(initial=0),
                   sd.at.min(initial=0), sd.atx.min(initial=0), sd.ball) >= 0
        assert all(0 <= a <= 1 for a in sd.alpha.values())
    assert tried >= 3


def test_node_bound_on_a_2d_angle_grid():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((9, 2))
    mu = rng.standard_normal(9)
    th = np.linspace(0, 2 * np.pi, 20001)
    U = np.stack([np.cos(th), np.sin(th)])
    vals = mu @ np.maximum(X @ U, 0)
    norms = np.linalg.norm(X, axis=1)
    for n in range(9):
        for side in (1, -1):
            sig = np.zeros(9, dtype=np.int8)
            sig[n] = side
            inside = side * (X[n] @ U) >= 0
            grid = max(0.0, vals[inside].max())
            chord = _node_bound(sig, {}, X, mu, norms)
            if chord.split < 0:
                continue
            sd = semidefinite_bound(sig, X, mu, chord)
            assert sd.bound >= grid - 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_search_with_the_sdp_bound_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    N, d = 7 + seed, 2 + seed % 3
    X = rng.standard_normal((N, d))
    lam = rng.standard_normal(N)
    lam[rng.random(N) < 0.2] = 0.0
    for sign, true in zip((1, -1), _enum_max(X, lam)):
        res = bab_maximize(X, lam, sign=sign, sdp=EVERYWHERE)
        assert res.complete and res.status == "proved"
        t = 1e-9 * max(1.0, true)
        assert res.lower == pytest.approx(true, abs=t)
        assert res.upper >= true - t
        assert res.upper == pytest.approx(true, abs=t)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(2, 3), st.integers(4, 8))
def test_hypothesis_with_a_target(seed, d, N):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    lam = rng.standard_normal(N)
    true = _enum_max(X, lam)
    for sign, tv in zip((1, -1), true):
        target = 0.9 * tv + 0.1  # sometimes above the maximum, sometimes below
        res = bab_maximize(X, lam, sign=sign, prove_below=target, sdp=EVERYWHERE)
        assert res.lower <= tv + 1e-9
        assert res.upper >= tv - 1e-9
        if res.status == "proved":
            assert tv <= target + 1e-9
        elif res.status == "exceeded":
            assert tv > target - 1e-9


def test_the_policy_decides_where_it_is_tried():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    lam = 0.3 * rng.standard_normal(30)
    plain = bab_maximize(X, lam, sign=1)
    never = bab_maximize(X, lam, sign=1, sdp=SdpPolicy(depth=100))
    assert [(lf.path, lf.bound) for lf in plain.leaves] == [
        (lf.path, lf.bound) for lf in never.leaves]
    assert not any(lf.sdp is not None for lf in never.leaves)
    some = bab_maximize(X, lam, sign=1, sdp=EVERYWHERE)
    assert any(lf.sdp is not None for lf in some.leaves)
    assert some.nodes <= plain.nodes
    for lf in some.leaves:
        if lf.sdp is not None:  # sample indices, the lifted rows free with lam > 0
            on_path = {n for n, _ in lf.path}
            assert set(lf.sdp.lifted.tolist()).isdisjoint(on_path)
            assert all(lam[n] > 0 for n in lf.sdp.lifted.tolist())
            assert sorted(lf.sdp.P.tolist()) == sorted(on_path)
    with pytest.raises(InputError):
        bab_maximize(X, lam, sdp="yes")


def test_executor_gives_identical_results_with_the_sdp_bound():
    rng = np.random.default_rng(13)
    X = rng.standard_normal((11, 3))
    lam = rng.standard_normal(11)
    for sign in (1, -1):
        a = bab_maximize(X, lam, sign=sign, batch=4, sdp=EVERYWHERE)
        with ThreadPoolExecutor(2) as ex:
            b = bab_maximize(X, lam, sign=sign, batch=4, executor=ex, sdp=EVERYWHERE)
        assert (a.upper, a.lower, a.nodes) == (b.upper, b.lower, b.nodes)
        assert [(lf.path, lf.bound) for lf in a.leaves] == [(lf.path, lf.bound) for lf in b.leaves]


def _replay(ev, X, lam, s):
    """The trusted checker's replay of the evidence: the failed rules."""
    from fractions import Fraction

    from verify.checker.branch_and_bound import check_branch_and_bound
    from verify.convex.bounds import int_matrix

    Xi, xe = int_matrix(X)
    XI = [[int(v) for v in row] for row in Xi]
    fails = []
    check_branch_and_bound(ev, XI, xe, [Fraction(float(v)) for v in lam], s,
                           lambda r, d: fails.append((r, d)), "class 0")
    return fails


def _sdp_leaves(ev):
    return [n["leaf"] for t in ev["trees"].values() for n in t
            if "leaf" in n and "sdp" in n["leaf"]]


@pytest.mark.parametrize("seed", range(4))
def test_evidence_with_sdp_leaves_passes_the_trusted_checker(seed):
    from fractions import Fraction

    from verify.convex.branch_and_bound_evidence import evidence_from_results

    rng = np.random.default_rng(60 + seed)
    N, d = 12 + 2 * seed, 3
    X = rng.standard_normal((N, d))
    lam = 0.3 * rng.standard_normal(N)
    true = max(_enum_max(X, lam))
    plus = bab_maximize(X, lam, sign=1, sdp=EVERYWHERE)
    minus = bab_maximize(X, lam, sign=-1, sdp=EVERYWHERE)
    ev = evidence_from_results(X, lam, plus, minus)
    assert _sdp_leaves(ev.evidence), "no sdp leaf written"
    assert _replay(ev.evidence, X, lam, ev.s) == []
    assert float(ev.s) >= true - 1e-12
    assert float(ev.s) <= max(plus.upper, minus.upper) + 1e-6
    # the replay can fail: s below the largest leaf bound is rejected
    assert _replay(ev.evidence, X, lam, ev.s - Fraction(1, 2**20))


def test_tampered_sdp_leaves_are_rejected_with_the_rule_named():
    import copy

    from verify.convex.branch_and_bound_evidence import evidence_from_results

    rng = np.random.default_rng(61)
    X = rng.standard_normal((14, 3))
    lam = 0.3 * rng.standard_normal(14)
    plus = bab_maximize(X, lam, sign=1, sdp=EVERYWHERE)
    minus = bab_maximize(X, lam, sign=-1, sdp=EVERYWHERE)
    ev = evidence_from_results(X, lam, plus, minus)
    leaf = _sdp_leaves(ev.evidence)[0]

    def tampered(fn):
        bad = copy.deepcopy(ev.evidence)
        target = _sdp_leaves(bad)[0]
        fn(target)
        return {r for r, _ in _replay(bad, X, lam, ev.s)}

    def set_rho(lf, v):
        lf["sdp"]["rho"] = v

    def negate_first(key):
        def fn(lf):
            vals = lf["sdp"][key]
            if vals and isinstance(vals[0], list):
                vals[0][0] = "-1/3"
            else:
                vals[0] = "-1/3"
        return fn

    assert "bab-sdp" in tampered(lambda lf: set_rho(lf, "0"))  # rho too small
    assert "bab-sdp" in tampered(lambda lf: set_rho(lf, "-1"))
    assert "bab-sdp" in tampered(lambda lf: lf["sdp"].update(tau=str(ev.s + 1)))
    for key in ("t", "tx"):
        if leaf["sdp"].get(key):
            assert "bab-sdp" in tampered(negate_first(key))
    lifted = [r for r in leaf["rows"] if "h" in r]
    if lifted:
        def shrink_h(lf):
            r = next(r for r in lf["rows"] if "h" in r)
            r["h"] = "0"
        assert tampered(shrink_h) & {"bab-interval", "bab-sdp"}

        def add_chord(lf):
            r = next(r for r in lf["rows"] if "h" in r)
            r["a"] = "1"
        assert "unchecked-claim" in tampered(add_chord) or "bab-rows" in tampered(add_chord)
    assert "unchecked-claim" in tampered(lambda lf: lf.update(z={"indices": [], "values": []}))


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_branching_on_the_violation_finds_the_enumeration_maximum(seed):
    """``SdpPolicy(branch="violation")``: nodes with a semidefinite solution are split on the
    row the relaxation violates most; the trees still cover the ball (the maximum of
    enumeration is found and bounded, both signs) and the option changes the splits."""
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((9, 3))
    lam = rng.standard_normal(9)
    true = _enum_max(X, lam)
    differs = False
    for sign, tv in zip((1, -1), true):
        plain = bab_maximize(X, lam, sign=sign, gap=1e-9, sdp=EVERYWHERE)
        viol = bab_maximize(X, lam, sign=sign, gap=1e-9,
                            sdp=replace(EVERYWHERE, branch="violation"))
        for r in (plain, viol):
            assert r.status in ("optimal", "proved") and r.upper - r.lower <= 1e-6
            assert abs(r.lower - tv) <= 1e-6 and r.upper >= tv - 1e-9
        differs |= {lf.path for lf in plain.leaves} != {lf.path for lf in viol.leaves}
    assert differs
    with pytest.raises(InputError, match="sdp.branch"):
        bab_maximize(X, lam, sign=1, sdp=replace(EVERYWHERE, branch="best"))


def test_a_time_limited_bound_is_still_valid(monkeypatch):
    """A batch of solves that started just before a deadline ran past it (SCS ran to its
    tolerance): ``seconds`` is now SCS's time limit.  The multipliers it stops with still give
    a valid bound (``rho`` pays for them), and no time left means no solve."""
    import scs

    asked = []
    real = scs.SCS

    class Spy(real):
        def __init__(self, *a, **k):
            asked.append(k.get("time_limit_secs"))
            super().__init__(*a, **k)

    monkeypatch.setattr(scs, "SCS", Spy)
    rng = np.random.default_rng(11)
    X = rng.standard_normal((9, 3))
    mu = rng.standard_normal(9)
    P = enumerate_chambers(X).pattern_matrix()
    norms = np.linalg.norm(X, axis=1)
    sig = np.zeros(9, dtype=np.int8)
    chord = _node_bound(sig, {}, X, mu, norms)
    true = _node_max(X, mu, sig, P)
    full = semidefinite_bound(sig, X, mu, chord)
    short = semidefinite_bound(sig, X, mu, chord, seconds=1e-6)
    assert asked == [None, 1e-6]
    assert short is not None and full is not None
    assert short.bound > full.bound  # SCS did stop early (its bound is weaker, still valid)
    assert short.bound >= true - 1e-9 and full.bound >= true - 1e-9
    assert semidefinite_bound(sig, X, mu, chord, seconds=0.0) is None
    assert semidefinite_bound(sig, X, mu, chord, seconds=-1.0) is None
    assert len(asked) == 2  # neither started SCS


def test_a_search_gives_its_semidefinite_solves_what_is_left_of_its_time(monkeypatch):
    """Every semidefinite solve of a search with a time limit gets the seconds left (at most
    the limit), and none without one."""
    from verify.convex import node_bound

    seen = []
    real = node_bound.semidefinite_bound

    def spy(*a, **k):
        seen.append(a[6] if len(a) > 6 else k.get("seconds"))
        return real(*a, **k)

    monkeypatch.setattr(node_bound, "semidefinite_bound", spy)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, 3))
    lam = rng.standard_normal(10)
    bab_maximize(X, lam, sign=1, sdp=EVERYWHERE)
    assert seen and all(s is None for s in seen)
    seen.clear()
    bab_maximize(X, lam, sign=1, sdp=EVERYWHERE, time_limit=30.0)
    assert seen and all(s is not None and 0 < s <= 30.0 for s in seen)


def test_a_chunk_queued_behind_another_gets_only_what_is_left(monkeypatch, fake_clock):
    """The search splits a batch into two chunks per worker; each chunk counted the batch's
    seconds from its own start, so the one queued behind another got the whole budget again
    (a 2 s search with solves that use 90% of their limit took 3.6 s).  Every solve must get
    at most what is really left of the search's time."""
    from verify.convex import branch_and_bound, node_bound
    from verify.convex import semidefinite_bound as sb

    clock = fake_clock
    for mod in (branch_and_bound, node_bound, sb):
        monkeypatch.setattr(mod, "time", clock)
    limit, start = 2.0, clock.now
    seen = []
    real = node_bound.semidefinite_bound

    def slow(*a, **k):
        seconds = a[6] if len(a) > 6 else k.get("seconds")
        seen.append((seconds, start + limit - clock.now))
        if seconds is not None and seconds > 0:
            clock.now += 0.9 * seconds  # a solve that uses most of its limit
        return real(*a, **k)

    monkeypatch.setattr(node_bound, "semidefinite_bound", slow)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((14, 3))
    lam = rng.standard_normal(14)
    with ThreadPoolExecutor(1) as ex:  # one worker: the batch's second chunk waits
        bab_maximize(X, lam, sign=1, sdp=EVERYWHERE, time_limit=limit, executor=ex)
    assert len(seen) >= 2
    assert all(s is None or s <= left + 1e-9 for s, left in seen), seen
