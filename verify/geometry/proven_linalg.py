"""Exact linear algebra on float data: proven ranks and exact signs of inner products.

Floating point finds candidates; a verdict is reached either by a rigorous a-priori error
bound (standard ``gamma_n = n u / (1 - n u)`` bounds with a safety factor of 2, plus an
underflow term) or, where such a bound cannot decide, in exact integer arithmetic.  Every
float is a dyadic rational, so scaling a row by a power of two turns it into integers
exactly; row scalings change neither ranks nor row spans.

Optional ``python-flint`` speeds up exact fallbacks (else pure :mod:`verify.geometry.rationals`).

Examples
--------
>>> import numpy as np
>>> info = exact_rank(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]))
>>> info.rank
2
>>> exact_signs(np.array([[1e16, 1.0, -1e16]]), np.array([[1.0, 1.0, 1.0]])).tolist()
[[1]]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.linalg

from verify.checker import arithmetic
from verify.errors import InputError
from verify.geometry import rationals as exact

try:  # optional accelerator for the exact fallbacks
    import flint as _flint
except ImportError:  # pragma: no cover - exercised only without python-flint
    _flint = None

__all__ = [
    "scaled_roundings",
    "RankInfo",
    "exact_rank",
    "exact_signs",
    "exact_signs_paired",
    "as_float_matrix",
    "integer_rows",
    "float_points_with_signs",
    "unit_rows",
    "group_order",
]

_U = 2.0**-53  # unit roundoff of float64
_ETA = 2.0**-1074  # smallest subnormal
_SMALL_EXACT = 12  # minors up to this size are proven by an exact integer determinant


def _gamma(n: int) -> float:
    return n * _U / (1.0 - n * _U)


@dataclass(frozen=True)
class RankInfo:
    """A proven rank with a nonsingular minor.

    Attributes
    ----------
    rank : int
        The exact rank ``r``.
    rows, cols : tuple of int
        ``X[rows][:, cols]`` is an ``r x r`` minor proven nonsingular.
    proof : str
        How ``rank >= r`` and ``rank <= r`` were shown.
    """

    rank: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    proof: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary.

        Examples
        --------
        >>> RankInfo(1, (0,), (0,), "p").to_dict()["rows"]
        [0]
        """
        return {"rank": self.rank, "rows": [*self.rows], "cols": [*self.cols], "proof": self.proof}


def as_float_matrix(X: Any, *, name: str = "X") -> np.ndarray:
    """Validate ``X`` as a finite 2-D float64 array (a copy only when needed).

    Raises
    ------
    InputError
        If ``X`` is not 2-D numeric or holds NaN/inf.

    Examples
    --------
    >>> as_float_matrix([[1, 2]]).dtype
    dtype('float64')
    """
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected a 2-D array of real numbers ({exc})") from None
    if A.ndim != 2:
        raise InputError(f"{name}: expected a 2-D array, received shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise InputError(f"{name}: expected finite values, received NaN or inf")
    return A


def integer_rows(A: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """Write each row of a float matrix as ``ints * 2**e`` with one exponent per row.

    Returns ``(rows, exponents)``; ``rows[i]`` are Python ints with no common factor of 2
    (unless the row is zero, then all zeros and exponent 0).

    Examples
    --------
    >>> integer_rows(np.array([[0.5, 3.0], [0.0, 0.0]]))
    ([[1, 6], [0, 0]], [-1, 0])
    """
    A = np.asarray(A, dtype=np.float64)
    n, d = A.shape
    mant, ex = np.frexp(A)
    mi = (mant * 2.0**53).astype(np.int64)
    ex = ex.astype(np.int64) - 53
    nz = mi != 0
    # strip trailing zero bits so small integers stay small
    low = np.where(nz, mi & -mi, 1)
    tz = np.frexp(np.abs(low).astype(np.float64))[1].astype(np.int64) - 1
    mi = mi >> tz
    big = np.iinfo(np.int64).max
    ex = np.where(nz, ex + tz, big)
    e0 = ex.min(axis=1) if d else np.zeros(n, dtype=np.int64)
    e0 = np.where(e0 == big, 0, e0)
    sh = np.where(nz, ex - e0[:, None], 0)
    bits = np.frexp(np.abs(mi).astype(np.float64))[1].astype(np.int64) + sh
    fits = np.all(bits <= 62, axis=1) if d else np.ones(n, dtype=bool)
    small = np.where(nz & fits[:, None], mi << np.where(fits[:, None], sh, 0), 0)
    rows: list[list[int]] = small.tolist()
    for i in np.flatnonzero(~fits).tolist():
        rows[i] = [int(m) << int(s) if m else 0 for m, s in zip(mi[i].tolist(), sh[i].tolist())]
    return rows, e0.tolist()


# ----------------------------------------------------------------------------- signs


def exact_signs(X: Any, U: Any) -> np.ndarray:
    """Exact signs of ``X @ u`` for every row ``u`` of ``U``.

    Parameters
    ----------
    X : array (N, d)
        Data, rows ``x_n``.
    U : array (p, d)
        Points ``u_j`` (one per row); a 1-D ``U`` is treated as one point.

    Returns
    -------
    ndarray of int8, shape (p, N)
        ``S[j, n] = sign(x_n . u_j)`` computed exactly.

    Notes
    -----
    The float product is accepted where ``|fl(x.u)| > g fl(|x|.|u|) + 8 d eta`` with ``g`` the
    power of two ``>= 2 gamma_d`` (``eta``: smallest subnormal),
    which bounds the rounding error of any summation order (also with FMA) including
    underflow; the remaining entries (e.g. exact zeros) are decided in integer arithmetic.

    Examples
    --------
    >>> exact_signs(np.array([[1e16, 1.0, -1e16], [0.1, 0.2, 0.0]]),
    ...             np.array([[1.0, 1.0, 1.0], [3.0, -1.5, 7.0]])).tolist()
    [[1, 1], [-1, 0]]
    """
    X = as_float_matrix(X, name="X")
    U = np.asarray(U, dtype=np.float64)
    if U.ndim == 1:
        U = U[None, :]
    U = as_float_matrix(U, name="U")
    N, d = X.shape
    p = U.shape[0]
    if U.shape[1] != d:
        raise InputError(f"exact_signs: U has {U.shape[1]} columns, expected d = {d}")
    out = np.zeros((p, N), dtype=np.int8)
    if N == 0 or p == 0 or d == 0:
        return out
    # g: a power of two >= 2 gamma_d, so scaling by it is exact (up to underflow, which the
    # 8 d eta term covers).  T = g (|u|.|x| + 8 d eta / g) in one product and one scaling.
    g = 2.0 ** math.ceil(math.log2(2.0 * _gamma(d)))
    XT = np.ascontiguousarray(X.T)
    absXT1 = np.vstack([np.abs(XT), np.ones((1, N))])
    absU1 = np.hstack([np.abs(U), np.full((p, 1), 8.0 * d * _ETA / g)])
    chunk = max(1, (1 << 16) // max(N, 1), min(d, 512) // 4)  # cache-sized blocks
    undecided: list[tuple[np.ndarray, np.ndarray]] = []
    with np.errstate(over="ignore", invalid="ignore"):
        for s in range(0, p, chunk):
            if d <= 4:  # tiny inner dimension: broadcasting beats BLAS
                Uc, Ac = U[s : s + chunk], absU1[s : s + chunk]
                F = Uc[:, 0:1] * XT[0]
                T = Ac[:, 0:1] * absXT1[0]
                for k in range(1, d):
                    F += Uc[:, k : k + 1] * XT[k]
                    T += Ac[:, k : k + 1] * absXT1[k]
                T += Ac[:, d : d + 1]
            else:
                F = U[s : s + chunk] @ XT
                T = absU1[s : s + chunk] @ absXT1
            T *= g
            dec = np.abs(F) > T  # False for NaN / inf bounds
            out[s : s + chunk] = np.sign(F, out=F)
            if not dec.all():
                jj, nn = np.nonzero(~dec)
                undecided.append((jj + s, nn))
    if undecided:
        jj = np.concatenate([a for a, _ in undecided])
        nn = np.concatenate([b for _, b in undecided])
        out[jj, nn] = _exact_dot_signs(X, U, jj, nn)
    return out


def exact_signs_paired(A: Any, B: Any) -> np.ndarray:
    """Exact signs of the row-wise inner products ``A[i] . B[i]`` (int8, shape ``(len(A),)``).

    Same rigorous float filter and exact fallback as :func:`exact_signs`.

    Examples
    --------
    >>> exact_signs_paired(np.array([[1e16, 1.0, -1e16], [1.0, 2.0, 0.0]]),
    ...                    np.array([[1.0, 1.0, 1.0], [2.0, -1.0, 5.0]])).tolist()
    [1, 0]
    """
    A = as_float_matrix(A, name="A")
    B = as_float_matrix(B, name="B")
    if A.shape != B.shape:
        raise InputError(f"exact_signs_paired: shapes differ ({A.shape} and {B.shape})")
    d = A.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        F = np.einsum("ij,ij->i", A, B)
        T = 2.0 * _gamma(d) * np.einsum("ij,ij->i", np.abs(A), np.abs(B)) + 4.0 * d * _ETA
        dec = np.abs(F) > T
        out = np.where(dec, np.sign(F), 0).astype(np.int8)
    idx = np.flatnonzero(~dec)
    if idx.size and d:
        out[idx] = _exact_dot_signs(B, A, idx, idx)
    return out


def _exact_dot_signs(X: np.ndarray, U: np.ndarray, jj: np.ndarray, nn: np.ndarray) -> np.ndarray:
    """Exact signs of ``U[jj[k]] . X[nn[k]]`` (integer arithmetic)."""
    uj, jinv = np.unique(jj, return_inverse=True)
    un, ninv = np.unique(nn, return_inverse=True)
    ui, _ = integer_rows(U[uj])
    xi, _ = integer_rows(X[un])
    d = X.shape[1]
    bu = max((abs(v).bit_length() for r in ui for v in r), default=0)
    bx = max((abs(v).bit_length() for r in xi for v in r), default=0)
    if bu + bx + max(d, 1).bit_length() <= 62:
        Ui = np.array(ui, dtype=np.int64).reshape(len(ui), d)
        Xi = np.array(xi, dtype=np.int64).reshape(len(xi), d)
        vals = np.einsum("ij,ij->i", Ui[jinv], Xi[ninv])
        return np.sign(vals).astype(np.int8)
    res = np.empty(len(jj), dtype=np.int8)
    for k, (a, b) in enumerate(zip(jinv.tolist(), ninv.tolist())):
        v = sum(p * q for p, q in zip(ui[a], xi[b]))
        res[k] = (v > 0) - (v < 0)
    return res


def float_points_with_signs(
    normals: list[tuple[int, ...]], points: list[list[Fraction]]
) -> np.ndarray:
    """Float points with exactly the same (nonzero) signs against integer ``normals`` as the
    rational ``points`` (interior points of chambers, e.g. of very thin ones).

    All coordinates but the smallest one are rounded (or moved a few floats), the last is
    put inside its exact open interval; failing that, the plain rounding is returned.

    Examples
    --------
    >>> e = Fraction(1, 2**53)
    >>> n = [(1, 1, 0), (2**52, 2**52 + 1, 0), (1, 0, 0)]
    >>> p = float_points_with_signs(n, [[Fraction(1), -1 + e, Fraction(0)]])
    >>> exact_signs(np.array(n, dtype=float), p).tolist()
    [[1, -1, 1]]
    """
    # positive scaling keeps every sign: bring each point to max |coordinate| = 1 first
    points = [[q / max(abs(v) for v in p) for q in p] if any(p) else p for p in points]
    out = np.array([[float(q) for q in p] for p in points], dtype=np.float64)
    out = out.reshape(len(points), len(normals[0]) if normals else 0)
    for f, p in enumerate(points):
        target = [_sign(sum(a * q for a, q in zip(h, p))) for h in normals]
        w = [Fraction(v) for v in out[f]]
        if all(_sign(sum(a * q for a, q in zip(h, w))) == t for h, t in zip(normals, target)):
            continue
        found = _search_point(normals, p, target)
        out[f] = out[f] if found is None else found
    return out


def _sign(v: Fraction | int) -> int:
    return (v > 0) - (v < 0)


def _search_point(
    normals: list[tuple[int, ...]], p: list[Fraction], target: list[int]
) -> list[float] | None:
    r = len(p)
    big = max(abs(q) for q in p)
    if big == 0:
        return None
    last = min(range(r), key=lambda c: abs(p[c]))
    rest = [c for c in range(r) if c != last]
    for scale in (1 / big, Fraction(3, 2) / big, Fraction(5, 4) / big, Fraction(1)):
        q = [v * scale for v in p]
        near = []
        for c in rest:
            x = float(q[c])
            opts = [x]
            for direction in (np.inf, -np.inf):
                y = x
                for _ in range(3):
                    y = float(np.nextafter(y, direction))
                    opts.append(y)
            near.append(opts)
        for prefix in itertools.product(*near):
            lo, hi = None, None
            feasible = True
            for h, t in zip(normals, target):
                a = sum(Fraction(h[c]) * Fraction(x) for c, x in zip(rest, prefix))
                k = h[last] * t  # need t * (a + h_last z) > 0
                if k == 0:
                    if a * t <= 0:
                        feasible = False
                        break
                    continue
                bound = -a / h[last]
                if k > 0:
                    lo = bound if lo is None else max(lo, bound)
                else:
                    hi = bound if hi is None else min(hi, bound)
            if not feasible or (lo is not None and hi is not None and lo >= hi):
                continue
            z = 0.0
            if lo is None and hi is not None:
                z = float(hi) - abs(float(hi)) - 1.0
            elif hi is None and lo is not None:
                z = float(lo) + abs(float(lo)) + 1.0
            elif lo is not None and hi is not None:
                z = float((lo + hi) / 2)
            if (lo is None or Fraction(z) > lo) and (hi is None or Fraction(z) < hi):
                w = [0.0] * r
                for c, x in zip(rest, prefix):
                    w[c] = x
                w[last] = z
                return w
    return None


def unit_rows(A: np.ndarray) -> np.ndarray:
    """Rows scaled to unit Euclidean length without overflow (power-of-two prescaling).

    Examples
    --------
    >>> unit_rows(np.array([[3e300, 4e300]])).tolist()
    [[0.6, 0.8]]
    """
    with np.errstate(all="ignore"):  # approximate: underflow of tiny entries is harmless
        B = A * np.exp2(-np.floor(np.log2(np.max(np.abs(A), axis=1))))[:, None]
        return B / np.linalg.norm(B, axis=1)[:, None]


def _unit2(H: np.ndarray) -> np.ndarray:
    """Scale rows by powers of two so the max |entry| of each row is in [1, 2); rows whose
    scaling would not be exact (underflow of small entries) are left unscaled."""
    with np.errstate(all="ignore"):
        e = np.floor(np.log2(np.max(np.abs(H), axis=1)))
        S = H * np.exp2(-e)[:, None]
        bad = ~np.all(S * np.exp2(e)[:, None] == H, axis=1)
    S[bad] = H[bad]
    return S


def group_order(keys: np.ndarray, sort_group: Any) -> np.ndarray:
    """Order grouping equal ``keys`` (ascending), each group sorted by ``sort_group(idx)``.

    Examples
    --------
    >>> group_order(np.array([1, 0, 1]), lambda idx: list(range(len(idx)))[::-1]).tolist()
    [1, 2, 0]
    """
    by_key = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.r_[True, keys[by_key][1:] != keys[by_key][:-1], True])
    parts = []
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        idx = by_key[a:b]
        parts.append(idx[np.asarray(sort_group(idx), dtype=np.int64)])
    return np.concatenate(parts)


# ----------------------------------------------------------------------------- rank


def _prove_nonsingular(M: np.ndarray) -> tuple[bool, str]:
    """Prove a square float matrix nonsingular; ``(False, why)`` if it is singular."""
    r = M.shape[0]
    if r == 0:
        return True, "empty minor"
    if r > _SMALL_EXACT:
        ok, how = _float_nonsingular(M)
        if ok:
            return True, how
    det = _int_det(M)
    if det != 0:
        return True, f"exact integer determinant of the dyadic-scaled {r}x{r} minor is nonzero"
    return False, "minor is exactly singular"


def _float_nonsingular(M: np.ndarray) -> tuple[bool, str]:
    """Rigorous float test: approximate inverse ``R`` with ``||I - R M||_inf < 1``."""
    r = M.shape[0]
    # exact power-of-two row/column equilibration (does not change singularity)
    with np.errstate(divide="ignore"):
        rs = np.exp2(-np.floor(np.log2(np.max(np.abs(M), axis=1))))
        A = M * rs[:, None]
        cs = np.exp2(-np.floor(np.log2(np.max(np.abs(A), axis=0))))
    if not (np.all(np.isfinite(rs)) and np.all(np.isfinite(cs))):
        return False, "zero row or column"
    A = A * cs[None, :]
    with np.errstate(all="ignore"):
        if not np.array_equal(A * (1.0 / cs)[None, :] * (1.0 / rs)[:, None], M):
            return False, "equilibration not exact (underflow)"
    try:
        R = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        return False, "float inverse failed"
    if not np.all(np.isfinite(R)):
        return False, "float inverse not finite"
    with np.errstate(over="ignore", invalid="ignore"):
        P = R @ A
        E = np.eye(r) - P
        B = np.abs(R) @ np.abs(A)
        g = _gamma(r + 2)
        # |E_true| <= |fl(E)|(1+u) + gamma_r |R||A| (1+gamma_r) + underflow; the row sums
        # computed in floats lose at most gamma_r relatively: a safety factor 2 covers all.
        rows = np.sum(np.abs(E), axis=1) + g * np.sum(B, axis=1) + 4.0 * r * r * _ETA
        bound = 2.0 * float(np.max(rows))
    if np.isfinite(bound) and bound < 1.0:
        return True, (
            f"approximate inverse R with rigorous ||I - R A||_inf <= {bound:.3g} < 1 "
            f"(gamma_n bounds, safety factor 2) on the power-of-2 equilibrated {r}x{r} minor"
        )
    return False, f"float bound {bound:.3g} not < 1"


def _int_det(M: np.ndarray) -> int:
    rows, _ = integer_rows(M)
    if _flint is not None:
        return int(_flint.fmpz_mat(rows).det())
    return exact.integer_det(rows)


def _rows_in_span(X: np.ndarray, rows: list[int], cols: list[int]) -> bool:
    """Exact check: every row of ``X`` lies in the span of ``X[rows]`` (minor nonsingular)."""
    N, d = X.shape
    other_r = [i for i in range(N) if i not in set(rows)]
    other_c = [j for j in range(d) if j not in set(cols)]
    if not other_r or not other_c:
        return True
    nz = np.any(X[other_r] != 0, axis=1)
    other_r = [i for i, z in zip(other_r, nz) if z]
    if not other_r:
        return True
    R0, _ = integer_rows(X[rows])
    Ot, _ = integer_rows(X[other_r])
    M = [[row[j] for j in cols] for row in R0]
    B = [[row[j] for j in other_c] for row in R0]
    C = [[row[j] for j in cols] for row in Ot]
    D = [[row[j] for j in other_c] for row in Ot]
    if _flint is not None:
        T = _flint.fmpz_mat(M).solve(_flint.fmpz_mat(B))  # M^{-1} B, exact rationals
        return _flint.fmpq_mat(_flint.fmpz_mat(C)) * T == _flint.fmpq_mat(_flint.fmpz_mat(D))
    T = exact.solve_rational(M, B)
    for c_row, d_row in zip(C, D):
        for k in range(len(other_c)):
            if sum(c * T[i][k] for i, c in enumerate(c_row)) != d_row[k]:
                return False
    return True


def _exact_full(X: np.ndarray) -> RankInfo:
    """Exact rank and pivots of the whole matrix (fallback when the candidate fails)."""
    rows_int, _ = integer_rows(X)
    if _flint is not None:
        E, _den, r = _flint.fmpz_mat(rows_int).rref()
        ent = E.tolist()
        cols = [next(j for j, v in enumerate(ent[i]) if v != 0) for i in range(r)]
        sub = [[rows_int[i][j] for i in range(len(rows_int))] for j in cols]
        E2, _den2, r2 = _flint.fmpz_mat(sub).rref()
        ent2 = E2.tolist()
        rws = [next(j for j, v in enumerate(ent2[i]) if v != 0) for i in range(r2)]
        how = "python-flint"
    else:
        r, rws, cols = arithmetic.integer_rank(rows_int)
        how = "verify.geometry.rationals Bareiss"
    return RankInfo(
        rank=int(r),
        rows=tuple(sorted(int(i) for i in rws)),
        cols=tuple(sorted(int(j) for j in cols)),
        proof=f"exact integer elimination ({how}) of the dyadic-scaled matrix",
    )


def _lu_preselect(A: np.ndarray) -> np.ndarray:
    """Rows chosen by LU with partial pivoting of a tall matrix ``A`` (first ``ncols``)."""
    ipiv, perm = scipy.linalg.lapack.dgetrf(A)[1], np.arange(A.shape[0])
    for k, p in enumerate(ipiv[: A.shape[1]]):
        perm[k], perm[p] = perm[p], perm[k]
    return np.sort(perm[: A.shape[1]])


def _candidate(X: np.ndarray) -> tuple[list[int], list[int], int]:
    """Float candidate ``(rows, cols, r)`` from (LU-preselected) pivoted QR."""
    N, d = X.shape
    row_pool = np.arange(N)
    col_pool = np.arange(d)
    if N > 2 * d:
        row_pool = _lu_preselect(X)
    elif d > 2 * N:
        col_pool = _lu_preselect(X.T)
    sub = X[np.ix_(row_pool, col_pool)]
    Rr, prow = scipy.linalg.qr(sub.T, mode="r", pivoting=True)
    diag = np.abs(np.diag(Rr))
    tol = max(N, d) * np.finfo(float).eps * (diag[0] if diag.size else 0.0)
    r = int(np.sum(diag > tol))
    rows = sorted(int(row_pool[i]) for i in prow[:r])
    _, pcol = scipy.linalg.qr(X[rows], mode="r", pivoting=True)
    cols = sorted(int(j) for j in pcol[:r])
    return rows, cols, r


def exact_rank(X: Any) -> RankInfo:
    """Proven rank of a float matrix with a proven-nonsingular minor.

    A candidate comes from pivoted QR; ``rank >= r`` is proven by the nonsingularity of the
    minor (exact determinant when small, otherwise a rigorous approximate-inverse bound with
    exact fallback); ``rank <= r`` is trivial when ``r = min(N, d)``, otherwise every row is
    shown exactly to lie in the span of the chosen rows.  If the candidate fails, the rank is
    computed by exact integer elimination.

    Examples
    --------
    >>> exact_rank(np.zeros((2, 3))).rank
    0
    >>> info = exact_rank(np.array([[1.0, 1.0], [1.0, 1.0 + 2.0**-52]]))
    >>> info.rank, info.rows, info.cols
    (2, (0, 1), (0, 1))
    """
    X = as_float_matrix(X)
    N, d = X.shape
    if N == 0 or d == 0 or not np.any(X):
        return RankInfo(0, (), (), "zero matrix: rank 0")
    rows, cols, r = _candidate(X)
    ok, how = _prove_nonsingular(X[np.ix_(rows, cols)])
    if ok:
        if r == min(N, d):
            upper = f"rank <= min(N, d) = {r}"
        elif _rows_in_span(X, rows, cols):
            upper = "every row lies in the span of the chosen rows (exact rational check)"
        else:
            ok = False
    if not ok:
        return _exact_full(X)
    return RankInfo(
        rank=r,
        rows=tuple(rows),
        cols=tuple(cols),
        proof=f"rank >= {r}: {how}; rank <= {r}: {upper}",
    )


def scaled_roundings(pts: list[tuple[int, ...]], r: int) -> np.ndarray:
    """Float roundings of integer points scaled to max ``|coordinate|`` = 1 (no overflow).

    Examples
    --------
    >>> scaled_roundings([(2**2000, -(2**1999)), (0, 0)], 2).tolist()
    [[1.0, -0.5], [0.0, 0.0]]
    """
    out = np.zeros((len(pts), r))
    for i, u in enumerate(pts):
        top = max((abs(v) for v in u), default=0)
        if top:
            out[i] = [float(Fraction(v, top)) for v in u]
    return out
