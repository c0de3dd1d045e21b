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

is one second-order cone program: the largest lower bound ``y^T lam`` (with ``s(lam) <= 1``)
that these partitions can prove.  The ``lam`` the trees were grown for, scaled by ``1 / max(1,
s)``, is feasible, so the program never does worse; on breast-cancer (support 31, d = 30) one
such solve raised the bound from 4.91 to 7.26 on trees of 1,273 leaves.  The answer is only a
*candidate*: the final proof grows fresh trees for it and their exact evidence decides
(:mod:`verify.convex.branch_and_bound_evidence`), so the solver's accuracy never matters for
rigour.  With the trees refined to every chamber of ``X_S`` the relaxation is exact and the
program is the dual (129) over ``S``.  An ``alpha_n`` the search left at 0 or 1 stays fixed
in the program (``beta_n = alpha_n mu_n``, linear in ``lam``); only the fractional ones are
variables (:data:`_FIX_ALPHA`): a restriction, so its answers are feasible for the full
program, at half the size.

The program is built directly in Clarabel's native form (as :mod:`verify.convex.
restricted_native`): variables ``(lam_S, beta_L, z_L for every leaf L)``, one second-order cone
of size ``d + 1`` per leaf.  Each cone carries a dense ``d x |S|`` block, so the leaves are
**lazy**: the program starts from the leaves with the largest bounds for the trees' own
``lam`` and takes, round by round, the leaves the new ``lam`` violates (each leaf's bound at a
given ``lam`` is one bounded least-squares problem, as in the search), until none is.

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
import scipy.sparse as sp

__all__ = ["tree_dual"]

#: Clarabel's tolerances for this program (a candidate only: the fresh trees decide).
_OPTIONS = {"tol_gap_abs": 1e-7, "tol_gap_rel": 1e-7, "tol_feas": 1e-7, "max_iter": 200}
#: Lazy leaves: the first program takes the ``_START`` leaves of largest bound (and every leaf
#: within ``_NEAR`` of the largest), each round at most ``_ADD`` violated ones (bound above
#: ``1 + _VIOLATED``), for at most ``_ROUNDS`` rounds.  A program over some leaves only may be
#: unbounded (a row that no chosen leaf constrains): ``|lam_n| <= _BOX * max |lam|`` keeps it
#: bounded (any ``lam`` is a valid candidate, so the box only limits the step).
_START, _NEAR, _ADD, _VIOLATED, _ROUNDS, _BOX = 1500, 0.98, 1000, 1e-6, 12, 10.0
#: Clarabel statuses whose point is used: a point cut short by the time limit is a candidate
#: too (the answer is scaled by its largest leaf bound, and the fresh trees decide).
_USABLE = ("Solved", "AlmostSolved", "MaxTime", "MaxIterations", "InsufficientProgress")
#: Entries of the answer below ``_ZERO * max |lam|`` are set to 0 (the fresh trees measure
#: what that costs, at most ``_ZERO * sum |x_n|`` of the bound per unit of ``lam``).
_ZERO = 1e-6
#: In the program (not in the bounds that check its answer), a row whose ``alpha_n`` the search
#: left at 0 or 1 (within ``_ALPHA_EDGE``) keeps it: ``beta_n = alpha_n mu_n`` is then part of
#: the leaf's linear coefficients, and only the fractional ``alpha_n`` (~30 % of them on
#: breast-cancer) are variables.  The program is a restriction of the full one (its answers
#: are feasible there too), half the size: on breast-cancer 76-80 s instead of 148 s for 0.25 %
#: less ``y^T lam`` (7.808 instead of 7.827).  ``False``: every ``alpha_n`` is a variable.
_FIX_ALPHA, _ALPHA_EDGE = True, 1e-9


@dataclass(frozen=True)
class _Leaf:
    """A leaf's relaxation as a function of ``lam_S``: bound ``bcoef @ lam + ||coef @ lam +
    X[neg]^T beta + A^T z||`` with ``beta_n in [sign lam_n, 0]``, ``z >= 0``."""

    sign: float
    coef: np.ndarray  # (d, m)
    bcoef: np.ndarray  # (m,)
    neg: np.ndarray  # positions into S of the rows with mu_n < 0 (beta rows)
    A: np.ndarray  # (p, d): the cone rows sigma_k x_k
    fixed: np.ndarray  # (len(neg),) bool: alpha_n at 0 or 1 for the trees' lam (_FIX_ALPHA)
    alpha: np.ndarray  # (len(neg),) the search's alpha_n (0 for rows outside the trees)


def tree_dual(X: np.ndarray, y: np.ndarray, lam: np.ndarray, trees: Any, *,
              rows: Any = None, time_limit: float | None = None) -> np.ndarray | None:
    """The ``lam`` (support in ``rows``) of largest ``y^T lam`` whose relaxation is ``<= 1`` on
    every leaf of ``trees`` (:class:`~verify.convex.branch_and_bound.BabResult` with their
    leaves, for ``lam`` and both signs); ``None`` when the solver gives no usable answer.

    The trees must be those of ``lam`` itself (their ``support`` equal to ``supp lam``), each a
    partition of the ball (any tree is, finished or not).  ``rows`` (default ``supp lam``)
    may hold more samples: on every leaf a row outside the trees' support gets its interval
    ``[l_n, h_n]`` on the leaf's cone (Lemma 4) when its ``mu_n`` would be positive, its
    ``beta_n`` when negative, so that a sample the last ``lam`` left out can come back.
    The answer is scaled by ``1 / its largest leaf bound`` (the bounds are positively
    homogeneous in ``lam``), so its relaxation is ``<= 1`` on every leaf and ``= 1`` on the
    tightest (up to float rounding) even when ``time_limit`` cut the solver short, inside the
    feasible set or outside it; ``None`` if there is no answer.
    """
    t0 = time.monotonic()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    T = np.flatnonzero(lam)
    S = T if rows is None else np.union1d(T, np.asarray(rows, dtype=np.int64))
    S = S[X[S].any(axis=1)] if S.size else S
    if S.size == 0 or T.size == 0:
        return None
    leaves, prio = _leaves(X, y, T, S, trees)
    if not leaves:
        return None
    ys = y[S]
    box = _BOX * float(np.abs(lam).max())
    order = np.argsort(-prio, kind="stable")
    active = set(order[:_START].tolist()) | set(np.flatnonzero(prio >= _NEAR * prio.max()))
    x, top = None, math.inf
    for _ in range(_ROUNDS):
        left = None if time_limit is None else time_limit - (time.monotonic() - t0)
        if left is not None and left <= 0:
            break
        got = _solve(leaves, sorted(active), ys, X[S], box, left)
        if got is None:
            break
        # the sign constraint exactly, and the interior point's tiny entries dropped (each
        # row in the support makes the next trees larger); then every leaf's bound there
        x = np.where(ys * got > _ZERO * float(np.abs(got).max()), got, 0.0)
        vals = np.array([_bound(leaf, x, X[S]) for leaf in leaves])
        top = float(vals.max())
        bad = np.array([j for j in np.flatnonzero(vals > 1.0 + _VIOLATED) if j not in active],
                       dtype=np.int64)
        if bad.size == 0:  # the program's leaves are <= 1 (up to its tolerance)
            break
        active.update(bad[np.argsort(-vals[bad], kind="stable")[:_ADD]].tolist())
    if x is None or not x.any():
        return None
    x = x / top if top > 0 else x  # bound exactly 1 on the tightest leaf, even when the
    # solver was cut short inside the feasible set (there top < 1: scaling up is free)
    # never worse than lam itself, scaled the same way (a solver cut short early can be)
    x0 = np.asarray(lam, dtype=np.float64)[S]
    top0 = max(_bound(leaf, x0, X[S]) for leaf in leaves)
    if top0 > 0 and float(ys @ x0) / top0 > float(ys @ x):
        x = x0 / top0
    out = np.zeros(X.shape[0])
    out[S] = x
    return out


def _leaves(X: np.ndarray, y: np.ndarray, T: np.ndarray, S: np.ndarray,
            trees: Any) -> tuple[list[_Leaf], np.ndarray]:
    """Every leaf's relaxation (:class:`_Leaf`) and its bound for the trees' ``lam``."""
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
            alpha = np.array([L.alpha[n] for n in own] + [0.0] * down.size)
            fixed = np.zeros(neg.size, dtype=bool)
            if _FIX_ALPHA:
                fixed[:len(own)] = ((alpha[:len(own)] <= _ALPHA_EDGE)
                                    | (alpha[:len(own)] >= 1.0 - _ALPHA_EDGE))
            A = np.array([s * X[n] for n, s in L.path]).reshape(len(L.path), d)
            out.append(_Leaf(sg, coef, bcoef, neg, A, fixed, alpha))
            prio.append(float(L.bound))
    return out, np.array(prio)


def _bound(leaf: _Leaf, x: np.ndarray, XS: np.ndarray) -> float:
    """The leaf's bound at ``lam_S = x`` (its best ``beta``, ``z``: bounded least squares)."""
    from verify.convex.node_bound import _box_lsq

    c0 = leaf.coef @ x
    mu = leaf.sign * x[leaf.neg]
    M = np.concatenate([(mu[:, None] * XS[leaf.neg]).T, leaf.A.T], axis=1)
    w = np.maximum(_box_lsq(M, c0, leaf.neg.size), 0.0)
    return float(leaf.bcoef @ x + np.linalg.norm(c0 + M @ w))


def _solve(leaves: list[_Leaf], active: list[int], ys: np.ndarray, XS: np.ndarray,
           box: float, time_limit: float | None) -> np.ndarray | None:
    """The program over the leaves ``active`` and ``0 <= y_n lam_n <= box``: ``lam_S``, or
    ``None`` (no usable answer)."""
    prog = _Program(ys, XS, box)
    for j in active:
        prog.add_chord(leaves[j])
    got = prog.solve(time_limit)
    return None if got is None else got[:XS.shape[0]]


class _Program:
    """``maximise y_S^T lam_S`` subject to ``0 <= y_n lam_n <= box`` and one second-order cone
    per leaf, in Clarabel's native form (``A x + s = b``, ``s`` in the cones).  The variables
    are ``lam_S`` first, then each leaf's own multipliers (:meth:`add_chord` and
    :meth:`add_block` return where they start)."""

    def __init__(self, ys: np.ndarray, XS: np.ndarray, box: float):
        m = XS.shape[0]
        self.ys, self.XS, self.m = ys, XS, m
        # nonnegative rows: y_n lam_n >= 0 and box - y_n lam_n >= 0 first
        self.nn_r: list[np.ndarray] = [np.arange(m), m + np.arange(m)]
        self.nn_c: list[np.ndarray] = [np.arange(m), np.arange(m)]
        self.nn_v: list[np.ndarray] = [-ys, ys]
        self.nn_b: list[np.ndarray] = [np.zeros(m), np.full(m, box)]
        self.n_nn = 2 * m
        self.soc: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.nvar = m

    def variables(self, k: int) -> int:
        """``k`` new variables; the index of the first."""
        base = self.nvar
        self.nvar += k
        return base

    def nonneg(self, cols: np.ndarray, vals: np.ndarray, b: np.ndarray | None = None) -> None:
        """Rows ``b_i - vals_i x_{cols_i} >= 0`` (one entry per row; ``b`` default 0)."""
        k = np.arange(cols.size)
        self.nn_r.append(self.n_nn + k)
        self.nn_c.append(np.asarray(cols, dtype=np.int64))
        self.nn_v.append(np.asarray(vals, dtype=np.float64))
        self.nn_b.append(np.zeros(cols.size) if b is None else b)
        self.n_nn += cols.size

    def nonneg_rows(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                    b: np.ndarray) -> None:
        """Rows ``b_r - sum vals x_cols >= 0`` given as triplets (``rows`` from 0)."""
        self.nn_r.append(self.n_nn + rows)
        self.nn_c.append(np.asarray(cols, dtype=np.int64))
        self.nn_v.append(np.asarray(vals, dtype=np.float64))
        self.nn_b.append(b)
        self.n_nn += b.size

    def block(self, blk: np.ndarray, cols: np.ndarray, b: np.ndarray) -> None:
        """One second-order cone ``b - blk x[cols]`` (first entry the norm's bound)."""
        self.soc.append((blk, np.asarray(cols, dtype=np.int64), b, np.nonzero(blk)))

    def add_chord(self, leaf: _Leaf) -> int:
        """A chord leaf's bound ``<= 1``; returns the index of its first multiplier."""
        XS, m = self.XS, self.m
        d = XS.shape[1]
        neg = leaf.neg[~leaf.fixed]  # the rows whose beta_n is a variable
        coef = leaf.coef
        if leaf.fixed.any():  # beta_n = alpha_n sign lam_n: linear in lam
            at = leaf.neg[leaf.fixed]
            coef = coef.copy()
            coef[:, at] += leaf.sign * leaf.alpha[leaf.fixed] * XS[at].T
        nb, nz = neg.size, leaf.A.shape[0]
        base = self.variables(nb + nz)
        # beta_n - mu_n >= 0 and -beta_n >= 0 (mu_n = sign lam_n < 0), z >= 0
        if nb:
            k = np.arange(nb)
            jb = base + k
            self.nonneg_rows(np.concatenate([k, k, nb + k]), np.concatenate([jb, neg, jb]),
                             np.concatenate([-np.ones(nb), np.full(nb, leaf.sign),
                                             np.ones(nb)]), np.zeros(2 * nb))
        if nz:
            self.nonneg(base + nb + np.arange(nz), -np.ones(nz))
        # the cone (1 - B(lam), v(lam, beta, z)): s = b - A x, so A's rows are +B and -v
        blk = np.zeros((d + 1, m + nb + nz))
        blk[0, :m] = leaf.bcoef
        blk[1:, :m] = -coef
        if nb:
            blk[1:, m:m + nb] = -XS[neg].T
        if nz:
            blk[1:, m + nb:] = -leaf.A.T
        b = np.zeros(d + 1)
        b[0] = 1.0
        self.block(blk, np.concatenate([np.arange(m), base + np.arange(nb + nz)]), b)
        return base

    def solve(self, time_limit: float | None) -> np.ndarray | None:
        """Clarabel's ``x`` (all variables), or ``None`` (no usable answer)."""
        import clarabel

        A_nn = sp.csc_matrix((np.concatenate(self.nn_v), (np.concatenate(self.nn_r),
                                                           np.concatenate(self.nn_c))),
                             shape=(self.n_nn, self.nvar))
        rows, cols, vals, bs, cones = [], [], [], [], []
        off = 0
        for blk, bc, b, (rr, cc) in self.soc:
            rows.append(off + rr)
            cols.append(bc[cc])
            vals.append(blk[rr, cc])
            bs.append(b)
            cones.append(clarabel.SecondOrderConeT(b.size))
            off += b.size
        A_soc = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))),
                              shape=(off, self.nvar))
        A = sp.vstack([A_nn, A_soc], format="csc")
        b = np.concatenate(self.nn_b + bs)
        q = np.zeros(self.nvar)
        q[:self.m] = -self.ys
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        for k, v in _OPTIONS.items():
            setattr(settings, k, v)
        if time_limit is not None:
            settings.time_limit = max(float(time_limit), 0.1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = clarabel.DefaultSolver(sp.csc_matrix((self.nvar, self.nvar)), q, A, b,
                                         [clarabel.NonnegativeConeT(self.n_nn)] + cones,
                                         settings).solve()
        if str(sol.status) not in _USABLE:
            return None
        x = np.asarray(sol.x)
        return x if np.all(np.isfinite(x)) and np.any(x[:self.m]) else None


def _intervals(X: np.ndarray, path: Any, rows: np.ndarray) -> list[tuple[int, float, float]]:
    """``(n, l_n, h_n)``: the extreme values of ``x_n^T u`` on the leaf's cone and the ball
    (Lemma 4, with 0 included: ``l <= 0 <= h``), for the rows ``rows``."""
    from verify.convex.node_bound import _lemma4_many

    P = np.array([n for n, _ in path], dtype=np.int64)
    A = np.array([s * X[n] for n, s in path]).reshape(len(P), X.shape[1])
    h, _, _ = _lemma4_many(A, X[rows], P)
    nl, _, _ = _lemma4_many(A, -X[rows], P)
    return [(int(n), -float(b), float(a)) for n, a, b in zip(rows, h, nl)]
