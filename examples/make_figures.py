"""Regenerate the committed figures under docs/figures/ (the paper's Appendix F experiments).

Run from the repository root::

    python examples/make_figures.py            # writes docs/figures/*.png
    python examples/make_figures.py --svg      # SVG instead

Data: the paper's F.1 (orthogonally separable, not spike-free) and F.2 (labels (1, 1), one
optimal neuron).  Training: :func:`verify.network.training.train`, m = 10 neurons, scaled
initialisation 1e-3, full-batch gradient descent on the summed logistic loss, 10^4 steps
recorded at log-spaced iterations (the paper plots iterations 10^l, l = 0..4).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # never a window (verify.plots.figures itself draws on Agg canvases only)

from verify.convex.routes import solve_binary  # noqa: E402
from verify.io.datasets import paper_dataset  # noqa: E402
from verify.network.training import train  # noqa: E402
from verify.plots.figures import plot  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "figures"
STEPS, LR, SCALE, NEURONS = 10_000, 0.05, 1e-3, 10


def _runs(X, y, p_star, seeds, schedule="constant"):
    return [
        train(X, y, neurons=NEURONS, steps=STEPS, lr=LR, init_scale=SCALE, seed=s,
              schedule=schedule, record="log", record_points=60, p_star=p_star).trajectory
        for s in seeds
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--svg", action="store_true", help="write SVG instead of PNG")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    ext = ".svg" if a.svg else ".png"
    t0 = time.perf_counter()
    for name, tag in (("F.1", "f1"), ("F.2", "f2")):
        ds = paper_dataset(name)
        X, y = ds.X, ds.y.astype(float)
        sol = solve_binary(X, y)[0]
        print(f"{name}: P* = {sol.value:.6f}, lam* = {sol.lam.round(6).tolist()}, "
              f"neurons = {[(n.sign, [round(v, 4) for v in n.direction]) for n in sol.neurons]}")
        runs = _runs(X, y, sol.value, range(4))
        figs = {
            "ellipsoid": {},                                   # Fig. 6 / 8
            "rectified-ellipsoid": {},                         # Fig. 1 / 9
            "polar": {},                                       # Fig. 2
            "rectified-trajectories": {"trajectory": runs[0]},  # Fig. 3
            "circle": {"trajectory": runs[0]},                 # Fig. 4 / 5
            "seeds": {"trajectory": runs},                     # Fig. 7 / 10
            "alignment": {"trajectory": runs[0]},
        }
        if tag == "f1":
            fast = _runs(X, y, sol.value, range(2), schedule="loss-scaled")
            figs["gap"] = {"trajectory": runs[:2] + fast}
        for kind, kw in figs.items():
            path = a.out / f"{tag}-{kind}{ext}"
            plot(kind, X, y, solution=sol, output=path, **kw)
            print(f"  {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
                  f"  {path.stat().st_size / 1024:.0f} KB")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
