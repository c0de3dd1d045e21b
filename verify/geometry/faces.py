"""Exact enumeration of every face of the central hyperplane arrangement of a data matrix.

The arrangement of ``X`` (``N x d``) is ``{u : x_n^T u = 0}``; its faces are the non-empty
sets ``{u : sign(Xu) = sigma}`` for sign vectors ``sigma`` in ``{-1, 0, 1}^N`` (the set ``Q`` of
the paper's Appendix D.6).  The top-dimensional faces are the chambers.

Method (independent of :mod:`verify.geometry.chambers`, so it cross-checks the chamber list):

1. Exact integers: every entry is a rational (a float converts exactly), so a common
   positive scaling turns ``X`` into an integer matrix with the same arrangement.  An exact
   rank computation picks ``r`` independent columns ``cols``; ``A = X[:, cols]`` has the same
   sign vectors as ``X`` (``Xu`` ranges over the column space either way) and its arrangement
   in ``R^r`` is essential, so every face closure is a pointed cone.
2. Rays (the 1-dimensional faces) are ``+-rho_L`` for each rank-``(r-1)`` flat ``L``:
   ``rho_L`` is the integer cofactor null vector of ``r-1`` independent rows.
3. Every face closure is the positive hull of the rays it contains, so every sign vector is
   a composition ``rho_1 o rho_2 o ...`` of ray sign vectors (``(a o b)_n = a_n`` if
   ``a_n != 0`` else ``b_n``), and the sum of the rays below a face lies in its relative
   interior: an exact integer witness, whose sign vector is re-checked exactly.

Examples
--------
>>> fc = enumerate_faces([[1.0, 0.0], [0.0, 1.0]])
>>> fc.f_vector
(1, 4, 4)
>>> [fc.sign_string(j) for j in fc.of_dim(2)]
['++', '+-', '-+', '--']
>>> fc.witness(int(fc.of_dim(2)[0]))
[1, 1]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from verify.checker.arithmetic import integer_rank
from verify.errors import EnumerationLimitError, InputError
from verify.geometry.rationals import integer_det, to_fraction
from verify.progress import progress

__all__ = [
    "Faces",
    "enumerate_faces",
    "as_integer_matrix",
    "sign_string",
    "compose",
]

_SIGN_CHARS = {1: "+", -1: "-", 0: "0"}


def sign_string(sigma: Sequence[int]) -> str:
    """Compact text of a sign vector, e.g. ``"+-0+"``.

    Examples
    --------
    >>> sign_string([1, -1, 0, 1])
    '+-0+'
    """
    return "".join(_SIGN_CHARS[int(s)] for s in sigma)


def compose(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """Composition of sign vectors: ``a_n`` where ``a_n != 0``, else ``b_n``.

    Examples
    --------
    >>> compose([1, 0, 0], [-1, -1, 0])
    (1, -1, 0)
    """
    return tuple(int(x) if x else int(y) for x, y in zip(a, b))


def as_integer_matrix(X: Any) -> tuple[list[list[int]], int, int]:
    """Exact integer matrix with the same arrangement as ``X`` (a positive multiple of it).

    ``X`` may hold floats (converted exactly), ints, :class:`fractions.Fraction` or
    ``"p/q"`` strings.  Returns ``(rows, n_samples, n_features)``.

    Raises
    ------
    InputError
        If ``X`` is not a 2-D array of finite numbers.

    Examples
    --------
    >>> as_integer_matrix([[0.5, 1.0], ["1/3", 0]])
    ([[3, 6], [2, 0]], 2, 2)
    """
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiu":
        fast = _integer_matrix_fast(X)
        if fast is not None:
            return fast
    try:
        arr = np.asarray(X, dtype=object)
    except Exception as exc:  # pragma: no cover - numpy raises many types
        raise InputError(
            f"X: expected a 2-D array of numbers, received {type(X).__name__}"
        ) from exc
    if arr.ndim != 2:
        raise InputError(
            f"X: expected a 2-D array (N samples x d features), received ndim={arr.ndim}"
        )
    n, d = arr.shape
    try:
        fr = [[to_fraction(_scalar(v)) for v in row] for row in arr]
    except (ValueError, TypeError) as exc:
        raise InputError(f"X: expected finite numbers, {exc}") from exc
    den = 1
    for row in fr:
        for q in row:
            den = den * q.denominator // math.gcd(den, q.denominator)
    rows = [[int(q * den) for q in row] for row in fr]
    g = 0
    for row in rows:
        for v in row:
            g = math.gcd(g, v)
    if g > 1:
        rows = [[v // g for v in row] for row in rows]
    return rows, n, d


def _integer_matrix_fast(X: np.ndarray) -> tuple[list[list[int]], int, int] | None:
    """:func:`as_integer_matrix` of a float or integer array, vectorised (dyadic scaling).

    A finite float is exactly ``M 2^t`` with ``M`` an odd integer below ``2^53`` (or zero):
    ``np.frexp`` gives the mantissa and exponent without rounding.  With ``G`` the gcd of the
    odd parts and ``t_min`` the smallest exponent, ``(M / G) 2^(t - t_min)`` is the primitive
    integer matrix positively proportional to ``X`` -- the same matrix as the general route
    (common denominator, then division by the gcd).  ``None``: use the general route (e.g.
    int64 entries at the edge of their range).
    """
    n, d = X.shape
    if X.dtype.kind in "iu":
        if X.dtype.itemsize > 4 and X.size and (
            int(X.max()) >= 1 << 62 or int(X.min()) <= -(1 << 62)
        ):
            return None
        A = X.astype(np.int64)
        g = int(np.gcd.reduce(np.abs(A), axis=None)) if A.size else 0
        if g > 1:
            A = A // g
        return A.tolist(), n, d
    F = X.astype(np.float64)  # float16/32 values are float64 values
    if not np.isfinite(F).all():
        bad = F[~np.isfinite(F)][0]
        raise InputError(f"X: expected finite numbers, cannot convert non-finite value "
                         f"{float(bad)!r} to a rational")
    mant, expo = np.frexp(F)  # F = mant 2^expo exactly, 0.5 <= |mant| < 1 (or 0)
    M = np.ldexp(mant, 53).astype(np.int64)  # exact: at most 53 significant bits
    T = expo.astype(np.int64) - 53
    nz = M != 0
    if not nz.any():
        return [[0] * d for _ in range(n)], n, d
    low = M[nz] & -M[nz]  # lowest set bit (a power of two below 2^53)
    tz = np.frexp(low.astype(np.float64))[1].astype(np.int64) - 1
    odd = M[nz] >> tz
    t = T[nz] + tz
    g = int(np.gcd.reduce(np.abs(odd)))
    odd //= g
    shift = t - int(t.min())
    bits = np.frexp(np.abs(odd).astype(np.float64))[1].astype(np.int64)  # bit lengths
    out = np.zeros((n, d), dtype=np.int64)
    if int((shift + bits).max()) <= 62:
        out[nz] = odd << shift
        return out.tolist(), n, d
    obj = out.astype(object)
    obj[nz] = [int(o) << int(s) for o, s in zip(odd.tolist(), shift.tolist())]
    return obj.tolist(), n, d


def _scalar(v: Any) -> Any:
    if isinstance(v, (Fraction, int, str)) and not isinstance(v, bool):
        return v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    raise TypeError(f"received {type(v).__name__} value {v!r}")


@dataclass(frozen=True, eq=False)
class Faces:
    """All faces of the arrangement of ``X``, each with an exact witness.

    Attributes
    ----------
    n_samples, n_features, rank : int
        ``N``, ``d`` and the exact rank ``r`` of ``X``.
    columns : tuple of int
        ``r`` independent columns; witnesses are supported on them.
    signs : ndarray of int8, shape (F, N)
        Sign vectors, sorted by dimension, then lexicographically on ``(0, +, -)`` text.
    dims : ndarray of int, shape (F,)
        Dimension of each face (the origin has dimension 0, chambers ``r``).
    witnesses : tuple of tuple of int
        Exact integer points ``u`` in ``R^d`` with ``sign(X u) == signs[j]``.
    n_rays : int
        Number of 1-dimensional faces.
    """

    n_samples: int
    n_features: int
    rank: int
    columns: tuple[int, ...]
    signs: np.ndarray = field(repr=False)
    dims: np.ndarray = field(repr=False)
    witnesses: tuple[tuple[int, ...], ...] = field(repr=False)
    n_rays: int = 0

    def __len__(self) -> int:
        return int(self.signs.shape[0])

    @property
    def f_vector(self) -> tuple[int, ...]:
        """Number of faces of each dimension ``0..r``."""
        return tuple(int(np.sum(self.dims == k)) for k in range(self.rank + 1))

    def of_dim(self, k: int) -> np.ndarray:
        """Indices of the faces of dimension ``k``."""
        return np.flatnonzero(self.dims == k)

    def chambers(self) -> np.ndarray:
        """Sign vectors of the chambers (top-dimensional faces), shape ``(p, N)``."""
        return self.signs[self.dims == self.rank]

    def sign_string(self, j: int) -> str:
        """Compact sign text of face ``j``."""
        return sign_string(self.signs[j])

    def witness(self, j: int) -> list[int]:
        """Exact integer witness of face ``j`` as a list of ``d`` ints."""
        return list(self.witnesses[j])

    def witness_float(self, j: int) -> np.ndarray:
        """Witness of face ``j`` scaled to unit norm (floats, rounded)."""
        w = self.witnesses[j]
        big = max((abs(v) for v in w), default=0)
        if big == 0:
            return np.zeros(self.n_features)
        v = np.array([float(Fraction(x, big)) for x in w])
        return v / np.linalg.norm(v)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: sign strings, dimensions, exact integer witnesses."""
        return {
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "rank": self.rank,
            "columns": list(self.columns),
            "f_vector": list(self.f_vector),
            "faces": [
                {"sign": self.sign_string(j), "dim": int(self.dims[j]), "witness": self.witness(j)}
                for j in range(len(self))
            ],
        }


def _primitive(v: Sequence[int]) -> tuple[int, ...]:
    g = 0
    for x in v:
        g = math.gcd(g, x)
    if g == 0:
        return tuple(v)
    return tuple(x // g for x in v)


def _canonical(v: Sequence[int]) -> tuple[int, ...]:
    p = _primitive(v)
    first = next((x for x in p if x), 0)
    return tuple(-x for x in p) if first < 0 else p


def _null_vector(rows: list[list[int]], r: int) -> tuple[int, ...]:
    """Cofactor null vector of ``r-1`` integer rows in ``R^r`` (zero iff rows dependent)."""
    if r == 1:
        return (1,)
    if r == 2:
        ((a, b),) = rows
        return (-b, a)
    if r == 3:
        (a1, a2, a3), (b1, b2, b3) = rows
        return (a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1)
    out = []
    for i in range(r):
        minor = [row[:i] + row[i + 1 :] for row in rows]
        out.append((-1) ** i * integer_det(minor))
    return tuple(out)


_U = 2.0**-53


def _sign_matrix(A: list[list[int]], W: Sequence[Sequence[int]], n: int) -> np.ndarray:
    """Exact signs of ``A w`` for every integer vector ``w`` in ``W``: shape ``(len(W), n)``.

    Floats decide where a rigorous bound allows: converting an integer to float has relative
    error at most ``u = 2**-53``, and a length-``r`` dot product of the converted values errs
    by at most ``gamma_r sum |a_i w_i|``, so ``|fl(a.w) - a.w| <= 2 (r + 3) u fl(|a|.|w|)``
    (generously).  Entries within the bound (exact zeros among them) are recomputed exactly.
    """
    out = np.zeros((len(W), n), dtype=np.int8)
    if not len(W) or not n:
        return out
    r = len(W[0])
    try:
        Af = np.array(A, dtype=float).reshape(n, r)
        Wf = np.array(W, dtype=float).reshape(len(W), r)
    except OverflowError:
        Af = Wf = None
    if Af is not None and np.isfinite(Af).all() and np.isfinite(Wf).all():
        with np.errstate(over="ignore", invalid="ignore"):
            V = Wf @ Af.T
            bound = (np.abs(Wf) @ np.abs(Af).T) * (2 * (r + 3) * _U)
        sure = np.isfinite(V) & np.isfinite(bound) & (np.abs(V) > bound)
        out[sure] = np.sign(V[sure]).astype(np.int8)
        todo = np.argwhere(~sure)
    else:
        todo = np.argwhere(np.ones((len(W), n), dtype=bool))
    for i, k in todo:
        v = sum(a * b for a, b in zip(A[k], W[i]))
        out[i, k] = (v > 0) - (v < 0)
    return out


def _pack(S: np.ndarray, words: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit masks (positive, negative) of int8 sign rows, as uint64 words."""

    def bits(B: np.ndarray) -> np.ndarray:
        packed = np.packbits(B, axis=1, bitorder="little")
        out = np.zeros((B.shape[0], 8 * words), dtype=np.uint8)
        out[:, : packed.shape[1]] = packed
        return out.view(np.uint64)

    return bits(S > 0), bits(S < 0)


def _unpack(pos: np.ndarray, neg: np.ndarray, n: int) -> np.ndarray:
    def bits(W: np.ndarray) -> np.ndarray:
        u8 = np.ascontiguousarray(W).view(np.uint8)
        return np.unpackbits(u8, axis=1, bitorder="little")[:, :n].astype(np.int8)

    return bits(pos) - bits(neg)


def _closure(C: np.ndarray, n: int, limit: int | None) -> tuple[np.ndarray, list[int], list[int]]:
    """All compositions of the cocircuits ``C`` (int8 rows), starting from the zero vector.

    Returns the sign vectors (discovery order), and for each the parent face and the ray
    whose composition produced it (``tau o rho`` with ``rho`` compatible with ``tau``).
    """
    words = max(1, -(-n // 64))
    P, Q = _pack(C, words) if len(C) else (np.zeros((0, words), np.uint64),) * 2
    Z = P | Q
    everything = np.bitwise_or.reduce(Z, axis=0) if len(Z) else np.zeros(words, np.uint64)
    pos = [np.zeros(words, np.uint64)]
    neg = [np.zeros(words, np.uint64)]
    seen = {np.zeros(2 * words, np.uint64).tobytes()}
    parent, via = [-1], [-1]
    frontier = np.array([0])
    step = max(1, 2_000_000 // max(1, len(C) * words))
    while len(frontier) and len(C):
        nxt = []
        for a in range(0, len(frontier), step):
            idx = frontier[a : a + step]
            sp, sn = np.array([pos[i] for i in idx]), np.array([neg[i] for i in idx])
            snz = sp | sn
            live = ((everything & ~snz) != 0).any(axis=1)  # chambers compose to themselves
            if not live.all():
                idx, sp, sn, snz = idx[live], sp[live], sn[live], snz[live]
            conflict = ((sp[:, None] & Q[None]) | (sn[:, None] & P[None])).any(axis=2)
            touches = (Z[None] & ~snz[:, None]).any(axis=2)
            fi, ci = np.nonzero(touches & ~conflict)
            free = ~snz[fi]
            npos, nneg = sp[fi] | (P[ci] & free), sn[fi] | (Q[ci] & free)
            keys = np.ascontiguousarray(np.concatenate([npos, nneg], axis=1))
            _, first = np.unique(keys.view(f"V{16 * words}").ravel(), return_index=True)
            for t in np.sort(first):
                key = keys[t].tobytes()
                if key in seen:
                    continue
                seen.add(key)
                nxt.append(len(pos))
                pos.append(npos[t])
                neg.append(nneg[t])
                parent.append(int(idx[fi[t]]))
                via.append(int(ci[t]))
                if limit is not None and len(pos) > limit:
                    raise EnumerationLimitError(f"more than {limit} faces")
        frontier = np.array(nxt, dtype=np.int64)
    return _unpack(np.array(pos), np.array(neg), n), parent, via


#: Seconds of work before a progress bar is drawn.
_BAR_DELAY = 0.5
#: Subsets of hyperplanes visited per allowed face (the rays come from every ``(r-1)``-subset).
_COMBOS_PER_FACE = 50


def _check_budget(reps: list[list[int]], r: int, limit: int) -> None:
    """Refuse, before the exact work, an arrangement that cannot fit in ``limit`` faces.

    Rigorous: an essential arrangement of rank ``r`` has at least ``2^r`` chambers (``r``
    independent hyperplanes already cut ``2^r`` orthant cones), hence more than ``2^r`` faces.
    The exact rays visit every ``(r-1)``-subset of the ``m`` hyperplanes: more than
    ``_COMBOS_PER_FACE * limit`` of them is refused as work.  A floating-point count of the
    distinct rays (a budget estimate only, never a verdict) stops data in general position
    early: each ray gives two faces.
    """
    m = len(reps)
    if r >= 2 and 2**r + 1 > limit:
        raise EnumerationLimitError(
            f"more than {limit} faces: rank {r} gives at least 2^{r} = {2**r} chambers"
        )
    combos = math.comb(m, r - 1) if r >= 1 else 0
    if combos > _COMBOS_PER_FACE * limit:
        raise EnumerationLimitError(
            f"the rays need all C({m}, {r - 1}) = {combos} subsets of the {m} hyperplanes, "
            f"more than {_COMBOS_PER_FACE} x the limit of {limit} faces"
        )
    if r < 3 or 2 * combos + 1 <= limit:
        return
    H = np.array([[float(x) for x in row] for row in reps])
    H /= np.linalg.norm(H, axis=1)[:, None]
    keys: set[bytes] = set()
    it = itertools.combinations(range(m), r - 1)
    while True:
        idx = np.array(list(itertools.islice(it, 4096)), dtype=np.int64)
        if idx.size == 0:
            return
        _, sv, vt = np.linalg.svd(H[idx])
        ok = sv[:, -1] > 1e-9 * sv[:, 0]  # the r-1 rows are independent: one ray
        V = vt[ok, -1, :]
        first = np.argmax(np.abs(V) > 1e-6, axis=1)
        V *= np.sign(V[np.arange(len(V)), first])[:, None]
        keys.update(row.tobytes() for row in np.round(V, 7) + 0.0)
        # each line gives 2 rays; a factor 2 allows for lines that rounding splits in two
        if len(keys) + 1 > limit:
            raise EnumerationLimitError(
                f"more than {limit} faces expected: {len(keys)} distinct lines (rays up to "
                "sign) found in floating point already"
            )


def enumerate_faces(X: Any, *, limit: int | None = None) -> Faces:
    """Enumerate every face of the arrangement ``{u : x_n^T u = 0}`` exactly.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Data matrix (floats, ints, Fractions or ``"p/q"`` strings).
    limit : int, optional
        Maximum number of faces; exceeding it raises :class:`EnumerationLimitError`.

    Returns
    -------
    Faces

    Raises
    ------
    InputError
        If ``X`` is not a finite 2-D array or ``limit`` is not a positive int.
    EnumerationLimitError
        If more than ``limit`` faces exist.

    Examples
    --------
    >>> fc = enumerate_faces([[1.0, 1.0], [-2.0, -2.0], [1.0, -1.0]])
    >>> fc.f_vector   # two distinct lines in the plane
    (1, 4, 4)
    >>> fc.sign_string(3), fc.witness(3)
    ('+-0', [1, 1])
    """
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InputError(f"limit: expected a positive int or None, received {limit!r}")
    rows, n, d = as_integer_matrix(X)
    r, _, cols = integer_rank(rows) if n and d else (0, [], [])
    cols = sorted(cols)
    A = [[row[c] for c in cols] for row in rows]

    # Hyperplane classes (nonzero rows up to a nonzero factor) and rays.
    classes: dict[tuple[int, ...], int] = {}
    for row in A:
        if any(row):
            classes.setdefault(_canonical(row), len(classes))
    reps = [list(k) for k in classes]
    if limit is not None:
        _check_budget(reps, r, limit)
    ray_set: set[tuple[int, ...]] = set()
    if r >= 1:
        n_combos = math.comb(len(reps), r - 1)
        with progress("faces: rays", total=n_combos, delay=_BAR_DELAY) as bar:
            for t, combo in enumerate(itertools.combinations(range(len(reps)), r - 1)):
                if t % 512 == 511:
                    bar.advance(512)
                v = _null_vector([reps[i] for i in combo], r)
                if any(v):
                    ray_set.add(_canonical(v))
                    if limit is not None and 2 * len(ray_set) + 1 > limit:
                        raise EnumerationLimitError(
                            f"more than {limit} faces (already {2 * len(ray_set)} rays)"
                        )
    rays: list[tuple[int, ...]] = []
    for v in sorted(ray_set):
        rays.append(v)
        rays.append(tuple(-x for x in v))
    cocircuits = _sign_matrix(A, rays, n)

    # Closure of {0} under composition with cocircuits = all covectors.  A face of dimension
    # k+1 is tau o rho for a facet tau and a ray rho of it, and rho agrees with tau wherever
    # both are nonzero, so only such "compatible" rays are composed; tau's witness plus rho
    # lies in the relative interior of tau o rho (a positive combination inside its closure).
    # Sign vectors are held as bit masks (positive part, negative part) in uint64 words and
    # composed level by level, all pairs (face, compatible ray) at once.
    found, parent, via = _closure(cocircuits, n, limit)
    signs = found
    wit: list[list[int]] = [[0] * r]
    for j in range(1, len(found)):
        wit.append([a + b for a, b in zip(wit[parent[j]], rays[via[j]])])

    # Dimensions from the exact rank of the rows vanishing on each face (memoised).
    rank_of: dict[bytes, int] = {}
    dims = np.empty(len(found), dtype=np.int64)
    found = list(found)
    for j, s in enumerate(signs):
        key = (s == 0).tobytes()
        if key not in rank_of:
            zrows = [A[i] for i in np.flatnonzero(s == 0)]
            rank_of[key] = integer_rank(zrows)[0] if zrows and r else 0
        dims[j] = r - rank_of[key]

    code = np.where(signs < 0, 2, signs).astype(np.int8)  # text order 0 < + < -
    order = np.lexsort(tuple(code[:, i] for i in range(n - 1, -1, -1)) + (dims,)).tolist()
    signs = signs[order]
    dims = dims[order]

    # Exact witnesses, re-checked exactly, embedded in R^d on the chosen columns.
    prim = [list(_primitive(wit[j])) for j in order]
    if len(prim) and not np.array_equal(_sign_matrix(A, prim, n), signs):  # pragma: no cover
        raise AssertionError("witness check failed")  # a bug if ever reached
    witnesses: list[tuple[int, ...]] = []
    for w in prim:
        u = [0] * d
        for c, x in zip(cols, w):
            u[c] = x
        witnesses.append(tuple(u))
    return Faces(
        n_samples=n,
        n_features=d,
        rank=r,
        columns=tuple(cols),
        signs=signs,
        dims=dims,
        witnesses=tuple(witnesses),
        n_rays=len(rays),
    )
