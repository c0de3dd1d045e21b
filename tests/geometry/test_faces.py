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
