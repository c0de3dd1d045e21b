"""The command line on real decimal data (issue 10, items 4 and 7): the 3-row iris-like file
(singular in decimal, nearly singular as float64) is audited, enumerated, solved, certified
and checked without a traceback, the chamber list is complete (8 chambers) and the
certificate's exact witnesses (integers where floats fail) pass the trusted checker."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from verify.cli.main import main

THREE_ROWS = {"X": [[5.0, 3.5, 1.0], [5.6, 4.1, 1.3], [5.6, 3.9, 1.1]], "y": [1, -1, 1]}


@pytest.fixture
def data(tmp_path):
    p = tmp_path / "three.json"
    p.write_text(json.dumps(THREE_ROWS))
    return p


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def test_audit_answers_on_the_three_rows(data, capsys):
    code, out, err = _run(capsys, ["audit", data, "--json"])
    assert code == 0, err
    obj = json.loads(out)
    assert obj["chambers"] == 8 and obj["chambers_complete"] is True
    assert obj["spike_free"] in (True, False, None)


def test_enumerate_lists_all_eight_with_exact_witnesses(data, capsys):
    code, out, err = _run(capsys, ["enumerate", data, "--json"])
    assert code == 0, err
    obj = json.loads(out)
    assert (obj["n_chambers"], obj["count"], obj["complete"]) == (8, 8, True)
    X = [[Fraction(v) for v in row] for row in THREE_ROWS["X"]]
    for j, hx in enumerate(obj["patterns"]):
        bits = int(hx, 16)
        ex = obj["exact_witnesses"].get(str(j))
        u = [Fraction(t) for t in ex] if ex else [Fraction(v) for v in obj["witnesses"][j]]
        for n, row in enumerate(X):
            dot = sum(a * b for a, b in zip(row, u))
            assert dot != 0 and (dot > 0) == bool(bits >> n & 1)
    code, out, _ = _run(capsys, ["enumerate", data])
    assert code == 0 and "complete            yes" in out


def test_solve_certify_check_on_the_three_rows(data, tmp_path, capsys):
    model, cert = tmp_path / "m.npz", tmp_path / "c.cert.json"
    code, out, err = _run(capsys, ["solve", data, "-o", model])
    assert code in (0, 2), err
    assert code == 0 and model.exists()
    # the whole list of 8 (the fewer chambers of X_S would be the default evidence)
    code, out, err = _run(capsys, ["certify", data, model, "-o", cert, "--full-chambers"])
    assert code == 0, err
    obj = json.loads(cert.read_text())
    wits = [w for c in obj["classes"] for w in c["evidence"]["witnesses"]]
    assert len(wits) == 8
    assert any(abs(int(t)) > 2**53 for w in wits for t in w)  # exact integer witnesses
    code, out, err = _run(capsys, ["check", cert])
    assert code == 0 and out.startswith("valid"), out + err
