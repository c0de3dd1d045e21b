"""Benchmark of the exact chamber enumeration against its goals and baselines.

Run: ``python benchmarks/bench_arrangements.py`` (one run, about a minute).  Prints, side by
side with the goals and with ratios:

* rank 3, N = 400 Gaussian rows (159,602 chambers): extreme-ray construction, exact witness
  checks and the count proof, against a 5 s goal;
* rank 2, N = 10,000: sorted angles with the exact order certificate, against a 1 s goal;
* the general incremental path (restrictions, exact checks) against the fast paths;
* the sampling baseline of the literature: how many chambers 10^5 random Gaussian gates
  find on the rank-3 N = 400 data, against the exact list;
* real decimal data (the iris fixture of the tests): chambers thinner than their float
  witnesses, completed with exact integer witnesses, against the time before that fix.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from verify.geometry.chamber_count import count_chambers
from verify.geometry.chambers import enumerate_chambers


def _timed(fn, *args, **kwargs):  # noqa: ANN001, ANN202 - tiny helper
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _row(label: str, ch, seconds: float, goal: float | None = None) -> None:  # noqa: ANN001
    goal_txt = f"goal {goal:5.1f} s  ratio {seconds / goal:5.2f}" if goal else ""
    status = "complete+proven" if ch.complete else "NOT complete"
    count = "-" if ch.count is None else f"{ch.count:,}"
    print(
        f"{label:<38} found {len(ch):>8,}  count {count:>8}  {status:<15} "
        f"{ch.method:<18} {seconds:7.2f} s  {goal_txt}"
    )


def main() -> None:
    rng = np.random.default_rng(0)
    X3 = rng.standard_normal((400, 3))
    X2 = rng.standard_normal((10_000, 2))

    print("== fast paths against their goals (time includes the exact count proof) ==")
    (c3, p3), t_count3 = _timed(count_chambers, X3)
    print(
        f"{'rank 3, N=400: count proof alone':<38} count {c3:,} ({p3['method']}) {t_count3:.2f} s"
    )
    ch3, t3 = _timed(enumerate_chambers, X3)
    _row("rank 3, N=400 extreme rays", ch3, t3, 5.0)
    ch2, t2 = _timed(enumerate_chambers, X2)
    _row("rank 2, N=10^4 sorted angles", ch2, t2, 1.0)

    print("\n== general incremental path (recursive restrictions) vs fast paths, smaller sizes ==")
    for N, d in ((100, 3), (1000, 2)):
        X = rng.standard_normal((N, d))
        fast, tf = _timed(enumerate_chambers, X)
        slow, ts = _timed(enumerate_chambers, X, method="incremental")
        same = np.array_equal(fast.patterns, slow.patterns)
        _row(f"rank {d}, N={N} {fast.method}", fast, tf)
        _row(f"rank {d}, N={N} incremental", slow, ts)
        print(f"{'':<38} same pattern set: {same}; incremental / fast time = {ts / tf:,.0f}x")
    for N, d in ((30, 4), (16, 6)):
        Xg = rng.standard_normal((N, d))
        chg, tg = _timed(enumerate_chambers, Xg)
        _row(f"rank {d}, N={N} incremental", chg, tg)

    print("\n== general path on degenerate data "
          "(exact restrictions, verify.geometry.faces fallback) ==")
    for label, seed, make in (
        ("nearly degenerate rank 4 (8x4)", 3, "near"),
        ("1e-300..1e300 in rows (7x4)", 6, "spread"),
        ("sparse Gaussian rank 5 (14x5)", 1001, "sparse"),
    ):
        g = np.random.default_rng(seed)
        if make == "near":
            Xd = g.standard_normal((8, 3)) @ g.standard_normal((3, 4))
            Xd[1] = -2.0 * Xd[0]
        elif make == "spread":
            Xd = g.standard_normal((7, 4)) * 10.0 ** g.choice([-300, 0, 300], size=(7, 4))
        else:
            Xd = g.standard_normal((14, 5))
            Xd[g.random(Xd.shape) < 0.35] = 0.0
        chd, td = _timed(enumerate_chambers, Xd)
        _row(label, chd, td)

    print("\n== sampling baseline (random Gaussian gates, as in the literature) ==")
    for samples in (10_000, 100_000):
        sm, tsm = _timed(enumerate_chambers, X3, mode="sampled", samples=samples, seed=1)
        exact_set = {bytes(r) for r in ch3.patterns}
        inside = all(bytes(r) in exact_set for r in sm.patterns)
        _row(f"rank 3, N=400, {samples:,} gates", sm, tsm)
        print(
            f"{'':<38} found {len(sm) / len(ch3):.1%} of the {len(ch3):,} chambers "
            f"(all in the exact list: {inside}); exact enumeration time / sampling time = "
            f"{t3 / tsm:.2f}"
        )

    print("\n== real decimal data: iris (tests/geometry/data/iris.csv), exact witnesses ==")
    _iris_rows()


#: Seconds measured before exact witnesses (commit 5248001, same 2-core machine, shared):
#: the list was also incomplete then (6,226 of 6,236 and 8,968 of 8,992).
_BEFORE = {"setosa-versicolor sepal + bias": 45.9, "100 rows, features 0, 2, 3": 65.6}


def _iris_rows() -> None:
    path = Path(__file__).resolve().parents[1] / "tests" / "geometry" / "data" / "iris.csv"
    with open(path, newline="") as f:
        X = np.array([[float(v) for v in r[:4]] for r in list(csv.reader(f))[1:]])
    for label, A in (
        ("versicolor-virginica petal", X[50:, 2:4]),
        ("three classes petal", X[:, 2:4]),
        ("setosa-versicolor sepal + bias", np.hstack([X[:100, :2], np.ones((100, 1))])),
        ("100 rows, features 0, 2, 3", X[:100][:, [0, 2, 3]]),
    ):
        ch, t = _timed(enumerate_chambers, A)
        _row(label, ch, t)
        before = _BEFORE.get(label)
        ratio = f"; before the fix {before:.1f} s, ratio {before / t:,.0f}x" if before else ""
        print(f"{'':<38} exact integer witnesses: {len(ch.exact_witnesses):,}{ratio}")


if __name__ == "__main__":
    main()
