"""Full-batch gradient descent on two-layer ReLU networks with the logistic loss (§4).

The network is ``f(θ, X) = (X W1)_+ w2`` and the loss is the paper's (3), a **sum** over the
samples (not a mean): ``L(θ) = Σ_n log(1 + exp(−y_n f(θ, x_n)))``.  With the sum, one step of
size ``η`` is exactly the Euler step of the subgradient flow (18)/(22):

    ``w1_i ← w1_i + η w2_i Σ_{n: x_n^T w1_i > 0} λ̃_n x_n``,
    ``w2_i ← w2_i + η Σ_n λ̃_n (x_n^T w1_i)_+``,  ``λ̃_n = −y_n ℓ'(q_n) = y_n/(1 + e^{q_n})``,

both from the same old state; the derivative of ``(x_n^T w)_+`` is taken as ``1[x_n^T w > 0]``
(0 at the kink, the paper's convention).  ``K`` classes are ``K`` independent sub-networks
(``W1`` (K, d, m), ``w2`` (K, m)) trained on ``y = Y[:, k]``, each with its own step size, so
a K-class run is K binary runs side by side.

Initialisation (scaled, Lemma 1): directions ``u_i`` uniform on the sphere (normalised
Gaussians), signs ``s_i = ±1`` with probability ½, ``w1_i = init_scale · u_i`` and
``w2_i = s_i ‖w1_i‖`` (the float norm of the stored vector, so ``‖w1_i‖ = |w2_i|`` to the last
bit or two).  The flow keeps ``‖w1_i‖² − w2_i²`` constant; gradient descent changes it by
``η²(w2_i² ‖g_i‖² − (w1_i^T g_i)²) ≥ 0`` per step, ``O(η)`` over a fixed time ``η·T``.

Schedules:

* ``"constant"``: ``η_t = lr``.
* ``"loss-scaled"``: ``η_t = lr · L(θ_0) / (L(θ_t) · max(1, log(L(θ_0)/L(θ_t))))``, per
  sub-network.  At the start ``η_0 = lr``.  Once the data are fitted, ``∇L ≈ −Σ_n e^{−q_n}∇q_n``
  is ``L`` times a convex combination of the ``∇q_n``, so dividing by ``L`` (Lyu & Li 2019's
  loss-based step) undoes the exponential decay of the gradient that makes the constant step
  crawl (``‖θ‖² ~ log t``, direction error ``~ 1/log t``).  The pure ``1/L`` rule, on a
  2-homogeneous model, makes ``‖θ‖`` grow geometrically (``θ^T ∇q_n = 2 q_n``), turns the
  weights ``e^{−q_n}/L`` into a hard maximum (a fixed-size subgradient step on the sphere,
  which stalls at a gap ``O(lr)``) and overflows after a few thousand steps; the extra factor
  ``1/log(L_0/L) ≈ 1/q_min`` makes ``‖θ‖²`` grow linearly instead (``Δ‖θ‖² ≈ 4 lr L_0``), so
  the smoothing error ``log N / q_min`` and the angular step both decay like ``1/t``.
  Computed in the log domain (``λ̃_n/L`` from ``log expit`` and a log-sum-exp), finite even
  when ``L`` underflows.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.65, 0.47], [-0.47, 1.35]]); y = np.array([1, -1])
>>> res = train(X, y, neurons=10, steps=2000, lr=0.2, init_scale=1e-3, seed=0)
>>> res.W1.shape, res.w2.shape, res.final_margin > 0
((2, 10), (10,), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError
from verify.network.trajectory import (
    Trajectory,
    log_losses,
    record_steps,
    snapshot,
    stack_snapshots,
)
from verify.progress import progress

__all__ = [
    "AUTO_LR_MAX",
    "SCHEDULES",
    "auto_lr",
    "TrainResult",
    "initialise",
    "loss_and_gradient",
    "train",
    "train_dataset",
    "warm_start",
]

SCHEDULES = ("constant", "loss-scaled")


def _check_data(X: Any, y_or_Y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """``X`` (N, d) float64, labels as ``Yt`` (K, N) in ``{−1, +1}``, and whether binary."""
    try:
        Xa = np.array(X, dtype=np.float64)
        Ya = np.array(y_or_Y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"train: X and labels must be numeric arrays ({exc})") from exc
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise InputError(f"train: expected X of shape (N, d) with N, d >= 1, got {Xa.shape}")
    if not np.all(np.isfinite(Xa)):
        raise InputError("train: X has non-finite entries (NaN or inf)")
    if Ya.ndim not in (1, 2) or Ya.shape[0] != Xa.shape[0] or Ya.size == 0:
        raise InputError(
            f"train: expected labels y of shape (N,) or Y of shape (N, K) with N = "
            f"{Xa.shape[0]}, got {Ya.shape}"
        )
    if not np.all((Ya == 1) | (Ya == -1)):
        raise InputError("train: labels must be +1/-1 (one-vs-all ±1 columns for K classes)")
    binary = Ya.ndim == 1
    Yt = Ya[None, :] if binary else np.ascontiguousarray(Ya.T)
    return Xa, Yt, binary


def initialise(
    d: int, neurons: int, *, init_scale: float = 1e-3, seed: int = 0, n_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled random initialisation: ``‖w1_i‖ = |w2_i| = init_scale``, random directions/signs.

    Returns ``W1`` (d, m) and ``w2`` (m,), or ``(K, d, m)`` and ``(K, m)`` when
    ``n_classes = K`` (class ``k`` drawn after classes ``0, …, k−1`` from one generator
    ``numpy.random.default_rng(seed)``).

    Examples
    --------
    >>> W1, w2 = initialise(3, 5, init_scale=0.5, seed=7)
    >>> np.allclose(np.linalg.norm(W1, axis=0), np.abs(w2)), np.abs(w2).round(12).tolist()
    (True, [0.5, 0.5, 0.5, 0.5, 0.5])
    """
    _positive_int("d", d)
    _positive_int("neurons", neurons)
    if not (isinstance(init_scale, (int, float)) and math.isfinite(init_scale) and init_scale > 0):
        raise InputError(f"init_scale: expected a finite number > 0, got {init_scale!r}")
    _seed(seed)
    K = 1 if n_classes is None else n_classes
    _positive_int("n_classes", K)
    rng = np.random.default_rng(seed)
    W1 = np.empty((K, d, neurons))
    w2 = np.empty((K, neurons))
    for k in range(K):
        G = rng.standard_normal((d, neurons))
        nrm = np.linalg.norm(G, axis=0)
        while np.any(nrm == 0):  # pragma: no cover - probability zero
            G = rng.standard_normal((d, neurons))
            nrm = np.linalg.norm(G, axis=0)
        W1[k] = float(init_scale) * (G / nrm)
        s = np.where(rng.random(neurons) < 0.5, -1.0, 1.0)
        w2[k] = s * np.linalg.norm(W1[k], axis=0)
    if n_classes is None:
        return W1[0], w2[0]
    return W1, w2


def _positive_int(name: str, v: Any) -> None:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise InputError(f"{name}: expected an integer >= 1, got {v!r}")


def _seed(seed: Any) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed: expected an integer >= 0, got {seed!r}")


def loss_and_gradient(
    X: Any, y: Any, W1: Any, w2: Any
) -> tuple[float, np.ndarray, np.ndarray]:
    """Binary logistic loss (sum) and its subgradient (``1[x_n^T w1_i > 0]`` convention).

    Returns ``(L, ∂L/∂W1 (d, m), ∂L/∂w2 (m,))``; ``−∂L/∂w1_i = w2_i Σ_{n: x_n^T w1_i>0} λ̃_n x_n``
    as in (18).

    Examples
    --------
    >>> L, gW1, gw2 = loss_and_gradient(np.array([[1.0, 0.0]]), np.array([1]),
    ...                                 np.array([[1.0], [0.0]]), np.array([0.0]))
    >>> round(L, 6), gW1.ravel().tolist(), gw2.tolist()
    (0.693147, [-0.0, -0.0], [-0.5])
    """
    Xa, Yt, binary = _check_data(X, y)
    if not binary:
        raise InputError("loss_and_gradient: expected binary labels y of shape (N,)")
    W = np.asarray(W1, dtype=np.float64)
    v = np.asarray(w2, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != Xa.shape[1] or v.shape != (W.shape[1],):
        raise InputError(
            f"loss_and_gradient: expected W1 ({Xa.shape[1]}, m) and w2 (m,), got "
            f"{W.shape} and {v.shape}"
        )
    A = Xa @ W
    act = A > 0
    H = np.where(act, A, 0.0)
    q = Yt[0] * (H @ v)
    lam = Yt[0] * np.exp(-np.logaddexp(0.0, q))
    gW1 = -(Xa.T @ (act * lam[:, None])) * v[None, :]
    gw2 = -(H.T @ lam)
    return float(np.sum(np.logaddexp(0.0, -q))), gW1, gw2


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    W1, w2 : ndarray
        Final weights, (d, m) and (m,), or (K, d, m) and (K, m).
    loss : float
        Final ``L(θ)`` (sum over samples and classes; may underflow to 0.0).
    log_loss : float
        Its natural logarithm (finite).
    margin : float
        Final normalised margin ``min_n y_n f(θ, x_n)/‖θ‖²`` (minimum over the classes).
    ub : float
        Final float ``UB(θ)`` (``inf`` if a margin is ``<= 0``).
    steps, seed : int
        ``seed`` is ``-1`` when an explicit initialisation was given.
    schedule : str
    lr, init_scale : float
    trajectory : Trajectory or None
    diverged : str or None
        Why the run diverged (non-finite weights, then the weights are those of the last
        finite check, or a final loss more than :data:`DIVERGENCE_FACTOR` times the initial).
    dead_samples : tuple of int
        Rows on which every neuron is inactive (``x_n^T w1_i <= 0`` for all ``i``, in some
        class): the output there is exactly 0.
    misclassified : tuple of int
        Rows with a margin ``y_n f(θ, x_n) <= 0`` (in some class; dead rows included).
    steps_run : int or None
        Steps actually run (``None``: all ``steps``).
    n_samples : int
    dead_classes : tuple of int
        The classes (one-vs-all sub-networks, 0-based) with dead rows.
    """

    W1: np.ndarray
    w2: np.ndarray
    loss: float
    log_loss: float
    margin: float
    ub: float
    steps: int
    schedule: str
    seed: int
    lr: float
    init_scale: float
    trajectory: Trajectory | None = None
    diverged: str | None = None
    dead_samples: tuple[int, ...] = ()
    misclassified: tuple[int, ...] = ()
    steps_run: int | None = None
    n_samples: int = 0
    dead_classes: tuple[int, ...] = ()

    @property
    def succeeded(self) -> bool:
        """The run did not diverge and separates every sample (no row misclassified)."""
        return self.diverged is None and not self.misclassified

    @property
    def problems(self) -> list[str]:
        """One sentence per failure (empty when :attr:`succeeded`).

        Examples
        --------
        >>> r = train(np.array([[1.0, 1.0], [2.0, 2.5]]), np.array([1, -1]), neurons=2,
        ...           steps=0)
        >>> r.problems
        ['the network does not separate the data: 1 of 2 samples misclassified (row 1)']
        """
        out = []
        if self.diverged is not None:
            out.append(f"training diverged: {self.diverged}")
        n = self.n_samples
        if self.dead_samples:
            k = len(self.dead_samples)
            every = f"all {n}" if k == n else f"{k} of {n}"
            sub = ""
            if self.W1.ndim == 3 and self.dead_classes:
                ks = ", ".join(str(c) for c in self.dead_classes)
                sub = (f" in the one-vs-all sub-network{'s' if len(self.dead_classes) > 1 else ''}"
                       f" of class index {ks} (0-based)")
            out.append(
                f"dead network on {every} samples{sub} "
                f"({_rows(self.dead_samples)}): every neuron is inactive there and the output "
                "is exactly 0; centre or scale the features, add --bias, lower the step size, or "
                "start wider (more --neurons, a larger --init-scale such as 1)"
            )
        wrong = [i for i in self.misclassified if i not in set(self.dead_samples)]
        if wrong and self.diverged is None:
            out.append(f"the network does not separate the data: {len(wrong)} of {n} samples "
                       f"misclassified ({_rows(wrong)})")
        return out

    @property
    def final_margin(self) -> float:
        """Alias of :attr:`margin`."""
        return self.margin

    @property
    def final_loss(self) -> float:
        """Alias of :attr:`loss`."""
        return self.loss

    def network(self, *, source: str = "<trained>") -> Any:
        """The trained weights as a :class:`verify.network.model.Network`."""
        from verify.network.model import Network

        return Network(self.W1, self.w2, source)

    def save_model(self, path: str | Path) -> None:
        """Save the weights with :func:`verify.io.models.save_model` (``.npz``/``.safetensors``)."""
        from verify.io.models import save_model

        save_model(path, self.W1, self.w2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (weights as nested lists; non-finite floats as ``None``)."""

        def fl(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {
            "W1": self.W1.tolist(),
            "w2": self.w2.tolist(),
            "loss": float(self.loss),
            "log_loss": fl(self.log_loss),
            "margin": fl(self.margin),
            "ub": fl(self.ub),
            "steps": int(self.steps),
            "schedule": self.schedule,
            "seed": int(self.seed),
            "lr": float(self.lr),
            "init_scale": float(self.init_scale),
            "trajectory": None if self.trajectory is None else self.trajectory.to_dict(),
            "succeeded": self.succeeded,
            "problems": self.problems,
            "diverged": self.diverged,
            "dead_samples": list(self.dead_samples),
            "misclassified": list(self.misclassified),
        }


def _rows(rows: Sequence[int], first: int = 5) -> str:
    """``"rows 3, 8, 9"`` or ``"rows 3, 8, 9, 11, 12, … (0-based)"``.

    Examples
    --------
    >>> _rows([4]), _rows(range(8))
    ('row 4', 'rows 0, 1, 2, 3, 4, … (0-based)')
    """
    rows = list(rows)
    head = ", ".join(str(int(r)) for r in rows[:first])
    more = ", … (0-based)" if len(rows) > first else ""
    return f"row{'s' if len(rows) > 1 else ''} {head}{more}"


#: A final loss above this multiple of the initial loss is called a divergence.
DIVERGENCE_FACTOR = 2.0


def _finite(Xa: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> bool:
    """Weights and outputs ``(X W1)_+ w2`` are all finite (no overflow in the forward pass)."""
    if not math.isfinite(float(W1.sum()) + float(w2.sum())):
        return False
    out = np.matmul(np.maximum(np.matmul(Xa, W1), 0.0), w2[:, :, None])
    return bool(np.all(np.isfinite(out)))


def _diagnose(Xa: np.ndarray, Yt: np.ndarray, W1: np.ndarray, w2: np.ndarray
              ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Dead rows (all neurons inactive, in some class), rows with margin <= 0, and the
    classes (sub-networks) with dead rows."""
    A = np.matmul(Xa, W1)  # (K, N, m)
    dead_k = np.all(A <= 0, axis=2)  # (K, N)
    dead = np.any(dead_k, axis=0)
    q = Yt * np.matmul(np.maximum(A, 0.0), w2[:, :, None])[:, :, 0]
    wrong = np.any(~(q > 0), axis=0)
    return (tuple(int(i) for i in np.flatnonzero(dead)),
            tuple(int(i) for i in np.flatnonzero(wrong | dead)),
            tuple(int(k) for k in np.flatnonzero(dead_k.any(axis=1))))


#: The largest step size ``lr="auto"`` picks (the paper's small examples use 0.1).
AUTO_LR_MAX = 0.1


def auto_lr(X: Any) -> float:
    """The step size ``lr="auto"``: ``min(0.1, 1 / ||X||_2^2)``.

    The loss is a *sum* over the samples, so its gradient and curvature grow with
    ``||X||_2^2`` (the logistic loss of a linear model ``X w`` has a ``||X||_2^2 / 4``-Lipschitz
    gradient): a fixed ``lr`` that suits the paper's two-sample examples makes gradient descent
    diverge on a standardised data set of a few hundred rows.  ``1 / ||X||_2^2`` keeps the
    step a quarter of ``1/L`` there and leaves small data (``||X||_2^2 <= 10``) at 0.1.

    Examples
    --------
    >>> auto_lr(np.eye(2)), round(auto_lr(np.full((100, 4), 1.0)), 12)
    (0.1, 0.0025)
    """
    Xa = np.asarray(X, dtype=np.float64)
    top = float(np.linalg.norm(Xa, 2)) ** 2 if Xa.size else 0.0
    return AUTO_LR_MAX if top <= 1.0 / AUTO_LR_MAX else 1.0 / top


def _check_options(steps: Any, lr: Any, schedule: Any) -> None:
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
        raise InputError(f"steps: expected an integer >= 0, got {steps!r}")
    if lr != "auto" and not (isinstance(lr, (int, float)) and not isinstance(lr, bool)
                             and math.isfinite(lr) and lr > 0):
        raise InputError(f"lr: expected a finite number > 0 or 'auto', got {lr!r}")
    if schedule not in SCHEDULES:
        raise InputError(f"schedule: expected one of {list(SCHEDULES)}, got {schedule!r}")


def _record_set(record: Any, steps: int, points: int) -> np.ndarray | None:
    if record is None:
        return None
    if isinstance(record, str):
        if record != "log":
            raise InputError(f"record: expected None, 'log' or a list of steps, got {record!r}")
        return record_steps(steps, points=points)
    try:
        r = np.unique(np.asarray(record, dtype=np.int64))
    except (TypeError, ValueError) as exc:
        raise InputError(f"record: expected None, 'log' or a list of steps ({exc})") from exc
    if r.ndim != 1 or r.size == 0 or r[0] < 0 or r[-1] > steps:
        raise InputError(f"record: steps must lie in [0, {steps}], got {record!r}")
    return r


def _initial(
    init: tuple[Any, Any] | None, d: int, m: int, K: int, init_scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    if init is None:
        return initialise(d, m, init_scale=init_scale, seed=seed, n_classes=K)
    W1 = np.array(init[0], dtype=np.float64)
    w2 = np.array(init[1], dtype=np.float64)
    W1 = W1[None] if W1.ndim == 2 else W1
    w2 = w2[None] if w2.ndim == 1 else w2
    if W1.shape != (K, d, m) or w2.shape != (K, m):
        raise InputError(
            f"init: expected W1 {(K, d, m) if K > 1 else (d, m)} and w2 "
            f"{(K, m) if K > 1 else (m,)}, got {np.shape(init[0])} and {np.shape(init[1])}"
        )
    if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(w2))):
        raise InputError("init: non-finite weights")
    return W1, w2


def _step(
    X: np.ndarray,
    XT: np.ndarray,
    Yt: np.ndarray,
    W1: np.ndarray,
    w2: np.ndarray,
    lr: float,
    scaled: bool,
    log_l0: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One full-batch step on every sub-network: ``θ ← θ − η_t ∂L(θ)`` (both layers at once).

    ``omega = η_t λ̃`` per sample; for ``"loss-scaled"`` it is formed in the log domain
    (``λ̃_n / L = y_n exp(log expit(−q_n) − log L)``).  Returns the new weights and
    ``log L(θ_0)`` per class (set on the first call of a loss-scaled run).
    """
    A = np.matmul(X, W1)  # (K, N, m)
    act = A > 0
    H = np.maximum(A, 0.0)
    q = Yt * np.matmul(H, w2[:, :, None])[:, :, 0]
    log_sig = -np.logaddexp(0.0, q)  # log expit(-q) = log(-ℓ'(q))
    if scaled:
        qmin = q.min(axis=1)
        if np.all(qmin > 40.0):  # ℓ(q) = e^{-q} to the last bit: a log-sum-exp
            log_l = np.log(np.exp(qmin[:, None] - q).sum(axis=1)) - qmin
        else:
            total = np.sum(np.logaddexp(0.0, -q), axis=1)
            log_l = np.log(total) if np.all(total > 1e-250) else log_losses(q)
        if log_l0 is None:
            log_l0 = log_l
        eta = lr * np.exp(log_l0) / np.maximum(1.0, log_l0 - log_l)
        omega = eta[:, None] * Yt * np.exp(log_sig - log_l[:, None])
    else:
        omega = lr * Yt * np.exp(log_sig)
    dW1 = np.matmul(XT, act * omega[:, :, None]) * w2[:, None, :]
    dw2 = np.matmul(omega[:, None, :], H)[:, 0, :]
    return W1 + dW1, w2 + dw2, log_l0


def train(
    X: Any,
    y_or_Y: Any,
    *,
    neurons: int = 10,
    steps: int = 10_000,
    lr: float | str = "auto",
    init_scale: float = 1e-3,
    seed: int = 0,
    schedule: str = "constant",
    record: str | Sequence[int] | None = None,
    record_points: int = 60,
    p_star: float | None = None,
    init: tuple[Any, Any] | None = None,
) -> TrainResult:
    """Full-batch gradient descent on the summed logistic loss from a scaled initialisation.

    Parameters
    ----------
    X : array (N, d)
    y_or_Y : array (N,) of ±1 (binary) or (N, K) of ±1 (``K`` one-vs-all sub-networks)
    neurons, steps : int
        Hidden width ``m`` and number of gradient steps.
    lr : float or ``"auto"``
        Step size (the initial one for ``"loss-scaled"``; see the module docstring);
        ``"auto"`` (default) is :func:`auto_lr`, ``min(0.1, 1 / ||X||_2^2)``, and the result's
        ``lr`` is the number used.
    init_scale : float
        ``‖w1_i(0)‖ = |w2_i(0)| = init_scale`` for every neuron.
    seed : int
        Seed of :func:`initialise`; the run is a deterministic function of its arguments.
    schedule : ``"constant"`` or ``"loss-scaled"``
    record : None, ``"log"`` or a sequence of step numbers
        ``"log"``: about ``record_points`` log-spaced steps, plus 0 and ``steps``.
    p_star : float, optional
        ``P*`` (e.g. :func:`verify.convex.programs.solve_orthogonally_separable`) for the recorded
        gap.
    init : (W1, w2), optional
        Explicit initial weights instead of the random ones (``seed`` is then ignored).

    Raises
    ------
    InputError
        Bad data or options.  A run that diverges (non-finite weights: it stops there and
        returns the last finite weights; or a final loss more than
        :data:`DIVERGENCE_FACTOR` times the initial one) or ends with dead or misclassified
        samples is *returned*, with :attr:`TrainResult.succeeded` false and the reasons in
        :attr:`TrainResult.problems`.

    Examples
    --------
    >>> X = np.array([[1.0, 0.2], [-0.3, 1.0]]); Y = np.array([[1, -1], [-1, 1]])
    >>> r = train(X, Y, neurons=3, steps=50, seed=2, schedule="loss-scaled")
    >>> r.W1.shape, r.w2.shape, r.schedule
    ((2, 2, 3), (2, 3), 'loss-scaled')
    """
    Xa, Yt, binary = _check_data(X, y_or_Y)
    _positive_int("neurons", neurons)
    _check_options(steps, lr, schedule)
    if p_star is not None and not (math.isfinite(p_star) and p_star > 0):
        raise InputError(f"p_star: expected a finite number > 0, got {p_star!r}")
    K, d = Yt.shape[0], Xa.shape[1]
    W1, w2 = _initial(init, d, int(neurons), K, init_scale, seed)
    rec = _record_set(record, int(steps), record_points)
    rec_steps: list[int] = []
    snaps: list[dict[str, Any]] = []
    ri = 0
    lr = auto_lr(Xa) if lr == "auto" else float(lr)
    scaled = schedule == "loss-scaled"
    XT = np.ascontiguousarray(Xa.T)
    log_l0 = None
    diverged: str | None = None
    steps_run = int(steps)
    good, good_t = (W1, w2), 0  # the last weights seen finite, and their step
    with np.errstate(all="ignore"):
        first_loss = snapshot(Xa, Yt, W1, w2)["loss"]
    # overflow and NaN are expected in a diverging run: they are detected and reported below,
    # never printed as numpy warnings
    with progress("training", total=int(steps)) as bar, np.errstate(all="ignore"):
        for t in range(int(steps) + 1):
            check = t % 64 == 0 or t == steps or (rec is not None and ri < rec.size
                                                   and rec[ri] == t)
            if check:
                if not _finite(Xa, W1, w2):
                    diverged = (f"the weights or outputs became non-finite by step {t}; lower "
                                f"the step size (lr {lr:g})")
                    W1, w2 = good
                    steps_run = good_t
                    break
                good, good_t = (W1, w2), t
            if rec is not None and ri < rec.size and rec[ri] == t:
                snaps.append(snapshot(Xa, Yt, W1, w2))
                rec_steps.append(t)
                ri += 1
            if t == steps:
                break
            W1, w2, log_l0 = _step(Xa, XT, Yt, W1, w2, lr, scaled, log_l0)
            if (t + 1) % 64 == 0 or t + 1 == steps:
                bar.advance(64 if (t + 1) % 64 == 0 else (t + 1) % 64)
        final = snapshot(Xa, Yt, W1, w2)
        dead, wrong, dead_k = _diagnose(Xa, Yt, W1, w2)
    if diverged is None and final["loss"] > DIVERGENCE_FACTOR * first_loss:
        diverged = (f"the loss grew from {first_loss:.6g} to {final['loss']:.6g} in "
                    f"{steps_run} steps; lower the step size (lr {lr:g})")
    trajectory = None
    if rec is not None:
        arrays = stack_snapshots(rec_steps, snaps, binary=binary, p_star=p_star)
        trajectory = Trajectory(
            **arrays,
            X=Xa,
            y=Yt[0].astype(np.int64) if binary else Yt.T.astype(np.int64),
            lr=lr,
            schedule=schedule,
            seed=-1 if init is not None else int(seed),
            init_scale=float(init_scale),
            p_star=None if p_star is None else float(p_star),
            neurons=int(neurons),
            n_classes=1 if binary else K,
        )
    return TrainResult(
        W1=W1[0] if binary else W1,
        w2=w2[0] if binary else w2,
        loss=final["loss"],
        log_loss=final["log_loss"],
        margin=float(np.min(final["margin"])) + 0.0,  # never -0.0
        ub=final["ub"],
        steps=int(steps),
        schedule=schedule,
        seed=-1 if init is not None else int(seed),
        lr=lr,
        init_scale=float(init_scale),
        trajectory=trajectory,
        diverged=diverged,
        dead_samples=dead,
        dead_classes=dead_k,
        misclassified=wrong,
        steps_run=None if steps_run == int(steps) else steps_run,
        n_samples=int(Xa.shape[0]),
    )


def train_dataset(ds: Any, **options: Any) -> TrainResult:
    """:func:`train` on a :class:`verify.io.datasets.Dataset` (``y`` when binary, else ``Y``).

    Examples
    --------
    >>> from verify.io.datasets import paper_dataset
    >>> train_dataset(paper_dataset("F.1"), neurons=2, steps=10).W1.shape
    (2, 2)
    """
    labels = ds.y if ds.is_binary else ds.Y
    return train(ds.X, labels, **options)


#: The gradient-descent run that starts the branch-and-bound route of ``solve``: width, the
#: most steps, and the floating-point work it may take (multiply-adds, about a few seconds).
WARM_NEURONS, WARM_STEPS, WARM_WORK = 50, 20_000, 2e10


def warm_start(X: Any, y: Any, *, neurons: int = WARM_NEURONS,
               steps: int = WARM_STEPS) -> np.ndarray | None:
    """First-layer weights ``(d, m)`` of a short gradient-descent run on ``(X, y)``, whose
    activation patterns start column generation beyond enumeration (the paper's observation:
    gradient descent usually lands near the optimum, so its patterns are near-optimal ones).

    The run is :func:`train` with ``init_scale=1`` and the loss-scaled schedule; the number of
    steps is cut so that ``steps * N * d * neurons`` stays below :data:`WARM_WORK` (at least
    10 steps), so the run is a deterministic function of the data.  ``None`` when the run
    diverged; a run that leaves samples misclassified still returns its weights (its patterns
    are only a start, the convex program decides).

    Examples
    --------
    >>> X = np.array([[1.0, 0.2], [-0.3, 1.0], [0.4, -1.0]]); y = np.array([1, -1, 1])
    >>> warm_start(X, y, neurons=4, steps=200).shape
    (2, 4)
    """
    Xa = np.asarray(X, dtype=np.float64)
    N, d = Xa.shape
    steps = int(max(10, min(steps, WARM_WORK // max(1, N * d * neurons))))
    res = train(Xa, np.asarray(y), neurons=neurons, steps=steps, init_scale=1.0,
                schedule="loss-scaled")
    if res.diverged is not None or not np.all(np.isfinite(res.W1)):
        return None
    return res.W1
