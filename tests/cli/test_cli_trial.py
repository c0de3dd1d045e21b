"""Findings of a new-user trial of the command line: one clean line on bad output paths,
readable text output, consistent messages (verify.cli.main)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from verify.cli.main import main
from verify.network import training as dynamics

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
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
    if suffix == ".pt":
        pytest.importorskip("torch")  # without torch: the 'needs torch' message comes first
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
    import verify.io.safetensors as st

    assert not hasattr(st, "atomic_write")


def test_library_writers_raise_input_error(tmp_path):
    import importlib.util

    from verify.errors import InputError
    from verify.geometry.lattice import face_poset, write_graphml
    from verify.io.models import save_model
    from verify.network.trajectory import Trajectory

    has_torch = importlib.util.find_spec("torch") is not None
    for suffix in (".npz", ".safetensors", ".pt") if has_torch else (".npz", ".safetensors"):
        with pytest.raises(InputError, match="does not exist"):
            save_model(tmp_path / "nodir" / f"m{suffix}", np.ones((1, 1)), np.ones(1))
    with pytest.raises(InputError, match="does not exist"):
        write_graphml(face_poset([[1.0, 0.0]]), tmp_path / "nodir" / "p.graphml")
    from verify.io.datasets import load_dataset

    res = dynamics.train_dataset(load_dataset(F1), neurons=2, steps=5, record="log")
    assert isinstance(res.trajectory, Trajectory)
    with pytest.raises(InputError, match="does not exist"):
        res.trajectory.save(tmp_path / "nodir" / "t.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 2. whole pickled models


def test_convert_whole_pickled_module_one_line(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 3, bias=False), torch.nn.ReLU(), torch.nn.Linear(3, 1, bias=False)
    )
    p = tmp_path / "full_model.pt"
    torch.save(model, p)
    assert main(["convert", str(p), "-o", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    _one_clean_line(err, "full_model.pt: a pickled model object", "save model.state_dict()")
    assert len(err.strip().replace(str(p), "")) <= 140
    # the state_dict of the same model converts
    torch.save(model.state_dict(), tmp_path / "sd.pt")
    assert main(["convert", str(tmp_path / "sd.pt"), "-o", str(tmp_path / "x.npz")]) == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"hello world garbage", "not a PyTorch file"), (None, "not a readable PyTorch")],
)
def test_convert_garbage_pt_one_line(tmp_path, capsys, content, needle):
    torch = pytest.importorskip("torch")
    p = tmp_path / "bad.pt"
    if content is None:  # a truncated zip
        torch.save({"0.weight": torch.ones(3, 2)}, p)
        content = p.read_bytes()[:100]
    p.write_bytes(content)
    assert main(["convert", str(p), "-o", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    _one_clean_line(err, needle)
    assert len(err.strip().replace(str(p), "")) <= 160


def test_one_line_strips_escape_codes():
    from verify.io.models import one_line

    text = "Weights \x1b[1mdo this\x1b[0m.\n\t(1) first\n\n(2) second"
    assert one_line(text) == "Weights do this. (1) first (2) second"


# ------------------------------------------------------------------ 5, 6. audit text


def test_audit_text_shows_inner_products_as_decimals(tmp_path, capsys):
    from fractions import Fraction

    rng = np.random.default_rng(0)
    X = np.round(rng.standard_normal((6, 3)), 2) / 7  # long exact inner products
    p = tmp_path / "f.npz"
    np.savez(p, X=X, y=np.array([1, -1, 1, -1, 1, -1]))
    assert main(["audit", str(p), "--no-spike", "--json"]) == 0
    worst = json.loads(capsys.readouterr().out)["orthogonal_separability"]["worst"]
    assert worst and all("/" in str(w["inner_product"]) for w in worst)  # exact in --json
    assert main(["audit", str(p), "--no-spike"]) == 0
    out = capsys.readouterr().out
    pairs = [ln for ln in out.splitlines() if ln.strip().startswith("pair (")]
    assert len(pairs) == min(3, len(worst))
    for ln, w in zip(pairs, worst):
        assert "/" not in ln and "..." not in ln, ln
        shown = float(ln.split("≈")[1])
        exact = Fraction(w["inner_product"])
        assert (shown > 0) == (exact > 0) and abs(shown - float(exact)) <= 1e-5 * abs(exact)


def test_audit_text_gives_the_reason_chambers_are_unknown(capsys):
    data = str(EXAMPLES / "grid3.json")
    assert main(["audit", data, "--limit", "10", "--no-spike", "--json"]) == 0
    note = json.loads(capsys.readouterr().out)["count_proof"]["note"]
    assert main(["audit", data, "--limit", "10", "--no-spike"]) == 0
    out = capsys.readouterr().out
    assert "reason" in out and "more than limit=10" in out
    assert " ".join(out.split()).count(" ".join(note.split())) == 1  # the whole reason, wrapped
    assert max(len(ln) for ln in out.splitlines()) <= 100


def test_audit_text_reason_without_count(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    p = tmp_path / "big.npz"
    np.savez(p, X=X, y=np.where(X[:, 0] > 0, 1, -1))
    assert main(["audit", str(p), "--no-spike", "--limit", "100"]) == 0
    out = capsys.readouterr().out
    assert "(none)" not in out
    assert "Cover's bound" in out and "limit=100" in out


# ------------------------------------------------------------------ 8. one class


def test_single_class_warns_in_audit_and_certify(tmp_path, capsys):
    p = tmp_path / "one.npz"
    np.savez(p, X=np.array([[1.0, 0.2], [0.3, 1.0], [0.5, 0.5]]), y=np.array([1, 1, 1]))
    assert main(["audit", str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == [
        "only one class (label 1): every label is +1"
    ]
    assert main(["audit", str(p)]) == 0
    assert "only one class (label 1): every label is +1" in capsys.readouterr().out
    opt = tmp_path / "opt.npz"
    assert main(["solve", str(p), "-o", str(opt)]) == 0
    assert main(["certify", str(p), str(opt), "-o", str(tmp_path / "c.json")]) == 0
    assert "warning: only one class" in capsys.readouterr().out


def test_two_classes_no_warning(capsys):
    assert main(["audit", F1, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []


# ------------------------------------------------------------------ 7. enumerate patterns


def _shown_patterns(out: str) -> list[str]:
    return [ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("D_")]


def test_enumerate_text_shows_0_1_patterns_sample_0_first(capsys):
    from verify.geometry.chambers import enumerate_chambers
    from verify.io.datasets import load_dataset

    data = str(EXAMPLES / "grid3.json")
    assert main(["enumerate", data]) == 0
    out = capsys.readouterr().out
    assert "sample 0 first" in out
    P = enumerate_chambers(load_dataset(data).X).pattern_matrix().astype(int)
    expected = ["".join(map(str, row)) for row in P[:20]]
    assert _shown_patterns(out) == expected


def test_enumerate_text_patterns_match_graph_nodes(tmp_path, capsys):
    g = tmp_path / "g.json"
    assert main(["enumerate", F1, "--graph", str(g)]) == 0
    out = capsys.readouterr().out
    nodes = json.loads(g.read_text())["flip_graph"]["nodes"]
    assert _shown_patterns(out) == [nd["pattern"] for nd in nodes]


def test_enumerate_text_many_samples_in_hex(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((70, 2))
    p = tmp_path / "w.npz"
    np.savez(p, X=X, y=np.where(X[:, 0] > 0, 1, -1))
    assert main(["enumerate", str(p), "--json"]) == 0
    hexes = json.loads(capsys.readouterr().out)["patterns"]
    assert main(["enumerate", str(p)]) == 0
    out = capsys.readouterr().out
    assert "hex" in out and "N = 70 > 64" in out
    assert _shown_patterns(out) == hexes[:20]


# ------------------------------------------------------------------ 9. suboptimal line


def test_certify_suboptimal_line_fits_and_names_the_bounds(tmp_path, capsys):
    from fractions import Fraction

    # F.1's two optimal directions plus a dead neuron (ReLU is 0 on both samples) of weight 50:
    # the margins are unchanged, the norm term is inflated, so the network is suboptimal
    net = tmp_path / "sub.npz"
    np.savez(net, W1=np.array([[1.65, -0.47, 0.0], [0.47, 1.35, -10.0]]),
             w2=np.array([1.0, -1.0, 5.0]))
    cert = tmp_path / "sub.cert.json"
    assert main(["certify", F1, str(net), "-o", str(cert)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert len(line) <= 100, line
    assert line.startswith("class 1: suboptimal: objective >= ")
    assert "= UB(optimal network) >= P*" in line and line.endswith("[closed-form]")
    entry = json.loads(cert.read_text())["classes"][0]
    assert entry["verdict"] == "suboptimal"
    assert entry["verdict_detail"].endswith("(the convex optimum's network)")  # file unchanged
    a, b = (float(t) for t in line.split("objective >= ")[1].split(" = ")[0].split(" > "))
    ub_opt = float(Fraction(entry["optimal_network"]["upper_bound"]["exact"]))
    assert a > b and abs(b - ub_opt) <= 1e-8 * ub_opt
    assert a <= float(Fraction(entry["upper_bound"]["exact"])) * (1 + 1e-8)  # 9 digits shown


# ------------------------------------------------------------------ 10. class index and label

CERTS = Path(__file__).resolve().parents[2] / "certificates"


def _tampered_copy(tmp_path: Path, name: str = "f1-trained.cert.json") -> Path:
    import shutil
    from fractions import Fraction

    from verify.checker.arithmetic import format_rational

    shutil.copytree(CERTS, tmp_path / "certs")
    p = tmp_path / "certs" / name
    cert = json.loads(p.read_text())
    ub = cert["classes"][0]["upper_bound"]
    ub["exact"] = format_rational(Fraction(ub["exact"]) / 2)
    ub["float"] = float(Fraction(ub["exact"]))  # a consistent twin: only the bound is wrong
    p.write_text(json.dumps(cert))
    return p


def test_check_failure_names_class_index_and_label(tmp_path, capsys):
    p = _tampered_copy(tmp_path)
    label = json.loads(p.read_text())["classes"][0]["label"]
    assert main(["check", str(p), "--json"]) == 1
    details = [f["detail"] for f in json.loads(capsys.readouterr().out)["failures"]]
    assert any(d.startswith("class 0:") for d in details)  # the checker's own text, unchanged
    assert main(["check", str(p)]) == 1
    out = capsys.readouterr().out
    assert f"class 0 (label {label}): claimed UB" in out


# ------------------------------------------------------------------ 11. CSV messages


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("a,b,y\n1,2,1\n\n3,4\n", ["line 4 (data row 1) has 2 columns, expected 3"]),
        ("1,2,1\n3,abc,1\n", ["line 2 (data row 1), column 2", "'abc'"]),
        ("x1,x2,y\n1,2,1\n3,nan,-1\n", ["line 3 (data row 1), column 2", "non-finite"]),
        ("a;b;y\n1;2;1\n3;4;-1\n", ["got 1 column", "is the file comma-separated?"]),
        ("a\tb\ty\n1\t2\t1\n", ["got 1 column", "is the file comma-separated?"]),
        ("y,x1,x2\ncat,1,2\ndog,3,4\n", ["line 2 (data row 0), column 1", "'cat'",
                                         "the label must be the last column"]),
    ],
)
def test_csv_errors_name_file_lines_and_hint(tmp_path, capsys, text, needles):
    p = tmp_path / "d.csv"
    p.write_text(text)
    assert main(["audit", str(p)]) == 2
    _one_clean_line(capsys.readouterr().err, *needles)


def test_csv_line_numbers_agree_with_the_file(tmp_path):
    """The line a message names is the file line holding the bad cell (blank lines count)."""
    from verify.errors import InputError
    from verify.io.datasets import load_dataset

    lines = ["x1,x2,y", "1,2,1", "", "2,3,-1", "", "", "4,oops,1", "5,6,-1"]
    p = tmp_path / "d.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        load_dataset(p)
    L = int(str(err.value).split("line ")[1].split(" ")[0])
    assert "oops" in lines[L - 1]


def test_regress_text_fits_100_columns_and_names_labels(tmp_path, capsys):
    p = _tampered_copy(tmp_path)
    label = json.loads(p.read_text())["classes"][0]["label"]
    assert main(["regress", str(tmp_path / "certs")]) == 1
    out, err = capsys.readouterr()
    assert max(len(ln) for ln in (out + err).splitlines()) <= 100
    assert f"upper-bound: class 0 (label {label}): claimed UB" in out
    assert err.splitlines() == [f"verify regress: {p.name} FAILED: upper-bound"]


# ------------------------------------------------------------------ 12. smaller findings


def test_check_a_csv_is_not_a_certificate(capsys):
    assert main(["check", str(EXAMPLES / "f1.csv")]) == 2
    _one_clean_line(capsys.readouterr().err, "f1.csv: not a certificate (not JSON)")


@pytest.mark.parametrize("opt", ["--data", "--model"])
def test_check_data_or_model_directory(capsys, opt):
    cert = str(CERTS / "f1-trained.cert.json")
    assert main(["check", cert, opt, str(EXAMPLES)]) == 2
    _one_clean_line(capsys.readouterr().err, f"{opt} {EXAMPLES}: is a directory")


def test_check_certificate_directory(capsys):
    assert main(["check", str(CERTS)]) == 2
    _one_clean_line(capsys.readouterr().err, "is a directory", "verify regress")


def test_solve_prints_digits_that_show_the_gap(capsys):
    assert main(["solve", F1, "--json"]) == 0
    c = json.loads(capsys.readouterr().out)["classes"][0]
    lb, ub = c["lower_bound"]["float"], c["upper_bound"]["float"]
    assert lb < ub  # a real gap, which 6 digits hide
    assert f"{lb:.6g}" == f"{ub:.6g}"
    assert main(["solve", F1]) == 0
    shown = capsys.readouterr().out.split(", ")[2]
    a, b = shown.split(" <= P* <= ")
    assert a != b and len(a.replace(".", "")) >= 10
    assert abs(float(a) - lb) <= 1e-9 * lb and abs(float(b) - ub) <= 1e-9 * ub


def test_bounds_text_equal_floats_stop_at_17_digits():
    from verify.cli.commands import bounds_text

    assert bounds_text(0.1, 0.1) == "0.1 <= P* <= 0.1"
    a, b = bounds_text(0.1, np.nextafter(0.1, 1.0)).split(" <= P* <= ")
    assert a != b and float(a) == 0.1 and float(b) == np.nextafter(0.1, 1.0)


def test_enumerate_says_where_files_went(tmp_path, capsys):
    g, o = tmp_path / "g.graphml", tmp_path / "c.json"
    assert main(["enumerate", F1, "--graph", str(g), "-o", str(o)]) == 0
    out = capsys.readouterr().out
    assert f"flip graph and face poset written to {g} (GraphML)" in out
    assert f"chamber list written to {o}" in out
    assert g.is_file() and o.is_file()


def test_convert_json(tmp_path, capsys):
    src, out = _net(tmp_path), tmp_path / "n.safetensors"
    assert main(["convert", src, "-o", str(out), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj == {"input": src, "input_format": "npz", "output": str(out),
                   "W1_shape": [2, 2], "w2_shape": [2], "bias_feature": False, "notes": []}
    from verify.io.models import load_weights

    assert load_weights(out).W1.tolist() == [[1.0, -1.0], [0.5, 2.0]]


def test_gitignore_lists_the_readme_outputs():
    root = Path(__file__).resolve().parents[2]
    ignored = set((root / ".gitignore").read_text().split())
    for name in ("/net.npz", "/net.pt", "/net.cert.json", "/opt.npz", "/regress.xml",
                 "/demo-out/"):
        assert name in ignored, name


def test_plot_output_in_missing_folder_before_drawing(tmp_path, capsys):
    out = tmp_path / "nodir" / "x.png"
    assert main(["plot", "circle", F1, "-o", str(out)]) == 2
    _one_clean_line(capsys.readouterr().err, "-o: cannot write", "does not exist")
