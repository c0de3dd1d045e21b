"""The binary array formats the checker reads without numpy: ``.npy``, ``.npz`` and
``.safetensors``.

An array is ``(shape, flat values in C order)``.  ``.npy`` buffers are read by a minimal strict
parser (little-endian ``<f8``, ``<f4``, ``<i8``, ``<i4``, ``|b1`` and ``<U`` strings; a bounded
header parser, no ``eval``); an ``.npz`` is a zip of them (no pickles, every member's size
checked before it is expanded); ``.safetensors`` tensors are ``F64`` or ``F32``.  No array may
have an empty dimension.
"""

from __future__ import annotations

import io
import lzma
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from verify.checker.errors import InputError
from verify.checker.files import load_json, read_file
from verify.checker.limits import MAX_MEMBERS, MAX_NPY_HEADER, MAX_SAFETENSORS_HEADER, MAX_VALUES

__all__ = ["read_npy", "read_npz"]


_NPY_TYPES = {"<f8": ("d", 8), "<f4": ("f", 4), "<i8": ("q", 8), "<i4": ("i", 4), "|b1": ("?", 1)}
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


_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def read_npz(path: str | Path, max_values: int = MAX_VALUES, *, name: str | None = None
             ) -> dict[str, tuple[tuple[int, ...], list[Any]]]:
    """All arrays of a ``.npz`` file (no pickles: object arrays are rejected), reading at most
    ``max_values`` 8-byte values in all: each member's announced size is checked before it is
    expanded, and it is read by a stream that stops at that size.  Errors name the file
    ``name`` (default ``str(path)``)."""
    name = str(path) if name is None else name
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
