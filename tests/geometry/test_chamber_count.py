"""Budgets of the exact chamber count (issue 10 item 9): Zaslavsky's count stops at its
budget with EnumerationLimitError (never a guess); within it, the same count as always."""

from __future__ import annotations

import numpy as np
import pytest

from verify.errors import EnumerationLimitError
from verify.geometry.chamber_count import approx_int, count_chambers, cover_bound
from verify.geometry.chambers import enumerate_chambers


def _decimal_rank4(n=14, seed=0):
    # one-decimal data from few values: many exactly dependent 4-subsets (not in general
    # position), so the count is Zaslavsky's
    rng = np.random.default_rng(seed)
    return rng.integers(1, 6, (n, 4)) / 10


def test_zaslavsky_budget_stops_with_the_reason():
    X = _decimal_rank4()
    count, proof = count_chambers(X)
    assert proof["method"] == "zaslavsky" and count < cover_bound(14, 4)
    with pytest.raises(EnumerationLimitError, match="stopped after 20 flat closures") as exc:
        count_chambers(X, budget=20)
    assert exc.value.count is None
    assert count_chambers(X, budget=10**6) == (count, proof)
    # enumerate_chambers gives its budget to the count, and lists the chambers within it
    ch = enumerate_chambers(X, limit=10_000)
    assert ch.complete and ch.count == count == len(ch)


def test_enumerate_chambers_passes_a_budget_that_grows_with_the_limit(monkeypatch):
    from verify.geometry import chambers

    seen = []
    real = chambers.count_chambers

    def spy(X, *, hyperplanes=None, budget=None):
        seen.append(budget)
        return real(X, hyperplanes=hyperplanes, budget=budget)

    monkeypatch.setattr(chambers, "count_chambers", spy)
    X = _decimal_rank4()
    enumerate_chambers(X, limit=10_000)
    enumerate_chambers(X, limit=1_000_000)
    enumerate_chambers(X)
    assert seen == [50_000, 250_000, None]


def test_approx_int_handles_any_size():
    assert approx_int(10**15 - 1) == str(10**15 - 1)
    assert approx_int(10**15) == "about 1e+15"
    assert approx_int(-3 * 10**20) == "about -3e+20"
    assert approx_int(99999 * 10**9000) == "about 1e+9005"
    # more digits than Python converts to text by default (4,300): 17^5000 = 10^6152.2...
    assert approx_int(17**5000) == f"about {10 ** (5000 * np.log10(17) % 1):.3g}e+6152"
