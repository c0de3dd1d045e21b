"""Below the chamber limit: the whole chamber list against the chambers of ``X_S`` as evidence.

Gaussian rank-3 data, N=300, labels of a planted bias-free 4-neuron teacher (as table 5 of
``bench_beyond_enumeration.py --quick``), clean and with 2 % of the labels flipped: ~90,000
chambers, under the default ``--limit``.  Each row runs, as new processes, ``verify solve -o``,
``verify certify`` of that network and ``verify check``:

* ``full list``: ``--full-chambers`` on solve and certify (the evidence before this change: the
  whole chamber list of ``X``),
* ``support``: the default (the chambers of ``X_S``, ``S = supp lambda``, when at most half as
  many and the lower bound stays within ``1e-9``).

Printed side by side: wall seconds of each step, solve + certify, the certificate's size, the
chambers in the evidence, the certified ``LB`` and the checker's verdict.  A last row is the
adverse case: labels from a quadratic boundary (most samples in the support), where the
whole list stays the evidence and the working set of samples is given up after its first
round (its cost shows in the ``support`` row's times).

Run: ``python benchmarks/bench_support_below.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from bench_beyond_enumeration import _write_csv, teacher  # same folder: the script's path


def _cli(*args: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout + out.stderr)
    return time.perf_counter() - t0, out.returncode


def quadratic(N: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(N)
    X = rng.standard_normal((N, 3))
    y = np.sign(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 + 0.2 * rng.standard_normal(N))
    y[y == 0] = 1.0
    return X, y


def main(N: int = 300) -> None:
    print(f"{'data':<22} {'evidence':<10} {'solve s':>7} {'certify s':>9} {'check s':>7} "
          f"{'solve+certify s':>15} {'cert MB':>8} {'chambers':>8} {'LB':>16}  check")
    for label, (X, y) in ((f"teacher {N}x3 flip 0", teacher(N, 0.0)),
                          (f"teacher {N}x3 flip 0.02", teacher(N, 0.02)),
                          (f"quadratic {N}x3", quadratic(N))):
        with tempfile.TemporaryDirectory() as tmp:
            data = _write_csv(os.path.join(tmp, "g.csv"), X, y)
            rows = []
            for name, extra in (("full list", ("--full-chambers",)), ("support", ())):
                model = os.path.join(tmp, f"{name[0]}.npz")
                cert = os.path.join(tmp, f"{name[0]}.cert.json")
                ts, _ = _cli("solve", data, "-o", model, *extra)
                tc, _ = _cli("certify", data, model, "-o", cert, "--no-self-check", *extra)
                tk, rk = _cli("check", cert)
                c = json.loads(open(cert).read())["classes"][0]
                rows.append((name, ts, tc, tk, os.path.getsize(cert) / 1e6,
                             len(c["evidence"]["patterns"]), c["lower_bound"]["float"],
                             "valid" if rk == 0 else f"exit {rk}"))
            for name, ts, tc, tk, mb, nch, lb, ok in rows:
                print(f"{label:<22} {name:<10} {ts:>7.1f} {tc:>9.1f} {tk:>7.1f} {ts + tc:>15.1f} "
                      f"{mb:>8.2f} {nch:>8} {lb:>16.10f}  {ok}")
            (_, s0, c0, k0, m0, *_), (_, s1, c1, k1, m1, *_) = rows
            print(f"{'':<22} {'ratio':<10} {s0 / s1:>7.2f} {c0 / c1:>9.2f} {k0 / k1:>7.2f} "
                  f"{(s0 + c0) / (s1 + c1):>15.2f} {m0 / m1:>8.1f}")


if __name__ == "__main__":
    main()
