"""Program (14) by column generation over the chambers, with the exact Lemma-4 oracle.

:func:`column_generation` solves (14) over a working set of chambers, asks
:func:`verify.convex.chamber_oracle.oracle` about *all* chambers with the restricted problem's
``lam`` and
adds the most violated ones until none is.  The pieces:

* :func:`_initial_working_set` -- chambers of y-aligned candidate neurons (Theorem 1); on an
  incomplete (sampled) list their patterns, and any ``seeds`` (e.g. a trained network's), join
  the list, and :func:`_spanning_set` adds chambers until the restricted program is feasible;
* :func:`_solve_restricted` -- the restricted dual (129) over the facet rows of each cone
  (:func:`verify.convex.chamber_oracle.chamber_walls`), with ``q_j = X^T D_j lam`` chained along a
  Hamming
  spanning tree of the working set (:func:`_tree_parents`); the primal variables are read
  from the cone multipliers;
* working-set management in :func:`column_generation`: loose solver tolerances first, at most
  ``2N + 2`` chambers added a round (Caratheodory: an optimum needs at most ``N + 1``), slack
  chambers dropped (each at most once), and the previous round's oracle values passed on as
  ``prior`` bounds so the oracle skips chambers that cannot have become violated.

Scale: ~10^6 chambers (rank-4 Gaussian data, N=146) run in bounded memory (~1.5 GB) -- the
oracle and the certified norm work in row blocks, the slack multipliers are sparse matrices.

The result is a :class:`verify.convex.programs.ConvexSolution` with rigorous bounds over the full
chamber list (:mod:`verify.convex.bounds`); :mod:`verify.convex.programs` re-exports
:func:`column_generation`.

Examples
--------
>>> import numpy as np
>>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
>>> sol = column_generation(X, y)
>>> sol.status, round(sol.value, 7), sol.lower_bound <= 2 <= sol.upper_bound
(<Status.OPTIMAL: 'optimal'>, 2.0, True)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from verify.convex.bounds import _check_binary, lower_bound, project_lambda
from verify.convex.chamber_oracle import as_patterns, chamber_walls, oracle
from verify.convex.programs import (
    ConvexSolution,
    Neuron,
    _choice,
    _failed,
    _network_ub,
    _slacks,
    _solver_info,
    recover_network,
)
from verify.convex.restricted_native import restricted_data, solve_restricted_clarabel
from verify.convex.solvers import SolverChoice, cp, solve_problem
from verify.errors import InputError, SolverError
from verify.progress import progress
from verify.status import Status

__all__ = ["column_generation", "LOOSE_TOL", "SAMPLED_ROUNDS"]

#: Clarabel tolerance of the first column-generation rounds (the last ones use the tight ones).
LOOSE_TOL = 1e-7
#: Default round budget on an incomplete (sampled) chamber list: every cone there keeps all N
#: rows, so rounds are expensive, and the answer is ``restricted`` (no claim about P*) anyway.
SAMPLED_ROUNDS = 12
#: Candidate-neuron patterns in the first working set on an incomplete list (seeds: all).
_SAMPLED_START = 20


def candidate_neurons(X: np.ndarray, y: np.ndarray, *, iterations: int = 8) -> np.ndarray:
    """Directions of y-aligned candidate neurons, shape ``(k, d)``: ``X^T y``, its positive and
    negative parts, and Theorem 1's fixed points ``u = +-X^T D(u) y`` iterated from every
    ``+-x_n`` (in order of discovery, with repeats).

    Examples
    --------
    >>> candidate_neurons(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])).shape
    (7, 2)
    """
    U = [X.T @ y, X.T @ np.maximum(y, 0), -X.T @ np.maximum(-y, 0)]
    for sgn in (1.0, -1.0):
        V = sgn * X.copy()  # start from every +-x_n, iterate u <- sgn X^T D(u) y to a spike
        for _ in range(iterations):
            D = (V @ X.T >= 0).astype(float)
            V = sgn * (D * y[None, :]) @ X
        U.extend(list(V))
    return np.array(U)


def _candidate_patterns(X: np.ndarray, y: np.ndarray, *, iterations: int = 8) -> np.ndarray:
    """Patterns ``1[X u >= 0]`` of :func:`candidate_neurons`, shape ``(k, N)``."""
    return candidate_neurons(X, y, iterations=iterations) @ X.T >= 0


def _lookup(P: np.ndarray, Q: np.ndarray) -> list[int]:
    """Indices in ``P`` of the rows of ``Q`` that are rows of ``P`` (first occurrences, in
    order of ``Q``, without repeats)."""
    key = {row.tobytes(): j for j, row in enumerate(np.packbits(P, axis=1))}
    found: list[int] = []
    for row in np.packbits(Q, axis=1):
        j = key.get(row.tobytes())
        if j is not None and j not in found:
            found.append(j)
    return found


def _initial_working_set(
    X: np.ndarray, y: np.ndarray, P: np.ndarray, *, iterations: int = 8
) -> list[int]:
    """Chambers of y-aligned candidate neurons (Theorem 1's fixed points u = +-X^T D(u) y)."""
    return _lookup(P, _candidate_patterns(X, y, iterations=iterations))


def _with_patterns(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``P`` followed by the rows of ``Q`` that are not rows of ``P`` (first occurrences)."""
    if not len(Q):
        return P
    seen = {row.tobytes() for row in np.packbits(P, axis=1)}
    extra = []
    for q, row in zip(Q, np.packbits(Q, axis=1)):
        if row.tobytes() not in seen:
            seen.add(row.tobytes())
            extra.append(q)
    return np.vstack([P] + [np.array(extra, dtype=bool)]) if extra else P


def _separates(X: np.ndarray, y: np.ndarray, P: np.ndarray, chosen: list[int]) -> bool:
    """Whether some ``v_j`` give ``y_n (sum_j D_j X v_j)_n >= 1`` for every ``n`` (an LP).

    On chambers (full-dimensional cones) ``u_j - u'_j`` ranges over all of ``R^d``, so this is
    the feasibility of the restricted program (14) over ``chosen``.
    """
    from scipy.optimize import linprog

    if not chosen:
        return False
    N, d = X.shape
    M = np.hstack([X * P[j][:, None] for j in chosen])  # N x (d k)
    res = linprog(np.zeros(M.shape[1]), A_ub=-(y[:, None] * M), b_ub=-np.ones(N),
                  bounds=(None, None), method="highs")
    return res.status == 0


def _spanning_set(
    X: np.ndarray, y: np.ndarray, P: np.ndarray, start: list[int], rng: np.random.Generator,
    *, patience: int = 500,
) -> list[int]:
    """``start`` plus chambers of ``P`` until the restricted program over them is feasible.

    Chambers are taken in random order when they enlarge the span of the columns of the
    ``D_j X`` (on a chamber the cone is full-dimensional, so ``u_j - u'_j`` ranges over all of
    ``R^d`` and the outputs ``sum_j D_j X (u_j - u'_j)`` over that span; once it is ``R^N``
    every margin is reachable); the LP :func:`_separates` stops the growth as soon as the
    margins ``y_n f_n >= 1`` are reachable -- or after ``patience`` chambers in a row add
    nothing to the span (or ``P`` is used up).
    """
    N = X.shape[0]
    Q = np.zeros((N, 0))
    chosen: list[int] = []

    def grow(j: int) -> bool:
        nonlocal Q
        C = X * P[j][:, None]
        R = C - Q @ (Q.T @ C)
        R -= Q @ (Q.T @ R)  # twice is enough: Q stays orthonormal
        Ur, sv, _ = np.linalg.svd(R, full_matrices=False)
        k = int(np.sum(sv > 1e-8 * max(1.0, float(np.linalg.norm(C)))))
        if k and Q.shape[1] < N:
            Q = np.hstack([Q, Ur[:, :k]])[:, :N]
        return k > 0

    for j in start:
        grow(j)
        chosen.append(j)
    if _separates(X, y, P, chosen):
        return chosen
    misses, since = 0, 0
    inset = set(chosen)
    for j in rng.permutation(P.shape[0]).tolist():
        if misses >= patience:
            break
        if j in inset:
            continue
        if grow(j):
            chosen.append(j)
            inset.add(j)
            misses, since = 0, since + 1
            if since >= max(1, len(chosen) // 8) and _separates(X, y, P, chosen):
                return chosen  # checked every ~len/8 additions: O(log) LPs in all
            if since >= max(1, len(chosen) // 8):
                since = 0
        else:
            misses += 1
    return chosen


#: Largest working set for the exact (dense, ``p x p``) minimum spanning tree.
_MST_DENSE_MAX = 3000


def _tree_parents(P: np.ndarray, *, window: int = 64) -> np.ndarray:
    """Parent of each pattern in a spanning tree of small Hamming distances, rooted at the
    empty pattern (parent ``-1``).

    Up to :data:`_MST_DENSE_MAX` patterns: the minimum spanning tree (Prim, dense distances).
    Beyond that the dense ``p x p`` matrix would not fit in memory: patterns are sorted
    lexicographically and each takes the nearest of the ``window`` patterns before it (or the
    root), which is still a tree (parents come first) with short edges.  Any spanning tree gives
    the same program; short edges only keep it sparse.
    """
    p = P.shape[0]
    Pf = P.astype(np.float64)
    cnt = Pf.sum(axis=1)
    if p > _MST_DENSE_MAX:
        order = np.lexsort(P.T[::-1])
        parent = np.full(p, -1, dtype=np.int64)
        for pos in range(1, p):
            j = order[pos]
            prev = order[max(0, pos - window):pos]
            dist = cnt[prev] + cnt[j] - 2.0 * (Pf[prev] @ Pf[j])
            k = int(np.argmin(dist))
            if dist[k] < cnt[j]:
                parent[j] = prev[k]
        return parent
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
                      choice: SolverChoice, *, native: bool | None = None,
                      samples: np.ndarray | None = None) -> ConvexSolution:
    """The dual (129) over the patterns ``P`` with the facet rows ``walls``, written sparsely.

    ``q_j = X^T D_j lam`` is chained along a spanning tree of the patterns (Hamming MST):
    ``q_j - q_parent = X^T (D_j - D_parent) lam`` has only a few nonzeros per chamber, where
    the direct form has ``~N/2``.  The primal ``u'_j``, ``u_j`` are minus the vector parts of
    the multipliers of the two second-order cones of chamber ``j`` (checked in the tests by
    the margin and cone constraints of (14)).

    ``native`` (default: whenever the solver is Clarabel) builds the same program directly in
    Clarabel's API (:mod:`verify.convex.restricted_native`, no CVXPY canonicalisation);
    ``native=False`` goes through CVXPY with any solver.  ``samples`` (indices): only their
    ``lam_n`` are variables, the other margin constraints are left out (lazy margin rows;
    ``lam`` keeps all ``N`` entries, zero outside).
    """
    N, d = X.shape
    p = P.shape[0]
    if p == 0:  # no pattern: nothing to build a network from (callers never ask for this)
        return _failed(Status.INFEASIBLE, "restricted", N, _solver_info(choice, 0.0),
                       "no activation pattern to build the restricted program from",
                       n_chambers=0)
    parent = _tree_parents(P)
    if native is None:
        native = choice.name == "CLARABEL"
    if native:
        try:
            return _solve_restricted_native(X, y, P, walls, choice, parent, samples)
        except SolverError:
            pass  # e.g. Clarabel's NumericalError on the native scaling: CVXPY's form next
    D = restricted_data(X, P, walls, parent)
    K, B, Mw, T = D.K, D.B, D.Mw, D.T
    ys = y
    if samples is not None:
        samples = np.asarray(samples, dtype=np.int64)
        K, ys = K[:, samples], y[samples]
    lam, Q = cp.Variable(ys.size), cp.Variable(d * p)
    Zp, Zm = cp.Variable(T, nonneg=True), cp.Variable(T, nonneg=True)
    socp = cp.SOC(np.ones(p), cp.reshape(Q + Mw @ Zp, (d, p), order="F"), axis=0)
    socm = cp.SOC(np.ones(p), cp.reshape(-Q + Mw @ Zm, (d, p), order="F"), axis=0)
    prob = cp.Problem(cp.Maximize(ys @ lam),
                      [cp.multiply(ys, lam) >= 0, B @ Q == K @ lam, socp, socm])
    t0 = time.perf_counter()
    status = solve_problem(prob, choice)
    info = _solver_info(choice, time.perf_counter() - t0)
    if prob.status in ("unbounded", "unbounded_inaccurate"):
        status = Status.INFEASIBLE  # the dual is unbounded: these patterns cannot separate
    if lam.value is None or socp.dual_value is None or status == Status.INFEASIBLE:
        if status in (Status.OPTIMAL, Status.INACCURATE):
            status = Status.UNKNOWN
        return _failed(status, "restricted", N, info, f"solver status {prob.status}", n_chambers=p)
    Up = -np.asarray(socp.dual_value[1], dtype=float)
    U = -np.asarray(socm.dual_value[1], dtype=float)
    neurons, msg = recover_network(U, Up, ids=np.arange(p))
    if status == Status.OPTIMAL:
        status = Status.RESTRICTED
    lam_full = np.asarray(lam.value, dtype=float)
    if samples is not None:
        lam_full = np.zeros(N)
        lam_full[samples] = lam.value
    return ConvexSolution(float(prob.value), None, None, status, "restricted",
                          project_lambda(y, lam_full), neurons, info, n_chambers=p,
                          working_set=p, message=msg, u=U, u_prime=Up)


def _solve_restricted_native(X: np.ndarray, y: np.ndarray, P: np.ndarray,
                             walls: list[np.ndarray], choice: SolverChoice,
                             parent: np.ndarray,
                             samples: np.ndarray | None = None) -> ConvexSolution:
    """:func:`_solve_restricted` through :func:`verify.convex.restricted_native.
    solve_restricted_clarabel` (same program, same answer types)."""
    N = X.shape[0]
    p = P.shape[0]
    res = solve_restricted_clarabel(X, y, P, walls, choice.options, parent=parent,
                                    samples=samples)
    info = _solver_info(choice, res.seconds)
    if res.lam is None:
        out = _failed(res.status, "restricted", N, info, f"solver status {res.raw}",
                      n_chambers=p)
        return out if res.ray is None else dataclasses.replace(out, ray=res.ray)
    neurons, msg = recover_network(res.U, res.Up, ids=np.arange(p))
    status = Status.RESTRICTED if res.status == Status.OPTIMAL else res.status
    return ConvexSolution(res.value, None, None, status, "restricted",
                          project_lambda(y, res.lam), neurons, info, n_chambers=p,
                          working_set=p, message=msg, u=res.U, u_prime=res.Up)


def column_generation(
    X: Any,
    y: Any,
    *,
    chambers: Any = None,
    solver: str | SolverChoice | None = None,
    tol: float = 1e-9,
    max_rounds: int | None = None,
    per_round: int | None = None,
    limit: int | None = None,
    executor: Any = None,
    seeds: Any = None,
    budget: float | None = None,
) -> ConvexSolution:
    """Program (14) by column generation over the chambers, with the exact Lemma-4 oracle.

    Solve (14) over a working set of chambers (initially those of y-aligned candidate neurons),
    run :func:`verify.convex.chamber_oracle.oracle` over *all* chambers with the restricted
    problem's
    ``lam``, add the ``per_round`` most violated chambers (value > 1 + tol), repeat until none
    is violated.  The final ``lam`` is then dual feasible over all chambers up to ``s``, so the
    optimum is global; the rigorous bounds are computed over the full list.

    Speed: each restricted problem keeps only the facet rows of each cone
    (:func:`verify.convex.chamber_oracle.chamber_walls`) and is solved as the dual (129) with
    ``q_j = X^T D_j lam`` chained along a Hamming spanning tree of the working set (a few
    nonzeros per chamber instead of ``~N/2``); the first rounds use Clarabel tolerance
    ``LOOSE_TOL`` and the last ones the tight tolerances; chambers whose dual constraint is
    clearly slack are dropped from the working set (each at most once, so no cycling).
    Violations by chambers already in the working set are solver inaccuracy: they end the
    loop and show in ``s``, which the rigorous lower bound accounts for.

    Parameters
    ----------
    chambers : Chambers or bool array (p, N), optional
        The chamber list; default :func:`verify.geometry.chambers.enumerate_chambers` (exact).
    tol : float
        A chamber is violated when its oracle value exceeds ``1 + tol``.
    max_rounds, per_round : int
        Round limit (default 100; :data:`SAMPLED_ROUNDS` on an incomplete list, whose answer
        is a restriction's value without a claim about ``P*``), and chambers added per round
        (default ``min(max(50, p // 10), 2N + 2)``: an optimum needs at most ``N + 1`` active
        chambers (Caratheodory), so larger rounds only make the restricted problems bigger;
        on an incomplete list ``min(50, 2N + 2)``, its cones keeping all ``N`` rows).
    limit : int, optional
        Passed to ``enumerate_chambers``.
    seeds : bool array (k, N), optional
        Activation patterns to start from, e.g. those of a network that classifies every
        sample (its neurons ``w`` with ``1[X w >= 0]``: then the restricted program is feasible
        from the first round).  With a complete chamber list only the seeds that are chambers
        of it are used; with an incomplete one they join the list.
    budget : float, optional
        Seconds for the rounds (checked before each restricted solve after the first; the
        final bounds come after it); the message says when it ran out.

    The restricted program is never empty: when the list is incomplete (sampled chambers),
    the patterns of the candidate neurons and the ``seeds`` join it, and chambers are added
    until the columns of the ``D_j X`` span ``R^N`` (:func:`_spanning_set`), which makes it
    feasible; when no pattern of the list can classify every sample the result says so
    (status ``infeasible``).  The value is then an upper bound of ``P*`` only (status
    ``restricted``, no lower bound).

    Examples
    --------
    >>> from verify.geometry.chambers import enumerate_chambers
    >>> from verify.convex.programs import solve_primal
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
        from verify.geometry.chambers import enumerate_chambers

        chambers = enumerate_chambers(X, limit=limit)
    P, complete = as_patterns(chambers, N)
    cands = _candidate_patterns(X, y)
    S = np.zeros((0, N), dtype=bool) if seeds is None else np.asarray(seeds, dtype=bool)
    if S.ndim != 2 or S.shape[1] != N:
        raise InputError(f"seeds: expected a bool array (k, {N}), received shape {S.shape}")
    if not complete:  # sampled patterns: candidate and seed patterns join the list
        P = _with_patterns(P, np.vstack([S, cands]))
    p = P.shape[0]
    if per_round is None:  # sampled lists: every chamber brings all N rows, so fewer a round
        per_round = min(max(50, p // 10) if complete else 50, 2 * N + 2)
    per_round = int(per_round)
    if max_rounds is None:
        max_rounds = 100 if complete else SAMPLED_ROUNDS
    if per_round < 1 or max_rounds < 1:
        raise InputError("per_round and max_rounds must be positive integers")
    choice = _choice(solver)
    if complete:
        walls = chamber_walls(X, P)
    else:
        # Walls read off an incomplete list can miss facets, which enlarges the cones and makes
        # the restricted program a relaxation (a value below P*).  Keep every row instead: the
        # restricted program is then a restriction of (14) and its value is >= P*.
        rows = np.flatnonzero(X.any(axis=1))
        walls = [rows for _ in range(p)]
    working = _lookup(P, np.vstack([S, cands]))
    rng = np.random.default_rng(0)
    if not complete:  # every cone keeps all N rows: start small, grow only to feasibility
        seeded = set(_lookup(P, S))
        working = [j for j in working if j in seeded] + [
            j for j in working if j not in seeded][:_SAMPLED_START]
    if not complete or not working:
        working = _spanning_set(X, y, P, working, rng)
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
    res_lam = np.zeros(N)
    deadline = None if budget is None else time.monotonic() + float(budget)
    out_of_time = False
    bar = progress("column generation (rounds)", total=max_rounds, delay=0.5)
    while rounds < max_rounds:
        if deadline is not None and rounds and time.monotonic() >= deadline:
            out_of_time = True
            break
        rounds += 1
        bar.advance()
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
        prior = None if res is None else (res_lam, res.values)
        res = oracle(X, sol.lam, P, threshold=thr, top=per_round, walls=walls,
                     executor=executor, prior=prior)
        res_lam = sol.lam
        best = res.values.max(axis=1)
        cand = np.flatnonzero(best > thr)
        cand = cand[np.argsort(-best[cand], kind="stable")]
        inset = set(working)
        new = [j for j in cand.tolist() if j not in inset][:per_round]
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
    bar.close()
    assert sol is not None
    info = {**_solver_info(choice, t_solve), "peak_working_set": peak}
    working = used
    if sol.status not in (Status.RESTRICTED, Status.INACCURATE) or res is None:
        message = sol.message
        if sol.status == Status.INFEASIBLE:
            kind = "complete" if complete else "sampled"
            message = (
                f"no network built from the {p} patterns of the {kind} chamber list classifies"
                f" every sample (the restricted program is infeasible; {message})"
            )
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
            message,
        )
    ids = np.asarray(working)
    neurons = tuple(Neuron(n.sign, n.direction, n.norm, int(ids[n.pattern])) for n in sol.neurons)
    ub, neurons = _network_ub(X, y, neurons)
    res, zp, zm = _slacks(X, sol.lam, P, walls, executor)
    lb = lower_bound(X, y, sol.lam, P, zp, zm) if complete else None
    status = sol.status
    msg = [sol.message] if sol.message else []
    if status == Status.RESTRICTED:
        status = Status.OPTIMAL if (converged and complete) else Status.RESTRICTED
    if not converged:
        msg.append(
            f"not converged after {rounds} rounds"
            + (f" (the budget of {budget:g} s ran out; raise --budget)" if out_of_time else "")
            + f": chambers outside the working set are still violated (s = {res.value:.3g})"
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
