"""The trusted kernel's exact arithmetic: rationals as text, exact rank, square-root bounds,
squared-norm tests.

Standard library only (``math``, ``fractions``), like the rest of :mod:`verify.checker`.
The rest of the toolkit writes its numbers with :func:`format_rational` and bounds its
norms with :func:`sqrt_bounds`, so the builder and the checker agree on the text and on
the direction of every rounding.

Examples
--------
>>> from fractions import Fraction
>>> format_rational(Fraction(-3, 4)), parse_rational("-3/4")
('-3/4', Fraction(-3, 4))
>>> integer_rank([[1, 2, 3], [2, 4, 6], [1, 0, 1]])
(2, [0, 2], [0, 1])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

__all__ = ["format_rational", "parse_rational", "sqrt_bounds", "norm_le", "integer_rank"]


def format_rational(q: Fraction | int) -> str:
    """Canonical text of a rational: ``"p/q"`` in lowest terms, or ``"p"`` when integral.

    Examples
    --------
    >>> format_rational(Fraction(6, 4)), format_rational(Fraction(5))
    ('3/2', '5')
    """
    q = Fraction(q)
    return _dec(q.numerator) if q.denominator == 1 else f"{_dec(q.numerator)}/{_dec(q.denominator)}"


def _dec(n: int) -> str:
    """Decimal text of any integer, also beyond Python's 4,300-digit ``str(int)`` limit
    (divide and conquer on powers of ten).

    Examples
    --------
    >>> _dec(-10**5000).count("0"), _dec(12)
    (5000, '12')
    """
    if n < 0:
        return "-" + _dec(-n)
    if n.bit_length() < 12_000:
        return str(n)
    k = int(n.bit_length() * 0.30103) // 2
    hi, lo = divmod(n, 10**k)
    return _dec(hi) + _dec(lo).zfill(k)


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


def norm_le(v: Sequence[int], den: int, xe: int, s: Fraction) -> bool:
    """Exact test ``||v / den * 2**xe||^2 <= s^2`` for integers ``v``, ``den > 0`` and
    ``s >= 0``: squares only, no square root.

    Examples
    --------
    >>> norm_le([3, 4], 1, 0, Fraction(5)), norm_le([3, 4], 2, 1, Fraction(49, 10))
    (True, False)
    """
    lhs = sum(t * t for t in v) * s.denominator**2
    rhs = s.numerator**2 * den**2
    if xe >= 0:
        lhs <<= 2 * xe
    else:
        rhs <<= -2 * xe
    return lhs <= rhs


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
