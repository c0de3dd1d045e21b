"""The public API (``verify.*``): the journey, and every bad input as an InputError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import verify
import verify.api
from verify.errors import InputError

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
