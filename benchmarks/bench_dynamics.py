"""Gradient descent toward the max-margin direction: constant vs loss-scaled step size.

Run: ``python benchmarks/bench_dynamics.py [--quick]``.  For the paper's F.1 data and an
orthogonally separable set in d = 10 (N = 40), trains the same initialisation with both
schedules of :func:`verify.network.training.train` and prints, side by side, the first recorded
step at
which the relative gap ``(UB(θ) − P*)/P*`` falls to 1e-2 and 1e-3 (``P*`` from the closed
form :func:`verify.convex.programs.solve_orthogonally_separable`), the gap after the fixed budget,
the
wall time, and the ratios constant / loss-scaled.  Steps are resolved on a log-spaced grid of
about 150 records (a few per cent).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from verify.convex.closed_form import solve_orthogonally_separable
from verify.network.training import train

THRESHOLDS = (1e-2, 1e-3)


def orthogonally_separable(N: int = 40, d: int = 10, seed: int = 0):
    """``x_n = y_n c_n e_1 + z_n`` with ``z_n ⊥ e_1``, ``‖z_n‖ < 0.85 <= c_n``: cross-class
    inner products ``−c c' + z^T z' < 0``, same-class ones ``> 0`` (decided exactly again by
    the closed-form route)."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(N) < N // 2, 1, -1)
    Z = rng.standard_normal((N, d))
    Z[:, 0] = 0.0
    Z *= (0.85 * rng.random(N) / np.linalg.norm(Z, axis=1))[:, None]
    X = Z.copy()
    X[:, 0] = y * (1.0 + 0.5 * rng.random(N))
    return X, y


def first_step(steps: np.ndarray, gap: np.ndarray, thr: float) -> int | None:
    hit = np.flatnonzero(gap <= thr)
    return int(steps[hit[0]]) if hit.size else None


def run(name: str, X, y, *, neurons: int, lr: float, budget: int) -> None:
    sol = solve_orthogonally_separable(X, y.astype(float))
    print(f"\n{name}: N={X.shape[0]} d={X.shape[1]} m={neurons} lr={lr} budget={budget} steps, "
          f"P* = {sol.value:.6f} ({sol.status.value})")
    print(f"  {'schedule':<12} {'to 1e-2':>9} {'to 1e-3':>9} {'gap@budget':>11} {'margin':>9} "
          f"{'time s':>7}")
    rows = {}
    for schedule in ("constant", "loss-scaled"):
        t0 = time.perf_counter()
        r = train(X, y, neurons=neurons, steps=budget, lr=lr, init_scale=1e-3, seed=0,
                  schedule=schedule, record="log", record_points=150, p_star=sol.value)
        dt = time.perf_counter() - t0
        tr = r.trajectory
        hits = [first_step(tr.steps, tr.gap, thr) for thr in THRESHOLDS]
        rows[schedule] = (hits, tr.gap[-1], dt)
        cells = [f"{h:>9d}" if h is not None else f"{'>' + str(budget):>9}" for h in hits]
        print(f"  {schedule:<12} {cells[0]} {cells[1]} {tr.gap[-1]:>11.3e} {r.margin:>9.5f} "
              f"{dt:>7.2f}")
    (hc, gc, tc), (hs, gs, ts) = rows["constant"], rows["loss-scaled"]
    ratios = []
    for thr, a, b in zip(THRESHOLDS, hc, hs):
        if b is None:
            ratios.append(f"gap {thr:g}: loss-scaled did not reach it")
        elif a is None:
            ratios.append(f"gap {thr:g}: constant/loss-scaled steps > {budget / b:.0f}x")
        else:
            ratios.append(f"gap {thr:g}: constant/loss-scaled steps = {a / b:.1f}x")
    print("  ratios: " + "; ".join(ratios) + f"; gap@budget constant/loss-scaled = {gc / gs:.0f}x"
          f"; time per step loss-scaled/constant = {ts / tc:.2f}")


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    budget = 5_000 if quick else 50_000
    X1 = np.array([[1.65, 0.47], [-0.47, 1.35]])
    y1 = np.array([1, -1])
    run("paper F.1", X1, y1, neurons=10, lr=0.2, budget=budget)
    X2, y2 = orthogonally_separable()
    run("orthogonally separable", X2, y2, neurons=20, lr=0.05, budget=budget)


if __name__ == "__main__":
    main(sys.argv[1:])
