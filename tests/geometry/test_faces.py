"""Exact face enumeration of the arrangement (verify.geometry.faces)."""

from __future__ import annotations

import json
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.errors import EnumerationLimitError, InputError
from verify.geometry.faces import as_integer_matrix, compose, enumerate_faces, sign_string
from verify.geometry.rationals import exact_sign_dot


def _euler(fc) -> int:
    return sum((-1) ** k * f for k, f in enumerate(fc.f_vector))


def _random(shape, rank=None, seed=0):
    rng = np.random.default_rng(seed)
    N, d = shape
    if rank is None or rank >= min(N, d):
        return rng.standard_normal((N, d))
    # small integers: the product is exact in floats, so the rank is exactly `rank`
    while True:
        X = (rng.integers(-4, 5, (N, rank)) @ rng.integers(-4, 5, (rank, d))).astype(float)
        if np.linalg.matrix_rank(X) == rank:
            return X


def _check_witnesses(X, fc):
    """Independent exact check (verify.geometry.rationals on the original floats) of every
    witness.
    """
    X = np.asarray(X, dtype=float)
    for j in range(len(fc)):
        u = list(fc.witnesses[j])  # exact Python ints (may exceed 2**53)
        assert all(isinstance(v, int) for v in u)
        got = [exact_sign_dot(row.tolist(), u) for row in X]
        assert got == fc.signs[j].tolist(), fc.sign_string(j)


# Euler relation.  Intersecting the faces of dimension k >= 1 of an essential central
# arrangement in R^r with the unit sphere gives a regular cell decomposition of S^{r-1}
# (cells of dimension k-1), whose Euler characteristic is 1 + (-1)^(r-1).  Hence
# sum_{k>=1} (-1)^(k-1) f_k = 1 + (-1)^(r-1), and adding f_0 = 1 (the origin):
# sum_{k>=0} (-1)^k f_k = 1 - 1 - (-1)^(r-1) = (-1)^r.
@pytest.mark.parametrize(
    "shape,rank,seed",
    [
        ((1, 1), None, 0),
        ((3, 1), None, 1),
        ((5, 2), None, 2),
        ((7, 3), None, 3),
        ((9, 3), 2, 4),
        ((6, 4), None, 5),
        ((7, 5), 3, 6),
        ((6, 5), None, 7),
    ],
)
def test_euler_relation_and_exact_witnesses(shape, rank, seed):
    X = _random(shape, rank, seed)
    fc = enumerate_faces(X)
    assert fc.rank == (rank if rank is not None else min(shape))
    assert _euler(fc) == (-1) ** fc.rank
    assert fc.f_vector[0] == 1
    _check_witnesses(X, fc)
    # sign vectors are distinct
    assert len({s.tobytes() for s in fc.signs}) == len(fc)


def _generic_f(N: int, r: int, k: int) -> int:
    """f_k of N hyperplanes in general position through the origin of R^r (k >= 1).

    A k-dimensional face spans one of the C(N, r-k) flats cut out by r-k hyperplanes; the
    other N-r+k hyperplanes restrict to a generic arrangement in R^k with Cover's number
    2 sum_{i<k} C(N-r+k-1, i) of chambers.
    """
    m = N - r + k
    return comb(N, r - k) * 2 * sum(comb(m - 1, i) for i in range(k))


@pytest.mark.parametrize("N,r", [(4, 2), (6, 3), (9, 3), (6, 4), (7, 4)])
def test_general_position_face_counts(N, r):
    fc = enumerate_faces(_random((N, r), seed=N * 10 + r))
    assert fc.f_vector == (1,) + tuple(_generic_f(N, r, k) for k in range(1, r + 1))


def test_rank_two_counts_follow_distinct_lines():
    # rows: x, 2x, -x, y, 3y, z  -> three distinct lines through the origin
    x, y, z = np.array([1.0, 2.0]), np.array([-0.5, 0.25]), np.array([3.0, 1.0])
    X = np.array([x, 2 * x, -x, y, 3 * y, z, [0.0, 0.0]])
    fc = enumerate_faces(X)
    assert fc.f_vector == (1, 6, 6)
    # zero row: sign 0 everywhere; repeated and antiparallel rows move together
    assert (fc.signs[:, 6] == 0).all()
    assert (fc.signs[:, 1] == fc.signs[:, 0]).all() and (fc.signs[:, 2] == -fc.signs[:, 0]).all()
    _check_witnesses(X, fc)


def test_chambers_match_arrangements_module():
    arr = pytest.importorskip("verify.geometry.chambers")
    for seed, shape, rank in [
        (0, (6, 2), None),
        (1, (8, 3), None),
        (2, (7, 4), None),
        (3, (8, 4), 3),
        (4, (5, 3), 1),
    ]:
        X = _random(shape, rank, seed)
        X[1] = -2.0 * X[0]  # antiparallel pair
        fc = enumerate_faces(X)
        ch = arr.enumerate_chambers(X)
        bits = fc.chambers() >= 0
        assert ch.complete and len(ch) == fc.f_vector[-1]
        assert {b.tobytes() for b in bits} == {p.tobytes() for p in ch.pattern_matrix()}


def test_nearly_degenerate_data_against_the_exact_count():
    # rank 4 in exact arithmetic, numerically almost rank 3 (smallest singular value ~1e-16)
    arr = pytest.importorskip("verify.geometry.chambers")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 3)) @ rng.standard_normal((3, 4))
    X[1] = -2.0 * X[0]
    fc = enumerate_faces(X)
    ch = arr.enumerate_chambers(X)
    assert fc.rank == 4 and fc.f_vector[-1] == ch.count
    assert _euler(fc) == 1
    _check_witnesses(X, fc)
    found = {p.tobytes() for p in ch.pattern_matrix()}
    assert ch.complete  # the exact fallbacks of the general path recover every chamber
    assert found == {b.tobytes() for b in (fc.chambers() >= 0)}


def test_sampled_directions_land_in_listed_chambers():
    X = _random((9, 3), seed=11)
    fc = enumerate_faces(X)
    known = {s.tobytes() for s in fc.chambers()}
    U = np.random.default_rng(5).standard_normal((3000, 3))
    S = X @ U.T
    ok = (np.abs(S) > 1e-9).all(axis=0)  # margin far above rounding: signs are certain
    for col in np.sign(S[:, ok]).T.astype(np.int8):
        assert col.tobytes() in known


def test_every_face_is_a_composition_of_rays_and_closed_under_composition():
    fc = enumerate_faces(_random((5, 3), seed=2))
    signs = {tuple(s.tolist()) for s in fc.signs}
    for a in list(signs)[::3]:
        for b in list(signs)[::5]:
            assert compose(a, b) in signs


def test_degenerate_ranks_and_rational_input():
    assert enumerate_faces(np.zeros((3, 2))).f_vector == (1,)
    fc = enumerate_faces([[1, 2], [2, 4], [-1, -2]])
    assert fc.rank == 1 and fc.f_vector == (1, 2)
    assert sorted(fc.sign_string(j) for j in range(3)) == ["++-", "--+", "000"]
    q = [[Fraction(3, 5), Fraction(4, 5)], ["-4/5", "3/5"]]
    assert enumerate_faces(q).f_vector == (1, 4, 4)
    assert as_integer_matrix(q)[0] == [[3, 4], [-4, 3]]


def test_limit_and_bad_input():
    X = _random((8, 3), seed=1)
    with pytest.raises(EnumerationLimitError):
        enumerate_faces(X, limit=20)
    assert len(enumerate_faces(X, limit=10_000)) == 1 + 56 + 112 + 58
    with pytest.raises(InputError):
        enumerate_faces(np.ones(3))
    with pytest.raises(InputError):
        enumerate_faces([[1.0, float("nan")]])
    with pytest.raises(InputError):
        enumerate_faces([[1.0, "abc"]])
    with pytest.raises(InputError):
        enumerate_faces([[True, False]])
    with pytest.raises(InputError):
        enumerate_faces(X, limit=0)


def test_to_dict_is_json_ready():
    fc = enumerate_faces([[0.1, 0.2], [0.3, -0.7]])
    d = json.loads(json.dumps(fc.to_dict()))
    assert d["f_vector"] == [1, 4, 4] and len(d["faces"]) == 9
    assert d["faces"][0] == {"sign": "00", "dim": 0, "witness": [0, 0]}
    assert sign_string(fc.signs[-1]) == d["faces"][-1]["sign"]
    u = fc.witness_float(len(fc) - 1)
    assert abs(np.linalg.norm(u) - 1) < 1e-12


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=1, max_size=6))
def test_property_small_integer_matrices(rows):
    X = np.array(rows, dtype=float)
    fc = enumerate_faces(X)
    assert _euler(fc) == (-1) ** fc.rank
    _check_witnesses(X, fc)
    # the face dimension equals r minus the rank of the rows vanishing on it (float check
    # on small integers is exact here)
    for j in range(len(fc)):
        Z = X[fc.signs[j] == 0]
        zr = np.linalg.matrix_rank(Z) if len(Z) else 0
        assert fc.dims[j] == fc.rank - zr


# ------------------------------------------------------------ issue 10 item 9: speed, budgets


def _primitive_multiple(rows, X):
    """``rows`` is the primitive integer matrix positively proportional to ``X`` (checked
    with Fractions, independently of both conversion routes)."""
    import math

    flat = [Fraction(float(v)) if not isinstance(v, (int, np.integer)) else Fraction(int(v))
            for v in np.asarray(X).ravel().tolist()]
    ints = [v for r in rows for v in r]
    assert all(type(v) is int for v in ints)
    g = 0
    for v in ints:
        g = math.gcd(g, v)
    assert g == (1 if any(ints) else 0)
    k = next((i for i, q in enumerate(flat) if q), None)
    if k is None:
        return not any(ints)
    c = Fraction(ints[k]) / flat[k]
    return c > 0 and all(Fraction(v) == c * q for v, q in zip(ints, flat))


def test_vectorised_integer_matrix_equals_the_fraction_route_on_random_data():
    rng = np.random.default_rng(11)
    cases = [
        rng.standard_normal((40, 7)),
        rng.standard_normal((12, 3)) * np.array([1e-300, 1.0, 1e300]),  # 2,000-bit integers
        np.round(rng.standard_normal((30, 4)), 2),  # decimal data
        rng.integers(0, 256, (25, 9)) / 255.0,  # image-like
        np.where(rng.random((20, 5)) < 0.5, 0.0, rng.standard_normal((20, 5))),
        np.array([[5e-324, 1.0], [-2.5e-310, 3.0]]),  # subnormals
        rng.integers(-9, 9, (10, 4)).astype(float) * 8.0,
        rng.standard_normal((9, 3)).astype(np.float32),
        rng.integers(-1000, 1000, (10, 3)) * 6,
        rng.integers(0, 255, (6, 5)).astype(np.uint8),
        np.array([[2**62 - 1, 3], [-(2**62), 1]], dtype=np.int64),
        np.zeros((4, 3)),
    ]
    for X in cases:
        fast = as_integer_matrix(X)
        old = as_integer_matrix(X.tolist())  # lists take the general Fraction route
        assert fast == old
        assert _primitive_multiple(fast[0], X)
    assert as_integer_matrix(np.zeros((0, 3))) == ([], 0, 3)
    with pytest.raises(InputError, match="finite"):
        as_integer_matrix(np.array([[1.0, np.inf]]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3,
                         max_size=3), min_size=1, max_size=5))
def test_property_vectorised_integer_matrix(rows):
    X = np.array(rows, dtype=np.float64)
    fast = as_integer_matrix(X)
    assert fast == as_integer_matrix(rows)
    assert _primitive_multiple(fast[0], X)


def test_face_budget_refuses_early_with_the_reason():
    with pytest.raises(EnumerationLimitError, match=r"rank 5 gives at least 2\^5 = 32"):
        enumerate_faces(_random((12, 5), seed=2), limit=30)
    # rays need every 3-subset of 60 hyperplanes: C(60, 3) = 34220 > 50 x 500
    with pytest.raises(EnumerationLimitError, match=r"C\(60, 3\) = 34220 subsets"):
        enumerate_faces(_random((60, 4), seed=3), limit=500)
    # general position in rank 3: a floating-point count of the lines stops it
    with pytest.raises(EnumerationLimitError, match="floating point"):
        enumerate_faces(_random((40, 3), seed=4), limit=200)


def test_face_budget_estimate_never_refuses_an_arrangement_that_fits():
    # 30 planes through one line (the e3 axis) and the plane x3 = 0: C(31, 2) = 465 pairs of
    # planes but only 31 lines; the exact face count is within the limit
    t = np.linspace(0.1, 3.0, 30)
    X = np.vstack([np.column_stack([np.cos(t), np.sin(t), np.zeros(30)]), [[0.0, 0.0, 1.0]]])
    n_faces = len(enumerate_faces(X))
    assert 2 * comb(31, 2) + 1 > n_faces  # the float estimate runs (and must not refuse)
    assert len(enumerate_faces(X, limit=n_faces)) == n_faces
    with pytest.raises(EnumerationLimitError):
        enumerate_faces(X, limit=n_faces - 1)
