"""The branch-and-bound dual oracle: ``s_+-(lam) = max_{||u||<=1} +-lam^T (Xu)_+`` over supp lam.

Only the support ``S = {n : lam_n != 0}`` matters (``lam^T (Xu)_+ = sum_{n in S} lam_n
(x_n^T u)_+``): the rows outside ``S`` are never looked at.  With ``mu = sign * lam`` the
maximum is found by branch and bound over the signs of ``x_n^T u``, ``n in S`` (see
``docs/math.md``, *Beyond enumeration*).  This module is the search; a node's bound (Lemma 4's
chords, the bounded least squares, the reuse of the parent's multipliers, sign
propagation) is :mod:`verify.convex.node_bound`, the primal side (the objective, the
local search, the chamber of a point) :mod:`verify.convex.local_search`:

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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from verify.convex.local_search import _interior_pattern, _local_search, objective
from verify.convex.node_bound import SdpPolicy, _Bound, _bound_chunk, _sdp_chunk
from verify.convex.semidefinite_bound import SdpBound, solve_budget, violation_row
from verify.errors import InputError

__all__ = ["BabLeaf", "BabResult", "bab_maximize", "objective"]


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
        up to :data:`~verify.convex.node_bound.SETTLE`): their chord is exact and they are
        never split.
    sdp : SdpBound, optional
        The semidefinite bound of the leaf (``bound`` is then its value, below the chord's):
        its ``P``, ``lifted`` and ``alpha`` keys are sample indices here.
    """

    path: tuple[tuple[int, int], ...]
    bound: float
    closed: bool
    z: dict[int, float]
    alpha: dict[int, float]
    intervals: dict[int, tuple[float, float, dict[int, float], dict[int, float]]]
    settled: tuple[int, ...] = ()
    sdp: SdpBound | None = None


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


# --------------------------------------------------------------------------- the search


@dataclass
class _Node:
    id: int
    sig: np.ndarray
    path: tuple[tuple[int, int], ...]  # (position in S, sign)
    res: _Bound
    parent_sdp: SdpBound | None = None  # the parent's semidefinite bound (a warm start)
    tried: bool = False  # the semidefinite bound was tried on this node


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
    sdp: SdpPolicy | None = None,
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
    sdp : SdpPolicy, optional
        Try the semidefinite bound (:mod:`verify.convex.semidefinite_bound`) on the nodes the
        policy names; ``None`` (the default): the chord bound only.

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

    if sdp is not None and not isinstance(sdp, SdpPolicy):
        raise InputError(f"sdp: expected an SdpPolicy or None, received {sdp!r}")
    if sdp is not None and sdp.branch not in ("chord", "violation"):
        raise InputError(f"sdp.branch: expected 'chord' or 'violation', received {sdp.branch!r}")
    shared = (XS, mu, norms, sdp)
    if executor is not None:
        from verify.distributed import share

        shared = share(shared, executor)

    def run(specs: list, fn: Any = _bound_chunk) -> list:
        if executor is None:
            return fn(specs, shared)
        from verify.distributed import map_chunks, n_workers, split_chunks

        chunks = split_chunks(specs, 2 * n_workers(executor))
        return [r for part in map_chunks(fn, chunks, executor, shared=shared) for r in part]

    def strengthen(popped: list[_Node], thr: float) -> list[_Node]:
        """Try the semidefinite bound on the popped nodes the policy names (each once); the
        ones it improves close or go back to the heap, the others are returned to be split."""
        trial = [nd for nd in popped if not nd.tried and nd.res.split >= 0
                 and len(nd.path) >= sdp.depth and nd.res.bound <= sdp.ratio * thr]
        if not trial:
            return popped
        budget = solve_budget(None if time_limit is None
                              else time_limit - (time.monotonic() - t0))
        got = run([(nd.sig, nd.res, nd.parent_sdp, budget) for nd in trial], _sdp_chunk)
        better = set()
        for nd, sd in zip(trial, got):
            nd.tried, nd.parent_sdp = True, None
            if sd is not None and sd.bound < nd.res.bound:
                nd.res.sdp, nd.res.bound = sd, sd.bound
                better.add(nd.id)
                if sd.bound <= close_at():
                    close(nd)
                else:
                    heapq.heappush(heap, (-sd.bound, nd.id, nd))
        return [nd for nd in popped if nd.id not in better]

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
        if node.res.sdp is not None:  # and the solution kept for a warm start
            node.res.sdp = replace(node.res.sdp, raw=None)
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
        thr = close_at()
        if sdp is not None:
            popped = strengthen(popped, thr)
            if not popped:
                continue
        specs, meta = [], []
        for node in popped:
            k = node.res.split
            if sdp is not None and sdp.branch == "violation" and node.res.sdp is not None:
                kv = violation_row(node.res.sdp, node.sig, XS, mu, node.res.settled)
                k = kv if kv >= 0 else k
            inherit = node.res.intervals
            warm = (node.res.alpha, dict(zip(node.res.P.tolist(), node.res.z.tolist())), thr)
            for s_ in (1, -1):
                sig = node.sig.copy()
                sig[k] = s_
                inh = {n: v for n, v in inherit.items() if n != k}
                specs.append((sig, inh, warm, k))
                meta.append((sig, node.path + ((k, s_),), node.res.sdp))
        results = run(specs)
        for (sig, path, psd), res in zip(meta, results):
            take(_Node(nodes, sig, path, res, psd if sdp is not None and sdp.warm else None))
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
    items = [(n, True) for n in closed] + [(n, False) for n in open_]
    items.sort(key=lambda it: tuple(0 if s > 0 else 1 for _, s in it[0].path))
    return [_as_leaf(node.path, node.res, is_closed, S) for node, is_closed in items]


def _as_leaf(path: tuple[tuple[int, int], ...], r: _Bound, closed: bool,
             S: np.ndarray) -> BabLeaf:
    """A node (``path`` and bound ``r`` over positions into ``S``) as a :class:`BabLeaf`."""

    def sv(pos_vals: tuple) -> dict[int, float]:
        idx, vals = pos_vals
        return {int(S[i]): float(v) for i, v in zip(idx, vals) if v > 0}

    return BabLeaf(
        path=tuple((int(S[k]), int(s)) for k, s in path),
        bound=float(r.bound),
        closed=closed,
        z=sv((r.P, r.z)),
        alpha={int(S[k]): float(v) for k, v in r.alpha.items()},
        intervals={
            int(S[k]): (float(lo), float(hi), sv(zl), sv(zh))
            for k, (lo, hi, zl, zh, *_) in r.intervals.items()
        },
        settled=tuple(sorted(int(S[k]) for k in r.settled)),
        sdp=None if r.sdp is None else replace(
            r.sdp, P=S[r.sdp.P], lifted=S[r.sdp.lifted], raw=None,
            alpha={int(S[k]): v for k, v in r.sdp.alpha.items()}),
    )
