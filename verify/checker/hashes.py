"""The canonical hashes of the data and the model (also documented in ``docs/certificate.md``):

* data: SHA-256 of ``b"verify-data-v1\\n"``, then ``N, d, K`` as little-endian uint64, then
  ``X`` (``N x d``, the bias column appended when used) as little-endian float64 in C order,
  then the one-vs-all label matrix ``Y`` (``N x K``, entries ±1) as little-endian int64 in C order;
* model: SHA-256 of ``b"verify-model-v1\\n"``, then for ``W1`` and ``w2`` in turn: the number of
  dimensions and each dimension as little-endian uint64, then the values as little-endian
  float64 in C order.

The checker compares them with the certificate's (rules ``data-hash`` and ``model-hash``).

Examples
--------
>>> data_sha256([[1.0, 0.0]], [[1]])[:16]
'1617854f751f3d6b'
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

__all__ = ["data_sha256", "model_sha256"]


def _flat(a: Any) -> list[Any]:
    if isinstance(a, list):
        return [v for item in a for v in _flat(item)]
    return [a]


def data_sha256(X: list[list[float]], Y: list[list[int]]) -> str:
    """Canonical SHA-256 of the data (see the module docstring)."""
    N, d, K = len(X), len(X[0]), len(Y[0])
    h = hashlib.sha256(b"verify-data-v1\n")
    h.update(struct.pack("<QQQ", N, d, K))
    h.update(struct.pack(f"<{N * d}d", *[float(v) for row in X for v in row]))
    h.update(struct.pack(f"<{N * K}q", *[int(v) for row in Y for v in row]))
    return h.hexdigest()


def model_sha256(W1: Any, shape1: tuple[int, ...], w2: Any, shape2: tuple[int, ...]) -> str:
    """Canonical SHA-256 of the model weights (see the module docstring)."""
    h = hashlib.sha256(b"verify-model-v1\n")
    for arr, shape in ((W1, shape1), (w2, shape2)):
        flat = [float(v) for v in _flat(arr)]
        h.update(struct.pack(f"<{1 + len(shape)}Q", len(shape), *shape))
        h.update(struct.pack(f"<{len(flat)}d", *flat))
    return h.hexdigest()
