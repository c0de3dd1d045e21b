"""Regenerate the committed regression certificates in this folder (deterministic).

Run from the repository root:  python certificates/make_certificates.py

For every example data set in ``examples/`` (copied to ``certificates/data/``) it writes

* ``models/<name>-trained.npz``: ``m = 10`` neurons trained by :func:`verify.network.training.train`
  (loss-scaled schedule, seed 0, 3000 steps), and ``<name>-trained.cert.json``;
* ``models/<name>-optimal.npz``: the convex optimum's network
  (:func:`verify.convex.routes.solve_dataset` + :func:`optimal_weights`), and
  ``<name>-optimal.cert.json``.

Every certificate is re-checked by the trusted checker before the script ends (exit 1 if one
is rejected).  The ``.npz`` files are written with a fixed zip timestamp, so rerunning the
script on the same machine reproduces every file byte for byte.  Check them with
``verify regress certificates/`` (add ``--compare`` to regenerate and compare the bounds).
"""

from __future__ import annotations

import io
import shutil
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from verify.certificate.build import build_certificate, dumps_certificate  # noqa: E402
from verify.checker.check import check_file  # noqa: E402
from verify.convex.routes import optimal_weights, solve_dataset  # noqa: E402
from verify.io.datasets import load_dataset  # noqa: E402
from verify.io.files import write_atomic  # noqa: E402
from verify.network.model import load_network  # noqa: E402
from verify.network.training import train_dataset  # noqa: E402

#: The example data sets certified (binary ones and the 3-class one).
DATASETS = ("f1", "f2", "whitened", "three_class", "grid3", "exact_zero")
#: Trainer settings (deterministic: fixed seed).
TRAIN = {"neurons": 10, "steps": 3000, "schedule": "loss-scaled", "seed": 0, "lr": 0.1,
         "init_scale": 1e-3}


def save_npz(path: Path, W1: np.ndarray, w2: np.ndarray) -> None:
    """Write ``W1``, ``w2`` (float64) as an ``.npz`` with a fixed timestamp (byte-reproducible)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, a in (("W1", W1), ("w2", w2)):
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(a, dtype="<f8"),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, arr.getvalue())
    write_atomic(path, buf.getvalue())


def make(name: str) -> list[Path]:
    """Copy data set ``name``, train and solve, write both models and both certificates."""
    data_dir, model_dir = HERE / "data", HERE / "models"
    data_dir.mkdir(exist_ok=True)
    model_dir.mkdir(exist_ok=True)
    data_path = data_dir / f"{name}.json"
    shutil.copyfile(ROOT / "examples" / f"{name}.json", data_path)
    ds = load_dataset(data_path)
    solves = solve_dataset(ds)
    res = train_dataset(ds, **TRAIN)
    models = {
        "trained": (res.W1, res.w2),
        "optimal": optimal_weights(solves, ds.n_features),
    }
    out = []
    for kind, (W1, w2) in models.items():
        model_path = model_dir / f"{name}-{kind}.npz"
        save_npz(model_path, W1, w2)
        net = load_network(model_path, n_features=ds.n_features, data_bias=ds.bias)
        cert_path = HERE / f"{name}-{kind}.cert.json"
        cert = build_certificate(ds, net, data_path=data_path, model_path=model_path,
                                 cert_path=cert_path, solves=solves)
        write_atomic(cert_path, dumps_certificate(cert))
        out.append(cert_path)
    return out


def main() -> int:
    t0 = time.perf_counter()
    bad = 0
    for name in DATASETS:
        for cert_path in make(name):
            res = check_file(cert_path)
            verdicts = ", ".join(c["verdict"] for c in res.classes)
            print(f"{cert_path.relative_to(ROOT)}: {'valid' if res.valid else 'INVALID'} "
                  f"({verdicts})")
            bad += not res.valid
    print(f"{2 * len(DATASETS)} certificates in {time.perf_counter() - t0:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
