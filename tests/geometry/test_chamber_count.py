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
    assert seen == [200_000, 2_000_000, None]


def test_approx_int_handles_any_size():
    assert approx_int(10**15 - 1) == str(10**15 - 1)
    assert approx_int(10**15) == "about 1e+15"
    assert approx_int(-3 * 10**20) == "about -3e+20"
    assert approx_int(99999 * 10**9000) == "about 1e+9005"
    # more digits than Python converts to text by default (4,300): 17^5000 = 10^6152.2...
    assert approx_int(17**5000) == f"about {10 ** (5000 * np.log10(17) % 1):.3g}e+6152"


def _zaslavsky_one_closure_per_hyperplane(hp):
    """The previous implementation (one exact null space per flat and hyperplane), kept as
    the reference of the quotient-map version."""
    from verify.geometry.chamber_count import _nullspace

    r, m = hp.rank, hp.m
    Hm = np.array([list(v) for v in hp.ints], dtype=object).reshape(m, r)
    ids = {frozenset(): 0}
    sets, basis, rank_of, below, levels = [frozenset()], [[]], [0], [set()], [[0]]
    for k in range(r):
        nxt = []
        for f in levels[k]:
            covered = set(sets[f])
            for h in range(m):
                if h in covered:
                    continue
                B = basis[f] + [hp.ints[h]]
                K = _nullspace(B, r)
                if K:
                    prod = Hm.dot(np.array(K, dtype=object).T)
                    members = frozenset(np.flatnonzero(np.all(prod == 0, axis=1)).tolist())
                else:
                    members = frozenset(range(m))
                covered |= members
                gid = ids.get(members)
                if gid is None:
                    gid = ids[members] = len(sets)
                    sets.append(members)
                    basis.append(B)
                    rank_of.append(k + 1)
                    below.append(set())
                    nxt.append(gid)
                below[gid].add(f)
                below[gid] |= below[f]
        levels.append(nxt)
    mu = [0] * len(sets)
    mu[0] = 1
    for k in range(1, r + 1):
        for f in levels[k]:
            mu[f] = -sum(mu[g] for g in below[f])
    return sum(abs(v) for v in mu), [len(v) for v in levels], sorted(map(sorted, sets))


@pytest.mark.parametrize("seed", range(6))
def test_quotient_zaslavsky_equals_the_reference_and_the_face_enumeration(seed):
    from verify.geometry.chamber_count import _zaslavsky, reduce_hyperplanes
    from verify.geometry.faces import enumerate_faces

    rng = np.random.default_rng(seed)
    r = (4, 5, 4)[seed % 3]
    X = rng.integers(-2, 3, (11, r)).astype(float)  # many coincident flats
    hp = reduce_hyperplanes(X)
    total, proof = _zaslavsky(hp)
    ref_total, ref_levels, ref_sets = _zaslavsky_one_closure_per_hyperplane(hp)
    assert total == ref_total and proof["flats_by_rank"] == ref_levels
    if "flats" in proof:
        assert sorted(f[1] for f in proof["flats"]) == ref_sets
    # an independent exact method: the chambers of the face enumeration
    assert total == enumerate_faces(X).f_vector[-1]
