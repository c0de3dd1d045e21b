"""Exact rational arithmetic: the small trusted kernel shared with the checker.

Pure Python (``fractions`` and ``int``); this module must never import numpy, scipy,
cvxpy or networkx, because :mod:`verify.checker.rules` relies on it.  Binary floating-point
numbers are dyadic rationals, so every float converts *exactly*: convert once, never round.

Examples
--------
>>> from fractions import Fraction
>>> exact_dot([0.1, 0.2], [3.0, -1.5])
Fraction(0, 1)
>>> exact_dot([0.1, 0.2], [1.0, 1.0]) == Fraction(0.1) + Fraction(0.2)
True
>>> format_rational(Fraction(-3, 4)), parse_rational("-3/4")
('-3/4', Fraction(-3, 4))
>>> integer_rank([[1, 2, 3], [2, 4, 6], [1, 0, 1]])
(2, [0, 2], [0, 1])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

__all__ = [
    "to_fraction",
    "exact_dot",
    "exact_sign_dot",
    "dyadic_scale",
    "integer_rank",
    "integer_det",
    "format_rational",
    "parse_rational",
    "sqrt_bounds",
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


def integer_rank(rows: Sequence[Sequence[int]]) -> tuple[int, list[int], list[int]]:
    """Exact rank of an integer matrix by fraction-free elimination (gcd-reduced rows).

    Returns ``(rank, pivot_rows, pivot_cols)``: the submatrix on those rows and columns is
    nonsingular and its size equals the rank.  Pivot rows are chosen greedily in input
    order, so the first independent rows are preferred.

    Examples
    --------
    >>> integer_rank([[0, 0], [0, 0]])
    (0, [], [])
    >>> integer_rank([[2, 1], [4, 2], [0, 1]])
    (2, [0, 2], [0, 1])
    """
    m = [list(map(int, r)) for r in rows]
    pivot_rows = _independent_rows(m)
    if not pivot_rows:
        return 0, [], []
    # The chosen rows have full row rank; independent columns of them give a nonsingular minor.
    transposed = [list(col) for col in zip(*(m[i] for i in pivot_rows))]
    return len(pivot_rows), pivot_rows, _independent_rows(transposed)


def _independent_rows(m: list[list[int]]) -> list[int]:
    """Indices of the greedily chosen linearly independent rows of an integer matrix.

    Incremental elimination: keep an echelon basis of rows held in integers (each reduced
    by its gcd), reduce every new row against it, keep it if something is left.
    """
    ncols = len(m[0]) if m else 0
    basis: list[tuple[int, list[int]]] = []  # (pivot column, reduced row)
    chosen: list[int] = []
    for i, row in enumerate(m):
        r = row[:]
        for pc, b in basis:
            if r[pc]:
                a, c = b[pc], r[pc]
                r = [a * x - c * y for x, y in zip(r, b)]
                g = 0
                for x in r:
                    g = math.gcd(g, x)
                if g > 1:
                    r = [x // g for x in r]
        pc = next((j for j in range(ncols) if r[j]), None)
        if pc is not None:
            basis.append((pc, r))
            chosen.append(i)
            if len(basis) == ncols:
                break
    return chosen


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


def format_rational(q: Fraction | int) -> str:
    """Canonical text of a rational: ``"p/q"`` in lowest terms, or ``"p"`` when integral.

    Examples
    --------
    >>> format_rational(Fraction(6, 4)), format_rational(Fraction(5))
    ('3/2', '5')
    """
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def parse_rational(text: str) -> Fraction:
    """Parse ``"p/q"`` or ``"p"`` (integers only, no spaces, no decimals) exactly.

    Raises
    ------
    ValueError
        On anything else, so a tampered certificate cannot smuggle in a float.

    Examples
    --------
    >>> parse_rational("10/4")
    Fraction(5, 2)
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a rational as a 'p/q' string, got {type(text).__name__}")
    num, sep, den = text.partition("/")
    if not _is_int_literal(num) or (sep and not (den.isdigit() and den.isascii())):
        raise ValueError(f"not a rational 'p/q': {text!r}")
    if sep and int(den) == 0:
        raise ValueError(f"zero denominator in {text!r}")
    return Fraction(int(num), int(den) if sep else 1)


def _is_int_literal(s: str) -> bool:
    body = s[1:] if s[:1] == "-" else s
    return bool(body) and body.isascii() and body.isdigit()


def sqrt_bounds(q: Fraction | int, *, bits: int = 64) -> tuple[Fraction, Fraction]:
    """Rational ``lo <= sqrt(q) <= hi`` with ``hi - lo <= 2**-bits * max(1, sqrt(q))``-ish.

    Exact when ``q`` is the square of a rational.  Used wherever a norm enters a bound: the
    upper bound takes ``hi``, the lower bound ``lo``, so no rounding ever favours a claim.

    Examples
    --------
    >>> sqrt_bounds(Fraction(9, 4))
    (Fraction(3, 2), Fraction(3, 2))
    >>> lo, hi = sqrt_bounds(2)
    >>> lo * lo <= 2 <= hi * hi and hi - lo < Fraction(1, 2**60)
    True
    """
    q = Fraction(q)
    if q < 0:
        raise ValueError(f"sqrt_bounds of a negative number {q}")
    if q == 0:
        return Fraction(0), Fraction(0)
    n, d = q.numerator, q.denominator
    rn, rd = math.isqrt(n), math.isqrt(d)
    if rn * rn == n and rd * rd == d:
        return Fraction(rn, rd), Fraction(rn, rd)
    # sqrt(n/d) = sqrt(n*d)/d; scale by 4**bits to keep `bits` fractional bits.
    scale = 1 << bits
    m = n * d * scale * scale
    r = math.isqrt(m)  # r <= sqrt(m) < r + 1
    lo = Fraction(r, d * scale)
    hi = Fraction(r if r * r == m else r + 1, d * scale)
    return lo, hi


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
