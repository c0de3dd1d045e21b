"""The convex max-margin program (14), its dual (129) and the structure-aware paths.

Routes to ``P*`` for binary data ``(X, y)``:

* ``solve_primal`` -- program (14) over a given pattern list in one CVXPY problem ("direct"
  when the list is a complete chamber list, else "restricted");
* ``solve_dual`` -- the SOCP (129) over a pattern list;
* ``column_generation`` -- (14) over a growing working set of chambers, the exact Lemma-4
  oracle over *all* chambers deciding when to stop;
* ``solve_orthogonally_separable`` -- the closed form ``P* = ||w_+|| + ||w_-||`` (two small
  conic problems, no enumeration; proof in ``docs/closed_form.md``);
* ``solve_spike_free`` -- Remark 1: two conic constraints, no enumeration.

Every route returns a :class:`ConvexSolution` with rigorous rational bounds
``lower_bound <= P* <= upper_bound`` where the evidence allows (see
:func:`verify.duality.lower_bound` and :func:`verify.duality.upper_bound`).

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
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse

from verify.duality import (
    _check_binary,
    as_patterns,
    chamber_walls,
    exact_norm_sq,
    exact_yT_lam,
    lower_bound,
    nnls_slack,
    oracle,
    project_lambda,
    upper_bound,
)
from verify.errors import InputError, SolverError
from verify.exact import format_rational, sqrt_bounds
from verify.solvers import SolverChoice, choose_solver, solve_problem
from verify.status import Status

__all__ = [
    "Neuron",
    "ConvexSolution",
    "solve_primal",
    "solve_dual",
    "solve_orthogonally_separable",
    "solve_spike_free",
    "spike_free_restated_value",
    "column_generation",
    "recover_network",
    "polish",
    "lower_bound",
    "upper_bound",
]

#: Clarabel tolerance of the first column-generation rounds (the last ones use the tight ones).
LOOSE_TOL = 1e-7

#: Neurons with ||u|| below this fraction of the largest are dropped from the network.
DROP_REL = 1e-7


@dataclass(frozen=True)
class Neuron:
    """One neuron of an optimal network: ``w1 = sqrt(norm) direction``, ``w2 = sign sqrt(norm)``.

    ``norm`` is ``||u||`` of the convex variable (``= ||w1|| |w2|``); ``pattern`` is the chamber
    index it came from (``None`` for the closed forms).
    """

    sign: int
    direction: tuple[float, ...]
    norm: float
    pattern: int | None = None

    @property
    def w1(self) -> np.ndarray:
        return np.sqrt(self.norm) * np.asarray(self.direction)

    @property
    def w2(self) -> float:
        return float(self.sign * np.sqrt(self.norm))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sign": self.sign,
            "direction": list(self.direction),
            "norm": self.norm,
            "pattern": self.pattern,
        }


def _frac(q: Fraction | None) -> dict[str, Any] | None:
    return None if q is None else {"exact": format_rational(q), "float": float(q)}


@dataclass(frozen=True)
class ConvexSolution:
    """Result of a route to ``P*``.

    Attributes
    ----------
    value : float
        The solver's optimal value (``P*`` for complete routes).
    lower_bound, upper_bound : Fraction or None
        Rigorous bounds (``None`` where the evidence does not give one, e.g. ``lower_bound`` of
        a restricted pattern list).
    status : Status
    method : str
        ``"closed-form"``, ``"spike-free"``, ``"column-generation"``, ``"direct"``,
        ``"restricted"`` or ``"dual"``.
    lam : ndarray
        Dual variable, ``diag(y) lam >= 0`` and ``y^T lam ~ value``.
    neurons : tuple of Neuron
        The recovered network (empty for a dual-only solve).
    solver : dict
        :meth:`SolverChoice.to_dict` plus solve time.
    rounds, working_set, n_chambers : int
        Column generation rounds, final working-set size, chambers checked by the oracle.
    s : float or None
        Float ``max_{j,+-}`` dual constraint value at the end (<= 1 + tol when converged).
    message : str
        Notes (dropped neurons, conditions assumed, why a status is not optimal).
    u, u_prime : ndarray or None
        The convex variables ``u_j`` and ``u'_j`` as columns, shape (d, p), of
        :func:`solve_primal` (``None`` for the other routes; not in :meth:`to_dict`).
    """

    value: float
    lower_bound: Fraction | None
    upper_bound: Fraction | None
    status: Status
    method: str
    lam: np.ndarray = field(repr=False)
    neurons: tuple[Neuron, ...] = ()
    solver: dict[str, Any] = field(default_factory=dict)
    rounds: int = 0
    working_set: int = 0
    n_chambers: int = 0
    s: float | None = None
    message: str = ""
    u: np.ndarray | None = field(default=None, repr=False)
    u_prime: np.ndarray | None = field(default=None, repr=False)

    @property
    def W1(self) -> np.ndarray:
        """First-layer weights, shape (d, m)."""
        return np.column_stack([n.w1 for n in self.neurons]) if self.neurons else np.zeros((0, 0))

    @property
    def w2(self) -> np.ndarray:
        """Second-layer weights, shape (m,)."""
        return np.array([n.w2 for n in self.neurons])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (Fractions as ``{"exact": "p/q", "float": x}``)."""
        return {
            "value": float(self.value),
            "lower_bound": _frac(self.lower_bound),
            "upper_bound": _frac(self.upper_bound),
            "status": self.status.value,
            "method": self.method,
            "lam": [float(v) for v in self.lam],
            "neurons": [n.to_dict() for n in self.neurons],
            "solver": self.solver,
            "rounds": self.rounds,
            "working_set": self.working_set,
            "n_chambers": self.n_chambers,
            "s": None if self.s is None else float(self.s),
            "message": self.message,
        }


def _choice(solver: str | SolverChoice | None) -> SolverChoice:
    return solver if isinstance(solver, SolverChoice) else choose_solver(solver)


def _solver_info(choice: SolverChoice, seconds: float) -> dict[str, Any]:
    return {**choice.to_dict(), "seconds": round(seconds, 6)}


def recover_network(
    U: np.ndarray, Up: np.ndarray, *, rel: float = DROP_REL, ids: Any = None
) -> tuple[tuple[Neuron, ...], str]:
    """Neurons from the convex variables: column ``u'_j`` -> ``+``, ``u_j`` -> ``-``.

    Columns with ``||u|| <= rel * max ||u||`` are dropped (the message says how many).

    Examples
    --------
    >>> nr, msg = recover_network(np.zeros((2, 1)), np.array([[3.0], [4.0]]))
    >>> round(nr[0].w2 ** 2, 12), [round(float(v), 6) for v in nr[0].w1], msg
    (5.0, [1.341641, 1.788854], '')
    """
    norms = [np.linalg.norm(Up, axis=0), np.linalg.norm(U, axis=0)]
    top = max(float(norms[0].max(initial=0.0)), float(norms[1].max(initial=0.0)))
    out: list[Neuron] = []
    dropped, mass = 0, 0.0
    for sign, M, nm in ((1, Up, norms[0]), (-1, U, norms[1])):
        for j in range(M.shape[1]):
            if nm[j] > rel * top and nm[j] > 0:
                pid = None if ids is None else int(ids[j])
                out.append(
                    Neuron(sign, tuple(float(v) for v in M[:, j] / nm[j]), float(nm[j]), pid)
                )
            elif nm[j] > 0:
                dropped += 1
                mass += float(nm[j])
    msg = (
        f"dropped {dropped} neurons with ||u|| <= {rel:g} * max (total norm {mass:.3g})"
        if dropped
        else ""
    )
    return tuple(out), msg


def _ub(X: np.ndarray, y: np.ndarray, neurons: tuple[Neuron, ...]) -> Fraction | None:
    if not neurons:
        return None
    W1 = np.column_stack([n.w1 for n in neurons])
    w2 = np.array([n.w2 for n in neurons])
    try:
        return upper_bound(X, y, W1, w2)
    except InputError:
        return None


def polish(X: np.ndarray, y: np.ndarray, neurons: tuple[Neuron, ...]) -> tuple[Neuron, ...]:
    """Re-fit the neuron norms with the directions fixed: the LP ``min sum c_i`` s.t.
    ``y_n sum_i c_i sign_i (x_n^T dir_i)_+ >= 1``, ``c >= 0`` (HiGHS); neurons with ``c_i = 0``
    are removed.  Repairs the margin lost by dropping tiny neurons; returns the input when the
    LP fails.
    """
    if not neurons:
        return neurons
    from scipy.optimize import linprog

    Dm = np.array([n.direction for n in neurons]).T  # (d, m)
    F = np.maximum(X @ Dm, 0.0) * np.array([n.sign for n in neurons])[None, :]
    tight = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
    for options in (tight, {}):  # HiGHS may report numerical trouble with the tight ones
        res = linprog(
            np.ones(len(neurons)),
            A_ub=-(y[:, None] * F),
            b_ub=-np.ones(X.shape[0]),
            bounds=(0, None),
            method="highs",
            options=options,
        )
        if res.status == 0:
            break
    if res.status != 0:
        return neurons
    return tuple(
        Neuron(n.sign, n.direction, float(c), n.pattern) for n, c in zip(neurons, res.x) if c > 0
    )


def _network_ub(
    X: np.ndarray, y: np.ndarray, neurons: tuple[Neuron, ...]
) -> tuple[Fraction | None, tuple[Neuron, ...]]:
    """Best rigorous UB of the network and of its polished version (and that network)."""
    ub = _ub(X, y, neurons)
    pol = polish(X, y, neurons)
    ub2 = _ub(X, y, pol) if pol is not neurons else None
    if ub2 is not None and (ub is None or ub2 < ub):
        return ub2, pol
    return ub, neurons


def _primal_problem(
    X: np.ndarray, y: np.ndarray, P: np.ndarray, walls: list[np.ndarray] | None = None
):
    N, d = X.shape
    p = P.shape[0]
    S = np.where(P, 1.0, -1.0).T  # (N, p)
    U = cp.Variable((d, p))
    Up = cp.Variable((d, p))
    margin = cp.multiply(y, cp.sum(cp.multiply(P.T.astype(float), X @ (Up - U)), axis=1)) >= 1
    if walls is None:
        cons = [cp.multiply(S, X @ U) >= 0, cp.multiply(S, X @ Up) >= 0, margin]
    else:  # only the facet rows of each cone: M @ vec(U) >= 0
        J = np.concatenate([np.full(len(w), j) for j, w in enumerate(walls)]).astype(np.int64)
        R = np.concatenate([np.asarray(w, dtype=np.int64) for w in walls])
        A = S[R, J][:, None] * X[R]  # (T, d)
        T = R.size
        M = scipy.sparse.csr_matrix(
            (
                A.ravel(),
                (np.repeat(np.arange(T), d), (J[:, None] * d + np.arange(d)[None, :]).ravel()),
            ),
            shape=(T, d * p),
        )
        cons = [M @ cp.vec(U, order="F") >= 0, M @ cp.vec(Up, order="F") >= 0, margin]
    obj = cp.sum(cp.norm(U, 2, axis=0)) + cp.sum(cp.norm(Up, 2, axis=0))
    return cp.Problem(cp.Minimize(obj), cons), U, Up, margin


def _slacks(X: np.ndarray, lam: np.ndarray, P: np.ndarray, walls: list[np.ndarray] | None = None):
    """Oracle over ``P`` with the NNLS slack multipliers (zero where not needed)."""
    res = oracle(X, lam, P, keep_slack=True, walls=walls)
    zp: list[Any] = [None] * P.shape[0]
    zm: list[Any] = [None] * P.shape[0]
    for (j, sgn), z in res.slack.items():
        (zp if sgn > 0 else zm)[j] = z
    return res, zp, zm


def solve_primal(
    X: Any,
    y: Any,
    patterns: Any,
    *,
    solver: str | SolverChoice | None = None,
    complete: bool | None = None,
    bounds: bool = True,
    walls: list[np.ndarray] | None = None,
) -> ConvexSolution:
    """Program (14) over the given patterns in one conic problem.

    Parameters
    ----------
    X, y : arrays (N, d) and (N,) with labels +-1
    patterns : Chambers or bool array (p, N)
        ``D_j``.  A ``Chambers`` object carries its own ``complete`` flag.
    solver : str, SolverChoice or None
        See :func:`verify.solvers.choose_solver`.
    complete : bool, optional
        Override: the caller asserts the list is (not) complete.
    bounds : bool
        Compute the rigorous bounds (the lower bound only for complete lists).
    walls : list of int arrays, optional
        Facet rows of each cone (:func:`verify.duality.chamber_walls`): only these cone
        constraints are imposed (the others are redundant for a complete list).  Default: all
        ``N`` rows per cone, the direct formulation the paper used.

    Returns
    -------
    ConvexSolution
        ``method`` is ``"direct"`` for a complete list, else ``"restricted"``;
        ``lam = diag(y) mu`` with ``mu >= 0`` the multiplier of the margin constraint.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> sol = solve_primal(X, np.array([1.0, -1.0]), P, complete=True)
    >>> sol.method, round(sol.value, 7), [n.sign for n in sol.neurons]
    ('direct', 2.0, [1, -1])
    """
    X, y = _check_binary(X, y)
    P, flag = as_patterns(patterns, X.shape[0])
    complete = flag if complete is None else bool(complete)
    choice = _choice(solver)
    if walls is not None and len(walls) != P.shape[0]:
        raise InputError(f"walls: expected {P.shape[0]} index arrays, got {len(walls)}")
    prob, U, Up, margin = _primal_problem(X, y, P, walls)
    t0 = time.perf_counter()
    status = solve_problem(prob, choice)
    info = _solver_info(choice, time.perf_counter() - t0)
    method = "direct" if complete else "restricted"
    if status not in (Status.OPTIMAL, Status.INACCURATE) or U.value is None:
        return ConvexSolution(
            float("nan") if prob.value is None else float(prob.value),
            None,
            None,
            status,
            method,
            np.zeros(X.shape[0]),
            solver=info,
            n_chambers=P.shape[0],
            message=f"solver status {prob.status}",
        )
    lam = y * np.maximum(np.asarray(margin.dual_value, dtype=float).reshape(-1), 0.0)
    neurons, msg = recover_network(U.value, Up.value, ids=np.arange(P.shape[0]))
    lb = ub = None
    s = None
    if bounds:
        ub, neurons = _network_ub(X, y, neurons)
        res, zp, zm = _slacks(X, lam, P, walls)
        s = res.value
        if complete:
            lb = lower_bound(X, y, lam, P, zp, zm)
    if status == Status.OPTIMAL and not complete:
        status = Status.RESTRICTED
    return ConvexSolution(
        float(prob.value),
        lb,
        ub,
        status,
        method,
        lam,
        neurons,
        info,
        n_chambers=P.shape[0],
        working_set=P.shape[0],
        s=s,
        message=msg,
        u=np.asarray(U.value, dtype=float),
        u_prime=np.asarray(Up.value, dtype=float),
    )


def solve_dual(
    X: Any, y: Any, patterns: Any, *, solver: str | SolverChoice | None = None
) -> ConvexSolution:
    """The dual SOCP (129) over the given patterns: ``max y^T lam`` s.t. ``diag(y) lam >= 0``,
    ``||+-X^T D_j lam + X^T (2D_j - I) z_j^+-|| <= 1``, ``z >= 0``.

    Returns a :class:`ConvexSolution` with ``method="dual"`` and no network.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
    >>> round(solve_dual(X, np.array([1.0, -1.0]), P).value, 7)
    2.0
    """
    X, y = _check_binary(X, y)
    P, complete = as_patterns(patterns, X.shape[0])
    N = X.shape[0]
    p = P.shape[0]
    choice = _choice(solver)
    lam = cp.Variable(N)
    Zp = cp.Variable((N, p), nonneg=True)
    Zm = cp.Variable((N, p), nonneg=True)
    S = np.where(P, 1.0, -1.0).T
    DL = cp.multiply(P.T.astype(float), cp.reshape(lam, (N, 1), order="F") @ np.ones((1, p)))
    cons = [
        cp.multiply(y, lam) >= 0,
        cp.norm(X.T @ (DL + cp.multiply(S, Zp)), 2, axis=0) <= 1,
        cp.norm(X.T @ (-DL + cp.multiply(S, Zm)), 2, axis=0) <= 1,
    ]
    prob = cp.Problem(cp.Maximize(y @ lam), cons)
    t0 = time.perf_counter()
    status = solve_problem(prob, choice)
    info = _solver_info(choice, time.perf_counter() - t0)
    if lam.value is None:
        return ConvexSolution(
            float("nan"),
            None,
            None,
            status,
            "dual",
            np.zeros(N),
            solver=info,
            n_chambers=p,
            message=f"solver status {prob.status}",
        )
    lv = project_lambda(y, lam.value)
    lb = lower_bound(X, y, lv, P, list(Zp.value.T), list(Zm.value.T)) if complete else None
    if status == Status.OPTIMAL and not complete:
        status = Status.RESTRICTED
    return ConvexSolution(float(prob.value), lb, None, status, "dual", lv, (), info, n_chambers=p)


# ----------------------------------------------------------------------------- closed form


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
        Decide orthogonal separability exactly first (:mod:`verify.separability`) and raise
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
        from verify.separability import orthogonal_separability

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


# ----------------------------------------------------------------------------- spike-free


def solve_spike_free(
    X: Any, y: Any, *, solver: str | SolverChoice | None = None, check: bool = True
) -> ConvexSolution:
    """Remark 1: for spike-free ``X`` the dual constraint is ``max_{Xz>=0, ||z||<=1}
    |lam^T X z| <= 1``, i.e. two conic constraints (Lemma 4 with the single cone ``Xz >= 0``).

    Its primal is ``min ||a|| + ||b||`` s.t. ``Xa >= 0``, ``Xb >= 0``, ``diag(y) X (a - b) >= 1``:
    the network is the two neurons ``a`` (output ``+``) and ``b`` (output ``-``), since
    ``(Xa)_+ = Xa``.  The lower bound uses ``s = max_+- ||X^T (+-lam + zeta_+-)||`` with NNLS
    ``zeta`` (exact); it is valid only for spike-free ``X``, which ``check=True`` decides
    exactly with :func:`verify.spikefree.spike_free` (``InputError`` if refuted; status
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
        from verify.spikefree import spike_free

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
        return ConvexSolution(
            float("nan"),
            None,
            None,
            status,
            "spike-free",
            np.zeros(X.shape[0]),
            solver=info,
            message=str(prob.status),
        )
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


# ----------------------------------------------------------------------------- column generation


def _initial_working_set(
    X: np.ndarray, y: np.ndarray, P: np.ndarray, *, iterations: int = 8
) -> list[int]:
    """Chambers of y-aligned candidate neurons (Theorem 1's fixed points u = +-X^T D(u) y)."""
    key = {row.tobytes(): j for j, row in enumerate(np.packbits(P, axis=1))}
    U = [X.T @ y, X.T @ np.maximum(y, 0), -X.T @ np.maximum(-y, 0)]
    for sgn in (1.0, -1.0):
        V = sgn * X.copy()  # start from every +-x_n, iterate u <- sgn X^T D(u) y to a spike
        for _ in range(iterations):
            D = (V @ X.T >= 0).astype(float)
            V = sgn * (D * y[None, :]) @ X
        U.extend(list(V))
    found: list[int] = []
    for u in U:
        j = key.get(np.packbits(X @ u >= 0).tobytes())
        if j is not None and j not in found:
            found.append(j)
    return found


def _tree_parents(P: np.ndarray) -> np.ndarray:
    """Parent of each pattern in a minimum spanning tree of the Hamming distances (Prim),
    rooted at the empty pattern (parent ``-1``)."""
    p = P.shape[0]
    Pf = P.astype(np.float64)
    cnt = Pf.sum(axis=1)
    H = cnt[:, None] + cnt[None, :] - 2.0 * (Pf @ Pf.T)  # Hamming distances (exact integers)
    best = cnt.copy()
    parent = np.full(p, -1, dtype=np.int64)
    done = np.zeros(p, dtype=bool)
    for _ in range(p):
        j = int(np.argmin(np.where(done, np.inf, best)))
        done[j] = True
        upd = (~done) & (H[j] < best)
        best[upd] = H[j][upd]
        parent[upd] = j
    return parent


def _solve_restricted(X: np.ndarray, y: np.ndarray, P: np.ndarray, walls: list[np.ndarray],
                      choice: SolverChoice) -> ConvexSolution:
    """The dual (129) over the patterns ``P`` with the facet rows ``walls``, written sparsely.

    ``q_j = X^T D_j lam`` is chained along a spanning tree of the patterns (Hamming MST):
    ``q_j - q_parent = X^T (D_j - D_parent) lam`` has only a few nonzeros per chamber, where
    the direct form has ``~N/2``.  The primal ``u'_j``, ``u_j`` are minus the vector parts of
    the multipliers of the two second-order cones of chamber ``j`` (checked in the tests by
    the margin and cone constraints of (14)).
    """
    N, d = X.shape
    p = P.shape[0]
    parent = _tree_parents(P)
    Ppar = np.where(parent[:, None] >= 0, P[np.maximum(parent, 0)], False)
    Delta = P.astype(np.int8) - Ppar.astype(np.int8)
    jj, nn = np.nonzero(Delta)
    K = scipy.sparse.csr_matrix(
        ((X[nn] * Delta[jj, nn][:, None]).ravel(),
         ((np.arange(d)[None, :] + d * jj[:, None]).ravel(), np.repeat(nn, d))),
        shape=(d * p, N))
    r1 = np.arange(d * p)
    jp, kk = np.repeat(np.arange(p), d), np.tile(np.arange(d), p)
    m = parent[jp] >= 0
    B = scipy.sparse.csr_matrix(
        (np.concatenate([np.ones(d * p), -np.ones(int(m.sum()))]),
         (np.concatenate([r1, r1[m]]), np.concatenate([r1, kk[m] + d * parent[jp[m]]]))),
        shape=(d * p, d * p))
    J = np.concatenate([np.full(len(w), j) for j, w in enumerate(walls)]).astype(np.int64)
    R = np.concatenate([np.asarray(w, dtype=np.int64) for w in walls])
    A = np.where(P[J, R], 1.0, -1.0)[:, None] * X[R]
    T = R.size
    Mw = scipy.sparse.csr_matrix(
        (A.ravel(), ((np.arange(d)[None, :] + d * J[:, None]).ravel(), np.repeat(np.arange(T), d))),
        shape=(d * p, T))
    lam, Q = cp.Variable(N), cp.Variable(d * p)
    Zp, Zm = cp.Variable(T, nonneg=True), cp.Variable(T, nonneg=True)
    socp = cp.SOC(np.ones(p), cp.reshape(Q + Mw @ Zp, (d, p), order="F"), axis=0)
    socm = cp.SOC(np.ones(p), cp.reshape(-Q + Mw @ Zm, (d, p), order="F"), axis=0)
    prob = cp.Problem(cp.Maximize(y @ lam),
                      [cp.multiply(y, lam) >= 0, B @ Q == K @ lam, socp, socm])
    t0 = time.perf_counter()
    status = solve_problem(prob, choice)
    info = _solver_info(choice, time.perf_counter() - t0)
    if prob.status in ("unbounded", "unbounded_inaccurate"):
        status = Status.INFEASIBLE  # the dual is unbounded: these patterns cannot separate
    if lam.value is None or socp.dual_value is None or status == Status.INFEASIBLE:
        if status in (Status.OPTIMAL, Status.INACCURATE):
            status = Status.UNKNOWN
        return ConvexSolution(float("nan"), None, None, status, "restricted", np.zeros(N),
                              solver=info, n_chambers=p, message=f"solver status {prob.status}")
    Up = -np.asarray(socp.dual_value[1], dtype=float)
    U = -np.asarray(socm.dual_value[1], dtype=float)
    neurons, msg = recover_network(U, Up, ids=np.arange(p))
    if status == Status.OPTIMAL:
        status = Status.RESTRICTED
    return ConvexSolution(float(prob.value), None, None, status, "restricted",
                          project_lambda(y, lam.value), neurons, info, n_chambers=p,
                          working_set=p, message=msg, u=U, u_prime=Up)


def column_generation(
    X: Any,
    y: Any,
    *,
    chambers: Any = None,
    solver: str | SolverChoice | None = None,
    tol: float = 1e-9,
    max_rounds: int = 100,
    per_round: int | None = None,
    limit: int | None = None,
) -> ConvexSolution:
    """Program (14) by column generation over the chambers, with the exact Lemma-4 oracle.

    Solve (14) over a working set of chambers (initially those of y-aligned candidate neurons),
    run :func:`verify.duality.oracle` over *all* chambers with the restricted problem's
    ``lam``, add the ``per_round`` most violated chambers (value > 1 + tol), repeat until none
    is violated.  The final ``lam`` is then dual feasible over all chambers up to ``s``, so the
    optimum is global; the rigorous bounds are computed over the full list.

    Speed: each restricted problem keeps only the facet rows of each cone
    (:func:`verify.duality.chamber_walls`) and is solved as the dual (129) with
    ``q_j = X^T D_j lam`` chained along a Hamming spanning tree of the working set (a few
    nonzeros per chamber instead of ``~N/2``); the first rounds use Clarabel tolerance
    ``LOOSE_TOL`` and the last ones the tight tolerances; chambers whose dual constraint is
    clearly slack are dropped from the working set (each at most once, so no cycling).
    Violations by chambers already in the working set are solver inaccuracy: they end the
    loop and show in ``s``, which the rigorous lower bound accounts for.

    Parameters
    ----------
    chambers : Chambers or bool array (p, N), optional
        The chamber list; default :func:`verify.arrangements.enumerate_chambers` (exact).
    tol : float
        A chamber is violated when its oracle value exceeds ``1 + tol``.
    max_rounds, per_round : int
        Round limit, and chambers added per round (default ``max(50, p // 10)``).
    limit : int, optional
        Passed to ``enumerate_chambers``.

    Examples
    --------
    >>> from verify.arrangements import enumerate_chambers
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((8, 2)), np.array([1.0, -1.0] * 4)
    >>> chambers = enumerate_chambers(X)
    >>> cg = column_generation(X, y, chambers=chambers)
    >>> direct = solve_primal(X, y, chambers)
    >>> abs(cg.value - direct.value) < 1e-6 * direct.value, cg.status
    (True, <Status.OPTIMAL: 'optimal'>)
    >>> cg.lower_bound <= direct.upper_bound and direct.lower_bound <= cg.upper_bound
    True
    """
    X, y = _check_binary(X, y)
    N = X.shape[0]
    if chambers is None:
        from verify.arrangements import enumerate_chambers

        chambers = enumerate_chambers(X, limit=limit)
    P, complete = as_patterns(chambers, N)
    p = P.shape[0]
    per_round = max(50, p // 10) if per_round is None else int(per_round)
    if per_round < 1 or max_rounds < 1:
        raise InputError("per_round and max_rounds must be positive integers")
    choice = _choice(solver)
    walls = chamber_walls(X, P)
    working = _initial_working_set(X, y, P)
    rng = np.random.default_rng(0)
    added: dict[int, int] = {}
    dropped: dict[int, int] = {}
    peak = len(working)
    converged = False
    loose = choice
    if choice.name == "CLARABEL":  # first rounds with looser tolerances (fewer iterations)
        opts = {k: (LOOSE_TOL if k.startswith("tol_") and k != "tol_ktratio" else v)
                for k, v in choice.options.items()}
        loose = SolverChoice(choice.name, opts, choice.reason)
    loose_phase = loose is not choice
    t_solve, rounds = 0.0, 0
    sol: ConvexSolution | None = None
    res = None
    while rounds < max_rounds:
        rounds += 1
        t0 = time.perf_counter()
        used = list(working)
        sol = _solve_restricted(X, y, P[working], [walls[j] for j in working],
                                loose if loose_phase else choice)
        t_solve += time.perf_counter() - t0
        if sol.status == Status.INFEASIBLE:
            rest = np.setdiff1d(np.arange(p), working)
            if rest.size == 0:
                break
            working += [
                int(j) for j in rng.choice(rest, min(rest.size, 4 * per_round), replace=False)
            ]
            continue
        if sol.status not in (Status.RESTRICTED, Status.INACCURATE):
            break
        thr = 1.0 + (max(tol, LOOSE_TOL * 10) if loose_phase else tol)
        res = oracle(X, sol.lam, P, threshold=thr, top=per_round, walls=walls)
        best = res.values.max(axis=1)
        order = [int(j) for j in np.argsort(-best, kind="stable") if best[j] > thr]
        inset = set(working)
        new = [j for j in order if j not in inset][:per_round]
        if not new and loose_phase:  # switch to the tight tolerances and re-check
            loose_phase = False
            continue
        if not new:  # violations inside the working set are solver inaccuracy (see s)
            converged = True
            break
        # drop chambers whose dual constraints are clearly slack (upper bound < 1 - 1e-3, so
        # u_j = u'_j = 0 by complementary slackness), unless new or dropped before (no cycling)
        keep = [
            j
            for j in working
            if best[j] >= 1.0 - 1e-3 or added.get(j, 0) >= rounds or dropped.get(j, 0) >= 1
        ]
        for j in set(working) - set(keep):
            dropped[j] = dropped.get(j, 0) + 1
        working = keep + new
        added.update({j: rounds for j in new})
        peak = max(peak, len(working))
    assert sol is not None
    info = {**_solver_info(choice, t_solve), "peak_working_set": peak}
    working = used
    if sol.status not in (Status.RESTRICTED, Status.INACCURATE) or res is None:
        return ConvexSolution(
            sol.value,
            None,
            None,
            sol.status,
            "column-generation",
            sol.lam,
            (),
            info,
            rounds,
            len(working),
            p,
            None,
            sol.message,
        )
    ids = np.asarray(working)
    neurons = tuple(Neuron(n.sign, n.direction, n.norm, int(ids[n.pattern])) for n in sol.neurons)
    ub, neurons = _network_ub(X, y, neurons)
    res, zp, zm = _slacks(X, sol.lam, P, walls)
    lb = lower_bound(X, y, sol.lam, P, zp, zm) if complete else None
    status = sol.status
    msg = [sol.message] if sol.message else []
    if status == Status.RESTRICTED:
        status = Status.OPTIMAL if (converged and complete) else Status.RESTRICTED
    if not converged:
        msg.append(
            f"not converged after {rounds} rounds: chambers outside the working set"
            f" are still violated (s = {res.value:.3g})"
        )
    if not complete:
        msg.append("chamber list not proven complete: no lower bound")
    return ConvexSolution(
        sol.value,
        lb,
        ub,
        status,
        "column-generation",
        sol.lam,
        neurons,
        info,
        rounds,
        len(working),
        p,
        res.value,
        "; ".join(msg),
    )
