"""Certificates below the chamber limit whose evidence is the chambers of ``X_S`` (``S = supp
lambda``): same bounds as the whole-list certificate, far smaller, checked by the trusted
replay, and every tampering rejected."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import numpy as np
import pytest

from verify.checker.arithmetic import format_rational
from verify.checker.check import check_certificate, check_file
from verify.checker.readers import read_data, read_model
from verify.cli.main import main
from verify.geometry.chambers import enumerate_chambers

REL = Fraction(1, 10**9)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The network of ``verify solve`` certified twice: default evidence and --full-chambers."""
    d = tmp_path_factory.mktemp("below")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    W = rng.standard_normal((3, 4))
    y = np.where(np.maximum(X @ W, 0) @ np.array([1.0, -1.0, 1.0, -1.0]) >= 0, 1, -1)
    data, model = d / "t.json", d / "opt.npz"
    data.write_text(json.dumps({"X": X.tolist(), "y": y.tolist()}))
    assert main(["solve", str(data), "-o", str(model)]) == 0
    paths = {}
    for name, extra in (("support", ()), ("full", ("--full-chambers",))):
        paths[name] = d / f"{name}.cert.json"
        assert main(["certify", str(data), str(model), "-o", str(paths[name]), *extra]) == 0
    return d, X, paths


def test_support_evidence_below_the_limit_checks_and_agrees(pair):
    d, X, paths = pair
    sup = json.loads(paths["support"].read_text())
    full = json.loads(paths["full"].read_text())
    cs, cf = sup["classes"][0], full["classes"][0]
    assert (sup["version"], cs["method"], cs["solve"]["method"]) == (
        2, "support-chambers", "column-generation")
    assert (full["version"], cf["method"]) == (1, "chambers")
    S = cs["evidence"]["support"]
    lam = [Fraction(v) for v in cs["lambda"]]
    assert S == [n for n in range(len(lam)) if lam[n] != 0]
    n_full = len(enumerate_chambers(X))
    assert len(cf["evidence"]["patterns"]) == n_full
    assert len(cs["evidence"]["patterns"]) == len(enumerate_chambers(X[S])) < n_full // 20
    assert paths["support"].stat().st_size * 20 < paths["full"].stat().st_size
    # the trusted checker (its API, from the files) accepts both; same UB, LB within 1e-9 below
    Xc, classes, Y = read_data(d / "t.json")
    bounds = {}
    for name, cert in (("support", sup), ("full", full)):
        res = check_certificate(cert, Xc, classes, Y, read_model(d / "opt.npz"))
        assert res.valid, res.failures
        bounds[name] = (res.lower_bound, res.upper_bound)
        assert check_file(paths[name]).valid
    (ls, us), (lf, uf) = bounds["support"], bounds["full"]
    assert us == uf and (1 - REL) * lf <= ls <= us
    assert cs["verdict"] == cf["verdict"] == "globally-optimal-within"


def _bad(ent):
    S = set(ent["evidence"]["support"])
    ent["lambda"][next(n for n in range(len(ent["lambda"])) if n not in S)] = "1/1024"


def _drop(ent):
    ev = ent["evidence"]
    j = len(ev["patterns"]) - 1
    del ev["patterns"][j], ev["witnesses"][j]
    ev["multipliers"] = [m for m in ev["multipliers"] if m["chamber"] != j]


def _shrink(ent):
    ent["s"] = format_rational(Fraction(ent["s"]) * Fraction(9, 10))


def _lb(ent):
    lb = Fraction(ent["lower_bound"]["exact"]) * (1 + Fraction(1, 1000))
    ent["lower_bound"] = {"exact": format_rational(lb), "float": float(lb)}


@pytest.mark.parametrize("fn,rule", [(_bad, "support"), (_drop, "chamber-count"),
                                     (_shrink, "dual-norm"), (_lb, "lower-bound")])
def test_a_tampered_support_certificate_from_below_the_limit_fails(pair, fn, rule):
    d, _, paths = pair
    cert = json.loads(paths["support"].read_text())
    t = copy.deepcopy(cert)
    fn(t["classes"][0])
    out = d / "tampered.cert.json"
    out.write_text(json.dumps(t))
    res = check_file(out)
    assert not res.valid and rule in {f.rule for f in res.failures}, res.failures
