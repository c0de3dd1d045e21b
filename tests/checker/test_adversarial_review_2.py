"""A second adversarial review (issue 10): crafted certificates, data, models and folders that
got past, crashed or stalled the checker, ``verify regress``, the pytest plugin or the readers.
Each test fails on the code before its fix."""

from __future__ import annotations

import json
import random
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from verify.checker.branch_and_bound import check_branch_and_bound
from verify.checker.check import check_file
from verify.checker.errors import InputError

CERTS = Path(__file__).resolve().parents[2] / "certificates"
_EMPTY = {"indices": [], "values": []}


def _odd(bits: int, k: int, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(bits) | 1 | (1 << (bits - 1)) for _ in range(k)]


# ----------------------------------------------------------------------------- BaB leaf sum B


def test_leaf_sum_b_over_coprime_denominators_is_bounded():
    """``B = sum mu_n b_n`` was a Fraction sum: interval rows whose ``b`` have coprime
    2,000-digit denominators (each string under MAX_CHARS) grew it to millions of bits (200
    rows, 0.8 MB: 11 s; 400 rows: minutes).  Now one common denominator under MAX_DEN_BITS."""
    k = 8
    X = [[1, i % 3] for i in range(k)]
    lam = [Fraction(1)] * k
    rows = [{"row": n, "a": "0", "b": f"{10 * p + 1}/{p}", "l": "-10", "h": "10",
             "zl": _EMPTY, "zh": _EMPTY} for n, p in enumerate(_odd(6600, k))]
    ev = {"support": list(range(k)), "trees": {
        "+": [{"leaf": {"z": _EMPTY, "rows": rows}}],
        "-": [{"leaf": {"z": _EMPTY, "rows": [{"row": n, "alpha": "0"} for n in range(k)]}}]}}
    out: list = []
    check_branch_and_bound(ev, X, 0, lam, Fraction(11 * k), lambda r, m: out.append(r), "c")
    assert out == ["bab-size"]
    # the same leaf with short b (dyadic, as the builder writes them) passes
    for r in rows:
        r["b"] = "21/2"
    out.clear()
    check_branch_and_bound(ev, X, 0, lam, Fraction(11 * k), lambda r, m: out.append(r), "c")
    assert out == []


@pytest.fixture()
def certs(tmp_path: Path) -> Path:
    shutil.copytree(CERTS, tmp_path / "certs")
    return tmp_path / "certs"


def test_bab_lambda_common_denominator_is_bounded_before_the_lower_bound_sum(certs):
    """A branch-and-bound class whose support check fails still summed ``y^T lambda`` as
    Fractions: 2,000 entries with coprime 400-digit denominators (0.8 MB) took 90 s.  Now the
    DEN_BITS rule of the other methods holds for every method (exit 2)."""
    p = certs / "grid3-optimal.cert.json"
    cert = json.loads(p.read_text())
    cert["version"] = 2
    ent = cert["classes"][0]
    dens = iter(_odd(1300, len(ent["lambda"])))
    ent["lambda"] = [v if v == "0" else ("-" if v.startswith("-") else "") + f"1/{next(dens)}"
                     for v in ent["lambda"]]
    ent["method"] = "branch-and-bound"
    ent["evidence"] = {"support": [], "trees": {"+": [], "-": []}}
    p.write_text(json.dumps(cert))
    with pytest.raises(InputError, match="lambda: the common denominator"):
        check_file(p)


# ----------------------------------------------------------------------------- verify regress


def _forged(certs: Path) -> dict:
    cert = json.loads((certs / "f1-optimal.cert.json").read_text())
    cert["classes"][0]["lower_bound"] = {"exact": "1000", "float": 1000.0}
    return cert


@pytest.mark.parametrize("name", ["schema-forged.cert.json", "schema-v3.json",
                                  "forged.CERT.JSON", "forged.Json", "sub/forged.JSON"])
def test_regress_checks_certificates_under_any_json_name(certs, capsys, name):
    """``schema-*.json`` was skipped even when it is a certificate (a ``format`` key or a
    ``.cert.json`` name) and the glob was case-sensitive: a forged certificate so named left
    ``verify regress`` (and the pytest plugin, which finds files the same way) at "n of n
    passed", exit 0."""
    from verify.certificate.regress import find_certificates
    from verify.cli.main import main

    n = len(list(certs.glob("*.cert.json")))  # every data file is named by one of them
    (certs / name).parent.mkdir(exist_ok=True)
    (certs / name).write_text(json.dumps(_forged(certs)))
    assert certs / name in find_certificates(certs)
    capsys.readouterr()
    assert main(["regress", str(certs)]) == 1
    out = capsys.readouterr().out
    assert f"{n} of {n + 1} certificate(s) passed" in out, out


def test_regress_still_skips_the_real_schemas_and_data(certs):
    from verify.certificate.regress import find_certificates

    names = {p.relative_to(certs).as_posix() for p in find_certificates(certs)}
    assert names == {p.name for p in certs.glob("*.cert.json")}


def test_regress_role_reads_a_bom_certificate_as_the_checker_does(certs):
    """A UTF-8-BOM certificate is valid for the checker (it reads bytes) and was no
    certificate for regress's discovery (it read UTF-8 text): named as another certificate's
    data it was then skipped."""
    from verify.certificate.regress import _role

    p = certs / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + (certs / "f1-optimal.cert.json").read_bytes())
    assert check_file(p).valid
    assert _role(p)[0]


@pytest.mark.parametrize("forge", ["no-classes", "class-is-text", "total-is-list",
                                   "huge-bound"])
def test_regress_compare_of_a_malformed_certificate_is_a_problem_not_a_traceback(
        certs, forge):
    """``--compare`` read the committed classes and totals outside its ``try``: a certificate
    whose data and model are fine but whose ``classes`` is missing or holds a string crashed
    ``verify regress --compare`` with a KeyError/AttributeError traceback."""
    from verify.certificate.regress import compare_one

    p = certs / "f1-optimal.cert.json"
    cert = json.loads(p.read_text())
    if forge == "no-classes":
        del cert["classes"]
    elif forge == "class-is-text":
        cert["classes"] = ["x"]
    elif forge == "total-is-list":
        cert["total"] = []
    else:
        cert["total"]["upper_bound"]["exact"] = "1" * 5000
    p.write_text(json.dumps(cert))
    cmp = compare_one(p)
    assert not cmp.ok and cmp.problems[0].rule.startswith("compare-"), cmp


# ----------------------------------------------------------------------------- BaB Gram rows


def _replay(XI, lam, s):
    from verify.checker.branch_and_bound import _Replay

    out: list = []
    rep = _Replay(XI, 0, list(range(len(XI))), lam, s, lambda r, m: out.append(r), "c")
    return rep, out


def test_a_wide_root_leaf_computes_no_gram_row():
    """Every interval check of a root leaf is a one-row combination; each computed that row's
    whole Gram row (|S| d products), so one leaf of |S| intervals cost |S|^2 d: a 100 KB
    certificate on 1000 x 200 data took 87 s.  A Gram row is now bought only after |S| uses
    of its row in the column route (as costly as the row)."""
    rng = random.Random(1)
    N, d = 40, 8
    XI = [[rng.randint(-9, 9) or 1 for _ in range(d)] for _ in range(N)]
    h = "100"
    rows = [{"row": n, "a": "0", "b": h, "l": "-" + h, "h": h, "zl": _EMPTY, "zh": _EMPTY}
            for n in range(N)]
    rep, out = _replay(XI, [Fraction(1)] * N, Fraction(100 * N))
    rep.tree(1, "+", [{"leaf": {"z": _EMPTY, "rows": rows}}])
    assert out == [] and all(g is None for g in rep.gram)
    rows[3]["h"] = "1"  # ||x_3|| > 1: still checked exactly
    rep, out = _replay(XI, [Fraction(1)] * N, Fraction(100 * N))
    rep.tree(1, "+", [{"leaf": {"z": _EMPTY, "rows": rows}}])
    assert "bab-interval" in out


def test_a_deep_honest_tree_still_uses_the_gram_route():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bab_replay_tests", Path(__file__).with_name("test_branch_and_bound_replay.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    X = [[1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.25], [-3.0, -4.0, 1.0, 0.0],
         [1.0, -2.0, 0.0, 1.0]]
    lam = [Fraction(3), Fraction(4), Fraction(-1), Fraction(1, 2)]
    ev, s = mod.build(X, lam)  # the full tree: 2^4 leaves per sign
    XI, xe = mod._exact(X)
    from verify.checker.branch_and_bound import _Replay

    out: list = []
    rep = _Replay(XI, xe, ev["support"], lam, s, lambda r, m: out.append(r), "c")
    for name, t in (("+", 1), ("-", -1)):
        rep.tree(t, name, ev["trees"][name])
    assert out == [] and any(g is not None for g in rep.gram)


# ----------------------------------------------------------------------------- claims


def _bab_honest():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bab_replay_tests_2", Path(__file__).with_name("test_branch_and_bound_replay.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ev, s = mod.build(mod.X2, mod.L2, depth=2)
    return mod, ev, s


def _leaf_rows(ev, kind):
    leaf = next(n["leaf"] for n in ev["trees"]["+"] if "leaf" in n
                and any(kind in r for r in n["leaf"]["rows"]))
    return leaf, next(r for r in leaf["rows"] if kind in r)


@pytest.mark.parametrize("where", ["leaf", "alpha-row", "interval-row", "z", "zh", "trees"])
def test_keys_outside_the_bab_format_are_unchecked_claims(where):
    """The first review's rule ``unchecked-claim`` stopped at the evidence object: a leaf, a
    row, a multiplier or the ``trees`` object could carry any extra key (``"bound": "99"``, a
    sentence) and the certificate was still valid."""
    import copy

    mod, ev, s = _bab_honest()
    assert mod.run(ev, mod.X2, mod.L2, s) == []
    ev = copy.deepcopy(ev)
    leaf, arow = _leaf_rows(ev, "alpha")
    _, irow = _leaf_rows(ev, "zh")
    target = {"leaf": leaf, "alpha-row": arow, "interval-row": irow, "z": leaf["z"],
              "zh": irow["zh"], "trees": ev["trees"]}[where]
    target["bound"] = "99"
    assert mod.rules_of(mod.run(ev, mod.X2, mod.L2, s)) == {"unchecked-claim"}


@pytest.mark.parametrize("forge", [
    ("multipliers", lambda ev: ev["multipliers"][0].__setitem__("norm", "1")),
    ("count_proof", lambda ev: ev["count_proof"].__setitem__("count", 10**6)),
    ("count_proof", lambda ev: ev["count_proof"].__setitem__("n_zero_rows", 3)),
    ("count_proof", lambda ev: ev["count_proof"].__setitem__("formula", "P* = 1")),
])
def test_chamber_evidence_statements_are_recomputed_or_refused(certs, forge):
    """A multiplier entry or the count proof could hold any extra key, and the count proof's
    own statements besides the replayed ones (``n_zero_rows``, ``formula``, ``n_lines``,
    ``mobius_abs_sum`` in rank 3, Cover's ``general_position`` sentence) were never
    compared: all were accepted with any value."""
    p = certs / "grid3-optimal.cert.json"
    cert = json.loads(p.read_text())
    forge[1](cert["classes"][0]["evidence"])
    p.write_text(json.dumps(cert))
    assert {f.rule for f in check_file(p).failures} == {"unchecked-claim"}


@pytest.mark.parametrize(("name", "key", "value"), [
    ("grid3-optimal.cert.json", "n_lines", 24),
    ("grid3-optimal.cert.json", "mobius_abs_sum", 10**6),
    ("whitened-optimal.cert.json", "general_position", "exact check of all C(3,3) = 1 3x3 "
     "minors of the distinct normals: 7 nonzero by rigorous float bounds, 0 by exact integer "
     "determinants"),
    ("whitened-optimal.cert.json", "general_position", "all minors nonzero; P* = 1"),
])
def test_count_proof_numbers_are_compared(certs, name, key, value):
    p = certs / name
    cert = json.loads(p.read_text())
    cert["classes"][0]["evidence"]["count_proof"][key] = value
    p.write_text(json.dumps(cert))
    rules = {f.rule for f in check_file(p).failures}
    assert rules and rules <= {"unchecked-claim", "count-proof"}, rules


def test_rank_4_lattice_numbers_are_compared():
    """Zaslavsky in rank >= 4: flats_by_rank and mobius_abs_by_rank are recomputed with the
    lattice (the listed flats, in the tool's own numbering, are left out of certificates)."""
    import numpy as np

    from verify.checker.counting import replay_count
    from verify.geometry.chamber_count import count_chambers

    X = np.random.default_rng(2).integers(-1, 2, size=(10, 4)).astype(float)
    X = X[np.any(X != 0, axis=1)]
    count, proof = count_chambers(X)
    assert proof["method"] == "zaslavsky" and proof["rank"] == 4
    XI = [[int(v) for v in row] for row in X]
    out: list = []
    assert replay_count(XI, proof, lambda r, m: out.append(r), "c") == count
    assert out == ["unchecked-claim"]  # the flats list
    del proof["flats"]
    out.clear()
    assert replay_count(XI, proof, lambda r, m: out.append(r), "c") == count and out == []
    proof["mobius_abs_by_rank"] = proof["mobius_abs_by_rank"][::-1]
    assert replay_count(XI, proof, lambda r, m: out.append(r), "c") is None
    assert out == ["count-proof"]


def test_regress_on_deeply_nested_json_is_a_failed_row_not_a_traceback(tmp_path, capsys):
    """``check_one`` parsed the file first without catching RecursionError: 200,000 nested
    brackets crashed ``verify regress`` (and the pytest plugin) with a traceback."""
    from verify.certificate.regress import check_one
    from verify.cli.main import main

    p = tmp_path / "deep.cert.json"
    p.write_text("[" * 200_000 + "]" * 200_000)
    out = check_one(p)
    assert not out.valid and out.problems[0].rule == "unusable-input"
    capsys.readouterr()
    assert main(["regress", str(tmp_path)]) == 1
    assert "Traceback" not in capsys.readouterr().err
