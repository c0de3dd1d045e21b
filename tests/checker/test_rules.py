"""The trusted checker: tampering is caught and named, bad input exits 2, no numpy inside."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.checker.arithmetic import format_rational
from verify.checker.arrays import read_npy
from verify.checker.check import check_file
from verify.checker.counting import replay_count
from verify.cli.main import main
from verify.geometry.chamber_count import count_chambers
from verify.geometry.chambers import enumerate_chambers
from verify.io.models import save_model

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _certify(tmp: Path, X: np.ndarray | None, y: np.ndarray | None, name: str,
             *extra: str) -> Path:
    data = tmp / f"{name}.json"
    if X is None:
        shutil.copy(EXAMPLES / f"{name}.json", data)
    else:
        data.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    model = tmp / f"{name}.npz"
    cert = tmp / f"{name}.cert.json"
    assert main(["solve", str(data), "-o", str(model)]) == 0
    assert main(["certify", str(data), str(model), "-o", str(cert), *extra]) == 0
    return cert


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chk")
    rng = np.random.default_rng(11)
    X = rng.standard_normal((9, 2))
    y = np.array([1, -1, 1, -1, 1, -1, 1, 1, -1])
    return {
        "chambers": _certify(tmp, X, y, "g2"),
        "closed": _certify(tmp, None, None, "f1"),
        # the whole list (its Zaslavsky count proof), not the fewer chambers of X_S
        "grid3": _certify(tmp, None, None, "grid3", "--full-chambers"),
    }


def _run(cert_path: Path, obj: dict, capsys, *extra: str) -> tuple[int, dict]:
    out = cert_path.with_name("tampered.json")
    out.write_text(json.dumps(obj))
    capsys.readouterr()
    rc = main(["check", str(out), "--json", *extra])
    text = capsys.readouterr().out
    return rc, (json.loads(text) if text else {})


def _first_mult(c):
    return c["classes"][0]["evidence"]["multipliers"][0]


def _scale(text: str, k: int) -> str:
    return format_rational(Fraction(text) * k)


def _flip_bit(c):
    ev = c["classes"][0]["evidence"]
    b = bytearray(bytes.fromhex(ev["patterns"][0]))
    b[0] ^= 1
    ev["patterns"][0] = b.hex()


def _negate_witness(c):
    w = c["classes"][0]["evidence"]["witnesses"][0]
    w[0] = _scale(w[0], -1) if Fraction(w[0]) else "1"
    w[1] = _scale(w[1], -1)


def _drop_chamber(c):
    ev = c["classes"][0]["evidence"]
    ev["patterns"].pop()
    ev["witnesses"].pop()
    ev["multipliers"] = [m for m in ev["multipliers"] if m["chamber"] < len(ev["patterns"])]


def _dup_chamber(c):
    ev = c["classes"][0]["evidence"]
    ev["patterns"][1] = ev["patterns"][0]
    ev["witnesses"][1] = ev["witnesses"][0]


def _lam_sign(c):
    lam = c["classes"][0]["lambda"]
    i = next(i for i, v in enumerate(lam) if Fraction(v) != 0)
    lam[i] = _scale(lam[i], -1)


def _lam_double(c):
    lam = c["classes"][0]["lambda"]
    i = max(range(len(lam)), key=lambda i: abs(Fraction(lam[i])))
    lam[i] = _scale(lam[i], 4)


def _set(path, value):
    def f(c):
        obj = c
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value(obj[path[-1]]) if callable(value) else value

    return f


def _bump_exact(path, k):
    return _set(path, lambda b: {"exact": format_rational(Fraction(b["exact"]) * k),
                                 "float": b["float"]})


CHAMBER_TAMPERS = {
    "lambda entry sign": (_lam_sign, {"lambda-sign"}),
    "lambda entry value": (_lam_double, {"dual-norm", "lower-bound"}),
    "multiplier value negative": (
        lambda c: _first_mult(c)["values"].__setitem__(0, "-1"), {"multiplier-sign"}),
    "multiplier value large": (
        lambda c: _first_mult(c)["values"].__setitem__(0, "1000"), {"dual-norm"}),
    "multiplier index": (
        lambda c: _first_mult(c)["indices"].__setitem__(0, 99), {"multiplier-index"}),
    "multiplier chamber": (
        lambda c: _first_mult(c).__setitem__("chamber", 10**6), {"multiplier-index"}),
    "s": (_set(["classes", 0, "s"], lambda s: _scale(s, Fraction(1, 2))), {"dual-norm"}),
    "s negative": (_set(["classes", 0, "s"], lambda s: _scale(s, -10)), {"s-sign"}),
    "lower bound": (_bump_exact(["classes", 0, "lower_bound"], 2), {"lower-bound"}),
    "upper bound": (_bump_exact(["classes", 0, "upper_bound"], Fraction(1, 2)),
                    {"upper-bound"}),
    "relative gap": (_bump_exact(["classes", 0, "relative_gap"], Fraction(1, 10)),
                     {"relative-gap"}),
    "witness coordinate": (_negate_witness, {"witness-pattern"}),
    "pattern bit": (_flip_bit, {"witness-pattern"}),
    "duplicate chamber": (_dup_chamber, {"patterns-distinct", "chamber-count"}),
    "missing chamber": (_drop_chamber, {"chamber-count"}),
    "count proof hyperplanes": (
        _set(["classes", 0, "evidence", "count_proof", "n_hyperplanes"], lambda v: v + 1),
        {"count-proof"}),
    "count proof method": (
        _set(["classes", 0, "evidence", "count_proof", "method"], "magic"), {"count-proof"}),
    "data hash": (_set(["data", "sha256"], "0" * 64), {"data-hash"}),
    "model hash": (_set(["model", "sha256"], "f" * 64), {"model-hash"}),
    "classes": (_set(["data", "classes"], [0, 1]), {"data-classes"}),
    "total": (_bump_exact(["total", "lower_bound"], 2), {"total"}),
    "huge lower bound": (_set(["classes", 0, "lower_bound"], {"exact": "9" * 400, "float": 1.0}),
                         {"lower-bound"}),
}


def test_untampered_certificates_are_valid(certs, capsys):
    for path in certs.values():
        assert main(["check", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHAMBER_TAMPERS))
def test_tampered_chamber_certificate(certs, capsys, name):
    tamper, rules = CHAMBER_TAMPERS[name]
    obj = json.loads(certs["chambers"].read_text())
    tamper(obj)
    rc, out = _run(certs["chambers"], obj, capsys)
    assert rc == 1 and not out["valid"]
    assert {f["rule"] for f in out["failures"]} & rules, out["failures"]


def test_tampered_closed_form(certs, capsys):
    base = json.loads(certs["closed"].read_text())
    for tamper, rule in [
        (_lam_sign, "lambda-sign"),
        (_set(["classes", 0, "s"], lambda s: _scale(s, Fraction(1, 2))), "closed-form-norm"),
        (_set(["classes", 0, "verdict"], "suboptimal"), "verdict"),
        (_set(["tolerance"], "1/10000000000000000000000"), "verdict"),
        (_set(["tolerance"], "3/2"), "tolerance"),
        (_set(["classes", 0, "s"], lambda s: _scale(s, -10)), "s-sign"),
    ]:
        obj = copy.deepcopy(base)
        tamper(obj)
        rc, out = _run(certs["closed"], obj, capsys)
        assert rc == 1 and rule in {f["rule"] for f in out["failures"]}


def test_suboptimal_evidence_tampered(certs, tmp_path, capsys):
    path = certs["chambers"]
    from verify.checker.readers import read_model

    W1, _, w2, _, _ = read_model(path.with_name("g2.npz"))
    W1 = np.array(W1)
    W1[:, 0] = 1.02 * W1[:, 0] + 0.02 * W1[::-1, 0]
    save_model(path.with_name("sub.npz"), W1, np.array(w2))
    cert = path.with_name("sub.cert.json")
    assert main(["certify", str(path.with_name("g2.json")), str(path.with_name("sub.npz")),
                 "-o", str(cert)]) == 0
    obj = json.loads(cert.read_text())
    assert obj["classes"][0]["verdict"] == "suboptimal"
    assert main(["check", str(cert)]) == 0
    for tamper in (
        _set(["classes", 0, "verdict"], "globally-optimal-within"),
        lambda c: c["classes"][0]["optimal_network"]["w2"].__setitem__(
            0, _scale(c["classes"][0]["optimal_network"]["w2"][0], 3)),
    ):
        bad = copy.deepcopy(obj)
        tamper(bad)
        rc, out = _run(cert, bad, capsys)
        assert rc == 1 and "verdict" in {f["rule"] for f in out["failures"]}


def test_zaslavsky_proof_tampered(certs, capsys):
    obj = json.loads(certs["grid3"].read_text())
    mult = obj["classes"][0]["evidence"]["count_proof"]["line_multiplicities"]
    k = sorted(mult)[0]
    mult[k] += 1
    rc, out = _run(certs["grid3"], obj, capsys)
    assert rc == 1 and "count-proof" in {f["rule"] for f in out["failures"]}


def test_tampered_data_and_model_files(certs, tmp_path, capsys):
    path = certs["chambers"]
    d = json.loads(path.with_name("g2.json").read_text())
    d["X"][0][0] += 2.0**-30
    bad_data = tmp_path / "g2.json"
    bad_data.write_text(json.dumps(d))
    assert main(["check", str(path), "--data", str(bad_data), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert "data-hash" in {f["rule"] for f in out["failures"]}
    from verify.checker.readers import read_model

    W1, _, w2, _, _ = read_model(path.with_name("g2.npz"))
    W1 = np.array(W1)
    W1[0, 0] *= 1.5
    save_model(tmp_path / "m.npz", W1, np.array(w2))
    assert main(["check", str(path), "--model", str(tmp_path / "m.npz"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert "model-hash" in {f["rule"] for f in out["failures"]}


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'{"format": "verify-certificate", "version": 2}',
     b'{"format": "something-else", "version": 1}', b"\xff\xfe"],
)
def test_malformed_certificate_exits_2(tmp_path, capsys, content):
    p = tmp_path / "c.json"
    p.write_bytes(content)
    assert main(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unusable_inputs_exit_2(certs, tmp_path, capsys):
    path = certs["chambers"]
    assert main(["check", str(tmp_path / "missing.json")]) == 2
    assert main(["check", str(path), "--data", str(tmp_path / "none.json")]) == 2
    (tmp_path / "trunc.npz").write_bytes(path.with_name("g2.npz").read_bytes()[:50])
    assert main(["check", str(path), "--model", str(tmp_path / "trunc.npz")]) == 2
    obj = json.loads(path.read_text())
    obj["classes"][0]["lambda"][0] = "0.5"  # a float smuggled in: not a rational
    obj["classes"][0]["evidence"]["patterns"][0] = "zz"
    assert _run(path, obj, capsys)[0] == 2
    del obj["data"]
    assert _run(path, obj, capsys)[0] == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_replay_count_matches_counting_module():
    """The checker's pure replay and verify.geometry.chamber_count agree (rank 2, cover,
    zaslavsky).
    """
    rng = np.random.default_rng(2)
    cases = [
        rng.standard_normal((7, 2)),
        rng.standard_normal((7, 3)),
        rng.integers(-1, 2, size=(12, 3)).astype(float),
        np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0], [2.0, 2.0, 0]]),
        rng.standard_normal((6, 4)),
        np.hstack([rng.standard_normal((6, 2)), np.zeros((6, 1))]),
        rng.integers(-1, 2, size=(10, 4)).astype(float),  # rank-4 Zaslavsky (lattice of flats)
        rng.integers(-1, 2, size=(12, 5)).astype(float),
    ]
    methods = set()
    from verify.geometry.rationals import dyadic_scale

    for X in cases:
        X = X[np.any(X != 0, axis=1)]
        count, proof = count_chambers(X)
        ints, _ = dyadic_scale([float(v) for v in X.ravel()])
        XI = [ints[i * X.shape[1] : (i + 1) * X.shape[1]] for i in range(X.shape[0])]
        fails: list[str] = []
        proof = json.loads(json.dumps(proof))
        proof.pop("flats", None)  # the builder leaves the listed flats out of certificates
        got = replay_count(XI, proof, lambda r, d, f=fails: f.append(r), "t")
        assert (got, fails) == (count, []), proof["method"]
        assert len(enumerate_chambers(X)) == count
        methods.add((proof["method"], proof["rank"] > 3))
    assert {("rank-2", False), ("cover", False), ("zaslavsky", False), ("cover", True),
            ("zaslavsky", True)} <= methods


@pytest.mark.parametrize("dtype", ["<f8", "<i8", "<f4", "<i4", "|b1", "<U3"])
def test_npy_reader_matches_numpy(tmp_path, dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    np.save(tmp_path / "a.npy", a)
    shape, flat = read_npy((tmp_path / "a.npy").read_bytes(), "a.npy")
    assert shape == a.shape and flat == a.ravel().tolist()
    for shape in [(2, 3), (3, 1, 2)]:  # Fortran order: reordered exactly to C order
        f = np.asfortranarray(np.arange(np.prod(shape)).reshape(shape).astype(dtype))
        np.save(tmp_path / "b.npy", f)
        assert b"'fortran_order': True" in (tmp_path / "b.npy").read_bytes()[:128] or f.size == 0
        assert read_npy((tmp_path / "b.npy").read_bytes(), "b.npy") == (shape, f.ravel().tolist())


def test_check_command_runs_with_numpy_blocked(certs):
    code = (
        "import sys\n"
        "for m in ('numpy', 'scipy', 'cvxpy', 'networkx', 'sympy', 'flint'):\n"
        "    sys.modules[m] = None\n"
        "from verify.cli.main import main\n"
        f"sys.exit(main(['check', {str(certs['grid3'])!r}]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout
    res = check_file(certs["grid3"])
    assert res.valid and res.lower_bound <= res.upper_bound


def test_packed_gram_signs_match_brute_force():
    """The Kronecker-packed Gram-row sign test equals the pairwise exact test (zeros included)."""
    from verify.checker.counting import gram_sign_rows

    rng = np.random.default_rng(4)
    for trial in range(200):
        N, d = int(rng.integers(1, 7)), int(rng.integers(1, 4))
        scale = [1, 3, 2**40][trial % 3]
        XI = [[int(v) * scale for v in rng.integers(-2, 3, size=d)] for _ in range(N)]
        y = [int(v) for v in rng.choice([-1, 1], size=N)]
        if trial % 4 == 0:  # an orthogonally separable case
            XI = [[abs(v) + 1 for v in r] if yn > 0 else [-abs(v) for v in r]
                  for r, yn in zip(XI, y)]
        want = []
        for n in range(N):
            ok = True
            for m in range(N):
                g = sum(a * b for a, b in zip(XI[n], XI[m]))
                ok &= (g > 0) if y[n] == y[m] else (g <= 0)
            want.append(ok)
        assert gram_sign_rows(XI, y) == want


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:2]):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def test_structural_damage_never_crashes(certs, capsys):
    """Every field replaced by junk: exit 1 or 2 (never an exception) unless informative."""
    base = json.loads(certs["chambers"].read_text())
    out = certs["chambers"].with_name("damaged.json")
    seen = 0
    accepted = set()
    for path in _paths(base):
        for junk in (None, "x", -1, [], {}, 10**400):
            obj = copy.deepcopy(base)
            tgt = obj
            for k in path[:-1]:
                tgt = tgt[k]
            if tgt[path[-1]] == junk:
                continue
            tgt[path[-1]] = junk
            out.write_text(json.dumps(obj))
            rc = main(["check", str(out)])
            assert rc in (0, 1, 2), (path, junk)
            if rc == 0:
                accepted.add(tuple(k for k in path if isinstance(k, str)))
            seen += 1
    capsys.readouterr()
    assert seen > 100
    # only informative fields (floats for people, solver/tool notes) may change unnoticed
    informative = {"float", "formula", "n_zero_rows", "enumeration_method", "pattern_encoding",
                   "solve", "verdict_detail", "solver", "tool"}
    for path in accepted:
        assert set(path) & informative or path == ("total", "lower_bound"), path


def test_check_json_per_class_bounds_are_exact(certs, capsys):
    """Per-class bounds in ``check --json`` are ``{exact, float}`` like the totals; for one
    class they equal the totals, and the gap is ``(ub - lb) / ub`` exactly."""
    for cert in certs.values():
        capsys.readouterr()
        assert main(["check", str(cert), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        (c,) = out["classes"]
        lb, ub = Fraction(c["lower_bound"]["exact"]), Fraction(c["upper_bound"]["exact"])
        assert c["lower_bound"] == out["lower_bound"] and c["upper_bound"] == out["upper_bound"]
        assert Fraction(c["relative_gap"]["exact"]) == (ub - lb) / ub
        assert c["upper_bound"]["float"] == float(ub)


def _npy_with_header(header: str, body: bytes = b"") -> bytes:
    header = header + " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + body


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"NOTNUMPY..", "bad magic"),
        (_npy_with_header("{'descr': '<f8', 'fortran_order': 'x', 'shape': (1,), }",
                          bytes(8)), "fortran_order 'x'"),
        (_npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"),
         "malformed .npy shape"),
        (_npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                          bytes(8)), "does not match its shape"),
        (_npy_with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                          bytes(16)), "unsupported .npy dtype"),
    ],
)
def test_npy_reader_malformed(raw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read_npy(raw, "w.npy")


def test_check_model_with_malformed_npy_header_exits_2(certs, tmp_path, capsys):
    src = certs["closed"]
    for f in src.parent.glob("f1.*"):
        shutil.copy(f, tmp_path / f.name)
    cert = tmp_path / src.name
    model = tmp_path / "f1.npz"
    with zipfile.ZipFile(model) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["W1.npy"] = members["W1.npy"].replace(b"'fortran_order': False",
                                                  b"'fortran_order': 'no' ")
    with zipfile.ZipFile(model, "w") as z:
        for n, raw in members.items():
            z.writestr(n, raw)
    capsys.readouterr()
    assert main(["check", str(cert)]) == 2
    err = capsys.readouterr().err.strip()
    assert "malformed .npy header (fortran_order 'no')" in err and len(err.splitlines()) == 1


def test_rules_keeps_the_public_names_importable():
    """``verify.checker.rules`` re-exports the checker's public names from their new homes."""
    from verify.checker import check, fields, result, rules

    assert rules.check_file is check.check_file
    assert rules.check_certificate is check.check_certificate
    assert rules.CheckResult is result.CheckResult and rules.Failure is result.Failure
    assert (rules.FORMAT, rules.VERSION, rules.VERSIONS) == (
        fields.FORMAT, fields.VERSION, fields.VERSIONS)
    assert sorted(rules.__all__) == sorted(
        ["FORMAT", "VERSION", "VERSIONS", "Failure", "CheckResult", "check_certificate",
         "check_file"])
