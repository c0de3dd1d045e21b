"""Issue 10, items 1-6: crafted certificates, data and model files are refused (exit 1 or 2,
one line), never accepted, crashed on, stalled on, or followed outside their folder.

Every test starts from a copy of the committed certificates (small, honest, already checked)
and changes one thing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.checker.arithmetic import format_rational
from verify.checker.check import check_file
from verify.checker.errors import InputError
from verify.cli.main import main

CERTS = Path(__file__).resolve().parents[2] / "certificates"


@pytest.fixture()
def certs(tmp_path: Path) -> Path:
    shutil.copytree(CERTS, tmp_path / "certs")
    return tmp_path / "certs"


def _load(d: Path, name: str) -> dict:
    return json.loads((d / name).read_text())


def _save(d: Path, name: str, obj: dict | str) -> Path:
    p = d / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def _check(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def _rules(capsys, path: Path) -> tuple[int, set[str]]:
    rc, out, _ = _check(capsys, path, "--json")
    return rc, {f["rule"] for f in json.loads(out)["failures"]} if out else set()


def _one_line(err: str, *needles: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]


def _bound(q: Fraction) -> dict:
    return {"exact": format_rational(q), "float": float(q)}


# ----------------------------------------------------------------------------- 1. claims


def test_suboptimal_optimal_network_upper_bound_is_recomputed(certs, capsys):
    for name in ("exact_zero-trained.cert.json", "whitened-trained.cert.json"):
        cert = _load(certs, name)
        assert cert["classes"][0]["verdict"] == "suboptimal"
        cert["classes"][0]["optimal_network"]["upper_bound"] = _bound(Fraction(1, 1000))
        rc, rules = _rules(capsys, _save(certs, "forged.cert.json", cert))
        assert rc == 1 and "upper-bound" in rules, rules


def _restricted(certs: Path, gap: dict | None) -> Path:
    cert = _load(certs, "f1-optimal.cert.json")
    c = cert["classes"][0]
    c.update(method="restricted", lower_bound=None, relative_gap=gap, verdict="restricted",
             verdict_detail="restricted: no complete evidence for a lower bound",
             evidence={"reason": "the chamber list could not be enumerated completely"})
    del c["s"]
    cert["total"]["lower_bound"] = None
    return _save(certs, "restricted.cert.json", cert)


def test_restricted_class_with_a_gap_but_no_lower_bound(certs, capsys):
    assert _rules(capsys, _restricted(certs, None)) == (0, set())  # the honest form passes
    rc, rules = _rules(capsys, _restricted(certs, _bound(Fraction(0))))
    assert rc == 1 and rules == {"relative-gap"}


@pytest.mark.parametrize("where", [("classes", 0, "upper_bound"), ("classes", 0, "lower_bound"),
                                   ("classes", 0, "relative_gap"), ("total", "upper_bound")])
def test_float_twin_must_be_the_rounded_exact_value(certs, capsys, where):
    cert = _load(certs, "f1-optimal.cert.json")
    obj = cert
    for k in where:
        obj = obj[k]
    obj["float"] = 1e6
    rc, rules = _rules(capsys, _save(certs, "forged.cert.json", cert))
    assert rc == 1 and "float-twin" in rules


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinity_are_malformed(certs, capsys, literal):
    text = (certs / "f1-optimal.cert.json").read_text()
    cert = _load(certs, "f1-optimal.cert.json")
    old = json.dumps(cert["classes"][0]["upper_bound"]["float"])
    assert text.count(old) >= 1
    p = _save(certs, "forged.cert.json", text.replace(old, literal))
    rc, _, err = _check(capsys, p)
    assert rc == 2
    _one_line(err, "malformed JSON")


def test_duplicate_key_is_malformed(certs, capsys):
    text = (certs / "exact_zero-trained.cert.json").read_text()
    assert text.count('"verdict": "suboptimal"') == 1
    forged = text.replace('"verdict": "suboptimal"',
                          '"verdict": "globally-optimal-within", "verdict": "suboptimal"')
    rc, _, err = _check(capsys, _save(certs, "forged.cert.json", forged))
    assert rc == 2
    _one_line(err, "duplicate key 'verdict'")


def test_verdict_detail_must_be_the_checkers_sentence(certs, capsys):
    cert = _load(certs, "exact_zero-trained.cert.json")
    cert["classes"][0]["verdict_detail"] = "globally-optimal-within 1e-12 (relative gap)"
    rc, rules = _rules(capsys, _save(certs, "forged.cert.json", cert))
    assert rc == 1 and rules == {"verdict-detail"}
    del cert["classes"][0]["verdict_detail"]  # absent is fine: nothing is claimed
    assert _rules(capsys, _save(certs, "forged.cert.json", cert)) == (0, set())


def test_solve_value_is_not_a_claim_the_checker_accepts(certs, capsys):
    cert = _load(certs, "f1-optimal.cert.json")
    cert["classes"][0]["solve"]["value"] = 1e6
    rc, rules = _rules(capsys, _save(certs, "forged.cert.json", cert))
    assert rc == 1 and rules == {"unchecked-claim"}
    del cert["classes"][0]["solve"]["value"]
    cert["classes"][0]["solve"]["status"] = "optimal, P* = 0.001"  # a number in a word field
    rc, rules = _rules(capsys, _save(certs, "forged.cert.json", cert))
    assert rc == 1 and rules == {"unchecked-claim"}


# ----------------------------------------------------------------------------- 2. regress


def _forge_as_own_data(certs: Path, name: str, data_name: str) -> dict:
    """A certificate that carries the data's ``X``/``y`` itself and names ``data_name``."""
    cert = _load(certs, "f1-optimal.cert.json")
    cert.update(json.loads((certs / "data/f1.json").read_text()))  # "X" and "y" inside
    cert["data"]["path"] = data_name
    cert["classes"][0]["lower_bound"] = cert["classes"][0]["upper_bound"]
    cert["classes"][0]["relative_gap"] = _bound(Fraction(0))
    cert["classes"][0]["verdict_detail"] = "globally-optimal-within 0 (relative gap)"
    cert["total"]["lower_bound"] = cert["total"]["upper_bound"]
    _save(certs, name, cert)
    return cert


def _only(certs: Path, keep: list[str]) -> None:
    """Leave ``keep`` and the f1 files in the folder (the others' data would count)."""
    for p in [*certs.glob("*.json"), *certs.glob("data/*.json")]:
        if p.name not in keep and p.name != "f1.json":
            p.unlink()


def test_regress_checks_self_referencing_certificates(certs, capsys):
    _only(certs, ["f1-optimal.cert.json"])
    _forge_as_own_data(certs, "self.cert.json", "self.cert.json")
    capsys.readouterr()
    assert main(["regress", str(certs)]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 certificate(s) passed" in out and "self.cert.json" in out
    rc, _, err = _check(capsys, certs / "self.cert.json")
    assert rc == 2
    _one_line(err, "names itself as its data file")


def test_regress_checks_mutually_referencing_certificates(certs, capsys):
    _forge_as_own_data(certs, "a.json", "b.json")
    _forge_as_own_data(certs, "b.json", "a.json")
    _only(certs, ["a.json", "b.json"])
    (certs / "data/f1.json").unlink()  # named by no certificate now
    capsys.readouterr()
    assert main(["regress", str(certs), "--json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert rep["certificates"] == 2 and rep["failed"] == 2
    assert all("a certificate, not a data file" in r["failures"][0]["detail"]
               for r in rep["results"])


def test_data_that_is_a_certificate_is_an_error(certs, capsys):
    cert = _load(certs, "f1-optimal.cert.json")
    cert["data"]["path"] = "f1-trained.cert.json"
    rc, _, err = _check(capsys, _save(certs, "x.cert.json", cert))
    assert rc == 2
    _one_line(err, "a certificate, not a data file")


# ----------------------------------------------------------------------------- 3. paths


def _named(certs: Path, data_path: str, name: str = "moved.cert.json") -> Path:
    cert = _load(certs, "f1-optimal.cert.json")
    cert["data"]["path"] = data_path
    return _save(certs, name, cert)


def test_paths_outside_the_folder_are_refused_alike(certs, tmp_path, capsys):
    shutil.copy(certs / "data/f1.json", tmp_path / "f1.json")
    os.symlink(tmp_path / "f1.json", certs / "link.json")
    os.symlink(tmp_path / "none.json", certs / "dangling.json")
    messages = set()
    for path, _exists in [(str(tmp_path / "f1.json"), True), (str(tmp_path / "no.json"), False),
                         ("../f1.json", True), ("../no.json", False), ("data/../../f1.json", True),
                         ("link.json", True), ("dangling.json", False)]:
        rc, _, err = _check(capsys, _named(certs, path))
        assert rc == 2, path
        _one_line(err, "is not a file inside the certificate's folder")
        messages.add(err.replace(repr(path), "PATH"))
    assert len(messages) == 1  # whether the forbidden file exists does not show
    # a symlink inside the folder is fine, and so is an explicit --data outside it
    os.symlink("data/f1.json", certs / "inside.json")
    assert _check(capsys, _named(certs, "inside.json"))[0] == 0
    assert _check(capsys, _named(certs, "../f1.json"), "--data", tmp_path / "f1.json")[0] == 0


def test_proc_self_mem_is_never_read(certs, capsys):
    os.symlink("/proc/self/mem", certs / "mem.json")
    rc, _, err = _check(capsys, _named(certs, "mem.json"))
    assert rc == 2
    _one_line(err, "is not a file inside the certificate's folder")
    rc, _, err = _check(capsys, certs / "f1-optimal.cert.json", "--data", certs / "mem.json")
    assert rc == 2
    _one_line(err, "empty file")  # refused before any byte is read


# ----------------------------------------------------------------------------- 4. crashes


def test_format_rational_beyond_the_int_str_limit():
    q = Fraction(10**5000 + 7, 3**9000)
    text = format_rational(q)
    num, den = text.split("/")
    assert len(num) == 5001 and num.endswith("7") and Fraction(int(num[:4000]) * 10**1001
                                                                 + int(num[4000:]),
                                                                 3**9000) == q
    assert den.startswith(str(3**9000)[:50]) and len(den) == len(str(3**9000 // 10**4000)) + 4000


def test_lambda_with_huge_denominators_is_refused_fast(certs):
    cert = _load(certs, "f1-optimal.cert.json")
    c = cert["classes"][0]
    c["lambda"] = [f"1/{10**3000 + 1}", f"-1/{10**3000 + 3}"]  # each < 4,300 digits
    c["lower_bound"] = _bound(Fraction(0))
    c["relative_gap"] = _bound(Fraction(1))
    c["verdict"], c["verdict_detail"] = "inconclusive", "inconclusive: relative gap 1 above " \
        "the tolerance"
    cert["total"]["lower_bound"] = _bound(Fraction(0))
    with pytest.raises(InputError, match="more than 400 digits"):
        check_file(_save(certs, "huge.cert.json", cert))


def test_lambda_common_denominator_is_bounded(certs, capsys):
    cert = _load(certs, "grid3-optimal.cert.json")
    lam = cert["classes"][0]["lambda"]
    primes = [p for p in range(3, 400) if all(p % q for q in range(2, p))]
    cert["classes"][0]["lambda"] = [
        format_rational(Fraction(v) + Fraction(1, primes[i] ** 100)) if Fraction(v) else v
        for i, v in enumerate(lam)]  # distinct 100- to 250-digit denominators
    rc, _, err = _check(capsys, _save(certs, "lcm.cert.json", cert))
    assert rc == 2
    _one_line(err, "common denominator has more than 1400 bits")


def _member_bytes(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(member)


def _rezip(path: Path, method: int) -> None:
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for n, raw in members.items():
            z.writestr(n, raw)


def _patch(path: Path, *, flag: int | None = None, method: int | None = None,
           corrupt: bool = False) -> None:
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    for info in infos:
        h = info.header_offset
        if flag is not None:
            raw[h + 6] |= flag
        if method is not None:
            raw[h + 8 : h + 10] = struct.pack("<H", method)
        if corrupt:
            n, m = struct.unpack("<HH", raw[h + 26 : h + 30])
            start = h + 30 + n + m
            for k in range(start + 2, start + min(info.compress_size, 40)):
                raw[k] ^= 0x5A
    c = raw.find(b"PK\x01\x02")
    while c >= 0:
        if flag is not None:
            raw[c + 8] |= flag
        if method is not None:
            raw[c + 10 : c + 12] = struct.pack("<H", method)
        c = raw.find(b"PK\x01\x02", c + 4)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("case", ["deflate", "lzma", "method", "encrypted"])
def test_broken_npz_members_exit_2(certs, capsys, case):
    model = certs / "models/f1-optimal.npz"
    if case == "deflate":
        _rezip(model, zipfile.ZIP_DEFLATED)
        _patch(model, corrupt=True)
    elif case == "lzma":
        _rezip(model, zipfile.ZIP_LZMA)
        _patch(model, corrupt=True)
    elif case == "method":
        _patch(model, method=77)
    else:
        _patch(model, flag=1)
    rc, _, err = _check(capsys, certs / "f1-optimal.cert.json")
    assert rc == 2
    _one_line(err, "f1-optimal.npz")


def _safetensors(path: Path, header: dict, body: bytes) -> None:
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + body)


@pytest.mark.parametrize("shape", [[2.0, 2], [-2, -2], [True, 4], ["2", 2]])
def test_safetensors_with_a_bad_shape_exits_2(certs, capsys, shape):
    st = certs / "models/f1-optimal.safetensors"
    _safetensors(st, {"W1": {"dtype": "F64", "shape": shape, "data_offsets": [0, 32]},
                      "w2": {"dtype": "F64", "shape": [2], "data_offsets": [32, 48]}},
                 bytes(48))
    rc, _, err = _check(capsys, certs / "f1-optimal.cert.json", "--model", st)
    assert rc == 2
    _one_line(err, "f1-optimal.safetensors")


def test_csv_field_over_the_csv_limit_exits_2(certs, capsys):
    data = certs / "data/f1.csv"
    data.write_text("x1,x2,y\n" + "1" * 200_000 + ",0,1\n0,1,-1\n")
    rc, _, err = _check(capsys, certs / "f1-optimal.cert.json", "--data", data)
    assert rc == 2
    _one_line(err, "f1.csv")


def _npy(header: str, body: bytes = b"", version: int = 1) -> bytes:
    hb = header.encode("latin1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hb)) + hb + body
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(hb)) + hb + body


def _model_with(certs: Path, w1: bytes) -> Path:
    model = certs / "models/f1-optimal.npz"
    w2 = _member_bytes(model, "w2.npy")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("W1.npy", w1)
        z.writestr("w2.npy", w2)
    model.write_bytes(buf.getvalue())
    return certs / "f1-optimal.cert.json"


@pytest.mark.parametrize("minus", [60_000, 9_000])
def test_npy_header_of_unary_minus_signs_exits_2(certs, capsys, minus):
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "-" * minus + "2, 2), }"
    rc, _, err = _check(capsys, _model_with(certs, _npy(hdr, bytes(32))))
    assert rc == 2
    _one_line(err, "malformed .npy header")


# ----------------------------------------------------------------------------- 5. bombs


def test_npy_header_tuple_bomb_is_refused_unexpanded(certs, capsys):
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "1, " * 2_000_000 + "), }"
    rc, _, err = _check(capsys, _model_with(certs, _npy(hdr, version=2)))
    assert rc == 2
    _one_line(err, "W1")
    assert "announces" in err or "longer than 10000 bytes" in err


def test_zip_bomb_is_refused_before_it_is_expanded(certs, capsys):
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4000000), }"
    hdr += " " * (127 - len(hdr)) + "\n"
    rc, _, err = _check(capsys, _model_with(certs, _npy(hdr, bytes(64_000_000))))
    assert rc == 2
    _one_line(err, "W1", "announces 64000138 bytes, more than this check needs")


def test_member_longer_than_announced_is_not_read_past_its_size(certs, capsys):
    cert = _model_with(certs, _member_bytes(certs / "models/f1-optimal.npz", "W1.npy"))
    model = certs / "models/f1-optimal.npz"
    raw = bytearray(model.read_bytes())
    with zipfile.ZipFile(model) as z:
        info = z.getinfo("W1.npy")
    real = info.file_size
    h = info.header_offset
    raw[h + 22 : h + 26] = struct.pack("<I", real - 8)  # the local and the central size
    c = raw.find(b"PK\x01\x02")
    raw[c + 24 : c + 28] = struct.pack("<I", real - 8)
    model.write_bytes(bytes(raw))
    rc, _, err = _check(capsys, cert)
    assert rc == 2
    _one_line(err, "f1-optimal.npz")


def test_npz_and_model_readers_take_the_name_by_keyword_only(tmp_path):
    """``read_npz(path, max_values, name)`` took the name positionally where ``read_model``
    makes it keyword-only: both now refuse a positional name (one convention, and a name can
    no longer be passed where a budget is meant)."""
    from verify.checker.arrays import read_npz
    from verify.checker.readers import read_model

    path = tmp_path / "m.npz"
    np.savez(path, W1=np.ones((2, 3)), w2=np.ones(3))
    for read in (read_npz, read_model):
        with pytest.raises(TypeError):
            read(path, 100, "shown.npz")
    shape, flat = read_npz(path, 100, name="shown.npz")["w2"]
    assert shape == (3,) and flat == [1.0, 1.0, 1.0]
    path.write_text("not a zip\n")
    for read in (read_npz, read_model):
        with pytest.raises(InputError, match=r"^shown\.npz: not a readable \.npz file"):
            read(path, name="shown.npz")


def test_data_file_far_larger_than_the_certificate_states(certs, capsys):
    data = json.loads((certs / "data/f1.json").read_text())
    data["X"] += [[0.5, 0.5]] * 100_000
    data["y"] += [1] * 100_000
    (certs / "data/f1.json").write_text(json.dumps(data))
    rc, _, err = _check(capsys, certs / "f1-optimal.cert.json")
    assert rc == 2
    _one_line(err, "f1.json", "this check needs")


@pytest.mark.parametrize("tol", ["1e-999999999", "1" * 50, "-1", "1e-6x"])
def test_regress_tolerance_digits_are_bounded(certs, capsys, tol):
    capsys.readouterr()
    assert main(["regress", str(certs), "--compare", "--tolerance", tol]) == 2
    _one_line(capsys.readouterr().err, "--tolerance")


# ----------------------------------------------------------------------------- 6. output


def _labelled(certs: Path, capsys, label: str) -> Path:
    data = json.loads((certs / "data/f1.json").read_text())
    data["y"] = ["b" + label if v == 1 else "a" for v in data["y"]]
    (certs / "lab.json").write_text(json.dumps(data))
    cert = certs / "lab.cert.json"
    capsys.readouterr()
    assert main(["certify", str(certs / "lab.json"), str(certs / "models/f1-optimal.npz"),
                 "-o", str(cert)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out
    return cert


def test_control_characters_from_files_are_escaped(certs, capsys):
    evil = "\x1b[2K\rvalid: 0 <= P* <= 0\u202e\x9b"
    cert = _labelled(certs, capsys, evil)
    for args in (["check", cert], ["check", cert, "--json"], ["regress", certs]):
        capsys.readouterr()
        main([str(a) for a in args])
        out, err = capsys.readouterr()
        for ch in ("\x1b", "\r", "\u202e", "\x9b"):
            assert ch not in out + err, (args, ch)
    obj = json.loads(cert.read_text())
    obj["classes"][0]["upper_bound"] = _bound(Fraction(1, 1000))
    _save(certs, "lab.cert.json", obj)
    rc, out, _ = _check(capsys, cert)
    assert rc == 1 and "INVALID" in out and "\x1b" not in out and "\\x1b" in out
    obj["data"]["path"] = "\x1b[2Kevil.json"
    rc, _, err = _check(capsys, _save(certs, "lab.cert.json", obj))
    assert rc == 2 and "\x1b" not in err and "\\x1b[2Kevil.json" in err


# ----------------------------------------------------------------------------- 12. regress


def test_regress_accepts_one_certificate_file(capsys):
    capsys.readouterr()
    assert main(["regress", str(CERTS / "f1-optimal.cert.json")]) == 0
    assert "1 of 1 certificate(s) passed" in capsys.readouterr().out


def test_regress_table_shows_no_verdict_or_bound_for_a_rejected_certificate(certs, capsys):
    model = certs / "models/f1-optimal.npz"
    with np.load(model) as z:
        W1, w2 = z["W1"], z["w2"]
    np.savez(model, W1=W1, w2=-w2)  # swapped for a model of negative margin
    capsys.readouterr()
    assert main(["regress", str(certs)]) == 1
    row = next(ln for ln in capsys.readouterr().out.splitlines()
               if ln.startswith("f1-optimal.cert.json"))
    assert row.split()[1:6] == ["FAIL", "-", "-", "-", "-"], row


# ----------------------------------------------------------------------------- second review


def test_fifo_in_the_folder_is_refused_without_waiting(certs, capsys):
    """Opening a FIFO for reading would block forever: it is refused as not a regular file."""
    cert = _load(certs, "f1-optimal.cert.json")
    fifo = certs / "data" / "pipe.json"
    os.mkfifo(fifo)
    cert["data"]["path"] = "data/pipe.json"
    p = _save(certs, "fifo.cert.json", cert)
    rc, _, err = _check(capsys, p)
    assert rc == 2
    _one_line(err, "not a regular file")


def _npy_header(shape: tuple[int, ...]) -> bytes:
    hdr = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    hdr += " " * (118 - len(hdr)) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode()


def test_a_zero_dimension_cannot_expand_an_empty_body(certs, capsys):
    """Shape (10**18, 0) has no bytes: it passed the size checks and built rows one by one."""
    from verify.checker.arrays import read_npy

    with pytest.raises(InputError, match="empty"):
        read_npy(_npy_header((10**18, 0)), "X.npy")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("X.npy", _npy_header((10**18, 0)))
        z.writestr("y.npy", _npy_header((3,)) + struct.pack("<3d", 1, -1, 1))
    (certs / "data" / "empty.npz").write_bytes(buf.getvalue())
    cert = _load(certs, "f1-optimal.cert.json")
    cert["data"]["path"] = "data/empty.npz"
    rc, _, err = _check(capsys, _save(certs, "empty.cert.json", cert))
    assert rc == 2 and "empty" in err


def test_sign_pack_keeps_at_most_two_packings():
    """Witnesses of many bit widths used to keep one packed copy of the data per width."""
    from verify.checker.counting import SignPack

    rng = np.random.default_rng(0)
    XI = [[int(v) for v in row] for row in rng.integers(-9, 9, (50, 4))]
    sp = SignPack(XI)
    for bits in range(8, 1200, 7):
        u = [1 << bits, -(1 << (bits // 2)), 3, -1]
        ge, gt = sp.tops(u)
        want = [sum(a * b for a, b in zip(XI[n], u)) for n in sp.rows]
        assert list(ge) == [int(g >= 0) for g in want] and list(gt) == [int(g > 0) for g in want]
        assert len(sp._cache) <= 2


def test_a_count_proof_that_cannot_match_the_list_is_not_replayed(certs, capsys):
    """An empty chamber list with a 'cover' or 'zaslavsky' proof used to make the checker
    replay the proof (exponential in the rank) before comparing counts."""
    from verify.checker.counting import replay_count

    calls = []
    XI = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]]
    for proof in ({"method": "cover", "rank": 4, "n_hyperplanes": 5},
                  {"method": "zaslavsky", "rank": 4, "n_hyperplanes": 5, "mobius_abs_sum": 30}):
        assert replay_count(XI, proof, lambda r, d: calls.append(r), "c", listed=0) is None
    assert calls == ["chamber-count", "chamber-count"]
    cert = _load(certs, "grid3-optimal.cert.json")
    ev = cert["classes"][0]["evidence"]
    ev["patterns"], ev["witnesses"], ev["multipliers"] = [], [], []
    rc, rules = _rules(capsys, _save(certs, "nolist.cert.json", cert))
    assert rc == 1 and "chamber-count" in rules


@pytest.mark.parametrize("forge", [
    lambda c: c["classes"][0].update(proven_optimum={"exact": "1/1000", "float": 0.001}),
    lambda c: c["classes"][0].update(note="P* = 0.001, globally optimal"),
    lambda c: c.update(claim="P* = 0.001"),
    lambda c: c["total"].update(optimum="1/1000"),
    lambda c: c["data"].update(verified_by="a human"),
    lambda c: c["classes"][0]["upper_bound"].update(note="tight"),
    lambda c: c["classes"][0]["evidence"].update(orthogonal_separability="P* = 0.001 proven"),
    lambda c: c["classes"][0]["evidence"].update(extra="P* = 0.001"),
])
def test_extra_keys_are_claims_the_checker_refuses(certs, capsys, forge):
    """Keys outside the format were ignored, so any statement could ride along (review)."""
    cert = _load(certs, "f1-optimal.cert.json")
    assert cert["classes"][0]["method"] == "closed-form"
    forge(cert)
    rc, rules = _rules(capsys, _save(certs, "extra.cert.json", cert))
    assert rc == 1 and "unchecked-claim" in rules


def test_suboptimal_with_a_gap_within_the_tolerance_is_refused(f1_suboptimal_certificate):
    """The trial raised a suboptimal certificate's tolerance to 1/2 (gap 0.32): it still
    passed, although the tool itself would say globally-optimal-within at that tolerance."""
    import json

    from verify.checker.check import check_file

    cert = f1_suboptimal_certificate
    obj = json.loads(cert.read_text())
    assert obj["classes"][0]["verdict"] == "suboptimal" and check_file(str(cert)).valid
    obj["tolerance"] = "1/2"
    cert.write_text(json.dumps(obj))
    res = check_file(str(cert))
    assert not res.valid and any(f.rule == "verdict" and "globally-optimal-within" in f.detail
                                 for f in res.failures)
