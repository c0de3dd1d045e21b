"""Orthogonal separability: exact verdicts cross-checked against all-pairs Fractions."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import verify.geometry.separability as sep
from verify.checker.arithmetic import parse_rational
from verify.errors import InputError
from verify.geometry import gram_signs as gram_signs
from verify.geometry.rationals import exact_dot
from verify.geometry.separability import CROSS, SAME, orthogonal_separability

# ----------------------------------------------------------------------------- reference


def brute_force(X: np.ndarray, cls: np.ndarray) -> dict:
    """All unordered pairs with verify.geometry.rationals.exact_dot: the independent route."""
    rows = [X[i].tolist() for i in range(len(X))]
    ss = [exact_dot(r, r) for r in rows]
    out = {"violations": 0, "pairs": [], "min_same": None, "max_cross": None}
    for i in range(len(X)):
        for j in range(i, len(X)):
            ip = exact_dot(rows[i], rows[j])
            same = cls[i] == cls[j]
            if ss[i] * ss[j] == 0:
                cos = 0.0
            else:
                cos = math.copysign(math.sqrt(float(ip * ip / (ss[i] * ss[j]))), (ip > 0) - 0.5)
            if (ip <= 0) if same else (ip > 0):
                out["violations"] += 1
                out["pairs"].append((i, j, ip, -cos if same else cos))
            if i != j:
                key, f = ("min_same", min) if same else ("max_cross", max)
                out[key] = cos if out[key] is None else f(out[key], cos)
    return out


def check_against_brute(X: np.ndarray, cls: np.ndarray, **kw) -> sep.SeparabilityReport:
    r = orthogonal_separability(X, cls, **kw)
    b = brute_force(X, cls)
    N = len(X)
    assert r.violations == b["violations"]
    assert r.separable == (b["violations"] == 0)
    assert r.complete_count and r.pairs_checked == N * (N + 1) // 2
    for got, want in (
        (r.min_same_class_cosine, b["min_same"]),
        (r.max_cross_class_cosine, b["max_cross"]),
    ):
        assert (got is None) == (want is None)
        if want is not None:
            assert abs(got - want) <= 1e-9
    viol = {(i, j): (ip, s) for i, j, ip, s in b["pairs"]}
    assert len(r.worst) == min(kw.get("max_worst", 5), len(viol))
    for v in r.worst:
        assert (v.i, v.j) in viol and v.i <= v.j
        assert v.inner_product == viol[(v.i, v.j)][0]
        assert v.kind == (SAME if cls[v.i] == cls[v.j] else CROSS)
        if abs(v.inner_product) < 2**1023:
            assert v.value == float(v.inner_product)
        else:
            assert v.value is None
    if r.worst:  # the reported worst is (up to float noise) the true worst
        top = max(s for _, s in viol.values())
        first = r.worst[0]
        sev0 = -first.cosine if first.kind == SAME else first.cosine
        assert sev0 >= top - 1e-9
    return r


# ----------------------------------------------------------------------- paper examples


def test_appendix_f1_is_orthogonally_separable():
    X = np.array([[1.65, 0.47], [-0.47, 1.35]])
    assert Fraction(1.65) * Fraction(-0.47) + Fraction(0.47) * Fraction(1.35) < 0
    r = check_against_brute(X, np.array([0, 1]))
    assert r.separable and r.violations == 0
    assert r.max_cross_class_cosine < 0 and r.min_same_class_cosine is None


def test_appendix_f2_same_class_is_orthogonally_separable():
    X = np.array([[1.65, 0.47], [0.47, 1.35]])
    r = check_against_brute(X, np.array([0, 0]))
    assert r.separable and r.min_same_class_cosine > 0 and r.max_cross_class_cosine is None
    # with labels (1, -1) the same data is not: its cross inner product is positive
    r2 = orthogonal_separability(X, np.array([0, 1]))
    assert not r2.separable and r2.worst[0].kind == CROSS and r2.worst[0].inner_product > 0


# --------------------------------------------------- floating point gets the sign wrong


def test_exact_zero_across_classes_is_allowed():
    X = np.array([[0.1, 0.2], [3.0, -1.5]])
    assert exact_dot(X[0].tolist(), X[1].tolist()) == 0
    r = check_against_brute(X, np.array([0, 1]))
    assert r.separable and r.exact_checks >= 1
    r = check_against_brute(X, np.array([1, 1]))  # same class: 0 is not > 0
    assert not r.separable and r.violations == 1
    assert r.worst[0].inner_product == 0 and r.worst[0].to_dict()["inner_product"] == "0"


def test_cancellation_float_positive_exact_negative():
    a = 2.0**56
    X = np.array([[a, 9.0, -a, -10.0], [1.0, 1.0, 1.0, 1.0]])
    assert exact_dot(X[0].tolist(), X[1].tolist()) == -1
    float_wrong = (X @ X.T)[0, 1] > 0  # true with OpenBLAS here; the verdict must not care
    r = check_against_brute(X, np.array([0, 1]))
    assert r.separable and r.exact_checks >= 1
    r = check_against_brute(X, np.array([0, 0]))
    assert not r.separable and r.worst[0].inner_product == -1
    assert float_wrong in (True, False)


def test_cancellation_float_zero_exact_positive():
    X = np.array([[1e17, 1.0, -1e17], [1.0, 1.0, 1.0]])
    assert exact_dot(X[0].tolist(), X[1].tolist()) == 1
    r = check_against_brute(X, np.array([0, 0]))
    assert r.separable and r.exact_checks >= 1
    r = check_against_brute(X, np.array([0, 1]))
    assert not r.separable and r.worst[0].inner_product == 1


def test_integer_orthogonal_vectors_are_decided_from_exact_floats():
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], float)
    X = np.vstack([H, 2 * H[0] + 3 * H[1]])  # last row in class 0 with H[0], H[1]
    cls = np.array([0, 0, 1, 2, 0])
    r = check_against_brute(X, cls)
    assert not r.separable  # H[0]·H[1] = 0 within class 0
    assert r.exact_checks == 0 and r.exact_float_pairs > 0
    r = check_against_brute(X[:4], np.array([0, 1, 2, 3]))
    assert r.separable and r.max_cross_class_cosine == 0.0 and r.exact_checks == 0


def test_zero_row_is_not_separable():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    r = check_against_brute(X, np.array([0, 1, 2]))
    assert not r.separable and r.violations == 1
    v = r.worst[0]
    assert (v.i, v.j, v.kind, v.inner_product) == (1, 1, SAME, 0)


def test_overflowing_and_subnormal_rows():
    tiny = 5e-324
    X = np.array([[1e300, tiny], [1e300, -tiny], [-1e300, tiny], [3 * tiny, tiny]])
    r = check_against_brute(X, np.array([0, 0, 1, 2]))
    assert r.exact_checks >= 1
    check_against_brute(X * 1e-300, np.array([0, 1, 1, 0]))


def test_disjoint_class_supports_are_structural_zeros():
    rng = np.random.default_rng(3)
    X = np.zeros((12, 9))
    cls = np.repeat([0, 1, 2], 4)
    for k in range(3):
        X[cls == k, 3 * k : 3 * k + 3] = rng.random((4, 3)) + 0.1
    r = check_against_brute(X, cls)
    assert r.separable and r.structural_zero_pairs == 3 * 16
    assert r.max_cross_class_cosine == 0.0
    for b in (1, 5, 100):
        assert orthogonal_separability(X, cls, block_size=b).to_dict() == r.to_dict()


def test_many_classes_use_mixed_tiles(monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.integers(-1, 3, (40, 3)).astype(float)
    cls = rng.integers(0, 7, 40)
    r1 = check_against_brute(X, cls)
    monkeypatch.setattr(gram_signs, "_MAX_STRUCT_CLASSES", 1)
    r2 = check_against_brute(X, cls, block_size=3)
    assert r1.violations == r2.violations


# ------------------------------------------------------------------------------ options


def test_stop_at_first():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    cls = rng.integers(0, 2, 60)
    full = orthogonal_separability(X, cls)
    part = orthogonal_separability(X, cls, stop_at_first=True, block_size=7)
    assert not full.separable and not part.separable
    assert 1 <= part.violations <= full.violations
    assert not part.complete_count and part.pairs_checked < 60 * 61 // 2
    # on separable data there is nothing to stop at: same report
    Y = np.abs(X)
    assert (
        orthogonal_separability(Y, np.zeros(60, int), stop_at_first=True).to_dict()
        == orthogonal_separability(Y, np.zeros(60, int)).to_dict()
    )


def test_max_worst_and_to_dict_round_trip():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 3))
    cls = rng.integers(0, 3, 20)
    r = orthogonal_separability(X, cls, max_worst=7)
    assert len(r.worst) == 7
    sev = [(-v.cosine if v.kind == SAME else v.cosine) for v in r.worst]
    assert all(a >= b - 1e-9 for a, b in zip(sev, sev[1:]))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["violations"] == r.violations
    for v, dv in zip(r.worst, d["worst"]):
        assert parse_rational(dv["inner_product"]) == v.inner_product
    assert orthogonal_separability(X, cls, max_worst=0).worst == ()


def test_input_validation():
    X = np.ones((3, 2))
    c = np.array([0, 1, 1])
    bad = [
        (X.tolist(), c),
        (np.ones(3), c),
        (np.ones((0, 2)), np.array([], int)),
        (np.array([[1.0, np.nan]] * 3), c),
        (np.array([[1 + 1j, 0]] * 3), c),
        (X, c.astype(float)),
        (X, np.array([0, 1])),
        (X, np.array([0, -1, 1])),
        (X, c.reshape(3, 1)),
        (X, c.tolist()),
        (X.astype(bool), c),
    ]
    for Xb, cb in bad:
        with pytest.raises(InputError):
            orthogonal_separability(Xb, cb)
    for kw in ({"block_size": 0}, {"block_size": 1.5}, {"max_worst": -1}, {"stop_at_first": "yes"}):
        with pytest.raises(InputError):
            orthogonal_separability(X, c, **kw)
    # integer and float32 data convert exactly
    assert orthogonal_separability(np.eye(3, dtype=np.int32), np.arange(3)).separable
    assert orthogonal_separability(np.eye(3, dtype=np.float32), np.arange(3)).separable


# ------------------------------------------------------------------- property tests


_VALUES = st.sampled_from(
    [
        0.0,
        0.0,
        1.0,
        -1.0,
        2.0,
        0.5,
        -0.25,
        0.1,
        0.2,
        -0.3,
        3.0,
        -1.5,
        1e-3,
        7.0,
        1e17,
        -1e17,
        2.0**-1070,
    ]
)


@st.composite
def datasets(draw, structured: bool = False):
    n = draw(st.integers(1, 9))
    d = draw(st.integers(1, 5))
    k = draw(st.integers(1, 3))
    if structured:  # class-k points on disjoint coordinate blocks, nonnegative: separable
        d = max(d, k)
        blocks = np.array_split(np.arange(d), k)
        cls = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
        X = np.zeros((n, d))
        for i in range(n):
            cols = blocks[cls[i]]
            vals = draw(
                hnp.arrays(np.float64, len(cols), elements=st.floats(0.01, 10, allow_nan=False))
            )
            X[i, cols] = vals
        if draw(st.booleans()):  # perturb one entry (may or may not break separability)
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))
            X[i, j] = draw(st.sampled_from([-1.0, 0.0, 1e-300, 0.3, -5.0]))
        return X, cls
    mode = draw(st.integers(0, 2))
    if mode == 0:
        X = draw(hnp.arrays(np.float64, (n, d), elements=_VALUES))
    elif mode == 1:
        X = draw(hnp.arrays(np.float64, (n, d), elements=st.integers(-3, 3).map(float)))
    else:
        X = draw(
            hnp.arrays(np.float64, (n, d), elements=st.floats(-1e6, 1e6, allow_nan=False, width=64))
        )
    cls = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return X, cls


_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(datasets())
def test_agrees_with_brute_force(data):
    X, cls = data
    r = check_against_brute(X, cls)
    for b in (1, 2, 1000):  # the report does not depend on the blocking
        assert orthogonal_separability(X, cls, block_size=b).to_dict() == r.to_dict()


@_SETTINGS
@given(datasets(structured=True))
def test_agrees_with_brute_force_structured(data):
    X, cls = data
    r = check_against_brute(X, cls, max_worst=3)
    assert orthogonal_separability(X, cls, block_size=1, max_worst=3).to_dict() == r.to_dict()


@settings(max_examples=40, deadline=None)
@given(datasets(), st.integers(0, 60))
def test_sign_flip_of_whole_class_and_scaling_invariance(data, seed):
    X, cls = data
    rng = np.random.default_rng(seed)
    s = np.ldexp(1.0, rng.integers(-20, 20, len(X)))[:, None]  # positive scaling,
    assume(np.array_equal((X * s) / s, X))  # exact unless it underflows
    r1 = orthogonal_separability(X, cls)
    r2 = orthogonal_separability(X * s, cls)
    assert (r1.separable, r1.violations) == (r2.separable, r2.violations)
    flip = np.where(cls[:, None] == cls[0], -1.0, 1.0)  # negating one class keeps same-class
    r3 = orthogonal_separability(X * flip, cls)  # products; cross ones change sign
    b = brute_force(X * flip, cls)
    assert r3.violations == b["violations"]


def test_near_orthogonal_non_dyadic_data_goes_exact_in_batches(monkeypatch):
    # 0.1 × integer combinations of orthogonal Hadamard rows: cross-class inner products are
    # tiny (rounding of 0.1) or exactly 0, far below what any float bound can certify.
    from verify.geometry import rounding as numerics

    rng = np.random.default_rng(7)
    H = np.array([[1.0]])
    while H.shape[0] < 16:
        H = np.block([[H, H], [H, -H]])
    cls = np.repeat([0, 1], 15)
    X = np.vstack([0.1 * (rng.integers(1, 4, (15, 8)) @ H[k::2]) for k in (0, 1)])
    r = check_against_brute(X, cls)  # exact signs by limb-split BLAS products
    assert r.exact_checks >= 100
    reports = [r.to_dict()]
    monkeypatch.setattr(numerics, "exact_products", lambda *a, **k: None)
    monkeypatch.setattr(numerics.ExactRows, "flint_min", 1)  # python-flint, if installed
    reports.append(orthogonal_separability(X, cls, block_size=4).to_dict())
    monkeypatch.setattr(numerics, "_flint", None)  # pure-Python integers
    reports.append(orthogonal_separability(X, cls, block_size=7).to_dict())
    assert reports[0] == reports[1] == reports[2]
