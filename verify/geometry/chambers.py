"""Exact chambers of the central arrangement of the data rows: the activation patterns.

A chamber is an open region of ``R^d`` minus the hyperplanes ``{u : x_n . u = 0}``; its
pattern is ``D = diag(1[X u >= 0])`` for any ``u`` inside it (zero rows always give 1).
Enumeration works on ``Y = X[:, J]`` (``J``: columns of a proven nonsingular minor, so the
pattern sets agree) and reports witnesses in ``R^d`` that are zero outside ``J``, so that
``X u = Y u[J]`` holds exactly.  Every witness is checked exactly (no sign of a nonzero row
may vanish) and the list is declared complete only when the number of distinct patterns
equals the independent exact count of :func:`verify.geometry.chamber_count.count_chambers`.

Methods: rank 0/1 directly; rank 2 by sorting the lines by angle, with an exact certificate
of the angular order (then the patterns follow combinatorially); rank 3 by the extreme-ray
construction (the great-circle arrangement on the sphere, faces walked through a half-edge
structure, each witness the sum of the chamber's unit rays, all witnesses checked with
:func:`verify.geometry.proven_linalg.exact_signs`; if a float ordering fails, the walk is redone
with exact
integer comparisons); any rank incrementally by deletion-restriction
(:mod:`verify.geometry.chambers_incremental`): the chambers cut by a new hyperplane ``H`` are
the chambers of the restriction to ``H`` (exact integer normals), enumerated recursively
down to a certified rank-3 walk; the new chambers' witnesses are floats checked exactly, or
exact integer points where no float lands inside.  Last resort for small lists (count <=
50,000) that are still short (no case is known since the deletion-restriction method): the
chambers of the exact face enumeration :func:`verify.geometry.faces.enumerate_faces`, each
given a float witness (rounded centre, else a short lattice vector, else its exact integer
point), checked exactly (``+faces`` in ``method``).

Real decimal data (iris) have chambers thinner than any float witness found: decimal
coincidences (three concurrent lines, a singular matrix) become, on the exact dyadic values
of the floats, chambers of width ~1e-16 and less.  Where no float candidate lands inside such
a chamber, an exact integer point is kept instead (``exact_witnesses``): in rank 2 the exact
sum of the two L1-normalised rays bounding the sector (exact angular order), in rank 3 the
exact sum of the primitive integer extreme rays of the face (exact walk), in rank >= 4 the
exact point ``M p +- h`` next to the restricted chamber's exact point ``p`` on the new
hyperplane ``h``, in the face-enumeration fallback its exact integer chamber point.  A
bounded search (short lattice vectors) then tries to replace some of them by floats.  The
list is therefore complete in every rank whenever the count is proven (``complete`` compares
the number found with that independent count).

On a terminal (and without ``--quiet``, :func:`verify.progress.set_enabled`), an
enumeration lasting more than ``_BAR_DELAY`` seconds draws a ``chambers`` progress bar on
stderr whose total is the proven count: it advances once per batch of exactly checked
witnesses (a chunk of sign checks, a hyperplane of the incremental method), never per
chamber, and ends at the number of distinct chambers found.

Examples
--------
>>> import numpy as np
>>> ch = enumerate_chambers(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
>>> len(ch), ch.complete, ch.method
(6, True, 'sort-angles')
>>> ch.pattern_matrix().astype(int).tolist()[0]
[0, 0, 0]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from verify.errors import EnumerationLimitError, InputError
from verify.geometry.chamber_count import (
    Hyperplanes,
    approx_int,
    count_chambers,
    cover_bound,
    exact_ray_order,
    rank3_lines,
    reduce_hyperplanes,
    sort_angles,
)
from verify.geometry.chambers_incremental import incremental_chambers
from verify.geometry.chambers_recursive import _lattice_point, face_witnesses
from verify.geometry.extreme_rays import extreme_rays
from verify.geometry.proven_linalg import (
    RankInfo,
    as_float_matrix,
    exact_rank,
    exact_signs,
    float_points_with_signs,
    scaled_roundings,
)
from verify.progress import Progress, progress

__all__ = ["Chambers", "enumerate_chambers", "count_chambers"]

_METHODS = ("auto", "incremental", "sort-angles", "extreme-rays")
_FALLBACK_MAX = 200_000  # largest count for which a failed fast path retries incrementally
_FACES_MAX = 50_000  # largest count for which an incomplete list falls back to geometry.faces
_FACES_LIMIT = 600_000  # at most this many faces are enumerated then (about 1 min)
_BAR_DELAY = 0.5  # seconds of enumeration before a progress bar is drawn


@dataclass(frozen=True, eq=False)
class Chambers:
    """Chambers (activation patterns) of the arrangement of the rows of ``X``.

    Attributes
    ----------
    ``n_samples, n_features, rank``: ``N``, ``d``, proven ``rank X``; ``columns``: the ``r``
    columns ``J`` used.  ``patterns``: uint8 ``(p, ceil(N/8))``, ``np.packbits(P, axis=1,
    bitorder="little")``, bit ``n`` of row ``j`` is 1 iff ``x_n . u_j >= 0``, rows in
    lexicographic (canonical) order.  ``witnesses``: float64 ``(p, d)``, zero outside ``J``,
    ``sign(X u_j)`` exactly nonzero on every nonzero row, except for the chambers listed in
    ``exact_witnesses``.  ``exact_witnesses``: ``{j: integer vector in R^d}`` for the chambers
    too thin for the float witness (no float point of theirs was found): an exact point of
    chamber ``j`` (zero outside ``J``); ``witnesses[j]`` is then only its rounding.  Use
    :meth:`witness` for the exact point of any chamber.  ``complete``: the number found
    equals the independent exact ``count`` (None in sampled mode), with JSON-ready
    ``count_proof``.  ``method``: ``rank-0``, ``rank-1``, ``sort-angles``, ``extreme-rays``,
    ``incremental`` or ``sampled`` (``-exact`` when exact orderings were needed,
    ``+incremental``, ``+faces`` when a fallback was needed).
    """

    n_samples: int
    n_features: int
    rank: int
    columns: tuple[int, ...]
    patterns: np.ndarray = field(repr=False)
    witnesses: np.ndarray = field(repr=False)
    complete: bool
    count: int | None
    count_proof: dict = field(repr=False)
    method: str
    exact_witnesses: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.patterns.shape[0])

    def pattern(self, j: int) -> np.ndarray:
        """Boolean pattern ``1[X u_j >= 0]`` of chamber ``j`` (shape ``(N,)``)."""
        return np.unpackbits(self.patterns[j], count=self.n_samples, bitorder="little").astype(bool)

    def witness(self, j: int) -> list[Fraction]:
        """The exact witness of chamber ``j`` (a point of ``R^d`` strictly inside it): the
        integer point of ``exact_witnesses`` if there is one, else the float row, exactly.

        Examples
        --------
        >>> ch = enumerate_chambers(np.array([[1.0], [-2.0]]))
        >>> ch.witness(0), ch.exact_witnesses
        ([Fraction(1, 1)], {})
        """
        if j in self.exact_witnesses:
            return [Fraction(v) for v in self.exact_witnesses[j]]
        return [Fraction(float(v)) for v in self.witnesses[j]]

    def pattern_matrix(self) -> np.ndarray:
        """All patterns as a boolean array of shape ``(p, N)``."""
        return np.unpackbits(self.patterns, axis=1, count=self.n_samples, bitorder="little").astype(
            bool
        )

    def to_dict(self, *, include_patterns: bool = False) -> dict[str, Any]:
        """JSON-ready summary; with ``include_patterns`` also the patterns (hex of the packed
        bytes), the witnesses (lists of floats) and, for the chambers too thin for a float
        witness, ``exact_witnesses`` (``{"j": [integer strings]}``, exact points).

        Examples
        --------
        >>> ch = enumerate_chambers(np.array([[1.0], [-2.0]]))
        >>> d = ch.to_dict(include_patterns=True)
        >>> d["n_chambers"], d["patterns"], d["witnesses"]
        (2, ['01', '02'], [[1.0], [-1.0]])
        """
        out: dict[str, Any] = {
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "rank": self.rank,
            "columns": list(self.columns),
            "n_chambers": len(self),
            "complete": self.complete,
            "count": self.count,
            "count_proof": self.count_proof,
            "method": self.method,
        }
        if include_patterns:
            out["pattern_encoding"] = "hex of np.packbits(pattern, bitorder='little')"
            out["patterns"] = [bytes(row).hex() for row in self.patterns]
            out["witnesses"] = [[float(v) for v in row] for row in self.witnesses]
            out["exact_witnesses"] = {
                str(j): [str(v) for v in u] for j, u in sorted(self.exact_witnesses.items())
            }
        return out


# ----------------------------------------------------------------------------- assembly


class _Found:
    """Moves a progress bar to the number of chambers found so far: called once per batch,
    never per chamber; never backwards and never past the proven total (re-checks of
    stacked witnesses count again from zero), until :meth:`finish` sets the final number."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar

    def __call__(self, n: int) -> None:
        total = self.bar.total
        n = min(n, total) if total else n
        if n > self.bar.count:
            self.bar.advance(n - self.bar.count)

    def finish(self, n: int) -> None:
        self.bar.advance(n - self.bar.count)


def _unique_rows(packed: np.ndarray) -> np.ndarray:
    """Indices of the distinct rows of a uint8 matrix, in lexicographic order of the rows
    (first occurrence of each)."""
    p, B = packed.shape
    A = np.zeros((p, B + (-B) % 8), dtype=np.uint8)
    A[:, :B] = packed
    keys = A.view(">u8").astype(np.uint64)  # big-endian words compare like the bytes
    if keys.shape[1] == 0:  # no samples: all patterns are the empty pattern
        return np.arange(min(p, 1))
    order = np.lexsort(keys.T[::-1])
    ks = keys[order]
    first = np.r_[True, np.any(ks[1:] != ks[:-1], axis=1)] if p else np.zeros(0, bool)
    return order[first]


def _exact_hyper_signs(hp: Hyperplanes, pts: list[tuple[int, ...]]) -> np.ndarray:
    """Exact signs ``(k, N)`` of ``Y u`` for integer points ``u`` of ``R^r`` (row ``n`` is a
    positive multiple of ``orient[n]`` times hyperplane ``index[n]``; zero rows give 0)."""
    N, r = hp.Y.shape[0], hp.rank
    Hx = np.array([list(h) for h in hp.ints], dtype=object).reshape(hp.m, r)
    U = np.array([list(u) for u in pts], dtype=object).reshape(len(pts), r)
    D = U.dot(Hx.T) if len(pts) and hp.m else np.zeros((len(pts), hp.m), dtype=object)
    Sh = (D > 0).astype(np.int8) - (D < 0).astype(np.int8)
    S = np.zeros((len(pts), N), dtype=np.int8)
    nz = hp.index >= 0
    S[:, nz] = Sh[:, hp.index[nz]] * hp.orient[nz]
    return S


def _assemble(
    X: np.ndarray,
    hp: Hyperplanes,
    W: np.ndarray,
    found: Callable[[int], None] | None = None,
    exact: list[tuple[int, ...]] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[int, ...]]]:
    """Exact patterns of the candidate witnesses ``W`` (in ``R^r``): keep those strictly
    inside a chamber, dedupe, sort; return ``(packed patterns, witnesses in R^d, exact
    witnesses)``.  ``exact``: integer candidate points of ``R^r`` (checked exactly too), used
    only for the chambers that no float row of ``W`` witnesses; the third value maps those
    chambers' rows to their integer witnesses in ``R^d``.  ``found`` is told the number of
    checked witnesses after each chunk."""
    N, d = X.shape
    r = hp.rank
    nz = hp.index >= 0
    all_nz = bool(nz.all())
    B = (N + 7) // 8
    if r == 0:
        packed = np.packbits(np.ones((W.shape[0], N), dtype=bool), axis=1, bitorder="little")
    else:
        parts, keep = [], []
        step = max(1, (1 << 20) // max(N, 1))
        done = 0
        for s in range(0, W.shape[0], step):
            S = exact_signs(hp.Y, W[s : s + step])
            ok = np.all((S if all_nz else S[:, nz]) != 0, axis=1)
            parts.append(np.packbits(S[ok] >= 0, axis=1, bitorder="little"))
            keep.append(np.flatnonzero(ok) + s)
            if found is not None:
                done += int(np.count_nonzero(ok))
                found(done)
        packed = np.vstack(parts).reshape(-1, B)
        W = W[np.concatenate(keep)]
    n_float = len(W)
    pts: list[tuple[int, ...]] = []
    if exact and r > 0:  # integer points: exact signs; floats keep priority (listed first)
        S = _exact_hyper_signs(hp, exact)
        ok = np.flatnonzero(np.all((S if all_nz else S[:, nz]) != 0, axis=1))
        pts = [tuple(exact[i]) for i in ok.tolist()]
        packed = np.vstack([packed, np.packbits(S[ok] >= 0, axis=1, bitorder="little")])
        W = np.vstack([W, scaled_roundings(pts, r)])
    first = _unique_rows(packed)
    U = np.zeros((len(first), d))
    U[:, list(hp.columns)] = W[first]
    cols = list(hp.columns)
    ex: dict[int, tuple[int, ...]] = {}
    for j in np.flatnonzero(first >= n_float).tolist():
        u = [0] * d
        for c, v in zip(cols, pts[int(first[j]) - n_float]):
            u[c] = int(v)
        ex[j] = tuple(u)
    return packed[first].reshape(len(first), B), U, ex


# ----------------------------------------------------------------------------- rank 2


# ----------------------------------------------------------------------------- rank 3


#: At most this many exact-only chambers get a search for a float witness (the rest keep
#: their exact integer witness).
_FLOAT_REFINE = 1024
_REFINE_SECONDS = 2.0  # and at most about this long
_SEARCH_SECONDS = 0.5  # of which the slow rational rounding search gets at most this
_SEARCH_WORK = 20_000  # and only where it is cheap: 7^(r-1) roundings times m normals


def _float_refine(
    hp: Hyperplanes, packed: np.ndarray, U: np.ndarray, ex: dict[int, tuple[int, ...]]
) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """Float witnesses for at most ``_FLOAT_REFINE`` (and ``_REFINE_SECONDS``) of the
    chambers that only have an exact integer witness ``ex``: a short lattice vector near the
    exact point (:func:`verify.geometry.chambers_recursive._lattice_point`: floats with
    per-coordinate exponents, which reach chambers far thinner than the rounding of the
    point), else, when cheap (``_SEARCH_WORK``) and within ``_SEARCH_SECONDS``, a rounding search
    (:func:`verify.geometry.proven_linalg.float_points_with_signs`); a candidate is kept only
    when its exact pattern is the chamber's.  The others keep their exact witness.  Returns
    the updated ``(U, ex)``."""
    cols = list(hp.columns)
    N = hp.Y.shape[0]
    nz = hp.index >= 0
    ex = dict(ex)
    U = U.copy()
    t0 = time.perf_counter()
    search = 0.0
    for j in sorted(ex)[:_FLOAT_REFINE]:
        if time.perf_counter() - t0 > _REFINE_SECONDS:
            break
        p = [Fraction(ex[j][c]) for c in cols]
        signs = [1 if sum(a * q for a, q in zip(h, p)) > 0 else -1 for h in hp.ints]
        A = [[sg * v for v in h] for sg, h in zip(signs, hp.ints)]
        cands = []
        w = _lattice_point(A, p)
        if w is not None:
            cands.append(w)
        elif search < _SEARCH_SECONDS and hp.m * 7 ** (hp.rank - 1) <= _SEARCH_WORK:
            t1 = time.perf_counter()
            try:
                cands.append(float_points_with_signs(list(hp.ints), [p])[0])
            except OverflowError:
                pass
            search += time.perf_counter() - t1
        bits = np.unpackbits(packed[j], count=N, bitorder="little").astype(bool)
        for w in cands:
            w = np.asarray(w, dtype=np.float64)
            if not np.all(np.isfinite(w)):
                continue
            S = exact_signs(hp.Y, w[None, :])[0]
            if np.all(S[nz] != 0) and np.array_equal(S >= 0, bits):
                U[j, cols] = w
                del ex[j]
                break
    return U, ex


def _rank3_incidences(hp: Hyperplanes, proof: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(members, sizes)`` of the intersection lines of a rank-3 arrangement (exact)."""
    if proof.get("method") == "cover":  # general position: every pair is its own line
        iu = np.triu_indices(hp.m, 1)
        return np.stack(iu, axis=1).ravel(), np.full(len(iu[0]), 2)
    lines = rank3_lines(hp)
    members = np.array([i for L in lines for i in L], dtype=np.int64)
    sizes = np.array([len(L) for L in lines], dtype=np.int64)
    return members, sizes


def _exact_sectors(hp: Hyperplanes) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The ``2m`` chambers of a rank-2 arrangement from the exact angular order of the rays
    ``+-(-h_2, h_1)``: for the sector between consecutive rays ``a, b`` (turn < pi, as
    ``m >= 2``), the exact point ``a |b|_1 + b |a|_1`` (integers: the sum of the two
    L1-normalised rays, strictly between them) and its float rounding.

    Examples
    --------
    >>> from verify.geometry.chamber_count import reduce_hyperplanes
    >>> W, pts = _exact_sectors(reduce_hyperplanes(np.array([[1.0, 0.0], [0.0, 1.0]])))
    >>> pts
    [(1, 1), (-1, 1), (-1, -1), (1, -1)]
    """
    rays = [(-b, a) for a, b in hp.ints] + [(b, -a) for a, b in hp.ints]
    order = exact_ray_order(hp).tolist()
    pts = []
    for i, j in zip(order, order[1:] + order[:1]):
        (x1, y1), (x2, y2) = rays[i], rays[j]
        n1, n2 = abs(x1) + abs(y1), abs(x2) + abs(y2)
        u = (x1 * n2 + x2 * n1, y1 * n2 + y2 * n1)
        g = math.gcd(*u)
        pts.append((u[0] // g, u[1] // g))
    return scaled_roundings(pts, 2), pts


# ----------------------------------------------------------------------------- public


def _sampled(X: np.ndarray, samples: int, seed: int, found: _Found) -> Chambers:
    N, d = X.shape
    info = exact_rank(X)
    rng = np.random.default_rng(seed)
    nz = np.any(X != 0, axis=1)
    seen: dict[bytes, np.ndarray] = {}
    chunk = max(1, (1 << 22) // max(N, 1))
    for s in range(0, samples, chunk):
        U = rng.standard_normal((min(chunk, samples - s), d))
        S = exact_signs(X, U)
        ok = np.all(S[:, nz] != 0, axis=1)
        packed = np.packbits(S[ok] >= 0, axis=1, bitorder="little")
        for row, u in zip(packed, U[ok]):
            seen.setdefault(row.tobytes(), u)
        found(len(seen))
    keys = sorted(seen)
    B = (N + 7) // 8
    patterns = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), B)
    witnesses = np.array([seen[k] for k in keys]).reshape(len(keys), d)
    return Chambers(
        N,
        d,
        info.rank,
        info.cols,
        patterns.copy(),
        witnesses,
        False,
        None,
        {"method": "sampled", "samples": samples, "seed": seed},
        "sampled",
    )


#: Largest number of elementary exact checks spent on a count when the list is refused.
_COUNT_BUDGET = 500_000


def _flat_budget(limit: int | None) -> int | None:
    """Flat closures Zaslavsky's count may compute under ``limit`` (``2 limit``, at least
    200,000; ``None``: no budget): the count of data not in general position, rank >= 4."""
    return None if limit is None else max(200_000, 2 * limit)


def _count_work(m: int, r: int) -> int:
    """Rough number of checks :func:`count_chambers` needs (pairs in rank 3, minors above)."""
    if r <= 2:
        return m
    if r == 3:
        return math.comb(m, 2)
    return math.comb(m, r)


def enumerate_chambers(
    X: Any,
    *,
    limit: int | None = None,
    mode: str = "exact",
    samples: int = 10_000,
    seed: int = 0,
    method: str = "auto",
    rank_info: RankInfo | None = None,
    exact_count: bool = True,
) -> Chambers:
    """All chambers of the arrangement of the rows of ``X``, with exact witnesses.

    Parameters
    ----------
    X : array (N, d)
        Finite data; zero rows are allowed (their bit is always 1).
    limit : int, optional
        Raise :class:`~verify.errors.EnumerationLimitError` if the exact count exceeds it
        (checked before enumerating; Cover's bound is tried first as a cheap upper bound).
    mode : {"exact", "sampled"}
        ``"sampled"``: distinct patterns of ``samples`` Gaussian gates (never complete).
    samples, seed : int
        Sampled mode only.
    method : {"auto", "incremental", "sort-angles", "extreme-rays"}
        Force an enumeration method (``sort-angles`` needs rank 2, ``extreme-rays`` rank 3).
    rank_info : RankInfo, optional
        The proven rank of ``X`` when the caller has it (:func:`verify.geometry.audit.audit`
        does): the exact rank is not computed again.
    exact_count : bool
        Beyond ``limit``, prove the exact count for the error (``count``, ``proof``); with
        ``False`` a cheaper proven lower bound above ``limit`` is enough when there is one
        (the count of a prefix of the rows: :func:`_prefix_beyond`), and then ``count`` is
        ``None``.

    Returns
    -------
    Chambers

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 3))
    >>> ch = enumerate_chambers(X)
    >>> len(ch), ch.count, ch.complete, ch.method
    (58, 58, True, 'extreme-rays')
    >>> len(enumerate_chambers(X, method="incremental"))
    58
    """
    X = as_float_matrix(X)
    N, d = X.shape
    if mode not in ("exact", "sampled"):
        raise InputError(f"mode: expected 'exact' or 'sampled', received {mode!r}")
    if method not in _METHODS:
        raise InputError(f"method: expected one of {_METHODS}, received {method!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise InputError(f"limit: expected a positive int or None, received {limit!r}")
    if mode == "sampled":
        if not isinstance(samples, int) or samples < 1:
            raise InputError(f"samples: expected a positive int, received {samples!r}")
        with progress("chambers (sampled)", delay=_BAR_DELAY) as bar:
            return _sampled(X, samples, seed, _Found(bar))
    with progress("chambers", delay=_BAR_DELAY) as bar:
        return _exact(X, limit=limit, method=method, found=_Found(bar), rank_info=rank_info,
                      exact_count=exact_count)


def _prefix_beyond(X: np.ndarray, r: int, limit: int) -> None:
    """Raise :class:`EnumerationLimitError` when the first rows of ``X`` alone already have
    more than ``limit`` chambers (exact count): a hyperplane added to an arrangement only
    splits chambers, so the whole arrangement has more.  The prefix is the shortest with
    Cover's bound ``>= 1.25 limit`` in rank ``r`` (its count when the prefix is in general
    position); tried only when it is at most 80 % of ``X`` (the count's work grows like the
    cube of the rows in rank 3: 20 s on 1000 x 3 against ~3 s for the prefix).

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((400, 3))
    >>> try:
    ...     _prefix_beyond(X, 3, 2_000)
    ... except EnumerationLimitError as e:
    ...     print(str(e)[:60])
    the arrangement has at least 2552 chambers (proven: its firs
    """
    N = X.shape[0]
    n = next((k for k in range(r, int(0.8 * N) + 1) if 4 * cover_bound(k, r) >= 5 * limit),
             None)
    if n is None:
        return
    count, _ = count_chambers(X[:n], budget=_flat_budget(limit))
    if count > limit:
        raise EnumerationLimitError(
            f"the arrangement has at least {count} chambers (proven: its first {n} rows alone "
            f"have exactly {count}; Cover's bound {approx_int(cover_bound(N, r))}), more than "
            f"limit={limit}")


def _exact(X: np.ndarray, *, limit: int | None, method: str, found: _Found,
           rank_info: RankInfo | None = None, exact_count: bool = True) -> Chambers:
    """:func:`enumerate_chambers` in exact mode (options validated), reporting to ``found``."""
    N, d = X.shape
    hp = reduce_hyperplanes(X, rank_info=rank_info)
    r, m = hp.rank, hp.m
    if limit is not None and cover_bound(m, r) > limit:
        work = _count_work(m, r)
        if work > _COUNT_BUDGET:
            raise EnumerationLimitError(
                f"Cover's bound allows up to {approx_int(cover_bound(m, r))} chambers, more "
                f"than limit={limit}; the exact count was not attempted (it needs about "
                f"{approx_int(work).removeprefix('about ')} exact checks, budget {_COUNT_BUDGET})"
            )
        if not exact_count:
            _prefix_beyond(X, r, limit)
        count, proof = count_chambers(X, hyperplanes=hp, budget=_flat_budget(limit))
        if count > limit:
            raise EnumerationLimitError(
                f"the arrangement has exactly {count} chambers (Cover's bound "
                f"{approx_int(cover_bound(m, r))}), more than limit={limit}",
                count=count,
                proof=proof,
            )
    else:
        count, proof = count_chambers(X, hyperplanes=hp, budget=_flat_budget(limit))
    found.bar.total = count
    if method == "auto":
        method = {0: "rank-0", 1: "rank-1", 2: "sort-angles", 3: "extreme-rays"}.get(
            r, "incremental"
        )
    elif method != "incremental" and {"sort-angles": 2, "extreme-rays": 3}[method] != r:
        raise InputError(
            f"method {method!r} needs rank {2 if method == 'sort-angles' else 3},"
            f" the data have rank {r}"
        )
    H = hp.normals
    exact_pts: list[tuple[int, ...]] = []  # exact integer candidates (thin chambers)
    res = None
    if method == "rank-0":
        W = np.zeros((1, 0))
    elif method == "rank-1":
        W = np.array([[1.0], [-1.0]])
    elif method == "sort-angles":
        res = sort_angles(hp)
        if res is None:  # a float check failed: exact order, exact sector points
            W, exact_pts = _exact_sectors(hp)
            method = "sort-angles-exact"
    elif method == "extreme-rays":
        W = extreme_rays(H, *_rank3_incidences(hp, proof))
    else:
        inc = incremental_chambers(hp, on_found=found, capacity=count)
        W, exact_pts = inc.W, list(inc.exact_points)
    if res is not None:
        P, W2 = res
        first = _unique_rows(P)
        patterns = P[first]
        U = np.zeros((len(first), d))
        U[:, list(hp.columns)] = W2[first]
        W = W2
        ex: dict[int, tuple[int, ...]] = {}
    else:
        patterns, U, ex = _assemble(X, hp, W, found, exact_pts)
    found(len(patterns))
    if len(patterns) != count and r in (2, 3) and not method.endswith("-exact"):
        # a float ordering went wrong or a chamber is thinner than its float witness: the
        # exact construction (exact orders, exact integer points where floats fail)
        if r == 2:
            W2, pts = _exact_sectors(hp)
        else:
            pts = []
            W2 = extreme_rays(H, *_rank3_incidences(hp, proof), exact=hp, exact_points=pts)
        W, exact_pts = np.vstack([W, W2]), exact_pts + pts
        patterns, U, ex = _assemble(X, hp, W, found, exact_pts)
        method = f"{method}+exact" if method == "incremental" else f"{method}-exact"
    if (
        len(patterns) != count
        and not method.startswith("incremental")
        and r >= 2
        and count <= _FALLBACK_MAX
    ):
        # a float ordering went wrong somewhere: fall back to the general construction
        inc = incremental_chambers(hp, on_found=found, capacity=count)
        W, exact_pts = np.vstack([W, inc.W]), exact_pts + list(inc.exact_points)
        patterns, U, ex = _assemble(X, hp, W, found, exact_pts)
        method = f"{method}+incremental"
    if len(patterns) != count and r >= 2 and count <= _FACES_MAX:
        # last resort: exact face enumeration (exact integer points of every chamber)
        try:
            Wf = face_witnesses(hp.ints, limit=_FACES_LIMIT, exact_points=exact_pts)
        except EnumerationLimitError:  # too many faces: the list stays incomplete
            Wf = None
        if Wf is not None:
            W = np.vstack([W, Wf])
            patterns, U, ex = _assemble(X, hp, W, found, exact_pts)
            method = f"{method}+faces"
    if ex:
        U, ex = _float_refine(hp, patterns, U, ex)
    found.finish(len(patterns))
    return Chambers(
        n_samples=N,
        n_features=d,
        rank=r,
        columns=hp.columns,
        patterns=patterns,
        witnesses=U,
        complete=len(patterns) == count,
        count=count,
        count_proof=proof,
        method=method,
        exact_witnesses=ex,
    )
