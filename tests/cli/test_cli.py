"""The command line: exit codes, JSON keys, messages, atomic output (verify.cli.main)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from verify.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

AUDIT_KEYS = {
    "samples",
    "features",
    "rank",
    "classes",
    "orthogonally_separable",
    "orthogonal_separability",
    "spike_free",
    "spike_value",
    "spike_witness",
    "chambers",
    "chambers_complete",
    "count_proof",
}


def _json(capsys) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)


def test_audit_json_f1(capsys):
    assert main(["audit", str(EXAMPLES / "f1.json"), "--json"]) == 0
    obj = _json(capsys)
    assert AUDIT_KEYS <= set(obj)
    assert obj["samples"] == 2 and obj["features"] == 2 and obj["rank"] == 2
    assert obj["orthogonally_separable"] is True
    assert obj["chambers"] == 4 and obj["chambers_complete"] is True
    assert obj["spike_free"] is False  # MATH.md: F.1 is not spike-free
    assert obj["spike_value"] > 1


def test_audit_human_table_fits_100_columns(capsys):
    assert main(["audit", str(EXAMPLES / "f1.json")]) == 0
    out = capsys.readouterr().out
    assert "orthogonally separable" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_audit_writes_output_file(tmp_path, capsys):
    out = tmp_path / "rep.json"
    assert main(["audit", str(EXAMPLES / "f2.json"), "-o", str(out)]) == 0
    obj = json.loads(out.read_text())
    assert AUDIT_KEYS <= set(obj)
    assert list(tmp_path.iterdir()) == [out]  # no temporary files left behind


def test_audit_exact_zero_cross_class(tmp_path, capsys):
    # 0.1*3 + 0.2*(-1.5) is exactly 0 in the reals; floats give a tiny nonzero number.
    X = np.array([[0.1, 0.2], [3.0, -1.5]])
    p = tmp_path / "z.npz"
    np.savez(p, X=X, y=np.array([1, -1]))
    assert main(["audit", str(p), "--json"]) == 0
    obj = _json(capsys)
    assert obj["orthogonally_separable"] is True


def test_audit_float_sign_wrong(tmp_path, capsys):
    # x0.x1 = 1e16*1 + 1*1 + (-1e16)*1 = 1 > 0 exactly, but float evaluation gives 0.
    X = np.array([[1e16, 1.0, -1e16], [1.0, 1.0, 1.0]])
    assert float(X[0] @ X[1]) != 1.0
    p = tmp_path / "s.npz"
    np.savez(p, X=X, y=np.array([1, -1]))
    assert main(["audit", str(p), "--json", "--no-spike"]) == 0
    obj = _json(capsys)
    assert obj["orthogonally_separable"] is False
    worst = obj["orthogonal_separability"]["worst"][0]
    assert worst["inner_product"] == "1"


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('{"X": [[1, 2]], "y": [1, 2]}', ".json", "2 labels for 1 rows"),
        ('{"X": [[1, NaN]], "y": [1]}', ".json", "non-finite"),
        ("1,2,1\n3\n", ".csv", "columns"),
        ("hello", ".txt", "unknown data format"),
    ],
)
def test_bad_input_exit_2_one_line(tmp_path, capsys, content, suffix, message):
    p = tmp_path / f"bad{suffix}"
    p.write_text(content)
    out = tmp_path / "never.json"
    assert main(["audit", str(p), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_file_exit_2(capsys):
    assert main(["audit", "/nonexistent/data.npz"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_no_command_exit_2(capsys):
    assert main([]) == 2


def test_bad_option_exit_2(capsys):
    assert main(["enumerate", str(EXAMPLES / "f1.json"), "--limit", "zero"]) == 2


def test_enumerate_json_and_graph(tmp_path, capsys):
    g = tmp_path / "ch.graphml"
    assert main(["enumerate", str(EXAMPLES / "f1.json"), "--json", "--graph", str(g)]) == 0
    obj = _json(capsys)
    assert obj["complete"] is True and len(obj["patterns"]) == 4
    G = nx.read_graphml(g)
    assert G.number_of_nodes() > 4


def test_enumerate_graph_json(tmp_path, capsys):
    g = tmp_path / "ch.json"
    assert main(["enumerate", str(EXAMPLES / "grid3.json"), "--graph", str(g)]) == 0
    obj = json.loads(g.read_text())
    flips = nx.node_link_graph(obj["flip_graph"], edges="edges")
    assert flips.number_of_nodes() == 96 and nx.is_connected(flips)
    poset = nx.node_link_graph(obj["face_poset"], edges="edges")
    dims = [d["dim"] for _, d in poset.nodes(data=True)]
    assert dims.count(3) == 96 and dims.count(0) == 1


def test_enumerate_limit_refuses(tmp_path, capsys):
    rng = np.random.default_rng(0)
    p = tmp_path / "g.npz"
    np.savez(p, X=rng.standard_normal((30, 3)), y=np.where(rng.random(30) < 0.5, 1, -1))
    assert main(["enumerate", str(p), "--limit", "10"]) == 2
    assert "10" in capsys.readouterr().err


def test_enumerate_sampled_never_complete(tmp_path, capsys):
    rng = np.random.default_rng(1)
    p = tmp_path / "g.npz"
    np.savez(p, X=rng.standard_normal((20, 3)), y=np.where(rng.random(20) < 0.5, 1, -1))
    assert main(["enumerate", str(p), "--sampled", "500", "--json"]) == 0
    assert _json(capsys)["complete"] is False


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--outdir", str(tmp_path), "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "Appendix F.1" in out and "Appendix F.2" in out
    assert "contradicted by exact computation" in out  # F.2's body vs its heading
    report = json.loads((tmp_path / "demo.json").read_text())
    for name in ("F.1", "F.2"):
        runs = report["sets"][name]["runs"]
        assert runs and all(r["check_valid"] for r in runs)
        first = sorted((r for r in runs if r["seed"] == 0), key=lambda r: r["steps"])
        gaps = [r["relative_gap"] for r in first]
        assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-3  # the gap shrinks
        assert 1 - first[-1]["alignment"] < 1e-5  # neurons align with the optimal ones
    certs = sorted(tmp_path.glob("certificates/*/*.cert.json"))
    assert len(certs) == sum(len(report["sets"][n]["runs"]) for n in ("F.1", "F.2"))
    assert not list(tmp_path.glob("f*/*.cert.json"))  # certificates only in certificates/
    for cert in certs:
        assert main(["check", str(cert)]) == 0
    capsys.readouterr()
    # the certificates folder is what `verify regress` runs on; it stays strict elsewhere
    assert main(["regress", str(tmp_path / "certificates")]) == 0
    assert main(["regress", str(tmp_path)]) == 1  # demo.json is not a certificate


def test_train_then_plot(tmp_path, capsys):
    model, traj, fig = tmp_path / "m.npz", tmp_path / "t.npz", tmp_path / "c.png"
    args = ["train", str(EXAMPLES / "f1.json"), "--steps", "200", "--schedule", "loss-scaled"]
    assert main([*args, "-o", str(model), "--record", str(traj), "--json"]) == 0
    summary = _json(capsys)
    assert summary["steps"] == 200 and summary["normalised_margin"] > 0
    assert main(["plot", "circle", str(EXAMPLES / "f1.json"), "--trajectory", str(traj),
                 "--model", str(model), "-o", str(fig)]) == 0
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_refuses_wrong_dimension(tmp_path, capsys):
    out = tmp_path / "never.png"
    assert main(["plot", "polar", str(EXAMPLES / "grid3.json"), "-o", str(out)]) == 2
    assert "needs N = 2" in capsys.readouterr().err
    assert not out.exists()


def test_train_bad_options(tmp_path, capsys):
    base = ["train", str(EXAMPLES / "f1.json"), "-o", str(tmp_path / "m.npz")]
    assert main([*base, "--lr", "-1"]) == 2
    assert "lr" in capsys.readouterr().err
    assert main([*base, "--record", str(tmp_path / "t.txt")]) == 2
    assert "trajectory file must end in .npz" in capsys.readouterr().err
    assert main([*base, "--neurons", "0"]) == 2


def test_python_dash_m(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "verify", "audit", str(EXAMPLES / "f1.json"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["chambers"] == 4


def test_quiet_turns_progress_off(capsys):
    from verify import progress

    try:
        assert main(["--quiet", "audit", str(EXAMPLES / "f1.json"), "--no-spike"]) == 0
        assert progress.enabled() is False
    finally:
        progress.set_enabled(True)


def test_convert_fortran_ordered_model_then_certify_and_check(tmp_path, capsys):
    # A network saved from transposed arrays (Fortran order) converts to C order, which the
    # trusted checker's pure-Python .npy reader needs.
    W1 = np.asfortranarray(np.array([[1.0, 0.2], [0.1, 1.0]]))  # (d=2, m=2), separates F.1
    w2 = np.array([1.0, -1.0])
    src, out, cert = tmp_path / "f.npz", tmp_path / "c.npz", tmp_path / "c.cert.json"
    np.savez(src, W1=W1, w2=w2)
    assert main(["convert", str(src), "-o", str(out)]) == 0
    data = str(tmp_path / "f1.json")  # beside the certificate: check reads files inside its folder
    shutil.copy(EXAMPLES / "f1.json", data)
    assert main(["certify", data, str(out), "-o", str(cert)]) == 0
    assert main(["check", str(cert)]) == 0
    assert main(["convert", str(src), "-o", str(tmp_path / "x.pt")]) == 2
    assert "must end in .npz or .safetensors" in capsys.readouterr().err
    # ... and the transposed arrays certify and check as they are (no conversion needed)
    assert main(["certify", data, str(src), "-o", str(cert)]) == 0
    assert main(["check", str(cert)]) == 0


def test_pytorch_trained_network_end_to_end(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X = torch.tensor([[1.65, 0.47], [-0.47, 1.35]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 8, bias=False), torch.nn.ReLU(), torch.nn.Linear(8, 1, bias=False)
    ).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2000):
        opt.zero_grad()
        torch.nn.functional.softplus(-y * model(X)[:, 0]).sum().backward()
        opt.step()
    pt, npz, cert = tmp_path / "net.pt", tmp_path / "net.npz", tmp_path / "net.cert.json"
    torch.save(model.state_dict(), pt)
    data = str(EXAMPLES / "f1.json")
    assert main(["certify", data, str(pt), "-o", str(cert)]) == 2
    assert "verify convert" in capsys.readouterr().err
    assert main(["convert", str(pt), "-o", str(npz)]) == 0
    assert main(["certify", data, str(npz), "-o", str(cert)]) == 0
    assert main(["check", str(cert), "--json"]) == 0
    capsys.readouterr()


def test_audit_on_a_local_cluster_is_identical(capsys):
    pytest.importorskip("distributed")
    data = str(EXAMPLES / "grid3.json")
    assert main(["audit", data, "--json"]) == 0
    serial = capsys.readouterr().out
    assert main(["audit", data, "--json", "--workers", "2"]) == 0
    assert capsys.readouterr().out == serial


def test_cluster_options_bad_input(capsys):
    data = str(EXAMPLES / "f1.json")
    assert main(["audit", data, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "at most one" in capsys.readouterr().err


def test_certify_on_a_local_cluster_is_byte_identical(tmp_path, capsys):
    pytest.importorskip("distributed")
    rng = np.random.default_rng(7)
    data = tmp_path / "g.json"
    X = rng.standard_normal((16, 3))
    data.write_text(json.dumps({"X": X.tolist(), "y": [1, -1] * 8}))
    model = tmp_path / "opt.npz"
    assert main(["solve", str(data), "-o", str(model)]) == 0
    for extra, method in (((), "support-chambers"), (("--full-chambers",), "chambers")):
        a, b = tmp_path / "a.cert.json", tmp_path / "b.cert.json"
        assert main(["certify", str(data), str(model), "-o", str(a), *extra]) == 0
        assert main(["certify", str(data), str(model), "-o", str(b), "--workers", "2",
                     *extra]) == 0
        assert a.read_bytes() == b.read_bytes()
        assert json.loads(a.read_text())["classes"][0]["method"] == method


def test_directory_instead_of_a_file(tmp_path, capsys):
    assert main(["audit", str(tmp_path)]) == 2
    assert "not a file" in capsys.readouterr().err
    assert main(["convert", str(tmp_path), "-o", str(tmp_path / "m.npz")]) == 2
    assert "not a file" in capsys.readouterr().err


def test_every_subcommand_has_an_implementation_and_an_example():
    import argparse

    from verify.cli import main as cli
    from verify.cli.commands import COMMANDS

    sub = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS) == set(cli.EXAMPLES)
    for name, p in sub.choices.items():
        assert p.epilog == cli.EXAMPLES[name] and p.epilog.startswith(f"example: verify {name}")
