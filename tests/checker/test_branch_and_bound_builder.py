"""The builder's branch-and-bound evidence against the trusted replay: two independent codes.

:func:`verify.convex.branch_and_bound_evidence.bab_evidence` (floats, rounded to a grid, exact
leaf bounds) writes trees that :func:`verify.checker.branch_and_bound.check_branch_and_bound`
(integers only) must accept, with an ``s`` no smaller than a sampled maximum and tight to
the value found, on random data of every small shape, for random ``lam`` with zeros; and an
``s`` just below the proven one must be refused.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.checker.branch_and_bound import check_branch_and_bound
from verify.convex.branch_and_bound_evidence import bab_evidence


def _exact(X: np.ndarray) -> tuple[list[list[int]], int]:
    q = [Fraction(float(v)) for v in X.ravel()]
    den = 1
    for v in q:
        den = math.lcm(den, v.denominator)
    flat = [v.numerator * (den // v.denominator) for v in q]
    d = X.shape[1]
    return [flat[i * d:(i + 1) * d] for i in range(X.shape[0])], -(den.bit_length() - 1)


def _replay(ev, X, lam, s) -> list[tuple[str, str]]:
    XI, xe = _exact(X)
    fails: list[tuple[str, str]] = []
    check_branch_and_bound(ev, XI, xe, [Fraction(float(v)) for v in lam], s,
                           lambda r, d: fails.append((r, d)), "class 0")
    return fails


def _sampled_max(X: np.ndarray, lam: np.ndarray, seed: int) -> float:
    """A lower bound of max_{||u||<=1} |lam^T (Xu)_+| from 200,000 random unit vectors."""
    U = np.random.default_rng(seed).standard_normal((200_000, X.shape[1]))
    U /= np.linalg.norm(U, axis=1)[:, None]
    v = np.maximum(U @ X.T, 0.0) @ lam
    return float(max(v.max(), (-v).max(), 0.0))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4), st.integers(2, 9), st.integers(0, 2**31 - 1))
def test_builder_trees_pass_the_trusted_replay(d, N, seed):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((N, d)), 3)
    lam = rng.standard_normal(N) * (rng.random(N) < 0.7)
    ev = bab_evidence(X, lam)
    assert _replay(ev.evidence, X, lam, ev.s) == []
    found = max(ev.results[0].lower, ev.results[1].lower)  # a value attained by some u
    assert float(ev.s) >= _sampled_max(X, lam, seed) - 1e-12
    assert float(ev.s) <= found + 1e-6 * max(1.0, found)  # the trees are tight
    if ev.s > 0:  # below the proven s by more than the grid: some leaf must fail
        assert _replay(ev.evidence, X, lam, ev.s * (1 - Fraction(1, 10**6)))
