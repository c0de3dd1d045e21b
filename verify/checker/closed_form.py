"""Closed-form evidence (certificate method ``closed-form``): orthogonally separable data.

The checker re-checks orthogonal separability itself (rule ``orthogonal-separability``: same
labels ``x_n . x_m > 0``, different labels ``x_n . x_m <= 0``, one packed Gram row at a time)
and the two norms ``||X_+^T mu|| <= s`` and ``||X_-^T mu|| <= s`` of the closed form (rule
``closed-form-norm``), in integers.

Examples
--------
>>> from fractions import Fraction
>>> sq_norm_le([[1, 0], [0, 1]], 0, [3, 4], 1, Fraction(5))  # columns of X = I
True
"""

from __future__ import annotations

from fractions import Fraction
from operator import mul
from typing import Any

from verify.checker.arithmetic import norm_le
from verify.checker.counting import gram_sign_rows
from verify.checker.fields import _ints

__all__ = ["check_closed_form", "sq_norm_le"]


def sq_norm_le(XT: list[list[int]], xe: int, a: list[int], aden: int, s: Fraction) -> bool:
    """Exact test ``||X^T a||^2 <= s^2`` with ``X = XI * 2**xe`` given by its columns ``XT``
    (integers) and ``a = a_int / aden``.

    Examples
    --------
    >>> sq_norm_le([[1, 0], [0, 1]], 0, [3, 4], 1, Fraction(49, 10))
    False
    """
    return norm_le([sum(map(mul, a, col)) for col in XT], aden, xe, s)


def check_closed_form(XI: list[list[int]], xe: int, y: list[int], lam: list[Fraction],
                      s: Fraction, fail: Any, where: str) -> None:
    N = len(XI)
    rows_ok = gram_sign_rows(XI, y)
    for n in range(N):
        if rows_ok[n]:
            continue
        for m in range(N):
            g = sum(map(mul, XI[n], XI[m]))
            if y[n] == y[m] and g <= 0 and m >= n:
                fail("orthogonal-separability", f"{where}: samples {n} and {m} have the "
                     "same label but x_n . x_m <= 0")
            elif y[n] != y[m] and g > 0 and (m > n or rows_ok[m]):
                fail("orthogonal-separability", f"{where}: samples {n} and {m} have "
                     "different labels but x_n . x_m > 0")
    li, lden = _ints(lam, where + ".lambda")
    XT = [list(c) for c in zip(*XI)]
    for sign in (1, -1):
        mu = [sign * li[n] if y[n] == sign else 0 for n in range(N)]
        if not sq_norm_le(XT, xe, mu, lden, s):
            fail("closed-form-norm", f"{where}: ||X_{'+' if sign > 0 else '-'}^T mu|| > s")
