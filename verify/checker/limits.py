"""Every size limit of the trusted checker, in one place (``docs/certificate.md``, "What the
checker promises and what it refuses").

A hostile file cannot make the checker expand an input before it is bounded: digits per integer
of a certificate's numbers, bits of a common denominator, bytes of the certificate file, the
headers of ``.npy`` and ``.safetensors`` files, the members of an ``.npz``, and the values a
data or model file may hold, relative to what the certificate states.  The branch-and-bound
replay keeps its own limits (rule ``bab-size``, :mod:`verify.checker.branch_and_bound`).

Examples
--------
>>> _budget({"data": {"n_samples": 3, "n_features": 2}, "classes": [{"lambda": [0, 0, 0]}],
...          "model": {"shape_W1": [2, 4], "shape_w2": [4]}})
(4144, 4144)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "BOUND_DIGITS",
    "VALUE_DIGITS",
    "DEN_BITS",
    "MAX_CERT_BYTES",
    "MAX_NPY_HEADER",
    "MAX_SAFETENSORS_HEADER",
    "MAX_VALUES",
    "MAX_MEMBERS",
]

#: Decimal digits per integer of a bound, ``s``, a gap or the tolerance (rounded to 64
#: significant bits, at most ~1,600 digits even on the most extreme float data).
BOUND_DIGITS = 2000
#: Decimal digits per integer of a number that is a float64 in every certificate ``verify``
#: writes (``lambda``, multipliers, witnesses, network weights: at most 325 digits), and bits
#: of one common denominator of such numbers (float64 values need at most 1,075).
VALUE_DIGITS = 400
DEN_BITS = 1400
#: Bytes of a certificate file.
MAX_CERT_BYTES = 1 << 33
#: Limits of the readers: a ``.npy`` header (numpy's own limit), a ``.safetensors`` header,
#: the values of one data or model file, the members of an ``.npz``.
MAX_NPY_HEADER = 10_000
MAX_SAFETENSORS_HEADER = 1 << 20
MAX_VALUES = 1 << 27
MAX_MEMBERS = 16


def _text_bytes(max_values: int) -> int:
    """Bytes a text (JSON, CSV) file of ``max_values`` numbers may take: 64 per value."""
    return 64 * min(max_values, MAX_VALUES) + (1 << 20)


def _budget(cert: dict[str, Any]) -> tuple[int, int]:
    """Values the data and the model files may hold: four times what the certificate states
    (``N`` at most the length of its ``lambda``), plus 4,096, at most ``MAX_VALUES``."""
    def num(v: Any) -> int:
        return v if type(v) is int and 0 <= v <= MAX_VALUES else MAX_VALUES

    data, mod = cert.get("data") or {}, cert.get("model") or {}
    lams = [len(c["lambda"]) for c in cert.get("classes") or []
            if isinstance(c, dict) and isinstance(c.get("lambda"), list)]
    n = min(num(data.get("n_samples")), max(lams, default=0))
    shapes = [mod.get("shape_W1"), mod.get("shape_w2")]
    m = sum(math.prod(num(v) for v in sh) if isinstance(sh, list) and len(sh) <= 3
            else MAX_VALUES for sh in shapes)
    return (min(MAX_VALUES, 4 * n * (num(data.get("n_features")) + 2) + 4096),
            min(MAX_VALUES, 4 * m + 4096))
