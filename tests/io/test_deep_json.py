"""Deeply nested JSON in a data file or a safetensors header (a second adversarial review):
one line and exit 2, never a RecursionError traceback from solve, audit, train, enumerate,
certify or convert."""

from __future__ import annotations

import json
import struct

import pytest

from verify.cli.main import main

DEEP = "[" * 200_000 + "]" * 200_000


@pytest.mark.parametrize("cmd", ["solve", "audit", "train", "enumerate"])
def test_deeply_nested_data_json_exits_2(tmp_path, capsys, cmd):
    p = tmp_path / "d.json"
    p.write_text('{"X": ' + DEEP + ', "y": [1]}')
    args = [cmd, str(p)] + (["-o", str(tmp_path / "m.npz")] if cmd == "train" else [])
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "nested too deeply" in err


def test_deeply_nested_safetensors_header_exits_2(tmp_path, capsys):
    head = ('{"W1": ' + DEEP + "}").encode()
    p = tmp_path / "m.safetensors"
    p.write_bytes(struct.pack("<Q", len(head)) + head)
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"X": [[1.0, 0.0], [-1.0, 0.0]], "y": [1, -1]}))
    capsys.readouterr()
    assert main(["convert", str(p), "-o", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "nested too deeply" in err, err
