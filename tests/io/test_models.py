"""Model files: npz / safetensors round trips, strict safetensors validation, state dicts."""

from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np
import pytest

from verify.errors import InputError
from verify.io.models import (
    check_feature_count,
    check_weights,
    load_weights,
    save_model,
    weights_from_state_dict,
)
from verify.io.safetensors import read_safetensors, write_safetensors
from verify.network.model import Network, load_network

RNG = np.random.default_rng(7)


def _raw_safetensors(header: dict | bytes, data: bytes = b"", n: int | None = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if n is None else n) + text + data


def _write(tmp_path, name: str, raw: bytes):
    p = tmp_path / name
    p.write_bytes(raw)
    return p


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize("shape", [(3, 5), (4, 3, 5)])
def test_round_trip_identical(tmp_path, suffix, shape):
    W1 = RNG.standard_normal(shape) * 10.0 ** RNG.integers(-300, 300, size=shape)
    w2 = RNG.standard_normal(shape[:-2] + shape[-1:])
    w2[0] = 5e-324  # a subnormal survives
    p = tmp_path / f"m{suffix}"
    save_model(p, W1, w2)
    mw = load_weights(p)
    assert mw.W1.dtype == np.float64 and mw.W1.shape == W1.shape
    assert np.array_equal(mw.W1, W1) and np.array_equal(mw.w2, w2)
    assert mw.W1.tobytes() == W1.tobytes()  # bit-identical, signs of zeros included
    assert not mw.has_bias_feature
    assert not any(f.name.endswith(".tmp") for f in tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_bias_feature_flag_round_trip(tmp_path, suffix):
    p = tmp_path / f"m{suffix}"
    save_model(p, np.ones((3, 2)), np.array([1.0, -1.0]), bias_feature=True)
    assert load_weights(p).has_bias_feature


def test_safetensors_f32_round_trip_and_exactness(tmp_path):
    W1 = RNG.standard_normal((4, 6)).astype(np.float32).astype(np.float64)
    w2 = RNG.standard_normal(6).astype(np.float32).astype(np.float64)
    p = tmp_path / "m.safetensors"
    save_model(p, W1, w2, dtype="F32")
    mw = load_weights(p)
    assert np.array_equal(mw.W1, W1) and np.array_equal(mw.w2, w2)
    # independent check of the layout: parse the file by hand
    raw = p.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    assert header["W1"]["dtype"] == "F32" and header["W1"]["shape"] == [4, 6]
    b, e = header["W1"]["data_offsets"]
    again = np.frombuffer(raw[8 + n + b : 8 + n + e], dtype="<f4").reshape(4, 6)
    assert np.array_equal(again.astype(np.float64), W1)
    with pytest.raises(InputError, match="not exactly representable in F32"):
        save_model(tmp_path / "x.safetensors", W1 + 1e-12, w2, dtype="F32")


def test_safetensors_deterministic_bytes(tmp_path):
    W1, w2 = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    save_model(tmp_path / "a.safetensors", W1, w2)
    save_model(tmp_path / "b.safetensors", W1.copy(), w2.copy())
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_safetensors_reads_f16_and_bf16(tmp_path):
    vals = np.array([1.5, -0.25, 65504.0, 2.0**-24], dtype=np.float64)
    f16 = vals.astype("<f2").tobytes()
    # bf16 = upper 16 bits of the float32 pattern (these values are exact in bf16)
    bvals = np.array([1.5, -0.25, 3.0e38, 2.0**-100], dtype=np.float32)
    bvals = (bvals.view(np.uint32) >> 16 << 16).view(np.float32)
    bf16 = (bvals.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = {
        "a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
        "b": {"dtype": "BF16", "shape": [4], "data_offsets": [8, 16]},
    }
    p = _write(tmp_path, "h.safetensors", _raw_safetensors(header, f16 + bf16))
    t, meta = read_safetensors(p)
    assert meta == {}
    assert t["a"].tolist() == [[1.5, -0.25], [65504.0, 2.0**-24]]
    assert np.array_equal(t["b"], bvals.astype(np.float64))
    assert t["b"][0] == 1.5 and t["b"][1] == -0.25


# --------------------------------------------------------------------------- malformed files

GOOD = {"W1": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 8]}}
DATA = struct.pack("<d", 1.0)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x05\x00\x00", "truncated safetensors file: 3 bytes"),
        (_raw_safetensors(GOOD, DATA, n=1000), "header claims 1000 bytes but only"),
        (_raw_safetensors(b'{"W1": {"dtype": "F64",', DATA), "not valid JSON"),
        (_raw_safetensors(b"[1, 2]", b""), "must be a JSON object"),
        (_raw_safetensors(b"\xff\xfe{}", b""), "not UTF-8"),
        (
            _raw_safetensors(
                {"W1": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 16]}}, DATA
            ),
            "outside the data buffer of 8 bytes",
        ),
        (
            _raw_safetensors(
                {"W1": {"dtype": "F64", "shape": [2, 1], "data_offsets": [0, 8]}}, DATA
            ),
            "needs 16 bytes, but its data_offsets [0, 8] span 8",
        ),
        (
            _raw_safetensors({"W1": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}, DATA),
            "expected [begin, end] with 0 <= begin <= end",
        ),
        (
            _raw_safetensors(
                {
                    "W1": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "w2": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                },
                DATA,
            ),
            "overlaps the previous tensor",
        ),
        (
            _raw_safetensors({"W1": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, DATA),
            "bytes 4..8 of the data buffer belong to no tensor",
        ),
        (
            _raw_safetensors({"W1": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}, DATA),
            "has dtype I64; weights must be floating point",
        ),
        (
            _raw_safetensors({"W1": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 8]}}, DATA),
            "unknown dtype 'Q4'",
        ),
        (
            _raw_safetensors(
                {"W1": {"dtype": "F64", "shape": [1.5], "data_offsets": [0, 8]}}, DATA
            ),
            "expected a list of non-negative integers",
        ),
        (
            _raw_safetensors({"W1": {"dtype": "F64", "shape": [1]}}, DATA),
            "needs exactly 'dtype', 'shape' and 'data_offsets'",
        ),
        (
            _raw_safetensors(
                b'{"W1":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},'
                b'"W1":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}',
                DATA,
            ),
            "has the key 'W1' twice",
        ),
        (
            _raw_safetensors({**GOOD, "__metadata__": {"a": 1}}, DATA),
            "__metadata__ must map strings to strings",
        ),
    ],
)
def test_malformed_safetensors(tmp_path, raw, message):
    p = _write(tmp_path, "bad.safetensors", raw)
    with pytest.raises(InputError) as err:
        read_safetensors(p)
    assert message in str(err.value)
    assert str(p) in str(err.value)


def test_safetensors_padded_header_and_empty_tensor_accepted(tmp_path):
    header = json.dumps(
        {**GOOD, "e": {"dtype": "F64", "shape": [0, 3], "data_offsets": [8, 8]}}
    ).encode()
    p = _write(tmp_path, "ok.safetensors", _raw_safetensors(header + b"     ", DATA))
    t, _ = read_safetensors(p)
    assert t["W1"].tolist() == [[1.0]] and t["e"].shape == (0, 3)


def test_write_safetensors_rejects_other_dtypes(tmp_path):
    with pytest.raises(InputError, match="dtype must be 'F64' or 'F32'"):
        write_safetensors(tmp_path / "x.safetensors", {"a": np.ones(2)}, dtype="F16")


# --------------------------------------------------------------------------- model contents


def test_missing_arrays_wrong_shapes_nonfinite(tmp_path):
    p = tmp_path / "m.npz"
    np.savez(p, W1=np.ones((2, 3)))
    with pytest.raises(InputError, match=r"missing \['w2'\]"):
        load_weights(p)
    np.savez(p, W1=np.ones((2, 3)), w2=np.ones(4))
    with pytest.raises(InputError, match=r"W1 has 3 neurons \(shape \(2, 3\)\) but w2 has 4"):
        load_weights(p)
    np.savez(p, W1=np.ones((2, 3)), w2=np.ones((1, 3)))
    with pytest.raises(InputError, match=r"w2 must have shape \(m,\); got \(1, 3\)"):
        load_weights(p)
    np.savez(p, W1=np.ones((2, 3, 4)), w2=np.ones((3, 4)))
    with pytest.raises(InputError, match="W1 has 2 classes"):
        load_weights(p)
    W1 = np.ones((2, 3))
    W1[1, 2] = np.nan
    np.savez(p, W1=W1, w2=np.ones(3))
    with pytest.raises(InputError, match=r"non-finite weight \(nan\) at index \(1, 2\)"):
        load_weights(p)
    np.savez(p, W1=np.ones(3), w2=np.ones(3))
    with pytest.raises(InputError, match=r"W1 must have shape \(d, m\) or \(K, d, m\)"):
        load_weights(p)
    np.savez(p, W1=np.ones((2, 3)), w2=np.ones(3), extra=np.ones(1))
    with pytest.raises(InputError, match=r"unexpected arrays \['extra'\]"):
        load_weights(p)
    np.savez(p, W1=np.array([[2**53 + 1]]), w2=np.ones(1))
    with pytest.raises(InputError, match="too large to convert exactly"):
        load_weights(p)
    np.savez(p, W1=np.array([[3]]), w2=np.array([-2]))
    assert load_weights(p).W1.tolist() == [[3.0]]
    np.savez(p, W1=np.array([["a"]]), w2=np.ones(1))
    with pytest.raises(InputError, match="must hold real numbers"):
        load_weights(p)


def test_npz_with_pickled_objects_refused(tmp_path):
    p = tmp_path / "m.npz"
    np.savez(p, W1=np.array([{"x": 1}], dtype=object), w2=np.ones(1))
    with pytest.raises(InputError, match="pickles are never loaded"):
        load_weights(p)


def test_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_weights(tmp_path / "none.npz")
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown model format '.onnx'"):
        load_weights(tmp_path / "m.onnx")
    (tmp_path / "m.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a zip archive"):
        load_weights(tmp_path / "m.npz")
    with pytest.raises(InputError, match="cannot save a model as '.onnx'"):
        save_model(tmp_path / "m.onnx", np.ones((1, 1)), np.ones(1))


def test_save_is_atomic(tmp_path, monkeypatch):
    p = tmp_path / "m.safetensors"
    save_model(p, np.ones((1, 1)), np.ones(1))
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="cannot write .*disk full"):
        save_model(p, 2 * np.ones((1, 1)), np.ones(1))
    assert p.read_bytes() == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["m.safetensors"]


# --------------------------------------------------------------------------- state dicts


def _torch_like(d: int, m: int, *, bias1: bool = False, bias2: float | None = None):
    W = RNG.standard_normal((m, d))
    V = RNG.standard_normal((1, m))
    sd = {"0.weight": W}
    if bias1:
        sd["0.bias"] = RNG.standard_normal(m)
    sd["2.weight"] = V
    if bias2 is not None:
        sd["2.bias"] = np.array([bias2])
    return sd


def _forward(sd: dict, X: np.ndarray, first: str = "0", second: str = "2") -> np.ndarray:
    """The PyTorch computation, written out: relu(X W^T + b) V^T (+ c)."""
    h = X @ sd[f"{first}.weight"].T
    if f"{first}.bias" in sd:
        h = h + sd[f"{first}.bias"]
    out = np.maximum(h, 0) @ sd[f"{second}.weight"].T
    if f"{second}.bias" in sd:
        out = out + sd[f"{second}.bias"]
    return out[:, 0]


def test_state_dict_sequential_keys():
    sd = _torch_like(3, 4)
    mw = weights_from_state_dict(sd)
    assert np.array_equal(mw.W1, sd["0.weight"].T) and np.array_equal(mw.w2, sd["2.weight"][0])
    assert not mw.has_bias_feature
    X = RNG.standard_normal((6, 3))
    assert np.allclose(Network.from_weights(mw).outputs(X), _forward(sd, X), rtol=1e-13)


@pytest.mark.parametrize(
    "names", [("fc1", "fc2"), ("layer1", "layer2"), ("net.0", "net.2"), ("hidden", "out")]
)
def test_state_dict_named_layers(names):
    a, b = names
    W, V = RNG.standard_normal((5, 2)), RNG.standard_normal((1, 5))
    for sd in ({f"{a}.weight": W, f"{b}.weight": V}, {f"{b}.weight": V, f"{a}.weight": W}):
        mw = weights_from_state_dict(sd)
        assert np.array_equal(mw.W1, W.T) and np.array_equal(mw.w2, V[0])


def test_state_dict_order_by_name_when_shapes_ambiguous():
    # d = 1, m = 1: both weights are 1x1; natural order of the names decides
    sd = {"10.weight": np.array([[3.0]]), "2.weight": np.array([[5.0]])}
    mw = weights_from_state_dict(sd)
    assert mw.W1.tolist() == [[5.0]] and mw.w2.tolist() == [3.0]


def test_state_dict_wrapped_and_module_prefix():
    sd = _torch_like(2, 3)
    wrapped = {"state_dict": {f"module.{k}": v for k, v in sd.items()}}
    mw = weights_from_state_dict(wrapped)
    assert np.array_equal(mw.W1, sd["0.weight"].T)
    assert any("module." in n for n in mw.notes) and any("unwrapped" in n for n in mw.notes)
    ckpt = {"epoch": np.array(3), "optimizer": {"lr": np.array(0.1)}, "model_state_dict": sd}
    mw = weights_from_state_dict(ckpt)
    assert np.array_equal(mw.w2, sd["2.weight"][0])
    assert any("ignored ['epoch', 'optimizer']" in n for n in mw.notes)


def test_first_layer_bias_becomes_bias_feature():
    from verify.io.datasets import check_dataset

    sd = _torch_like(3, 4, bias1=True)
    mw = weights_from_state_dict(sd)
    assert mw.has_bias_feature and mw.W1.shape == (4, 4)
    assert np.array_equal(mw.W1[-1], sd["0.bias"]) and np.array_equal(mw.W1[:3], sd["0.weight"].T)
    assert any("--bias" in n for n in mw.notes)
    Xraw = RNG.standard_normal((7, 3))
    y = np.where(RNG.standard_normal(7) > 0, 1, -1)
    ds = check_dataset(Xraw, y, bias=True)
    net = Network.from_weights(mw)
    assert np.allclose(net.outputs(ds.X), _forward(sd, Xraw), rtol=1e-12, atol=1e-14)
    # the data's feature count is checked: without --bias it does not fit
    with pytest.raises(InputError, match="expects 4 input features .*load the data with --bias"):
        net.outputs(check_dataset(Xraw, y).X)
    with pytest.raises(InputError, match="was loaded without --bias"):
        check_feature_count(4, 4, has_bias_feature=True, data_bias=False)
    # and the last column must really be the constant feature
    with pytest.raises(InputError, match="last column of X must be the constant 1"):
        net.outputs(np.hstack([Xraw, np.zeros((7, 1))]))


def test_second_layer_bias_rejected_unless_zero():
    sd = _torch_like(2, 3, bias2=0.25)
    with pytest.raises(InputError, match="nonzero bias 2.bias = 0.25.*not positively homogeneous"):
        weights_from_state_dict(sd)
    sd = _torch_like(2, 3, bias2=0.0)
    mw = weights_from_state_dict(sd)
    assert any("exactly zero" in n for n in mw.notes)
    sd["2.bias"] = np.array([-0.0])
    assert weights_from_state_dict(sd).W1.shape == (2, 3)


def test_state_dict_rejections():
    W, V = np.ones((3, 2)), np.ones((1, 3))
    with pytest.raises(InputError, match="expected exactly two layers"):
        weights_from_state_dict({"0.weight": W, "2.weight": V, "4.weight": np.ones((1, 1))})
    with pytest.raises(InputError, match="expected exactly two layers"):
        weights_from_state_dict({"0.weight": W})
    with pytest.raises(InputError, match="unexpected state-dict entries"):
        weights_from_state_dict({"0.weight": W, "2.weight": V, "1.running_mean": np.ones(3)})
    with pytest.raises(InputError, match="only a scalar output"):
        weights_from_state_dict({"0.weight": W, "2.weight": np.ones((2, 3))})
    with pytest.raises(InputError, match=r"expected 2.weight of shape \(1, 3\)"):
        weights_from_state_dict({"0.weight": W, "2.weight": np.ones((1, 4))})
    with pytest.raises(InputError, match=r"0.bias has shape \(2,\), expected \(3,\)"):
        weights_from_state_dict({"0.weight": W, "0.bias": np.ones(2), "2.weight": V})
    with pytest.raises(InputError, match="state dict is empty"):
        weights_from_state_dict({})


def test_state_dict_in_safetensors_and_npz(tmp_path):
    sd = _torch_like(3, 2, bias1=True)
    write_safetensors(tmp_path / "sd.safetensors", sd)
    np.savez(tmp_path / "sd.npz", **sd)
    for name in ("sd.safetensors", "sd.npz"):
        mw = load_weights(tmp_path / name)
        assert mw.has_bias_feature and np.array_equal(mw.W1[-1], sd["0.bias"])
    net = load_network(tmp_path / "sd.npz", n_features=4, data_bias=True)
    assert net.has_bias_feature
    with pytest.raises(InputError, match="load the data with --bias"):
        load_network(tmp_path / "sd.npz", n_features=3, data_bias=False)


def test_check_weights_returns_readonly_copies():
    W = np.ones((2, 2))
    A, _ = check_weights(W, np.ones(2))
    W[0, 0] = 5.0
    assert A[0, 0] == 1.0 and not A.flags.writeable


# --------------------------------------------------------------------------- torch


def test_torch_state_dict_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 5, bias=True), torch.nn.ReLU(), torch.nn.Linear(5, 1, bias=False)
    ).double()
    p = tmp_path / "m.pt"
    torch.save(model.state_dict(), p)
    net = Network.from_weights(load_weights(p))
    assert net.has_bias_feature and net.W1.shape == (4, 5)
    X = RNG.standard_normal((8, 3))
    with torch.no_grad():
        ref = model(torch.from_numpy(X)).numpy()[:, 0]
    Xb = np.hstack([X, np.ones((8, 1))])
    assert np.allclose(net.outputs(Xb), ref, rtol=1e-12, atol=1e-14)
    torch.save(model, tmp_path / "whole.pt")  # a pickled module, not a state dict
    with pytest.raises(InputError, match="a pickled model object .*save model.state_dict"):
        load_weights(tmp_path / "whole.pt")


@pytest.mark.parametrize("bias", [False, True])
def test_save_torch_state_dict_round_trip(tmp_path, bias):
    torch = pytest.importorskip("torch")
    W1 = RNG.standard_normal((4, 3))
    w2 = RNG.standard_normal(3)
    p = tmp_path / "net.pt"
    save_model(p, W1, w2, bias_feature=bias)
    back = load_weights(p)
    assert np.array_equal(back.W1, W1) and np.array_equal(back.w2, w2)
    assert back.has_bias_feature is bias
    sd = torch.load(p, weights_only=True)
    layer = torch.nn.Linear(3 if bias else 4, 3, bias=bias).double()
    layer.load_state_dict({k[2:]: v for k, v in sd.items() if k.startswith("0.")})


def test_save_torch_without_torch_is_clear(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InputError, match="needs torch"):
        save_model(tmp_path / "net.pt", np.ones((2, 2)), np.ones(2))
    assert not (tmp_path / "net.pt").exists()
