"""Benchmarks of the routes to P* (plain script: prints figures and ratios side by side).

1. Gaussian data N=60, d=3, random labels: the direct formulation (all chambers in one CVXPY
   program, Clarabel) vs column generation.  Goal: same P* to 1e-6 relative, >= 10x faster.
2. N=100, d=3: column generation alone (the direct route is too slow).  Goal: < 10 s.
3. Orthogonally separable data N=10,000, d=100: the closed form including the exact
   separability check and the exact LB/UB.  Goal: < 30 s.
4. Column generation at scale on the certificate benchmark's data (rank-4 Gaussian, label
   ``x_1 + 0.3 noise``): N=33 (~1.1e4 chambers), N=70 (~1.1e5), with ``--big`` also N=146
   (~1.0e6).  Goal: time grows about linearly in the number of chambers (before the
   per-round cap and the coordinate-descent oracle, N=70 took ~200 s per solve).

Run: ``python benchmarks/bench_convex.py [--skip-direct] [--big] [--only-scale]``.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

import numpy as np

from verify.convex.closed_form import solve_orthogonally_separable
from verify.convex.column_generation import column_generation
from verify.convex.programs import solve_primal
from verify.geometry.chambers import enumerate_chambers


def _gaussian(N: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(rng.standard_normal(N) > 0, 1.0, -1.0)
    return X, y


def _orth_separable(N: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = d // 2
    y = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    X = np.abs(rng.standard_normal((N, d))) + 0.1
    X[y > 0, k:] *= -0.3
    X[y < 0, :k] *= -0.3
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return X @ Q.T, y


@contextmanager
def _clock(out: dict):
    """Wall and CPU (process) time: the machine may be shared, CPU time is the steadier."""
    w, c = time.perf_counter(), time.process_time()
    yield
    out["wall"], out["cpu"] = time.perf_counter() - w, time.process_time() - c


def _t(out: dict) -> str:
    return f"{out['wall']:.2f} s wall / {out['cpu']:.2f} s CPU"


def _gap(sol) -> str:
    lb, ub = float(sol.lower_bound), float(sol.upper_bound)
    return f"LB={lb:.10g}  UB={ub:.10g}  (UB-LB)/UB={(ub - lb) / ub:.2e}"


def _scaling(big: bool) -> None:
    print("== 4. column generation at scale: rank-4 Gaussian (certificate benchmark data)")
    print(f"   {'N':>4} {'chambers':>9} {'enum s':>7} {'CG s':>7} {'solver s':>8} {'rounds':>6} "
          f"{'peak ws':>7}  {'(UB-LB)/UB':>10}  status")
    for N in (33, 70, 146) if big else (33, 70):
        rng = np.random.default_rng(N)
        X = rng.standard_normal((N, 4))
        y = np.where(X[:, 0] + 0.3 * rng.standard_normal(N) > 0, 1.0, -1.0)
        t = time.perf_counter()
        ch = enumerate_chambers(X, limit=10**7)
        t_enum = time.perf_counter() - t
        tc: dict = {}
        with _clock(tc):
            cg = column_generation(X, y, chambers=ch)
        lb, ub = float(cg.lower_bound), float(cg.upper_bound)
        print(f"   {N:>4} {len(ch):>9} {t_enum:>7.1f} {tc['wall']:>7.1f} "
              f"{cg.solver['seconds']:>8.1f} {cg.rounds:>6} "
              f"{cg.solver['peak_working_set']:>7}  {(ub - lb) / ub:>10.2e}  {cg.status.value}")


def main(skip_direct: bool = False, big: bool = False, only_scale: bool = False) -> None:
    if only_scale:
        _scaling(big)
        return
    print("== 1. N=60, d=3 Gaussian, random labels: direct vs column generation")
    X, y = _gaussian(60, 3, 0)
    t = time.perf_counter()
    ch = enumerate_chambers(X)
    t_enum = time.perf_counter() - t
    print(f"   chambers: {len(ch)} (complete={ch.complete}), enumeration {t_enum:.2f} s")
    tc: dict = {}
    with _clock(tc):
        cg = column_generation(X, y, chambers=ch)
    print(f"   column generation: P*={cg.value:.10g}  {_t(tc)}  rounds={cg.rounds} "
          f"working set={cg.working_set} (peak {cg.solver['peak_working_set']})  "
          f"s={cg.s:.3g}  status={cg.status.value}")
    print(f"      {_gap(cg)}")
    if not skip_direct:
        td: dict = {}
        with _clock(td):
            direct = solve_primal(X, y, ch)
        rel = abs(direct.value - cg.value) / direct.value
        print(f"   direct:            P*={direct.value:.10g}  {_t(td)}  "
              f"status={direct.status.value}")
        print(f"      {_gap(direct)}")
        print(f"   relative difference of P*: {rel:.2e} (goal <= 1e-6)   speed ratio direct/CG: "
              f"{td['wall'] / tc['wall']:.1f}x wall, {td['cpu'] / tc['cpu']:.1f}x CPU "
              "(goal >= 10x)")

    print("== 2. N=100, d=3 Gaussian: column generation alone")
    X, y = _gaussian(100, 3, 1)
    t = time.perf_counter()
    ch = enumerate_chambers(X)
    t_enum = time.perf_counter() - t
    tc = {}
    with _clock(tc):
        cg = column_generation(X, y, chambers=ch)
    print(f"   chambers: {len(ch)}, enumeration {t_enum:.2f} s")
    print(f"   column generation: P*={cg.value:.10g}  {_t(tc)} (goal < 10 s)  "
          f"rounds={cg.rounds} working set={cg.working_set}  s={cg.s:.3g}  "
          f"status={cg.status.value}")
    print(f"      {_gap(cg)}")

    print("== 3. orthogonally separable N=10000, d=100: closed form with exact LB/UB")
    X, y = _orth_separable(10_000, 100, 2)
    tf: dict = {}
    with _clock(tf):
        cf = solve_orthogonally_separable(X, y)
    print(f"   closed form: P*={cf.value:.10g}  {_t(tf)} (goal < 30 s, includes the exact "
          f"separability check and LB/UB)  status={cf.status.value}")
    print(f"      {_gap(cf)}")
    _scaling(big)


if __name__ == "__main__":
    main(skip_direct="--skip-direct" in sys.argv[1:], big="--big" in sys.argv[1:],
         only_scale="--only-scale" in sys.argv[1:])
