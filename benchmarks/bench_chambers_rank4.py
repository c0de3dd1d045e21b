"""Benchmark: exact chamber enumeration in rank >= 4 on decimal data (issue 10, items 7 and 9).

Run: ``python benchmarks/bench_chambers_rank4.py`` (one run, a few minutes on 2 shared cores;
``--quick`` skips the 100-row case and the slowest "before" run).  Side by side, on the same
data and in the same run:

* **before**: the former rank >= 4 route (still in the code base as
  :func:`verify.geometry.chambers_recursive.incremental_witnesses`: recursive restrictions
  with float children and a rational rounding search), then, as ``enumerate_chambers`` did,
  the exact face-enumeration fallback when the list is short and the count is at most
  50,000; the chambers found before the fallback show what happens beyond it;
* **after**: :func:`verify.geometry.chambers.enumerate_chambers` (deletion-restriction of
  :mod:`verify.geometry.chambers_incremental`: certified rank-3 walks, exact integer
  children where floats fail).

Every "after" time includes the exact count (Zaslavsky) and the exact check of every witness.
The 100-row iris case (322,628 chambers, ``verify enumerate --limit 400000``) did not finish
in 900 s before (issue 10, item 9); it is only run "after".
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np

import verify.geometry.chambers as chambers_mod
from verify.errors import EnumerationLimitError
from verify.geometry.chamber_count import count_chambers, reduce_hyperplanes
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.chambers_recursive import face_witnesses, incremental_witnesses

THREE_ROWS = [[5.0, 3.5, 1.0], [5.6, 4.1, 1.3], [5.6, 3.9, 1.1]]

#: "Before" measured once, not rerun (same shared 2-core machine): issue 10 for the 100 rows;
#: main at 3b33127 for the rank-5 case (killed after 1,200 s, no list).
_BEFORE_NOTE = {
    "iris 100 rows, rank 4 (item 9)": "> 900 s, unfinished (issue 10)",
    "iris 30 rows + bias, rank 5": "> 1200 s, unfinished (main)",
}


def _iris() -> np.ndarray:
    path = Path(__file__).resolve().parents[1] / "tests" / "geometry" / "data" / "iris.csv"
    with open(path, newline="") as f:
        return np.array([[float(v) for v in r[:4]] for r in list(csv.reader(f))[1:]])


def _extended() -> np.ndarray:
    """The 3 rows of item 7 in rank 4 (tests/geometry/test_chambers_incremental.py)."""
    B = np.array(
        [r + [0.2] for r in THREE_ROWS]
        + [[0.5, 0.35, 0.1, 0.02], [0.56, 0.41, 0.13, 0.04], [0.56, 0.39, 0.11, 0.02],
           [5.3, 3.8, 1.15, 0.3], [1.0, 0.7, 0.2, 0.04]]
    )
    return np.vstack([B, B[:, [1, 0, 2, 3]], -B[:3] * 3])


def _before(X: np.ndarray) -> tuple[int, int, int, float]:
    """The former route: ``(count, found by it, found after the faces fallback, seconds)``."""
    t0 = time.perf_counter()
    hp = reduce_hyperplanes(X)
    count, _ = count_chambers(X, hyperplanes=hp, budget=None)
    W = incremental_witnesses(hp)
    patterns, _, _ = chambers_mod._assemble(X, hp, W)
    found = after_faces = len(patterns)
    if found != count and count <= 50_000:
        pts: list[tuple[int, ...]] = []
        try:
            Wf = face_witnesses(hp.ints, limit=600_000, exact_points=pts)
            patterns, _, _ = chambers_mod._assemble(X, hp, np.vstack([W, Wf]), None, pts)
            after_faces = len(patterns)
        except EnumerationLimitError:
            pass
    return count, found, after_faces, time.perf_counter() - t0


def _after(X: np.ndarray, limit: int | None = None) -> tuple[object, float]:
    t0 = time.perf_counter()
    ch = enumerate_chambers(X, limit=limit)
    return ch, time.perf_counter() - t0


def main() -> None:
    quick = "--quick" in sys.argv
    X = _iris()
    cases = [
        ("iris 12 rows, rank 4", X[:12], True),
        ("iris 20 rows, rank 4", X[:20], True),
        ("item 7's 3 rows in rank 4 (19 x 4)", _extended(), not quick),
        ("iris 30 rows, rank 4", X[:30], not quick),
        ("iris 60 rows, rank 4", X[:60], False),
        ("iris 30 rows + bias, rank 5", np.hstack([X[:30], np.ones((30, 1))]), False),
    ]
    if not quick:
        cases.append(("iris 100 rows, rank 4 (item 9)", X[:100], False))
    print(f"{'data':<36} {'count':>8} | {'before: found':>13} {'+faces':>8} {'time':>8} | "
          f"{'after: found':>12} {'exact w.':>8} {'time':>7} | ratio")
    for label, A, run_before in cases:
        ch, ta = _after(A, limit=400_000)
        after = f"{len(ch):>12,} {len(ch.exact_witnesses):>8,} {ta:>6.1f}s"
        ok = "complete" if ch.complete else "NOT complete"
        if run_before:
            count, found, faces, tb = _before(A)
            before = f"{found:>13,} {faces:>8,} {tb:>7.1f}s"
            ratio = f"{tb / ta:,.0f}x"
        else:
            count = ch.count
            before = f"{'not run':>13} {'':>8} {'':>8}"
            ratio = "-"
            if label in _BEFORE_NOTE:
                before = f"{_BEFORE_NOTE[label]:>31}"
        print(f"{label:<36} {count:>8,} | {before} | {after} | {ratio}  {ok}")


if __name__ == "__main__":
    main()
