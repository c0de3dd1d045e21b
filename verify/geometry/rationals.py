"""Exact rational arithmetic for the geometry: exact dot products and signs, dyadic scaling
of floats, determinants and rational solves.

Pure Python (``fractions`` and ``int``); never numpy.  Binary floating-point numbers are
dyadic rationals, so every float converts *exactly*: convert once, never round.  The text
form of rationals, exact ranks and square-root bounds are the trusted kernel's
(:mod:`verify.checker.arithmetic`), so the builder and the checker share one definition.

Examples
--------
>>> from fractions import Fraction

from verify.checker.arithmetic import parse_rational
>>> exact_dot([0.1, 0.2], [3.0, -1.5])
Fraction(0, 1)
>>> exact_dot([0.1, 0.2], [1.0, 1.0]) == Fraction(0.1) + Fraction(0.2)
True
>>> integer_det([[2, 1], [1, 3]])
5
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

from verify.checker.arithmetic import parse_rational

__all__ = [
    "to_fraction",
    "exact_dot",
    "exact_sign_dot",
    "dyadic_scale",
    "integer_det",
    "solve_rational",
]


def to_fraction(x: float | int | Fraction | str) -> Fraction:
    """Return the exact rational value of ``x`` (a float converts without rounding).

    Raises
    ------
    ValueError
        If ``x`` is not finite.

    Examples
    --------
    >>> to_fraction(0.5), to_fraction("7/3"), to_fraction(3)
    (Fraction(1, 2), Fraction(7, 3), Fraction(3, 1))
    """
    if isinstance(x, Fraction):
        return x
    if isinstance(x, str):
        return parse_rational(x)
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"cannot convert non-finite value {x!r} to a rational")
    return Fraction(x)


def exact_dot(a: Iterable[float | int | Fraction], b: Iterable[float | int | Fraction]) -> Fraction:
    """Exact inner product of two equally long sequences of floats/rationals.

    Examples
    --------
    >>> exact_dot([1e16, 1.0, -1e16], [1.0, 1.0, 1.0])
    Fraction(1, 1)
    """
    a = list(a)
    b = list(b)
    if len(a) != len(b):
        raise ValueError(f"exact_dot: lengths differ ({len(a)} and {len(b)})")
    # Sum dyadic numbers as (integer mantissa, common exponent) for speed.
    ints_a, ea = dyadic_scale(a)
    ints_b, eb = dyadic_scale(b)
    if ints_a is None or ints_b is None:
        return sum((to_fraction(p) * to_fraction(q) for p, q in zip(a, b)), Fraction(0))
    total = sum(p * q for p, q in zip(ints_a, ints_b))
    return Fraction(total) * _pow2(ea + eb)


def exact_sign_dot(a: Sequence[float], b: Sequence[float]) -> int:
    """Sign (-1, 0 or 1) of the exact inner product of two float vectors.

    Examples
    --------
    >>> exact_sign_dot([0.1, 0.2], [3.0, -1.5])
    0
    """
    v = exact_dot(a, b)
    return (v > 0) - (v < 0)


def _pow2(e: int) -> Fraction:
    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << (-e))


def dyadic_scale(values: Iterable[float | int | Fraction]) -> tuple[list[int] | None, int]:
    """Write dyadic values as ``ints * 2**e`` with one common exponent ``e``.

    Returns ``(None, 0)`` when a value is a non-dyadic rational (denominator not a power
    of two); floats and ints are always dyadic.

    Examples
    --------
    >>> dyadic_scale([0.5, 3.0, -0.25])
    ([2, 12, -1], -2)
    """
    fr = [to_fraction(v) for v in values]
    e = 0
    for q in fr:
        den = q.denominator
        if den & (den - 1):
            return None, 0
        e = min(e, -(den.bit_length() - 1))
    return [int(q * _pow2(-e)) for q in fr], e


def integer_det(rows: Sequence[Sequence[int]]) -> int:
    """Exact determinant of a square integer matrix (Bareiss elimination).

    Examples
    --------
    >>> integer_det([[2, 1], [1, 3]])
    5
    >>> integer_det([[1, 2], [2, 4]])
    0
    """
    a = [list(map(int, r)) for r in rows]
    n = len(a)
    if any(len(r) != n for r in a):
        raise ValueError("integer_det needs a square matrix")
    sign, prev = 1, 1
    for k in range(n - 1):
        if a[k][k] == 0:
            swap = next((i for i in range(k + 1, n) if a[i][k] != 0), None)
            if swap is None:
                return 0
            a[k], a[swap] = a[swap], a[k]
            sign = -sign
        akk = a[k][k]
        for i in range(k + 1, n):
            aik = a[i][k]
            for j in range(k + 1, n):
                a[i][j] = (a[i][j] * akk - aik * a[k][j]) // prev
        prev = akk
    return sign * a[n - 1][n - 1] if n else 1


def solve_rational(
    M: Sequence[Sequence[int | Fraction]], B: Sequence[Sequence[int | Fraction]]
) -> list[list[Fraction]]:
    """Exact ``M^{-1} B`` for a nonsingular square ``M`` (Gauss-Jordan over the rationals).

    Raises
    ------
    ValueError
        If ``M`` is singular.

    Examples
    --------
    >>> solve_rational([[2, 0], [0, 4]], [[1], [1]])
    [[Fraction(1, 2)], [Fraction(1, 4)]]
    """
    n = len(M)
    A = [[Fraction(v) for v in M[i]] + [Fraction(v) for v in B[i]] for i in range(n)]
    for k in range(n):
        piv = next((i for i in range(k, n) if A[i][k] != 0), None)
        if piv is None:
            raise ValueError("solve_rational: the matrix is singular")
        A[k], A[piv] = A[piv], A[k]
        inv = 1 / A[k][k]
        A[k] = [v * inv for v in A[k]]
        for i in range(n):
            if i != k and A[i][k] != 0:
                f = A[i][k]
                A[i] = [a - f * b for a, b in zip(A[i], A[k])]
    return [row[n:] for row in A]
