"""KKT fit of Proposition 3, loss weights, Theorem 1 alignment, the cover condition."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pytest

from verify.errors import InputError
from verify.io.datasets import paper_dataset
from verify.network.kkt import alignment, covers_both_classes, kkt_dual, loss_weights
from verify.network.model import Network, activation_patterns, objective_upper_bound

RNG = np.random.default_rng(11)


def min_norm_vec(Xc):
    """argmin ||w|| s.t. Xc w >= 1 and its multipliers, by brute force over active sets.

    The QP is convex, so a point with multipliers mu >= 0 satisfying KKT is optimal; the
    active-set solve is a linear system, accurate to rounding (no iterative solver).
    """
    n = Xc.shape[0]
    best = None
    for r in range(1, n + 1):
        for A in combinations(range(n), r):
            XA = Xc[list(A)]
            G = XA @ XA.T
            if abs(np.linalg.det(G)) < 1e-12:
                continue
            mu = np.linalg.solve(G, np.ones(r))
            w = XA.T @ mu
            if mu.min() >= -1e-12 and (Xc @ w).min() >= 1 - 1e-12:
                if best is None or np.linalg.norm(w) < np.linalg.norm(best[0]):
                    full = np.zeros(n)
                    full[list(A)] = mu
                    best = (w, full)
    assert best is not None
    return best


def orth_separable(n_pos=4, n_neg=3):
    """Positives (a, b, 0) with a, b > 0; negatives (-a, 0, c) with c > 0.

    Same-class inner products are > 0, cross-class ones are -a a' < 0.
    """
    Xp = np.column_stack([RNG.uniform(0.5, 2, n_pos), RNG.uniform(0.1, 1, n_pos), np.zeros(n_pos)])
    Xn = np.column_stack([-RNG.uniform(0.5, 2, n_neg), np.zeros(n_neg), RNG.uniform(0.1, 1, n_neg)])
    X = np.vstack([Xp, Xn])
    y = np.array([1] * n_pos + [-1] * n_neg)
    G = X @ X.T
    same = y[:, None] == y[None, :]
    assert np.all(G[same] > 0) and np.all(G[~same] <= 0)
    return X, y, Xp, Xn


def optimal_network(Xp, Xn):
    (wp, mup), (wn, mun) = min_norm_vec(Xp), min_norm_vec(Xn)
    # neuron = u / sqrt(||u||) with w2 = ±sqrt(||u||) (MATH.md, convex primal → network)
    sp, sn = np.sqrt(np.linalg.norm(wp)), np.sqrt(np.linalg.norm(wn))
    net = Network(np.column_stack([wp / sp, wn / sn]), np.array([sp, -sn]))
    return net, wp, wn, mup, mun


def test_kkt_fit_on_closed_form_optimum():
    X, y, Xp, Xn = orth_separable()
    net, wp, wn, mup, mun = optimal_network(Xp, Xn)
    fit = kkt_dual(net, X, y, support_tol=1e-6)
    assert fit.residual < 1e-10
    assert np.allclose(fit.neuron_norms, 1.0, atol=1e-10)
    lam = np.array(fit.lam)
    assert np.all(y * lam >= 0)
    # λ is the QP multiplier divided by the norm (w1/w2 = w_±/||w_±|| = X^T D̂ λ)
    expect = np.concatenate([mup / np.linalg.norm(wp), -mun / np.linalg.norm(wn)])
    assert np.allclose(lam, expect, atol=1e-9)
    # complementary slackness: λ vanishes off the support
    off = np.setdiff1d(np.arange(len(y)), fit.support)
    assert np.all(lam[off] == 0)
    # y^T λ = Σ ||w1_i|| |w2_i| = P* = ||w_+|| + ||w_-|| at a KKT point
    p_star = np.linalg.norm(wp) + np.linalg.norm(wn)
    assert abs(fit.dual_objective - p_star) < 1e-9 * p_star
    assert abs(fit.primal_objective - p_star) < 1e-9 * p_star
    assert abs(float(objective_upper_bound(net, X, y)[0]) - p_star) < 1e-9 * p_star
    json.dumps(fit.to_dict())
    # the cover condition of Prop. 4 holds for the two optimal neurons
    D, _ = activation_patterns(net, X)
    cov = covers_both_classes(D, net.w2, y)
    assert cov.covers and cov.covers_with_signs
    assert cov.positive_cover == (0,) and cov.negative_cover == (1,)


def test_kkt_fit_survives_split_neurons_and_scaling():
    X, y, Xp, Xn = orth_separable(5, 4)
    net, *_ = optimal_network(Xp, Xn)
    # split the positive neuron into two parallel ones, add a dead neuron, scale unevenly
    W1 = np.column_stack([net.W1[:, 0] * 3.0, net.W1[:, 0], net.W1[:, 1] * 0.5, np.zeros(3)])
    w2 = np.array([net.w2[0] * 0.25, net.w2[0] * 0.25, net.w2[1] * 2.0, 1.0])
    net2 = Network(W1 * 7.0, w2 * 7.0)
    assert np.allclose(net2.outputs(X), 49.0 * net.outputs(X), rtol=1e-12)
    fit = kkt_dual(net2, X, y, support_tol=1e-6)
    assert fit.neurons == (0, 1, 2)  # the dead neuron does not enter the fit
    assert fit.residual < 1e-10
    assert np.allclose(fit.neuron_norms, 1.0, atol=1e-10)
    assert abs(fit.scale * 7.0 - 1.0) < 1e-12  # min margin 49 → scale 1/7


def test_kkt_fit_detects_non_kkt_network():
    X, y, Xp, Xn = orth_separable()
    net, wp, wn, *_ = optimal_network(Xp, Xn)
    # tilt the positive neuron: still separating, no longer a KKT point
    W1 = net.W1.copy()
    W1[:, 0] = W1[:, 0] + np.array([0.0, 0.3, 0.0]) * np.linalg.norm(W1[:, 0])
    bad = Network(W1, net.w2)
    assert min(bad.margins(X, y)) > 0
    fit = kkt_dual(bad, X, y, support_tol=1e-6)
    assert fit.residual > 1e-3
    assert fit.dual_objective < fit.primal_objective * (1 - 1e-6)


def test_kkt_fit_paper_f1():
    ds = paper_dataset("F.1")
    X, y = ds.X, ds.y
    # one sample per class: w_± = x / ||x||², the optimal neurons in closed form
    net, *_ = optimal_network(X[:1], X[1:])
    fit = kkt_dual(net, X, y)
    assert fit.residual < 1e-12 and fit.support == (0, 1)
    lam = np.array(fit.lam)
    assert np.allclose(lam, [1 / np.linalg.norm(X[0]), -1 / np.linalg.norm(X[1])], rtol=1e-12)


def test_kkt_ambiguous_choice():
    # the negative neuron is exactly orthogonal to the positive sample: x_0^T w1_1 = 0
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    y = np.array([1, -1])
    net, *_ = optimal_network(X[:1], X[1:])
    assert net.W1[1, 0] == 0 and net.W1[0, 1] == 0
    fit0 = kkt_dual(net, X, y)
    assert fit0.n_ambiguous == 2 and not fit0.ambiguous_active
    assert fit0.residual < 1e-14
    fit1 = kkt_dual(net, X, y, ambiguous_active=True)
    assert fit1.ambiguous_active and fit1.residual > 0.1  # putting them in breaks the fit


def test_kkt_input_errors():
    X = np.array([[1.0], [2.0]])
    net = Network(np.array([[1.0]]), np.array([1.0]))
    with pytest.raises(InputError, match="1 of 2 samples are misclassified"):
        kkt_dual(net, X, np.array([1, -1]))
    with pytest.raises(InputError, match="support_tol"):
        kkt_dual(net, X, np.array([1, 1]), support_tol=-1.0)
    multi = Network(np.ones((2, 1, 1)), np.ones((2, 1)))
    with pytest.raises(InputError, match="iter_classes"):
        kkt_dual(multi, X, np.array([[1, 1], [1, 1]]))


def test_loss_weights_formula_and_stability():
    X = RNG.standard_normal((10, 3))
    net = Network(RNG.standard_normal((3, 4)), RNG.standard_normal(4))
    y = np.where(RNG.random(10) > 0.5, 1, -1)
    q = net.margins(X, y)
    lw = loss_weights(net, X, y)
    # -y ℓ'(q) with ℓ(q) = log(1 + e^{-q}); derivative by central differences
    h = 1e-6
    num = (np.log1p(np.exp(-(q + h))) - np.log1p(np.exp(-(q - h)))) / (2 * h)
    assert np.allclose(lw, -y * num, atol=1e-8)
    assert np.all(y * lw > 0) and np.all(np.abs(lw) < 1)
    big = Network(np.array([[1.0]]), np.array([1.0]))
    with np.errstate(all="raise"):
        out = loss_weights(big, np.array([[1e4], [1e4]]), np.array([1, -1]))
    assert out.tolist() == [0.0, -1.0]
    K = Network(np.ones((2, 1, 1)), np.ones((2, 1)))
    assert loss_weights(K, np.array([[1.0]]), np.array([[1, -1]])).shape == (1, 2)


def test_alignment_against_direct_formula():
    X = RNG.standard_normal((12, 3))
    y = np.where(RNG.random(12) > 0.5, 1, -1)
    net = Network(RNG.standard_normal((3, 5)), RNG.standard_normal(5))
    cos = alignment(net, X, y)
    for i in range(5):
        w = net.W1[:, i]
        g = np.sign(net.w2[i]) * sum(y[n] * X[n] for n in range(12) if X[n] @ w > 0)
        ref = w @ g / (np.linalg.norm(w) * np.linalg.norm(g))
        assert abs(cos[i] - ref) < 1e-12


def test_alignment_prop7_stationary_direction():
    # orthogonally separable: u = Σ_{positives} x_n is active exactly on the positives, so
    # X^T D(u) y = u and the alignment is 1 (Prop. 7: a local maximiser of y^T (Xu)_+).
    X, y, Xp, Xn = orth_separable()
    u = Xp.sum(axis=0)
    v = -Xn.sum(axis=0)
    net = Network(np.column_stack([u, -v, np.zeros(3)]), np.array([1.0, -1.0, 1.0]))
    cos = alignment(net, X, y)
    assert abs(cos[0] - 1) < 1e-14 and abs(cos[1] - 1) < 1e-14
    assert np.isnan(cos[2])  # a zero neuron has no direction


def test_cover_needs_one_neuron_per_class():
    # every positive sample is covered by some w2 > 0 neuron, but by no single one
    y = np.array([1, 1, -1])
    D = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    c = covers_both_classes(D, np.array([1.0, 1.0, -1.0]), y)
    assert not c.covers and c.positive_cover == () and c.negative_cover == (2,)
    # w2 = 0 neurons do not count (D̂ is only defined for w2 ≠ 0)
    D2 = np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)
    assert not covers_both_classes(D2, np.array([0.0, -1.0]), y).covers
    # the sign is reported separately: a negative neuron covering the positives
    c3 = covers_both_classes(D2, np.array([-1.0, -1.0]), y)
    assert c3.covers and not c3.covers_with_signs
    json.dumps(c3.to_dict())
    with pytest.raises(InputError, match="expected D_hat"):
        covers_both_classes(D2, np.ones(3), y)


def test_kkt_gram_path_agrees_with_dense(monkeypatch):
    import verify.network.kkt as kkt

    X, y, Xp, Xn = orth_separable(6, 5)
    net, *_ = optimal_network(Xp, Xn)
    dense = kkt_dual(net, X, y, support_tol=1e-6)
    monkeypatch.setattr(kkt, "_DENSE_LIMIT", 0)
    gram = kkt_dual(net, X, y, support_tol=1e-6)
    assert gram.residual < 1e-7 and np.allclose(gram.lam, dense.lam, atol=1e-7)
    assert np.allclose(gram.neuron_norms, 1.0, atol=1e-7)
    # a non-KKT network: both paths minimise the same objective
    Z = RNG.standard_normal((8, 3))
    rnd = Network(RNG.standard_normal((3, 6)), RNG.standard_normal(6))
    f = rnd.outputs(Z)
    Z, yz = Z[np.abs(f) > 1e-3], np.where(f[np.abs(f) > 1e-3] > 0, 1, -1)
    g = kkt_dual(rnd, Z, yz, support_tol=10.0)
    monkeypatch.setattr(kkt, "_DENSE_LIMIT", 10**9)
    d = kkt_dual(rnd, Z, yz, support_tol=10.0)
    assert abs(g.residual - d.residual) < 1e-6 * max(1.0, d.residual)


def test_theorem3_value_on_optimal_and_rotated_networks():
    from verify.convex.closed_form import solve_orthogonally_separable
    from verify.io.datasets import paper_dataset
    from verify.network.kkt import theorem3

    ds = paper_dataset("F.1")
    sol = solve_orthogonally_separable(ds.X, ds.y)
    W1 = np.stack([n.w1 for n in sol.neurons], axis=1)
    w2 = np.array([n.w2 for n in sol.neurons])
    opt = theorem3(Network(W1=W1, w2=w2), ds.X, ds.y)
    assert opt.complete and abs(float(opt.dual_norm) - 1) < 1e-6
    assert abs(float(opt.lower_bound) - sol.value) < 1e-6 * sol.value
    c, s = np.cos(0.1), np.sin(0.1)
    rotated = Network(W1=np.array([[c, -s], [s, c]]) @ W1, w2=w2)
    bad = theorem3(rotated, ds.X, ds.y)
    assert float(bad.lower_bound) <= sol.value * (1 + 1e-9)  # always a valid lower bound
    # not a KKT point: the Prop. 3 fit fails, and its lambda certifies little
    assert bad.fit.residual > 1e-3 and float(bad.lower_bound) < 0.9 * sol.value
