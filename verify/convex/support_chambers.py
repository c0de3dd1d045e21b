"""The dual oracle and the evidence over the chambers of ``X_S``, ``S = supp lam``.

Dual feasibility only involves the support: ``lam^T (Xu)_+ = sum_{n in S} lam_n (x_n^T u)_+``,
so ``s_+-(lam) = max_{||u||<=1} +-lam^T (Xu)_+`` is a maximum over the chambers of the
arrangement of the rows ``X_S`` alone (a chamber of ``X_S`` is a union of chambers of ``X``).
When that arrangement is small (its count, or Cover's bound, within a limit: decided before
anything is enumerated) its exact chamber list, with its proven count, replaces the
branch-and-bound tree of :mod:`verify.convex.branch_and_bound`:

* as the **oracle** of column generation (:func:`support_maximize`): the Lemma-4 value of every
  chamber of ``X_S`` by :func:`verify.convex.chamber_oracle.oracle` (exact NNLS above the
  target, vectorised screening below it); the maximiser ``u = r/||r||`` (``r`` the NNLS
  residual of the best chamber) and the pattern ``X v >= 0`` on **all** rows of ``X`` of a
  point ``v`` strictly inside a chamber of ``X`` whose closure holds ``u`` (that chamber of
  ``X`` has value ``>= lam^T (Xu)_+`` at ``u``: it is the violated pattern to add);
* as **certificate evidence** (:func:`support_evidence`, method ``support-chambers``):
  the support, the chamber list of ``X_S`` with its count proof and per-chamber Lemma-4
  multipliers for ``lam_S``; ``s`` is the rigorous
  :func:`verify.convex.bounds.certified_dual_norm` of ``(X_S, lam_S)``.

:class:`SupportOracle` is what the branch-and-bound route
(:func:`verify.convex.column_generation_bab.solve_branch_and_bound`) calls: the chambers of
``X_S`` when they fit, else :func:`verify.convex.branch_and_bound.bab_maximize`; the chamber
lists are cached per support.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [5.0, -3.0]])
>>> lam = np.array([1.0, 1.0, -1.0, 0.0])     # row 3 is outside the support
>>> plus, minus = support_maximize(X, lam)
>>> round(plus.upper, 12), round(2 ** -0.5, 12), plus.n_chambers, plus.status
(0.707106781187, 0.707106781187, 6, 'proved')
>>> from verify.convex.branch_and_bound import bab_maximize
>>> abs(minus.upper - bab_maximize(X, lam, sign=-1).upper) < 1e-12
True
>>> len(plus.pattern), plus.interior        # the pattern covers every row of X
(4, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from verify.convex.bounds import certified_dual_norm
from verify.convex.branch_and_bound import BabResult, _check, bab_maximize
from verify.convex.branch_and_bound_evidence import BabEvidence, evidence_from_results
from verify.convex.chamber_oracle import chamber_walls, nnls_slack, oracle
from verify.convex.local_search import _interior_pattern, objective
from verify.convex.node_bound import SdpPolicy
from verify.errors import EnumerationLimitError, InputError
from verify.geometry.chambers import Chambers, enumerate_chambers

__all__ = [
    "ORACLE_LIMIT",
    "SupportChamberEvidence",
    "SupportOracle",
    "SupportResult",
    "evidence_summary",
    "support_chambers",
    "support_evidence",
    "support_maximize",
]

#: Largest chamber count of ``X_S`` the oracle enumerates in every round (the evidence at the
#: end may use up to the route's ``--limit``).
ORACLE_LIMIT = 20_000
#: Chambers whose NNLS value is recomputed per sign (the best ones), see :func:`_one_sign`.
_REFINE = 64


@dataclass(frozen=True)
class SupportResult:
    """One sign of :func:`support_maximize`: the same answer as a
    :class:`~verify.convex.branch_and_bound.BabResult`, from the chambers of ``X_S``.

    Attributes
    ----------
    upper : float
        ``max_{||u||<=1} sign * lam^T (Xu)_+`` (float Lemma-4 values: exact NNLS for the
        chambers above the target, upper bounds ``<= target`` for the others).
    lower, value : float
        ``max(0, value)`` and ``sign * lam^T (X u)_+`` at ``u``.
    u : ndarray (d,)
        The maximiser (unit norm, in the closed cone of chamber ``chamber`` of ``X_S``).
    pattern : ndarray of bool (N,)
        ``X v >= 0`` on all rows for ``v`` strictly inside a chamber of ``X`` whose closure
        holds ``u`` (``interior`` False: none was found and ``v = u``).
    status : str
        ``'proved'`` (``upper <= target``, or no target), ``'violated'`` (``lower >
        stop_above``) or ``'exceeded'`` (above ``prove_below``).
    chamber : int
        The maximising chamber of ``X_S``; ``n_chambers`` their (proven) number.
    others : list
        Always empty (the branch and bound's other violators; here only the maximiser).
    """

    upper: float
    lower: float
    value: float
    u: np.ndarray = field(repr=False)
    pattern: np.ndarray = field(repr=False)
    interior: bool
    status: str
    reason: str
    support: np.ndarray = field(repr=False)
    sign: int
    chamber: int
    n_chambers: int
    seconds: float = 0.0
    nodes: int = 0  # no branch-and-bound nodes: the loop's node counts stay honest
    complete: bool = True
    others: list = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class SupportChamberEvidence:
    """Exact evidence ``s >= max_{||u||<=1} |lam^T (Xu)_+|`` from the chambers of ``X_S``.

    ``support`` is ``S`` (sample indices, increasing), ``chambers`` the complete, proven
    chamber list of ``X[support]`` (bit ``k`` of a pattern is row ``support[k]``), ``s`` the
    rigorous bound of :func:`verify.convex.bounds.certified_dual_norm` on ``(X_S, lam_S)``.
    The certificate builder writes it as the method ``support-chambers``.
    """

    support: tuple[int, ...]
    chambers: Chambers = field(repr=False)
    s: Fraction
    method: str = "support-chambers"
    complete: bool = True


def _support(X: np.ndarray, lam: np.ndarray) -> np.ndarray:
    return np.flatnonzero(lam)


def _support_list(X: np.ndarray, lam: np.ndarray, chambers: Chambers | None,
                  limit: int) -> tuple[np.ndarray, Chambers]:
    """``(S, chambers of X_S)``: the given list (checked against ``X_S``'s shape) or the
    enumerated one; :class:`EnumerationLimitError` when it is beyond ``limit``."""
    S = _support(X, lam)
    ch = chambers if chambers is not None else support_chambers(X, lam, limit=limit)
    if ch is None:
        raise EnumerationLimitError(f"the chambers of X_S (|S| = {S.size}) are beyond "
                                    f"limit={limit} or the support is empty")
    if ch.n_samples != S.size or ch.n_features != X.shape[1]:
        raise InputError(f"chambers: a list of {ch.n_samples} x {ch.n_features} rows, the "
                         f"support has {S.size} x {X.shape[1]}")
    return S, ch


def support_chambers(X: Any, lam: Any, *, limit: int = ORACLE_LIMIT) -> Chambers | None:
    """The complete chamber list of ``X_S`` (``S = supp lam``), or ``None`` when its count (or
    Cover's bound, tried first) exceeds ``limit``, the support is empty, or the list is not
    proven complete.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> len(support_chambers(X, np.array([1.0, 0.0, -1.0])))  # two lines: 4 chambers
    4
    >>> support_chambers(X, np.array([1.0, 1.0, -1.0]), limit=5) is None  # 6 > 5
    True
    """
    X, lam = _check(X, lam)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InputError(f"limit: expected a positive integer, received {limit!r}")
    S = _support(X, lam)
    if S.size == 0:
        return None
    try:
        ch = enumerate_chambers(X[S], limit=limit)
    except EnumerationLimitError:
        return None
    return ch if ch.complete else None


def _one_sign(X: np.ndarray, lam: np.ndarray, S: np.ndarray, ch: Chambers, P: np.ndarray,
              values: np.ndarray, k: int, stop_above: float | None,
              prove_below: float | None, t0: float) -> SupportResult:
    sign = 1 if k == 0 else -1
    XS = X[S]
    # the oracle's values are upper bounds (exact up to rounding; a one-row slack loses
    # ~sqrt(eps) ||v|| to cancellation): NNLS again on the chambers in decreasing order of
    # their value until the next value cannot beat the best residual norm found
    order = np.argsort(-values[:, k], kind="stable")
    best, j, r = -1.0, int(order[0]), np.zeros(X.shape[1])
    upper = None
    for t, jj in enumerate(order.tolist()):
        if values[jj, k] <= best:
            upper = best
            break
        if t == _REFINE:
            upper = max(best, float(values[jj, k]))
            break
        D = P[jj]
        A = np.where(D, 1.0, -1.0)[:, None] * XS
        v = sign * (XS.T @ np.where(D, lam[S], 0.0))
        z, val, _ = nnls_slack(A, v)
        if val > best:
            best, j, r = val, jj, v + A.T @ z
    if upper is None:
        upper = best
    nr = float(np.linalg.norm(r))
    if nr > 0:
        u = r / nr
    else:  # the value is 0: any point of the chamber is a maximiser
        w = np.asarray([float(q) for q in ch.witness(j)])
        u = w / np.linalg.norm(w)
    value = objective(X, lam, u, sign)
    lower = max(value, 0.0)
    upper = max(upper, lower)
    pattern, interior = _interior_pattern(X, u)
    target = prove_below if prove_below is not None else stop_above
    if stop_above is not None and lower > stop_above:
        status, reason = "violated", f"a point of value {lower:.9g} > {stop_above:.9g}"
    elif target is None or upper <= target:
        status, reason = "proved", f"maximum {upper:.9g} over {len(ch)} chambers of X_S"
    else:
        status, reason = "exceeded", f"maximum {upper:.9g} > {target:.9g}"
    return SupportResult(upper, lower, value, u, pattern, interior, status, reason, S, sign, j,
                         len(ch), time.monotonic() - t0)


def support_maximize(X: Any, lam: Any, *, chambers: Chambers | None = None,
                     stop_above: float | None = None, prove_below: float | None = None,
                     limit: int = ORACLE_LIMIT,
                     executor: Any = None) -> tuple[SupportResult, SupportResult]:
    """``max_{||u||<=1} +-lam^T (Xu)_+`` over the chambers of ``X_S``: ``(plus, minus)``.

    Parameters
    ----------
    chambers : Chambers, optional
        The complete chamber list of ``X[supp lam]`` (:func:`support_chambers`); computed
        here when not given.
    stop_above, prove_below : float, optional
        The target (``prove_below`` first): chambers whose Lemma-4 value is ``<= target`` are
        only screened (their values are upper bounds ``<= target``), the others get exact
        NNLS values.  Without a target every chamber gets its exact (float) value.
    limit : int
        Chambers of ``X_S`` enumerated at most (when ``chambers`` is not given).
    executor : optional
        Runs the NNLS problems (:func:`verify.convex.chamber_oracle.oracle`); same result.

    Raises
    ------
    EnumerationLimitError
        ``X_S`` has more than ``limit`` chambers (or the support is empty).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> plus, minus = support_maximize(X, np.array([3.0, 4.0]), stop_above=1.0)
    >>> plus.status, round(plus.lower, 12), plus.pattern.tolist(), minus.status
    ('violated', 5.0, [True, True], 'proved')
    """
    t0 = time.monotonic()
    X, lam = _check(X, lam)
    for name, v in (("stop_above", stop_above), ("prove_below", prove_below)):
        if v is not None and not (isinstance(v, (int, float)) and np.isfinite(v)):
            raise InputError(f"{name}: expected a finite number, received {v!r}")
    S, ch = _support_list(X, lam, chambers, limit)
    P = ch.pattern_matrix()
    target = prove_below if prove_below is not None else stop_above
    if target is None:
        res = oracle(X[S], lam[S], P, exact_values=True, executor=executor)
    else:
        res = oracle(X[S], lam[S], P, threshold=float(target), walls=chamber_walls(X[S], P),
                     executor=executor)
    return tuple(_one_sign(X, lam, S, ch, P, res.values, k, stop_above, prove_below, t0)
                 for k in (0, 1))  # type: ignore[return-value]


def support_evidence(X: Any, lam: Any, *, chambers: Chambers | None = None,
                     limit: int = ORACLE_LIMIT, executor: Any = None) -> SupportChamberEvidence:
    """Exact ``s`` of ``lam`` from the chambers of ``X_S`` (:class:`SupportChamberEvidence`).

    The slack multipliers are those of the certificate's chamber evidence (NNLS on each
    chamber's walls, :func:`verify.convex.chamber_oracle.oracle` with ``keep_slack``) and
    ``s`` is their :func:`verify.convex.bounds.certified_dual_norm` on ``(X_S, lam_S)``:
    ``s >= max_{||u||<=1} |lam^T (Xu)_+|`` rigorously, since ``lam`` vanishes off ``S``.

    Raises
    ------
    EnumerationLimitError
        ``X_S`` has more than ``limit`` chambers (or the support is empty).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> ev = support_evidence(X, np.array([1.2, 0.0, -1.6]))
    >>> ev.support, len(ev.chambers), abs(float(ev.s) - 2.72 ** 0.5) < 1e-15  # ||(0.4, 1.6)||
    ((0, 2), 4, True)
    >>> float(support_evidence(X, np.array([0.6, 0.0, -0.8])).s) <= 1  # below 1: float-certified
    True
    """
    X, lam = _check(X, lam)
    S, ch = _support_list(X, lam, chambers, limit)
    XS, lamS = X[S], lam[S]
    P = ch.pattern_matrix()
    res = oracle(XS, lamS, P, keep_slack=True, executor=executor, walls=chamber_walls(XS, P))
    zp: list[Any] = [None] * P.shape[0]
    zm: list[Any] = [None] * P.shape[0]
    for (j, sg), z in res.slack.items():
        if z.indices:
            (zp if sg > 0 else zm)[j] = z
    s, _ = certified_dual_norm(XS, lamS, P, zp, zm)
    return SupportChamberEvidence(tuple(int(n) for n in S.tolist()), ch, s)


class SupportOracle:
    """The branch-and-bound route's dual oracle: the chambers of ``X_S`` when they fit, else
    branch and bound; chamber lists cached per support.

    ``oracle_limit``: chambers of ``X_S`` enumerated per round for the oracle (``0``: always
    branch and bound); ``evidence_limit``: for the final evidence (``0``: always trees);
    ``sdp``: the semidefinite node bound's policy (:class:`~verify.convex.node_bound.SdpPolicy`)
    for the searches that prove a target (not those that look for a violator, nor the
    ``refine`` ones: :func:`verify.convex.tree_dual.tree_dual` reads their leaves' chords).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> so = SupportOracle(X, oracle_limit=100, evidence_limit=100)
    >>> plus, minus = so.maximize(np.array([0.6, 0.0, -0.8]), prove_below=1.0)
    >>> type(plus).__name__, plus.status, type(so.evidence(np.array([0.6, 0.0, -0.8]),
    ...                                                    plus, minus)).__name__
    ('SupportResult', 'proved', 'SupportChamberEvidence')
    >>> plus, minus = SupportOracle(X, oracle_limit=0).maximize(np.array([0.6, 0.0, -0.8]))
    >>> type(plus).__name__
    'BabResult'
    """

    def __init__(self, X: Any, *, oracle_limit: int = ORACLE_LIMIT,
                 evidence_limit: int = ORACLE_LIMIT, executor: Any = None,
                 sdp: SdpPolicy | None = None) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.sdp = sdp
        for name, v in (("oracle_limit", oracle_limit), ("evidence_limit", evidence_limit)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InputError(f"{name}: expected an integer >= 0, received {v!r}")
        self.oracle_limit, self.evidence_limit = oracle_limit, evidence_limit
        self.executor = executor
        self._cache: dict[bytes, tuple[int, Chambers | None]] = {}

    def chambers(self, lam: np.ndarray, limit: int) -> Chambers | None:
        """The chambers of ``X_S`` if their number is at most ``limit`` (cached)."""
        if limit < 1:
            return None
        S = _support(self.X, lam)
        key = S.astype(np.int64).tobytes()
        hit = self._cache.get(key)
        if hit is not None and (hit[1] is not None or hit[0] >= limit):
            ch = hit[1]
            return ch if ch is None or len(ch) <= limit else None
        ch = support_chambers(self.X, lam, limit=limit)
        self._cache[key] = (limit, ch)
        return ch

    def maximize(self, lam: Any, *, stop_above: float | None = None,
                 prove_below: float | None = None, node_limit: int = 200_000,
                 time_limit: float | None = None, refine: bool = False, collect: int = 0,
                 explore: int = 0) -> tuple[Any, Any]:
        """``(plus, minus)`` for ``+-lam``: :class:`SupportResult` from the chambers of
        ``X_S`` if they fit ``oracle_limit``, else two
        :class:`~verify.convex.branch_and_bound.BabResult` (``time_limit`` seconds for both
        together, ``node_limit`` nodes each, ``refine``, ``collect`` and ``explore`` passed
        on)."""
        lam = np.asarray(lam, dtype=np.float64)
        ch = self.chambers(lam, self.oracle_limit)
        if ch is not None:
            return support_maximize(self.X, lam, chambers=ch, stop_above=stop_above,
                                    prove_below=prove_below, executor=self.executor)
        t0 = time.monotonic()
        kw = dict(stop_above=stop_above, prove_below=prove_below, node_limit=node_limit,
                  executor=self.executor, refine=refine, collect=collect, explore=explore,
                  sdp=self.sdp if prove_below is not None and stop_above is None and not refine
                  else None)
        half = None if time_limit is None else time_limit / 2
        plus = bab_maximize(self.X, lam, sign=1, time_limit=half, **kw)
        rest = None if time_limit is None else max(time_limit - (time.monotonic() - t0), 0.0)
        minus = bab_maximize(self.X, lam, sign=-1, time_limit=rest, **kw)
        return plus, minus

    def evidence(self, lam: Any, plus: Any, minus: Any) -> SupportChamberEvidence | BabEvidence:
        """The final evidence of ``lam``: the chambers of ``X_S`` when they fit
        ``evidence_limit`` (a complete proof whatever the searches did), else the exact
        trees of the two branch-and-bound searches ``plus``, ``minus``."""
        lam = np.asarray(lam, dtype=np.float64)
        ch = self.chambers(lam, max(self.evidence_limit, 0))
        if ch is not None:
            return support_evidence(self.X, lam, chambers=ch, executor=self.executor)
        if not (isinstance(plus, BabResult) and isinstance(minus, BabResult)):
            # the oracle ran on the chambers but the evidence limit is smaller: trees now
            plus = bab_maximize(self.X, lam, sign=1, executor=self.executor,
                                prove_below=plus.upper)
            minus = bab_maximize(self.X, lam, sign=-1, executor=self.executor,
                                 prove_below=minus.upper)
        return evidence_from_results(self.X, lam, plus, minus)


def evidence_summary(ev: Any, plus: Any, minus: Any, N: int) -> str:
    """One line for the route's message: what proves ``s``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> lam = np.array([1.2, 0.0, -1.6])
    >>> evidence_summary(support_evidence(X, lam), None, None, 3)
    'support chambers: support 2 of 3 samples, 4 chambers of X_S (proven count), s = 1.64924225'
    """
    if isinstance(ev, SupportChamberEvidence):
        return (f"support chambers: support {len(ev.support)} of {N} samples, "
                f"{len(ev.chambers)} chambers of X_S (proven count), s = {float(ev.s):.9g}")
    nodes = plus.nodes + minus.nodes
    return (f"branch and bound: support {len(ev.evidence['support'])} of {N} samples, "
            f"{nodes} nodes, s = {float(ev.s):.9g}")
