"""Rigorous bounds of ``P*``: exact norms, the certified dual norm, lower and upper bounds.

Floats find candidates, exact arithmetic decides: a float64 number is a dyadic rational, so
:func:`int_matrix` writes any float array exactly as Python integers times one power of two,
and every quantity that enters a bound is computed from that exact form.

* :func:`lower_bound` -- ``y^T lam / max(1, s) <= P*`` for a dual point ``lam`` (projected
  exactly onto ``diag(y) lam >= 0`` by :func:`project_lambda`) and a complete chamber list;
  ``s`` is the rigorous upper bound of the dual norm from :func:`certified_dual_norm`
  (a rigorous float error bound where it proves ``<= 1``, exact integers elsewhere).
* :func:`upper_bound` -- ``sum_i ||w1_i|| |w2_i| / min_n y_n f(theta, x_n) >= P*`` for any
  separating network, with exact margins (:func:`exact_margins`) and norms bounded above
  by :func:`verify.checker.arithmetic.sqrt_bounds`.

The slack multipliers and the oracle that produce ``lam`` and ``z`` are in
:mod:`verify.convex.chamber_oracle` (which re-exports these names).

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
>>> y = np.array([1.0, -1.0])
>>> lb = lower_bound(X, y, y, P)
>>> ub = upper_bound(X, y, np.eye(2), y)
>>> float(lb) <= 2 <= ub
True
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from verify.checker.arithmetic import sqrt_bounds
from verify.convex.chamber_oracle import SparseVector, _check_X_lam, as_patterns
from verify.errors import InputError
from verify.geometry.rationals import to_fraction
from verify.geometry.rounding import gamma as _gamma

__all__ = [
    "int_matrix",
    "exact_norm_sq",
    "certified_dual_norm",
    "project_lambda",
    "exact_yT_lam",
    "exact_margins",
    "lower_bound",
    "upper_bound",
]

_ETA = 2.0**-1074  # smallest subnormal
#: Entries per row block of the ``(p, N)`` float arrays of :func:`certified_dual_norm`.
_BLOCK_ENTRIES = 1 << 20


def int_matrix(A: Any) -> tuple[np.ndarray, int]:
    """Exact integer form of a float array: ``A == M * 2**e`` with ``M`` Python ints (object).

    Examples
    --------
    >>> M, e = int_matrix(np.array([0.5, 3.0, -0.25]))
    >>> M.tolist(), e
    ([2, 12, -1], -2)
    """
    A = np.asarray(A, dtype=np.float64)
    if not np.isfinite(A).all():
        raise InputError("int_matrix: non-finite entries")
    m, e = np.frexp(A)
    mi = (m * 2.0**53).astype(np.int64)
    e = e.astype(np.int64) - 53
    nz = mi != 0
    if not nz.any():
        return np.zeros(A.shape, dtype=np.int64).astype(object), 0
    # strip common trailing zero bits so the integers stay small
    tz = np.zeros(A.shape, dtype=np.int64)
    low = mi[nz] & -mi[nz]
    tz[nz] = np.log2(low.astype(np.float64)).astype(np.int64)
    e = e + tz
    mi = np.where(nz, mi >> np.where(nz, tz, 0), 0)
    emin = int(e[nz].min())
    shift = np.where(nz, e - emin, 0)
    return np.left_shift(mi.astype(object), shift.astype(object)), emin


def _scaled(e: int) -> Fraction:
    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << (-e))


def exact_norm_sq(X: Any, a: Any) -> Fraction:
    """Exact ``||X^T a||^2`` for float ``X`` (N, d) and float ``a`` (N,).

    Examples
    --------
    >>> exact_norm_sq(np.array([[0.1, 0.0], [0.2, 1.0]]), np.array([1.0, 1.0])) == (
    ...     (Fraction(0.1) + Fraction(0.2)) ** 2 + 1)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    sup = np.flatnonzero(a)
    if sup.size == 0:
        return Fraction(0)
    Xi, ex = int_matrix(X[sup])
    ai, ea = int_matrix(a[sup])
    c = ai.dot(Xi)
    return Fraction(int(sum(int(t) * int(t) for t in c))) * _scaled(2 * (ex + ea))


def project_lambda(y: Any, lam: Any) -> np.ndarray:
    """Exact projection onto ``diag(y) lambda >= 0``: wrong-signed entries become 0."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    lam = np.asarray(lam, dtype=np.float64).reshape(-1)
    return np.where(y * lam > 0, lam, 0.0)


def _as_z(z: Any) -> Any:
    """Slack multipliers as given if an array or sparse matrix, else as a list."""
    if z is None or isinstance(z, (list, np.ndarray)) or hasattr(z, "tocsr"):
        return z
    return list(z)


def _dense_z(z: Any, p: int, N: int, rows: slice | None = None) -> np.ndarray:
    """Dense ``max(z, 0)`` rows ``rows`` (default all) of slack multipliers given as ``None``,
    a ``(p, N)`` array, a scipy sparse ``(p, N)`` matrix or a list of ``p`` vectors."""
    rows = slice(0, p) if rows is None else rows
    n = len(range(p)[rows])
    if z is None:
        return np.zeros((n, N))
    if hasattr(z, "tocsr") and hasattr(z, "shape"):  # scipy sparse
        if z.shape != (p, N):
            raise InputError(f"slack multipliers: expected shape ({p}, {N}), got {z.shape}")
        return np.maximum(z.tocsr()[rows].toarray().astype(np.float64), 0.0)
    if isinstance(z, np.ndarray) and z.ndim == 2:
        if z.shape != (p, N):
            raise InputError(f"slack multipliers: expected shape ({p}, {N}), got {z.shape}")
        return np.maximum(z[rows].astype(np.float64), 0.0)
    z = _as_z(z)
    if len(z) != p:
        raise InputError(f"slack multipliers: expected {p} vectors, got {len(z)}")
    out = np.zeros((n, N))
    for i, zj in enumerate(z[rows]):
        if zj is None:
            continue
        out[i] = zj.dense() if isinstance(zj, SparseVector) else np.asarray(zj, dtype=float)
    return np.maximum(out, 0.0)


def certified_dual_norm(
    X: Any, lam: Any, patterns: Any, z_plus: Any = None, z_minus: Any = None
) -> tuple[Fraction, dict[str, Any]]:
    """Rigorous upper bound ``s`` of ``max_{j, +-} ||+-X^T D_j lam + X^T (2D_j - I) z_j^+-||``.

    A chamber whose float norm, inflated by an a-priori rounding-error bound, is <= 1 is
    certified in floating point (it cannot raise ``max(1, s)``); every other chamber is
    recomputed exactly in integers (squared norm) and bounded with :func:`sqrt_bounds`.
    Negative ``z`` entries are clipped to 0 (any ``z >= 0`` is feasible in Lemma 4).

    Returns
    -------
    s : Fraction
        Upper bound of the maximum (tight when computed exactly, else <= 1).
    info : dict
        ``exact_chambers`` (how many were recomputed exactly), ``argmax`` ([chamber, sign]).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> s, info = certified_dual_norm(X, np.array([0.6, -0.8]), P)
    >>> round(float(s), 12), info["exact_chambers"]
    (1.0, 2)
    """
    X, lam = _check_X_lam(X, lam)
    N, d = X.shape
    P, _ = as_patterns(patterns, N)
    p = P.shape[0]
    best: Fraction = Fraction(0)
    where: list[int] = [-1, 0]
    n_exact = 0
    absX = np.abs(X)
    Xi, ex = int_matrix(X)
    g = 2.0 * _gamma(N + 2)
    z_plus, z_minus = _as_z(z_plus), _as_z(z_minus)
    tfl = np.full(2, -1.0)  # largest float-certified T (<= 1) per sign
    targ = [0, 0]
    step = max(1, _BLOCK_ENTRIES // max(N, 1))  # row blocks: bounded memory for 10^6 chambers
    for i, (sgn, z) in enumerate(((1, z_plus), (-1, z_minus))):
        if isinstance(z, list) and len(z) != p:
            raise InputError(f"slack multipliers: expected {p} vectors, got {len(z)}")
        for a in range(0, max(p, 1), step):
            rows = slice(a, min(p, a + step))
            Pb = P[rows]
            Z = _dense_z(z, p, N, rows)
            S = np.where(Pb, 1.0, -1.0)
            Ad = sgn * np.where(Pb, lam[None, :], 0.0) + S * Z  # (block, N) float (rounded)
            C = Ad @ X
            E = g * (np.abs(Ad) @ absX) + 4.0 * N * _ETA
            T = np.linalg.norm(np.abs(C) + E, axis=1) * (1.0 + 4.0 * _gamma(d + 3))
            ok = T <= 1.0
            if ok.any() and T[ok].max() > tfl[i]:
                tfl[i] = float(T[ok].max())
                targ[i] = a + int(np.flatnonzero(ok)[np.argmax(T[ok])])
            for jb in np.flatnonzero(~ok):
                j = a + int(jb)
                # exact a_j = sgn D_j lam + (2D_j - I) z_j  (computed from the exact inputs)
                lam_j = np.where(P[j], lam, 0.0)
                zi, ez = int_matrix(np.concatenate([lam_j, Z[jb]]))
                li, zz = zi[:N], zi[N:]
                sj = np.where(P[j], 1, -1).astype(object)
                av = sgn * li + sj * zz  # exact integers, scale 2**ez
                sup = np.flatnonzero(av != 0)
                val = Fraction(0)
                if sup.size:
                    c = av[sup].dot(Xi[sup])
                    val = Fraction(int(sum(int(t) * int(t) for t in c))) * _scaled(2 * (ex + ez))
                n_exact += 1
                if val > best:
                    best, where = val, [j, sgn]
        if tfl[i] >= 0:
            tmax = Fraction(float(tfl[i]))
            if tmax * tmax > best:
                best = tmax * tmax
                where = [targ[i], sgn]
    s = sqrt_bounds(best)[1]
    return s, {"exact_chambers": n_exact, "argmax": where}


def exact_yT_lam(y: Sequence[float], lam: Sequence[float]) -> Fraction:
    """Exact ``y^T lambda``."""
    return sum((to_fraction(float(a)) * to_fraction(float(b)) for a, b in zip(y, lam)), Fraction(0))


def _check_binary(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X: expected a nonempty 2-D array (N, d), got shape {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise InputError(f"y: expected {X.shape[0]} labels (one per row of X), got {y.shape[0]}")
    if not np.isfinite(X).all():
        raise InputError("X: expected finite values, found NaN or inf")
    if not np.isin(y, (-1.0, 1.0)).all():
        raise InputError(f"y: expected labels in {{-1, +1}}, got values {sorted(set(y.tolist()))}")
    return X, y


def lower_bound(
    X: Any, y: Any, lam: Any, patterns: Any, z_plus: Any = None, z_minus: Any = None
) -> Fraction:
    """Rigorous ``LB = y^T lam / max(1, s) <= P*`` (valid when ``patterns`` is complete).

    ``lam`` is first projected exactly onto ``diag(y) lam >= 0`` (wrong-signed entries set to
    0); ``s`` is the exact upper bound of :func:`certified_dual_norm` computed with the given
    slack multipliers (``None``: zero multipliers, a looser but still valid bound).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> y = lam = np.array([1.0, -1.0])
    >>> from verify.convex.chamber_oracle import slack_multipliers
    >>> zs = [slack_multipliers(X, lam, P[j]) for j in range(4)]
    >>> lower_bound(X, y, lam, P, [z[0] for z in zs], [z[1] for z in zs])
    Fraction(2, 1)
    >>> float(lower_bound(X, y, lam, P))  # z = 0: valid but loose (2 / sqrt(2))
    1.414213562373095...
    """
    X, y = _check_binary(X, y)
    lam = project_lambda(y, _check_X_lam(X, lam)[1])
    s, _ = certified_dual_norm(X, lam, patterns, z_plus, z_minus)
    return exact_yT_lam(y, lam) / max(Fraction(1), s)


def exact_margins(X: Any, W1: Any, w2: Any) -> list[Fraction]:
    """Exact outputs ``f(theta, x_n) = sum_i (x_n^T w1_i)_+ w2_i`` as rationals.

    Examples
    --------
    >>> exact_margins(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0], [-1.0]]),
    ...               np.array([0.5]))
    [Fraction(1, 2), Fraction(0, 1)]
    """
    X = np.asarray(X, dtype=np.float64)
    W1 = np.asarray(W1, dtype=np.float64)
    w2 = np.asarray(w2, dtype=np.float64).reshape(-1)
    if W1.ndim != 2 or W1.shape[0] != X.shape[1] or W1.shape[1] != w2.shape[0]:
        raise InputError(
            f"network: expected W1 of shape (d={X.shape[1]}, m) and w2 of length m,"
            f" got {W1.shape} and {w2.shape}"
        )
    if not (np.isfinite(W1).all() and np.isfinite(w2).all()):
        raise InputError("network: weights must be finite")
    Xi, ex = int_matrix(X)
    Wi, ew = int_matrix(W1)
    vi, ev = int_matrix(w2)
    Z = Xi.dot(Wi)  # exact integers (N, m), scale 2**(ex+ew)
    Zp = np.where(Z > 0, Z, 0)
    F = Zp.dot(vi)
    sc = _scaled(ex + ew + ev)
    return [Fraction(int(f)) * sc for f in F]


def upper_bound(X: Any, y: Any, W1: Any, w2: Any) -> Fraction:
    """Rigorous ``UB = sum_i ||w1_i|| |w2_i| / min_n y_n f(theta, x_n) >= P*``.

    The margin is exact; each ``||w1_i||`` is bounded above with :func:`sqrt_bounds`.

    Raises
    ------
    InputError
        If the minimum margin is not positive (the network does not separate the data).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> upper_bound(X, np.array([1.0, -1.0]), np.array([[1.0, 0.0], [0.0, 1.0]]),
    ...             np.array([1.0, -1.0]))
    Fraction(2, 1)
    """
    X, y = _check_binary(X, y)
    W1 = np.asarray(W1, dtype=np.float64)
    if W1.ndim == 1:
        W1 = W1[:, None]
    F = exact_margins(X, W1, w2)
    margins = [f if yn > 0 else -f for f, yn in zip(F, y)]
    n = min(range(len(margins)), key=margins.__getitem__)
    if margins[n] <= 0:
        raise InputError(
            f"upper_bound: the network's margin is not positive (sample {n} has "
            f"y_n f(x_n) = {float(margins[n]):.3g}); expected min_n y_n f > 0"
        )
    w2 = np.asarray(w2, dtype=np.float64).reshape(-1)
    total = Fraction(0)
    for i in range(W1.shape[1]):
        if w2[i] == 0:
            continue
        hi = sqrt_bounds(exact_norm_sq(W1[:, i : i + 1].T, np.ones(1)))[1]
        total += hi * abs(Fraction(float(w2[i])))
    return total / margins[n]
