"""Branch-and-bound certificates: bytes and check time, old writer vs new, side by side.

"old" is the evidence as written before the precision ladder: every number on the grid
``2^-60``, every empty multiplier object spelled out, the trees one node a line with JSON's
default separators.  "new" is what :func:`verify.convex.branch_and_bound_evidence.
evidence_from_results` writes now: the leaves below ``s`` rewritten on the coarsest grid that
keeps their exact bound ``<= s`` (same ``s``), interval multipliers dropped where the slack
allows (the trivial interval ``[-||x_n||, ||x_n||]``), absent empty multipliers, compact
separators.  Both come from the same two float searches; the ``s`` columns must agree.  The
check columns are parse + exact replay (:func:`verify.checker.branch_and_bound.
check_branch_and_bound`).

Cases: a Gaussian ``200x6`` with a random ``lam`` of support 16 (the searches run to the gap),
and the breast-cancer rows (``benchmarks/data``) through the column-generation route with a
budget (its final ``lam`` and trees).

Run: ``python benchmarks/bench_bab_size.py [--quick]``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from fractions import Fraction

import numpy as np

from verify.checker.branch_and_bound import check_branch_and_bound
from verify.convex.branch_and_bound import bab_maximize
from verify.convex.branch_and_bound_evidence import BabEvidence, evidence_from_results

_EMPTY = {"indices": [], "values": []}


def _old_form(ev: dict) -> dict:
    """The same evidence with the empty multiplier objects written out (the old spelling)."""
    trees = {}
    for sg, tree in ev["trees"].items():
        out = []
        for node in tree:
            if "leaf" in node:
                rows = [{**ent, "zl": ent.get("zl", _EMPTY), "zh": ent.get("zh", _EMPTY)}
                        if "a" in ent else ent for ent in node["leaf"]["rows"]]
                node = {"leaf": {"z": node["leaf"].get("z", _EMPTY), "rows": rows}}
            out.append(node)
        trees[sg] = out
    return {"support": ev["support"], "trees": trees}


def _dumps(ev: dict, compact: bool) -> str:
    """The trees one node a line, as in ``dumps_certificate``."""
    enc = json.JSONEncoder(sort_keys=True, separators=(",", ":") if compact else None).encode
    parts = [f'"{sg}": [\n' + ",\n".join(map(enc, t)) + "\n]" for sg, t in ev["trees"].items()]
    return '{"support": ' + enc(ev["support"]) + ', "trees": {' + ", ".join(parts) + "}}"


def _exact(X: np.ndarray) -> tuple[list[list[int]], int]:
    q = [Fraction(float(v)) for v in X.ravel()]
    den = 1
    for v in q:
        den = math.lcm(den, v.denominator)
    flat = [v.numerator * (den // v.denominator) for v in q]
    d = X.shape[1]
    return [flat[i * d:(i + 1) * d] for i in range(X.shape[0])], -(den.bit_length() - 1)


def _check(text: str, XI: list[list[int]], xe: int, lam: list[Fraction], s: Fraction
           ) -> tuple[float, list]:
    fails: list = []
    t0 = time.perf_counter()
    check_branch_and_bound(json.loads(text), XI, xe, lam, s,
                           lambda r, m: fails.append((r, m)), "bench")
    return time.perf_counter() - t0, fails


def row(name: str, X: np.ndarray, lam: np.ndarray, plus, minus) -> None:
    t0 = time.perf_counter()
    old = evidence_from_results(X, lam, plus, minus, shorten=False)
    t_old = time.perf_counter() - t0
    t0 = time.perf_counter()
    new = evidence_from_results(X, lam, plus, minus)
    t_new = time.perf_counter() - t0
    old_text = _dumps(_old_form(old.evidence), compact=False)
    new_text = _dumps(new.evidence, compact=True)
    XI, xe = _exact(X)
    lamq = [Fraction(float(v)) for v in lam]
    c_old, f_old = _check(old_text, XI, xe, lamq, old.s)
    c_new, f_new = _check(new_text, XI, xe, lamq, new.s)
    nodes = len(old.evidence["trees"]["+"]) + len(old.evidence["trees"]["-"])
    bad = "" if not (f_old or f_new) else f"  FAILED {f_old[:1]} {f_new[:1]}"
    print(f"{name:<22} {len(new.evidence['support']):>4} {nodes:>6} "
          f"{len(old_text) / 1e6:>8.3f} {len(new_text) / 1e6:>8.3f} "
          f"{len(old_text) / len(new_text):>6.1f} {t_old:>7.2f} {t_new:>7.2f} "
          f"{c_old:>7.2f} {c_new:>7.2f} {float(old.s):>12.9f} {float(new.s):>12.9f}{bad}")


def gaussian(N: int, d: int, k: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    lam = np.zeros(N)
    lam[rng.choice(N, size=k, replace=False)] = rng.uniform(0.1, 1.0, k) * rng.choice([-1, 1], k)
    row(f"gauss {N}x{d} |S|={k}", X, lam, bab_maximize(X, lam), bab_maximize(X, lam, sign=-1))


def breast_cancer(N: int, budget: float) -> None:
    from verify.convex.column_generation_bab import solve_branch_and_bound
    from verify.io.datasets import load_dataset

    here = os.path.dirname(os.path.abspath(__file__))
    ds = load_dataset(os.path.join(here, "data", "breast_cancer_std.csv"))
    X, y = ds.X[:N], ds.Y[:N, 0].astype(float)
    sol = solve_branch_and_bound(X, y, budget=budget)
    if not isinstance(sol.evidence, BabEvidence):
        print(f"breast-cancer {N}: evidence {type(sol.evidence).__name__}, not trees: skipped")
        return
    plus, minus = sol.evidence.results
    row(f"breast-cancer {N}x30", X, np.asarray(sol.lam, dtype=float), plus, minus)


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"{'case':<22} {'|S|':>4} {'nodes':>6} {'old MB':>8} {'new MB':>8} {'x':>6} "
          f"{'build o':>7} {'build n':>7} {'chk o s':>7} {'chk n s':>7} {'s old':>12} "
          f"{'s new':>12}")
    gaussian(200, 6, 16)
    breast_cancer(80, 40)
    if not quick:
        breast_cancer(150, 90)


if __name__ == "__main__":
    main()
