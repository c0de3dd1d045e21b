"""Rigorous float bounds checked against exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from verify.geometry import rounding as nm
from verify.geometry.rationals import exact_dot


def test_constants_and_rounding():
    assert nm.UNIT_ROUNDOFF == Fraction(1, 2**53)
    assert nm.SMALLEST_SUBNORMAL > 0 and nm.SMALLEST_SUBNORMAL / 2 == 0
    assert nm.gamma(0) == 0
    for n in (1, 2, 784, 10**6):
        g = nm.gamma_exact(n)
        assert g == Fraction(n, 2**53) / (1 - Fraction(n, 2**53))
        assert Fraction(nm.gamma(n)) >= g and nm.gamma(n) <= float(g) * (1 + 1e-15)
    q = Fraction(1, 3)
    assert Fraction(nm.round_down(q)) <= q <= Fraction(nm.round_up(q))
    assert math.nextafter(nm.round_down(q), 1) >= nm.round_up(q)
    with pytest.raises(ValueError):
        nm.gamma(-1)
    with pytest.raises(ValueError):
        nm.dot_error_bound(np.array([-1.0]), 3)


_finite = st.floats(-1e30, 1e30, allow_nan=False, width=64)
_tricky = st.sampled_from(
    [
        0.0,
        1.0,
        -1.0,
        0.1,
        0.2,
        -0.3,
        1e17,
        -1e17,
        2.0**56,
        9.0,
        -10.0,
        1e-310,
        -5e-324,
        3.0,
        1.5,
        2.0**-600,
    ]
)


def _vec(n):
    return st.one_of(
        hnp.arrays(np.float64, n, elements=_finite), hnp.arrays(np.float64, n, elements=_tricky)
    )


def _float_dots(x: np.ndarray, y: np.ndarray) -> list[float]:
    """Several summation orders a BLAS might use."""
    out = [float(np.dot(x, y)), float((np.vstack([x, y]) @ np.vstack([x, y]).T)[0, 1])]
    s = 0.0
    for a, b in zip(x.tolist(), y.tolist()):
        s += a * b
    out.append(s)
    s = 0.0
    for a, b in zip(reversed(x.tolist()), reversed(y.tolist())):
        s += a * b
    out.append(s)
    out.append(float(np.sum(x * y)))  # pairwise
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(_vec(n), _vec(n))))
def test_dot_error_bound_holds(xy):
    x, y = xy
    exact = exact_dot(x.tolist(), y.tolist())
    absdot = float(sum(abs(Fraction(a) * Fraction(b)) for a, b in zip(x.tolist(), y.tolist())))
    a = math.nextafter(absdot, math.inf) if math.isfinite(absdot) else math.inf
    bound = nm.dot_error_bound(np.array([a]), len(x))[0]
    for f in _float_dots(x, y):
        if math.isfinite(f) and math.isfinite(bound):
            assert abs(Fraction(f) - exact) <= Fraction(bound)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 10).flatmap(
        lambda d: hnp.arrays(np.float64, (3, d), elements=st.one_of(_finite, _tricky))
    )
)
def test_norm_bounds_and_sign_threshold(X):
    n = nm.norm_upper_bounds(X)
    for i in range(3):
        ss = exact_dot(X[i].tolist(), X[i].tolist())
        assert n[i] > 0 and Fraction(n[i]) ** 2 >= ss
    theta = nm.normalized_sign_threshold(X.shape[1])
    a = np.maximum(n, 1.0)
    for i, j in ((0, 1), (1, 2), (0, 2)):
        exact = exact_dot(X[i].tolist(), X[j].tolist())
        for g in _float_dots(X[i], X[j]):
            if not math.isfinite(g):
                continue
            c = (g / a[i]) / a[j]
            if c > theta:
                assert exact > 0
            if c < -theta:
                assert exact < 0


def test_sign_threshold_is_needed():
    # The bound must not decide a case the float gets wrong.
    a = 2.0**56
    x, y = np.array([a, 9.0, -a, -10.0]), np.ones(4)
    g = float(np.dot(x, y))
    n = np.maximum(nm.norm_upper_bounds(np.vstack([x, y])), 1.0)
    assert abs((g / n[0]) / n[1]) <= nm.normalized_sign_threshold(4)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64, (4, 3), elements=st.one_of(_finite, _tricky, st.integers(-9, 9).map(float))
    )
)
def test_lsb_and_exact_float_dots(X):
    lsb = nm.lsb_exponents(X)
    for i in range(len(X)):
        nz = [Fraction(v) for v in X[i].tolist() if v != 0]
        if not nz:
            assert lsb[i] >= 2**40
            continue
        scaled = [v / Fraction(2) ** int(lsb[i]) for v in nz]
        assert all(s.denominator == 1 for s in scaled)
        assert any(s.numerator % 2 for s in scaled)
    n = nm.norm_upper_bounds(X)
    mag = np.frexp(n)[1]
    for i in range(len(X)):
        for j in range(len(X)):
            if nm.float_dot_is_exact(lsb[i], mag[i], lsb[j], mag[j]):
                exact = exact_dot(X[i].tolist(), X[j].tolist())
                assert all(Fraction(f) == exact for f in _float_dots(X[i], X[j]))


def test_exact_criterion_for_small_integers():
    rng = np.random.default_rng(0)
    X = rng.integers(-100, 101, (30, 50)).astype(float)
    lsb, mag = nm.lsb_exponents(X), np.frexp(nm.norm_upper_bounds(X))[1]
    ok = nm.float_dot_is_exact(lsb[:, None], mag[:, None], lsb[None, :], mag[None, :])
    assert ok.all()
    G = X @ X.T
    Xi = X.astype(np.int64)
    assert np.array_equal(G, (Xi @ Xi.T).astype(float))


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        (3, 4),
        elements=st.one_of(_finite, _tricky, st.floats(allow_nan=False, allow_infinity=False)),
    )
)
def test_power_of_two_row_scaling_is_exact(X):
    Y, k = nm.power_of_two_row_scaling(X)
    for i in range(len(X)):
        for a, b in zip(X[i].tolist(), Y[i].tolist()):
            assert Fraction(b) == Fraction(a) * Fraction(2) ** int(k[i])
        m = np.max(np.abs(Y[i]))
        if k[i] != 0:
            assert 1 <= m < 2


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        (3, 4),
        elements=st.one_of(_finite, _tricky, st.floats(allow_nan=False, allow_infinity=False)),
    )
)
def test_dyadic_rows_and_exact_rows(X):
    E = nm.ExactRows(X)
    for i in range(len(X)):
        ints, e = nm.dyadic_row(X[i])
        assert [Fraction(v) * Fraction(2) ** e for v in ints] == [Fraction(v) for v in X[i]]
        assert e == 0 or any(v % 2 for v in ints)  # lowest terms
        for j in range(len(X)):
            assert E.inner(i, j) == exact_dot(X[i].tolist(), X[j].tolist())
            c = E.pair(i, j)[2]
            ip = E.inner(i, j)
            assert -1 <= c <= 1 and (c > 0) <= (ip > 0) and (c < 0) <= (ip < 0)
            if X[i].any() and X[j].any() and ip:
                cos2 = (
                    ip
                    * ip
                    / (
                        exact_dot(X[i].tolist(), X[i].tolist())
                        * exact_dot(X[j].tolist(), X[j].tolist())
                    )
                )
                assert abs(c * c - float(cos2)) <= 1e-15 * float(cos2) + 1e-300


def test_limb_width():
    for n in (1, 2, 3, 784, 1000, 2**20):
        b = nm.limb_width(n)
        assert n * 2 ** (2 * b) <= 2**53 < n * 2 ** (2 * b + 2) * 2


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda d: st.tuples(
            hnp.arrays(np.float64, (3, d), elements=st.one_of(_finite, _tricky)),
            hnp.arrays(np.float64, (4, d), elements=st.one_of(_finite, _tricky)),
        )
    )
)
def test_exact_products_match_fractions(AB):
    A, B = AB
    P = nm.exact_products(A, B, max_limbs=60)
    if P is None:  # rows spanning more than ~1000 bits
        return
    la, lb = nm.lsb_exponents(A), nm.lsb_exponents(B)
    for a in range(len(A)):
        for b in range(len(B)):
            exact = exact_dot(A[a].tolist(), B[b].tolist())
            assert P.sign[a, b] == (exact > 0) - (exact < 0)
            ea = 0 if la[a] >= 2**40 else int(la[a])
            eb = 0 if lb[b] >= 2**40 else int(lb[b])
            assert Fraction(P.integer(a, b)) * Fraction(2) ** (ea + eb) == exact


def test_exact_products_decimal_data_and_limits():
    rng = np.random.default_rng(2)
    A = np.round(rng.standard_normal((6, 50)), 3)
    B = np.round(rng.standard_normal((5, 50)), 3)
    P = nm.exact_products(A, B)
    for a in range(6):
        for b in range(5):
            exact = exact_dot(A[a].tolist(), B[b].tolist())
            assert P.sign[a, b] == (exact > 0) - (exact < 0)
    wide = np.array([[1e300, 5e-324]])
    assert nm.exact_products(wide, wide) is None
    assert nm.ExactRows(wide).products([0], [0])[0] > 0
