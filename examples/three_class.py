"""Three classes (one-vs-all, the paper's section 2): K independent sub-networks.

The set is orthogonally separable among the classes (exact check); each one-vs-all problem is
solved and every sub-network of the trained network gets its own bounds in one certificate.

Run from the repository root:  python examples/three_class.py
"""

from __future__ import annotations

from pathlib import Path

from _common import show, train_and_certify

from verify.convex.routes import solve_dataset
from verify.geometry.audit import audit
from verify.io.datasets import load_dataset

HERE = Path(__file__).resolve().parent


def main() -> None:
    path = HERE / "three_class.json"
    ds = load_dataset(path)
    rep = audit(ds)
    print(
        f"classes {ds.classes}; orthogonally separable among the classes: "
        f"{rep.orthogonally_separable}"
    )
    for cs in solve_dataset(ds):
        print(f"  class {cs.label!r}: P*_k = {cs.solution.value:.9f} ({cs.method})")
    for seed in range(2):
        show(
            train_and_certify(
                ds, path, seed=seed, steps=3000, neurons=6, lr=0.05, schedule="loss-scaled"
            )
        )


if __name__ == "__main__":
    main()
