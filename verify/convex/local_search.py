"""The primal side of the branch and bound: the objective, its local search, a point's chamber.

Every node of :func:`verify.convex.branch_and_bound.bab_maximize` proposes points ``u``
(:mod:`verify.convex.node_bound`); :func:`_local_search` improves them by a few steps of
``u <- X_S^T D(u) mu / ||.||``, the best value is the search's anytime lower bound, and
:func:`_interior_pattern` gives the pattern (over *all* rows of ``X``) of a chamber whose
closure holds the best point, for column generation.  :func:`objective` is the value
``sign * lam^T (X u)_+`` itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["LOCAL_STEPS", "objective"]

#: Local-search steps per candidate.
LOCAL_STEPS = 4


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
