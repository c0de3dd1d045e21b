"""The restricted program of the branch-and-bound route, kept small: lazy rows and pruning.

The restricted dual (129) over a working set of patterns
(:func:`verify.convex.column_generation._solve_restricted`) has one cone constraint per pattern
and row, and one margin row per sample.  :func:`_restricted_with_cuts` starts with a few of
them, the **wall rows** closest to each pattern's witness (:func:`_start_rows`) and, beyond
:data:`_ALL_SAMPLES` samples, the **margin rows** of the samples nearest the boundary
(:func:`_initial_samples`), and re-solves with the rows the solution violates
(:func:`_violated_rows`, :func:`_violated_samples`) until it violates none: then it is the
restricted program's optimum with all rows.  :func:`_prune` drops the patterns whose neurons
stay at zero (their columns are zero in the optimum).  The loop is
:func:`verify.convex.column_generation_bab.solve_branch_and_bound`.
"""

from __future__ import annotations

import time

import numpy as np

from verify.convex.column_generation import _solve_restricted
from verify.convex.programs import ConvexSolution
from verify.convex.solvers import SolverChoice
from verify.errors import SolverError
from verify.status import Status

__all__: list[str] = []  # the loop's helpers: nothing public

#: Cone rows a new pattern starts with (the closest to its witness), and added per cut round.
_START_ROWS, _CUT_ROWS = 12, 64
#: Cut rounds per restricted solve: at most ``_LOOP_CUTS`` while the cheap pricing still
#: finds violators (the wall rows found so far persist across rounds, and a program missing
#: some rows is a stricter restriction of the dual, so its ``lam`` still prices correctly),
#: up to ``_MAX_CUTS`` before the oracle is asked (then the solution violates no row); the
#: loop passes one of them as ``max_cuts``.
_MAX_CUTS, _LOOP_CUTS = 30, 3
#: Up to this many samples every margin row is in the restricted program; beyond, margin rows
#: are lazy: the first program keeps ``max(_START_SAMPLES, 4 d)``, each cut round adds at most
#: ``_CUT_SAMPLES`` violated ones.
_ALL_SAMPLES, _START_SAMPLES, _CUT_SAMPLES = 200, 100, 128
#: A pattern whose neurons ``||u_j||, ||u'_j||`` stay at most ``_PRUNE_REL * max`` for
#: ``_PRUNE_IDLE`` restricted solves in a row leaves the working set (its columns are zero in
#: the optimum, so the restricted optimum is unchanged); the oracle brings it back if needed.
_PRUNE_REL, _PRUNE_IDLE = 1e-7, 1


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
