"""Support chambers: solve + certify + check end to end, the chamber route against the
branch-and-bound route whose oracle and evidence are the chambers of ``X_S`` (``S = supp lam``).

Gaussian data as in ``bench_beyond_enumeration._data``.  Per case and route, through the CLI
in this process (``verify solve -o``, ``verify certify``, ``verify check``): the full chamber
count (proven, or Cover's bound), ``|S|`` and the chambers of ``X_S`` the certificate carries,
the three times, the certificate size, the verdict and ``P*``, side by side.  Goals (issue 11):
rank 3, N=1,000 (~10^6 chambers): solve + certify + check under 60 s, certificate under 5 MB;
rank 6, N=200: a global verdict (the quadratic-boundary labels of ``_data`` and the planted
4-neuron teacher's labels, ``teacher``).

Run: ``python benchmarks/bench_support_chambers.py [--quick] [--budget SECONDS] [--only NxD]``
(``--quick``: N=200, rank 3 only; ``--budget`` is passed to ``solve`` and ``certify``; ``--only
1000x3`` or ``--only teacher200x6``: one case).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_beyond_enumeration import _data, teacher  # noqa: E402

from verify.cli.main import main  # noqa: E402
from verify.geometry.chamber_count import cover_bound, reduce_hyperplanes  # noqa: E402


def _full_count(X: np.ndarray) -> str:
    hp = reduce_hyperplanes(X)
    return f"<={cover_bound(hp.m, hp.rank):.2g}"


def _run(X: np.ndarray, y: np.ndarray, limit: int, budget: float | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "d.json").write_text(json.dumps({"X": X.tolist(), "y": y.astype(int).tolist()}))
        lim = ["--limit", str(limit)] + ([] if budget is None else ["--budget", str(budget)])
        out, sout = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(sout), contextlib.redirect_stderr(io.StringIO()):
            t0 = time.perf_counter()
            rc1 = main(["solve", str(d / "d.json"), "-o", str(d / "opt.npz"), "--json", *lim])
            t1 = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            rc2 = main(["certify", str(d / "d.json"), str(d / "opt.npz"), "-o",
                        str(d / "c.cert.json"), *lim])
            t2 = time.perf_counter()
            rc3 = main(["check", str(d / "c.cert.json")])
            t3 = time.perf_counter()
        if (rc1, rc2, rc3) != (0, 0, 0):
            return {"error": f"exit codes {rc1} {rc2} {rc3}: {out.getvalue()[-300:]}"}
        solved = json.loads(sout.getvalue())["classes"][0]
        cert = json.loads((d / "c.cert.json").read_text())
        ent = cert["classes"][0]
        ev = ent["evidence"]
        return {
            "solve": t1 - t0, "certify": t2 - t1, "check": t3 - t2,
            "MB": (d / "c.cert.json").stat().st_size / 1e6,
            "method": ent["method"], "verdict": ent["verdict"],
            "solve_verdict": solved["verdict"] + (
                "" if solved["relative_gap"] is None else f" {solved['relative_gap']:.2e}"),
            "support": len(ev.get("support", [])) or sum(v != "0" for v in ent["lambda"]),
            "chambers": len(ev.get("patterns", [])),
            "LB": float(ent["lower_bound"]["float"]) if ent["lower_bound"] else float("nan"),
            "UB": float(ent["upper_bound"]["float"]),
        }


def main_(quick: bool, budget: float | None, only: str | None) -> None:
    # (N, d, routes): limit 200,000 is the default; the chamber route is forced where the full
    # list fits and the support route by a limit just below the full count
    cases = [("gauss", 200, 3)] if quick else [("gauss", 200, 3), ("gauss", 1000, 3),
                                               ("gauss", 200, 6), ("teacher", 200, 6)]
    if only:  # e.g. 1000x3 or teacher200x6
        kind = "teacher" if only.startswith("teacher") else "gauss"
        N, d = (int(v) for v in only.removeprefix("teacher").split("x"))
        cases = [(kind, N, d)]
    print(f"{'data':<16} {'chambers':>10} {'route (evidence)':<32} {'|S|':>4} {'listed':>7} "
          f"{'solve s':>8} {'certify s':>9} {'check s':>8} {'total s':>8} {'MB':>7} "
          f"{'solve verdict':<28} {'certificate verdict':<24} {'LB':>13} {'UB':>13}")
    for kind, N, d in cases:
        X, y = _data(N, N, d) if kind == "gauss" else teacher(N, 0.0, d)
        name_ = f"{kind} {N}x{d}"
        full = _full_count(X)
        routes = [("default --limit 200000", 200_000)]
        if (kind, N, d) == ("gauss", 200, 3):  # the full list fits: the support route by a
            # lower limit
            routes.append(("--limit 20000", 20_000))
        for name, limit in routes:
            r = _run(X, y, limit, budget)
            if "error" in r:
                print(f"{name_:<16} {full:>10} {name:<32} {r['error']}")
                continue
            total = r["solve"] + r["certify"] + r["check"]
            route = f"{name} ({r['method']})"
            print(f"{name_:<16} {full:>10} {route:<32} {r['support']:>4} "
                  f"{r['chambers']:>7} {r['solve']:>8.1f} {r['certify']:>9.1f} "
                  f"{r['check']:>8.1f} {total:>8.1f} {r['MB']:>7.2f} {r['solve_verdict']:<28} "
                  f"{r['verdict']:<24} "
                  f"{r['LB']:>13.7f} {r['UB']:>13.7f}", flush=True)


def _opt(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


if __name__ == "__main__":
    b = _opt("--budget")
    main_("--quick" in sys.argv, None if b is None else float(b), _opt("--only"))
