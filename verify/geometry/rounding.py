"""Rigorous floating-point error bounds for numpy/BLAS computations (IEEE binary64).

A float computation may decide a verdict only when a bound proved here says its rounding
error cannot change the answer.  Everything assumes IEEE 754 binary64 with round-to-nearest
and gradual underflow (numpy's ``float64`` by default; :func:`check_float_environment`
verifies it) and that dot products, matrix products and row sums are evaluated as *sums of
products in some order* (any order, any tree, with or without fused multiply-add; no
Strassen-like fast matrix multiplication, which OpenBLAS, MKL and BLIS do not use for
``dgemm``).

The model (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §2.2, §3.1,
with the underflow term made explicit): every elementary operation returns
``fl(a op b) = (a op b)(1 + δ) + η'`` with ``|δ| ≤ u = 2**-53`` and ``|η'| ≤ η/2`` where
``η = 2**-1074`` is the smallest subnormal (additions are exact when they underflow, so
``η'`` only arises in products and fused multiply-adds).  For a dot product of length
``n`` each product passes through at most ``n`` roundings, so, if no overflow occurs,

    |fl(x·y) − x·y| ≤ γ_n Σ|x_k||y_k| + 2nη,        γ_n = nu / (1 − nu).

A result that is finite proves that no overflow occurred (an infinity never turns back
into a finite number).  Scalar constants are computed in exact rational arithmetic and
rounded *upwards* to floats; array expressions are inflated by explicit factors that
absorb their own rounding (each proof is in the function's docstring).

Examples
--------
>>> gamma(784) > 784 * UNIT_ROUNDOFF
True
>>> import numpy as np
>>> X = np.array([[3.0, 4.0], [0.0, 0.0]])
>>> ub = norm_upper_bounds(X)
>>> bool(ub[0] >= 5.0) and bool(ub[0] < 5.0 * (1 + 1e-12)) and bool(ub[1] > 0)
True
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction

import numpy as np

try:  # optional: fast exact integer matrix products
    import flint as _flint
except ImportError:  # pragma: no cover - depends on the environment
    _flint = None

__all__ = [
    "UNIT_ROUNDOFF",
    "SMALLEST_SUBNORMAL",
    "SMALLEST_NORMAL",
    "UNDERFLOW_ALLOWANCE",
    "round_up",
    "round_down",
    "gamma",
    "gamma_exact",
    "dot_error_bound",
    "norm_upper_bounds",
    "normalized_sign_threshold",
    "power_of_two_row_scaling",
    "lsb_exponents",
    "float_dot_is_exact",
    "dyadic_row",
    "ExactRows",
    "check_float_environment",
    "limb_width",
    "ExactProducts",
    "exact_products",
]

UNIT_ROUNDOFF: float = 2.0**-53
"""Unit roundoff ``u`` of binary64 with round-to-nearest."""
SMALLEST_SUBNORMAL: float = 2.0**-1074
"""``η``: the spacing of the subnormal numbers, the largest absolute error unit of underflow."""
SMALLEST_NORMAL: float = 2.0**-1022
UNDERFLOW_ALLOWANCE: float = 2.0**-1000
"""A normal number exceeding ``2nη + η`` for every ``n < 2**70``: the absolute (underflow)
term used by the bounds below, chosen normal so that later operations on it obey the purely
relative rounding model."""

_U = Fraction(1, 2**53)
_ETA = Fraction(1, 2**1074)
_MAX_N = 2**60


def check_float_environment() -> None:
    """Raise ``FloatingPointError`` unless numpy float64 arithmetic rounds to nearest with
    gradual underflow, the model every bound here assumes.

    Flush-to-zero / denormals-are-zero modes (which some ``-ffast-math`` builds switch on
    process-wide) or a directed rounding mode would void the bounds.

    Examples
    --------
    >>> check_float_environment()
    """
    u = 2.0**-53
    one = np.array([1.0, -1.0])
    near = one + np.array([1.5 * u, -1.5 * u])  # ties away from 1: nearest is 1 ± 2u
    tiny = np.array([2.0**-1022]) * 0.5  # subnormal result (flush-to-zero gives 0)
    sub = np.array([SMALLEST_SUBNORMAL]) * 2.0  # subnormal input (DAZ reads it as 0)
    if not (
        near[0] == 1 + 2 * u
        and near[1] == -1 - 2 * u
        and tiny[0] == 2.0**-1023
        and sub[0] == 2 * SMALLEST_SUBNORMAL
    ):
        raise FloatingPointError(
            "float64 arithmetic is not IEEE round-to-nearest with "
            "gradual underflow (flush-to-zero or a directed rounding "
            "mode is active): rigorous error bounds do not apply"
        )


def round_up(q: Fraction | int) -> float:
    """Smallest-ish float ``>= q`` (the nearest float, moved up one step if it fell below).

    Examples
    --------
    >>> round_up(Fraction(1, 3)) >= Fraction(1, 3)
    True
    >>> round_up(Fraction(1, 2))
    0.5
    """
    q = Fraction(q)
    f = float(q)
    if Fraction(f) < q:
        f = math.nextafter(f, math.inf)
    return f


def round_down(q: Fraction | int) -> float:
    """Largest-ish float ``<= q``.

    Examples
    --------
    >>> round_down(Fraction(1, 3)) <= Fraction(1, 3)
    True
    """
    q = Fraction(q)
    f = float(q)
    if Fraction(f) > q:
        f = math.nextafter(f, -math.inf)
    return f


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 or n >= _MAX_N:
        raise ValueError(f"length n must be an integer in [0, 2**60), got {n!r}")
    return int(n)


def gamma_exact(n: int) -> Fraction:
    """Exact ``γ_n = n u / (1 − n u)`` as a rational.

    Examples
    --------
    >>> gamma_exact(1) == Fraction(1, 2**53 - 1)
    True
    """
    n = _check_n(n)
    return n * _U / (1 - n * _U)


def gamma(n: int) -> float:
    """``γ_n`` rounded up to a float.

    Examples
    --------
    >>> gamma(0)
    0.0
    >>> 1.1e-13 < gamma(1000) < 1.2e-13
    True
    """
    return round_up(gamma_exact(n))


def dot_error_bound(abs_dot: np.ndarray | float, n: int) -> np.ndarray:
    """Upper bound on ``|fl(x·y) − x·y|`` for length-``n`` dot products, elementwise.

    Parameters
    ----------
    abs_dot : array_like of float
        Upper bounds on ``Σ|x_k||y_k|`` (nonnegative; e.g. a product of two norm upper
        bounds from :func:`norm_upper_bounds`, by Cauchy–Schwarz).
    n : int
        Length of the dot products.

    Returns
    -------
    numpy.ndarray
        ``b`` with ``b ≥ γ_n·abs_dot + 2nη`` (``inf`` where ``abs_dot`` is ``inf``).

    Notes
    -----
    Computed as ``fl(fl(g·a) + t)`` with ``g = round_up(γ_n/(1−u)²)`` and ``t`` the normal
    number :data:`UNDERFLOW_ALLOWANCE`.  For nonnegative operands
    ``fl(g·a) ≥ g·a(1−u) − η/2`` and, the sum being normal, ``fl(z + t) ≥ (z + t)(1 − u)``,
    so the result is at least ``γ_n a + (t − η/2)(1 − u) ≥ γ_n a + 2nη``.

    Examples
    --------
    >>> b = dot_error_bound(np.array([1.0, 0.0]), 784)
    >>> bool(b[0] >= float(gamma_exact(784))) and bool(b[1] > 0)
    True
    """
    n = _check_n(n)
    a = np.asarray(abs_dot, dtype=np.float64)
    if np.any(a < 0) or np.any(np.isnan(a)):
        raise ValueError("dot_error_bound: abs_dot must be nonnegative")
    g = round_up(gamma_exact(n) / (1 - _U) ** 2)
    return g * a + UNDERFLOW_ALLOWANCE


def norm_upper_bounds(X: np.ndarray) -> np.ndarray:
    """Rigorous upper bounds on the Euclidean norms of the rows of a 2-D float64 array.

    Returns
    -------
    numpy.ndarray
        ``r`` with ``r[i] ≥ ‖X[i]‖`` and ``r[i] ≤ ‖X[i]‖(1 + γ_d + 8u) + 2**-499``
        approximately; ``inf`` where the sum of squares overflows.  Always ``> 0``.

    Notes
    -----
    ``s = fl(Σ_k x_k²)`` (any order) satisfies ``Σx² ≤ (s + 2dη)/(1 − γ_d)``.  With
    ``t = UNDERFLOW_ALLOWANCE ≥ 2dη`` and ``c = round_up(1/((1 − γ_d)(1 − u)²))``:
    ``fl(fl(s + t)·c) ≥ (s + t)/(1 − γ_d)`` (both operations have normal results, each
    loses at most a factor ``1 − u``).  Then ``fl(√·)`` loses a factor ``1 − u`` and the
    final ``fl(·F)``, ``F = round_up(1/(1 − u)²)``, restores it.

    Examples
    --------
    >>> r = norm_upper_bounds(np.array([[1.0, 1.0, 1.0, 1.0]]))
    >>> bool(r[0] >= 2.0)
    True
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype != np.float64:
        raise ValueError("norm_upper_bounds expects a 2-D float64 array")
    d = _check_n(X.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.einsum("ij,ij->i", X, X)
        c = round_up(1 / ((1 - gamma_exact(d)) * (1 - _U) ** 2))
        f = round_up(1 / (1 - _U) ** 2)
        r = np.sqrt((s + UNDERFLOW_ALLOWANCE) * c) * f
    r[np.isnan(r)] = np.inf
    return r


def normalized_sign_threshold(n: int) -> float:
    """Threshold ``θ`` certifying signs of dot products divided by norm bounds.

    Let ``ĝ = fl(x·y)`` (length ``n``, finite) and ``c = fl(fl(ĝ/a)/b)`` with floats
    ``a ≥ max(1, ‖x‖)`` and ``b ≥ max(1, ‖y‖)``.  Then ``c > θ`` proves ``x·y > 0`` and
    ``c < −θ`` proves ``x·y < 0``.

    Notes
    -----
    Let ``T = γ_n a b + 2nη`` (≥ the error of ``ĝ`` by Cauchy–Schwarz).  If ``ĝ ≤ T``,
    monotonicity of rounding gives ``c ≤ fl(fl(T/a)/b) ≤ (T/(ab))(1+u)² + 2η ≤
    (γ_n + 2nη)(1+u)² + 2η ≤ θ`` (using ``ab ≥ 1``).  So ``c > θ`` forces ``ĝ > T`` and
    hence ``x·y ≥ ĝ − T > 0``; the negative case is symmetric.

    Examples
    --------
    >>> t = normalized_sign_threshold(784)
    >>> bool(gamma(784) < t < 1.01 * gamma(784))
    True
    """
    n = _check_n(n)
    q = (gamma_exact(n) + 2 * n * _ETA) * (1 + _U) ** 2 + 2 * _ETA
    return round_up(q)


def power_of_two_row_scaling(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale each row by a power of two, exactly, so that its largest ``|entry|`` is in [1, 2).

    Positive row scalings preserve the sign of every inner product, and a power-of-two
    scaling is exact unless it pushes entries into the subnormal range; rows for which the
    scaling would lose a bit (verified by scaling back), and zero rows, are left unscaled.

    Returns
    -------
    (Y, k) : (numpy.ndarray, numpy.ndarray)
        ``Y[i] = X[i] · 2**k[i]`` exactly.

    Examples
    --------
    >>> Y, k = power_of_two_row_scaling(np.array([[0.25, -0.125], [0.0, 0.0], [6.0, 1.0]]))
    >>> Y.tolist(), k.tolist()
    ([[1.0, -0.5], [0.0, 0.0], [1.5, 0.25]], [2, 0, -2])
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype != np.float64:
        raise ValueError("power_of_two_row_scaling expects a 2-D float64 array")
    m = np.max(np.abs(X), axis=1) if X.shape[1] else np.zeros(X.shape[0])
    _, e = np.frexp(m)  # m = f·2**e, f in [0.5, 1)
    k = np.where(m > 0, 1 - e, 0).astype(np.int64)
    # Multiplying by a power of two is exact unless the result under- or overflows; the
    # factor itself may be out of range for extreme k, so scale in two exact steps.
    k1 = k // 2
    f1 = np.ldexp(1.0, k1.astype(np.int32))[:, None]
    f2 = np.ldexp(1.0, (k - k1).astype(np.int32))[:, None]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        Y = (X * f1) * f2
        back = (Y / f1) / f2
    bad = ~np.all(back == X, axis=1) | ~np.all(np.isfinite(Y), axis=1)
    if np.any(bad):
        k[bad] = 0
        Y[bad] = X[bad]
    return Y, k


def lsb_exponents(X: np.ndarray) -> np.ndarray:
    """Per row, the exponent ``e`` of the least significant set bit over all entries.

    Every entry of row ``i`` is then an integer multiple of ``2**e[i]``.  Zero rows get a
    huge sentinel (``2**40``) since they are multiples of every power of two.

    Examples
    --------
    >>> lsb_exponents(np.array([[0.75, 2.0], [3.0, 0.0], [0.0, 0.0]])).tolist()
    [-2, 0, 1099511627776]
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    sentinel = np.int64(2**40)
    if X.shape[1] == 0:
        return np.full(X.shape[0], sentinel)
    bits = X.view(np.int64)
    expf = (bits >> 52) & 0x7FF  # biased exponent field
    mant = bits & ((1 << 52) - 1)
    sig = np.where(expf > 0, mant | (1 << 52), mant)  # |x| = sig * 2**(max(expf,1) - 1075)
    low = sig & -sig  # lowest set bit of the significand (0 for x = 0)
    tz = (low.astype(np.float64).view(np.int64) >> 52) - 1023  # low = 2**tz (exact: < 2**53)
    lsb = np.maximum(expf, 1) - 1075 + tz
    lsb[sig == 0] = sentinel
    return lsb.min(axis=1)


def float_dot_is_exact(
    lsb_a: np.ndarray, mag_a: np.ndarray, lsb_b: np.ndarray, mag_b: np.ndarray
) -> np.ndarray:
    """Whether every float evaluation of ``x·y`` is exact, elementwise over broadcast pairs.

    Parameters
    ----------
    lsb_a, lsb_b : array_like of int
        :func:`lsb_exponents` of ``x`` and ``y``: entries are integer multiples of ``2**lsb``.
    mag_a, mag_b : array_like of int
        Exponents with ``‖x‖ < 2**mag_a`` and ``‖y‖ < 2**mag_b``.

    Notes
    -----
    Write ``x = M·2**p``, ``y = N·2**q`` with integer vectors.  If
    ``(mag_a − p) + (mag_b − q) ≤ 53`` then ``Σ|M_k||N_k| ≤ ‖M‖‖N‖ < 2**53``, so every
    product and every partial sum (in any order, fused or not) is an integer of magnitude
    ``< 2**53`` times ``2**(p+q)``.  With ``p + q ≥ −1074`` (no bits below the subnormal
    spacing) and ``mag_a + mag_b ≤ 1000`` (no overflow) all of them are representable, so
    no operation rounds.  Pairs involving a zero vector (sentinel ``lsb``) are exact too.

    Examples
    --------
    >>> X = np.array([[3.0, -1.0], [1.0, 3.0], [0.1, 0.2]])
    >>> lsb = lsb_exponents(X); mag = np.frexp(norm_upper_bounds(X))[1]
    >>> float_dot_is_exact(lsb[0], mag[0], lsb[1], mag[1]).item()
    True
    >>> float_dot_is_exact(lsb[2], mag[2], lsb[2], mag[2]).item()
    False
    """
    la = np.asarray(lsb_a, dtype=np.int64)
    lb = np.asarray(lsb_b, dtype=np.int64)
    ma = np.asarray(mag_a, dtype=np.int64)
    mb = np.asarray(mag_b, dtype=np.int64)
    sentinel = 2**40
    zero = (la >= sentinel) | (lb >= sentinel)
    ok = ((ma - la) + (mb - lb) <= 53) & (la + lb >= -1074) & (ma + mb <= 1000)
    return zero | ok


def dyadic_row(x: np.ndarray) -> tuple[list[int], int]:
    """Exact ``x = ints · 2**e`` (Python ints, one common exponent) from the IEEE bit fields.

    The fast equivalent of :func:`verify.geometry.rationals.dyadic_scale` for a float64 vector.

    Examples
    --------
    >>> dyadic_row(np.array([0.75, -2.0, 0.0]))
    ([3, -8, 0], -2)
    """
    bits = np.ascontiguousarray(x, dtype=np.float64).reshape(-1).view(np.int64)
    expf = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    sig = np.where(expf > 0, mant | (1 << 52), mant)
    sig = np.where(bits < 0, -sig, sig)
    ex = np.maximum(expf, 1) - 1075  # x = sig · 2**ex
    nz = sig != 0
    if not nz.any():
        return [0] * len(bits), 0
    e = int(ex[nz].min())
    ints = [int(v) << (int(k) - e) if v else 0 for v, k in zip(sig.tolist(), ex.tolist())]
    m = 0
    for v in ints:
        m |= abs(v)
    tz = (m & -m).bit_length() - 1  # common trailing zero bits: lowest terms
    return ([v >> tz for v in ints], e + tz) if tz else (ints, e)


class ExactRows:
    """Exact inner products of the rows of a float64 matrix, cached per row and per pair.

    Batches of products (:meth:`products`) use python-flint's integer matrix product when
    it is installed (about 100× faster than Python integers); the results are the same.

    Examples
    --------
    >>> E = ExactRows(np.array([[0.1, 0.2], [3.0, -1.5], [3.0, 4.0]]))
    >>> E.inner(0, 1), E.pair(2, 2)[2]
    (Fraction(0, 1), 1.0)
    >>> E.products([1, 2], [2, 2])  # [3, -1.5]·[3, 4] = 6·2**-1, [3, 4]·[3, 4] = 25
    [6, 25]
    """

    flint_min = 64  # batches at least this large go to python-flint

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.rows: dict[int, tuple[list[int], int, int]] = {}
        self.pairs: dict[tuple[int, int], int] = {}

    def _row(self, i: int) -> tuple[list[int], int, int]:
        r = self.rows.get(i)
        if r is None:
            ints, e = dyadic_row(self.X[i])
            r = (ints, e, sum(v * v for v in ints))
            self.rows[i] = r
        return r

    def pair(self, i: int, j: int) -> tuple[int, int, float]:
        """``(P, e, cos)``: ``x_i·x_j = P·2**e`` exactly; ``cos`` the cosine, correctly
        rounded up to the final square root (0 when a row is zero)."""
        key = (i, j) if i <= j else (j, i)
        a, ea, sa = self._row(key[0])
        b, eb, sb = self._row(key[1])
        p = self.pairs.get(key)
        if p is None:
            p = self.pairs[key] = sum(map(operator.mul, a, b))
        cos = 0.0
        if sa and sb and p:  # int / int is correctly rounded (no gcd, no overflow)
            cos = math.copysign(math.sqrt((p * p) / (sa * sb)), (p > 0) - 0.5)
        return p, ea + eb, cos

    def remember(self, i: int, j: int, p: int) -> None:
        """Cache a product ``P`` computed elsewhere (e.g. by :meth:`products`)."""
        self.pairs[(min(i, j), max(i, j))] = p

    def products(self, ii: list[int] | np.ndarray, jj: list[int] | np.ndarray) -> list[int]:
        """``P_k`` with ``x_{ii[k]}·x_{jj[k]} = P_k·2**(e_{ii[k]} + e_{jj[k]})``, batched
        (not cached)."""
        ii = np.asarray(ii, dtype=np.int64)
        jj = np.asarray(jj, dtype=np.int64)
        n = len(ii)
        if _flint is not None and n >= self.flint_min:
            ur, ri = np.unique(ii, return_inverse=True)
            uc, ci = np.unique(jj, return_inverse=True)
            if len(ur) * len(uc) <= 4 * n + 4096:
                A = _flint.fmpz_mat([self._row(i)[0] for i in ur.tolist()])
                B = _flint.fmpz_mat([self._row(j)[0] for j in uc.tolist()]).transpose()
                ent = (A * B).entries()
                return [int(ent[k]) for k in (ri * len(uc) + ci).tolist()]
        out = []
        for i, j in zip(ii.tolist(), jj.tolist()):
            p = self.pairs.get((min(i, j), max(i, j)))
            out.append(sum(map(operator.mul, self._row(i)[0], self._row(j)[0])) if p is None else p)
        return out

    def inner(self, i: int, j: int) -> Fraction:
        """The exact ``x_i·x_j``."""
        p, e, _ = self.pair(i, j)
        return Fraction(p) * Fraction(2) ** e


def limb_width(n: int) -> int:
    """Bits ``β`` per limb such that length-``n`` dot products of ``β``-bit integers are
    exact in float64 (``n·2**(2β) ≤ 2**53``, any summation order).

    Examples
    --------
    >>> limb_width(784), limb_width(1)
    (21, 26)
    """
    n = _check_n(n)
    return (53 - max(n, 1).bit_length()) // 2


class ExactProducts:
    """Exact integer inner products ``Σ_k M_ak N_bk`` of two sets of integer vectors, kept
    as base-``2**β`` digits: ``digits[q]`` for ``q < Q`` are in ``[0, 2**β)``, the last one
    is signed.  Built by :func:`exact_products`."""

    def __init__(self, digits: np.ndarray, beta: int) -> None:
        self.digits, self.beta = digits, beta
        top = digits[-1]
        rest = np.any(digits[:-1] != 0, axis=0)
        self.sign = np.where(top != 0, np.sign(top), rest.astype(np.int64)).astype(np.int8)
        """Exact signs (−1, 0, 1), shape ``(len(A), len(B))``."""

    def integer(self, a: int, b: int) -> int:
        """The exact integer ``Σ_k M_ak N_bk``."""
        out = 0
        for q, v in enumerate(self.digits[:, a, b].tolist()):
            out += v << (self.beta * q)
        return out

    def approx(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Float approximations (a few ulps) of the integers of pairs ``(a[k], b[k])``."""
        dg = self.digits[:, a, b].astype(np.float64)
        v = dg[-1]
        for q in range(dg.shape[0] - 2, -1, -1):
            v = np.ldexp(v, self.beta) + dg[q]
        return v


def exact_products(
    A: np.ndarray,
    B: np.ndarray,
    lsb_a: np.ndarray | None = None,
    lsb_b: np.ndarray | None = None,
    *,
    max_limbs: int = 6,
) -> ExactProducts | None:
    """Exact inner products of every row of ``A`` with every row of ``B``, by BLAS.

    Each row is an integer vector ``M = x·2**-lsb`` (:func:`lsb_exponents`), split exactly
    (in float arithmetic) into signed ``β``-bit limbs (:func:`limb_width`); every
    limb-by-limb matrix product is exact in float64 (:func:`float_dot_is_exact`'s argument:
    integers below ``2**53``), and the ``L²`` limb products are recombined exactly in int64
    with carries.  So ``x·y = integer(a, b)·2**(lsb_a + lsb_b)`` exactly.

    Returns ``None`` when the widest row needs more than ``max_limbs`` limbs (its entries
    span more than ``β·max_limbs`` bits); use :class:`ExactRows` then.

    Examples
    --------
    >>> A = np.array([[0.1, 0.2]]); B = np.array([[3.0, -1.5], [1.0, 1.0]])
    >>> P = exact_products(A, B)
    >>> P.sign.tolist()
    [[0, 1]]
    """
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    beta = limb_width(A.shape[1])
    mats, bits = [], 0
    for X, lsb in ((A, lsb_a), (B, lsb_b)):
        lsb = lsb_exponents(X) if lsb is None else np.asarray(lsb, dtype=np.int64)
        lsb = np.where(lsb >= 2**40, 0, lsb)  # zero rows
        if X.size:  # max|M| < 2**bits; decide before scaling (no overflow)
            top = np.frexp(np.abs(X).max(axis=1))[1]
            bits = max(bits, int((np.where(np.any(X != 0, axis=1), top - lsb, 0)).max()))
            if bits > min(beta * max_limbs, 1000):  # (and M stays finite)
                return None
        mats.append(np.ldexp(X, (-lsb)[:, None].astype(np.int32)))  # integers, exactly
    L = max(1, -(-bits // beta))
    limbs = []
    for M in mats:
        sgn, mag, parts = np.sign(M), np.abs(M), []
        for k in range(L):  # digit k of |M| in base 2**β: all operations exact
            t = np.floor(np.ldexp(mag, -beta * k))
            parts.append((t - np.ldexp(np.floor(np.ldexp(t, -beta)), beta)) * sgn)
        limbs.append(parts)
    H = np.zeros((2 * L, A.shape[0], B.shape[0]), dtype=np.int64)
    for s_, As in enumerate(limbs[0]):
        for t_, Bt in enumerate(limbs[1]):
            H[s_ + t_] += (As @ Bt.T).astype(np.int64)  # exact: |entries| < 2**53
    for q in range(2 * L - 1):  # carries: digits q < 2L-1 into [0, 2**β)
        carry = H[q] >> beta
        H[q] -= carry << beta
        H[q + 1] += carry
    return ExactProducts(H, beta)
