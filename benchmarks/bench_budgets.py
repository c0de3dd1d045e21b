"""Issue 10, item 9: the audit's exponential steps under budgets, against the Gram time.

Run: ``python benchmarks/bench_budgets.py [--mnist-rows N]``.  Prints side by side:

* ``as_integer_matrix`` (the exact integer matrix the spike-free test and the face enumeration
  start from): the vectorised dyadic scaling against the general ``Fraction`` route, on
  MNIST-like data (784 pixel features ``k/255``), with a check that both are identical;
* ``verify audit`` (library :func:`verify.geometry.audit.audit`, default budgets) on the data
  sets of the issue, next to the time of the Gram matrix ``X X^T`` (BLAS) and of the exact
  separability test alone; ``audit/gram`` is the ratio the issue asks to keep small;
* ``verify solve --sampled`` beyond the enumeration limit (the case that crashed): time and
  status (the default route there is branch and bound now).

Measured before this change (same machine, 2 shared cores; ``timeout``):

============================ ====================================== =======================
case                         before                                 after (this benchmark)
============================ ====================================== =======================
audit Gaussian 200 x 10      211 s (issue), nothing printed         0.2 s (sampled refutation)
audit wine-like 130 x 13     > 900 s (issue)                        0.3 s
audit orth. sep. 200 x 20    > 150 s (killed here), enumerate_faces 0.4 s
audit MNIST-like 2000 x 784  > 400 s (killed here)                  1 s (Gram 0.05 s)
audit MNIST-like 20000 x 784 > 12 min (issue), as_integer_matrix    10.3 s (Gram 6.4 s: 1.6x)
as_integer_matrix 2000 x 784 8 s (Fraction route)                   0.2 s (36x), identical
solve --sampled 100 x 8      traceback after 1 s (empty program)    46 s, restricted answer
============================ ====================================== =======================

(``--mnist-rows 20000`` for the last audit row; it was 19 s, 2.4x the Gram, while the proven
rank was computed twice, by the audit and again by the chamber step; now once.)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from verify.geometry.audit import audit
from verify.geometry.faces import as_integer_matrix
from verify.geometry.separability import orthogonal_separability
from verify.io.datasets import check_dataset


def _timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def _gram(X: np.ndarray, rows: int = 2000) -> None:
    """``X X^T`` in row blocks (the full matrix of 20,000 samples would need 3.2 GB)."""
    for i in range(0, X.shape[0], rows):
        X[i:i + rows] @ X.T


def _mnist_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 784))
    mask = rng.random((n, 784)) < 0.19  # MNIST: ~19% nonzero pixels
    X[mask] = rng.integers(1, 256, int(mask.sum())) / 255.0
    return X, np.where(rng.random(n) < 0.5, 1, -1)


def _cases(mnist_rows: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    g = rng.standard_normal((200, 10))
    A = rng.standard_normal((13, 13))
    wine = np.round(np.abs(rng.standard_normal((130, 13)) @ A) + rng.uniform(0, 5, 13), 2)
    orth = np.zeros((200, 20))
    orth[:100, :10] = rng.uniform(0.1, 1.0, (100, 10))  # class +1 on the first 10 features
    orth[100:, 10:] = rng.uniform(0.1, 1.0, (100, 10))  # class -1 on the last 10
    return {
        "Gaussian 200 x 10": (g, np.where(rng.standard_normal(200) > 0, 1, -1)),
        "wine-like 130 x 13": (wine, np.where(wine[:, 0] > np.median(wine[:, 0]), 1, -1)),
        "orth. separable 200 x 20": (orth, np.repeat([1, -1], 100)),
        f"MNIST-like {mnist_rows} x 784": _mnist_like(mnist_rows),
    }


def bench_integer_matrix(rows: int) -> None:
    X, _ = _mnist_like(rows)
    fast, tf = _timed(as_integer_matrix, X)
    slow, ts = _timed(as_integer_matrix, X.tolist())  # the general Fraction route
    assert fast == slow
    print(f"as_integer_matrix {rows} x 784: vectorised {tf:7.2f} s   Fraction route {ts:7.2f} s"
          f"   ratio {ts / tf:6.1f}x   identical: yes")


def bench_audit(mnist_rows: int) -> None:
    print(f"{'audit':28s} {'gram':>8s} {'separab.':>9s} {'audit':>8s} {'audit/gram':>11s}"
          "  spike-free (method)       chambers")
    for name, (X, y) in _cases(mnist_rows).items():
        ds = check_dataset(X, y)
        _, tg = _timed(_gram, X)
        _, tsep = _timed(orthogonal_separability, X, (y > 0).astype(int))
        rep, ta = _timed(audit, ds)
        spike = rep.spike
        sp = "skipped" if spike is None else f"{spike.spike_free} ({spike.method})"
        ch = rep.chamber_list
        chs = f"{ch['found']} of {ch['proven_count']}" if ch else "-"
        print(f"{name:28s} {tg:8.3f} {tsep:9.3f} {ta:8.2f} {ta / max(tg, 1e-9):11.1f}"
              f"  {sp:25s} {chs}")


def bench_solve_beyond_limit() -> None:
    from verify.convex.routes import solve_dataset

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 8))
    ds = check_dataset(X, np.where(rng.standard_normal(100) > 0, 1, -1))
    (cs,), t = _timed(solve_dataset, ds, limit=1000, sampled=True)
    sol = cs.solution
    print(f"solve --sampled Gaussian 100 x 8 beyond --limit 1000: {t:6.1f} s  "
          f"status {sol.status.value}, "
          f"method {cs.method}, value {sol.value:.6g}, UB {float(sol.upper_bound):.6g}, "
          f"LB {sol.lower_bound}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-rows", type=int, default=2000,
                    help="rows of the MNIST-like data (the issue: 20000)")
    ap.add_argument("--no-solve", action="store_true", help="skip the solve (about a minute)")
    args = ap.parse_args()
    bench_integer_matrix(min(args.mnist_rows, 2000))
    bench_audit(args.mnist_rows)
    if not args.no_solve:
        bench_solve_beyond_limit()


if __name__ == "__main__":
    main()
