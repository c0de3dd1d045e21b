"""Audit the paper's Appendix F data sets through the library API.

Run from the repository root:  python examples/audit_paper.py
"""

from __future__ import annotations

from pathlib import Path

from verify.geometry.audit import audit
from verify.io.datasets import load_dataset

HERE = Path(__file__).resolve().parent


def main() -> None:
    for name in ("f1.json", "f2.json"):
        ds = load_dataset(HERE / name)
        rep = audit(ds)
        print(f"{name}: N={ds.n_samples} d={ds.n_features} rank={rep.rank.rank}")
        print(f"  orthogonally separable: {rep.orthogonally_separable}")
        print(f"  spike-free: {rep.spike.spike_free}  (spike value {rep.spike.spike_value})")
        print(f"  chambers: {rep.chambers}  complete: {rep.chambers_complete}")
        for j in range(len(rep.enumeration)):
            pattern = "".join("1" if b else "0" for b in rep.enumeration.pattern(j))
            witness = rep.enumeration.witnesses[j].tolist()
            print(f"    D_{j} = diag({pattern})  witness u = {witness}")


if __name__ == "__main__":
    main()
