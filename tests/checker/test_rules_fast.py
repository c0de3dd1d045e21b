"""The checker's fast exact routes against the plain ones they replace.

General position by cofactor vectors and Kronecker packing vs ``integer_det`` on every subset;
packed witness signs vs per-sample dot products; the integer fast parser vs
``parse_rational``; the checking bar advancing per chamber.
"""

from __future__ import annotations

import itertools
import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.checker.arithmetic import parse_rational
from verify.checker.check import check_file
from verify.checker.counting import SignPack, first_dependent, last_row_cofactors, replay_count
from verify.checker.fields import parse_nd, witness_ints
from verify.cli.main import main
from verify.errors import InputError
from verify.geometry.rationals import integer_det

ROOT = Path(__file__).resolve().parents[2]


def _old_first_dependent(H: list[tuple[int, ...]], r: int) -> tuple[int, ...] | None:
    for sub in itertools.combinations(range(len(H)), r):
        if integer_det([list(H[i]) for i in sub]) == 0:
            return sub
    return None


@pytest.mark.parametrize("r", [1, 2, 3, 4, 5])
def test_cofactors_give_the_determinant(r):
    rng = np.random.default_rng(r)
    for _ in range(30):
        M = rng.integers(-10**12, 10**12, size=(r, r)).tolist()
        if rng.random() < 0.3:
            M[-1] = [3 * a - 2 * b for a, b in zip(M[0], M[-1])]  # sometimes singular-ish
        c = last_row_cofactors([tuple(v) for v in M[:-1]], r)
        assert sum(a * b for a, b in zip(c, M[-1])) == integer_det(M)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("r", [1, 2, 3, 4, 5])
def test_first_dependent_matches_integer_det_route(seed, r):
    """Random integer normals, some with planted dependent r-subsets (also huge entries)."""
    rng = np.random.default_rng(100 * r + seed)
    m = int(rng.integers(r, r + 9))
    big = 10**int(rng.choice([1, 3, 18, 40]))
    H = [tuple(int(a) * (big // 9 + 1) + int(b) for a, b in
               zip(rng.integers(-9, 10, size=r), rng.integers(-5, 6, size=r))) for _ in range(m)]
    if seed % 3:  # plant: a later row in the span of r - 1 earlier ones
        pos = sorted(rng.choice(m, size=r, replace=False).tolist())
        coef = rng.integers(-3, 4, size=r - 1)
        H[pos[-1]] = tuple(int(sum(int(c) * H[i][k] for c, i in zip(coef, pos[:-1])))
                           for k in range(r))
    if seed % 4 == 3:  # a zero-free duplicate direction
        H[-1] = tuple(2 * v for v in H[0])
    H = [h if any(h) else tuple([1] + [0] * (r - 1)) for h in H]
    assert first_dependent(H, r) == _old_first_dependent(H, r)


def test_first_dependent_names_the_planted_subset():
    H = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (1, 1, 1, 1), (1, 2, 3, 5),
         (1, 1, 0, 0)]  # (0, 1, 2, 3)... independent; (0, 1, 2, 6)? 6 = e0 + e1: dependent
    assert first_dependent(H, 4) == (0, 1, 2, 6) == _old_first_dependent(H, 4)
    fails: list[tuple[str, str]] = []
    proof = {"method": "cover", "rank": 4, "n_hyperplanes": 7}
    assert replay_count([list(h) for h in H], proof, lambda r, d: fails.append((r, d)), "t") is None
    assert fails and "[0, 1, 2, 6]" in fails[0][1]


@pytest.mark.parametrize("seed", range(6))
def test_packed_witness_signs_match_dot_products(seed):
    rng = np.random.default_rng(seed)
    N, d = int(rng.integers(1, 40)), int(rng.integers(1, 6))
    XI = rng.integers(-(2**60), 2**60, size=(N, d)).tolist()
    XI = [[int(v) >> int(rng.integers(0, 62)) for v in row] for row in XI]
    XI[0] = [0] * d  # a zero row
    if N > 2:
        XI[1] = [0] + XI[2][1:]
    pack = SignPack(XI)
    for _ in range(20):
        u = [int(v) >> int(rng.integers(0, 200)) for v in
             rng.integers(-(2**62), 2**62, size=d).tolist()]
        u = [v * 2**int(rng.integers(0, 150)) for v in u]
        if rng.random() < 0.3 and N > 2:  # make some products exactly zero
            u = [0] * d
            u[0] = 1
        t0, t1 = pack.tops(u)
        dots = [sum(a * b for a, b in zip(XI[n], u)) for n in pack.rows]
        assert list(t0) == [int(g >= 0) for g in dots]
        assert list(t1) == [int(g > 0) for g in dots]


@pytest.mark.parametrize("text", ["0", "-0", "12", "-12", "3/4", "-3/4", "6/8", "0005/010",
                                  "1/0", "+1", "1.5", "", "-", "/3", "3/", "1/-2", " 1", "1 ",
                                  "1e5", "١٢", "1_000", "--1", "2/3/4", "9" * 5000, 3, None])
def test_fast_parser_accepts_exactly_parse_rational(text):
    try:
        want = parse_rational(text)
    except ValueError:
        want = None
    try:
        n, d = parse_nd(text, "t")
        got = Fraction(n, d)
        assert d > 0
    except InputError:
        got = None
    assert got == want


def test_checking_bar_advances_per_chamber(tmp_path, monkeypatch):
    for name in ("grid3-optimal.cert.json", "data", "models"):
        src = ROOT / "certificates" / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    bars = []

    class Bar:
        def __init__(self, label, total=None, **kw):
            self.total, self.count = total, 0
            bars.append(self)

        def advance(self, n=1):
            self.count += n

        def close(self):
            pass

    cert = tmp_path / "grid3-optimal.cert.json"
    assert check_file(cert, progress=Bar).valid
    obj = json.loads(cert.read_text())
    p = sum(len(e["evidence"].get("patterns", [])) for e in obj["classes"])
    assert p > 10 and bars[0].total == len(obj["classes"]) + p == bars[0].count


def test_committed_certificates_still_check():
    assert main(["regress", str(ROOT / "certificates")]) == 0


@pytest.mark.parametrize("wit", [["3", "-4"], ["0", "-0"], ["1/2", "3"], ["6/4", "-1/3"],
                                 ["1,2", "3"], ["1", ""], [" 1", "2"], ["1_0", "2"], ["+1", "2"],
                                 ["٣", "1"], ["9" * 5000, "1"], [1, 2], ["1", None], ["1/0", "1"]])
def test_witness_fast_path_agrees_with_the_exact_parse(wit):
    try:
        want = [parse_rational(t) for t in wit]
    except ValueError:
        want = None
    try:
        got = witness_ints(wit, "t")
    except InputError:
        got = None
    if want is None or got is None:
        assert want is None and got is None
    else:  # a positive multiple of the stated point
        k = next((Fraction(g) / w for g, w in zip(got, want) if w), Fraction(1))
        assert k > 0 and [Fraction(g) for g in got] == [k * w for w in want]


@pytest.mark.parametrize("late", [False, True])
def test_first_dependent_on_more_vectors(late):
    """25 Gaussian-like integer normals in rank 4; optionally one late planted dependency."""
    rng = np.random.default_rng(7 + late)
    H = [tuple(int(v) for v in rng.integers(-(2**40), 2**40, size=4)) for _ in range(25)]
    if late:
        H[23] = tuple(H[5][k] - 3 * H[17][k] + H[20][k] for k in range(4))
    got = first_dependent(H, 4)
    assert got == _old_first_dependent(H, 4)
    assert (got == (5, 17, 20, 23)) if late else got is None
