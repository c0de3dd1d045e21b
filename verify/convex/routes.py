"""The route to ``P*`` of every one-vs-all problem, chosen by what the data allow.

:func:`solve_binary` decides, in order: orthogonally separable (exactly) → the closed form;
small and spike-free (exactly) → Remark 1; the chamber list within ``limit`` → column
generation over the exact chambers (in rank <= 3 with more than ``SAMPLES_BELOW`` of them, a
working set of samples first; the chambers of ``X_S`` are the evidence when clearly fewer);
otherwise → column generation with the branch-and-bound
oracle (no chamber list; a rigorous, possibly weaker, lower bound within ``budget``), or, with
``sampled=True``, sampled chambers (``restricted``: no lower bound).  :func:`solve_dataset` does
it for every one-vs-all problem of a data set; :func:`optimal_weights` assembles the networks.

Examples
--------
>>> import numpy as np
>>> from verify.io.datasets import check_dataset
>>> ds = check_dataset(np.array([[1.65, 0.47], [-0.47, 1.35]]), np.array([1, -1]))
>>> [(c.method, c.solution.status.value) for c in solve_dataset(ds)]
[('closed-form', 'optimal')]
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.convex.closed_form import solve_orthogonally_separable, solve_spike_free
from verify.convex.column_generation import column_generation
from verify.convex.programs import ConvexSolution, _frac
from verify.errors import EnumerationLimitError, InputError
from verify.io.datasets import Dataset
from verify.status import Status

__all__ = ["DEFAULT_LIMIT", "DEFAULT_TOLERANCE", "ClassSolve", "solve_binary", "solve_dataset",
           "optimal_weights", "bounds_verdict"]

#: Largest number of chambers enumerated before falling back to sampled (restricted) chambers.
DEFAULT_LIMIT = 200_000
#: Relative gap below which a network is called globally optimal.
DEFAULT_TOLERANCE = Fraction(1, 10**6)
#: Beyond the limit, data of at most this rank try a working set of samples first
#: (:func:`verify.convex.support_samples.solve_by_samples`).
SAMPLES_RANK = 3
#: ... as long as each working set has at most this many chambers (measured: ~10-20 s per
#: chamber-route solve at 10,000-25,000 chambers in rank 3; beyond, branch and bound).
SAMPLES_CHAMBERS = 20_000
#: Below the limit, data of rank at most ``SAMPLES_RANK`` with more chambers than this try the
#: working set of samples first, given up at the first working set whose ``lam`` has more
#: than ``SAMPLES_SUPPORT`` of it in its support (measured, Gaussian 300x3, 89,702 chambers:
#: teacher labels 2-4x faster end to end, 184-1,124 evidence chambers; labels whose support
#: is most samples lose ~4 s of 28 s before the whole list).
SAMPLES_BELOW = 50_000
SAMPLES_SUPPORT = 0.5
_SAMPLES = 20_000
_SAMPLES_MIN = 2_000
_SAMPLED_WORK = 2_000_000  # sampled gates x samples N of the restricted route


@dataclass(frozen=True)
class ClassSolve:
    """The convex solve of one one-vs-all problem.

    ``method``: ``closed-form``, ``spike-free``, ``column-generation`` or ``restricted``;
    ``orthogonal``: the binary problem is orthogonally separable (decided exactly);
    ``chambers``: the exact complete chamber list when it is the evidence (else ``None``;
    the support-chamber evidence of ``X_S`` is ``solution.evidence``).
    """

    index: int
    label: Any
    y: np.ndarray
    solution: ConvexSolution
    method: str
    orthogonal: bool
    chambers: Any = None

    def verdict(self, tolerance: Fraction = DEFAULT_TOLERANCE) -> tuple[str, Fraction | None]:
        """``(verdict, relative gap)`` of the exact bounds: :func:`bounds_verdict`."""
        return bounds_verdict(self.solution.lower_bound, self.solution.upper_bound, tolerance)

    def to_dict(self, X: np.ndarray, tolerance: Fraction = DEFAULT_TOLERANCE) -> dict[str, Any]:
        """JSON-ready summary (``verify solve --json``); patterns as ``0``/``1`` strings."""
        sol = self.solution
        neurons = []
        signs = _exact_signs(X, np.array([nr.w1 for nr in sol.neurons]))
        for nr, sg in zip(sol.neurons, signs):
            bits = "".join("1" if v >= 0 else "0" for v in sg.tolist())
            neurons.append({"sign": nr.sign, "direction": list(nr.direction),
                            "norm": nr.norm, "pattern": bits})
        verdict, gap = self.verdict(tolerance)
        return {
            "label": _json(self.label),
            "verdict": verdict,
            "relative_gap": None if gap is None else float(gap),
            "status": sol.status.value,
            "method": self.method,
            "optimal_value": float(sol.value),
            "lower_bound": _frac(sol.lower_bound),
            "upper_bound": _frac(sol.upper_bound),
            "neurons": neurons,
            "message": sol.message,
        }


def bounds_verdict(lb: Fraction | None, ub: Fraction | None,
                   tolerance: Fraction = DEFAULT_TOLERANCE) -> tuple[str, Fraction | None]:
    """What the exact bounds ``LB <= P* <= UB`` of a solve prove about its network (whose
    objective is ``UB``), and the relative gap ``(UB - LB) / UB``:
    ``globally-optimal-within`` (gap ``<= tolerance``), ``proven-gap`` (a lower bound, a gap
    above the tolerance: e.g. the branch-and-bound budget ran out) or ``restricted`` (no lower
    bound).  The solver's status never enters: the bounds decide.

    Examples
    --------
    >>> bounds_verdict(Fraction(99), Fraction(100))
    ('proven-gap', Fraction(1, 100))
    >>> bounds_verdict(Fraction(100), Fraction(100)), bounds_verdict(None, Fraction(3))
    (('globally-optimal-within', Fraction(0, 1)), ('restricted', None))
    """
    if lb is None or ub is None or ub <= 0:
        return "restricted", None
    gap = (ub - lb) / ub
    return ("globally-optimal-within" if gap <= tolerance else "proven-gap"), gap


def _exact_signs(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Exact signs ``(m, N)`` of ``X w`` for the rows ``w`` of ``W`` (float filter, exact
    where it cannot decide: :func:`verify.geometry.proven_linalg.exact_signs`)."""
    from verify.geometry.proven_linalg import exact_signs

    if len(W) == 0:
        return np.zeros((0, X.shape[0]), dtype=np.int8)
    return exact_signs(X, W)


def _json(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def solve_binary(
    X: np.ndarray, y: np.ndarray, *, solver: str | None = None, limit: int = DEFAULT_LIMIT,
    spike: bool = True, executor: Any = None, budget: float | None = None,
    sampled: bool = False, start: Any = None, warm_start: Any = None,
    full_chambers: bool = False, tolerance: Any = None, sdp_depth: int | None = None,
) -> tuple[ConvexSolution, str, bool, Any]:
    """Solve one binary problem by the fastest proven route: ``(solution, method,
    orthogonal, chambers)``.

    Orthogonally separable (decided exactly) → closed form; else, when ``N <= max(d, 12)`` and
    ``spike``, Remark 1 if :mod:`verify.geometry.spike_free` proves ``X`` spike-free; else the
    exact chambers (at most ``limit``) and column generation (the chambers of ``X_S``, ``S =
    supp lam``, replace the whole list as the evidence when they are clearly fewer and the
    lower bound stays: :func:`verify.convex.support_samples.with_support_evidence`; then
    ``chambers`` is ``None`` and ``solution.evidence`` holds them; in rank <= 3 with more
    than ``SAMPLES_BELOW`` chambers a working set of samples is tried first,
    :func:`verify.convex.support_samples.solve_by_samples`, given up when its support is most
    of it; ``full_chambers`` keeps the whole list and skips both); beyond the limit, column
    generation with the branch-and-bound oracle
    (:func:`verify.convex.column_generation_bab.solve_branch_and_bound`, at most ``budget``
    seconds, started from the patterns of the first-layer weights ``start`` when given: a
    rigorous lower bound in every case; when the chambers of ``X_S``, ``S = supp lam``, number
    at most ``limit`` they are its oracle and its evidence, a complete proof:
    :mod:`verify.convex.support_chambers`), or with ``sampled`` the old sampled chambers
    (``restricted``, no lower bound).  ``executor`` (a dask ``Client``) runs the oracle's
    per-chamber or per-node work there; results are identical.

    ``warm_start`` (a callable ``(X, y) -> W1 (d, m) or None``, e.g.
    :func:`verify.network.training.warm_start`, passed in by the layers above so that this
    one does not import them) gives the start beyond the limit when ``start`` is not given;
    its time counts against ``budget``, as does the time spent choosing the route (the
    separability test, the chamber count beyond the limit).  ``tolerance`` (relative gap,
    default :data:`DEFAULT_TOLERANCE`): the branch-and-bound loop ends once it has proved half
    of it.  ``sdp_depth``: where that route's proving searches try the semidefinite node
    bound (:func:`verify.convex.node_bound.sdp_policy`: ``None`` the default, which is ``0``,
    never).
    """
    from verify.geometry.chambers import enumerate_chambers
    from verify.geometry.separability import orthogonal_separability

    t_entry = time.monotonic()  # the budget counts from here (the route's choice included)
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                               or not math.isfinite(budget) or budget <= 0):
        raise InputError(f"budget: expected a positive number of seconds, received {budget!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    orth = bool(orthogonal_separability(X, (y > 0).astype(int), stop_at_first=True).separable)
    if orth:
        return solve_orthogonally_separable(X, y, solver=solver), "closed-form", True, None
    if spike and X.shape[0] <= max(X.shape[1], 12):
        # N <= d: the range condition of the spike-free test is automatic for full row rank;
        # small N: the exact test is cheap; otherwise it is expensive and rarely positive
        try:
            sol = solve_spike_free(X, y, solver=solver)
        except InputError:
            sol = None
        if sol is not None and sol.lower_bound is not None:
            return sol, "spike-free", False, None
    try:
        # beyond the limit a proven lower bound on the count is enough to choose the route
        ch = enumerate_chambers(X, limit=limit, exact_count=False)
    except EnumerationLimitError as exc:
        if sampled:
            # the oracle's work grows like gates x N: fewer gates for many samples
            samples = max(_SAMPLES_MIN, min(_SAMPLES, _SAMPLED_WORK // max(1, X.shape[0])))
            ch = enumerate_chambers(X, mode="sampled", samples=samples)
            seeds = None if start is None else (X @ np.asarray(start, dtype=float) >= 0).T
            sol = column_generation(X, y, chambers=ch, solver=solver, executor=executor,
                                    seeds=seeds, budget=budget)
            why = incomplete_reason(len(ch), exc.count, str(exc), sampled=True)
            msg = sol.message.replace("chamber list not proven complete: no lower bound",
                                      f"{why}: no lower bound")
            return dataclasses.replace(sol, message=msg), "restricted", False, None
        from verify.convex.column_generation_bab import solve_branch_and_bound
        from verify.convex.node_bound import sdp_policy
        from verify.convex.support_samples import solve_by_samples

        why = f"chamber list beyond --limit {limit}"
        if budget is not None:
            budget = max(float(budget) - (time.monotonic() - t_entry), 0.2 * float(budget))
        if exc.count is not None:
            why += f" ({exc.count:,} chambers, proven)"
        if start is None and warm_start is not None:
            t0 = time.monotonic()
            start = warm_start(X, y)
            spent = time.monotonic() - t0
            if budget is not None:
                budget = max(float(budget) - spent, 0.2 * float(budget))
            if start is not None:
                why += (f"; started from the patterns of a gradient-descent network "
                        f"({np.asarray(start).shape[-1]} neurons, {spent:.1f} s)")
        if np.linalg.matrix_rank(X) <= SAMPLES_RANK:
            # low rank: the chambers of working sets of samples are cheap (the route ends with
            # the chambers of X_S as evidence); None when they do not fit: branch and bound
            # with what is left of the budget
            t0 = time.monotonic()
            sol = solve_by_samples(X, y, limit=min(limit, SAMPLES_CHAMBERS), solver=solver,
                                   start=start,
                                   budget=None if budget is None else 0.5 * budget,
                                   executor=executor)
            if sol is not None and sol.status == Status.OPTIMAL:
                sol = dataclasses.replace(sol, message=f"{why}; {sol.message}")
                return sol, "column-generation", False, None
            if budget is not None:
                budget = max(float(budget) - (time.monotonic() - t0), 0.2 * float(budget))
        gap = float(DEFAULT_TOLERANCE if tolerance is None else tolerance) / 2
        sol = solve_branch_and_bound(X, y, start=start, solver=solver, budget=budget,
                                     executor=executor, support_limit=limit, gap=gap,
                                     sdp=sdp_policy(sdp_depth))
        sol = dataclasses.replace(sol, message="; ".join(m for m in (why, sol.message) if m))
        return sol, "branch-and-bound", False, None
    if (ch.complete and not full_chambers and len(ch) > SAMPLES_BELOW
            and ch.rank <= SAMPLES_RANK):
        from verify.convex.support_samples import solve_by_samples

        # many chambers, low rank: the chambers of working sets of samples are far fewer;
        # given up (for the whole list) as soon as the support is most of a working set
        sol = solve_by_samples(X, y, limit=SAMPLES_CHAMBERS, solver=solver,
                               executor=executor, max_support=SAMPLES_SUPPORT)
        if sol is not None and sol.status == Status.OPTIMAL:
            why = f"{len(ch)} chambers (proven count, within --limit {limit})"
            return (dataclasses.replace(sol, message=f"{why}; {sol.message}"),
                    "column-generation", False, None)
    sol = column_generation(X, y, chambers=ch, solver=solver, executor=executor)
    if ch.complete and not full_chambers:
        from verify.convex.support_samples import with_support_evidence

        # the final lam needs only the arrangement of X_S: its chambers, when clearly fewer,
        # are the certificate's evidence (the whole list is then not kept)
        sup = with_support_evidence(X, y, sol, ch, solver=solver, executor=executor)
        if sup is not None:
            return sup, "column-generation", False, None
    if not ch.complete:
        why = incomplete_reason(len(ch), ch.count, "the list is shorter than the proven count")
        sol = dataclasses.replace(sol, message=sol.message.replace(
            "chamber list not proven complete: no lower bound", f"{why}: no lower bound"))
    return sol, "column-generation", False, (ch if ch.complete else None)


def incomplete_reason(found: int, count: int | None, why: str, *, sampled: bool = False) -> str:
    """Why a chamber list is not proven complete, with the counts and (for sampled lists) the
    option that lifts the limit.

    Examples
    --------
    >>> incomplete_reason(18837, None, "Cover's bound allows up to about 2.4e+15 chambers, "
    ...                   "more than limit=200000", sampled=True)  # doctest: +NORMALIZE_WHITESPACE
    "chamber list not proven complete (18837 sampled chambers of an unknown number; Cover's
    bound allows up to about 2.4e+15 chambers, more than limit=200000; raise with --limit N)"
    """
    from verify.geometry.audit import limit_option

    of = f"{count} (proven count)" if count is not None else "an unknown number"
    kind = "sampled chambers" if sampled else "chambers found"
    option = f"; {limit_option(count)}" if sampled else ""
    return f"chamber list not proven complete ({found} {kind} of {of}; {why}{option})"


def solve_dataset(
    ds: Dataset, *, solver: str | None = None, limit: int = DEFAULT_LIMIT, spike: bool = True,
    executor: Any = None, budget: float | None = None, sampled: bool = False,
    network: Any = None, warm_start: Any = None, full_chambers: bool = False,
    tolerance: Any = None, sdp_depth: int | None = None,
) -> list[ClassSolve]:
    """Solve every one-vs-all problem ``y = Y[:, k]`` (one problem for binary data).

    ``budget`` (seconds, per problem), ``sampled``, ``full_chambers``, ``tolerance`` and
    ``sdp_depth`` are passed to :func:`solve_binary`;
    ``network`` (a :class:`verify.network.model.Network`, e.g. the one being certified) starts
    the branch-and-bound route from its own activation patterns; without it, ``warm_start``
    (see :func:`solve_binary`) may give one.

    Raises
    ------
    InputError
        If the data are infeasible (:meth:`Dataset.require_feasible`).
    """
    ds.require_feasible()
    out = []
    for k in range(ds.Y.shape[1]):
        y = ds.Y[:, k].astype(np.float64)
        label = ds.positive_label if ds.is_binary else ds.classes[k]
        start = None
        if network is not None:
            start = network.W1 if network.W1.ndim == 2 else network.W1[k]
        sol, method, orth, ch = solve_binary(ds.X, y, solver=solver, limit=limit, spike=spike,
                                             executor=executor, budget=budget, sampled=sampled,
                                             start=start, warm_start=warm_start,
                                             full_chambers=full_chambers, tolerance=tolerance,
                                             sdp_depth=sdp_depth)
        out.append(ClassSolve(k, _json(label), y, sol, method, orth, ch))
    return out


def optimal_weights(solves: list[ClassSolve], d: int) -> tuple[np.ndarray, np.ndarray]:
    """The optimal network(s): ``(W1 (d, m), w2 (m,))`` for one problem, else ``(K, d, m)`` and
    ``(K, m)`` padded with zero neurons to a common ``m``."""
    nets = []
    for cs in solves:
        ns = cs.solution.neurons
        W1 = np.column_stack([n.w1 for n in ns]) if ns else np.zeros((d, 1))
        w2 = np.array([n.w2 for n in ns]) if ns else np.zeros(1)
        nets.append((W1, w2))
    if len(nets) == 1:
        return nets[0]
    m = max(w.shape[0] for _, w in nets)
    W = np.zeros((len(nets), d, m))
    v = np.zeros((len(nets), m))
    for k, (A, b) in enumerate(nets):
        W[k, :, : b.shape[0]] = A
        v[k, : b.shape[0]] = b
    return W, v


