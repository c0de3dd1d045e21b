"""The scaled oracle (row blocks, ||v|| screening, batched coordinate descent, sparse slacks)
and the blocked certified dual norm, each against the unblocked / exact route."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from verify.convex import bounds
from verify.convex import chamber_oracle as duality
from verify.convex import chamber_oracle_kernels as oracle_kernels
from verify.convex.bounds import certified_dual_norm, exact_norm_sq
from verify.convex.chamber_oracle import chamber_walls, oracle
from verify.geometry.chambers import enumerate_chambers


def _case(seed: int, N: int = 12, d: int = 4, scale: float = 0.35):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    lam = rng.standard_normal(N) * scale
    P = enumerate_chambers(X).pattern_matrix()
    return X, lam, P, chamber_walls(X, P)


def _residual_norms(X, lam, P, Z, sgn):
    """||sgn X^T D_j lam + X^T (2D_j - I) z_j|| per chamber (float)."""
    S = np.where(P, 1.0, -1.0)
    return np.linalg.norm((sgn * np.where(P, lam, 0.0) + S * Z) @ X, axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_walls_oracle_bounds_every_chamber_and_is_exact_where_violated(seed):
    X, lam, P, walls = _case(seed)
    exact = oracle(X, lam, P, exact_values=True)  # NNLS over all rows, every chamber
    fast = oracle(X, lam, P, walls=walls)
    assert np.all(fast.values >= exact.values - 1e-12)  # upper bounds everywhere
    violated = exact.values > 1.0
    assert violated.any() and (~violated).any()  # the case exercises both sides
    assert np.allclose(fast.values[violated], exact.values[violated], atol=1e-10)
    assert np.all(exact.values[fast.values <= 1.0] <= 1.0 + 1e-12)
    assert fast.value == pytest.approx(exact.value, abs=1e-10)
    assert fast.nnls_calls < exact.nnls_calls


@pytest.mark.parametrize("seed", [3, 4])
def test_row_blocks_give_the_same_results(seed, monkeypatch):
    X, lam, P, walls = _case(seed)
    whole = oracle(X, lam, P, walls=walls, keep_slack="sparse")
    monkeypatch.setattr(oracle_kernels, "BLOCK_ENTRIES", 5 * X.shape[0])  # blocks of 5 chambers
    blocked = oracle(X, lam, P, walls=walls, keep_slack="sparse")
    # equal up to the rounding of differently blocked matrix products
    assert np.allclose(whole.values, blocked.values, rtol=1e-10, atol=1e-13)
    assert whole.value == pytest.approx(blocked.value, rel=1e-12)
    for sg in (1, -1):
        assert np.allclose(whole.slack[sg].toarray(), blocked.slack[sg].toarray(), rtol=1e-6,
                           atol=1e-9)


@pytest.mark.parametrize("seed", [5, 6])
def test_sparse_slacks_reproduce_the_values_and_match_the_dict_form(seed):
    X, lam, P, walls = _case(seed)
    res = oracle(X, lam, P, walls=walls, keep_slack="sparse")
    ref = oracle(X, lam, P, walls=walls, keep_slack=True)
    for k, sg in ((0, 1), (1, -1)):
        Z = res.slack[sg].toarray()
        assert Z.min() >= 0.0
        # each value is the norm of the residual of the kept multipliers (Lemma 4, any z >= 0)
        assert np.allclose(_residual_norms(X, lam, P, Z, sg), res.values[:, k], rtol=1e-9,
                           atol=1e-12)
        D = np.zeros_like(Z)
        for (j, s), z in ref.slack.items():
            if s == sg:
                D[j] = z.dense()
        assert np.array_equal(D, Z)


def test_slacks_live_on_the_walls_or_one_row():
    X, lam, P, walls = _case(7)
    res = oracle(X, lam, P, walls=walls, keep_slack="sparse")
    for sg in (1, -1):
        Z = res.slack[sg].tocsr()
        for j in range(P.shape[0]):
            cols = set(Z.indices[Z.indptr[j] : Z.indptr[j + 1]].tolist())
            assert len(cols) <= 1 or cols <= set(walls[j].tolist())


@pytest.mark.parametrize("seed", [8, 9])
def test_certified_norm_same_for_sparse_list_dense_and_blocks(seed, monkeypatch):
    X, lam, P, walls = _case(seed, scale=0.25)
    res = oracle(X, lam, P, walls=walls, keep_slack="sparse")
    zp, zm = res.slack[1], res.slack[-1]
    s_csr, info = certified_dual_norm(X, lam, P, zp, zm)
    s_dense, _ = certified_dual_norm(X, lam, P, zp.toarray(), zm.toarray())
    lst = [duality.SparseVector.from_dense(r) for r in zp.toarray()]
    lsm = [duality.SparseVector.from_dense(r) for r in zm.toarray()]
    s_list, _ = certified_dual_norm(X, lam, P, lst, lsm)
    monkeypatch.setattr(bounds, "_BLOCK_ENTRIES", 3 * X.shape[0])
    s_blocks, info_b = certified_dual_norm(X, lam, P, zp, zm)
    assert s_csr == s_dense == s_list == s_blocks and info == info_b
    # an exact recomputation of the arg-max chamber's norm never exceeds s
    j, sg = info["argmax"]
    a = sg * np.where(P[j], lam, 0.0) + np.where(P[j], 1.0, -1.0) * (zp if sg > 0 else zm)[
        [j]].toarray()[0]
    assert exact_norm_sq(X, a) <= s_csr * s_csr
    assert s_csr >= Fraction(res.value) * (1 - Fraction(1, 10**9))


@pytest.mark.parametrize(("seed", "N", "d"), [(0, 12, 3), (1, 20, 4), (2, 25, 3)])
def test_hashed_walls_equal_the_byte_string_search(seed, N, d, monkeypatch):
    X = np.random.default_rng(seed).standard_normal((N, d))
    X[5] = 2 * X[3]  # parallel rows: one hyperplane, flipped together
    P = enumerate_chambers(X).pattern_matrix()
    hashed = chamber_walls(X, P)
    monkeypatch.setattr(oracle_kernels, "flip_hits_hashed", lambda *a: None)  # as on a collision
    plain = chamber_walls(X, P)
    assert len(hashed) == len(plain) == len(P)
    assert all(np.array_equal(a, b) for a, b in zip(hashed, plain))
    assert all(3 not in w.tolist() or 5 not in w.tolist() for w in hashed)


@pytest.mark.parametrize("seed", [10, 11])
def test_prior_bounds_skip_chambers_but_keep_upper_bounds_and_violations(seed):
    X, lam0, P, walls = _case(seed)
    lam1 = lam0 + np.random.default_rng(seed).standard_normal(lam0.size) * 0.01
    res0 = oracle(X, lam0, P, walls=walls)
    res1 = oracle(X, lam1, P, walls=walls, prior=(lam0, res0.values))
    exact = oracle(X, lam1, P, exact_values=True)
    assert np.all(res1.values >= exact.values - 1e-12)
    violated = exact.values > 1.0
    assert np.allclose(res1.values[violated], exact.values[violated], atol=1e-10)
    assert res1.value == pytest.approx(exact.value, abs=1e-10)
    assert res1.nnls_calls <= exact.nnls_calls
    # a prior far from lam skips nothing it should not: same violated set
    far = oracle(X, lam1, P, walls=walls, prior=(np.zeros_like(lam0), np.zeros((len(P), 2))))
    assert np.array_equal(far.values > 1.0, violated)
    with pytest.raises(duality.InputError):
        oracle(X, lam1, P, prior=(lam0, res0.values), keep_slack=True)
    with pytest.raises(duality.InputError):
        oracle(X, lam1, P, prior=(lam0, res0.values[:3]))
