"""Program (14) by column generation without the chamber list: the branch-and-bound route.

When the chambers cannot be enumerated (or need not be), the working set of activation
patterns grows from the patterns of a few candidate neurons (and, in ``certify``, of the
trained network), and the oracle asking "is some pattern violated?" is the branch and bound of
:mod:`verify.convex.branch_and_bound` over the support of ``lam``.  Each round:

1. the restricted dual (129) over the working set (:func:`verify.convex.column_generation.
   _solve_restricted`), with **lazy wall rows** (:mod:`verify.convex.lazy_restricted`): a
   pattern's cone constraints start from the rows closest to its witness and grow by the rows
   the solution violates, until the solution satisfies every row (then it is the restricted
   program's optimum with all rows);
2. ``lam`` is made **support-exact** (entries below ``SUPPORT_REL * max |lam|`` set to 0:
   :func:`verify.convex.inout_pricing.exact_support`), so the oracle and the certificate see
   only ``S = supp lam``;
3. branch and bound for both signs, stopping at the first point of value ``> 1 + tol``; its
   chamber's pattern joins the working set.  When both searches prove ``<= 1 + tol`` the loop
   ends and their trees become the exact evidence
   (:func:`verify.convex.branch_and_bound_evidence.evidence_from_results`): ``s`` exact, and
   ``LB = y^T lam / max(1, s)`` rigorous.

Before the oracle, a cheap local search prices (:mod:`verify.convex.candidate_patterns`, also
the start's patterns and phase one's); the oracle asks with in-out stabilisation
(:mod:`verify.convex.inout_pricing`).  This module is the loop.

Whatever stops the loop (rounds, the node or time budget), the last ``lam`` gets exact
evidence from whatever tree was grown (:mod:`verify.convex.final_proof`): open leaves keep
their bounds, so the lower bound is finite and valid, only weaker (anytime).  The upper bound
is the exact objective of the recovered network (polished; after a final proof, refitted
together with the networks of its programs when that is lower), so ``LB <= P* <= UB`` always
holds.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((12, 3)); y = np.sign(X[:, 0] + 0.3 * rng.standard_normal(12))
>>> sol = solve_branch_and_bound(X, y)
>>> sol.method, sol.status.value, float(sol.lower_bound) <= sol.value <= float(sol.upper_bound)
('branch-and-bound', 'optimal', True)
>>> from verify.convex.column_generation import column_generation
>>> abs(column_generation(X, y).value - sol.value) < 1e-6 * sol.value
True
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np

from verify.convex.bounds import _check_binary, exact_yT_lam
from verify.convex.candidate_patterns import (
    _widen,
    heuristic_violators,
    initial_patterns,
    ray_violators,
)
from verify.convex.column_generation import LOOSE_TOL
from verify.convex.final_proof import _final_proof
from verify.convex.inout_pricing import SUPPORT_REL, _price, exact_support
from verify.convex.lazy_restricted import (
    _LOOP_CUTS,
    _MAX_CUTS,
    _initial_samples,
    _prune,
    _restricted_with_cuts,
    _start_rows,
)
from verify.convex.node_bound import SdpPolicy
from verify.convex.programs import (
    ConvexSolution,
    Neuron,
    _choice,
    _failed,
    _network_ub,
    _solver_info,
    _ub,
    polish,
)
from verify.convex.solvers import SolverChoice
from verify.convex.support_chambers import ORACLE_LIMIT, SupportOracle, evidence_summary
from verify.errors import InputError, SolverError
from verify.status import Status

__all__ = ["solve_branch_and_bound", "SUPPORT_REL", "initial_patterns", "ray_violators"]

#: Patterns added per phase-one round (each brings its cone: few at a time keep it small).
_RAY_PATTERNS = 16
#: Restricted solves without a budget (with one, the budget bounds them).
_ROUNDS = 200
#: Violated patterns the cheap pricing adds per round (at most ``2 d + 2``).
_PRICE_PATTERNS = 10
#: Share of the budget for the loop, and of what is left after it, for the final proof (the
#: exact evidence of a tree costs about as much per leaf as a node bound, ~0.6 of its search,
#: and only the best round's trees, grown in
#: :data:`verify.convex.final_proof._FIRST_TREES` of the proof, get evidence).
_LOOP_SHARE, _PROOF_SHARE = 0.5, 0.85
#: Once a point proved in the loop is within ``_CLOSE`` (relative) of its restricted program's
#: value, the loop may take ``_LOOP_SHARE_CLOSE`` of the budget: the final proof starts from
#: that point and has little left to add, while the program's value (the upper bound) still
#: falls with every round.
_CLOSE, _LOOP_SHARE_CLOSE = 1e-2, 0.8
#: In-out pricing (Ben-Ameur & Neto 2007; the loop's first ``alpha`` of
#: :func:`verify.convex.inout_pricing._price`): the oracle asks at ``a lam_in + (1 - a) lam``,
#: ``lam_in`` the best dual-feasible point so far (a search's ``lam / max(1, s_upper)``), ``lam``
#: the restricted program's.  ``lam -> lam^T D X u`` is linear for a fixed pattern, so a
#: pattern violated there is violated at ``lam`` (new); when none is, that point is proved
#: and becomes ``lam_in``.  ``0``: price at ``lam``.
_STABILITY = 0.5
#: Share of the loop's time a search at an in-out point may take (the ``cap`` of
#: :func:`verify.convex.inout_pricing._price`).
_SEP_SHARE = 0.1


def _key(pattern: np.ndarray) -> bytes:
    return np.packbits(pattern).tobytes()


def _loop_stopped(rounds: int, t_start: float, budget: float) -> str:
    """Why the loop stopped on time: it runs for its share of the budget (the rest is the
    final proof's, which may end early), so the seconds it ran are named, not 'ran out'."""
    spent = time.monotonic() - t_start
    return (f"the loop stopped after {rounds} rounds at {spent:.1f} s, its share of the "
            f"{budget:g} s budget (raise --budget)")


def solve_branch_and_bound(
    X: Any,
    y: Any,
    *,
    start: Any = None,
    solver: str | SolverChoice | None = None,
    tol: float = 1e-7,
    gap: float = 5e-7,
    max_rounds: int | None = None,
    node_limit: int = 200_000,
    budget: float | None = None,
    executor: Any = None,
    support_limit: int = ORACLE_LIMIT,
    sdp: SdpPolicy | None = None,
) -> ConvexSolution:
    """Program (14) by column generation with the branch-and-bound oracle (no chamber list).

    Parameters
    ----------
    start : array (d, m), optional
        First-layer weights of a network (e.g. the trained one) whose patterns start the
        working set; with a network that classifies every sample, the first restricted
        program is feasible.
    tol : float
        A pattern is violated when the oracle finds a value ``> 1 + tol``; the final trees
        prove ``s <= 1 + tol`` when the budget allows.
    gap : float
        The loop also ends when a proved point of the in-out pricing has a bound within
        ``gap`` (relative) of the restricted program's value (then the lower bound of that
        point, the upper bound of the program's network).
    max_rounds : int, optional
        Restricted solves (each adds at most ``_PRICE_PATTERNS`` patterns); default 200
        without a ``budget``, unbounded with one (the budget stops the loop).
    node_limit : int
        Node bounds per branch-and-bound search.
    budget : float, optional
        Seconds for the whole route; the search in progress is cut at the deadline and the
        evidence of what was grown gives the (weaker) lower bound.
    support_limit : int
        When the chambers of ``X_S`` (``S = supp lam``) number at most this, they are the
        oracle (at most :data:`~verify.convex.support_chambers.ORACLE_LIMIT` per round) and
        the final evidence (:mod:`verify.convex.support_chambers`) instead of the trees;
        ``0``: always branch and bound.
    sdp : SdpPolicy, optional
        Where the searches that prove a target try the semidefinite node bound
        (:mod:`verify.convex.semidefinite_bound`); ``None``: the chord bound only.

    Returns
    -------
    ConvexSolution
        ``method == "branch-and-bound"``; ``evidence`` holds the
        :class:`~verify.convex.branch_and_bound_evidence.BabEvidence` (or
        :class:`~verify.convex.support_chambers.SupportChamberEvidence`) of the final ``lam``
        (``lam`` itself is support-exact and sign-projected), ``lower_bound`` its exact
        ``y^T lam / max(1, s)``; ``status`` is ``optimal`` when both trees closed at
        ``<= 1 + tol`` at the restricted program's ``lam`` or, at an in-out point, with a bound
        within ``gap`` of its value (so ``value`` is the restricted program's, within ``gap``
        of ``P*``), and the exact bounds are within ``max(2 gap, 10 tol)`` (relative), else
        ``restricted`` with the reason in ``message``.
    """
    X, y = _check_binary(X, y)
    N, d = X.shape
    if max_rounds is None:  # with a budget, the budget bounds the rounds
        max_rounds = _ROUNDS if budget is None else 10**9
    if max_rounds < 1 or node_limit < 1:
        raise InputError("max_rounds and node_limit must be positive integers")
    t_start = time.monotonic()
    deadline = None if budget is None else t_start + float(budget)
    choice = _choice(solver)
    dual = SupportOracle(X, oracle_limit=min(support_limit, ORACLE_LIMIT),
                         evidence_limit=support_limit, executor=executor, sdp=sdp)
    rows = np.flatnonzero(X.any(axis=1))
    P, W = initial_patterns(X, y, start=start)
    walls = [_start_rows(X, w, rows) for w in W]
    samples = _initial_samples(X, y)
    rng = np.random.default_rng(0)
    thr = 1.0 + tol
    per_round = min(2 * d + 2, _PRICE_PATTERNS)
    loose = choice
    if choice.name == "CLARABEL":  # first rounds with looser tolerances (fewer iterations)
        loose = SolverChoice(choice.name, {k: (LOOSE_TOL if k.startswith("tol_") and
                                               k != "tol_ktratio" else v)
                                           for k, v in choice.options.items()}, choice.reason)
    loose_phase = loose is not choice
    full_cuts = False
    # the budget: the loop stops at _LOOP_SHARE of it (_LOOP_SHARE_CLOSE once its proofs are
    # close); of the rest, _PROOF_SHARE goes to the final proof and the remainder to its exact
    # evidence and the network's exact bound
    loop_deadline = None if budget is None else t_start + _LOOP_SHARE * float(budget)
    best: tuple[float, np.ndarray, Any, Any] | None = None  # (bound, lam, plus, minus)
    alpha = _STABILITY
    sol: ConvexSolution | None = None
    good: ConvexSolution | None = None  # the last usable restricted solution
    whole_sol: ConvexSolution | None = None  # the last one that violates no row
    lam = np.zeros(N)
    plus = minus = None
    converged, reason, rounds, t_solve = False, "", 0, 0.0
    # pruning: solves in a row each pattern's neurons were zero; patterns that came back after
    # being dropped are never dropped again (no cycling)
    idle = np.zeros(0, dtype=np.int64)
    permanent = np.zeros(0, dtype=bool)
    dropped: set[bytes] = set()
    widened: int | None = None  # patterns before the last widening of an infeasible program
    retried = False
    while rounds < max_rounds:
        if loop_deadline is not None and sol is not None and time.monotonic() >= loop_deadline:
            reason = _loop_stopped(rounds, t_start, budget)
            break
        rounds += 1
        if len(idle) < len(P):  # patterns added since the last solve: new, or back again
            back = np.array([_key(q) in dropped for q in P[len(idle):]], dtype=bool)
            idle = np.concatenate([idle, np.zeros(len(P) - len(idle), dtype=np.int64)])
            permanent = np.concatenate([permanent, back])
        t0 = time.perf_counter()
        try:
            sol, samples, whole = _restricted_with_cuts(X, y, P, walls, rows,
                                                        loose if loose_phase else choice,
                                                        samples, deadline=loop_deadline,
                                                        max_cuts=_MAX_CUTS if full_cuts
                                                        else _LOOP_CUTS)
        except SolverError as exc:  # e.g. Clarabel's NumericalError: keep the last answer
            reason = f"the restricted program failed ({exc})"
            if good is None and widened is not None and not retried:
                # before any usable answer, the patterns of the last widening made the
                # program numerically hard: replace them by random directions, once
                retried = True
                P, W, walls = P[:widened], W[:widened], walls[:widened]
                idle, permanent = idle[:widened], permanent[:widened]
                P2, W2 = _widen(X, y, P, W, None, rng, top=0, node_limit=node_limit,
                                deadline=loop_deadline, executor=executor)
                walls = walls + [_start_rows(X, w, rows) for w in W2[len(P):]]
                P, W = P2, W2
                continue
            if good is None:
                raise
            break
        if whole:
            whole_sol = sol
        t_solve += time.perf_counter() - t0
        if sol.status == Status.INFEASIBLE:  # these patterns cannot separate: widen
            P2, W2 = _widen(X, y, P, W, sol.ray, rng, top=min(per_round, _RAY_PATTERNS),
                            node_limit=node_limit,
                            deadline=loop_deadline, executor=executor)
            if len(P2) == len(P):
                reason = "the restricted program stays infeasible"
                break
            walls = walls + [_start_rows(X, w, rows) for w in W2[len(P):]]
            widened = len(P)
            P, W = P2, W2
            continue
        if sol.status not in (Status.RESTRICTED, Status.INACCURATE):
            reason = f"the restricted program failed ({sol.status.value}: {sol.message})"
            break
        good = sol
        if whole and sol.u is not None and sol.u.shape[1] == len(P):
            keep = _prune(sol, idle, permanent)
            if keep is not None:
                dropped.update(_key(q) for q in P[~keep])
                P, W = P[keep], W[keep]
                walls = [w for w, k in zip(walls, keep) if k]
                idle, permanent = idle[keep], permanent[keep]
        lam = exact_support(y, sol.lam)
        HP, HW = heuristic_violators(X, lam, thr, top=per_round, seed=rounds)
        new = [j for j in range(len(HP)) if not any(np.array_equal(HP[j], q) for q in P)]
        if new:  # cheap pricing found violators: no oracle this round
            P, W = np.vstack([P, HP[new]]), np.vstack([W, HW[new]])
            walls += [_start_rows(X, w, rows) for w in HW[new]]
            continue
        if loose_phase or not (whole or full_cuts):
            # no cheap violator: tighten the solver, and let the program take every wall row
            # it violates, before asking the oracle
            loose_phase, full_cuts = False, True
            continue
        full_cuts = False
        sep, plus, minus, best, alpha, converged = _price(
            dual, y, lam, best, alpha, thr, gap if whole else None, node_limit, loop_deadline,
            None if budget is None else _SEP_SHARE * _LOOP_SHARE * float(budget))
        if converged:
            lam = sep  # proved, and as good as the restricted program (within gap)
            break
        if (loop_deadline is not None and whole and best[0] >= (1.0 - _CLOSE) * float(y @ lam)
                and best[2].status == best[3].status == "proved"):
            loop_deadline = max(loop_deadline, t_start + _LOOP_SHARE_CLOSE * float(budget))
        fresh: list[tuple[np.ndarray, np.ndarray]] = []
        for r in (plus, minus):
            if not (r.status in ("violated", "exceeded") and r.lower > thr):
                continue
            for pat, u in [(r.pattern, r.u), *((o[0], o[1]) for o in r.others)]:
                if not any(np.array_equal(pat, q) for q in [*P, *(f[0] for f in fresh)]):
                    fresh.append((pat, u))
        if "budget" in (plus.status, minus.status) and not fresh:
            reason = next(r.reason for r in (plus, minus) if r.status == "budget")
            if budget is not None and reason.startswith("time limit"):
                # the oracle's slice of the loop's share ran out, not a limit the user set
                reason = _loop_stopped(rounds, t_start, budget)
            break
        if not fresh and loop_deadline is not None and time.monotonic() >= loop_deadline:
            # the time ran out after a proof at an in-out point (no violator to add)
            reason = _loop_stopped(rounds, t_start, budget)
            break
        if not fresh:
            reason = "the oracle's violators are already in the working set (solver accuracy)"
            break
        for pat, w in fresh:
            P = np.vstack([P, pat[None, :]])
            W = np.vstack([W, w[None, :]])
            walls.append(_start_rows(X, w, rows))
    else:
        reason = f"not converged after {max_rounds} rounds (raise max_rounds)"
    info = {**_solver_info(choice, t_solve), "seconds": time.monotonic() - t_start}
    if good is not None and good is not sol and not converged:
        sol = good  # a later restricted program failed or was infeasible: keep the last answer
    if sol is None or sol.status not in (Status.RESTRICTED, Status.INACCURATE):
        msg = reason or "no restricted solution"
        return _failed(sol.status if sol is not None else Status.UNKNOWN, "branch-and-bound", N,
                       info, msg)
    proof_neurons: list = []  # the final proof's networks (candidates for the upper bound)
    if not converged:
        # the final proof: the best point the oracle saw (by its anytime bound) or, when the
        # oracle never ran, the last lam; its trees (the loop's when grown long enough) and
        # the dual over their leaves with what is left
        if best is not None:
            _, lam, plus, minus = best
        left = None if deadline is None else max(
            _PROOF_SHARE * (deadline - time.monotonic()), 1.0)
        lam, plus, minus = _final_proof(dual, y, lam, thr, node_limit, left,
                                        None if best is None else (plus, minus),
                                        neurons=proof_neurons)
    ev = dual.evidence(lam, plus, minus)
    lb = exact_yT_lam(y, lam) / max(Fraction(1), ev.s)
    neurons = tuple(Neuron(n.sign, n.direction, n.norm, n.pattern) for n in sol.neurons)
    ub, neurons = _network_ub(X, y, neurons)
    if proof_neurons:
        # the networks of the final proof's programs (margins >= 1 on their rows): with the
        # norms refitted over every sample, together with the loop's, a better one may come out
        # (only the refitted union: the union as it is sums the networks, and its exact bound
        # over hundreds of neurons costs seconds for nothing)
        neurons3 = polish(X, y, neurons + tuple(proof_neurons))
        ub3 = _ub(X, y, neurons3)
        if ub3 is not None and (ub is None or ub3 < ub):
            ub, neurons = ub3, neurons3
    if whole_sol is not None and whole_sol is not sol:
        # the last program was cut short (by the budget, or before its wall rows were all in):
        # its network may miss margins or leave its cones; refit (polish) the norms over its
        # neurons and those of the last program that violated no row, which classify every
        # sample, and keep the better network
        ub2, neurons2 = _network_ub(X, y, neurons + tuple(
            Neuron(n.sign, n.direction, n.norm, n.pattern) for n in whole_sol.neurons))
        if ub2 is not None and (ub is None or ub2 < ub):
            ub, neurons = ub2, neurons2
    msg = [sol.message] if sol.message else []
    status = Status.OPTIMAL if converged and ev.complete else Status.RESTRICTED
    if status == Status.OPTIMAL and ub is not None and ub > 0:
        # the label follows the exact bounds: a program solved inaccurately can end the loop
        # with a value that is not quite an upper bound
        rel = float((ub - lb) / ub)
        if rel > max(2.0 * gap, 10.0 * tol):
            status = Status.RESTRICTED
            msg.append(f"the loop converged, but the exact bounds are {rel:.2e} apart "
                       "(relative; the restricted program's accuracy)")
    if not converged:
        # the search's own options are --budget on the command line
        msg.append(reason.replace("(raise time_limit)", "(raise --budget)"))
    if ub is None:
        msg.append("the network recovered from the last restricted program misses a margin, so "
                   "there is no exact upper bound (raise --budget)")
    msg.append(evidence_summary(ev, plus, minus, N))
    return ConvexSolution(sol.value, lb, ub, status, "branch-and-bound", lam, neurons,
                          info, rounds, len(P), 0, float(ev.s), "; ".join(m for m in msg if m),
                          evidence=ev)
