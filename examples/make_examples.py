"""Regenerate the small example data sets in this folder (deterministic).

Run from the repository root:  python examples/make_examples.py
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _write(name: str, X: list[list[float]], y: list) -> None:
    text = json.dumps({"X": X, "y": y}, separators=(", ", ": "))
    (HERE / name).write_text(text + "\n", encoding="utf-8")


def main() -> None:
    # The paper's Appendix F (MATH.md): F.2's labels are illegible in the extraction; (1, 1)
    # reproduces the single optimal neuron the paper reports.
    _write("f1.json", [[1.65, 0.47], [-0.47, 1.35]], [1, -1])
    _write("f2.json", [[1.65, 0.47], [0.47, 1.35]], [1, 1])
    (HERE / "f1.csv").write_text("x1,x2,label\n1.65,0.47,1\n-0.47,1.35,-1\n", encoding="utf-8")

    # Whitened data: X X^T = I exactly (entries ±1/2), so X is spike-free.
    _write(
        "whitened.json",
        [[0.5, 0.5, 0.5, 0.5], [0.5, -0.5, 0.5, -0.5], [0.5, 0.5, -0.5, -0.5]],
        [1, -1, 1],
    )

    # Three classes, orthogonally separable: each class lives on its own coordinates.
    X3 = [
        [1.0, 0.5, 0.0, 0.0, 0.0],
        [0.25, 2.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 0.5, 3.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 2.5],
    ]
    _write("three_class.json", X3, ["a", "a", "b", "b", "c", "c"])

    # A degenerate arrangement: the 26 nonzero points of {-1, 0, 1}^3 (many parallel,
    # antiparallel and concurrent hyperplanes); label = sign of the first nonzero coordinate.
    pts = [list(p) for p in itertools.product((-1, 0, 1), repeat=3) if any(p)]
    labels = [1 if next(v for v in p if v) > 0 else -1 for p in pts]
    _write("grid3.json", [[float(v) for v in p] for p in pts], labels)

    # Cross-class inner products that are exactly zero in the reals while the float Gram
    # matrix (BLAS) gets a tiny nonzero value: only exact arithmetic gets the verdict right.
    _write("exact_zero.json", [[0.1, 0.2], [3.0, -1.5], [0.2, 0.4]], [1, -1, 1])


if __name__ == "__main__":
    main()
