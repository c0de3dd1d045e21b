"""Networks: exact margins and patterns vs independent Fraction arithmetic, scaling, UB(θ)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verify.network.model as network
from verify.checker import arithmetic
from verify.errors import InputError
from verify.network.model import (
    Network,
    activation_patterns,
    balance,
    check_data,
    exact_margins,
    exact_preactivations,
    float_margins,
    iter_classes,
    margin_enclosures,
    objective_upper_bound,
    rescale_to_margin,
)

RNG = np.random.default_rng(3)


# --------------------------------------------------------------------------- reference


def fraction_preacts(X, W1):
    """Independent route: plain Fractions, one product at a time."""
    X, W1 = np.asarray(X, float), np.asarray(W1, float)
    return [
        [
            sum((Fraction(a) * Fraction(b) for a, b in zip(x, W1[:, i])), Fraction(0))
            for i in range(W1.shape[1])
        ]
        for x in X
    ]


def fraction_margins(X, y, W1, w2):
    P = fraction_preacts(X, W1)
    return [
        int(yn) * sum((max(p, Fraction(0)) * Fraction(v) for p, v in zip(row, w2)), Fraction(0))
        for row, yn in zip(P, y)
    ]


def wide_floats(shape):
    """Floats over many binades, with exact zeros, subnormals and duplicates of sign."""
    A = RNG.standard_normal(shape) * 2.0 ** RNG.integers(-60, 60, size=shape)
    A[RNG.random(shape) < 0.1] = 0.0
    A.flat[0] = 5e-324
    return A


def separable_problem(N=12, d=3, m=5):
    """A random network and labels it separates with a positive margin."""
    X = RNG.standard_normal((N, d))
    W1 = RNG.standard_normal((d, m))
    w2 = RNG.standard_normal(m)
    f = np.maximum(X @ W1, 0) @ w2
    keep = np.abs(f) > 1e-3
    X, f = X[keep], f[keep]
    return X, np.where(f > 0, 1, -1), Network(W1, w2)


# --------------------------------------------------------------------------- exact kernel


@pytest.mark.parametrize("use_flint", [True, False])
def test_exact_margins_match_fraction_reference(monkeypatch, use_flint):
    if not use_flint:
        monkeypatch.setattr(network, "_flint", None)
    X, W1, w2 = wide_floats((7, 4)), wide_floats((4, 6)), wide_floats(6)
    y = np.where(RNG.random(7) > 0.5, 1, -1)
    assert exact_margins(X, y, W1, w2) == fraction_margins(X, y, W1, w2)
    Z, ex, ew = exact_preactivations(X, W1)
    ref = fraction_preacts(X, W1)
    for n in range(7):
        for i in range(6):
            assert Fraction(Z[n][i]) * Fraction(2) ** (ex[n] + ew[i]) == ref[n][i]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_subnormal=True), min_size=6, max_size=6),
    st.lists(st.floats(-1e3, 1e3), min_size=6, max_size=6),
    st.lists(st.floats(-10, 10), min_size=3, max_size=3),
)
def test_exact_margins_property(xs, ws, vs):
    X = np.array(xs).reshape(3, 2)
    W1 = np.array(ws).reshape(2, 3)
    w2 = np.array(vs)
    y = np.array([1, -1, 1])
    exact_q = exact_margins(X, y, W1, w2)
    assert exact_q == fraction_margins(X, y, W1, w2)
    # the float margins are close to the exact ones (a-priori error bound, generous)
    fq = float_margins(X, y, W1, w2)
    bound = 8 * 2.0**-53 * (np.abs(X) @ np.abs(W1)) @ np.abs(w2) + 1e-300
    assert np.all(np.abs(fq - np.array([float(q) for q in exact_q])) <= bound)


def test_float_margin_has_wrong_sign_exact_is_right():
    # Neuron 0: x^T w1 = 2**53 + 1 - 2**53 = 1 exactly; left-to-right floats give 0.
    # Neuron 1: x^T w1 = 1, with w2 = -2**-10.  Exact output 1 - 2**-10 > 0.
    X = np.array([[2.0**53, 1.0, -(2.0**53)]])
    W1 = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    w2 = np.array([1.0, -(2.0**-10)])
    y = np.array([1])
    # the naive float evaluation (left to right, as written in the formula)
    h = [max((X[0, 0] * W1[0, i] + X[0, 1] * W1[1, i]) + X[0, 2] * W1[2, i], 0.0) for i in range(2)]
    naive = y[0] * (h[0] * w2[0] + h[1] * w2[1])
    assert naive < 0  # wrong sign
    q = exact_margins(X, y, W1, w2)
    assert q == [Fraction(1) - Fraction(1, 1024)] == fraction_margins(X, y, W1, w2)
    lo, hi = margin_enclosures(Network(W1, w2), X, y)
    assert Fraction(lo[0]) <= q[0] <= Fraction(hi[0])  # the enclosure is honest, and wide
    # the exact route decides the sign the refusal uses: this network separates the sample
    net = rescale_to_margin(Network(W1, w2), X, y)
    assert net.w2[0] > 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e200, 1e200, allow_subnormal=True), min_size=8, max_size=8),
    st.lists(st.floats(-1e50, 1e50, allow_subnormal=True), min_size=6, max_size=6),
    st.lists(st.floats(-1e50, 1e50, allow_subnormal=True), min_size=3, max_size=3),
)
def test_margin_enclosures_contain_exact(xs, ws, vs):
    X = np.array(xs).reshape(4, 2)
    W1 = np.array(ws).reshape(2, 3)
    w2 = np.array(vs)
    y = np.array([1, -1, 1, -1])
    with np.errstate(all="ignore"):
        lo, hi = margin_enclosures(Network(W1, w2), X, y)
    for q, a, b in zip(exact_margins(X, y, W1, w2), lo, hi):
        assert (a == -np.inf or Fraction(a) <= q) and (b == np.inf or q <= Fraction(b))


def test_margin_enclosures_tight_and_min_margin_with_ties():
    X, y, net = separable_problem(N=40)
    lo, hi = margin_enclosures(net, X, y)
    q = net.margins(X, y)
    assert np.all(hi - lo <= 1e-12 * np.abs(q))
    # duplicate the minimising sample and add a near-tie: several candidates go exact
    k = int(np.argmin(q))
    X2 = np.vstack([X, X[k], X[k] * (1 + 2.0**-50)])
    y2 = np.concatenate([y, [y[k], y[k]]])
    ub, _ = objective_upper_bound(net, X2, y2)
    ref = min(fraction_margins(X2, y2, net.W1, net.w2))
    num = ub * ref  # UB = (sum of rigorous norms) / gamma, so this isolates gamma
    ub_orig, _ = objective_upper_bound(net, X, y)
    assert num == ub_orig * min(fraction_margins(X, y, net.W1, net.w2))


def test_activation_patterns_exact_ambiguity():
    # x_0^T w = 2**53 + 1 - 2**53 - 1 = 0 exactly, but floats say -1 (left to right)
    X = np.array([[2.0**53, 1.0, -(2.0**53), -1.0], [0.1, 0.2, 0.3, 0.0], [-1.0, 0.0, 0.0, 0.0]])
    W1 = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    net = Network(W1, np.array([1.0, 1.0]))
    D, amb = activation_patterns(net, X)
    ref = fraction_preacts(X, W1)
    assert D.shape == amb.shape == (2, 3)
    for i in range(2):
        for n in range(3):
            assert D[i, n] == (ref[n][i] > 0) and amb[i, n] == (ref[n][i] == 0)
    assert amb[0, 0] and not D[0, 0]  # exact zero, whatever floats say
    assert amb[1].all()  # a zero neuron is ambiguous everywhere


def test_activation_patterns_random_against_reference():
    X = np.round(RNG.standard_normal((20, 3)) * 4) / 4  # many exact zeros of x^T w
    W1 = np.round(RNG.standard_normal((3, 6)) * 2) / 2
    D, amb = activation_patterns(Network(W1, np.ones(6)), X)
    ref = np.array(fraction_preacts(X, W1), dtype=object).T
    assert np.array_equal(D, ref > 0) and np.array_equal(amb, ref == 0)
    assert amb.any()  # the test covers ties


# --------------------------------------------------------------------------- network object


def test_network_validation_and_to_dict():
    net = Network(np.ones((2, 3)), np.array([1.0, -1.0, 0.5]), source="s")
    d = net.to_dict()
    json.dumps(d)
    assert d["n_neurons"] == 3 and d["W1"] == [[1.0] * 3] * 2
    with pytest.raises(InputError, match="non-finite"):
        Network(np.array([[np.inf]]), np.ones(1))
    with pytest.raises(InputError, match=r"expected shape \(2,\)"):
        net.margins(np.ones((2, 2)), np.array([1, -1, 1]))
    with pytest.raises(InputError, match="labels must be -1 or"):
        net.margins(np.ones((2, 2)), np.array([1, 0]))
    with pytest.raises(InputError, match="expects 2 input features"):
        net.outputs(np.ones((2, 3)))
    with pytest.raises(InputError, match="non-empty 2-D"):
        check_data(net, np.ones(2))


def test_multiclass_margins_and_iter_classes():
    K, d, m, N = 3, 2, 4, 9
    W1, w2 = RNG.standard_normal((K, d, m)), RNG.standard_normal((K, m))
    net = Network(W1, w2)
    X = RNG.standard_normal((N, d))
    cls = RNG.integers(0, K, N)
    Y = np.where(cls[:, None] == np.arange(K)[None, :], 1, -1)
    Q = net.margins(X, Y)
    assert Q.shape == (N, K)
    for k, sub, yk in iter_classes(net, Y):
        assert np.allclose(Q[:, k], yk * (np.maximum(X @ W1[k], 0) @ w2[k]), rtol=1e-14)
        assert exact_margins(X, yk, sub.W1, sub.w2) == fraction_margins(X, yk, W1[k], w2[k])
    D, amb = activation_patterns(net, X)
    assert D.shape == (K, m, N)
    with pytest.raises(InputError, match="binary network"):
        exact_margins(X, Y[:, 0], W1, w2)
    with pytest.raises(InputError, match="one column of labels"):
        list(iter_classes(net.subnetwork(0), Y))
    with pytest.raises(InputError, match=r"expected shape \(N, 3\)"):
        list(iter_classes(net, Y[:, :2]))


# --------------------------------------------------------------------------- scaling


def test_rescale_to_margin():
    X, y, net = separable_problem()
    r = rescale_to_margin(net, X, y)
    q = r.margins(X, y)
    assert abs(q.min() - 1.0) < 1e-14
    assert np.allclose(q / net.margins(X, y), q[0] / net.margins(X, y)[0], rtol=1e-13)


def test_rescale_refuses_nonpositive_margin():
    X, y, net = separable_problem()
    y = y.copy()
    y[:3] = -y[:3]
    with pytest.raises(InputError, match=r"3 of .* samples are misclassified \(rows 0, 1, 2, "
                       r"0-based\) and 0 lie on"):
        rescale_to_margin(net, X, y)
    # a sample on the boundary (exactly zero output) is refused too
    net0 = Network(np.array([[1.0]]), np.array([1.0]))
    with pytest.raises(InputError, match=r"0 of 2 samples are misclassified and 1 lie on "
                       r"the decision boundary \(row 1, 0-based\)"):
        rescale_to_margin(net0, np.array([[1.0], [-1.0]]), np.array([1, 1]))


def test_balance_keeps_outputs_and_balances():
    X, y, net = separable_problem()
    W1 = net.W1.copy()
    W1[:, 1] = 0.0  # a dead neuron (w1 = 0)
    w2 = net.w2.copy()
    w2[2] = 0.0  # and one with w2 = 0
    net = Network(W1, w2)
    b = balance(net)
    assert np.allclose(b.outputs(X), net.outputs(X), rtol=1e-13, atol=1e-15)
    assert np.allclose(np.linalg.norm(b.W1, axis=0), np.abs(b.w2), rtol=1e-14)
    assert not b.W1[:, 2].any() and b.w2[1] == 0
    assert np.array_equal(np.sign(b.w2), np.sign(w2) * (np.linalg.norm(W1, axis=0) > 0))
    bk = balance(Network(RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4))))
    assert np.allclose(np.linalg.norm(bk.W1, axis=1), np.abs(bk.w2), rtol=1e-14)


# --------------------------------------------------------------------------- UB(θ)


def test_objective_upper_bound_matches_float_and_is_rigorous():
    X, y, net = separable_problem()
    ub, ubf = objective_upper_bound(net, X, y)
    assert abs(float(ub) - ubf) <= 1e-12 * ubf
    # rigorous: the same sum with lower square-root bounds is below, and the gap is tiny
    q = min(fraction_margins(X, y, net.W1, net.w2))
    lo = Fraction(0)
    for i in range(net.n_neurons):
        sq = sum((Fraction(v) ** 2 for v in net.W1[:, i]), Fraction(0))
        lo += arithmetic.sqrt_bounds(sq)[0] * abs(Fraction(net.w2[i]))
    lo /= q
    assert lo <= ub and (ub - lo) / ub < Fraction(1, 2**55)


def test_objective_upper_bound_invariances():
    X, y, net = separable_problem()
    ub, ubf = objective_upper_bound(net, X, y)
    ub_bal, _ = objective_upper_bound(balance(net), X, y)
    assert abs(ub_bal - ub) / ub < 1e-13
    ub_res, _ = objective_upper_bound(rescale_to_margin(net, X, y), X, y)
    assert abs(ub_res - ub) / ub < 1e-13
    # scaling by powers of two is exact in floats: the bounds agree to the sqrt resolution
    ub2, _ = objective_upper_bound(Network(net.W1 * 4.0, net.w2 / 8.0), X, y)
    assert abs(ub2 - ub) / ub < Fraction(1, 2**55)
    # per-neuron positive rescaling (the output is unchanged) leaves UB unchanged
    c = 2.0 ** RNG.integers(-5, 5, size=net.n_neurons)
    ub3, _ = objective_upper_bound(Network(net.W1 * c, net.w2 / c), X, y)
    assert abs(ub3 - ub) / ub < Fraction(1, 2**55)


def test_upper_bound_dominates_closed_form_optimum():
    # orthogonally separable: positives in the open first quadrant of (e1, e2), negatives
    # in the half-space x1 < 0 with x2 = 0, so cross inner products are <= 0.
    Xp = np.column_stack([RNG.uniform(0.5, 2, 4), RNG.uniform(0.1, 1, 4), np.zeros(4)])
    Xn = np.column_stack([-RNG.uniform(0.5, 2, 3), np.zeros(3), RNG.uniform(0.1, 1, 3)])
    X = np.vstack([Xp, Xn])
    y = np.array([1] * 4 + [-1] * 3)
    assert np.all((X @ X.T)[y[:, None] != y[None, :]] <= 0)
    p_star = min_norm(Xp) + min_norm(Xn)
    for _ in range(20):  # any separating network has UB >= P*
        W1, w2 = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
        q = exact_margins(X, y, W1, w2)
        if min(q) > 0:
            assert float(objective_upper_bound(Network(W1, w2), X, y)[0]) >= p_star * (1 - 1e-12)
    wp, wn = min_norm_vec(Xp), min_norm_vec(Xn)
    opt = Network(np.column_stack([wp, wn]), np.array([1.0, -1.0]))
    assert abs(float(objective_upper_bound(opt, X, y)[0]) - p_star) < 1e-9 * p_star


def min_norm_vec(Xc):
    """argmin ||w|| s.t. Xc w >= 1, by brute force over active sets (KKT is sufficient)."""
    from itertools import combinations

    n = Xc.shape[0]
    best = None
    for r in range(1, n + 1):
        for A in combinations(range(n), r):
            G = Xc[list(A)] @ Xc[list(A)].T
            if abs(np.linalg.det(G)) < 1e-12:
                continue
            mu = np.linalg.solve(G, np.ones(r))
            w = Xc[list(A)].T @ mu
            if mu.min() >= -1e-12 and (Xc @ w).min() >= 1 - 1e-12:
                if best is None or np.linalg.norm(w) < np.linalg.norm(best):
                    best = w
    assert best is not None
    return best


def min_norm(Xc):
    return float(np.linalg.norm(min_norm_vec(Xc)))


def test_multiclass_upper_bound_is_sum():
    K, d, m, N = 3, 2, 3, 40
    X = RNG.standard_normal((N, d))
    W1, w2 = RNG.standard_normal((K, d, m)), RNG.standard_normal((K, m))
    net = Network(W1, w2)
    F = net.outputs(X)
    keep = np.all(np.abs(F) > 1e-3, axis=1)
    X, F = X[keep], F[keep]
    Y = np.where(F > 0, 1, -1)  # labels the network separates
    ub, ubf = objective_upper_bound(net, X, Y)
    parts = [objective_upper_bound(net.subnetwork(k), X, Y[:, k]) for k in range(K)]
    assert ub == sum(p[0] for p in parts)
    assert abs(ubf - sum(p[1] for p in parts)) < 1e-12 * ubf
