"""Shared helper of the example scripts: train, certify, check, print one line."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

from verify.certificate.build import build_certificate, dumps_certificate
from verify.checker.check import check_file
from verify.errors import InputError
from verify.io.datasets import Dataset
from verify.io.files import write_atomic
from verify.network.model import Network
from verify.network.training import train_dataset


def train_and_certify(
    ds: Dataset, data_path: Path, *, seed: int, steps: int, tolerance: float = 1e-3, **opts
) -> dict:
    """Train on ``ds``, certify the network, re-check the certificate; return a summary."""
    res = train_dataset(ds, seed=seed, steps=steps, **opts)
    folder = Path(tempfile.mkdtemp(prefix="verify-example-"))
    model = folder / f"seed{seed}.npz"
    res.save_model(model)
    cert_path = folder / f"seed{seed}.cert.json"
    net = Network(W1=res.W1, w2=res.w2, source=str(model))
    try:
        cert = build_certificate(
            ds,
            net,
            data_path=data_path,
            model_path=model,
            cert_path=cert_path,
            tolerance=Fraction(tolerance),
        )
    except InputError as exc:  # e.g. a stalled network that does not separate the data
        return {
            "seed": seed,
            "steps": steps,
            "verdicts": ["no certificate"],
            "max_gap": None,
            "valid": False,
            "certificate": None,
            "reason": str(exc).split(": ", 1)[-1],
        }
    write_atomic(cert_path, dumps_certificate(cert))
    check = check_file(cert_path, data=data_path, model=model)  # data outside its folder
    gaps = [c["relative_gap"]["float"] for c in cert["classes"] if c.get("relative_gap")]
    return {
        "seed": seed,
        "steps": steps,
        "verdicts": [c["verdict"] for c in cert["classes"]],
        "max_gap": max(gaps) if gaps else None,
        "valid": check.valid,
        "certificate": str(cert_path),
    }


def show(r: dict) -> None:
    gap = "-" if r["max_gap"] is None else f"{r['max_gap']:.3g}"
    if r.get("reason"):
        print(f"  seed {r['seed']:>2}  steps {r['steps']:>6}  {r['reason'][:80]}")
        return
    print(
        f"  seed {r['seed']:>2}  steps {r['steps']:>6}  gap {gap:>9}  "
        f"{', '.join(r['verdicts']):<30} checker: {'valid' if r['valid'] else 'INVALID'}"
    )
