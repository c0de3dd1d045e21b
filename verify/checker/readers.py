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

import csv
import hashlib
import io
import json
import lzma
import math
import os
import re
import stat
import struct
import zipfile
import zlib
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

#: Limits of the readers (``docs/certificate.md``, "What the checker promises and what it
#: refuses"): a ``.npy`` header (numpy's own limit), a ``.safetensors`` header, the values of
#: one data or model file, the members of an ``.npz``.
MAX_NPY_HEADER = 10_000
MAX_SAFETENSORS_HEADER = 1 << 20
MAX_VALUES = 1 << 27
MAX_MEMBERS = 16
#: Decimal digits per integer of a number that is a float64 in every certificate ``verify``
#: writes (``lambda``, multipliers, witnesses, network weights: at most 325 digits), and bits
#: of one common denominator of such numbers (float64 values need at most 1,075).
VALUE_DIGITS = 400
DEN_BITS = 1400
_TOKEN = re.compile(r"\s*(?:('[^'\\]*'|\"[^\"\\]*\")|(-?[0-9]{1,19})|(True|False)|([{}():,]))")


def _npy_header(text: str, name: str) -> dict[str, Any]:
    """The ``.npy`` header dictionary, parsed by a small bounded parser (no ``eval``):
    string keys; values a string, ``True``/``False`` or a tuple of non-negative integers.

    Examples
    --------
    >>> _npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", "x")
    {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}
    """
    toks: list[tuple[str, Any]] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise InputError(f"{name}: malformed .npy header")
        pos = m.end()
        st, num, bl, punct = m.groups()
        toks.append(("v", st[1:-1]) if st else ("v", int(num)) if num else
                    ("v", bl == "True") if bl else ("p", punct))
    toks.append(("p", "$"))
    i = 0

    def punct(*want: str) -> str:
        nonlocal i
        kind, v = toks[i]
        if kind != "p" or v not in want:
            raise InputError(f"{name}: malformed .npy header")
        i += 1
        return v

    def value() -> Any:
        nonlocal i
        kind, v = toks[i]
        if kind == "v":
            i += 1
            return v
        punct("(")
        out: list[int] = []
        while toks[i] != ("p", ")"):
            kind, v = toks[i]
            if kind != "v" or type(v) is not int or v < 0:
                raise InputError(f"{name}: malformed .npy shape")
            out.append(v)
            i += 1
            if punct(",", ")") == ")":
                if len(out) == 1:  # "(5)" is not a tuple
                    raise InputError(f"{name}: malformed .npy shape")
                return tuple(out)
        i += 1
        return tuple(out)

    punct("{")
    header: dict[str, Any] = {}
    while toks[i] != ("p", "}"):
        kind, key = toks[i]
        if kind != "v" or type(key) is not str or key in header:
            raise InputError(f"{name}: malformed .npy header")
        i += 1
        punct(":")
        header[key] = value()
        if punct(",", "}") == "}":
            i -= 1
    punct("}")
    punct("$")
    return header


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


def _no_empty_dimension(shape: tuple[int, ...], name: str) -> None:
    """Refuse a shape with a zero dimension: no data or model is empty, and a shape such as
    ``(10**18, 0)`` has an empty body that passes every size check while its rows would be
    built one by one."""
    if any(type(s) is int and s == 0 for s in shape):
        raise InputError(f"{name}: array of shape {shape} is empty")


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
    elif major in (2, 3) and len(raw) >= 12:
        (hlen,) = struct.unpack("<I", raw[8:12])
        start = 12
    else:
        raise InputError(f"{name}: unsupported .npy version {major}")
    if hlen > MAX_NPY_HEADER or start + hlen > len(raw):
        raise InputError(f"{name}: malformed .npy header (longer than {MAX_NPY_HEADER} bytes "
                         "or than the array)")
    header = _npy_header(raw[start : start + hlen].decode("latin1"), name)
    if set(header) != {"descr", "fortran_order", "shape"}:
        raise InputError(f"{name}: malformed .npy header")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if fortran not in (False, True) or type(fortran) is not bool:
        raise InputError(f"{name}: malformed .npy header (fortran_order {fortran!r})")
    if not isinstance(shape, tuple) or len(shape) > 32:
        raise InputError(f"{name}: malformed .npy shape {shape!r}")
    _no_empty_dimension(shape, name)
    body = raw[start + hlen :]
    count = _prod(shape)
    if isinstance(descr, str) and descr.startswith("<U") and descr[2:].isdigit() \
            and len(descr) < 9:
        width = int(descr[2:])
        if len(body) != 4 * width * count:
            raise InputError(f"{name}: .npy data size does not match its shape")
        try:
            vals = [body[4 * width * i : 4 * width * (i + 1)].decode("utf-32-le").rstrip("\x00")
                    for i in range(count)]
        except UnicodeDecodeError:
            raise InputError(f"{name}: .npy strings are not valid UTF-32") from None
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


def read_file(path: str | Path, max_bytes: int, name: str | None = None) -> bytes:
    """The bytes of a regular, nonempty file of at most ``max_bytes`` bytes, read once with
    that cap (an empty or special file such as ``/proc/self/mem`` is refused unread)."""
    name = str(path) if name is None else name
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever;
        # the fstat below refuses it (and any other special file) before a byte is read
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InputError(f"{name}: not a regular file")
            if st.st_size == 0:
                raise InputError(f"{name}: empty file")
            if st.st_size > max_bytes:
                raise InputError(f"{name}: {st.st_size} bytes, more than the {max_bytes} this "
                                 "check needs")
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc.__class__.__name__})"
                         ) from None
    if len(raw) > max_bytes:
        raise InputError(f"{name}: more than the {max_bytes} bytes this check needs")
    return raw


_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def read_npz(path: str | Path, max_values: int = MAX_VALUES
             ) -> dict[str, tuple[tuple[int, ...], list[Any]]]:
    """All arrays of a ``.npz`` file (no pickles: object arrays are rejected), reading at most
    ``max_values`` 8-byte values in all: each member's announced size is checked before it is
    expanded, and it is read by a stream that stops at that size."""
    name = str(path)
    budget = 8 * min(max_values, MAX_VALUES) + MAX_MEMBERS * (MAX_NPY_HEADER + 12)
    raw = read_file(path, budget, name)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            out = {}
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise InputError(f"{name}: more than {MAX_MEMBERS} members")
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise InputError(f"{name}: unexpected member {info.filename!r}")
                key = info.filename[:-4]
                if info.flag_bits & 1 or info.compress_type not in _ZIP_METHODS:
                    raise InputError(f"{name}[{key}]: encrypted or unknown compression method")
                if info.file_size > budget:
                    raise InputError(f"{name}[{key}]: announces {info.file_size} bytes, more "
                                     "than this check needs")
                budget -= info.file_size
                with zf.open(info) as fh:
                    data = fh.read(info.file_size + 1)
                if len(data) != info.file_size:
                    raise InputError(f"{name}[{key}]: size differs from the announced one")
                out[key] = read_npy(data, f"{name}[{key}]")
            return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError,
            OSError, NotImplementedError, RuntimeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{name}: not a readable .npz file ({exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def load_json(raw: bytes | str, name: str) -> Any:
    """Strict JSON: a duplicate key, ``NaN``/``Infinity``, a non-finite number or an integer
    of more than 30 digits make the file malformed (:class:`InputError`)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for k, _ in items:
                if k in seen:
                    raise InputError(f"{name}: malformed JSON: duplicate key {k!r}")
                seen.add(k)
        return out

    def const(text: str) -> Any:
        raise InputError(f"{name}: malformed JSON: {text} is not a number")

    def number(text: str) -> float:
        v = float(text)
        if not math.isfinite(v):
            raise InputError(f"{name}: malformed JSON: {text[:20]} is out of the float range")
        return v

    def integer(text: str) -> int:
        if len(text) > 30:
            raise InputError(f"{name}: malformed JSON: an integer of {len(text)} digits")
        return int(text)

    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=pairs, parse_constant=const,
                          parse_float=number, parse_int=integer)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "nested too deeply"
        raise InputError(f"{name}: not valid JSON ({exc.__class__.__name__}: {first})"
                         ) from None


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


def _text_bytes(max_values: int) -> int:
    """Bytes a text (JSON, CSV) file of ``max_values`` numbers may take: 64 per value."""
    return 64 * min(max_values, MAX_VALUES) + (1 << 20)


def read_data(
    path: str | Path, *, bias: bool = False, max_values: int = MAX_VALUES
) -> tuple[list[list[float]], list[Any], list[list[int]]]:
    """Read ``.json``, ``.csv`` or ``.npz`` data: returns ``(X, classes, Y)``.

    ``X`` gets a constant last column 1.0 when ``bias`` is true.  At most ``max_values``
    numbers are read (64 bytes each in a text file): a larger file is refused unread.
    """
    p = Path(path)
    name = str(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        obj = load_json(read_file(p, _text_bytes(max_values), name), name)
        if isinstance(obj, dict) and "format" in obj:
            raise InputError(f"{name}: a certificate, not a data file")
        if not isinstance(obj, dict) or "X" not in obj or "y" not in obj:
            raise InputError(f'{name}: expected a JSON object {{"X": [[...]], "y": [...]}}')
        X, y = _finite_matrix(obj["X"], name), obj["y"]
        if not isinstance(y, list):
            raise InputError(f"{name}: y must be a list of labels")
        if y and all(isinstance(v, list) and len(v) == 1 for v in y):
            y = [v[0] for v in y]  # a column of labels, as numpy reshapes (N, 1)
    elif suffix == ".csv":
        X, y = _read_csv(read_file(p, _text_bytes(max_values), name), name)
    elif suffix == ".npz":
        arrays = read_npz(p, max_values)
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


def _read_csv(raw: bytes, name: str) -> tuple[list[list[float]], list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not a UTF-8 text file ({exc})") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(f"{name}: malformed CSV ({exc})") from None
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


def _read_safetensors(p: Path, name: str, max_values: int
                      ) -> tuple[dict[str, tuple[tuple[int, ...], list]], dict]:
    raw = read_file(p, 8 + MAX_SAFETENSORS_HEADER + 8 * min(max_values, MAX_VALUES), name)
    if len(raw) < 8:
        raise InputError(f"{name}: truncated safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_SAFETENSORS_HEADER or 8 + n > len(raw):
        raise InputError(f"{name}: truncated or oversized safetensors header")
    header = load_json(raw[8 : 8 + n], f"{name} (safetensors header)")
    if not isinstance(header, dict):
        raise InputError(f"{name}: malformed safetensors header")
    meta = header.pop("__metadata__", {}) or {}
    if not isinstance(meta, dict):
        raise InputError(f"{name}: malformed safetensors metadata")
    buf = raw[8 + n :]
    out = {}
    for key, spec in header.items():
        try:
            dtype, shape, (b, e) = spec["dtype"], tuple(spec["shape"]), spec["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{name}: malformed safetensors entry {key!r}") from None
        if not all(type(v) is int and v >= 0 for v in (*shape, b, e)) or len(shape) > 32:
            raise InputError(f"{name}: tensor {key!r}: shape and offsets must be integers >= 0")
        code, size = {"F64": ("d", 8), "F32": ("f", 4)}.get(dtype, (None, 0))
        if code is None:
            raise InputError(f"{name}: tensor {key!r} has dtype {dtype}; the checker reads F64/F32")
        _no_empty_dimension(shape, f"{name}: tensor {key!r}")
        count = _prod(shape)
        if not (0 <= b <= e <= len(buf)) or e - b != size * count:
            raise InputError(f"{name}: tensor {key!r} has inconsistent offsets")
        out[key] = (shape, list(struct.unpack(f"<{count}{code}", buf[b:e])))
    return out, meta


def read_model(path: str | Path, max_values: int = MAX_VALUES
               ) -> tuple[Any, tuple[int, ...], Any, tuple[int, ...], bool]:
    """Read ``W1``/``w2`` from ``.npz`` or ``.safetensors``: ``(W1, shape, w2, shape, bias)``.

    ``W1`` and ``w2`` are nested lists of floats (``(d, m)``/``(m,)`` or ``(K, d, m)``/``(K, m)``);
    at most ``max_values`` values are read.
    """
    p = Path(path)
    name = str(path)
    suffix = p.suffix.lower()
    bias = False
    if suffix == ".npz":
        arrays = read_npz(p, max_values)
        if "bias_feature" in arrays:
            bshape, bflat = arrays.pop("bias_feature")
            if bshape != () or len(bflat) != 1:
                raise InputError(f"{name}: 'bias_feature' must be a 0-d boolean")
            bias = bool(bflat[0])
    elif suffix == ".safetensors":
        arrays, meta = _read_safetensors(p, name, max_values)
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


def parse_nd(text: Any, where: str, digits: int = VALUE_DIGITS) -> tuple[int, int]:
    """``(numerator, denominator > 0)`` of a rational string (not reduced): exactly the
    language of :func:`verify.checker.arithmetic.parse_rational`, without building a ``Fraction``.

    Examples
    --------
    >>> parse_nd("-6/4", "x"), parse_nd("7", "x")
    ((-6, 4), (7, 1))
    """
    if type(text) is str:
        num, sep, den = text.partition("/")
        if len(num) > digits + 1 or len(den) > digits:
            raise InputError(f"malformed certificate: {where}: more than {digits} digits")
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
            if D.bit_length() > DEN_BITS:
                raise InputError(f"malformed certificate: a common denominator of more than "
                                 f"{DEN_BITS} bits")
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
        if _INTS.fullmatch(",".join(wit)) and max(map(len, wit)) <= VALUE_DIGITS:
            return list(map(int, wit))
    except (TypeError, ValueError):
        pass  # not all strings, or more digits than int() converts: the exact route says why
    return common_denominator([parse_nd(t, where) for t in wit])[0]
