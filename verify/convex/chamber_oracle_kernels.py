"""Vectorised kernels of :func:`verify.convex.chamber_oracle.oracle` and
:func:`verify.convex.chamber_oracle.chamber_walls`.

Everything here works on all chambers at once, in row blocks of about
:data:`BLOCK_ENTRIES` floats so that ~10^6 chambers fit in bounded memory:

* :func:`one_row_screen` -- the best one-row slack ``z = t e_n`` of each chamber (an upper
  bound, exact when its residual passes the KKT test);
* :func:`two_row_pass` -- exact two-wall slacks (used with ``exact_values``);
* :func:`cd_pass` -- batched coordinate descent on the wall rows: any ``z >= 0`` gives an
  upper bound (Lemma 4), so chambers falling below the threshold need no NNLS;
* :func:`slack_matrices` -- the slack multipliers as two sparse ``(p, N)`` matrices;
* :func:`flip_hits_hashed` -- the neighbour test of
:func:`verify.convex.chamber_oracle.chamber_walls` by a
  random linear 64-bit hash, every hit confirmed byte by byte.

Floats only find candidates here: the rigorous bounds are in :mod:`verify.convex.bounds`.

Examples
--------
>>> import numpy as np
>>> P = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=bool)
>>> pattern_products(P, np.array([[1.0], [10.0]])).ravel().tolist()
[1.0, 11.0, 10.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse

__all__ = [
    "BLOCK_ENTRIES",
    "chunk_rows",
    "pattern_products",
    "one_row_screen",
    "two_row_pass",
    "cd_pass",
    "slack_matrices",
    "flip_hits_hashed",
    "wall_pairs",
]


def slack_matrices(shape, zbest, nbest, slack) -> dict[int, Any]:
    """The slack multipliers of :func:`verify.convex.chamber_oracle.oracle` as two sparse ``(p,
    N)`` matrices
    ``{+1: z^+, -1: z^-}`` (one-row slacks from ``zbest``/``nbest``, the others from
    ``slack``)."""
    out = {}
    for k, sgn in ((0, 1), (1, -1)):
        js = np.flatnonzero(zbest[:, k] > 0)
        rows, cols, vals = [js], [nbest[js, k]], [zbest[js, k]]
        for (j, s), z in slack.items():
            if s == sgn:
                rows.append(np.full(len(z.indices), j, dtype=np.int64))
                cols.append(np.asarray(z.indices, dtype=np.int64))
                vals.append(np.asarray(z.values, dtype=np.float64))
        out[sgn] = scipy.sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
        )
    return out


#: Entries per block of the ``(p, N)`` float work arrays of the oracle (16 MB each).
BLOCK_ENTRIES = 1 << 21


def chunk_rows(N: int) -> int:
    """Rows per block of the ``(p, N)`` float work arrays (at least 1)."""
    return max(1, BLOCK_ENTRIES // max(N, 1))


def pattern_products(P: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``P.astype(float) @ M`` by row blocks (no ``(p, N)`` float copy of ``P``)."""
    p, N = P.shape
    out = np.empty((p, M.shape[1]))
    c = chunk_rows(N)
    for a in range(0, p, c):
        out[a : a + c] = P[a : a + c].astype(np.float64) @ M
    return out


def two_row_pass(
    X: np.ndarray,
    P: np.ndarray,
    V: np.ndarray,
    values: np.ndarray,
    exact: np.ndarray,
    walls: list[np.ndarray],
    threshold: float,
    exact_values: bool,
    keep_slack: bool,
    zbest: np.ndarray,
    slack2: dict[tuple[int, int], tuple[tuple[int, ...], tuple[float, ...]]],
) -> None:
    """Vectorised two-wall slacks ``z = t1 e_n1 + t2 e_n2`` for the unresolved chambers, in
    blocks of chambers (the pairs of walls are formed for the unresolved chambers only)."""
    cand = ~exact if exact_values else (~exact) & (values > threshold)
    js_all = np.flatnonzero(cand.any(axis=1))
    block = chunk_rows(X.shape[0])
    for b0 in range(0, js_all.size, block):
        js = js_all[b0 : b0 + block]
        Jl, N1, N2 = wall_pairs([walls[j] for j in js])
        if Jl.size == 0:
            continue
        _two_row_block(X, P, V, values, exact, cand, keep_slack, zbest, slack2, js[Jl], N1, N2)


def _two_row_block(X, P, V, values, exact, cand, keep_slack, zbest, slack2, J, N1, N2) -> None:
    """:func:`two_row_pass` for the pairs ``(J, N1, N2)`` (J sorted by chamber)."""
    A1 = np.where(P[J, N1], 1.0, -1.0)[:, None] * X[N1]
    A2 = np.where(P[J, N2], 1.0, -1.0)[:, None] * X[N2]
    g11 = np.einsum("ij,ij->i", A1, A1)
    g12 = np.einsum("ij,ij->i", A1, A2)
    g22 = np.einsum("ij,ij->i", A2, A2)
    det = g11 * g22 - g12 * g12
    ok_det = det > 1e-12 * g11 * g22
    det = np.where(ok_det, det, 1.0)
    for k, sg in ((0, 1.0), (1, -1.0)):
        v = sg * V[J]
        b1 = -np.einsum("ij,ij->i", A1, v)
        b2 = -np.einsum("ij,ij->i", A2, v)
        t1 = (g22 * b1 - g12 * b2) / det
        t2 = (g11 * b2 - g12 * b1) / det
        ok = ok_det & (t1 >= 0) & (t2 >= 0) & cand[J, k]
        R = v + t1[:, None] * A1 + t2[:, None] * A2
        val = np.where(ok, np.linalg.norm(R, axis=1), np.inf)
        order = np.lexsort((val, J))  # by chamber, then value
        first = np.ones(order.size, dtype=bool)
        first[1:] = J[order][1:] != J[order][:-1]
        best = order[first]
        best = best[np.isfinite(val[best])]
        if best.size == 0:
            continue
        jb = J[best]
        G = np.where(P[jb], 1.0, -1.0) * (R[best] @ X.T)
        tolg = 1e-13 * (np.linalg.norm(V[jb], axis=1) * np.abs(X).max() + 1e-300)
        kkt = G.min(axis=1) >= -tolg
        better = val[best] < values[jb, k]
        values[jb[better], k] = val[best][better]
        exact[jb, k] |= kkt & (val[best] <= values[jb, k])
        for i in np.flatnonzero(better):
            j = int(jb[i])
            zbest[j, k] = -2.0
            if keep_slack:
                slack2[(j, k)] = (
                    (int(N1[best[i]]), int(N2[best[i]])),
                    (float(t1[best[i]]), float(t2[best[i]])),
                )


def one_row_screen(X, P, V, values, exact, zbest, nbest, rows) -> None:
    """One-row slacks of :func:`verify.convex.chamber_oracle.oracle` for the chambers ``rows``, in
    blocks.
    """
    N = P.shape[1]
    nv = np.linalg.norm(V, axis=1)
    nx = np.linalg.norm(X, axis=1)
    nx_safe = np.where(nx > 0, nx, 1.0)
    c = chunk_rows(N)
    for a0 in range(0, rows.size, c):
        blk = rows[a0 : a0 + c]
        S = np.where(P[blk], 1.0, -1.0)
        Vb = V[blk]
        XV = Vb @ X.T  # (c, N): x_n^T v_j
        rng = np.arange(blk.size)
        tol_b = 1e-13 * (nv[blk] * nx.max(initial=0.0) + 1e-300)
        for k, sg in ((0, 1.0), (1, -1.0)):
            C = (sg * S) * XV / nx_safe  # a_n^T v / ||a_n||, a_n = s_n x_n, v = sg v_j
            C[:, nx == 0] = 0.0
            np.minimum(C, 0.0, out=C)
            n1 = np.argmin(C, axis=1)  # best single row (largest |a^T v| with a^T v < 0)
            c1 = C[rng, n1]
            values[blk, k] = np.sqrt(np.maximum(nv[blk] ** 2 - c1**2, 0.0))
            inside = c1 >= 0  # v in the cone: max = ||v||, z = 0
            z1 = -c1 / nx_safe[n1]
            R = sg * Vb + z1[:, None] * (S[rng, n1][:, None] * X[n1])
            G = S * (R @ X.T)  # KKT: A r >= 0 (complementarity holds by construction)
            exact[blk, k] = inside | (G.min(axis=1) >= -tol_b)
            zbest[blk, k] = np.where(inside, 0.0, z1)
            nbest[blk, k] = n1


#: Coordinate-descent sweeps of :func:`cd_pass` (checked for success every 16).
CD_SWEEPS = 64


def cd_pass(X, P, V, values, exact, zbest, walls, threshold, keep_slack, slackcd) -> None:
    """Batched coordinate descent on ``min_{z>=0} ||v + A^T z||`` for the chambers still above
    ``threshold``: any ``z >= 0`` gives an upper bound (Lemma 4), so a chamber whose value
    falls below ``threshold`` (with a relative margin of 1e-9 for rounding) is resolved
    without NNLS; the others keep their bound and go to NNLS."""
    jj, kk = np.nonzero((~exact) & (values > threshold))
    if jj.size == 0:
        return
    N, d = X.shape
    sizes = np.array([walls[j].size for j in jj]) if walls is not None else np.full(jj.size, N)
    order = np.argsort(sizes, kind="stable")
    limit = threshold - 1e-9 * max(1.0, abs(threshold))
    b0 = 0
    while b0 < order.size:
        # rows sorted by wall count: the largest block whose padded (rows, w, d) array fits
        fits = np.arange(1, order.size - b0 + 1) * sizes[order[b0:]] * d <= BLOCK_ENTRIES
        block = max(1, int(fits.sum()))
        sel = order[b0 : b0 + block]
        b0 += sel.size
        w = int(sizes[sel].max())
        J, K = jj[sel], kk[sel]
        m = sel.size
        W = np.zeros((m, w), dtype=np.int64)
        valid = np.zeros((m, w), dtype=bool)
        for i, j in enumerate(J.tolist()):
            rw = walls[j] if walls is not None else np.arange(N)
            W[i, : rw.size] = rw
            valid[i, : rw.size] = True
        A = np.where(P[J[:, None], W], 1.0, -1.0)[:, :, None] * X[W]  # (m, w, d)
        A[~valid] = 0.0
        At = np.ascontiguousarray(A.transpose(1, 0, 2))  # (w, m, d): rows contiguous
        a2 = np.einsum("wmd,wmd->wm", At, At)
        a2 = np.where(valid.T & (a2 > 0), a2, np.inf)
        v = np.where(K == 0, 1.0, -1.0)[:, None] * V[J]
        z = np.zeros((w, m))
        r = v.copy()
        live = np.arange(m)  # rows still iterated (compacted every 8 sweeps)
        Al, a2l, zl, rl = At, a2, z, r
        prev = np.linalg.norm(r, axis=1)
        for sweep in range(CD_SWEEPS):
            for i in range(w):
                zn = np.maximum(zl[i] - np.einsum("md,md->m", Al[i], rl) / a2l[i], 0.0)
                rl += (zn - zl[i])[:, None] * Al[i]
                zl[i] = zn
            if sweep % 8 == 7:
                z[:, live], r[live] = zl, rl
                now = np.linalg.norm(rl, axis=1)
                # go on with rows above the limit that would reach it within ~32 sweeps at the
                # current rate (the others are violated or slow: NNLS decides them)
                keep = (now > limit) & (4.0 * (prev - now) >= now - limit)
                if not keep.any():
                    break
                live, prev = live[keep], now[keep]
                Al, a2l, zl, rl = At[:, live], a2[:, live], z[:, live], r[live]
        z[:, live], r[live] = zl, rl
        z = z.T
        val = np.linalg.norm(v + np.einsum("mw,mwd->md", z, A), axis=1)  # fresh residual
        better = (val <= limit) & (val < values[J, K])
        values[J[better], K[better]] = val[better]
        zbest[J[better], K[better]] = -3.0  # marker: coordinate-descent slack
        if keep_slack:
            for i in np.flatnonzero(better):
                nz = z[i] > 0
                slackcd[(int(J[i]), int(K[i]))] = (
                    tuple(int(n) for n in W[i][nz]),
                    tuple(float(t) for t in z[i][nz]),
                )


def flip_hits_hashed(
    P: np.ndarray, packed: np.ndarray, masks: np.ndarray, pm: np.ndarray
) -> np.ndarray | None:
    """``found[j, c]``: flipping the rows of hyperplane ``c`` in pattern ``j`` gives a listed
    pattern.  Patterns are keyed by a random linear hash ``h = sum_n D_n r_n mod 2^64``, so a
    flip moves the key by a known amount; every hit is then confirmed byte by byte.  Exact when
    the keys are distinct (then a listed neighbour is always found); ``None`` otherwise."""
    p, N = P.shape
    r = np.random.default_rng(0x5EED).integers(0, 2**63, N, dtype=np.uint64) * np.uint64(2) + (
        np.uint64(1)
    )
    h = np.empty(p, dtype=np.uint64)
    step = max(1, (1 << 21) // max(N, 1))
    with np.errstate(over="ignore"):
        for a in range(0, p, step):
            h[a : a + step] = (P[a : a + step].astype(np.uint64) * r).sum(axis=1)
        order = np.argsort(h, kind="stable")
        hs = h[order]
        if p > 1 and (hs[1:] == hs[:-1]).any():
            return None
        Ps, packed_s = P[order], packed[order]  # work in key order: the queries come nearly
        found_s = np.zeros((p, masks.shape[0]), dtype=bool)  # sorted (fast searchsorted)
        for c in range(masks.shape[0]):
            rows = np.flatnonzero(masks[c])
            # flipping D_n adds r_n where D_n = 0 and subtracts it where D_n = 1
            delta = np.where(Ps[:, rows], np.uint64(0) - r[rows], r[rows]).sum(
                axis=1, dtype=np.uint64)
            q = hs + delta
            pos = np.minimum(np.searchsorted(hs, q), p - 1)
            hit = np.flatnonzero(hs[pos] == q)
            if hit.size:
                same = (packed_s[pos[hit]] == (packed_s[hit] ^ pm[c])).all(axis=1)
                found_s[hit[same], c] = True
        found = np.empty_like(found_s)
        found[order] = found_s
    return found


def wall_pairs(walls: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs of walls of every chamber: ``(chamber, row1, row2)`` arrays."""
    sizes = np.array([w.size for w in walls])
    J, N1, N2 = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)], [
        np.zeros(0, dtype=np.int64)]
    for w in np.unique(sizes):
        if w < 2:
            continue
        jw = np.flatnonzero(sizes == w)
        Wm = np.stack([walls[j] for j in jw])  # (k, w)
        ia, ib = np.triu_indices(int(w), 1)
        J.append(np.repeat(jw, ia.size))
        N1.append(Wm[:, ia].ravel())
        N2.append(Wm[:, ib].ravel())
    return np.concatenate(J), np.concatenate(N1), np.concatenate(N2)
