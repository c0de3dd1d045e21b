"""Findings of a new-user trial of the command line: one clean line on bad output paths,
readable text output, consistent messages (verify.cli)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from verify import dynamics
from verify.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
F1 = str(EXAMPLES / "f1.json")


def _one_clean_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "\x1b" not in err
    for n in needles:
        assert n in lines[0], err


def _net(tmp_path: Path) -> str:
    p = tmp_path / "net.npz"
    np.savez(p, W1=np.array([[1.0, -1.0], [0.5, 2.0]]), w2=np.array([1.0, -1.0]))
    return str(p)


# ------------------------------------------------------------------ 1. missing output folder


@pytest.mark.parametrize("suffix", [".npz", ".safetensors", ".pt"])
def test_solve_output_in_missing_folder(tmp_path, capsys, suffix):
    out = tmp_path / "nodir" / f"x{suffix}"
    assert main(["solve", F1, "-o", str(out)]) == 2
    _one_clean_line(capsys.readouterr().err, "does not exist")
    assert not (tmp_path / "nodir").exists()


def test_convert_output_in_missing_folder(tmp_path, capsys):
    out = tmp_path / "nodir" / "x.npz"
    assert main(["convert", _net(tmp_path), "-o", str(out)]) == 2
    _one_clean_line(capsys.readouterr().err, "does not exist")


@pytest.mark.parametrize("opt", ["-o", "--record"])
def test_train_checks_outputs_before_training(tmp_path, capsys, monkeypatch, opt):
    def no_training(*a, **k):
        raise AssertionError("trained before checking the output paths")

    monkeypatch.setattr(dynamics, "train_dataset", no_training)
    good = {"-o": str(tmp_path / "net.npz"), "--record": str(tmp_path / "t.npz")}
    good[opt] = str(tmp_path / "nodir" / Path(good[opt]).name)
    argv = ["train", F1, "--steps", "10", "-o", good["-o"], "--record", good["--record"]]
    assert main(argv) == 2
    _one_clean_line(capsys.readouterr().err, f"{opt}: cannot write", "does not exist")


def test_train_bad_model_suffix_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dynamics, "train_dataset", lambda *a, **k: 1 / 0)
    assert main(["train", F1, "-o", str(tmp_path / "net.onnx")]) == 2
    _one_clean_line(capsys.readouterr().err, "cannot save a model as '.onnx'")


def test_train_writes_into_existing_folder(tmp_path, capsys):
    out, rec = tmp_path / "net.npz", tmp_path / "t.npz"
    assert main(["train", F1, "--steps", "20", "-o", str(out), "--record", str(rec)]) == 0
    assert out.is_file() and rec.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz", "t.npz"]


@pytest.mark.parametrize("name", ["g.graphml", "g.json"])
def test_enumerate_graph_in_missing_folder(tmp_path, capsys, name):
    assert main(["enumerate", F1, "--graph", str(tmp_path / "nodir" / name)]) == 2
    _one_clean_line(capsys.readouterr().err, "--graph: cannot write", "does not exist")


def test_no_duplicate_atomic_writer():
    import verify.safetensors_io as st

    assert not hasattr(st, "atomic_write")


def test_library_writers_raise_input_error(tmp_path):
    from verify.errors import InputError
    from verify.lattice import face_poset, write_graphml
    from verify.model_io import save_model
    from verify.trajectory import Trajectory

    for suffix in (".npz", ".safetensors", ".pt"):
        with pytest.raises(InputError, match="does not exist"):
            save_model(tmp_path / "nodir" / f"m{suffix}", np.ones((1, 1)), np.ones(1))
    with pytest.raises(InputError, match="does not exist"):
        write_graphml(face_poset([[1.0, 0.0]]), tmp_path / "nodir" / "p.graphml")
    from verify.data import load_dataset

    res = dynamics.train_dataset(load_dataset(F1), neurons=2, steps=5, record="log")
    assert isinstance(res.trajectory, Trajectory)
    with pytest.raises(InputError, match="does not exist"):
        res.trajectory.save(tmp_path / "nodir" / "t.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
