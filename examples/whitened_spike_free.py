"""A whitened data set (X X^T = I exactly): spike-free, solved by Remark 1 without enumeration.

Run from the repository root:  python examples/whitened_spike_free.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _common import show, train_and_certify

from verify.convex.routes import solve_dataset
from verify.geometry.audit import audit
from verify.io.datasets import load_dataset

HERE = Path(__file__).resolve().parent


def main() -> None:
    path = HERE / "whitened.json"
    ds = load_dataset(path)
    assert np.array_equal(ds.X @ ds.X.T, np.eye(ds.n_samples))  # exactly whitened
    rep = audit(ds)
    print(f"spike-free (exact): {rep.spike.spike_free}, spike value {rep.spike.spike_value}")
    sol = solve_dataset(ds)[0]
    print(f"P* = {sol.solution.value:.9f} by the {sol.method} route")
    for seed in range(3):
        show(
            train_and_certify(
                ds, path, seed=seed, steps=3000, neurons=10, lr=0.05, schedule="loss-scaled"
            )
        )


if __name__ == "__main__":
    main()
