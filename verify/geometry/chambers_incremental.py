"""Exact chambers of a central arrangement in any rank by deletion and restriction.

The hyperplanes ``H_1, ..., H_m`` (primitive integer normals ``h_i``, spanning ``R^r``) are
added one at a time, the first ``r`` of them independent (their ``2^r`` chambers are the sign
vectors of a basis: the exact points ``adj(H_B) s``).  When ``H_k`` is added, the chambers it
cuts are exactly the chambers of the arrangement of ``H_1, ..., H_{k-1}`` *restricted* to
``H_k``: in an exact (LLL-reduced) integer basis ``B`` of ``h_k^perp`` the restricted normals
are the integers ``g_i = B h_i``, and a chamber ``sign(G v) = s`` of the restriction is the
trace on ``H_k`` of the unique old chamber with the signs ``s``, which ``H_k`` splits in two
(Zaslavsky's deletion-restriction ``r(A) = r(A - H) + r(A|H)``, so the construction is
complete by itself).  The restriction has rank ``r - 1`` and is enumerated recursively, down
to rank 3 (the great-circle walk :func:`verify.geometry.extreme_rays.certified_walk`: float
angular orders certified exactly, integer sorts only where a certificate fails, so the face
structure is exact; checked against the exact count ``2 + 2 sum_L (m_L - 1)`` of its lines)
and rank 2 (exact angular order).

Every decision is exact: signs of float witnesses are computed with a rigorous float filter
and integer arithmetic where it cannot decide; the old chamber a restricted chamber cuts is
found by a random fingerprint of the sign vector and confirmed on the stored exact signs.
A new chamber's witness is first the float point ``p +- t h_k`` (``p = B^T v`` on ``H_k``,
``t`` half-way to the next hyperplane), checked exactly; where no float of that kind lands
inside (chambers thinner than float64 can resolve, as on decimal data), it is the exact
integer point ``M p + side h_k`` with ``M = 2 max_i (|h_i . h_k| // |h_i . p| + 1)`` (``p``
an integer point of the restricted chamber), which is strictly inside the new chamber since
``|M h_i . p| > 2 |h_i . h_k|`` for every old hyperplane and ``h_k . (M p + side h_k) = side
|h_k|^2``.  No LP, no search: the per-chamber work is a few vectorised float operations.

Examples
--------
>>> import numpy as np
>>> from verify.geometry.chamber_count import reduce_hyperplanes
>>> X = np.array([np.eye(5)[i] - np.eye(5)[j] for i in range(5) for j in range(i)])
>>> res = incremental_chambers(reduce_hyperplanes(X))
>>> len(res.W) + len(res.exact_points), res.complete   # the braid arrangement: 5! chambers
(120, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from verify.checker import arithmetic
from verify.geometry.chamber_count import Hyperplanes, _nullspace, exact_ray_order
from verify.geometry.extreme_rays import certified_walk
from verify.geometry.proven_linalg import (
    _ETA,
    RankInfo,
    _gamma,
    exact_signs,
    integer_rows,
    scaled_roundings,
    unit_rows,
)

__all__ = ["IncrementalResult", "incremental_chambers", "integer_arrangement_chambers"]

try:  # optional: LLL reduction of restriction bases (python-flint, a CI dependency)
    import flint as _flint
except ImportError:  # pragma: no cover
    _flint = None


# ----------------------------------------------------------------------------- arrangements


@dataclass(frozen=True, eq=False)
class _Arr:
    """Distinct hyperplanes of ``R^r`` with exact primitive integer normals spanning ``R^r``.

    ``Hi``: the normals as an object array ``(m, r)``; ``F``: float rows, either exactly a
    positive multiple of each integer normal (``exact_float``: the data themselves) or a
    proxy (each row divided by a power of two and correctly rounded)."""

    ints: list[tuple[int, ...]]
    Hi: np.ndarray
    F: np.ndarray
    exact_float: bool

    @property
    def m(self) -> int:
        return len(self.ints)

    @property
    def r(self) -> int:
        return self.Hi.shape[1]

    def take(self, idx: list[int]) -> _Arr:
        return _Arr([self.ints[i] for i in idx], self.Hi[idx], self.F[idx], self.exact_float)


def _proxy(rows: list[tuple[int, ...]], r: int) -> tuple[np.ndarray, bool]:
    """Float rows for integer rows: exact when every entry has at most 53 bits, else each row
    divided by ``2**bitlength(max)`` and correctly rounded (Python's int true division)."""
    top = max((abs(v).bit_length() for h in rows for v in h), default=0)
    if top <= 53:
        return np.array(rows, dtype=np.float64).reshape(len(rows), r), True
    F = np.empty((len(rows), r))
    for i, h in enumerate(rows):
        s = 1 << max(abs(v) for v in h).bit_length()
        F[i] = [v / s for v in h]
    return F, False


def _from_int_rows(G: np.ndarray) -> tuple[_Arr, np.ndarray, np.ndarray]:
    """Distinct hyperplanes of the nonzero integer rows ``G`` (object array ``(k, c)``, rank
    ``c``): ``(arrangement, index, orient)`` with row ``i`` a positive multiple of
    ``orient[i]`` times hyperplane ``index[i]``."""
    k, c = G.shape
    keys: dict[tuple[int, ...], int] = {}
    ints: list[tuple[int, ...]] = []
    index = np.empty(k, dtype=np.int64)
    orient = np.empty(k, dtype=np.int8)
    for n, row in enumerate(G.tolist()):
        g = math.gcd(*row)
        sg = 1 if next(v for v in row if v) > 0 else -1
        key = tuple(sg * v // g for v in row)
        j = keys.get(key)
        if j is None:
            j = keys[key] = len(ints)
            ints.append(key)
        index[n], orient[n] = j, sg
    F, exact = _proxy(ints, c)
    Hi = np.empty((len(ints), c), dtype=object)
    Hi[:] = [list(h) for h in ints] if ints else Hi
    return _Arr(ints, Hi, F, exact), index, orient


def _as_hyperplanes(A: _Arr) -> Hyperplanes:
    """The arrangement as a :class:`~verify.geometry.chamber_count.Hyperplanes` (for the
    rank-2/3 helpers, which use its integer normals and float rows)."""
    info = RankInfo(A.r, (), tuple(range(A.r)), "exact integer normals")
    return Hyperplanes(
        A.F, A.F, A.ints, np.arange(A.m), np.ones(A.m, dtype=np.int8), info
    )


# ----------------------------------------------------------------------------- exact signs


def _signs(A: _Arr, rows: slice | np.ndarray, W: np.ndarray) -> np.ndarray:
    """Exact signs ``(p, k)`` of ``h_i . w`` for the float rows ``w`` of ``W`` and the
    hyperplanes ``rows`` of ``A`` (non-finite rows give 0)."""
    W = np.asarray(W, dtype=np.float64).reshape(-1, A.r)
    W = np.where(np.all(np.isfinite(W), axis=1)[:, None], W, 0.0)
    if A.exact_float:
        return exact_signs(A.F[rows], W)
    F, Hi = A.F[rows], A.Hi[rows]
    k, d = F.shape
    if not len(W) or not k:
        return np.zeros((len(W), k), dtype=np.int8)
    # rounding of the proxy (relative u, absolute eta) plus the float product (gamma_d),
    # with margin: a power of two >= 4 (gamma_d + 2u)
    g = 2.0 ** math.ceil(math.log2(4.0 * (_gamma(d) + 2.0**-52)))
    with np.errstate(all="ignore"):
        P = W @ F.T
        T = np.abs(W) @ np.abs(F).T
        T *= g
        T += (np.abs(W).sum(axis=1)[:, None] + 8.0 * d) * (16.0 * _ETA)
        dec = np.abs(P) > T
        out = np.sign(P).astype(np.int8)
    if not dec.all():
        jj, nn = np.nonzero(~dec)
        uj, jinv = np.unique(jj, return_inverse=True)
        Wi, _ = integer_rows(W[uj])
        Wo = np.empty((len(uj), d), dtype=object)
        Wo[:] = Wi
        vals = np.einsum("ij,ij->i", Wo[jinv], Hi[nn])
        out[jj, nn] = [(v > 0) - (v < 0) for v in vals.tolist()]
    return out


def _int_point_signs(A: _Arr, rows: slice | np.ndarray, pts: list[tuple[int, ...]]) -> np.ndarray:
    """Exact signs ``(p, k)`` of ``h_i . u`` for integer points ``u``."""
    Hi = A.Hi[rows]
    if not pts or not Hi.shape[0]:
        return np.zeros((len(pts), Hi.shape[0]), dtype=np.int8)
    U = np.empty((len(pts), A.r), dtype=object)
    U[:] = [list(u) for u in pts]
    D = U.dot(Hi.T)
    return (D > 0).astype(np.int8) - (D < 0).astype(np.int8)


def _primitive(u: list[int]) -> tuple[int, ...]:
    g = math.gcd(*u)
    return tuple(v // g for v in u) if g > 1 else tuple(u)


# ----------------------------------------------------------------------------- result


@dataclass
class _Res:
    """Chambers of an arrangement: exact signs ``S`` (one row per chamber), float witnesses
    ``W`` (exact when the row is not in ``ex``), exact integer witnesses ``ex``."""

    S: np.ndarray
    W: np.ndarray
    ex: dict[int, tuple[int, ...]]
    complete: bool


def _dedupe(S: np.ndarray, W: np.ndarray, ex: dict[int, tuple[int, ...]]) -> _Res:
    """Keep the valid rows (no zero sign), one per distinct sign vector, float rows first."""
    ok = np.flatnonzero(np.all(S != 0, axis=1))
    order = np.r_[[i for i in ok.tolist() if i not in ex], [i for i in ok.tolist() if i in ex]]
    order = order.astype(np.int64)
    P = np.packbits(S[order] > 0, axis=1)
    keys = np.ascontiguousarray(P).view(np.dtype((np.void, max(P.shape[1], 1))))
    if P.shape[1] == 0:
        first = np.arange(min(len(order), 1))
    else:
        _, first = np.unique(keys.ravel(), return_index=True)
    keep = order[np.sort(first)]
    new_ex = {}
    pos = {int(j): i for i, j in enumerate(keep.tolist())}
    for j, u in ex.items():
        if j in pos:
            new_ex[pos[j]] = u
    return _Res(S[keep], W[keep], new_ex, True)


# ----------------------------------------------------------------------------- rank 1, 2, 3


def _rank1(A: _Arr) -> _Res:
    W = np.array([[1.0], [-1.0]])
    return _Res(_signs(A, slice(None), W), W, {}, True)


def _rank2(A: _Arr) -> _Res:
    """The ``2m`` sectors between consecutive rays (exact angular order); each witness the
    exact sum of the two L1-normalised rays, kept as a float where its rounding is inside."""
    rays = [(-b, a) for a, b in A.ints] + [(b, -a) for a, b in A.ints]
    order = exact_ray_order(_as_hyperplanes(A)).tolist()
    pts = []
    for i, j in zip(order, order[1:] + order[:1]):
        (x1, y1), (x2, y2) = rays[i], rays[j]
        n1, n2 = abs(x1) + abs(y1), abs(x2) + abs(y2)
        pts.append(_primitive([x1 * n2 + x2 * n1, y1 * n2 + y2 * n1]))
    W = scaled_roundings(pts, 2)
    S = _int_point_signs(A, slice(None), pts)
    bad = np.flatnonzero(np.any(_signs(A, slice(None), W) != S, axis=1))
    return _Res(S, W, {int(j): pts[j] for j in bad.tolist()}, True)


def _lines3(ints: list[tuple[int, ...]]) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """The intersection lines of rank-3 integer planes (exact): primitive directions, the
    planes through each (ascending, flattened), their numbers, and the sign of
    ``(h_a x h_b) . direction`` for the first two planes ``a < b`` of each line."""
    lines: dict[tuple[int, int, int], set[int]] = {}
    m = len(ints)
    for i in range(m):
        a0, a1, a2 = ints[i]
        for j in range(i + 1, m):
            b0, b1, b2 = ints[j]
            key = _primitive3((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))
            lines.setdefault(key, set()).update((i, j))
    dirs, members, sizes, first = [], [], [], []
    for key, mem in lines.items():
        mem = sorted(set(mem))
        dirs.append(key)
        members += mem
        sizes.append(len(mem))
        (a0, a1, a2), (b0, b1, b2) = ints[mem[0]], ints[mem[1]]
        c = (a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0)
        dot = c[0] * key[0] + c[1] * key[1] + c[2] * key[2]
        first.append(1 if dot > 0 else -1)
    return (dirs, np.array(members, dtype=np.int64), np.array(sizes, dtype=np.int64),
            np.array(first, dtype=np.int64))


def _primitive3(v: tuple[int, int, int]) -> tuple[int, int, int]:
    g = math.gcd(*v)
    a, b, c = (x // g for x in v)
    if a < 0 or (a == 0 and (b < 0 or (b == 0 and c < 0))):
        a, b, c = -a, -b, -c
    return a, b, c


def _rank3(A: _Arr, stats: dict) -> _Res:
    """The faces of the great-circle arrangement by the certified walk
    (:func:`verify.geometry.extreme_rays.certified_walk`: exact face structure), each
    witnessed by the float sum of its unit rays where that is on the inner side of every
    wall of the face, else by the exact integer sum of its rays; checked against the exact
    count ``2 + 2 sum_L (m_L - 1)`` of the lines."""
    dirs, members, sizes, first = _lines3(A.ints)
    count = 2 + 2 * int(np.sum(sizes - 1))
    walk = certified_walk(A.ints, A.F, dirs, members, sizes, first)
    stats["exact_sorts"] = stats.get("exact_sorts", 0) + walk.sorted_exactly
    S = _signs(A, slice(None), walk.W)
    inside = S[walk.label, walk.plane] == np.where(walk.forward, 1, -1)
    bad = np.unique(walk.label[~inside])
    ex = dict(zip(bad.tolist(), walk.exact_points(bad)))
    if ex:
        S[bad] = _int_point_signs(A, slice(None), [ex[f] for f in bad.tolist()])
    res = _dedupe(S, walk.W, ex)
    res.complete = len(res.S) == count == len(walk.W)
    return res


# ----------------------------------------------------------------------------- general rank


def _short_basis(h: tuple[int, ...]) -> list[list[int]]:
    """An integer basis of ``h^perp`` (LLL-reduced with python-flint when available)."""
    B = _nullspace([h], len(h))
    if _flint is None or len(B) < 2:
        return B
    return [[int(v) for v in row] for row in _flint.fmpz_mat(B).lll().tolist()]


def _initial(A: _Arr) -> _Res:
    """The ``2^r`` chambers of ``r`` independent hyperplanes (the first ``r`` rows of ``A``):
    float solutions of ``H_B w = s`` where exactly inside, else ``adj(H_B) s`` (times the
    sign of the determinant), exact integers."""
    r = A.r
    signs = np.array(list(itertools.product((1, -1), repeat=r)), dtype=np.int8)
    with np.errstate(all="ignore"):
        try:
            W = np.linalg.solve(unit_rows(A.F[:r]), signs.T.astype(np.float64)).T
        except np.linalg.LinAlgError:
            W = np.zeros((len(signs), r))
    S = _signs(A, slice(0, r), W)
    bad = np.flatnonzero(np.any(S != signs, axis=1)).tolist()
    ex: dict[int, tuple[int, ...]] = {}
    if bad:
        M = [[Fraction(v) for v in h] for h in A.ints[:r]]
        inv = _rational_inverse(M)
        for j in bad:
            s = signs[j].tolist()
            q = [sum(inv[i][c] * s[c] for c in range(r)) for i in range(r)]
            den = math.lcm(*(x.denominator for x in q))
            ex[j] = _primitive([int(x * den) for x in q])
    return _Res(signs.copy(), W, ex, True)


def _rational_inverse(M: list[list[Fraction]]) -> list[list[Fraction]]:
    """Inverse of a nonsingular rational matrix (Gauss-Jordan)."""
    n = len(M)
    A = [row[:] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(M)]
    for c in range(n):
        p = next(i for i in range(c, n) if A[i][c] != 0)
        A[c], A[p] = A[p], A[c]
        piv = A[c][c]
        A[c] = [v / piv for v in A[c]]
        for i in range(n):
            if i != c and A[i][c] != 0:
                f = A[i][c]
                A[i] = [a - f * b for a, b in zip(A[i], A[c])]
    return [row[n:] for row in A]


class _Store:
    """Growing arrays of the chambers found so far: signs ``S`` (``(n, m)`` int8, columns
    filled up to the current hyperplane), float witnesses ``W``, exact witnesses ``ex``,
    fingerprints ``fp`` of the filled part of ``S``."""

    def __init__(self, res: _Res, m: int, z: np.ndarray, capacity: int) -> None:
        n, r = res.W.shape
        cap = max(capacity, 2 * n, 16)
        self.S = np.zeros((cap, m), dtype=np.int8)
        self.W = np.zeros((cap, r))
        self.S[:n, : res.S.shape[1]] = res.S
        self.W[:n] = res.W
        self.ex = dict(res.ex)
        self.n = n
        self.fp = np.zeros(cap, dtype=np.int64)
        self.fp[:n] = res.S.astype(np.int64) @ z[: res.S.shape[1]]

    def add(self, S: np.ndarray, W: np.ndarray, fp: np.ndarray) -> np.ndarray:
        """Append rows; return their indices."""
        k = len(S)
        while self.n + k > len(self.S):
            grow = len(self.S)
            self.S = np.vstack([self.S, np.zeros((grow, self.S.shape[1]), dtype=np.int8)])
            self.W = np.vstack([self.W, np.zeros((grow, self.W.shape[1]))])
            self.fp = np.concatenate([self.fp, np.zeros(grow, dtype=np.int64)])
        idx = np.arange(self.n, self.n + k)
        self.S[idx, : S.shape[1]] = S
        self.W[idx] = W
        self.fp[idx] = fp
        self.n += k
        return idx


def _independent_first(A: _Arr) -> tuple[_Arr, np.ndarray]:
    """``A`` reordered so that its first ``r`` hyperplanes are independent (greedy, exact);
    returns the reordered arrangement and the permutation (new position -> old index)."""
    _, prow, _ = arithmetic.integer_rank([list(h) for h in A.ints])
    rest = [i for i in range(A.m) if i not in set(prow)]
    perm = np.array(list(prow) + rest, dtype=np.int64)
    return A.take(perm.tolist()), perm


def _incremental(
    A: _Arr, stats: dict, on_found: Callable[[int], None] | None = None, capacity: int = 0
) -> _Res:
    """Deletion-restriction construction (module docstring); ``A`` has rank ``r >= 2``."""
    A, perm = _independent_first(A)
    m, r = A.m, A.r
    z = np.random.default_rng(20220101).integers(-(1 << 40), 1 << 40, size=m, dtype=np.int64)
    st = _Store(_initial(A), m, z, capacity)
    complete = True
    if on_found is not None:
        on_found(st.n)
    for k in range(r, m):
        n = st.n
        # side of H_k of every chamber so far (exact; exact witnesses in integers)
        sk = _signs(A, slice(k, k + 1), st.W[:n])[:, 0]
        if st.ex:
            ej = sorted(st.ex)
            sk[ej] = _int_point_signs(A, slice(k, k + 1), [st.ex[j] for j in ej])[:, 0]
        st.S[:n, k] = sk
        # the restriction of H_0..H_{k-1} to H_k
        h = A.ints[k]
        B = _short_basis(h)
        Bo = np.empty((r - 1, r), dtype=object)
        Bo[:] = B
        G = A.Hi[:k].dot(Bo.T)
        sub, index, orient = _from_int_rows(G)
        if r - 1 == 1:
            R = _rank1(sub)
        elif r - 1 == 2:
            R = _rank2(sub)
        elif r - 1 == 3:
            R = _rank3(sub, stats)
        else:
            R = _incremental(sub, stats)
        complete &= R.complete
        SR = R.S[:, index] * orient[None, :]  # signs of the restricted chambers on H_0..H_{k-1}
        # the old chamber each restricted chamber cuts (fingerprint, confirmed exactly)
        fpR = SR.astype(np.int64) @ z[:k]
        fpo = st.fp[:n]
        order = np.argsort(fpo, kind="stable")
        pos = np.minimum(np.searchsorted(fpo[order], fpR), n - 1)
        cand = order[pos]
        hit = fpo[cand] == fpR
        hit[hit] = np.all(st.S[cand[hit], :k] == SR[hit], axis=1)
        parent = np.where(hit, cand, -1)
        st.fp[:n] += sk.astype(np.int64) * z[k]
        if not hit.all():  # an old chamber was missing: both sides added (self-healing)
            complete = False
        # a chamber whose witness lies on H_k is cut: it must be a parent
        orphans = np.setdiff1d(np.flatnonzero(sk == 0), parent[hit])
        if orphans.size:  # a restricted chamber was missed: cut them from their own witness
            complete = False
        # points on H_k of the restricted chambers (float, and exact integers where needed)
        E = max(0, max(abs(v).bit_length() for row in B for v in row) - 500)  # one scale
        Bf = np.array([[float(Fraction(v, 1 << E)) for v in row] for row in B]).reshape(r - 1, r)
        with np.errstate(all="ignore"):
            Pf = R.W @ Bf
        for j, v in R.ex.items():
            Pf[j] = scaled_roundings([tuple(_dot_int(v, B))], r)[0]
        b = A.Hi[:k].dot(np.array(h, dtype=object))  # h_i . h_k, exact
        new_S, new_W, new_fp, new_ex = [], [], [], []
        for side in (1, -1):
            # restricted chambers whose parent does not already lie on this side
            need = np.flatnonzero(~hit | (sk[np.maximum(parent, 0)] != side))
            target = np.hstack([SR[need], np.full((len(need), 1), side, dtype=np.int8)])
            Wc = _float_children(A, k, Pf[need], side)
            ok = np.all(_signs(A, slice(0, k + 1), Wc) == target, axis=1)
            ex_rows = {}
            for i in np.flatnonzero(~ok).tolist():
                q = int(need[i])
                p = R.ex.get(q)
                p_int = _dot_int(p, B) if p is not None else _float_point_on(R.W[q], B)
                c = _exact_child(A, k, p_int, b, side)
                w = scaled_roundings([c], r)
                if np.array_equal(_signs(A, slice(0, k + 1), w)[0], target[i]):
                    Wc[i] = w[0]
                else:
                    Wc[i] = w[0]
                    ex_rows[i] = c
            stats["exact_children"] = stats.get("exact_children", 0) + len(ex_rows)
            fpc = fpR[need] + side * z[k]
            # a parent on H_k itself (witness invalid now) takes its + child's place
            repl = hit[need] & (sk[np.maximum(parent[need], 0)] == 0) & (side == 1)
            for i in np.flatnonzero(repl).tolist():
                j = int(parent[need[i]])
                st.S[j, : k + 1] = target[i]
                st.W[j] = Wc[i]
                st.fp[j] = fpc[i]
                st.ex.pop(j, None)
                if i in ex_rows:
                    st.ex[j] = ex_rows[i]
            keep = ~repl
            new_S.append(target[keep])
            new_W.append(Wc[keep])
            new_fp.append(fpc[keep])
            new_ex.append({int(np.count_nonzero(keep[:i])): c for i, c in ex_rows.items()
                           if keep[i]})
        for j in orphans.tolist():  # self-heal: both sides of an unmatched chamber on H_k
            w = st.ex.pop(j, None)
            p_int = list(w) if w is not None else _float_point_on(st.W[j], None)
            for side in (1, -1):
                target = np.r_[st.S[j, :k], side].astype(np.int8)
                c = _exact_child(A, k, p_int, b, side)
                f = int(st.fp[j]) + side * int(z[k])
                if side == 1:  # takes the place of the old row (its witness is on H_k)
                    st.S[j, : k + 1], st.W[j], st.fp[j], st.ex[j] = target, 0.0, f, c
                else:
                    new_S.append(target[None, :])
                    new_W.append(np.zeros((1, r)))
                    new_fp.append(np.array([f], dtype=np.int64))
                    new_ex.append({0: c})
        for Sx, Wx, fx, ex in zip(new_S, new_W, new_fp, new_ex):
            idx = st.add(Sx, Wx, fx)
            for i, c in ex.items():
                st.ex[int(idx[i])] = c
        if on_found is not None:
            on_found(st.n)
    inv = np.empty(m, dtype=np.int64)
    inv[perm] = np.arange(m)
    n = st.n
    return _Res(st.S[:n][:, inv], st.W[:n], st.ex, complete)


def _dot_int(v: tuple[int, ...], B: list[list[int]]) -> list[int]:
    """``B^T v`` for an integer vector ``v`` (a point of the restriction) and basis rows B."""
    r = len(B[0])
    return [sum(vi * b[c] for vi, b in zip(v, B)) for c in range(r)]


def _float_point_on(w: np.ndarray, B: list[list[int]] | None) -> list[int]:
    """The exact integer point ``B^T w`` (``w`` a float row scaled to integers; a positive
    multiple of the point): ``w`` itself when ``B`` is None."""
    wi, _ = integer_rows(np.asarray(w, dtype=np.float64)[None, :])
    wi = wi[0]
    return list(wi) if B is None else _dot_int(tuple(wi), B)


def _float_children(A: _Arr, k: int, P: np.ndarray, side: int) -> np.ndarray:
    """Float candidates ``p + side t h_k`` (``t``: half-way to the next hyperplane along
    ``h_k``, measured in floats); checked exactly by the caller."""
    with np.errstate(all="ignore"):
        hk = unit_rows(A.F[k : k + 1])[0]
        Hn = unit_rows(A.F[:k])
        tc = -(P @ Hn.T) / (side * (Hn @ hk))
        tc = np.where(np.isfinite(tc) & (tc > 0), tc, np.inf).min(axis=1, initial=np.inf)
        scale = np.max(np.abs(P), axis=1) if P.size else np.zeros(0)
        t = np.where(np.isfinite(tc), tc / 2, scale)
        return P + side * t[:, None] * hk


def _exact_child(A: _Arr, k: int, p: list[int], b: np.ndarray, side: int) -> tuple[int, ...]:
    """The exact integer point ``M p + side h_k`` (module docstring): strictly on the side
    ``side`` of ``H_k`` and on the side of ``p`` of every other hyperplane ``H_i``, ``i < k``
    (``p``: an integer point with ``h_i . p != 0``; ``b``: the exact ``h_i . h_k``)."""
    a = A.Hi[:k].dot(np.array(p, dtype=object))
    M = 2 * max((abs(bi) // abs(ai) + 1 for ai, bi in zip(a.tolist(), b.tolist())), default=1)
    h = A.ints[k]
    return _primitive([M * pc + side * hc for pc, hc in zip(p, h)])


# ----------------------------------------------------------------------------- public


@dataclass
class IncrementalResult:
    """Chambers found by :func:`incremental_chambers`.

    Attributes
    ----------
    W : ndarray (p, r)
        Float witnesses, each exactly inside its chamber.
    exact_points : list of tuple of int
        Exact integer witnesses of the chambers no float witness was found for.
    complete : bool
        Every restriction was enumerated completely (its exact count reached), so the list
        has every chamber (the caller still compares with the independent count).
    stats : dict
        ``exact_walks`` (rank-3 restrictions that needed the exact walk), ``exact_children``.
    """

    W: np.ndarray
    exact_points: list[tuple[int, ...]]
    complete: bool
    stats: dict = field(default_factory=dict)


def incremental_chambers(
    hp: Hyperplanes,
    *,
    on_found: Callable[[int], None] | None = None,
    capacity: int = 0,
) -> IncrementalResult:
    """All chambers of the (reduced) arrangement ``hp``, exactly (rank >= 2: module
    docstring).

    ``hp.normals`` must be exact positive multiples of ``hp.ints`` (as
    :func:`verify.geometry.chamber_count.reduce_hyperplanes` gives).  ``on_found`` is called
    once per hyperplane with the number of chambers so far; ``capacity``: the expected number
    of chambers (preallocation only).

    Examples
    --------
    >>> import numpy as np
    >>> from verify.geometry.chamber_count import reduce_hyperplanes
    >>> res = incremental_chambers(reduce_hyperplanes(np.eye(4)))
    >>> len(res.W), res.exact_points, res.complete
    (16, [], True)
    """
    if hp.rank < 2:  # the whole space, or the two sides of one hyperplane
        W = np.zeros((1, 0)) if hp.rank == 0 or hp.m == 0 else np.array([[1.0], [-1.0]])
        return IncrementalResult(W, [], True, {})
    Hi = np.empty((hp.m, hp.rank), dtype=object)
    Hi[:] = [list(h) for h in hp.ints]
    A = _Arr(list(hp.ints), Hi, np.asarray(hp.normals, dtype=np.float64), True)
    stats: dict = {}
    res = _incremental(A, stats, on_found, capacity)
    return _split(res, stats)


def integer_arrangement_chambers(
    ints: list[tuple[int, ...]], *, method: str = "auto"
) -> IncrementalResult:
    """All chambers of distinct primitive integer normals ``ints`` spanning ``R^r`` (any
    size of integers): rank 3 by the great-circle walk, rank 2 by the exact angular order,
    otherwise (or with ``method="incremental"``) by deletion-restriction.

    Examples
    --------
    >>> res = integer_arrangement_chambers([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 2**80)])
    >>> len(res.W) + len(res.exact_points), res.complete
    (14, True)
    """
    r = len(ints[0])
    Hi = np.empty((len(ints), r), dtype=object)
    Hi[:] = [list(h) for h in ints]
    F, exact = _proxy(ints, r)
    A = _Arr(list(ints), Hi, F, exact)
    stats: dict = {}
    if method == "incremental" and r >= 2:
        res = _incremental(A, stats)
    else:
        res = {1: _rank1, 2: _rank2}.get(r, lambda a: _rank3(a, stats))(A) if r <= 3 else (
            _incremental(A, stats)
        )
    return _split(res, stats)


def _split(res: _Res, stats: dict) -> IncrementalResult:
    fl = [j for j in range(len(res.W)) if j not in res.ex]
    return IncrementalResult(
        res.W[fl], [res.ex[j] for j in sorted(res.ex)], res.complete, stats
    )
