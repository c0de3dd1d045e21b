"""verify/cli/commands.py: failed training runs, certify's cheap checks first, small points."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from verify.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
F1 = str(EXAMPLES / "f1.json")


def _csv(path: Path, X: np.ndarray, y: np.ndarray) -> str:
    head = ",".join([f"x{i}" for i in range(X.shape[1])] + ["label"])
    np.savetxt(path, np.hstack([X, y[:, None]]), delimiter=",", header=head, comments="")
    return str(path)


def _dead_data(tmp_path: Path) -> str:
    rng = np.random.default_rng(0)
    X = rng.uniform(4, 8, (30, 3))  # positive features far from the origin: neurons die
    return _csv(tmp_path / "pos.csv", X, np.where(X[:, 0] > 6, 1, -1))


# --------------------------------------------------------------------------- train


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_train_dead_network_exits_1_and_never_prints_minus_zero(tmp_path, capsys, schedule):
    out = tmp_path / "net.npz"
    argv = ["train", _dead_data(tmp_path), "--steps", "500", "--lr", "0.1", "--schedule", schedule,
            "-o", str(out)]
    assert main(argv) == 1
    cap = capsys.readouterr()
    summary_line = cap.out.splitlines()[0]  # the next line names a path, e.g. ".../pytest-0/..."
    assert "normalised margin 0," in summary_line and "-0" not in summary_line
    assert "verify train: dead network on all 30 samples" in cap.err
    assert out.is_file()  # written: the user may inspect it
    assert main([*argv, "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["succeeded"] is False and summary["n_dead_samples"] == 30


@pytest.mark.parametrize("schedule", ["constant", "loss-scaled"])
def test_train_divergence_exits_1_without_warnings(tmp_path, capsys, schedule):
    out, rec = tmp_path / "net.npz", tmp_path / "t.npz"
    argv = ["train", F1, "--lr", "1e200", "--init-scale", "1", "--steps", "300",
            "--schedule", schedule, "-o", str(out), "--record", str(rec)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would raise
        assert main(argv) == 1
    cap = capsys.readouterr()
    assert "no network written" in cap.out
    assert "verify train: training diverged: the weights or outputs became non-finite" in cap.err
    assert "Traceback" not in cap.err and "RuntimeWarning" not in cap.err
    assert not out.exists() and not rec.exists()


def test_train_growing_loss_exits_1(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = _csv(tmp_path / "g.csv", rng.standard_normal((200, 10)),
                np.sign(rng.standard_normal(200)))
    assert main(["train", data, "--schedule", "loss-scaled", "--lr", "0.1",
                 "-o", str(tmp_path / "n.npz")]) == 1
    assert "training diverged: the loss grew from 138.629" in capsys.readouterr().err


def test_train_success_exits_0(tmp_path, capsys):
    out = tmp_path / "net.npz"
    assert main(["train", F1, "--steps", "2000", "-o", str(out)]) == 0
    cap = capsys.readouterr()
    assert cap.err == "" and f"network written to {out}" in cap.out


# --------------------------------------------------------------------------- certify


def test_certify_finds_misclassification_before_any_solve(tmp_path, capsys, monkeypatch):
    import verify.certificate.build as build

    def no_solve(*a, **k):
        raise AssertionError("solved before checking the model's margins")

    monkeypatch.setattr(build, "solve_dataset", no_solve)
    net = tmp_path / "bad.npz"  # f1: x1 = (1.65, 0.47) is +1, x2 = (-0.47, 1.35) is -1
    np.savez(net, W1=np.array([[-1.0], [0.0]]), w2=np.array([1.0]))
    out = tmp_path / "c.json"
    assert main(["certify", F1, str(net), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "1 of 2 samples are misclassified (row 1, 0-based)" in err
    assert "1 lie on the decision boundary (row 0, 0-based)" in err
    assert not out.exists()


def test_certify_names_the_class_of_a_misclassifying_subnetwork(tmp_path, capsys, monkeypatch):
    import verify.certificate.build as build

    monkeypatch.setattr(build, "solve_dataset", lambda *a, **k: 1 / 0)
    data = json.loads((EXAMPLES / "three_class.json").read_text())
    d = len(data["X"][0])
    net = tmp_path / "zero.npz"
    np.savez(net, W1=np.zeros((3, d, 2)), w2=np.ones((3, 2)))  # output 0 everywhere
    assert main(["certify", str(EXAMPLES / "three_class.json"), str(net), "-o",
                 str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    first = sorted(set(data["y"]), key=str)[0]
    assert f"class {first}: " in err and "lie on the decision boundary" in err


@pytest.mark.parametrize("flags", [[], ["--no-self-check"]])
def test_certify_refuses_a_pt_model_the_checker_cannot_read(tmp_path, capsys, monkeypatch, flags):
    import verify.certificate.build as build

    monkeypatch.setattr(build, "solve_dataset", lambda *a, **k: 1 / 0)
    pt = tmp_path / "net.pt"
    pt.write_bytes((Path(__file__).parents[1] / "io" / "data" / "seq_f64.pt").read_bytes())
    out = tmp_path / "c.json"
    assert main(["certify", F1, str(pt), "-o", str(out), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "convert it first: verify convert" in err
    assert not out.exists()


# --------------------------------------------------------------------------- solve, plot


def test_restricted_solve_does_not_call_its_network_optimal(tmp_path, capsys):
    out = tmp_path / "o.npz"
    assert main(["solve", str(EXAMPLES / "grid3.json"), "--limit", "2", "--sampled", "-o",
                 str(out)]) == 0
    text = capsys.readouterr().out
    assert "restricted" in text and "optimal network" not in text
    assert f"best network found (not proven optimal; class 1: restricted) written to {out}" in text
    assert main(["solve", F1, "-o", str(out)]) == 0
    assert f"optimal network written to {out}" in capsys.readouterr().out


# --------------------------------------------------------------------------- audit, enumerate


def test_audit_strict_exits_1_on_infeasible_data(tmp_path, capsys):
    bad = tmp_path / "inf.csv"
    bad.write_text("x1,x2,label\n1,2,1\n2,4,-1\n1,0,1\n")  # row 1 = 2 * row 0, other label
    assert main(["audit", str(bad)]) == 0  # a report, as before
    assert main(["audit", str(bad), "--strict"]) == 1
    assert "positive multiples" in capsys.readouterr().out
    assert main(["audit", str(bad), "--strict", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["max_margin_feasible"] is False
    assert main(["audit", F1, "--strict"]) == 0


@pytest.mark.parametrize("name", ["g.txt", "g.gml", "graph"])
def test_enumerate_graph_refuses_unknown_suffixes(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["enumerate", F1, "--graph", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--graph: the file must end in .graphml" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_library_certify_refuses_a_pt_model_too(tmp_path, monkeypatch):
    import verify.api as api
    import verify.certificate.build as build
    from verify.errors import InputError

    monkeypatch.setattr(build, "solve_dataset", lambda *a, **k: 1 / 0)
    sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
    import torch_format as tf

    pt = tmp_path / "net.pt"  # a network that separates f1, as torch.save writes it
    sd = tf.state_dict([("0.weight", np.array([[1.0, 0.0], [0.0, 1.0]])),
                        ("2.weight", np.array([[1.0, -1.0]]))])
    pt.write_bytes(tf.torch_save_bytes(sd, str(pt)))
    with pytest.raises(InputError, match="convert it first"):
        api.certify(F1, str(pt), self_check=False)


def test_solve_verdict_is_decided_by_the_exact_bounds(tmp_path, capsys):
    """``verify solve`` names what its exact bounds prove about the network it found:
    globally optimal within the gap at the default tolerance; with ``--tolerance 0`` the same
    bounds (a gap of ~6e-12) only give ``proven-gap``, and the network is not called optimal."""
    from fractions import Fraction

    from verify.convex.routes import bounds_verdict

    assert main(["solve", F1, "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["classes"][0]
    lb, ub = Fraction(c["lower_bound"]["exact"]), Fraction(c["upper_bound"]["exact"])
    assert c["verdict"] == "globally-optimal-within" and 0 < c["relative_gap"] < 1e-9
    assert bounds_verdict(lb, ub) == ("globally-optimal-within", (ub - lb) / ub)
    assert main(["solve", F1]) == 0
    assert capsys.readouterr().out.startswith("class 1: globally-optimal-within 5.8")
    out = tmp_path / "o.npz"
    assert main(["solve", F1, "--tolerance", "0", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("class 1: proven-gap 5.8") and "network found 1.28243222" in text
    assert "best network found (not proven optimal; class 1: proven-gap 5.8" in text
    for bad in ("1", "-1", "1e-999999999", "x"):
        assert main(["solve", F1, "--tolerance", bad]) == 2
        assert "--tolerance" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["fast", "-1", "0", "nan", "inf"])
def test_train_bad_lr_is_one_line_and_exit_2(tmp_path, capsys, bad):
    out = tmp_path / "n.npz"
    assert main(["train", F1, "--lr", bad, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--lr" in err and ("'auto'" in err or "expected" in err) and not out.exists()


def test_check_counts_failed_rules_not_failure_lines(f1_suboptimal_certificate, capsys):
    """A tampered lambda fails a few rules on many lines: the header counts the rules (the
    trial saw 'INVALID: 24 failed rule(s)' for four rules) and names them."""
    cert = f1_suboptimal_certificate
    obj = json.loads(cert.read_text())
    lam = obj["classes"][0]["lambda"]
    k = next(i for i, v in enumerate(lam) if v not in ("0", 0))
    lam[k] = "-" + lam[k] if not str(lam[k]).startswith("-") else lam[k][1:]
    cert.write_text(json.dumps(obj))
    capsys.readouterr()
    assert main(["check", str(cert)]) == 1
    lines = capsys.readouterr().out.splitlines()
    head = lines[0]
    rules = sorted({ln.strip().split(":")[0] for ln in lines[1:] if ln.startswith("  ")})
    assert head.startswith(f"INVALID: {len(rules)} failed rule(s) ({', '.join(rules)})")
    assert len(lines) - 1 >= len(rules)


def test_solve_warns_about_duplicate_rows_as_certify_does(tmp_path, capsys):
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"X": [[1.0, 2.0], [0.0, 1.0], [1.0, 2.0], [-1.0, 0.5]],
                                "y": [1, -1, 1, -1]}))
    assert main(["solve", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warning: 1 duplicate row with the same label (e.g. rows 0 and 2")
    assert main(["solve", str(data), "--json"]) == 0
    json.loads(capsys.readouterr().out)  # --json stays pure JSON


def test_train_on_infeasible_data_says_why(tmp_path, capsys):
    """Conflicting duplicate rows: training can only fail, and it now says the problem is
    infeasible (as audit and solve do), not only that samples are misclassified."""
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"X": [[1.0, 2.0], [0.0, 1.0], [1.0, 2.0], [-1.0, 0.5]],
                                "y": [1, -1, -1, -1]}))
    assert main(["train", str(data), "--neurons", "4", "--steps", "50",
                 "-o", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err
    assert "verify train: the max-margin problem is infeasible: rows 0 and 2" in err
