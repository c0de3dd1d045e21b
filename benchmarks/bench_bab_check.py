"""Branch-and-bound evidence: building a tree (floats) vs replaying it exactly (the checker).

Goal: an honest tree checks in time comparable to building it (the replay never solves; it
recomputes every Lemma-4 norm in integers).  The builder here is a deliberately plain float
one (numpy + ``scipy.optimize.nnls`` per leaf and per interval, splits in support order down
to a fixed depth, every number converted exactly, bounds padded by a relative 1e-9), so the
numbers compare the replay with the cheapest honest way of producing the same evidence; the
toolkit's own builder (``verify/convex``) does more work per node.

Columns: data shape, support size, tree depth, nodes, JSON size, build time, check time,
their ratio, and the exact ``s`` proven (as a float, for people).

Run: ``python benchmarks/bench_bab_check.py [--quick]``.
"""

from __future__ import annotations

import json
import sys
import time
from fractions import Fraction

import numpy as np
from scipy.optimize import nnls

from verify.checker.arithmetic import format_rational
from verify.checker.branch_and_bound import check_branch_and_bound

PAD = 1e-9


def _f(x: float) -> str:
    return format_rational(Fraction(float(x)))


def _z(rows: list[int], z: np.ndarray) -> dict:
    keep = [(n, v) for n, v in zip(rows, z) if v > 0]
    return {"indices": [n for n, _ in keep], "values": [_f(v) for _, v in keep]}


def _up(v: float, scale: float) -> float:
    return v * (1 + PAD) + PAD * scale


def build_tree(X: np.ndarray, lam: np.ndarray, t: int, depth: int) -> tuple[list, float]:
    S = [int(n) for n in np.flatnonzero(lam)]
    mu = t * lam
    nodes: list = []
    best = 0.0
    alpha = Fraction(1, 2)

    def leaf(path: dict[int, int]) -> None:
        nonlocal best
        P = sorted(path)
        A = np.array([path[n] * X[n] for n in P]).reshape(len(P), X.shape[1])
        c = sum((mu[n] * X[n] for n in P if path[n] > 0), np.zeros(X.shape[1]))
        B = 0.0
        rows = []
        for n in S:
            if n in path:
                continue
            if mu[n] < 0:
                rows.append({"row": n, "alpha": format_rational(alpha)})
                c = c + mu[n] * float(alpha) * X[n]
                continue
            ent: dict = {"row": n}
            ends = []
            for sg, key in ((1, "zh"), (-1, "zl")):
                z = nnls(A.T, -sg * X[n])[0] if P else np.zeros(0)
                r = np.linalg.norm(sg * X[n] + A.T @ z)
                ent[key] = _z(P, z)
                ends.append(Fraction(_up(r, np.linalg.norm(X[n]))))
            h, lo = ends[0], -ends[1]
            a = h / (h - lo)
            b = -a * lo
            ent.update(a=format_rational(a), b=format_rational(b), l=format_rational(lo),
                       h=format_rational(h))
            rows.append(ent)
            c = c + mu[n] * float(a) * X[n]
            B += float(mu[n] * b)
        z = nnls(A.T, -c)[0] if P else np.zeros(0)
        best = max(best, B + np.linalg.norm(c + A.T @ z))
        nodes.append({"leaf": {"z": _z(P, z), "rows": rows}})

    def rec(path: dict[int, int]) -> None:
        free = [n for n in S if n not in path]
        if len(path) < depth and free:
            nodes.append({"split": free[0]})
            rec({**path, free[0]: 1})
            rec({**path, free[0]: -1})
        else:
            leaf(path)

    rec({})
    return nodes, best


def case(N: int, d: int, k: int, depth: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    lam = np.zeros(N)
    S = rng.choice(N, size=k, replace=False)
    lam[S] = rng.uniform(0.1, 1.0, size=k) * rng.choice([-1, 1], size=k)
    lamq = [Fraction(float(v)) for v in lam]
    t0 = time.perf_counter()
    plus, sp = build_tree(X, lam, 1, depth)
    minus, sm = build_tree(X, lam, -1, depth)
    s_float = max(sp, sm)
    s = Fraction(_up(s_float, max(1.0, s_float)))
    ev = {"support": sorted(int(n) for n in S), "trees": {"+": plus, "-": minus}}
    text = json.dumps(ev)
    t_build = time.perf_counter() - t0
    # the exact data as the checker holds them: X = XI * 2**xe
    q = [[Fraction(float(v)) for v in row] for row in X]
    den = max(v.denominator for row in q for v in row)
    XI = [[int(v * den) for v in row] for row in q]
    xe = -(den.bit_length() - 1)
    fails: list = []
    t0 = time.perf_counter()
    check_branch_and_bound(json.loads(text), XI, xe, lamq, s,
                           lambda r, m: fails.append((r, m)), "bench")
    t_check = time.perf_counter() - t0
    n_nodes = len(plus) + len(minus)
    print(f"{N:>5} {d:>4} {k:>3} {depth:>5} {n_nodes:>7} {len(text) / 1e6:>7.1f} "
          f"{t_build:>8.2f} {t_check:>8.2f} {t_check / t_build:>6.2f}  {float(s):.6g}"
          f"{'' if not fails else '  FAILED: ' + str(fails[:2])}")


def main() -> None:
    quick = "--quick" in sys.argv
    print("    N    d  |S| depth   nodes      MB  build s  check s  ratio  s")
    cases = [(60, 3, 8, 8), (100, 30, 17, 8)]
    if not quick:
        cases += [(200, 800, 16, 10), (569, 30, 17, 12), (300, 30, 20, 14)]
    for c in cases:
        case(*c)


if __name__ == "__main__":
    main()
