"""Spurious stationary points on data that is not orthogonally separable (as in Fig. 10).

Without orthogonal separability Theorem 4 does not apply: from a small initialisation some
neurons stall on cone boundaries and gradient descent can settle at a KKT point of the
non-convex problem that is not globally optimal.  The certificate tells which seeds did:
the convex optimum (column generation over the exact chambers) is the evidence.

Run from the repository root:  python examples/spurious_stationary.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from _common import show, train_and_certify

from verify.convex.routes import solve_dataset
from verify.geometry.audit import audit
from verify.io.datasets import load_dataset

X = [[1.0, 0.1], [0.6, 0.9], [-0.8, 0.7], [-0.3, -1.0], [0.9, -0.6]]
Y = [1, -1, 1, -1, 1]


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "nonseparable.json"
    path.write_text(json.dumps({"X": X, "y": Y}))
    ds = load_dataset(path)
    rep = audit(ds)
    sol = solve_dataset(ds)[0]
    print(
        f"orthogonally separable: {rep.orthogonally_separable}; spike-free: "
        f"{rep.spike.spike_free}; {rep.chambers} chambers; P* = {sol.solution.value:.6f} "
        f"({sol.method})"
    )
    for seed in range(8):
        show(
            train_and_certify(
                ds, path, seed=seed, steps=4000, neurons=6, lr=0.05, schedule="loss-scaled"
            )
        )


if __name__ == "__main__":
    main()
