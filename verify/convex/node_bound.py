"""The node bound of the branch and bound: ``mu^T (Xu)_+`` bounded on a cone and the ball.

The search is :func:`verify.convex.branch_and_bound.bab_maximize` (``mu = sign * lam`` on the
support ``S``; positions are into ``S``).  :func:`_node_bound` gives a node's bound, its
multipliers, its branching row (the free unsettled ``mu_n > 0`` row with the largest chord gap
area, ``-1`` when the node is terminal) and a primal candidate (the relaxation's maximiser and
the branching row's Lemma-4 maximiser, improved by
:func:`verify.convex.local_search._local_search`); :func:`_bound_chunk` bounds a chunk of
nodes (picklable, for an executor).

* a **node** is a sign vector over ``S`` (0 = free) and its cone ``C = {u : sigma_n x_n^T u
  >= 0}``; rows fixed to +1 are linear, rows fixed to -1 vanish;
* **bound**: a free row with ``mu_n > 0`` is replaced by its concave chord
  ``(t)_+ <= a t + b`` on ``[l_n, h_n]``, where ``h_n = min_{z>=0} ||x_n + A^T z||`` and
  ``-l_n = min_{z>=0} ||-x_n + A^T z||`` (Lemma 4: the extreme values of ``x_n^T u`` on
  ``C`` and the ball; NNLS, skipped when ``z = 0`` is optimal); a free row with ``mu_n < 0``
  by ``mu_n (t)_+ <= mu_n alpha_n t``, ``alpha_n in [0, 1]``.  The node bound is
  ``B + min_{alpha in [0,1], z >= 0} ||c(alpha) + A^T z||`` (bounded least squares,
  :func:`_box_lsq`: one NNLS with ``alpha <= 1`` as penalty rows and an exact polish on its
  active set, :func:`scipy.optimize.lsq_linear`'s ``bvls`` only when the polish's KKT check
  fails); it is evaluated again from the clipped
  multipliers, so it is an upper bound by weak duality whatever the solver's accuracy (up to
  float rounding; :mod:`verify.convex.branch_and_bound_evidence` makes it exact).  When no free
  row with ``mu_n > 0`` is left the bound is the node's maximum (the objective is concave on
  ``C``; minimax), so the node is terminal;
* **reuse**: a child first tries its parent's ``(alpha, z)`` (no least squares if they
  already close it) and keeps each one-sided interval bound whose Lemma-4 maximiser satisfies
  the new split (still exact); a smaller cone keeps every parent's multiplier valid;
* **sign propagation**: a free row with ``h_n <= 0`` (or ``l_n >= 0``) has an exact chord
  (``a = 0, b = 0``, or ``a = 1, b = 0``): it is *settled*, never split, and its interval
  evidence is inherited by the descendants.  Adding it to the cone would change no Lemma-4
  value (the constraint is implied).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear, nnls

from verify.convex.local_search import _local_search
from verify.convex.semidefinite_bound import SdpBound, seconds_left, semidefinite_bound
from verify.errors import InputError

__all__ = ["DEFAULT_SDP_DEPTH", "SETTLE", "SdpPolicy", "sdp_policy"]

#: A row is settled when ``h_n <= SETTLE * ||x_n||`` or ``-l_n <= SETTLE * ||x_n||``.
SETTLE = 1e-12
#: Weight of the rows ``alpha + t = 1`` in the NNLS form of the node's bounded least squares.
_PENALTY = 1e4


@dataclass
class _Bound:
    """The float bound of one node (positions are into ``S``)."""

    bound: float
    z: np.ndarray  # (p,) over the path positions P (in sorted order)
    P: np.ndarray  # sorted path positions
    alpha: dict[int, float]
    intervals: dict[int, tuple]  # pos -> (l, h, zl, zh, rl, rh): rl, rh the residuals
    settled: frozenset[int]
    split: int
    cand_u: np.ndarray
    cand_val: float
    sdp: SdpBound | None = None  # the semidefinite bound, when it is below the chord's


def _lemma4(A: np.ndarray, v: np.ndarray) -> tuple[float, tuple[np.ndarray, np.ndarray],
                                                  np.ndarray]:
    """``||v + A^T z||`` at the NNLS minimiser (recomputed from the clipped ``z``), the sparse
    ``z`` as ``(row indices into A, values)`` and the residual ``v + A^T z``."""
    z, _ = nnls(A.T, -v)
    z = np.maximum(z, 0.0)
    nz = np.flatnonzero(z > 0)
    r = v + A[nz].T @ z[nz]
    return float(np.linalg.norm(r)), (nz, z[nz]), r


def _lemma4_many(A: np.ndarray, V: np.ndarray, P: np.ndarray
                 ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """:func:`_lemma4` for every row ``v`` of ``V`` (k, d): ``(values, z, residuals)`` with each
    ``z`` as ``(positions P[...], values)``.

    Vectorised screens first: ``z = 0`` when ``A v >= 0``; else the best one-row multiplier
    ``z = t e_m`` (``t = -a_m^T v / ||a_m||^2``) when its residual passes the KKT test
    ``A r >= 0`` (relative 1e-12; any ``z >= 0`` is a valid bound, the test only decides
    exactness); NNLS for the rest.
    """
    k = V.shape[0]
    R = V.copy()
    vals = np.linalg.norm(V, axis=1)
    empty = (np.zeros(0, np.int64), np.zeros(0))
    zs = [empty] * k
    if k == 0 or A.shape[0] == 0:
        return vals, zs, R
    G = V @ A.T  # (k, p)
    todo = np.flatnonzero((G < 0).any(axis=1))
    if todo.size == 0:
        return vals, zs, R
    an2 = np.einsum("ij,ij->i", A, A)
    an = np.sqrt(an2)
    Gt = G[todo]
    gain = np.where((Gt < 0) & (an2 > 0), Gt * Gt / np.where(an2 > 0, an2, 1.0), 0.0)
    j = np.argmax(gain, axis=1)
    t = -Gt[np.arange(todo.size), j] / an2[j]
    R1 = V[todo] + t[:, None] * A[j]
    n1 = np.linalg.norm(R1, axis=1)
    ok = ((R1 @ A.T) >= -1e-12 * n1[:, None] * an[None, :]).all(axis=1)
    for q, row in enumerate(todo.tolist()):
        if ok[q]:
            R[row], vals[row] = R1[q], n1[q]
            zs[row] = (P[j[q : q + 1]], t[q : q + 1])
        else:
            vals[row], (idx, zv), R[row] = _lemma4(A, V[row])
            zs[row] = (P[idx], zv)
    return vals, zs, R


def _node_bound(sig: np.ndarray, inherit: dict, XS: np.ndarray, mu: np.ndarray,
                norms: np.ndarray, warm: tuple | None = None, knew: int = -1) -> _Bound:
    """Bound, multipliers, branching row and primal candidate of the node ``sig``.

    ``inherit``: the parent's intervals ``{position: (l, h, zl, zh, rl, rh)}`` (valid: the cone
    only gained the row ``knew``); each one-sided bound whose maximiser ``+-(x_n + A^T z)``
    satisfies the new constraint is still exact and is kept, the others are recomputed.

    ``warm = (alpha, z, threshold)``: the parent's multipliers (``{position: value}``, valid
    for the child: its cone has more rows and the same ``alpha`` rows); when they already give
    a bound ``<= threshold`` the node will close and the least-squares problem is skipped.
    """
    m, d = XS.shape
    P = np.flatnonzero(sig)
    A = sig[P, None].astype(np.float64) * XS[P]
    free = np.flatnonzero(sig == 0)
    fpos = free[mu[free] > 0]
    fneg = free[mu[free] < 0]
    intervals: dict[int, tuple] = {}
    settled: set[int] = set()
    a = np.zeros(m)
    b = np.zeros(m)
    score = np.full(m, -1.0)
    keep = _still_exact(inherit, fpos, sig, XS, knew)
    fresh: list[int] = []  # rows of fpos whose interval is (partly) recomputed
    for i, n in enumerate(fpos.tolist()):
        old = inherit.get(n)
        if old is not None and (old[1] <= SETTLE * norms[n] or -old[0] <= SETTLE * norms[n]):
            intervals[n] = old  # settled in the parent: stays settled
            settled.add(n)
        else:
            fresh.append(i)
    ih = [i for i in fresh if not (fpos[i] in inherit and keep[i, 0])]
    il = [i for i in fresh if not (fpos[i] in inherit and keep[i, 1])]
    hv, hz, hr = _lemma4_many(A, XS[fpos[ih]], P)
    lv, lz, lr = _lemma4_many(A, -XS[fpos[il]], P)
    new_h = {i: (hv[j], hz[j], hr[j]) for j, i in enumerate(ih)}
    new_l = {i: (lv[j], lz[j], lr[j]) for j, i in enumerate(il)}
    for i in fresh:
        n = int(fpos[i])
        old = inherit.get(n)
        h, zh, rh = new_h[i] if i in new_h else (old[1], old[3], old[5])
        nl, zl, rl = new_l[i] if i in new_l else (-old[0], old[2], old[4])
        intervals[n] = (-nl, h, zl, zh, rl, rh)
        if h <= SETTLE * norms[n] or nl <= SETTLE * norms[n]:
            settled.add(n)
    for n in fpos.tolist():
        lo, hi = intervals[n][0], intervals[n][1]
        a[n] = hi / (hi - lo) if hi - lo > 0 else 0.0
        b[n] = -a[n] * lo
        if n not in settled:
            score[n] = mu[n] * hi * (-lo) / (hi - lo)
    pfix = P[sig[P] > 0]
    c0 = XS[pfix].T @ mu[pfix] + XS[fpos].T @ (mu[fpos] * a[fpos])
    B = float(mu[fpos] @ b[fpos])
    k = fneg.size
    M = np.concatenate([(mu[fneg, None] * XS[fneg]).T, A.T], axis=1)  # (d, k + p)
    w = _warm_start(warm, fneg, P, B, c0, M)
    if w is None:
        w = _box_lsq(M, c0, k)
    w = np.maximum(w, 0.0)
    r = c0 + M @ w
    rn = float(np.linalg.norm(r))
    split = int(np.argmax(score)) if (score >= 0).any() else -1
    # primal candidates: the relaxation's maximiser, the best split row's extreme points
    cols = [r] if rn > 0 else []
    if split >= 0:
        zh = intervals[split][3]
        cols.append(XS[split] + XS[zh[0]].T @ (sig[zh[0]] * zh[1]))
    U = np.stack(cols, axis=1) if cols else np.zeros((d, 0))
    cu, cv = _local_search(XS, mu, U) if U.shape[1] else (None, -math.inf)
    return _Bound(
        bound=B + rn,
        z=w[k:],
        P=P,
        alpha=dict(zip(fneg.tolist(), w[:k].tolist())),
        intervals=intervals,
        settled=frozenset(settled),
        split=split,
        cand_u=cu,
        cand_val=cv,
    )


def _still_exact(inherit: dict, fpos: np.ndarray, sig: np.ndarray, XS: np.ndarray,
                 knew: int) -> np.ndarray:
    """``keep[i, 0/1]``: the parent's ``h``/``l`` of row ``fpos[i]`` is attained at a point
    of the child's cone (its Lemma-4 maximiser, along the residual ``+-x_n + A^T z``, satisfies
    ``sig[knew] x_knew^T u >= 0`` up to a relative 1e-12: keeping it is valid in any case, only
    its exactness is at stake)."""
    keep = np.zeros((fpos.size, 2), dtype=bool)
    rows = [i for i, n in enumerate(fpos.tolist()) if n in inherit]
    if knew < 0 or not rows:
        return keep
    ak = sig[knew] * XS[knew]
    R = np.array([[inherit[n][5], inherit[n][4]] for n in fpos[rows].tolist()])  # (k, 2, d)
    keep[rows] = R @ ak >= -1e-12 * np.linalg.norm(ak) * np.linalg.norm(R, axis=2)
    return keep


def _warm_start(warm: tuple | None, fneg: np.ndarray, P: np.ndarray, B: float,
                c0: np.ndarray, M: np.ndarray) -> np.ndarray | None:
    """The parent's ``(alpha, z)`` (0 on the new row) if they bound the node by ``warm[2]``."""
    if warm is None or not M.shape[1]:
        return None
    w0 = np.array([warm[0].get(n, 0.0) for n in fneg.tolist()]
                  + [warm[1].get(n, 0.0) for n in P.tolist()])
    return w0 if B + float(np.linalg.norm(c0 + M @ w0)) <= warm[2] else None


def _polish(M: np.ndarray, c0: np.ndarray, k: int, w: np.ndarray,
            mmax: float) -> np.ndarray | None:
    """The exact minimiser on the active set of an approximate ``w`` (entries at 0, ``alpha``
    at 1, the others free: one least-squares solve), if it is feasible and meets the KKT
    conditions (relative 1e-10; ``mmax = max |M|``); ``None`` otherwise."""
    n = M.shape[1]
    cap = np.zeros(n, dtype=bool)
    cap[:k] = w[:k] >= 1.0 - 1e-9
    low = (w <= 1e-9 * max(1.0, float(np.abs(w).max()))) & ~cap
    free = ~(low | cap)
    c = c0 + M[:, cap].sum(axis=1)
    out = np.zeros(n)
    out[cap] = 1.0
    if free.any():
        out[free] = np.linalg.lstsq(M[:, free], -c, rcond=None)[0]
    if (out < 0).any() or (out[:k] > 1).any():
        return None
    r = c0 + M @ out
    g = M.T @ r  # the gradient of ||c0 + M w||^2 / 2
    tol = 1e-10 * max(1.0, mmax * float(np.linalg.norm(r)) + mmax**2)
    if (g[low] < -tol).any() or (g[cap] > tol).any() or (np.abs(g[free]) > tol * 1e3).any():
        return None
    return out


def _box_lsq(M: np.ndarray, c0: np.ndarray, k: int) -> np.ndarray:
    """``argmin ||c0 + M w||`` over ``0 <= w[:k] <= 1``, ``w[k:] >= 0`` (clipped).

    One compiled NNLS call in which ``w[:k] <= 1`` becomes ``w[:k] + t = 1``, ``t >= 0``, as
    rows weighted by ``_PENALTY * max |M|``, then the exact least squares on its active set
    with a KKT check (:func:`_polish`); scipy's ``bvls`` (a Python loop, ~10x slower per
    node) only when the check fails.  Any point of the box gives a valid bound (the node
    bound is evaluated again from it), so only tightness is at stake: the tests compare the
    answer with ``bvls`` and the search's maximum with enumeration.
    """
    if M.shape[1] == 0:
        return np.zeros(0)
    if k == 0:
        return nnls(M, -c0)[0]
    d, n = M.shape
    mmax = float(np.abs(M).max())
    rho = _PENALTY * mmax
    if rho > 0 and math.isfinite(rho):
        A = np.zeros((d + k, n + k))
        A[:d, :n] = M
        A[d:, :k] = A[d:, n:] = rho * np.eye(k)
        b = np.concatenate([-c0, np.full(k, rho)])
        try:
            w = nnls(A, b, maxiter=50 * (n + k))[0][:n]
        except RuntimeError:  # pragma: no cover - NNLS iteration limit: the exact route
            w = None
        w = None if w is None else _polish(M, c0, k, w, mmax)
        if w is not None:
            return w
    ub = np.concatenate([np.ones(k), np.full(n - k, np.inf)])
    try:
        w = lsq_linear(M, -c0, bounds=(np.zeros(n), ub), method="bvls").x
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - bvls breakdown
        w = lsq_linear(M, -c0, bounds=(np.zeros(n), ub), method="trf").x
    w[:k] = np.clip(w[:k], 0.0, 1.0)
    return w


@dataclass(frozen=True)
class SdpPolicy:
    """Where the search tries the semidefinite bound (:mod:`verify.convex.semidefinite_bound`).

    A node is tried once, when the best-first search takes it to be split (so only the
    nodes that decide the anytime bound are tried): when it is not terminal, its path has at
    least ``depth`` rows and its chord bound is at most ``ratio`` times the closing
    threshold.  When the semidefinite bound is smaller it replaces the chord's and the node
    closes or goes back to the queue instead of being split.
    """

    depth: int = 6
    ratio: float = 2.6
    eps: float = 1e-5
    warm: bool = True  # start SCS from the parent's solution when it had one
    #: How a node with a semidefinite solution is split: on the row the relaxation violates
    #: most (``"violation"``, :func:`verify.convex.semidefinite_bound.violation_row`) or on
    #: the chord's branching row (``"chord"``).
    branch: str = "chord"


#: Depth from which the searches that prove a target try the semidefinite bound by default
#: (``verify solve --sdp-depth``; 0: never).  Off: on breast-cancer it did not raise the final
#: proof's lower bound (docs/branch_and_bound.md, "the semidefinite bound").
DEFAULT_SDP_DEPTH = 0


def sdp_policy(depth: int | None) -> SdpPolicy | None:
    """The policy of ``--sdp-depth``: ``None`` (:data:`DEFAULT_SDP_DEPTH`), ``0`` (off) or a
    depth (the other fields of :class:`SdpPolicy` at their defaults).

    Examples
    --------
    >>> sdp_policy(0) is None, sdp_policy(8).depth
    (True, 8)
    """
    if depth is None:
        depth = DEFAULT_SDP_DEPTH
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise InputError(f"sdp_depth: expected an integer >= 0, received {depth!r}")
    return SdpPolicy(depth=int(depth)) if depth else None


def _bound_chunk(chunk: list, shared: tuple) -> list[_Bound]:
    """Bounds of a chunk of ``(sig, inherit, warm, knew)`` nodes (picklable, for the
    executor); ``shared = (XS, mu, norms, policy)``."""
    XS, mu, norms, _ = shared
    return [_node_bound(sig, inh, XS, mu, norms, warm, k) for sig, inh, warm, k in chunk]


def _sdp_chunk(chunk: list, shared: tuple) -> list[SdpBound | None]:
    """Semidefinite bounds of a chunk of ``(sig, chord bound, parent's semidefinite bound,
    budget)`` nodes (picklable, for the executor; the budget is a
    :func:`verify.convex.semidefinite_bound.solve_budget`, and a node started after it ran
    out gets ``None``); ``shared = (XS, mu, norms, policy)``."""
    XS, mu, _, policy = shared
    t0 = time.monotonic()
    return [semidefinite_bound(sig, XS, mu, res, policy.eps, parent if policy.warm else None,
                               seconds_left(budget, t0))
            for sig, res, parent, budget in chunk]
