"""The README's journeys run as written: its Python snippets and the commands beside them.

The snippets are extracted from README.md itself (not copied), so an edit of the README that
breaks them fails here.  Each test works in a temporary directory holding a copy of the
example data the README names.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from verify.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(heading: str) -> str:
    """The README text under ``heading`` up to the next heading of the same or a higher level
    (lines inside fenced code blocks are never headings)."""
    level = len(heading.split(" ", 1)[0])
    lines = README.splitlines(keepends=True)
    start = lines.index(heading + "\n") + 1
    fenced = False
    for i in range(start, len(lines)):
        if lines[i].startswith("```"):
            fenced = not fenced
        hashes = len(lines[i]) - len(lines[i].lstrip("#"))
        if not fenced and 1 <= hashes <= level and lines[i][hashes : hashes + 1] == " ":
            return "".join(lines[start:i])
    return "".join(lines[start:])


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall("```" + lang + r"\n(.*?)```", text, re.S)


def _commands(block: str) -> list[list[str]]:
    """``verify ...`` command lines of a bash block (comments dropped, ``&&`` split)."""
    out = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        for part in line.split("&&"):
            words = shlex.split(part)
            if words and words[0] == "verify":
                out.append(words[1:])
    return out


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "examples").mkdir()
    for name in ("f1.json", "f1.csv"):
        shutil.copy(ROOT / "examples" / name, tmp_path / "examples" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_certify_and_use_from_python(workdir, capsys):
    """'Certify a trained network' (train, certify, check), then 'Use from Python' on net.npz."""
    commands = _commands(_blocks(_section("## Certify a trained network"), "bash")[0])
    assert [c[0] for c in commands] == ["train", "certify", "check"]
    for argv in commands:
        assert main(argv) == 0, argv
    assert "valid" in capsys.readouterr().out
    snippet = _blocks(_section("## Use from Python"), "python")
    assert len(snippet) == 1
    exec(compile(snippet[0], "README.md", "exec"), {})
    lines = capsys.readouterr().out.split()
    assert lines[0] == "True"  # F.1 is orthogonally separable
    assert float(lines[1]) == pytest.approx(1.2824322, rel=1e-6)  # P* of F.1 (demo table)
    assert lines[2] == "True"  # the trusted checker accepts the certificate
    assert " ".join(lines[3:]).startswith("{1: 'globally-optimal-within 0.000")  # --tolerance 1e-3
    cert = json.loads((workdir / "net.cert.json").read_text())
    assert cert["data"]["path"] == "examples/f1.json"


def test_pytorch_journey(workdir, capsys):
    """'A network trained in PyTorch': the training script, convert, certify, check."""
    pytest.importorskip("torch")
    section = _section("### A network trained in PyTorch")
    (script,) = _blocks(section, "python")
    exec(compile(script, "README.md", "exec"), {})
    assert (workdir / "net.pt").is_file()
    commands = _commands(_blocks(section, "bash")[0])
    assert [c[0] for c in commands] == ["convert", "certify", "check"]
    for argv in commands:
        assert main(argv) == 0, argv
    out = capsys.readouterr().out
    assert out.count("valid:") == 1
    cert = json.loads((workdir / "net.cert.json").read_text())
    # the class line of certify and the certificate agree on the verdict the README explains
    verdict = cert["classes"][0]["verdict"]
    assert verdict in {"globally-optimal-within", "suboptimal", "proven-gap"}
    assert f"class 1: {verdict}" in out


def test_pytorch_full_model_and_second_bias_refused(workdir, capsys):
    """The README's rules: a state_dict, not the model object; no second-layer bias."""
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1, bias=False))
    torch.save(net, "full.pt")
    assert main(["convert", "full.pt", "-o", "full.npz"]) == 2
    assert "state_dict" in capsys.readouterr().err
    net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1, bias=True))
    torch.save(net.state_dict(), "b2.pt")
    assert main(["convert", "b2.pt", "-o", "b2.npz"]) == 2
    assert "bias" in capsys.readouterr().err
    assert not Path("full.npz").exists() and not Path("b2.npz").exists()


def test_data_file_rules(workdir, capsys):
    """'Data files': header allowed, 0-based data rows in messages, a single class is +1."""
    Path("nan.csv").write_text("a,b,label\n1,2,cat\nnan,1,dog\n")
    assert main(["audit", "nan.csv"]) == 2
    assert "row 1" in capsys.readouterr().err
    Path("ragged.csv").write_text("a,b,label\n1,2,cat\n1,dog\n")
    assert main(["audit", "ragged.csv"]) == 2
    assert "row 1" in capsys.readouterr().err
    Path("one.csv").write_text("a,b,label\n1,2,cat\n2,1,cat\n")
    assert main(["audit", "one.csv", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == ["cat"] and report["positive_label"] == "cat"
