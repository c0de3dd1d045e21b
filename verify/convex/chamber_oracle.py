"""Slack multipliers (Lemma 4), the dual-feasibility oracle and exact certified norms.

Lemma 4 of Pilanci & Ergen (2020): for ``A = (2D - I) X`` (the cone ``K = {u : Au >= 0}``),

    max_{||u|| <= 1, Au >= 0} v^T u  =  min_{z >= 0} ||v + A^T z||.

The minimisers for ``v = +-X^T D lambda`` are the *slack multipliers* ``z^+-``: a nonnegative
least-squares problem (:func:`scipy.optimize.nnls`) with at most ``d`` nonzeros.  Any ``z >= 0``
gives an upper bound of the maximum (weak duality), so the values reported here are always
upper bounds; NNLS optimality (checked by its KKT conditions) makes them tight.

Exactness: Lawson-Hanson NNLS terminates at an exact KKT point in exact arithmetic; in floating
point the KKT residual (reported) is ~1e-15 relative.  From the NNLS residual ``r = v + A^T z``
the point ``u = r/||r||`` satisfies ``Au = g/||r||`` with ``g = A r >= 0`` (KKT) and
``v^T u = ||r|| - z^T g/||r||``, so the gap between the reported value and the true maximum is at
most the complementarity term ``z^T g/||r||`` plus the cone violation ``max(-Au)``.  Only the
upper-bound direction is used for certificates, and there the float value is not trusted:
:func:`verify.convex.bounds.certified_dual_norm` recomputes the norms exactly (rationals) or with a
rigorous a-priori error bound.  The exact bounds (``int_matrix``, ``exact_norm_sq``,
``certified_dual_norm``, ``project_lambda``, ``exact_yT_lam``, ``exact_margins``,
``lower_bound``, ``upper_bound``) live in :mod:`verify.convex.bounds` and are re-exported here.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> zp, zm, vals = slack_multipliers(X, np.array([1.0, -1.0]), np.array([True, False]))
>>> [round(v, 12) for v in vals]
[1.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import nnls

from verify.convex import chamber_oracle_kernels as _k
from verify.convex.chamber_oracle_kernels import wall_pairs
from verify.errors import InputError

__all__ = [
    "SparseVector",
    "OracleResult",
    "as_patterns",
    "nnls_slack",
    "slack_multipliers",
    "oracle",
    "chamber_walls",
    "wall_pairs",
    "WallList",
]


@dataclass(frozen=True)
class SparseVector:
    """A sparse nonnegative vector: ``indices`` (int) and ``values`` (float), length ``size``."""

    indices: tuple[int, ...]
    values: tuple[float, ...]
    size: int

    def dense(self) -> np.ndarray:
        """The dense float64 vector."""
        out = np.zeros(self.size)
        out[list(self.indices)] = self.values
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (floats are exact binary values; repr round-trips)."""
        return {"indices": list(self.indices), "values": list(self.values), "size": self.size}

    @classmethod
    def from_dense(cls, z: np.ndarray) -> SparseVector:
        """Keep the strictly positive entries of ``z``."""
        idx = np.flatnonzero(z > 0)
        return cls(tuple(int(i) for i in idx), tuple(float(v) for v in z[idx]), int(z.size))


@dataclass(frozen=True)
class OracleResult:
    """Answer of :func:`oracle`.

    Attributes
    ----------
    value : float
        ``max_{j, sign}`` of the per-chamber values (upper bounds of the true maxima).
    chamber : int
        Index of the maximising chamber.
    sign : int
        ``+1`` (constraint of ``u'_j``, ``+X^T D_j lambda``) or ``-1`` (``u_j``).
    values : ndarray, shape (p, 2)
        Per chamber, column 0 for ``+``, column 1 for ``-``: exact maxima where NNLS ran or a
        one-row slack passed the KKT test, otherwise upper bounds (``<= threshold``, or beyond
        the ``top`` cut).
    nnls_calls : int
        Number of NNLS problems solved.
    kkt : float
        Largest relative KKT residual of those NNLS solutions.
    slack : dict
        ``{(j, sign): SparseVector}`` of the NNLS slack multipliers (with ``keep_slack=True``;
        chambers absent from it use ``z = 0``); with ``keep_slack="sparse"`` the same
        multipliers as two scipy CSR matrices ``{+1: z^+, -1: z^-}`` of shape ``(p, N)``
        (compact for ~10^6 chambers, accepted by :func:`verify.convex.bounds.certified_dual_norm`).
    """

    value: float
    chamber: int
    sign: int
    values: np.ndarray
    nnls_calls: int
    kkt: float
    slack: dict[tuple[int, int], SparseVector] = field(default_factory=dict, repr=False)

    def __iter__(self):
        """Unpack as ``(value, chamber, sign, values)``."""
        return iter((self.value, self.chamber, self.sign, self.values))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-chamber values)."""
        return {
            "value": self.value,
            "chamber": self.chamber,
            "sign": self.sign,
            "nnls_calls": self.nnls_calls,
            "kkt": self.kkt,
        }


def as_patterns(patterns: Any, N: int) -> tuple[np.ndarray, bool]:
    """Normalise a pattern list: a ``Chambers`` object or a bool array (p, N).

    Returns ``(bool array (p, N), complete)`` where ``complete`` is the ``Chambers``' flag
    (``False`` for a bare array: completeness is then the caller's claim).
    """
    complete = False
    if hasattr(patterns, "pattern_matrix"):
        complete = bool(getattr(patterns, "complete", False))
        patterns = patterns.pattern_matrix()
    P = np.asarray(patterns)
    if P.ndim == 1:
        P = P[None, :]
    if P.ndim != 2 or P.shape[1] != N:
        raise InputError(f"patterns: expected a bool array of shape (p, {N}), got {P.shape}")
    if P.dtype != bool:
        if not np.isin(P, (0, 1)).all():
            raise InputError("patterns: expected 0/1 entries")
        P = P.astype(bool)
    return P, complete


def _check_X_lam(X: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or lam.shape[0] != X.shape[0]:
        raise InputError(
            f"expected X of shape (N, d) and lambda of length N, got {X.shape} and {lam.shape}"
        )
    if not (np.isfinite(X).all() and np.isfinite(lam).all()):
        raise InputError("X and lambda must be finite")
    return X, lam


def nnls_slack(A: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``min_{z>=0} ||v + A^T z||`` by NNLS: returns ``(z, value, kkt)``.

    ``kkt`` is the relative KKT residual ``max(max(-g)_+, z.g) / (||A|| ||v||)`` with
    ``g = A (v + A^T z)``.

    Examples
    --------
    >>> z, val, kkt = nnls_slack(np.array([[1.0, 0.0]]), np.array([-1.0, 1.0]))
    >>> z.tolist(), round(val, 12), kkt < 1e-12
    ([1.0], 1.0, True)
    """
    z, val = nnls(A.T, -v)
    r = v + A.T @ z
    g = A @ r
    scale = max(float(np.abs(A).max(initial=0.0)) * float(np.linalg.norm(v)), 1e-300)
    kkt = max(float(np.max(-g, initial=0.0)), float(abs(z @ g))) / scale
    return z, float(np.linalg.norm(r)), kkt


def slack_multipliers(
    X: Any, lam: Any, pattern: Any
) -> tuple[SparseVector, SparseVector, tuple[float, float]]:
    """Slack multipliers ``z^+, z^-`` of one chamber (Lemma 4, by NNLS).

    Parameters
    ----------
    X : array (N, d)
    lam : array (N,)
    pattern : bool array (N,)
        ``D_j`` (entry ``n`` is 1 iff ``x_n^T u >= 0`` on the chamber).

    Returns
    -------
    z_plus, z_minus : SparseVector
        Minimisers of ``||+-X^T D lambda + X^T (2D - I) z||`` over ``z >= 0`` (<= d nonzeros).
    values : (float, float)
        The two minimum norms: the maxima of ``+-lambda^T D X u`` over ``u`` in the cone and
        the unit ball.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> zp, zm, vals = slack_multipliers(X, np.array([1.0, 0.0]), np.array([True, False]))
    >>> zp.indices, round(vals[0], 12), round(2 ** -0.5, 12)
    ((1,), 0.707106781187, 0.707106781187)
    """
    X, lam = _check_X_lam(X, lam)
    P, _ = as_patterns(pattern, X.shape[0])
    D = P[0]
    A = np.where(D, 1.0, -1.0)[:, None] * X
    v = X.T @ np.where(D, lam, 0.0)
    zp, vp, _ = nnls_slack(A, v)
    zm, vm, _ = nnls_slack(A, -v)
    return SparseVector.from_dense(zp), SparseVector.from_dense(zm), (vp, vm)


def chamber_walls(X: Any, patterns: Any) -> list[np.ndarray]:
    """Rows whose hyperplane is a wall (facet) of each chamber: ``K_j = {u : s_n x_n^T u >= 0,
    n in walls[j]}``.

    Hyperplane ``h`` (all rows parallel to it, grouped exactly) is a wall of chamber ``j`` iff
    flipping the bits of its rows in ``D_j`` gives another chamber of the list; one
    representative row per wall is returned.  Only the *other* constraints are dropped and they
    are redundant when the list is complete; with an incomplete list a missed wall only
    enlarges the cone (oracle values stay upper bounds, and :func:`upper_bound` re-checks any
    network exactly), while every listed row is a valid constraint of ``K_j`` anyway.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> P = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 1], [1, 1, 1], [0, 1, 1], [0, 1, 0]], bool)
    >>> [w.tolist() for w in chamber_walls(X, P)]
    [[0, 1], [0, 2], [1, 2], [0, 1], [0, 2], [1, 2]]
    """
    from verify.geometry.chamber_count import reduce_hyperplanes

    X = np.asarray(X, dtype=np.float64)
    P, _ = as_patterns(patterns, X.shape[0])
    p, N = P.shape
    hp = reduce_hyperplanes(X)
    idx = np.asarray(hp.index)
    live = np.flatnonzero(idx >= 0)
    m = int(idx.max(initial=-1)) + 1
    masks = np.zeros((m, N), dtype=bool)
    masks[idx[live], live] = True
    rep = np.full(m, -1, dtype=np.int64)
    for n in live[::-1]:
        rep[idx[n]] = n
    packed = np.ascontiguousarray(np.packbits(P, axis=1, bitorder="little"))
    pm = np.packbits(masks, axis=1, bitorder="little")
    found = _k.flip_hits_hashed(P, packed, masks, pm)
    if found is None:  # two patterns share a hash: exact byte-string search instead
        found = np.zeros((p, m), dtype=bool)
        vt = np.dtype((np.void, packed.shape[1]))
        keys = np.sort(packed.view(vt).ravel())
        for c in range(m):
            q = np.ascontiguousarray(packed ^ pm[c]).view(vt).ravel()
            pos = np.minimum(np.searchsorted(keys, q), keys.size - 1)
            found[:, c] = keys[pos] == q
    jj, cc = np.nonzero(found)  # row-major: by chamber, then hyperplane
    flat = rep[cc]
    ends = np.cumsum(np.bincount(jj, minlength=p)).tolist()
    return WallList(flat[a:b] for a, b in zip([0, *ends[:-1]], ends))  # views of one array


class WallList(list):
    """The list returned by :func:`chamber_walls`, caching :func:`wall_pairs`."""

    _pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._pairs is None:
            self._pairs = wall_pairs(self)
        return self._pairs


def _nnls_chunk(chunk: list, shared: tuple) -> list[tuple[np.ndarray, float, float]]:
    """NNLS of a chunk of ``(chamber, column)`` pairs of :func:`oracle` (picklable): the same
    products as its loop (``X[arange(N)]`` is ``X``), so bit-identical results."""
    X, P, V, walls = shared
    out = []
    for j, k in chunk:
        b, Xr = (P[j], X) if walls is None else (P[j, walls[j]], X[walls[j]])
        out.append(nnls_slack(np.where(b, 1.0, -1.0)[:, None] * Xr, V[j] if k == 0 else -V[j]))
    return out


def _parallel_nnls(X, P, V, walls, jj, kk, order, executor, whole: bool):
    """The NNLS results of :func:`oracle`'s loop, in its order, computed by ``executor``
    in batches (one batch when ``whole``; else smaller ones, as the loop may stop early)."""
    from verify.distributed import map_chunks, n_workers, share, split_chunks

    nw = n_workers(executor)
    shared = share((X, P, V, None if walls is None else list(walls)), executor)
    batch = order.size if whole else 256 * nw
    for b0 in range(0, order.size, batch):
        pairs = list(zip(jj[order[b0 : b0 + batch]].tolist(), kk[order[b0 : b0 + batch]].tolist()))
        chunks = split_chunks(pairs, 4 * nw, min_size=16)
        for res in map_chunks(_nnls_chunk, chunks, executor, shared=shared):
            yield from res


def oracle(
    X: Any,
    lam: Any,
    patterns: Any,
    *,
    threshold: float = 1.0,
    exact_values: bool = False,
    keep_slack: bool | str = False,
    top: int | None = None,
    walls: list[np.ndarray] | None = None,
    executor: Any = None,
    prior: tuple[Any, Any] | None = None,
) -> OracleResult:
    """Dual-feasibility oracle over all chambers: ``max_{j, +-} max_{u in K_j, ||u||<=1}
    +-lambda^T D_j X u``.

    Vectorised screening with ``v_j = X^T D_j lambda``: ``||v_j||`` bounds both values, so
    chambers with ``||v_j|| <= threshold`` are not violated (``z = 0``); for the others the
    best one-row slack (``z = t e_n``, ``t >= 0``) gives the upper bound
    ``sqrt(||v||^2 - max_n (a_n^T v)_-^2 / ||a_n||^2)`` (``||v||`` when ``v`` is in the cone),
    exact when its residual passes the KKT test ``A r >= 0``.  With ``walls``
    (:func:`chamber_walls`, each NNLS then uses only the chamber's facet rows), the inexact
    chambers above ``threshold`` first run a batched coordinate descent on the wall rows: any
    ``z >= 0`` gives an upper bound (Lemma 4), so those falling below ``threshold`` (relative
    margin 1e-9) are resolved without NNLS.  The remaining inexact ones run NNLS, in
    decreasing order of their bound.  With ``top=k`` the scan stops once the bound falls
    below the ``k``-th largest exact value found: the ``k`` most violated chambers are then
    exact, the others keep their upper bound.  With ``exact_values=True`` every chamber is
    screened and the inexact ones run NNLS (after an exact two-wall pass when ``walls`` is
    given).  The ``(p, N)`` work arrays are formed in row blocks (~16 MB each), so memory
    stays ``O(p (N/8 + d))`` for ~10^6 chambers.  ``prior=(lam0, values0)``: upper bounds
    ``values0`` (p, 2) of the values at ``lam0`` (e.g. the previous round's); as each value is
    1-Lipschitz in ``v_j``, chambers with ``values0 + ||X^T D_j (lam - lam0)|| <= threshold``
    are not violated and are skipped (not with ``exact_values`` or ``keep_slack``).
    ``executor`` (a ``distributed.Client`` or ``concurrent.futures`` executor, see
    :func:`verify.distributed.map_chunks`) runs the NNLS problems in parallel chunks; they are
    applied in the serial order, so the result is identical to the in-process one.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> res = oracle(X, np.array([0.6, -0.8]), P, exact_values=True)
    >>> round(res.value, 12), res.chamber, res.sign
    (0.8, 0, -1)
    >>> round(oracle(X, np.array([0.6, -0.8]), P, threshold=0.5).value, 12)  # one-row: exact
    0.8
    >>> oracle(X, np.array([0.6, -0.8]), P).value  # ||v_j|| <= 1 everywhere: not violated
    1.0
    """
    X, lam = _check_X_lam(X, lam)
    P, _ = as_patterns(patterns, X.shape[0])
    p = P.shape[0]
    if p == 0:
        raise InputError("oracle: empty pattern list")
    V = _k.pattern_products(P, lam[:, None] * X)  # (p, d): X^T D_j lambda
    values = np.empty((p, 2))
    exact = np.zeros((p, 2), dtype=bool)
    zbest = np.zeros((p, 2))  # one-row slack multiplier z (0: none)
    nbest = np.zeros((p, 2), dtype=np.int64)
    nv = np.linalg.norm(V, axis=1)
    # ||v_j|| bounds both values: chambers with ||v_j|| <= threshold are not violated (z = 0)
    values[:] = nv[:, None]
    skip = nv <= threshold
    if prior is not None:
        if exact_values or keep_slack:
            raise InputError("oracle: prior bounds give no exact values and no slack multipliers")
        lam0 = _check_X_lam(X, prior[0])[1]
        ub = np.asarray(prior[1], dtype=np.float64)
        if ub.shape != (p, 2):
            raise InputError(f"oracle: prior values must have shape ({p}, 2), got {ub.shape}")
        # each value is 1-Lipschitz in v_j (a norm minimised over z): bound + ||dv_j||, with a
        # relative 1e-12 for the rounding of the float products
        dv = np.linalg.norm(_k.pattern_products(P, (lam - lam0)[:, None] * X), axis=1)
        ub = (ub + dv[:, None]) * (1.0 + 1e-12)
        old = ub.max(axis=1) <= threshold
        values[old] = np.minimum(ub[old], nv[old, None])
        skip |= old
    rows = np.arange(p) if exact_values else np.flatnonzero(~skip)
    _k.one_row_screen(X, P, V, values, exact, zbest, nbest, rows)
    slack2: dict[tuple[int, int], tuple[tuple[int, ...], tuple[float, ...]]] = {}
    if walls is not None and exact_values:  # else coordinate descent (below) is faster
        _k.two_row_pass(
            X, P, V, values, exact, walls, threshold, exact_values, keep_slack, zbest, slack2
        )
    slackcd: dict[tuple[int, int], tuple[tuple[int, ...], tuple[float, ...]]] = {}
    if walls is not None and not exact_values:
        cut = threshold  # with top=k and k exact values above it already: only the bounds
        known = values[exact & (values > threshold)]  # above the k-th of them matter
        if top is not None and known.size >= top:
            cut = max(threshold, float(np.partition(known, known.size - top)[known.size - top]))
        _k.cd_pass(X, P, V, values, exact, zbest, walls, cut, keep_slack, slackcd)
    need = ~exact if exact_values else (~exact) & (values > threshold)
    jj, kk = np.nonzero(need)
    order = np.argsort(-values[jj, kk], kind="stable")
    calls, worst = 0, 0.0
    slack: dict[tuple[int, int], SparseVector] = {}
    best: list[float] = sorted(values[exact & (values > threshold)].tolist())[-(top or 1) :]
    pre = None
    if executor is not None and order.size:
        pre = _parallel_nnls(X, P, V, walls, jj, kk, order, executor, top is None)
    for t in order:
        j, k = int(jj[t]), int(kk[t])
        if top is not None and len(best) >= top and values[j, k] <= best[0]:
            break
        rows = np.arange(X.shape[0]) if walls is None else walls[j]
        if pre is not None:
            z, val, kkt = next(pre)
        else:
            A = np.where(P[j, rows], 1.0, -1.0)[:, None] * X[rows]
            z, val, kkt = nnls_slack(A, V[j] if k == 0 else -V[j])
        calls += 1
        worst = max(worst, kkt)
        if val < values[j, k]:
            values[j, k] = val
            zbest[j, k] = -1.0  # marker: NNLS slack
            if keep_slack:
                zf = np.zeros(X.shape[0])
                zf[rows] = z
                slack[(j, 1 if k == 0 else -1)] = SparseVector.from_dense(zf)
        if top is not None and values[j, k] > threshold:
            best = sorted([*best, float(values[j, k])])[-top:]
    if keep_slack:
        for marker, found in ((-2.0, slack2), (-3.0, slackcd)):
            for (j, k), (idx, zz) in found.items():
                if zbest[j, k] == marker:
                    slack[(j, 1 if k == 0 else -1)] = SparseVector(idx, zz, X.shape[0])
    if keep_slack == "sparse":
        slack = _k.slack_matrices(P.shape, zbest, nbest, slack)
    elif keep_slack:
        for j, k in zip(*np.nonzero(zbest > 0)):
            slack[(int(j), 1 if k == 0 else -1)] = SparseVector(
                (int(nbest[j, k]),), (float(zbest[j, k]),), X.shape[0]
            )
    flat = int(np.argmax(values))
    j, k = divmod(flat, 2)
    return OracleResult(float(values[j, k]), j, 1 if k == 0 else -1, values, calls, worst, slack)
