"""The semidefinite leaf of branch-and-bound evidence (verify/checker/semidefinite.py and its
dispatch in verify/checker/branch_and_bound.py).

``positive_definite`` is compared with an independent exact ``LDL^T`` in ``Fraction`` and with
``numpy.linalg.eigvalsh``.  Honest sdp leaves are made here by a float SDP (CVXPY + Clarabel)
over constraint matrices built with numpy straight from the spec (``sym(v, w)``), rounded to
rationals, with ``rho`` from the float largest eigenvalue plus a margin; the exact check must
accept them, their bound must be within 1e-4 of the maximum found on a fine grid of ``u``,
and the exact assembly must equal the numpy one.  Every tampering must be rejected with its
rule named.
"""

from __future__ import annotations

import copy
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verify.checker.semidefinite as sd
from verify.checker.arithmetic import format_rational, sqrt_bounds
from verify.checker.branch_and_bound import MAX_CHARS, check_branch_and_bound
from verify.checker.semidefinite import (
    WorkBudget,
    check_sdp_leaf,
    elimination_units,
    positive_definite,
    sdp_matrix,
)
from verify.errors import InputError

Q = Fraction
HALF = Q(1, 2)
ROOT = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------- positive_definite


def ldl_pd(A):
    """Independent exact test: symmetric Gaussian elimination in Fractions (LDL^T)."""
    n = len(A)
    M = [[Q(v) for v in row] for row in A]
    for k in range(n):
        if M[k][k] <= 0:
            return False
        for i in range(k + 1, n):
            f = M[i][k] / M[k][k]
            for j in range(k, n):
                M[i][j] -= f * M[k][j]
    return True


def _random_sym(rng, n, kind, scale=20):
    B = rng.integers(-scale, scale + 1, size=(n, n))
    if kind == "pd":
        A = B.T @ B + np.eye(n, dtype=np.int64)
    elif kind == "psd":  # rank n - 1 (singular): B^T B with a zero row
        B[0] = 0
        A = B.T @ B
    elif kind == "indefinite":  # B^T diag(1, ..., 1, -1) B: one negative eigenvalue
        B[0, 0] = 0
        B[0] += 1 + np.abs(B[1:]).sum(axis=0) if n > 1 else 1  # (nonsingular enough)
        A = B.T @ np.diag([1] * (n - 1) + [-1]) @ B
    else:
        A = B + B.T
    return [[int(v) for v in row] for row in A]


@pytest.mark.parametrize("kind", ["pd", "psd", "indefinite", "symmetric"])
def test_positive_definite_matches_ldl_and_eigvalsh(kind):
    rng = np.random.default_rng(len(kind))
    for n in range(1, 9):
        for _ in range(8):
            A = _random_sym(rng, n, kind)
            got = positive_definite(A)
            assert got == ldl_pd(A), (n, A)
            ev = np.linalg.eigvalsh(np.array(A, dtype=float))
            if abs(ev).min() > 1e-6 * max(1.0, abs(ev).max()):  # numpy decides it reliably
                assert got == bool(ev.min() > 0), (n, A)
            if kind in ("psd", "indefinite"):
                assert not got, (n, A)
            elif kind == "pd":
                assert got, (n, A)


def test_positive_definite_small_cases():
    assert positive_definite([[1]]) and positive_definite([[10**40]])
    assert not positive_definite([[0]]) and not positive_definite([[-3]])
    assert positive_definite([])  # the empty matrix (order 0)
    assert not positive_definite([[0] * 4 for _ in range(4)])
    assert not positive_definite([[1, 1], [1, 1]])  # singular PSD
    assert positive_definite([[2, -1, 0], [-1, 2, -1], [0, -1, 2]])
    assert not positive_definite([[1, 0, 0], [0, 0, 0], [0, 0, 1]])  # zero pivot mid-way
    # a zero off-diagonal column (the "skip zero multipliers" branch) and a late failure
    assert positive_definite([[3, 0, 1], [0, 5, 0], [1, 0, 2]])
    assert not positive_definite([[1, 0, 2], [0, 1, 0], [2, 0, 1]])
    with pytest.raises(ValueError):
        positive_definite([[1, 2], [3, 4]])
    with pytest.raises(ValueError):
        positive_definite([[1, 2]])


def test_rounded_first_try_and_its_fallback(monkeypatch):
    """Large entries: the rounded test settles a well-conditioned matrix; a barely positive
    definite one (the rounding cannot tell) falls back to the exact elimination, whose
    answer is exact either way."""
    rng = np.random.default_rng(5)
    calls = []
    real = sd._bareiss
    monkeypatch.setattr(sd, "_bareiss", lambda U: calls.append(len(U)) or real(U))
    big = 1 << 200
    B = [[int(v) for v in row] for row in rng.integers(-9, 10, size=(6, 6))]
    A = [[sum(B[k][i] * B[k][j] for k in range(6)) * big + (big if i == j else 0)
          for j in range(6)] for i in range(6)]
    assert positive_definite(A) and calls == [6]  # the rounded matrix only
    calls.clear()
    # [[b, b], [b, b + 1]]: determinant b, far below what 24 bits resolve
    A2 = [[big, big], [big, big + 1]]
    assert positive_definite(A2) and calls == [2, 2, 2]  # rounded twice (fails), then exact
    calls.clear()
    A3 = [[big, big], [big, big]]  # singular: never accepted
    assert not positive_definite(A3) and calls == [2, 2, 2]
    calls.clear()
    # smallest eigenvalue big / 2^30: too small for 24 bits, enough for 40
    A5 = [[big, big - (big >> 30)], [big - (big >> 30), big]]
    assert positive_definite(A5) and calls == [2, 2]
    A4 = [[big, big + 1], [big + 1, big]]
    assert not positive_definite(A4)
    for M in (A, A2, A3, A4, A5):
        assert positive_definite(M) == ldl_pd(M)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.lists(
    st.lists(st.integers(-(1 << 70), 1 << 70), min_size=n, max_size=n),
    min_size=n, max_size=n)), st.integers(0, 3))
def test_positive_definite_hypothesis(B, shift):
    """``B^T B + shift I`` (PSD, PD when shift > 0 or B is nonsingular) and ``B + B^T``."""
    n = len(B)
    A = [[sum(B[k][i] * B[k][j] for k in range(n)) + (shift if i == j else 0)
          for j in range(n)] for i in range(n)]
    assert positive_definite(A) == ldl_pd(A)
    S = [[B[i][j] + B[j][i] for j in range(n)] for i in range(n)]
    assert positive_definite(S) == ldl_pd(S)


def test_positive_definite_budget():
    A = [[2, -1], [-1, 2]]
    b = WorkBudget(elimination_units(2, 2))
    assert positive_definite(A, b) and b.left == 0
    with pytest.raises(Exception, match="MAX_SDP_WORK"):
        positive_definite(A, b)


def test_elimination_units_grow_with_order_and_bits():
    assert elimination_units(57, 26) < elimination_units(57, 60) < elimination_units(58, 60)
    assert elimination_units(256, 64) > 1000 * elimination_units(57, 26)


# ----------------------------------------------------------------------------- the matrix (spec)


def _sym(v, w):
    return (np.outer(v, w) + np.outer(w, v)) / 2


def spec_matrices(X, mu, path, lifted, alpha):
    """``C`` and the constraint matrices ``G`` by family, from the spec's table (numpy)."""
    X = np.asarray(X, dtype=float)
    d, k, p = X.shape[1], len(lifted), len(path)
    n = 1 + d + k
    eye = np.eye(n)
    e0, T = eye[0], [eye[1 + d + j] for j in range(k)]

    def br(x):
        v = np.zeros(n)
        v[1:1 + d] = x
        return v

    a = [sg * X[m] for m, sg in path]
    xj = [X[r] for r, _ in lifted]
    c = np.zeros(d)
    for m, sg in path:
        if sg > 0:
            c += float(mu[m]) * X[m]
    for r, al in alpha:
        c += float(mu[r]) * float(al) * X[r]
    C = _sym(e0, br(c))
    for j, (r, _) in enumerate(lifted):
        C = C + float(mu[r]) * _sym(e0, T[j])
    G = {"ball": np.diag([1.0] + [-1.0] * d + [0.0] * k),
         "t": [_sym(e0, T[j]) for j in range(k)],
         "tx": [_sym(e0, T[j]) - _sym(e0, br(xj[j])) for j in range(k)],
         "eq": [_sym(T[j], T[j]) - _sym(T[j], br(xj[j])) for j in range(k)],
         "cone": [_sym(e0, br(a[m])) for m in range(p)],
         "at": [[_sym(br(a[m]), T[j]) for j in range(k)] for m in range(p)],
         "atx": [[_sym(br(a[m]), T[j]) - _sym(br(a[m]), br(xj[j])) for j in range(k)]
                 for m in range(p)]}
    return C, G, n


def spec_M(C, G, y, n):
    """``M = C + sum_i y_i G_i - tau E00`` in floats."""
    E00 = np.zeros((n, n))
    E00[0, 0] = 1
    M = C + float(y.get("ball", 0)) * G["ball"] - float(y["tau"]) * E00
    for key in ("t", "tx", "eq", "cone"):
        for v, g in zip(y.get(key, []), G[key]):
            M = M + float(v) * g
    for key in ("at", "atx"):
        for row, grow in zip(y.get(key, []), G[key]):
            for v, g in zip(row, grow):
                M = M + float(v) * g
    return M


def _rat(x, nonneg, den=1 << 24):
    q = Q(round(float(x) * den), den)
    return max(q, Q(0)) if nonneg else q


def solve_leaf(X, mu, path, lifted, alpha, margin=1e-6):
    """A float SDP for the leaf's multipliers (min tau + rho (2 + sum h^2)), rounded; ``rho``
    from the float largest eigenvalue of the rounded ``M`` plus ``margin``.  Returns the
    multipliers (Fractions) and the bound they prove."""
    cp = pytest.importorskip("cvxpy")
    C, G, n = spec_matrices(X, mu, path, lifted, alpha)
    k, p = len(lifted), len(path)
    v = {"ball": cp.Variable(nonneg=True), "t": cp.Variable(k, nonneg=True),
         "tx": cp.Variable(k, nonneg=True), "eq": cp.Variable(k),
         "cone": cp.Variable(p, nonneg=True), "at": cp.Variable((p, k), nonneg=True),
         "atx": cp.Variable((p, k), nonneg=True)}
    tau, rho = cp.Variable(), cp.Variable(nonneg=True)
    E00 = np.zeros((n, n))
    E00[0, 0] = 1
    M = C + v["ball"] * G["ball"] - tau * E00
    for j in range(k):
        M = M + v["t"][j] * G["t"][j] + v["tx"][j] * G["tx"][j] + v["eq"][j] * G["eq"][j]
    for m in range(p):
        M = M + v["cone"][m] * G["cone"][m]
        for j in range(k):
            M = M + v["at"][m, j] * G["at"][m][j] + v["atx"][m, j] * G["atx"][m][j]
    H = 2 + sum(float(h) ** 2 for _, h in lifted)
    prob = cp.Problem(cp.Minimize(tau + rho * H), [rho * np.eye(n) - M >> 0])
    prob.solve(solver="CLARABEL")
    assert prob.status == "optimal"
    y = {"ball": _rat(v["ball"].value, True), "tau": _rat(tau.value, False)}
    for key in ("t", "tx", "eq", "cone"):
        y[key] = [_rat(x, key != "eq") for x in np.ravel(v[key].value)] if v[key].size else []
    for key in ("at", "atx"):
        y[key] = ([[_rat(x, True) for x in row] for row in np.reshape(v[key].value, (p, k))]
                  if p else [])
    lmax = float(np.linalg.eigvalsh(spec_M(C, G, {**y}, n)).max())
    y["rho"] = max(Q(0), Q(math.ceil((lmax + margin) * (1 << 24)), 1 << 24))
    bound = y["tau"] + y["rho"] * (2 + sum((h * h for _, h in lifted), Q(0)))
    return y, bound


def _h(x):
    """``h >= ||x||`` (no multipliers: ``x^T u <= ||x||`` on the ball)."""
    return sqrt_bounds(sum(Q(v) ** 2 for v in x))[1]


def grid_max(X, mu, path, steps=20001):
    """``max mu^T (Xu)_+`` over the leaf's cone and the unit circle (2-D, fine grid; the
    maximum of a positively homogeneous function is on the circle when it is positive)."""
    Xa = np.asarray(X, dtype=float)
    th = np.linspace(0, 2 * np.pi, steps)
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    ok = np.ones(len(th), dtype=bool)
    for m, sg in path:
        ok &= sg * (U @ Xa[m]) >= 0
    muv = np.array([float(mu.get(n, 0)) for n in range(len(X))])
    return max(0.0, float((np.maximum(U[ok] @ Xa.T, 0) @ muv).max()))


# 2-D data: rows 0..3, all in the support; lambda positive (tight case) or with a negative row
X2 = [[1, 0], [0, 1], [1, 1], [-1, 2]]
LPOS = [Q(1), Q(1, 2), Q(1, 2), Q(1)]
LMIX = [Q(1), Q(1), Q(-1, 2), Q(1)]


def leaf_inputs(lam, t, path, alpha_value=HALF):
    mu = {n: t * v for n, v in enumerate(lam)}
    on = dict(path)
    free = [n for n in range(len(lam)) if n not in on]
    lifted = [(n, _h(X2[n])) for n in free if mu[n] > 0]
    alpha = [(n, alpha_value) for n in free if mu[n] < 0]
    return mu, lifted, alpha


def _jsonify(y):
    out = {}
    for key, v in y.items():
        if isinstance(v, Fraction):
            out[key] = format_rational(v)
        elif v and isinstance(v[0], list):
            out[key] = [[format_rational(x) for x in row] for row in v]
        else:
            out[key] = [format_rational(x) for x in v]
    return out


def sdp_leaf_json(lam, t, path, alpha_value=HALF):
    mu, lifted, alpha = leaf_inputs(lam, t, path, alpha_value)
    y, bound = solve_leaf(X2, mu, path, lifted, alpha)
    rows = [{"row": n, "h": format_rational(h)} for n, h in lifted]
    rows += [{"row": n, "alpha": format_rational(a)} for n, a in alpha]
    return {"leaf": {"sdp": _jsonify(y), "rows": rows}}, bound


def run(ev, lam, s, X=X2, budget=None):
    out: list = []
    check_branch_and_bound(ev, X, 0, lam, s, lambda r, m: out.append((r, m)), "class 0",
                           budget)
    return out


def rules_of(out):
    return {r for r, _ in out}


# ----------------------------------------------------------------------------- honest leaves


def test_one_dimensional_leaf_by_hand():
    """X = [[1]], lambda = [1]: tree "+" a single sdp leaf with row 0 lifted (h = 1),
    tau = rho = 1: rho I - M = I - C + E00 is positive definite, the bound is 4."""
    leaf = {"leaf": {"sdp": {"tau": "1", "rho": "1"}, "rows": [{"row": 0, "h": "1"}]}}
    minus = {"leaf": {"rows": [{"row": 0, "alpha": "0"}]}}
    ev = {"support": [0], "trees": {"+": [leaf], "-": [minus]}}
    assert run(ev, [Q(1)], Q(4), X=[[1]]) == []
    out = run(ev, [Q(1)], Q(7, 2), X=[[1]])
    assert rules_of(out) == {"bab-sdp"} and "exceeds" in out[0][1]
    # the same through the function the producer calls
    sdp = {"tau": Q(1), "rho": Q(1)}
    assert check_sdp_leaf([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], sdp, Q(4)) is None
    assert check_sdp_leaf([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], sdp, Q(7, 2))[0] == "bab-sdp"
    # rho = 1/10: the (0, t) block [[1.1, -1/2], [-1/2, 0.1]] is indefinite
    got = check_sdp_leaf([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], {**sdp, "rho": Q(1, 10)},
                         Q(10))
    assert got == ("bab-sdp", "rho I - M is not positive definite (order 3)")


def test_exponent_of_the_data():
    """X = XI * 2**xe: the same leaf on x = 1/8 (XI = 1, xe = -3) and x = 8 (xe = 3)."""
    mu = {0: Q(1)}
    for xe in (-3, 3):
        x = Q(2) ** xe
        N, K = sdp_matrix([[1]], xe, mu, [(0, 1)], [], [], {"tau": Q(0), "rho": Q(1)})
        # rho I - M with M = sym(e0, [x]) - 0: [[1, -x/2], [-x/2, 1]]
        assert [[Q(v, K) for v in row] for row in N] == [[1, -x / 2], [-x / 2, 1]]


def test_exact_assembly_equals_the_spec():
    """sdp_matrix against the numpy construction of the spec, on random multipliers."""
    rng = np.random.default_rng(3)
    X = [[int(v) for v in row] for row in rng.integers(-5, 6, size=(6, 3))]
    mu = {n: Q(int(rng.integers(1, 9)), 4) * (1 if n < 4 else -1) for n in range(6)}
    path = [(0, 1), (1, -1)]
    lifted = [(2, Q(7)), (3, Q(9, 2))]
    alpha = [(4, Q(1, 3)), (5, Q(1))]

    def r(*shape):
        return [[Q(int(v), 8) for v in row] for row in rng.integers(0, 9, size=shape)]

    y = {"ball": Q(3, 8), "t": r(1, 2)[0], "tx": r(1, 2)[0], "eq": [Q(-1, 4), Q(5, 8)],
         "cone": r(1, 2)[0], "at": r(2, 2), "atx": r(2, 2), "tau": Q(-1, 3), "rho": Q(7, 5)}
    N, K = sdp_matrix(X, 0, mu, path, lifted, alpha, y)
    C, G, n = spec_matrices(X, mu, path, lifted, alpha)
    want = float(y["rho"]) * np.eye(n) - spec_M(C, G, y, n)
    assert np.allclose(np.array(N, dtype=float) / K, want, rtol=0, atol=1e-12)
    # absent families are zeros
    N0, K0 = sdp_matrix(X, 0, mu, path, lifted, alpha, {"tau": Q(0), "rho": Q(0)})
    assert np.allclose(np.array(N0, dtype=float) / K0, -C, atol=1e-12)


@pytest.fixture(scope="module")
def honest():
    """Tree "+" split on row 0 with two sdp leaves (cone, at, atx rows nonzero), tree "-" one
    sdp leaf without a path (p = 0), on the tight (all-positive) lambda."""
    lp, sp = sdp_leaf_json(LPOS, 1, [(0, 1)])
    lm, sm = sdp_leaf_json(LPOS, 1, [(0, -1)])
    l0, s0 = sdp_leaf_json(LPOS, -1, [], alpha_value=Q(0))
    ev = {"support": [0, 1, 2, 3], "trees": {"+": [{"split": 0}, lp, lm], "-": [l0]}}
    return ev, max(sp, sm, s0), (sp, sm, s0)


def test_honest_sdp_leaves_pass_and_are_tight(honest):
    ev, s, (sp, sm, s0) = honest
    assert run(ev, LPOS, s) == []
    for (path, bound) in (([(0, 1)], sp), ([(0, -1)], sm)):
        mu = {n: v for n, v in enumerate(LPOS)}
        true = grid_max(X2, mu, path)
        assert float(bound) >= true - 1e-9  # sound
        assert float(bound) <= true + 1e-4, (path, float(bound), true)  # and close
    assert 0 <= float(s0) <= 1e-4  # mu <= 0 everywhere: the maximum is 0
    # the multipliers the leaves use: a nonzero cone, at and atx entry somewhere
    used = {key for nd in ev["trees"]["+"] if "leaf" in nd
            for key, v in nd["leaf"]["sdp"].items()
            if any(x != "0" for x in (v if isinstance(v, list) else [v])
                   for x in (x if isinstance(x, list) else [x]))}
    assert {"cone", "at", "atx"} <= used, used
    # a deflated s fails by the bound of the leaf that attains it
    assert rules_of(run(ev, LPOS, s - Q(1, 10**9))) == {"bab-sdp"}


def test_leaves_with_alpha_rows_pass():
    """Mixed signs: row 2 (mu < 0) is an alpha row; each leaf's exact bound is accepted and
    bounds the true maximum (the alpha relaxation is looser)."""
    for path in ([(0, 1)], [(0, -1)], []):
        mu, lifted, alpha = leaf_inputs(LMIX, 1, path)
        y, bound = solve_leaf(X2, mu, path, lifted, alpha)
        assert alpha and check_sdp_leaf(X2, 0, mu, path, lifted, alpha, y, bound) is None
        assert float(bound) >= grid_max(X2, mu, path) - 1e-9


# ----------------------------------------------------------------------------- tampering


def _tamper(honest, fn, s=None):
    ev = copy.deepcopy(honest[0])
    fn(ev)
    return rules_of(run(ev, LPOS, honest[1] if s is None else s))


def _sdp(ev, i=1):
    return ev["trees"]["+"][i]["leaf"]["sdp"]


def _lifted_row(ev, i=1):
    return next(r for r in ev["trees"]["+"][i]["leaf"]["rows"] if "h" in r)


def test_sign_tampering(honest):
    for key in ("t", "tx", "cone"):
        assert _tamper(honest, lambda ev, k=key: _sdp(ev)[k].__setitem__(0, "-1/1000")) == {
            "bab-sdp"}, key
    for key in ("at", "atx"):
        assert _tamper(honest, lambda ev, k=key: _sdp(ev)[k][0].__setitem__(0, "-1/1000")) == {
            "bab-sdp"}, key
    for key in ("ball", "rho"):
        assert _tamper(honest, lambda ev, k=key: _sdp(ev).__setitem__(k, "-1/1000")) == {
            "bab-sdp"}, key
    out = run(_tampered(honest, lambda ev: _sdp(ev)["at"][0].__setitem__(0, "-1")), LPOS,
              honest[1])
    assert "at[0][0] = -1 is negative" in out[0][1]
    # eq and tau may have any sign: a negative eq entry is not a sign failure
    # (it changes M, so rho I - M may then fail to be positive definite: bab-sdp as well)
    assert _tamper(honest, lambda ev: _sdp(ev)["eq"].__setitem__(
        0, format_rational(-Q(_sdp(ev)["eq"][0])))) <= {"bab-sdp"}


def _tampered(honest, fn):
    ev = copy.deepcopy(honest[0])
    fn(ev)
    return ev


def test_rho_too_small_and_tau_inflated(honest):
    # tau down by 2: M gains 2 at (0, 0) and its largest eigenvalue grows to lmax > 0 (float,
    # from the exact assembly with rho = 0); rho = lmax / 2 is too small (the only failure,
    # with s large enough for the bound), rho = lmax + 1/100 is enough
    body = honest[0]["trees"]["+"][1]["leaf"]["sdp"]
    y = {k: Q(v) if isinstance(v, str) else [Q(x) if isinstance(x, str) else [Q(z) for z in x]
                                              for x in v] for k, v in body.items()}
    y["tau"] -= 2
    y["rho"] = Q(0)
    mu, lifted, alpha = leaf_inputs(LPOS, 1, [(0, 1)])
    N, K = sdp_matrix(X2, 0, mu, [(0, 1)], lifted, alpha, y)
    lmax = -float(np.linalg.eigvalsh(np.array(N, dtype=float) / K).min())
    assert lmax > 0.5

    def lower_tau(rho):
        def go(e):
            _sdp(e)["tau"] = format_rational(y["tau"])
            _sdp(e)["rho"] = format_rational(rho)
        return go

    out = run(_tampered(honest, lower_tau(Q(lmax / 2))), LPOS, Q(100))
    assert rules_of(out) == {"bab-sdp"} and "not positive definite" in out[0][1]
    assert run(_tampered(honest, lower_tau(Q(lmax) + Q(1, 100))), LPOS, Q(100)) == []
    # the 1-D leaf by hand through the replay: rho = 1/10 < the largest eigenvalue of M
    leaf = {"leaf": {"sdp": {"tau": "1", "rho": "1/10"}, "rows": [{"row": 0, "h": "1"}]}}
    ev1 = {"support": [0], "trees": {"+": [leaf], "-": [{"leaf": {"rows": [
        {"row": 0, "alpha": "0"}]}}]}}
    out = run(ev1, [Q(1)], Q(10), X=[[1]])
    assert rules_of(out) == {"bab-sdp"} and "not positive definite" in out[0][1]

    def inflate(e):  # tau up by 1: M loses 1 at (0, 0), still PD, but the bound exceeds s
        _sdp(e)["tau"] = format_rational(Q(_sdp(e)["tau"]) + 1)

    out = run(_tampered(honest, inflate), LPOS, honest[1])
    assert rules_of(out) == {"bab-sdp"} and "exceeds" in out[0][1]


def test_shape_tampering(honest):
    def at_rows(ev):
        _sdp(ev)["at"].append(list(_sdp(ev)["at"][0]))

    def at_cols(ev):
        _sdp(ev)["atx"][0].append("0")

    for fn in (at_rows, at_cols, lambda ev: _sdp(ev)["t"].append("0"),
               lambda ev: _sdp(ev)["eq"].pop(), lambda ev: _sdp(ev)["cone"].append("1"),
               lambda ev: _sdp(ev).__setitem__("at", [])):
        assert _tamper(honest, fn) == {"bab-sdp"}
    # p = 0 (tree "-"): at must be an empty list
    assert _tamper(honest, lambda ev: ev["trees"]["-"][0]["leaf"]["sdp"].__setitem__(
        "at", [["0", "0", "0", "0"]])) == {"bab-sdp"}
    # absent families are zero (valid, if then not tight: a larger s passes)
    ev = _tampered(honest, lambda e: [_sdp(e).pop(k) for k in ("at", "atx", "cone")])
    assert rules_of(run(ev, LPOS, honest[1])) <= {"bab-sdp"}


def test_rows_tampering(honest):
    # a lifted row with chord keys: claims the checker does not recompute
    for extra in ({"a": "1"}, {"l": "-1"}, {"zl": {"indices": [], "values": []}}, {"b": "0"}):
        assert _tamper(honest, lambda ev, x=extra: _lifted_row(ev).update(x)) == {
            "unchecked-claim"}, extra
    # h too small (no multipliers: ||x_n|| > h)
    assert _tamper(honest, lambda ev: _lifted_row(ev).update(h="1/2")) == {"bab-interval"}
    assert _tamper(honest, lambda ev: _lifted_row(ev).update(h="-1")) == {"bab-interval"}
    # a negative zh, an index off the path
    assert _tamper(honest, lambda ev: _lifted_row(ev).update(
        zh={"indices": [0], "values": ["-1"]})) == {"bab-multipliers"}
    assert _tamper(honest, lambda ev: _lifted_row(ev).update(
        zh={"indices": [1], "values": ["1"]})) == {"bab-multipliers"}
    # a valid zh (the path row 0 has sigma = +1 here: ||x_n + z x_0||) still passes
    assert _tamper(honest, lambda ev: _lifted_row(ev).update(
        zh={"indices": [0], "values": ["0"]})) == set()
    # alpha and h on one row; alpha on a mu > 0 row; h on a mu < 0 row; a missing row
    assert "bab-rows" in _tamper(honest, lambda ev: _lifted_row(ev).update(alpha="0"))

    def alpha_on_lifted(ev):
        r = _lifted_row(ev)
        del r["h"]
        r["alpha"] = "1"

    assert "bab-rows" in _tamper(honest, alpha_on_lifted)
    assert _tamper(honest, lambda ev: ev["trees"]["-"][0]["leaf"]["rows"][0].update(
        h="2")) == {"bab-rows"}
    assert "bab-rows" in _tamper(honest, lambda ev: ev["trees"]["+"][1]["leaf"]["rows"].pop())
    # a leaf with both z and sdp; extra keys in the sdp object
    assert _tamper(honest, lambda ev: ev["trees"]["+"][1]["leaf"].update(
        z={"indices": [], "values": []})) == {"unchecked-claim"}
    assert _tamper(honest, lambda ev: _sdp(ev).update(sigma="1")) == {"unchecked-claim"}


def test_size_limits(honest, monkeypatch):
    ev, s = honest[0], honest[1]
    assert run(ev, LPOS, s) == []
    monkeypatch.setattr(sd, "MAX_SDP_ORDER", 3)  # the leaves have order 1 + 2 + k >= 3
    out = run(ev, LPOS, s)
    assert rules_of(out) == {"bab-size"} and "MAX_SDP_ORDER" in out[0][1]
    monkeypatch.undo()
    monkeypatch.setattr(sd, "MAX_SDP_WORK", 10)  # the work budget
    out = run(ev, LPOS, s)
    assert rules_of(out) == {"bab-size"} and "MAX_SDP_WORK" in out[0][1]
    monkeypatch.undo()
    # the budget is shared: what one call used is gone for the next (check.py passes one
    # budget for all the class entries of a certificate)
    b = WorkBudget()
    assert run(ev, LPOS, s, budget=b) == []
    used = b.total - b.left
    assert used > 0
    b2 = WorkBudget(used + used // 3)
    assert run(ev, LPOS, s, budget=b2) == [] and "bab-size" in rules_of(
        run(ev, LPOS, s, budget=b2))
    monkeypatch.setattr(sd, "MAX_SDP_ENTRY_BITS", 40)
    out = run(ev, LPOS, s)
    assert rules_of(out) == {"bab-size"} and "MAX_SDP_ENTRY_BITS" in out[0][1]
    monkeypatch.undo()
    # huge numbers: a string longer than MAX_CHARS; coprime denominators of 800 bits
    big = "1" + "0" * (MAX_CHARS + 1)
    assert _tamper(honest, lambda e: _sdp(e).__setitem__("ball", big)) == {"bab-size"}
    p1, p2 = (1 << 800) + 1, (1 << 800) + 3  # odd, differ by 2: coprime (1,600 bits)
    assert _tamper(honest, lambda e: _sdp(e)["t"].__setitem__(0, f"1/{p1}")
                   or _sdp(e)["tx"].__setitem__(0, f"1/{p2}")) == {"bab-size"}


def test_malformed_is_input_error(honest):
    bad = [lambda e: _sdp(e).__setitem__("rho", 0.5),
           lambda e: _sdp(e)["t"].__setitem__(0, 1),
           lambda e: _sdp(e)["at"].__setitem__(0, "0"),
           lambda e: _sdp(e).__setitem__("cone", "0"),
           lambda e: _sdp(e).pop("tau"),
           lambda e: _sdp(e).pop("rho"),
           lambda e: _sdp(e).__setitem__("tau", "1.5"),
           lambda e: ev_leaf(e).__setitem__("sdp", []),
           lambda e: ev_leaf(e).pop("rows"),
           lambda e: _lifted_row(e).update(h=2)]
    for fn in bad:
        with pytest.raises(InputError):
            run(_tampered(honest, fn), LPOS, honest[1])


def ev_leaf(ev):
    return ev["trees"]["+"][1]["leaf"]


def test_check_sdp_leaf_is_plain(honest):
    """The producer's call: Fractions in, None or (rule, detail) out, nothing raised."""
    mu, lifted, alpha = leaf_inputs(LPOS, 1, [(0, 1)])
    y = {"tau": Q(1), "rho": Q(1), "at": [[Q(0)] * (len(lifted) + 1)]}
    assert check_sdp_leaf(X2, 0, mu, [(0, 1)], lifted, alpha, y, Q(100))[0] == "bab-sdp"
    assert check_sdp_leaf(X2, 0, mu, [(0, 1)], lifted, alpha, {"rho": Q(1)}, Q(100)) == (
        "bab-sdp", "no 'tau'")
    with pytest.raises(ValueError):
        sdp_matrix(X2, 0, mu, [(0, 1)], lifted, alpha, y)


def test_schema_v2_accepts_sdp_leaves(honest):
    jsonschema = pytest.importorskip("jsonschema")
    v2 = json.loads((ROOT / "certificates" / "schema-v2.json").read_text())
    schema = {"$defs": v2["$defs"], "$ref": "#/$defs/babTree"}
    for tree in honest[0]["trees"].values():
        jsonschema.validate(tree, schema)
    bad = copy.deepcopy(honest[0]["trees"]["+"])
    bad[1]["leaf"]["z"] = {"indices": [], "values": []}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = copy.deepcopy(honest[0]["trees"]["+"])
    bad[1]["leaf"]["rows"][0]["a"] = "1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_review_huge_tau_is_a_named_failure_not_a_crash():
    """A 401-digit tau used to raise OverflowError in the failure message (review, F1)."""
    from fractions import Fraction as Q

    from verify.checker.branch_and_bound import check_branch_and_bound

    ev = {"support": [0], "trees": {
        t: [{"leaf": {"sdp": {"tau": "1" + "0" * 400, "rho": "0"}, "rows": [{"row": 0, "h": "1"}]}}]
        for t in "+-"}}
    fails = []
    check_branch_and_bound(ev, [[1]], 0, [Q(1)], Q(2), lambda r, d: fails.append((r, d)), "c")
    sdp_fails = [d for r, d in fails if r == "bab-sdp"]  # tree "-": h on a mu < 0 row too
    assert sdp_fails and "a number of ~1328 bits exceeds s = 2" in sdp_fails[0]


def test_review_every_sdp_leaf_pays_a_fixed_charge():
    """Many tiny sdp leaves exhaust the budget (review, F2: they cost Python time each)."""
    from fractions import Fraction as Q

    from verify.checker import semidefinite as sd

    leaf = {"tau": Q(1), "rho": Q(1)}
    args = ([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], leaf, Q(4))
    big = sd.WorkBudget(10**9)
    assert sd.check_sdp_leaf(*args, big) is None
    assert big.total - big.left >= sd.LEAF_UNITS  # the fixed charge and the leaf's own work
    out = sd.check_sdp_leaf(*args, sd.WorkBudget(sd.LEAF_UNITS - 1))
    assert out is not None and out[0] == "bab-size" and "an sdp leaf" in out[1]
