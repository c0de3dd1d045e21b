"""Short chamber witnesses: exact points of the same open chambers, checked by a second route."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from verify.certificate.build import _strs, short_witnesses
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.rationals import exact_dot


def _exact_pattern_ok(X: np.ndarray, bits: np.ndarray, u: np.ndarray) -> bool:
    """Exact rationals (Fraction route): x_n . u != 0 on nonzero rows, 1[x_n . u >= 0] = bit."""
    for x, b in zip(X, bits):
        g = exact_dot([float(v) for v in x], [float(v) for v in u])
        if (g == 0 and np.any(x != 0)) or (g >= 0) != bool(b):
            return False
    return True


@pytest.mark.parametrize("seed,N,d", [(0, 12, 2), (1, 10, 3), (2, 9, 4), (3, 8, 5), (4, 14, 3)])
def test_short_witnesses_are_exact_points_of_the_same_chambers(seed, N, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) * 10.0 ** rng.integers(-3, 4, size=(N, 1))
    X[1] = X[0] + 1e-9 * rng.standard_normal(d)  # a very thin chamber between two rows
    X[2] = 0.0  # a zero row
    ch = enumerate_chambers(X, limit=10**6)
    P = ch.pattern_matrix()
    W = short_witnesses(X, P, ch.witnesses)
    integral = np.all(W == np.rint(W), axis=1)
    assert integral.mean() > 0.9
    for j in range(len(ch)):
        assert _exact_pattern_ok(X, P[j], W[j]), j
        if not integral[j]:
            assert np.array_equal(W[j], ch.witnesses[j])  # the fallback is the original


def test_fallback_keeps_the_original_witness():
    X = np.array([[1.0, 0.0], [1.0, 1e-3]])
    W = np.array([[1e-4, -1.0], [0.5, 0.25]])
    P = np.array([[True, False], [True, True]])
    out = short_witnesses(X, P, W, bits=(3,))
    assert out[0].tolist() == W[0].tolist()  # too thin for 3 bits: unchanged
    assert out[1].tolist() == [2.0, 1.0]


def test_wrong_shapes_are_refused():
    from verify.errors import InputError

    with pytest.raises(InputError, match="do not fit"):
        short_witnesses(np.eye(2), np.ones((3, 2), bool), np.ones((2, 2)))


def test_witness_strings_are_exact():
    W = np.array([[3.0, -4.0], [0.1, 2.0], [2.0**60, 1.0]])
    s = _strs(W)  # integral floats print as integers
    assert s[0] == ["3", "-4"]
    assert [Fraction(t) for t in s[1]] == [Fraction(0.1), Fraction(2)]
    assert [Fraction(t) for t in s[2]] == [Fraction(2**60), Fraction(1)]
    assert json.loads(json.dumps(s)) == s


def test_one_line_evidence_layout_is_the_same_json():
    from verify.certificate.build import dumps_certificate

    ev = {"patterns": ["0a", "1b"], "witnesses": [["1", "-2/3"], ["0", "5"]],
          "multipliers": [{"chamber": 1, "sign": -1, "indices": [0], "values": ["1/4"]}],
          "count_proof": {"method": "rank-2", "rank": 2}}
    cert = {"classes": [{"label": "@verify-one-line-list-0-patterns@", "evidence": ev},
                        {"label": 1, "evidence": {**ev, "patterns": []}}], "version": 1}
    for c in (cert, {**cert, "classes": cert["classes"][1:]}):
        text = dumps_certificate(c)
        assert json.loads(text) == c
        assert text == dumps_certificate(json.loads(text))  # deterministic
    one = dumps_certificate({**cert, "classes": cert["classes"][1:]})
    assert '\n          ["1", "-2/3"],\n' in one


def test_float_strings_equal_the_fraction_route():
    from verify.certificate.build import _float_str
    from verify.checker.arithmetic import format_rational

    rng = np.random.default_rng(5)
    vals = rng.standard_normal(500) * 10.0 ** rng.integers(-300, 300, size=500)
    for v in [*vals.tolist(), 0.0, -0.0, 1.0, -3.0, 2.0**60, 5e-324, 1.7976931348623157e308]:
        assert _float_str(v) == format_rational(Fraction(v))


def test_thin_chambers_get_exact_integer_witness_strings(monkeypatch):
    # iris petal features (versicolor, virginica): rank 2, sectors thinner than their float
    # rounding; with the float search switched off, those chambers carry exact integers
    import csv
    from pathlib import Path

    import verify.geometry.chambers as chambers_mod
    from verify.certificate.build import _witness_strs
    from verify.checker.fields import witness_ints

    monkeypatch.setattr(chambers_mod, "_FLOAT_REFINE", 0)
    path = Path(__file__).resolve().parents[1] / "geometry" / "data" / "iris.csv"
    with open(path, newline="") as f:
        X = np.array([[float(v) for v in r[2:4]] for r in list(csv.reader(f))[51:]])
    ch = enumerate_chambers(X)
    assert ch.complete and len(ch) == 158 and ch.exact_witnesses
    P = ch.pattern_matrix()
    strs = _witness_strs(X, P, ch)
    XF = [[Fraction(float(v)) for v in x] for x in X]
    for j, w in enumerate(strs):
        u = witness_ints(w, f"chamber {j}")  # the checker's reader (exact integers)
        for n, x in enumerate(XF):
            g = sum(a * b for a, b in zip(x, u))
            assert g != 0 and (g > 0) == bool(P[j, n])
    assert any(abs(int(t)) > 2**53 for j in ch.exact_witnesses for t in strs[j])
