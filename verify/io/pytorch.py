r"""PyTorch files: read a ``state_dict`` without torch, write one with torch (optional).

Reading needs no torch.  A file written by ``torch.save`` (torch 1.6 and later) is a zip
archive: ``<folder>/data.pkl`` (the object, pickled), ``<folder>/data/<key>`` (the raw bytes
of each tensor storage), ``<folder>/version`` and ``<folder>/byteorder``.  :func:`read_torch`
opens it with bounds checked against the archive's members before anything is read, and
unpickles ``data.pkl`` with :class:`StateDictUnpickler`, which admits only what
``torch.load(weights_only=True)`` admits for a ``state_dict``:

* ``collections.OrderedDict`` (with its ``_metadata`` attribute, which is ignored);
* ``torch._utils._rebuild_tensor_v2`` (and ``_rebuild_parameter`` /
  ``_rebuild_parameter_with_state``), implemented here on numpy arrays: the storage must
  hold the view (offset, sizes and strides checked, no view with more elements than its
  storage);
* the storage types ``torch.DoubleStorage``, ``FloatStorage``, ``HalfStorage``,
  ``BFloat16Storage``, ``LongStorage``, ``IntStorage``, ``ShortStorage``, ``CharStorage``,
  ``ByteStorage`` and ``BoolStorage``, through the persistent id ``("storage", type, key,
  location, numel)``; the member ``data/<key>`` must hold exactly ``numel`` elements.

Any other global (``os.system``, ``builtins.eval``, a pickled ``nn.Module``, ...) is refused
by name before it is looked up, so no code from the file runs; the opcodes are checked first
(a whitelist, memo indices bounded by the pickle's own size).  Legacy files (the pickle
format of torch < 1.6 or ``_use_new_zipfile_serialization=False``) and TorchScript archives
are refused with a hint.  Every refusal is one :class:`~verify.errors.InputError` line.
An object the pickle names many times (memo references: dicts sharing their children, one
tensor under many keys) is converted once, so reading costs the file's size; a dict that
contains itself is refused.

Writing produces the ``state_dict`` of ``Linear(d, m, bias=False) -> ReLU -> Linear(m, 1,
bias=False)`` with torch (the optional ``torch`` extra).  :mod:`verify.io.models` maps these
to and from ``W1``/``w2``.

Examples
--------
>>> one_line("torch says:\n\tsomething  long", width=20)
'torch says: somethi…'
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import re
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError

__all__ = [
    "TORCH_HINT",
    "StateDictUnpickler",
    "read_torch",
    "one_line",
    "torch_state_dict_bytes",
]

#: The torch-missing hint (verify is installed from its source folder, not from PyPI).
TORCH_HINT = "pip install torch, or pip install -e '.[torch]' in the verify source folder"

#: Bounds checked before anything is expanded.
MAX_PICKLE_BYTES = 16 * 2**20
MAX_MEMBERS = 100_000
MAX_NDIM = 16
MAX_DEPTH = 8
MAX_VIEWS_PER_STORAGE = 4

#: torch storage type -> (numpy dtype, bytes per element); ``bf16`` is converted by hand.
STORAGE_DTYPES: dict[str, tuple[str, int]] = {
    "DoubleStorage": ("f8", 8),
    "FloatStorage": ("f4", 4),
    "HalfStorage": ("f2", 2),
    "BFloat16Storage": ("bf16", 2),
    "LongStorage": ("i8", 8),
    "IntStorage": ("i4", 4),
    "ShortStorage": ("i2", 2),
    "CharStorage": ("i1", 1),
    "ByteStorage": ("u1", 1),
    "BoolStorage": ("?", 1),
}

_LEGACY_MAGIC = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[2:]  # torch < 1.6

_OPCODES = frozenset(
    """PROTO FRAME GLOBAL STACK_GLOBAL BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET MARK
    EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST APPEND APPENDS EMPTY_DICT SETITEM
    SETITEMS BINUNICODE SHORT_BINUNICODE BININT BININT1 BININT2 LONG1 BINFLOAT NONE NEWTRUE
    NEWFALSE REDUCE BUILD BINPERSID STOP""".split()
)


def read_torch(p: Path, name: str) -> Mapping[str, Any]:
    """The ``state_dict`` in the PyTorch file ``p`` with every tensor as a numpy array
    (floating tensors widened exactly to float64); ``name`` is the file as the user wrote it.

    No torch is needed and no code from the file is run (see the module docstring).

    Raises
    ------
    InputError
        The file is not a ``torch.save`` zip archive, is damaged or truncated, or pickles
        anything but tensors, storages and (ordered) dicts; one line naming the file.

    Examples
    --------
    >>> import os, tempfile
    >>> p = Path(tempfile.mkdtemp()) / "m.pt"
    >>> _ = p.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    >>> read_torch(p, "m.pt")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: m.pt: a bare pickle, not a torch.save zip archive; ...
    """
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(max(8, len(_LEGACY_MAGIC) + 2))
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(b"\x80") and head[2:].startswith(_LEGACY_MAGIC):
        raise InputError(
            f"{name}: the legacy PyTorch format (torch < 1.6 or "
            "_use_new_zipfile_serialization=False) is not read; re-save it with a current "
            "torch.save, or save the weights as .safetensors or .npz"
        )
    if head.startswith(b"\x80"):
        raise InputError(
            f"{name}: a bare pickle, not a torch.save zip archive; only state_dicts saved "
            "with torch.save (torch >= 1.6) are read"
        )
    if not head.startswith(b"PK\x03\x04"):
        raise InputError(f"{name}: not a PyTorch file (not a torch.save zip archive)")
    try:
        with zipfile.ZipFile(p) as zf:
            archive = _Archive(zf, size, name)
            pkl = archive.read("data.pkl", limit=MAX_PICKLE_BYTES)
            _check_opcodes(pkl, name)
            obj = StateDictUnpickler(io.BytesIO(pkl), archive).load()
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(f"{name}: ") else f"{name}: {msg}") from None
    except RecursionError:
        raise InputError(f"{name}: data.pkl is nested too deeply for a state_dict") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise InputError(f"{name}: not a readable PyTorch zip archive ({_exc(exc)})") from None
    except Exception as exc:  # the unpickler's own errors: wrong arguments, bad opcodes
        raise InputError(f"{name}: not a readable PyTorch state_dict ({_exc(exc)})") from None
    return _to_numpy(obj, name, 0)


def _exc(exc: BaseException) -> str:
    text = one_line(shown(str(exc)), width=100)
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def shown(text: str, width: int = 80) -> str:
    r"""``text`` from a file made safe to print: control characters escaped, cut to ``width``.

    Examples
    --------
    >>> shown("os\x1b[2Jsystem")
    'os\\x1b[2Jsystem'
    """
    out = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[: width + 1])
    return out if len(out) <= width else out[: width - 1] + "…"


class _Archive:
    """The members of a ``torch.save`` zip archive, checked before any is read."""

    def __init__(self, zf: zipfile.ZipFile, size: int, name: str):
        self.zf, self.name = zf, name
        infos = zf.infolist()
        if not infos:
            raise InputError(f"{name}: an empty zip archive, not a PyTorch file")
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"{name}: {len(infos)} zip members; a state_dict has far fewer")
        folder, slash, _ = infos[0].filename.partition("/")
        if not slash:
            raise InputError(f"{name}: not a torch.save archive (its first member "
                             f"{shown(infos[0].filename)!r} is not in a folder)")
        self.records: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            rest = info.filename[len(folder) + 1:]
            if not info.filename.startswith(folder + "/") or not rest:
                raise InputError(f"{name}: zip member {shown(info.filename)!r} is outside the "
                                 f"archive folder {shown(folder)!r}")
            if rest in self.records:
                raise InputError(f"{name}: zip member {shown(info.filename)!r} appears twice")
            if info.flag_bits & 0x1:
                raise InputError(f"{name}: zip member {shown(info.filename)!r} is encrypted")
            if info.compress_type != zipfile.ZIP_STORED:
                raise InputError(
                    f"{name}: zip member {shown(info.filename)!r} is compressed (method "
                    f"{info.compress_type}); torch.save stores members uncompressed"
                )
            if info.file_size != info.compress_size or info.header_offset + info.file_size > size:
                raise InputError(f"{name}: zip member {shown(info.filename)!r} claims "
                                 f"{info.file_size} bytes that the file does not hold")
            self.records[rest] = info
        if "data.pkl" not in self.records:
            if "constants.pkl" in self.records or any(r.startswith("code/") for r in self.records):
                raise InputError(f"{name}: a TorchScript archive (torch.jit.save), not a "
                                 "state_dict; save model.state_dict() with torch.save")
            raise InputError(f"{name}: not a torch.save archive (no {shown(folder)}/data.pkl)")
        version = self.records.get(".data/version") or self.records.get("version")
        if version is None:
            raise InputError(f"{name}: not a torch.save archive (no version record)")
        text = self.read(version.filename[len(folder) + 1:], limit=32).strip()
        if not text.isdigit() or int(text) < 1:
            raise InputError(f"{name}: the version record {shown(text.decode('latin-1'))!r} "
                             "is not a positive integer")
        order = b"little"
        if "byteorder" in self.records:
            order = self.read("byteorder", limit=16)
            if order not in (b"little", b"big"):
                raise InputError(f"{name}: the byteorder record "
                                 f"{shown(order.decode('latin-1'))!r} is neither little nor big")
        self.byteorder = "<" if order == b"little" else ">"

    def read(self, record: str, *, limit: int) -> bytes:
        info = self.records.get(record)
        if info is None:
            raise InputError(f"{self.name}: the archive has no record {shown(record)!r}")
        if info.file_size > limit:
            raise InputError(f"{self.name}: record {shown(record)!r} has {info.file_size} "
                             f"bytes, more than the {limit} allowed")
        data = self.zf.read(info)
        if len(data) != info.file_size:  # zipfile checks the CRC; this is belt and braces
            raise InputError(f"{self.name}: record {shown(record)!r} is truncated")
        return data


_GLOBALS = frozenset({
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    *(("torch", n) for n in STORAGE_DTYPES),
})


def _check_global(module: str, name: str) -> None:
    """Refuse, by name, every global but those of a state_dict (nothing is imported)."""
    if (module, name) in _GLOBALS:
        return
    what = shown(f"{module}.{name}")
    if module.startswith("torch.nn."):
        raise InputError(f"a pickled model object ({what}), not a state_dict; "
                         "save model.state_dict()")
    raise InputError(f"data.pkl pickles {what}, which a state_dict never holds; refused "
                     "(nothing from the file was run)")


def _check_opcodes(pkl: bytes, name: str) -> None:
    """Refuse opcodes a state_dict never needs, and memo indices beyond the pickle's size
    (the C unpickler would allocate a memo table of that length)."""
    puts = 0
    try:
        for op, arg, _pos in pickletools.genops(pkl):
            if op.name == "GLOBAL":  # in file order: a pickled module is named first
                _check_global(*str(arg).split(" ", 1))
            if op.name not in _OPCODES:
                raise InputError(f"{name}: data.pkl uses the pickle opcode {op.name}, which a "
                                 "state_dict never needs; refused")
            if op.name in ("BINPUT", "LONG_BINPUT", "MEMOIZE"):
                idx = puts if op.name == "MEMOIZE" else arg
                if idx > puts:
                    raise InputError(f"{name}: data.pkl stores memo entry {idx} out of order")
                puts = max(puts, idx + 1)
            elif op.name in ("BINGET", "LONG_BINGET") and arg >= puts:
                raise InputError(f"{name}: data.pkl reads memo entry {arg} before storing it")
    except InputError:
        raise
    except Exception as exc:  # truncated or malformed opcodes (genops runs no code)
        raise InputError(f"{name}: data.pkl is not a valid pickle ({_exc(exc)})") from None


@dataclass(frozen=True)
class _StorageType:
    """What ``torch.<name>Storage`` unpickles to: a marker, not callable."""

    name: str

    def __setstate__(self, state: Any) -> None:  # BUILD would rewrite the frozen fields
        raise InputError("data.pkl sets attributes on a storage type")


class _Storage:
    def __init__(self, stype: _StorageType, key: str, numel: int, array: np.ndarray):
        self.stype, self.key, self.numel, self.array = stype, key, numel, array

    def __setstate__(self, state: Any) -> None:
        """BUILD on a storage: refused (it would rewrite ``numel`` and let a view read
        past the storage's buffer, out of the process's memory)."""
        raise InputError("data.pkl sets attributes on a tensor storage")


class _Tensor:
    """A rebuilt tensor: a numpy array (a copy, in the tensor's shape)."""

    def __init__(self, array: np.ndarray):
        self.array = array

    def __setstate__(self, state):  # BUILD on a tensor: only torch's empty state
        if state:
            raise InputError("data.pkl sets attributes on a tensor")


class _StateDict(OrderedDict):
    """What ``collections.OrderedDict`` unpickles to; BUILD may set ``_metadata`` only."""

    def __setstate__(self, state):
        if state is None:
            return
        if not isinstance(state, dict) or not all(k == "_metadata" for k in state):
            raise InputError("data.pkl sets attributes other than _metadata on an OrderedDict")


class StateDictUnpickler(pickle.Unpickler):
    r"""The restricted unpickler of ``data.pkl`` (see the module docstring).

    ``archive`` supplies the storages (``read(record, limit=...)`` and ``byteorder``).

    Examples
    --------
    >>> import io, pickle
    >>> evil = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R."
    >>> StateDictUnpickler(io.BytesIO(evil), None).load()
    Traceback (most recent call last):
    ...
    verify.errors.InputError: data.pkl pickles os.system, which a state_dict never holds; ...
    """

    def __init__(self, file, archive: _Archive | None):
        super().__init__(file)
        self.archive = archive
        self.storages: dict[str, _Storage] = {}
        self.copied = 0  # elements in the tensors rebuilt so far

    def find_class(self, module: str, name: str) -> Any:
        _check_global(module, name)
        key = (module, name)
        if key == ("collections", "OrderedDict"):
            return _StateDict
        if key == ("torch._utils", "_rebuild_tensor_v2"):
            return self.rebuild_tensor
        if key == ("torch._utils", "_rebuild_parameter"):
            return self.rebuild_parameter
        if key == ("torch._utils", "_rebuild_parameter_with_state"):
            return self.rebuild_parameter_with_state
        return _StorageType(name)

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise InputError("data.pkl has a persistent id that is not a tensor storage")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise InputError("data.pkl has a storage whose type is not a torch storage type")
        if not isinstance(key, str) or not isinstance(location, str):
            raise InputError("data.pkl has a storage whose key or location is not a string")
        if type(numel) is not int or numel < 0:
            raise InputError(f"data.pkl has storage {shown(key)!r} with element count "
                             f"{shown(repr(numel))}")
        known = self.storages.get(key)
        if known is not None:
            if known.stype != stype or known.numel != numel:
                raise InputError(f"data.pkl uses storage {shown(key)!r} with two types or sizes")
            return known
        if self.archive is None:
            raise InputError("data.pkl refers to a storage but there is no archive")
        dtype, itemsize = STORAGE_DTYPES[stype.name]
        record = f"data/{key}"
        info = self.archive.records.get(record)
        if info is None:
            raise InputError(f"storage {shown(record)!r} is missing from the archive")
        if info.file_size != numel * itemsize:
            raise InputError(
                f"storage {shown(record)!r} holds {info.file_size} bytes, but {numel} elements "
                f"of torch.{stype.name} need {numel * itemsize} (truncated or wrong dtype)"
            )
        raw = self.archive.read(record, limit=info.file_size)
        order = self.archive.byteorder
        if dtype == "bf16":  # the top half of a float32
            half = np.frombuffer(raw, dtype=order + "u2").astype(np.uint32)
            array = (half << 16).view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder(order))
        storage = _Storage(stype, key, numel, array.astype(array.dtype.newbyteorder("=")))
        self.storages[key] = storage
        return storage

    def rebuild_tensor(self, storage, storage_offset, size, stride, requires_grad,
                       backward_hooks, metadata=None) -> _Tensor:
        """``torch._utils._rebuild_tensor_v2`` on a numpy storage, every argument checked.

        Each tensor is a copy; all of them together may hold at most
        :data:`MAX_VIEWS_PER_STORAGE` times the elements of the storages read (tied weights
        view a storage twice; a file that views one storage thousands of times is refused
        before it is expanded)."""
        if not isinstance(storage, _Storage):
            raise InputError("_rebuild_tensor_v2 is called without a storage")
        ints = (storage_offset, *size, *stride) if isinstance(size, tuple) and isinstance(
            stride, tuple) else None
        if ints is None or not all(type(v) is int and v >= 0 for v in ints):
            raise InputError("_rebuild_tensor_v2: offset, size and stride must be tuples of "
                             "non-negative integers")
        if len(size) != len(stride) or len(size) > MAX_NDIM:
            raise InputError(f"_rebuild_tensor_v2: size {shown(repr(size))} and stride "
                             f"{shown(repr(stride))} do not match")
        if not isinstance(requires_grad, bool) or not isinstance(backward_hooks, Mapping):
            raise InputError("_rebuild_tensor_v2: unexpected requires_grad or backward_hooks")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InputError("_rebuild_tensor_v2: unexpected metadata")
        count = math.prod(size)
        if count:
            last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= storage.numel or count > storage.numel:
                raise InputError(
                    f"tensor of size {shown(repr(size))} (stride {shown(repr(stride))}, offset "
                    f"{storage_offset}) does not fit its storage of {storage.numel} elements"
                )
            self.copied += count
            budget = MAX_VIEWS_PER_STORAGE * sum(st.numel for st in self.storages.values())
            if self.copied > budget:
                raise InputError(f"data.pkl views its storages more than "
                                 f"{MAX_VIEWS_PER_STORAGE} times over; not a state_dict")
            flat = storage.array
            if not (isinstance(flat, np.ndarray) and flat.ndim == 1
                    and flat.size == storage.numel):  # as_strided trusts the bounds above
                raise InputError("data.pkl: a storage whose size is not its element count")
            view = np.lib.stride_tricks.as_strided(
                flat[storage_offset:], shape=size,
                strides=tuple(s * flat.itemsize for s in stride), writeable=False)
            return _Tensor(np.array(view))
        return _Tensor(np.zeros(size, dtype=storage.array.dtype))

    @staticmethod
    def rebuild_parameter(data, requires_grad, backward_hooks) -> _Tensor:
        """``torch._utils._rebuild_parameter``: the parameter's tensor."""
        if not isinstance(data, _Tensor):
            raise InputError("_rebuild_parameter is called without a tensor")
        return data

    @staticmethod
    def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state) -> _Tensor:
        """``torch._utils._rebuild_parameter_with_state``: the tensor, the state ignored."""
        return StateDictUnpickler.rebuild_parameter(data, requires_grad, backward_hooks)


def _to_numpy(obj: Any, name: str, depth: int, memo: dict[int, Any] | None = None) -> Any:
    """The unpickled object with numpy arrays for tensors.  A pickle can name one dict or
    tensor many times (memo references): each is converted once (``memo``, by identity), so
    a 1 KB file of dicts sharing their children, or of one tensor under 10^5 keys, costs
    its own size, not the size of the tree it unfolds to."""
    memo = {} if memo is None else memo
    if isinstance(obj, (_Tensor, Mapping)) and id(obj) in memo:
        if memo[id(obj)] is None:
            raise InputError(f"{name}: a dictionary that contains itself")
        return memo[id(obj)]
    if isinstance(obj, _Tensor):
        a = obj.array
        memo[id(obj)] = out_a = a.astype(np.float64) if a.dtype.kind == "f" else a
        return out_a
    if isinstance(obj, Mapping):
        if depth >= MAX_DEPTH:
            raise InputError(f"{name}: dictionaries nested more than {MAX_DEPTH} deep")
        out: dict[str, Any] = {}
        memo[id(obj)] = None  # being converted: met again below, it is a cycle
        for k, v in obj.items():
            if not isinstance(k, str):
                raise InputError(f"{name}: a state_dict key is not a string "
                                 f"({type(k).__name__})")
            out[k] = _to_numpy(v, name, depth + 1, memo)
        memo[id(obj)] = out
        return out
    if isinstance(obj, _Storage):
        raise InputError(f"{name}: a bare storage where a tensor was expected")
    return obj


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(text: str, *, width: int = 160) -> str:
    r"""``text`` as one line: terminal escape codes removed, whitespace runs collapsed, cut.

    Examples
    --------
    >>> one_line("\x1b[1mbold\x1b[0m.\n\t(1) more", width=12)
    'bold. (1) m…'
    """
    flat = " ".join(_ANSI.sub("", text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def torch_state_dict_bytes(
    A: np.ndarray, b: np.ndarray, bias_feature: bool, name: str
) -> bytes:
    """The state_dict of ``Linear(d, m, bias=False) -> ReLU -> Linear(m, 1, bias=False)``.

    A first-layer bias (the last row of ``W1`` when ``bias_feature``) becomes ``0.bias`` of a
    ``Linear(d - 1, m)``, exactly as :func:`weights_from_state_dict` reads it back.
    """
    try:
        import torch
    except ImportError:
        raise InputError(
            f"{name}: saving a PyTorch state_dict needs torch ({TORCH_HINT})"
        ) from None
    if A.ndim != 2:
        raise InputError(f"{name}: a PyTorch state_dict holds one output; this model has "
                         f"{A.shape[0]} classes (save it as .npz or .safetensors)")
    sd = {"0.weight": torch.from_numpy(np.array(A[:-1].T if bias_feature else A.T, order="C")),
          "2.weight": torch.from_numpy(b[None, :].copy())}
    if bias_feature:
        sd["0.bias"] = torch.from_numpy(A[-1].copy())
    bio = io.BytesIO()
    torch.save(sd, bio)
    return bio.getvalue()
