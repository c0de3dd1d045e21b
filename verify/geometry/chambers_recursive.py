"""General-rank chamber enumeration by recursive restriction with float children: the former
``incremental`` method (replaced in :func:`verify.geometry.chambers.enumerate_chambers` by the
exact deletion-restriction of :mod:`verify.geometry.chambers_incremental`; kept for
:func:`chamber_points`, the face-enumeration fallback :func:`face_witnesses`, the lattice
search :func:`_lattice_point` and as the baseline of ``benchmarks/bench_chambers_rank4.py``).

The hyperplanes ``H_1, ..., H_m`` (exact primitive integer normals ``h_i``) are added one at a
time.  When ``H_k`` is added, the chambers it cuts are exactly the chambers of the arrangement
*restricted* to ``H_k``: in an exact integer basis ``B`` of ``h_k^perp`` (rows), the restricted
normals are ``g_i = B h_i`` (``i < k``), and a chamber ``sign(G v) = s`` of the restriction is
the trace on ``H_k`` of the unique old chamber with signs ``s`` that ``H_k`` splits.  The
restriction has rank one less, so it is enumerated recursively, down to the fast paths
(rank 2: sorted angles; rank 3: the extreme-ray walk of :mod:`verify.geometry.chambers`).

The basis is LLL-reduced (short integer vectors, so small-integer data stay exact in float64
and their exact degeneracies survive) or, when that would need more than 53 bits, a nearly
orthonormal integer basis (rounded orthonormal vectors projected exactly), which keeps nested
restrictions well conditioned.  Floats only *propose* points: every sub-witness has its signs
recomputed exactly against the integer normals ``G``, old chambers are matched by a random
integer fingerprint of the sign vector confirmed by exact signs, and each cut chamber gets two
children ``p +- t h_k`` (``p = B^T v`` in ``H_k``), checked with
:func:`verify.geometry.proven_linalg.exact_signs`, with an exact rational construction rounded by a
local
search where the float steps fail.

When the restricted normals need more than 53 bits, the sub-enumeration first runs on their
rounding; if its exactly verified chambers are fewer than Cover's bound and than the exact
count of the restriction (closed form, rank-3 lines or Zaslavsky, on the integers), it is
redone on the exact integer normals (exact rank, ray order, lines and signs), and as a last
resort from :func:`verify.geometry.faces.enumerate_faces`.  Chambers far thinner than float rounding
get their float witness from a short lattice vector (LLL, python-flint) near the exact
centre.  Nothing here decides completeness: the caller compares the number of distinct
verified chambers with the exact count.

Examples
--------
>>> import numpy as np
>>> from verify.geometry.chamber_count import reduce_hyperplanes
>>> X = np.array([np.eye(5)[i] - np.eye(5)[j] for i in range(5) for j in range(i)])
>>> W = incremental_witnesses(reduce_hyperplanes(X))
>>> S = np.sign(X[:, :4] @ W.T).T   # the braid arrangement: 5! chambers
>>> len({tuple(s) for s in S if np.all(s != 0)})
120
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize

from verify.checker import arithmetic
from verify.geometry.chamber_count import (
    Hyperplanes,
    _nullspace,
    _zaslavsky,
    cover_bound,
    exact_ray_order,
    rank3_lines,
    reduce_hyperplanes,
    sort_angles,
)
from verify.geometry.extreme_rays import extreme_rays
from verify.geometry.proven_linalg import (
    RankInfo,
    exact_signs,
    float_points_with_signs,
    integer_rows,
    unit_rows,
)

__all__ = ["incremental_witnesses", "chamber_points", "face_witnesses"]

_INT_PROOF = "exact integer rows (verify.checker.arithmetic.integer_rank)"

try:  # optional: LLL reduction of restriction bases
    import flint as _flint
except ImportError:  # pragma: no cover
    _flint = None
_BITLEN = np.frompyfunc(lambda v: abs(v).bit_length(), 1, 1)
_SHIFTED_FLOAT = np.frompyfunc(lambda v, e: float(v >> e) if e else float(v), 2, 1)


def chamber_points(G: np.ndarray, exact_rows: np.ndarray | None = None) -> np.ndarray:
    """Candidate witnesses in ``R^{G.shape[1]}`` of the chambers of the rows of ``G``
    (the rank-2/3 fast paths, :func:`incremental_witnesses` above).

    ``G`` holds float normals.  With ``exact_rows`` (the exact integer normals, an object
    array, of which ``G`` is a rounding), every decision is taken on the integers: exact
    hyperplanes and rank, exact rank-2 order and rank-3 lines, exact sign checks; when the
    verified chambers are fewer than the exact count, every chamber is added from the exact
    face enumeration of :mod:`verify.geometry.faces`.

    Examples
    --------
    >>> chamber_points(np.array([[1.0, 0.0], [0.0, 1.0]])).shape
    (4, 2)
    >>> G = np.array([[1, 0], [2**60 + 1, 2**60]], dtype=object)   # 2 lines, 4 chambers
    >>> len(chamber_points(G.astype(float), exact_rows=G))
    4
    """
    if exact_rows is not None:
        return _exact_chamber_points(exact_rows, extreme_rays)
    hp = reduce_hyperplanes(G)
    r = hp.rank
    if r == 0:
        Wr = np.zeros((1, 0))
    elif r == 1:
        Wr = np.array([[1.0], [-1.0]])
    elif r == 2:
        res = sort_angles(hp)
        Wr = incremental_witnesses(hp) if res is None else res[1]
    elif r == 3:
        lines = rank3_lines(hp)
        members = np.array([i for L in lines for i in L], dtype=np.int64)
        sizes = np.array([len(L) for L in lines], dtype=np.int64)
        Wr = extreme_rays(hp.normals, members, sizes)
        S = exact_signs(hp.Y, Wr)
        S = S[np.all(S != 0, axis=1)]
        if len(np.unique(S, axis=0)) != 2 + 2 * int(np.sum(sizes - 1)):  # Zaslavsky count
            Wr = np.vstack([Wr, extreme_rays(hp.normals, members, sizes, exact=hp)])
    else:
        Wr = incremental_witnesses(hp)
    W = np.zeros((len(Wr), G.shape[1]))
    W[:, list(hp.columns)] = Wr
    return W


def _exact_chamber_points(Gi: np.ndarray, extreme_rays: Any) -> np.ndarray:
    """:func:`chamber_points` decided on the exact integer rows ``Gi`` (object array)."""
    hp = _integer_hyperplanes(Gi)
    r, m = hp.rank, hp.m
    Hx = np.array([list(h) for h in hp.ints], dtype=object).reshape(m, r)
    if r <= 1:
        Wr, count = (np.zeros((1, 0)), 1) if r == 0 else (np.array([[1.0], [-1.0]]), 2)
    elif r == 2:  # exact angular order, exact bisectors of consecutive rays, rounded
        rays = [(-b, a) for a, b in hp.ints] + [(b, -a) for a, b in hp.ints]
        order = exact_ray_order(hp).tolist()
        pts = []
        for a, b in zip(order, order[1:] + order[:1]):
            (x1, y1), (x2, y2) = rays[a], rays[b]
            n1, n2 = abs(x1) + abs(y1), abs(x2) + abs(y2)
            pts.append([Fraction(x1, n1) + Fraction(x2, n2), Fraction(y1, n1) + Fraction(y2, n2)])
        Wr, count = float_points_with_signs(hp.ints, pts), 2 * m
    elif r == 3:
        lines = rank3_lines(hp)
        members = np.array([i for L in lines for i in L], dtype=np.int64)
        sizes = np.array([len(L) for L in lines], dtype=np.int64)
        count = 2 + 2 * int(np.sum(sizes - 1))
        Wr = extreme_rays(hp.normals, members, sizes)  # float walk first, checked exactly
        S = _int_signs(Hx, np.where(np.isfinite(Wr), Wr, 0.0))
        if len(np.unique(S[np.all(S != 0, axis=1)], axis=0)) < count:
            Wr = np.vstack([Wr, extreme_rays(hp.normals, members, sizes, exact=hp)])
    else:
        Wr, count = incremental_witnesses(hp), None
    Wr = np.where(np.isfinite(Wr), Wr, 0.0)
    S = _int_signs(Hx, Wr)
    found = len(np.unique(S[np.all(S != 0, axis=1)], axis=0))
    if count is None:  # Cover's bound is an upper bound: Zaslavsky only when below it
        count = found if found == cover_bound(m, r) else _exact_count(hp)
    if found < count:
        Wr = np.vstack([Wr, face_witnesses(hp.ints)])
    W = np.zeros((len(Wr), Gi.shape[1]))
    W[:, list(hp.columns)] = Wr
    return W


def _complete(Gi: np.ndarray, found: int) -> bool:
    """Whether ``found`` distinct verified chambers are all the chambers of the integer rows
    ``Gi``: Cover's bound (an upper bound) first, the exact count only below it."""
    if found == cover_bound(Gi.shape[0], Gi.shape[1]):
        return True
    return found >= _exact_count(_integer_hyperplanes(Gi))


def _exact_count(hp: Hyperplanes) -> int:
    """Chambers of exact integer hyperplanes (rank <= 2 closed form, rank-3 lines, Cover
    when reached, else Zaslavsky), all on the integers."""
    r, m = hp.rank, hp.m
    if r <= 2:
        return {0: 1, 1: 2, 2: 2 * m}[r]
    if r == 3:
        return 2 + 2 * sum(len(L) - 1 for L in rank3_lines(hp))
    return _zaslavsky(hp)[0]


def face_witnesses(
    ints: list[tuple[int, ...]],
    *,
    limit: int | None = None,
    max_search: int = 16,
    exact_points: list[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Float witnesses of every chamber of the integer normals ``ints`` (rank = length),
    from the exact face enumeration of :func:`verify.geometry.faces.enumerate_faces`.

    Each chamber's exact point is the sum of all its rays (L1-normalised, well centred); it
    is rounded and its signs checked exactly; for at most ``max_search`` chambers whose
    rounding fails, :func:`verify.geometry.proven_linalg.float_points_with_signs` searches nearby
    floats.
    Rows that still fail are returned as they are (the caller re-checks every witness).
    With the list ``exact_points``, the exact integer witness of the face enumeration is
    appended to it for every chamber whose float row fails (the caller checks those too).

    Examples
    --------
    >>> W = face_witnesses([(1, 0), (1, 1)])
    >>> sorted(map(tuple, np.sign(W @ np.array([[1, 0], [1, 1]]).T).astype(int).tolist()))
    [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    """
    from verify.geometry.faces import enumerate_faces

    r = len(ints[0]) if ints else 0
    if r == 0:
        return np.zeros((1, 0))
    fc = enumerate_faces([list(h) for h in ints], limit=limit)
    rays, chambers = fc.of_dim(1), fc.of_dim(r)
    Rs, Cs = fc.signs[rays].astype(np.int8), fc.signs[chambers].astype(np.int8)
    pts = []
    for i in range(len(chambers)):
        p = [Fraction(0)] * r
        for j in np.flatnonzero(~np.any((Rs * Cs[i]) < 0, axis=1)).tolist():
            w = fc.witnesses[int(rays[j])]
            n1 = sum(abs(v) for v in w)
            p = [a + Fraction(v, n1) for a, v in zip(p, w)]
        big = max(abs(q) for q in p)
        pts.append([q / big for q in p])
    out = np.array([[float(q) for q in p] for p in pts]).reshape(len(pts), r)
    Hx = np.array([list(h) for h in ints], dtype=object).reshape(len(ints), r)
    bad = np.flatnonzero(np.any(_int_signs(Hx, out) != Cs, axis=1))
    for i in bad.tolist():  # chambers thinner than the rounding: short lattice vectors
        A = [[int(sg) * v for v in h] for sg, h in zip(Cs[i].tolist(), ints)]
        u = _lattice_point(A, pts[i])
        if u is not None:
            out[i] = u
    bad = np.flatnonzero(np.any(_int_signs(Hx, out) != Cs, axis=1))
    if exact_points is not None:  # exact integer points instead of a float search
        exact_points.extend(tuple(int(v) for v in fc.witnesses[int(chambers[i])]) for i in bad)
        return out
    for i in bad[:max_search].tolist():
        try:
            out[i] = float_points_with_signs(list(ints), [pts[i]])[0]
        except OverflowError:  # the search overflowed: keep the rounding (rejected later)
            continue
    return out


def _lattice_point(A: list[list[int]], p: list[Fraction], bits: int = 50) -> np.ndarray | None:
    """A float point ``w`` with ``A w > 0`` exactly, near the ray of the exact interior
    point ``p``, or None (``w = D v``: integers ``|v_i| < 2**53`` times powers of two).

    With ``D`` the powers of two of the coordinates of ``p``, Babai rounding in an
    LLL-reduced basis (python-flint) of the lattice of the vectors ``(v, A' v)`` (``A'``:
    ``A D``, each row scaled by a power of two to about 60 bits), aimed at ``(t, A' t)``
    (``t = D^-1 p`` scaled to about ``2**bits``): integer points with ``A D v`` close to
    ``A D t`` even where
    the chamber is far thinner than the float rounding of ``p``.  Checked exactly.
    """
    if _flint is None or not A:
        return None
    r, m = len(p), len(A)
    # per-coordinate powers of two (u = D v): coordinates of very different magnitudes
    top = max(abs(q) for q in p)
    ex = [_log2(abs(q) / top) if q else 0 for q in p]
    lo = min(ex)
    A = [[v << (e - lo) for v, e in zip(row, ex)] for row in A]
    t = [q / top * Fraction(2) ** (bits - e) for q, e in zip(p, ex)]  # each about 2**bits
    shifts = [max(abs(v) for v in row).bit_length() - 60 for row in A]  # rows to ~60 bits
    Aw = [[(v >> sh) if sh > 0 else (v << -sh) for v in row] for row, sh in zip(A, shifts)]
    basis = [[int(i == j) for j in range(r)] + [Aw[n][i] for n in range(m)] for i in range(r)]
    L, T = _flint.fmpz_mat(basis).lll(transform=True)
    Lf = np.array([[float(int(x)) for x in row] for row in L.tolist()])
    Tl = [[int(x) for x in row] for row in T.tolist()]
    tv = t + [sum(Fraction(Aw[n][i]) * t[i] for i in range(r)) for n in range(m)]
    with np.errstate(all="ignore"):
        c0 = np.linalg.lstsq(Lf.T, np.array([float(q) for q in tv]), rcond=None)[0]
    if not np.all(np.isfinite(c0)) or np.max(np.abs(c0), initial=0.0) >= 2.0**62:
        return None
    base = np.round(c0).astype(np.int64).tolist()
    for d in itertools.product((0, -1, 1), repeat=r):
        c = [b + e for b, e in zip(base, d)]
        u = [sum(c[k] * Tl[k][i] for k in range(r)) for i in range(r)]
        if all(abs(x) < 1 << 53 for x in u) and all(
            sum(a * x for a, x in zip(row, u)) > 0 for row in A
        ):
            with np.errstate(all="ignore"):
                # centre the exponents (a positive scaling): from -lo/2 down to lo/2
                w = np.ldexp(np.array(u, dtype=np.float64), np.array(ex) - bits - lo // 2)
            if all(
                Fraction(float(a)) == Fraction(x) * Fraction(2) ** (e - bits - lo // 2)
                for a, x, e in zip(w, u, ex)
            ):
                return w
    return None


def _log2(q: Fraction) -> int:
    """``floor(log2 q)`` of a positive rational."""
    e = q.numerator.bit_length() - q.denominator.bit_length()
    return e if Fraction(2) ** e <= q else e - 1


def _integer_hyperplanes(Gi: np.ndarray) -> Hyperplanes:
    """:class:`~verify.geometry.chamber_count.Hyperplanes` of exact integer rows: exact rank,
    columns and
    primitive normals; ``Y`` and ``normals`` are float proxies (each row scaled by a power of
    two and rounded; exact when the integers have at most 53 bits)."""
    rows = [[int(v) for v in row] for row in Gi]
    k, c = Gi.shape
    rank, prow, cols = arithmetic.integer_rank(rows) if k and c else (0, [], [])
    cols = sorted(cols)
    index = np.full(k, -1, dtype=np.int64)
    orient = np.zeros(k, dtype=np.int8)
    keys: dict[tuple[int, ...], int] = {}
    ints: list[tuple[int, ...]] = []
    for n, row in enumerate(rows):
        y = [row[j] for j in cols]
        g = math.gcd(*y) if y else 0
        if g == 0:
            continue
        sg = 1 if next(v for v in y if v) > 0 else -1
        key = tuple(sg * v // g for v in y)
        if key not in keys:
            keys[key] = len(ints)
            ints.append(key)
        index[n], orient[n] = keys[key], sg
    Y = _float_proxy(np.array([[row[j] for j in cols] for row in rows], dtype=object), k, rank)
    normals = _float_proxy(np.array([list(h) for h in ints], dtype=object), len(ints), rank)
    info = RankInfo(rank, tuple(sorted(prow)), tuple(cols), _INT_PROOF)
    return Hyperplanes(Y, normals, ints, index, orient, info)


def _float_proxy(A: np.ndarray, n: int, c: int) -> np.ndarray:
    """Rows of an integer object array scaled by powers of two (max about 1) and rounded."""
    A = A.reshape(n, c)
    if not A.size:
        return np.zeros((n, c))
    bits = _BITLEN(A).astype(np.int64)
    top = bits.max(axis=1)
    if top.max() <= 53:
        return A.astype(np.float64)
    sh = np.maximum(top - 1000, 0)
    F = _SHIFTED_FLOAT(A, sh[:, None] + np.zeros_like(bits)).astype(np.float64)
    return np.ldexp(F, -(top - sh)[:, None])


def _int_signs(Hx: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Exact signs of ``Hx @ w`` (integer object rows) for each float row ``w`` of ``W``."""
    W = np.asarray(W, dtype=np.float64).reshape(-1, Hx.shape[1])
    if not len(W) or not Hx.shape[0]:
        return np.zeros((len(W), Hx.shape[0]), dtype=np.int8)
    Wi, _ = integer_rows(W)
    S = Hx.dot(np.array(Wi, dtype=object).reshape(len(Wi), Hx.shape[1]).T)
    return ((S > 0).astype(np.int8) - (S < 0).astype(np.int8)).T.reshape(len(W), Hx.shape[0])


def incremental_witnesses(
    hp: Hyperplanes, *, on_found: Callable[[int], None] | None = None
) -> np.ndarray:
    """Witnesses of all chambers, adding hyperplanes one at a time, without LPs.

    The chambers cut by ``H_k`` correspond to the chambers of the restriction of the first
    ``k`` hyperplanes to ``H_k`` (normals ``B h_i`` for an exact integer basis ``B`` of
    ``H_k``), enumerated recursively with the rank-2/3 fast paths.  Their sign vectors are
    computed exactly; each cut chamber gets two witnesses ``p +- t h_k`` (``p`` in ``H_k``),
    checked exactly, with an exact rational construction where the float one fails.
    ``on_found`` (e.g. a progress bar) is called once per hyperplane with the number of
    chambers of the hyperplanes added so far (it grows to the number of chambers).
    """
    H, ints = hp.normals, hp.ints
    m, r = H.shape
    if m == 0:
        return np.zeros((1, r))
    # chambers are held as witnesses plus a fingerprint of their sign vector (a random
    # integer combination); a fingerprint match is confirmed by exact signs of the witness
    z = np.random.default_rng(20220101).integers(-(1 << 40), 1 << 40, size=m, dtype=np.int64)
    fp = np.array([z[0], -z[0]], dtype=np.int64)
    Ho = np.array([list(h) for h in ints], dtype=object).reshape(m, r)
    hbits = max(abs(v).bit_length() for h in ints for v in h)
    Hi = Ho.astype(np.int64) if hbits < 62 else Ho
    proxies = hp.rank_info.proof == _INT_PROOF and hbits > 53  # normals rounded: use ints

    def signs(lo: int, hi: int, W: np.ndarray) -> np.ndarray:
        W = np.where(np.all(np.isfinite(W), axis=1)[:, None], W, 0.0)  # overflow: rejected
        return _int_signs(Ho[lo:hi], W) if proxies else exact_signs(H[lo:hi], W)

    W = np.stack([H[0], -H[0]])
    for k in range(1, m):
        s = signs(k, k + 1, W)[:, 0]
        # a short integer basis keeps small-integer data exact in floats (so exact
        # degeneracies survive); otherwise a nearly orthonormal one keeps the geometry
        B = _short_basis(_nullspace([ints[k]], r))
        bb = max(abs(v).bit_length() for b in B for v in b)
        if hbits + bb + r.bit_length() > 53:
            B = _orthogonal_basis(ints[k], H[k])
            bb = max(abs(v).bit_length() for b in B for v in b)
        exact_rows = None
        if hbits + bb + r.bit_length() <= 53:  # restricted normals exact in int64 and float
            G = Hi[:k] @ np.array(B, dtype=np.int64).T
            Gf = G.astype(np.float64)
        else:  # exact in Python ints, rounded row by row (no cancellation) to guide the
            # sub-enumeration, whose signs are then recomputed exactly from G
            G = Ho[:k].dot(np.array(B, dtype=object).T)
            bits = _BITLEN(G).astype(np.int64)
            sh = np.maximum(bits.max(axis=1) - 1000, 0)[:, None] + np.zeros_like(bits)
            Gf = _SHIFTED_FLOAT(G, sh).astype(np.float64)
            exact_rows = G
        V = chamber_points(Gf)
        S = _int_signs(G.astype(object), V)
        live = np.all(S != 0, axis=1)
        n_found = len(np.unique(S[live].astype(np.int64) @ z[:k]))  # <= distinct rows
        if exact_rows is not None and not _complete(exact_rows, n_found):
            V2 = chamber_points(Gf, exact_rows)  # decided on the exact integer normals
            V, S = np.vstack([V, V2]), np.vstack([S, _int_signs(exact_rows, V2)])
            live = np.all(S != 0, axis=1)
        S, V = S[live], V[live]
        order = np.argsort(fp, kind="stable")
        fpS = S.astype(np.int64) @ z[:k]
        cand = order[np.minimum(np.searchsorted(fp[order], fpS), len(fp) - 1)]
        hit = fp[cand] == fpS
        hit[hit] = np.all(signs(0, k, W[cand[hit]]) == S[hit], axis=1)
        parent, first = np.unique(cand[hit], return_index=True)
        V, S = V[hit][first], S[hit][first]
        V = _recenter(G, Gf, V, S)
        keep = np.ones(len(W), dtype=bool)
        keep[parent] = False
        keep &= s != 0
        new_fp = [fp[keep] + s[keep].astype(np.int64) * z[k]]
        new_w = [W[keep]]
        E = max(0, max(abs(v).bit_length() for b in B for v in b) - 400)  # common scale
        with np.errstate(all="ignore"):  # huge-range sub-witnesses may overflow: checked
            P = V @ np.array([[float(Fraction(v, 1 << E)) for v in b] for b in B]).reshape(r - 1, r)
        for side in (1, -1):
            target = np.hstack([S, np.full((len(S), 1), side, dtype=np.int8)])
            Wc = P.copy()
            todo = np.arange(len(P))
            scale = np.max(np.abs(P), axis=1) / np.max(np.abs(H[k]))
            with np.errstate(all="ignore"):  # step to half-way to the next hyperplane along h
                hk = unit_rows(H[k : k + 1])[0]
                tc = -(P @ unit_rows(H[:k]).T) / (side * (unit_rows(H[:k]) @ hk))
                tc = np.where(np.isfinite(tc) & (tc > 0), tc, np.inf).min(axis=1, initial=np.inf)
                mid = np.where(np.isfinite(tc), tc / 2, np.max(np.abs(P), axis=1))
            for t in (0.5, 2.0**-20, 2.0**-36, 2.0**-50):
                step = mid[todo] if t == 0.5 else t * scale[todo] * np.max(np.abs(H[k]))
                with np.errstate(all="ignore"):
                    cand_w = P[todo] + side * step[:, None] * hk
                ok = np.all(signs(0, k + 1, cand_w) == target[todo], axis=1)
                Wc[todo[ok]] = cand_w[ok]
                todo = todo[~ok]
            good = np.ones(len(P), dtype=bool)
            if todo.size:
                try:
                    Wc[todo] = _exact_children(ints, k, B, V[todo], side)
                except OverflowError:  # rounding search out of float range: dropped below
                    Wc[todo] = 0.0
                good[todo] = np.all(signs(0, k + 1, Wc[todo]) == target[todo], axis=1)
            new_fp.append(fp[parent[good]] + side * z[k])
            new_w.append(Wc[good])
        fp, W = np.concatenate(new_fp), np.vstack(new_w)
        if on_found is not None:
            on_found(len(W))
    return W


def _recenter(G: np.ndarray, Gf: np.ndarray, V: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Replace badly centred sub-witnesses (relative margin < 1e-9, e.g. found in a spurious
    thin chamber of the rounded restriction) by a max-margin LP point of the exact chamber
    ``sign(G v) = S``, kept only when its exact signs match."""
    with np.errstate(all="ignore"):
        Gn = unit_rows(Gf)
        marg = np.min(np.abs(unit_rows(V) @ Gn.T), axis=1) if len(V) else np.zeros(0)
    for j in np.flatnonzero(~(marg > 1e-9)).tolist():
        k, c = Gn.shape
        A_ub = np.hstack([-(S[j][:, None] * Gn), np.ones((k, 1))])
        obj = np.r_[np.zeros(c), -1.0]
        bounds = [(-1.0, 1.0)] * c + [(None, 1.0)]
        res = scipy.optimize.linprog(obj, A_ub=A_ub, b_ub=np.zeros(k), bounds=bounds)
        if res.status != 0 or res.x is None or not np.all(np.isfinite(res.x)):
            continue
        w = np.asarray(res.x[:c], dtype=np.float64)
        wi = np.array(integer_rows(w[None, :])[0][0], dtype=object)
        sg = G.astype(object).dot(wi)
        if np.array_equal((sg > 0).astype(np.int8) - (sg < 0).astype(np.int8), S[j]):
            V[j] = w
    return V


def _short_basis(B: list[list[int]]) -> list[list[int]]:
    """LLL-reduced integer basis of the same subspace (python-flint), else ``B``."""
    if _flint is None or len(B) < 2:
        return B
    return [[int(v) for v in row] for row in _flint.fmpz_mat(B).lll().tolist()]


def _orthogonal_basis(h: tuple[int, ...], hf: np.ndarray) -> list[list[int]]:
    """Integer basis of ``h^perp``, nearly orthonormal up to scale (so restrictions keep the
    Euclidean geometry of the data and nested restrictions do not become ill-conditioned):
    rounded float orthonormal vectors ``q`` projected exactly, ``(h.h) q - (q.h) h``."""
    r = len(h)
    Q = scipy.linalg.null_space(unit_rows(hf[None, :]))
    hh = sum(v * v for v in h)
    B = []
    for q in Q.T:
        qi = [round(float(x) * 2.0**40) for x in q]
        qh = sum(a * b for a, b in zip(qi, h))
        B.append([hh * a - qh * c for a, c in zip(qi, h)])
    g = math.gcd(*(v for b in B for v in b))  # one common factor: keeps the geometry
    B = [[v // g for v in b] for b in B] if g > 1 else B
    if arithmetic.integer_rank(B)[0] != r - 1:  # cannot happen for sane floats: exact fallback
        return _nullspace([h], r)
    return B


def _exact_children(
    ints: list[tuple[int, ...]], k: int, B: list[list[int]], V: np.ndarray, side: int
) -> np.ndarray:
    """Exact rational points ``p + side * delta * h_k`` (``p = B^T v`` in ``H_k``) rounded to
    floats with the same signs (see
    :func:`verify.geometry.proven_linalg.float_points_with_signs`)."""
    h = ints[k]
    pts = []
    for v in V:
        p = [sum(Fraction(float(x)) * b[c] for x, b in zip(v, B)) for c in range(len(h))]
        delta = Fraction(1)
        for g in ints[:k]:
            gh = sum(a * b for a, b in zip(g, h))
            if gh:
                delta = min(delta, abs(sum(a * q for a, q in zip(g, p))) / (2 * abs(gh)))
        pts.append([q + side * delta * hc for q, hc in zip(p, h)])
    return float_points_with_signs(list(ints[: k + 1]), pts)
