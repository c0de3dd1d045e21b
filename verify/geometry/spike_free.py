"""Exact spike-free test of a data matrix (Definition 2 / eq. (30) of the paper).

``X`` is spike-free iff for every ``||u|| <= 1`` there is ``||z|| <= 1`` with ``(Xu)_+ = Xz``.
On the closure ``K_j`` of chamber ``j`` (pattern ``D_j``) we have ``(Xu)_+ = D_j X u``, so the
condition splits into

(a) the range condition ``D_j X u in range(X)`` for ``u`` in ``K_j``: since ``K_j`` is
    full-dimensional in the row space this is the matrix identity ``D_j A = A M_j`` (``A`` the
    reduced ``N x r`` data, ``M_j`` solved exactly), decided in rational arithmetic;
(b) the spike value ``s_j^2 = max_{u in K_j} ||X^+ D_j X u||^2 / ||u||^2 <= 1`` with ``u`` in
    the row space (components orthogonal to it only increase ``||u||``).

``K_j`` is partitioned into the relatively open faces of the arrangement below chamber ``j``;
the maximiser lies in one face ``F`` and, the face being open in its span, is an eigenvector
of the pencil ``(H_F, G_F)`` (quotient restricted to ``span F``) lying in ``relint F``.  So the
maximum is the largest such eigenvalue, and since ``H_F`` does not depend on which chamber
contains ``F``, every face is analysed once.  Floats find the candidates; the verdicts are
exact:

* a violation is an exact rational ``u`` with ``(Xu)_+`` outside ``range(X)`` or
  ``||X^+ (Xu)_+||^2 > ||u||^2`` (checked in rationals);
* "spike-free" needs every face certified, either by an exact inertia computation showing
  ``G_F - H_F`` positive semidefinite (this settles whitened data, where the value is 1; it
  certifies every face below too), or, for each of the (exactly counted) eigenvalues above 1,
  an exact isolating interval, an exact residual and a Davis--Kahan bound proving that the
  eigenvector and its negative both violate a strict inequality of the face.  When neither
  decides, the verdict is ``None`` (unknown), never a guess.

Examples
--------
>>> spike_free([[1.0, 0.0], [0.0, 1.0]]).spike_free
True
>>> rep = spike_free([[1.65, 0.47], [-0.47, 1.35]])   # the paper's Appendix F.1
>>> rep.spike_free, round(rep.spike_value, 4)
(False, 1.0017)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.linalg

from verify.checker.arithmetic import format_rational, integer_rank
from verify.errors import EnumerationLimitError, InputError
from verify.geometry.faces import as_integer_matrix, enumerate_faces, sign_string
from verify.geometry.quadratic_forms import (
    Mat,
    eigenpairs,
    exclude_eigenvectors,
    float_eigenpairs,
    inertia,
    int_mat_mul,
    mat_inv,
    mat_mul,
    quad,
    transpose,
)
from verify.geometry.rationals import integer_det
from verify.progress import progress

__all__ = ["SpikeFreeReport", "spike_free"]


@dataclass(frozen=True)
class SpikeFreeReport:
    """Verdict of :func:`spike_free`.

    Attributes
    ----------
    spike_free : bool or None
        ``True`` proven, ``False`` refuted by an exact witness, ``None`` undecided.
    spike_value : float or None
        ``max_{||u|| <= 1} ||X^+ (Xu)_+||`` (float estimate; when spike-free is proven the
        value is clamped to the proven bound 1, and equals 1 exactly when a face attains it
        exactly).  ``None`` when a range condition fails or nothing was enumerated.
    witness : list of float or None
        Unit vector ``u`` in the row space attaining ``spike_value`` (or the violation).
    witness_exact : list of str or None
        The exact rational ``u`` (``"p/q"`` strings, any positive scaling) that was checked.
    witness_value_sq : str or None
        Exact ``||X^+ (Xu)_+||^2 / ||u||^2`` at ``witness_exact`` (a proven lower bound of the
        squared spike value); ``None`` when ``(Xu)_+`` is outside ``range(X)``.
    range_violation : dict or None
        ``{"chamber": sign string, "witness": exact u}`` when ``(Xu)_+`` leaves ``range(X)``.
    reason : str
        Why the verdict is what it is.
    chambers_checked, faces_checked : int
        Chambers whose range condition was decided; faces analysed.
    n_chambers : int or None
        Number of chambers (``None`` if the enumeration hit the limit).
    rank : int
        Exact rank of ``X``.
    method : str
        ``"trivial"``, ``"exact-faces"``, ``"sampling"`` (beyond the face limit) or
        ``"skipped"`` (beyond the face limit, data too large to sample exactly).
    """

    spike_free: bool | None
    spike_value: float | None
    witness: list[float] | None
    witness_exact: list[str] | None
    witness_value_sq: str | None
    range_violation: dict[str, Any] | None
    reason: str
    chambers_checked: int
    faces_checked: int
    n_chambers: int | None
    rank: int
    method: str
    undecided_faces: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of the report."""
        return {
            "spike_free": self.spike_free,
            "spike_value": self.spike_value,
            "witness": self.witness,
            "witness_exact": self.witness_exact,
            "witness_value_sq": self.witness_value_sq,
            "range_violation": self.range_violation,
            "reason": self.reason,
            "chambers_checked": self.chambers_checked,
            "faces_checked": self.faces_checked,
            "n_chambers": self.n_chambers,
            "rank": self.rank,
            "method": self.method,
            "undecided_faces": list(self.undecided_faces),
        }


class _Exact:
    """Exact data in reduced coordinates: ``A = X_int[:, cols]`` (N x r), ``C = A[prow]``.

    A point ``w`` in ``R^r`` stands for the row-space vector ``u`` with ``Xu = c A w``
    (``c > 0`` the integer scaling); ``||u||^2 = w^T G w`` with ``G = C^T (R R^T)^{-1} C``.
    """

    def __init__(self, rows: list[list[int]], r: int, prow: list[int], cols: list[int]):
        self.A = [[row[c] for c in cols] for row in rows]
        self.N, self.r, self.prow = len(rows), r, prow
        R = [rows[i] for i in prow]
        C = [[Fraction(self.A[i][j]) for j in range(r)] for i in prow]
        RRt_inv = mat_inv([[Fraction(sum(a * b for a, b in zip(p, q))) for q in R] for p in R])
        self.Cinv = mat_inv(C)
        self.G = mat_mul(mat_mul(transpose(C), RRt_inv), C)
        self.U = mat_mul(
            mat_mul(transpose([[Fraction(x) for x in row] for row in R]), RRt_inv), C
        )  # d x r
        # Integer versions for the per-face work: adj(C) = det(C) C^{-1}, and
        # Gi = det(R R^T) G.  Then det(C)^2 Gi and (adj(C) Y)^T Gi (adj(C) Y) are the forms
        # G_F, H_F times the same positive factor det(C)^2 det(R R^T).
        det_c = integer_det([[self.A[i][j] for j in range(r)] for i in prow])
        det_r = integer_det([[sum(a * b for a, b in zip(p, q)) for q in R] for p in R])
        self.adj_c = [[int(det_c * x) for x in row] for row in self.Cinv]
        self.det_c2 = det_c * det_c
        self.det_c = det_c
        self.Gi = [[int(det_r * x) for x in row] for row in self.G]

    def apply(self, w: list[Fraction]) -> list[Fraction]:
        return [sum((Fraction(a) * b for a, b in zip(row, w) if a), Fraction(0)) for row in self.A]

    def preimage(self, y: list[Fraction]) -> list[Fraction] | None:
        """``c`` with ``A c = y`` exactly, or ``None`` if ``y`` is outside ``range(A)``."""
        yp = [y[i] for i in self.prow]
        c = [sum((a * b for a, b in zip(row, yp)), Fraction(0)) for row in self.Cinv]
        return c if self.apply(c) == y else None

    def check(self, w: list[Fraction]) -> tuple[bool, Fraction | None]:
        """Exact test of one point: (``(Aw)_+`` in range, ratio ``||X^+(Xu)_+||^2/||u||^2``)."""
        y = [max(v, Fraction(0)) for v in self.apply(w)]
        c = self.preimage(y)
        if c is None:
            return False, None
        den = quad(w, self.G)
        return True, (quad(c, self.G) / den if den else Fraction(0))

    def to_u(self, w: list[Fraction]) -> list[Fraction]:
        return [sum((a * b for a, b in zip(row, w)), Fraction(0)) for row in self.U]


def _unit_float(u: list[Fraction]) -> list[float]:
    big = max((abs(x) for x in u), default=Fraction(0))
    if big == 0:
        return [0.0] * len(u)
    v = np.array([float(x / big) for x in u])
    return [float(x) for x in v / np.linalg.norm(v)]


def _face_forms(ex: _Exact, B: list[list[int]], sigma: np.ndarray) -> tuple[Mat, Mat]:
    """``G_F = B^T G B`` and ``H_F = Z^T G Z`` with ``A Z = D_F A B`` (columns of B are rays),
    both times one positive constant (integer arithmetic), as Fractions."""
    Bm = [list(t) for t in zip(*B)]  # r x k
    Y = [
        [sum(a * b for a, b in zip(ex.A[i], col)) for col in B] if sigma[i] > 0 else [0] * len(B)
        for i in ex.prow
    ]
    Z = int_mat_mul(ex.adj_c, Y)
    Bt = [list(col) for col in B]
    GF = int_mat_mul(int_mat_mul(Bt, ex.Gi), Bm)
    HF = int_mat_mul(int_mat_mul([list(t) for t in zip(*Z)], ex.Gi), Z)
    return (
        [[Fraction(ex.det_c2 * x) for x in row] for row in GF],
        [[Fraction(x) for x in row] for row in HF],
    )


def _face_functionals(ex: _Exact, B: list[list[int]], sigma: np.ndarray) -> list[list[Fraction]]:
    """``sigma_n (A B)_n`` for the rows not vanishing on the face: ``closure F = {B c : >= 0}``."""
    return [
        [Fraction(int(sigma[i]) * sum(a * b for a, b in zip(ex.A[i], col))) for col in B]
        for i in range(ex.N)
        if sigma[i] != 0
    ]


def _trivial(r: int, reason: str) -> SpikeFreeReport:
    return SpikeFreeReport(True, 0.0, None, None, None, None, reason, 0, 0, 1, r, "trivial")


def _range_ok_chunk(sigmas: list[np.ndarray], ex: _Exact) -> list[bool]:
    """The exact range identity of part (a) for a chunk of chambers (picklable)."""
    out = []
    for sigma in sigmas:
        DA = [ex.A[i] if sigma[i] > 0 else [0] * len(ex.A[i]) for i in range(ex.N)]
        M = int_mat_mul(ex.adj_c, [DA[i] for i in ex.prow])
        out.append(int_mat_mul(ex.A, M) == [[ex.det_c * x for x in row] for row in DA])
    return out


def _chamber_forms_chunk(items: list, shared: tuple) -> list[tuple]:
    """``(B, GF, HF, neg)`` of part (b) for a chunk of ``(sigma, below)`` (picklable)."""
    ex, ray_w = shared
    out = []
    for sigma, below in items:
        _, piv_e, _ = integer_rank([ray_w[i] for i in below])
        B = [ray_w[below[p]] for p in piv_e]
        GF, HF = _face_forms(ex, B, sigma)
        _, neg, _ = inertia([[g - h for g, h in zip(gr, hr)] for gr, hr in zip(GF, HF)])
        out.append((B, GF, HF, neg))
    return out


def _on(executor: Any, fn: Any, items: list, shared: Any) -> list:
    from verify.distributed import map_chunks, n_workers, split_chunks

    chunks = split_chunks(items, 4 * n_workers(executor), min_size=8)
    return [x for part in map_chunks(fn, chunks, executor, shared=shared) for x in part]


#: Largest rank, and rank times samples, of the sampled exact search beyond the face limit.
_SAMPLED_MAX_RANK = 40
_SAMPLED_MAX_ENTRIES = 200_000


def _too_many_faces(X: Any, limit: int, rank: int | None) -> tuple[int, int, str] | None:
    """``(rank, N, reason)`` when ``X`` has provably more than ``limit`` faces, decided
    before any exact integer work: rank ``r`` (proven, :func:`exact_rank`, or the caller's)
    gives at least ``2^r`` chambers.  Only for float or integer arrays (other input is
    small)."""
    arr = X if isinstance(X, np.ndarray) else None
    if arr is None or arr.ndim != 2 or arr.dtype.kind not in "fiu" or not arr.size:
        return None
    if not np.isfinite(arr).all():
        return None  # the exact route gives the error
    from verify.geometry.proven_linalg import exact_rank

    r = exact_rank(arr).rank if rank is None else int(rank)
    if r < 2 or 2**r + 1 <= limit:
        return None
    return r, arr.shape[0], (
        f"face enumeration skipped: rank {r} gives at least 2^{r} chambers, more than the "
        f"limit of {limit} faces"
    )


def spike_free(
    X: Any,
    *,
    limit: int | None = None,
    samples: int = 4000,
    seed: int = 0,
    executor: Any = None,
    rank: int | None = None,
) -> SpikeFreeReport:
    """Decide exactly whether ``X`` is spike-free and compute its spike value.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Data matrix (floats are exact binary rationals; Fractions and ``"p/q"`` accepted).
    limit : int, optional
        Limit on the number of arrangement faces (the work of the exact test is proportional
        to it); beyond it only sampling is tried, which can refute (with an exact witness) but
        never prove the property.  Data of rank ``r`` with ``2^r`` above the limit are refused
        before any exact work; when their rank or size is large too
        (``_SAMPLED_MAX_RANK``, ``_SAMPLED_MAX_ENTRIES``) the sampling is skipped as well
        (method ``"skipped"``, verdict ``None``).  ``None``: no limit.
    samples, seed : int
        Number of random directions and the seed of that fallback.
    executor : distributed.Client or concurrent.futures.Executor, optional
        Run the exact per-chamber work (range identities, face forms and inertias) there
        (:func:`verify.distributed.map_chunks`); the report is identical.
    rank : int, optional
        The proven rank of ``X`` when the caller has it (saves the face-budget check its own
        :func:`~verify.geometry.proven_linalg.exact_rank`; only used with ``limit``).

    Returns
    -------
    SpikeFreeReport

    Examples
    --------
    >>> rep = spike_free([[1.65, 0.47], [0.47, 1.35]])   # the paper's Appendix F.2
    >>> rep.spike_free, rep.spike_value
    (True, 1.0)
    >>> spike_free([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]).range_violation is not None
    True
    """
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise InputError(f"samples: expected a positive int, received {samples!r}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InputError(f"limit: expected a positive int or None, received {limit!r}")
    skipped = None if limit is None else _too_many_faces(X, limit, rank)
    if skipped is not None:
        r, n, why = skipped
        if r > _SAMPLED_MAX_RANK or n * r > _SAMPLED_MAX_ENTRIES:
            return SpikeFreeReport(
                None, None, None, None, None, None,
                f"{why}; the exact sampled search is skipped too (rank {r}, {n} samples)",
                0, 0, None, r, "skipped",
            )
    rows, n, d = as_integer_matrix(X)
    r, prow, cols = integer_rank(rows) if n and d else (0, [], [])
    if r == 0:
        return _trivial(0, "X = 0: (Xu)_+ = 0 = X 0 for every u")
    ex = _Exact(rows, r, prow, sorted(cols))
    if skipped is not None:
        return _sampled(ex, rows, r, samples, seed, skipped[2])
    try:
        fc = enumerate_faces(X, limit=limit)
    except EnumerationLimitError as exc:
        return _sampled(ex, rows, r, samples, seed, f"face enumeration stopped: {exc}")
    widx = list(fc.columns)

    def w_of(j: int) -> list[Fraction]:
        return [Fraction(fc.witnesses[j][c]) for c in widx]

    chambers = fc.of_dim(r)
    rays = fc.of_dim(1)
    ray_signs = fc.signs[rays]

    # (a) range condition per chamber, exactly.
    checked = 0
    range_ok = None
    if executor is not None and n != r:
        range_ok = _on(executor, _range_ok_chunk, [fc.signs[j] for j in chambers], ex)
    for t, j in enumerate(chambers):
        checked += 1
        if n == r or (range_ok is not None and range_ok[t]):  # full row rank: all of R^n
            continue
        sigma = fc.signs[j]
        DA = [ex.A[i] if sigma[i] > 0 else [0] * r for i in range(n)]
        M = int_mat_mul(ex.adj_c, [DA[i] for i in prow])  # det(C) times the exact solution
        if int_mat_mul(ex.A, M) == [[ex.det_c * x for x in row] for row in DA]:
            continue
        base = w_of(j)
        below = [
            rays[t]
            for t in range(len(rays))
            if ((ray_signs[t] == 0) | (ray_signs[t] == sigma)).all()
        ]
        for cand in [base] + [
            [b + Fraction(fc.witnesses[i][c]) for b, c in zip(base, widx)] for i in below
        ]:
            ok, _ = ex.check(cand)
            if not ok:
                u = ex.to_u(cand)
                return SpikeFreeReport(
                    False,
                    None,
                    _unit_float(u),
                    [format_rational(x) for x in u],
                    None,
                    {"chamber": sign_string(sigma), "witness": [format_rational(x) for x in u]},
                    f"range condition fails on chamber {sign_string(sigma)}: (Xu)_+ is not in "
                    "range(X) at the exact witness",
                    checked,
                    0,
                    len(chambers),
                    r,
                    "exact-faces",
                )
        raise AssertionError("range identity fails but no witness found")  # pragma: no cover

    # (b) spike value: every face of dimension >= 1, once.  Floats for the candidates ...
    scale_a = float(max(abs(x) for row in ex.A for x in row))
    Af = np.array(ex.A, dtype=float) / scale_a
    Cinv_f = np.linalg.inv(Af[prow])
    G_f = np.array([[float(x) for x in row] for row in ex.G])
    ray_w = [[fc.witnesses[i][c] for c in widx] for i in rays]
    Rf = np.array([[float(Fraction(x, max(abs(y) for y in w))) for x in w] for w in ray_w])
    Rf /= np.linalg.norm(Rf, axis=1)[:, None]
    mask_pos = fc.signs > 0
    best_val, best_w = -1.0, None  # float squared value and an exact point near it
    ray_vals: list[tuple[float, int]] = []
    certified = np.zeros(len(fc), dtype=bool)
    undecided: list[str] = []
    violation: tuple[list[Fraction], Fraction] | None = None
    pre: dict[int, tuple] = {}
    if executor is not None:
        below_of = [
            np.flatnonzero(((ray_signs == 0) | (ray_signs == fc.signs[j])).all(axis=1))
            for j in chambers
        ]
        items = [(fc.signs[j], b) for j, b in zip(chambers, below_of)]
        pre = dict(zip(map(int, chambers), _on(executor, _chamber_forms_chunk, items, (ex, ray_w))))
    bar = progress("spike-free: faces", total=len(fc), delay=0.5)
    for j in sorted(range(len(fc)), key=lambda t: -int(fc.dims[t])):
        bar.advance()
        k = int(fc.dims[j])
        if k == 0:
            continue
        sigma = fc.signs[j]
        below = np.flatnonzero(((ray_signs == 0) | (ray_signs == sigma)).all(axis=1))
        if k == 1:
            Bf = Rf[below[:1]].T
        else:
            _, _, piv = scipy.linalg.qr(Rf[below].T, pivoting=True, mode="economic")
            Bf = Rf[below[piv[:k]]].T
        Gq = Bf.T @ G_f @ Bf
        Z = Cinv_f @ ((Af[prow] @ Bf) * mask_pos[j, prow][:, None])
        Hq = Z.T @ G_f @ Z
        cands: list[tuple[float, np.ndarray | None]] = []
        if k == 1:
            cands.append((float(Hq[0, 0] / Gq[0, 0]), None))
            ray_vals.append((cands[0][0], int(below[0])))
        else:
            got = float_eigenpairs(Gq, Hq)  # None: floats too coarse (the exact part decides)
            lam, vecs = got if got is not None else (np.zeros(0), np.zeros((k, 0)))
            nz = sigma != 0
            for i in range(len(lam)):
                for sgn in (1.0, -1.0):
                    w = Bf @ (sgn * vecs[:, i])
                    if (sigma[nz] * (Af[nz] @ w) > 0).all():
                        cands.append((float(lam[i]), w))
        for val, w in cands:
            if val > best_val:
                best_val = val
                best_w = (
                    [Fraction(x) for x in ray_w[below[0]]]
                    if w is None
                    else [Fraction(float(x)) for x in w]
                )
        if certified[j] or violation is not None:
            continue
        # ... exact certification of face j
        if j in pre:
            B, GF, HF, neg = pre[j]
        else:
            _, piv_e, _ = integer_rank([ray_w[i] for i in below])
            B = [ray_w[below[p]] for p in piv_e]
            GF, HF = _face_forms(ex, B, sigma)
            _, neg, _ = inertia([[g - h for g, h in zip(gr, hr)] for gr, hr in zip(GF, HF)])
        if neg == 0:
            certified |= ((fc.signs == 0) | (fc.signs == sigma)).all(axis=1)
            continue
        certified[j] = True
        if k == 1:
            w = [Fraction(x) for x in B[0]]
            violation = (w, HF[0][0] / GF[0][0])
            continue
        for val, wf in cands:
            if val > 1.0 and wf is not None:
                w = [Fraction(float(x)) for x in wf]
                ok, ratio = ex.check(w)
                if ok and ratio is not None and ratio > 1:
                    violation = (w, ratio)
                    break
        decided = violation is not None
        for dps in (None, 60, 160):  # escalate precision: clustered or tiny excesses
            if decided:
                break
            got_e = eigenpairs(GF, HF, dps)
            if got_e is None:  # this precision cannot even compute the candidates
                continue
            lam_e, vecs_e = got_e
            for mu, c in zip(lam_e, vecs_e):
                if mu <= 1 or violation is not None:
                    continue
                for sgn in (1, -1):
                    w = [
                        sgn * sum((Fraction(col[t]) * ci for col, ci in zip(B, c)), Fraction(0))
                        for t in range(r)
                    ]
                    ok, ratio = ex.check(w)
                    if ok and ratio is not None and ratio > 1:
                        violation = (w, ratio)
                        break
            decided = violation is not None or exclude_eigenvectors(
                GF, HF, neg, lam_e, vecs_e, _face_functionals(ex, B, sigma)
            )
        if not decided:
            undecided.append(sign_string(sigma))

    bar.close()
    attained_one = False
    if violation is None and not undecided and best_val >= 1.0 - 1e-9:
        for val, i in sorted(ray_vals, reverse=True)[:50]:
            if val < 1.0 - 1e-9:
                break
            ok, ratio = ex.check([Fraction(x) for x in ray_w[i]])
            if ok and ratio == 1:
                attained_one, best_w = True, [Fraction(x) for x in ray_w[i]]
                break
    n_faces = int(np.sum(fc.dims >= 1))
    if violation is not None:
        w, ratio = violation
        u = ex.to_u(w)
        if best_w is not None and best_val > float(ratio):
            wb = best_w
        else:
            wb = w
        return SpikeFreeReport(
            False,
            math.sqrt(max(best_val, float(ratio))),
            _unit_float(ex.to_u(wb)),
            [format_rational(x) for x in u],
            format_rational(ratio),
            None,
            f"exact witness u with ||X^+ (Xu)_+||^2 / ||u||^2 = 1 + {float(ratio - 1):.6g} > 1",
            checked,
            n_faces,
            len(chambers),
            r,
            "exact-faces",
        )
    assert best_w is not None
    exact_ok, exact_ratio = ex.check(best_w)
    u = ex.to_u(best_w)
    wit = (
        _unit_float(u),
        [format_rational(x) for x in u],
        format_rational(exact_ratio) if exact_ratio is not None else None,
    )
    if undecided:
        return SpikeFreeReport(
            None,
            math.sqrt(best_val),
            *wit,
            None,
            f"{len(undecided)} face(s) could not be certified (clustered eigenvalues above 1 or "
            "insufficient precision); no violation found",
            checked,
            n_faces,
            len(chambers),
            r,
            "exact-faces",
            undecided,
        )
    value = min(math.sqrt(best_val), 1.0)  # proven upper bound 1
    if attained_one or exact_ratio == 1:
        value = 1.0  # attained exactly at a rational point
    return SpikeFreeReport(
        True,
        value,
        *wit,
        None,
        "every range condition holds exactly and every face of every chamber is certified "
        "(exact inertia / isolated eigenvectors outside the face)",
        checked,
        n_faces,
        len(chambers),
        r,
        "exact-faces",
    )


def _sampled(
    ex: _Exact, rows: list[list[int]], r: int, samples: int, seed: int, why: str
) -> SpikeFreeReport:
    """Fallback without enumeration: random directions, exact check of the worst ones."""
    rng = np.random.default_rng(seed)
    Af = np.array(ex.A, dtype=float)
    Af /= np.abs(Af).max()
    Wf = rng.standard_normal((samples, r))
    Y = np.maximum(Wf @ Af.T, 0.0)
    coef, *_ = np.linalg.lstsq(Af, Y.T, rcond=None)
    scale = np.maximum(np.linalg.norm(Y.T, axis=0), 1e-300)
    resid = np.linalg.norm(Af @ coef - Y.T, axis=0) / scale
    Gf = np.array([[float(x) for x in row] for row in ex.G])
    ratio = np.einsum("ij,ik,kj->j", coef, Gf, coef) / np.einsum("ij,jk,ik->i", Wf, Gf, Wf)
    for idx in list(np.argsort(-resid)[:20]) + list(np.argsort(-ratio)[:20]):
        w = [Fraction(float(x)) for x in Wf[idx]]
        ok, q = ex.check(w)
        if not ok or (q is not None and q > 1):
            u = ex.to_u(w)
            y = ex.apply(w)
            rv = (
                None
                if ok
                else {
                    "chamber": sign_string([(v > 0) - (v < 0) for v in y]),
                    "witness": [format_rational(x) for x in u],
                }
            )
            return SpikeFreeReport(
                False,
                None if not ok else math.sqrt(float(q)),
                _unit_float(u),
                [format_rational(x) for x in u],
                None if q is None else format_rational(q),
                rv,
                f"{why}; sampling found an exact witness of a violation",
                0,
                0,
                None,
                r,
                "sampling",
            )
    return SpikeFreeReport(
        None,
        None,
        None,
        None,
        None,
        None,
        f"{why}; {samples} sampled directions found no violation (sampling cannot prove it)",
        0,
        0,
        None,
        r,
        "sampling",
    )
