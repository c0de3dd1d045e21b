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


@pytest.mark.parametrize("scale", [1e300, 1e-300])
@pytest.mark.parametrize("command", ["solve", "audit", "train", "enumerate"])
def test_data_beyond_float64_squares_is_one_line(tmp_path, capsys, scale, command):
    """Entries near 1e300 (or all near 1e-300): float64 squares overflow (underflow), and
    solve printed numpy RuntimeWarnings and a solver failure; now one line and exit 2."""
    import warnings

    from verify.cli.main import main

    p = tmp_path / "big.json"
    p.write_text(json.dumps({"X": [[scale, 2 * scale], [-3 * scale, scale / 10],
                                   [2 * scale, -scale]], "y": [1, -1, 1]}))
    extra = ["-o", str(tmp_path / "m.npz")] if command == "train" else []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main([command, str(p), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rescale the features" in err
