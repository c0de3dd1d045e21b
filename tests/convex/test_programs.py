"""The direct programs (14) and (129), network recovery and polish; the names kept importable."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from convex_cases import REL, brackets, random_problem

from verify.convex.closed_form import solve_orthogonally_separable
from verify.convex.column_generation import column_generation
from verify.convex.programs import solve_dual, solve_primal, upper_bound
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers
from verify.status import Status


@pytest.mark.parametrize(("seed", "N", "d"), [(0, 8, 2), (1, 8, 3), (2, 10, 3)])
def test_strong_duality_direct_primal_vs_dual(seed, N, d):
    X, y = random_problem(seed, N, d)
    ch = enumerate_chambers(X)
    assert ch.complete
    p = solve_primal(X, y, ch)
    q = solve_dual(X, y, ch)
    assert p.status is Status.OPTIMAL and p.method == "direct"
    assert q.value == pytest.approx(p.value, rel=REL)
    assert y @ p.lam == pytest.approx(p.value, rel=REL)  # the paper's sign convention
    assert (y * p.lam >= 0).all()
    brackets(p)
    # the convex variables themselves: objective, cones and margin of program (14)
    P = ch.pattern_matrix()
    U, Up = p.u, p.u_prime
    norms = np.linalg.norm(U, axis=0).sum() + np.linalg.norm(Up, axis=0).sum()
    assert norms == pytest.approx(p.value, rel=REL)
    S = np.where(P, 1.0, -1.0).T
    assert (S * (X @ U)).min() >= -1e-7 and (S * (X @ Up)).min() >= -1e-7
    assert (y * (P.T * (X @ (Up - U))).sum(axis=1)).min() >= 1 - 1e-7
    assert float(q.lower_bound) <= p.value * (1 + 1e-9)
    assert float(q.lower_bound) == pytest.approx(p.value, rel=REL)


def test_restricted_pattern_list_is_not_optimal():
    X, y = random_problem(10, 8, 2)
    ch = enumerate_chambers(X)
    full = solve_primal(X, y, ch)
    P = ch.pattern_matrix()
    part = solve_primal(X, y, P)  # a bare array: completeness not claimed
    assert part.status is Status.RESTRICTED and part.lower_bound is None
    assert part.value == pytest.approx(full.value, rel=REL)
    sub = [n.pattern for n in full.neurons][:1] + [0, 1, 2, 3, 4, 5]
    small = solve_primal(X, y, P[sorted(set(sub))])
    if small.status is Status.RESTRICTED:
        assert small.value >= full.value * (1 - 1e-9)


def test_to_dict_is_json_ready_and_bad_input():
    X, y = random_problem(11, 6, 2)
    sol = column_generation(X, y)
    d = json.loads(json.dumps(sol.to_dict()))
    assert d["status"] == "optimal" and d["lower_bound"]["exact"].count("/") <= 1
    with pytest.raises(InputError, match="labels in"):
        column_generation(X, np.arange(6.0))
    with pytest.raises(InputError, match="6 labels"):
        solve_orthogonally_separable(X, y[:5])


def test_polish_refits_norms_to_margin_one():
    from verify.convex.programs import Neuron, polish

    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0, 1.0])
    nr = (Neuron(1, (1.0, 0.0), 0.5), Neuron(-1, (0.0, 1.0), 3.0))
    out = polish(X, y, nr)
    # x3 = (1, 1): c1 - c2 >= 1, x1: c1 >= 1, x2: c2 >= 1  ->  c = (2, 1)
    assert [round(n.norm, 9) for n in out] == [2.0, 1.0]
    assert float(upper_bound(X, y, np.column_stack([n.w1 for n in out]),
                             np.array([n.w2 for n in out]))) == pytest.approx(3.0, rel=1e-9)


def test_patterns_that_cannot_separate_give_no_bounds_and_no_network():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0])
    P = np.zeros((1, 2), dtype=bool)  # every neuron inactive: the margin constraint fails
    primal, dual = solve_primal(X, y, P), solve_dual(X, y, P)
    assert primal.status is Status.INFEASIBLE and dual.status is Status.UNBOUNDED
    for sol, method in ((primal, "restricted"), (dual, "dual")):
        assert sol.method == method and sol.neurons == () and sol.n_chambers == 1
        assert sol.lower_bound is None and sol.upper_bound is None and not sol.lam.any()
        assert sol.message.startswith("solver status")


#: ``verify.convex.programs.__all__`` before the split into colgen / closedform / bounds (a
# contract).


def test_no_import_cycle_whichever_module_comes_first():
    code = """
import importlib, sys
for first in ("verify.convex.bounds", "verify.convex.closed_form",
"verify.convex.column_generation", "verify.convex.chamber_oracle"):
    for name in [m for m in sys.modules if m == "verify" or m.startswith("verify.")]:
        del sys.modules[name]
    importlib.import_module(first)
    exec("from verify.convex.programs import *; from verify.convex.chamber_oracle import *", {})
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
