"""The closed form and the spike-free route (verify.convex.closed_form) against the direct
program.
"""

from __future__ import annotations

import numpy as np
import pytest
from convex_cases import REL, brackets, grid_dual_check, orth_separable

from verify.convex.closed_form import (
    solve_orthogonally_separable,
    solve_spike_free,
    spike_free_restated_value,
)
from verify.convex.programs import solve_primal
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.separability import orthogonal_separability
from verify.geometry.spike_free import spike_free
from verify.status import Status


@pytest.mark.parametrize(("seed", "N", "d"), [(0, 8, 2), (1, 8, 3), (2, 7, 5), (3, 10, 3)])
def test_closed_form_equals_direct_on_orthogonally_separable_data(seed, N, d):
    X, y = orth_separable(seed, N, d)
    assert orthogonal_separability(X, (y > 0).astype(int)).separable
    cf = solve_orthogonally_separable(X, y)
    direct = solve_primal(X, y, enumerate_chambers(X))
    assert cf.status is Status.OPTIMAL and cf.method == "closed-form"
    assert cf.value == pytest.approx(direct.value, rel=REL)
    brackets(cf, direct.value)
    assert len(cf.neurons) == 2 and {n.sign for n in cf.neurons} == {1, -1}
    assert (y * cf.lam >= 0).all()
    assert y @ cf.lam == pytest.approx(direct.value, rel=REL)


def test_closed_form_2d_brute_force():
    X, y = orth_separable(7, 9, 2)
    cf = solve_orthogonally_separable(X, y)
    assert grid_dual_check(X, cf.lam) <= 1 + 1e-8
    # primal side: the best 2-neuron network over an angle grid (one neuron per class)
    t = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    U = np.stack([np.cos(t), np.sin(t)])
    best = np.inf
    for sign in (1.0, -1.0):
        F = np.maximum(X[y == sign] @ U, 0.0)  # (n_class, grid)
        G = np.maximum(X[y == -sign] @ U, 0.0)
        ok = (F.min(axis=0) > 0) & (G.max(axis=0) == 0)
        best_c = (1.0 / F.min(axis=0)[ok]).min()  # ||w|| for a unit direction
        best = best_c if sign > 0 else best + best_c
    assert cf.value <= best * (1 + 1e-9)
    assert cf.value == pytest.approx(best, rel=1e-6)


def test_closed_form_single_class_and_paper_f1():
    X = np.array([[1.0, 0.2], [0.8, 1.0]])
    sol = solve_orthogonally_separable(X, np.array([1.0, 1.0]))
    assert len(sol.neurons) == 1 and sol.neurons[0].sign == 1
    brackets(sol)
    X = np.array([[1.65, 0.47], [-0.47, 1.35]])
    y = np.array([1.0, -1.0])
    cf = solve_orthogonally_separable(X, y)
    assert cf.value == pytest.approx(solve_primal(X, y, enumerate_chambers(X)).value, rel=REL)


def test_closed_form_refuses_non_separable_data():
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    with pytest.raises(InputError, match="not orthogonally separable"):
        solve_orthogonally_separable(X, np.array([1.0, 1.0, -1.0]))


def test_spike_free_route_on_whitened_data():
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0
    X = np.zeros((4, 6))
    X[:, [4, 0, 2, 5]] = H  # X X^T = I exactly (dyadic entries), N = 4 <= d = 6
    assert (X @ X.T == np.eye(4)).all()
    y = np.array([1.0, 1.0, 1.0, -1.0])
    assert spike_free(X).spike_free is True
    sf = solve_spike_free(X, y)
    direct = solve_primal(X, y, enumerate_chambers(X))
    assert sf.status is Status.OPTIMAL and sf.method == "spike-free"
    assert sf.value == pytest.approx(direct.value, rel=REL)
    assert sf.value == pytest.approx(np.sqrt(3) + 1, rel=REL)  # sqrt(N+) + sqrt(N-)
    brackets(sf, direct.value)
    assert spike_free_restated_value(X, y) == pytest.approx(sf.value, rel=REL)


def test_restatement_66_is_not_equivalent():
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0])
    assert spike_free(X).spike_free is True
    direct = solve_primal(X, y, enumerate_chambers(X)).value
    sf = solve_spike_free(X, y)
    assert sf.value == pytest.approx(direct, rel=REL)
    assert direct == pytest.approx(1 + np.sqrt(2), rel=REL)
    restated = spike_free_restated_value(X, y)
    assert restated == pytest.approx(1 + 1 / np.sqrt(2), rel=REL)
    assert restated < direct - 0.5  # a strictly smaller dual value: not equivalent


def test_spike_free_route_refuses_data_with_spikes():
    X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    with pytest.raises(InputError, match="not spike-free"):
        solve_spike_free(X, np.array([1.0, -1.0, 1.0]))
