"""Certificates whose branch-and-bound trees have semidefinite leaves: built by the route
with the semidefinite bound, accepted by the trusted checker from the file, refused when an sdp
leaf is tampered with; ``--sdp-depth`` on the command line."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest

from verify.certificate.build import build_certificate, dumps_certificate
from verify.checker.check import check_file
from verify.cli.main import main
from verify.convex.bounds import exact_yT_lam
from verify.convex.branch_and_bound import bab_maximize
from verify.convex.branch_and_bound_evidence import evidence_from_results
from verify.convex.column_generation_bab import solve_branch_and_bound
from verify.convex.node_bound import SdpPolicy, sdp_policy
from verify.convex.routes import ClassSolve, optimal_weights
from verify.errors import InputError
from verify.io.datasets import load_dataset
from verify.io.models import save_model
from verify.network.model import Network


def _data(tmp_path, seed=3, N=30, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.5 > 0, 1, -1)
    p = tmp_path / "d.json"
    p.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    return p


def _sdp_leaves(cert):
    ev = cert["classes"][0]["evidence"]
    return [n["leaf"] for t in ev["trees"].values() for n in t
            if "leaf" in n and "sdp" in n["leaf"]]


def test_certificate_with_sdp_leaves_checks_and_tampering_fails(tmp_path):
    data = _data(tmp_path)
    ds = load_dataset(data)
    y = ds.Y[:, 0].astype(float)
    ref = solve_branch_and_bound(ds.X, y, support_limit=0)  # the trees, not the chambers
    # the final lam proved again by trees with sdp leaves: the evidence and LB of the class
    lam = ref.lam
    trees = [bab_maximize(ds.X, lam, sign=t, prove_below=1.0 + 1e-7,
                          sdp=SdpPolicy(depth=1, ratio=1e9)) for t in (1, -1)]
    ev = evidence_from_results(ds.X, lam, *trees)
    lb = exact_yT_lam(y, lam) / max(Fraction(1), ev.s)
    sol = dataclasses.replace(ref, evidence=ev, lower_bound=lb, s=float(ev.s))
    assert lb <= ref.upper_bound and abs(float(lb - ref.lower_bound)) <= 1e-3 * float(lb)
    cs = ClassSolve(0, ds.positive_label, y, sol, "branch-and-bound", False, None)
    W1, w2 = optimal_weights([cs], ds.n_features)
    save_model(tmp_path / "m.npz", W1, w2)
    path = tmp_path / "c.cert.json"
    cert = build_certificate(ds, Network(W1, w2), data_path=data, model_path=tmp_path / "m.npz",
                             cert_path=path, solves=[cs])
    leaves = _sdp_leaves(cert)
    assert leaves, "no sdp leaf in the certificate"
    path.write_text(dumps_certificate(cert))
    rep = check_file(path)
    assert rep.valid, rep.failures
    for change, rule in ((lambda lf: lf["sdp"].update(rho="0"), "bab-sdp"),
                         (lambda lf: lf["sdp"].update(tau="-1"), "bab-sdp"),
                         (lambda lf: lf["sdp"].update(extra="1"), "unchecked-claim")):
        bad = json.loads(json.dumps(cert))
        change(_sdp_leaves(bad)[0])
        path.write_text(dumps_certificate(bad))
        rules = {f.rule for f in check_file(path).failures}
        assert rule in rules, (rule, rules)


def test_cli_sdp_depth(tmp_path, capsys):
    data = _data(tmp_path, seed=5, N=24, d=3)
    model = tmp_path / "m.npz"
    cert = tmp_path / "c.json"
    assert main(["solve", str(data), "-o", str(model), "--limit", "3", "--sdp-depth", "1"]) == 0
    assert main(["certify", str(data), str(model), "-o", str(cert), "--limit", "3",
                 "--sdp-depth", "1"]) == 0
    c = json.loads(cert.read_text())["classes"][0]
    assert c["method"] == "branch-and-bound"
    assert check_file(cert).valid
    assert Fraction(c["lower_bound"]["exact"]) <= Fraction(c["upper_bound"]["exact"])
    capsys.readouterr()
    assert main(["solve", str(data), "--sdp-depth", "-1"]) == 2
    assert "--sdp-depth: expected an integer >= 0, got -1" in capsys.readouterr().err
    assert main(["certify", str(data), str(model), "--sdp-depth", "x"]) == 2
    assert "--sdp-depth: expected an integer >= 0, got 'x'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_sdp_depth_is_an_input_error(bad):
    with pytest.raises(InputError):
        sdp_policy(bad)
    assert sdp_policy(0) is None and sdp_policy(None) is None  # the default is off
