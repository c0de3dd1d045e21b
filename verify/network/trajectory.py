"""Trajectories of gradient descent on two-layer ReLU networks: what is recorded, save/load.

:func:`verify.network.training.train` records a :class:`Trajectory` at the steps of
:func:`record_steps` (log-spaced, plus 0 and the last).  Each snapshot holds the weights, the
normalised directions ``ŵ1_i = w1_i/‖w1_i‖`` and their rectified images ``(X ŵ1_i)_+`` (the
points of the rectified ellipsoid of §2.2), the Lemma-1 invariant ``‖w1_i‖² − w2_i²``, the
loss, the normalised margin, the loss weights ``λ̃`` (19), the Theorem-1 alignment and the
objective bound ``UB(θ)`` with its relative gap to ``P*``.

Conventions (all floats, numpy only):

* normalised margin ``γ(θ) = min_n y_n f(θ, x_n) / ‖θ‖²`` with ``‖θ‖² = ‖W1‖_F² + ‖w2‖²``
  (the *squared* norm, as ``f`` is 2-homogeneous); for a balanced network
  ``UB(θ) = 1/(2γ(θ))`` and the best possible ``γ`` is ``1/(2 P*)``;
* ``UB(θ) = Σ_i ‖w1_i‖·|w2_i| / min_n y_n f(θ, x_n)`` (float; ``+inf`` while the minimum
  margin is not positive; the rigorous rational value is
  :func:`verify.network.model.objective_upper_bound`); ``gap = (UB − P*)/P*`` (NaN without ``P*``);
* activation pattern ``1[x_n^T w1_i > 0]`` (zero is the subgradient at the kink), as in the
  trainer, for ``λ̃`` and the alignment ``cos∠(w1_i, s_i X^T D(w1_i) y)``, ``s_i = sign(w2_i)``
  (NaN where undefined).

Examples
--------
>>> record_steps(1000, points=4).tolist()
[0, 1, 10, 100, 1000]
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError
from verify.io.files import write_atomic

__all__ = ["Trajectory", "record_steps", "snapshot", "stack_snapshots"]

#: Per-neuron or per-sample arrays: a class axis follows the step axis for K classes.
_CLASS_ARRAYS = (
    "W1",
    "w2",
    "direction",
    "rectified",
    "invariant",
    "margin",
    "lambda_tilde",
    "alignment",
)
_TOTAL_ARRAYS = ("loss", "log_loss", "ub", "gap")
_ARRAYS = ("steps", *_CLASS_ARRAYS, *_TOTAL_ARRAYS, "X", "y")
_META = ("lr", "schedule", "seed", "init_scale", "p_star", "neurons", "n_classes")


def record_steps(steps: int, *, points: int = 60) -> np.ndarray:
    """Log-spaced recording steps ``0, 1, …, steps`` (about ``points`` of them, distinct).

    Examples
    --------
    >>> record_steps(0).tolist(), record_steps(3, points=10).tolist()
    ([0], [0, 1, 2, 3])
    """
    if steps < 0 or points < 1:
        raise InputError(f"record_steps: expected steps >= 0, points >= 1; got {steps}, {points}")
    if steps == 0:
        return np.zeros(1, dtype=np.int64)
    grid = np.rint(np.logspace(0.0, np.log10(steps), points)).astype(np.int64)
    return np.unique(np.concatenate([[0], grid, [steps]]))


def _log_loss_terms(q: np.ndarray) -> np.ndarray:
    """``log ℓ(q) = log log(1 + e^{−q})`` without underflow (``≈ −q − e^{−q}/2`` for large q)."""
    small = np.log(np.logaddexp(0.0, -np.minimum(q, 30.0)))
    large = -q - 0.5 * np.exp(-np.maximum(q, 30.0))
    return np.where(q <= 30.0, small, large)


def log_losses(q: np.ndarray) -> np.ndarray:
    """``log L_k = log Σ_n ℓ(q_kn)`` per row of ``q`` (shape (K, N)), finite for huge margins.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(log_losses(np.array([[0.0, 0.0], [2000.0, 3000.0]])), 6).tolist()
    [0.326634, -2000.0]
    """
    t = -q if np.all(q > 40.0) else _log_loss_terms(q)  # e^{-q}/2 < 3e-18 is below ulp(q)
    top = t.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(t - top).sum(axis=1, keepdims=True)))[:, 0]


def snapshot(X: np.ndarray, Yt: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> dict[str, Any]:
    """The recorded quantities of one state, class-stacked (``W1`` (K, d, m), ``Yt`` (K, N)).

    Returns a dict of arrays with a leading class axis (``direction`` (K, d, m), ``rectified``
    (K, N, m), ``invariant`` (K, m), ``margin`` (K,), ``lambda_tilde`` (K, N), ``alignment``
    (K, m)) and the scalars ``loss``, ``log_loss`` and ``ub`` (sums over the classes).
    """
    A = np.matmul(X, W1)  # (K, N, m)
    act = A > 0
    H = np.where(act, A, 0.0)
    f = np.einsum("knm,km->kn", H, w2)
    q = Yt * f
    n1 = np.linalg.norm(W1, axis=1)  # (K, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        direction = np.where(n1[:, None, :] > 0, W1 / np.where(n1 > 0, n1, 1.0)[:, None, :], np.nan)
    rectified = np.maximum(np.matmul(X, direction), 0.0)
    sq = np.sum(W1 * W1, axis=(1, 2)) + np.sum(w2 * w2, axis=1)
    qmin = q.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = np.where(sq > 0, qmin / np.where(sq > 0, sq, 1.0), 0.0)
    lam = Yt * _expit(-q)
    G = np.einsum("nd,knm,kn->kdm", X, act.astype(float), Yt) * np.sign(w2)[:, None, :]
    den = n1 * np.linalg.norm(G, axis=1)
    num = np.sum(W1 * G, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        align = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if np.all(qmin > 0):
        ub = float(np.sum(np.sum(n1 * np.abs(w2), axis=1) / qmin))
    else:
        ub = float("inf")
    log_l = log_losses(q)
    return {
        "W1": W1.copy(),
        "w2": w2.copy(),
        "direction": direction,
        "rectified": rectified,
        "invariant": n1 * n1 - w2 * w2,
        "margin": margin,
        "lambda_tilde": lam,
        "alignment": align,
        "loss": float(np.sum(np.logaddexp(0.0, -q))),
        "log_loss": float(np.logaddexp.reduce(log_l)),
        "ub": ub,
    }


def _expit(z: np.ndarray) -> np.ndarray:
    """``1/(1 + e^{−z})`` without overflow."""
    return np.exp(-np.logaddexp(0.0, -z))


def stack_snapshots(
    steps: list[int], snaps: list[dict[str, Any]], *, binary: bool, p_star: float | None
) -> dict[str, np.ndarray]:
    """Stack :func:`snapshot` dicts over steps; drop the class axis when ``binary``."""
    out: dict[str, np.ndarray] = {"steps": np.asarray(steps, dtype=np.int64)}
    for name in _CLASS_ARRAYS:
        a = np.stack([s[name] for s in snaps])
        out[name] = a[:, 0] if binary else a
    for name in ("loss", "log_loss", "ub"):
        out[name] = np.array([s[name] for s in snaps], dtype=float)
    out["gap"] = relative_gap(out["ub"], p_star)
    return out


def relative_gap(ub: np.ndarray, p_star: float | None) -> np.ndarray:
    """``(UB − P*)/P*`` elementwise; NaN without ``P*``, ``+inf`` where ``UB`` is infinite.

    Examples
    --------
    >>> relative_gap(np.array([2.0, np.inf]), 1.0).tolist(), relative_gap(np.ones(1), None).tolist()
    ([1.0, inf], [nan])
    """
    ub = np.asarray(ub, dtype=float)
    if p_star is None:
        return np.full(ub.shape, np.nan)
    return (ub - p_star) / p_star


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` archive (what ``numpy.savez`` writes) with fixed timestamps: reproducible."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, buf.getvalue())
    return bio.getvalue()


@dataclass(frozen=True)
class Trajectory:
    """A recorded gradient-descent trajectory (``T`` snapshots).

    Arrays (the ``.npz`` names of :meth:`save`; ``K`` classes add a class axis right after
    the step axis to the per-neuron/per-sample arrays, marked ``[K]``):

    ========================  =====================  =========================================
    name                      shape                  meaning
    ========================  =====================  =========================================
    ``steps``                 (T,) int64             iteration numbers (0 = initialisation)
    ``W1``                    (T, [K,] d, m)         first-layer weights
    ``w2``                    (T, [K,] m)            second-layer weights
    ``direction``             (T, [K,] d, m)         ``ŵ1_i = w1_i/‖w1_i‖`` (NaN if ``w1_i = 0``)
    ``rectified``             (T, [K,] N, m)         ``(X ŵ1_i)_+``
    ``invariant``             (T, [K,] m)            Lemma 1: ``‖w1_i‖² − w2_i²``
    ``margin``                (T, [K])               ``min_n y_n f(θ, x_n)/‖θ‖²``
    ``lambda_tilde``          (T, [K,] N)            loss weights ``λ̃_n = y_n/(1 + e^{q_n})``
    ``alignment``             (T, [K,] m)            ``cos∠(w1_i, s_i X^T D(w1_i) y)``
    ``loss``                  (T,)                   ``Σ_{k,n} log(1 + e^{−q_kn})`` (may be 0.0)
    ``log_loss``              (T,)                   its natural log (finite for huge margins)
    ``ub``                    (T,)                   float ``UB(θ)`` (sum over classes), +inf
                                                     while a minimum margin is ``<= 0``
    ``gap``                   (T,)                   ``(UB − P*)/P*`` (NaN without ``P*``)
    ``X``                     (N, d)                 the data
    ``y``                     (N,) or (N, K)         labels ``±1`` (``Y`` for ``K`` classes)
    ========================  =====================  =========================================

    Metadata (0-d arrays in the file): ``lr`` (float), ``schedule`` (str), ``seed`` (int,
    −1 for an explicit initialisation), ``init_scale`` (float), ``p_star`` (float, NaN when
    not given), ``neurons`` and ``n_classes`` (int, 1 for binary data).

    Examples
    --------
    >>> import os, tempfile
    >>> from verify.network.training import train
    >>> X = np.array([[1.65, 0.47], [-0.47, 1.35]]); y = np.array([1, -1])
    >>> tr = train(X, y, neurons=4, steps=100, lr=0.2, seed=1, record="log",
    ...            record_points=10).trajectory
    >>> tr.direction.shape, tr.rectified.shape, tr.steps.tolist()
    ((11, 2, 4), (11, 2, 4), [0, 1, 2, 3, 5, 8, 13, 22, 36, 60, 100])
    >>> p = os.path.join(tempfile.mkdtemp(), "traj.npz"); tr.save(p)
    >>> back = Trajectory.load(p); bool(np.array_equal(back.W1, tr.W1)), back.schedule
    (True, 'constant')
    """

    steps: np.ndarray
    W1: np.ndarray = field(repr=False)
    w2: np.ndarray = field(repr=False)
    direction: np.ndarray = field(repr=False)
    rectified: np.ndarray = field(repr=False)
    invariant: np.ndarray = field(repr=False)
    margin: np.ndarray = field(repr=False)
    lambda_tilde: np.ndarray = field(repr=False)
    alignment: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    log_loss: np.ndarray = field(repr=False)
    ub: np.ndarray = field(repr=False)
    gap: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    lr: float = 0.0
    schedule: str = "constant"
    seed: int = -1
    init_scale: float = 0.0
    p_star: float | None = None
    neurons: int = 0
    n_classes: int = 1

    @property
    def is_binary(self) -> bool:
        return self.n_classes == 1 and self.y.ndim == 1

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def save(self, path: str | Path) -> None:
        """Write all arrays and the metadata to ``path`` (``.npz``, atomically, no pickles).

        The file is byte-for-byte a function of the trajectory (fixed zip timestamps).
        """

        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAYS}
        arrays["lr"] = np.array(float(self.lr))
        arrays["schedule"] = np.array(str(self.schedule))
        arrays["seed"] = np.array(int(self.seed), dtype=np.int64)
        arrays["init_scale"] = np.array(float(self.init_scale))
        arrays["p_star"] = np.array(np.nan if self.p_star is None else float(self.p_star))
        arrays["neurons"] = np.array(int(self.neurons), dtype=np.int64)
        arrays["n_classes"] = np.array(int(self.n_classes), dtype=np.int64)
        arrays["metadata"] = np.array(json.dumps(self.metadata(), sort_keys=True))
        write_atomic(path, _npz_bytes(arrays))

    @classmethod
    def load(cls, path: str | Path) -> Trajectory:
        """Read a file written by :meth:`save` (``allow_pickle=False``)."""
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                data = {name: z[name] for name in z.files}
        except (OSError, ValueError) as exc:
            raise InputError(f"{p}: not a readable trajectory .npz ({exc})") from exc
        missing = [n for n in (*_ARRAYS, *_META) if n not in data]
        if missing:
            raise InputError(f"{p}: trajectory file lacks {missing}")
        T = data["steps"].shape[0] if data["steps"].ndim == 1 else -1
        bad = [n for n in (*_CLASS_ARRAYS, *_TOTAL_ARRAYS) if data[n].shape[:1] != (T,)]
        if T < 1 or bad or any(data[n].ndim != 0 for n in _META):
            raise InputError(
                f"{p}: inconsistent trajectory file (steps {data['steps'].shape}; arrays without "
                f"one row per step: {bad}; metadata must be 0-d)"
            )
        p_star = float(data["p_star"])
        return cls(
            **{name: data[name] for name in _ARRAYS},
            lr=float(data["lr"]),
            schedule=str(data["schedule"]),
            seed=int(data["seed"]),
            init_scale=float(data["init_scale"]),
            p_star=None if np.isnan(p_star) else p_star,
            neurons=int(data["neurons"]),
            n_classes=int(data["n_classes"]),
        )

    def metadata(self) -> dict[str, Any]:
        """The run's settings, JSON-ready."""
        return {
            "lr": float(self.lr),
            "schedule": self.schedule,
            "seed": int(self.seed),
            "init_scale": float(self.init_scale),
            "p_star": None if self.p_star is None else float(self.p_star),
            "neurons": int(self.neurons),
            "n_classes": int(self.n_classes),
            "n_records": len(self),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: metadata and the scalar series (not the weight arrays)."""

        def fl(a: np.ndarray) -> list[Any]:
            return [None if not np.isfinite(v) else float(v) for v in np.ravel(a)]

        return {
            **self.metadata(),
            "steps": [int(s) for s in self.steps],
            "loss": fl(self.loss),
            "log_loss": fl(self.log_loss),
            "margin": fl(self.margin) if self.is_binary else [fl(r) for r in self.margin],
            "ub": fl(self.ub),
            "gap": fl(self.gap),
        }
