"""Session-23 trial: every message of ``verify check`` about a data or model file names the
file as the user would type it and, where the fix is to point at another file, says
``--data FILE``/``--model FILE`` (a data-hash failure said only "the SHA-256 of the data differs
from the certificate's"; a missing file was named by its resolved absolute path, with no hint).

Each test starts from a copy of the committed certificates, checked from inside that folder
(``verify check f1-trained.cert.json``), and changes one file.  The rules' names and the exit
codes are those of before; only the text changed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from verify.certificate.regress import check_one
from verify.checker.check import check_file
from verify.cli.main import main

CERTS = Path(__file__).resolve().parents[2] / "certificates"
CERT = "f1-trained.cert.json"  # names data/f1.json and models/f1-trained.npz
DATA, MODEL = "data/f1.json", "models/f1-trained.npz"


@pytest.fixture()
def certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(CERTS, tmp_path / "certs")
    monkeypatch.chdir(tmp_path / "certs")
    return tmp_path / "certs"


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["check", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one line on stderr of a check that exits 2."""
    rc, out, err = _check(capsys, *args)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and out == "" and len(lines) == 1, (rc, out, err)
    return lines[0]


def _failures(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, list[str]]:
    """The failed rules of a check that exits 1, with their details, from the text output."""
    rc, out, _ = _check(capsys, *args)
    assert rc == 1 and out.startswith("INVALID"), out
    rules: dict[str, list[str]] = {}
    for ln in out.splitlines()[1:]:
        rule, _, detail = ln.strip().partition(": ")
        rules.setdefault(rule, []).append(detail)
    return rules


def _edit_data(path: str, **changes: object) -> None:
    obj = json.loads(Path(path).read_text())
    obj.update(changes)
    Path(path).write_text(json.dumps(obj))


def _weights() -> dict[str, np.ndarray]:
    with np.load(MODEL) as z:
        return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------- unreadable


def test_missing_data_file_named_as_typed_with_the_option(certs, capsys):
    Path(DATA).unlink()
    line = _error(capsys, CERT)
    assert line.startswith(f"verify check: error: {DATA}: no such file"), line
    assert f"the data file {CERT} names" in line and "--data FILE" in line
    assert str(certs) not in line  # not the resolved absolute path


def test_moved_data_file_checked_with_data_option(certs, capsys):
    os.mkdir("elsewhere")
    shutil.move(DATA, "elsewhere/f1.json")
    assert "--data FILE" in _error(capsys, CERT)
    rc, out, _ = _check(capsys, CERT, "--data", "elsewhere/f1.json")
    assert rc == 0 and out.startswith("valid"), out


def test_missing_data_named_from_another_folder(certs, capsys, monkeypatch):
    Path(DATA).unlink()
    monkeypatch.chdir(certs.parent)
    line = _error(capsys, f"certs/{CERT}")
    assert line.startswith(f"verify check: error: certs/{DATA}: no such file"), line
    assert f"the data file certs/{CERT} names" in line and "--data FILE" in line


def test_missing_model_file_named_with_the_option(certs, capsys):
    Path(MODEL).unlink()
    line = _error(capsys, CERT)
    assert line.startswith(f"verify check: error: {MODEL}: no such file"), line
    assert f"the model file {CERT} names" in line and "--model FILE" in line


@pytest.mark.parametrize("what", ["data", "model"])
def test_directory_in_place_of_a_file(certs, capsys, what):
    path = DATA if what == "data" else MODEL
    Path(path).unlink()
    os.mkdir(path)
    line = _error(capsys, CERT)
    assert line.startswith(f"verify check: error: {path}: cannot be read"), line
    assert f"--{what} FILE" in line


@pytest.mark.parametrize("kind", ["empty", "fifo", "not json"])
def test_unusable_data_file(certs, capsys, kind):
    Path(DATA).unlink()
    if kind == "fifo":
        os.mkfifo(DATA)
    else:
        Path(DATA).write_text("" if kind == "empty" else "X,y\n")
    line = _error(capsys, CERT)
    assert line.startswith(f"verify check: error: {DATA}: "), line
    assert "--data FILE" in line


def test_unusable_model_file(certs, capsys):
    Path(MODEL).write_text("not a zip\n")
    line = _error(capsys, CERT)
    assert line.startswith(f"verify check: error: {MODEL}: not a readable .npz file"), line
    assert "--model FILE" in line


@pytest.mark.parametrize("value", [None, 3])
def test_certificate_without_a_data_path(certs, capsys, value):
    cert = json.loads(Path(CERT).read_text())
    if value is None:
        del cert["data"]["path"]
    else:
        cert["data"]["path"] = value
    Path(CERT).write_text(json.dumps(cert))
    line = _error(capsys, CERT)  # was: malformed certificate (TypeError: argument of type ...)
    assert "TypeError" not in line and "data.path is" in line and "--data FILE" in line
    rc, out, _ = _check(capsys, CERT, "--data", DATA)
    assert rc == 0, out


# ----------------------------------------------------------------------------- other files


def test_replaced_data_file_named_in_data_hash(certs, capsys):
    X = json.loads(Path(DATA).read_text())["X"]
    X[0][1] += 0.01
    _edit_data(DATA, X=X)
    rules = _failures(capsys, CERT)
    (detail,) = rules["data-hash"]
    assert f"the SHA-256 of the data in {DATA} differs" in detail and "--data FILE" in detail


def test_wrong_data_option_named_in_data_hash(certs, capsys):
    Path("other.json").write_text(json.dumps({"X": [[1.0, 0.5], [-0.5, 1.0]], "y": [1, -1]}))
    rules = _failures(capsys, CERT, "--data", "other.json")
    (detail,) = rules["data-hash"]
    assert "in other.json differs" in detail and "--data FILE" in detail


def test_data_of_another_shape_named(certs, capsys):
    obj = json.loads(Path(DATA).read_text())
    _edit_data(DATA, X=obj["X"] + [[0.1, 2.0]], y=obj["y"] + [-1])
    rules = _failures(capsys, CERT)
    assert "--data FILE" in rules["data-hash"][0]
    (detail,) = rules["data-shape"]
    assert detail == f"the certificate states 2 x 2 data, the data in {DATA} are 3 x 2"


def test_data_with_other_class_labels_named(certs, capsys):
    _edit_data(DATA, y=[1, 0])  # the same one-vs-all signs: the hash matches, the classes not
    rules = _failures(capsys, CERT)
    assert set(rules) == {"data-classes"}
    (detail,) = rules["data-classes"]
    assert f"[0, 1] in {DATA} differ from the certificate's [-1, 1]" in detail
    assert "--data FILE" in detail


def test_replaced_model_file_named_in_model_hash(certs, capsys):
    w = _weights()
    np.savez(MODEL, W1=w["W1"] * 1.5, w2=w["w2"])
    rules = _failures(capsys, CERT)
    assert set(rules) == {"model-hash"}
    (detail,) = rules["model-hash"]
    assert f"the SHA-256 of the model in {MODEL} differs" in detail and "--model FILE" in detail


def test_wrong_model_option_named_in_model_hash(certs, capsys):
    w = _weights()
    np.savez("other.npz", W1=w["W1"] * 1.5, w2=w["w2"])
    rules = _failures(capsys, CERT, "--model", "other.npz")
    assert "in other.npz differs" in rules["model-hash"][0]
    assert "--model FILE" in rules["model-hash"][0]


def test_model_of_another_shape_named(certs, capsys):
    w = _weights()
    np.savez(MODEL, W1=np.vstack([w["W1"], w["W1"][:1]]), w2=w["w2"])
    rules = _failures(capsys, CERT)
    assert "--model FILE" in rules["model-hash"][0]
    stated, fit = rules["model-shape"]
    assert stated.endswith(f"the model in {MODEL} has [3, 10] and [10]"), stated
    assert f"[3, 10] in {MODEL} does not fit the data in {DATA} (d = 2" in fit, fit


def test_model_with_a_bias_feature_named(certs, capsys):
    np.savez(MODEL, bias_feature=np.array(True), **_weights())  # same weights: same hash
    rules = _failures(capsys, CERT)
    assert set(rules) == {"model-shape"}
    (detail,) = rules["model-shape"]
    assert f"the model in {MODEL} has a bias feature" in detail and "--model FILE" in detail


def test_json_output_and_library_name_the_file(certs, capsys):
    Path("other.json").write_text(json.dumps({"X": [[1.0, 0.5], [-0.5, 1.0]], "y": [1, -1]}))
    rc, out, _ = _check(capsys, CERT, "--data", "other.json", "--json")
    details = {f["rule"]: f["detail"] for f in json.loads(out)["failures"]}
    assert rc == 1 and "in other.json differs" in details["data-hash"]
    res = check_file(CERT, data="other.json")
    assert "in other.json differs" in {f.rule: f.detail for f in res.failures}["data-hash"]


def test_regress_keeps_the_missing_file_rule(certs):
    Path(MODEL).unlink()
    (problem,) = check_one(CERT).problems
    assert problem.rule == "missing-file"
    assert problem.detail.startswith(f"{MODEL}: no such file (the model file {CERT} names")
    Path(MODEL).mkdir()
    (problem,) = check_one(CERT).problems
    assert problem.rule == "unusable-input"


@pytest.mark.parametrize("what", ["data", "model"])
def test_option_naming_a_symlink_loop(certs, capsys, what):
    """``--data LOOP`` (a symlink to itself) raised RuntimeError('Symlink loop ...') from the
    check that a certificate does not name itself: a traceback instead of one line."""
    os.symlink("loop.npz", "loop.npz")
    line = _error(capsys, CERT, f"--{what}", "loop.npz")
    assert line.startswith("verify check: error: loop.npz: "), line


def test_regress_tells_a_missing_file_by_its_error_not_its_text(certs):
    """``verify regress`` told a missing file by matching the message against a backtracking
    pattern: a certificate whose data.path held ``: no such file (the data file `` and then
    ``names; `` many times took 4.6 s to classify at 140 kB, growing with the square of the
    path (a hostile certificate could hang CI).  The checker raises MissingFileError for a
    missing file and regress goes by the class."""
    from verify.certificate.regress import _unusable
    from verify.errors import InputError, MissingFileError

    Path(DATA).unlink()
    with pytest.raises(MissingFileError, match="--data FILE"):
        check_file(CERT)
    assert _unusable(MissingFileError("anything")).rule == "missing-file"
    assert _unusable(InputError("x: no such file (the data file c names; ...)")).rule \
        == "unusable-input"  # the text alone does not make a missing file
    cert = json.loads(Path(CERT).read_text())
    cert["data"]["path"] = "x: no such file (the data file " + "names; " * 20_000
    Path("hostile.cert.json").write_text(json.dumps(cert))
    (problem,) = check_one("hostile.cert.json").problems
    assert problem.rule == "unusable-input"


@pytest.mark.parametrize("where", ["path", "option"])
def test_a_huge_file_name_is_shortened_in_the_message(certs, capsys, where):
    """A hostile certificate's data.path (or a --data argument) of 200,000 characters gave a
    one-line error of 200,152 characters: the name is now cut in the middle, both ends kept."""
    name = "d" * 100_000 + "/" + "e" * 99_999
    args = [CERT]
    if where == "path":
        obj = json.loads((certs / CERT).read_text())
        obj["data"]["path"] = name
        (certs / CERT).write_text(json.dumps(obj))
    else:
        args += ["--data", name]
    line = _error(capsys, *args)
    assert len(line) < 600, len(line)
    assert "ddd...eee" in line


def test_regress_gives_the_hint_as_the_check_command(certs):
    """``verify regress`` has no ``--data``/``--model``: the checker's hint is given there as
    the command that takes it, ``'verify check CERT --data FILE'`` (missing file and
    data-hash failures alike)."""
    Path(MODEL).unlink()
    (problem,) = check_one(CERT).problems
    assert problem.rule == "missing-file"
    assert f"give 'verify check {CERT} --model FILE'" in problem.detail
    shutil.copy(CERTS / MODEL, MODEL)
    obj = json.loads(Path(DATA).read_text())
    obj["X"][0][0] += 1.0
    Path(DATA).write_text(json.dumps(obj))
    details = {p.rule: p.detail for p in check_one(CERT).problems}
    assert f"'verify check {CERT} --data FILE'" in details["data-hash"]
