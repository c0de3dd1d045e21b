"""A small, strict implementation of the ``.safetensors`` format (no extra dependency).

The format: an 8-byte little-endian unsigned header length ``n``, then ``n`` bytes of UTF-8
JSON ``{name: {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}, ...}`` with an
optional ``"__metadata__"`` object of strings (the header may be padded with spaces), then
the data buffer: the raw little-endian bytes of every tensor, at its offsets relative to the
start of the buffer.  The reader checks every rule the reference implementation checks:
offsets inside the buffer, sizes equal to ``prod(shape) × itemsize``, no overlaps, no bytes
that belong to no tensor, no duplicate keys.  ``F64``, ``F32``, ``F16`` and ``BF16`` are read
(each converts to float64 exactly); ``F64`` and ``F32`` are written.

Examples
--------
>>> import numpy as np, os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "t.safetensors")
>>> write_safetensors(p, {"w": np.array([[1.5, -2.0]])}, metadata={"k": "v"})
>>> tensors, meta = read_safetensors(p)
>>> tensors["w"].tolist(), meta
([[1.5, -2.0]], {'k': 'v'})
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError
from verify.io.files import write_atomic

__all__ = ["read_safetensors", "write_safetensors"]

_MAX_HEADER = 100_000_000  # the safetensors specification's limit on the header size

# dtype name -> (itemsize, little-endian numpy dtype or None for BF16)
_ST_DTYPES: dict[str, tuple[int, str | None]] = {
    "F64": (8, "<f8"),
    "F32": (4, "<f4"),
    "F16": (2, "<f2"),
    "BF16": (2, None),
}
_ST_KNOWN = {"BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F8_E4M3", "F8_E5M2"}


def read_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a ``.safetensors`` file into float64 arrays, validating the header strictly.

    Returns ``(tensors, metadata)``.

    Raises
    ------
    InputError
        Truncated file, header that is not a JSON object, unknown or unsupported dtype,
        offsets outside the data buffer, a size that does not match shape × dtype,
        overlapping tensors, bytes not covered by any tensor.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "bad.safetensors")
    >>> _ = open(p, "wb").write(b"\\x05\\x00")
    >>> read_safetensors(p)
    Traceback (most recent call last):
    ...
    verify.errors.InputError: ...: truncated safetensors file: 2 bytes, the 8-byte header ...
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror})") from None
    if len(raw) < 8:
        raise InputError(
            f"{name}: truncated safetensors file: {len(raw)} bytes, the 8-byte header "
            "length is missing"
        )
    (n,) = struct.unpack("<Q", raw[:8])
    if n > _MAX_HEADER:
        raise InputError(f"{name}: safetensors header length {n} exceeds the limit {_MAX_HEADER}")
    if 8 + n > len(raw):
        raise InputError(
            f"{name}: truncated safetensors file: the header claims {n} bytes but only "
            f"{len(raw) - 8} follow the length field"
        )
    header = _parse_header(raw[8 : 8 + n], name)
    buf = memoryview(raw)[8 + n :]
    meta = header.pop("__metadata__", None)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise InputError(f"{name}: safetensors __metadata__ must map strings to strings")
    spans: list[tuple[int, int, str]] = []
    out: dict[str, np.ndarray] = {}
    for tname, info in header.items():
        dtype, shape, (begin, end) = _check_entry(tname, info, name)
        itemsize, npdt = _ST_DTYPES[dtype]
        if end > len(buf):
            raise InputError(
                f"{name}: tensor {tname!r} has data_offsets [{begin}, {end}] outside the data "
                f"buffer of {len(buf)} bytes"
            )
        count = math.prod(shape)
        if end - begin != count * itemsize:
            raise InputError(
                f"{name}: tensor {tname!r} of shape {list(shape)} and dtype {dtype} needs "
                f"{count * itemsize} bytes, but its data_offsets [{begin}, {end}] span "
                f"{end - begin}"
            )
        spans.append((begin, end, tname))
        chunk = bytes(buf[begin:end])
        if npdt is None:  # BF16: the high half of a float32
            u16 = np.frombuffer(chunk, dtype="<u2").astype(np.uint32)
            arr = (u16 << 16).view(np.float32).astype(np.float64)
        else:
            arr = np.frombuffer(chunk, dtype=npdt).astype(np.float64)
        out[tname] = arr.reshape(shape)
    spans.sort()
    pos = 0
    for begin, end, tname in spans:
        if begin < pos:
            raise InputError(
                f"{name}: tensor {tname!r} (bytes {begin}..{end}) overlaps the previous tensor "
                f"(which ends at {pos})"
            )
        if begin > pos:
            raise InputError(f"{name}: bytes {pos}..{begin} of the data buffer belong to no tensor")
        pos = end
    if pos != len(buf):
        raise InputError(f"{name}: bytes {pos}..{len(buf)} of the data buffer belong to no tensor")
    return out, dict(meta)


def _parse_header(text: bytes, name: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for k, v in pairs:
            if k in d:
                raise InputError(f"{name}: safetensors header has the key {k!r} twice")
            d[k] = v
        return d

    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: safetensors header is not UTF-8 ({exc})") from None
    if not s.startswith("{"):
        raise InputError(f"{name}: safetensors header must be a JSON object starting with '{{'")
    try:
        header = json.loads(s, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: safetensors header is not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{name}: safetensors header is nested too deeply") from None
    if not isinstance(header, dict):
        raise InputError(f"{name}: safetensors header must be a JSON object")
    return header


def _check_entry(tname: str, info: Any, name: str) -> tuple[str, tuple[int, ...], tuple[int, int]]:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        got = sorted(info) if isinstance(info, dict) else type(info).__name__
        raise InputError(
            f"{name}: tensor {tname!r} needs exactly 'dtype', 'shape' and 'data_offsets'; got {got}"
        )
    dtype = info["dtype"]
    if dtype not in _ST_DTYPES:
        if dtype in _ST_KNOWN:
            raise InputError(
                f"{name}: tensor {tname!r} has dtype {dtype}; weights must be floating "
                f"point ({', '.join(_ST_DTYPES)})"
            )
        raise InputError(f"{name}: tensor {tname!r} has an unknown dtype {dtype!r}")
    shape = info["shape"]
    if not isinstance(shape, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise InputError(
            f"{name}: tensor {tname!r} has shape {shape!r}; expected a list of non-negative "
            "integers"
        )
    off = info["data_offsets"]
    if (
        not isinstance(off, list)
        or len(off) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in off)
        or not 0 <= off[0] <= off[1]
    ):
        raise InputError(
            f"{name}: tensor {tname!r} has data_offsets {off!r}; expected [begin, end] "
            "with 0 <= begin <= end"
        )
    return dtype, tuple(shape), (off[0], off[1])


def write_safetensors(
    path: str | Path,
    tensors: Mapping[str, np.ndarray],
    *,
    metadata: Mapping[str, str] | None = None,
    dtype: str = "F64",
) -> None:
    """Write float tensors as a ``.safetensors`` file (``F64`` or ``F32``), atomically.

    The header's keys are sorted and padded with spaces to a multiple of 8 bytes, the data
    follow in the same order, so the same tensors give byte-identical files.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "t.safetensors")
    >>> write_safetensors(p, {"a": np.arange(3.0)}, dtype="F32")
    >>> read_safetensors(p)[0]["a"].tolist()
    [0.0, 1.0, 2.0]
    """
    if dtype not in ("F64", "F32"):
        raise InputError(f"write_safetensors: dtype must be 'F64' or 'F32', got {dtype!r}")
    npdt = _ST_DTYPES[dtype][1]
    header: dict[str, Any] = {}
    chunks = []
    pos = 0
    for k in sorted(tensors):
        a = np.asarray(tensors[k], dtype=np.float64)
        if dtype == "F32" and np.any(a.astype(np.float32).astype(np.float64) != a):
            raise InputError(f"write_safetensors: tensor {k!r} is not exactly representable in F32")
        b = np.ascontiguousarray(a, dtype=npdt).tobytes()
        header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [pos, pos + len(b)]}
        chunks.append(b)
        pos += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    write_atomic(path, struct.pack("<Q", len(text)) + text + b"".join(chunks))
