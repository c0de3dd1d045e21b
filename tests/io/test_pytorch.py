"""The torch-free PyTorch reader: real torch.save fixtures, hostile pickles and archives.

The fixtures in tests/io/data/ are written by tests/io/torch_format.py, which mirrors
torch.save byte for byte (see its docstring); where torch is installed the reader is also
compared with torch.load and the generator with torch.save.
"""

from __future__ import annotations

import pickle
import struct
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import torch_format as tf  # noqa: E402

from verify.cli.main import main  # noqa: E402
from verify.errors import InputError  # noqa: E402
from verify.io.models import load_weights  # noqa: E402
from verify.io.pytorch import read_torch  # noqa: E402

DATA = Path(__file__).parent / "data"


def _pt(tmp_path, records, archive="m", name="m.pt") -> Path:
    p = tmp_path / name
    p.write_bytes(tf.zip_records(archive, records))
    return p


def _std_records(pkl: bytes, storages: dict[str, bytes] | None = None):
    recs = [("data.pkl", pkl), ("byteorder", b"little")]
    recs += [(f"data/{k}", v) for k, v in sorted((storages or {}).items())]
    return recs + [("version", b"3\n")]


def _refused(tmp_path, p: Path, *needles: str) -> str:
    with pytest.raises(InputError) as info:
        read_torch(p, p.name)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{p.name}: "), msg
    for n in needles:
        assert n in msg, msg
    return msg


# --------------------------------------------------------------------------- fixtures


def test_fixtures_are_what_the_generator_writes():
    for name, raw in tf.fixtures().items():
        assert (DATA / name).read_bytes() == raw, f"{name}: regenerate with torch_format.py"


def test_fixture_layout_is_torch_save_layout():
    raw = (DATA / "seq_f32.pt").read_bytes()
    zf = zipfile.ZipFile(DATA / "seq_f32.pt")
    names = [i.filename for i in zf.infolist()]
    assert names == ["seq_f32/data.pkl", "seq_f32/byteorder", "seq_f32/data/0",
                     "seq_f32/data/1", "seq_f32/data/2", "seq_f32/version",
                     "seq_f32/.data/serialization_id"]
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED and info.flag_bits == 0x0808
        n, e = struct.unpack_from("<HH", raw, info.header_offset + 26)
        assert (info.header_offset + 30 + n + e) % 64 == 0  # data records 64-byte aligned
        assert raw[info.header_offset + 30 + n:][:2] == b"FB"
    assert zf.read("seq_f32/version") == b"3\n" and zf.read("seq_f32/byteorder") == b"little"
    assert zf.read("seq_f32/data.pkl")[:2] == b"\x80\x02"
    sid = zf.read("seq_f32/.data/serialization_id")
    assert len(sid) == 40 and sid.isdigit()
    assert b"PK\x06\x06" in raw[-120:] and b"PK\x06\x07" in raw[-120:]  # zip64 EOCD


def test_fixtures_load_to_exact_values():
    f32 = load_weights(DATA / "seq_f32.pt")
    assert f32.format == "torch" and f32.has_bias_feature
    assert f32.W1.dtype == np.float64
    assert np.array_equal(f32.W1, np.vstack([tf.W0.T, tf.B0[None, :]]))
    assert np.array_equal(f32.w2, tf.W2[0])
    f64 = load_weights(DATA / "seq_f64.pt")
    assert not f64.has_bias_feature
    assert f64.W1.tobytes() == np.ascontiguousarray(tf.W0.T).tobytes()
    ck = load_weights(DATA / "checkpoint.pth")  # wrapper key, Fortran-order storage
    assert np.array_equal(ck.W1, tf.W0.T) and np.array_equal(ck.w2, tf.W2[0])
    assert any("model_state_dict" in n and "epoch" in n for n in ck.notes)


def test_raw_tensors_keep_dtype_and_layout(tmp_path):
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    sub = tf.Tensor(tf.Storage(np.arange(10, dtype=np.float32)), 3, (2, 2), (4, 1))
    obj = {"c": tf.Tensor.from_array(a), "f": tf.Tensor.from_array(np.asfortranarray(a)),
           "view": sub, "h": tf.Tensor.from_array(np.array([1.5, -2.0], dtype=np.float16)),
           "s": tf.Tensor.from_array(np.array(2.5))}
    p = tmp_path / "raw.pt"
    p.write_bytes(tf.torch_save_bytes(obj, str(p)))
    got = read_torch(p, "raw.pt")
    assert got["c"].dtype == np.int64 and np.array_equal(got["c"], a)
    assert np.array_equal(got["f"], a)
    assert got["view"].tolist() == [[3.0, 4.0], [7.0, 8.0]]
    assert got["h"].dtype == np.float64 and got["h"].tolist() == [1.5, -2.0]
    assert got["s"].shape == () and float(got["s"]) == 2.5


def test_shared_storage_is_read_once_and_big_endian_is_swapped(tmp_path):
    st = tf.Storage(np.arange(6, dtype=np.float64))
    obj = {"a": tf.Tensor(st, 0, (3,), (1,)), "b": tf.Tensor(st, 3, (3,), (1,))}
    pkl, storages = tf.pickle_with_storages(obj)
    assert list(storages) == ["0"]
    big = st.flat.astype(">f8").tobytes()
    recs = [("data.pkl", pkl), ("byteorder", b"big"), ("data/0", big), ("version", b"3\n")]
    got = read_torch(_pt(tmp_path, recs), "m.pt")
    assert got["a"].tolist() == [0, 1, 2] and got["b"].tolist() == [3, 4, 5]


def test_convert_then_certify_need_no_torch(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    out = tmp_path / "seq.npz"
    assert main(["convert", str(DATA / "seq_f64.pt"), "-o", str(out)]) == 0
    assert np.array_equal(load_weights(out).W1, tf.W0.T)
    # the README's flow on its own data: a state_dict that separates f1, saved by torch.save
    f1 = tmp_path / "f1.json"  # beside the certificate: check reads files inside its folder
    f1.write_bytes((Path(__file__).resolve().parents[2] / "examples" / "f1.json").read_bytes())
    pt, npz, cert = tmp_path / "net.pt", tmp_path / "net.npz", tmp_path / "net.cert.json"
    sd = tf.state_dict([("0.weight", np.array([[1.0, 0.0], [0.0, 1.0]])),
                        ("2.weight", np.array([[1.0, -1.0]]))], ("0", "1", "2"))
    pt.write_bytes(tf.torch_save_bytes(sd, str(pt)))
    assert main(["convert", str(pt), "-o", str(npz)]) == 0
    assert main(["certify", str(f1), str(npz), "-o", str(cert)]) == 0
    assert main(["check", str(cert)]) == 0
    assert "valid" in capsys.readouterr().out


# --------------------------------------------------------------------------- hostile files


def test_os_system_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    cmd = f"touch {marker}".encode()
    evil = (b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len(cmd)) + cmd
            + b"q\x01\x85q\x02Rq\x03.")
    p = _pt(tmp_path, _std_records(evil))
    _refused(tmp_path, p, "os.system", "refused", "nothing from the file was run")
    assert not marker.exists()
    pickle.loads(evil)  # the same bytes, unpickled by pickle itself, do run the command
    assert marker.exists()


@pytest.mark.parametrize(
    ("pkl", "needle"),
    [
        (b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\n\x85R.", "builtins.eval"),
        (b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R.", "posix.system"),
        # STACK_GLOBAL (protocol 4) goes through the same check
        (b"\x80\x04\x8c\nsubprocess\x94\x8c\x05Popen\x94\x93.", "subprocess.Popen"),
        (b"\x80\x02ctorch.nn.modules.linear\nLinear\n)R.", "a pickled model object"),
        # torch.save(model): the module class is named before its NEWOBJ opcode
        (b"\x80\x02ctorch.nn.modules.container\nSequential\nq\x00)\x81q\x01.",
         "(torch.nn.modules.container.Sequential), not a state_dict; save model.state_dict()"),
        (b"\x80\x02ctorch\nComplexFloatStorage\n.", "torch.ComplexFloatStorage"),
        # control characters from the file are escaped, never printed raw
        (b"\x80\x02cos\x1b[2J\nsystem\n.", "os\\x1b[2J.system"),
    ],
)
def test_unexpected_globals_are_refused(tmp_path, pkl, needle):
    msg = _refused(tmp_path, _pt(tmp_path, _std_records(pkl)), needle)
    assert "\x1b" not in msg


def _tensor_pickle(stype=b"FloatStorage", numel=4, size=(2, 2), stride=(2, 1), offset=0,
                   key=b"0") -> bytes:
    def ints(t):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in t) + b"t"

    return (b"\x80\x02ccollections\nOrderedDict\n)R"
            b"X\x01\x00\x00\x00w"
            b"ctorch._utils\n_rebuild_tensor_v2\n("
            b"(X\x07\x00\x00\x00storagectorch\n" + stype + b"\n"
            + b"X" + struct.pack("<I", len(key)) + key + b"X\x03\x00\x00\x00cpu"
            + (b"J" + struct.pack("<i", numel) if numel < 2**31 else
               b"\x8a\x08" + struct.pack("<q", numel))
            + b"tQ" + b"J" + struct.pack("<i", offset) + ints(size) + ints(stride)
            + b"\x89ccollections\nOrderedDict\n)RtRs.")


def test_hand_written_tensor_pickle_is_read(tmp_path):  # the helper below is sound
    data = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32).tobytes()
    p = _pt(tmp_path, _std_records(_tensor_pickle(), {"0": data}))
    assert read_torch(p, "m.pt")["w"].tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("kw", "data", "needle"),
    [
        ({"numel": 10**12}, b"\0" * 16, "need 4000000000000"),  # huge announced size
        ({}, b"\0" * 12, "holds 12 bytes"),  # truncated storage
        ({"stype": b"DoubleStorage"}, b"\0" * 16, "wrong dtype"),
        ({"size": (10**6, 10**6), "stride": (0, 0)}, b"\0" * 16, "does not fit"),
        ({"size": (2, 2), "stride": (2, 1), "offset": 1}, b"\0" * 16, "does not fit"),
        ({"size": (3, 2)}, b"\0" * 16, "does not fit"),
        ({"key": b"../../etc/passwd"}, b"\0" * 16, "missing from the archive"),
    ],
)
def test_bad_storages_are_refused(tmp_path, kw, data, needle):
    p = _pt(tmp_path, _std_records(_tensor_pickle(**kw), {"0": data}))
    _refused(tmp_path, p, needle)


@pytest.mark.parametrize(
    ("pkl", "needle"),
    [
        # REDUCE of a callable that is not one (the storage type marker)
        (b"\x80\x02ctorch\nFloatStorage\n)R.", "TypeError"),
        # _rebuild_tensor_v2 called with a string where the storage goes
        (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x01\x00\x00\x00xK\x00)))\x89}tR.",
         "without a storage"),
        # a memo index of 2**31: the C unpickler would allocate 16 GiB for it
        (b"\x80\x02}r\x00\x00\x00\x80.", "memo entry 2147483648"),
        (b"\x80\x02h\x05.", "before storing it"),
        (b"\x80\x02cos\nsystem", "not a valid pickle"),  # truncated
        (b"\x80\x02\x81.", "opcode NEWOBJ"),
        (b"\x80\x02ccollections\nOrderedDict\n)R}X\x01\x00\x00\x00aK\x01sb.", "_metadata"),
        (b"\x80\x02K\x01.", "expected a state dict"),
    ],
)
def test_malformed_pickles_are_refused(tmp_path, pkl, needle):
    p = _pt(tmp_path, _std_records(pkl))
    with pytest.raises(InputError) as info:
        load_weights(p)
    msg = str(info.value)
    assert "\n" not in msg and needle in msg, msg


def test_archive_problems_are_refused(tmp_path):
    good = (DATA / "seq_f32.pt").read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good[:300])
    _refused(tmp_path, cut, "not a readable PyTorch zip archive")
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(b"\x80\x02" + pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[2:]
                       + b"\x80\x02K\x03.")
    _refused(tmp_path, legacy, "legacy PyTorch format", "re-save")
    bare = tmp_path / "bare.pt"
    bare.write_bytes(pickle.dumps(OrderedDict(a=1), protocol=2))
    _refused(tmp_path, bare, "a bare pickle")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"hello world garbage")
    _refused(tmp_path, junk, "not a PyTorch file")
    script = _pt(tmp_path, [("constants.pkl", b"\x80\x02)."), ("code/m.py", b""),
                            ("version", b"3\n")], name="script.pt")
    _refused(tmp_path, script, "TorchScript")
    nover = _pt(tmp_path, [("data.pkl", b"\x80\x02}.")], name="nover.pt")
    _refused(tmp_path, nover, "no version record")
    order = _pt(tmp_path, [("data.pkl", b"\x80\x02}."), ("byteorder", b"middle"),
                           ("version", b"3\n")], name="order.pt")
    _refused(tmp_path, order, "neither little nor big")
    # a compressed member and a member outside the folder
    comp = tmp_path / "comp.pt"
    with zipfile.ZipFile(comp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("comp/data.pkl", b"\x80\x02}.")
        zf.writestr("comp/version", b"3\n")
    _refused(tmp_path, comp, "is compressed")
    out = tmp_path / "out.pt"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("out/data.pkl", b"\x80\x02}.")
        zf.writestr("other/version", b"3\n")
    _refused(tmp_path, out, "outside the archive folder")


def test_central_directory_that_lies_about_sizes(tmp_path):
    raw = bytearray((DATA / "seq_f64.pt").read_bytes())
    cd = raw.rindex(b"PK\x01\x02")  # the last central entry: patch its sizes to 2 GB
    struct.pack_into("<II", raw, cd + 20, 2**31, 2**31)
    p = tmp_path / "lie.pt"
    p.write_bytes(bytes(raw))
    _refused(tmp_path, p, "does not hold")


def test_cli_refuses_hostile_file_with_one_line(tmp_path, capsys):
    marker = tmp_path / "pwned"
    cmd = f"touch {marker}".encode()
    evil = b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."
    p = _pt(tmp_path, _std_records(evil), name="evil.pt")
    assert main(["convert", str(p), "-o", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "os.system" in err and "Traceback" not in err
    assert not marker.exists() and not (tmp_path / "x.npz").exists()


# --------------------------------------------------------------------------- torch cross-check


def test_reader_agrees_with_torch_load(tmp_path):
    torch = pytest.importorskip("torch")
    for f in ("seq_f32.pt", "seq_f64.pt", "checkpoint.pth"):
        ref = torch.load(DATA / f, map_location="cpu", weights_only=True)
        got = read_torch(DATA / f, f)
        if "model_state_dict" in ref:
            ref, got = ref["model_state_dict"], got["model_state_dict"]
        assert list(ref) == list(got)
        for k, v in ref.items():
            assert np.array_equal(v.double().numpy(), got[k])
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(),
                                torch.nn.Linear(5, 1, bias=False))
    p = tmp_path / "net.pt"
    torch.save(model.state_dict(), p)
    got = read_torch(p, "net.pt")
    for k, v in model.state_dict().items():
        assert np.array_equal(v.double().numpy(), got[k])
    torch.save(model, tmp_path / "whole.pt")
    with pytest.raises(InputError, match="a pickled model object"):
        read_torch(tmp_path / "whole.pt", "whole.pt")


def test_generator_matches_torch_save(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.__version__.startswith("2.2") or sys.platform != "linux":
        pytest.skip("the generator mirrors torch 2.2 on Linux")
    sd = OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v))) for k, v in
                     [("0.weight", tf.W0), ("2.weight", tf.W2)])
    p = tmp_path / "seq_f64.pt"
    torch.save(sd, p)
    mine = tf.torch_save_bytes(tf.state_dict([("0.weight", tf.W0), ("2.weight", tf.W2)]),
                               str(p))
    assert p.read_bytes() == mine


def test_many_views_of_one_storage_are_refused_before_expansion(tmp_path):
    # 1000 tensors over one 1000-element storage would expand to 10**6 elements
    st = tf.Storage(np.zeros(1000, dtype=np.float32))
    obj = {f"t{i}": tf.Tensor(st, 0, (1000,), (1,)) for i in range(1000)}
    p = tmp_path / "views.pt"
    p.write_bytes(tf.torch_save_bytes(obj, str(p)))
    _refused(tmp_path, p, "views its storages more than 4 times")
    tied = {"a": tf.Tensor(st, 0, (1000,), (1,)), "b": tf.Tensor(st, 0, (10, 100), (100, 1))}
    p.write_bytes(tf.torch_save_bytes(tied, str(p)))  # tied weights: two views, fine
    got = read_torch(p, "views.pt")
    assert got["a"].shape == (1000,) and got["b"].shape == (10, 100)
