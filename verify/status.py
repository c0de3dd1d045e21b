"""One vocabulary of statuses for every result of ``verify``.

Modelled on CVXPY's status strings and grouped sets.  A status says how far a result may be
trusted; it never claims more than the evidence shows.

========== ==================================================================================
Status     Meaning
========== ==================================================================================
optimal    Solved over the *complete* problem: the conic solver reported an optimal point
           and, for the max-margin program, the activation patterns were proven complete
           (an exact chamber list, the orthogonally separable closed form, or the spike-free
           reduction on data proven spike-free).  Rigorous bounds ``LB <= P* <= UB`` come
           with the result; "optimal" is the solver's claim, the bounds are the proof.
restricted Solved to optimality over a *restricted* problem: a pattern list not known to be
           complete (sampled chambers, a working set).  The value is only an upper bound of
           ``P*`` and the dual is not known feasible for the full problem.
infeasible The solver (or an exact check) found the problem infeasible, e.g. a data set whose
           max-margin problem has no feasible network (contradictory duplicate rows).
unbounded  The solver reported an unbounded problem (never expected for the max-margin
           program; kept so that any solver answer maps somewhere).
inaccurate The solver stopped with a reduced-accuracy answer (CVXPY's ``optimal_inaccurate``,
           ``infeasible_inaccurate``...).  Never treated as ``optimal``.
unknown    Nothing could be concluded: the solver failed, hit an iteration limit, or an input
           condition (such as orthogonal separability) could not be decided.
========== ==================================================================================

Examples
--------
>>> Status.OPTIMAL == "optimal", Status.OPTIMAL in SOLVED, Status.INACCURATE in SOLVED
(True, True, False)
>>> from_cvxpy("optimal_inaccurate")
<Status.INACCURATE: 'inaccurate'>
"""

from __future__ import annotations

import enum

__all__ = [
    "Status",
    "SOLVED",
    "INACCURATE",
    "FAILED",
    "CERTIFIABLE",
    "from_cvxpy",
]


class Status(str, enum.Enum):
    """Status of a solve or of a verdict (see the module docstring for each value)."""

    OPTIMAL = "optimal"
    RESTRICTED = "restricted"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INACCURATE = "inaccurate"
    UNKNOWN = "unknown"

    def __str__(self) -> str:  # plain value in messages and JSON
        return self.value


#: A solution was found (globally, or over the stated restriction).
SOLVED = frozenset({Status.OPTIMAL, Status.RESTRICTED})
#: The solver answered with reduced accuracy.
INACCURATE = frozenset({Status.INACCURATE})
#: No usable solution.
FAILED = frozenset({Status.INFEASIBLE, Status.UNBOUNDED, Status.UNKNOWN})
#: Results whose evidence may be turned into rigorous bounds (bounds decide, not the status).
CERTIFIABLE = frozenset({Status.OPTIMAL, Status.RESTRICTED, Status.INACCURATE})

_CVXPY = {
    "optimal": Status.OPTIMAL,
    "optimal_inaccurate": Status.INACCURATE,
    "infeasible": Status.INFEASIBLE,
    "infeasible_inaccurate": Status.INACCURATE,
    "unbounded": Status.UNBOUNDED,
    "unbounded_inaccurate": Status.INACCURATE,
    "infeasible_or_unbounded": Status.UNKNOWN,
    "user_limit": Status.UNKNOWN,
    "solver_error": Status.UNKNOWN,
}


def from_cvxpy(status: str | None) -> Status:
    """Map a CVXPY status string to :class:`Status` (``optimal_inaccurate`` -> inaccurate).

    Unknown strings and ``None`` (problem not solved) map to ``unknown``.

    Examples
    --------
    >>> from_cvxpy("optimal"), from_cvxpy("infeasible"), from_cvxpy(None)
    (<Status.OPTIMAL: 'optimal'>, <Status.INFEASIBLE: 'infeasible'>, <Status.UNKNOWN: 'unknown'>)
    """
    if status is None:
        return Status.UNKNOWN
    return _CVXPY.get(str(status).lower(), Status.UNKNOWN)
