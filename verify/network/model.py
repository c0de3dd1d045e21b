"""Trained two-layer ReLU networks: exact margins, rescaling, balancing, the objective bound.

The network is ``f(θ, X) = (X W1)_+ w2`` (``W1`` is ``d × m``, ``w2`` has length ``m``), no
biases: a first-layer bias is the weight of the constant last feature that ``--bias`` appends
(:func:`verify.io.datasets.check_dataset`).  ``K`` classes are ``K`` independent sub-networks,
``W1`` of shape ``(K, d, m)`` and ``w2`` of shape ``(K, m)``, each scored on ``y = Y[:, k]``.

Everything that decides is exact: a float is a dyadic rational, so each row of ``X`` and each
column of ``W1`` is written as integers times one power of two, and the pre-activations
``x_n^T w1_i`` and the margins ``y_n f(θ, x_n)`` are computed in integer arithmetic
(python-flint's ``fmpz_mat`` when installed, plain Python otherwise).  Where only a sign or a
minimum is needed, rigorous float enclosures (:func:`margin_enclosures`,
:func:`verify.geometry.proven_linalg.exact_signs`) decide what they can prove and exact arithmetic
does the
rest, so the exact minimum margin costs little more than the float one.  Norms enter
the objective bound through :func:`verify.checker.arithmetic.sqrt_bounds` (upper end), so the
rational
:func:`objective_upper_bound` is never below the true value.  The KKT analysis of trained
networks is in :mod:`verify.network.kkt`.

Examples
--------
>>> import numpy as np
>>> net = Network(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]))
>>> X = np.array([[2.0, 0.5], [0.5, 3.0]]); y = np.array([1, -1])
>>> [str(q) for q in exact_margins(X, y, net.W1, net.w2)]
['3/2', '5/2']
>>> ub, ub_float = objective_upper_bound(net, X, y)
>>> ub, round(ub_float, 12)
(Fraction(4, 3), 1.333333333333)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from verify.checker import arithmetic
from verify.errors import InputError
from verify.geometry.proven_linalg import exact_signs
from verify.io.models import ModelWeights, check_feature_count, check_weights, load_weights

try:  # optional accelerator for exact integer matrix products
    import flint as _flint
except ImportError:  # pragma: no cover - exercised only without python-flint
    _flint = None

__all__ = [
    "Network",
    "load_network",
    "iter_classes",
    "check_data",
    "exact_preactivations",
    "exact_margins",
    "float_margins",
    "margin_enclosures",
    "activation_patterns",
    "rescale_to_margin",
    "require_positive_margins",
    "balance",
    "objective_upper_bound",
]


@dataclass(frozen=True)
class Network:
    """A two-layer ReLU network without biases (binary, or ``K`` independent sub-networks).

    Attributes
    ----------
    W1 : ndarray, float64, shape (d, m) or (K, d, m)
        Column ``i`` is the first-layer weight ``w1_i`` of neuron ``i``.
    w2 : ndarray, float64, shape (m,) or (K, m)
    source : str
    has_bias_feature : bool
        The last row of ``W1`` is a first-layer bias: ``X`` must end with a column of ones.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.array([[1.0, -1.0]]), np.array([2.0, 1.0]))
    >>> net.outputs(np.array([[1.5], [-2.0]])).tolist()
    [3.0, 2.0]
    >>> Network(np.ones((2, 3)), np.ones(2))
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: W1 has 3 neurons (shape (2, 3)) but w2 has 2 ...
    """

    W1: np.ndarray
    w2: np.ndarray
    source: str = "<array>"
    has_bias_feature: bool = False
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        W1, w2 = check_weights(self.W1, self.w2, source=self.source)
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "w2", w2)

    @classmethod
    def from_weights(cls, mw: ModelWeights) -> Network:
        """The network of weights read by :func:`verify.io.models.load_weights`."""
        return cls(mw.W1, mw.w2, mw.source, mw.has_bias_feature, mw.notes)

    @property
    def n_features(self) -> int:
        return int(self.W1.shape[-2])

    @property
    def n_neurons(self) -> int:
        return int(self.W1.shape[-1])

    @property
    def n_classes(self) -> int:
        """``K`` for a multi-class network, 1 for a binary one."""
        return int(self.W1.shape[0]) if self.W1.ndim == 3 else 1

    @property
    def is_binary(self) -> bool:
        return self.W1.ndim == 2

    def subnetwork(self, k: int) -> Network:
        """The binary sub-network of class ``k`` (the network itself when binary, ``k = 0``)."""
        if self.is_binary:
            if k != 0:
                raise InputError(f"a binary network has only sub-network 0, asked for {k}")
            return self
        if not 0 <= k < self.n_classes:
            raise InputError(f"class {k} out of range: the network has {self.n_classes}")
        return Network(self.W1[k], self.w2[k], f"{self.source}[class {k}]", self.has_bias_feature)

    def outputs(self, X: Any) -> np.ndarray:
        """Float outputs ``(X W1)_+ w2``: shape ``(N,)``, or ``(N, K)`` for ``K`` classes."""
        Xa = check_data(self, X)[0]
        if self.is_binary:
            return np.maximum(Xa @ self.W1, 0.0) @ self.w2
        return np.stack(
            [np.maximum(Xa @ self.W1[k], 0.0) @ self.w2[k] for k in range(self.n_classes)], 1
        )

    def margins(self, X: Any, y: Any) -> np.ndarray:
        """Float margins ``y_n f(θ, x_n)`` (``Y[n, k] f_k(x_n)`` for ``K`` classes)."""
        Xa, ya = check_data(self, X, y)
        return ya * self.outputs(Xa)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; the weights are exact (Python floats round-trip)."""
        return {
            "source": self.source,
            "n_features": self.n_features,
            "n_neurons": self.n_neurons,
            "n_classes": self.n_classes,
            "has_bias_feature": self.has_bias_feature,
            "notes": list(self.notes),
            "W1": self.W1.tolist(),
            "w2": self.w2.tolist(),
        }


def load_network(
    path: str | Path, *, n_features: int | None = None, data_bias: bool | None = None
) -> Network:
    """Load a model file (see :mod:`verify.io.models`) and check it against the data's width.

    ``n_features`` is the number of columns of ``X`` as loaded (with the bias column when
    ``data_bias`` is true).

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from verify.io.models import save_model
    >>> p = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> save_model(p, np.ones((3, 2)), np.ones(2))
    >>> load_network(p, n_features=2)
    Traceback (most recent call last):
    ...
    verify.errors.InputError: ...: the model expects 3 input features (no bias), the data has 2; ...
    """
    net = Network.from_weights(load_weights(path))
    if n_features is not None:
        check_feature_count(
            net.n_features,
            n_features,
            has_bias_feature=net.has_bias_feature,
            data_bias=data_bias,
            source=net.source,
        )
    return net


# --------------------------------------------------------------------------- validation


def check_data(net: Network, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate ``X`` (and labels ``y``) against ``net``; return float64 ``X`` and int ``y``.

    ``y`` is ``(N,)`` in ``{-1, +1}`` for a binary network and ``(N, K)`` for ``K`` classes.

    Raises
    ------
    InputError
        Wrong shapes, non-finite values, labels other than ±1, a feature count that does not
        match the model, or a model with a bias feature whose data lacks the column of ones.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.ones((2, 1)), np.ones(1), has_bias_feature=True)
    >>> check_data(net, np.array([[1.0, 2.0]]))
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: the model has a first-layer bias, so the last column ...
    """
    try:
        Xa = np.array(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"X is not a matrix of numbers ({exc})") from None
    if Xa.ndim != 2 or Xa.shape[0] < 1:
        raise InputError(f"X must be a non-empty 2-D array (N × d), got shape {Xa.shape}")
    if not np.all(np.isfinite(Xa)):
        raise InputError("X has a non-finite value")
    check_feature_count(
        net.n_features, Xa.shape[1], has_bias_feature=net.has_bias_feature, source=net.source
    )
    if net.has_bias_feature and not np.all(Xa[:, -1] == 1.0):
        raise InputError(
            f"{net.source}: the model has a first-layer bias, so the last column of X must be "
            "the constant 1 (load the data with --bias)"
        )
    if y is None:
        return Xa, None
    ya = np.asarray(y)
    if net.is_binary and ya.ndim == 2 and ya.shape[1:] == (1,):
        ya = ya[:, 0]
    want = (Xa.shape[0],) if net.is_binary else (Xa.shape[0], net.n_classes)
    if ya.shape != want:
        raise InputError(f"labels: expected shape {want} (labels in ±1), got {ya.shape}")
    if ya.dtype.kind not in "biuf" or not np.all((ya == 1) | (ya == -1)):
        raise InputError(
            "labels must be -1 or +1 (use verify.io.datasets.check_dataset to map them)"
        )
    return Xa, ya.astype(np.int64)


def iter_classes(net: Network, Y: Any) -> Iterator[tuple[int, Network, np.ndarray]]:
    """Yield ``(k, sub-network k, Y[:, k])``; a binary network yields ``(0, net, y)`` once.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.ones((2, 1, 3)), np.ones((2, 3)))
    >>> [(k, sub.W1.shape, yk.tolist()) for k, sub, yk in iter_classes(net, [[1, -1]])]
    [(0, (1, 3), [1]), (1, (1, 3), [-1])]
    """
    Ya = np.asarray(Y)
    if net.is_binary:
        if Ya.ndim == 2 and Ya.shape[1] != 1:
            raise InputError(
                f"labels: a binary network needs one column of labels, got shape {Ya.shape}"
            )
        yield 0, net, (Ya[:, 0] if Ya.ndim == 2 else Ya)
        return
    if Ya.ndim != 2 or Ya.shape[1] != net.n_classes:
        raise InputError(f"labels: expected shape (N, {net.n_classes}), got {Ya.shape}")
    for k in range(net.n_classes):
        yield k, net.subnetwork(k), Ya[:, k]


def _binary(net: Network, what: str) -> None:
    if not net.is_binary:
        raise InputError(
            f"{what} takes a binary network; loop over the classes with iter_classes(net, Y)"
        )


# --------------------------------------------------------------------------- exact kernel


def _dyadic_rows(A: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """Rows of a float matrix as integers times one power of two per row (exactly)."""
    mant, ex = np.frexp(A)
    M = (mant * 2.0**53).astype(np.int64)  # exact: |mant| < 1 has at most 53 bits
    E = ex.astype(np.int64) - 53
    nz = M != 0
    big = np.iinfo(np.int64).max
    emin = np.where(nz, E, big).min(axis=1)
    emin[~nz.any(axis=1)] = 0
    S = np.where(nz, E - emin[:, None], 0)
    if S.size == 0 or S.max() <= 9:  # |M| < 2**53, so M << 9 fits in int64
        ints = (M << S).tolist()
    else:
        ints = [[int(m) << int(s) for m, s in zip(mr, sr)] for mr, sr in zip(M.tolist(), S)]
    return ints, emin.tolist()


def _int_matmul(A: list[list[int]], Bt: list[list[int]]) -> list[list[int]]:
    """Exact ``A @ Bt^T`` for integer matrices given as lists of rows."""
    if _flint is not None:
        C = _flint.fmpz_mat(A) * _flint.fmpz_mat(Bt).transpose()
        r, c = C.nrows(), C.ncols()
        flat = [int(v) for v in C.entries()]
        return [flat[i * c : (i + 1) * c] for i in range(r)]
    return [[sum(a * b for a, b in zip(row, col)) for col in Bt] for row in A]


def _pow2(e: int) -> Fraction:
    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << -e)


def exact_preactivations(X: Any, W1: Any) -> tuple[list[list[int]], list[int], list[int]]:
    """Exact ``x_n^T w1_i = Z[n][i] * 2**(ex[n] + ew[i])`` as integers ``(Z, ex, ew)``.

    Examples
    --------
    >>> Z, ex, ew = exact_preactivations([[1e16, 1.0, -1e16]], [[1.0], [1.0], [1.0]])
    >>> Z[0][0] * 2.0 ** (ex[0] + ew[0])
    1.0
    """
    XI, ex = _dyadic_rows(np.asarray(X, dtype=np.float64))
    WI, ew = _dyadic_rows(np.asarray(W1, dtype=np.float64).T)
    return _int_matmul(XI, WI), ex, ew


def _exact_outputs(X: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> list[Fraction]:
    Z, ex, ew = exact_preactivations(X, W1)
    (C,), (g,) = _dyadic_rows(w2[None, :])
    h = min(ew)
    Cs = [c << (e - h) for c, e in zip(C, ew)]
    R = [[z if z > 0 else 0 for z in row] for row in Z]
    out = _int_matmul(R, [Cs])
    return [Fraction(o[0]) * _pow2(e + g + h) for o, e in zip(out, ex)]


def exact_margins(X: Any, y: Any, W1: Any, w2: Any) -> list[Fraction]:
    """Exact margins ``y_n (X W1)_+ w2`` of a binary network as rationals.

    Examples
    --------
    Float evaluation loses the 1 below (``1e16 + 1 == 1e16``); the exact margin keeps it:

    >>> X = [[1e16, 1.0, -1e16]]
    >>> exact_margins(X, [1], [[1.0], [1.0], [1.0]], [1.0])
    [Fraction(1, 1)]
    """
    net = Network(W1, w2)
    _binary(net, "exact_margins")
    Xa, ya = check_data(net, X, y)
    return [int(s) * q for s, q in zip(ya, _exact_outputs(Xa, net.W1, net.w2))]


def float_margins(X: Any, y: Any, W1: Any, w2: Any) -> np.ndarray:
    """Float margins ``y_n (X W1)_+ w2`` (fast, not a verdict; see :func:`exact_margins`).

    Examples
    --------
    >>> float_margins([[2.0, 1.0]], [-1], [[1.0], [1.0]], [0.5]).tolist()
    [-1.5]
    """
    return Network(W1, w2).margins(X, y)


def activation_patterns(net: Network, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact activation patterns: ``D_hat[i, n] = x_n^T w1_i > 0``, ``ambiguous`` where ``= 0``.

    Both are boolean of shape ``(m, N)`` (``(K, m, N)`` for ``K`` classes).  Decided
    exactly (:func:`verify.geometry.proven_linalg.exact_signs`: a rigorous float error bound where
    it
    proves the sign, exact integer arithmetic elsewhere), never with a float tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.array([[0.1, 1.0], [0.2, 0.0]]), np.array([1.0, 1.0]))
    >>> D, amb = activation_patterns(net, np.array([[2.0, -1.0], [-1.0, 0.0]]))
    >>> D.astype(int).tolist(), amb.astype(int).tolist()
    ([[0, 0], [1, 0]], [[1, 0], [0, 0]])
    """
    Xa = check_data(net, X)[0]
    if not net.is_binary:
        pats = [activation_patterns(net.subnetwork(k), Xa) for k in range(net.n_classes)]
        return np.stack([p[0] for p in pats]), np.stack([p[1] for p in pats])
    S = exact_signs(Xa, net.W1.T)  # (m, N); rigorous float filter, exact fallback
    return S > 0, S == 0


# --------------------------------------------------------------------------- scaling


def rescale_to_margin(net: Network, X: Any, y: Any) -> Network:
    """Scale ``θ`` by ``1/√γ`` (``γ`` = the exact minimum margin) so the minimum margin is 1.

    ``f(cθ) = c² f(θ)``; the scaling is done in floats, so the new minimum margin is 1 up to
    rounding.  For ``K`` classes every sub-network is scaled by its own ``γ_k``.

    Raises
    ------
    InputError
        If the minimum margin is ``<= 0`` (decided exactly): the message counts the
        misclassified samples and those on the decision boundary.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.array([[2.0]]), np.array([2.0]))
    >>> rescale_to_margin(net, np.array([[1.0]]), np.array([1])).margins([[1.0]], [1]).tolist()
    [1.0]
    >>> rescale_to_margin(net, np.array([[1.0], [-1.0]]), np.array([1, 1]))
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: the minimum margin is 0, not positive: ...
    """
    Xa, ya = check_data(net, X, y)
    if not net.is_binary:
        subs = [rescale_to_margin(s, Xa, yk) for _, s, yk in iter_classes(net, ya)]
        return Network(
            np.stack([s.W1 for s in subs]),
            np.stack([s.w2 for s in subs]),
            net.source,
            net.has_bias_feature,
            net.notes,
        )
    return _rescale(net, Xa, ya)[0]


def _rescale(net: Network, Xa: np.ndarray, ya: np.ndarray) -> tuple[Network, float]:
    gamma = _min_margin(net, Xa, ya)
    c = float(1.0 / np.sqrt(float(gamma)))
    return Network(net.W1 * c, net.w2 * c, net.source, net.has_bias_feature, net.notes), c


def margin_enclosures(net: Network, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Rigorous float enclosures ``lo <= y_n f(θ, x_n) <= hi`` of the margins (binary).

    Proof (Higham's model, any summation order, FMA or not; ``γ_n = nu/(1−nu)``,
    ``u = 2**-53``, ``t = 2**-1000`` covers every underflow term):
    ``H = fl(X W1)`` has ``|H − XW1| <= γ_d S + 2dη`` with ``S = |X||W1| <= fl(|X||W1|) /
    (1 − γ_d)``, so ``E1 = 4γ_d fl(|X||W1|) + t`` bounds it (the factor 4 also absorbs the
    rounding of ``E1`` itself).  ReLU is 1-Lipschitz, so ``R = relu(H)`` is within ``E1`` of
    the exact ``relu(XW1)``; ``o = fl(R w2)`` is within ``γ_m fl(R|w2|)/(1 − γ_m) + 2mη``
    of ``R w2`` and ``R w2`` within ``E1 |w2| <= fl(E1|w2|)/(1 − γ_m)`` of the exact output.
    ``E2 = (4γ_m fl(R|w2|) + (1 + 4γ_m) fl(E1|w2|) + t)(1 + 2**-40)`` dominates their sum
    including the rounding of these few operations.  Non-finite values give ``±inf``.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = margin_enclosures(Network(np.array([[1.0]]), np.array([0.1])),
    ...                            np.array([[3.0]]), np.array([1]))
    >>> bool(lo[0] < 0.3 < hi[0]), bool(hi[0] - lo[0] < 1e-14)
    (True, True)
    """
    _binary(net, "margin_enclosures")
    Xa, ya = check_data(net, X, y)
    d, m = net.W1.shape
    gd, gm = 4.0 * d * 2.0**-53 / (1 - d * 2.0**-53), 4.0 * m * 2.0**-53 / (1 - m * 2.0**-53)
    t = 2.0**-1000
    with np.errstate(over="ignore", invalid="ignore"):
        H = Xa @ net.W1
        E1 = gd * (np.abs(Xa) @ np.abs(net.W1)) + t
        R = np.maximum(H, 0.0)
        a2 = np.abs(net.w2)
        o = ya * (R @ net.w2)
        E2 = (gm * (R @ a2) + (1.0 + gm) * (E1 @ a2) + t) * (1.0 + 2.0**-40)
        lo, hi = o - E2, o + E2
    bad = ~(np.isfinite(lo) & np.isfinite(hi))
    lo[bad], hi[bad] = -np.inf, np.inf
    return lo, hi


def _min_margin(net: Network, Xa: np.ndarray, ya: np.ndarray) -> Fraction:
    """The exact minimum margin; exact arithmetic only where the float enclosures overlap."""
    lo, hi = margin_enclosures(net, Xa, ya)
    cand = np.flatnonzero(lo <= hi.min())  # holds every minimiser
    gamma = min(exact_margins(Xa[cand], ya[cand], net.W1, net.w2))
    if gamma <= 0:
        unsure = np.flatnonzero(lo <= 0)  # the others are proven positive
        q = exact_margins(Xa[unsure], ya[unsure], net.W1, net.w2)
        wrong = [int(i) for i, v in zip(unsure, q) if v < 0]
        zero = [int(i) for i, v in zip(unsure, q) if v == 0]
        parts = [f"{len(wrong)} of {len(ya)} samples are misclassified{_rows(wrong)}"]
        parts.append(f"{len(zero)} lie on the decision boundary{_rows(zero)}")
        raise InputError(
            f"{net.source}: the minimum margin is {float(gamma) + 0.0:.6g}, not positive: "
            + " and ".join(parts) + " (exact arithmetic); the max-margin bounds need a "
            "network that separates the data"
        )
    return gamma


def _rows(rows: list[int], first: int = 5) -> str:
    if not rows:
        return ""
    more = ", …" if len(rows) > first else ""
    return (f" (row{'s' if len(rows) > 1 else ''} "
            + ", ".join(map(str, rows[:first])) + more + ", 0-based)")


def require_positive_margins(net: Network, X: Any, Y: Any, labels: Any = None) -> None:
    """Raise unless every sub-network classifies every sample correctly (decided exactly).

    ``Y`` is ``(N,)`` of ±1 for a binary network, ``(N, K)`` for ``K`` classes.

    Cheap next to any solve (float enclosures, exact arithmetic only where they are unsure);
    :func:`verify.certificate.build.build_certificate` calls it first.  ``labels`` name the
    classes in the message.

    Raises
    ------
    InputError
        Naming the class, the count and the first rows misclassified or on the boundary.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.array([[1.0]]), np.array([1.0]))
    >>> require_positive_margins(net, np.array([[1.0], [2.0]]), np.array([1, -1]))
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: the minimum margin is -2, not positive: 1 of 2 samples ...
    """
    Xa, Ya = check_data(net, X, Y)
    for k, sub, yk in iter_classes(net, Ya):
        try:
            _min_margin(sub, Xa, yk)
        except InputError as exc:
            if net.is_binary:
                raise
            name = labels[k] if labels is not None else k
            raise InputError(f"class {name}: {exc}") from None


def balance(net: Network) -> Network:
    """Rescale each neuron so that ``‖w1_i‖ = |w2_i|``; the outputs do not change.

    Neuron ``i`` becomes ``(c w1_i, w2_i / c)`` with ``c = √(|w2_i| / ‖w1_i‖)``.  A neuron
    with ``w1_i = 0`` or ``w2_i = 0`` contributes nothing and is set to zero.

    Examples
    --------
    >>> import numpy as np
    >>> b = balance(Network(np.array([[3.0, 1.0], [4.0, 0.0]]), np.array([20.0, 0.0])))
    >>> b.W1.tolist(), b.w2.tolist()
    ([[6.0, 0.0], [8.0, 0.0]], [10.0, 0.0])
    """
    n1 = np.linalg.norm(net.W1, axis=-2)
    a2 = np.abs(net.w2)
    live = (n1 > 0) & (a2 > 0)
    c = np.sqrt(np.divide(a2, n1, out=np.ones_like(n1), where=live))
    W1 = np.where(live[..., None, :], net.W1 * c[..., None, :], 0.0)
    w2 = np.where(live, net.w2 / c, 0.0)
    return Network(W1, w2, net.source, net.has_bias_feature, net.notes)


def objective_upper_bound(net: Network, X: Any, y: Any) -> tuple[Fraction, float]:
    """``UB(θ) = Σ_i ‖w1_i‖·|w2_i| / min_n y_n f(θ, x_n)``: rigorous rational and float value.

    The rational is an upper bound of the exact value: exact margins, norms bounded above by
    :func:`verify.checker.arithmetic.sqrt_bounds`.  It bounds the max-margin optimum: ``P* <=
    UB(θ)``.
    For ``K`` classes the bound is the sum over the sub-networks (the problem decomposes).

    Raises
    ------
    InputError
        If a minimum margin is ``<= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> ub, f = objective_upper_bound(Network(np.array([[1.0]]), np.array([3.0])),
    ...                               np.array([[2.0]]), np.array([1]))
    >>> ub, f
    (Fraction(1, 2), 0.5)
    """
    Xa, ya = check_data(net, X, y)
    total, total_f = Fraction(0), 0.0
    for _, sub, yk in iter_classes(net, ya):
        gamma = _min_margin(sub, Xa, yk)
        WI, ew = _dyadic_rows(sub.W1.T)
        num = Fraction(0)
        for row, e, v in zip(WI, ew, sub.w2.tolist()):
            if v == 0:
                continue
            sq = Fraction(sum(a * a for a in row)) * _pow2(2 * e)
            num += arithmetic.sqrt_bounds(sq)[1] * abs(Fraction(v))
        total += num / gamma
        qf = sub.margins(Xa, yk)
        total_f += float(np.sum(np.linalg.norm(sub.W1, axis=0) * np.abs(sub.w2)) / qf.min())
    return total, total_f
