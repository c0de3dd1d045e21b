"""The node's bounded least squares: NNLS with penalty rows + active-set polish (the default)
against scipy's ``bvls`` (the former route), side by side in one run.

Each row: one branch-and-bound search (``bab_maximize``, both signs, ``node_limit`` nodes) on
Gaussian data with ``lam`` from the planted-teacher labels, once with each solver; nodes,
upper bounds and CPU seconds of both, and the speed-up.  The trees must be the same (the
upper bounds agree to rounding).

Run: ``python benchmarks/bench_box_lsq.py [--quick]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import lsq_linear

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_beyond_enumeration import teacher  # noqa: E402

import verify.convex.branch_and_bound as bb  # noqa: E402
import verify.convex.node_bound as nb  # noqa: E402  (the node bound calls _box_lsq)

_DEFAULT = nb._box_lsq


def _bvls(M: np.ndarray, c0: np.ndarray, k: int) -> np.ndarray:
    if M.shape[1] == 0:
        return np.zeros(0)
    n = M.shape[1]
    ub = np.concatenate([np.ones(k), np.full(n - k, np.inf)])
    w = lsq_linear(M, -c0, bounds=(np.zeros(n), ub), method="bvls").x
    w[:k] = np.clip(w[:k], 0.0, 1.0)
    return w


def _run(X: np.ndarray, lam: np.ndarray, nodes: int) -> tuple[float, list, list]:
    t = time.process_time()
    res = [bb.bab_maximize(X, lam, sign=s, node_limit=nodes) for s in (1, -1)]
    return time.process_time() - t, [r.nodes for r in res], [r.upper for r in res]


def main(quick: bool) -> None:
    print(f"{'data':<14} {'|S|':>4} {'nodes':>12} {'bvls s':>8} {'nnls s':>8} {'x':>5} "
          f"{'max |upper diff|':>16}")
    cases = [(200, 6)] if quick else [(200, 6), (400, 8), (569, 30)]
    for N, d in cases:
        X, y = teacher(N, 0.0, d)
        rng = np.random.default_rng(N + d)
        S = rng.choice(N, size=min(40, N), replace=False)
        lam = np.zeros(N)
        lam[S] = y[S] * rng.uniform(0.05, 0.3, S.size)  # an infeasible-ish dual point
        nodes = 600 if quick else 2000
        nb._box_lsq = _bvls
        try:
            t_old, n_old, u_old = _run(X, lam, nodes)
        finally:
            nb._box_lsq = _DEFAULT
        t_new, n_new, u_new = _run(X, lam, nodes)
        diff = max(abs(a - b) for a, b in zip(u_old, u_new))
        print(f"{f'{N}x{d}':<14} {S.size:>4} {f'{n_old}/{n_new}':>12} {t_old:>8.2f} "
              f"{t_new:>8.2f} {t_old / t_new:>5.1f} {diff:>16.2e}", flush=True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
