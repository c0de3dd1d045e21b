r"""Write PyTorch ``state_dict`` files byte for byte as ``torch.save`` does, without torch.

CI has no torch, yet the torch-free reader :func:`verify.io.pytorch.read_torch` must be tested
on the real format.  This script mirrors what ``torch.save(obj, "name.pt")`` writes in
**torch 2.2 on Linux x86-64** (``torch/serialization.py:_save`` and
``caffe2/serialize/inline_container.cc:PyTorchStreamWriter`` with its bundled miniz).  It
was checked against files written by torch itself, the ``.pt`` fixtures of
huggingface/candle (``candle-core/tests/test.pt``, ``test_with_key.pt``,
``fortran_tensor_3d.pth``, torch of February 2024): every byte is equal except the first
20 digits of the ``serialization_id`` record (and that record's CRC).  Those digits hash the
record names with the C++ standard library's ``std::hash``, which differs between platforms
(the candle files were not written with libstdc++); here they are computed as libstdc++
on x86-64 Linux does, which was checked against ``std::unordered_set``/``std::hash``
compiled with g++ 12.  torch's reader does not interpret the id.

Run it from the repository root to (re)write the fixtures::

    python tests/io/torch_format.py        # writes tests/io/data/*.pt

The format
----------
A zip archive whose members all sit in one folder named after the file (``basename`` without
its suffix: ``net.pt`` -> ``net/``), in this order:

``net/data.pkl``
    The object, pickled with protocol 2 by the C pickler; every tensor is pickled as
    ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
    backward_hooks)`` with ``backward_hooks = collections.OrderedDict()`` and ``storage``
    replaced by the persistent id ``("storage", torch.<Type>Storage, key, "cpu", numel)``
    (``key`` = ``"0"``, ``"1"``, ... in order of first use; ``BINPERSID``).
``net/byteorder``
    ``little``.
``net/data/<key>``
    The raw bytes of each storage, keys in *string* order (``"0" < "1" < "10" < "2"``).
``net/version``
    ``3\n``.
``net/.data/serialization_id``
    40 digits: a 20-digit ``c10::hash_combine`` of libstdc++'s ``std::hash`` of the record
    names (iterated in the order of a ``std::unordered_set``), then a 20-digit
    ``hash_combine`` of the records' CRC-32s in writing order.

Every member is *stored* (method 0) with general purpose flags ``0x0808`` (UTF-8 names, a
data descriptor ``PK\x07\x08`` + CRC + sizes after the data; the local header's CRC and
sizes are 0), version needed 0, DOS time and date 0, and an extra field ``FB`` + 2-byte length
+ ``Z`` padding that starts every member's data at a multiple of 64 bytes.  The central
directory repeats the entries (version made by 0, no extra field) and is followed by a
zip64 end-of-central-directory record (made by ``0x031e``, needed 45), its locator, and
the classic end-of-central-directory record.

Not mirrored: big archives (a member or offset at or above 4 GiB takes zip64 extra fields),
CUDA locations and non-contiguous layouts other than the strides given explicitly.
``tests/io/test_pytorch.py`` compares this writer with ``torch.save`` where torch is
installed, and checks that the committed fixtures are what this script writes.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import types
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: torch storage class names by numpy dtype (``torch/storage.py``'s legacy typed storages).
STORAGE_NAMES = {
    "float64": "DoubleStorage",
    "float32": "FloatStorage",
    "float16": "HalfStorage",
    "int64": "LongStorage",
    "int32": "IntStorage",
    "int16": "ShortStorage",
    "int8": "CharStorage",
    "uint8": "ByteStorage",
    "bool": "BoolStorage",
}


# --------------------------------------------------------------------------- the pickle


class Storage:
    """Stand-in for a ``TypedStorage``: one flat array, shared by the tensors that view it."""

    def __init__(self, flat: np.ndarray, storage_name: str | None = None):
        self.flat = np.ascontiguousarray(flat).ravel()
        self.storage_name = storage_name or STORAGE_NAMES[self.flat.dtype.name]


class Tensor:
    """Stand-in for a CPU ``torch.Tensor`` (a view of a :class:`Storage`)."""

    def __init__(self, storage: Storage, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    @classmethod
    def from_array(cls, a: np.ndarray) -> Tensor:
        a = np.asarray(a)
        stride = tuple(s // a.itemsize for s in a.strides) if a.ndim else ()
        if a.flags.c_contiguous:
            stride = _contiguous_stride(a.shape)
            return cls(Storage(a), 0, tuple(a.shape), stride)
        if a.flags.f_contiguous:  # what torch.from_numpy keeps: the Fortran strides
            return cls(Storage(a.T.ravel()), 0, tuple(a.shape), stride)
        raise ValueError("only C- or Fortran-contiguous arrays")

    def __reduce_ex__(self, proto):
        # torch/_tensor.py: Tensor._reduce_ex_internal, the dense CPU branch
        backward_hooks: dict = OrderedDict()
        args = (self.storage, self.offset, tuple(self.size), self.stride, False, backward_hooks)
        return (_fake_torch_utils._rebuild_tensor_v2, args)


def _contiguous_stride(shape: tuple) -> tuple:
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(int(n), 1)
    return tuple(reversed(out))


def _fake_modules() -> tuple[types.ModuleType, types.ModuleType]:
    torch_mod = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
        raise AssertionError("stand-in")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in set(STORAGE_NAMES.values()):
        setattr(torch_mod, name, type(name, (), {"__module__": "torch"}))
    torch_mod._utils = utils
    return torch_mod, utils


_fake_torch, _fake_torch_utils = _fake_modules()


@contextmanager
def _stand_in_torch():
    """Let the pickler find ``torch.FloatStorage`` & co. (it imports the module by name)."""
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = _fake_torch, _fake_torch_utils
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def pickle_with_storages(obj) -> tuple[bytes, dict[str, Storage]]:
    """``data.pkl`` and the storages by key, as ``torch/serialization.py:_save`` makes them."""
    serialized_storages: dict[str, Storage] = {}
    id_map: dict[int, str] = {}

    def persistent_id(o):
        if isinstance(o, Storage):
            storage_type = getattr(_fake_torch, o.storage_name)
            storage_key = id_map.setdefault(id(o), str(len(id_map)))
            location = _cpu_tag()
            serialized_storages[storage_key] = o
            return ("storage", storage_type, storage_key, location, o.flat.size)
        return None

    class PyTorchPickler(pickle.Pickler):
        def persistent_id(self, o):
            return persistent_id(o)

    buf = io.BytesIO()
    with _stand_in_torch():
        PyTorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue(), serialized_storages


def _cpu_tag():
    return "cpu"  # torch/serialization.py:_cpu_tag returns this one literal


def state_dict(entries: Iterable[tuple[str, np.ndarray]], modules: Iterable[str] | None = None):
    """An ``OrderedDict`` like ``nn.Module.state_dict()``: tensors plus ``_metadata``.

    ``modules`` are the submodule names (``"0"``, ``"1"``, ``"2"`` for a Sequential; ``None``:
    a plain ``OrderedDict`` without ``_metadata``); the metadata keys are made as torch makes
    them (``prefix[:-1]``).
    """
    sd = OrderedDict((k, Tensor.from_array(v)) for k, v in entries)
    if modules is not None:
        meta = OrderedDict()
        meta[""[:-1]] = dict(version=1)
        for name in modules:
            prefix = "" + str(name) + "."
            meta[prefix[:-1]] = dict(version=1)
        sd._metadata = meta
    return sd


# --------------------------------------------------------------------------- the zip


def _std_hash(b: bytes) -> int:
    """libstdc++'s ``std::hash<std::string>`` on x86-64 (``_Hash_bytes``, seed 0xc70f6907)."""
    mask = (1 << 64) - 1
    mul = (0xC6A4A793 << 32) + 0x5BD1E995

    def shift_mix(v):
        return v ^ (v >> 47)

    n = len(b)
    aligned = n & ~7
    h = (0xC70F6907 ^ (n * mul)) & mask
    for i in range(0, aligned, 8):
        h ^= (shift_mix((int.from_bytes(b[i : i + 8], "little") * mul) & mask) * mul) & mask
        h = (h * mul) & mask
    if n & 7:
        h ^= int.from_bytes(b[aligned:], "little")
        h = (h * mul) & mask
    return shift_mix((shift_mix(h) * mul) & mask)


def _hash_combine(seed: int, value: int) -> int:
    """``c10::hash_combine`` on 64-bit ``size_t``."""
    return (seed ^ ((value + 0x9E3779B9 + (seed << 6) + (seed >> 2)) & ((1 << 64) - 1)))


def _unordered_set_order(names: list[str]) -> list[str]:
    """Iteration order of a libstdc++ ``std::unordered_set<std::string>`` after inserting
    ``names`` in order: the first insertion allocates 13 buckets (``_M_need_rehash`` starts
    at 11 and ``_M_next_bkt(12)`` is 13); a new node goes in front of the nodes of its bucket,
    or at the front of the list when its bucket is empty.  Up to 13 names (one rehash)."""
    if len(names) > 13:
        raise NotImplementedError("more than 13 records would rehash the set")
    nodes: list[str] = []
    for name in names:
        b = _std_hash(name.encode()) % 13
        first = next((i for i, s in enumerate(nodes) if _std_hash(s.encode()) % 13 == b), 0)
        nodes.insert(first, name)
    return nodes


def serialization_id(names: list[str], crcs: list[int]) -> str:
    """``PyTorchStreamWriter::writeSerializationId`` (names without the folder)."""
    h = 0
    for name in _unordered_set_order(names):
        h = _hash_combine(h, _std_hash(name.encode()))
    c = 0
    for crc in crcs:
        c = _hash_combine(c, crc)
    return f"{h:020d}{c:020d}"


def zip_records(archive: str, records: list[tuple[str, bytes]]) -> bytes:
    """The archive miniz writes for ``PyTorchStreamWriter`` (see the module docstring)."""
    out = bytearray()
    central = bytearray()
    for name, data in records:
        full = f"{archive}/{name}".encode()
        offset = len(out)
        start = offset + 30 + len(full) + 4
        pad = (-start) % 64
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        crc = zlib.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, 0x0808, 0, 0, 0, 0, 0, 0,
                           len(full), len(extra))
        out += full + extra + data
        out += struct.pack("<IIII", 0x08074B50, crc, len(data), len(data))
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0, 0, 0x0808, 0, 0, 0, crc,
                               len(data), len(data), len(full), 0, 0, 0, 0, 0, offset)
        central += full
    cd_offset, n = len(out), len(records)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, len(central),
                       cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), cd_offset, 0)
    return bytes(out)


def torch_save_bytes(obj, filename: str) -> bytes:
    """What ``torch.save(obj, filename)`` writes (``obj`` built from :class:`Tensor`)."""
    pkl, storages = pickle_with_storages(obj)
    records = [("data.pkl", pkl), ("byteorder", b"little")]
    for key in sorted(storages):
        records.append((f"data/{key}", storages[key].flat.astype(
            storages[key].flat.dtype.newbyteorder("<"), copy=False).tobytes()))
    records.append(("version", b"3\n"))
    sid = serialization_id([n for n, _ in records], [zlib.crc32(d) for _, d in records])
    records.append((".data/serialization_id", sid.encode()))
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    archive = base.rsplit(".", 1)[0] if "." in base[1:] else base
    return zip_records(archive, records)


# --------------------------------------------------------------------------- the fixtures

#: Exact weights (dyadic rationals: float32 and float64 hold them exactly).
W0 = np.array([[0.5, -1.25, 2.0], [-0.75, 0.125, 1.5], [3.0, -2.5, 0.0625],
               [1.0, 0.25, -0.5]])  # Linear(3, 4).weight
B0 = np.array([0.5, -0.25, 0.0, 1.75])  # Linear(3, 4).bias
W2 = np.array([[1.0, -1.0, 0.5, -2.0]])  # Linear(4, 1).weight


def fixtures() -> dict[str, bytes]:
    """The committed fixtures, by file name."""
    seq = ("0", "1", "2")
    return {
        # nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 1, bias=False)).state_dict(), float32
        "seq_f32.pt": torch_save_bytes(state_dict(
            [("0.weight", W0.astype(np.float32)), ("0.bias", B0.astype(np.float32)),
             ("2.weight", W2.astype(np.float32))], seq), "seq_f32.pt"),
        # the same network in float64 (.double()), without the first-layer bias
        "seq_f64.pt": torch_save_bytes(state_dict(
            [("0.weight", W0), ("2.weight", W2)], seq), "seq_f64.pt"),
        # a checkpoint {"model_state_dict": ..., "epoch": 7} with a Fortran-order weight
        "checkpoint.pth": torch_save_bytes({"model_state_dict": state_dict(
            [("fc1.weight", np.asfortranarray(W0)), ("fc2.weight", W2)], ("fc1", "fc2")),
            "epoch": 7}, "checkpoint.pth"),
    }


def main(folder: str | Path = Path(__file__).parent / "data") -> None:
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    for name, raw in fixtures().items():
        (folder / name).write_bytes(raw)
        print(f"wrote {folder / name} ({len(raw)} bytes)")


if __name__ == "__main__":
    main()
