"""The pure-Python exact kernel (verify.geometry.rationals), cross-checked with sympy and
Fractions.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.checker import arithmetic
from verify.geometry import rationals as exact

small_ints = st.integers(-3, 3)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda d: st.lists(st.lists(small_ints, min_size=d, max_size=d), min_size=1, max_size=6)
    )
)
def test_integer_rank_matches_sympy(M):
    r, rows, cols = arithmetic.integer_rank(M)
    assert r == sympy.Matrix(M).rank()
    assert len(rows) == len(cols) == r
    if r:
        assert sympy.Matrix([[M[i][j] for j in cols] for i in rows]).det() != 0


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(-50, 50), min_size=n, max_size=n), min_size=n, max_size=n
        )
    )
)
def test_integer_det_matches_sympy(M):
    assert exact.integer_det(M) == sympy.Matrix(M).det()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
        ),
        max_size=8,
    )
)
def test_exact_dot_is_the_fraction_sum(pairs):
    a = [p for p, _ in pairs]
    b = [q for _, q in pairs]
    expected = sum((Fraction(p) * Fraction(q) for p, q in pairs), Fraction(0))
    assert exact.exact_dot(a, b) == expected
    assert exact.exact_sign_dot(a, b) == (expected > 0) - (expected < 0)


def test_exact_dot_cancellation_and_errors():
    assert exact.exact_dot([1e16, 1.0, -1e16], [1.0, 1.0, 1.0]) == 1
    assert exact.exact_dot([Fraction(1, 3)], [3]) == 1  # non-dyadic input still exact
    with pytest.raises(ValueError, match="lengths differ"):
        exact.exact_dot([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="non-finite"):
        exact.to_fraction(float("inf"))


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=0, max_value=10**12), st.integers(1, 80))
def test_sqrt_bounds_bracket(q, bits):
    lo, hi = arithmetic.sqrt_bounds(q, bits=bits)
    assert lo * lo <= q <= hi * hi
    assert lo <= hi
    assert hi - lo <= Fraction(1, q.denominator * 2**bits) or hi == lo


def test_sqrt_bounds_exact_squares_and_negative():
    assert arithmetic.sqrt_bounds(Fraction(49, 16)) == (Fraction(7, 4), Fraction(7, 4))
    with pytest.raises(ValueError, match="negative"):
        arithmetic.sqrt_bounds(-1)


@pytest.mark.parametrize("text", ["1.5", "1/0", " 1/2", "1/-2", "--1", "", "1e3", "0x10", "١/٢"])
def test_parse_rational_rejects(text):
    with pytest.raises(ValueError):
        arithmetic.parse_rational(text)


@settings(max_examples=100, deadline=None)
@given(st.fractions())
def test_format_parse_round_trip(q):
    assert arithmetic.parse_rational(arithmetic.format_rational(q)) == q


def test_dyadic_scale():
    ints, e = exact.dyadic_scale([0.5, 3.0, -0.25, 0.0])
    assert [Fraction(i) * Fraction(2) ** e for i in ints] == [0.5, 3.0, -0.25, 0.0]
    assert exact.dyadic_scale([Fraction(1, 3)]) == (None, 0)


def test_kernel_imports_only_the_standard_library():
    tree = ast.parse(Path(exact.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    assert names <= {"__future__", "math", "collections", "fractions", "verify"}, names
