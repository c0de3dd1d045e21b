"""Solver choice, licence fallback and the status vocabulary."""

from __future__ import annotations

import cvxpy as cp
import pytest

import verify.convex.solvers as solvers
from verify.errors import SolverError
from verify.status import CERTIFIABLE, FAILED, SOLVED, Status, from_cvxpy


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(solvers, "_MOSEK_CACHE", {})


def _installed(monkeypatch, names):
    monkeypatch.setattr(cp, "installed_solvers", lambda: list(names))


def test_default_without_mosek_is_tight_clarabel(monkeypatch, recwarn):
    _installed(monkeypatch, ["CLARABEL", "SCS"])
    choice = solvers.choose_solver()
    assert choice.name == "CLARABEL"
    assert "not installed" in choice.reason
    for key in ("tol_gap_abs", "tol_gap_rel", "tol_feas"):
        assert choice.options[key] <= 1e-9  # well below Clarabel's 1e-8 defaults
    assert not [w for w in recwarn if "MOSEK" in str(w.message)]  # absence is not news


def test_requesting_absent_mosek_raises(monkeypatch):
    _installed(monkeypatch, ["CLARABEL"])
    with pytest.raises(SolverError, match="MOSEK.*not installed"):
        solvers.choose_solver("MOSEK")


def _licence_failure(monkeypatch):
    """MOSEK 'installed' whose first solve fails with a licence error."""
    _installed(monkeypatch, ["CLARABEL", "MOSEK"])
    real = cp.Problem.solve

    def fake(self, *args, solver=None, **kw):
        if solver == "MOSEK":
            raise cp.error.SolverError("MOSEK error 1008: License cannot be located.")
        return real(self, *args, solver=solver, **kw)

    monkeypatch.setattr(cp.Problem, "solve", fake)


def test_licence_error_is_detected_and_reported_once(monkeypatch):
    _licence_failure(monkeypatch)
    with pytest.warns(RuntimeWarning, match="not licensed.*falling back to CLARABEL"):
        first = solvers.choose_solver()
    assert first.name == "CLARABEL" and "licen" in first.reason.lower()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert solvers.choose_solver().name == "CLARABEL"
    with pytest.raises(SolverError, match="MOSEK.*not licensed.*License cannot be located"):
        solvers.choose_solver("MOSEK")


def test_licence_probe_is_cached(monkeypatch):
    calls = []

    def probe():
        calls.append(1)
        return False, "MOSEK is installed but not licensed: expired"

    monkeypatch.setattr(solvers, "_probe_mosek", probe)
    with pytest.warns(RuntimeWarning):
        solvers.choose_solver()
    solvers.choose_solver()
    with pytest.raises(SolverError, match="expired"):
        solvers.choose_solver("mosek")
    assert len(calls) == 1


def test_licensed_mosek_is_preferred(monkeypatch):
    monkeypatch.setattr(solvers, "_probe_mosek", lambda: (True, "MOSEK is installed and licensed"))
    assert solvers.choose_solver().name == "MOSEK"
    assert solvers.choose_solver("MOSEK").name == "MOSEK"


def test_unknown_and_missing_solvers(monkeypatch):
    with pytest.raises(SolverError, match="unknown solver 'GUROBI'") as err:
        solvers.choose_solver("GUROBI")
    # no 'or None' (not a command-line value): the default is to leave the option out
    assert "None" not in str(err.value) and "leave it out" in str(err.value)
    _installed(monkeypatch, ["CLARABEL"])
    with pytest.raises(SolverError, match="ECOS.*not installed"):
        solvers.choose_solver("ECOS")


def test_explicit_clarabel_and_scs_solve_the_same_problem():
    x = cp.Variable(3)
    prob = cp.Problem(cp.Minimize(cp.norm(x)), [x[0] + 2 * x[1] - x[2] >= 3])
    assert solvers.solve_problem(prob, solvers.choose_solver("CLARABEL")) is Status.OPTIMAL
    exact = 3 / 6**0.5  # distance from 0 to the half-space
    assert abs(prob.value - exact) < 1e-9
    if "SCS" in cp.installed_solvers():
        st = solvers.solve_problem(prob, solvers.choose_solver("SCS"))
        assert st in (Status.OPTIMAL, Status.INACCURATE)
        assert abs(prob.value - exact) < 1e-5


class _FakeProblem:
    def __init__(self, status):
        self.status = status

    def solve(self, **kw):
        return None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("optimal", Status.OPTIMAL),
        ("optimal_inaccurate", Status.INACCURATE),
        ("infeasible", Status.INFEASIBLE),
        ("infeasible_inaccurate", Status.INACCURATE),
        ("unbounded", Status.UNBOUNDED),
        ("user_limit", Status.UNKNOWN),
        ("solver_error", Status.UNKNOWN),
        ("something new", Status.UNKNOWN),
    ],
)
def test_status_mapping(raw, expected):
    assert solvers.solve_problem(_FakeProblem(raw), solvers.SolverChoice("CLARABEL")) is expected
    assert from_cvxpy(raw) is expected


def test_inaccurate_is_never_solved():
    assert Status.INACCURATE not in SOLVED
    assert Status.INACCURATE in CERTIFIABLE
    assert SOLVED.isdisjoint(FAILED)
    assert {s.value for s in Status} >= {"optimal", "restricted", "infeasible", "inaccurate",
                                         "unknown"}


def test_real_infeasible_problem():
    x = cp.Variable()
    prob = cp.Problem(cp.Minimize(x), [x >= 1, x <= 0])
    assert solvers.solve_problem(prob, solvers.choose_solver("CLARABEL")) is Status.INFEASIBLE


def test_crash_is_retried_then_raised(monkeypatch):
    class Crashing:
        status = None

        def solve(self, **kw):
            raise cp.error.SolverError("numerical trouble")

    with pytest.warns(RuntimeWarning, match="retrying"), pytest.raises(SolverError,
                                                                       match="numerical"):
        solvers.solve_problem(Crashing(), solvers.choose_solver("CLARABEL"))
