"""The final proof over a partition with semidefinite leaves (``verify.convex.semidefinite_dual``).

Cross-checked against brute force in 2-D (every piece's bound from the program's multipliers is
above the maximum over its cone on a fine grid of the circle), against the chamber route (the
exact lower bound never exceeds ``P*``, and ``s`` is above the exact ``s(lam)`` of the chambers
of ``X_S``), and through the trusted checker (a certificate from its evidence checks; tampered
sdp leaves fail).
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest

from verify.convex import semidefinite_dual
from verify.convex.bounds import exact_yT_lam
from verify.convex.branch_and_bound_evidence import evidence_from_results
from verify.convex.final_proof import _final_proof
from verify.convex.node_bound import SdpPolicy
from verify.convex.semidefinite_dual import (
    _chords,
    _first_pieces,
    _fixed_bound,
    _program,
    _solve_sdp,
    _structure,
    semidefinite_final_proof,
)
from verify.convex.support_chambers import SupportOracle, support_maximize


def _labels(X):
    return np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 - 0.4 > 0, 1.0, -1.0)


def _start(X, y, rng):
    """A dual point of the right signs, not feasible (so the proof has work to do)."""
    return y * rng.uniform(0.2, 1.0, size=y.size)


def _pieces(X, y, lam, nodes=12):
    S = np.flatnonzero(lam)
    x = _structure(lam[S], y[S])
    out = _first_pieces(X, S, x, nodes)
    _chords(out, X[S], x)
    _solve_sdp(out, X[S], x, None, None)
    return S, x, out


def _grid_max(XS, mu, sig, n=200_001):
    th = np.linspace(0.0, 2 * np.pi, n)
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    V = U @ XS.T
    inside = np.all(sig[None, :] * V >= -1e-12, axis=1)
    vals = np.maximum(V, 0.0) @ mu
    return float(vals[inside].max()) if inside.any() else 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_program_multipliers_bound_every_piece_2d(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((14, 2))
    y = _labels(X)
    lam = _start(X, y, rng)
    S, x, pieces = _pieces(X, y, lam)
    XS, ys = X[S], y[S]
    assert any(p.sd is not None and p.sd.bound < p.ch.bound for p in pieces)
    got = _program(pieces, XS, ys, x, None)
    assert got is not None
    xn, mults = got
    xn = _structure(xn, ys)
    assert np.all(ys * xn > 0)
    checked = 0
    for p, m in zip(pieces, mults):
        if m is None:
            continue
        f = _fixed_bound(XS, p, m[0], m[1], m[2], xn)
        if f is None:
            continue
        truth = _grid_max(XS, p.sign * xn, p.sig)
        assert f.bound >= truth - 1e-9, (f.bound, truth)
        # the program kept every piece's model <= 1 (up to the solver and eps I)
        assert f.bound <= 1.0 + 1e-3
        checked += 1
    assert checked > 0
    # the program improves on the start, scaled by its largest piece bound
    top = max(p.bound for p in pieces)
    assert float(ys @ xn) >= float(ys @ x) / top - 1e-6


@pytest.mark.parametrize("seed,d", [(3, 3), (4, 3), (5, 4)])
def test_final_proof_is_below_pstar_and_above_the_exact_s(seed, d):
    from verify.convex.column_generation_bab import solve_branch_and_bound

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((18, d))
    y = _labels(X)
    ref = solve_branch_and_bound(X, y)  # the chambers of X_S: optimal, exact bounds
    assert ref.status.value == "optimal"
    pstar = float(ref.upper_bound)
    lam0 = _start(X, y, rng)
    trace: list = []
    lam, plus, minus = semidefinite_final_proof(X, y, lam0, seconds=6.0, first_nodes=8,
                                                split=6, trace=trace)
    assert np.array_equal(np.flatnonzero(lam), np.flatnonzero(lam0))  # the support is kept
    assert np.all(y * lam >= 0)
    ev = evidence_from_results(X, lam, plus, minus)
    lb = exact_yT_lam(y, lam) / max(Fraction(1), ev.s)
    assert float(lb) <= pstar * (1 + 1e-9)
    # the returned bound is the best one traced, and at least the first partition's
    assert float(lb) >= trace[0][2] * (1 - 1e-6)
    assert float(lb) >= max(v for *_, v in trace) * (1 - 1e-6)
    # s covers the exact maximum over the chambers of X_S, both signs
    exact = support_maximize(X, lam)  # (plus, minus) over every chamber of X_S
    for res, ex in zip((plus, minus), exact):
        assert float(ev.s) >= ex.upper - 1e-9
        assert res.upper >= ex.upper - 1e-9


def test_final_proof_through_the_oracle_and_the_checker(tmp_path, monkeypatch):
    from verify.certificate.build import build_certificate, dumps_certificate
    from verify.checker.check import check_file
    from verify.convex.column_generation_bab import solve_branch_and_bound
    from verify.convex.routes import ClassSolve, optimal_weights
    from verify.io.datasets import load_dataset
    from verify.io.models import save_model
    from verify.network.model import Network

    rng = np.random.default_rng(7)
    X = rng.standard_normal((24, 4))
    y = _labels(X)
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"X": X.tolist(), "y": [int(v) for v in y]}))
    ds = load_dataset(data)
    yy = ds.Y[:, 0].astype(float)
    ref = solve_branch_and_bound(ds.X, yy, support_limit=0)
    dual = SupportOracle(ds.X, oracle_limit=0, evidence_limit=0, sdp=SdpPolicy())
    lam0 = ref.lam * 1.5  # infeasible: the partition must prove a scaled version
    # the partition alone: refined to (exact) chord leaves, its bound reaches P* (7.7840871
    # here; the chamber route's upper bound)
    lam, plus, minus = semidefinite_final_proof(ds.X, yy, lam0, seconds=5.0)
    ev = dual.evidence(lam, plus, minus)
    lb = exact_yT_lam(yy, lam) / max(Fraction(1), ev.s)
    assert lb <= ref.upper_bound and float(lb) >= float(ref.upper_bound) * (1 - 1e-3)
    # through the final proof's switch: the chord rounds, then the partition from their best
    calls = []
    real = semidefinite_dual.semidefinite_final_proof

    def spy(*a, **k):
        calls.append(k["seconds"])
        return real(*a, **k)

    monkeypatch.setattr(semidefinite_dual, "semidefinite_final_proof", spy)
    lam, plus, minus = _final_proof(dual, yy, lam0, 1.0, 1000, 6.0)
    assert len(calls) == 1 and 0 < calls[0] <= 6.0
    ev = dual.evidence(lam, plus, minus)
    lb2 = exact_yT_lam(yy, lam) / max(Fraction(1), ev.s)
    assert lb2 <= ref.upper_bound and float(lb2) >= float(ref.upper_bound) * (1 - 1e-3)
    # a coarse partition keeps semidefinite leaves: the certificate the checker replays
    lam, plus, minus = semidefinite_final_proof(ds.X, yy, lam0, seconds=3.0, first_nodes=4,
                                                split=1)
    assert any(lf.sdp is not None for r in (plus, minus) for lf in r.leaves)
    ev = dual.evidence(lam, plus, minus)
    lb = exact_yT_lam(yy, lam) / max(Fraction(1), ev.s)
    assert 0 < lb <= ref.upper_bound
    sol = dataclasses.replace(ref, evidence=ev, lower_bound=lb, s=float(ev.s), lam=lam)
    cs = ClassSolve(0, ds.positive_label, yy, sol, "branch-and-bound", False, None)
    W1, w2 = optimal_weights([cs], ds.n_features)
    save_model(tmp_path / "m.npz", W1, w2)
    path = tmp_path / "c.cert.json"
    cert = build_certificate(ds, Network(W1, w2), data_path=data, model_path=tmp_path / "m.npz",
                             cert_path=path, solves=[cs])
    leaves = [n["leaf"] for t in cert["classes"][0]["evidence"]["trees"].values() for n in t
              if "leaf" in n and "sdp" in n["leaf"]]
    assert leaves
    path.write_text(dumps_certificate(cert))
    rep = check_file(path)
    assert rep.valid, rep.failures
    bad = json.loads(json.dumps(cert))
    [n["leaf"] for t in bad["classes"][0]["evidence"]["trees"].values() for n in t
     if "leaf" in n and "sdp" in n["leaf"]][0]["sdp"]["rho"] = "0"
    path.write_text(dumps_certificate(bad))
    assert "bab-sdp" in {f.rule for f in check_file(path).failures}


def test_final_proof_with_every_leaf_bound_zero():
    """All rows of ``X_S`` zero: every leaf's bound is 0 (``top = 0``); the final scaling must
    not divide by it (it gave ``lam = inf`` and a LinAlgError)."""
    X = np.zeros((5, 2))
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    lam, plus, minus = semidefinite_final_proof(X, y, 0.5 * y, seconds=0.5)
    assert np.all(np.isfinite(lam)) and np.all(y * lam > 0)
    assert max(plus.upper, minus.upper) <= 1.0
    ev = evidence_from_results(X, lam, plus, minus)
    assert ev.s <= 1


def test_every_semidefinite_solve_is_bounded_by_the_budget(monkeypatch):
    """The first partition and each round's new children were solved with no deadline (a 3 s
    budget took 6.1 s on breast-cancer): every call now gets the run's deadline, and pieces
    the budget leaves out keep their chord bounds (the result still passes the evidence)."""
    calls = []
    real = semidefinite_dual._solve_sdp

    def spy(pieces, XS, x, executor, deadline, tight=None):
        calls.append(deadline)
        return real(pieces, XS, x, executor, deadline, tight)

    monkeypatch.setattr(semidefinite_dual, "_solve_sdp", spy)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((16, 3))
    y = _labels(X)
    lam0 = _start(X, y, rng)
    lam, plus, minus = semidefinite_final_proof(X, y, lam0, seconds=2.0, first_nodes=8,
                                                split=6)
    assert len(calls) >= 2 and all(d is not None for d in calls)
    # a budget already spent: no semidefinite solve at all, the chords alone are the proof
    calls.clear()
    lam, plus, minus = semidefinite_final_proof(X, y, lam0, seconds=0.0, first_nodes=8)
    leaves = [lf for r in (plus, minus) for lf in r.leaves]
    assert all(lf.sdp is None for lf in leaves)
    ev = evidence_from_results(X, lam, plus, minus)
    assert ev.s <= 1 + Fraction(1, 10**6)


def test_final_proof_of_a_zero_lam_is_a_clear_error():
    """``lam = 0`` has no support to keep: an InputError that says so (was a bare
    ``ValueError`` from ``max`` of an empty array)."""
    from verify.errors import InputError

    X = np.eye(3)
    with pytest.raises(InputError, match="nonzero lam"):
        semidefinite_final_proof(X, np.array([1.0, -1.0, 1.0]), np.zeros(3), seconds=1.0)


def test_split_row_is_the_relaxations_largest_violation():
    """A piece is split on the lifted row of largest ``mu_j (E t_j - (x_j^T E u)_+)`` of its
    last SCS solution: recomputed here from the whole matrix ``Z`` (unscaled from ``t / h``),
    not its first row; a piece with no solution falls back to the chord's row; the children
    fix that row on both sides."""
    from verify.convex import semidefinite_bound as sb

    rng = np.random.default_rng(11)
    X = rng.standard_normal((14, 3))
    y = _labels(X)
    lam = _start(X, y, rng)
    S, x, pieces = _pieces(X, y, lam, nodes=4)
    XS = X[S]
    d = XS.shape[1]
    checked = 0
    for p in pieces:
        if p.warm is None or p.warm.raw is None or p.warm.lifted.size == 0:
            continue
        _, sol, _, _, _, _, D = p.warm.raw
        n = 1 + d + p.warm.lifted.size
        r, c, scale = sb._lower(n)
        Z = np.zeros((n, n))
        Z[r, c] = sol[:r.size] / scale
        Z[c, r] = Z[r, c]
        Z = Z * np.outer(D, D)
        lifted = p.warm.lifted
        viol = p.sign * x[lifted] * (Z[0, 1 + d:] - np.maximum(XS[lifted] @ Z[0, 1:1 + d], 0))
        free = (p.sig[lifted] == 0) & ~np.isin(lifted, list(p.ch.settled))
        row = semidefinite_dual._violation_row(p, XS, x)
        assert p.sig[row] == 0
        if np.any(free & (viol > 0)):
            assert row == int(lifted[np.flatnonzero(free)[np.argmax(viol[free])]])
            checked += 1
        else:
            assert row == int(p.ch.split)
    assert checked > 0
    bare = dataclasses.replace(pieces[0], warm=None)
    assert semidefinite_dual._violation_row(bare, XS, x) == int(bare.ch.split)
    out, new = semidefinite_dual._split(pieces, 1, XS, x)
    top = max(pieces, key=lambda p: p.bound)
    k = semidefinite_dual._violation_row(top, XS, x)
    assert len(new) == 2 and {c.sig[k] for c in new} == {1, -1}
    assert all(c.path[:-1] == top.path for c in new) and len(out) == len(pieces) + 1


def test_every_semidefinite_solve_gets_the_seconds_left(monkeypatch):
    """Each solve in a batch gets SCS's time limit from the run's deadline (a batch that began
    just before it used to run to the tolerance, past the budget)."""
    seen = []
    real = semidefinite_dual.semidefinite_bound

    def spy(*a, **k):
        seen.append(k.get("seconds"))
        return real(*a, **k)

    monkeypatch.setattr(semidefinite_dual, "semidefinite_bound", spy)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((16, 3))
    y = _labels(X)
    semidefinite_final_proof(X, y, _start(X, y, rng), seconds=2.0, first_nodes=8, split=6)
    assert seen and all(s is not None and s <= 2.0 for s in seen)


def test_a_chunk_that_waits_for_a_busy_worker_gets_only_what_is_left(monkeypatch, fake_clock):
    """A batch is one chunk per worker; a chunk that waited (a worker busy with another task)
    counted the batch's seconds from its own start, past the deadline.  Every solve must get at
    most what is really left (clocks that move only when a solve is said to take time)."""
    from concurrent.futures import ThreadPoolExecutor

    from verify.convex import semidefinite_bound as sb

    clock = fake_clock
    for mod in (semidefinite_dual, sb):
        monkeypatch.setattr(mod, "time", clock)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((16, 3))
    y = _labels(X)
    lam = _start(X, y, rng)
    S = np.flatnonzero(lam)
    x = _structure(lam[S], y[S])
    pieces = _first_pieces(X, S, x, 8)
    _chords(pieces, X[S], x)
    deadline = clock.now + 2.0
    seen = []
    real = semidefinite_dual.semidefinite_bound

    def slow(*a, **k):
        seconds = k.get("seconds")
        seen.append((seconds, deadline - clock.now))
        if seconds is not None and seconds > 0:
            clock.now += 0.9 * seconds  # a solve that uses most of its limit
        return real(*a, **k)

    monkeypatch.setattr(semidefinite_dual, "semidefinite_bound", slow)
    with ThreadPoolExecutor(1) as ex:
        ex._max_workers = 2  # two workers as far as the batch knows, one of them busy
        _solve_sdp(pieces, X[S], x, ex, deadline)
    assert len(seen) >= 2
    assert all(s is not None and s <= left + 1e-9 for s, left in seen), seen
