"""The final proof of the branch-and-bound route: trees for the last ``lam``, then better ``lam``.

When the loop of :func:`verify.convex.column_generation_bab.solve_branch_and_bound` stops
without a proof (rounds, the node or time budget), :func:`_final_proof` grows the two trees of
the best point the oracle saw and alternates the dual over their leaves
(:func:`verify.convex.tree_dual.tree_dual`: a new ``lam``) with fresh, refined trees for it,
keeping the largest anytime bound ``y^T lam / max(1, s)``; the trees of the returned ``lam``
become the exact evidence.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from verify.convex.branch_and_bound import BabResult
from verify.convex.inout_pricing import _estimate, exact_support

__all__: list[str] = []  # the loop's helper: nothing public

#: The final proof: the first trees get ``_FIRST_TREES`` of its seconds; then at most
#: ``_TREE_DUAL_ROUNDS`` times the dual over their leaves (:func:`verify.convex.tree_dual.
#: tree_dual`) gives a new ``lam`` and fresh trees are grown for it; a round gains when the
#: anytime bound grows by more than ``_TREE_DUAL_GAIN`` (relative).
_FIRST_TREES, _TREE_DUAL_ROUNDS, _TREE_DUAL_GAIN = 0.12, 40, 1e-4
#: Trees of the later rounds are refined (:func:`~verify.convex.branch_and_bound.bab_maximize`
#: ``refine``) towards the target ``_REFINE * thr``, at most ``_REFINE_NODES`` nodes each when
#: there is no budget (doubled after each round without a gain): leaves tight for the current
#: ``lam`` are split further, which is what lets the next program move (on breast-cancer
#: 7.4 -> 7.8 -> 8.1 -> 8.2, where unrefined trees stopped at 7.65).
_REFINE, _REFINE_NODES = 0.9, 20_000
#: The program's network (:class:`verify.convex.tree_dual.LeafNetwork`) has margins ``>= 1``
#: on its rows; at most ``_JOIN`` samples outside them with margin below ``1 - _MISSED`` (the
#: smallest first) are rows of the next wide program.  When the partition is fine enough that
#: every cut the network uses is exact, the program's value is ``P*`` of its rows alone, and
#: only samples that network misses can raise it (on breast-cancer a 600 s final proof stopped
#: at 8.6187, ``P*`` of its 27 rows, its network missing 83 of the 569 samples).
_JOIN, _MISSED = 10, 1e-6
#: When a program gains nothing the missed samples enter the next trees' ``lam`` with
#: ``|lam_n| = _SEED * mean |lam|`` (see :func:`_final_proof`).
_SEED = 0.5


def _final_proof(dual: Any, y: np.ndarray, lam: np.ndarray, thr: float, node_limit: int,
                 seconds: float | None, trees: tuple | None = None, *,
                 neurons: list | None = None) -> tuple[np.ndarray, Any, Any]:
    """Trees for ``lam``, then better ``lam`` from the dual over their leaves: ``(lam, plus,
    minus)`` of the largest anytime bound ``y^T lam / max(1, s)`` seen.

    Any ``lam`` with ``diag(y) lam >= 0`` gives a valid bound, and the best one a partition of
    the ball can prove is one convex program over its leaves
    (:func:`verify.convex.tree_dual.tree_dual`, cutting planes; on breast-cancer it took the
    bound from 5.41 to 8.18 on the first trees of a 600 s run).  Each new ``lam`` is only a
    candidate: fresh trees are grown for it (their exact evidence decides), and they are the
    partition of the next round.  The program's rows are the current support; after a round
    that gains less than ``_TREE_DUAL_GAIN`` (relative) they are every sample of the first
    support, so that samples an early partition dropped can come back (on breast-cancer the
    narrow program took 16-23 s where the wide one took 52-66 s, for the same ``y^T lam``
    within 2e-5 relative).  After a round without a gain the refined trees get twice the
    seconds (without a budget, twice the nodes) of the round before, until a round gains: the
    program had stopped at the best ``lam`` these partitions prove, and the same ``lam``'s
    trees grown the same way would be the same (a seeded round, below, neither doubles them nor
    widens the rows: the next program is on the trees that split on the new samples).  The
    rounds stop when ``seconds`` run out (without a budget: at the second wide or seeded round
    without a gain since the last gain), after ``_TREE_DUAL_ROUNDS``, or when the oracle
    answers from the chambers of ``X_S`` (no tree: exact already).  Each program's network
    (its linear program's dual, :class:`verify.convex.tree_dual.LeafNetwork`) has margins
    ``>= 1`` on the program's rows; up to ``_JOIN`` samples outside the new support that it
    misses join the next wide program's rows (a working set of samples: ``P*`` of the rows is all a
    partition of them can prove); when the program gains nothing on its partition they also
    enter the ``lam`` the next trees are grown for (weight ``_SEED`` of the mean), so that the
    partition splits on them; the rounds that then climb back from that (weaker) point, each
    gaining on the round before, keep the usual trees and rows.  Its
    neurons are appended to ``neurons`` when a list is given: with their norms refitted over
    every sample they may give a better network than the loop's.  ``trees`` (the loop's two
    searches for this ``lam``, kept with their leaves) are the first trees when they took at
    least half the seconds the first trees would get: any tree is a partition of the ball, so
    they need not be grown again (on breast-cancer ~12 % of the proof's seconds).  With a
    semidefinite policy (``dual.sdp``, ``--sdp-depth``) and a budget, the whole proof is
    instead :func:`verify.convex.semidefinite_dual.semidefinite_final_proof` (a partition with
    semidefinite leaves; its dual keeps the support of ``lam``).

    Examples
    --------
    >>> from verify.convex.support_chambers import SupportOracle
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([1.0, -1.0])
    >>> lam, plus, minus = _final_proof(SupportOracle(X), y, np.array([1.0, -1.0]), 1.0, 100, 5.0)
    >>> lam.tolist(), plus.status, minus.status
    ([1.0, -1.0], 'proved', 'proved')
    >>> dual = SupportOracle(X, oracle_limit=0, evidence_limit=0)  # trees, no chambers
    >>> lam, plus, minus = _final_proof(dual, y, np.array([2.0, -0.5]), 1.0, 100, 5.0)
    >>> lam.round(6).tolist(), round(max(plus.upper, minus.upper), 6)  # s(2, -0.5) = 2
    ([1.0, -1.0], 1.0)
    """
    from verify.convex.programs import Neuron
    from verify.convex.tree_dual import dual_over_leaves

    if getattr(dual, "sdp", None) is not None and seconds is not None and (
            dual.chambers(lam, dual.oracle_limit) is None):
        from verify.convex.semidefinite_dual import semidefinite_final_proof

        return semidefinite_final_proof(dual.X, y, lam, seconds=seconds,
                                        executor=dual.executor)
    t0 = time.monotonic()

    def left() -> float | None:
        return None if seconds is None else seconds - (time.monotonic() - t0)

    first = None if seconds is None else _FIRST_TREES * seconds
    support = np.flatnonzero(lam)
    if first is not None and trees is not None and all(
            isinstance(t, BabResult) and t.leaves and np.array_equal(t.support, support)
            for t in trees) and sum(t.seconds for t in trees) >= 0.5 * first:
        plus, minus = trees
    else:
        plus, minus = dual.maximize(lam, prove_below=thr, node_limit=node_limit,
                                    time_limit=first)
    best = (_estimate(y, lam, plus, minus), lam, plus, minus)
    cur = best
    # the program's rows: the current support (narrow), until a round gains nothing; then
    # every sample of the first support (wide), so that a sample an early, coarse partition
    # dropped may come back; back to narrow after a wide round that gains
    wide = False
    stalled = 0  # wide or seeded rounds without a gain since the last gain
    grow = 1  # the refined trees get grow x their usual seconds (or nodes): doubled after a
    # round without a gain (the same lam's trees grown again the same way would be the same)
    join = np.zeros(0, dtype=np.int64)  # samples the last program's network misses
    recovering = False  # rounds since a seed that gain on the round before
    for _ in range(_TREE_DUAL_ROUNDS):
        seeded = False
        rest = left()
        if not (isinstance(cur[2], BabResult) and isinstance(cur[3], BabResult)) or (
                rest is not None and rest < 1.0):
            break
        base = support if wide else np.flatnonzero(cur[1])
        rows = np.union1d(base, join) if wide else None
        try:
            got = dual_over_leaves(dual.X, y, cur[1], (cur[2], cur[3]), rows=rows,
                                   time_limit=None if rest is None else 0.6 * rest)
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError):
            got = None  # the solver failed on a candidate search: the best bound so far stands
        new = None if got is None else got.lam
        if new is None:
            break
        new = exact_support(y, new)
        if got.network is not None:
            # the samples its network misses (margin < 1), most missed first, join the rows
            marg = got.network.margins(dual.X, y)
            miss = np.flatnonzero((marg < 1.0 - _MISSED) & (new == 0.0))
            join = miss[np.argsort(marg[miss], kind="stable")][:_JOIN]
            if neurons is not None:
                neurons.extend(Neuron(int(sg), tuple(map(float, u)), float(w))
                               for sg, u, w in zip(got.network.signs, got.network.directions,
                                                   got.network.weights) if u.any() and w > 0)
            if float(marg.min()) >= 1.0 - _MISSED and float(y @ new) <= cur[0] * (
                    1.0 + _TREE_DUAL_GAIN):
                break  # its network classifies every sample at the program's value, which
                # the partition already proves: lower and upper bound meet, nothing is left
            if join.size and float(y @ new) <= cur[0] * (1.0 + _TREE_DUAL_GAIN):
                # the program gains nothing on this partition: it would not take them with
                # their chords (loose on every leaf of the trees it has), so they enter the
                # trees' support with a weight of their own and the next partition splits on
                # them
                new = new.copy()
                new[join] = _SEED * float(np.abs(new[new != 0.0]).mean()) * y[join]
                seeded = True
        rest = left()
        if not new.any() or (rest is not None and rest < 0.5):
            break
        p2, m2 = dual.maximize(new, prove_below=_REFINE * thr, refine=True,
                               node_limit=node_limit if rest is not None else
                               min(node_limit, grow * _REFINE_NODES),
                               time_limit=None if rest is None else
                               max(min(rest, grow * (first or rest)), 0.5))
        prev, cur = cur[0], (_estimate(y, new, p2, m2), new, p2, m2)
        gained = cur[0] > best[0] * (1.0 + _TREE_DUAL_GAIN)
        if cur[0] > best[0]:
            best = cur
        if gained:
            stalled, wide, grow, recovering = 0, False, 1, False
            continue
        if seeded:  # the next program: on the trees that split on the new samples
            wide, stalled, recovering = False, stalled + 1, True
            if stalled >= 2 and seconds is None:
                break
            continue
        if recovering and cur[0] > prev * (1.0 + _TREE_DUAL_GAIN):
            # climbing back from the seeded point (below the best so far): a round that gains
            # on the round before keeps the usual trees and rows
            wide, grow = False, 1
            continue
        recovering = False
        grow *= 2
        if not wide:
            wide = True
        else:
            stalled += 1
            if stalled >= 2 and seconds is None:
                break
    return best[1], best[2], best[3]
