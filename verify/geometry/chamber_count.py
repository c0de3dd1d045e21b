"""Exact chamber counts of central hyperplane arrangements ``{u : x_n . u = 0}``.

The data are reduced exactly to ``Y = X[:, J]`` (``J``: columns of a proven nonsingular
minor, so ``rank Y = rank X = r`` and the chambers correspond), then the rows are grouped
into distinct hyperplanes exactly (primitive integer normals: parallel, antiparallel and
repeated rows give one hyperplane, zero rows none).  The count is then

* rank 0: 1; rank 1: 2; rank 2: ``2 m`` (``m`` distinct lines through the origin);
* Cover (1965): ``2 sum_{k<r} C(m-1, k)`` after an exact check that every ``r`` of the ``m``
  normals are independent (float determinants with rigorous bounds, exact fallback);
* otherwise Zaslavsky: ``sum_F |mu(0, F)|`` over the lattice of flats, computed with exact
  integer arithmetic; in rank 3 this is ``2 + 2 sum_L (m_L - 1)`` over the lines ``L``.

Examples
--------
>>> import numpy as np
>>> count_chambers(np.array([[1.0, 0.0], [0.0, 1.0], [-2.0, 0.0]]))[0]
4
>>> X = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0]])
>>> count, proof = count_chambers(X)
>>> count, proof["method"]
(12, 'zaslavsky')
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.errors import EnumerationLimitError
from verify.geometry.proven_linalg import (
    RankInfo,
    _gamma,
    _int_det,
    _unit2,
    as_float_matrix,
    exact_rank,
    exact_signs_paired,
    integer_rows,
    unit_rows,
)
from verify.progress import progress

__all__ = [
    "approx_int",
    "Hyperplanes",
    "reduce_hyperplanes",
    "count_chambers",
    "cover_bound",
    "rank3_lines",
    "exact_cyclic_order",
    "exact_ray_order",
    "sector_witnesses",
    "half_plane_index",
    "sort_angles",
]

_MAX_LISTED_FLATS = 2000


@dataclass(frozen=True)
class Hyperplanes:
    """Exact reduction of data ``X`` to its distinct hyperplanes.

    Attributes
    ----------
    Y : ndarray (N, r)
        ``X[:, columns]``: same chambers as ``X``; ``X u = Y u[columns]`` when ``u`` is zero
        outside ``columns``.
    normals : ndarray (m, r)
        One float normal per distinct hyperplane (a data row times its orientation).
    ints : list of tuple of int
        Primitive integer normals, positively proportional to ``normals``.
    index : ndarray (N,)
        Hyperplane of each row, ``-1`` for zero rows.
    orient : ndarray (N,) int8
        ``+1``/``-1``: row ``n`` is a positive multiple of ``orient[n] * normals[index[n]]``;
        ``0`` for zero rows.
    rank_info : RankInfo
        The proven rank of ``X``.
    """

    Y: np.ndarray
    normals: np.ndarray
    ints: list[tuple[int, ...]]
    index: np.ndarray
    orient: np.ndarray
    rank_info: RankInfo

    @property
    def rank(self) -> int:
        return self.rank_info.rank

    @property
    def columns(self) -> tuple[int, ...]:
        return self.rank_info.cols

    @property
    def m(self) -> int:
        return len(self.ints)


def reduce_hyperplanes(X: Any, *, rank_info: RankInfo | None = None) -> Hyperplanes:
    """Group the rows of ``X`` into distinct hyperplanes exactly.

    Examples
    --------
    >>> hp = reduce_hyperplanes(np.array([[1.0, 2.0], [-0.5, -1.0], [0.0, 0.0], [1.0, 0.0]]))
    >>> hp.m, hp.index.tolist(), hp.orient.tolist()
    (2, [0, 0, -1, 1], [1, -1, 0, 1])
    """
    X = as_float_matrix(X)
    info = exact_rank(X) if rank_info is None else rank_info
    Y = np.ascontiguousarray(X[:, list(info.cols)])
    N = X.shape[0]
    index = np.full(N, -1, dtype=np.int64)
    orient = np.zeros(N, dtype=np.int8)
    rows, _ = integer_rows(Y) if Y.shape[1] else ([[] for _ in range(N)], None)
    A = _as_int64(rows, Y.shape[1])
    ints: list[tuple[int, ...]]
    if A is not None and not np.any(A):
        ints, first = [], []
    elif A is not None:  # vectorised: primitive rows, sign-normalised, deduplicated
        G = np.gcd.reduce(A, axis=1) if A.shape[1] else np.zeros(N, dtype=np.int64)
        live = np.flatnonzero(G != 0)
        Al = A[live]
        s = np.sign(Al[np.arange(len(live)), np.argmax(Al != 0, axis=1)]).astype(np.int8)
        K = Al // G[live, None] * s[:, None]
        uniq, first_pos, inv = np.unique(K, axis=0, return_index=True, return_inverse=True)
        rank_of = np.empty(len(uniq), dtype=np.int64)
        by_first = np.argsort(first_pos)
        rank_of[by_first] = np.arange(len(uniq))
        index[live] = rank_of[inv.reshape(-1)]
        orient[live] = s
        first = live[np.sort(first_pos)].tolist()
        ints = [tuple(v) for v in uniq[by_first].tolist()]
    else:
        keys: dict[tuple[int, ...], int] = {}
        ints, first = [], []
        for n, row in enumerate(rows):
            g = math.gcd(*row) if row else 0
            if g == 0:
                continue
            sg = 1 if next(v for v in row if v) > 0 else -1
            key = tuple(sg * v // g for v in row)
            k = keys.get(key)
            if k is None:
                k = keys[key] = len(ints)
                ints.append(key)
                first.append(n)
            index[n] = k
            orient[n] = sg
    normals = (Y[first] * orient[first][:, None]) if first else np.zeros((0, Y.shape[1]))
    return Hyperplanes(Y, normals, ints, index, orient, info)


def _as_int64(rows: list[list[int]], d: int) -> np.ndarray | None:
    """The integer rows as an int64 array when every entry is below 2**62, else None."""
    try:
        A = np.array(rows, dtype=np.int64).reshape(len(rows), d)
    except OverflowError:
        return None
    ok = not A.size or (int(A.max()) < 1 << 62 and int(A.min()) > -(1 << 62))
    return A if ok else None


def approx_int(n: int) -> str:
    """A count for people: exact up to 15 digits, else ``"about 1.73e+1029"`` (any size;
    no int-to-string conversion of the whole number).

    Examples
    --------
    >>> approx_int(200000), approx_int(2355463369918080), approx_int(7 * 10**5000)
    ('200000', 'about 2.36e+15', 'about 7e+5000')
    """
    if abs(n) < 10**15:
        return str(n)
    drop = max(0, int((abs(n).bit_length() - 60) * math.log10(2)))
    head = abs(n) // 10**drop  # at most ~19 digits
    digits = len(str(head)) - 1
    mant = head / 10**digits
    sign = "-" if n < 0 else ""
    text = f"{mant:.3g}"
    if text == "10":
        text, digits = "1", digits + 1
    return f"about {sign}{text}e+{digits + drop}"


def cover_bound(m: int, r: int) -> int:
    """Cover's count ``2 sum_{k<r} C(m-1, k)``: an upper bound, exact in general position.

    Examples
    --------
    >>> cover_bound(400, 3)
    159602
    """
    if r == 0 or m == 0:
        return 1
    return 2 * sum(math.comb(m - 1, k) for k in range(r))


# ----------------------------------------------------------------------------- general position


def _triples_general_position(H: np.ndarray) -> tuple[bool, int, int]:
    """Exact check that all 3x3 minors of ``H`` (m x 3) are nonzero.

    Returns ``(ok, n_float, n_exact)``: decided by the rigorous float bound, decided exactly.
    A rigorous bound: ``|fl(a.(b x c)) - det| <= gamma_6 perm(|a|,|b|,|c|)`` plus underflow.
    """
    H = _unit2(H)
    A = np.abs(H)
    m = H.shape[0]
    g = 2.0 * _gamma(6)
    n_float = n_exact = 0
    for i in range(m - 2):
        h, a = H[i], A[i]
        Hs, As = H[i + 1 :], A[i + 1 :]
        P = np.empty((len(Hs), 3))  # h x c for every later c
        Pa = np.empty((len(Hs), 3))
        with np.errstate(all="ignore"):  # inf / NaN end up undecided, hence exact
            P[:, 0] = h[1] * Hs[:, 2] - h[2] * Hs[:, 1]
            P[:, 1] = h[2] * Hs[:, 0] - h[0] * Hs[:, 2]
            P[:, 2] = h[0] * Hs[:, 1] - h[1] * Hs[:, 0]
            Pa[:, 0] = a[1] * As[:, 2] + a[2] * As[:, 1]
            Pa[:, 1] = a[2] * As[:, 0] + a[0] * As[:, 2]
            Pa[:, 2] = a[0] * As[:, 1] + a[1] * As[:, 0]
            D = P @ Hs.T  # D[j, k] = det(H[i], H[i+1+j], H[i+1+k])
            B = Pa @ As.T
            B *= g
            B += 1e-300
            und = ~(np.abs(D) > B)
        und = np.triu(und, 1)
        jj, kk = np.nonzero(und)
        n_float += len(Hs) * (len(Hs) - 1) // 2 - len(jj)
        for j, k in zip(jj.tolist(), kk.tolist()):
            n_exact += 1
            if _int_det(H[[i, i + 1 + j, i + 1 + k]]) == 0:
                return False, n_float, n_exact
    return True, n_float, n_exact


def _subsets_general_position(H: np.ndarray, r: int) -> tuple[bool, int, int]:
    """Exact check that all ``r x r`` minors of ``H`` are nonzero (batched rigorous inverses)."""
    H = _unit2(H)
    m = H.shape[0]
    g = _gamma(r + 2)
    eye = np.eye(r)
    n_float = n_exact = 0
    combos = itertools.combinations(range(m), r)
    while True:
        idx = np.array(list(itertools.islice(combos, 20000)), dtype=np.int64)
        if idx.size == 0:
            break
        A = H[idx]
        sign, logdet = np.linalg.slogdet(A)
        good = (sign != 0) & np.isfinite(logdet) & (logdet > -30 * r)
        dec = np.zeros(len(idx), dtype=bool)
        if good.any():
            Ag = A[good]
            with np.errstate(all="ignore"):
                R = np.linalg.inv(Ag)
                E = eye - R @ Ag
                B = np.abs(R) @ np.abs(Ag)
                rows = np.abs(E).sum(axis=2) + g * B.sum(axis=2) + 1e-300
                bound = 2.0 * rows.max(axis=1)
            dec[np.flatnonzero(good)] = np.isfinite(bound) & (bound < 1.0)
        n_float += int(dec.sum())
        for sub in idx[~dec]:
            n_exact += 1
            if _int_det(H[sub]) == 0:
                return False, n_float, n_exact
    return True, n_float, n_exact


# ----------------------------------------------------------------------------- rank 3 lines


def _primitive(v: tuple[int, int, int]) -> tuple[int, int, int]:
    g = math.gcd(*v)
    a, b, c = (x // g for x in v)
    if a < 0 or (a == 0 and (b < 0 or (b == 0 and c < 0))):
        a, b, c = -a, -b, -c
    return a, b, c


def rank3_lines(hp: Hyperplanes) -> list[tuple[int, ...]]:
    """The intersection lines of a rank-3 arrangement, each as the sorted tuple of the
    hyperplanes through it, found exactly (primitive integer cross products).

    Examples
    --------
    >>> X = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0]])
    >>> rank3_lines(reduce_hyperplanes(X))
    [(0, 1, 3), (0, 2), (1, 2), (2, 3)]
    """
    lines: dict[tuple[int, int, int], set[int]] = {}
    H = hp.ints
    for i in range(hp.m):
        a0, a1, a2 = H[i]
        for j in range(i + 1, hp.m):
            b0, b1, b2 = H[j]
            key = _primitive((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))
            lines.setdefault(key, set()).update((i, j))
    return sorted(tuple(sorted(v)) for v in lines.values())


def _cross(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def exact_cyclic_order(n: tuple[int, ...], vecs: list[tuple[int, ...]]) -> list[int]:
    """Indices of integer 3-vectors ``vecs`` (all orthogonal to ``n``, pairwise distinct
    directions) in counter-clockwise angular order around ``n``, starting at ``vecs[0]``.

    Decided with exact integer determinants ``det(n, v, w)``.

    Examples
    --------
    >>> exact_cyclic_order((0, 0, 1), [(1, 0, 0), (0, -1, 0), (-1, 0, 0), (1, 1, 0)])
    [0, 3, 2, 1]
    """
    r = vecs[0]

    def det(v: tuple[int, ...], w: tuple[int, ...]) -> int:
        c = _cross(v, w)
        return n[0] * c[0] + n[1] * c[1] + n[2] * c[2]

    def half(v: tuple[int, ...]) -> int:
        d = det(r, v)
        return 0 if d > 0 or (d == 0 and sum(x * y for x, y in zip(r, v)) > 0) else 1

    halves = [half(v) for v in vecs]

    def cmp(i: int, j: int) -> int:
        if halves[i] != halves[j]:
            return halves[i] - halves[j]
        d = det(vecs[i], vecs[j])
        return -1 if d > 0 else (1 if d < 0 else 0)

    return sorted(range(len(vecs)), key=functools.cmp_to_key(cmp))


def _det2_signs(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Exact signs of ``det(a_i, b_i) = a_i . (b_i1, -b_i0)``."""
    return exact_signs_paired(A, np.stack([B[:, 1], -B[:, 0]], axis=1))


def half_plane_index(R: np.ndarray) -> np.ndarray:
    """0 for angles in [0, pi), 1 for [pi, 2 pi): exact float comparisons."""
    return ((R[:, 1] < 0) | ((R[:, 1] == 0) & (R[:, 0] < 0))).astype(np.int8)


def sector_witnesses(rays: np.ndarray, order: np.ndarray) -> np.ndarray | None:
    """Prove exactly that ``rays[order]`` is strictly increasing in angle on [0, 2 pi) with
    consecutive turns < pi, and return one witness strictly inside each sector (or None)."""
    R = rays[order]
    Rn = np.roll(R, -1, axis=0)
    half = half_plane_index(R)
    if np.any(np.diff(half) < 0) or not np.all(_det2_signs(R, Rn) > 0):
        return None
    unit = unit_rows(R)
    W = unit + np.roll(unit, -1, axis=0)
    bad = np.flatnonzero((_det2_signs(R, W) <= 0) | (_det2_signs(W, Rn) <= 0))
    for j in bad.tolist():  # thin sectors: exact rational bisector, rounded, rechecked
        a = [Fraction(float(v)) for v in R[j]]
        b = [Fraction(float(v)) for v in Rn[j]]
        na, nb = abs(a[0]) + abs(a[1]), abs(b[0]) + abs(b[1])
        W[j] = [float(a[i] / na + b[i] / nb) for i in range(2)]
    if bad.size:
        Wb, Rb, Rnb = W[bad], R[bad], Rn[bad]
        if not (np.all(_det2_signs(Rb, Wb) > 0) and np.all(_det2_signs(Wb, Rnb) > 0)):
            return None
    return W


def exact_ray_order(hp: Hyperplanes) -> np.ndarray:
    """Angular order on [0, 2 pi) of the rays ``+-(-h_2, h_1)`` of a rank-2 arrangement
    (ray ``k`` and ``m + k`` for hyperplane ``k``), by exact integer comparisons.

    Examples
    --------
    >>> exact_ray_order(reduce_hyperplanes(np.array([[1.0, 0.0], [0.0, 1.0]]))).tolist()
    [3, 0, 1, 2]
    """
    m = hp.m
    rays = [(-b, a) for a, b in hp.ints] + [(b, -a) for a, b in hp.ints]

    def key_half(i: int) -> int:
        x, y = rays[i]
        return 0 if (y > 0 or (y == 0 and x > 0)) else 1

    def cmp(i: int, j: int) -> int:
        hi, hj = key_half(i), key_half(j)
        if hi != hj:
            return hi - hj
        (x1, y1), (x2, y2) = rays[i], rays[j]
        det = x1 * y2 - y1 * x2
        return -1 if det > 0 else (1 if det < 0 else 0)

    return np.array(sorted(range(2 * m), key=functools.cmp_to_key(cmp)), dtype=np.int64)


def sort_angles(hp: Hyperplanes) -> tuple[np.ndarray, np.ndarray] | None:
    """Chambers of a rank-2 arrangement: the ``2m`` sectors between consecutive rays.

    The rays ``+-(-h_2, h_1)`` are sorted by float angle; then it is proven exactly that the
    order is strictly increasing in angle (half-plane index and 2x2 determinant signs), that
    consecutive rays turn by less than pi, and that every witness lies strictly between its
    two rays.  The sign of ``h_k . w_j`` then follows combinatorially (``h_k . w > 0`` iff
    ``w`` lies in the half-turn from ``-rho_k`` to ``rho_k``), so the patterns are built without
    an ``O(p N)`` sign computation.  Returns ``(packed patterns, witnesses in R^2)`` or None
    when a check fails.
    """
    H = hp.normals
    m = len(H)
    rho = np.stack([-H[:, 1], H[:, 0]], axis=1)
    rays = np.vstack([rho, -rho])
    unit = unit_rows(rays)
    hf = half_plane_index(rays)
    theta = np.arctan2(unit[:, 1], unit[:, 0])
    theta = np.where((hf == 1) & (theta > 0), -np.pi, theta)  # half 1 -> [-pi, 0)
    order = np.lexsort((theta, hf))
    W = sector_witnesses(rays, order)
    if W is None:
        order = exact_ray_order(hp)
        W = sector_witnesses(rays, order)
        if W is None:
            return None
    # sector j lies between R[j] and R[j+1]; position of -rho_k in the sorted order
    pos = np.empty(2 * m, dtype=np.int64)
    pos[order] = np.arange(2 * m)
    b = pos[m:]  # -rho_k
    N = hp.Y.shape[0]
    Bn = (N + 7) // 8
    nz = np.flatnonzero(hp.index >= 0)
    k_of = hp.index[nz]
    # sector 0: h_k . w_0 > 0 iff (0 - b_k) mod 2m < m
    s0 = ((-b) % (2 * m)) < m
    bits0 = np.ones(N, dtype=bool)
    bits0[nz] = s0[k_of] == (hp.orient[nz] > 0)
    F = np.zeros((2 * m, Bn + (-Bn) % 8), dtype=np.uint8)
    F[0, :Bn] = np.packbits(bits0, bitorder="little")
    # entering sector j (j >= 1) crosses ray R[j]: every row of its hyperplane flips
    j_of_row = pos[k_of]
    j2 = pos[k_of + m]
    jj = np.concatenate([j_of_row, j2])
    rows = np.concatenate([nz, nz])
    sel = jj > 0
    np.bitwise_xor.at(F, (jj[sel], rows[sel] >> 3), (1 << (rows[sel] & 7)).astype(np.uint8))
    P = np.bitwise_xor.accumulate(F.view(np.uint64), axis=0).view(np.uint8)[:, :Bn]
    return P, W


# ----------------------------------------------------------------------------- Zaslavsky


def _nullspace(B: list[tuple[int, ...]], r: int) -> list[list[int]]:
    """Integer basis of ``{v : B v = 0}`` by exact Gauss-Jordan elimination."""
    A = [[Fraction(v) for v in row] for row in B]
    piv: list[int] = []
    k = 0
    for c in range(r):
        p = next((i for i in range(k, len(A)) if A[i][c] != 0), None)
        if p is None:
            continue
        A[k], A[p] = A[p], A[k]
        A[k] = [v / A[k][c] for v in A[k]]
        for i in range(len(A)):
            if i != k and A[i][c] != 0:
                f = A[i][c]
                A[i] = [a - f * b for a, b in zip(A[i], A[k])]
        piv.append(c)
        k += 1
    basis = []
    for free in (c for c in range(r) if c not in piv):
        v = [Fraction(0)] * r
        v[free] = Fraction(1)
        for row, c in zip(A, piv):
            v[c] = -row[free]
        den = math.lcm(*(q.denominator for q in v))
        basis.append([int(q * den) for q in v])
    return basis


def _covers(
    Hm: np.ndarray, ints: Any, S: frozenset[int], B: list[tuple[int, ...]], r: int, k: int,
    everything: frozenset[int],
) -> list[tuple[int, frozenset[int]]]:
    """The flats covering the rank-``k`` flat ``S`` (spanned by the rows ``B``), each as
    ``(first new hyperplane h, members)``, in order of ``h``.

    The quotient map ``g -> g K`` (``K`` an integer basis of ``{v : B v = 0}``) sends the
    normals in ``span B`` to zero, and ``g`` lies in ``span(B, h)`` exactly when ``g K`` is
    parallel to ``h K``: the covers are the classes of the nonzero ``g K`` up to a factor,
    found with one null space per flat (instead of one per hyperplane).  Rank ``r - 1``: the
    only cover is the whole arrangement.
    """
    m = Hm.shape[0]
    if k == r - 1:
        first = next(g for g in range(m) if g not in S)
        return [(first, everything)]
    K = _nullspace(B, r) if B else [[int(i == j) for j in range(r)] for i in range(r)]
    C = Hm.dot(np.array(K, dtype=object).T).tolist()
    groups: dict[tuple[int, ...], list[int]] = {}
    for g in range(m):
        if g in S:
            continue
        c = C[g]
        q = 0
        for x in c:
            q = math.gcd(q, x)
        lead = next(x for x in c if x)
        if lead < 0:
            q = -q
        groups.setdefault(tuple(x // q for x in c), []).append(g)
    return [(gs[0], S | frozenset(gs)) for gs in groups.values()]


def _zaslavsky(hp: Hyperplanes, budget: int | None = None) -> tuple[int, dict[str, Any]]:
    """``sum_F |mu(0, F)|`` over the lattice of flats (exact integer closures).

    The lattice is built level by level; the flats covering a flat come from one exact null
    space and a grouping of the hyperplanes' images (:func:`_covers`).  ``budget``: largest
    number of flat closures (covering pairs ``F < G`` of the Hasse diagram) examined; beyond it
    :class:`~verify.errors.EnumerationLimitError` (the count is unknown, never guessed).
    """
    r, m = hp.rank, hp.m
    work = 0
    bar = progress("chambers: exact count (flat closures)", total=budget, delay=0.5)
    Hm = np.array([list(v) for v in hp.ints], dtype=object).reshape(m, r)
    ids: dict[frozenset[int], int] = {frozenset(): 0}
    sets: list[frozenset[int]] = [frozenset()]
    basis: list[list[tuple[int, ...]]] = [[]]
    rank_of: list[int] = [0]
    below: list[set[int]] = [set()]
    levels: list[list[int]] = [[0]]
    everything = frozenset(range(m))
    for k in range(r):
        nxt: list[int] = []
        for f in levels[k]:
            S = sets[f]
            for h, members in _covers(Hm, hp.ints, S, basis[f], r, k, everything):
                work += 1
                if work % 256 == 0:
                    bar.advance(256)
                if budget is not None and work > budget:
                    bar.close()
                    raise EnumerationLimitError(
                        f"the exact count (Zaslavsky's theorem over the lattice of flats of "
                        f"{m} hyperplanes in rank {r}) was stopped after {budget} flat "
                        f"closures ({sum(map(len, levels))} flats found so far)"
                    )
                gid = ids.get(members)
                if gid is None:
                    gid = ids[members] = len(sets)
                    sets.append(members)
                    basis.append(basis[f] + [hp.ints[h]])
                    rank_of.append(k + 1)
                    below.append(set())
                    nxt.append(gid)
                below[gid].add(f)
                below[gid] |= below[f]
        levels.append(nxt)
    bar.close()
    mu = [0] * len(sets)
    mu[0] = 1
    for k in range(1, r + 1):
        for f in levels[k]:
            mu[f] = -sum(mu[g] for g in below[f])
    total = sum(abs(v) for v in mu)
    proof: dict[str, Any] = {
        "method": "zaslavsky",
        "rank": r,
        "n_hyperplanes": m,
        "flats_by_rank": [len(levels[k]) for k in range(r + 1)],
        "mobius_abs_by_rank": [sum(abs(mu[f]) for f in levels[k]) for k in range(r + 1)],
        "mobius_abs_sum": total,
    }
    if len(sets) <= _MAX_LISTED_FLATS:
        proof["flats"] = [[rank_of[f], sorted(sets[f]), mu[f]] for f in range(len(sets))]
    return total, proof


# ----------------------------------------------------------------------------- public


def count_chambers(
    X: Any, *, hyperplanes: Hyperplanes | None = None, budget: int | None = None
) -> tuple[int, dict]:
    """Independent exact number of chambers of the arrangement of the rows of ``X``.

    Parameters
    ----------
    X : array (N, d)
        Data; zero rows give no hyperplane.
    hyperplanes : Hyperplanes, optional
        A precomputed :func:`reduce_hyperplanes` of ``X`` (saves the reduction).
    budget : int, optional
        Largest number of exact flat closures of Zaslavsky's count in rank ``>= 4`` (data not
        in general position); beyond it :class:`~verify.errors.EnumerationLimitError`.
        ``None``: no budget.

    Returns
    -------
    count : int
    proof : dict
        JSON-ready evidence: ``method`` (``"rank-0"``, ``"rank-1"``, ``"rank-2"``,
        ``"cover"`` or ``"zaslavsky"``) and what a checker needs to replay it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> count_chambers(rng.standard_normal((10, 3)))[0] == cover_bound(10, 3)
    True
    >>> count_chambers(np.zeros((3, 2)))
    (1, {'method': 'rank-0', 'rank': 0, 'n_hyperplanes': 0, 'n_zero_rows': 3})
    """
    hp = reduce_hyperplanes(X) if hyperplanes is None else hyperplanes
    r, m = hp.rank, hp.m
    base = {"rank": r, "n_hyperplanes": m, "n_zero_rows": int(np.sum(hp.index < 0))}
    if r <= 2:
        count = {0: 1, 1: 2, 2: 2 * m}[r]
        formula = {0: "1", 1: "2", 2: "2 * n_hyperplanes"}[r]
        return count, {"method": f"rank-{r}", **base} | ({"formula": formula} if r else {})
    if r == 3:
        ok, nf, ne = _triples_general_position(hp.normals)
    else:
        ok, nf, ne = _subsets_general_position(hp.normals, r)
    if ok:
        return cover_bound(m, r), {
            "method": "cover",
            **base,
            "formula": "2 * sum_{k<rank} C(n_hyperplanes - 1, k)",
            "general_position": (
                f"exact check of all C({m},{r}) = {math.comb(m, r)} {r}x{r} minors of the "
                f"distinct normals: {nf} nonzero by rigorous float bounds, {ne} by exact "
                "integer determinants"
            ),
        }
    if r == 3:
        lines = rank3_lines(hp)
        hist: dict[int, int] = {}
        for L in lines:
            hist[len(L)] = hist.get(len(L), 0) + 1
        total = 2 + 2 * sum((k - 1) * c for k, c in hist.items())
        return total, {
            "method": "zaslavsky",
            **base,
            "formula": "2 + 2 * sum_lines (m_L - 1)",
            "n_lines": len(lines),
            "line_multiplicities": {str(k): hist[k] for k in sorted(hist)},
            "mobius_abs_sum": total,
        }
    total, proof = _zaslavsky(hp, budget)
    return total, base | proof
