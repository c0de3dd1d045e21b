"""Below the chamber limit: the chambers of X_S (S = supp lam) replace the whole chamber list
as the evidence when they are clearly fewer (:func:`with_support_evidence` in the route)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from verify.convex.bounds import exact_yT_lam
from verify.convex.column_generation import column_generation
from verify.convex.routes import ClassSolve, solve_binary
from verify.convex.support_chambers import SupportChamberEvidence, support_evidence
from verify.convex.support_samples import SUPPORT_SHARE, with_support_evidence
from verify.geometry.chambers import enumerate_chambers
from verify.status import Status

REL = Fraction(1, 10**9)


def teacher(N: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels of a planted bias-free 4-neuron ReLU teacher: small supports."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    W = rng.standard_normal((d, 4))
    y = np.where(np.maximum(X @ W, 0) @ np.array([1.0, -1.0, 1.0, -1.0]) >= 0, 1.0, -1.0)
    return X, y


def test_below_the_limit_the_evidence_is_the_chambers_of_the_support():
    X, y = teacher(60, 3, 1)
    n_full = len(enumerate_chambers(X))
    sol, method, orth, ch = solve_binary(X, y)
    assert method == "column-generation" and not orth and sol.status == Status.OPTIMAL
    # the old route kept the whole list (ch) and had no evidence of its own
    assert ch is None and isinstance(sol.evidence, SupportChamberEvidence)
    ev = sol.evidence
    S = np.flatnonzero(sol.lam)
    assert ev.support == tuple(S.tolist()) and ev.chambers.complete
    assert len(ev.chambers) == len(enumerate_chambers(X[S])) <= n_full // SUPPORT_SHARE
    assert len(ev.chambers) < n_full // 20  # 58 of 3542 here
    assert "support chambers: support" in sol.message and f"{n_full} chambers of X" in sol.message
    # the lower bound is exactly y^T lam / max(1, s) of that evidence ...
    assert sol.lower_bound == exact_yT_lam(y, sol.lam) / max(Fraction(1), ev.s)
    again = support_evidence(X, sol.lam)
    assert again.s == ev.s and len(again.chambers) == len(ev.chambers)
    # ... and agrees with the whole list's route, which is the same solve otherwise
    full, method_f, _, ch_f = solve_binary(X, y, full_chambers=True)
    assert method_f == "column-generation" and ch_f is not None and len(ch_f) == n_full
    assert full.evidence is None
    # never weaker than (1 - 1e-9) of it, never above the network's UB: the two agree within
    # the whole list's own gap (the re-solve on X_S often closes part of it)
    assert (1 - REL) * full.lower_bound <= sol.lower_bound <= full.upper_bound
    assert abs(sol.lower_bound - full.lower_bound) <= REL * full.lower_bound + (
        full.upper_bound - full.lower_bound)
    assert sol.upper_bound == full.upper_bound and sol.value == full.value
    # the solve's JSON says which evidence, under the same method name
    d = ClassSolve(0, 1, y, sol, method, orth, ch).to_dict(X)
    assert d["method"] == "column-generation" and d["verdict"] == "globally-optimal-within"
    assert "chambers of X_S" in d["message"]


def test_rank_4_support_evidence_agrees_with_the_whole_list():
    X, y = teacher(40, 4, 3)
    ch = enumerate_chambers(X)
    full = column_generation(X, y, chambers=ch)
    sup = with_support_evidence(X, y, full, ch)
    assert sup is not None and len(sup.evidence.chambers) * SUPPORT_SHARE <= len(ch)
    assert (1 - REL) * full.lower_bound <= sup.lower_bound <= full.upper_bound
    assert sup.upper_bound == full.upper_bound
    assert np.all(sup.lam * y >= 0)  # sign-projected, and zero off its support
    assert set(np.flatnonzero(sup.lam).tolist()) == set(sup.evidence.support)


def test_the_whole_list_is_kept_when_the_support_chambers_are_not_fewer():
    # random labels: most samples are in the support (602 of 872 chambers, more than half)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 3))
    y = np.sign(np.random.default_rng(7).standard_normal(30))
    sol, method, _, ch = solve_binary(X, y)
    assert method == "column-generation" and ch is not None and ch.complete
    assert sol.evidence is None and len(ch) == len(enumerate_chambers(X))
    assert "chambers of X_S" not in sol.message
    S = np.flatnonzero(np.abs(sol.lam) > 1e-9 * np.abs(sol.lam).max())
    assert len(enumerate_chambers(X[S])) * SUPPORT_SHARE > len(ch)


def test_a_weaker_support_bound_keeps_the_whole_list():
    X, y = teacher(60, 3, 1)
    ch = enumerate_chambers(X)
    full = column_generation(X, y, chambers=ch)
    assert with_support_evidence(X, y, full, ch) is not None
    # pretend the whole list proved more than the support evidence can: it stays
    better = dataclasses.replace(full, lower_bound=full.lower_bound * (1 + 10 * REL))
    assert with_support_evidence(X, y, better, ch) is None
    # nothing to swap on an unconverged solve
    assert with_support_evidence(X, y, dataclasses.replace(full, status=Status.RESTRICTED),
                                 ch) is None


def test_many_chambers_in_low_rank_try_a_working_set_of_samples_first(monkeypatch):
    import verify.convex.routes as routes

    X, y = teacher(150, 3, 8)
    ch = enumerate_chambers(X)
    full, _, _, ch_f = solve_binary(X, y, full_chambers=True)
    assert ch_f is not None and len(ch_f) == len(ch) > 20_000
    # the default threshold is above these 22,000 chambers: the whole list is solved ...
    assert len(ch) <= routes.SAMPLES_BELOW
    monkeypatch.setattr(routes, "SAMPLES_BELOW", 10_000)
    sol, method, _, ch_s = solve_binary(X, y)
    # ... below it, the working set of samples: no whole list enumerated into the solve
    assert method == "column-generation" and ch_s is None and sol.status == Status.OPTIMAL
    assert "working set of" in sol.message and f"{len(ch)} chambers (proven" in sol.message
    ev = sol.evidence
    assert isinstance(ev, SupportChamberEvidence) and len(ev.chambers) * 20 < len(ch)
    # same P*: the bounds of the two routes overlap, each interval within 1e-6 of P*
    assert sol.lower_bound <= full.upper_bound and full.lower_bound <= sol.upper_bound
    assert abs(sol.value - full.value) <= 1e-6 * full.value
    # a separate solve: globally optimal within 1e-6, its LB not tied to the whole list's
    # (here 1e-8 below it: s = 1 + 1e-8 on the working set's final lam)
    gap = (sol.upper_bound - sol.lower_bound) / sol.upper_bound
    assert 0 <= gap <= Fraction(1, 10**6)


def test_a_large_support_gives_up_the_working_set_for_the_whole_list(monkeypatch):
    import verify.convex.routes as routes

    rng = np.random.default_rng(1)
    X = rng.standard_normal((140, 3))
    y = np.sign(np.random.default_rng(2).standard_normal(140))  # most samples in the support
    monkeypatch.setattr(routes, "SAMPLES_BELOW", 10_000)
    calls = []
    real = routes.column_generation
    monkeypatch.setattr(routes, "column_generation",
                        lambda *a, **k: calls.append(len(k["chambers"])) or real(*a, **k))
    sol, method, _, ch = solve_binary(X, y)
    assert method == "column-generation" and sol.status == Status.OPTIMAL
    n = len(enumerate_chambers(X))
    assert calls == [n] and n > 10_000  # the whole list was solved after the working set
    assert "working set of" not in sol.message


def test_the_re_solve_on_the_support_when_the_dropped_entries_cost_too_much():
    from verify.convex.column_generation_bab import exact_support

    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    y = np.sign(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 + 0.2 * rng.standard_normal(60))
    ch = enumerate_chambers(X)
    full = column_generation(X, y, chambers=ch)
    lam = exact_support(y, full.lam)
    ev = support_evidence(X, lam)
    projected = exact_yT_lam(y, lam) / max(Fraction(1), ev.s)
    assert projected < (1 - REL) * full.lower_bound  # here the projection alone loses 5e-9
    sup = with_support_evidence(X, y, full, ch)
    assert sup is not None and not np.array_equal(sup.lam, lam)  # the optimum of (X_S, y_S)
    assert (1 - REL) * full.lower_bound <= sup.lower_bound <= full.upper_bound
    assert sup.lower_bound == exact_yT_lam(y, sup.lam) / max(Fraction(1), sup.evidence.s)
    assert set(np.flatnonzero(sup.lam).tolist()) == set(sup.evidence.support)
    assert set(sup.evidence.support) <= set(np.flatnonzero(lam).tolist())
