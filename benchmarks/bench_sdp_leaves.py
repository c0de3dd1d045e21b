"""Benchmark: the semidefinite node bound in the branch and bound, against the chord alone
(plain script; side by side in one run on this machine).

Part 1 (trees): at the dual point ``lam`` of the first restricted program of column generation
on breast-cancer (``N = 569, d = 30``; support 54; scaled so that a short search's best value
is 1, as ``bench_relaxations.py`` does), one search per sign to the target 1 with the chord
bound alone and one with the semidefinite bound (:class:`verify.convex.node_bound.SdpPolicy`,
the defaults of ``--sdp-depth``), each for ``--seconds`` seconds: nodes, the anytime upper
bound, the best value found, the leaves whose bound is the semidefinite one.

Part 2 (``--solve B``): ``solve_branch_and_bound`` on breast-cancer from the gradient-descent
start with a budget of ``B`` seconds, with the chord alone (``--sdp-depth 0``, the default)
and with ``--sdp-depth 6``: the exact lower and upper bounds and the relative gap.

Part 3 (``--final S``): the final proof alone, from the point where the loop of
``solve_branch_and_bound`` (``--loop L`` seconds of budget) hands over: with the chord rounds
only (the default), and with a semidefinite policy (half the seconds to the chord rounds, half
to the partition with semidefinite leaves, :mod:`verify.convex.semidefinite_dual`), ``S``
seconds each, one after the other: the exact lower bound of each.

Run: ``python benchmarks/bench_sdp_leaves.py [--seconds S] [--solve B] [--final S --loop L]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from verify.convex.branch_and_bound import bab_maximize
from verify.convex.node_bound import SdpPolicy, sdp_policy
from verify.io.datasets import load_dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_relaxations import _first_lam  # noqa: E402


def trees(X: np.ndarray, y: np.ndarray, seconds: float) -> None:
    lam = _first_lam(X, y)
    best = max(bab_maximize(X, lam, sign=s, node_limit=200).lower for s in (1, -1))
    lam = lam / best
    print(f"breast-cancer, first restricted lam scaled by 1/{best:.4f}: "
          f"|S| = {np.count_nonzero(lam)}; target 1, {seconds:g} s per search")
    print(f"{'sign':>4} {'bound':>6} {'nodes':>7} {'upper':>8} {'best':>8} {'sdp leaves':>10} "
          f"{'status':>8} {'s':>6}")
    for sign in (-1, 1):
        for name, pol in (("chord", None), ("sdp", SdpPolicy())):
            t0 = time.monotonic()
            r = bab_maximize(X, lam, sign=sign, prove_below=1.0, time_limit=seconds,
                             node_limit=10**7, sdp=pol)
            nsdp = sum(lf.sdp is not None for lf in r.leaves)
            print(f"{sign:>4} {name:>6} {r.nodes:>7} {r.upper:>8.4f} {r.lower:>8.4f} "
                  f"{nsdp:>10} {r.status:>8} {time.monotonic() - t0:>6.0f}", flush=True)


def solve(X: np.ndarray, y: np.ndarray, budget: float) -> None:
    from verify.convex.column_generation_bab import solve_branch_and_bound
    from verify.network.training import warm_start

    print(f"\nsolve_branch_and_bound on breast-cancer, budget {budget:g} s")
    print(f"{'sdp-depth':>9} {'LB':>8} {'UB':>8} {'gap':>7} {'s':>7} {'sdp leaves':>10} {'s':>5}")
    for depth in (0, 6):
        t0 = time.monotonic()
        start = warm_start(X, y)
        sol = solve_branch_and_bound(X, y, start=start, budget=budget - (time.monotonic() - t0),
                                     sdp=sdp_policy(depth))
        lb, ub = float(sol.lower_bound), float(sol.upper_bound)
        ev = sol.evidence
        trees_ = getattr(ev, "evidence", {}).get("trees", {}) if hasattr(ev, "evidence") else {}
        nsdp = sum(1 for t in trees_.values() for n in t if "leaf" in n and "sdp" in n["leaf"])
        label = str(depth)
        print(f"{label:>9} {lb:>8.4f} {ub:>8.4f} {(ub - lb) / ub:>7.4f} {float(ev.s):>7.4f} "
              f"{nsdp:>10} {time.monotonic() - t0:>5.0f}", flush=True)


class _Handover(Exception):
    """Carries the final proof's input out of the route."""


def final(X: np.ndarray, y: np.ndarray, seconds: float, loop: float) -> None:
    from fractions import Fraction

    import verify.convex.column_generation_bab as cg
    from verify.convex.bounds import exact_yT_lam
    from verify.convex.final_proof import _final_proof
    from verify.convex.support_chambers import SupportOracle
    from verify.network.training import warm_start

    def grab(dual, y_, lam, thr, node_limit, left, trees):
        raise _Handover(lam, thr, node_limit)

    real = cg._final_proof
    cg._final_proof = grab
    try:
        cg.solve_branch_and_bound(X, y, start=warm_start(X, y), budget=loop)
        print("the loop proved its point: no final proof to compare")
        return
    except _Handover as h:
        lam, thr, node_limit = h.args
    finally:
        cg._final_proof = real
    print(f"\nfinal proof from the loop's point (budget {loop:g} s: |S| = "
          f"{np.count_nonzero(lam)}, y^T lam = {float(y @ lam):.4f}), {seconds:g} s each")
    print(f"{'proof':>14} {'LB':>8} {'s':>9} {'leaves':>13} {'sdp leaves':>10} {'secs':>5}")
    for name, pol in (("chord", None), ("chord + sdp", SdpPolicy())):
        t0 = time.monotonic()
        dual = SupportOracle(X, sdp=pol)
        lam2, plus, minus = _final_proof(dual, y, lam, thr, node_limit, seconds)
        ev = dual.evidence(lam2, plus, minus)
        lb = exact_yT_lam(y, lam2) / max(Fraction(1), ev.s)
        nsdp = sum(lf.sdp is not None for r in (plus, minus) for lf in r.leaves)
        print(f"{name:>14} {float(lb):>8.4f} {float(ev.s):>9.6f} "
              f"{f'{plus.n_leaves}+{minus.n_leaves}':>13} {nsdp:>10} "
              f"{time.monotonic() - t0:>5.0f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--solve", type=float, default=None, metavar="BUDGET")
    ap.add_argument("--final", type=float, default=None, metavar="SECONDS")
    ap.add_argument("--loop", type=float, default=600.0, metavar="BUDGET")
    ap.add_argument("--skip-trees", action="store_true")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    ds = load_dataset(os.path.join(here, "data", "breast_cancer_std.csv"))
    X, y = ds.X, ds.Y[:, 0].astype(float)
    if not a.skip_trees:
        trees(X, y, a.seconds)
    if a.solve:
        solve(X, y, a.solve)
    if a.final:
        final(X, y, a.final, a.loop)


if __name__ == "__main__":
    main()
