"""Strings from files on the terminal (issue 10, item 6; a second adversarial review): lone
surrogates (a JSON ``"\\ud800"`` escape) crashed every command that printed them with a
UnicodeEncodeError traceback, and ``audit``/``solve`` printed data labels raw."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from verify.cli.main import main

CERTS = Path(__file__).resolve().parents[2] / "certificates"
HOSTILE = "A\x1b[2K\rvalid\u202e\u2028\ufeff\U000e0041"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def _raw_free(text: str) -> None:
    for c in ("\x1b", "\r", "\u202e", "\u2028", "\ufeff", "\U000e0041", "\ud800"):
        assert c not in text, repr(c)
    assert "Traceback" not in text


@pytest.fixture()
def certs(tmp_path: Path) -> Path:
    shutil.copytree(CERTS, tmp_path / "certs")
    return tmp_path / "certs"


@pytest.mark.parametrize("where", ["label", "verdict", "key"])
def test_lone_surrogates_in_a_certificate_are_escaped(certs, capsys, where):
    p = certs / "f1-optimal.cert.json"
    cert = json.loads(p.read_text())
    ent = cert["classes"][0]
    if where == "label":
        ent["label"] = "\ud800X"
    elif where == "verdict":
        ent["verdict"] = "\udfff"
    else:  # held before too: the detail shows the key's repr
        ent["evidence"]["\ud800" * 3] = 1
    p.write_text(json.dumps(cert))  # ensure_ascii: the file holds the escape "\ud800"
    for extra in ((), ("--json",)):
        rc, out, err = _run(capsys, "check", str(p), *extra)
        assert rc == 1, err
        _raw_free(out + err)
        if extra:
            json.loads(out)  # the --json output stays JSON
    rc, out, err = _run(capsys, "regress", str(certs))
    assert rc == 1
    _raw_free(out + err)
    junit = certs.parent / "j.xml"
    assert main(["regress", str(certs), "--junit", str(junit)]) == 1
    import xml.etree.ElementTree as ET

    ET.parse(junit)  # well-formed XML


def test_data_labels_are_escaped_by_audit_and_solve(tmp_path, capsys):
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"X": [[1.0, 0.2], [0.9, -0.1], [-1.0, 0.3], [-0.8, -0.2]],
                                "y": [HOSTILE, HOSTILE, "b\ud800", "b\ud800"]}))
    for cmd in (["audit", str(data)], ["solve", str(data)], ["audit", str(data), "--json"],
                ["solve", str(data), "--json"]):
        rc, out, err = _run(capsys, *cmd)
        assert rc == 0, (cmd, err)
        _raw_free(out + err)
        if cmd[0] == "audit":  # the label list
            assert "\\x1b" in out or "\\u001b" in out, out
        assert "\\ud800" in out, out  # the positive label (binary data)
        if "--json" in cmd:
            json.loads(out)
