"""The semidefinite leaf bound of branch-and-bound evidence (rule ``bab-sdp``), exactly.

Part of the trusted checker: standard library only.  An ``sdp`` leaf
(``docs/certificate.md``, section "(d) branch-and-bound") bounds
``mu^T (X_S u)_+`` on its cone ``C`` and the ball through the lifted vector
``z = (1, u, t)`` with ``t_j = (x_j^T u)_+`` over its lifted rows ``j``: multipliers ``y``
of valid quadratic constraints ``z^T G_i z >= 0`` (or ``= 0``), a scalar ``tau`` and
``rho >= 0`` with ``rho I - M`` positive definite for ``M = C + sum_i y_i G_i - tau E00``
give ``mu^T (X_S u)_+ <= z^T C z <= tau + z^T M z <= tau + rho ||z||^2
<= tau + rho (2 + sum_j h_j^2)``.  :func:`check_sdp_leaf` checks one leaf (the replay of
:mod:`verify.checker.branch_and_bound` calls it, and so may a producer before it writes its
evidence); :func:`positive_definite` is the exact test behind it.

``M`` is assembled in integers over one common denominator (never a sum of fractions), and
every size is bounded before the work it implies (rule ``bab-size``): the order
(``MAX_SDP_ORDER``), the common denominators (``MAX_SDP_DEN_BITS``), the entries
(``MAX_SDP_ENTRY_BITS``) and the total elimination work of a certificate (:class:`WorkBudget`,
``MAX_SDP_WORK``).

Examples
--------
One data row ``x = (1)``, ``mu = 1``, the row lifted with ``h = 1``: ``z = (1, u, t)``,
``C = sym(e0, T_0)`` and with ``tau = rho = 1``, ``rho I - M = I - C + E00`` is positive
definite; the bound is ``tau + rho (2 + h^2) = 4``.

>>> from fractions import Fraction as Q
>>> sdp = {"tau": Q(1), "rho": Q(1)}
>>> check_sdp_leaf([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], sdp, Q(4)) is None
True
>>> check_sdp_leaf([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], sdp, Q(7, 2))[0]
'bab-sdp'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

__all__ = [
    "FAMILIES",
    "LEAF_UNITS",
    "MAX_SDP_DEN_BITS",
    "MAX_SDP_ENTRY_BITS",
    "MAX_SDP_ORDER",
    "MAX_SDP_WORK",
    "WorkBudget",
    "check_sdp_leaf",
    "elimination_units",
    "positive_definite",
    "sdp_matrix",
]

#: Largest order ``n = 1 + d + k`` of an sdp leaf's matrix (``d`` features, ``k`` lifted rows).
MAX_SDP_ORDER = 256
#: Bits of one common denominator (of the multipliers, of ``mu``, of ``alpha``, of the ``h``;
#: as ``limits.DEN_BITS``: float64 values need at most 1,075).
MAX_SDP_DEN_BITS = 1400
#: Bits of an entry of the integer matrix ``K (rho I - M)``, bounded before it is assembled
#: (an upper bound from the sizes of the inputs; honest leaves stay far below).
MAX_SDP_ENTRY_BITS = 4096
#: Total work of the exact tests of one certificate, in :func:`elimination_units`.  Measured
#: on this project's 2-core machine: 66-93 million units per second for orders 32-256 and
#: entries of 22-518 bits, so at most ~2.5 minutes for a hostile file; one honest order-57
#: leaf costs ~2.8 million units on the 24-bit rounded test of :func:`positive_definite`
#: (~0.03 s; ~3,500 such leaves fit), ~8.8 million when it needs the 40-bit one (~0.1 s;
#: ~1,100 fit).
MAX_SDP_WORK = 10_000_000_000
#: Units charged for every sdp leaf before its own work (its parsing and checks cost ~100-150
#: microseconds of Python even when it is tiny): at most 10^6 leaves per certificate.
LEAF_UNITS = 10_000
#: Entry bits of the rounded matrices :func:`positive_definite` tries first, in order (a
#: matrix whose smallest eigenvalue exceeds about ``n 2^-(b-1)`` times its largest entry passes the
#: ``b``-bit one: at order 57, ~0.03 s at 24 bits, ~0.08 s at 40, against ~1.3 s for the
#: exact elimination of 212-bit entries).
_FAST_BITS = (24, 40)

#: The multiplier families of an sdp leaf: ``(key, shape, sign)`` with shape ``""`` (a
#: scalar), ``"k"`` (one per lifted row), ``"p"`` (one per path row) or ``"pk"`` (``p`` lists
#: of ``k``), and sign ``">="`` (a multiplier of an inequality, or ``rho``) or ``"any"``.
FAMILIES = (
    ("ball", "", ">="), ("t", "k", ">="), ("tx", "k", ">="), ("eq", "k", "any"),
    ("cone", "p", ">="), ("at", "pk", ">="), ("atx", "pk", ">="),
    ("tau", "", "any"), ("rho", "", ">="),
)
_REQUIRED = ("tau", "rho")  # the other families may be absent: all zero


class _Fail(Exception):
    """One failed rule of a leaf: ``(rule, detail)``."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule, self.detail = rule, detail


class WorkBudget:
    """The elimination work left for a certificate's sdp leaves (rule ``bab-size``).

    Examples
    --------
    >>> b = WorkBudget(100)
    >>> b.charge(60, "leaf"), b.left
    (None, 40)
    >>> try:
    ...     b.charge(60, "leaf")
    ... except Exception as exc:
    ...     print(exc)
    leaf: 60 units of exact elimination, 40 left of the budget (MAX_SDP_WORK = 100)
    """

    def __init__(self, units: int | None = None) -> None:
        self.total = MAX_SDP_WORK if units is None else units
        self.left = self.total

    def charge(self, units: int, what: str) -> None:
        """Take ``units`` from the budget; raise (rule ``bab-size``) if they are not left."""
        if units > self.left:
            raise _Fail("bab-size", f"{what}: {units} units of exact elimination, {self.left} "
                        f"left of the budget (MAX_SDP_WORK = {self.total})")
        self.left -= units


def elimination_units(n: int, bits: int) -> int:
    """Work of :func:`positive_definite`'s elimination of order ``n`` on ``bits``-bit entries.

    ``n^3 (1 + n bits / 512)^2``: the pivots of step ``k`` have ``~k bits`` bits and CPython's
    division is quadratic in their length.  Measured at 66-93 million units per second.

    Examples
    --------
    >>> elimination_units(57, 26)
    2808891
    """
    return n**3 * (512 + n * bits) ** 2 // 512**2


def _bareiss(U: list[list[int]]) -> bool:
    """Fraction-free elimination on the upper triangle ``U[i] = A[i][i:]`` (consumed)."""
    n = len(U)
    prev = 1
    for k in range(n):
        row = U[k]
        pk = row[0]
        if pk <= 0:
            return False
        for i in range(k + 1, n):
            aik = row[i - k]
            tail = row[i - k:]
            if aik:  # a_ij <- (a_kk a_ij - a_ik a_kj) / a_{k-1,k-1}, an exact division
                U[i] = [(pk * x - aik * y) // prev for x, y in zip(U[i], tail)]
            elif pk != prev:
                U[i] = [pk * x // prev for x in U[i]]
        prev = pk
        U[k] = []
    return True


def positive_definite(A: list[list[int]], budget: WorkBudget | None = None) -> bool:
    """Whether the symmetric integer matrix ``A`` is positive definite, exactly.

    Fraction-free (Bareiss) elimination: the pivot of step ``k`` is the leading principal
    minor of order ``k + 1`` (exact integer divisions), so ``A`` is positive definite iff
    every pivot is ``> 0`` (Sylvester).  Only the upper triangle is eliminated (symmetry is
    kept).  Matrices with large entries are first tried rounded (to 24, then 40 bits): with
    ``A = 2^r A' + E``, ``A' = round(A / 2^r)``, ``|E_ij| <= 2^(r-1)``, so
    ``||E||_2 <= n 2^(r-1)`` and ``A >= 2^(r-1) (2 A' - n I)``: if the small matrix
    ``2 A' - n I`` is positive definite, so is ``A``; otherwise ``A`` itself is eliminated.
    The answer is exact either way.

    Parameters
    ----------
    A : list of list of int
        A square symmetric matrix (Python integers).
    budget : WorkBudget, optional
        Charged :func:`elimination_units` before each elimination (rule ``bab-size`` when
        exhausted); ``None``: no limit.

    Returns
    -------
    bool
        ``True`` iff ``A`` is positive definite (the empty matrix is).

    Raises
    ------
    ValueError
        ``A`` is not square and symmetric.

    Examples
    --------
    >>> positive_definite([[2, -1], [-1, 2]]), positive_definite([[1, 1], [1, 1]])
    (True, False)
    >>> positive_definite([[1, 2], [2, 1]]), positive_definite([[0]]), positive_definite([])
    (False, False, True)
    """
    n = len(A)
    if any(len(r) != n for r in A) or any(A[i][j] != A[j][i] for i in range(n)
                                          for j in range(i)):
        raise ValueError("positive_definite needs a square symmetric matrix")
    if any(A[i][i] <= 0 for i in range(n)):
        return False
    bits = max((abs(v).bit_length() for r in A for v in r), default=0)
    for fast in _FAST_BITS:
        if bits <= fast + 8 or n < 2:
            break
        r = bits - fast
        half = 1 << (r - 1)
        R = [[2 * ((v + half) >> r) - (n if i == j else 0) for j, v in enumerate(row[i:], i)]
             for i, row in enumerate(A)]
        if budget is not None:
            budget.charge(elimination_units(n, fast + 2), f"order {n}, rounded to {fast} bits")
        if _bareiss(R):
            return True
    if budget is not None:
        budget.charge(elimination_units(n, bits), f"order {n}, {bits}-bit entries")
    return _bareiss([row[i:] for i, row in enumerate(A)])


def _show(q: Fraction) -> str:
    """``q`` for a message: its float, or its size when it is beyond the float range."""
    try:
        return f"{float(q):.17g}"
    except OverflowError:
        return f"a number of ~{max(q.numerator.bit_length() - q.denominator.bit_length(), 0)} bits"


def _common(values: Iterable[Fraction], what: str) -> tuple[list[int], int]:
    """``values == ints / D`` with ``D`` the lcm of the denominators (``MAX_SDP_DEN_BITS``)."""
    vals = list(values)
    D = 1
    for v in vals:
        q = v.denominator
        if q != 1 and D % q:
            D = math.lcm(D, q)
            if D.bit_length() > MAX_SDP_DEN_BITS:
                raise _Fail("bab-size", f"{what}: a common denominator of more than "
                            f"{MAX_SDP_DEN_BITS} bits")
    return [v.numerator * (D // v.denominator) for v in vals], D


def _bits(ints: Iterable[int]) -> int:
    return max((abs(v).bit_length() for v in ints), default=0)


def _shapes(sdp: Mapping[str, Any], p: int, k: int) -> dict[str, Any]:
    """The families with their shapes checked (absent ones all zero) and their signs."""
    want = {"": None, "k": k, "p": p, "pk": (p, k)}
    out: dict[str, Any] = {}
    for key, shape, sign in FAMILIES:
        if key not in sdp:
            if key in _REQUIRED:
                raise _Fail("bab-sdp", f"no {key!r}")
            v: Any = Fraction(0) if shape == "" else (
                [[Fraction(0)] * k for _ in range(p)] if shape == "pk"
                else [Fraction(0)] * want[shape])
            out[key] = v
            continue
        v = sdp[key]
        if shape == "":
            flat = [v]
        elif shape == "pk":
            if len(v) != p or any(len(r) != k for r in v):
                raise _Fail("bab-sdp", f"{key!r} is not {p} list(s) of {k} (path rows x "
                            "lifted rows)")
            flat = [x for r in v for x in r]
        else:
            if len(v) != want[shape]:
                raise _Fail("bab-sdp", f"{key!r} has {len(v)} entries for "
                            f"{want[shape]} {'lifted' if shape == 'k' else 'path'} rows")
            flat = list(v)
        if any(type(x) is not Fraction for x in flat):
            raise TypeError(f"sdp multipliers {key!r}: Fractions expected")
        if sign == ">=":
            for i, x in enumerate(flat):
                if x < 0:
                    pos = "" if shape == "" else (f"[{i // k}][{i % k}]" if shape == "pk"
                                                  else f"[{i}]")
                    raise _Fail("bab-sdp", f"{key}{pos} = {x} is negative")
        out[key] = v
    return out


def check_sdp_leaf(XI: Sequence[Sequence[int]], xe: int, mu: Mapping[int, Fraction],
                   path: Sequence[tuple[int, int]], lifted: Sequence[tuple[int, Fraction]],
                   alpha: Sequence[tuple[int, Fraction]], sdp: Mapping[str, Any],
                   s: Fraction, budget: WorkBudget | None = None
                   ) -> tuple[str, str] | None:
    """Check the semidefinite bound of one sdp leaf exactly (rules ``bab-sdp``, ``bab-size``).

    What the rest of the replay checks is assumed here: ``0 <= alpha <= 1`` and ``mu_n < 0``
    on the alpha rows (``bab-alpha``, ``bab-rows``), ``h_j >= 0`` and ``x_j^T u <= h_j`` on
    the cone and the ball (``bab-interval``, ``bab-multipliers``), every free support row
    either lifted or an alpha row (``bab-rows``).

    Parameters
    ----------
    XI, xe : sequence of sequence of int, int
        The data exactly, ``X = XI * 2**xe``; rows are addressed by their index in ``XI``.
    mu : mapping of int to Fraction
        ``mu_n = t lambda_n`` for (at least) every row of ``path``, ``lifted`` and ``alpha``
        (only these rows of ``XI`` are read).
    path : sequence of (int, int)
        The split rows root first with their sides ``sigma = +1`` or ``-1``; the cone's
        rows are ``a_m = sigma_m x_m`` in this order (``p`` of them).
    lifted : sequence of (int, Fraction)
        The lifted rows ``j = 0..k-1`` (``mu > 0``, in the order of the leaf's ``rows``) with
        their ``h_j``.
    alpha : sequence of (int, Fraction)
        The rows with ``mu < 0`` and their ``alpha``.
    sdp : mapping
        The multipliers as Fractions: ``tau``, ``rho`` (required) and, each optional (absent:
        all zero), ``ball`` (a Fraction), ``t``, ``tx``, ``eq`` (lists of ``k``), ``cone``
        (a list of ``p``), ``at``, ``atx`` (``p`` lists of ``k``).  Keys outside these are
        ignored (the replay reports them: ``unchecked-claim``).
    s : Fraction
        The bound to prove on the leaf.
    budget : WorkBudget, optional
        The certificate's elimination budget (``None``: no limit).

    Returns
    -------
    None or (str, str)
        ``None`` if the leaf proves ``s``, else the first failed rule and its detail.

    Examples
    --------
    The cone ``x_0^T u >= 0`` (path row 0, side ``+1``) with ``mu_0 = 1``: ``C`` is
    ``sym(e0, [x_0])``, i.e. ``u``; ``tau = 1/2``, ``rho = 1/2``, ``ball = 1/2`` give
    ``rho I - M = diag(1/2, 1/2) - [[1/2, 1/2], [1/2, -1/2]] + E00/2``, positive definite,
    and the bound ``tau + 2 rho = 3/2``.

    >>> from fractions import Fraction as Q
    >>> sdp = {"tau": Q(1, 2), "rho": Q(1, 2), "ball": Q(1, 2)}
    >>> check_sdp_leaf([[1]], 0, {0: Q(1)}, [(0, 1)], [], [], sdp, Q(3, 2)) is None
    True
    >>> check_sdp_leaf([[1]], 0, {0: Q(1)}, [(0, 1)], [], [], {**sdp, "rho": Q(1, 4)},
    ...                Q(2))
    ('bab-sdp', 'rho I - M is not positive definite (order 2)')
    """
    try:
        _check(XI, xe, mu, path, lifted, alpha, sdp, s, budget)
    except _Fail as f:
        return f.rule, f.detail
    return None


def sdp_matrix(XI: Sequence[Sequence[int]], xe: int, mu: Mapping[int, Fraction],
               path: Sequence[tuple[int, int]], lifted: Sequence[tuple[int, Fraction]],
               alpha: Sequence[tuple[int, Fraction]], sdp: Mapping[str, Any]
               ) -> tuple[list[list[int]], int]:
    """The integer matrix ``N = K (rho I - M)`` of an sdp leaf and its scale ``K > 0``.

    The inputs are those of :func:`check_sdp_leaf`; ``M = rho I - N / K`` exactly.

    Raises
    ------
    ValueError
        A shape, sign or size that :func:`check_sdp_leaf` reports as a failed rule.

    Examples
    --------
    >>> from fractions import Fraction as Q
    >>> sdp_matrix([[1]], 0, {0: Q(1)}, [], [(0, Q(1))], [], {"tau": Q(1), "rho": Q(1)})
    ([[4, 0, -1], [0, 2, 0], [-1, 0, 2]], 2)
    """
    try:
        f = _shapes(sdp, len(path), len(lifted))
        return _assemble(XI, xe, mu, path, lifted, alpha, f, None)
    except _Fail as exc:
        raise ValueError(f"{exc.rule}: {exc.detail}") from None


def _check(XI: Sequence[Sequence[int]], xe: int, mu: Mapping[int, Fraction],
           path: Sequence[tuple[int, int]], lifted: Sequence[tuple[int, Fraction]],
           alpha: Sequence[tuple[int, Fraction]], sdp: Mapping[str, Any], s: Fraction,
           budget: WorkBudget | None) -> None:
    if budget is not None:  # the fixed cost of a leaf, whatever its size
        budget.charge(LEAF_UNITS, "an sdp leaf")
    d = len(XI[0]) if len(XI) else 0
    n = 1 + d + len(lifted)
    if n > MAX_SDP_ORDER:
        raise _Fail("bab-size", f"order {n} = 1 + {d} features + {len(lifted)} lifted rows, "
                    f"more than MAX_SDP_ORDER = {MAX_SDP_ORDER}")
    f = _shapes(sdp, len(path), len(lifted))
    # the bound first (cheap): tau + rho (2 + sum h_j^2) <= s
    hi, hd = _common((h for _, h in lifted), "h")
    bound = f["tau"] + f["rho"] * (2 + Fraction(sum(v * v for v in hi), hd * hd))
    if bound > s:
        raise _Fail("bab-sdp", f"tau + rho (2 + sum h_j^2) = {_show(bound)} exceeds "
                    f"s = {_show(s)}")
    N, _ = _assemble(XI, xe, mu, path, lifted, alpha, f, budget)
    if not positive_definite(N, budget):
        raise _Fail("bab-sdp", f"rho I - M is not positive definite (order {n})")


def _assemble(XI: Sequence[Sequence[int]], xe: int, mu: Mapping[int, Fraction],
              path: Sequence[tuple[int, int]], lifted: Sequence[tuple[int, Fraction]],
              alpha: Sequence[tuple[int, Fraction]], f: dict[str, Any],
              budget: WorkBudget | None) -> tuple[list[list[int]], int]:
    """``(N, K)``: ``N = K (rho I - M)`` in integers, ``K = 2 Y L A 2^(2 max(0, -xe))``."""
    d = len(XI[0]) if len(XI) else 0
    p, k = len(path), len(lifted)
    n = 1 + d + k
    # one common denominator per kind: multipliers Y, mu L, alpha A
    flat = [f[key] if shape == "" else (x for r in f[key] for x in r) if shape == "pk"
            else f[key] for key, shape, _ in FAMILIES]
    yvals = [x for v in flat for x in ([v] if isinstance(v, Fraction) else v)]
    yi, Y = _common(yvals, "the sdp multipliers")
    rows_mu = [m for m, _ in path] + [j for j, _ in lifted] + [r for r, _ in alpha]
    mi, L = _common((mu[r] for r in rows_mu), "mu")
    muof = dict(zip(rows_mu, mi))
    ai, A = _common((a for _, a in alpha), "alpha")
    # the integer matrix N = K (rho I - M), K = 2 Y L A 2^(2 max(0, -xe)); a term of degree q
    # in the data (x = XI 2^xe) is shifted by sh[q] = q xe + 2 max(0, -xe) >= 0 bits
    g0 = max(0, -xe)
    sh = [2 * g0, xe + 2 * g0, 2 * xe + 2 * g0]
    xb = _bits(v for r in dict.fromkeys(rows_mu) for v in XI[r])  # the rows used only
    est = (_bits(yi) + Y.bit_length() + _bits(mi) + L.bit_length() + _bits(ai)
           + A.bit_length() + 2 * xb + max(sh) + (p * k + p + k + d + 8).bit_length() + 4)
    if est > MAX_SDP_ENTRY_BITS:
        raise _Fail("bab-size", f"entries of up to ~{est} bits in the integer matrix "
                    f"(MAX_SDP_ENTRY_BITS = {MAX_SDP_ENTRY_BITS})")
    if budget is not None:  # the assembly: ~p d (d + 2k) + n^2 products of <= est bits
        budget.charge((p * d * (d + 2 * k) + n * n) * (256 + est) ** 2 // 256**2,
                      f"order {n}, assembly")
    it = iter(yi)
    y: dict[str, Any] = {}
    for key, shape, _ in FAMILIES:
        if shape == "":
            y[key] = next(it)
        elif shape == "pk":
            y[key] = [[next(it) for _ in range(k)] for _ in range(p)]
        else:
            y[key] = [next(it) for _ in range(p if shape == "p" else k)]
    LA = L * A
    Am = [[sg * v for v in XI[m]] for m, sg in path]  # a_m = sigma_m x_m (unscaled)
    Xj = [list(XI[j]) for j, _ in lifted]
    # M's entries in K units (index 0, u at 1..d, t_j at 1+d+j)
    Mi = [[0] * n for _ in range(n)]
    # row 0: ball - tau at (0, 0); sym(e0, v) puts v / 2 in row and column 0 (K has the 2)
    Mi[0][0] = 2 * LA * (y["ball"] - y["tau"]) << sh[0]
    c = [0] * d  # Y A c, with c = sum_{P+} mu_m x_m + sum_alpha mu_n alpha_n x_n (unscaled)
    for (m, sg) in path:
        if sg > 0 and muof[m]:
            w = A * muof[m]
            c = [ci + w * v for ci, v in zip(c, XI[m])]
    for (r, _), a in zip(alpha, ai):
        w = muof[r] * a
        if w:
            c = [ci + w * v for ci, v in zip(c, XI[r])]
    g = [Y * v for v in c]  # K M[0][u] = Y A c + L A (sum_m cone_m a_m - sum_j tx_j x_j)
    for ym, a in zip(y["cone"], Am):
        if ym:
            g = [gi + LA * ym * v for gi, v in zip(g, a)]
    for yj, x in zip(y["tx"], Xj):
        if yj:
            g = [gi - LA * yj * v for gi, v in zip(g, x)]
    for i, v in enumerate(g, 1):
        Mi[0][i] = Mi[i][0] = v << sh[1]
    for j, ((r, _), yt, ytx) in enumerate(zip(lifted, y["t"], y["tx"])):
        Mi[0][1 + d + j] = Mi[1 + d + j][0] = (Y * A * muof[r] + LA * (yt + ytx)) << sh[0]
    # u block: -ball I - sum_{m,j} atx_mj (a_m x_j^T + x_j a_m^T), via W_m = sum_j atx_mj x_j
    for i in range(1, 1 + d):
        Mi[i][i] = -2 * LA * y["ball"] << sh[0]
    for a, row in zip(Am, y["atx"]):
        W = [0] * d
        for yj, x in zip(row, Xj):
            if yj:
                W = [wi + yj * v for wi, v in zip(W, x)]
        if not any(W):
            continue
        for i in range(d):
            ai_, wi = a[i], W[i]
            if ai_ or wi:
                Mr = Mi[1 + i]
                for jj in range(i, d):
                    v = ai_ * W[jj] + wi * a[jj]
                    if v:
                        Mr[1 + jj] -= LA * v << sh[2]
                        if jj != i:
                            Mi[1 + jj][1 + i] = Mr[1 + jj]
    # u-t block: -eq_j x_j + sum_m (at_mj + atx_mj) a_m;  t block: eq_j on the diagonal
    for j, x in enumerate(Xj):
        col = [-y["eq"][j] * v for v in x]
        for m, a in enumerate(Am):
            w = y["at"][m][j] + y["atx"][m][j]
            if w:
                col = [ci + w * v for ci, v in zip(col, a)]
        tj = 1 + d + j
        for i, v in enumerate(col, 1):
            Mi[i][tj] = Mi[tj][i] = LA * v << sh[1]
        Mi[tj][tj] = 2 * LA * y["eq"][j] << sh[0]
    # N = K rho I - K M
    r0 = 2 * LA * y["rho"] << sh[0]
    N = [[-v for v in row] for row in Mi]
    for i in range(n):
        N[i][i] += r0
    return N, 2 * LA * Y << sh[0]
