"""The objective of a two-layer ReLU network on the data, bounded exactly: the upper bound
``UB(theta)`` of a certified model (rules ``model-margin`` and ``upper-bound``) and the
objective that a ``suboptimal`` verdict compares with its optimal network.

The objective is ``sum_i ||w1_i|| |w2_i| / min_n y_n f(x_n)`` with
``f(x) = sum_i w2_i (x . w1_i)_+``: the margin in exact rationals, the norms bounded above and
below with :func:`verify.checker.arithmetic.sqrt_bounds`.

Examples
--------
>>> from fractions import Fraction as F
>>> network_objective([[1, 0], [0, 1]], 0, [1, 1], [[F(1)], [F(1)]], [F(1)])[2:]
(0, Fraction(1, 1))
"""

from __future__ import annotations

from fractions import Fraction
from operator import mul

from verify.checker.arithmetic import sqrt_bounds
from verify.checker.fields import _ints

__all__ = ["network_objective"]


def network_objective(
    XI: list[list[int]], xe: int, y: list[int], W1: list[list[Fraction]], w2: list[Fraction]
) -> tuple[Fraction, Fraction, int, Fraction]:
    """``(UB, LB_obj, argmin sample, min margin)`` of a network: the objective
    ``sum ||w1_i|| |w2_i| / min_n y_n f(x_n)`` bounded above/below with :func:`sqrt_bounds`."""
    d, m = len(W1), len(w2)
    cols, wden = _ints([W1[k][i] for i in range(m) for k in range(d)])
    v2, vden = _ints(w2)
    best: Fraction | None = None
    arg = -1
    for n, row in enumerate(XI):
        f = 0
        for i in range(m):
            if v2[i]:
                pre = sum(map(mul, row, cols[i * d : (i + 1) * d]))
                if pre > 0:
                    f += pre * v2[i]
        mg = Fraction(y[n] * f, wden * vden) * (Fraction(2) ** xe)
        if best is None or mg < best:
            best, arg = mg, n
    assert best is not None
    hi = lo = Fraction(0)
    for i in range(m):
        if w2[i]:
            sq = sum((W1[k][i] ** 2 for k in range(d)), Fraction(0))
            b = sqrt_bounds(sq)
            lo += b[0] * abs(w2[i])
            hi += b[1] * abs(w2[i])
    if best <= 0:
        return Fraction(-1), Fraction(-1), arg, best
    return hi / best, lo / best, arg, best
