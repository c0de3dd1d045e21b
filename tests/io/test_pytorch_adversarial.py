"""The torch-free .pt reader against a second adversarial review (issue 10, item 13):
pickles that name one object many times (memo references: each dict and tensor is converted
once, so the cost is the file's size, not the size of the tree it unfolds to), and BUILD on
the reader's own objects (a storage's element count rewritten: out-of-bounds reads)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import torch_format as tf  # noqa: E402

from verify.errors import InputError  # noqa: E402
from verify.io.pytorch import read_torch  # noqa: E402


def _su(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _dag(fan: int, depth: int) -> bytes:
    """``depth`` levels of dicts, each with ``fan`` keys all naming the level below (memo)."""
    out = bytearray(b"\x80\x02}q\x00")
    for lvl in range(depth):
        out += b"}(" + b"".join(_su(f"k{k}") + b"h" + bytes([lvl]) for k in range(fan))
        out += b"uq" + bytes([lvl + 1])
    return bytes(out + b".")


def _shared_tensor(nkeys: int, numel: int) -> bytes:
    """``{k_i: T}`` for ``nkeys`` keys, ``T`` one float32 tensor of ``numel`` elements."""
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nq\x00"
            b"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nq\x01" + _su("0") + _su("cpu")
            + b"J" + struct.pack("<i", numel) + b"tQK\x00J" + struct.pack("<i", numel)
            + b"\x85K\x01\x85\x89ccollections\nOrderedDict\nq\x02)RtRq\x03}("
            + b"".join(_su(f"k{k}") + b"h\x03" for k in range(nkeys)) + b"u.")


def _pt(tmp_path: Path, pkl: bytes, storages: dict[str, bytes] | None = None) -> Path:
    recs = [("data.pkl", pkl), ("byteorder", b"little")]
    recs += [(f"data/{k}", v) for k, v in sorted((storages or {}).items())]
    p = tmp_path / "m.pt"
    p.write_bytes(tf.zip_records("m", recs + [("version", b"3\n")]))
    return p


def test_dicts_sharing_their_children_are_converted_once(tmp_path):
    """A 2 KB pickle of 7 levels of 20 keys each unfolded to 20^7 = 1.3e9 dict entries
    (the old reader: 10 keys, 6 levels took 1.4 s and 117 MB; every level x10)."""
    got = read_torch(_pt(tmp_path, _dag(3, 3)), "m.pt")
    assert got["k0"] is got["k2"] and got["k1"]["k0"] is got["k2"]["k1"]
    got = read_torch(_pt(tmp_path, _dag(20, 7)), "m.pt")
    assert len(got) == 20 and got["k19"]["k0"]["k5"] is got["k0"]["k1"]["k2"]


def test_one_tensor_under_many_keys_is_widened_once(tmp_path):
    """One float32 tensor named under 30,000 keys (a 0.8 MB file) was widened to float64
    once per key: 24 GB (3,000 keys: 2.3 GB and 12 s)."""
    data = np.arange(1000, dtype=np.float32).tobytes()
    got = read_torch(_pt(tmp_path, _shared_tensor(1000, 1000), {"0": data}), "m.pt")
    assert got["k0"] is got["k999"] and got["k0"].dtype == np.float64
    assert got["k0"].tolist() == list(range(1000))


def test_a_dict_that_contains_itself_is_refused(tmp_path):
    pkl = b"\x80\x02}q\x00X\x01\x00\x00\x00ah\x00s."  # d = {}; d["a"] = d
    with pytest.raises(InputError, match="contains itself|nested more than"):
        read_torch(_pt(tmp_path, pkl), "m.pt")


@pytest.mark.parametrize("target", ["storage", "storage-type"])
def test_build_cannot_rewrite_a_storage(tmp_path, target):
    """BUILD (``obj.__dict__.update(state)``) on the storage of a persistent id set its
    ``numel`` to 1,000 over a 16-byte buffer: the view then read the process's memory (values
    of the heap in the weights; 10^8: a segmentation fault).
    On the storage type marker it rewrote the (frozen) name."""
    if target == "storage":
        build = b"tQ}" + _su("numel") + b"J" + struct.pack("<i", 1000) + b"sb"
    else:
        build = b"}" + _su("name") + _su("DoubleStorage") + b"sb" + b"tQ"
    head, _, _ = build.partition(b"tQ")
    pkl = (b"\x80\x02ccollections\nOrderedDict\n)R" + _su("w")
           + b"ctorch._utils\n_rebuild_tensor_v2\n("
           b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
           + (head if target == "storage-type" else b"") + _su("0") + _su("cpu") + b"K\x04"
           + (build if target == "storage" else b"tQ")
           + b"K\x00J" + struct.pack("<i", 1000 if target == "storage" else 4)
           + b"\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs.")
    with pytest.raises(InputError, match="sets attributes on a"):
        read_torch(_pt(tmp_path, pkl, {"0": b"\0" * 16}), "m.pt")
