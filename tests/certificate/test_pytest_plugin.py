"""The pytest plugin ``--verify-certificates DIR``: one item per certificate, passing iff
``verify check`` exits 0; absent option, no effect."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from verify.checker.arithmetic import format_rational
from verify.cli.main import main

PLUGIN = "verify.certificate.pytest_plugin"

pytest_plugins = ["pytester"]

CERTS = Path(__file__).resolve().parents[2] / "certificates"


@pytest.fixture(autouse=True)
def _explicit_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    # load the plugin with -p only, whether or not the pytest11 entry point is installed
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _copy(name: str, dest: Path, as_name: str | None = None) -> Path:
    cert = json.loads((CERTS / name).read_text())
    for rel in (cert["data"]["path"], cert["model"]["path"]):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CERTS / rel, dest / rel)
    out = dest / (as_name or name)
    shutil.copyfile(CERTS / name, out)
    return out


def _tamper(path: Path) -> None:
    cert = json.loads(path.read_text())
    ub = cert["classes"][0]["upper_bound"]
    ub["exact"] = format_rational(Fraction(ub["exact"]) / 2)
    path.write_text(json.dumps(cert))


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", PLUGIN, "-p", "no:cacheprovider", *args)


def test_valid_and_tampered(pytester: pytest.Pytester) -> None:
    d = pytester.path / "certs"
    _copy("f1-optimal.cert.json", d)
    bad = _copy("f1-trained.cert.json", d, "tampered.cert.json")
    _tamper(bad)
    res = _run(pytester, "--verify-certificates", "certs", "-v")
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines([
        "*f1-optimal.cert.json*PASSED*",
        "*tampered.cert.json*FAILED*",
        "*rejected by the trusted checker*",
        "*upper-bound: class 0: claimed UB*",
    ])
    # the items agree with 'verify check' exit codes (the other route)
    assert main(["check", str(d / "f1-optimal.cert.json")]) == 0
    assert main(["check", str(bad)]) == 1


def test_self_referencing_forgery_is_collected_and_fails(pytester: pytest.Pytester) -> None:
    """A forged certificate that carries X and y and names itself as its data file is a
    certificate all the same: collected, and rejected (issue 10, item 2)."""
    d = pytester.path / "certs"
    _copy("f1-optimal.cert.json", d)
    forged = json.loads((d / "f1-optimal.cert.json").read_text())
    forged.update(json.loads((d / "data/f1.json").read_text()))
    forged["data"]["path"] = "self.cert.json"
    (d / "self.cert.json").write_text(json.dumps(forged))
    res = _run(pytester, "--verify-certificates", "certs", "-v")
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines(["*self.cert.json*FAILED*", "*names itself as its data file*"])


def test_missing_model_names_the_file(pytester: pytest.Pytester) -> None:
    d = pytester.path / "certs"
    _copy("grid3-optimal.cert.json", d)
    (d / "models" / "grid3-optimal.npz").unlink()
    res = _run(pytester, "--verify-certificates", str(d))
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*missing-file:*grid3-optimal.npz: no such file*"])


def test_repeated_option_and_keyword_selection(pytester: pytest.Pytester) -> None:
    _copy("f2-optimal.cert.json", pytester.path / "a")
    _copy("exact_zero-trained.cert.json", pytester.path / "b")
    res = _run(pytester, "--verify-certificates", "a", "--verify-certificates", "b")
    res.assert_outcomes(passed=2)
    res = _run(pytester, "--verify-certificates", "a", "--verify-certificates", "b",
               "-k", "exact_zero")
    res.assert_outcomes(passed=1, deselected=1)


def test_unusable_directory_is_a_usage_error(pytester: pytest.Pytester) -> None:
    res = _run(pytester, "--verify-certificates", "nope")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*nope: no such directory*"])
    # one clean error: no pluggy warning block, no traceback
    assert "Warning" not in res.stdout.str() + res.stderr.str()
    assert "Traceback" not in res.stdout.str() + res.stderr.str()
    assert [ln for ln in res.stderr.lines if ln.strip()] == [
        "ERROR: --verify-certificates nope: nope: no such directory or certificate file"
    ]
    (pytester.path / "empty").mkdir()
    res = _run(pytester, "--verify-certificates", "empty")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*no certificates found*"])


def test_absent_option_changes_nothing(pytester: pytest.Pytester) -> None:
    _copy("f1-optimal.cert.json", pytester.path / "certs")
    pytester.makepyfile(test_plain="""
        import sys

        def test_plain():
            # the plugin imports nothing from verify without the option
            assert "verify.certificate.regress" not in sys.modules
            assert "verify.checker.check" not in sys.modules
    """)
    res = pytester.runpytest_subprocess("-p", PLUGIN, "-p", "no:cacheprovider")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["collected 1 item"])


def test_explicit_plugin_beside_installed_entry_point(pytester: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="pytest11") if ep.value == PLUGIN]
    if not eps:
        pytest.skip("the verify package is not installed with its pytest11 entry point")
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    _copy("f1-optimal.cert.json", pytester.path / "certs")
    for extra in ([], ["-p", "verify.certificate.pytest_plugin"]):  # entry point alone, and both
        res = pytester.runpytest_subprocess(*extra, "--verify-certificates", "certs")
        res.assert_outcomes(passed=1)
