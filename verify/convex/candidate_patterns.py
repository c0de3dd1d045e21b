"""Patterns for the working set of the branch-and-bound route, from cheap searches.

Where the patterns of :func:`verify.convex.column_generation_bab.solve_branch_and_bound` come
from, apart from the oracle's maximisers:

* the **start** (:func:`initial_patterns`): the patterns of a network's neurons and of
  Theorem 1's y-aligned fixed points;
* **cheap pricing** (:func:`heuristic_violators`): a local search for violated patterns before
  the oracle is asked (it finds violators fast but cannot prove there are none);
* **phase one** (:func:`ray_violators`, :func:`_widen`): patterns that cut off the ray of an
  infeasible restricted program, or random directions.

Each comes with a witness ``w`` (``pattern = X w >= 0``), distinct patterns only.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from verify.convex.bounds import project_lambda
from verify.convex.branch_and_bound import bab_maximize
from verify.convex.column_generation import candidate_neurons
from verify.convex.inout_pricing import SUPPORT_REL

__all__ = ["initial_patterns", "heuristic_violators", "ray_violators"]


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
