"""Certificates with support-chamber evidence (method ``support-chambers``): the builder's
evidence passes the trusted replay, and every tampering is rejected with its rule named."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.checker.arithmetic import format_rational
from verify.checker.check import check_file
from verify.cli.main import main
from verify.geometry.chambers import enumerate_chambers

CERTS = Path(__file__).resolve().parents[2] / "certificates"


def _problem(seed: int, N: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    y = np.sign(X[:, 0] + 0.7 * X[:, -1] ** 2 - 0.5 + 0.2 * rng.standard_normal(N))
    y[y == 0] = 1.0
    return X, y


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A certificate whose full chamber list is beyond --limit and whose X_S fits it."""
    d = tmp_path_factory.mktemp("support")
    X, y = _problem(2, 24, 3)
    (d / "d.json").write_text(json.dumps({"X": X.tolist(), "y": y.astype(int).tolist()}))
    limit = str(len(enumerate_chambers(X)) - 1)
    assert main(["solve", str(d / "d.json"), "--limit", limit, "-o", str(d / "opt.npz")]) == 0
    assert main(["certify", str(d / "d.json"), str(d / "opt.npz"), "-o",
                 str(d / "c.cert.json"), "--limit", limit]) == 0
    return d, json.loads((d / "c.cert.json").read_text()), X


def _check(d: Path, c: dict, name: str = "t.cert.json"):
    (d / name).write_text(json.dumps(c))
    return check_file(d / name)


def _rules(res) -> set[str]:
    return {f.rule for f in res.failures}


def test_builder_evidence_passes_the_replay(cert):
    d, c, X = cert
    ent = c["classes"][0]
    assert c["version"] == 2 and ent["method"] == "support-chambers"
    assert ent["solve"]["method"] == "branch-and-bound"
    assert ent["verdict"] == "globally-optimal-within"
    ev = ent["evidence"]
    S = ev["support"]
    lam = [Fraction(v) for v in ent["lambda"]]
    assert S == [n for n in range(len(lam)) if lam[n] != 0]
    # the chamber list is that of X_S: |S| bits per pattern, far fewer than the full list
    assert len(ev["patterns"]) == len(enumerate_chambers(X[S]))
    assert len(ev["patterns"]) < len(enumerate_chambers(X))
    assert all(len(p) == 2 * ((len(S) + 7) // 8) for p in ev["patterns"])
    res = check_file(d / "c.cert.json")
    assert res.valid, res.failures
    assert res.lower_bound >= Fraction(ent["lower_bound"]["exact"]) > 0


def test_schema_v2(cert):
    jsonschema = pytest.importorskip("jsonschema")
    _, c, _ = cert
    v2 = json.loads((CERTS / "schema-v2.json").read_text())
    jsonschema.Draft202012Validator.check_schema(v2)
    jsonschema.validate(c, v2)
    bad = copy.deepcopy(c)
    bad["classes"][0]["evidence"]["support"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, v2)


def _tampered(c, fn):
    t = copy.deepcopy(c)
    fn(t["classes"][0])
    return t


def _drop_chamber(ent):
    ev = ent["evidence"]
    j = len(ev["patterns"]) - 1
    del ev["patterns"][j], ev["witnesses"][j]
    ev["multipliers"] = [m for m in ev["multipliers"] if m["chamber"] != j]


def _count(ent):
    ev = ent["evidence"]
    proof = ev["count_proof"]
    ev["count_proof"] = {**proof, "n_hyperplanes": proof["n_hyperplanes"] + 1}


def _outside(ent):
    S = set(ent["evidence"]["support"])
    n = next(n for n in range(len(ent["lambda"])) if n not in S)
    ent["lambda"][n] = "1/1024"


def _inflate(ent):
    # a per-chamber bound above s: a multiplier value blown up (the chamber's Lemma-4 norm > s)
    m = ent["evidence"]["multipliers"][0]
    m["values"][0] = format_rational(Fraction(m["values"][0]) * 1000 + 1000)


def _shrink_s(ent):
    ent["s"] = format_rational(Fraction(ent["s"]) * Fraction(9, 10))


def _range(ent):
    ent["evidence"]["support"][-1] = len(ent["lambda"])


def _duplicate(ent):
    S = ent["evidence"]["support"]
    S.insert(1, S[0])


def _witness(ent):
    w = ent["evidence"]["witnesses"][0]
    ent["evidence"]["witnesses"][0] = [format_rational(-Fraction(v)) for v in w]


def _extra(ent):
    ent["evidence"]["rows"] = "all of them"


@pytest.mark.parametrize("fn,rule", [
    (_drop_chamber, "chamber-count"),
    (_count, "count-proof"),
    (_outside, "support"),
    (_inflate, "dual-norm"),
    (_shrink_s, "dual-norm"),
    (_range, "support"),
    (_duplicate, "support"),
    (_witness, "witness-pattern"),
    (_extra, "unchecked-claim"),
])
def test_tampering_is_rejected_with_the_rule_named(cert, fn, rule):
    d, c, _ = cert
    res = _check(d, _tampered(c, fn))
    assert not res.valid and rule in _rules(res), res.failures


def test_nonzero_lambda_outside_the_support_is_named(cert):
    d, c, _ = cert
    t = _tampered(c, _outside)
    res = _check(d, t)
    detail = next(f.detail for f in res.failures if f.rule == "support")
    assert "!= 0 outside the support" in detail


def test_empty_support_and_version_1(cert):
    d, c, _ = cert

    def empty(ent):
        ent["evidence"]["support"] = []
        ent["lambda"] = ["0"] * len(ent["lambda"])

    res = _check(d, _tampered(c, empty))
    assert "support" in _rules(res)
    v1 = copy.deepcopy(c)
    v1["version"] = 1
    res = _check(d, v1)
    assert "method" in _rules(res)


def test_failures_name_support_rows(cert):
    d, c, _ = cert
    res = _check(d, _tampered(c, _witness))
    assert any("rows numbered in the support" in f.detail for f in res.failures)
