"""The best ``lam`` a branch-and-bound partition proves: the dual over the leaves of two trees.

A tree of :func:`verify.convex.branch_and_bound.bab_maximize` for ``mu = sign * lam`` is a
partition of the unit ball into cones (its leaves, open or closed), and on each leaf the
relaxation bounds ``mu^T (X u)_+`` by

    B_L(mu) + || sum_{n fixed +} mu_n x_n + sum_{n in I_L} mu_n a_n x_n
                 + sum_{n in J_L} beta_n x_n + A_L^T z_L ||,

``I_L`` the free rows with ``mu_n > 0`` (chord ``(t)_+ <= a_n t + b_n`` on ``[l_n, h_n]``,
``B_L = sum_{I_L} mu_n b_n``), ``J_L`` the free rows with ``mu_n < 0`` (``beta_n = alpha_n mu_n``,
``mu_n <= beta_n <= 0``), ``z_L >= 0`` the cone multipliers.  The intervals ``l_n, h_n`` (and so
``a_n, b_n``) depend only on the leaf's cone, not on ``lam``, and the sign of every ``mu_n`` is
fixed by its label (``diag(y) lam >= 0``).  So, the trees being fixed, the bound of every leaf
is jointly convex in ``(lam, beta, z)`` and

    maximise  y^T lam   s.t.  diag(y) lam >= 0,  supp lam in S,  every leaf's bound <= 1

is one convex program: the largest lower bound ``y^T lam`` (with ``s(lam) <= 1``) that these
partitions can prove.  The ``lam`` the trees were grown for, scaled by ``1 / max(1, s)``, is
feasible, so the program never does worse.  The answer is only a *candidate*: the final proof
grows fresh trees for it and their exact evidence decides
(:mod:`verify.convex.branch_and_bound_evidence`), so the solver's accuracy never matters for
rigour.  With the trees refined to every chamber of ``X_S`` the relaxation is exact and the
program is the dual (129) over ``S``.

**Cutting planes.**  By minimax a leaf's bound is the maximum over ``u`` in its cone and the
ball of ``lam^T phi_L(u)``, ``phi_L`` linear in the chords and ``(x_n^T u)_+`` on the rows
with ``mu_n < 0`` (:func:`_cut`); at a given ``lam`` its maximiser is the bounded least
squares' residual, the search's own computation, and gives a supporting hyperplane.  So the
program is a linear program in ``lam_S`` alone with infinitely many rows, and Kelley's method
solves it (:func:`_outer_approximation`): a linear program over the cuts found so far (HiGHS,
``|S|`` variables), every leaf's bound at its answer, the violated leaves' cuts added, until
the outer value meets the best feasible point (the answer scaled by its largest leaf bound).
On breast-cancer's first trees of a final proof (9,848 leaves, support 60) this took 24-31 s
(9-11 linear programs; each round's 9,848 bounded least squares are ~2.7 s of it) for
``y^T lam`` 8.1758, where the second-order cone program in Clarabel's native form (one cone of
size ``d + 1`` per leaf with a dense ``d x |S|`` block, lazy leaves, the alphas the search left
at 0 or 1 fixed to halve it) took 75-111 s for 8.064.  The cone program stays, for the
semidefinite leaves (:mod:`verify.convex.leaf_program`); the tests compare the two on chord
leaves.

Examples
--------
>>> import numpy as np
>>> from verify.convex.branch_and_bound import bab_maximize
>>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([1.0, -1.0])
>>> lam = np.array([2.0, -1.0])  # s(lam) = 2: lam / 2 proves y^T lam / 2 = 1.5
>>> trees = [bab_maximize(X, lam, sign=s, prove_below=1.0) for s in (1, -1)]
>>> new = tree_dual(X, y, lam, trees)
>>> new.round(6).tolist()  # each row alone has s <= 1: lam = (1, -1), y^T lam = 2
[1.0, -1.0]
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LeafDual", "LeafNetwork", "dual_over_leaves", "tree_dual"]

#: The answer's feasibility: a leaf is violated when its bound is above ``1 + _VIOLATED``.
#: ``|lam_n| <= _BOX * max |lam|`` keeps the first linear programs bounded (a row that no cut
#: constrains yet; any ``lam`` is a valid candidate, so the box only limits the step).
_VIOLATED, _BOX = 1e-6, 10.0
#: The cutting planes (:func:`_outer_approximation`): at most ``_ITERATIONS`` linear programs;
#: stop when the outer value is within ``_GAP`` (relative) of the best feasible point.
_ITERATIONS, _GAP = 200, 1e-5
#: A cut's residual below ``_NOISE`` of the terms it sums is rounding (``u = 0``); one whose
#: cone rows are below ``-_CONE`` is outside the cone (:func:`_cut`).
_NOISE, _CONE = 1e-12, 1e-9
#: Entries of the answer below ``_ZERO * max |lam|`` are set to 0 (the fresh trees measure
#: what that costs, at most ``_ZERO * sum |x_n|`` of the bound per unit of ``lam``).
_ZERO = 1e-6


@dataclass(frozen=True)
class _Leaf:
    """A leaf's relaxation as a function of ``lam_S``: bound ``bcoef @ lam + ||coef @ lam +
    X[neg]^T beta + A^T z||`` with ``beta_n in [sign lam_n, 0]``, ``z >= 0``."""

    sign: float
    coef: np.ndarray  # (d, m)
    bcoef: np.ndarray  # (m,)
    neg: np.ndarray  # positions into S of the rows with mu_n < 0 (beta rows)
    A: np.ndarray  # (p, d): the cone rows sigma_k x_k


@dataclass(frozen=True)
class LeafNetwork:
    """The network of the cutting planes' last linear program (its dual): neuron ``k`` is
    ``signs[k] * weights[k] * (directions[k]^T x)_+`` (``directions`` unit or zero rows)."""

    signs: np.ndarray  # (k,) +1 / -1: the tree the cut came from
    directions: np.ndarray  # (k, d)
    weights: np.ndarray  # (k,) >= 0

    def margins(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``y_n f(x_n)`` for every sample."""
        return y * (np.maximum(X @ self.directions.T, 0.0) @ (self.signs * self.weights))


@dataclass(frozen=True)
class LeafDual:
    """:func:`dual_over_leaves`' answer: ``lam`` (``None``: no usable answer) and the network
    of the linear program's dual (``None``: none)."""

    lam: np.ndarray | None
    network: LeafNetwork | None


def tree_dual(X: np.ndarray, y: np.ndarray, lam: np.ndarray, trees: Any, *,
              rows: Any = None, time_limit: float | None = None) -> np.ndarray | None:
    """The ``lam`` of :func:`dual_over_leaves` (``None`` when there is no usable answer)."""
    return dual_over_leaves(X, y, lam, trees, rows=rows, time_limit=time_limit).lam


def dual_over_leaves(X: np.ndarray, y: np.ndarray, lam: np.ndarray, trees: Any, *,
                     rows: Any = None, time_limit: float | None = None) -> LeafDual:
    """The ``lam`` (support in ``rows``) of largest ``y^T lam`` whose relaxation is ``<= 1`` on
    every leaf of ``trees`` (:class:`~verify.convex.branch_and_bound.BabResult` with their
    leaves, for ``lam`` and both signs) and the network of the cutting planes' dual
    (:class:`LeafDual`; its ``lam`` is ``None`` when there is no usable answer).

    The trees must be those of ``lam`` itself (their ``support`` equal to ``supp lam``), each a
    partition of the ball (any tree is, finished or not).  ``rows`` (default ``supp lam``)
    may hold more samples: on every leaf a row outside the trees' support gets its interval
    ``[l_n, h_n]`` on the leaf's cone (Lemma 4) when its ``mu_n`` would be positive, its
    ``beta_n`` when negative, so that a sample the last ``lam`` left out can come back.
    The answer is scaled by ``1 / its largest leaf bound`` (the bounds are positively
    homogeneous in ``lam``), so its relaxation is ``<= 1`` on every leaf, even when
    ``time_limit`` (seconds) cut the cutting planes short, and ``= 1`` on the tightest (up to
    float rounding; possibly below when the time ran out in the sweep of that point, which
    then scales by screened upper bounds); no answer when the time runs out before every leaf
    is bounded once.

    The network (:class:`LeafNetwork`) has the program's value and margins ``>= 1`` on the
    rows, up to the solver's tolerance, where the cuts it uses are exact; its margins on the
    other samples say which of them the support lacks (the final proof adds them).
    """
    deadline = None if time_limit is None else time.monotonic() + time_limit
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    T = np.flatnonzero(lam)
    S = T if rows is None else np.union1d(T, np.asarray(rows, dtype=np.int64))
    S = S[X[S].any(axis=1)] if S.size else S
    if S.size == 0 or T.size == 0:
        return LeafDual(None, None)
    leaves, _ = _leaves(X, y, T, S, trees, deadline)
    if not leaves:
        return LeafDual(None, None)
    ys, XS = y[S], X[S]
    box = _BOX * float(np.abs(lam).max())
    x0 = np.asarray(lam, dtype=np.float64)[S]
    x, net = _outer_approximation(leaves, ys, XS, x0, box, deadline)
    if x is None or not x.any():
        return LeafDual(None, net)
    out = np.zeros(X.shape[0])
    out[S] = x
    return LeafDual(out, net)


def _leaves(X: np.ndarray, y: np.ndarray, T: np.ndarray, S: np.ndarray, trees: Any,
            deadline: float | None = None) -> tuple[list[_Leaf], np.ndarray]:
    """Every leaf's relaxation (:class:`_Leaf`) and its bound for the trees' ``lam``; no
    leaves at all when ``deadline`` (``time.monotonic()``) passes first."""
    m, d = S.size, X.shape[1]
    pos = {int(n): i for i, n in enumerate(S)}
    extra = np.setdiff1d(S, T)
    out: list[_Leaf] = []
    prio: list[float] = []
    for tree in trees:
        if len(tree.support) != T.size or not np.array_equal(tree.support, T):
            raise ValueError("tree_dual: every tree must be over the support of lam")
        if tree.n_leaves and not tree.leaves:
            raise ValueError("tree_dual: every tree must keep its leaves (keep_leaves=True)")
        sg = float(tree.sign)
        up = extra[sg * y[extra] > 0]  # rows outside the trees that would be positive
        down = extra[sg * y[extra] < 0]
        for L in tree.leaves:
            if deadline is not None and time.monotonic() > deadline:
                return [], np.zeros(0)
            coef = np.zeros((d, m))
            bcoef = np.zeros(m)
            # rows with x_n = 0 (left out of S) contribute nothing: skipped
            for n, s in L.path:
                if s > 0 and n in pos:
                    coef[:, pos[n]] += sg * X[n]
            ivals = [(n, lo, hi) for n, (lo, hi, *_rest) in L.intervals.items() if n in pos]
            if up.size:
                ivals += _intervals(X, L.path, up)
            for n, lo, hi in ivals:
                a = hi / (hi - lo) if hi - lo > 0 else 0.0
                coef[:, pos[n]] += sg * a * X[n]
                bcoef[pos[n]] += sg * (-a * lo)
            own = [n for n in sorted(L.alpha) if n in pos]
            neg = np.array([pos[n] for n in own] + [pos[int(n)] for n in down],
                           dtype=np.int64)
            A = np.array([s * X[n] for n, s in L.path]).reshape(len(L.path), d)
            out.append(_Leaf(sg, coef, bcoef, neg, A))
            prio.append(float(L.bound))
    return out, np.array(prio)


def _bound(leaf: _Leaf, x: np.ndarray, XS: np.ndarray) -> float:
    """The leaf's bound at ``lam_S = x`` (its best ``beta``, ``z``: bounded least squares)."""
    return _cut(leaf, x, XS)[0]


def _cut(leaf: _Leaf, x: np.ndarray, XS: np.ndarray
         ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The leaf's bound at ``lam_S = x``, its cut ``phi`` (``lam^T phi <= bound_L(lam)`` for
    every ``lam`` of the labels' signs, with equality at ``x``), its multipliers ``w`` (the
    ``alpha`` of the rows with ``mu_n < 0``, then ``z``) and the cut's point ``u``.

    The bound is ``max`` over ``u`` in the leaf's cone and the ball of ``lam^T phi(u)``,
    ``phi_n(u)`` = ``sign x_n^T u`` (rows fixed positive), ``sign (a_n x_n^T u + b_n)``
    (chords), ``sign (x_n^T u)_+`` (rows with ``mu_n < 0``: the minimum over ``alpha_n`` in
    ``[0, 1]``, by minimax); its maximiser is the bounded least squares' residual ``r / ||r||``
    (Lemma 4), so ``phi`` there is a supporting hyperplane of the bound at ``x``.  A residual
    at rounding level (the bound is ``bcoef @ x``, its norm part 0) gives ``u = 0``,
    ``phi = bcoef``, also supporting; a residual outside the cone (a near-optimal least
    squares) is replaced by the Lemma-4 maximiser for its ``beta``: a point of the cone keeps
    the cut valid, only less tight.
    """
    from scipy.optimize import nnls

    from verify.convex.node_bound import _box_lsq

    c0 = leaf.coef @ x
    k = leaf.neg.size
    mu = leaf.sign * x[leaf.neg]
    M = np.concatenate([(mu[:, None] * XS[leaf.neg]).T, leaf.A.T], axis=1)
    w = np.maximum(_box_lsq(M, c0, k), 0.0)
    r = c0 + M @ w
    nr = float(np.linalg.norm(r))
    phi = leaf.bcoef.copy()
    noise = _NOISE * (float(np.linalg.norm(c0)) + float(np.abs(M).sum(axis=0) @ w) + 1e-300)
    u = r / nr if nr > noise else None  # a residual at rounding level points anywhere
    if u is not None and leaf.A.shape[0] and float((leaf.A @ u).min()) < -_CONE:
        # not in the cone (the box least squares is only near-optimal): the maximiser of the
        # linear function its betas leave, by Lemma 4 (NNLS), is
        z = nnls(leaf.A.T, -(c0 + M[:, :k] @ w[:k]))[0]
        r2 = c0 + M[:, :k] @ w[:k] + leaf.A.T @ z
        n2 = float(np.linalg.norm(r2))
        u = r2 / n2 if n2 > noise else None
    if u is None:  # any u in the cone and the ball gives a valid cut; u = 0 too
        u = np.zeros(XS.shape[1])
    phi += leaf.coef.T @ u
    if k:
        phi[leaf.neg] += leaf.sign * np.maximum(XS[leaf.neg] @ u, 0.0)
    return float(leaf.bcoef @ x) + nr, phi, w, u


def _screen(leaf: _Leaf, x: np.ndarray, XS: np.ndarray, w: np.ndarray) -> float:
    """An upper bound on the leaf's bound at ``x`` from multipliers ``w`` of another point
    (any ``alpha`` in ``[0, 1]`` and ``z >= 0`` give one, by weak duality): matrix products,
    no least squares."""
    k = leaf.neg.size
    r = leaf.coef @ x + leaf.A.T @ w[k:]
    if k:
        r += XS[leaf.neg].T @ (w[:k] * leaf.sign * x[leaf.neg])
    return float(leaf.bcoef @ x + np.linalg.norm(r))


def _sweep(leaves: list[_Leaf], x: np.ndarray, XS: np.ndarray, ws: list,
           deadline: float | None = None) -> tuple[np.ndarray, ...] | None:
    """Every leaf's bound at ``x`` (an upper bound where screening shows it ``<= 1 +
    _VIOLATED``, but the largest exact unless ``deadline`` passes while the screened ones
    above the largest exact are bounded), the leaves bounded exactly (the others' ``ws[j]``,
    their last multipliers, screen them), those leaves' cuts and their points ``u``; ``ws`` is
    updated.  ``None`` when ``deadline`` (``time.monotonic()``) passes before every leaf has
    a value."""
    vals = np.empty(len(leaves))
    exact: list[int] = []
    cuts: list[np.ndarray] = []
    us: list[np.ndarray] = []
    for j, leaf in enumerate(leaves):
        if deadline is not None and j % 256 == 0 and time.monotonic() > deadline:
            return None
        if ws[j] is not None:
            vals[j] = _screen(leaf, x, XS, ws[j])
            if vals[j] <= 1.0 + _VIOLATED:
                continue
        vals[j], phi, ws[j], u = _cut(leaf, x, XS)
        exact.append(j)
        cuts.append(phi)
        us.append(u)
    # the largest bound exactly (it scales the point): screened leaves above the largest exact
    # bound, largest first, until the next one's upper bound is below it
    done = np.zeros(len(leaves), dtype=bool)
    done[exact] = True
    top = float(vals[exact].max()) if exact else -math.inf
    for j in np.argsort(-vals, kind="stable"):
        if vals[j] <= top or (deadline is not None and time.monotonic() > deadline):
            break  # past the deadline the screened values stand: upper bounds all the same
        if not done[j]:
            vals[j], phi, ws[j], u = _cut(leaves[j], x, XS)
            exact.append(int(j))
            cuts.append(phi)
            us.append(u)
            top = max(top, float(vals[j]))
    return (vals, np.array(exact, dtype=np.int64),
            np.array(cuts).reshape(len(cuts), XS.shape[0]),
            np.array(us).reshape(len(us), XS.shape[1]))


def _outer_approximation(leaves: list[_Leaf], ys: np.ndarray, XS: np.ndarray, x0: np.ndarray,
                         box: float, deadline: float | None
                         ) -> tuple[np.ndarray | None, LeafNetwork | None]:
    """Kelley's cutting planes for ``max y^T lam`` over every leaf's bound ``<= 1``: the best
    point found, scaled by its largest leaf bound over *every* leaf (``None``: none), and the
    network of the last linear program's dual (:class:`LeafNetwork`; ``None``: none).

    Each leaf's bound is convex and positively homogeneous in ``lam``, the maximum of
    ``lam^T phi(u)`` over its cone (:func:`_cut`), so every cut ``phi^T lam <= 1`` holds on the
    feasible set and the linear program over the cuts (HiGHS; ``lam`` alone, ``|S|``
    variables, ``0 <= y_n lam_n <= box``) is an outer approximation whose value bounds the
    program's from above.  Its answer ``x`` scaled by ``1 / max_L bound_L(x)`` is feasible;
    the cuts at ``x`` of every violated leaf join.  A leaf is bounded exactly (a bounded least
    squares) only when its last multipliers do not already show it ``<= 1 + _VIOLATED``
    (:func:`_screen`).  Stops when the outer value is within ``_GAP`` (relative) of the best
    feasible point, when no leaf is violated, when no violated leaf's cut separates the linear
    program's point (the next one would return it again), at ``_ITERATIONS`` rounds or at the
    time limit.

    The linear program's dual ``min 1^T nu`` s.t. ``y_n sum_k nu_k phi_k[n] >= 1`` on ``S``,
    ``nu >= 0`` is a network: one neuron ``sign_k (u_k^T x)_+`` of weight ``nu_k`` per cut,
    whose value is the program's (LP duality) and whose margins on ``S`` are at least 1 where
    its cuts are exact (``phi_k = sign_k (X_S u_k)_+``: a leaf with every positive row fixed).
    """
    from scipy.optimize import linprog

    ws: list = [None] * len(leaves)
    got = _sweep(leaves, x0, XS, ws, deadline)
    if got is None:
        return None, None
    vals, exact, cuts, us = got
    top = float(vals.max())
    if not top > 0:
        return None, None
    best_val, best = float(ys @ x0) / top, x0 / top
    signs = np.array([leaves[j].sign for j in exact])
    rows, points, sides = [cuts], [us], [signs]
    net = None
    bounds = [(0.0, box) if v > 0 else (-box, 0.0) for v in ys]
    for _ in range(_ITERATIONS):
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        A = np.vstack(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lp = linprog(-ys, A_ub=A, b_ub=np.ones(A.shape[0]), bounds=bounds, method="highs",
                         options={} if left is None else {"time_limit": max(left, 0.1)})
        if lp.x is None or not np.all(np.isfinite(lp.x)):
            break
        outer = -float(lp.fun) if lp.status == 0 else math.inf
        duals = getattr(getattr(lp, "ineqlin", None), "marginals", None)
        if lp.status == 0 and duals is not None:
            nu = -np.asarray(duals, dtype=np.float64)
            on = np.flatnonzero(nu > _ZERO * max(float(nu.max()), 0.0))
            net = LeafNetwork(np.concatenate(sides)[on], np.vstack(points)[on], nu[on])
        x = np.where(ys * lp.x > _ZERO * float(np.abs(lp.x).max()), lp.x, 0.0)
        if not x.any():
            break
        got = _sweep(leaves, x, XS, ws, deadline)
        if got is None:
            break
        vals, exact, cuts, us = got
        top = float(vals.max())
        if top > 0 and float(ys @ x) / top > best_val:
            best_val, best = float(ys @ x) / top, x / top
        bad = vals[exact] > 1.0 + _VIOLATED
        if not bad.any() or outer <= best_val * (1.0 + _GAP):
            break
        if not (cuts[bad] @ lp.x > 1.0 + _VIOLATED).any():
            # valid cuts, none separating the point (a cut from a point other than the
            # least squares' residual, or u = 0, can be weaker than the bound at x): the next
            # linear program would return the same point
            break
        rows.append(cuts[bad])
        points.append(us[bad])
        sides.append(np.array([leaves[j].sign for j in exact[bad]]))
    return best, net


def _intervals(X: np.ndarray, path: Any, rows: np.ndarray) -> list[tuple[int, float, float]]:
    """``(n, l_n, h_n)``: the extreme values of ``x_n^T u`` on the leaf's cone and the ball
    (Lemma 4, with 0 included: ``l <= 0 <= h``), for the rows ``rows``."""
    from verify.convex.node_bound import _lemma4_many

    P = np.array([n for n, _ in path], dtype=np.int64)
    A = np.array([s * X[n] for n, s in path]).reshape(len(P), X.shape[1])
    h, _, _ = _lemma4_many(A, X[rows], P)
    nl, _, _ = _lemma4_many(A, -X[rows], P)
    return [(int(n), -float(b), float(a)) for n, a, b in zip(rows, h, nl)]
