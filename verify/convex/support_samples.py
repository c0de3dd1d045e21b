"""Program (14) by a working set of samples, each subproblem by the chamber route.

``P*_T`` of a subset ``T`` of the samples has a dual-feasible ``lam`` that vanishes off ``T``
(dual feasibility only involves ``supp lam``, :mod:`verify.convex.support_chambers`), so
``P*_T <= P*``; its optimal network is optimal for all the data once its margin is ``>= 1`` on
every sample.  :func:`solve_by_samples` grows ``T`` by the samples of smallest margin until
then and ends with the support-chamber evidence of the final ``lam``.  The route choice
(:func:`verify.convex.routes.solve_binary`) tries it beyond the chamber limit in low rank.

Below the limit, after column generation over the whole chamber list,
:func:`with_support_evidence` swaps that list (the certificate's evidence) for the chambers of
``X_S``, ``S = supp lam``, when they are clearly fewer and the lower bound does not get weaker.
"""

from __future__ import annotations

import dataclasses
import time
from fractions import Fraction
from typing import Any

import numpy as np

from verify.convex.bounds import _check_binary, exact_yT_lam
from verify.convex.column_generation import column_generation
from verify.convex.inout_pricing import exact_support
from verify.convex.programs import ConvexSolution, _network_ub
from verify.convex.support_chambers import (
    SupportChamberEvidence,
    evidence_summary,
    support_chambers,
    support_evidence,
)
from verify.errors import EnumerationLimitError, InputError, SolverError
from verify.geometry.chambers import Chambers, enumerate_chambers
from verify.status import Status

__all__ = ["SUPPORT_LOSS", "SUPPORT_SHARE", "solve_by_samples", "with_support_evidence"]

#: :func:`with_support_evidence` keeps the whole chamber list unless the chambers of ``X_S``
#: number at most ``1 / SUPPORT_SHARE`` of it ...
SUPPORT_SHARE = 2
#: ... and the support evidence's exact lower bound is at least ``(1 - SUPPORT_LOSS)`` times
#: that of the whole list (the support-exact ``lam`` drops entries of ``~1e-9 max |lam|``, whose
#: share of ``y^T lam`` is solver noise; the re-solve on ``X_S`` usually gains it back).
SUPPORT_LOSS = Fraction(1, 10**9)


def solve_by_samples(X: Any, y: Any, *, limit: int = 200_000, solver: Any = None,
                     start: Any = None, first: int = 100, grow: int = 30,
                     max_rounds: int = 40, budget: float | None = None,
                     executor: Any = None, max_support: float | None = None) -> Any:
    """Program (14) by a working set of **samples**, each subproblem by the chamber route.

    ``P*_T`` of the samples ``T`` is a lower bound of ``P*`` with a dual-feasible ``lam`` that
    vanishes off ``T`` (dual feasibility only involves ``supp lam``); its optimal network is
    optimal for all the data as soon as it has margin ``>= 1`` on every sample.  So: solve
    ``(X_T, y_T)`` exactly (column generation over the chambers of ``X_T``, at most ``limit``),
    add the ``grow`` samples of smallest margin below 1, repeat.  The final ``lam`` gets the
    support-chamber evidence (:func:`support_evidence`, the chambers of ``X_S``, ``S`` inside
    ``T``) and the network its exact ``UB`` on all samples; ``LB <= P* <= UB`` holds whatever
    happens.  Cheap when the chambers of the working sets are (low rank, small supports).

    The first ``T``: the ``first`` samples of smallest margin of the network ``start`` (first
    layer ``(d, m)``, second layer fitted by least squares) when given, else the ``first``
    samples of smallest ``|x_n^T w|`` for the least-squares direction ``w``.  ``max_support``
    (a share): give up (``None``) at the first working set whose support-exact ``lam`` has
    more than that share of it in its support (the working sets would grow to all the data).

    Returns
    -------
    ConvexSolution or None
        ``method == "column-generation"`` with a :class:`SupportChamberEvidence`; ``None``
        when ``first >= N``, a working set's chambers exceed ``limit``, a subproblem is not
        solved to optimality (or the solver fails on it), the support exceeds
        ``max_support``, or the rounds or the budget run out (the caller falls back).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3)); y = np.sign(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.3)
    >>> sol = solve_by_samples(X, y, first=15, grow=10)
    >>> ref = column_generation(X, y, chambers=enumerate_chambers(X))
    >>> abs(sol.value - ref.value) < 1e-6 * ref.value, type(sol.evidence).__name__
    (True, 'SupportChamberEvidence')
    """
    X, y = _check_binary(X, y)
    N, d = X.shape
    t0 = time.monotonic()
    if first >= N:  # the first working set would be all the data
        return None
    if start is not None:
        W = np.asarray(start, dtype=np.float64).reshape(d, -1)
        H = np.maximum(X @ W, 0.0)
        v = np.linalg.lstsq(H, y, rcond=None)[0]
        score = y * (H @ v)
    else:
        w = np.linalg.lstsq(X, y, rcond=None)[0]
        score = np.abs(X @ w)
    T = np.sort(np.argsort(score, kind="stable")[: min(N, first)])
    sol = None
    rounds = 0
    while True:
        if rounds >= max_rounds or (budget is not None and time.monotonic() - t0 > budget):
            return None
        rounds += 1
        try:
            ch = enumerate_chambers(X[T], limit=limit)
        except EnumerationLimitError:
            return None
        if not ch.complete:
            return None
        try:
            sol = column_generation(X[T], y[T], chambers=ch, solver=solver, executor=executor)
        except SolverError:  # a subproblem the solver cannot do: the caller falls back
            return None
        if sol.status != Status.OPTIMAL or not sol.neurons:
            return None
        if max_support is not None and np.count_nonzero(
                exact_support(y[T], sol.lam)) > max_support * T.size:
            return None  # most of the working set is in the support: it will not stay small
        W1 = np.column_stack([n.w1 for n in sol.neurons])
        w2 = np.array([n.w2 for n in sol.neurons])
        margin = y * (np.maximum(X @ W1, 0.0) @ w2)
        out = np.setdiff1d(np.flatnonzero(margin < 1.0 - 1e-9), T)
        if out.size == 0:
            break
        T = np.union1d(T, out[np.argsort(margin[out], kind="stable")][:grow])
    lam = np.zeros(N)
    lam[T] = sol.lam
    lam = exact_support(y, lam)
    ev = support_evidence(X, lam, limit=limit, executor=executor)
    lb = exact_yT_lam(y, lam) / max(Fraction(1), ev.s)
    neurons = tuple(dataclasses.replace(n, pattern=None) for n in sol.neurons)
    ub, neurons = _network_ub(X, y, neurons)
    msg = (f"working set of {T.size} of {N} samples after {rounds} rounds (chambers of each "
           f"working set, at most {len(ch)}); {evidence_summary(ev, None, None, N)}")
    info = {**sol.solver, "seconds": time.monotonic() - t0}
    closed = ub is not None and ub > 0 and (ub - lb) / ub <= Fraction(1, 10**6)
    status = Status.OPTIMAL if closed else Status.RESTRICTED
    return ConvexSolution(sol.value, lb, ub, status, "column-generation", lam, neurons,
                          info, rounds, T.size, len(ch), float(ev.s), msg, evidence=ev)


def with_support_evidence(X: Any, y: Any, sol: ConvexSolution, chambers: Chambers, *,
                          solver: Any = None, executor: Any = None) -> ConvexSolution | None:
    """The converged column-generation solution ``sol`` over the complete chamber list
    ``chambers`` of ``X``, with the chambers of ``X_S`` (``S = supp lam``) as its evidence
    instead, or ``None`` when the whole list is to be kept.

    ``lam`` is made support-exact (:func:`verify.convex.inout_pricing.exact_support`);
    when the chambers of ``X_S`` number at most ``len(chambers) // SUPPORT_SHARE`` (decided by
    their exact count before they are enumerated) that ``lam`` gets the exact support-chamber
    evidence (:func:`verify.convex.support_chambers.support_evidence`) and ``LB = y^T lam /
    max(1, s)`` exactly.  When that is below ``(1 - SUPPORT_LOSS) sol.lower_bound``, the
    optimum of the subproblem ``(X_S, y_S)`` by column generation over the same chambers is
    tried too (``P*_S <= P*``: a dual-feasible ``lam`` that vanishes off ``S``, usually with a
    tighter bound, since its solve is small), and the better of the two is kept.  The result
    is returned when its ``LB >= (1 - SUPPORT_LOSS) sol.lower_bound``.
    The network, its ``UB``, the value and the status are ``sol``'s.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((60, 3)); W = rng.standard_normal((3, 4))
    >>> y = np.where(np.maximum(X @ W, 0) @ np.array([1.0, -1.0, 1.0, -1.0]) >= 0, 1.0, -1.0)
    >>> ch = enumerate_chambers(X)
    >>> full = column_generation(X, y, chambers=ch)
    >>> sup = with_support_evidence(X, y, full, ch)
    >>> len(ch), len(sup.evidence.chambers), len(sup.evidence.support)
    (3542, 58, 8)
    >>> sup.lower_bound >= full.lower_bound * (1 - SUPPORT_LOSS)
    True
    >>> sup.upper_bound == full.upper_bound, sup.value == full.value
    (True, True)
    """
    X, y = _check_binary(X, y)
    N = X.shape[0]
    if (sol.status != Status.OPTIMAL or sol.lower_bound is None or not chambers.complete
            or chambers.n_samples != N):
        return None
    limit = len(chambers) // SUPPORT_SHARE
    lam = exact_support(y, sol.lam)
    S = np.flatnonzero(lam)
    if limit < 1 or S.size == 0:
        return None
    chS = support_chambers(X, lam, limit=limit)
    if chS is None:
        return None
    floor = (1 - SUPPORT_LOSS) * sol.lower_bound
    best = _support_bound(X, y, lam, chS, executor)
    if best[0] < floor:
        # the dropped entries cost more than solver noise: the optimum of (X_S, y_S) over the
        # same chambers (a small solve; usually a tighter bound than the whole list's)
        try:
            sub = column_generation(X[S], y[S], chambers=chS, solver=solver, executor=executor)
        except (SolverError, InputError):  # e.g. one class only on S: the projected lam alone
            sub = None
        if sub is not None and sub.status == Status.OPTIMAL:
            lam2 = np.zeros(N)
            lam2[S] = sub.lam
            lam2 = exact_support(y, lam2)
            same = np.array_equal(np.flatnonzero(lam2), S)
            ch2 = chS if same else support_chambers(X, lam2, limit=limit)
            if ch2 is not None:
                second = _support_bound(X, y, lam2, ch2, executor)
                if second[0] > best[0]:
                    best = second
    lb, lam, ev = best
    if lb < floor:
        return None
    msg = "; ".join(m for m in (sol.message, (
        f"{evidence_summary(ev, None, None, N)}, instead of the {len(chambers)} chambers of X "
        f"(the evidence of the certificate)")) if m)
    return dataclasses.replace(sol, lower_bound=lb, lam=lam, s=float(ev.s), message=msg,
                               evidence=ev)


def _support_bound(X: np.ndarray, y: np.ndarray, lam: np.ndarray, ch: Chambers,
                   executor: Any) -> tuple[Fraction, np.ndarray, SupportChamberEvidence]:
    """``(LB, lam, evidence)``: the exact ``y^T lam / max(1, s)`` of the support evidence."""
    ev = support_evidence(X, lam, chambers=ch, executor=executor)
    return exact_yT_lam(y, lam) / max(Fraction(1), ev.s), lam, ev
