"""Exact tools for symmetric matrix pencils ``(G, H)`` with ``G`` positive definite.

Used by :mod:`verify.geometry.spike_free` to certify, face by face, that the quotient
``c^T H c / c^T G c`` stays at most 1 on a polyhedral cone.  Everything that decides is exact
(Fractions): inertia by symmetric elimination (Sylvester's law), eigenvalue counts in an
interval from two inertias, and the exclusion of an eigenvector from a closed cone by an
exact residual and a Davis--Kahan bound.  Floats (or mpmath at a higher precision) only
propose candidate eigenpairs.

Examples
--------
>>> from fractions import Fraction as Fr
>>> inertia([[Fr(1), Fr(2)], [Fr(2), Fr(1)]])
(1, 1, 0)
>>> G = [[Fr(4), Fr(1)], [Fr(1), Fr(3)]]
>>> H = [[Fr(2), Fr(0)], [Fr(0), Fr(0)]]
>>> count_eigenvalues(G, H, Fr(1, 2), Fr(1))   # the pencil eigenvalues are 0 and 6/11
1
>>> lam, vecs = eigenpairs(G, H, 60)
>>> float(lam[1]), abs(vecs[1][1] / vecs[1][0] + Fr(1, 3)) < Fr(1, 10**50)
(0.5454545454545454, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.linalg

from verify.geometry.rationals import solve_rational

__all__ = [
    "Mat",
    "mat_mul",
    "transpose",
    "mat_inv",
    "int_mat_mul",
    "inertia",
    "quad",
    "count_eigenvalues",
    "float_eigenpairs",
    "eigenpairs",
    "exclude_eigenvectors",
]

Mat = list[list[Fraction]]


def mat_mul(P: Mat, Q: Mat) -> Mat:
    Qt = list(zip(*Q))
    return [[sum((a * b for a, b in zip(row, col)), Fraction(0)) for col in Qt] for row in P]


def transpose(P: Mat) -> Mat:
    return [list(col) for col in zip(*P)]


def mat_inv(P: Mat) -> Mat:
    n = len(P)
    return solve_rational(P, [[int(i == j) for j in range(n)] for i in range(n)])

def inertia(S: Mat) -> tuple[int, int, int]:
    """(positive, negative, zero) eigenvalue counts of a symmetric rational matrix.

    Symmetric elimination with 1x1 and 2x2 pivots (Sylvester's law of inertia).
    """
    S = [list(row) for row in S]
    pos = neg = 0
    while S:
        n = len(S)
        i = next((i for i in range(n) if S[i][i] != 0), None)
        if i is not None:
            p = S[i][i]
            pos, neg = pos + (p > 0), neg + (p < 0)
            keep = [k for k in range(n) if k != i]
            S = [[S[a][b] - S[a][i] * S[i][b] / p for b in keep] for a in keep]
            continue
        ij = next(((i, j) for i in range(n) for j in range(i + 1, n) if S[i][j] != 0), None)
        if ij is None:
            return pos, neg, n
        i, j = ij
        b = S[i][j]  # pivot block [[0, b], [b, 0]]: one positive, one negative eigenvalue
        pos, neg = pos + 1, neg + 1
        keep = [k for k in range(n) if k not in ij]
        # inverse of [[0, b], [b, 0]] is [[0, 1/b], [1/b, 0]]
        S = [[S[a][c] - (S[a][i] * S[j][c] + S[a][j] * S[i][c]) / b for c in keep] for a in keep]
    return pos, neg, 0


def quad(v: list[Fraction], P: Mat, w: list[Fraction] | None = None) -> Fraction:
    w = v if w is None else w
    return sum(
        (v[i] * P[i][j] * w[j] for i in range(len(v)) for j in range(len(w)) if v[i] and w[j]),
        Fraction(0),
    )


def int_mat_mul(P: list[list[int]], Q: list[list[int]]) -> list[list[int]]:
    Qt = list(zip(*Q))
    return [[sum(a * b for a, b in zip(row, col)) for col in Qt] for row in P]


def count_eigenvalues(GF: Mat, HF: Mat, a: Fraction, b: Fraction) -> int:
    """Exact number of pencil eigenvalues in the open interval ``(a, b)``."""

    def above(t: Fraction) -> tuple[int, int]:
        _, neg, zero = inertia([[t * g - h for g, h in zip(gr, hr)] for gr, hr in zip(GF, HF)])
        return neg, zero

    na, _ = above(a)
    nb, zb = above(b)
    return na - nb - zb


def float_eigenpairs(Gq: np.ndarray, Hq: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Float eigenpairs of ``Hq c = lam Gq c`` (diagonally rescaled for conditioning), or
    None when floats cannot compute them (``Gq`` not numerically positive definite, e.g. the
    Gram matrix of a nearly dependent basis of a very thin face, or non-finite entries).

    Examples
    --------
    >>> lam, V = float_eigenpairs(np.eye(2), np.diag([2.0, 1.0]))
    >>> lam.tolist()
    [1.0, 2.0]
    >>> float_eigenpairs(np.ones((2, 2)), np.eye(2)) is None   # singular in floats
    True
    """
    with np.errstate(all="ignore"):
        d = np.diag(Gq)
        if not (np.all(np.isfinite(Gq)) and np.all(np.isfinite(Hq)) and np.all(d > 0)):
            return None
        s = 1.0 / np.sqrt(d)
        try:
            lam, Y = scipy.linalg.eigh(Hq * np.outer(s, s), Gq * np.outer(s, s))
        except (np.linalg.LinAlgError, ValueError):
            return None
        V = Y * s[:, None]
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(V))):
        return None
    return lam, V


def eigenpairs(
    GF: Mat, HF: Mat, dps: int | None
) -> tuple[list[Fraction], list[list[Fraction]]] | None:
    """Eigenpairs of the exact pencil, rounded to rationals: floats, or mpmath at ``dps``.

    Returns eigenvalues (ascending) and eigenvectors (``vecs[i]`` belongs to ``lam[i]``);
    only candidates: every use of them is checked exactly.  None when the precision does not
    suffice to compute them (``GF`` numerically singular): try a higher ``dps``.
    """
    k = len(GF)
    scale = max(abs(x) for row in GF for x in row)
    if dps is None:
        got = float_eigenpairs(
            np.array([[float(x / scale) for x in row] for row in GF]),
            np.array([[float(x / scale) for x in row] for row in HF]),
        )
        if got is None:
            return None
        lam, V = got
        return (
            [Fraction(float(x)) for x in lam],
            [[Fraction(float(V[t, i])) for t in range(k)] for i in range(k)],
        )
    import mpmath

    def frac(x: Any) -> Fraction:
        man, exp = x.man_exp  # the mantissa is unsigned in mpmath
        return (-1 if x < 0 else 1) * Fraction(man) * (Fraction(2) ** exp)

    with mpmath.workdps(dps):

        def mp(P: Mat) -> Any:
            return mpmath.matrix(
                [
                    [
                        mpmath.mpf(x.numerator * scale.denominator)
                        / mpmath.mpf(x.denominator * scale.numerator)
                        for x in row
                    ]
                    for row in P
                ]
            )

        try:
            Linv = mpmath.inverse(mpmath.cholesky(mp(GF)))
            E, Q = mpmath.eigsy(Linv * mp(HF) * Linv.T)
        except (ValueError, ZeroDivisionError):  # not positive definite at this precision
            return None
        V = Linv.T * Q
        order = sorted(range(k), key=lambda i: E[i])
        return [frac(E[i]) for i in order], [[frac(V[t, i]) for t in range(k)] for i in order]


def exclude_eigenvectors(
    G: Mat,
    H: Mat,
    n_big: int,
    lam: Sequence[Fraction],
    vecs: Sequence[Sequence[Fraction]],
    functionals: Sequence[Sequence[Fraction]],
) -> bool:
    """Prove that no eigenvector of ``H c = lam G c`` with ``lam > 1`` lies in ``+-K``.

    ``K = {c : g^T c >= 0 for every g in functionals}``.  ``n_big`` must be the exact number
    of eigenvalues above 1 (the negative inertia of ``G - H``); ``lam``/``vecs`` are rational
    candidate eigenpairs (ascending).  Each of the ``n_big`` top candidates must be isolated
    exactly: an interval ``(a, b)`` inside ``(1, inf)`` holding exactly one eigenvalue (two
    inertias).  With ``y = G^{1/2} c`` and ``S = G^{-1/2} H G^{-1/2}``, Davis--Kahan gives
    ``sin^2 angle(y, v) <= r^T G^{-1} r / (||y||^2 delta^2)`` (``r = (H - mu G) c``, ``delta``
    the distance from ``mu`` to the rest of the spectrum), so the unit eigenvector ``v`` is
    within ``sqrt(2) sin`` of ``y / ||y||``; a functional ``g`` keeps the sign of ``g^T c`` on
    the true eigenvector when ``(g^T c)^2 delta^2 > 2 (g^T G^{-1} g) r^T G^{-1} r``.  One such
    functional negative (the eigenvector leaves ``K``) and one positive (its negative leaves
    ``K``) prove the claim.  Returns ``False`` when this cannot be shown (never a guess).

    Examples
    --------
    >>> from fractions import Fraction as Fr
    >>> G = [[Fr(1), Fr(0)], [Fr(0), Fr(1)]]
    >>> H = [[Fr(2), Fr(0)], [Fr(0), Fr(0)]]        # eigenvalue 2 along e1
    >>> lam, vecs = eigenpairs(G, H, None)
    >>> exclude_eigenvectors(G, H, 1, lam, vecs, [[Fr(-1), Fr(1)], [Fr(1), Fr(1)]])
    True
    >>> exclude_eigenvectors(G, H, 1, lam, vecs, [[Fr(1), Fr(0)], [Fr(0), Fr(1)]])
    False
    """
    k = len(G)
    if n_big == 0:
        return True
    top = list(range(k - n_big, k))
    if lam[top[0]] <= 1:
        return False
    GFinv = mat_inv(G)
    GF, HF = G, H
    gs = [(list(g), quad(list(g), GFinv)) for g in functionals]
    for idx in top:
        others = [abs(lam[idx] - lam[j]) for j in range(k) if j != idx]
        half = min(others) / 2 if others else Fraction(1)
        mu = lam[idx]
        a, b = max(mu - half, Fraction(1)), mu + half
        if not a < mu < b or count_eigenvalues(GF, HF, a, b) != 1:
            return False
        gap = min(mu - a, b - mu)
        c = vecs[idx]
        res = [
            sum((h * x for h, x in zip(hr, c)), Fraction(0))
            - mu * sum((g * x for g, x in zip(gr, c)), Fraction(0))
            for gr, hr in zip(GF, HF)
        ]
        Rn = quad(res, GFinv)
        neg_ok = pos_ok = False
        for g, q in gs:
            ell = sum((x * y for x, y in zip(g, c)), Fraction(0))
            if ell * ell * gap * gap > 2 * q * Rn:
                neg_ok |= ell < 0
                pos_ok |= ell > 0
        if not (neg_ok and pos_ok):
            return False
    return True
