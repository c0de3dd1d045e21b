"""The restricted dual (129) built directly in Clarabel's native API (no CVXPY).

Column generation solves the restricted program over a working set of patterns many times
(every round, and again for every batch of lazy wall rows).  Through CVXPY each solve pays for
the canonicalisation of the expression tree, which on the branch-and-bound route dominated the
solve itself; here the same conic program is assembled once as ``scipy.sparse`` CSC matrices and
handed to :class:`clarabel.DefaultSolver`.  The program is *identical* to the CVXPY one of
:func:`verify.convex.column_generation._solve_restricted` (same variables, same cones, same
tolerances; the tests compare the two on many data sets, degenerate ones included):

    maximise   y^T lam
    subject to diag(y) lam >= 0,   B q = K lam   (q_j = X^T D_j lam chained along a tree),
               || q_j + A_j^T zp_j || <= 1,  || -q_j + A_j^T zm_j || <= 1,  zp, zm >= 0,

with the variables ``x = (lam, q, zp, zm)`` and Clarabel's form ``min q^T x`` s.t.
``A x + s = b``, ``s`` in (zero cone, nonnegative cone, ``2p`` second-order cones).  The
primal network of (14) is read from the multipliers of the second-order cones: ``u'_j`` from
the ``+`` cone of pattern ``j``, ``u_j`` from the ``-`` cone (the tests check (14)'s margin
and cone constraints on the recovered ``u, u'``).

Status mapping (as :func:`verify.convex.solvers.solve_problem` does through CVXPY): ``Solved``
-> optimal, ``AlmostSolved`` -> retried once with 10x looser tolerances, then inaccurate;
``DualInfeasible`` (the dual (129) is unbounded: these patterns cannot separate the data) ->
infeasible; ``PrimalInfeasible`` (never expected: ``lam = 0`` is feasible) -> infeasible;
iteration or time limits -> unknown; a numerical failure is retried once with Clarabel's
default tolerances, and a second failure raises :class:`verify.errors.SolverError`.

Examples
--------
>>> import numpy as np
>>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
>>> P = np.array([[True, False], [False, True]])
>>> walls = [np.array([0, 1]), np.array([0, 1])]
>>> res = solve_restricted_clarabel(X, y, P, walls)
>>> res.status.value, round(res.value, 7), res.lam.round(7).tolist()
('optimal', 2.0, [1.0, -1.0])
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from verify.status import Status

__all__ = ["RestrictedData", "restricted_data", "NativeResult", "solve_restricted_clarabel"]


@dataclass(frozen=True)
class RestrictedData:
    """The sparse data of the restricted dual (129) over ``p`` patterns with ``T`` wall rows.

    ``K`` (``dp x N``) and ``B`` (``dp x dp``): the chained equality ``B q = K lam``; ``Mw``
    (``dp x T``): the wall rows ``sigma_n x_n`` of every pattern's cone, placed in its block.
    """

    K: sp.csr_matrix
    B: sp.csr_matrix
    Mw: sp.csr_matrix
    p: int
    T: int


def restricted_data(X: np.ndarray, P: np.ndarray, walls: list[np.ndarray],
                    parent: np.ndarray) -> RestrictedData:
    """Build the matrices of (129) for the patterns ``P`` (bool ``(p, N)``), their wall rows
    and the spanning tree ``parent`` (``-1`` = the empty pattern).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> D = restricted_data(X, np.array([[True, False]]), [np.array([0, 1])], np.array([-1]))
    >>> D.K.toarray().tolist(), D.Mw.toarray().tolist()
    ([[1.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, -1.0]])
    """
    N, d = X.shape
    p = P.shape[0]
    Ppar = np.where(parent[:, None] >= 0, P[np.maximum(parent, 0)], False)
    Delta = P.astype(np.int8) - Ppar.astype(np.int8)
    jj, nn = np.nonzero(Delta)
    K = sp.csr_matrix(
        ((X[nn] * Delta[jj, nn][:, None]).ravel(),
         ((np.arange(d)[None, :] + d * jj[:, None]).ravel(), np.repeat(nn, d))),
        shape=(d * p, N))
    r1 = np.arange(d * p)
    jp, kk = np.repeat(np.arange(p), d), np.tile(np.arange(d), p)
    m = parent[jp] >= 0
    B = sp.csr_matrix(
        (np.concatenate([np.ones(d * p), -np.ones(int(m.sum()))]),
         (np.concatenate([r1, r1[m]]), np.concatenate([r1, kk[m] + d * parent[jp[m]]]))),
        shape=(d * p, d * p))
    if walls:
        J = np.concatenate([np.full(len(w), j) for j, w in enumerate(walls)]).astype(np.int64)
        R = np.concatenate([np.asarray(w, dtype=np.int64) for w in walls])
    else:
        J = R = np.zeros(0, dtype=np.int64)
    A = np.where(P[J, R], 1.0, -1.0)[:, None] * X[R]
    T = R.size
    Mw = sp.csr_matrix(
        (A.ravel(), ((np.arange(d)[None, :] + d * J[:, None]).ravel(),
                     np.repeat(np.arange(T), d))),
        shape=(d * p, T))
    return RestrictedData(K, B, Mw, p, T)


@dataclass(frozen=True)
class NativeResult:
    """Answer of :func:`solve_restricted_clarabel`.

    ``value`` = ``y^T lam`` (the solver's objective), ``lam`` (raw, not projected), ``U`` and
    ``Up``: the convex variables ``u_j``, ``u'_j`` as columns ``(d, p)`` (``None`` without a
    solution); ``raw``: Clarabel's status string; ``seconds``: build + solve time; ``ray``:
    when the dual (129) is unbounded (status infeasible), the ``lam`` part of Clarabel's
    certificate -- a direction with ``y^T ray > 0``, ``diag(y) ray >= 0`` (up to the
    solver's tolerance) and ``ray^T D_j X u <= 0`` on every cone of the program: pricing on it
    finds the patterns the restricted program lacks.
    """

    status: Status
    value: float
    lam: np.ndarray | None
    U: np.ndarray | None
    Up: np.ndarray | None
    raw: str
    seconds: float
    ray: np.ndarray | None = None


#: Clarabel's sparse LDL: ``qdldl`` (single-threaded) was 3-10x faster than the ``faer`` that
#: Clarabel's ``auto`` picks for the larger restricted programs (many wall rows: 2.7 s vs 27 s
#: on a breast-cancer working set of 20 patterns, 3,600 walls, on this 2-core machine).
_DIRECT_METHOD = "qdldl"


def _settings(options: dict[str, Any]) -> Any:
    import clarabel

    s = clarabel.DefaultSettings()
    s.verbose = False
    s.direct_solve_method = _DIRECT_METHOD
    for k, v in options.items():
        setattr(s, k, v)
    return s


def _full(v: np.ndarray, samples: np.ndarray | None, N: int) -> np.ndarray:
    if samples is None:
        return v.copy()
    out = np.zeros(N)
    out[samples] = v
    return out


def _program(y: np.ndarray, D: RestrictedData, d: int) -> tuple[Any, ...]:
    """Clarabel's ``(P, q, A, b, cones)`` of (129) for the data ``D`` (``lam`` of ``y``'s
    length)."""
    import clarabel

    N = y.size
    p, T = D.p, D.T
    dp = d * p
    n = N + dp + 2 * T
    # x = (lam, q, zp, zm); s = b - A x
    Z1 = sp.csr_matrix((dp, T))
    zero_rows = sp.hstack([-D.K, D.B, Z1, Z1])  # B q - K lam = 0
    nn_rows = sp.block_diag([-sp.diags(y), -sp.identity(2 * T)], format="csr")
    nn_rows = sp.hstack([nn_rows[:, :N], sp.csr_matrix((N + 2 * T, dp)), nn_rows[:, N:]])
    # second-order cones: (1, q_j + Mw_j zp) and (1, -q_j + Mw_j zm); vector rows j(d+1)+1+k
    rows = (np.arange(p)[:, None] * (d + 1) + 1 + np.arange(d)[None, :]).ravel()
    E = sp.csr_matrix((np.ones(dp), (rows, np.arange(dp))), shape=(p * (d + 1), dp))
    Idp = sp.identity(dp, format="csr")
    Zlam = sp.csr_matrix((dp, N))
    plus = -(E @ sp.hstack([Zlam, Idp, D.Mw, Z1]))
    minus = -(E @ sp.hstack([Zlam, -Idp, Z1, D.Mw]))
    A = sp.vstack([zero_rows, nn_rows, plus, minus], format="csc")
    bsoc = np.zeros(p * (d + 1))
    bsoc[:: d + 1] = 1.0
    b = np.concatenate([np.zeros(dp + N + 2 * T), bsoc, bsoc])
    q = np.concatenate([-y, np.zeros(dp + 2 * T)])
    Pm = sp.csc_matrix((n, n))
    cones = [clarabel.ZeroConeT(dp), clarabel.NonnegativeConeT(N + 2 * T)]
    cones += [clarabel.SecondOrderConeT(d + 1)] * (2 * p)
    return Pm, q, A, b, cones


def _run(prog: tuple[Any, ...], options: dict[str, Any]) -> Any:
    import clarabel

    Pm, q, A, b, cones = prog
    with np.errstate(all="ignore"):
        return clarabel.DefaultSolver(Pm, q, A, b, cones, _settings(options)).solve()


_FAILED = ("NumericalError", "InsufficientProgress", "Unsolved")


def solve_restricted_clarabel(
    X: np.ndarray, y: np.ndarray, P: np.ndarray, walls: list[np.ndarray],
    options: dict[str, Any] | None = None, *, parent: np.ndarray | None = None,
    samples: np.ndarray | None = None,
) -> NativeResult:
    """Solve the restricted dual (129) over ``P`` with the wall rows ``walls`` in Clarabel.

    Parameters
    ----------
    X, y : arrays (N, d), (N,)
    P : bool array (p, N), p >= 1
        The patterns.
    walls : list of int arrays
        The cone rows of each pattern (indices into ``X``).
    options : dict, optional
        Clarabel settings (default :data:`verify.convex.solvers.CLARABEL_OPTIONS`).
    parent : int array (p,), optional
        The spanning tree chaining ``q_j`` (default: none, every ``q_j = X^T D_j lam``
        directly; column generation passes the Hamming tree of
        :func:`verify.convex.column_generation._tree_parents`, which keeps ``K`` sparse).
    samples : int array, optional
        Only these ``lam_n`` are variables (the others are 0): the margin constraints of the
        other samples are left out of (14) (lazy margin rows; the caller adds the samples
        whose margin the solution violates).  ``lam``, ``ray`` keep all ``N`` entries.

    Returns
    -------
    NativeResult
    """
    from verify.convex.solvers import CLARABEL_OPTIONS, solver_failure

    if options is None:
        options = CLARABEL_OPTIONS
    t0 = time.perf_counter()
    N, d = X.shape
    if parent is None:
        parent = np.full(P.shape[0], -1, dtype=np.int64)
    D = restricted_data(X, P, walls, parent)
    ys = y
    if samples is not None:
        samples = np.asarray(samples, dtype=np.int64)
        D = RestrictedData(D.K[:, samples], D.B, D.Mw, D.p, D.T)
        ys = y[samples]
    prog = _program(ys, D, d)
    sol = _run(prog, options)
    raw = str(sol.status)
    if raw in _FAILED:
        if not options:
            raise solver_failure("CLARABEL", raw)
        warnings.warn(f"CLARABEL failed with tight tolerances ({raw}); retrying with its "
                      "default tolerances", RuntimeWarning, stacklevel=2)
        sol = _run(prog, {})
        raw = str(sol.status)
        if raw in _FAILED:
            raise solver_failure("CLARABEL", raw)
    if raw == "AlmostSolved" and options:
        looser = {k: (v * 10 if k.startswith("tol_") and k != "tol_ktratio" else v)
                  for k, v in options.items()}
        sol2 = _run(prog, looser)
        if str(sol2.status) not in _FAILED:
            sol, raw = sol2, str(sol2.status)
    seconds = time.perf_counter() - t0
    status = {"Solved": Status.OPTIMAL, "AlmostSolved": Status.INACCURATE,
              "DualInfeasible": Status.INFEASIBLE, "AlmostDualInfeasible": Status.INFEASIBLE,
              "PrimalInfeasible": Status.INFEASIBLE,
              }.get(raw, Status.UNKNOWN)
    if status not in (Status.OPTIMAL, Status.INACCURATE):
        ray = None
        if raw in ("DualInfeasible", "AlmostDualInfeasible") and sol.x is not None:
            ray = _full(np.asarray(sol.x)[:ys.size], samples, N)
            ray = ray if np.all(np.isfinite(ray)) and float(y @ ray) > 0 else None
        return NativeResult(status, float("nan"), None, None, None, raw, seconds, ray)
    x, z = np.asarray(sol.x), np.asarray(sol.z)
    Ns = ys.size
    lam = _full(x[:Ns], samples, N)
    off = d * D.p + Ns + 2 * D.T
    Zs = z[off:].reshape(2, D.p, d + 1)
    # the + cone's multiplier vector is -u'_j, the - cone's is -u_j (as CVXPY reports them)
    Up = -Zs[0, :, 1:].T.copy()
    U = -Zs[1, :, 1:].T.copy()
    return NativeResult(status, -float(sol.obj_val), lam, U, Up, raw, seconds)
