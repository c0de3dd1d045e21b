"""The best ``lam`` a partition with semidefinite leaves proves: the final proof beyond chords.

:mod:`verify.convex.tree_dual` maximises ``y^T lam`` over the ``lam`` whose *chord* relaxation
is ``<= 1`` on every leaf of a partition of the ball; in 30 dimensions (breast-cancer) the
chords need thousands of leaves and the bound stalls near 8.2-8.4 (``P*`` <= 9.14).  The
semidefinite bound of a leaf (:mod:`verify.convex.semidefinite_bound`) is 0.42-0.47 x the
chord's, so a partition of a few hundred leaves proves more, if ``lam`` can be optimised
against it.  For a leaf with multipliers ``y_i`` the bound is ``tau`` whenever

    M = C(lam) + sum_i y_i G_i - tau E_00  is negative semidefinite,

and ``C(lam)`` and the *linear* families (``t >= 0``, ``t >= Xu``, the cone rows, the
``alpha`` of the rows with ``mu_n < 0``) touch only the first row of ``M``.  Keep the
*quadratic* families (the ball, ``t_j^2 = t_j x_j^T u``, the cone-times-ReLU products) at the
leaf's last solution ``K``, scaled by ``theta >= 0``: with ``-K_11 + eps I`` positive definite
(``eps`` just above ``K_11``'s largest eigenvalue), a Schur complement gives the bound

    theta (ball + eps R) + || F v(lam, w) ||^2 / theta,   F^T F = (-K_11 + eps I)^{-1} / 4,

``v`` the first row of ``M`` (linear in ``lam`` and the linear multipliers ``w``), ``R = 2 +
sum h_j^2 >= ||z||^2`` (``eps I`` costs ``theta eps ||z||^2``).  That is a valid upper bound
for every ``(lam, w, theta)``, and ``<= 1`` is one second-order cone: the program over the
partition (:class:`verify.convex.leaf_program.LeafProgram`, chord leaves where the semidefinite
bound is not better) is an inner approximation of the dual that is exact at the leaves' last
``lam``, so each round's ``lam`` has bound ``<= 1`` (a valid anytime bound ``y^T lam``) and
the rounds never lose (block coordinate ascent: re-solve the leaves at the new ``lam``, then
the program again).  Between rounds the leaves with the largest bounds are split (the chord's
branching row), since those are the ones that hold ``lam`` back.

The answer is two :class:`~verify.convex.branch_and_bound.BabResult` partitions whose leaves
carry their semidefinite multipliers at the returned ``lam``: the exact evidence
(:mod:`verify.convex.branch_and_bound_evidence`, "sdp leaves") decides, so no float here
matters for rigour.  ``lam`` keeps every row of its first support (entries the program sets
to 0 stay at ``1e-9`` of the largest, with their label's sign), so that the leaves' lifted
rows and the evidence's support do not change between rounds.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = np.array([1.0, 1.0, -1.0])
>>> lam, plus, minus = semidefinite_final_proof(X, y, np.array([1.0, 1.0, -0.5]), seconds=20)
>>> bool(max(plus.upper, minus.upper) <= 1.0 + 1e-6)
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from verify.convex.branch_and_bound import BabLeaf, BabResult, bab_maximize
from verify.convex.leaf_program import LeafProgram
from verify.convex.node_bound import _Bound, _node_bound
from verify.convex.semidefinite_bound import (
    SdpBound,
    multiplier_matrix,
    seconds_left,
    semidefinite_bound,
    solve_budget,
    violation_row,
)
from verify.convex.tree_dual import _Leaf
from verify.errors import InputError

__all__ = ["semidefinite_final_proof"]

#: The first partition: a chord tree of at most ``_FIRST_NODES`` node bounds per sign.
_FIRST_NODES = 50
#: Leaves split per round (those of largest bound).
_SPLIT = 60
#: Entries of ``lam`` kept at this fraction of the largest (with their label's sign).
_TINY = 1e-9
#: How a piece is split: on the row its relaxation violates most (``"violation"``) or on
#: the chord's branching row (``"chord"``).
_BRANCH = "violation"
#: ``eps`` above ``K_11``'s largest eigenvalue (relative to its spread).
_DELTA = 1e-9
#: After a program, only the pieces whose bound is within this factor of the largest are
#: solved again (the others keep the program's multipliers, valid at the new ``lam``).
_TIGHT = 0.98
#: SCS's tolerance for the pieces, looser than the search's: the program's own multipliers
#: give the bound at the new ``lam``, so a piece's solution only has to be a good model.  On
#: breast-cancer (the loop's last ``lam``, 300 s, 2 workers) ``1e-4`` reached 8.214 where
#: ``1e-5`` reached 8.066 (one more round).
_EPS = 1e-4
#: The program's box ``|lam_n| <= _BOX max |lam|`` (the program is bounded anyway; a guard).
_BOX = 10.0


@dataclass
class _Piece:
    """One leaf of the partition (positions into ``S``)."""

    sign: int
    path: tuple[tuple[int, int], ...]
    sig: np.ndarray
    ch: _Bound | None = None
    sd: SdpBound | None = None  # its semidefinite bound at the current lam (if below the chord)
    bound: float = math.inf
    warm: SdpBound | None = None  # the last SCS solution of the piece or its parent


@dataclass(frozen=True)
class _Model:
    """A semidefinite leaf's bound as a function of ``(lam_S, w, theta)``: ``theta c0 +
    ||F (V0 lam + Vw w)||^2 / theta`` with ``w = (t, tx, cone, beta)``."""

    F: np.ndarray
    V0: np.ndarray
    Vw: np.ndarray
    c0: float
    n_ge: int  # entries of w that are >= 0 (t, tx, cone); then beta in [mu_n, 0]
    fneg: np.ndarray  # positions of the beta rows
    sign: int


def _structure(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``x`` with every entry nonzero and of its label's sign (``_TINY`` of the largest)."""
    tiny = _TINY * float(np.abs(x).max())
    return np.where(ys * x > tiny, x, ys * tiny)


def _sdp_chunk(chunk: list, shared: tuple) -> list[SdpBound | None]:
    """The semidefinite bound of each ``(sign, sig, chord bound, warm, budget)`` at ``lam_S =
    x`` (picklable, for an executor; ``budget`` from
    :func:`verify.convex.semidefinite_bound.solve_budget`); ``shared = (XS, x, eps)``."""
    XS, x, eps = shared
    t0 = time.monotonic()
    return [semidefinite_bound(sig, XS, sign * x, ch, eps=eps, warm=warm,
                               seconds=seconds_left(budget, t0))
            for sign, sig, ch, warm, budget in chunk]


def _chords(pieces: list[_Piece], XS: np.ndarray, x: np.ndarray) -> None:
    """Every piece's chord bound at ``x`` (in place; milliseconds each)."""
    norms = np.linalg.norm(XS, axis=1)
    for p in pieces:
        p.ch = _node_bound(p.sig, {}, XS, p.sign * x, norms)
        p.bound = p.ch.bound


def _solve_sdp(pieces: list[_Piece], XS: np.ndarray, x: np.ndarray, executor: Any,
               deadline: float | None, tight: float | None = None) -> None:
    """Fresh semidefinite bounds at ``x`` (warm-started from each piece's last), largest
    bound first, in batches until ``deadline`` (only those within ``tight`` of the largest
    when given); a piece keeps the better of its fresh bound
    and the one it has (which must be valid at ``x``)."""
    from verify.distributed import map_chunks, n_workers, split_chunks

    top = max((p.bound for p in pieces), default=0.0)
    todo = [p for p in sorted(pieces, key=lambda p: -p.bound)
            if np.any(p.sign * x[p.sig == 0] > 0) and (tight is None or p.bound >= tight * top)]
    step = 8 * n_workers(executor)
    for i in range(0, len(todo), step):
        if deadline is not None and time.monotonic() >= deadline:
            return
        part = todo[i:i + step]
        budget = solve_budget(None if deadline is None else deadline - time.monotonic())
        chunks = split_chunks([(p.sign, p.sig, p.ch, p.warm, budget) for p in part],
                              n_workers(executor))
        got = [r for c in map_chunks(_sdp_chunk, chunks, executor, shared=(XS, x, _EPS))
               for r in c]
        for p, sd in zip(part, got):
            if sd is None:
                continue
            p.warm = sd
            if sd.bound < p.bound:
                p.sd, p.bound = sd, sd.bound


def _radius(p: _Piece) -> float:
    """``R = 2 + sum h_j^2 >= ||(1, u, t)||^2`` on the piece (its lifted rows' ``h``)."""
    H = np.array([max(p.ch.intervals[int(q)][1], 0.0) for q in p.sd.lifted])
    return 2.0 + float(H @ H)


def _model(XS: np.ndarray, p: _Piece) -> _Model:
    """The piece's semidefinite bound with its quadratic multipliers fixed (module text)."""
    sd = p.sd
    m, d = XS.shape
    P = np.flatnonzero(p.sig)
    lifted = sd.lifted
    fneg = np.array(sorted(sd.alpha), dtype=np.int64)
    mu = np.zeros(m)  # only the first row of M depends on mu: K_11 does not
    M = multiplier_matrix(p.sig, XS, mu, replace(sd, alpha={int(q): 0.0 for q in fneg}))
    e, V = np.linalg.eigh(-M[1:, 1:])
    eps = max(0.0, -float(e[0])) + _DELTA * max(float(e[-1]), 1.0)
    F = (V / np.sqrt(e + eps)).T / 2.0
    k = lifted.size
    nv = d + k
    pfix = P[p.sig[P] > 0]
    V0 = np.zeros((nv, m))
    V0[:d, pfix] = p.sign * XS[pfix].T
    V0[d + np.arange(k), lifted] = p.sign
    A = p.sig[P, None] * XS[P]
    Vw = np.zeros((nv, 2 * k + P.size + fneg.size))
    Vw[d + np.arange(k), np.arange(k)] = 1.0  # t_j >= 0
    Vw[d + np.arange(k), k + np.arange(k)] = 1.0  # t_j - x_j^T u >= 0
    Vw[:d, k:2 * k] = -XS[lifted].T
    Vw[:d, 2 * k:2 * k + P.size] = A.T  # the cone rows
    Vw[:d, 2 * k + P.size:] = XS[fneg].T  # beta_n = alpha_n mu_n
    return _Model(F, V0, Vw, float(sd.ball) + eps * _radius(p), 2 * k + P.size, fneg, p.sign)


def _add_model(prog: LeafProgram, mod: _Model) -> int:
    """``theta c0 + ||F v||^2 / theta <= 1`` as ``||(2 F v, 2 sqrt(c0) theta, theta - 1)|| <=
    theta + 1``, ``w >= 0`` on the linear families, ``mu_n <= beta_n <= 0``; returns the index
    of ``w`` (``theta`` follows it)."""
    m = prog.m
    nw = mod.Vw.shape[1]
    base = prog.variables(nw + 1)
    jt = base + nw
    prog.nonneg(base + np.arange(mod.n_ge), -np.ones(mod.n_ge))
    nb = mod.fneg.size
    if nb:
        k = np.arange(nb)
        jb = base + mod.n_ge + k
        prog.nonneg_rows(np.concatenate([k, k, nb + k]), np.concatenate([jb, mod.fneg, jb]),
                         np.concatenate([-np.ones(nb), np.full(nb, float(mod.sign)),
                                         np.ones(nb)]), np.zeros(2 * nb))
    prog.nonneg(np.array([jt]), -np.ones(1))
    nv = mod.F.shape[0]
    blk = np.zeros((nv + 3, m + nw + 1))
    blk[0, m + nw] = -1.0  # theta + 1
    blk[1:1 + nv, :m] = -2.0 * (mod.F @ mod.V0)
    blk[1:1 + nv, m:m + nw] = -2.0 * (mod.F @ mod.Vw)
    blk[1 + nv, m + nw] = -2.0 * math.sqrt(max(mod.c0, 0.0))
    blk[2 + nv, m + nw] = -1.0  # theta - 1
    b = np.zeros(nv + 3)
    b[0], b[2 + nv] = 1.0, -1.0
    prog.block(blk, np.concatenate([np.arange(m), base + np.arange(nw + 1)]), b)
    return base


def _chord_leaf(XS: np.ndarray, p: _Piece) -> _Leaf:
    """The piece's chord relaxation as a function of ``lam_S`` (every ``alpha_n`` free)."""
    m, d = XS.shape
    ch = p.ch
    coef = np.zeros((d, m))
    bcoef = np.zeros(m)
    for q in np.flatnonzero(p.sig > 0):
        coef[:, q] += p.sign * XS[q]
    for q, (lo, hi, *_r) in ch.intervals.items():
        a = hi / (hi - lo) if hi - lo > 0 else 0.0
        coef[:, q] += p.sign * a * XS[q]
        bcoef[q] += p.sign * (-a * lo)
    neg = np.array(sorted(ch.alpha), dtype=np.int64)
    P = np.flatnonzero(p.sig)
    A = (p.sig[P, None] * XS[P]).reshape(P.size, d)
    return _Leaf(float(p.sign), coef, bcoef, neg, A)


def _program(pieces: list[_Piece], XS: np.ndarray, ys: np.ndarray, x: np.ndarray,
             time_limit: float | None) -> tuple[np.ndarray, list] | None:
    """The program over the partition: the new ``lam_S`` and, per piece, ``(model, w,
    theta)`` (``None`` for a chord piece), or ``None``."""
    prog = LeafProgram(ys, XS, _BOX * float(np.abs(x).max()))
    slots: list = []
    for p in pieces:
        if p.sd is not None and p.sd.bound < p.ch.bound:
            mod = _model(XS, p)
            slots.append((mod, _add_model(prog, mod)))
        else:
            prog.add_chord(_chord_leaf(XS, p))
            slots.append(None)
    got = prog.solve(time_limit)
    if got is None:
        return None
    out = []
    for s in slots:
        if s is None:
            out.append(None)
            continue
        mod, base = s
        nw = mod.Vw.shape[1]
        out.append((mod, got[base:base + nw], float(got[base + nw])))
    return got[:XS.shape[0]], out


def _fixed_bound(XS: np.ndarray, p: _Piece, mod: _Model, w: np.ndarray, theta: float,
                 x: np.ndarray) -> SdpBound | None:
    """The piece's semidefinite bound at ``x`` from the program's multipliers (the quadratic
    ones ``theta`` times the piece's last): an :class:`SdpBound` with ``rho`` from the largest
    eigenvalue of ``M`` (valid whatever the program's accuracy), or ``None``."""
    sd = p.sd
    if not (theta > 0 and math.isfinite(theta)):
        return None
    k, nP = sd.lifted.size, np.flatnonzero(p.sig).size
    w = np.where(np.arange(w.size) < mod.n_ge, np.maximum(w, 0.0), w)
    mu = p.sign * x
    alpha = {int(q): float(min(max(b / mu[q], 0.0), 1.0)) if mu[q] < 0 else 0.0
             for q, b in zip(mod.fneg, w[mod.n_ge:])}
    v = mod.V0 @ x + mod.Vw @ w
    tau = theta * float(sd.ball) + float(np.sum((mod.F @ v) ** 2)) / theta
    new = replace(sd, tau=tau, rho=0.0, ball=theta * float(sd.ball), t=w[:k], tx=w[k:2 * k],
                  cone=w[2 * k:2 * k + nP], eq=theta * sd.eq, at=theta * sd.at,
                  atx=theta * sd.atx, alpha=alpha, raw=None)
    M = multiplier_matrix(p.sig, XS, mu, new)
    lmax = float(np.linalg.eigvalsh(M)[-1])
    rho = max(lmax + 1e-9 * max(1.0, float(np.abs(M).max())), 0.0)
    return replace(new, rho=rho, bound=tau + rho * _radius(p))


def _violation_row(p: _Piece, XS: np.ndarray, x: np.ndarray) -> int:
    """The row to split ``p`` on: :func:`~verify.convex.semidefinite_bound.violation_row` of
    its last SCS solution (``mu = sign x``; rows whose sign is implied left out), or the
    chord's branching row when there is none (no solution, no violation)."""
    sd = p.warm
    k = -1 if sd is None else violation_row(sd, p.sig, XS, p.sign * x, p.ch.settled)
    return k if k >= 0 else int(p.ch.split)


def _split(pieces: list[_Piece], count: int, XS: np.ndarray, x: np.ndarray
           ) -> tuple[list[_Piece], list[_Piece]]:
    """The partition with the ``count`` pieces of largest bound split (terminal pieces are
    not split); ``(pieces, new children)``.  The row is the one the piece's relaxation
    violates most (:func:`_violation_row`) when :data:`_BRANCH` is ``"violation"``, else
    the chord's branching row."""
    order = sorted(range(len(pieces)), key=lambda i: -pieces[i].bound)
    chosen: dict[int, int] = {}
    for i in order:
        if len(chosen) >= count:
            break
        p = pieces[i]
        if p.ch is None or int(p.ch.split) < 0:
            continue
        k = _violation_row(p, XS, x) if _BRANCH == "violation" else int(p.ch.split)
        if p.sig[k] == 0:
            chosen[i] = k
    out, new = [], []
    for i, p in enumerate(pieces):
        if i not in chosen:
            out.append(p)
            continue
        k = chosen[i]
        for s in (1, -1):
            sig = p.sig.copy()
            sig[k] = s
            child = _Piece(p.sign, p.path + ((k, s),), sig, warm=p.warm)  # the parent's start
            out.append(child)
            new.append(child)
    return out, new


def _results(pieces: list[_Piece], S: np.ndarray, seconds: float) -> tuple[BabResult,
                                                                          BabResult]:
    """The partition as two :class:`BabResult` (leaves in preorder, sample indices)."""
    from verify.convex.branch_and_bound import _as_leaf

    out = []
    for sign in (1, -1):
        mine = [p for p in pieces if p.sign == sign]
        mine.sort(key=lambda p: tuple(0 if s > 0 else 1 for _, s in p.path))
        leaves: list[BabLeaf] = []
        for p in mine:
            res = p.ch
            if p.sd is not None and p.sd.bound < p.ch.bound:
                res = replace(p.ch, bound=p.sd.bound, sdp=replace(p.sd, raw=None))
            # (a piece without a better semidefinite bound is a chord leaf)
            leaves.append(_as_leaf(p.path, res, True, S))
        upper = max(lf.bound for lf in leaves)
        done = upper <= 1.0 + 1e-9
        out.append(BabResult(upper=upper, lower=0.0, value=0.0, u=np.zeros(0),
                             pattern=np.zeros(0, dtype=bool), interior=False,
                             nodes=len(leaves), complete=done,
                             status="proved" if done else "budget",
                             reason=f"semidefinite partition of {len(leaves)} leaves "
                                    f"(the final proof): bound {upper:.6g}",
                             support=S, sign=sign, leaves=leaves, n_leaves=len(leaves),
                             seconds=seconds))
    return out[0], out[1]


def _first_pieces(X: np.ndarray, S: np.ndarray, x: np.ndarray, nodes: int) -> list[_Piece]:
    """The leaves of a chord tree of ``nodes`` node bounds per sign at ``lam_S = x``, as
    pieces (paths in positions of ``S``; bounds not yet set)."""
    pieces: list[_Piece] = []
    pos = {int(n): i for i, n in enumerate(S)}
    full = np.zeros(X.shape[0])
    full[S] = x
    for sign in (1, -1):
        tree = bab_maximize(X, full, sign=sign, prove_below=1.0, node_limit=nodes)
        for lf in tree.leaves:
            path = tuple((pos[n], s) for n, s in lf.path)
            sig = np.zeros(S.size, dtype=np.int8)
            for q, s in path:
                sig[q] = s
            pieces.append(_Piece(sign, path, sig))
    return pieces


def semidefinite_final_proof(X: Any, y: Any, lam: Any, *, seconds: float,
                             executor: Any = None, split: int = _SPLIT,
                             first_nodes: int = _FIRST_NODES, trace: list | None = None
                             ) -> tuple[np.ndarray, BabResult, BabResult]:
    """Rounds of (bounds at ``lam``, split the tightest leaves, the program over the
    partition): ``(lam, plus, minus)`` of the largest ``y^T lam / s`` seen, scaled by
    ``1 / s`` (so that ``s = 1`` and ``y^T lam`` is the lower bound).

    Parameters
    ----------
    X : array (N, d)
    y : array (N,) of +-1
    lam : array (N,)
        The starting point (``diag(y) lam >= 0``); its support ``S`` is kept.
    seconds : float
        Wall-clock budget: every semidefinite solve starts before it (a batch in progress
        and the program finish; leaves not reached keep their chord bounds, still valid).
    executor : optional
        Runs the leaves' bounds (:func:`verify.distributed.map_chunks`).
    split, first_nodes : int
        Leaves split per round; node bounds of the first chord trees per sign.
    trace : list, optional
        Gets ``(seconds, leaves, y^T lam / s)`` after every partition or ``lam`` (for the
        benchmarks).

    Returns
    -------
    lam : ndarray (N,)
    plus, minus : BabResult
        The partitions of ``lam`` with every leaf's bound at it (``upper`` the largest):
        the exact evidence's input.

    Raises
    ------
    InputError
        When ``lam`` is zero (there is no support to keep).
    """
    t0 = time.monotonic()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    S = np.flatnonzero(lam)
    if S.size == 0:
        raise InputError("semidefinite_final_proof needs a nonzero lam (its support is kept)")
    XS, ys = X[S], y[S]
    x = _structure(lam[S], ys)
    pieces = _first_pieces(X, S, x, first_nodes)
    deadline = t0 + seconds
    _chords(pieces, XS, x)
    # the first partition, tightest first; a piece the budget leaves out keeps its chord
    _solve_sdp(pieces, XS, x, executor, deadline)
    best = None

    def record(x: np.ndarray) -> None:
        nonlocal best
        top = max(p.bound for p in pieces)
        val = float(ys @ x) / max(top, 1e-300)
        if trace is not None:
            trace.append((time.monotonic() - t0, len(pieces), val))
        if best is None or val > best[0]:
            best = (val, x, [replace(p) for p in pieces], top)

    record(x)
    while time.monotonic() < deadline:
        pieces, new = _split(pieces, split, XS, x)
        if new:
            _chords(new, XS, x)
            _solve_sdp(new, XS, x, executor, deadline)
            record(x)
        got = _program(pieces, XS, ys, x, deadline - time.monotonic())
        if got is None:
            break
        xn, mults = got
        xn = _structure(xn, ys)
        # every piece's bound at the new point: the chord, and the program's own semidefinite
        # multipliers (valid, cheap); then fresh solves while the budget lasts
        fixed = [None if m is None else _fixed_bound(XS, p, m[0], m[1], m[2], xn)
                 for p, m in zip(pieces, mults)]
        _chords(pieces, XS, xn)
        for p, f in zip(pieces, fixed):
            p.sd = None
            if f is not None and f.bound < p.bound:
                p.sd, p.bound = replace(f, raw=None), f.bound
        _solve_sdp(pieces, XS, xn, executor, deadline, _TIGHT)
        x = xn
        record(x)
    _, xb, snap, top = best
    if not top > 0:  # every leaf bound 0 (e.g. X_S = 0): any scale is proved; keep xb
        top = 1.0
    # lam = xb / top: the chords recomputed there, the semidefinite multipliers scaled
    lam_s = xb / top
    _chords(snap, XS, lam_s)
    for p in snap:
        if p.sd is not None:
            p.sd = _scaled(p.sd, 1.0 / top)
            p.bound = min(p.bound, p.sd.bound)
    out = np.zeros(X.shape[0])
    out[S] = lam_s
    plus, minus = _results(snap, S, time.monotonic() - t0)
    return out, plus, minus


def _scaled(sd: SdpBound, f: float) -> SdpBound:
    """The semidefinite bound of ``f * mu`` (every multiplier times ``f``: homogeneous)."""
    return replace(sd, bound=sd.bound * f, tau=sd.tau * f, rho=sd.rho * f, ball=sd.ball * f,
                   t=sd.t * f, tx=sd.tx * f, eq=sd.eq * f, cone=sd.cone * f, at=sd.at * f,
                   atx=sd.atx * f, raw=None)
