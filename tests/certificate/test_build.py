"""verify.certificate.build: structure-aware solve, verdicts, determinism, hashes, schema."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.certificate.build import (
    _class_entry,
    build_certificate,
    data_digest,
    dumps_certificate,
    model_digest,
)
from verify.checker.arithmetic import format_rational
from verify.checker.check import check_file
from verify.checker.hashes import data_sha256, model_sha256
from verify.checker.readers import read_data, read_model
from verify.cli.main import main
from verify.convex.routes import ClassSolve, optimal_weights, solve_dataset
from verify.io.datasets import check_dataset, load_dataset
from verify.io.models import save_model
from verify.network.model import Network, objective_upper_bound

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _write_json_data(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    path.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    return path


def _cycle(tmp: Path, data: Path, *extra: str, suffix: str = ".npz") -> tuple[dict, Path]:
    """solve -o model, certify, return the certificate and its path."""
    model = tmp / f"opt{suffix}"
    cert = tmp / "cert.json"
    assert main(["solve", str(data), "-o", str(model), *extra]) == 0
    assert main(["certify", str(data), str(model), "-o", str(cert), *extra]) == 0
    return json.loads(cert.read_text()), cert


@pytest.fixture(scope="module")
def general2d(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("g2")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 2))
    y = np.array([1, -1, 1, 1, -1, -1, 1, -1, 1, -1])
    data = _write_json_data(tmp / "g2.json", X, y)
    cert, path = _cycle(tmp, data)
    return tmp, data, cert, path


def test_f1_closed_form(tmp_path, capsys):
    shutil.copy(EXAMPLES / "f1.json", tmp_path / "f1.json")
    cert, path = _cycle(tmp_path, tmp_path / "f1.json")
    c = cert["classes"][0]
    assert c["method"] == "closed-form" and c["verdict"] == "globally-optimal-within"
    assert "patterns" not in c["evidence"]
    assert float(Fraction(c["relative_gap"]["exact"])) < 1e-8
    # the paper's two optimal neurons (Appendix F.1), |u| = 0.5829 and 0.6996
    W1, _, w2, _, _ = read_model(tmp_path / "opt.npz")
    norms = sorted(abs(w2[i]) * sum(r[i] ** 2 for r in W1) ** 0.5 for i in range(len(w2)))
    assert norms == pytest.approx([0.58287, 0.69956], abs=1e-4)
    assert main(["check", str(path)]) == 0


def test_bias_feature_and_safetensors(tmp_path):
    shutil.copy(EXAMPLES / "f1.json", tmp_path / "f1.json")
    cert, path = _cycle(tmp_path, tmp_path / "f1.json", "--bias", suffix=".safetensors")
    assert cert["data"]["bias"] is True and cert["data"]["n_features"] == 3
    assert cert["model"]["path"] == "opt.safetensors"
    assert main(["check", str(path)]) == 0
    obj = dict(cert, data=dict(cert["data"], bias=False))  # the hash covers the bias column
    (tmp_path / "nobias.json").write_text(json.dumps(obj))
    assert main(["check", str(tmp_path / "nobias.json")]) == 1


def test_convex_optimum_general_2d(general2d):
    tmp, data, cert, path = general2d
    c = cert["classes"][0]
    assert c["method"] == "chambers" and c["verdict"] == "globally-optimal-within"
    assert c["evidence"]["count_proof"]["method"] == "rank-2"
    assert len(c["evidence"]["patterns"]) == 2 * 10
    lb, ub = Fraction(c["lower_bound"]["exact"]), Fraction(c["upper_bound"]["exact"])
    assert lb <= ub and (ub - lb) / ub < Fraction(1, 10**7)
    res = check_file(path)
    assert res.valid and res.lower_bound >= lb and res.upper_bound <= ub


def test_upper_bound_matches_network_route(general2d):
    """Certificate UB (rounded up) >= the library's exact UB(theta), within 2**-60."""
    tmp, data, cert, path = general2d
    ds = load_dataset(data)
    mw = read_model(tmp / "opt.npz")
    net = Network(np.array(mw[0]), np.array(mw[2]))
    ub, _ = objective_upper_bound(net, ds.X, ds.y)
    claimed = Fraction(cert["classes"][0]["upper_bound"]["exact"])
    assert ub <= claimed <= ub * (1 + Fraction(1, 2**60))
    assert check_file(path).upper_bound == ub  # the checker's independent exact route


def test_suboptimal_network(general2d, tmp_path):
    tmp, data, _, _ = general2d
    W1, _, w2, _, _ = read_model(tmp / "opt.npz")
    W1, w2 = np.array(W1), np.array(w2)
    # rotate the first neuron a little: still separating, strictly larger cost
    t = 0.05
    W1s = W1.copy()
    W1s[:, 0] = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ W1[:, 0]
    w2s = w2
    model = tmp_path / "sub.npz"
    save_model(model, W1s, w2s)
    cert = tmp_path / "sub.json"
    assert main(["certify", str(data), str(model), "-o", str(cert)]) == 0
    c = json.loads(cert.read_text())["classes"][0]
    assert c["verdict"] == "suboptimal"
    assert Fraction(c["optimal_network"]["upper_bound"]["exact"]) < Fraction(
        c["upper_bound"]["exact"]
    )
    # the data live outside the certificate's folder: name them explicitly
    assert main(["check", str(cert), "--data", str(data), "--model", str(model)]) == 0


def test_general_3d_chambers_and_multiclass(tmp_path):
    for name in ("grid3", "three_class"):
        shutil.copy(EXAMPLES / f"{name}.json", tmp_path / f"{name}.json")
        cert, path = _cycle(tmp_path, tmp_path / f"{name}.json")
        ds = load_dataset(tmp_path / f"{name}.json")
        assert len(cert["classes"]) == ds.Y.shape[1]
        for c in cert["classes"]:
            assert c["method"] in ("chambers", "support-chambers")
            assert c["verdict"] == "globally-optimal-within"
        assert check_file(path).valid
        # the whole chamber list: the same bounds from the other evidence
        full = tmp_path / "full.cert.json"
        assert main(["certify", str(tmp_path / f"{name}.json"), str(tmp_path / "opt.npz"),
                     "-o", str(full), "--full-chambers"]) == 0
        res = check_file(full)
        assert res.valid
        for c, f in zip(cert["classes"], json.loads(full.read_text())["classes"]):
            assert f["method"] == "chambers" and f["verdict"] == "globally-optimal-within"
            lb, lbf = (Fraction(e["lower_bound"]["exact"]) for e in (c, f))
            assert abs(lb - lbf) <= Fraction(1, 10**9) * lbf
            assert c["upper_bound"] == f["upper_bound"]
    W1, s1, _, s2, _ = read_model(tmp_path / "opt.npz")
    assert len(s1) == 3 and s1[0] == 3 and s2 == s1[::2]  # (K, d, m) and (K, m)


def test_closed_form_and_chamber_routes_agree():
    """Two independent lower-bound routes on orthogonally separable data."""
    rng = np.random.default_rng(5)
    X = np.abs(rng.standard_normal((6, 2))) * np.array([1, 1, 1, -1, -1, -1])[:, None]
    y = np.array([1, 1, 1, -1, -1, -1])
    ds = check_dataset(X, y)
    (cs,) = solve_dataset(ds)
    assert cs.method == "closed-form" and cs.orthogonal
    W1, w2 = optimal_weights([cs], 2)
    net = Network(W1, w2)
    a = _class_entry(ds.X, cs, net, limit=10**5, tol=Fraction(1, 10**6))
    cs2 = ClassSolve(0, 1, cs.y, cs.solution, "column-generation", False, None)
    b = _class_entry(ds.X, cs2, net, limit=10**5, tol=Fraction(1, 10**6))
    assert a["method"] == "closed-form" and b["method"] == "chambers"
    lbs = [Fraction(e["lower_bound"]["exact"]) for e in (a, b)]
    ubs = [Fraction(e["upper_bound"]["exact"]) for e in (a, b)]
    assert max(lbs) <= min(ubs)
    assert abs(lbs[0] - lbs[1]) <= Fraction(1, 10**9) * ubs[0]


def test_restricted_when_enumeration_limited_and_sampled(general2d, tmp_path):
    tmp, data, _, _ = general2d
    cert = tmp_path / "r.json"
    assert main(["certify", str(data), str(tmp / "opt.npz"), "-o", str(cert), "--limit", "3",
                 "--sampled"]) == 0
    c = json.loads(cert.read_text())["classes"][0]
    assert c["method"] == "restricted" and c["lower_bound"] is None
    assert c["verdict"] in ("restricted", "suboptimal")
    assert check_file(cert, data=data, model=tmp / "opt.npz").valid


def test_branch_and_bound_when_enumeration_limited(general2d, tmp_path):
    tmp, data, _, path = general2d
    cert = tmp_path / "b.json"
    assert main(["certify", str(data), str(tmp / "opt.npz"), "-o", str(cert), "--limit", "3"]) == 0
    c = json.loads(cert.read_text())["classes"][0]
    ref = json.loads(path.read_text())["classes"][0]  # the same network, by the chambers
    assert c["method"] == "branch-and-bound" and c["verdict"] == ref["verdict"]
    assert Fraction(c["lower_bound"]["exact"]) <= Fraction(ref["upper_bound"]["exact"])
    assert Fraction(ref["lower_bound"]["exact"]) <= Fraction(c["upper_bound"]["exact"])
    assert check_file(cert, data=data, model=tmp / "opt.npz").valid  # outside its folder


def test_byte_identical(general2d, tmp_path):
    tmp, data, _, path = general2d
    again = tmp / "again.json"
    assert main(["certify", str(data), str(tmp / "opt.npz"), "-o", str(again)]) == 0
    assert again.read_bytes() == path.read_bytes()
    assert "/" not in json.loads(path.read_text())["data"]["path"]  # relative, same directory


def test_hashes_two_routes(tmp_path):
    ds = load_dataset(EXAMPLES / "three_class.json", bias=True)
    X, classes, Y = read_data(EXAMPLES / "three_class.json", bias=True)
    assert data_sha256(X, Y) == data_digest(ds.X, ds.Y)
    assert classes == list(ds.classes) and Y == ds.Y.tolist() and X == ds.X.tolist()
    rng = np.random.default_rng(0)
    W1, w2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4))
    for suffix in (".npz", ".safetensors"):
        save_model(tmp_path / f"m{suffix}", W1, w2)
        A, sa, b, sb, _ = read_model(tmp_path / f"m{suffix}")
        assert model_sha256(A, sa, b, sb) == model_digest(W1, w2)


@pytest.mark.parametrize("labels", [["b", "a", "b"], [0, 1, 1], [3, 7, 3], [2, 2, 2]])
def test_label_normalisation_matches_library(tmp_path, labels):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    for suffix in (".json", ".csv", ".npz"):
        p = tmp_path / f"d{suffix}"
        if suffix == ".json":
            p.write_text(json.dumps({"X": X.tolist(), "y": labels}))
        elif suffix == ".csv":
            p.write_text("a,b,label\n" + "".join(
                f"{r[0]!r},{r[1]!r},{v}\n" for r, v in zip(X.tolist(), labels)))
        else:
            np.savez(p, X=X, y=np.array(labels))
        ds = load_dataset(p)
        _, classes, Y = read_data(p)
        assert classes == list(ds.classes) and Y == ds.Y.tolist()
    p = tmp_path / "col.json"
    p.write_text(json.dumps({"X": X.tolist(), "y": [[v] for v in labels]}))
    assert read_data(p)[2] == load_dataset(p).Y.tolist()


def test_schema_validates(general2d, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "certificates" / "schema-v1.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    _, _, cert, _ = general2d
    jsonschema.validate(cert, schema)
    shutil.copy(EXAMPLES / "f1.json", tmp_path / "f1.json")
    cert2, _ = _cycle(tmp_path, tmp_path / "f1.json")
    jsonschema.validate(cert2, schema)
    bad = dict(cert2, version=2)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_solve_json_and_infeasible(tmp_path, capsys):
    shutil.copy(EXAMPLES / "f1.json", tmp_path / "f1.json")
    assert main(["solve", str(tmp_path / "f1.json"), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    (c,) = obj["classes"]
    assert set(c) >= {"label", "status", "method", "optimal_value", "lower_bound",
                      "upper_bound", "neurons"}
    assert {n["pattern"] for n in c["neurons"]} == {"10", "01"}
    assert "name" in obj["solver"]
    bad = _write_json_data(tmp_path / "bad.json", np.array([[1.0, 0.0], [2.0, 0.0]]),
                           np.array([1, -1]))
    assert main(["solve", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "infeasible" in err and err.count("\n") == 1


def test_certify_rejects_nonseparating_model(general2d, tmp_path, capsys):
    tmp, data, _, _ = general2d
    model = tmp_path / "zero.npz"
    save_model(model, np.ones((2, 1)), np.ones(1))
    assert main(["certify", str(data), str(model), "-o", str(tmp_path / "c.json")]) == 2
    assert "margin" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_build_certificate_text_is_deterministic():
    ds = check_dataset(np.array([[1.65, 0.47], [-0.47, 1.35]]), np.array([1, -1]))
    solves = solve_dataset(ds)
    net = Network(*optimal_weights(solves, 2))
    kw = dict(data_path="d.json", model_path="m.npz", cert_path="c.json", solves=solves)
    assert dumps_certificate(build_certificate(ds, net, **kw)) == dumps_certificate(
        build_certificate(ds, net, **kw)
    )


def test_bounds_bracket_the_direct_program(general2d):
    """Independent route: program (14) over the exact chamber list, solved directly."""
    from verify.convex.programs import solve_primal
    from verify.geometry.chambers import enumerate_chambers

    tmp, data, cert, _ = general2d
    ds = load_dataset(data)
    direct = solve_primal(ds.X, ds.y.astype(float), enumerate_chambers(ds.X))
    c = cert["classes"][0]
    lb, ub = Fraction(c["lower_bound"]["exact"]), Fraction(c["upper_bound"]["exact"])
    assert float(lb) <= direct.value * (1 + 1e-7) and direct.value <= float(ub) * (1 + 1e-7)
    assert direct.lower_bound is None or direct.lower_bound <= ub


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 9), d=st.integers(2, 3))
def test_random_certificates_check(seed, n, d):
    """End to end on random data: the certificate of the convex optimum checks valid,
    brackets the solver's value, and is globally optimal within the tolerance."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(rng.standard_normal(n) > 0, 1, -1)
    ds = check_dataset(X, y)
    solves = solve_dataset(ds)
    W1, w2 = optimal_weights(solves, d)
    cert = build_certificate(ds, Network(W1, w2), data_path="d.json", model_path="m.npz",
                             cert_path="c.json", solves=solves)
    from verify.checker.check import check_certificate

    Xl, classes, Y = X.tolist(), list(ds.classes), ds.Y.tolist()
    res = check_certificate(cert, Xl, classes, Y, (W1.tolist(), W1.shape, w2.tolist(),
                                                   w2.shape, False))
    assert res.valid, res.failures
    c = cert["classes"][0]
    value = solves[0].solution.value
    assert res.lower_bound <= res.upper_bound
    assert float(res.lower_bound) <= value * (1 + 1e-7) <= float(res.upper_bound) * (1 + 2e-7)
    assert c["verdict"] == "globally-optimal-within", c["verdict_detail"]


def test_certify_self_check_refuses_a_wrong_certificate(general2d, tmp_path, monkeypatch, capsys):
    import verify.certificate.build as vc

    tmp, data, _, _ = general2d
    real = vc.build_certificate

    def wrong(*a, **k):  # a builder bug: a lower bound above the evidence
        cert = real(*a, **k)
        lb = cert["classes"][0]["lower_bound"]
        lb["exact"] = format_rational(Fraction(lb["exact"]) * 2)
        return cert

    monkeypatch.setattr(vc, "build_certificate", wrong)
    out = tmp_path / "c.json"
    assert main(["certify", str(data), str(tmp / "opt.npz"), "-o", str(out)]) == 1
    assert "lower-bound" in capsys.readouterr().err and not out.exists()
    assert main(["certify", str(data), str(tmp / "opt.npz"), "-o", str(out),
                 "--no-self-check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "verify-certificate"
    assert main(["check", str(out), "--data", str(data), "--model", str(tmp / "opt.npz")]) == 1
    assert "lower-bound:" in capsys.readouterr().out


def test_unfinished_tree_gives_proven_gap(tmp_path, monkeypatch):
    """A branch-and-bound tree cut after one node: s > 1, LB = y^T lam / s, a gap above the
    tolerance, and the verdict ``proven-gap`` that names s, accepted by the checker; the same
    verdict over a gap at or below the tolerance, or with a changed sentence, is refused."""
    from verify.certificate.build import build_certificate, dumps_certificate
    from verify.convex.column_generation_bab import solve_branch_and_bound

    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 4))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1.0, -1.0)
    data = _write_json_data(tmp_path / "d.json", X, y)
    ds = load_dataset(data)
    # the final proof's rounds off: its dual over the leaves would find a lam whose one-node
    # trees prove s <= 1 (a weaker bound, but no longer the unfinished tree this test needs)
    import verify.convex.final_proof as final_proof

    monkeypatch.setattr(final_proof, "_TREE_DUAL_ROUNDS", 0)
    sol = solve_branch_and_bound(ds.X, ds.Y[:, 0], node_limit=1, max_rounds=3,
                                 support_limit=0)  # the trees (support chambers: complete)
    cs = ClassSolve(0, ds.positive_label, ds.Y[:, 0].astype(float), sol, "branch-and-bound",
                    False, None)
    W1, w2 = optimal_weights([cs], 4)
    save_model(tmp_path / "m.npz", W1, w2)
    cert_path = tmp_path / "c.cert.json"
    cert = build_certificate(ds, Network(W1, w2), data_path=data, model_path=tmp_path / "m.npz",
                             cert_path=cert_path, solves=[cs])
    c = cert["classes"][0]
    s = Fraction(c["s"])
    assert c["method"] == "branch-and-bound" and s > 1
    assert c["verdict"] == "proven-gap", c["verdict_detail"]
    assert f"LB = y^T lambda / s, s = {float(s):.6g})" in c["verdict_detail"]
    assert Fraction(c["relative_gap"]["exact"]) > Fraction(1, 10**6)
    cert_path.write_text(dumps_certificate(cert))
    rep = check_file(cert_path)
    assert rep.valid, rep.failures
    bad = json.loads(cert_path.read_text())
    bad["classes"][0]["verdict_detail"] = bad["classes"][0]["verdict_detail"].replace(
        "proven-gap", "proven-gap (tree finished)")
    cert_path.write_text(dumps_certificate(bad))
    assert [f.rule for f in check_file(cert_path).failures] == ["verdict-detail"]
    bad = json.loads(json.dumps(cert))
    bad["tolerance"] = format_rational(Fraction(c["relative_gap"]["exact"]))
    cert_path.write_text(dumps_certificate(bad))
    assert "verdict" in [f.rule for f in check_file(cert_path).failures]
