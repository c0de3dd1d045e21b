"""Pure-Python readers and canonical hashes for the trusted checker.

The checker (:mod:`verify.checker.rules`) must not import numpy, so it reads the data and model
files
itself with the standard library only: ``.json`` and ``.csv`` data, ``.npz`` data and models
(a zip of ``.npy`` files, read by a minimal strict ``.npy`` parser: little-endian ``<f8``,
``<f4``, ``<i8``, ``<i4``, ``|b1`` and ``<U`` strings, C order only) and ``.safetensors``
models (``F64``/``F32``).  Labels are normalised exactly as :func:`verify.io.datasets.check_dataset`
does (the tests compare both routes).

Canonical hashes (also documented in ``docs/certificate.md``):

* data: SHA-256 of ``b"verify-data-v1\\n"``, then ``N, d, K`` as little-endian uint64, then
  ``X`` (``N x d``, the bias column appended when used) as little-endian float64 in C order,
  then the one-vs-all label matrix ``Y`` (``N x K``, entries ±1) as little-endian int64 in C order;
* model: SHA-256 of ``b"verify-model-v1\\n"``, then for ``W1`` and ``w2`` in turn: the number of
  dimensions and each dimension as little-endian uint64, then the values as little-endian
  float64 in C order.

Examples
--------
>>> data_sha256([[1.0, 0.0]], [[1]])[:16]
'1617854f751f3d6b'
>>> normalise_labels([1, -1, 1])
([-1, 1], [[1], [-1], [1]])
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import math
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

from verify.checker.arithmetic import parse_rational
from verify.checker.errors import InputError

__all__ = [
    "read_npy",
    "read_npz",
    "read_data",
    "read_model",
    "normalise_labels",
    "positive_label",
    "data_sha256",
    "model_sha256",
    "parse_nd",
    "common_denominator",
    "witness_ints",
]

_NPY_TYPES = {"<f8": ("d", 8), "<f4": ("f", 4), "<i8": ("q", 8), "<i4": ("i", 4), "|b1": ("?", 1)}


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


def read_npy(raw: bytes, name: str) -> tuple[tuple[int, ...], list[Any]]:
    """Parse one ``.npy`` buffer: returns ``(shape, flat values in C order)``.

    Examples
    --------
    >>> hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    >>> hdr = hdr + " " * (118 - len(hdr)) + "\\n"
    >>> raw = b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(hdr)) + hdr.encode()
    >>> read_npy(raw + struct.pack("<2d", 1.5, -2.0), "x.npy")
    ((2,), [1.5, -2.0])
    """
    if raw[:6] != b"\x93NUMPY" or len(raw) < 10:
        raise InputError(f"{name}: not a .npy array (bad magic)")
    major = raw[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", raw[8:10])
        start = 10
    elif major in (2, 3):
        (hlen,) = struct.unpack("<I", raw[8:12])
        start = 12
    else:
        raise InputError(f"{name}: unsupported .npy version {major}")
    try:
        header = ast.literal_eval(raw[start : start + hlen].decode("latin1"))
    except (ValueError, SyntaxError):
        raise InputError(f"{name}: malformed .npy header") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise InputError(f"{name}: malformed .npy header")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if fortran not in (False, True):
        raise InputError(f"{name}: malformed .npy header (fortran_order {fortran!r})")
    if not isinstance(shape, tuple) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise InputError(f"{name}: malformed .npy shape {shape!r}")
    body = raw[start + hlen :]
    count = _prod(shape)
    if isinstance(descr, str) and descr.startswith("<U") and descr[2:].isdigit():
        width = int(descr[2:])
        if len(body) != 4 * width * count:
            raise InputError(f"{name}: .npy data size does not match its shape")
        vals = [
            body[4 * width * i : 4 * width * (i + 1)].decode("utf-32-le").rstrip("\x00")
            for i in range(count)
        ]
        return shape, _c_order(vals, shape) if fortran else vals
    if descr not in _NPY_TYPES:
        raise InputError(
            f"{name}: unsupported .npy dtype {descr!r}; expected one of {sorted(_NPY_TYPES)}"
        )
    code, size = _NPY_TYPES[descr]
    if len(body) != size * count:
        raise InputError(f"{name}: .npy data size does not match its shape {shape}")
    vals = list(struct.unpack(f"<{count}{code}", body))
    return shape, _c_order(vals, shape) if fortran else vals


def _c_order(vals: list[Any], shape: tuple[int, ...]) -> list[Any]:
    """The C-order (row-major) flat list of an array given flat in Fortran (column-major)
    order: element ``(i_0, ..., i_k)`` sits at ``i_0 + s_0 (i_1 + s_1 (...))``.

    Examples
    --------
    >>> _c_order([1, 4, 2, 5, 3, 6], (2, 3))   # [[1, 2, 3], [4, 5, 6]] stored by columns
    [1, 2, 3, 4, 5, 6]
    """
    strides, st = [], 1
    for s in shape:
        strides.append(st)
        st *= s
    out = [0]
    for s, stride in zip(shape, strides):  # C order: the last index varies fastest
        out = [base + i * stride for base in out for i in range(s)]
    return [vals[f] for f in out]


def read_npz(path: str | Path) -> dict[str, tuple[tuple[int, ...], list[Any]]]:
    """All arrays of a ``.npz`` file (no pickles: object arrays are rejected)."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            out = {}
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise InputError(f"{name}: unexpected member {info.filename!r}")
                key = info.filename[:-4]
                out[key] = read_npy(zf.read(info), f"{name}[{key}]")
            return out
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: not a readable .npz file ({exc})") from None


# ----------------------------------------------------------------------------- labels


def _label(v: Any, name: str, i: int) -> int | str:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v):
            return int(v)
        raise InputError(f"{name}: label {i} is {v!r}; numeric labels must be integers")
    if not isinstance(v, str):
        raise InputError(f"{name}: label {i} is not a number or a string")
    s = v.strip()
    if s == "":
        raise InputError(f"{name}: label {i} is empty")
    try:
        f = float(s)
    except ValueError:
        return s
    if not math.isfinite(f) or f != int(f):
        raise InputError(f"{name}: label {i} is {s!r}, not a class")
    return int(f)


def normalise_labels(
    values: list[Any], name: str = "<labels>"
) -> tuple[list[Any], list[list[int]]]:
    """Classes (sorted) and the one-vs-all matrix ``Y``, as
    :func:`verify.io.datasets.check_dataset`.
    """
    labels = [_label(v, name, i) for i, v in enumerate(values)]
    if not all(isinstance(v, int) for v in labels):
        labels = [str(v) for v in labels]
    classes = sorted(set(labels))
    pos = {v: k for k, v in enumerate(classes)}
    cidx = [pos[v] for v in labels]
    cset = set(classes)
    if len(classes) > 2:
        return classes, [[1 if c == k else -1 for k in range(len(classes))] for c in cidx]
    if cset <= {-1, 1}:
        y = list(labels)
    elif cset == {0, 1}:
        y = [1 if v == 1 else -1 for v in labels]
    elif len(classes) == 1:
        y = [1] * len(labels)
    else:
        y = [1 if c == 1 else -1 for c in cidx]
    return classes, [[v] for v in y]


def positive_label(classes: list[Any]) -> Any:
    """The label mapped to ``+1`` for binary data (as :func:`normalise_labels`).

    Examples
    --------
    >>> positive_label([0, 1]), positive_label(["a", "b"]), positive_label(["x"])
    (1, 'b', 'x')
    """
    cset = set(classes)
    if cset <= {-1, 1} or cset == {0, 1}:
        return 1
    return classes[-1]


# ----------------------------------------------------------------------------- data


def _finite_matrix(X: Any, name: str) -> list[list[float]]:
    if not isinstance(X, list) or not X or not all(isinstance(r, list) for r in X):
        raise InputError(f"{name}: X must be a nonempty list of rows")
    if len({len(r) for r in X}) != 1 or not X[0]:
        raise InputError(f"{name}: the rows of X have different lengths or are empty")
    out = []
    for r in X:
        row = []
        for v in r:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"{name}: X must contain only numbers")
            f = float(v)
            if not math.isfinite(f):
                raise InputError(f"{name}: X has a non-finite value")
            row.append(f)
        out.append(row)
    return out


def read_data(
    path: str | Path, *, bias: bool = False
) -> tuple[list[list[float]], list[Any], list[list[int]]]:
    """Read ``.json``, ``.csv`` or ``.npz`` data: returns ``(X, classes, Y)``.

    ``X`` gets a constant last column 1.0 when ``bias`` is true.
    """
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise InputError(f"{name}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{name}: not valid JSON ({exc})") from None
        if not isinstance(obj, dict) or "X" not in obj or "y" not in obj:
            raise InputError(f'{name}: expected a JSON object {{"X": [[...]], "y": [...]}}')
        X, y = _finite_matrix(obj["X"], name), obj["y"]
        if not isinstance(y, list):
            raise InputError(f"{name}: y must be a list of labels")
        if y and all(isinstance(v, list) and len(v) == 1 for v in y):
            y = [v[0] for v in y]  # a column of labels, as numpy reshapes (N, 1)
    elif suffix == ".csv":
        X, y = _read_csv(p, name)
    elif suffix == ".npz":
        arrays = read_npz(p)
        if "X" not in arrays or "y" not in arrays:
            raise InputError(f"{name}: the .npz file needs arrays 'X' and 'y'")
        (shape, flat), (yshape, yflat) = arrays["X"], arrays["y"]
        if len(shape) != 2:
            raise InputError(f"{name}: X must be 2-D, got shape {shape}")
        if len(yshape) == 2 and 1 in yshape:
            yshape = (_prod(yshape),)
        if len(yshape) != 1:
            raise InputError(f"{name}: y must be 1-D, got shape {yshape}")
        d = shape[1]
        X = _finite_matrix([[float(v) for v in flat[i * d : (i + 1) * d]]
                            for i in range(shape[0])], name)
        y = [int(v) if isinstance(v, bool) else v for v in yflat]
    else:
        raise InputError(f"{name}: unknown data format {suffix!r}; use .npz, .csv or .json")
    if len(y) != len(X):
        raise InputError(f"{name}: {len(y)} labels for {len(X)} rows of X")
    classes, Y = normalise_labels(y, name)
    if bias:
        X = [row + [1.0] for row in X]
    return X, classes, Y


def _read_csv(p: Path, name: str) -> tuple[list[list[float]], list[str]]:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not a UTF-8 text file ({exc})") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{name}: the CSV file has no rows")

    def numeric(cells: list[str]) -> bool:
        try:
            [float(c) for c in cells]
        except ValueError:
            return False
        return bool(cells)

    if not numeric(rows[0][:-1]):
        rows = rows[1:]
    if not rows or len(rows[0]) < 2:
        raise InputError(f"{name}: the CSV file needs rows of features and a label")
    width = len(rows[0])
    X, y = [], []
    for i, r in enumerate(rows):
        if len(r) != width or not numeric(r[:-1]):
            raise InputError(f"{name}: data row {i} is malformed")
        X.append([float(c) for c in r[:-1]])
        y.append(r[-1].strip())
    return _finite_matrix(X, name), y


# ----------------------------------------------------------------------------- model


def _nest(shape: tuple[int, ...], flat: list[float]) -> Any:
    if len(shape) <= 1:
        return list(flat)
    step = _prod(shape[1:])
    return [_nest(shape[1:], flat[i * step : (i + 1) * step]) for i in range(shape[0])]


def _read_safetensors(p: Path, name: str) -> tuple[dict[str, tuple[tuple[int, ...], list]], dict]:
    raw = p.read_bytes()
    if len(raw) < 8:
        raise InputError(f"{name}: truncated safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise InputError(f"{name}: truncated safetensors header")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{name}: malformed safetensors header") from None
    if not isinstance(header, dict):
        raise InputError(f"{name}: malformed safetensors header")
    meta = header.pop("__metadata__", {}) or {}
    buf = raw[8 + n :]
    out = {}
    for key, spec in header.items():
        try:
            dtype, shape, (b, e) = spec["dtype"], tuple(spec["shape"]), spec["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{name}: malformed safetensors entry {key!r}") from None
        code, size = {"F64": ("d", 8), "F32": ("f", 4)}.get(dtype, (None, 0))
        if code is None:
            raise InputError(f"{name}: tensor {key!r} has dtype {dtype}; the checker reads F64/F32")
        count = _prod(shape)
        if not (0 <= b <= e <= len(buf)) or e - b != size * count:
            raise InputError(f"{name}: tensor {key!r} has inconsistent offsets")
        out[key] = (shape, list(struct.unpack(f"<{count}{code}", buf[b:e])))
    return out, meta


def read_model(path: str | Path) -> tuple[Any, tuple[int, ...], Any, tuple[int, ...], bool]:
    """Read ``W1``/``w2`` from ``.npz`` or ``.safetensors``: ``(W1, shape, w2, shape, bias)``.

    ``W1`` and ``w2`` are nested lists of floats (``(d, m)``/``(m,)`` or ``(K, d, m)``/``(K, m)``).
    """
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise InputError(f"{name}: no such file")
    suffix = p.suffix.lower()
    bias = False
    if suffix == ".npz":
        arrays = read_npz(p)
        if "bias_feature" in arrays:
            bshape, bflat = arrays.pop("bias_feature")
            if bshape != () or len(bflat) != 1:
                raise InputError(f"{name}: 'bias_feature' must be a 0-d boolean")
            bias = bool(bflat[0])
    elif suffix == ".safetensors":
        arrays, meta = _read_safetensors(p, name)
        bias = str(meta.get("bias_feature", "false")).lower() == "true"
    else:
        raise InputError(f"{name}: the checker reads .npz and .safetensors models, not "
                         f"{suffix!r}; convert it first: verify convert {name} -o MODEL.npz")
    if "W1" not in arrays or "w2" not in arrays:
        raise InputError(f"{name}: the model file needs arrays 'W1' and 'w2'")
    (s1, f1), (s2, f2) = arrays["W1"], arrays["w2"]
    if len(s1) not in (2, 3) or len(s2) != len(s1) - 1 or s1[-1] != s2[-1] or s1[:-2] != s2[:-1]:
        raise InputError(f"{name}: W1 shape {s1} and w2 shape {s2} do not match")
    for v in f1 + f2:
        if isinstance(v, bool) or not math.isfinite(float(v)):
            raise InputError(f"{name}: the weights must be finite numbers")
    f1 = [float(v) for v in f1]
    f2 = [float(v) for v in f2]
    return _nest(s1, f1), s1, _nest(s2, f2), s2, bias


# ----------------------------------------------------------------------------- hashes


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


# ----------------------------------------------------------------------------- rationals


def parse_nd(text: Any, where: str) -> tuple[int, int]:
    """``(numerator, denominator > 0)`` of a rational string (not reduced): exactly the
    language of :func:`verify.checker.arithmetic.parse_rational`, without building a ``Fraction``.

    Examples
    --------
    >>> parse_nd("-6/4", "x"), parse_nd("7", "x")
    ((-6, 4), (7, 1))
    """
    if type(text) is str:
        num, sep, den = text.partition("/")
        body = num[1:] if num[:1] == "-" else num
        if body.isdigit() and body.isascii() and (not sep or (den.isdigit() and den.isascii())):
            try:
                n, d = int(num), (int(den) if sep else 1)
            except ValueError as exc:  # more digits than int() converts
                raise InputError(f"malformed certificate: {where}: {exc}") from None
            if d:
                return n, d
    try:
        parse_rational(text)
    except ValueError as exc:
        raise InputError(f"malformed certificate: {where}: {exc}") from None
    raise InputError(f"malformed certificate: {where}: not a rational {text!r}")


def common_denominator(pairs: list[tuple[int, int]]) -> tuple[list[int], int]:
    """``num/den`` pairs as ``ints / D`` with one common positive denominator ``D``.

    Examples
    --------
    >>> common_denominator([(1, 2), (-1, 3), (2, 1)])
    ([3, -2, 12], 6)
    """
    D = 1
    for _, d in pairs:
        if d != 1:
            D = math.lcm(D, d)
    if D == 1:
        return [n for n, _ in pairs], 1
    return [n * (D // d) for n, d in pairs], D


_INTS = re.compile(r"-?[0-9]+(?:,-?[0-9]+)*")  # a witness of plain integers, joined by ","


def witness_ints(wit: list[Any], where: str) -> list[int]:
    """A witness (rational strings) as integers ``u``: a positive multiple of the point.

    Examples
    --------
    >>> witness_ints(["3", "-4"], "w"), witness_ints(["1/2", "-1/3"], "w")
    ([3, -4], [3, -2])
    """
    try:
        if _INTS.fullmatch(",".join(wit)):
            return list(map(int, wit))
    except (TypeError, ValueError):
        pass  # not all strings, or more digits than int() converts: the exact route says why
    return common_denominator([parse_nd(t, where) for t in wit])[0]
