"""The support-chamber oracle (verify/convex/support_chambers.py) against the branch-and-bound
oracle and against Lemma 4 on every chamber of the *full* arrangement of ``X``; column
generation with it against the enumeration route; its exact evidence."""

from __future__ import annotations

import numpy as np
import pytest
from convex_cases import quadratic_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.convex.branch_and_bound import bab_maximize, objective
from verify.convex.branch_and_bound_evidence import BabEvidence
from verify.convex.chamber_oracle import nnls_slack
from verify.convex.column_generation import column_generation
from verify.convex.column_generation_bab import solve_branch_and_bound
from verify.convex.routes import solve_binary
from verify.convex.support_chambers import (
    SupportChamberEvidence,
    SupportOracle,
    SupportResult,
    support_chambers,
    support_evidence,
    support_maximize,
)
from verify.errors import EnumerationLimitError, InputError
from verify.geometry.chambers import enumerate_chambers


def _full_max(X, lam):
    """``max_j max_{K_j, ball} +-lam^T D_j X u`` over the chambers of the full ``X`` (Lemma 4
    by NNLS with every row of ``X``, the residual norm computed directly)."""
    best = [0.0, 0.0]
    for D in enumerate_chambers(X).pattern_matrix():
        A = np.where(D, 1.0, -1.0)[:, None] * X
        v = X.T @ np.where(D, lam, 0.0)
        for i, s in enumerate((1, -1)):
            best[i] = max(best[i], nnls_slack(A, s * v)[1])
    return best


def _pattern_value(X, lam, pattern, sign):
    """Lemma-4 value of the full pattern ``pattern`` for ``sign * lam`` (all rows of ``X``)."""
    A = np.where(pattern, 1.0, -1.0)[:, None] * X
    return nnls_slack(A, sign * (X.T @ np.where(pattern, lam, 0.0)))[1]


def _agree(X, lam, tol=1e-9):
    plus, minus = support_maximize(X, lam)
    full = _full_max(X, lam)
    for res, sign, true in ((plus, 1, full[0]), (minus, -1, full[1])):
        t = tol * max(1.0, true)
        bab = bab_maximize(X, lam, sign=sign)
        assert isinstance(res, SupportResult) and res.status == "proved"
        assert res.upper == pytest.approx(true, abs=t)
        assert bab.upper == pytest.approx(true, abs=t) and bab.lower == pytest.approx(true, abs=t)
        # the maximiser attains it, and its full pattern's chamber of X is at least as high
        assert res.lower == pytest.approx(true, abs=t)
        assert res.value == pytest.approx(objective(X, lam, res.u, sign), abs=1e-12)
        assert abs(np.linalg.norm(res.u) - 1) < 1e-12
        assert res.pattern.shape == (X.shape[0],)
        if res.interior:
            assert _pattern_value(X, lam, res.pattern, sign) >= res.lower - t
    return plus, minus


@pytest.mark.parametrize("seed,N,d,keep", [(0, 12, 2, 6), (1, 14, 3, 7), (2, 18, 3, 9),
                                           (3, 12, 4, 8), (4, 10, 5, 7), (5, 16, 3, 16)])
def test_gaussian_maximum_equals_branch_and_bound_and_full_enumeration(seed, N, d, keep):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    lam = rng.standard_normal(N)
    lam[rng.permutation(N)[keep:]] = 0.0  # a support of `keep` rows
    plus, minus = _agree(X, lam)
    assert plus.n_chambers == len(enumerate_chambers(X[lam != 0]))


def test_degenerate_data():
    # repeated, negatively parallel and zero-lambda rows; rank 2 inside R^3
    base = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 0.0, 0.0],
                     [-1.0, 0.0, 0.0], [1.0, -2.0, 0.0], [0.5, 0.5, 0.0], [3.0, 1.0, 0.0]])
    lam = np.array([1.0, -0.5, 0.7, 0.3, -0.4, 0.0, -1.2, 0.0])
    _agree(base, lam)
    # rank 3 with several rows on one plane and duplicated rows
    X = np.vstack([base, [[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]])
    _agree(X, np.concatenate([lam, [0.9, -1.1, 0.4]]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 4), st.integers(3, 9), st.integers(0, 10**6), st.booleans())
def test_hypothesis_data(d, N, seed, small_ints):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(N, d)).astype(float) if small_ints else \
        rng.standard_normal((N, d))
    X[~X.any(axis=1)] = 1.0  # no zero rows (infeasible data are refused upstream anyway)
    lam = rng.integers(-3, 4, size=N).astype(float) / 2
    if not lam.any():
        lam[0] = 1.0
    _agree(X, lam)


def test_targets_and_violators():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20, 3))
    lam = np.where(rng.random(20) < 0.5, 0.0, rng.standard_normal(20))
    true = _full_max(X, lam)
    lo = 0.5 * min(true)
    plus, minus = support_maximize(X, lam, stop_above=lo)
    assert plus.status == minus.status == "violated"
    for res, sign in ((plus, 1), (minus, -1)):
        assert res.lower > lo and _pattern_value(X, lam, res.pattern, sign) > lo
    hi = 1.01 * max(true)
    plus, minus = support_maximize(X, lam, prove_below=hi)
    assert plus.status == minus.status == "proved" and max(plus.upper, minus.upper) <= hi
    mid = 0.5 * (true[0] + true[1]) if abs(true[0] - true[1]) > 1e-6 else None
    if mid is not None:
        plus, minus = support_maximize(X, lam, prove_below=mid)
        assert {plus.status, minus.status} == {"proved", "exceeded"}


def test_limit_and_fallback_to_branch_and_bound():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    lam = rng.standard_normal(30)
    lam[10:] = 0.0
    n = len(enumerate_chambers(X[:10]))
    assert len(support_chambers(X, lam, limit=n)) == n
    assert support_chambers(X, lam, limit=n - 1) is None
    with pytest.raises(EnumerationLimitError):
        support_maximize(X, lam, limit=n - 1)
    assert support_chambers(X, np.zeros(30)) is None
    so = SupportOracle(X, oracle_limit=n - 1, evidence_limit=n)
    plus, minus = so.maximize(lam, prove_below=100.0)
    assert plus.__class__.__name__ == "BabResult" and plus.status == "proved"
    assert isinstance(so.evidence(lam, plus, minus), SupportChamberEvidence)
    so0 = SupportOracle(X, oracle_limit=0, evidence_limit=0)
    p0, m0 = so0.maximize(lam)
    assert isinstance(so0.evidence(lam, p0, m0), BabEvidence)
    with pytest.raises(InputError):
        SupportOracle(X, oracle_limit=-1)
    with pytest.raises(InputError):
        support_chambers(X, lam, limit=0)


def test_evidence_s_bounds_the_maximum():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((25, 3))
    lam = 3.0 * rng.standard_normal(25)
    lam[rng.permutation(25)[12:]] = 0.0
    ev = support_evidence(X, lam)
    true = max(_full_max(X, lam))
    assert true > 1  # the exact branch of certified_dual_norm
    assert true - 1e-12 <= float(ev.s) <= true * (1 + 1e-12)
    assert ev.support == tuple(np.flatnonzero(lam).tolist())
    assert ev.chambers.complete and ev.chambers.n_samples == 12


_problem = quadratic_problem


@pytest.mark.parametrize("seed,N,d", [(1, 14, 3), (2, 24, 3), (3, 12, 4)])
def test_column_generation_with_support_chambers_same_optimum(seed, N, d):
    X, y = _problem(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    sol = solve_branch_and_bound(X, y, support_limit=100_000)
    assert sol.method == "branch-and-bound" and sol.status.value == "optimal"
    assert isinstance(sol.evidence, SupportChamberEvidence)
    assert "support chambers" in sol.message and "branch and bound: support" not in sol.message
    assert abs(sol.value - ref.value) <= 1e-6 * ref.value
    assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
    assert float(sol.upper_bound - sol.lower_bound) <= 1e-6 * ref.value
    assert list(sol.evidence.support) == np.flatnonzero(sol.lam).tolist()
    # the same problem with the trees only
    bab = solve_branch_and_bound(X, y, support_limit=0)
    assert isinstance(bab.evidence, BabEvidence)
    assert abs(bab.value - sol.value) <= 1e-6 * ref.value


def test_route_beyond_the_limit_ends_with_support_chambers():
    X, y = _problem(2, 24, 3)
    full = len(enumerate_chambers(X))
    sol, method, _, ch = solve_binary(X, y, limit=full - 1)
    assert method == "branch-and-bound" and ch is None
    assert isinstance(sol.evidence, SupportChamberEvidence)
    assert len(sol.evidence.chambers) <= full - 1
    assert f"beyond --limit {full - 1}" in sol.message


@pytest.mark.parametrize("seed,N,d", [(4, 60, 3), (5, 50, 2)])
def test_working_set_of_samples_same_optimum(seed, N, d):
    from verify.convex.support_samples import solve_by_samples

    X, y = _problem(seed, N, d)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    sol = solve_by_samples(X, y, first=20, grow=10)
    assert sol is not None and sol.status.value == "optimal"
    assert abs(sol.value - ref.value) <= 1e-6 * ref.value
    assert sol.lower_bound <= ref.upper_bound and ref.lower_bound <= sol.upper_bound
    assert float(sol.upper_bound - sol.lower_bound) <= 1e-6 * ref.value
    assert isinstance(sol.evidence, SupportChamberEvidence)
    assert list(sol.evidence.support) == np.flatnonzero(sol.lam).tolist()
    # a working set whose chambers do not fit, or one that would be all the data: no answer
    assert solve_by_samples(X, y, first=20, grow=10, limit=10) is None
    assert solve_by_samples(X, y, first=N) is None


def test_working_set_solver_failure_falls_back(monkeypatch):
    # a Clarabel NumericalError on a subproblem (seen on rank-3 N=1000 data) must not end the
    # route with exit 2: the caller falls back to branch and bound
    import verify.convex.support_samples as ss
    from verify.errors import SolverError

    def fail(*a, **k):
        raise SolverError("CLARABEL failed: NumericalError")

    monkeypatch.setattr(ss, "column_generation", fail)
    X, y = _problem(4, 60, 3)
    assert ss.solve_by_samples(X, y, first=20) is None


def test_restricted_program_failure_keeps_the_last_answer(monkeypatch):
    # rank-3 N=1000 Gaussian data: Clarabel's NumericalError in a later restricted program
    # ended `verify solve` with exit 2; the route keeps the last answer and its evidence
    import verify.convex.column_generation_bab as cgb
    from verify.errors import SolverError

    orig, calls = cgb._restricted_with_cuts, []

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise SolverError("CLARABEL failed: NumericalError")
        return orig(*a, **k)

    monkeypatch.setattr(cgb, "_restricted_with_cuts", flaky)
    X, y = _problem(2, 24, 3)
    ref = column_generation(X, y, chambers=enumerate_chambers(X))
    sol = cgb.solve_branch_and_bound(X, y)
    assert len(calls) == 2 and "restricted program failed" in sol.message
    assert sol.lower_bound is not None and 0 < sol.lower_bound <= ref.upper_bound
    assert sol.upper_bound is None or sol.upper_bound >= ref.lower_bound
