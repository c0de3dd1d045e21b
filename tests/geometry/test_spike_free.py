"""Exact spike-free test (verify.geometry.spike_free)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.checker.arithmetic import parse_rational
from verify.errors import InputError
from verify.geometry.rationals import exact_sign_dot
from verify.geometry.spike_free import spike_free

F1 = [[1.65, 0.47], [-0.47, 1.35]]
F2 = [[1.65, 0.47], [0.47, 1.35]]


def _sympy_check(X, u_text):
    """Independent exact route: sympy's pseudo-inverse.

    Returns (in_range, ||X^+ (Xu)_+||^2 / ||u||^2) for the exact rational ``u``.
    """
    Xs = sympy.Matrix([[sympy.Rational(Fraction(v)) for v in row] for row in np.asarray(X, float)])
    u = sympy.Matrix([sympy.Rational(parse_rational(t)) for t in u_text])
    y = (Xs * u).applyfunc(lambda v: v if v > 0 else 0)
    z = Xs.pinv() * y
    in_range = sympy.simplify(Xs * z - y) == sympy.zeros(*y.shape)
    return in_range, (z.T * z)[0] / (u.T * u)[0]


def _grid_2d(X, n=20000):
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    U = np.stack([np.cos(t), np.sin(t)], axis=1)
    Y = np.maximum(U @ X.T, 0.0)
    Z = Y @ np.linalg.pinv(X).T
    resid = np.linalg.norm(Z @ X.T - Y, axis=1)
    return np.linalg.norm(Z, axis=1).max(), resid.max()


def _sphere(X, n=60000, seed=0):
    U = np.random.default_rng(seed).standard_normal((n, X.shape[1]))
    U /= np.linalg.norm(U, axis=1)[:, None]
    Y = np.maximum(U @ X.T, 0.0)
    Z = Y @ np.linalg.pinv(X).T
    return np.linalg.norm(Z, axis=1).max(), np.linalg.norm(Z @ X.T - Y, axis=1).max()


def _is_whitened(X):
    Q = [[Fraction(v) if not isinstance(v, str) else parse_rational(v) for v in row] for row in X]
    return all(
        sum(a * b for a, b in zip(p, q)) == (i == j)
        for i, p in enumerate(Q)
        for j, q in enumerate(Q)
    )


H4 = [[0.5, 0.5, 0.5, 0.5], [0.5, -0.5, 0.5, -0.5], [0.5, 0.5, -0.5, -0.5], [0.5, -0.5, -0.5, 0.5]]


@pytest.mark.parametrize(
    "X",
    [
        [[1.0, 0.0], [0.0, 1.0]],
        [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]],
        H4[:3],
        H4,
        [H4[0], H4[3]],
        [["3/5", "4/5"], ["-4/5", "3/5"]],
        [["3/5", "4/5", "0"], ["0", "0", "1"]],
        [["1/3", "2/3", "2/3"], ["2/3", "1/3", "-2/3"], ["2/3", "-2/3", "1/3"]],
    ],
)
def test_whitened_data_is_spike_free_with_value_one(X):
    assert _is_whitened(X)  # X X^T = I exactly
    rep = spike_free(X)
    assert rep.spike_free is True and rep.spike_value == 1.0
    assert rep.witness_value_sq == "1" and rep.range_violation is None


@pytest.mark.parametrize("seed", range(4))
def test_one_sample_is_always_spike_free(seed):
    x = np.random.default_rng(seed).standard_normal((1, seed + 1))
    rep = spike_free(x)
    assert rep.spike_free is True and rep.spike_value == 1.0


def test_orthogonal_rows_of_different_lengths_are_spike_free():
    # X = S Q with orthonormal Q: X^+ D X = Q^T D Q, a contraction.  Exactly orthogonal rows:
    X = np.array([[1.0, 2.0, 2.0], [4.0, 2.0, -4.0], [1.0, -1.0, 0.5]])
    assert exact_sign_dot(X[0], X[1]) == exact_sign_dot(X[0], X[2]) == 0
    assert exact_sign_dot(X[1], X[2]) == 0
    rep = spike_free(X)
    assert rep.spike_free is True and rep.spike_value == 1.0


# Closed form for invertible 2 x 2 data.  The range condition always holds.  Chamber (+,+)
# gives X^{-1} X u = u (value 1), chamber (-,-) gives 0.  On chamber (+,-), (Xu)_+ = (x1.u) e1
# and the value is ||X^{-1} e1|| max{x1.u : u in K, |u| = 1}.  If x1.x2 < 0 the direction of x1
# lies in K and the value is ||x1|| ||X^{-1} e1|| > 1 (Cauchy-Schwarz, strict because
# X^{-1} e1 is orthogonal to x2, so not parallel to x1).  If x1.x2 >= 0 the maximum is on the
# ray orthogonal to x2, where X^{-1} (Xu)_+ = u: value 1.  So: spike-free iff x1.x2 >= 0.
@pytest.mark.parametrize("seed", range(12))
def test_two_by_two_closed_form(seed):
    X = np.random.default_rng(100 + seed).standard_normal((2, 2))
    if seed == 0:
        X = np.array(F1)
    if seed == 1:
        X = np.array(F2)
    if seed == 2:
        X = np.array([[1.0, 2.0], [-2.0, 1.0]])  # exactly orthogonal rows
    rep = spike_free(X)
    inner = exact_sign_dot(X[0], X[1])
    assert rep.spike_free is (inner >= 0)
    Xi = np.linalg.inv(X)
    closed = max(np.linalg.norm(X[i]) * np.linalg.norm(Xi[:, i]) for i in range(2))
    if inner >= 0:
        assert rep.spike_value == 1.0
    else:
        assert rep.spike_value == pytest.approx(closed, rel=1e-9)
        assert Fraction(parse_rational(rep.witness_value_sq)) > 1


def test_appendix_f():
    rep1 = spike_free(F1)  # MATH.md: not spike-free
    assert rep1.spike_free is False and rep1.range_violation is None
    assert rep1.spike_value == pytest.approx(1.0016568525, abs=1e-9)
    in_range, val = _sympy_check(F1, rep1.witness_exact)
    assert in_range and val > 1 and val == sympy.Rational(parse_rational(rep1.witness_value_sq))
    rep2 = spike_free(F2)  # decided here: spike-free, value exactly 1
    assert rep2.spike_free is True and rep2.spike_value == 1.0
    in_range, val = _sympy_check(F2, rep2.witness_exact)
    assert in_range and val == 1


def _grid_cases():
    rng = np.random.default_rng(7)
    cases = [rng.standard_normal((n, 2)) for n in (2, 2, 2, 3, 3, 4)]
    x1, x2 = rng.standard_normal(2), rng.standard_normal(2)
    cases.append(np.array([x1, x1, x2]))  # repeated row: range condition holds
    cases.append(np.array([x1, 2.0 * x1, -0.5 * x2]))
    cases.append(np.array([x1, -x1, x2]))  # antiparallel pair: range condition fails
    cases.append(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.5, 0.5]]))
    return cases


@pytest.mark.parametrize("X", _grid_cases())
def test_two_dimensional_against_a_fine_angle_grid(X):
    rep = spike_free(X)
    gmax, gres = _grid_2d(X)
    grid_violation = gres > 1e-8 or gmax > 1 + 1e-9
    assert grid_violation == (rep.spike_free is False)
    if rep.range_violation is None:
        assert gmax <= rep.spike_value * (1 + 1e-12)
        assert gmax >= rep.spike_value - 1e-3
    else:
        in_range, _ = _sympy_check(X, rep.range_violation["witness"])
        assert not in_range


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 3), min_size=2, max_size=2), min_size=1, max_size=4))
def test_property_small_integer_planar_data(rows):
    X = np.array(rows, dtype=float)
    rep = spike_free(X)
    assert rep.spike_free is not None
    if not X.any():
        assert rep.spike_free and rep.spike_value == 0.0
        return
    gmax, gres = _grid_2d(X, n=4000)
    grid_violation = gres > 1e-8 or gmax > 1 + 1e-9
    if grid_violation:
        assert rep.spike_free is False
    if rep.spike_free:
        assert gmax <= 1 + 1e-12
    if rep.spike_free is False and rep.range_violation is None:
        assert gmax > 1 - 1e-9 and Fraction(parse_rational(rep.witness_value_sq)) > 1


@pytest.mark.parametrize(
    "shape,seed",
    [((3, 3), 1), ((3, 3), 2), ((3, 3), 3), ((2, 3), 4), ((3, 4), 5), ((4, 3), 6), ((4, 3), 7)],
)
def test_three_dimensional_against_sphere_sampling(shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    if seed == 2:
        X = np.abs(X)  # all inner products positive
    if seed == 7:
        X[1] = 2.0 * X[0]  # N > rank with the range condition intact
    rep = spike_free(X)
    assert rep.spike_free is not None
    smax, sres = _sphere(X)
    if rep.range_violation is not None:
        assert rep.spike_free is False and rep.spike_value is None
        assert not _sympy_check(X, rep.range_violation["witness"])[0]
        return
    assert smax <= rep.spike_value * (1 + 1e-12)
    assert smax >= rep.spike_value - 0.05
    if rep.spike_free is False:
        in_range, val = _sympy_check(X, rep.witness_exact)
        assert in_range and val > 1
    else:
        assert smax <= 1 + 1e-12


def test_zero_rows_and_zero_matrix():
    rep = spike_free(np.zeros((3, 2)))
    assert rep.spike_free is True and rep.spike_value == 0.0
    rep = spike_free([[1.0, 0.0], [0.0, 0.0]])
    assert rep.spike_free is True and rep.spike_value == 1.0


def test_limit_falls_back_to_sampling():
    X = np.random.default_rng(0).standard_normal((5, 3))
    rep = spike_free(X, limit=5)
    assert rep.method == "sampling" and rep.spike_free is False
    assert rep.range_violation is not None and rep.n_chambers is None
    assert not _sympy_check(X, rep.range_violation["witness"])[0]
    rep = spike_free(H4, limit=5)
    assert rep.method == "sampling" and rep.spike_free is None
    assert "cannot prove" in rep.reason


def test_report_is_json_ready_and_bad_input():
    d = json.loads(json.dumps(spike_free(F1).to_dict()))
    assert d["spike_free"] is False and d["method"] == "exact-faces" and d["n_chambers"] == 4
    with pytest.raises(InputError):
        spike_free(np.ones(3))
    with pytest.raises(InputError):
        spike_free([[np.inf, 1.0]])
    with pytest.raises(InputError):
        spike_free(F1, samples=0)
    with pytest.raises(InputError):
        spike_free(F1, limit=-1)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(st.integers(-2, 2), min_size=3, max_size=3), min_size=1, max_size=4))
def test_property_small_integer_spatial_data(rows):
    X = np.array(rows, dtype=float)
    rep = spike_free(X)
    assert rep.spike_free is not None
    if not X.any():
        return
    smax, sres = _sphere(X, n=20000, seed=1)
    if sres > 1e-8 or smax > 1 + 1e-9:
        assert rep.spike_free is False
    if rep.spike_free:
        assert smax <= 1 + 1e-12
    if rep.range_violation is None:
        assert smax <= rep.spike_value * (1 + 1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_float_orthonormalised_data_is_decided_exactly(seed):
    # Q from a float QR is only approximately orthogonal; the exact verdict still follows the
    # 2 x 2 closed form (spike-free iff the exact x1.x2 >= 0), with excesses near 1e-33 that
    # need the high-precision eigenvector route.
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((2, 2)))[0]
    rep = spike_free(Q)
    assert rep.spike_free is (exact_sign_dot(Q[0], Q[1]) >= 0)
    if rep.spike_free is False:
        in_range, val = _sympy_check(Q, rep.witness_exact)
        assert in_range and val > 1


def test_float_orthonormalised_three_rows_decided_with_exact_witness():
    Q = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))[0][:3]
    rep = spike_free(Q)
    assert rep.spike_free is not None
    if rep.spike_free is False:
        in_range, val = _sympy_check(Q, rep.witness_exact)
        assert in_range and val > 1


def test_nearly_singular_decimal_rows_decided_without_linalg_error():
    # issue 10 item 4: iris-like rows, singular in decimal, det 2.2e-17 as float64; thin faces
    # have Gram matrices that floats call indefinite (eigh raised LinAlgError).  The float
    # candidates are skipped there and the exact route decides, with a witness checked here
    # by an independent exact route (sympy).
    X = np.array([[5.0, 3.5, 1.0], [5.6, 4.1, 1.3], [5.6, 3.9, 1.1]])
    rep = spike_free(X)
    assert rep.spike_free is not None, rep.reason
    if rep.spike_free is False:
        in_range, val = _sympy_check(X, rep.witness_exact)
        assert in_range and val > 1
        assert val == sympy.Rational(parse_rational(rep.witness_value_sq))


def test_float_eigenpairs_refuse_a_numerically_singular_gram_matrix():
    from verify.geometry.quadratic_forms import eigenpairs, float_eigenpairs

    G = np.array([[1.0, 1.0], [1.0, 1.0 + 2.0**-60]])  # positive definite, not in floats
    assert float_eigenpairs(G, np.eye(2)) is None
    GF = [[Fraction(1), Fraction(1)], [Fraction(1), 1 + Fraction(1, 2**60)]]
    HF = [[Fraction(1), Fraction(0)], [Fraction(0), Fraction(1)]]
    assert eigenpairs(GF, HF, None) is None
    lam, vecs = eigenpairs(GF, HF, 60)  # higher precision computes them
    assert len(lam) == 2 and lam[0] < lam[1]


def test_face_limit_refuses_high_rank_before_any_exact_work(monkeypatch):
    # issue 10 item 9: MNIST-sized data spent minutes in as_integer_matrix / integer_rank.
    # Rank 45: at least 2^45 chambers, far beyond any face limit -- refused from the proven
    # rank alone, and rank 45 > 40 skips the sampled exact search too.
    from verify.geometry import spike_free as sf

    def no_exact_work(*a, **k):
        raise AssertionError("exact work started")

    monkeypatch.setattr(sf, "as_integer_matrix", no_exact_work)
    X = np.random.default_rng(0).standard_normal((60, 45))
    rep = sf.spike_free(X, limit=20_000)
    assert rep.spike_free is None and rep.method == "skipped" and rep.rank == 45
    assert "rank 45 gives at least 2^45 chambers" in rep.reason
    assert "limit of 20000 faces" in rep.reason


def test_face_limit_gives_unknown_and_the_exact_verdict_within_it():
    # orthogonal rows are spike-free: beyond the limit sampling cannot refute (unknown);
    # within it the exact verdict; no limit: the same exact verdict
    X = np.diag([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    over = spike_free(X, limit=30)
    assert over.spike_free is None and over.method == "sampling"
    assert "more than the limit of 30 faces" in over.reason
    within = spike_free(X, limit=729)  # 3^6 faces of the coordinate arrangement
    exact = spike_free(X)
    assert within.spike_free is exact.spike_free is True
    assert within.faces_checked == exact.faces_checked == 3**6 - 1
    with pytest.raises(InputError):
        spike_free(X, limit=0)
