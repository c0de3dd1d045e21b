"""Exact margins of a trained network: integer kernel vs naive Fractions vs floats.

Run: ``python benchmarks/bench_network.py [--quick]``.  Prints timings side by side and the
ratios; the three exact routes must agree (checked), the float route is the baseline.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import numpy as np

import verify.network.model as network
from verify.network.kkt import kkt_dual
from verify.network.model import Network, exact_margins, float_margins, objective_upper_bound


def naive_fraction_margins(X, y, W1, w2):
    Xf = [[Fraction(v) for v in row] for row in X.tolist()]
    Wf = [[Fraction(v) for v in col] for col in W1.T.tolist()]
    vf = [Fraction(v) for v in w2.tolist()]
    out = []
    for xn, yn in zip(Xf, y.tolist()):
        s = Fraction(0)
        for wi, vi in zip(Wf, vf):
            p = sum((a * b for a, b in zip(xn, wi)), Fraction(0))
            if p > 0:
                s += p * vi
        out.append(yn * s)
    return out


def timed(fn, *args, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, res


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = (
        [(200, 10, 20), (1000, 20, 50)]
        if quick
        else [(200, 10, 20), (1000, 20, 50), (5000, 50, 100)]
    )
    rng = np.random.default_rng(0)
    print(
        f"{'N':>6} {'d':>4} {'m':>4} | {'float':>9} {'flint':>9} {'python':>9} "
        f"{'Fraction':>9} | {'flint/float':>11} {'Fraction/flint':>14}"
    )
    for N, d, m in sizes:
        X = rng.standard_normal((N, d))
        W1 = rng.standard_normal((d, m)) * 0.1
        w2 = rng.standard_normal(m)
        y = np.where(rng.random(N) > 0.5, 1, -1)
        tf, _ = timed(float_margins, X, y, W1, w2, repeat=5)
        tx, q = timed(exact_margins, X, y, W1, w2)
        saved = network._flint
        network._flint = None
        try:
            tp, qp = timed(exact_margins, X, y, W1, w2)
        finally:
            network._flint = saved
        assert qp == q
        if N * d * m <= 2_000_000:
            tn, qn = timed(naive_fraction_margins, X, y, W1, w2)
            assert qn == q
            tn_s, ratio = f"{tn:9.3f}", f"{tn / tx:14.1f}"
        else:
            tn_s, ratio = f"{'skipped':>9}", f"{'-':>14}"
        print(
            f"{N:>6} {d:>4} {m:>4} | {tf:9.5f} {tx:9.3f} {tp:9.3f} {tn_s} | {tx / tf:11.0f} {ratio}"
        )
    # a trained-looking network: UB and the KKT fit end to end
    N, d, m = (500, 10, 20) if quick else (2000, 20, 50)
    X = rng.standard_normal((N, d))
    net = Network(rng.standard_normal((d, m)), rng.standard_normal(m))
    f = net.outputs(X)
    keep = np.abs(f) > 1e-2
    X, y = X[keep], np.where(f[keep] > 0, 1, -1)
    tu, (ub, _) = timed(objective_upper_bound, net, X, y)
    tm, q = timed(exact_margins, X, y, net.W1, net.w2)
    assert ub * min(q) == objective_upper_bound(net, X[:1], y[:1])[0] * min(q[:1])
    tk, fit = timed(kkt_dual, net, X, y)
    print(
        f"N={len(y)}, d={d}, m={m}: exact UB(theta) {tu:.3f} s (float enclosures + exact "
        f"candidates) vs all exact margins {tm:.3f} s: {tm / tu:.0f}x; KKT fit {tk:.3f} s "
        f"(random net, residual {fit.residual:.3g})"
    )


if __name__ == "__main__":
    main()
