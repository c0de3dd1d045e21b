"""The convex max-margin program (14), its dual (129), the solution type and network recovery.

Routes to ``P*`` for binary data ``(X, y)``:

* ``solve_primal`` -- program (14) over a given pattern list in one CVXPY problem ("direct"
  when the list is a complete chamber list, else "restricted");
* ``solve_dual`` -- the SOCP (129) over a pattern list;
* ``column_generation`` (:mod:`verify.convex.column_generation`) -- (14) over a growing working set
of
  chambers, the exact Lemma-4 oracle over *all* chambers deciding when to stop;
* ``solve_orthogonally_separable`` (:mod:`verify.convex.closed_form`) -- the closed form
  ``P* = ||w_+|| + ||w_-||`` (two small conic problems, no enumeration; proof in
  ``docs/closed_form.md``);
* ``solve_spike_free`` (:mod:`verify.convex.closed_form`) -- Remark 1: two conic constraints, no
  enumeration.

The routes of :mod:`verify.convex.column_generation` and :mod:`verify.convex.closed_form` build on
this module and are
re-exported here (imported on first use), as are :func:`verify.convex.bounds.lower_bound` and
:func:`verify.convex.bounds.upper_bound`.

Every route returns a :class:`ConvexSolution` with rigorous rational bounds
``lower_bound <= P* <= upper_bound`` where the evidence allows (see
:func:`verify.convex.bounds.lower_bound` and :func:`verify.convex.bounds.upper_bound`).

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> P = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
>>> sol = solve_primal(X, np.array([1.0, -1.0]), P, complete=True)
>>> sol.status, round(sol.value, 7), float(sol.lower_bound) <= 2.0 <= float(sol.upper_bound)
(<Status.OPTIMAL: 'optimal'>, 2.0, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse

from verify.checker.arithmetic import format_rational
from verify.convex.bounds import _check_binary, lower_bound, project_lambda, upper_bound
from verify.convex.chamber_oracle import as_patterns, oracle
from verify.convex.solvers import SolverChoice, choose_solver, cp, solve_problem
from verify.errors import InputError
from verify.status import Status

__all__ = [
    "Neuron",
    "ConvexSolution",
    "solve_primal",
    "solve_dual",
    "recover_network",
    "polish",
]


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
    evidence : object or None
        The route's exact evidence for ``lam`` when it has its own (the branch-and-bound
        route: a :class:`~verify.convex.branch_and_bound_evidence.BabEvidence`).
    ray : ndarray or None
        An infeasible restricted program's certificate (a ray of the unbounded dual (129),
        ``y^T ray > 0``) when the solver gives one (the native Clarabel path); column
        generation prices on it.  Not in :meth:`to_dict`.
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
    evidence: Any = field(default=None, repr=False, compare=False)
    ray: np.ndarray | None = field(default=None, repr=False, compare=False)

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


def _failed(
    status: Status,
    method: str,
    N: int,
    info: dict[str, Any],
    message: str,
    *,
    value: float = float("nan"),
    n_chambers: int = 0,
) -> ConvexSolution:
    """A solve without a usable answer: no bounds, no network, ``lam = 0``."""
    return ConvexSolution(
        value,
        None,
        None,
        status,
        method,
        np.zeros(N),
        solver=info,
        n_chambers=n_chambers,
        message=message,
    )


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


def _slacks(X: np.ndarray, lam: np.ndarray, P: np.ndarray, walls: list[np.ndarray] | None = None,
            executor: Any = None):
    """Oracle over ``P`` with the slack multipliers as two sparse ``(p, N)`` matrices."""
    res = oracle(X, lam, P, keep_slack="sparse", walls=walls, executor=executor)
    zp, zm = res.slack[1], res.slack[-1]
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
        See :func:`verify.convex.solvers.choose_solver`.
    complete : bool, optional
        Override: the caller asserts the list is (not) complete.
    bounds : bool
        Compute the rigorous bounds (the lower bound only for complete lists).
    walls : list of int arrays, optional
        Facet rows of each cone (:func:`verify.convex.chamber_oracle.chamber_walls`): only these
        cone
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
        return _failed(
            status,
            method,
            X.shape[0],
            info,
            f"solver status {prob.status}",
            value=float("nan") if prob.value is None else float(prob.value),
            n_chambers=P.shape[0],
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
        return _failed(status, "dual", N, info, f"solver status {prob.status}", n_chambers=p)
    lv = project_lambda(y, lam.value)
    lb = lower_bound(X, y, lv, P, list(Zp.value.T), list(Zm.value.T)) if complete else None
    if status == Status.OPTIMAL and not complete:
        status = Status.RESTRICTED
    return ConvexSolution(float(prob.value), lb, None, status, "dual", lv, (), info, n_chambers=p)
