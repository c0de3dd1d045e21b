"""The exact bounds (verify.convex.bounds) against Fraction arithmetic and the oracle."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from verify.convex.bounds import (
    certified_dual_norm,
    exact_margins,
    exact_norm_sq,
    int_matrix,
    lower_bound,
    upper_bound,
)
from verify.convex.chamber_oracle import oracle
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.rationals import exact_dot


def test_int_matrix_is_exact():
    A = np.array([[0.1, -3.0e300, 5e-324], [0.0, 1.0, -2.5]])
    M, e = int_matrix(A)
    for a, m in zip(A.ravel(), M.ravel()):
        assert Fraction(int(m)) * Fraction(2) ** e == Fraction(float(a))


def test_exact_norm_and_margins_against_fraction_arithmetic():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, 3))
    a = rng.standard_normal(5)
    c = [exact_dot(X[:, k], a) for k in range(3)]
    assert exact_norm_sq(X, a) == sum(t * t for t in c)
    W1 = rng.standard_normal((3, 4))
    w2 = rng.standard_normal(4)
    F = exact_margins(X, W1, w2)
    for n in range(5):
        ref = sum(max(exact_dot(X[n], W1[:, i]), Fraction(0)) * Fraction(w2[i]) for i in range(4))
        assert F[n] == ref


def test_upper_bound_exact_and_rejects_nonpositive_margin():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0])
    # neurons (3, 0) -> +1 and (0, 1) -> -2: margins 3 and 2, cost 3*1 + 1*2 = 5
    assert upper_bound(X, y, np.array([[3.0, 0.0], [0.0, 1.0]]), np.array([1.0, -2.0])) == \
        Fraction(5, 2)
    with pytest.raises(InputError, match="margin is not positive"):
        upper_bound(X, y, np.array([[1.0], [0.0]]), np.array([1.0]))
    with pytest.raises(InputError, match="W1 of shape"):
        upper_bound(X, y, np.ones((3, 1)), np.ones(1))


def test_certified_norm_is_an_exact_upper_bound_and_lb_projects_lambda():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((7, 2))
    y = np.where(rng.standard_normal(7) > 0, 1.0, -1.0)
    lam = rng.standard_normal(7)
    P = enumerate_chambers(X).pattern_matrix()
    res = oracle(X, lam, P, keep_slack=True)
    zp = [res.slack.get((j, 1)) for j in range(len(P))]
    zm = [res.slack.get((j, -1)) for j in range(len(P))]
    s, info = certified_dual_norm(X, lam, P, zp, zm)
    assert float(s) >= res.value - 1e-12 and float(s) == pytest.approx(res.value, rel=1e-12)
    assert info["exact_chambers"] >= 1
    lb = lower_bound(X, y, lam, P, zp, zm)
    lam_p = np.where(y * lam > 0, lam, 0.0)
    s_p, _ = certified_dual_norm(X, lam_p, P)  # zero slacks: looser, still >= exact max
    assert lb <= sum(Fraction(v) for v in np.abs(lam_p))
    assert float(s_p) >= oracle(X, lam_p, P, exact_values=True).value - 1e-12


def test_bad_inputs():
    X = np.ones((3, 2))
    with pytest.raises(InputError, match="labels in"):
        lower_bound(X, np.array([1.0, 0.0, 1.0]), np.ones(3), np.ones((1, 3), bool))


def test_exact_margins_without_samples_features_or_neurons_are_zero():
    X = np.array([[1.0, 2.0], [3.0, -4.0]])
    assert exact_margins(X, np.zeros((2, 0)), np.zeros(0)) == [Fraction(0), Fraction(0)]
    assert exact_margins(np.zeros((0, 2)), np.ones((2, 1)), np.ones(1)) == []
    assert exact_margins(np.zeros((2, 0)), np.zeros((0, 3)), np.ones(3)) == [0, 0]
    with pytest.raises(InputError, match="non-finite"):
        exact_margins(np.array([[np.inf, 0.0]]), np.ones((2, 1)), np.ones(1))
