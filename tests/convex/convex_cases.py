"""Shared data and checks of the tests of the routes to P* (convex, colgen, closedform)."""

from __future__ import annotations

import numpy as np

__all__ = ["REL", "random_problem", "quadratic_problem", "orth_separable", "brackets",
           "grid_dual_check"]

REL = 1e-6


def random_problem(seed, N, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(rng.standard_normal(N) > 0, 1.0, -1.0)
    y[:2] = (1.0, -1.0)
    return X, y


def quadratic_problem(seed, N, d):
    """Gaussian ``X`` labelled by a noisy quadratic boundary (both classes present)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.sign(X[:, 0] + 0.7 * X[:, -1] ** 2 - 0.5 + 0.2 * rng.standard_normal(N))
    y[y == 0] = 1.0
    if np.all(y == y[0]):
        y[0] = -y[0]
    return X, y


def orth_separable(seed, N, d):
    """Class +1 positive on the first k coordinates and negative on the rest, class -1 the
    other way round: same-class inner products > 0, cross-class < 0 (with a margin that
    survives the rounding of a random rotation)."""
    rng = np.random.default_rng(seed)
    k = max(1, d // 2)
    y = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    X = np.abs(rng.standard_normal((N, d))) + 0.1
    X[y > 0, k:] *= -0.3
    X[y < 0, :k] *= -0.3
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return X @ Q.T, y


def brackets(sol, value=None):
    value = sol.value if value is None else value
    assert sol.lower_bound is not None and sol.upper_bound is not None
    assert float(sol.lower_bound) <= value * (1 + 1e-7)  # value: a float solver answer
    assert float(sol.upper_bound) >= value * (1 - 1e-7)
    assert float(sol.upper_bound - sol.lower_bound) <= REL * value


def grid_dual_check(X, lam, n=100_000):
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    vals = lam @ np.maximum(X @ np.stack([np.cos(t), np.sin(t)]), 0.0)
    return np.abs(vals).max()
