"""Tests of verify.geometry.proven_linalg: proven ranks (vs sympy on exact rationals) and exact
signs.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verify.errors import InputError
from verify.geometry import proven_linalg as linalg
from verify.geometry.proven_linalg import (
    RankInfo,
    exact_rank,
    exact_signs,
    exact_signs_paired,
    float_points_with_signs,
    integer_rows,
)


def _sympy_rank(X: np.ndarray) -> int:
    return sympy.Matrix([[sympy.Rational(Fraction(float(v))) for v in row] for row in X]).rank()


def _check_minor(X: np.ndarray, info: RankInfo) -> None:
    assert len(info.rows) == len(info.cols) == info.rank
    if info.rank:
        M = sympy.Matrix(
            [[sympy.Rational(Fraction(float(X[i, j]))) for j in info.cols] for i in info.rows]
        )
        assert M.det() != 0


@pytest.mark.parametrize(
    "X",
    [
        np.zeros((3, 4)),
        np.zeros((0, 3)),
        np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]),
        np.array([[1.0, 2.0], [2.0, 4.0], [-3.0, -6.0], [0.0, 0.0]]),
        np.array([[1.0, 1.0], [1.0, 1.0 + 2.0**-52]]),
        np.array([[0.1, 0.2, 0.3], [0.2, 0.4, 0.6]]),  # 2*0.1 == 0.2 exactly in floats
        np.array([[0.1, 0.3], [0.3, 0.9]]),  # 3*0.1 != 0.3 in floats: exact rank 2
        np.array([[1e-300, 2e-300], [1e300, 2e300], [3.0, 6.0]]),
    ],
)
@pytest.mark.parametrize("use_flint", [True, False])
def test_exact_rank_matches_sympy(X: np.ndarray, use_flint: bool, monkeypatch) -> None:
    if not use_flint:  # the pure-Python fallbacks of verify.geometry.rationals
        monkeypatch.setattr(linalg, "_flint", None)
    info = exact_rank(X)
    assert info.rank == (_sympy_rank(X) if X.size else 0)
    _check_minor(X, info)


@pytest.mark.parametrize("use_flint", [True, False])
def test_exact_rank_tall_wide_deficient(use_flint: bool, monkeypatch) -> None:
    if not use_flint:
        monkeypatch.setattr(linalg, "_flint", None)
    rng = np.random.default_rng(1)
    for N, d, r in [(40, 6, 3), (6, 40, 2), (50, 50, 5), (30, 3, 3), (3, 30, 3)]:
        A = rng.integers(-3, 4, (N, r)).astype(float) @ rng.integers(-3, 4, (r, d)).astype(float)
        info = exact_rank(A)
        assert info.rank == _sympy_rank(A)
        _check_minor(A, info)
        assert info.to_dict()["rank"] == info.rank


def test_exact_rank_float_rounded_product_is_full_rank_exactly() -> None:
    # a float product of a rank-2 factorisation is generally NOT exactly rank 2
    rng = np.random.default_rng(2)
    A = rng.standard_normal((7, 2)) @ rng.standard_normal((2, 5))
    info = exact_rank(A)
    assert info.rank == _sympy_rank(A)


def test_exact_rank_large_minor_uses_float_proof() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 40))
    info = exact_rank(X)
    assert info.rank == 40
    assert "approximate inverse" in info.proof


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.int8, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.integers(-2, 2))
)
def test_exact_rank_property(A: np.ndarray) -> None:
    X = A.astype(float)
    info = exact_rank(X)
    assert info.rank == _sympy_rank(X)
    _check_minor(X, info)


def test_exact_rank_bad_input() -> None:
    with pytest.raises(InputError):
        exact_rank(np.array([1.0, 2.0]))
    with pytest.raises(InputError):
        exact_rank(np.array([[1.0, np.nan]]))


def _fraction_signs(X: np.ndarray, U: np.ndarray) -> np.ndarray:
    out = np.zeros((len(U), len(X)), dtype=np.int8)
    for j, u in enumerate(U):
        for n, x in enumerate(X):
            v = sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(x, u))
            out[j, n] = (v > 0) - (v < 0)
    return out


def test_exact_signs_naive_float_is_wrong() -> None:
    X = np.array(
        [[1e16, 1.0, -1e16, -0.5], [0.1, 0.2, -0.3, 0.0], [1.0, -1.0, 0.0, 0.0], [0.0] * 4]
    )
    U = np.array([[1.0, 1.0, 1.0, 1.0], [3.0, 3.0, 3.0, 0.0], [1.0, 1.0, 2.0, -1.0]])
    naive = np.sign(U @ X.T)
    S = exact_signs(X, U)
    np.testing.assert_array_equal(S, _fraction_signs(X, U))
    assert S[0, 0] == 1 and naive[0, 0] == -1  # float says -, exact says +
    assert S[0, 2] == 0 and S[0, 3] == 0


def test_exact_signs_random_with_exact_zeros_and_huge_ranges() -> None:
    rng = np.random.default_rng(4)
    X = rng.integers(-3, 4, (25, 4)).astype(float)
    U = rng.integers(-3, 4, (30, 4)).astype(float)  # many exact zeros
    np.testing.assert_array_equal(exact_signs(X, U), _fraction_signs(X, U))
    X2 = X * np.exp2(rng.integers(-600, 600, X.shape))
    U2 = rng.standard_normal((10, 4)) * np.exp2(rng.integers(-300, 300, (10, 4)))
    np.testing.assert_array_equal(exact_signs(X2, U2), _fraction_signs(X2, U2))
    X3 = rng.standard_normal((20, 3))
    U3 = np.vstack([np.cross(X3[0], X3[1]), rng.standard_normal((5, 3))])
    np.testing.assert_array_equal(exact_signs(X3, U3), _fraction_signs(X3, U3))


def test_exact_signs_shapes_and_errors() -> None:
    X = np.ones((3, 2))
    assert exact_signs(X, np.array([1.0, -2.0])).shape == (1, 3)
    assert exact_signs(X, np.zeros((0, 2))).shape == (0, 3)
    with pytest.raises(InputError):
        exact_signs(X, np.ones((2, 3)))


def test_integer_rows_exact() -> None:
    rng = np.random.default_rng(5)
    A = rng.standard_normal((5, 4)) * np.exp2(rng.integers(-50, 50, (5, 4)))
    A[2] = 0.0
    rows, exps = integer_rows(A)
    for i in range(5):
        for j in range(4):
            assert Fraction(rows[i][j]) * Fraction(2) ** exps[i] == Fraction(float(A[i, j]))


def test_exact_signs_paired_matches_fractions() -> None:
    rng = np.random.default_rng(6)
    A = rng.integers(-3, 4, (40, 3)).astype(float)
    B = rng.integers(-3, 4, (40, 3)).astype(float)
    A[0], B[0] = [1e16, 1.0, -1e16], [1.0, 1.0, 1.0]
    expected = [_fraction_signs(A[i : i + 1], B[i : i + 1])[0, 0] for i in range(40)]
    assert exact_signs_paired(A, B).tolist() == expected


def test_float_points_with_signs_thin_cone() -> None:
    # cone {x > 0, x + y > 0, 2^52 x + (2^52 + 1) y < 0, z in a window of relative width 2^-52}
    e = Fraction(1, 2**53)
    normals = [(1, 0, 0), (1, 1, 0), (2**52, 2**52 + 1, 0), (1, 1, 1), (2**52, 2**52, 2**52 + 1)]
    z = -e * (1 - Fraction(1, 2**60))
    p = [Fraction(1), -1 + e, z]
    target = [1 if sum(a * q for a, q in zip(h, p)) > 0 else -1 for h in normals]
    W = float_points_with_signs(normals, [p])
    assert exact_signs(np.array(normals, dtype=float), W)[0].tolist() == target
