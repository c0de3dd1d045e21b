"""The oracle step of the branch-and-bound route: a support-exact ``lam``, priced in-out.

Each round of :func:`verify.convex.column_generation_bab.solve_branch_and_bound` asks the dual
oracle (:class:`verify.convex.support_chambers.SupportOracle`: the chambers of ``X_S`` or the
branch and bound) whether some pattern is violated at the restricted program's ``lam``:

* the oracle sees **support-exact** points (:func:`exact_support`: projected onto
  ``diag(y) lam >= 0``, entries below ``SUPPORT_REL * max |lam|`` set to 0), so it and the
  certificate see only ``S = supp lam``;
* **in-out pricing** (Ben-Ameur & Neto 2007; :func:`_price`): the oracle asks at
  ``a lam_in + (1 - a) lam``, ``lam_in`` the best dual-feasible point so far; a pattern violated
  there is violated at ``lam`` (a new column), a proof there is a better ``lam_in`` (a
  mis-pricing), and after :data:`_MISPRICES` of them in a row it asks at ``lam`` itself;
* :func:`_estimate` is a point's float lower bound ``y^T lam / max(1, s_upper)``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from verify.convex.bounds import project_lambda

__all__ = ["SUPPORT_REL", "exact_support"]

#: ``lam_n`` with ``|lam_n| <= SUPPORT_REL * max |lam|`` is set to 0 (the support is exact).
SUPPORT_REL = 1e-9
#: Mis-pricings in a row before the oracle asks at the program's ``lam`` itself.
_MISPRICES = 6
#: Several columns per round: after its first violator each search expands ``_EXPLORE``
#: more nodes, and up to ``_COLLECT`` other violated patterns it met join the working set
#: with the best one (the first violator is often barely above 1 where the maximum is 2-3).
_COLLECT, _EXPLORE = 4, 256


def exact_support(y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``lam`` projected onto ``diag(y) lam >= 0`` with its tiny entries set to 0.

    Examples
    --------
    >>> exact_support(np.array([1.0, -1.0, 1.0]), np.array([2.0, 1e-12, -0.5])).tolist()
    [2.0, 0.0, 0.0]
    """
    lam = project_lambda(y, lam)
    top = float(np.abs(lam).max(initial=0.0))
    return np.where(np.abs(lam) > SUPPORT_REL * top, lam, 0.0)


def _estimate(y: np.ndarray, lam: np.ndarray, plus: Any, minus: Any) -> float:
    return float(y @ lam) / max(1.0, plus.upper, minus.upper)


def _center(best: tuple) -> np.ndarray:
    """``lam_in``: the best point's ``lam`` scaled to its proven ``s <= 1``."""
    return best[1] / max(1.0, best[2].upper, best[3].upper)


def _price(dual: Any, y: np.ndarray, lam: np.ndarray, best: tuple | None, alpha: float,
           thr: float, gap: float | None, node_limit: int, deadline: float | None,
           cap: float | None) -> tuple[np.ndarray, Any, Any, tuple, float, bool]:
    """One oracle step of the loop with in-out pricing: ``(point, plus, minus, best, alpha,
    converged)``.

    The oracle asks at ``a lam_in + (1 - a) lam`` (``lam_in`` from ``best``, the best
    ``(bound, lam, plus, minus)`` so far, updated here).  A proof there (a mis-pricing: no
    violated pattern) makes that point the new best ``lam_in``, so the next point is ``alpha``
    times closer to ``lam``; after ``_MISPRICES`` of them in a row the oracle asks at ``lam``
    itself (where a proof converges, as without stabilisation).  It returns at a violator
    (in ``plus``/``minus``), or ``converged`` when a proved point's bound is within ``gap``
    (relative) of ``y^T lam`` (``gap=None``: only at ``lam``, e.g. while ``lam``'s program
    still misses rows).  ``y^T lam`` is an upper bound only when its program is whole and
    solved accurately: a proved bound above it (or a mis-pricing that gains nothing) shows it
    is not, and then the oracle asks at ``lam`` itself at once (its violators are new columns).
    A proof at ``lam`` converges on the best proved point seen (``lam``'s own unless an earlier
    one is better).  A search at an in-out
    point gets at most ``cap`` seconds; when it is cut without a violator (proofs near
    feasibility are too costly here) ``alpha`` becomes 0: the oracle asks at ``lam`` from then
    on.
    """
    k = 0  # mis-pricings in a row
    while True:
        a = alpha if best is not None and k < _MISPRICES else 0.0
        inout = a > 0.0
        sep = exact_support(y, a * _center(best) + (1.0 - a) * lam) if inout else lam
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        limit = min(cap, left) if inout and cap is not None and left is not None else left
        plus, minus = dual.maximize(sep, stop_above=thr, prove_below=thr,
                                    node_limit=node_limit, time_limit=limit,
                                    collect=_COLLECT, explore=_EXPLORE)
        est = _estimate(y, sep, plus, minus)  # this point's (float) lower bound
        gain = best is None or est > best[0]
        if gain:
            best = (est, sep, plus, minus)
        proved = plus.status == "proved" and minus.status == "proved"
        if proved and not inout:
            if best[0] > est and best[2].status == best[3].status == "proved":
                return best[1], best[2], best[3], best, alpha, True  # lam's program misses rows
            return sep, plus, minus, best, alpha, True
        if proved:
            value = float(y @ lam)
            sound = est <= thr * value  # else lam's value is no upper bound (rows, accuracy)
            if sound and gap is not None and est >= (1.0 - gap) * value:
                return sep, plus, minus, best, alpha, True
            # a mis-pricing: the next point is closer to lam, or lam itself when this one
            # gained nothing or lies above lam's value (no progress towards lam is possible)
            k = k + 1 if sound and gain else _MISPRICES
        else:
            found = any(r.status in ("violated", "exceeded") and r.lower > thr
                        for r in (plus, minus))
            if not (inout and not found and "budget" in (plus.status, minus.status)):
                return sep, plus, minus, best, alpha, False
            alpha = 0.0
        if deadline is not None and time.monotonic() >= deadline:
            return sep, plus, minus, best, alpha, False
