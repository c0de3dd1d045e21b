"""Figures of the paper's geometry and of training trajectories (matplotlib, Agg only).

One entry point, :func:`plot`, draws one figure ``kind`` from data ``X, y`` (a trajectory, the
convex solution and a trained model are optional where they are not needed; the convex solution
is computed when missing) and saves it as PNG, SVG or PDF by the file suffix, atomically.

==========================  ===========  ======================================================
kind                        needs        shows (paper figure)
==========================  ===========  ======================================================
``rectified-ellipsoid``     N = 2        ``Q = {(Xu)_+ : ||u|| <= 1}``, its spikes, the per-chamber
                                         maximal/minimal points, ``lam*`` and ``lam^T v = +-1``
                                         (Fig. 1, 9)
``polar``                   N = 2        ``Q*``, ``{diag(y) lam >= 0}``, ``y``, ``lam*`` (Fig. 2)
``ellipsoid``               N = 2        ``{Xu : ||u|| <= 1}`` beside ``Q`` (Fig. 6, 8)
``rectified-trajectories``  N = 2, traj  ``(X w1_i/||w1_i||)_+`` over training (Fig. 3)
``circle``                  d = 2, traj  ``w1_i/||w1_i||`` on the circle and its angle (Fig. 4, 5)
``seeds``                   d = 2, trajs  several runs side by side (Fig. 7, 10)
``gap``                     traj         ``(UB - P*)/P*`` and the loss, log-log
``alignment``               traj         per-neuron ``cos∠(w1_i, s X^T D(w1_i) y)``
==========================  ===========  ======================================================

Every figure is a :class:`matplotlib.figure.Figure` on an Agg canvas: pyplot is never imported,
no window is ever opened and the global backend is left alone.  The numbers behind the figures
come from :mod:`verify.plots.plot_data`.

Examples
--------
>>> import os, tempfile
>>> from verify.io.datasets import paper_dataset
>>> ds = paper_dataset("F.1")
>>> out = os.path.join(tempfile.mkdtemp(), "q.png")
>>> fig = plot("ellipsoid", ds.X, ds.y, output=out)
>>> open(out, "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from verify.errors import InputError
from verify.plots.plot_data import (
    as_data,
    chamber_extreme_points,
    ellipse_boundary,
    load_trajectory,
    polar_boundary,
    rectified_ellipsoid_boundary,
    relative_gap,
)

__all__ = ["KINDS", "plot", "save_figure"]

#: Figure kinds and what they need: (N required, d required, trajectory required).
KINDS: dict[str, tuple[int | None, int | None, bool]] = {
    "rectified-ellipsoid": (2, None, False),
    "polar": (2, None, False),
    "ellipsoid": (2, None, False),
    "rectified-trajectories": (2, None, True),
    "circle": (None, 2, True),
    "seeds": (None, 2, True),
    "gap": (None, None, True),
    "alignment": (None, None, True),
}
_FORMATS = (".png", ".svg", ".pdf")
_POS, _NEG = "tab:red", "tab:blue"  # output weight w2 > 0 / < 0


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 100) -> Path:
    """Save ``fig`` as PNG, SVG or PDF (by suffix), atomically (temporary file, then rename).

    Examples
    --------
    >>> save_figure(Figure(), "x.jpg")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: output: expected a file ending in .png, .svg or .pdf, received 'x.jpg'
    """
    p = Path(path)
    if p.suffix.lower() not in _FORMATS:
        raise InputError(
            f"output: expected a file ending in .png, .svg or .pdf, received {p.name!r}"
        )
    if not p.parent.is_dir():
        raise InputError(f"output: the directory {str(p.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=p.suffix, dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=p.suffix.lower()[1:], dpi=dpi,
                        metadata={"Date": None} if p.suffix.lower() == ".svg" else None)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def _figure(
    ncols: int = 1, nrows: int = 1, *, size: float = 4.6, extra: float = 0.0
) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(size * ncols + extra, size * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _solve(X: np.ndarray, y: np.ndarray) -> Any:
    from verify.convex.routes import solve_binary
    from verify.io.datasets import check_dataset

    check_dataset(X, y).require_feasible()
    sol = solve_binary(X, y)[0]
    if not np.all(np.isfinite(sol.lam)):
        raise InputError(f"the convex program was not solved ({sol.status.value}): {sol.message}")
    return sol


def _model(model: Any, d: int) -> tuple[np.ndarray, np.ndarray] | None:
    if model is None:
        return None
    if isinstance(model, (str, Path)):
        from verify.io.models import load_weights

        model = load_weights(model)
    W1, w2 = (model.W1, model.w2) if hasattr(model, "W1") else model
    W1, w2 = np.asarray(W1, dtype=np.float64), np.asarray(w2, dtype=np.float64)
    if W1.ndim != 2 or W1.shape[0] != d or w2.shape != (W1.shape[1],):
        raise InputError(
            f"model: expected one binary network W1 ({d}, m), w2 (m,), received "
            f"W1 {W1.shape}, w2 {w2.shape}"
        )
    return W1, w2


def _unit_cols(W: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(W, axis=0)
    return W[:, n > 0] / n[n > 0]


def _optimal_dirs(sol: Any) -> tuple[np.ndarray, np.ndarray]:
    if sol is None or not sol.neurons:
        return np.zeros((0, 0)), np.zeros(0)
    return (np.array([n.direction for n in sol.neurons]).T,
            np.array([n.sign for n in sol.neurons]))


def _line(ax: Any, normal: np.ndarray, offset: float, L: float, **kw: Any) -> None:
    """The line ``normal . v = offset`` across the box ``[-L, L]^2``."""
    n = normal / np.linalg.norm(normal)
    p0, t = n * offset / np.linalg.norm(normal), np.array([-n[1], n[0]])
    s = np.array([-3 * L, 3 * L])
    ax.plot(p0[0] + s * t[0], p0[1] + s * t[1], **kw)


def _square(ax: Any, lo: float, hi: float) -> None:
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.75", lw=0.6, zorder=0)
    ax.axvline(0, color="0.75", lw=0.6, zorder=0)


def _log_marks(steps: np.ndarray) -> np.ndarray:
    """Indices of the steps closest to 1, 10, 100, ... (the paper's iterations 10^l)."""
    s = np.asarray(steps, dtype=np.float64)
    top = max(float(s.max()), 1.0)
    idx = {int(np.argmin(np.abs(s - 10.0**k))) for k in range(int(np.log10(top)) + 1)}
    return np.array(sorted(idx | {0, len(s) - 1}))


# ------------------------------------------------------------------------- panels


def _panel_q(ax: Any, X: np.ndarray, *, fill: bool = True) -> float:
    B = rectified_ellipsoid_boundary(X)
    if fill:
        ax.fill(B[:, 0], B[:, 1], color="tab:green", alpha=0.25, lw=0)
    ax.plot(B[:, 0], B[:, 1], color="tab:green", lw=1.5, label=r"$Q=\{(Xu)_+:\|u\|\leq 1\}$")
    return float(np.abs(B).max())


def _panel_rectified(ax: Any, X: np.ndarray, y: np.ndarray, sol: Any, model: Any) -> None:
    L = _panel_q(ax, X)
    lam = np.asarray(sol.lam, dtype=np.float64)
    pts = chamber_extreme_points(X, lam)
    vmax = np.array([p["v_max"] for p in pts if p["max"] > 1e-9]).reshape(-1, 2)
    vmin = np.array([p["v_min"] for p in pts if p["min"] < -1e-9]).reshape(-1, 2)
    ax.scatter(vmax[:, 0], vmax[:, 1], marker="^", s=60, color="tab:orange", zorder=6,
               label=r"maximal $\lambda^T D_jXu$ per chamber")
    ax.scatter(vmin[:, 0], vmin[:, 1], marker="v", s=60, color="tab:purple", zorder=6,
               label=r"minimal $\lambda^T D_jXu$ per chamber")
    U, sg = _optimal_dirs(sol)
    if U.size:
        V = np.maximum(X @ U, 0.0)
        ax.scatter(V[0], V[1], marker="*", s=420, color="gold", edgecolor="k", zorder=5,
                   label=r"optimal $(X\hat w^*_{1,i})_+$")
    if model is not None:
        V = np.maximum(X @ _unit_cols(model[0]), 0.0)
        ax.scatter(V[0], V[1], s=18, color="k", zorder=7, label=r"trained $(X\hat w_{1,i})_+$")
    L = max(L, 1.0) * 1.15
    nl = float(np.linalg.norm(lam))
    if nl > 0:
        ax.annotate("", xy=lam, xytext=(0, 0), zorder=6,
                    arrowprops={"arrowstyle": "-|>", "color": "tab:red", "lw": 2})
        ax.plot([], [], color="tab:red", lw=2, label=r"optimal dual $\lambda^*$")
        _line(ax, lam, 1.0, L, color="tab:red", ls=":", lw=1.2, label=r"$\lambda^{*T}v=\pm 1$")
        _line(ax, lam, -1.0, L, color="tab:red", ls=":", lw=1.2)
    _line(ax, y, 0.0, L, color="0.3", ls="--", lw=1, label=r"$y^Tv=0$")
    _square(ax, -0.6 * L, L)
    ax.set_xlabel(r"$v_1$ (sample 1)")
    ax.set_ylabel(r"$v_2$ (sample 2)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)


def _panel_traj_rectified(ax: Any, t: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
                          sol: Any, *, legend: bool = True) -> None:
    L = _panel_q(ax, X)
    R, sign, marks = t["rectified"], t["sign"][-1], _log_marks(t["steps"])
    for i in range(R.shape[2]):
        c = _POS if sign[i] > 0 else _NEG
        ax.plot(R[:, 0, i], R[:, 1, i], color=c, lw=1, alpha=0.8)
        ax.scatter(R[marks, 0, i], R[marks, 1, i], color=c, s=10, zorder=3)
        ax.scatter(R[-1, 0, i], R[-1, 1, i], color=c, s=30, edgecolor="k", zorder=4)
    ax.plot([], [], color=_POS, marker="o", ms=4, label=r"trained $(X\hat w_{1,i})_+$, $w_{2,i}>0$")
    ax.plot([], [], color=_NEG, marker="o", ms=4, label=r"trained $(X\hat w_{1,i})_+$, $w_{2,i}<0$")
    U, _ = _optimal_dirs(sol)
    if U.size:
        V = np.maximum(X @ U, 0.0)
        ax.scatter(V[0], V[1], marker="*", s=260, color="gold", edgecolor="k", zorder=5,
                   label=r"optimal $(X\hat w^*_{1,i})_+$")
    L = max(L, 1.0) * 1.1
    if y is not None:
        _line(ax, y, 0.0, L, color="0.3", ls="--", lw=1, label=r"$y^Tv=0$")
    _square(ax, -0.05 * L, L)
    ax.set_xlabel(r"$v_1$")
    ax.set_ylabel(r"$v_2$")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)


def _panel_circle(ax: Any, t: dict[str, np.ndarray], X: np.ndarray, sol: Any, *,
                  legend: bool = True, model: Any = None) -> None:
    th = np.linspace(0, 2 * np.pi, 361)
    ax.plot(np.cos(th), np.sin(th), color="0.6", lw=0.8)
    for k, x in enumerate(X):
        if np.linalg.norm(x) > 0:
            p = np.array([-x[1], x[0]]) / np.linalg.norm(x)
            ax.plot([-p[0], p[0]], [-p[1], p[1]], color="0.2", ls="--", lw=1,
                    label="cone boundary" if k == 0 else None)
    D, marks = t["direction"], _log_marks(t["steps"])
    cols = [f"C{i % 10}" for i in range(D.shape[2])]
    for i in range(D.shape[2]):
        ax.plot(D[:, 0, i], D[:, 1, i], color=cols[i], lw=2, alpha=0.8,
                label=f"neuron {i + 1}" if D.shape[2] <= 12 else None)
        ax.scatter(D[marks, 0, i], D[marks, 1, i], color=cols[i], s=10, zorder=3)
        ax.scatter(D[0, 0, i], D[0, 1, i], facecolor="white", edgecolor=cols[i], s=25, zorder=3)
        ax.scatter(D[-1, 0, i], D[-1, 1, i], color=cols[i], edgecolor="k", s=30, zorder=4)
    U, _ = _optimal_dirs(sol)
    if U.size:
        ax.scatter(U[0], U[1], marker="*", s=260, color="gold", edgecolor="k", zorder=5,
                   label="optimal neuron")
    if model is not None:
        M = _unit_cols(model[0])
        ax.scatter(M[0], M[1], marker="x", s=40, color="k", zorder=6, label="model neuron")
    _square(ax, -1.15, 1.15)
    ax.set_xlabel(r"$\hat w_{1,i}[1]$")
    ax.set_ylabel(r"$\hat w_{1,i}[2]$")
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)


def _panel_angles(ax: Any, t: dict[str, np.ndarray], X: np.ndarray, sol: Any) -> None:
    D, steps = t["direction"], np.asarray(t["steps"], dtype=np.float64)
    ang = np.degrees(np.unwrap(np.arctan2(D[:, 1, :], D[:, 0, :]), axis=0))
    for i in range(D.shape[2]):
        ax.plot(steps + 1, ang[:, i], color=f"C{i % 10}", lw=1.5)
    fin = ang[np.isfinite(ang)]  # a zero neuron has no direction (NaN)
    lo, hi = (float(fin.min()) - 20.0, float(fin.max()) + 20.0) if fin.size else (-180.0, 180.0)
    shifts = 360.0 * np.arange(-3, 4)
    for x in X:
        for s in (1, -1):
            for a in np.degrees(np.arctan2(s * x[0], -s * x[1])) + shifts:
                if lo <= a <= hi:
                    ax.axhline(a, color="0.2", ls="--", lw=0.8)
    U, _ = _optimal_dirs(sol)
    for k in range(U.shape[1] if U.size else 0):
        for a in np.degrees(np.arctan2(U[1, k], U[0, k])) + shifts:
            if lo <= a <= hi:
                ax.axhline(a, color="goldenrod", lw=2, alpha=0.7)
    ax.set_ylim(lo, hi)
    ax.set_xscale("log")
    ax.set_xlabel("step + 1")
    ax.set_ylabel(r"angle of $\hat w_{1,i}$ (degrees, unwrapped)")
    ax.set_title("dashed: cone boundaries; gold: optimal neurons", fontsize=8)


# ------------------------------------------------------------------------- figures


def _fig_rectified(X, y, sol, model, trajs):
    fig, ax = _figure(extra=2.6)
    _panel_rectified(ax[0, 0], X, y, sol, model)
    ax[0, 0].set_title("Rectified ellipsoid $Q$ and its extreme points (spikes)", fontsize=10)
    return fig


def _fig_polar(X, y, sol, model, trajs):
    fig, axs = _figure(extra=2.6)
    ax = axs[0, 0]
    lam = np.asarray(sol.lam, dtype=np.float64)
    B = polar_boundary(X)
    ext = np.abs(B).max(axis=1)
    L = 1.2 * max(1.5, float(np.abs(lam).max()), float(np.quantile(ext, 0.5)))
    quad = np.array([[0, 0], [y[0], 0], [y[0], y[1]], [0, y[1]]]) * 3 * L
    ax.fill(quad[:, 0], quad[:, 1], color="0.6", alpha=0.35, lw=0,
            label=r"$\{\lambda:\mathrm{diag}(y)\lambda\geq 0\}$")
    ax.fill(B[:, 0], B[:, 1], color="tab:purple", alpha=0.35, lw=0)
    ax.plot(B[:, 0], B[:, 1], color="tab:purple", lw=1.5,
            label=r"$Q^*=\{\lambda:\max_{\|u\|\leq 1}|\lambda^T(Xu)_+|\leq 1\}$")
    ax.annotate("", xy=y, xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 2})
    ax.plot([], [], color="k", lw=2, label="objective direction $y$")
    _line(ax, y, float(y @ lam), L, color="k", ls=":", lw=1,
          label=rf"$y^T\lambda = D^* = {float(y @ lam):.4g}$")
    ax.scatter([lam[0]], [lam[1]], marker="*", s=260, color="gold", edgecolor="k", zorder=5,
               label=r"optimal $\lambda^*$")
    _square(ax, -L, L)
    ax.set_xlabel(r"$\lambda_1$")
    ax.set_ylabel(r"$\lambda_2$")
    ax.set_title("Absolute polar set $Q^*$ and the dual constraints", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    return fig


def _fig_ellipsoid(X, y, sol, model, trajs):
    fig, ax = _figure(2)
    V, _ = ellipse_boundary(X)
    ax[0, 0].fill(V[:, 0], V[:, 1], color="tab:blue", alpha=0.25, lw=0)
    ax[0, 0].plot(V[:, 0], V[:, 1], color="tab:blue", lw=1.5)
    L = 1.15 * max(1.0, float(np.abs(V).max()))
    _panel_q(ax[0, 1], X)
    for a, title in zip(ax[0], (r"ellipsoid $\{Xu:\|u\|\leq 1\}$",
                                r"rectified ellipsoid $\{(Xu)_+:\|u\|\leq 1\}$")):
        _square(a, -L, L)
        a.set_title(title, fontsize=10)
        a.set_xlabel(r"$v_1$")
        a.set_ylabel(r"$v_2$")
    return fig


def _one(kind: str, trajs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(trajs) != 1:
        raise InputError(f"figure {kind!r} takes one trajectory, received {len(trajs)}; "
                         "use 'seeds' for several runs")
    return trajs[0]


def _fig_traj_rectified(X, y, sol, model, trajs):
    fig, ax = _figure(extra=2.1)
    _panel_traj_rectified(ax[0, 0], _one("rectified-trajectories", trajs), X, y, sol)
    ax[0, 0].set_title(r"Trajectories of $(X\hat w_{1,i})_+$ during training", fontsize=10)
    return fig


def _fig_circle(X, y, sol, model, trajs):
    t = _one("circle", trajs)
    fig, ax = _figure(2)
    _panel_circle(ax[0, 0], t, X, sol, model=model)
    _panel_angles(ax[0, 1], t, X, sol)
    ax[0, 0].set_title(r"Trajectories of $\hat w_{1,i}=w_{1,i}/\|w_{1,i}\|_2$", fontsize=10)
    return fig


def _fig_seeds(X, y, sol, model, trajs):
    trajs = trajs[:8]
    rows = 2 if X.shape[0] == 2 else 1
    fig, ax = _figure(len(trajs), rows, size=3.2)
    for k, t in enumerate(trajs):
        _panel_circle(ax[0, k], t, X, sol, legend=False)
        seed = int(t.get("seed", -1))
        ax[0, k].set_title(f"run {k + 1}" + (f" (seed {seed})" if seed >= 0 else ""),
                           fontsize=9)
        if rows == 2:
            _panel_traj_rectified(ax[1, k], t, X, y, sol, legend=False)
    fig.suptitle("Independent initialisations: neuron directions (top) and "
                 r"$(X\hat w_{1,i})_+$ (bottom); star: optimal", fontsize=10)
    from matplotlib.lines import Line2D

    key = [Line2D([], [], ls="", marker="o", mfc="white", mec="0.2", ms=6,
                  label="open: initial direction (step 0)"),
           Line2D([], [], ls="", marker="o", mfc="0.5", mec="k", ms=6,
                  label="filled: final direction"),
           Line2D([], [], ls="", marker="o", mfc="0.5", mec="0.5", ms=3,
                  label="dots: log-spaced steps")]
    if _optimal_dirs(sol)[0].size:
        key.append(Line2D([], [], ls="", marker="*", mfc="gold", mec="k", ms=12,
                          label="optimal neuron"))
    fig.legend(handles=key, loc="outside lower center", ncols=len(key), fontsize=8)
    return fig


def _p_star(sol: Any, trajs: list[dict[str, np.ndarray]], X: np.ndarray, y: np.ndarray
            ) -> tuple[float, str]:
    """The reference value of the gap figure and how far it is proven: ``"proven"`` (an
    optimal solve), ``"restricted"`` (the best value found, an upper bound of ``P*`` only) or
    ``"given"`` (the trajectory's own ``p_star``)."""
    if sol is None:
        ps = trajs[0].get("p_star")
        if ps is not None and np.ndim(ps) == 0 and np.isfinite(ps) and ps > 0:
            return float(ps), "given"
        sol = _solve(X, y)
    status = getattr(getattr(sol, "status", None), "value", "optimal")
    return float(sol.value), "proven" if status == "optimal" else status


def _run_label(k: int, t: dict[str, np.ndarray]) -> str:
    extra = [str(t["schedule"])] if "schedule" in t else []
    if int(t.get("seed", -1)) >= 0:
        extra.append(f"seed {int(t['seed'])}")
    return f"run {k + 1}" + (f" ({', '.join(extra)})" if extra else "")


def _fig_gap(X, y, sol, model, trajs):
    if y is None:
        raise InputError("figure 'gap' needs binary labels y")
    ps, how = _p_star(sol, trajs, X, y)
    fig, ax = _figure(2)
    for k, t in enumerate(trajs):
        steps = np.asarray(t["steps"], dtype=np.float64) + 1
        g = relative_gap(t, ps)
        ok = np.isfinite(g) & (g > 0)
        ax[0, 0].plot(steps[ok], g[ok], color=f"C{k % 10}", lw=1.5, label=_run_label(k, t))
        if "log_loss" in t:  # finite even where the loss underflows
            ax[0, 1].plot(steps, np.asarray(t["log_loss"]) / np.log(10), color=f"C{k % 10}")
        elif "loss" in t:
            ax[0, 1].plot(steps, np.log10(np.maximum(t["loss"], 1e-300)), color=f"C{k % 10}")
    ref = "P^*" if how != "restricted" else "P"
    for a, lab in zip(ax[0], (rf"relative gap $(\mathrm{{UB}}-{ref})/{ref}$",
                              r"$\log_{10}$ training loss")):
        a.set_xscale("log")
        a.set_xlabel("step + 1")
        a.set_ylabel(lab)
        a.grid(True, which="major", alpha=0.3)
    ax[0, 0].set_yscale("log")
    if how == "proven":
        ax[0, 0].set_title(rf"certificate gap ($P^*={ps:.6g}$)", fontsize=10)
    elif how == "given":
        ax[0, 0].set_title(rf"gap to the trajectory's $P^*={ps:.6g}$ (as recorded)", fontsize=10)
    else:  # a restricted solve: the best value found, not proven optimal
        ax[0, 0].set_title(rf"gap to the best value found, $P={ps:.6g}$ ({how} solve: "
                           r"$P^*\leq P$, not proven)", fontsize=9)
    ax[0, 1].set_title("training loss", fontsize=10)
    ax[0, 0].legend(fontsize=7)
    return fig


def _fig_alignment(X, y, sol, model, trajs):
    t = _one("alignment", trajs)
    if "alignment" not in t:
        raise InputError("figure 'alignment' needs labels y (or an 'alignment' array)")
    fig, ax = _figure(2)
    steps, A, sign = np.asarray(t["steps"], dtype=np.float64) + 1, t["alignment"], t["sign"][-1]
    for i in range(A.shape[1]):
        c = _POS if sign[i] > 0 else _NEG
        ax[0, 0].plot(steps, A[:, i], color=c, lw=1.2, alpha=0.8)
        d = 1.0 - A[:, i]
        ok = d > 0
        ax[0, 1].plot(steps[ok], d[ok], color=c, lw=1.2, alpha=0.8)
    ax[0, 0].plot([], [], color=_POS, label=r"$w_{2,i}>0$")
    ax[0, 0].plot([], [], color=_NEG, label=r"$w_{2,i}<0$")
    ax[0, 0].set_ylabel(r"$\cos\angle(w_{1,i},\ s_iX^TD(w_{1,i})y)$")
    ax[0, 1].set_ylabel(r"$1-\cos\angle$")
    ax[0, 1].set_yscale("log")
    for a in ax[0]:
        a.set_xscale("log")
        a.set_xlabel("step + 1")
        a.grid(True, alpha=0.3)
    ax[0, 0].legend(fontsize=8)
    ax[0, 0].set_title("per-neuron alignment (Theorem 1)", fontsize=10)
    ax[0, 1].set_title(r"distance to alignment, $1-\cos\angle$ (log scale)", fontsize=10)
    return fig


_DRAW = {
    "rectified-ellipsoid": _fig_rectified, "polar": _fig_polar, "ellipsoid": _fig_ellipsoid,
    "rectified-trajectories": _fig_traj_rectified, "circle": _fig_circle, "seeds": _fig_seeds,
    "gap": _fig_gap, "alignment": _fig_alignment,
}


def plot(
    kind: str,
    X: Any = None,
    y: Any = None,
    *,
    trajectory: Any = None,
    solution: Any = None,
    model: Any = None,
    output: str | Path | None = None,
    dpi: int = 100,
) -> Figure:
    """Draw figure ``kind`` (see the module table) and save it to ``output`` if given.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    X, y : arrays (N, d) and (N,) of ±1, or a :class:`verify.io.datasets.Dataset` as ``X``
        The data; default the trajectory's own ``X`` and ``y``.
    trajectory : dict of arrays, path to a trainer ``.npz``, or a list of them
        Needed by the trajectory figures (a list only for ``seeds`` and ``gap``).
    solution : ConvexSolution, optional
        Supplies ``lam*``, ``P*`` and the optimal neurons; computed from ``X, y`` if missing
        (and needed).
    model : (W1, w2), ModelWeights or model file, optional
        A trained network whose neurons are marked on ``rectified-ellipsoid`` and ``circle``.
    output : path, optional
        ``.png``, ``.svg`` or ``.pdf``; written atomically.

    Raises
    ------
    InputError
        Unknown kind, data of the wrong shape for the figure, missing trajectory, bad file.

    Examples
    --------
    >>> plot("circle", [[1.0, 0.0, 2.0]], [1], trajectory={"W1": np.ones((1, 3, 1))})
    Traceback (most recent call last):
    ...
    verify.errors.InputError: figure 'circle' needs d = 2 features, the data have d = 3
    """
    if kind not in KINDS:
        raise InputError(f"figure kind: expected one of {', '.join(KINDS)}, received {kind!r}")
    need_n, need_d, need_traj = KINDS[kind]
    raw = trajectory if isinstance(trajectory, (list, tuple)) else (
        [] if trajectory is None else [trajectory])
    if need_traj and not raw:
        raise InputError(f"figure {kind!r} needs a training trajectory (a trainer .npz file)")
    if X is None:
        if not raw:
            raise InputError(f"figure {kind!r} needs data X, y")
        first = load_trajectory(raw[0])
        X, y = first["X"], first.get("y") if y is None else y
    X, y = as_data(X, y, need_labels=kind not in ("alignment", "circle", "seeds", "gap"))
    N, d = X.shape
    if need_n is not None and N != need_n:
        raise InputError(f"figure {kind!r} needs N = {need_n} samples, the data have N = {N}")
    if need_d is not None and d != need_d:
        raise InputError(f"figure {kind!r} needs d = {need_d} features, the data have d = {d}")
    trajs = [load_trajectory(r, X, y) for r in raw]
    mdl = _model(model, d)
    if solution is None and y is not None and kind not in ("alignment", "gap"):
        solution = _solve(X, y)
    fig = _DRAW[kind](X, y, solution, mdl, trajs)
    if output is not None:
        save_figure(fig, output, dpi=dpi)
    return fig
