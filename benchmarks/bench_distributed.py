"""Serial vs dask.distributed (2 workers), and certificate size / check time vs chambers.

(a) the dual-feasibility oracle with NNLS on every chamber (``exact_values=True``) of a
    rank-3 data set with ~10^5 chambers;
(b) the exact orthogonal-separability test at N = 8,000, d = 256;
(c) ``build_certificate`` on rank-``--rank`` Gaussian data (3 by default; 4 supported) with
    ~10^3 ... 10^6 chambers: the size of ``dumps_certificate`` (total and per chamber), the
    solve and certificate times and the time of ``verify.checker.check.check_file``.  Sizes that
    take longer than ``--budget`` seconds to build are not run but extrapolated from the
    measured ones (a fitted power law), and printed as such.

Every parallel result is compared with the serial one (they must be identical).

Run: ``python benchmarks/bench_distributed.py [--quick] [--budget SECONDS] [--skip-ab] [--skip-c]
[--rank 3|4] [--sizes N1,N2,...] [--run-max N]`` (``--sizes``: sample counts instead of the
defaults, rank 3: 32, 100, 317, 1000; rank 4: 16, 33, 70, 146, i.e. ~10^3, 10^4, 10^5, 10^6
chambers; ``--run-max``: larger sizes are only extrapolated).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from verify.convex.chamber_oracle import oracle
from verify.distributed import executor_from_options
from verify.errors import VerifyError
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.separability import orthogonal_separability


def _time(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _row(name: str, ts: float, tp: float, same: bool) -> None:
    print(f"{name:<44} {ts:>9.2f} {tp:>9.2f} {ts / tp:>8.2f}x  identical={same}")


def bench_parallel(client, quick: bool) -> None:
    print(f"{'task':<44} {'serial s':>9} {'2 wkr s':>9} {'speed-up':>9}")
    rng = np.random.default_rng(0)
    N = 120 if quick else 320  # rank 3: N(N-1)+2 chambers
    X = rng.standard_normal((N, 3))
    lam = rng.standard_normal(N) * 0.3
    P = enumerate_chambers(X, limit=10**6).pattern_matrix()
    s, ts = _time(lambda: oracle(X, lam, P, exact_values=True, keep_slack=True))
    p, tp = _time(lambda: oracle(X, lam, P, exact_values=True, keep_slack=True, executor=client))
    same = s.to_dict() == p.to_dict() and s.values.tobytes() == p.values.tobytes()
    same = same and {k: v.to_dict() for k, v in s.slack.items()} == {
        k: v.to_dict() for k, v in p.slack.items()
    }
    _row(f"(a) oracle+slacks, {P.shape[0]} chambers, {s.nnls_calls} NNLS", ts, tp, same)

    N, d = (2000, 64) if quick else (8000, 256)
    X = rng.standard_normal((N, d))
    c = (X[:, 0] > 0).astype(int)
    Xp = np.abs(X)  # separable within the classes: every same-class pair positive
    for name, XX in (("gaussian", X), ("positive orthant", Xp)):
        s, ts = _time(lambda XX=XX: orthogonal_separability(XX, c))
        p, tp = _time(lambda XX=XX: orthogonal_separability(XX, c, executor=client))
        _row(f"(b) separability N={N} d={d} {name}", ts, tp, s.to_dict() == p.to_dict())


RANK = 3  # default rank: N(N-1)+2 chambers (rank 2: 2N; its solve failed at N=5000)
SIZES = {3: (32, 100, 317, 1000), 4: (16, 33, 70, 146)}  # ~10^3, 10^4, 10^5, 10^6 chambers
QUICK = {3: (12, 32), 4: (10, 16)}


def _cert_case(N: int, tmp: Path, rank: int = RANK) -> tuple[int, int, float, float, float]:
    """One size: ``(chambers, certificate bytes, solve s, certificate s, check s)``."""
    from verify.certificate.build import build_certificate, dumps_certificate
    from verify.checker.check import check_file
    from verify.convex.routes import optimal_weights, solve_dataset
    from verify.io.datasets import load_dataset
    from verify.io.models import save_model
    from verify.network.model import load_network

    rng = np.random.default_rng(N)
    X = rng.standard_normal((N, rank))
    y = np.where(X[:, 0] + 0.3 * rng.standard_normal(N) > 0, 1, -1)
    data = tmp / f"d{N}.json"
    data.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    ds = load_dataset(data)
    t0 = time.perf_counter()
    solves = solve_dataset(ds, limit=10**7)
    W1, w2 = optimal_weights(solves, ds.n_features)
    t_solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = tmp / f"m{N}.npz"
    save_model(model, W1, w2)
    net = load_network(model, n_features=ds.n_features)
    cert = tmp / f"c{N}.json"
    obj = build_certificate(ds, net, data_path=data, model_path=model, cert_path=cert,
                            limit=10**7, solves=solves)  # the optimum's own solves: no re-solve
    text = dumps_certificate(obj)
    cert.write_text(text)
    t_cert = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = check_file(cert)
    t_check = time.perf_counter() - t0
    if not res.valid:
        raise SystemExit(f"certificate N={N} rejected: {res.failures}")
    p = sum(len(e["evidence"].get("patterns", [])) for e in obj["classes"])
    return p, len(text.encode()), t_solve, t_cert, t_check


def bench_certificates(quick: bool, budget: float, rank: int = RANK,
                       sizes: tuple[int, ...] | None = None, run_max: int | None = None) -> None:
    print()
    print(f"{'chambers':>10} {f'N ({rank}-D)':>8} {'cert bytes':>12} {'B/chamber':>9} "
          f"{'solve s':>9} {'cert s':>9} {'check s':>9}")
    if sizes is None:
        sizes = (QUICK if quick else SIZES)[rank]
    done: list[tuple[int, int, int, float, float]] = []
    with tempfile.TemporaryDirectory() as d:
        for N in sizes:
            if len(done) >= 2:  # predict the build time before trying
                (n0, *_, b0, _), (n1, *_, b1, _) = done[-2], done[-1]
                k = math.log(b1 / b0) / math.log(n1 / n0)
                guess = b1 * (N / n1) ** k
                if guess > budget or (run_max is not None and N > run_max):
                    _extrapolate(done, N, guess)
                    continue
            # each size in its own process: a crash (seen: SIGSEGV at N=317) is reported
            run = subprocess.run(
                [sys.executable, __file__, "--cert-case", str(N), d, str(rank)],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                why = (run.stdout + run.stderr).strip().splitlines()[-1:] or [""]
                print(f"{'-':>10} {N:>8}  FAILED (exit {run.returncode}) {why[0]}"[:160])
                if len(done) >= 2:
                    _extrapolate(done, N, math.nan)
                continue
            p, nbytes, ts, tcert, tc = json.loads(run.stdout.strip().splitlines()[-1])
            done.append((N, p, nbytes, ts + tcert, tc))
            print(f"{p:>10} {N:>8} {nbytes:>12} {nbytes / max(p, 1):>9.0f} {ts:>9.2f} "
                  f"{tcert:>9.2f} {tc:>9.2f}", flush=True)
            if ts + tcert > budget:
                break


def _extrapolate(done, N: int, build_guess: float) -> None:
    (n0, p0, s0, _, c0), (n1, p1, s1, _, c1) = done[-2], done[-1]

    def fit(a, b):
        k = math.log(b / a) / math.log(n1 / n0)
        return b * (N / n1) ** k

    p, nbytes = round(fit(p0, p1)), round(fit(s0, s1))
    print(
        f"{p:>10} {N:>8} {nbytes:>12} {nbytes / max(p, 1):>9.0f} {build_guess:>9.0f} "
        f"{'(total)':>9} {fit(c0, c1):>9.1f}  EXTRAPOLATED (power law through the last two "
        "rows), not run"
    )


def main() -> None:
    if "--cert-case" in sys.argv:  # one size, in a child process
        i = sys.argv.index("--cert-case")
        try:
            print(json.dumps(_cert_case(int(sys.argv[i + 1]), Path(sys.argv[i + 2]),
                                        int(sys.argv[i + 3]))))
        except VerifyError as exc:
            raise SystemExit(f"{type(exc).__name__}: {exc}") from exc
        return
    quick = "--quick" in sys.argv
    budget = float(sys.argv[sys.argv.index("--budget") + 1]) if "--budget" in sys.argv else 300
    if "--skip-ab" not in sys.argv:
        with executor_from_options(2, None) as client:
            client.run(lambda: None)  # workers up before timing
            bench_parallel(client, quick)
    rank = int(sys.argv[sys.argv.index("--rank") + 1]) if "--rank" in sys.argv else RANK
    if rank not in SIZES:
        raise SystemExit(f"--rank must be one of {sorted(SIZES)}, got {rank}")
    sizes = None
    if "--sizes" in sys.argv:
        sizes = tuple(int(v) for v in sys.argv[sys.argv.index("--sizes") + 1].split(","))
    run_max = int(sys.argv[sys.argv.index("--run-max") + 1]) if "--run-max" in sys.argv else None
    if "--skip-c" not in sys.argv:
        bench_certificates(quick, budget, rank, sizes, run_max)


if __name__ == "__main__":
    main()
