"""Findings of the session-22 new-user trial on real data (verify.cli.main): an output path
that is one of the command's own input files is refused before any work (it used to be
replaced, destroying the user's data or model; a certificate written over its own data file
names a file that no longer holds what it hashed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from verify.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
F1 = EXAMPLES / "f1.json"


def _one_clean_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], err


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data.json"
    shutil.copy(F1, data)
    npz = tmp_path / "data.npz"
    import json

    obj = json.loads(F1.read_text())
    np.savez(npz, X=np.array(obj["X"], dtype=float), y=np.array(obj["y"]))
    assert main(["solve", str(data), "-o", str(tmp_path / "net.npz")]) == 0
    return {"data": data, "npz": npz, "model": tmp_path / "net.npz"}


def _unchanged(paths: list[Path], argv: list[str], capsys, *needles: str) -> None:
    before = {p: p.read_bytes() for p in paths}
    capsys.readouterr()
    assert main(argv) == 2
    _one_clean_line(capsys.readouterr().err, *needles)
    for p in paths:
        assert p.read_bytes() == before[p], f"{p} was overwritten"


def test_certify_output_over_its_data_refused(files, capsys):
    d, m = files["data"], files["model"]
    _unchanged([d, m], ["certify", str(d), str(m), "-o", str(d)], capsys,
               "-o:", "is the data file")


def test_certify_output_over_its_model_refused(files, capsys):
    d, m = files["data"], files["model"]
    _unchanged([d, m], ["certify", str(d), str(m), "-o", str(m)], capsys,
               "-o:", "is the model file")


def test_solve_output_over_its_data_refused(files, capsys):
    d = files["npz"]
    _unchanged([d], ["solve", str(d), "-o", str(d)], capsys, "-o:", "is the data file")


def test_same_file_by_another_spelling_refused(files, capsys, monkeypatch):
    d = files["npz"]
    monkeypatch.chdir(d.parent)
    _unchanged([d], ["solve", "./data.npz", "-o", str(d)], capsys, "is the data file")


@pytest.mark.parametrize("opt", ["-o", "--record"])
def test_train_outputs_over_the_data_refused(files, capsys, opt):
    d = files["npz"]
    out = {"-o": str(d.parent / "t.npz"), "--record": str(d.parent / "r.npz")}
    out[opt] = str(d)
    _unchanged([d], ["train", str(d), "--steps", "10", "-o", out["-o"],
                     "--record", out["--record"]], capsys, f"{opt}:", "is the data file")


def test_audit_and_enumerate_outputs_over_the_data_refused(files, capsys):
    d = files["data"]
    _unchanged([d], ["audit", str(d), "-o", str(d)], capsys, "-o:", "is the data file")
    _unchanged([d], ["enumerate", str(d), "-o", str(d)], capsys, "-o:", "is the data file")
    _unchanged([d], ["enumerate", str(d), "--graph", str(d)], capsys,
               "--graph:", "is the data file")


def test_other_outputs_still_written(files, capsys):
    d, m = files["data"], files["model"]
    c = d.parent / "c.json"
    assert main(["certify", str(d), str(m), "-o", str(c)]) == 0
    assert c.is_file()


# ------------------------------------------------------------------ a conic solver that fails


def _badly_scaled(tmp_path: Path) -> str:
    # features of magnitude 1e8 and 1e-8 side by side: Clarabel fails on this (trial22)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4)) * np.array([1e8, 1e-8, 1.0, 1e8])
    y = np.where(X[:, 0] / 1e8 + X[:, 1] * 1e8 > 0, 1, -1)
    p = tmp_path / "magn.npz"
    np.savez(p, X=X, y=y)
    return str(p)


def test_solver_failure_is_one_line_naming_the_option(tmp_path, capsys):
    rc = main(["solve", _badly_scaled(tmp_path), "--solver", "CLARABEL"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    # warnings are the command's own lines, not Python's "file.py:123: RuntimeWarning" + source
    assert all(ln.startswith("verify solve: ") for ln in lines), err
    assert ".py:" not in err, err
    assert any(ln.startswith("verify solve: warning: CLARABEL failed with tight tolerances")
               for ln in lines), err
    assert lines[-1].startswith("verify solve: error: CLARABEL failed"), err
    # cvxpy's advice names an argument the command line does not have
    assert "verbose=True" not in err, err
    assert "--solver" in lines[-1], err


# ------------------------------------------------------------------ messages in plain numbers


def test_fractional_npz_label_message_has_no_numpy_repr(tmp_path, capsys):
    p = tmp_path / "y.npz"
    np.savez(p, X=np.ones((3, 2)), y=np.array([0.5, 1.0, 2.0]))
    assert main(["audit", str(p)]) == 2
    _one_clean_line(capsys.readouterr().err, "label 0 is 0.5;")
