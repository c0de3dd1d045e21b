"""The numbers behind the figures of :mod:`verify.plots.figures`: pure helpers, no matplotlib.

Geometry (paper §2.2, Figures 1, 2, 6, 8, 9) for ``N = 2`` samples and any ``d``:

* the ellipsoid ``E = {Xu : ||u|| <= 1} = S B^2`` with ``S = (X X^T)^{1/2}``; its boundary point
  ``v = S c`` (``||c|| = 1``) has the preimage ``u = X^+ v`` with ``||u|| <= 1``;
* the rectified ellipsoid ``Q = {(Xu)_+ : ||u|| <= 1} = (E)_+``: the part of ``E`` in the
  nonnegative quadrant plus one segment ("spike") on each axis; ``(boundary of E)_+`` traces
  its boundary, spikes included;
* per chamber ``j`` (pattern ``D_j``) the points of ``D_j X (K_j ∩ B)`` maximising and minimising
  ``lam^T v`` (Lemma 4: the projection of ``+-X^T D_j lam`` onto the cone ``K_j``, by NNLS);
* the support value ``h(lam) = max_{v in Q} |lam^T v|`` (any ``N``, ``d``: over the chambers) and
  the boundary of the absolute polar set ``Q* = {lam : h(lam) <= 1}``: ``e / h(e)``.

Trajectories (Figures 3, 4, 5, 7, 10): :func:`load_trajectory` reads a trainer ``.npz`` or a
dict of arrays and fills in what can be derived (directions, rectified directions, alignment).

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.65, 0.47], [-0.47, 1.35]])        # the paper's F.1
>>> [round(float(a), 4) for a in rectified_ellipsoid_spikes(X)]
[1.7156, 1.4295]
>>> lam = np.array([0.5828749, -0.69955732])            # its optimal dual variable
>>> round(support_value(X, lam), 4)
1.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from verify.convex.chamber_oracle import nnls_slack
from verify.errors import InputError

__all__ = [
    "as_data",
    "chamber_extreme_points",
    "ellipse_boundary",
    "load_trajectory",
    "polar_boundary",
    "rectified_ellipsoid_boundary",
    "rectified_ellipsoid_spikes",
    "relative_gap",
    "support_value",
]

#: Arrays a trajectory may hold, with their dimensions (T steps, d features, m neurons, N samples).
TRAJECTORY_SHAPES = {
    "steps": ("T",), "W1": ("T", "d", "m"), "w2": ("T", "m"), "direction": ("T", "d", "m"),
    "rectified": ("T", "N", "m"), "invariant": ("T", "m"), "loss": ("T",), "margin": ("T",),
    "lambda_tilde": ("T", "N"), "alignment": ("T", "m"), "ub": ("T",), "gap": ("T",),
}


def as_data(
    X: Any, y: Any = None, *, need_labels: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` as a finite float matrix (N, d) and ``y`` as ±1 floats (N,); a Dataset is unpacked.

    Examples
    --------
    >>> as_data([[1, 2]], [1])[1].tolist()
    [1.0]
    """
    if hasattr(X, "X") and hasattr(X, "Y"):  # a verify.io.datasets.Dataset
        if y is None:
            y = X.y
            if y is None and need_labels:
                raise InputError(
                    f"figures need binary labels, the data have {X.n_classes} classes; "
                    "pick one class against the rest first"
                )
        X = X.X
    try:
        Xa = np.array(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(f"X: expected a numeric matrix, received {type(X).__name__}") from e
    if Xa.ndim != 2 or Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise InputError(f"X: expected a non-empty matrix (N, d), received shape {Xa.shape}")
    if not np.all(np.isfinite(Xa)):
        raise InputError("X: expected finite numbers, received NaN or infinity")
    if y is None:
        if need_labels:
            raise InputError("y: the figure needs labels ±1, received none")
        return Xa, None
    try:
        ya = np.array(y, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise InputError(f"y: expected labels ±1, received {type(y).__name__}") from e
    if ya.shape[0] != Xa.shape[0]:
        raise InputError(
            f"y: expected {Xa.shape[0]} labels (one per row of X), received {ya.shape[0]}"
        )
    if not np.all(np.abs(ya) == 1.0):
        raise InputError(f"y: expected labels in {{-1, +1}}, received {sorted(set(ya.tolist()))}")
    return Xa, ya


def _need_n2(X: np.ndarray, what: str) -> None:
    if X.shape[0] != 2:
        raise InputError(f"{what} needs N = 2 samples, the data have N = {X.shape[0]}")


def _sqrt_gram(X: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(X @ X.T)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def ellipse_boundary(X: Any, *, n: int = 721) -> tuple[np.ndarray, np.ndarray]:
    """Boundary of ``E = {Xu : ||u|| <= 1}`` for ``N = 2``: points ``V`` (n, 2) and ``U`` (n, d).

    ``V[k] = X U[k]`` and ``||U[k]|| <= 1`` (``= 1`` when ``rank X = 2``).  The curve is closed
    (last point = first point).

    Examples
    --------
    >>> V, U = ellipse_boundary(np.eye(2), n=5)
    >>> np.round(V, 6).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0], [1.0, -0.0]]
    """
    X, _ = as_data(X, need_labels=False)
    _need_n2(X, "the ellipsoid")
    t = np.linspace(0.0, 2.0 * np.pi, n)
    C = np.column_stack([np.cos(t), np.sin(t)])
    V = C @ _sqrt_gram(X)  # S is symmetric
    U = V @ np.linalg.pinv(X).T
    return V, U


def rectified_ellipsoid_spikes(X: Any) -> np.ndarray:
    """Lengths ``a_n = max{x_n^T u : ||u|| <= 1, x_m^T u <= 0 (m != n)}`` of the spikes.

    The spike on axis ``n`` of ``Q`` is the segment ``[0, a_n e_n]``: the image of the cone of the
    pattern ``D = e_n`` (Lemma 4, by NNLS).  Any ``N``; ``a_n = 0`` when that cone is ``{0}``.

    Examples
    --------
    >>> rectified_ellipsoid_spikes(np.array([[1.0, 0.0], [1.0, 1.0]])).round(6).tolist()
    [0.707107, 1.0]
    """
    X, _ = as_data(X, need_labels=False)
    out = np.zeros(X.shape[0])
    for k in range(X.shape[0]):
        sign = -np.ones(X.shape[0])
        sign[k] = 1.0
        _, out[k], _ = nnls_slack(sign[:, None] * X, X[k])
    return out


def rectified_ellipsoid_boundary(X: Any, *, n: int = 721) -> np.ndarray:
    """Points tracing the boundary of ``Q = {(Xu)_+ : ||u|| <= 1}`` for ``N = 2``, shape (K, 2).

    ``(boundary of E)_+`` on a dense angle grid, refined with the angles at which ``E`` meets the
    axes and the spike tips (so the tips :func:`rectified_ellipsoid_spikes` are points of the
    curve).  Every point is ``(Xu)_+`` for some ``||u|| <= 1``.

    Examples
    --------
    >>> B = rectified_ellipsoid_boundary(np.eye(2), n=9)
    >>> bool(B.min() >= 0), bool(np.any(np.all(np.isclose(B, [1.0, 0.0]), axis=1)))
    (True, True)
    """
    return _rectified_boundary(X, n)[0]


def _rectified_boundary(X: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    X, _ = as_data(X, need_labels=False)
    _need_n2(X, "the rectified ellipsoid")
    S = _sqrt_gram(X)
    Sinv = np.linalg.pinv(S)
    extra = []
    # the tips: maximisers of x_k^T u over the spike cones (u = projection, Lemma 4)
    for k in range(2):
        sign = np.array([-1.0, -1.0])
        sign[k] = 1.0
        A = sign[:, None] * X
        z, val, _ = nnls_slack(A, X[k])
        if val > 0:
            u = (X[k] + A.T @ z) / val
            extra.append(Sinv @ (X @ u))
    # crossings of the boundary of E with the axes: S c has component k = 0
    for k in range(2):
        a = S[k]  # (S c)_k = a . c = 0
        if np.linalg.norm(a) > 0:
            c = np.array([-a[1], a[0]]) / np.linalg.norm(a)
            extra += [c, -c]
    t = np.linspace(0.0, 2.0 * np.pi, n)
    if extra:
        te = np.array([np.arctan2(c[1], c[0]) % (2.0 * np.pi) for c in extra])
        t = np.unique(np.concatenate([t, te]))
    C = np.column_stack([np.cos(t), np.sin(t)])
    V = C @ S
    U = V @ np.linalg.pinv(X).T
    return np.maximum(V, 0.0), U


def _chambers(X: np.ndarray, chambers: Any = None) -> np.ndarray:
    if chambers is None:
        from verify.geometry.chambers import enumerate_chambers

        chambers = enumerate_chambers(X)
    if hasattr(chambers, "pattern"):
        return np.array([chambers.pattern(j) for j in range(len(chambers))], dtype=bool)
    P = np.asarray(chambers, dtype=bool)
    if P.ndim != 2 or P.shape[1] != X.shape[0]:
        raise InputError(f"chambers: expected a bool array (p, {X.shape[0]}), received {P.shape}")
    return P


def chamber_extreme_points(X: Any, lam: Any, *, chambers: Any = None) -> list[dict[str, Any]]:
    """Per chamber ``j``: the points of ``D_j X (K_j ∩ B)`` maximising / minimising ``lam^T v``.

    Returns one dict per chamber with ``pattern`` (bool (N,)), ``u_max``, ``v_max``, ``max``
    (the value ``lam^T v_max >= 0``), ``u_min``, ``v_min``, ``min`` (``<= 0``).  ``v = D_j X u =
    (Xu)_+`` since ``u`` lies in the closed cone ``K_j``.  A zero maximum (the projection of
    ``X^T D_j lam`` onto the cone is below ``1e-12`` of its norm) gives ``u = 0``.

    Examples
    --------
    >>> pts = chamber_extreme_points(np.eye(2), np.array([1.0, -1.0]))
    >>> [(p["pattern"].tolist(), round(p["max"], 6), round(p["min"], 6)) for p in pts]
    ... # doctest: +NORMALIZE_WHITESPACE
    [([False, False], 0.0, 0.0), ([True, False], 1.0, 0.0),
     ([False, True], 0.0, -1.0), ([True, True], 1.0, -1.0)]
    """
    X, _ = as_data(X, need_labels=False)
    lam = np.asarray(lam, dtype=np.float64).reshape(-1)
    if lam.shape[0] != X.shape[0]:
        raise InputError(f"lam: expected {X.shape[0]} entries, received {lam.shape[0]}")
    out = []
    for D in _chambers(X, chambers):
        A = np.where(D, 1.0, -1.0)[:, None] * X
        q = X.T @ np.where(D, lam, 0.0)
        rec: dict[str, Any] = {"pattern": D.copy()}
        for key, v, s in (("max", q, 1.0), ("min", -q, -1.0)):
            z, val, _ = nnls_slack(A, v)
            if val <= 1e-12 * float(np.linalg.norm(v)) or val == 0.0:  # projection is 0
                val, u = 0.0, np.zeros(X.shape[1])
            else:
                u = (v + A.T @ z) / val
            rec[f"u_{key}"] = u
            rec[f"v_{key}"] = np.where(D, X @ u, 0.0)
            rec[key] = s * val + 0.0  # no -0.0
        out.append(rec)
    return out


def support_value(X: Any, lam: Any, *, chambers: Any = None) -> float:
    """``h(lam) = max_{||u|| <= 1} |lam^T (Xu)_+|`` over the chambers (float, NNLS; any N, d).

    Examples
    --------
    >>> support_value(np.eye(2), np.array([3.0, -4.0]))
    4.0
    """
    pts = chamber_extreme_points(X, lam, chambers=chambers)
    return float(max(max(p["max"], -p["min"]) for p in pts))


def polar_boundary(
    X: Any, *, n: int = 361, radius: float = 10.0, chambers: Any = None
) -> np.ndarray:
    """Boundary of the absolute polar set ``Q* = {lam : h(lam) <= 1}`` for ``N = 2``, shape (n, 2).

    In the direction ``e`` the boundary point is ``e / h(e)``; directions in which ``Q*`` is
    unbounded (``h(e)`` below ``1/radius``) are cut at ``radius``.

    Examples
    --------
    >>> B = polar_boundary(np.eye(2), n=5)
    >>> np.round(B, 6).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0], [1.0, -0.0]]
    """
    X, _ = as_data(X, need_labels=False)
    _need_n2(X, "the polar set")
    P = _chambers(X, chambers)
    t = np.linspace(0.0, 2.0 * np.pi, n)
    E = np.column_stack([np.cos(t), np.sin(t)])
    h = np.array([support_value(X, e, chambers=P) for e in E])
    return E * np.minimum(1.0 / np.maximum(h, 1e-300), radius)[:, None]


def relative_gap(traj: dict[str, np.ndarray], p_star: float) -> np.ndarray:
    """``(UB - P*) / P*`` along a trajectory (NaN where ``UB`` is not finite, i.e. margin <= 0).

    Examples
    --------
    >>> relative_gap({"ub": np.array([2.0, np.inf, 1.5])}, 1.0).tolist()
    [1.0, nan, 0.5]
    """
    if "ub" not in traj:
        raise InputError("the trajectory has no 'ub' array (the upper bound UB per step)")
    if not (np.isfinite(p_star) and p_star > 0):
        raise InputError(f"P*: expected a positive number, received {p_star}")
    ub = np.asarray(traj["ub"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(ub), (ub - p_star) / p_star, np.nan)


def _same_data(t: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray | None) -> None:
    """Refuse a trajectory recorded on other data than the data given (a consistency check)."""
    if "X" in t:
        TX = np.asarray(t["X"], dtype=np.float64)
        if TX.shape != X.shape or not np.allclose(TX, X, rtol=1e-9, atol=0.0):
            raise InputError(
                f"trajectory: it was recorded on other data (X of shape {TX.shape}) than the "
                f"data given (X of shape {X.shape})"
            )
    if "y" in t and y is not None:
        ty = np.asarray(t["y"], dtype=np.float64)
        if ty.shape != y.shape or not np.array_equal(ty, y):
            raise InputError("trajectory: it was recorded with other labels y than the data given")


def load_trajectory(obj: Any, X: Any = None, y: Any = None) -> dict[str, np.ndarray]:
    """A trajectory as a dict of arrays, checked, with derivable arrays filled in.

    Parameters
    ----------
    obj : dict of arrays, path to a ``.npz`` (the trainer's file) or a ``Trajectory``
        Needs ``W1`` (T, d, m) and ``w2`` (T, m), or ``direction`` (T, d, m); ``steps``
        defaults to ``0..T-1``.
    X, y : arrays, optional
        The data (default: the trajectory's own ``X``, ``y``; if both are present they must
        agree, else :class:`InputError`).

    Returns
    -------
    dict
        Always ``steps``, ``direction`` (unit columns, NaN for a zero neuron), ``sign`` (T, m)
        (sign of ``w2``, +1 when unknown), ``X``; ``rectified`` (T, N, m) =
        ``(X direction)_+``; ``alignment`` (T, m) = ``cos∠(w1_i, s_i X^T D(w1_i) y)`` when ``y``
        is known; the other arrays as given.

    Examples
    --------
    >>> W1 = np.array([[[1.0], [1.0]], [[2.0], [0.0]]])          # T = 2, d = 2, m = 1
    >>> t = load_trajectory({"W1": W1, "w2": np.ones((2, 1))}, np.eye(2), [1, 1])
    >>> np.round(t["alignment"][:, 0], 6).tolist(), t["steps"].tolist()
    ([1.0, 1.0], [0, 1])
    """
    if isinstance(obj, (str, Path)):
        p = Path(obj)
        if p.suffix != ".npz":
            raise InputError(f"trajectory: expected a .npz file, received {p.name!r}")
        try:
            with np.load(p, allow_pickle=False) as f:
                obj = {k: f[k] for k in f.files}
        except (OSError, ValueError) as e:
            raise InputError(f"trajectory: cannot read {p}: {e}") from e
    if not isinstance(obj, dict) and hasattr(obj, "W1") and hasattr(obj, "steps"):
        # a verify.network.trajectory.Trajectory (or anything with the same attributes)
        names = (*TRAJECTORY_SHAPES, "log_loss", "X", "y", "p_star", "seed", "schedule",
                 "n_classes")
        obj = {k: getattr(obj, k) for k in names if getattr(obj, k, None) is not None}
    if not isinstance(obj, dict):
        raise InputError(
            "trajectory: expected a dict of arrays or a .npz path, "
            f"received {type(obj).__name__}"
        )
    t = {k: np.asarray(v) for k, v in obj.items()}
    if "n_classes" in t and t["n_classes"].ndim == 0 and int(t["n_classes"]) > 1:
        raise InputError(
            f"trajectory: the figures take a binary run, this one has {int(t['n_classes'])} "
            "classes (train one class against the rest)"
        )
    if X is None:
        if "X" not in t:
            raise InputError("trajectory: no data given and the trajectory holds no 'X'")
        X, y = t["X"], t.get("y") if y is None else y
    X, y = as_data(X, y, need_labels=False)
    _same_data(t, X, y)
    if "direction" in t:
        Dn = np.asarray(t["direction"], dtype=np.float64)
    elif "W1" in t:
        W = np.asarray(t["W1"], dtype=np.float64)
        if W.ndim != 3:
            raise InputError(f"trajectory: W1 must have shape (T, d, m), received {W.shape}")
        nrm = np.linalg.norm(W, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            Dn = np.where(nrm > 0, W / np.where(nrm > 0, nrm, 1.0), np.nan)  # as the trainer
    else:
        raise InputError("trajectory: expected arrays 'W1' or 'direction', found neither")
    if Dn.ndim != 3:
        raise InputError(f"trajectory: direction must have shape (T, d, m), received {Dn.shape}")
    T, d, m = Dn.shape
    if d != X.shape[1]:
        raise InputError(
            f"trajectory: the neurons have d = {d} inputs, the data have d = {X.shape[1]}"
        )
    dims = {"T": T, "d": d, "m": m, "N": X.shape[0]}
    for k, shape in TRAJECTORY_SHAPES.items():
        if k in t and t[k].shape != tuple(dims[s] for s in shape):
            raise InputError(
                f"trajectory: {k} must have shape {tuple(dims[s] for s in shape)} "
                f"({', '.join(shape)}), received {t[k].shape}"
            )
    t["X"], t["direction"] = X, Dn
    if y is not None:
        t["y"] = y
    t.setdefault("steps", np.arange(T))
    t["sign"] = np.where(np.asarray(t["w2"]) < 0, -1, 1) if "w2" in t else np.ones((T, m), int)
    if "rectified" not in t:
        t["rectified"] = np.maximum(np.einsum("nd,tdm->tnm", X, Dn), 0.0)
    if "alignment" not in t and y is not None:
        act = np.einsum("nd,tdm->tnm", X, Dn) > 0
        g = np.einsum("nd,tnm->tdm", X, act * y[None, :, None]) * t["sign"][:, None, :]
        gn = np.linalg.norm(g, axis=1)
        t["alignment"] = np.where(gn > 0, np.sum(g * Dn, axis=1) / np.where(gn > 0, gn, 1.0), 0.0)
    return t
