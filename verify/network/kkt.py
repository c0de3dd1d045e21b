"""KKT analysis of a trained network: the dual variable λ, alignment, the cover condition.

Proposition 3 (Wang & Pilanci): at a KKT point of the max-margin problem (13), rescaled to
margin 1 and balanced, every neuron with ``w2_i ≠ 0`` satisfies ``w1_i / w2_i = X^T D̂_i λ``
and ``‖X^T D̂_i λ‖ = 1``, with ``diag(y) λ >= 0`` and ``λ_n = 0`` where the margin exceeds 1.
:func:`kkt_dual` *fits* such a λ to a finitely trained network (non-negative least squares
in ``μ = diag(y) λ``) and reports how well it fits: a fit, not a verdict.  Whether λ is dual
feasible (Theorem 3) is decided elsewhere (the Lemma-4 oracle over the chambers).

Examples
--------
Two neurons, each the minimum-norm separator of one sample (a KKT point):

>>> import numpy as np
>>> from verify.network.model import Network
>>> X = np.array([[2.0, 0.0], [0.0, 4.0]]); y = np.array([1, -1])
>>> net = Network(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, -0.25]))
>>> fit = kkt_dual(net, X, y)
>>> fit.support, [round(v, 12) for v in fit.lam], fit.residual < 1e-12
((0, 1), [0.5, -0.25], True)
>>> [round(v, 12) for v in fit.neuron_norms]
[1.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
import scipy.special

from verify.errors import InputError
from verify.network.model import (
    Network,
    _binary,
    _rescale,
    activation_patterns,
    balance,
    check_data,
)

__all__ = [
    "KKTFit",
    "Coverage",
    "kkt_dual",
    "loss_weights",
    "alignment",
    "covers_both_classes",
    "Theorem3",
    "theorem3",
]


def _floats(a: Any) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]


@dataclass(frozen=True)
class KKTFit:
    """The λ of Proposition 3 fitted to a network (after rescaling to margin 1 and balancing).

    Attributes
    ----------
    lam : tuple of float
        ``λ`` (``λ_n = y_n μ_n``, zero outside the support).
    support : tuple of int
        Samples treated as support vectors: rescaled margin ``<= 1 + support_tol``.
    support_tol : float
    margins : tuple of float
        The rescaled margins (minimum 1 up to rounding).
    neurons : tuple of int
        The neurons that enter the fit (``w2_i ≠ 0`` and ``w1_i ≠ 0``).
    residual : float
        ``‖A μ − b‖ / ‖b‖`` over all stacked equations ``w1_i / w2_i = X^T D̂_i λ``.
    neuron_residuals, neuron_norms : tuple of float
        Per fitted neuron: ``‖w1_i/w2_i − X^T D̂_i λ‖`` and ``‖X^T D̂_i λ‖`` (1 at a KKT point).
    dual_objective : float
        ``y^T λ``; equal to ``primal_objective`` at a KKT point.
    primal_objective : float
        ``Σ_i ‖w1_i‖ |w2_i|`` of the rescaled network (the float ``UB(θ)``).
    scale : float
        The factor ``1/√γ`` applied to ``θ``.
    n_ambiguous : int
        Pairs ``(i, n)`` with ``x_n^T w1_i = 0`` exactly among the fitted neurons.
    ambiguous_active : bool
        Whether those pairs were put into ``D̂_i`` (otherwise left out).
    """

    lam: tuple[float, ...]
    support: tuple[int, ...]
    support_tol: float
    margins: tuple[float, ...]
    neurons: tuple[int, ...]
    residual: float
    neuron_residuals: tuple[float, ...]
    neuron_norms: tuple[float, ...]
    dual_objective: float
    primal_objective: float
    scale: float
    n_ambiguous: int
    ambiguous_active: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "kind": "fit",
            "lambda": _floats(self.lam),
            "support": list(self.support),
            "support_tol": self.support_tol,
            "margins": _floats(self.margins),
            "neurons": list(self.neurons),
            "residual": float(self.residual),
            "neuron_residuals": _floats(self.neuron_residuals),
            "neuron_norms": _floats(self.neuron_norms),
            "dual_objective": float(self.dual_objective),
            "primal_objective": float(self.primal_objective),
            "scale": float(self.scale),
            "n_ambiguous": self.n_ambiguous,
            "ambiguous_active": self.ambiguous_active,
        }


def kkt_dual(
    net: Network,
    X: Any,
    y: Any,
    *,
    support_tol: float = 1e-2,
    ambiguous_active: bool = False,
) -> KKTFit:
    """Fit the dual variable λ of Proposition 3 to a binary network.

    The network is rescaled to minimum margin 1 (:func:`verify.network.model.rescale_to_margin`
    refuses a network that does not separate the data) and balanced
    (:func:`verify.network.model.balance`).  ``D̂_i`` is the exact activation pattern of the
    *given* network (positive rescaling does not change it): 1 where ``x_n^T w1_i > 0``,
    0 where ``< 0``; on ``= 0`` Proposition 3 allows either value and ``ambiguous_active``
    chooses.  Then ``μ >= 0`` solves the non-negative least-squares problem
    ``min ‖A μ − b‖`` whose rows are, for each neuron ``i`` with ``w2_i ≠ 0``,
    ``Σ_{n ∈ S} D̂_i[n] y_n x_n μ_n = w1_i / w2_i``, where ``S`` (the support) holds the
    samples with rescaled margin ``<= 1 + support_tol`` (complementary slackness sets
    ``λ_n = 0`` elsewhere).  ``λ = diag(y) μ``.

    Examples
    --------
    A network that is not a KKT point fits badly:

    >>> import numpy as np
    >>> X = np.array([[2.0, 0.0], [0.0, 4.0]]); y = np.array([1, -1])
    >>> net = Network(np.array([[1.0, 0.0], [0.5, 1.0]]), np.array([0.5, -0.5]))
    >>> kkt_dual(net, X, y).residual > 0.1
    True
    """
    _binary(net, "kkt_dual")
    if not (np.isfinite(support_tol) and support_tol >= 0):
        raise InputError(f"support_tol must be a finite number >= 0, got {support_tol!r}")
    Xa, ya = check_data(net, X, y)
    D, amb = activation_patterns(net, Xa)
    if ambiguous_active:
        D = D | amb
    scaled, scale = _rescale(net, Xa, ya)
    bal = balance(scaled)
    q = bal.margins(Xa, ya)
    support = np.flatnonzero(q <= 1.0 + support_tol)
    neurons = np.flatnonzero(bal.w2 != 0)
    YX = (ya[:, None] * Xa)[support]  # rows y_n x_n, n in S
    DS = D[neurons][:, support].astype(float)  # (m', |S|)
    B = (bal.W1[:, neurons] / bal.w2[neurons]).T  # (m', d): rows w1_i / w2_i
    mu = _nnls_fit(YX, DS, B)
    lam = np.zeros(Xa.shape[0])
    lam[support] = ya[support] * mu
    fitted = (DS * mu[None, :]) @ YX  # rows X^T D̂_i λ
    res_i = np.linalg.norm(fitted - B, axis=1)
    norm_i = np.linalg.norm(fitted, axis=1)
    b = B.ravel()
    nb = float(np.linalg.norm(b))
    return KKTFit(
        lam=tuple(lam.tolist()),
        support=tuple(int(n) for n in support),
        support_tol=float(support_tol),
        margins=tuple(q.tolist()),
        neurons=tuple(int(i) for i in neurons),
        residual=float(np.linalg.norm(res_i) / nb) if nb > 0 else 0.0,
        neuron_residuals=tuple(res_i.tolist()),
        neuron_norms=tuple(norm_i.tolist()),
        dual_objective=float(ya @ lam),
        primal_objective=float(np.sum(np.linalg.norm(bal.W1, axis=0) * np.abs(bal.w2))),
        scale=scale,
        n_ambiguous=int(amb[neurons].sum()),
        ambiguous_active=ambiguous_active,
    )


_DENSE_LIMIT = 4_000_000  # entries of the stacked matrix A built explicitly (32 MB)


def _nnls_fit(YX: np.ndarray, DS: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``argmin_{μ >= 0} Σ_i ‖Σ_n DS[i, n] μ_n YX[n] − B[i]‖²``.

    Small problems stack the equations into ``A`` (``m'd × |S|``) for ``scipy.optimize.nnls``.
    Large ones use the same objective in ``|S|`` dimensions: ``A^T A = (YX YX^T) ∘ (DS^T DS)``
    and ``A^T b = Σ_i DS[i] ∘ (YX B[i])``; with ``A^T A = V Λ V^T`` the problem is the NNLS
    ``min ‖L μ − c‖``, ``L = Λ^{1/2} V^T``, ``c = Λ^{-1/2} V^T A^T b`` (on ``Λ > 0``;
    ``A^T b`` lies in the range of ``A^T A``), whose objective differs from the original one
    by a constant.
    """
    m, S = DS.shape
    d = YX.shape[1]
    if S == 0 or m == 0:
        return np.zeros(S)
    if m * d * S <= _DENSE_LIMIT:
        A = (DS[:, None, :] * YX.T[None, :, :]).reshape(m * d, S)
        return scipy.optimize.nnls(A, B.ravel(), maxiter=50 * max(S, 1))[0]
    G = (YX @ YX.T) * (DS.T @ DS)
    r = np.sum(DS * (B @ YX.T), axis=0)
    w, V = np.linalg.eigh(G)
    keep = w > w.max() * S * np.finfo(float).eps
    L = np.sqrt(w[keep])[:, None] * V[:, keep].T
    c = (V[:, keep].T @ r) / np.sqrt(w[keep])
    return scipy.optimize.nnls(L, c, maxiter=50 * max(S, 1))[0]


def loss_weights(net: Network, X: Any, y: Any) -> np.ndarray:
    """Loss weights ``λ̃_n = −y_n ℓ'(q_n) = y_n / (1 + e^{q_n})`` of the logistic loss (19).

    ``q_n = y_n f(θ, x_n)``; computed as ``y_n · expit(−q_n)`` (no overflow for large
    ``|q_n|``).  Shape ``(N,)``, or ``(N, K)`` for ``K`` classes.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.array([[1.0]]), np.array([1.0]))
    >>> loss_weights(net, np.array([[0.0], [800.0], [800.0]]), np.array([-1, 1, -1])).tolist()
    [-0.5, 0.0, -1.0]
    """
    Xa, ya = check_data(net, X, y)
    q = net.margins(Xa, ya)
    return ya * scipy.special.expit(-q)


def alignment(net: Network, X: Any, y: Any) -> np.ndarray:
    """Theorem 1's ``cos∠(w1_i, s_i X^T D(w1_i) y)`` per neuron, ``s_i = sign(w2_i)`` (float).

    ``D(w)`` is the exact pattern ``1[X w > 0]`` (zero is the subgradient at 0).  NaN where
    ``w1_i = 0``, ``w2_i = 0`` or ``X^T D(w1_i) y = 0``.  Informational: Theorem 1 says that
    from a small initialisation the neurons with ``sign(y^T (X w1_i)_+) = sign(w2_i)`` align
    (cosine near 1).  Shape ``(m,)``, or ``(K, m)`` for ``K`` classes.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network(np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([1.0, -1.0]))
    >>> np.round(alignment(net, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1, -1])), 6).tolist()
    [1.0, 0.0]
    """
    Xa, ya = check_data(net, X, y)
    if not net.is_binary:
        return np.stack([alignment(net.subnetwork(k), Xa, ya[:, k]) for k in range(net.n_classes)])
    D, _ = activation_patterns(net, Xa)
    G = (D * ya[None, :]).astype(float) @ Xa  # row i: X^T D(w1_i) y
    G = G * np.sign(net.w2)[:, None]
    W = net.W1.T
    den = np.linalg.norm(W, axis=1) * np.linalg.norm(G, axis=1)
    num = np.sum(W * G, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


@dataclass(frozen=True)
class Coverage:
    """The cover condition of Propositions 4 and 5.

    Attributes
    ----------
    covers : bool
        Some neuron with ``w2_i ≠ 0`` has ``D̂_i ≥ diag(1[y = 1])`` (active on *every*
        positive sample) and some neuron with ``w2_j ≠ 0`` has ``D̂_j ≥ diag(1[y = −1])``.
    covers_with_signs : bool
        Moreover such an ``i`` has ``w2_i > 0`` and such a ``j`` has ``w2_j < 0`` (the
        neurons that gradient flow produces in Theorem 4's proof).
    positive_cover, negative_cover : tuple of int
        All neurons (``w2 ≠ 0``) covering the positive / negative class.
    """

    covers: bool
    covers_with_signs: bool
    positive_cover: tuple[int, ...]
    negative_cover: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "covers": self.covers,
            "covers_with_signs": self.covers_with_signs,
            "positive_cover": list(self.positive_cover),
            "negative_cover": list(self.negative_cover),
        }


def covers_both_classes(D_hat: Any, w2: Any, y: Any) -> Coverage:
    """Check the hypothesis of Propositions 4/5 on a chosen pattern ``D̂`` (shape ``(m, N)``).

    Reading of the paper: the propositions ask for two neurons ``i+`` and ``i−`` of the KKT
    point, each with its *own* pattern covering a whole class: ``(D̂_{i+})_{nn} = 1`` for
    every ``n`` with ``y_n = 1`` and ``(D̂_{i−})_{nn} = 1`` for every ``n`` with
    ``y_n = −1``.  It is not enough that every positive sample is covered by *some*
    neuron.  ``D̂_i`` is defined in Proposition 3 only for ``w2_i ≠ 0``, so only those
    neurons count.  The proofs (Lemmas 5 and 6) use only ``‖X^T D̂_i λ‖ <= 1``, which holds
    for every such neuron, so the sign of ``w2`` is not part of the condition (``covers``);
    ``covers_with_signs`` also asks ``w2_{i+} > 0 > w2_{i−}``, as in Theorem 4's proof.  An
    empty class is covered by any neuron with ``w2 ≠ 0``.  ``D̂`` on exact zeros
    (``x_n^T w1_i = 0``) is the caller's choice and must be the one λ was fitted with.

    Examples
    --------
    >>> import numpy as np
    >>> D = np.array([[1, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=bool)
    >>> c = covers_both_classes(D, np.array([1.0, -1.0, 2.0]), np.array([1, 1, -1]))
    >>> c.covers, c.covers_with_signs, c.positive_cover, c.negative_cover
    (True, True, (0,), (1, 2))
    >>> covers_both_classes(D[1:], np.array([-1.0, 2.0]), np.array([1, 1, -1])).covers
    False
    """
    Da = np.asarray(D_hat, dtype=bool)
    w = np.asarray(w2, dtype=float)
    ya = np.asarray(y)
    if Da.ndim != 2 or w.shape != (Da.shape[0],) or ya.shape != (Da.shape[1],):
        raise InputError(
            f"covers_both_classes: expected D_hat (m, N), w2 (m,), y (N,); got {Da.shape}, "
            f"{w.shape}, {ya.shape}"
        )
    if not np.all((ya == 1) | (ya == -1)):
        raise InputError("covers_both_classes: labels must be -1 or +1")
    live = w != 0
    pos = live & np.all(Da[:, ya == 1], axis=1)
    neg = live & np.all(Da[:, ya == -1], axis=1)
    return Coverage(
        covers=bool(pos.any() and neg.any()),
        covers_with_signs=bool((pos & (w > 0)).any() and (neg & (w < 0)).any()),
        positive_cover=tuple(int(i) for i in np.flatnonzero(pos)),
        negative_cover=tuple(int(i) for i in np.flatnonzero(neg)),
    )


@dataclass(frozen=True)
class Theorem3:
    """Theorem 3 on a trained network: is its own KKT multiplier ``λ`` dual feasible?

    Attributes
    ----------
    fit : KKTFit
        The Prop. 3 fit of ``λ`` (a fit: see its residual).
    dual_norm : Fraction
        Rigorous upper bound ``s`` of ``max_{j,±} min_{z≥0} ‖±X^T D_j λ + X^T(2D_j − I) z‖``
        over every chamber (exact recomputation from the NNLS multipliers).
    lower_bound : Fraction or None
        ``y^T λ / max(1, s)`` — a valid lower bound of ``P*`` whatever the fit's quality,
        when the chamber list is complete (else ``None``).
    chambers : int
    complete : bool
    """

    fit: KKTFit
    dual_norm: Any
    lower_bound: Any
    chambers: int
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "fit": self.fit.to_dict(),
            "dual_norm": float(self.dual_norm),
            "lower_bound": None if self.lower_bound is None else float(self.lower_bound),
            "chambers": self.chambers,
            "complete": self.complete,
        }


def theorem3(net: Network, X: Any, y: Any, *, chambers: Any = None, limit: int | None = None,
             **fit_options: Any) -> Theorem3:
    """Fit ``λ`` to a binary network (Prop. 3) and test its dual feasibility (Theorem 3).

    Examples
    --------
    >>> from verify.io.datasets import paper_dataset
    >>> from verify.convex.closed_form import solve_orthogonally_separable
    >>> ds = paper_dataset("F.1")
    >>> sol = solve_orthogonally_separable(ds.X, ds.y)
    >>> W1 = np.stack([n.w1 for n in sol.neurons], axis=1)
    >>> w2 = np.array([n.w2 for n in sol.neurons])
    >>> t = theorem3(Network(W1=W1, w2=w2), ds.X, ds.y)
    >>> abs(float(t.dual_norm) - 1) < 1e-6, abs(float(t.lower_bound) - sol.value) < 1e-6
    (True, True)
    """
    from fractions import Fraction

    from verify.convex.bounds import certified_dual_norm, exact_yT_lam, project_lambda
    from verify.convex.programs import _slacks
    from verify.geometry.chambers import enumerate_chambers

    fit = kkt_dual(net, X, y, **fit_options)
    Xa = np.asarray(X, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    lam = project_lambda(ya, np.asarray(fit.lam, dtype=np.float64))
    ch = enumerate_chambers(Xa, limit=limit) if chambers is None else chambers
    P = ch.pattern_matrix()
    _, zp, zm = _slacks(Xa, lam, P)
    s, _ = certified_dual_norm(Xa, lam, P, zp, zm)
    lb = None
    if ch.complete:
        lb = exact_yT_lam(ya, lam) / max(Fraction(1), s)
    return Theorem3(fit, s, lb, len(P), bool(ch.complete))
