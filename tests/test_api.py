"""The public API (``verify.*``): the journey, and every bad input as an InputError."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import verify
import verify.api
from verify.errors import InputError, MissingFileError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def f1(tmp_path):
    shutil.copy(ROOT / "examples" / "f1.json", tmp_path / "f1.json")
    return tmp_path / "f1.json"


def test_lazy_names_are_the_api():
    assert set(verify.__all__) - {"__version__"} == set(verify.api.__all__)
    with pytest.raises(AttributeError):
        verify.nope  # noqa: B018


def test_journey_with_a_bias_dataset_object(f1, tmp_path):
    ds = verify.load_dataset(f1, bias=True)
    res = verify.train(ds, neurons=6, steps=300, seed=0, schedule="loss-scaled")
    res.save_model(tmp_path / "b.npz")
    cert = verify.certify(ds, tmp_path / "b.npz")  # the Dataset's bias is kept
    assert json.loads(cert.to_json())["data"]["bias"] is True
    cert.save(tmp_path / "b.cert.json")
    assert verify.check(tmp_path / "b.cert.json").valid
    assert verify.check(cert).valid
    assert json.loads((tmp_path / "b.cert.json").read_text())["data"]["path"] == "f1.json"


def test_solution_of_other_data_is_refused(f1, tmp_path):
    sol = verify.solve(f1)
    sol.save_network(tmp_path / "o.npz")
    other = tmp_path / "other.json"
    obj = json.loads(f1.read_text())
    obj["X"][0][0] += 0.5
    other.write_text(json.dumps(obj))
    with pytest.raises(InputError, match="other data"):
        verify.certify(other, tmp_path / "o.npz", solution=sol)


@pytest.mark.parametrize("call", [
    lambda f, d: verify.certify(f, d / "o.npz", tolerance="abc"),
    lambda f, d: verify.certify(f, d / "o.npz", tolerance=float("nan")),
    lambda f, d: verify.certify(f, d / "o.npz", tolerance=2),
    # Fraction("1e-999999999") would compute 10**999999999: refused before it expands
    lambda f, d: verify.certify(f, d / "o.npz", tolerance="1e-999999999"),
    lambda f, d: verify.certify(f, d / "o.npz", tolerance=-0.5),
    lambda f, d: verify.check({"a": 1}),
    lambda f, d: verify.enumerate_chambers([["a"]]),
    lambda f, d: verify.train(f, neurons=2, steps=2, foo=1),
    lambda f, d: verify.audit(f, limit=0),
    lambda f, d: verify.solve(3.5),
    lambda f, d: verify.audit((np.array([[np.nan, 1.0]]), [1])),
    lambda f, d: verify.certify(verify.load_dataset(f).__class__.__new__(
        verify.load_dataset(f).__class__), d / "o.npz"),
])
def test_bad_input_is_an_input_error(call, f1, tmp_path):
    verify.solve(f1).save_network(tmp_path / "o.npz")
    with pytest.raises(InputError):
        call(f1, tmp_path)


def test_arrays_are_accepted_as_a_pair():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    assert verify.audit((X, [1, 1, -1])).rank.rank == 2
    assert verify.enumerate_chambers(X).count == 6


# ------------------------------------------------- check(Certificate): the files named, hints

CERTS = ROOT / "certificates"


@pytest.fixture(scope="module")
def f1_cert(tmp_path_factory):
    """A Certificate of the committed f1 data and trained model, built in a copy of the
    certificates folder (the working directory of each test using it)."""
    folder = tmp_path_factory.mktemp("api_check") / "certs"
    shutil.copytree(CERTS, folder)
    cert = verify.certify(folder / "data" / "f1.json", folder / "models" / "f1-trained.npz")
    assert verify.check(cert).valid
    return folder, cert


@pytest.fixture
def in_certs(f1_cert, monkeypatch):
    folder, cert = f1_cert
    monkeypatch.chdir(folder)
    return cert


def _details(res) -> dict[str, str]:
    return {f.rule: f.detail for f in res.failures}


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_check_object_names_another_data_file_and_the_keyword(in_certs):
    """A Certificate checked with ``data=`` said only "the SHA-256 of the data differs from
    the certificate's": the file path route names the file and says how to give another."""
    Path("other.json").write_text(json.dumps({"X": [[1.0, 0.5], [-0.5, 1.0]], "y": [1, -1]}))
    res = verify.check(in_certs, data="other.json")
    detail = _details(res)["data-hash"]
    assert "the SHA-256 of the data in other.json differs" in detail
    assert "verify.check(..., data=FILE)" in detail and "--data" not in detail
    in_certs.save("saved.cert.json")  # the same rules fail as through the file (verify check)
    by_file = verify.check("saved.cert.json", data="other.json")
    assert [f.rule for f in res.failures] == [f.rule for f in by_file.failures]
    assert not res.valid and not by_file.valid
    assert "--data FILE" in _details(by_file)["data-hash"]


def test_check_object_names_another_model_file_and_the_keyword(in_certs):
    with np.load("models/f1-trained.npz") as z:
        np.savez("other.npz", W1=z["W1"] * 1.5, w2=z["w2"])
    res = verify.check(in_certs, model="other.npz")
    assert set(_details(res)) == {"model-hash"}
    detail = _details(res)["model-hash"]
    assert "the SHA-256 of the model in other.npz differs" in detail
    assert "verify.check(..., model=FILE)" in detail and "--model" not in detail


def test_check_object_names_its_own_file_in_a_shape_failure(in_certs, f1_cert):
    folder, _ = f1_cert
    moved = folder / "models" / "f1-moved.npz"
    with np.load("models/f1-trained.npz") as z:
        np.savez(moved, W1=np.vstack([z["W1"], z["W1"][:1]]), w2=z["w2"])
    res = verify.check(dataclasses.replace(in_certs, model_path=str(moved)))
    stated, fit = [f.detail for f in res.failures if f.rule == "model-shape"]
    assert stated.endswith(f"the model in {moved} has [3, 10] and [10]"), stated
    assert f"in {moved} does not fit the data in {in_certs.data_path}" in fit, fit


@pytest.mark.parametrize("what", ["data", "model"])
def test_check_object_missing_own_file_is_one_line_with_the_keyword(in_certs, what):
    gone = str(Path(f"gone.{'json' if what == 'data' else 'npz'}").resolve())
    with pytest.raises(MissingFileError) as exc:
        verify.check(dataclasses.replace(in_certs, **{f"{what}_path": gone}))
    line = _one_line(exc)
    assert line.startswith(f"{gone}: no such file (the {what} file the Certificate names"), line
    assert f"verify.check(..., {what}=FILE)" in line


@pytest.mark.parametrize("what", ["data", "model"])
def test_check_object_unusable_given_file_is_one_line(in_certs, what):
    suffix = "json" if what == "data" else "npz"
    with pytest.raises(MissingFileError) as exc:
        verify.check(in_certs, **{what: f"nope.{suffix}"})
    assert _one_line(exc) == f"nope.{suffix}: no such file"
    Path(f"adir.{suffix}").mkdir(exist_ok=True)
    with pytest.raises(InputError) as exc:
        verify.check(in_certs, **{what: f"adir.{suffix}"})
    assert _one_line(exc).startswith(f"adir.{suffix}: cannot be read")
    Path(f"bad.{suffix}").write_text("not a data or model file\n")
    with pytest.raises(InputError) as exc:
        verify.check(in_certs, **{what: f"bad.{suffix}"})
    assert _one_line(exc).startswith(f"bad.{suffix}: ")


def _without(cert, key):
    content = json.loads(json.dumps(cert.content))
    del content["data"][key]
    return dataclasses.replace(cert, content=content)


def test_check_object_without_data_bias_is_an_input_error(in_certs):
    """``content["data"]["bias"]`` raised KeyError('bias')."""
    with pytest.raises(InputError, match="data has no 'bias'") as exc:
        verify.check(_without(in_certs, "bias"))
    _one_line(exc)


def test_check_object_without_data_path_is_checked(in_certs):
    assert verify.check(_without(in_certs, "path")).valid  # the checker never reads it


@pytest.mark.parametrize("change", [
    {"data_path": None},   # was TypeError from Path(None)
    {"model_path": None},
    {"content": None},     # was TypeError from dict(None)
    {"content": {"format": "verify-certificate"}},  # was KeyError('data')
    {"content": {"data": {1, 2}}},  # not JSON
])
def test_check_object_malformed_is_an_input_error(in_certs, change):
    with pytest.raises(InputError) as exc:
        verify.check(dataclasses.replace(in_certs, **change))
    assert not isinstance(exc.value, (KeyError, TypeError))
    _one_line(exc)


def test_check_object_without_own_data_path_uses_the_keyword(in_certs):
    assert verify.check(dataclasses.replace(in_certs, data_path=None),
                        data="data/f1.json").valid
