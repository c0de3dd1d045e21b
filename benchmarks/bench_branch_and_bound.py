"""Benchmark: the branch-and-bound dual oracle vs the chamber oracle (plain script).

Gaussian data of rank 3, 4 and 6 with random labels; ``lam`` is the optimal dual point of
program (14) from :func:`verify.convex.programs.column_generation`.  For each sign the table
prints, side by side:

* chamber route: number of chambers, enumeration time, :func:`verify.convex.chamber_oracle.oracle`
  time (``exact_values=True``) and its maximum;
* BaB route (:func:`verify.convex.branch_and_bound.bab_maximize`) on the support of ``lam``:
  nodes and time with the target ``prove_below = 1 + 1e-6`` (column generation's last round)
  and to optimality (``gap = 1e-10``), its upper and lower bounds;
* the same on the *clean* support (entries below ``1e-9 max|lam|`` set to 0: the solver's
  tiny nonzeros), and the exact evidence (:func:`verify.convex.branch_and_bound_evidence.
  evidence_from_results`) time and size.

Goal (issue 11): the BaB route needs far fewer nodes than there are chambers, and its time does
not grow with the chamber count; its maximum agrees with the chamber oracle's to ~1e-9.

Then a table budget -> anytime gap on a case whose tree is large (random ``lam``).

Run: ``python benchmarks/bench_branch_and_bound.py [--big]`` (``--big`` adds rank 3 N=120 and
rank 4 N=45).
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np

from verify.convex.branch_and_bound import bab_maximize
from verify.convex.branch_and_bound_evidence import evidence_from_results
from verify.convex.chamber_oracle import oracle
from verify.convex.column_generation import column_generation
from verify.geometry.chambers import enumerate_chambers


def _case(N: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(rng.standard_normal(N) > 0, 1.0, -1.0)
    return X, y


def _timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t


def main(big: bool = False) -> None:
    cases = [(40, 3), (30, 4), (20, 6)] + ([(120, 3), (45, 4)] if big else [])
    print(f"{'case':>12} {'sign':>4} | {'chambers':>8} {'enum s':>7} {'oracle s':>8} "
          f"{'oracle max':>18} | {'|S|':>3} {'nodes@1+1e-6':>12} {'s':>6} {'nodes opt':>9} "
          f"{'s':>6} {'upper':>18} {'upper-oracle':>12} | {'|S|cl':>5} {'nodes':>5} {'s':>6}")
    for N, d in cases:
        X, y = _case(N, d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol, tcg = _timed(column_generation, X, y)
        lam = np.asarray(sol.lam, dtype=float)
        clean = np.where(np.abs(lam) >= 1e-9 * np.abs(lam).max(), lam, 0.0)
        ch, te = _timed(enumerate_chambers, X)
        P = ch.pattern_matrix()
        orc, to = _timed(oracle, X, lam, P, exact_values=True)
        res = {}
        for sign, col in ((1, 0), (-1, 1)):
            tgt, tt = _timed(bab_maximize, X, lam, sign=sign, prove_below=1 + 1e-6)
            opt, topt = _timed(bab_maximize, X, lam, sign=sign)
            cl, tcl = _timed(bab_maximize, X, clean, sign=sign, prove_below=1 + 1e-6)
            res[sign] = tgt
            om = float(orc.values[:, col].max())
            print(f"{f'N={N} d={d}':>12} {sign:>+4} | {len(P):>8} {te:>7.2f} {to:>8.2f} "
                  f"{om:>18.12f} | {tgt.support.size:>3} {tgt.nodes:>12} {tt:>6.2f} "
                  f"{opt.nodes:>9} {topt:>6.2f} {opt.upper:>18.12f} {opt.upper - om:>12.1e} | "
                  f"{cl.support.size:>5} {cl.nodes:>5} {tcl:>6.2f}")
        ev, tev = _timed(evidence_from_results, X, lam, res[1], res[-1])
        size = len(json.dumps(ev.evidence))
        print(f"{'':>12}      column generation {tcg:.2f} s; BaB evidence {tev:.2f} s, "
              f"{size / 1e3:.1f} kB, s = {float(ev.s):.12f} (status {res[1].status}/"
              f"{res[-1].status}); chambers: {len(P)} vs BaB leaves "
              f"{len(res[1].leaves) + len(res[-1].leaves)}")


def anytime(budgets=(1, 10, 100, 1000, 5000)) -> None:
    """Budget -> anytime gap on a hard case: random ``lam`` on 40 rows of d=30 Gaussian data
    (a random ``lam`` is far from optimal, so the tree is large)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((569, 30))
    lam = np.zeros(569)
    lam[rng.choice(569, 40, replace=False)] = rng.standard_normal(40)
    print("\nanytime bound, N=569 d=30, random lam on 40 rows (sign -1):")
    print(f"{'node budget':>11} {'upper':>12} {'lower':>12} {'gap/upper':>10} {'time s':>7} status")
    for b in budgets:
        res, t = _timed(bab_maximize, X, lam, sign=-1, node_limit=b, keep_leaves=False)
        print(f"{b:>11} {res.upper:>12.6f} {res.lower:>12.6f} {res.gap / res.upper:>10.2e} "
              f"{t:>7.2f} {res.status}")


if __name__ == "__main__":
    main(big="--big" in sys.argv[1:])
    anytime()
