"""Tests of verify.geometry.chambers / verify.geometry.chamber_count: exact chambers cross-checked
by independent
routes (closed forms, Zaslavsky vs enumeration, fast paths vs the incremental LP path,
random sampling, brute-force angle grids)."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verify.errors import EnumerationLimitError, InputError
from verify.geometry.chamber_count import (
    count_chambers,
    cover_bound,
    exact_ray_order,
    reduce_hyperplanes,
)
from verify.geometry.chambers import Chambers, enumerate_chambers
from verify.geometry.proven_linalg import exact_signs


def _check_witnesses(X: np.ndarray, ch: Chambers) -> None:
    """Every witness is strictly inside its chamber (exact) and gives its pattern: the float
    row, or for the chambers in ``exact_witnesses`` (no float witness found) the exact
    integer point (exact integer products with the exact values of the data)."""
    assert ch.witnesses.shape == (len(ch), X.shape[1])
    outside = [j for j in range(X.shape[1]) if j not in ch.columns]
    assert not np.any(ch.witnesses[:, outside])
    S = exact_signs(X, ch.witnesses)
    XF = [[Fraction(float(v)) for v in x] for x in X]
    for j, u in ch.exact_witnesses.items():
        assert not any(u[c] for c in outside)
        S[j] = [(g > 0) - (g < 0) for g in (sum(a * b for a, b in zip(x, u)) for x in XF)]
    nz = np.any(X != 0, axis=1)
    assert np.all(S[:, nz] != 0)
    np.testing.assert_array_equal(S >= 0, ch.pattern_matrix())
    # canonical order: strictly increasing packed rows (so also distinct)
    rows = [bytes(r) for r in ch.patterns]
    assert rows == sorted(set(rows))


def _pattern_set(ch: Chambers) -> set[bytes]:
    return {bytes(r) for r in ch.patterns}


def _grid(k: int, d: int) -> np.ndarray:
    pts = [p for p in itertools.product(range(-k, k + 1), repeat=d) if any(p)]
    return np.array(pts, dtype=float)


# ----------------------------------------------------------------------------- counts


@pytest.mark.parametrize(("N", "d", "r"), [(7, 1, 1), (30, 2, 2), (25, 3, 3), (9, 4, 4), (8, 5, 5)])
def test_cover_count_equals_found_gaussian(N: int, d: int, r: int) -> None:
    rng = np.random.default_rng(N + d)
    X = rng.standard_normal((N, d))
    ch = enumerate_chambers(X)
    assert ch.rank == r
    assert ch.complete and ch.count == len(ch) == cover_bound(N, r)
    if r >= 3:
        assert ch.count_proof["method"] == "cover"
    _check_witnesses(X, ch)


def test_known_arrangements() -> None:
    # braid arrangement x_i = x_j in R^n: n! chambers (rank n - 1, embedded in R^n)
    for n in (3, 4, 5):
        X = np.array([np.eye(n)[i] - np.eye(n)[j] for i, j in itertools.combinations(range(n), 2)])
        assert count_chambers(X)[0] == math.factorial(n)
    # type B_3 (x_i, x_i +- x_j): 2^3 3! = 48 chambers; coordinate hyperplanes: 2^r
    B3 = np.vstack(
        [
            np.eye(3),
            *[
                np.eye(3)[i] + s * np.eye(3)[j]
                for i, j in itertools.combinations(range(3), 2)
                for s in (1, -1)
            ],
        ]
    )
    ch = enumerate_chambers(B3)
    assert ch.count == len(ch) == 48 and ch.complete
    assert count_chambers(np.eye(4))[0] == 16


def test_braid_rank4_incremental_matches_zaslavsky() -> None:
    X = np.array([np.eye(5)[i] - np.eye(5)[j] for i, j in itertools.combinations(range(5), 2)])
    ch = enumerate_chambers(X)
    assert ch.rank == 4 and ch.method == "incremental"
    assert ch.count_proof["method"] == "zaslavsky"
    assert len(ch) == ch.count == 120 and ch.complete
    _check_witnesses(X, ch)


def test_integer_grid_rank3_complete() -> None:
    X = _grid(2, 3)  # 124 points, many concurrent planes
    ch = enumerate_chambers(X)
    assert ch.method == "extreme-rays" and ch.count_proof["method"] == "zaslavsky"
    assert ch.complete and len(ch) == ch.count
    _check_witnesses(X, ch)
    small = _grid(1, 3)
    a = enumerate_chambers(small)
    b = enumerate_chambers(small, method="incremental")
    assert a.complete and b.complete and _pattern_set(a) == _pattern_set(b)


def test_degenerate_rows_rank4_grid_subset() -> None:
    rng = np.random.default_rng(7)
    G = _grid(1, 4)
    X = G[rng.choice(len(G), 11, replace=False)]
    X = np.vstack([X, -2.0 * X[:3], X[:2], np.zeros((2, 4))])  # antiparallel, repeated, zero
    ch = enumerate_chambers(X)
    assert ch.complete and len(ch) == ch.count
    _check_witnesses(X, ch)
    assert reduce_hyperplanes(X).m == 11


def test_zaslavsky_proof_replayable() -> None:
    X = np.array([np.eye(4)[i] - np.eye(4)[j] for i, j in itertools.combinations(range(4), 2)])
    X = np.hstack([X, X[:, :1] * 0])  # rank 3 embedded in d = 5
    count, proof = count_chambers(X)
    json.dumps(proof)
    assert count == 24 == proof["mobius_abs_sum"]
    # rank 3: 2 + 2 sum_L (m_L - 1) from the published multiplicities
    mult = proof["line_multiplicities"]
    assert 2 + 2 * sum((int(k) - 1) * v for k, v in mult.items()) == count
    Y = np.array([np.eye(5)[i] - np.eye(5)[j] for i, j in itertools.combinations(range(5), 2)])
    c4, p4 = count_chambers(Y)
    assert c4 == sum(abs(mu) for _, _, mu in p4["flats"]) == 120


# ----------------------------------------------------------------------------- routes agree


@pytest.mark.parametrize("d", [1, 2])
def test_low_rank_fast_paths_match_incremental(d: int) -> None:
    rng = np.random.default_rng(3)
    X = rng.integers(-3, 4, (14, d)).astype(float)
    X = np.vstack([X, -X[:2], np.zeros((1, d))])
    fast = enumerate_chambers(X)
    slow = enumerate_chambers(X, method="incremental")
    assert fast.complete and slow.complete
    np.testing.assert_array_equal(fast.patterns, slow.patterns)
    _check_witnesses(X, fast)


def test_rank2_exact_order_fallback_and_pi_rays() -> None:
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0 + 2.0**-52], [-3.0, 1e-300]])
    ch = enumerate_chambers(X)
    assert ch.complete and len(ch) == 10 and ch.method == "sort-angles"
    _check_witnesses(X, ch)
    hp = reduce_hyperplanes(X)
    order = exact_ray_order(hp)
    assert sorted(order.tolist()) == list(range(2 * hp.m))
    # the general path resolves the chamber of angle 2**-52 too (exact rational fallback)
    slow = enumerate_chambers(X, method="incremental")
    assert slow.complete
    np.testing.assert_array_equal(ch.patterns, slow.patterns)


def test_rank3_extreme_rays_match_incremental() -> None:
    rng = np.random.default_rng(11)
    for X in (rng.standard_normal((10, 3)), rng.integers(-2, 3, (12, 3)).astype(float)):
        a = enumerate_chambers(X)
        b = enumerate_chambers(X, method="incremental")
        assert a.method == "extreme-rays" and a.complete and b.complete
        np.testing.assert_array_equal(a.patterns, b.patterns)


def test_rank3_thin_chambers_need_the_exact_walk() -> None:
    # planes at angle 2**-52: the float walk misorders vertices, the exact walk (integer
    # comparisons, exact interior points rounded with a search) recovers every chamber
    e = 2.0**-52
    X = np.array(
        [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [1, 1, 0],
            [1, 1 + e, 0],
            [1, 1, 1],
            [1, 1 + e, 1],
            [1, 1, 1 + e],
            [0, 1, 1],
        ],
        dtype=float,
    )
    ch = enumerate_chambers(X)
    assert ch.count_proof["method"] == "zaslavsky"
    assert ch.complete and len(ch) == ch.count
    _check_witnesses(X, ch)
    slow = enumerate_chambers(X, method="incremental")
    np.testing.assert_array_equal(ch.patterns, slow.patterns)


def test_general_rank_incremental_gaussian_and_grid() -> None:
    rng = np.random.default_rng(12)
    X = rng.standard_normal((14, 6))
    ch = enumerate_chambers(X)
    assert ch.method == "incremental" and ch.complete and len(ch) == cover_bound(14, 6)
    G = _grid(1, 4)  # 40 distinct hyperplanes, rank 4, many concurrent
    cg = enumerate_chambers(G)
    assert cg.count_proof["method"] == "zaslavsky" and cg.complete and len(cg) == cg.count
    _check_witnesses(G, cg)


def test_general_rank_sparse_and_spread_data() -> None:
    # exact zeros (degenerate, Zaslavsky) and entries spread over 2**-30 .. 2**30
    rng = np.random.default_rng(100)
    X = rng.standard_normal((11, 4))
    X[rng.random(X.shape) < 0.3] = 0.0
    Y = rng.standard_normal((10, 4)) * np.exp2(rng.integers(-30, 30, (10, 4)))
    for Z in (X, Y):
        ch = enumerate_chambers(Z)
        assert ch.method == "incremental" and ch.complete and len(ch) == ch.count
        _check_witnesses(Z, ch)
    assert enumerate_chambers(X).count_proof["method"] == "zaslavsky"


def test_rank_deficient_embedded_in_higher_dimension() -> None:
    rng = np.random.default_rng(5)
    A = rng.integers(-3, 4, (12, 2)).astype(float) @ rng.integers(-2, 3, (2, 5)).astype(float)
    ch = enumerate_chambers(A)
    assert ch.rank == 2 and ch.n_features == 5 and ch.complete
    _check_witnesses(A, ch)
    B = rng.integers(-2, 3, (15, 3)).astype(float) @ rng.integers(-2, 3, (3, 6)).astype(float)
    chb = enumerate_chambers(B)
    assert chb.rank == 3 and chb.complete
    _check_witnesses(B, chb)
    # the same chambers as the reduced data on the chosen columns
    red = enumerate_chambers(B[:, list(chb.columns)])
    np.testing.assert_array_equal(red.patterns, chb.patterns)


def test_random_sampling_never_finds_unlisted_pattern() -> None:
    rng = np.random.default_rng(8)
    X = np.vstack([rng.standard_normal((12, 3)), rng.integers(-2, 3, (6, 3)).astype(float)])
    ch = enumerate_chambers(X)
    assert ch.complete
    U = rng.standard_normal((20_000, 3))
    S = exact_signs(X, U)
    nz = np.any(X != 0, axis=1)
    S = S[np.all(S[:, nz] != 0, axis=1)]
    found = {bytes(r) for r in np.packbits(S >= 0, axis=1, bitorder="little")}
    assert found <= _pattern_set(ch)
    sampled = enumerate_chambers(X, mode="sampled", samples=5000, seed=1)
    assert not sampled.complete and sampled.count is None and sampled.method == "sampled"
    assert _pattern_set(sampled) <= _pattern_set(ch)
    _check_witnesses(X, sampled)


def test_brute_force_angle_grid_2d() -> None:
    X = np.array([[1.0, 0.0], [1.0, 2.0], [-1.0, 3.0], [2.0, -1.0], [0.0, 0.0], [-2.0, -4.0]])
    ch = enumerate_chambers(X)
    t = np.linspace(0.0, 2 * np.pi, 20_000, endpoint=False)
    U = np.stack([np.cos(t), np.sin(t)], axis=1)
    S = exact_signs(X, U)
    S = S[np.all(S[:, [0, 1, 2, 3, 5]] != 0, axis=1)]
    grid = {bytes(r) for r in np.packbits(S >= 0, axis=1, bitorder="little")}
    assert grid == _pattern_set(ch)
    assert len(ch) == 8  # four distinct lines
    assert all(ch.pattern(j)[4] for j in range(len(ch)))  # zero row: always 1


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.int8, st.tuples(st.integers(1, 7), st.integers(1, 5)), elements=st.integers(-2, 2))
)
def test_property_small_integer_matrices(A: np.ndarray) -> None:
    X = A.astype(float)
    ch = enumerate_chambers(X)
    assert ch.complete and len(ch) == ch.count == count_chambers(X)[0]
    _check_witnesses(X, ch)
    slow = enumerate_chambers(X, method="incremental")
    np.testing.assert_array_equal(ch.patterns, slow.patterns)


# ----------------------------------------------------------------------------- API


def test_limit_and_errors() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    with pytest.raises(EnumerationLimitError, match="872"):
        enumerate_chambers(X, limit=100)
    assert len(enumerate_chambers(X, limit=872)) == 872
    with pytest.raises(InputError):
        enumerate_chambers(X, mode="fast")
    with pytest.raises(InputError):
        enumerate_chambers(X, method="sort-angles")
    with pytest.raises(InputError):
        enumerate_chambers(np.array([1.0, 2.0]))
    with pytest.raises(InputError):
        enumerate_chambers(np.array([[np.inf, 1.0]]))


def test_to_dict_and_accessors() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    ch = enumerate_chambers(X)
    d = ch.to_dict(include_patterns=True)
    assert json.loads(json.dumps(d)) == d
    assert d["n_chambers"] == 4 == len(d["patterns"]) and d["complete"]
    assert ch.pattern_matrix().shape == (4, 3)
    assert "patterns" not in ch.to_dict()
    z = enumerate_chambers(np.zeros((2, 3)))
    assert len(z) == 1 and z.complete and z.pattern(0).tolist() == [True, True]


# ----------------------------------------------------------------------------- exact restrictions


def _faces_chambers(X: np.ndarray) -> set[bytes]:
    from verify.geometry.faces import enumerate_faces

    fc = enumerate_faces(X)
    return {bytes(r) for r in np.packbits(fc.chambers() >= 0, axis=1, bitorder="little")}


def test_exact_restriction_route_keeps_hyperplanes_floats_merge() -> None:
    from verify.geometry.chambers_recursive import chamber_points, face_witnesses
    from verify.geometry.faces import enumerate_faces

    # entries beyond 53 bits (exact route) with float witnesses: every chamber is found
    t = 1 << 70
    rows = [[t, 1, 0], [t, 2, 0], [0, 0, 1], [1, 0, 0], [0, 1, 1], [3, 0, t], [1, 1, 1]]
    G = np.array(rows, dtype=object)
    exact_count = enumerate_faces(rows).f_vector[-1]

    fc = enumerate_faces(rows)
    exact_set = {tuple(r) for r in fc.chambers().tolist()}

    def verified(W: np.ndarray) -> set[tuple[int, ...]]:
        from verify.geometry.chambers_recursive import _int_signs

        S = _int_signs(G, W)
        return {tuple(r) for r in S[np.all(S != 0, axis=1)].tolist()}

    exact_route = verified(chamber_points(G.astype(float), exact_rows=G))
    float_route = verified(chamber_points(G.astype(float)))
    assert float_route <= exact_route <= exact_set and exact_count == len(exact_set)
    # exactly 4 chambers have no float64 point at all: they need u_x < 0 < t u_x + u_y and
    # 0 < u_y + u_z < -u_x < u_y / t with t = 2**70, but a nonzero float sum u_y + u_z of
    # numbers with u_z close to -u_y is a multiple of ulp(u_z) >= u_y 2**-54
    assert len(exact_route) == len(exact_set) - 4
    assert verified(face_witnesses([tuple(r) for r in rows])) == exact_route


@pytest.mark.slow
def test_nearly_degenerate_rank4_is_honest_and_inside_the_exact_list() -> None:
    # exactly rank 4, numerically rank 3: chambers far thinner than float rounding
    for seed in (0, 3):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((8, 3)) @ rng.standard_normal((3, 4))
        X[1] = -2.0 * X[0]
        ch = enumerate_chambers(X)
        exact_set = _faces_chambers(X)
        assert ch.count == len(exact_set)
        assert _pattern_set(ch) <= exact_set
        assert ch.complete == (len(ch) == ch.count)
        # complete by deletion-restriction alone (exact integer points where floats fail),
        # the float witnesses of the thinnest chambers then from short lattice vectors
        assert ch.complete and ch.method == "incremental"
        assert _pattern_set(ch) == exact_set
        _check_witnesses(X, ch)


def test_general_rank_degenerate_big_integer_restrictions() -> None:
    # sparse rank-5 Gaussian data: exact degeneracies, restricted normals beyond 53 bits
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 5))
    X[rng.random(X.shape) < 0.3] = 0.0
    ch = enumerate_chambers(X)
    assert ch.complete and len(ch) == ch.count
    assert _pattern_set(ch) == _faces_chambers(X)
    _check_witnesses(X, ch)


@pytest.mark.slow
def test_general_rank_magnitudes_1e300_in_a_row() -> None:
    # entries 1e-300 .. 1e300 mixed within rows (general position: Cover's count, exact)
    for seed in (4, 6):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((7, 4)) * 10.0 ** rng.choice([-300, 0, 300], size=(7, 4))
        ch = enumerate_chambers(X)
        assert ch.count == cover_bound(7, 4) == len(_faces_chambers(X))
        assert ch.complete and len(ch) == ch.count
        assert _pattern_set(ch) == _faces_chambers(X)
        _check_witnesses(X, ch)


def test_a_proven_prefix_count_decides_the_limit_without_the_whole_count():
    """Beyond the limit, with exact_count=False, the count of a prefix of the rows (a lower
    bound: hyperplanes only split chambers) is enough; the default still proves the exact
    count (audit reports it)."""
    import pytest as _pytest

    from verify.errors import EnumerationLimitError
    from verify.geometry.chamber_count import count_chambers

    X = np.random.default_rng(4).standard_normal((120, 3))
    total = count_chambers(X)[0]
    with _pytest.raises(EnumerationLimitError) as e:
        enumerate_chambers(X, limit=3_000, exact_count=False)
    assert e.value.count is None and "at least" in str(e.value)
    n = int(str(e.value).split("its first ")[1].split(" rows")[0])
    k = int(str(e.value).split("at least ")[1].split(" chambers")[0])
    assert n < 120 and k == count_chambers(X[:n])[0] and 3_000 < k <= total
    with _pytest.raises(EnumerationLimitError) as e:
        enumerate_chambers(X, limit=3_000)
    assert e.value.count == total
