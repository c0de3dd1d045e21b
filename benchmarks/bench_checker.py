"""Certify vs check: the trusted pure-Python checker against the certificate builder.

Goal: checking is never slower than certifying (the checker replays evidence; it never
solves).  For each data set: solve once (optimal network saved), then time

* certify: ``build_certificate`` (structure-aware solve, chambers, slack multipliers, exact
  bounds) and writing the JSON;
* check: ``check_file`` (reading the JSON, the data and the model in pure Python, every rule
  in exact arithmetic).

Second table: the count replay's general-position test (rank 4, Cover) by packed cofactor
vectors (:func:`verify.checker.counting.first_dependent`) against one ``integer_det`` per
4-subset, with the same answer.

First line: the size of the trusted kernel (``verify/checker/``), so its growth stays visible
(VIPR's ``viprchk`` is ~1,800 lines of C++, ``mmverify.py`` ~700 lines of Python).

Run: ``python benchmarks/bench_checker.py [--quick]``.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from verify.certificate.build import build_certificate, dumps_certificate
from verify.checker.check import check_file
from verify.checker.counting import _hyperplanes, _rank_cols, first_dependent
from verify.convex.routes import optimal_weights, solve_dataset
from verify.geometry.rationals import dyadic_scale, integer_det
from verify.io.datasets import load_dataset
from verify.io.models import save_model
from verify.network.model import load_network


def _case(name: str, X: np.ndarray, y: np.ndarray, tmp: Path) -> tuple[str, int, float, float]:
    data = tmp / f"{name}.json"
    data.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    ds = load_dataset(data)
    solves = solve_dataset(ds)
    W1, w2 = optimal_weights(solves, ds.n_features)
    model = tmp / f"{name}.npz"
    save_model(model, W1, w2)
    net = load_network(model, n_features=ds.n_features)
    cert = tmp / f"{name}.cert.json"
    t0 = time.perf_counter()
    obj = build_certificate(ds, net, data_path=data, model_path=model, cert_path=cert,
                            solves=solves)
    cert.write_text(dumps_certificate(obj))
    t_cert = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = check_file(cert)
    t_check = time.perf_counter() - t0
    assert res.valid, res.failures
    p = sum(len(e["evidence"].get("patterns", [])) for e in obj["classes"])
    return obj["classes"][0]["method"], p, t_cert, t_check


def kernel_size() -> None:
    """Print the lines of every module of the trusted kernel and their total."""
    files = sorted((Path(__file__).resolve().parents[1] / "verify" / "checker").glob("*.py"))
    sizes = {f.name: len(f.read_text().splitlines()) for f in files}
    print("trusted kernel verify/checker/: " + ", ".join(f"{k} {v}" for k, v in sizes.items())
          + f"; total {sum(sizes.values())} lines")
    print()


def main() -> None:
    quick = "--quick" in sys.argv
    kernel_size()
    rng = np.random.default_rng(0)
    cases = []
    for N in (20, 60) if quick else (20, 60, 150, 400):
        X = rng.standard_normal((N, 2))
        y = np.where(X[:, 0] + 0.3 * rng.standard_normal(N) > 0, 1, -1)
        cases.append((f"gauss-2d N={N}", X, y))
    for N in (12,) if quick else (12, 25, 40):
        X = rng.standard_normal((N, 3))
        y = np.where(X[:, 0] + 0.3 * rng.standard_normal(N) > 0, 1, -1)
        cases.append((f"gauss-3d N={N}", X, y))
    for N in (12,) if quick else (16, 33):  # ~10^3, 10^4 chambers
        X = rng.standard_normal((N, 4))
        y = np.where(X[:, 0] + 0.3 * rng.standard_normal(N) > 0, 1, -1)
        cases.append((f"gauss-4d N={N}", X, y))
    for N in (50,) if quick else (50, 200, 1000):
        pos = np.abs(rng.standard_normal((N // 2, 5)))
        X = np.vstack([pos, -np.abs(rng.standard_normal((N - N // 2, 5)))])
        cases.append((f"orthosep-5d N={N}", X, np.array([1] * (N // 2) + [-1] * (N - N // 2))))
    print(f"{'data':<20} {'evidence':<12} {'chambers':>8} {'certify s':>10} {'check s':>9} "
          f"{'check/certify':>13}")
    with tempfile.TemporaryDirectory() as d:
        for name, X, y in cases:
            method, p, tc, tk = _case(name.replace(" ", "_").replace("=", ""), X, y, Path(d))
            print(f"{name:<20} {method:<12} {p:>8} {tc:>10.3f} {tk:>9.3f} {tk / tc:>13.2f}")
    bench_general_position(quick)


def bench_general_position(quick: bool) -> None:
    print()
    print(f"{'normals (4-D)':>13} {'4-subsets':>10} {'packed s':>9} {'det s':>9} {'speed-up':>9} "
          "same")
    for m in (20,) if quick else (30, 45):
        X = np.random.default_rng(m).standard_normal((m, 4))
        ints, _ = dyadic_scale([float(v) for v in X.ravel()])
        H = _hyperplanes([ints[i * 4 : (i + 1) * 4] for i in range(m)])
        _, cols = _rank_cols(H)
        Hr = [tuple(h[c] for c in cols) for h in H]
        t0 = time.perf_counter()
        a = first_dependent(Hr, 4)
        tp = time.perf_counter() - t0
        t0 = time.perf_counter()
        b = next((sub for sub in itertools.combinations(range(len(Hr)), 4)
                  if integer_det([list(Hr[i]) for i in sub]) == 0), None)
        td = time.perf_counter() - t0
        print(f"{len(Hr):>13} {len(list(itertools.combinations(range(len(Hr)), 4))):>10} "
              f"{tp:>9.3f} {td:>9.3f} {td / tp:>8.1f}x {a == b}")


if __name__ == "__main__":
    main()
