"""Orthogonal separability of a labelled data set, decided exactly.

A data set ``X`` (rows ``x_n``) with class indices ``c_n`` is *orthogonally separable* iff
``x_n·x_m > 0`` whenever ``c_n = c_m`` (including ``n = m``, so no zero rows) and
``x_n·x_m ≤ 0`` whenever ``c_n ≠ c_m``.  Binary labels ``y ∈ {±1}`` are the case of two
classes (pass e.g. ``(y > 0).astype(int)``).

Method
------
(The machinery is :class:`verify.geometry.gram_signs.GramSignEngine`; this module validates the
input
and turns the engine's counts into the report.) The Gram matrix is computed by BLAS in row
blocks on and above the diagonal (memory ``O(block·N)``, never ``N×N``) and post-processed
in cache-sized tiles. Rows are sorted by class and scaled by exact powers of two
(inner-product signs are invariant). An entry ``ĝ`` divided by rigorous norm bounds ``a ≥
‖x‖, b ≥ ‖y‖`` proves the sign of the exact ``x·y`` once ``|ĝ/a/b| > θ ≈ γ_d``
(:func:`verify.geometry.rounding.normalized_sign_threshold`: error ``≤ γ_d Σ|x_k||y_k| + 2dη`` with
Cauchy–Schwarz, an ``O(N²)`` bound, not a second Gram). The rest is decided exactly: by the
float entry itself when it is provably exact (short dyadic rows, e.g. small integers:
``exact_float_pairs``), else by exact integer products
(:func:`verify.geometry.rounding.exact_products`, limb-split BLAS; python-flint or Python integers
for very wide rows: ``exact_checks``). Classes with disjoint supports have exactly zero
cross products, decided without any Gram block (``structural_zero_pairs``).

The minimum same-class and maximum cross-class cosines are informative floats: the
extreme pairs are located with the float Gram (margin ``δ``) and valued from exact data,
so the report does not depend on ``block_size`` (barring near-ties beyond ``_CAP``
candidates per tile).  A cosine involving a zero row counts as 0.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.65, 0.47], [-0.47, 1.35]])  # Appendix F.1, y = (1, -1)
>>> r = orthogonal_separability(X, np.array([0, 1]))
>>> r.separable, r.violations
(True, 0)
>>> X = np.array([[0.1, 0.2], [3.0, -1.5]])  # exact inner product 0: allowed across classes
>>> r = orthogonal_separability(X, np.array([0, 1]))
>>> r.separable, r.exact_checks
(True, 1)
>>> r = orthogonal_separability(X, np.array([0, 0]))  # ... but not within a class
>>> r.separable, r.worst[0].kind, r.worst[0].inner_product
(False, 'same-class-not-positive', Fraction(0, 1))
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

import numpy as np

from verify.checker.arithmetic import format_rational
from verify.errors import InputError
from verify.geometry import rounding as nm
from verify.geometry.gram_signs import GramSignEngine
from verify.geometry.gram_signs import scaled_float as _scaled_float

__all__ = ["Violation", "SeparabilityReport", "orthogonal_separability", "SAME", "CROSS"]


SAME = "same-class-not-positive"
CROSS = "cross-class-positive"

_BLOCK_BYTES = 128 * 2**20  # target size of one Gram row block


@dataclass(frozen=True)
class Violation:
    """One violating unordered pair ``{i, j}`` (original row indices, ``i ≤ j``).

    ``inner_product`` is the exact ``x_i·x_j``; ``value`` is its nearest float (None if
    outside the float range) and ``cosine`` an informative float (0 when a row is zero).
    """

    i: int
    j: int
    class_i: int
    class_j: int
    kind: str
    inner_product: Fraction
    value: float | None
    cosine: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the exact inner product as a ``"p/q"`` string."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["inner_product"] = format_rational(self.inner_product)
        return out


@dataclass(frozen=True)
class SeparabilityReport:
    """Result of :func:`orthogonal_separability`.

    Attributes
    ----------
    separable : bool
        The exact verdict (``False`` as soon as one violation is known).
    violations : int
        Number of violating unordered pairs ``{n, m}`` (``n = m`` counts for a zero row);
        when the check stopped early, the count so far and ``complete_count`` is False.
    complete_count : bool
        Whether every pair was examined.
    worst : tuple of Violation
        Up to ``max_worst`` violations, worst first (largest cross-class cosine, most
        negative same-class cosine; ties by indices), each with its exact inner product.
    min_same_class_cosine, max_cross_class_cosine : float or None
        Informative floats over distinct pairs ``n ≠ m`` (None when there is no such pair).
    exact_checks : int
        Pairs the float bound could not decide, decided by exact integer arithmetic.
    exact_float_pairs : int
        Pairs the float bound could not decide, decided from a float Gram entry proved
        exact (short dyadic rows, e.g. small integers).  Both counts are deterministic
        except for pairs whose cosine is within rounding of the threshold ``θ ≈ γ_d``.
    structural_zero_pairs : int
        Cross-class pairs decided by disjoint class supports (inner product exactly 0).
    pairs_checked : int
        Unordered pairs examined, diagonal included (``N(N+1)/2`` when complete); the pairs
        not in the three counts above were decided by the rigorous float bound (or, on the
        diagonal, by ``x·x > 0`` iff ``x ≠ 0``).
    """

    separable: bool
    violations: int
    complete_count: bool
    worst: tuple[Violation, ...]
    min_same_class_cosine: float | None
    max_cross_class_cosine: float | None
    exact_checks: int
    exact_float_pairs: int
    structural_zero_pairs: int
    pairs_checked: int
    n_samples: int
    n_features: int
    n_classes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (str/int/float/bool/None/list/dict only)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["worst"] = [v.to_dict() for v in self.worst]
        return out


_LABELS = "binary ±1 labels y: pass (y > 0).astype(int)"


def _validate(X: Any, classes: Any) -> tuple[np.ndarray, np.ndarray]:
    def need(ok: Any, msg: str) -> None:
        if not ok:
            raise InputError(msg)

    need(isinstance(X, np.ndarray), f"X: expected a 2-D numpy array, received {type(X)}")
    need(X.ndim == 2, f"X: expected a 2-D array (N samples × d features), shape {X.shape}")
    need(X.dtype.kind in "fiu", f"X: expected real floats (or integers), dtype {X.dtype}")
    N, d = X.shape
    need(N >= 1 and d >= 1, f"X: expected at least one sample and feature, shape {X.shape}")
    X64 = np.ascontiguousarray(X, dtype=np.float64)
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        r, k = np.argwhere(~np.isfinite(X))[0]
        raise InputError(f"X: expected finite values, received {X[r, k]!r} at [{r}, {k}]")
    need(
        X.dtype == np.float64 or np.array_equal(X64.astype(X.dtype), X),
        f"X: dtype {X.dtype} values do not convert exactly to float64; convert them first",
    )
    c = classes
    need(
        isinstance(c, np.ndarray) and c.ndim == 1 and c.dtype.kind in "iu",
        f"classes: expected a 1-D integer numpy array of class indices 0..K-1, received "
        f"{type(c).__name__} {getattr(c, 'shape', '')} {getattr(c, 'dtype', '')} ({_LABELS})",
    )
    need(c.shape[0] == N, f"classes: expected length {N} (rows of X), received {c.shape[0]}")
    need(not np.any(c < 0), f"classes: expected indices >= 0, received {c.min()} ({_LABELS})")
    return X64, c.astype(np.int64)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def orthogonal_separability(
    X: np.ndarray,
    classes: np.ndarray,
    *,
    block_size: int | None = None,
    stop_at_first: bool = False,
    max_worst: int = 5,
    executor: Any = None,
) -> SeparabilityReport:
    """Decide exactly whether ``(X, classes)`` is orthogonally separable.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, d)
        Finite real data, one sample per row (float64, or a dtype that converts exactly).
    classes : numpy.ndarray, shape (N,)
        Integer class indices ``0..K-1`` (binary ±1 labels ``y``: ``(y > 0).astype(int)``).
    block_size : int, optional
        Rows of the Gram matrix computed per BLAS call; by default a block is at most 128 MiB.
        The report does not depend on it.
    stop_at_first : bool
        Stop at the first tile containing a violation (the count is then partial).
    max_worst : int
        How many of the worst violations to report with their exact inner products.
    executor : distributed.Client or concurrent.futures.Executor, optional
        Compute the Gram blocks there (same report); ignored with ``stop_at_first``.

    Returns
    -------
    SeparabilityReport
        The exact verdict and count, the worst violations, informative extreme cosines and
        how the pairs were decided (see the module docstring for the method).

    Raises
    ------
    InputError
        On a non-2-D, empty, non-finite or non-real ``X``, or ``classes`` that are not a 1-D
        nonnegative integer array of matching length, or bad options.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    >>> r = orthogonal_separability(X, np.array([0, 0, 1]))
    >>> r.separable, r.violations, r.worst[0].i, r.worst[0].j, r.worst[0].inner_product
    (False, 1, 1, 2, Fraction(3, 1))
    >>> orthogonal_separability(np.zeros((1, 2)), np.array([0])).worst[0].kind
    'same-class-not-positive'
    """
    Xv, cls = _validate(X, classes)
    nm.check_float_environment()
    N, d = Xv.shape
    for name, val, lo in (("block_size", block_size, 1), ("max_worst", max_worst, 0)):
        if (val is not None or lo == 0) and not (_is_int(val) and val >= lo):
            raise InputError(f"{name}: expected an integer >= {lo}, received {val!r}")
    if not isinstance(stop_at_first, (bool, np.bool_)):
        raise InputError(f"stop_at_first: expected a bool, received {stop_at_first!r}")
    block = (
        int(block_size)
        if block_size is not None
        else max(1, min(_BLOCK_BYTES // (8 * N), max(512, N // 8)))
    )
    block = min(block, N)
    eng = GramSignEngine(Xv, cls, int(max_worst), bool(stop_at_first))
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        eng.run(block, executor)  # overflowed entries are detected and decided exactly
    total = N * (N + 1) // 2
    worst = []
    for _negsev, i, j in eng.worst:
        p, e, cos = eng.exact.pair(i, j)
        ci, cj = int(cls[i]), int(cls[j])
        val = _scaled_float(p, e)  # None outside the float range
        kind = SAME if ci == cj else CROSS
        ip = Fraction(p) * Fraction(2) ** e
        worst.append(Violation(i, j, ci, cj, kind, ip, val if abs(val) < np.inf else None, cos))
    bs, bc = eng.best[True], eng.best[False]
    return SeparabilityReport(
        separable=eng.violations == 0,
        violations=eng.violations,
        complete_count=eng.pairs_checked == total,
        worst=tuple(worst),
        min_same_class_cosine=None if bs == -np.inf else float(-bs + 0.0),
        max_cross_class_cosine=None if bc == -np.inf else float(bc + 0.0),
        exact_checks=eng.exact_checks,
        exact_float_pairs=eng.exact_float,
        structural_zero_pairs=eng.structural,
        pairs_checked=eng.pairs_checked,
        n_samples=N,
        n_features=d,
        n_classes=len(np.unique(cls)),
    )
