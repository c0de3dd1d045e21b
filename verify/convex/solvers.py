"""Choice of the conic solver (through CVXPY) and one mapping of its answers to :class:`Status`.

Default: MOSEK when it is installed *and licensed*, otherwise Clarabel with tolerances tightened
well below its defaults.  A licence problem is detected once, by solving a tiny problem, and
cached; the fallback is then reported once with :func:`warnings.warn`.  ECOS and SCS can be
requested by name.  Whatever the solver answers is evidence to be checked (rigorous bounds in
:mod:`verify.convex.bounds`), never a verdict.

Examples
--------
>>> import cvxpy as cp
>>> choice = choose_solver("CLARABEL")
>>> choice.name, choice.options["tol_feas"]
('CLARABEL', 1e-10)
>>> x = cp.Variable(2)
>>> prob = cp.Problem(cp.Minimize(cp.norm(x)), [x[0] + x[1] >= 1])
>>> solve_problem(prob, choice)
<Status.OPTIMAL: 'optimal'>
>>> round(float(prob.value) ** 2, 8)
0.5
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verify.errors import SolverError
from verify.status import Status, from_cvxpy

__all__ = [
    "cp",
    "SolverChoice",
    "KNOWN_SOLVERS",
    "CLARABEL_OPTIONS",
    "choose_solver",
    "mosek_usable",
    "solve_problem",
    "solver_failure",
]

class _LazyCvxpy:
    """``cvxpy``, imported on first use: importing it costs ~1.3 s of CPU, and the default
    path (Clarabel through its native API) never needs it."""

    def __getattr__(self, name: str) -> Any:
        import cvxpy

        return getattr(cvxpy, name)


#: The ``cvxpy`` module, imported when an attribute is first read (``from ... import cp``).
cp: Any = _LazyCvxpy()

#: Solvers that may be requested by name.
KNOWN_SOLVERS = ("MOSEK", "CLARABEL", "ECOS", "SCS")

#: Clarabel settings: gaps and feasibility 100x tighter than the defaults (1e-8), more steps.
CLARABEL_OPTIONS: dict[str, Any] = {
    "tol_gap_abs": 1e-10,
    "tol_gap_rel": 1e-10,
    "tol_feas": 1e-10,
    "tol_infeas_abs": 1e-10,
    "tol_infeas_rel": 1e-10,
    "tol_ktratio": 1e-8,
    "max_iter": 400,
}
_OPTIONS: dict[str, dict[str, Any]] = {
    "MOSEK": {},
    "CLARABEL": CLARABEL_OPTIONS,
    "ECOS": {"abstol": 1e-10, "reltol": 1e-10, "feastol": 1e-10, "max_iters": 400},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}

# cache of the one-time MOSEK probe: {"usable": bool, "reason": str, "warned": bool}
_MOSEK_CACHE: dict[str, Any] = {}


@dataclass(frozen=True)
class SolverChoice:
    """The solver to use and its options.

    Attributes
    ----------
    name : str
        CVXPY solver name (``"MOSEK"``, ``"CLARABEL"``, ``"ECOS"`` or ``"SCS"``).
    options : dict
        Keyword options passed to ``Problem.solve`` (tolerances, iteration limits).
    reason : str
        Why this solver was chosen (e.g. the MOSEK licence problem behind a fallback).
    """

    name: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (name, options, reason)."""
        return {
            "name": self.name,
            "options": dict(sorted(self.options.items())),
            "reason": self.reason,
        }


def _installed(name: str) -> bool:
    """Whether CVXPY can use the solver ``name``.  Before CVXPY is imported, the solver's
    Python package decides (MOSEK, Clarabel: a missing package cannot be installed for CVXPY
    either, a present one is), so the default path does not import CVXPY just to ask."""
    module = {"MOSEK": "mosek", "CLARABEL": "clarabel"}.get(name)
    if module is not None and "cvxpy" not in sys.modules:
        if importlib.util.find_spec(module) is None:
            return False
        if name == "CLARABEL":
            return True
    return name in cp.installed_solvers()


def _probe_mosek() -> tuple[bool, str]:
    """Solve a tiny SOCP with MOSEK; return ``(usable, reason)`` (licence errors caught)."""
    if not _installed("MOSEK"):
        return False, "MOSEK is not installed (install the 'mosek' extra and a licence to use it)"
    x = cp.Variable(2)
    prob = cp.Problem(cp.Minimize(cp.norm(x)), [x[0] + x[1] >= 1])
    try:
        prob.solve(solver="MOSEK")
    except Exception as exc:  # noqa: BLE001 - any failure makes MOSEK unusable
        text = str(exc).strip() or type(exc).__name__
        if "licen" in text.lower():
            return False, f"MOSEK is installed but not licensed: {text}"
        return False, f"MOSEK is installed but failed on a tiny test problem: {text}"
    if prob.status != "optimal":
        return False, f"MOSEK is installed but answered {prob.status!r} on a tiny test problem"
    return True, "MOSEK is installed and licensed"


def mosek_usable() -> tuple[bool, str]:
    """Whether MOSEK can be used, with the reason; probed once per process and cached.

    Examples
    --------
    >>> usable, reason = mosek_usable()
    >>> isinstance(usable, bool) and "MOSEK" in reason
    True
    """
    if "usable" not in _MOSEK_CACHE:
        usable, reason = _probe_mosek()
        _MOSEK_CACHE.update(usable=usable, reason=reason, warned=False)
    return _MOSEK_CACHE["usable"], _MOSEK_CACHE["reason"]


def choose_solver(name: str | None = None) -> SolverChoice:
    """Choose the conic solver.

    Parameters
    ----------
    name : {"MOSEK", "CLARABEL", "ECOS", "SCS"} or None
        ``None`` picks MOSEK when installed and licensed, otherwise Clarabel with tight
        tolerances (a licence problem is reported once with ``warnings.warn``).

    Returns
    -------
    SolverChoice

    Raises
    ------
    SolverError
        If the requested solver is unknown, not installed, or (MOSEK) not licensed.

    Examples
    --------
    >>> choose_solver("CLARABEL").options["max_iter"]
    400
    >>> choose_solver(None).name in ("MOSEK", "CLARABEL")
    True
    """
    if name is None:
        usable, reason = mosek_usable()
        if usable:
            return SolverChoice("MOSEK", dict(_OPTIONS["MOSEK"]), reason)
        if "not installed" not in reason and not _MOSEK_CACHE.get("warned"):
            warnings.warn(
                f"{reason}; falling back to CLARABEL with tight tolerances",
                RuntimeWarning,
                stacklevel=2,
            )
            _MOSEK_CACHE["warned"] = True
        return SolverChoice("CLARABEL", dict(CLARABEL_OPTIONS), f"{reason}; using CLARABEL")
    if not isinstance(name, str) or name.upper() not in KNOWN_SOLVERS:
        raise SolverError(
            f"unknown solver {name!r}: expected one of {', '.join(KNOWN_SOLVERS)} "
            "(leave it out for the default)"
        )
    key = name.upper()
    if key == "MOSEK":
        usable, reason = mosek_usable()
        if not usable:
            raise SolverError(f"solver MOSEK was requested but cannot be used: {reason}")
        return SolverChoice("MOSEK", dict(_OPTIONS["MOSEK"]), "requested")
    if not _installed(key):
        raise SolverError(
            f"solver {key} was requested but is not installed "
            f"(installed: {', '.join(sorted(cp.installed_solvers()))})"
        )
    return SolverChoice(key, dict(_OPTIONS[key]), "requested")


#: CVXPY's advice on a failure names Python arguments (``verbose=True``), not ours
_CVXPY_ADVICE = " Try another solver, or solve with verbose=True for more information."


def solver_failure(name: str, reason: Any) -> SolverError:
    """The error of a solver that failed: its reason (without CVXPY's advice to pass
    ``verbose=True``) and the other installed solvers to try with ``--solver``.

    Examples
    --------
    >>> str(solver_failure("CLARABEL", "InsufficientProgress"))  # doctest: +ELLIPSIS
    'CLARABEL failed: InsufficientProgress; try another conic solver with --solver (...SCS...)'
    """
    text = _reason(reason)
    others = [s for s in KNOWN_SOLVERS if s != name and _installed(s)]
    hint = f"; try another conic solver with --solver ({', '.join(others)})" if others else ""
    return SolverError(f"{name} failed: {text}{hint}")


def _reason(exc: Any) -> str:
    return str(exc).replace(_CVXPY_ADVICE, "").strip().rstrip(".")


def solve_problem(prob: cp.Problem, choice: SolverChoice) -> Status:
    """Solve a CVXPY problem with ``choice`` and map the answer to :class:`Status`.

    ``optimal_inaccurate`` maps to ``inaccurate`` (never ``optimal``); Clarabel stopping
    inaccurate with the tight tolerances is retried once with 10x looser ones (1e-9, still
    below its defaults) and the second answer is mapped.  A solver crash is
    retried once with the solver's default tolerances (with a warning); a second crash
    raises :class:`SolverError`.

    Examples
    --------
    >>> x = cp.Variable()
    >>> solve_problem(cp.Problem(cp.Minimize(x), [x >= 1, x <= 0]), choose_solver("CLARABEL"))
    <Status.INFEASIBLE: 'infeasible'>
    """
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # CVXPY's "Solution may be inaccurate" is reported through the status instead
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.solve(solver=choice.name, **choice.options)
    except cp.error.SolverError as exc:
        if not choice.options:
            raise solver_failure(choice.name, exc) from exc
        warnings.warn(
            f"{choice.name} failed with tight tolerances "
            f"({_reason(exc)}); retrying with "
            "its default tolerances",
            RuntimeWarning,
            stacklevel=2,
        )
        try:
            with np.errstate(all="ignore"):
                prob.solve(solver=choice.name)
        except cp.error.SolverError as exc2:
            raise solver_failure(choice.name, exc2) from exc2
    status = from_cvxpy(prob.status)
    if status is Status.INACCURATE and choice.name == "CLARABEL" and choice.options:
        # the tight tolerances stalled just short: retry once 10x looser (still below defaults)
        looser = {
            k: (v * 10 if k.startswith("tol_") and k != "tol_ktratio" else v)
            for k, v in choice.options.items()
        }
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                prob.solve(solver=choice.name, **looser)
            except cp.error.SolverError:
                return status
        status = from_cvxpy(prob.status)
    return status
