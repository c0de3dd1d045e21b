"""A stronger node bound for the branch and bound: the Shor relaxation with cone products.

The chord bound of :mod:`verify.convex.node_bound` relaxes each free row ``mu_n > 0`` on its
own; it is weak when many rows are free, because ``u`` cannot be near the hyperplanes of all of
them at once.  This module bounds a node (cone ``C`` of the path rows ``a_m = sigma_m x_m``, the
ball) by a semidefinite relaxation of the lifted vector ``z = (1, u, t)``, ``t_j = (x_j^T u)_+``
for the ``k`` free rows with ``mu_j > 0`` (the *lifted* rows): ``Z = z z^T`` relaxed to a psd
matrix of order ``1 + d + k`` with

* ``1 - ||u||^2 >= 0``, ``t_j >= 0``, ``t_j - x_j^T u >= 0``, ``t_j^2 - t_j x_j^T u = 0``;
* the cone rows ``a_m^T u >= 0`` and their products with the ReLU inequalities,
  ``(a_m^T u) t_j >= 0`` and ``(a_m^T u)(t_j - x_j^T u) >= 0`` (the family that closes the
  breast-cancer leaves the chord leaves open: docs/branch_and_bound.md);
* the free rows with ``mu_n < 0`` by ``mu_n (t)_+ <= mu_n alpha_n t``, ``alpha_n in [0, 1]``.

Each constraint is ``<G_i, Z> >= 0`` (or ``= 0``) with ``G_i = sym(v, w)``, ``sym(v, w) = (v
w^T + w v^T) / 2``.  Any multipliers give a bound (weak duality): with ``M = C + sum_i y_i G_i
- tau E_00`` and ``rho I - M`` psd, every point of the node has value ``<= tau + rho ||z||^2
<= tau + rho (2 + sum_j h_j^2)`` (``h_j`` the rows' Lemma-4 upper bounds).  The float
multipliers come from SCS (the program assembled as sparse matrices); ``rho`` pays for the
solver's inaccuracy.  :mod:`verify.convex.branch_and_bound_evidence` rounds them to rationals
and proves ``rho I - M`` positive definite exactly (``verify.checker.semidefinite``).

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
>>> mu = np.array([1.0, 1.0, -0.5])
>>> sig = np.zeros(3, dtype=np.int8)
>>> from verify.convex.node_bound import _node_bound
>>> chord = _node_bound(sig, {}, X, mu, np.linalg.norm(X, axis=1))
>>> sd = semidefinite_bound(sig, X, mu, chord)
>>> round(chord.bound, 6), round(sd.bound, 4)  # the maximum is 1/sqrt(2), at u = (1, -1)/sqrt(2)
(1.0, 0.7071)
>>> bool(sd.bound >= 2 ** -0.5)
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["SdpBound", "semidefinite_bound", "multiplier_matrix", "violation_row",
           "seconds_left", "solve_budget"]

#: SCS tolerance (``eps_abs = eps_rel``).  At ``1e-5`` the bound ``tau + rho R`` was within
#: 0.0006-0.0030 of the relaxation's value on four breast-cancer leaves (order 57-59); at
#: ``1e-4`` it lost up to 0.042 through ``rho R`` (``R`` ~ 250 on standardised data).
EPS = 1e-5
#: SCS iteration cap.
MAX_ITERS = 20_000
#: Relative margin added to the largest eigenvalue of ``M`` for ``rho`` (float error).
MARGIN = 1e-9


@dataclass(frozen=True)
class SdpBound:
    """The semidefinite bound of one node and its float multipliers.

    Positions are into the support ``S``.  ``P`` are the path rows in sorted order (the rows
    of ``cone``, ``at``, ``atx``), ``lifted`` the free rows with ``mu > 0`` in sorted order
    (the columns of ``at``, ``atx`` and the entries of ``t``, ``tx``, ``eq``).
    """

    bound: float  # tau + rho * (2 + sum h_j^2) with the chord's float h
    P: np.ndarray
    lifted: np.ndarray
    tau: float
    rho: float
    ball: float
    t: np.ndarray
    tx: np.ndarray
    eq: np.ndarray
    cone: np.ndarray
    at: np.ndarray
    atx: np.ndarray
    alpha: dict[int, float]
    #: SCS's solution with integer labels of its entries, for a child's warm start
    #: (``None`` on a leaf that will not be split): ``(xlab, x, rowlab, y, s, zl, D)``.
    raw: tuple | None = field(default=None, repr=False, compare=False)


def _lower(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column indices of the lower triangle in SCS's order (column-major) and the
    scale of each entry in ``svec`` (1 on the diagonal, ``sqrt 2`` off it)."""
    cols, rows = [], []
    for j in range(n):
        rows.append(np.arange(j, n))
        cols.append(np.full(n - j, j))
    r, c = np.concatenate(rows), np.concatenate(cols)
    return r, c, np.where(r == c, 1.0, math.sqrt(2.0))


def _svec_sym(V: np.ndarray, W: np.ndarray, lower: tuple) -> np.ndarray:
    """``svec(sym(v_q, w_q))`` for each row pair of ``V``, ``W`` (shape ``(q, n)``)."""
    r, c, scale = lower
    return (V[:, r] * W[:, c] + W[:, r] * V[:, c]) * (0.5 * scale)


def _vectors(sig: np.ndarray, XS: np.ndarray, mu: np.ndarray, lifted: np.ndarray,
             fneg: np.ndarray, alpha: dict[int, float] | None
             ) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The objective's two vectors and, per family, the ``(V, W)`` of its ``sym(v, w)``."""
    d = XS.shape[1]
    k = lifted.size
    n = 1 + d + k
    P = np.flatnonzero(sig)
    A = sig[P, None] * XS[P]
    e0 = np.zeros(n)
    e0[0] = 1.0
    T = np.zeros((k, n))
    T[np.arange(k), 1 + d + np.arange(k)] = 1.0
    Tx = T.copy()
    Tx[:, 1:1 + d] = -XS[lifted]
    Au = np.zeros((P.size, n))
    Au[:, 1:1 + d] = A
    pfix = P[sig[P] > 0]
    c = np.zeros(n)
    c[1:1 + d] = XS[pfix].T @ mu[pfix]
    if alpha is not None and fneg.size:
        c[1:1 + d] += XS[fneg].T @ (mu[fneg] * np.array([alpha[int(q)] for q in fneg]))
    c[1 + d:] = mu[lifted]
    E0k = np.tile(e0, (k, 1))
    fam = {
        "t": (E0k, T),
        "tx": (E0k, Tx),
        "eq": (T, Tx),
        "cone": (np.tile(e0, (P.size, 1)), Au),
        "at": (np.repeat(Au, k, axis=0), np.tile(T, (P.size, 1))),
        "atx": (np.repeat(Au, k, axis=0), np.tile(Tx, (P.size, 1))),
    }
    return e0, c, fam


#: The families with ``>= 0`` multipliers, in the order of the program's rows.
_GE = ("t", "tx", "cone", "at", "atx")


def semidefinite_bound(sig: np.ndarray, XS: np.ndarray, mu: np.ndarray, chord,
                       eps: float = EPS, warm: SdpBound | None = None,
                       seconds: float | None = None) -> SdpBound | None:
    """The semidefinite bound of the node ``sig`` (positions into ``S``), from SCS.

    ``chord`` is the node's :class:`verify.convex.node_bound._Bound` (its ``h`` give the trace
    bound ``R``).  ``None`` when SCS fails.  The bound is evaluated from the multipliers (with
    ``rho`` from the largest eigenvalue of ``M``), so it is an upper bound whatever SCS's
    accuracy, up to float rounding (the evidence makes it exact).  ``warm``: the parent's
    bound, whose solution starts SCS (:func:`_warm`; the same entries where they exist).
    ``seconds``: SCS's time limit (its multipliers when it is reached still give a valid,
    weaker bound); ``None`` when ``seconds <= 0``.
    """
    import scs

    if seconds is not None and not seconds > 0:
        return None

    m, d = XS.shape
    P = np.flatnonzero(sig)
    free = np.flatnonzero(sig == 0)
    lifted = free[mu[free] > 0]
    fneg = free[mu[free] < 0]
    k, nneg = lifted.size, fneg.size
    n = 1 + d + k
    lower = _lower(n)
    nz = lower[0].size
    e0, c, fam = _vectors(sig, XS, mu, lifted, fneg, None)
    H = np.array([max(chord.intervals[int(q)][1], 0.0) for q in lifted])
    # solved in t_j / h_j: the same program, better conditioned (every |z_i| <= 1): 4x fewer
    # seconds on breast-cancer leaves
    D = np.concatenate([np.ones(1 + d), np.where(H > 0, H, 1.0)])
    c = c * D
    fam = {f: (V * D, W * D) for f, (V, W) in fam.items()}
    obj = _svec_sym(e0[None], c[None], lower)[0]
    z_rows = [_svec_sym(e0[None], e0[None], lower), _svec_sym(*fam["eq"], lower)]
    ball = _svec_sym(e0[None], e0[None], lower)
    diag_u = np.flatnonzero((lower[0] == lower[1]) & (lower[0] >= 1) & (lower[0] <= d))
    ball[0, diag_u] = -1.0
    l_rows = [ball] + [_svec_sym(*fam[f], lower) for f in _GE]
    Ge = sp.csr_matrix(np.concatenate(l_rows))
    Zq = sp.csr_matrix(np.concatenate(z_rows))
    Xn = np.zeros((nneg, n))
    Xn[:, 1:1 + d] = XS[fneg]
    xn = sp.csr_matrix(_svec_sym(np.tile(e0, (nneg, 1)), Xn, lower)) if nneg else None
    # x = [svec(Z), s_neg]; rows: zero cone (Z00 = 1, eq), nonneg cone (ge, s >= 0,
    # s - x^T u >= 0), psd cone (-svec(Z) + s = 0)
    Is = sp.identity(nneg, format="csr")
    blocks = [[Zq, None], [-Ge, None]]
    if nneg:
        blocks += [[None, -Is], [xn, -Is]]
    blocks.append([-sp.identity(nz, format="csr"), None])
    if not nneg:
        blocks = [[b[0]] for b in blocks]
    A = sp.bmat(blocks, format="csc")
    n_l = Ge.shape[0] + 2 * nneg
    b = np.zeros(A.shape[0])
    b[0] = 1.0
    cvec = -np.concatenate([obj, mu[fneg]])
    data = {"A": A, "b": b, "c": cvec}
    cone = {"z": Zq.shape[0], "l": n_l, "s": [n]}
    xlab, rowlab, zl = _labels(P, lifted, fneg, d, m, lower)
    try:
        limit = {} if seconds is None else {"time_limit_secs": float(seconds)}
        solver = scs.SCS(data, cone, eps_abs=eps, eps_rel=eps, max_iters=MAX_ITERS,
                         verbose=False, **limit)
        start = None if warm is None or warm.raw is None else _warm(
            warm.raw, xlab, rowlab, zl, D, Zq.shape[0], n_l, A, b)
        sol = solver.solve() if start is None else solver.solve(
            warm_start=True, x=start[0], y=start[1], s=start[2])
    except Exception:  # pragma: no cover - solver breakdown
        return None
    y = sol.get("y")
    if y is None or not np.all(np.isfinite(y)):
        return None
    zq = Zq.shape[0]
    tau = float(y[0])
    eq = -y[1:zq]
    ge = np.maximum(y[zq:zq + Ge.shape[0]], 0.0)
    gam = np.maximum(y[zq + Ge.shape[0] + nneg:zq + n_l], 0.0) if nneg else np.zeros(0)
    alpha = {int(q): float(min(max(g / abs(mu[q]), 0.0), 1.0)) for q, g in zip(fneg, gam)}
    parts = np.split(ge, np.cumsum([1, k, k, P.size, P.size * k]))
    out = SdpBound(bound=math.inf, P=P, lifted=lifted, tau=tau, rho=0.0, ball=float(parts[0][0]),
                   t=parts[1], tx=parts[2], eq=eq, cone=parts[3],
                   at=parts[4].reshape(P.size, k), atx=parts[5].reshape(P.size, k), alpha=alpha)
    M = multiplier_matrix(sig, XS, mu, out)
    lmax = float(np.linalg.eigvalsh(M)[-1])
    rho = max(lmax + MARGIN * max(1.0, float(np.abs(M).max())), 0.0)
    bound = tau + rho * (2.0 + float(H @ H))
    raw = (xlab, sol["x"], rowlab, sol["y"], sol["s"], zl, D)
    return SdpBound(**{**out.__dict__, "rho": rho, "bound": bound, "raw": raw})


def solve_budget(left: float | None) -> tuple[float, float] | None:
    """The time budget of a batch of solves that may run in other processes or queue there.

    Parameters
    ----------
    left : float or None
        Seconds left from now; ``None`` for no limit.

    Returns
    -------
    tuple of float or None
        ``(left, until)``: the seconds, and the wall-clock time (``time.time()``) they end at,
        for :func:`seconds_left`; ``None`` for no limit.
    """
    return None if left is None else (left, time.time() + left)


def seconds_left(budget: tuple[float, float] | None, t0: float) -> float | None:
    """What is left of a :func:`solve_budget` in a chunk that started at ``t0``.

    Parameters
    ----------
    budget : tuple of float or None
        ``(left, until)`` from :func:`solve_budget`; ``None`` for no limit.
    t0 : float
        ``time.monotonic()`` when the chunk started, on the clock of the process running it.

    Returns
    -------
    float or None
        The smaller of ``left`` counted from ``t0`` and the seconds to ``until`` on the wall
        clock: a chunk that waited in a worker's queue (a batch has two chunks per worker), or
        a worker that started late, gets only what is really left, and a worker whose wall
        clock is off gets no more than ``left``.  ``None`` for no limit.

    Examples
    --------
    >>> seconds_left(None, 0.0) is None
    True
    >>> seconds_left((5.0, time.time() - 1.0), time.monotonic()) < 0  # queued past the end
    True
    """
    if budget is None:
        return None
    left, until = budget
    return min(left - (time.monotonic() - t0), until - time.time())


def _labels(P: np.ndarray, lifted: np.ndarray, fneg: np.ndarray, d: int, m: int,
            lower: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer labels of the program's variables and rows, the same in a parent and a child
    for the same entry: ``z``'s slots are ``0`` (the constant), ``1 + i`` (``u_i``) and
    ``1 + d + q`` (``t`` of support position ``q``)."""
    B = 1 + d + m  # > every slot label and every position
    zl = np.concatenate([np.arange(1 + d), 1 + d + lifted]).astype(np.int64)
    r, c, _ = lower
    psd = zl[r] * B + zl[c]
    xlab = np.concatenate([psd, B * B + fneg])
    fam = []

    def add(code: int, a: np.ndarray, q: np.ndarray) -> None:
        fam.append(code * B * B + a * B + q)

    one = np.zeros(1, dtype=np.int64)
    add(1, one, one)  # Z00 = 1
    add(2, np.zeros_like(lifted), lifted)  # eq
    add(3, one, one)  # ball
    add(4, np.zeros_like(lifted), lifted)  # t
    add(5, np.zeros_like(lifted), lifted)  # tx
    add(6, P, np.zeros_like(P))  # cone
    add(7, np.repeat(P, lifted.size), np.tile(lifted, P.size))  # at
    add(8, np.repeat(P, lifted.size), np.tile(lifted, P.size))  # atx
    add(9, np.zeros_like(fneg), fneg)  # s >= 0
    add(10, np.zeros_like(fneg), fneg)  # s - x^T u >= 0
    fam.append(11 * B * B + psd)  # the psd cone
    return xlab, np.concatenate(fam).astype(np.int64), zl


def _take(lab_new: np.ndarray, lab_old: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """``vals`` of the old labels moved to the new ones (0 where absent) and the mask."""
    order = np.argsort(lab_old)
    so = lab_old[order]
    i = np.clip(np.searchsorted(so, lab_new), 0, max(so.size - 1, 0))
    hit = so.size > 0
    found = (so[i] == lab_new) if hit else np.zeros(lab_new.size, dtype=bool)
    out = np.zeros(lab_new.size)
    out[found] = vals[order[i[found]]]
    return out, found


def _warm(raw: tuple, xlab: np.ndarray, rowlab: np.ndarray, zl: np.ndarray, D: np.ndarray,
          n_zero: int, n_lin: int, A: Any, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """SCS's start for a child from its parent's solution: the shared entries are copied (the
    psd ones rescaled from the parent's ``t_j / h_j`` to the child's), the new rows' slacks
    are ``b - A x`` (clipped at 0 for the inequalities) and their multipliers 0."""
    xlab0, x0, rowlab0, y0, s0, zl0, D0 = raw
    f, _ = _take(zl, zl0, D0)  # the parent's scale of each of the child's slots
    f = np.where(f > 0, f, D) / D
    x, _ = _take(xlab, xlab0, x0)
    y, _ = _take(rowlab, rowlab0, y0)
    s, found = _take(rowlab, rowlab0, s0)
    n_psd = rowlab.size - n_zero - n_lin
    r, c = _slots(n_psd)
    ratio = f[r] * f[c]
    x[:n_psd] *= ratio
    y[n_zero + n_lin:] /= ratio
    s[n_zero + n_lin:] = x[:n_psd]
    lin = slice(n_zero, n_zero + n_lin)
    new = ~found[lin]
    if new.any():
        slack = b[lin] - A[lin] @ x
        s[lin][new] = np.maximum(slack[new], 0.0)
    s[:n_zero] = 0.0
    return x, y, s


def _slots(nz: int) -> tuple[np.ndarray, np.ndarray]:
    """The slots ``(r, c)`` of the ``nz`` lower-triangle entries (SCS's order)."""
    n = int(round((math.sqrt(8 * nz + 1) - 1) / 2))
    r, c, _ = _lower(n)
    return r, c


def multiplier_matrix(sig: np.ndarray, XS: np.ndarray, mu: np.ndarray, sd: SdpBound) -> np.ndarray:
    """``M = C + sum_i y_i G_i - tau E_00`` in floats (without ``rho``), for ``sd``'s
    multipliers (``C`` with ``sd.alpha``)."""
    d = XS.shape[1]
    k = sd.lifted.size
    n = 1 + d + k
    free = np.flatnonzero(sig == 0)
    fneg = free[mu[free] < 0]
    e0, c, fam = _vectors(sig, XS, mu, sd.lifted, fneg, sd.alpha)

    def sym(V: np.ndarray, W: np.ndarray, y: np.ndarray) -> np.ndarray:
        G = (V * y[:, None]).T @ W
        return (G + G.T) / 2

    M = sym(e0[None], c[None], np.ones(1))
    M[0, 0] += sd.ball - sd.tau
    M[np.arange(1, 1 + d), np.arange(1, 1 + d)] -= sd.ball
    mult = {"t": sd.t, "tx": sd.tx, "eq": sd.eq, "cone": sd.cone, "at": sd.at.ravel(),
            "atx": sd.atx.ravel()}
    for f, (V, W) in fam.items():
        if V.shape[0]:
            M += sym(V, W, mult[f])
    assert M.shape == (n, n)
    return M


def violation_row(sd: SdpBound, sig: np.ndarray, XS: np.ndarray, mu: np.ndarray,
                  skip: Any = ()) -> int:
    """The free lifted row whose ReLU the relaxation's solution violates most,
    ``argmax mu_j (E t_j - (x_j^T E u)_+)`` over the first row of ``Z`` (``E`` the relaxation's
    expectation), or ``-1`` when there is no solution or no violation (rows in ``skip``, e.g.
    those whose sign is implied, are left out).  A branching rule: splitting that row removes
    the largest slack of the relaxation.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> mu = np.array([1.0, 1.0, -0.5])
    >>> sig = np.zeros(3, dtype=np.int8)
    >>> from verify.convex.node_bound import _node_bound
    >>> sd = semidefinite_bound(sig, X, mu, _node_bound(sig, {}, X, mu, np.linalg.norm(X, axis=1)))
    >>> violation_row(sd, sig, X, mu) in (0, 1)
    True
    """
    if sd.raw is None or sd.lifted.size == 0:
        return -1
    d = XS.shape[1]
    _, sol, _, _, _, _, D = sd.raw
    n = 1 + d + sd.lifted.size
    first = sol[:n] / _lower(n)[2][:n] * D * D[0]  # column 0 of svec(Z), unscaled
    eu, et = first[1:1 + d], first[1 + d:]
    viol = mu[sd.lifted] * (et - np.maximum(XS[sd.lifted] @ eu, 0.0))
    ok = (sig[sd.lifted] == 0) & ~np.isin(sd.lifted, np.fromiter(skip, dtype=np.int64))
    if not np.any(ok & (viol > 0)):
        return -1
    return int(sd.lifted[np.flatnonzero(ok)[np.argmax(viol[ok])]])
