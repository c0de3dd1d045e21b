"""The branch-and-bound dual oracle: ``s_+-(lam) = max_{||u||<=1} +-lam^T (Xu)_+`` over supp lam.

Only the support ``S = {n : lam_n != 0}`` matters (``lam^T (Xu)_+ = sum_{n in S} lam_n
(x_n^T u)_+``): the rows outside ``S`` are never looked at.  With ``mu = sign * lam`` the
maximum is found by branch and bound over the signs of ``x_n^T u``, ``n in S`` (see
``docs/math.md``, *Beyond enumeration*):

* a **node** is a sign vector over ``S`` (0 = free) and its cone ``C = {u : sigma_n x_n^T u
  >= 0}``; rows fixed to +1 are linear, rows fixed to -1 vanish;
* **bound**: a free row with ``mu_n > 0`` is replaced by its concave chord
  ``(t)_+ <= a t + b`` on ``[l_n, h_n]``, where ``h_n = min_{z>=0} ||x_n + A^T z||`` and
  ``-l_n = min_{z>=0} ||-x_n + A^T z||`` (Lemma 4: the extreme values of ``x_n^T u`` on
  ``C`` and the ball; NNLS, skipped when ``z = 0`` is optimal); a free row with ``mu_n < 0``
  by ``mu_n (t)_+ <= mu_n alpha_n t``, ``alpha_n in [0, 1]``.  The node bound is
  ``B + min_{alpha in [0,1], z >= 0} ||c(alpha) + A^T z||`` (bounded least squares,
  :func:`scipy.optimize.lsq_linear` with ``bvls``); it is evaluated again from the clipped
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
  value (the constraint is implied);
* **branching** (as in the activation-split BaB of alpha,beta-CROWN and BaBSR): split the free
  unsettled ``mu_n > 0`` row with the largest chord gap area ``mu_n h_n (-l_n)/(h_n - l_n)``
  (the largest possible error of its relaxation), ties to the smallest row; only positive rows
  are ever split (negative ones are exact through ``alpha``); **best first** on the bound,
  ``batch`` nodes per step;
* **primal side**: every node proposes the relaxation's maximiser ``r/||r||`` (``r`` the
  least-squares residual) and a few steps of the local search ``u <- X_S^T D(u) mu / ||.||``;
  the best value is the anytime lower bound, its point ``u`` and an interior point of its
  chamber (pattern over *all* rows of ``X``) are returned for column generation;
* **anytime**: ``upper`` = the largest bound over the leaves (open or closed) is always an
  upper bound of the maximum; nodes close when their bound is ``<= prove_below`` (or
  ``stop_above``), or within ``gap`` of the best value.

The node bounds of a batch are independent: with ``executor`` they run on
:func:`verify.distributed.map_chunks` and are applied in the serial order, so the result is
identical with and without it.  The choices, and what was taken from activation-split BaB
(alpha,beta-CROWN, BaBSR), are described in ``docs/branch_and_bound.md``.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
>>> lam = np.array([1.0, 1.0, -1.0])
>>> res = bab_maximize(X, lam)
>>> res.status, round(res.upper, 12), round(2 ** -0.5, 12), res.complete
('proved', 0.707106781187, 0.707106781187, True)
>>> res.u.round(6).tolist(), res.pattern.tolist()  # (x_2 - x_1)/sqrt(2): x_3^T u = 0, a tie
([-0.707107, 0.707107], [False, True, False])
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import lsq_linear, nnls

from verify.errors import InputError

__all__ = ["BabLeaf", "BabResult", "bab_maximize", "objective"]

#: A row is settled when ``h_n <= SETTLE * ||x_n||`` or ``-l_n <= SETTLE * ||x_n||``.
SETTLE = 1e-12
#: Local-search steps per candidate.
LOCAL_STEPS = 4
#: Weight of the rows ``alpha + t = 1`` in the NNLS form of the node's bounded least squares.
_PENALTY = 1e4


@dataclass(frozen=True)
class BabLeaf:
    """A leaf of the tree (open or closed), with the float multipliers of its bound.

    Indices are sample indices (rows of ``X``).

    Attributes
    ----------
    path : tuple of (int, int)
        The splits from the root, ``(row, sign)`` in order (sign +1: ``x_row^T u >= 0``).
    bound : float
        The node's upper bound ``B + ||c(alpha) + A^T z||``.
    closed : bool
        Closed (bound below the target or the gap, or terminal) or still open.
    z : dict
        Cone multipliers ``{row on the path: z >= 0}`` (zeros left out).
    alpha : dict
        ``{free row with mu < 0: alpha in [0, 1]}``.
    intervals : dict
        ``{free row with mu > 0: (l, h, zl, zh)}``, ``zl``/``zh`` dicts over the path.
    settled : tuple of int
        Free rows with ``mu > 0`` whose sign is implied on the leaf (``h <= 0`` or ``l >= 0``
        up to :data:`SETTLE`): their chord is exact and they are never split.
    """

    path: tuple[tuple[int, int], ...]
    bound: float
    closed: bool
    z: dict[int, float]
    alpha: dict[int, float]
    intervals: dict[int, tuple[float, float, dict[int, float], dict[int, float]]]
    settled: tuple[int, ...] = ()


@dataclass(frozen=True)
class BabResult:
    """Answer of :func:`bab_maximize`.

    Attributes
    ----------
    upper : float
        Upper bound of ``max_{||u||<=1} sign * lam^T (Xu)_+``: the largest leaf bound (valid
        at any moment, finished or not).
    lower : float
        ``max(0, value)``: the best value found (``u = 0`` gives 0).
    value : float
        ``sign * lam^T (X u)_+`` at ``u``.
    u : ndarray (d,)
        The best point found (unit norm).
    pattern : ndarray of bool (N,)
        ``X v >= 0`` over all rows for ``v`` interior to a chamber whose closure holds ``u``
        (``interior`` False: no such ``v`` was found and ``v = u``).
    interior : bool
    nodes : int
        Nodes whose bound was computed (the root included).
    complete : bool
        The tree is closed (no open leaf).
    status : str
        ``'proved'`` (closed, ``upper <= target`` or within the gap when there is no target),
        ``'exceeded'`` (closed, but the maximum is above the target: ``lower`` shows it),
        ``'violated'`` (``lower > stop_above``: stopped there, or ``explore`` nodes later; the
        tree may then be closed), ``'budget'`` (a budget ran out).
    reason : str
        One line: what happened and, for ``'budget'``, the option that lifts it.
    support : ndarray of int
        ``S``, the rows with ``lam_n != 0``.
    sign : int
    leaves : list of BabLeaf
        Every leaf (preorder of the tree: ``+1`` child first); empty with
        ``keep_leaves=False``.
    n_leaves : int
        Number of leaves (open and closed).
    seconds : float
    others : list of (pattern, u, value)
        With ``collect``: other points of value ``> stop_above`` found by the search (best
        first, each of a different pattern, none of ``pattern``'s), for column generation's
        several columns per round.
    """

    upper: float
    lower: float
    value: float
    u: np.ndarray = field(repr=False)
    pattern: np.ndarray = field(repr=False)
    interior: bool
    nodes: int
    complete: bool
    status: str
    reason: str
    support: np.ndarray = field(repr=False)
    sign: int
    leaves: list[BabLeaf] = field(default_factory=list, repr=False)
    n_leaves: int = 0
    seconds: float = 0.0
    others: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list, repr=False)

    @property
    def gap(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the leaves)."""
        return {
            "upper": self.upper,
            "lower": self.lower,
            "value": self.value,
            "u": self.u.tolist(),
            "nodes": self.nodes,
            "complete": self.complete,
            "status": self.status,
            "reason": self.reason,
            "sign": self.sign,
            "support": self.support.tolist(),
            "leaves": self.n_leaves,
            "seconds": self.seconds,
        }


def objective(X: Any, lam: Any, u: Any, sign: int = 1) -> float:
    """``sign * lam^T (X u)_+`` in floating point (the rows with ``lam_n = 0`` drop out).

    Examples
    --------
    >>> objective(np.eye(2), np.array([2.0, -1.0]), np.array([0.6, 0.8]))
    0.3999999999999999
    """
    X = np.asarray(X, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    S = np.flatnonzero(lam)
    return float(sign * lam[S] @ np.maximum(X[S] @ np.asarray(u, dtype=np.float64), 0.0))


# --------------------------------------------------------------------------- node bounds


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


def _local_search(XS: np.ndarray, mu: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, float]:
    """Best of the columns of ``U`` (d, k) and of ``LOCAL_STEPS`` steps of
    ``u <- X_S^T D(u) mu / ||.||`` from each: ``(u, value)``."""
    best_u, best_v = None, -math.inf
    for step in range(LOCAL_STEPS + 1):
        nrm = np.linalg.norm(U, axis=0)
        ok = nrm > 0
        if not ok.any():
            break
        U = U[:, ok] / nrm[ok]
        G = XS @ U
        vals = mu @ np.maximum(G, 0.0)
        j = int(np.argmax(vals))
        if vals[j] > best_v:
            best_u, best_v = U[:, j].copy(), float(vals[j])
        if step < LOCAL_STEPS:
            U = XS.T @ ((G > 0) * mu[:, None])
    return best_u, best_v


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


def _bound_chunk(chunk: list, shared: tuple) -> list[_Bound]:
    """Bounds of a chunk of ``(sig, inherit, warm)`` nodes (picklable, for the executor)."""
    XS, mu, norms = shared
    return [_node_bound(sig, inh, XS, mu, norms, warm, k) for sig, inh, warm, k in chunk]


# --------------------------------------------------------------------------- primal side


def _interior_pattern(X: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, bool]:
    """Pattern ``X v >= 0`` of a point ``v`` near ``u``, strictly inside a chamber whose
    closure contains ``u`` (``(pattern of u, False)`` if none is found)."""
    N, d = X.shape
    g = X @ u
    nx = np.linalg.norm(X, axis=1)
    live = nx > 0
    tie = live & (np.abs(g) <= 1e-9 * nx)
    if not tie.any():
        return g >= 0, True
    rest = live & ~tie
    margin = float(np.min(np.abs(g[rest]) / nx[rest])) if rest.any() else 1.0
    rng = np.random.default_rng(0)
    for _ in range(32):
        w = rng.standard_normal(d)
        w -= (w @ u) * u
        if np.linalg.norm(w) == 0:
            continue
        w /= np.linalg.norm(w)
        eps = 0.5 * margin
        for _shrink in range(8):
            v = u + eps * w
            gv = X @ v
            if (np.abs(gv[live]) > 1e-7 * eps * nx[live]).all() and (
                (gv[rest] > 0) == (g[rest] > 0)
            ).all():
                return gv >= 0, True
            eps *= 0.25
    return g >= 0, False


# --------------------------------------------------------------------------- the search


@dataclass
class _Node:
    id: int
    sig: np.ndarray
    path: tuple[tuple[int, int], ...]  # (position in S, sign)
    res: _Bound


def _check(X: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or lam.shape[0] != X.shape[0] or X.shape[1] < 1:
        raise InputError(
            f"expected X of shape (N, d) and lambda of length N, got {X.shape} and {lam.shape}"
        )
    if not (np.isfinite(X).all() and np.isfinite(lam).all()):
        raise InputError("X and lambda must be finite")
    return X, lam


def _int_at_least(name: str, v: Any, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise InputError(f"{name}: expected {what}, received {v!r}")
    return int(v)


def bab_maximize(
    X: Any,
    lam: Any,
    *,
    sign: int = 1,
    stop_above: float | None = None,
    prove_below: float | None = None,
    node_limit: int = 200_000,
    time_limit: float | None = None,
    gap: float = 1e-10,
    batch: int = 8,
    executor: Any = None,
    keep_leaves: bool = True,
    refine: bool = False,
    collect: int = 0,
    explore: int = 0,
) -> BabResult:
    """``max_{||u|| <= 1} sign * lam^T (X u)_+`` by branch and bound over ``supp lam``.

    Parameters
    ----------
    X : array (N, d)
    lam : array (N,)
        Only the rows with ``lam_n != 0`` are used.
    sign : {+1, -1}
    stop_above : float, optional
        Stop as soon as a point of value ``> stop_above`` is found, or ``explore`` nodes
        later (status ``'violated'``; column generation's violator).  Nodes with bound
        ``<= stop_above`` close.
    prove_below : float, optional
        Close nodes whose bound is ``<= prove_below`` (the target, e.g. ``1 + eps``).  Without
        a target the search runs until ``upper - lower <= gap * max(|lower|, scale)``.
    node_limit : int
        At most this many node bounds (status ``'budget'`` beyond).
    time_limit : float, optional
        Seconds (checked between batches).
    gap : float
        Relative optimality gap at which nodes close.
    batch : int
        Nodes expanded per step (their children's bounds form one batch; results do not
        depend on ``executor``, but do on ``batch``).
    executor : distributed.Client or concurrent.futures.Executor, optional
        Runs the batches' node bounds (:func:`verify.distributed.map_chunks`).
    keep_leaves : bool
        Return the leaves with their multipliers (needed for the evidence); ``False`` saves
        the memory and time of converting them (``n_leaves`` still counts them).
    refine : bool
        With ``prove_below``: nodes close only at the target (or when terminal), not within
        ``gap`` of the best value, so leaves whose relaxation is tight for this ``lam`` are
        still split (best first, until a budget): the finer partition that
        :func:`verify.convex.tree_dual.tree_dual` needs to improve ``lam``.  ``upper`` stays an
        upper bound.
    collect : int
        With ``stop_above``: keep up to this many other points of value ``> stop_above``
        (distinct patterns over all rows of ``X``) in ``others``.
    explore : int
        With ``stop_above``: after the first point above it, go on for at least this many
        more node bounds (whole batches: fewer than ``explore + 2 * batch``; fewer only when
        the tree closes or a limit is reached first), for better and more violators (``0``:
        stop at once).

    Returns
    -------
    BabResult

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> res = bab_maximize(X, np.array([0.6, -0.8]), sign=-1)
    >>> round(res.upper, 12), round(res.lower, 12), res.status
    (0.8, 0.8, 'proved')
    >>> bab_maximize(X, np.array([3.0, 4.0]), stop_above=1.0).status
    'violated'
    """
    t0 = time.monotonic()
    X, lam = _check(X, lam)
    if sign not in (1, -1):
        raise InputError(f"sign: expected +1 or -1, received {sign!r}")
    node_limit = _int_at_least("node_limit", node_limit, 1)
    batch = _int_at_least("batch", batch, 1)
    collect = _int_at_least("collect", collect, 0)
    explore = _int_at_least("explore", explore, 0)
    for name, v in (("stop_above", stop_above), ("prove_below", prove_below),
                    ("time_limit", time_limit)):
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise InputError(f"{name}: expected a finite number, received {v!r}")
    if not (isinstance(gap, (int, float)) and gap >= 0):
        raise InputError(f"gap: expected a number >= 0, received {gap!r}")
    N, d = X.shape
    S = np.flatnonzero(lam)
    XS = X[S]
    mu = sign * lam[S]
    m = S.size
    norms = np.linalg.norm(XS, axis=1)
    scale = 1e-6 * float(np.abs(mu) @ norms) if m else 0.0
    target = prove_below if prove_below is not None else stop_above

    # initial candidates: +-x_n and the local search from them
    best_u = np.eye(d)[0]  # value 0 if the support is empty
    best_v = 0.0 if m == 0 else -math.inf
    if m:
        cu, cv = _local_search(XS, mu, np.concatenate([XS.T, -XS.T], axis=1))
        if cu is not None:
            best_u, best_v = cu, cv
    if best_v == -math.inf:  # every x_n = 0 on the support
        best_u = np.eye(d)[0]
        best_v = 0.0

    def lower() -> float:
        return max(best_v, 0.0)

    def close_at() -> float:
        t = lower() + gap * max(abs(lower()), scale)
        if refine and target is not None:
            return target
        return t if target is None else max(t, target)

    shared = (XS, mu, norms)
    if executor is not None:
        from verify.distributed import share

        shared = share(shared, executor)

    def run(specs: list) -> list[_Bound]:
        if executor is None:
            return _bound_chunk(specs, shared)
        from verify.distributed import map_chunks, n_workers, split_chunks

        chunks = split_chunks(specs, 2 * n_workers(executor))
        return [r for part in map_chunks(_bound_chunk, chunks, executor, shared=shared)
                for r in part]

    heap: list[tuple[float, int, _Node]] = []
    closed: list[_Node] = []
    nodes = 0
    violated = False
    found_at = -1  # nodes when the first point above stop_above was found
    # `collect`: chamber -> (value, unit u, pattern).  Keyed by the interior pattern that is
    # returned (not by the raw signs of X u, which differ on ties inside one chamber), so the
    # collect + 1 entries kept are distinct chambers: the best one (`pattern`) and the others
    pool: dict[bytes, tuple[float, np.ndarray, np.ndarray]] = {}

    def offer(u: np.ndarray, v: float) -> None:
        if collect < 1 or stop_above is None or not v > stop_above:
            return
        if len(pool) > collect and v < min(e[0] for e in pool.values()):
            return  # it would be evicted at once: no chamber to look up (hot path)
        nu = float(np.linalg.norm(u))
        if not nu > 0:
            return
        w = u / nu
        pw, _ = _interior_pattern(X, w)
        key = pw.tobytes()
        if key not in pool or pool[key][0] < v:
            pool[key] = (v, w, pw)
            if len(pool) > collect + 1:  # +1: the best one is `pattern`, not an `other`
                del pool[min(pool, key=lambda k: pool[k][0])]

    def close(node: _Node) -> None:
        # a closed leaf has no children: drop the residuals kept for them (memory)
        node.res.intervals = {n: v[:4] for n, v in node.res.intervals.items()}
        closed.append(node)

    def take(node: _Node) -> None:
        nonlocal best_u, best_v, violated
        r = node.res
        if r.cand_u is not None:
            offer(r.cand_u, r.cand_val)
            if r.cand_val > best_v:
                best_u, best_v = r.cand_u, r.cand_val
        if stop_above is not None and best_v > stop_above and not violated:
            violated = True
        if r.split < 0 or r.bound <= close_at():
            close(node)
        else:
            heapq.heappush(heap, (-r.bound, node.id, node))

    offer(best_u, best_v)
    root_sig = np.zeros(m, dtype=np.int8)
    root = _Node(0, root_sig, (), run([(root_sig, {}, None, -1)])[0])
    nodes = 1
    take(root)
    reason = ""
    while heap:
        if violated:
            found_at = nodes if found_at < 0 else found_at
            if nodes - found_at >= explore:
                break
        if time_limit is not None and time.monotonic() - t0 > time_limit:
            reason = f"time limit {time_limit:g} s reached (raise time_limit)"
            break
        room = (node_limit - nodes) // 2
        if room < 1:
            reason = f"node limit {node_limit} reached (raise node_limit)"
            break
        popped: list[_Node] = []
        while heap and len(popped) < min(batch, room):
            _, _, node = heapq.heappop(heap)
            if node.res.bound <= close_at():
                close(node)
            else:
                popped.append(node)
        if not popped:
            break
        specs, meta = [], []
        thr = close_at()
        for node in popped:
            k = node.res.split
            inherit = node.res.intervals
            warm = (node.res.alpha, dict(zip(node.res.P.tolist(), node.res.z.tolist())), thr)
            for s_ in (1, -1):
                sig = node.sig.copy()
                sig[k] = s_
                inh = {n: v for n, v in inherit.items() if n != k}
                specs.append((sig, inh, warm, k))
                meta.append((sig, node.path + ((k, s_),)))
        results = run(specs)
        for (sig, path), res in zip(meta, results):
            take(_Node(nodes, sig, path, res))
            nodes += 1
    upper = max([-h[0] for h in heap] + [n.res.bound for n in closed])
    complete = not heap
    if violated:
        status = "violated"
        reason = f"found a point of value {best_v:.17g} > stop_above = {stop_above:.17g}"
    elif complete:
        if target is not None and upper > target:
            status = "exceeded"
            reason = (
                f"tree closed: the maximum is {lower():.17g} (bound {upper:.17g}), above the "
                f"target {target:.17g}"
            )
        else:
            status = "proved"
            reason = (
                f"tree closed with {nodes} nodes: maximum <= {upper:.17g}"
                + (f" <= target {target:.17g}" if target is not None else
                   f", best value {lower():.17g}")
            )
    else:
        status = "budget"
    nu = float(np.linalg.norm(best_u))
    u = best_u / nu if nu > 0 else best_u
    pattern, interior = _interior_pattern(X, u)
    others = [(pw, w, v) for v, w, pw in sorted(pool.values(), key=lambda t: -t[0])
              if not np.array_equal(pw, pattern)][:collect]
    leaves = _leaves(closed, [h[2] for h in heap], S) if keep_leaves else []
    return BabResult(
        upper=float(upper),
        lower=lower(),
        value=objective(X, lam, u, sign),
        u=u,
        pattern=pattern,
        interior=interior,
        nodes=nodes,
        complete=complete,
        status=status,
        reason=reason,
        support=S,
        sign=sign,
        leaves=leaves,
        n_leaves=len(closed) + len(heap),
        seconds=time.monotonic() - t0,
        others=others,
    )


def _leaves(closed: list[_Node], open_: list[_Node], S: np.ndarray) -> list[BabLeaf]:
    """The leaves as :class:`BabLeaf` (sample indices), in the tree's preorder."""
    out = []
    items = [(n, True) for n in closed] + [(n, False) for n in open_]
    items.sort(key=lambda it: tuple(0 if s > 0 else 1 for _, s in it[0].path))
    for node, is_closed in items:
        r = node.res

        def sv(pos_vals: tuple) -> dict[int, float]:
            idx, vals = pos_vals
            return {int(S[i]): float(v) for i, v in zip(idx, vals) if v > 0}

        out.append(
            BabLeaf(
                path=tuple((int(S[k]), int(s)) for k, s in node.path),
                bound=float(r.bound),
                closed=is_closed,
                z=sv((r.P, r.z)),
                alpha={int(S[k]): float(v) for k, v in r.alpha.items()},
                intervals={
                    int(S[k]): (float(lo), float(hi), sv(zl), sv(zh))
                    for k, (lo, hi, zl, zh, *_) in r.intervals.items()
                },
                settled=tuple(sorted(int(S[k]) for k in r.settled)),
            )
        )
    return out
