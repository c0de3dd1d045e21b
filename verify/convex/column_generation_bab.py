"""Program (14) by column generation without the chamber list: the branch-and-bound route.

When the chambers cannot be enumerated (or need not be), the working set of activation
patterns grows from the patterns of a few candidate neurons (and, in ``certify``, of the
trained network), and the oracle asking "is some pattern violated?" is the branch and bound of
:mod:`verify.convex.branch_and_bound` over the support of ``lam``.  Each round:

1. the restricted dual (129) over the working set (:func:`verify.convex.column_generation.
   _solve_restricted`), with **lazy wall rows**: a pattern's cone constraints start from the
   rows closest to its witness and grow by the rows the solution violates, until the solution
   satisfies every row (then it is the restricted program's optimum with all rows);
2. ``lam`` is made **support-exact** (entries below ``SUPPORT_REL * max |lam|`` set to 0), so the
   oracle and the certificate see only ``S = supp lam``;
3. branch and bound for both signs, stopping at the first point of value ``> 1 + tol``; its
   chamber's pattern joins the working set.  When both searches prove ``<= 1 + tol`` the loop
   ends and their trees become the exact evidence
   (:func:`verify.convex.branch_and_bound_evidence.evidence_from_results`): ``s`` exact, and
   ``LB = y^T lam / max(1, s)`` rigorous.

Whatever stops the loop (rounds, the node or time budget), the last ``lam`` gets exact
evidence from whatever tree was grown: open leaves keep their bounds, so the lower bound is
finite and valid, only weaker (anytime).  The upper bound is the exact objective of the
recovered network (polished), so ``LB <= P* <= UB`` always holds.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((12, 3)); y = np.sign(X[:, 0] + 0.3 * rng.standard_normal(12))
>>> sol = solve_branch_and_bound(X, y)
>>> sol.method, sol.status.value, float(sol.lower_bound) <= sol.value <= float(sol.upper_bound)
('branch-and-bound', 'optimal', True)
>>> from verify.convex.column_generation import column_generation
>>> abs(column_generation(X, y).value - sol.value) < 1e-6 * sol.value
True
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np

from verify.convex.bounds import _check_binary, exact_yT_lam, project_lambda
from verify.convex.branch_and_bound import BabResult, bab_maximize
from verify.convex.column_generation import LOOSE_TOL, _solve_restricted, candidate_neurons
from verify.convex.programs import (
    ConvexSolution,
    Neuron,
    _choice,
    _failed,
    _network_ub,
    _solver_info,
)
from verify.convex.solvers import SolverChoice
from verify.convex.support_chambers import ORACLE_LIMIT, SupportOracle, evidence_summary
from verify.errors import InputError, SolverError
from verify.status import Status

__all__ = ["solve_branch_and_bound", "SUPPORT_REL", "initial_patterns", "ray_violators"]

#: ``lam_n`` with ``|lam_n| <= SUPPORT_REL * max |lam|`` is set to 0 (the support is exact).
SUPPORT_REL = 1e-9
#: Cone rows a new pattern starts with (the closest to its witness), and added per cut round.
_START_ROWS, _CUT_ROWS = 12, 64
#: Cut rounds per restricted solve: at most ``_LOOP_CUTS`` while the cheap pricing still
#: finds violators (the wall rows found so far persist across rounds, and a program missing
#: some rows is a stricter restriction of the dual, so its ``lam`` still prices correctly),
#: up to ``_MAX_CUTS`` before the oracle is asked (then the solution violates no row).
_MAX_CUTS, _LOOP_CUTS = 30, 3
#: Up to this many samples every margin row is in the restricted program; beyond, margin rows
#: are lazy: the first program keeps ``max(_START_SAMPLES, 4 d)``, each cut round adds at most
#: ``_CUT_SAMPLES`` violated ones.
_ALL_SAMPLES, _START_SAMPLES, _CUT_SAMPLES = 200, 100, 128
#: Patterns added per phase-one round (each brings its cone: few at a time keep it small).
_RAY_PATTERNS = 16
#: Restricted solves without a budget (with one, the budget bounds them).
_ROUNDS = 200
#: Violated patterns the cheap pricing adds per round (at most ``2 d + 2``).
_PRICE_PATTERNS = 10


def initial_patterns(X: np.ndarray, y: np.ndarray, *, start: Any = None,
                     iterations: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Patterns and witnesses to start from: the columns of ``start`` (the first-layer
    weights of a network, ``(d, m)``), then Theorem 1's y-aligned fixed points
    ``u = +-X^T D(u) y`` iterated from ``X^T y`` and every ``+-x_n``.

    Returns ``(P, W)``: unique patterns ``X w >= 0`` (bool, ``(p, N)``) and one witness each.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P, W = initial_patterns(X, np.array([1.0, -1.0]))
    >>> P.shape[1], len(P) == len(W)
    (2, True)
    """
    U = list(candidate_neurons(X, y, iterations=iterations))
    if start is not None:
        S = np.asarray(start, dtype=np.float64)
        U = list(S.reshape(X.shape[1], -1).T) + U
    return _unique(X, np.array([u for u in U if np.any(u != 0) and np.all(np.isfinite(u))]))


def _unique(X: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(U) == 0:
        return np.zeros((0, X.shape[0]), dtype=bool), np.zeros((0, X.shape[1]))
    P = (U @ X.T) >= 0
    _, first = np.unique(np.packbits(P, axis=1), axis=0, return_index=True)
    first = np.sort(first)
    return P[first], U[first]


def _start_rows(X: np.ndarray, w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The ``_START_ROWS`` nonzero rows with the smallest ``|x_n^T w| / ||x_n||``."""
    t = np.abs(X[rows] @ w) / np.linalg.norm(X[rows], axis=1)
    k = min(_START_ROWS, rows.size)
    return np.sort(rows[np.argsort(t, kind="stable")[:k]])


def _violated_rows(X: np.ndarray, pattern: np.ndarray, u: np.ndarray, rows: np.ndarray,
                   have: np.ndarray) -> np.ndarray:
    """Rows (not yet walls) where ``u`` leaves the cone of ``pattern``, most violated first."""
    nu = float(np.linalg.norm(u))
    if nu == 0:
        return np.zeros(0, dtype=np.int64)
    side = np.where(pattern[rows], 1.0, -1.0) * (X[rows] @ u)
    tol = 1e-10 * nu * np.linalg.norm(X[rows], axis=1)
    bad = side < -tol
    bad &= ~np.isin(rows, have)
    cand = rows[bad]
    order = np.argsort(side[bad], kind="stable")
    return cand[order][:_CUT_ROWS]


def _initial_samples(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The samples whose margin rows the first restricted program keeps (``None``: all).

    Up to :data:`_ALL_SAMPLES` samples every margin row is kept.  Beyond, the
    ``max(_START_SAMPLES, 4 d)`` samples with the smallest margin ``y_n x_n^T w`` of the
    least-squares fit ``w`` (those nearest the boundary, where the support of ``lam`` lies); the
    others join when the restricted solution violates their margin (:func:`_violated_samples`).
    """
    N, d = X.shape
    if N <= _ALL_SAMPLES:
        return None
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    k = min(N, max(_START_SAMPLES, 4 * d))
    return np.sort(np.argsort(y * (X @ w), kind="stable")[:k])


def _violated_samples(X: np.ndarray, y: np.ndarray, P: np.ndarray, sol: ConvexSolution,
                      samples: np.ndarray) -> np.ndarray:
    """Samples outside ``samples`` whose margin ``y_n sum_j D_j x_n^T (u'_j - u_j) >= 1`` the
    restricted solution violates (most violated first, at most ``_CUT_SAMPLES``)."""
    V = sol.u_prime - sol.u  # (d, p)
    f = np.einsum("jn,nj->n", P, X @ V)
    viol = y * f < 1.0 - 1e-9
    viol[samples] = False
    cand = np.flatnonzero(viol)
    order = np.argsort(y[cand] * f[cand], kind="stable")
    return cand[order][:_CUT_SAMPLES]


def _restricted_with_cuts(X: np.ndarray, y: np.ndarray, P: np.ndarray, walls: list[np.ndarray],
                          rows: np.ndarray, choice: SolverChoice,
                          samples: np.ndarray | None = None, deadline: float | None = None,
                          max_cuts: int = _MAX_CUTS,
                          ) -> tuple[ConvexSolution, np.ndarray | None, bool]:
    """The restricted program with lazy wall rows (and lazy margin rows when ``samples`` is
    given): re-solved with the rows the solution violates until it violates none, so the
    answer is the restricted program's optimum with all rows.  Returns the solution and the
    grown ``samples`` (``walls`` grow in place), and whether the solution violates no row
    (then its network meets every margin).  Past ``deadline`` (``time.monotonic``) the last
    solution is returned as it is: its ``lam`` still gets exact evidence, only its network may
    miss margins of rows not yet in the program."""
    last: tuple[ConvexSolution, np.ndarray | None] | None = None
    for _ in range(max_cuts):
        try:
            sol = _solve_restricted(X, y, P, walls, choice, samples=samples)
        except SolverError:
            if last is None:
                raise
            return last[0], last[1], False  # a cut round failed: the solve before it
        last = (sol, samples)
        if sol.status not in (Status.RESTRICTED, Status.INACCURATE) or sol.u is None:
            return sol, samples, False
        if deadline is not None and time.monotonic() >= deadline:
            return sol, samples, False
        added = False
        # only live neurons need their cone rows: a neuron at (numerical) zero has a slack dual
        # constraint, which the missing rows (a stricter constraint) leave slack, so the
        # optimum does not change; its noise direction would bring half the rows
        top = max(float(np.linalg.norm(sol.u, axis=0).max(initial=0.0)),
                  float(np.linalg.norm(sol.u_prime, axis=0).max(initial=0.0)))
        for j in range(P.shape[0]):
            for u in (sol.u[:, j], sol.u_prime[:, j]):
                if not np.linalg.norm(u) > _PRUNE_REL * top:
                    continue
                new = _violated_rows(X, P[j], u, rows, walls[j])
                if new.size:
                    walls[j] = np.union1d(walls[j], new)
                    added = True
        if samples is not None:
            more = _violated_samples(X, y, P, sol, samples)
            if more.size:
                samples = np.union1d(samples, more)
                added = True
        if not added:
            return sol, samples, True
    return sol, samples, False


#: A pattern whose neurons ``||u_j||, ||u'_j||`` stay at most ``_PRUNE_REL * max`` for
#: ``_PRUNE_IDLE`` restricted solves in a row leaves the working set (its columns are zero in
#: the optimum, so the restricted optimum is unchanged); the oracle brings it back if needed.
_PRUNE_REL, _PRUNE_IDLE = 1e-7, 1


def _key(pattern: np.ndarray) -> bytes:
    return np.packbits(pattern).tobytes()


def _prune(sol: ConvexSolution, idle: np.ndarray, permanent: np.ndarray) -> np.ndarray | None:
    """Update ``idle`` in place from the solution's neuron norms; the mask of patterns to keep,
    or ``None`` when none is dropped.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> u = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> idle = np.array([0, 0, 0]); permanent = np.array([False, False, True])
    >>> _prune(SimpleNamespace(u=u, u_prime=0 * u), idle, permanent).tolist(), idle.tolist()
    ([True, False, True], [0, 1, 1])
    """
    a = np.maximum(np.linalg.norm(sol.u, axis=0), np.linalg.norm(sol.u_prime, axis=0))
    top = float(a.max(initial=0.0))
    active = a > _PRUNE_REL * top
    idle[active] = 0
    idle[~active] += 1
    keep = active | permanent | (idle < _PRUNE_IDLE)
    if keep.all() or not keep.any():
        return None
    return keep


def heuristic_violators(X: np.ndarray, lam: np.ndarray, thr: float, *, top: int,
                        steps: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cheap pricing before the oracle: the local search ``u <- X^T D(u) mu / ||.||`` (both
    signs ``mu = +-lam``) from every ``+-x_n`` of the support and a few random points; the
    distinct patterns ``X u >= 0`` of value ``mu^T (X u)_+ > thr``, best first (at most ``top``).

    A heuristic finds violators fast but cannot prove there are none: that is the branch and
    bound's job.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P, U = heuristic_violators(X, np.array([3.0, 4.0]), 1.0, top=5)
    >>> P.tolist()  # best first: both rows active (value 5), then row 1 alone (4), row 0 (3)
    [[True, True], [False, True], [True, False]]
    """
    S = np.flatnonzero(lam)
    d = X.shape[1]
    if S.size == 0:
        return np.zeros((0, X.shape[0]), dtype=bool), np.zeros((0, d))
    XS = X[S]
    rng = np.random.default_rng(seed)
    found_u, found_v = [], []
    for sg in (1.0, -1.0):
        mu = sg * lam[S]
        U = np.concatenate([XS.T, -XS.T, rng.standard_normal((d, 2 * d + 2))], axis=1)
        for _ in range(steps + 1):
            nrm = np.linalg.norm(U, axis=0)
            U = U[:, nrm > 0] / nrm[nrm > 0]
            if U.shape[1] == 0:
                break
            G = XS @ U
            vals = mu @ np.maximum(G, 0.0)
            keep = vals > thr
            found_u.append(U[:, keep].T)
            found_v.append(vals[keep])
            U = XS.T @ ((G > 0) * mu[:, None])
    if not found_u:
        return np.zeros((0, X.shape[0]), dtype=bool), np.zeros((0, d))
    Uall, vall = np.vstack(found_u), np.concatenate(found_v)
    order = np.argsort(-vall, kind="stable")
    P, W = _unique(X, Uall[order])
    return P[:top], W[:top]


def ray_violators(X: np.ndarray, y: np.ndarray, ray: np.ndarray, P: np.ndarray, *, top: int,
                  node_limit: int = 2_000, time_limit: float | None = None,
                  executor: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Patterns (not in ``P``) that cut off a ray of the infeasible restricted program.

    ``ray`` certifies that the restricted program over ``P`` is infeasible: ``y^T ray > 0``,
    ``diag(y) ray >= 0`` and ``ray^T D_j X u <= 0`` on every cone of ``P``.  A pattern whose
    value ``max_u +-ray^T (X u)_+`` is positive is therefore not in ``P``, and adding it
    removes the ray (phase one of column generation).  Local search first
    (:func:`heuristic_violators` at a threshold ``1e-7 sum |ray_n| ||x_n||``), then the branch
    and bound for both signs when the search finds nothing.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P, W = ray_violators(X, np.array([1.0, -1.0]), np.array([1.0, 0.0]),
    ...                      np.zeros((0, 2), dtype=bool), top=3)
    >>> P.tolist()  # the patterns that activate sample 0
    [[True, True], [True, False]]
    """
    mu = project_lambda(y, np.asarray(ray, dtype=np.float64))
    top_mu = float(np.abs(mu).max(initial=0.0))
    d = X.shape[1]
    none = np.zeros((0, X.shape[0]), dtype=bool), np.zeros((0, d))
    if top_mu == 0:
        return none
    mu = np.where(np.abs(mu) > SUPPORT_REL * top_mu, mu / top_mu, 0.0)
    thr = 1e-7 * float(np.abs(mu) @ np.linalg.norm(X, axis=1))
    HP, HW = heuristic_violators(X, mu, thr, top=top + len(P))
    new = [j for j in range(len(HP)) if not any(np.array_equal(HP[j], q) for q in P)][:top]
    if new:
        return HP[new], HW[new]
    found_p, found_w = [], []
    for sg in (1, -1):
        r = bab_maximize(X, mu, sign=sg, stop_above=thr, node_limit=node_limit,
                         time_limit=time_limit, executor=executor, keep_leaves=False)
        if r.lower > thr and not any(np.array_equal(r.pattern, q) for q in [*P, *found_p]):
            found_p.append(r.pattern)
            found_w.append(r.u)
    if not found_p:
        return none
    return np.array(found_p, dtype=bool), np.array(found_w)


def _widen(X: np.ndarray, y: np.ndarray, P: np.ndarray, W: np.ndarray, ray: Any,
           rng: np.random.Generator, *, top: int, node_limit: int, deadline: float | None,
           executor: Any) -> tuple[np.ndarray, np.ndarray]:
    """More patterns for an infeasible restricted program: those cutting off its ray
    (:func:`ray_violators`) when the solver gave one, else (or when none is found) random
    directions.  Returns ``(P, W)`` extended (unchanged when nothing new was found)."""
    if ray is not None:
        left = None if deadline is None else max(deadline - time.monotonic(), 1.0)
        RP, RW = ray_violators(X, y, ray, P, top=top, node_limit=min(node_limit, 20_000),
                               time_limit=left, executor=executor)
        if len(RP):
            return np.vstack([P, RP]), np.vstack([W, RW])
    d = X.shape[1]
    GP, GW = _unique(X, rng.standard_normal((8 * d + 8, d)))
    known = {row.tobytes() for row in np.packbits(P, axis=1)}
    new = [j for j, row in enumerate(np.packbits(GP, axis=1)) if row.tobytes() not in known]
    return np.vstack([P, GP[new]]), np.vstack([W, GW[new]])


#: Share of the budget for the loop, and of what is left after it, for the final proof (the
#: exact evidence of a tree costs about as much per leaf as a node bound, ~0.6 of its search,
#: and only the best round's trees, grown in ``_FIRST_TREES`` of the proof, get evidence).
_LOOP_SHARE, _PROOF_SHARE = 0.5, 0.85
#: Once a point proved in the loop is within ``_CLOSE`` (relative) of its restricted program's
#: value, the loop may take ``_LOOP_SHARE_CLOSE`` of the budget: the final proof starts from
#: that point and has little left to add, while the program's value (the upper bound) still
#: falls with every round.
_CLOSE, _LOOP_SHARE_CLOSE = 1e-2, 0.8
#: The final proof: the first trees get ``_FIRST_TREES`` of its seconds; then at most
#: ``_TREE_DUAL_ROUNDS`` times the dual over their leaves (:func:`verify.convex.tree_dual.
#: tree_dual`) gives a new ``lam`` and fresh trees are grown for it, while the anytime bound
#: grows by more than ``_TREE_DUAL_GAIN`` (relative).
_FIRST_TREES, _TREE_DUAL_ROUNDS, _TREE_DUAL_GAIN = 0.12, 12, 1e-4
#: Trees of the later rounds are refined (:func:`~verify.convex.branch_and_bound.bab_maximize`
#: ``refine``) towards the target ``_REFINE * thr``, at most ``_REFINE_NODES`` nodes each when
#: there is no budget: leaves tight for the current ``lam`` are split further, which is what
#: lets the next program move (on breast-cancer 7.4 -> 7.8 -> 8.1 -> 8.2, where unrefined trees
#: stopped at 7.65).
_REFINE, _REFINE_NODES = 0.9, 20_000


def _estimate(y: np.ndarray, lam: np.ndarray, plus: Any, minus: Any) -> float:
    return float(y @ lam) / max(1.0, plus.upper, minus.upper)


#: In-out pricing (Ben-Ameur & Neto 2007): the oracle asks at ``a lam_in + (1 - a) lam``,
#: ``lam_in`` the best dual-feasible point so far (a search's ``lam / max(1, s_upper)``), ``lam``
#: the restricted program's.  ``lam -> lam^T D X u`` is linear for a fixed pattern, so a
#: pattern violated there is violated at ``lam`` (new); when none is, that point is proved
#: and becomes ``lam_in``.  ``0``: price at ``lam``.
_STABILITY = 0.5
#: Share of the loop's time a search at an in-out point may take; mis-pricings in a row
#: before the oracle asks at the program's ``lam`` itself.
_SEP_SHARE, _MISPRICES = 0.1, 6
#: Several columns per round: after its first violator each search expands ``_EXPLORE``
#: more nodes, and up to ``_COLLECT`` other violated patterns it met join the working set
#: with the best one (the first violator is often barely above 1 where the maximum is 2-3).
_COLLECT, _EXPLORE = 4, 256


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


def _final_proof(dual: Any, y: np.ndarray, lam: np.ndarray, thr: float, node_limit: int,
                 seconds: float | None, trees: tuple | None = None) -> tuple[np.ndarray, Any, Any]:
    """Trees for ``lam``, then better ``lam`` from the dual over their leaves: ``(lam, plus,
    minus)`` of the largest anytime bound ``y^T lam / max(1, s)`` seen.

    Any ``lam`` with ``diag(y) lam >= 0`` gives a valid bound, and the best one a partition of
    the ball can prove is one second-order cone program over its leaves
    (:func:`verify.convex.tree_dual.tree_dual`; on breast-cancer it took the bound from 4.4 to
    7.6 on the first trees).  Each new ``lam`` is only a candidate: fresh trees are grown for
    it (their exact evidence decides), and they are the partition of the next round.  The
    rounds stop when the bound grew by less than ``_TREE_DUAL_GAIN`` twice in a row, when
    ``seconds`` run out, or when the oracle answers from the chambers of ``X_S`` (no tree:
    exact already).  ``trees`` (the loop's two searches for this ``lam``, kept with their
    leaves) are the first trees when they took at least half the seconds the first trees
    would get: any tree is a partition of the ball, so they need not be grown again (on
    breast-cancer ~12 % of the proof's seconds).

    Examples
    --------
    >>> from verify.convex.support_chambers import SupportOracle
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([1.0, -1.0])
    >>> lam, plus, minus = _final_proof(SupportOracle(X), y, np.array([1.0, -1.0]), 1.0, 100, 5.0)
    >>> lam.tolist(), plus.status, minus.status
    ([1.0, -1.0], 'proved', 'proved')
    >>> dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)  # trees, no chambers
    >>> lam, plus, minus = _final_proof(dual, y, np.array([2.0, -0.5]), 1.0, 100, 5.0)
    >>> lam.round(6).tolist(), round(max(plus.upper, minus.upper), 6)  # s(2, -0.5) = 2
    ([1.0, -1.0], 1.0)
    """
    from verify.convex.tree_dual import tree_dual

    t0 = time.monotonic()

    def left() -> float | None:
        return None if seconds is None else seconds - (time.monotonic() - t0)

    first = None if seconds is None else _FIRST_TREES * seconds
    support = np.flatnonzero(lam)
    if first is not None and trees is not None and all(
            isinstance(t, BabResult) and t.leaves and np.array_equal(t.support, support)
            for t in trees) and sum(t.seconds for t in trees) >= 0.5 * first:
        plus, minus = trees
    else:
        plus, minus = dual.maximize(lam, prove_below=thr, node_limit=node_limit,
                                    time_limit=first)
    best = (_estimate(y, lam, plus, minus), lam, plus, minus)
    cur = best
    rows = np.flatnonzero(lam)  # samples that left the support may come back
    stalled = 0  # rounds in a row without a gain
    for _ in range(_TREE_DUAL_ROUNDS):
        rest = left()
        if not (isinstance(cur[2], BabResult) and isinstance(cur[3], BabResult)) or (
                rest is not None and rest < 1.0):
            break
        try:
            new = tree_dual(dual.X, y, cur[1], (cur[2], cur[3]), rows=rows,
                            time_limit=None if rest is None else 0.6 * rest)
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError):
            new = None  # the solver failed on a candidate search: the best bound so far stands
        if new is None:
            break
        new = exact_support(y, new)
        rest = left()
        if not new.any() or (rest is not None and rest < 0.5):
            break
        p2, m2 = dual.maximize(new, prove_below=_REFINE * thr, refine=True,
                               node_limit=node_limit if rest is not None else
                               min(node_limit, _REFINE_NODES),
                               time_limit=None if rest is None else
                               max(min(rest, first or rest), 0.5))
        cur = (_estimate(y, new, p2, m2), new, p2, m2)
        stalled = 0 if cur[0] > best[0] * (1.0 + _TREE_DUAL_GAIN) else stalled + 1
        if cur[0] > best[0]:
            best = cur
        if stalled >= 2:
            break
    return best[1], best[2], best[3]


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


def solve_branch_and_bound(
    X: Any,
    y: Any,
    *,
    start: Any = None,
    solver: str | SolverChoice | None = None,
    tol: float = 1e-7,
    gap: float = 5e-7,
    max_rounds: int | None = None,
    node_limit: int = 200_000,
    budget: float | None = None,
    executor: Any = None,
    support_limit: int = ORACLE_LIMIT,
) -> ConvexSolution:
    """Program (14) by column generation with the branch-and-bound oracle (no chamber list).

    Parameters
    ----------
    start : array (d, m), optional
        First-layer weights of a network (e.g. the trained one) whose patterns start the
        working set; with a network that classifies every sample, the first restricted
        program is feasible.
    tol : float
        A pattern is violated when the oracle finds a value ``> 1 + tol``; the final trees
        prove ``s <= 1 + tol`` when the budget allows.
    gap : float
        The loop also ends when a proved point of the in-out pricing has a bound within
        ``gap`` (relative) of the restricted program's value (then the lower bound of that
        point, the upper bound of the program's network).
    max_rounds : int, optional
        Restricted solves (each adds at most ``_PRICE_PATTERNS`` patterns); default 200
        without a ``budget``, unbounded with one (the budget stops the loop).
    node_limit : int
        Node bounds per branch-and-bound search.
    budget : float, optional
        Seconds for the whole route; the search in progress is cut at the deadline and the
        evidence of what was grown gives the (weaker) lower bound.
    support_limit : int
        When the chambers of ``X_S`` (``S = supp lam``) number at most this, they are the
        oracle (at most :data:`~verify.convex.support_chambers.ORACLE_LIMIT` per round) and
        the final evidence (:mod:`verify.convex.support_chambers`) instead of the trees;
        ``0``: always branch and bound.

    Returns
    -------
    ConvexSolution
        ``method == "branch-and-bound"``; ``evidence`` holds the
        :class:`~verify.convex.branch_and_bound_evidence.BabEvidence` (or
        :class:`~verify.convex.support_chambers.SupportChamberEvidence`) of the final ``lam``
        (``lam`` itself is support-exact and sign-projected), ``lower_bound`` its exact
        ``y^T lam / max(1, s)``; ``status`` is ``optimal`` when both trees closed at
        ``<= 1 + tol`` at the restricted program's ``lam`` or, at an in-out point, with a bound
        within ``gap`` of its value (so ``value`` is the restricted program's, within ``gap``
        of ``P*``), and the exact bounds are within ``max(2 gap, 10 tol)`` (relative), else
        ``restricted`` with the reason in ``message``.
    """
    X, y = _check_binary(X, y)
    N, d = X.shape
    if max_rounds is None:  # with a budget, the budget bounds the rounds
        max_rounds = _ROUNDS if budget is None else 10**9
    if max_rounds < 1 or node_limit < 1:
        raise InputError("max_rounds and node_limit must be positive integers")
    t_start = time.monotonic()
    deadline = None if budget is None else t_start + float(budget)
    choice = _choice(solver)
    dual = SupportOracle(X, oracle_limit=min(support_limit, ORACLE_LIMIT),
                         evidence_limit=support_limit, executor=executor)
    rows = np.flatnonzero(X.any(axis=1))
    P, W = initial_patterns(X, y, start=start)
    walls = [_start_rows(X, w, rows) for w in W]
    samples = _initial_samples(X, y)
    rng = np.random.default_rng(0)
    thr = 1.0 + tol
    per_round = min(2 * d + 2, _PRICE_PATTERNS)
    loose = choice
    if choice.name == "CLARABEL":  # first rounds with looser tolerances (fewer iterations)
        loose = SolverChoice(choice.name, {k: (LOOSE_TOL if k.startswith("tol_") and
                                               k != "tol_ktratio" else v)
                                           for k, v in choice.options.items()}, choice.reason)
    loose_phase = loose is not choice
    full_cuts = False
    # the budget: the loop stops at _LOOP_SHARE of it (_LOOP_SHARE_CLOSE once its proofs are
    # close); of the rest, _PROOF_SHARE goes to the final proof and the remainder to its exact
    # evidence and the network's exact bound
    loop_deadline = None if budget is None else t_start + _LOOP_SHARE * float(budget)
    best: tuple[float, np.ndarray, Any, Any] | None = None  # (bound, lam, plus, minus)
    alpha = _STABILITY
    sol: ConvexSolution | None = None
    good: ConvexSolution | None = None  # the last usable restricted solution
    whole_sol: ConvexSolution | None = None  # the last one that violates no row
    lam = np.zeros(N)
    plus = minus = None
    converged, reason, rounds, t_solve = False, "", 0, 0.0
    # pruning: solves in a row each pattern's neurons were zero; patterns that came back after
    # being dropped are never dropped again (no cycling)
    idle = np.zeros(0, dtype=np.int64)
    permanent = np.zeros(0, dtype=bool)
    dropped: set[bytes] = set()
    widened: int | None = None  # patterns before the last widening of an infeasible program
    retried = False
    while rounds < max_rounds:
        if loop_deadline is not None and sol is not None and time.monotonic() >= loop_deadline:
            reason = f"the budget of {budget:g} s ran out after {rounds} rounds (raise --budget)"
            break
        rounds += 1
        if len(idle) < len(P):  # patterns added since the last solve: new, or back again
            back = np.array([_key(q) in dropped for q in P[len(idle):]], dtype=bool)
            idle = np.concatenate([idle, np.zeros(len(P) - len(idle), dtype=np.int64)])
            permanent = np.concatenate([permanent, back])
        t0 = time.perf_counter()
        try:
            sol, samples, whole = _restricted_with_cuts(X, y, P, walls, rows,
                                                        loose if loose_phase else choice,
                                                        samples, deadline=loop_deadline,
                                                        max_cuts=_MAX_CUTS if full_cuts
                                                        else _LOOP_CUTS)
        except SolverError as exc:  # e.g. Clarabel's NumericalError: keep the last answer
            reason = f"the restricted program failed ({exc})"
            if good is None and widened is not None and not retried:
                # before any usable answer, the patterns of the last widening made the
                # program numerically hard: replace them by random directions, once
                retried = True
                P, W, walls = P[:widened], W[:widened], walls[:widened]
                idle, permanent = idle[:widened], permanent[:widened]
                P2, W2 = _widen(X, y, P, W, None, rng, top=0, node_limit=node_limit,
                                deadline=loop_deadline, executor=executor)
                walls = walls + [_start_rows(X, w, rows) for w in W2[len(P):]]
                P, W = P2, W2
                continue
            if good is None:
                raise
            break
        if whole:
            whole_sol = sol
        t_solve += time.perf_counter() - t0
        if sol.status == Status.INFEASIBLE:  # these patterns cannot separate: widen
            P2, W2 = _widen(X, y, P, W, sol.ray, rng, top=min(per_round, _RAY_PATTERNS),
                            node_limit=node_limit,
                            deadline=loop_deadline, executor=executor)
            if len(P2) == len(P):
                reason = "the restricted program stays infeasible"
                break
            walls = walls + [_start_rows(X, w, rows) for w in W2[len(P):]]
            widened = len(P)
            P, W = P2, W2
            continue
        if sol.status not in (Status.RESTRICTED, Status.INACCURATE):
            reason = f"the restricted program failed ({sol.status.value}: {sol.message})"
            break
        good = sol
        if whole and sol.u is not None and sol.u.shape[1] == len(P):
            keep = _prune(sol, idle, permanent)
            if keep is not None:
                dropped.update(_key(q) for q in P[~keep])
                P, W = P[keep], W[keep]
                walls = [w for w, k in zip(walls, keep) if k]
                idle, permanent = idle[keep], permanent[keep]
        lam = exact_support(y, sol.lam)
        HP, HW = heuristic_violators(X, lam, thr, top=per_round, seed=rounds)
        new = [j for j in range(len(HP)) if not any(np.array_equal(HP[j], q) for q in P)]
        if new:  # cheap pricing found violators: no oracle this round
            P, W = np.vstack([P, HP[new]]), np.vstack([W, HW[new]])
            walls += [_start_rows(X, w, rows) for w in HW[new]]
            continue
        if loose_phase or not (whole or full_cuts):
            # no cheap violator: tighten the solver, and let the program take every wall row
            # it violates, before asking the oracle
            loose_phase, full_cuts = False, True
            continue
        full_cuts = False
        sep, plus, minus, best, alpha, converged = _price(
            dual, y, lam, best, alpha, thr, gap if whole else None, node_limit, loop_deadline,
            None if budget is None else _SEP_SHARE * _LOOP_SHARE * float(budget))
        if converged:
            lam = sep  # proved, and as good as the restricted program (within gap)
            break
        if (loop_deadline is not None and whole and best[0] >= (1.0 - _CLOSE) * float(y @ lam)
                and best[2].status == best[3].status == "proved"):
            loop_deadline = max(loop_deadline, t_start + _LOOP_SHARE_CLOSE * float(budget))
        fresh: list[tuple[np.ndarray, np.ndarray]] = []
        for r in (plus, minus):
            if not (r.status in ("violated", "exceeded") and r.lower > thr):
                continue
            for pat, u in [(r.pattern, r.u), *((o[0], o[1]) for o in r.others)]:
                if not any(np.array_equal(pat, q) for q in [*P, *(f[0] for f in fresh)]):
                    fresh.append((pat, u))
        if "budget" in (plus.status, minus.status) and not fresh:
            reason = next(r.reason for r in (plus, minus) if r.status == "budget")
            break
        if not fresh and loop_deadline is not None and time.monotonic() >= loop_deadline:
            # the time ran out after a proof at an in-out point (no violator to add)
            reason = f"the budget of {budget:g} s ran out after {rounds} rounds (raise --budget)"
            break
        if not fresh:
            reason = "the oracle's violators are already in the working set (solver accuracy)"
            break
        for pat, w in fresh:
            P = np.vstack([P, pat[None, :]])
            W = np.vstack([W, w[None, :]])
            walls.append(_start_rows(X, w, rows))
    else:
        reason = f"not converged after {max_rounds} rounds (raise max_rounds)"
    info = {**_solver_info(choice, t_solve), "seconds": time.monotonic() - t_start}
    if good is not None and good is not sol and not converged:
        sol = good  # a later restricted program failed or was infeasible: keep the last answer
    if sol is None or sol.status not in (Status.RESTRICTED, Status.INACCURATE):
        msg = reason or "no restricted solution"
        return _failed(sol.status if sol is not None else Status.UNKNOWN, "branch-and-bound", N,
                       info, msg)
    if not converged:
        # the final proof: the best point the oracle saw (by its anytime bound) or, when the
        # oracle never ran, the last lam; its trees (the loop's when grown long enough) and
        # the dual over their leaves with what is left
        if best is not None:
            _, lam, plus, minus = best
        left = None if deadline is None else max(
            _PROOF_SHARE * (deadline - time.monotonic()), 1.0)
        lam, plus, minus = _final_proof(dual, y, lam, thr, node_limit, left,
                                        None if best is None else (plus, minus))
    ev = dual.evidence(lam, plus, minus)
    lb = exact_yT_lam(y, lam) / max(Fraction(1), ev.s)
    neurons = tuple(Neuron(n.sign, n.direction, n.norm, n.pattern) for n in sol.neurons)
    ub, neurons = _network_ub(X, y, neurons)
    if whole_sol is not None and whole_sol is not sol:
        # the last program was cut short (by the budget, or before its wall rows were all in):
        # its network may miss margins or leave its cones; refit (polish) the norms over its
        # neurons and those of the last program that violated no row, which classify every
        # sample, and keep the better network
        ub2, neurons2 = _network_ub(X, y, neurons + tuple(
            Neuron(n.sign, n.direction, n.norm, n.pattern) for n in whole_sol.neurons))
        if ub2 is not None and (ub is None or ub2 < ub):
            ub, neurons = ub2, neurons2
    msg = [sol.message] if sol.message else []
    status = Status.OPTIMAL if converged and ev.complete else Status.RESTRICTED
    if status == Status.OPTIMAL and ub is not None and ub > 0:
        # the label follows the exact bounds: a program solved inaccurately can end the loop
        # with a value that is not quite an upper bound
        rel = float((ub - lb) / ub)
        if rel > max(2.0 * gap, 10.0 * tol):
            status = Status.RESTRICTED
            msg.append(f"the loop converged, but the exact bounds are {rel:.2e} apart "
                       "(relative; the restricted program's accuracy)")
    if not converged:
        # the search's own options are --budget on the command line
        msg.append(reason.replace("(raise time_limit)", "(raise --budget)"))
    if ub is None:
        msg.append("the network recovered from the last restricted program misses a margin, so "
                   "there is no exact upper bound (raise --budget)")
    msg.append(evidence_summary(ev, plus, minus, N))
    return ConvexSolution(sol.value, lb, ub, status, "branch-and-bound", lam, neurons,
                          info, rounds, len(P), 0, float(ev.s), "; ".join(m for m in msg if m),
                          evidence=ev)
