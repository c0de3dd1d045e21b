"""The pytest plugin prints certificate file names escaped: pytest writes node ids raw, so a
file named ``evil<ESC>[2K<CR>ok<U+202E>.cert.json`` reached the terminal as control codes
(a second adversarial review, issue 10 item 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CERTS = Path(__file__).resolve().parents[2] / "certificates"


def test_control_characters_in_file_names_are_escaped(pytester: pytest.Pytester,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    d = pytester.path / "certs"
    d.mkdir()
    for sub in ("data", "models"):
        shutil.copytree(CERTS / sub, d / sub)
    for name in CERTS.glob("*.cert.json"):  # every data file is named by a certificate
        shutil.copyfile(name, d / name.name)
    cert = json.loads((CERTS / "f1-optimal.cert.json").read_text())
    cert["classes"][0]["lower_bound"] = {"exact": "1000", "float": 1000.0}
    (d / "evil\x1b[2K\rok\u202e.cert.json").write_text(json.dumps(cert))
    res = pytester.runpytest("-p", "verify.certificate.pytest_plugin", "-p", "no:cacheprovider",
                             "--verify-certificates", "certs", "-v")
    res.assert_outcomes(passed=12, failed=1)
    text = res.stdout.str()
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "evil\\x1b[2K\\rok\\u202e.cert.json::verify-check FAILED" in text
