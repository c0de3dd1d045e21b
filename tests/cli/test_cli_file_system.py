"""Paths the file system refuses (session 23): a file name longer than the system allows
(``ENAMETOOLONG``) crashed every command with an ``OSError`` traceback (``Path.is_dir`` and
``stat`` raise it, unlike a missing file); now one line naming the path, shortened, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
F1 = str(ROOT / "examples" / "f1.json")
CERT = str(ROOT / "certificates" / "f1-trained.cert.json")
LONG = "d" * 3000 + "e" * 3000


@pytest.mark.parametrize("argv", [
    ["solve", LONG],
    ["audit", LONG],
    ["check", LONG],
    ["regress", LONG],
    ["check", CERT, "--data", LONG],
    ["check", CERT, "--model", LONG],
    ["solve", F1, "-o", LONG + ".npz"],
    ["train", F1, "-o", LONG + ".npz"],
], ids=["solve", "audit", "check", "regress", "check-data", "check-model", "solve-o",
        "train-o"])
def test_a_name_too_long_is_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out + err, err[:500]
    assert lines[0].startswith(f"verify {argv[0]}: error: ")
    assert "File name too long" in lines[0] and "ddd...eee" in lines[0]
    assert len(lines[0]) < 400
    assert list(tmp_path.iterdir()) == []  # nothing half-written
