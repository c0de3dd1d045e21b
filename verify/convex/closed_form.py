"""Routes to ``P*`` without enumeration: the orthogonally separable closed form and Remark 1.

* :func:`solve_orthogonally_separable` -- for orthogonally separable data (decided exactly by
  :mod:`verify.geometry.separability`) ``P* = ||w_+|| + ||w_-||`` with ``w_+-`` the minimum-norm
  solutions of ``x_n^T w >= 1`` over each class: two small conic problems in any dimension
  (proof in ``docs/closed_form.md``);
* :func:`solve_spike_free` -- Remark 1: for spike-free ``X`` (decided exactly by
  :mod:`verify.geometry.spike_free`) the dual constraint is two conic constraints (one cone
  ``Xu >= 0``);
* :func:`spike_free_restated_value` -- the paper's restatement (66) of Remark 1, kept to show
  in the tests that it is *not* equivalent.

Both routes return a :class:`verify.convex.programs.ConvexSolution` with rigorous bounds
(:mod:`verify.convex.bounds`); these names are re-exported by :mod:`verify.convex.programs`.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> sol = solve_orthogonally_separable(X, np.array([1.0, -1.0]))
>>> sol.status, round(sol.value, 8), float(sol.lower_bound) <= 2.0 <= float(sol.upper_bound)
(<Status.OPTIMAL: 'optimal'>, 2.0, True)
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np

from verify.checker.arithmetic import sqrt_bounds
from verify.convex.bounds import _check_binary, exact_norm_sq, exact_yT_lam, project_lambda
from verify.convex.chamber_oracle import nnls_slack
from verify.convex.programs import (
    ConvexSolution,
    Neuron,
    _choice,
    _failed,
    _network_ub,
    _solver_info,
    recover_network,
)
from verify.convex.solvers import SolverChoice, cp, solve_problem
from verify.errors import InputError, SolverError
from verify.status import Status

__all__ = ["solve_orthogonally_separable", "solve_spike_free", "spike_free_restated_value"]


def _min_norm(
    Xs: np.ndarray, choice: SolverChoice, *, tol: float = 1e-10, max_rounds: int = 100
) -> tuple[np.ndarray, np.ndarray, Status]:
    """``argmin{||w|| : Xs w >= 1}`` and its multiplier ``mu >= 0`` (``||Xs^T mu|| = 1``).

    Cutting planes: solve over a working set of rows, add the most violated rows, repeat until
    ``Xs w >= 1 - tol``.  The multiplier of a restricted problem, extended by zeros, is
    feasible for the full dual (``||Xs^T mu|| <= 1``), so the lower bound stays valid at any
    round; the upper bound re-checks the final network exactly.
    """
    n, d = Xs.shape
    c = Xs.mean(axis=0)
    work = np.argsort(Xs @ c, kind="stable")[: min(n, 2 * d + 10)]
    status = Status.UNKNOWN
    for _ in range(max_rounds):
        w = cp.Variable(d)
        con = Xs[work] @ w >= 1
        prob = cp.Problem(cp.Minimize(cp.norm(w, 2)), [con])
        status = solve_problem(prob, choice)
        if w.value is None:
            raise SolverError(f"the min-norm problem of one class failed: {prob.status}")
        wv = np.asarray(w.value, dtype=float)
        margins = Xs @ wv
        viol = np.flatnonzero(margins < 1 - tol)
        viol = np.setdiff1d(viol, work)
        if viol.size == 0:
            break
        add = viol[np.argsort(margins[viol], kind="stable")[: max(d, 50)]]
        work = np.concatenate([work, add])
    mu = np.zeros(n)
    mu[work] = np.maximum(np.asarray(con.dual_value, dtype=float).reshape(-1), 0.0)
    mu[mu <= 1e-13 * max(float(mu.max(initial=0.0)), 1e-300)] = 0.0  # any mu >= 0 is allowed
    return wv, mu, status


def _worst(status: list[Status]) -> Status:
    for s in (Status.UNKNOWN, Status.INFEASIBLE, Status.UNBOUNDED, Status.INACCURATE):
        if s in status:
            return s
    return Status.OPTIMAL


def solve_orthogonally_separable(
    X: Any, y: Any, *, solver: str | SolverChoice | None = None, check: bool = True
) -> ConvexSolution:
    """Closed form for orthogonally separable data: ``P* = ||w_+|| + ||w_-||``.

    ``w_+- = argmin{||w|| : x_n^T w >= 1 for n in class +-}`` (two small conic problems in any
    dimension); the optimal network is the two neurons ``w_+`` (output ``+``) and ``w_-``
    (output ``-``); the dual certificate is ``lam = mu_+ - mu_-`` from the two problems'
    multipliers (``||X_+-^T mu_+-|| = 1`` at optimality).  The lower bound uses the exact
    identity ``max_{||u||<=1} |lam^T (Xu)_+| = max(||X_+^T mu_+||, ||X_-^T mu_-||)`` valid
    under orthogonal separability (``docs/closed_form.md``), so ``s`` is computed exactly
    without any enumeration.

    Parameters
    ----------
    check : bool
        Decide orthogonal separability exactly first (:mod:`verify.geometry.separability`) and raise
        :class:`InputError` if it fails.  With ``check=False`` the bounds are conditional on
        it and the status is ``unknown``.

    Examples
    --------
    >>> X = np.array([[1.65, 0.47], [-0.47, 1.35]])   # the paper's Appendix F.1
    >>> sol = solve_orthogonally_separable(X, np.array([1.0, -1.0]))
    >>> [(n.sign, round(n.norm, 4)) for n in sol.neurons]
    [(1, 0.5829), (-1, 0.6996)]
    >>> [[round(n.norm * v, 2) for v in n.direction] for n in sol.neurons]
    [[0.56, 0.16], [-0.23, 0.66]]
    """
    X, y = _check_binary(X, y)
    msg = ""
    if check:
        from verify.geometry.separability import orthogonal_separability

        rep = orthogonal_separability(X, (y > 0).astype(int), stop_at_first=True)
        if not rep.separable:
            raise InputError(
                "solve_orthogonally_separable: the data are not orthogonally "
                "separable (decided exactly); use column_generation instead"
            )
    else:
        msg = "orthogonal separability assumed, not checked: bounds conditional on it"
    choice = _choice(solver)
    t0 = time.perf_counter()
    lam = np.zeros(X.shape[0])
    neurons: list[Neuron] = []
    statuses: list[Status] = []
    s_sq = Fraction(0)
    value = 0.0
    for sign in (1, -1):
        idx = np.flatnonzero(y == sign)
        if idx.size == 0:
            continue
        w, mu, st = _min_norm(X[idx], choice)
        statuses.append(st)
        nw = float(np.linalg.norm(w))
        value += nw
        neurons.append(Neuron(sign, tuple(float(v) for v in w / nw), nw, None))
        lam[idx] = sign * mu
        a = np.zeros(X.shape[0])
        a[idx] = mu
        s_sq = max(s_sq, exact_norm_sq(X, a))
    info = _solver_info(choice, time.perf_counter() - t0)
    status = _worst(statuses)
    s_hi = sqrt_bounds(s_sq)[1]
    lb = exact_yT_lam(y, lam) / max(Fraction(1), s_hi)
    ub, nr = _network_ub(X, y, tuple(neurons))
    if not check and status == Status.OPTIMAL:
        status = Status.UNKNOWN
    return ConvexSolution(
        value, lb, ub, status, "closed-form", lam, tuple(neurons), info, s=float(s_hi), message=msg
    )


def solve_spike_free(
    X: Any, y: Any, *, solver: str | SolverChoice | None = None, check: bool = True
) -> ConvexSolution:
    """Remark 1: for spike-free ``X`` the dual constraint is ``max_{Xz>=0, ||z||<=1}
    |lam^T X z| <= 1``, i.e. two conic constraints (Lemma 4 with the single cone ``Xz >= 0``).

    Its primal is ``min ||a|| + ||b||`` s.t. ``Xa >= 0``, ``Xb >= 0``, ``diag(y) X (a - b) >= 1``:
    the network is the two neurons ``a`` (output ``+``) and ``b`` (output ``-``), since
    ``(Xa)_+ = Xa``.  The lower bound uses ``s = max_+- ||X^T (+-lam + zeta_+-)||`` with NNLS
    ``zeta`` (exact); it is valid only for spike-free ``X``, which ``check=True`` decides
    exactly with :func:`verify.geometry.spike_free.spike_free` (``InputError`` if refuted; status
    ``unknown`` and no lower bound if undecided or ``check=False``).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])   # whitened
    >>> sol = solve_spike_free(X, np.array([1.0, 1.0, -1.0]))
    >>> round(sol.value, 7), round(2 ** 0.5 + 1, 7), sol.status
    (2.4142136, 2.4142136, <Status.OPTIMAL: 'optimal'>)
    """
    X, y = _check_binary(X, y)
    proven = False
    msg = "spike-free property not checked: no lower bound"
    if check:
        from verify.geometry.spike_free import spike_free

        rep = spike_free(X)
        if rep.spike_free is False:
            raise InputError(f"solve_spike_free: X is not spike-free ({rep.reason})")
        proven = rep.spike_free is True
        msg = "" if proven else f"spike-free property undecided ({rep.reason}): no lower bound"
    choice = _choice(solver)
    d = X.shape[1]
    a, b = cp.Variable(d), cp.Variable(d)
    margin = cp.multiply(y, X @ (a - b)) >= 1
    prob = cp.Problem(cp.Minimize(cp.norm(a, 2) + cp.norm(b, 2)), [X @ a >= 0, X @ b >= 0, margin])
    t0 = time.perf_counter()
    status = solve_problem(prob, choice)
    info = _solver_info(choice, time.perf_counter() - t0)
    if a.value is None:
        return _failed(status, "spike-free", X.shape[0], info, str(prob.status))
    lam = project_lambda(y, y * np.asarray(margin.dual_value, dtype=float).reshape(-1))
    neurons, drop = recover_network(b.value[:, None], a.value[:, None])
    s_sq = Fraction(0)
    for sgn in (1, -1):
        zeta, _, _ = nnls_slack(X, sgn * (X.T @ lam))
        s_sq = max(s_sq, exact_norm_sq(X, sgn * lam + zeta))
    s_hi = sqrt_bounds(s_sq)[1]
    lb = exact_yT_lam(y, lam) / max(Fraction(1), s_hi) if proven else None
    if status == Status.OPTIMAL and not proven:
        status = Status.UNKNOWN
    ub, neurons = _network_ub(X, y, neurons)
    return ConvexSolution(
        float(prob.value),
        lb,
        ub,
        status,
        "spike-free",
        lam,
        neurons,
        info,
        s=float(s_hi),
        message="; ".join(m for m in (msg, drop) if m),
    )


def spike_free_restated_value(X: Any, y: Any, *, solver: str | SolverChoice | None = None) -> float:
    """Optimal value of the dual with the paper's restated Remark-1 constraints (eq. 66):
    ``max_{Xu>=0, ||u||<=1} lam^T Y_+ X u <= 1`` and ``min_{...} lam^T Y_- X u >= -1``.

    Kept to test that restatement against the enumeration path (see ``docs/closed_form.md``):
    it is *not* equivalent in general; use :func:`solve_spike_free`.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])    # spike-free, x1.x2 > 0, y = (+1, -1)
    >>> round(spike_free_restated_value(X, np.array([1.0, -1.0])), 6)  # P* = 1 + sqrt(2)
    1.707107
    """
    X, y = _check_binary(X, y)
    N = X.shape[0]
    lam = cp.Variable(N)
    zp, zm = cp.Variable(N, nonneg=True), cp.Variable(N, nonneg=True)
    Yp, Ym = (y > 0).astype(float), (y < 0).astype(float)
    cons = [
        cp.multiply(y, lam) >= 0,
        cp.norm(X.T @ (cp.multiply(Yp, lam) + zp), 2) <= 1,
        cp.norm(X.T @ (-cp.multiply(Ym, lam) + zm), 2) <= 1,
    ]
    prob = cp.Problem(cp.Maximize(y @ lam), cons)
    solve_problem(prob, _choice(solver))
    return float(prob.value)
