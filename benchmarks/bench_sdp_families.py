"""Benchmark: does anything tighten the semidefinite node bound further? (plain script)

The semidefinite bound of :mod:`verify.convex.semidefinite_bound` (Shor on ``(1, u, t)`` with
the cone-times-ReLU products) is what closes breast-cancer leaves the chord leaves open, but
its root bound is still ~4x the maximum and a tree needs ~10 splits before it is near 1
(docs/branch_and_bound.md).  This script measures, on the nodes along the heaviest path of a
chord tree (at each split the child with the larger chord bound; depths 0, 4, 7, 10), the
relaxation's value (SCS's objective at ``eps = 1e-5``: a float estimate, not a bound) of:

* ``base`` - the relaxation as built;
* ``+relu`` - with the products of the ReLU inequalities among themselves, ``t_i t_j >= 0``,
  ``t_i (t_j - x_j^T u) >= 0``, ``(t_i - x_i^T u)(t_j - x_j^T u) >= 0`` (RLT);
* ``+soc`` - with the second-order-cone RLT of the ball and each linear inequality
  ``g(z) >= 0`` (``t_j``, ``t_j - x_j^T u``, the cone rows): ``||Z_{u,:} g|| <= Z_{0,:} g``
  (from ``||u|| g <= g``);
* ``lift k`` - only the ``k`` free rows of largest chord gap ``mu_j (-h_j l_j) / (h_j - l_j)``
  lifted, the others by their chords (a cheaper, smaller matrix).

The point: the first restricted ``lam`` of column generation on breast-cancer (warm start, as
``verify solve`` runs it), scaled so that the best value a short search finds is 1 (as
``bench_relaxations.py``), times ``--scale``.

Run: ``python benchmarks/bench_sdp_families.py [--scale F]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

from verify.convex import semidefinite_bound as sb
from verify.convex.branch_and_bound import bab_maximize
from verify.convex.node_bound import _node_bound
from verify.io.datasets import load_dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_relaxations import _first_lam  # noqa: E402


def relaxation(sig, XS, mu, chord, relu=False, soc=False, lift=None, eps=1e-5):
    """``(value, seconds)`` of the relaxation of one node with the chosen extra families."""
    import scs

    d = XS.shape[1]
    free = np.flatnonzero(sig == 0)
    lifted = free[mu[free] > 0]
    fneg = free[mu[free] < 0]
    const, cadd = 0.0, np.zeros(d)
    if lift is not None and lifted.size > lift:
        lo, hi = (np.array([chord.intervals[int(q)][i] for q in lifted]) for i in (0, 1))
        inner = (lo < 0) & (hi > 0)
        gap = np.where(inner, mu[lifted] * (-hi * lo) / np.where(inner, hi - lo, 1.0), 0.0)
        order = np.argsort(-gap)
        rest, lifted = lifted[order[lift:]], np.sort(lifted[order[:lift]])
        for q in rest:
            lq, hq = chord.intervals[int(q)][:2]
            if hq > 0:
                a, b = (1.0, 0.0) if lq >= 0 else (hq / (hq - lq), -hq * lq / (hq - lq))
                cadd += mu[q] * a * XS[q]
                const += mu[q] * b
        mu = mu.copy()
        mu[rest] = 0.0
    k, nneg = lifted.size, fneg.size
    n = 1 + d + k
    lower = sb._lower(n)
    e0, c, fam = sb._vectors(sig, XS, mu, lifted, fneg, None)
    c[1:1 + d] += cadd
    H = np.array([max(chord.intervals[int(q)][1], 0.0) for q in lifted])
    D = np.concatenate([np.ones(1 + d), np.where(H > 0, H, 1.0)])
    c = c * D
    fam = {f: (V * D, W * D) for f, (V, W) in fam.items()}
    T, Tx = fam["t"][1], fam["tx"][1]
    if relu and k > 1:
        iu, ju = np.triu_indices(k, 1)
        ii, jj = np.nonzero(~np.eye(k, dtype=bool))
        fam["tt"], fam["ttx"], fam["txtx"] = (T[iu], T[ju]), (T[ii], Tx[jj]), (Tx[iu], Tx[ju])
    obj = sb._svec_sym(e0[None], c[None], lower)[0]
    z_rows = [sb._svec_sym(e0[None], e0[None], lower), sb._svec_sym(*fam["eq"], lower)]
    ball = sb._svec_sym(e0[None], e0[None], lower)
    ball[0, np.flatnonzero((lower[0] == lower[1]) & (lower[0] >= 1) & (lower[0] <= d))] = -1.0
    ge = [f for f in fam if f != "eq" and fam[f][0].shape[0]]
    Ge = sp.csr_matrix(np.concatenate([ball] + [sb._svec_sym(*fam[f], lower) for f in ge]))
    Zq = sp.csr_matrix(np.concatenate(z_rows))
    Xn = np.zeros((nneg, n))
    Xn[:, 1:1 + d] = XS[fneg]
    blocks = [[Zq, None], [-Ge, None]]
    if nneg:
        xn = sp.csr_matrix(sb._svec_sym(np.tile(e0, (nneg, 1)), Xn, lower))
        Is = sp.identity(nneg, format="csr")
        blocks += [[None, -Is], [xn, -Is]]
    qs: list[int] = []
    if soc:
        Eu = np.zeros((d, n))
        Eu[np.arange(d), 1 + np.arange(d)] = 1.0
        rows = []
        for g in np.concatenate([T, Tx, fam["cone"][1]]):
            rows.append(np.concatenate([sb._svec_sym(e0[None], g[None], lower),
                                        sb._svec_sym(Eu, np.tile(g, (d, 1)), lower)]))
            qs.append(d + 1)
        blocks.append([-sp.csr_matrix(np.concatenate(rows)), None])
    blocks.append([-sp.identity(lower[0].size, format="csr"), None])
    if not nneg:
        blocks = [[b[0]] for b in blocks]
    A = sp.bmat(blocks, format="csc")
    b = np.zeros(A.shape[0])
    b[0] = 1.0
    cone = {"z": Zq.shape[0], "l": Ge.shape[0] + 2 * nneg, "s": [n]}
    if qs:
        cone["q"] = qs
    t0 = time.perf_counter()
    sol = scs.SCS({"A": A, "b": b, "c": -np.concatenate([obj, mu[fneg]])}, cone, eps_abs=eps,
                  eps_rel=eps, max_iters=20_000, verbose=False).solve()
    return -sol["info"]["pobj"] + const, time.perf_counter() - t0


def main(scale: float) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ds = load_dataset(os.path.join(here, "data", "breast_cancer_std.csv"))
    X, y = ds.X, ds.Y[:, 0].astype(float)
    lam = _first_lam(X, y)
    best = max(bab_maximize(X, lam, sign=s, node_limit=200).lower for s in (1, -1))
    lam = lam * (scale / best)
    S = np.flatnonzero(lam)
    XS, norms = X[S], np.linalg.norm(X[S], axis=1)
    print(f"breast-cancer, first restricted lam scaled by {scale:g}/{best:.4f}: |S| = {S.size}")
    cols = (("base", {}), ("+relu", {"relu": True}), ("+soc", {"soc": True}),
            ("lift 16", {"lift": 16}), ("lift 10", {"lift": 10}))
    print(f"{'sign':>4} {'depth':>5} {'free+':>5} {'chord':>8} "
          + " ".join(f"{name:>8} {'s':>5}" for name, _ in cols))
    for sign in (1, -1):
        mu = sign * lam[S]
        sig = np.zeros(S.size, dtype=np.int8)
        for depth in range(11):
            ch = _node_bound(sig, {}, XS, mu, norms)
            if depth in (0, 4, 7, 10):
                free = int(np.sum((sig == 0) & (mu > 0)))
                vals = [relaxation(sig, XS, mu, ch, **kw) for _, kw in cols]
                print(f"{sign:>4} {depth:>5} {free:>5} {ch.bound:>8.4f} "
                      + " ".join(f"{v:>8.4f} {t:>5.2f}" for v, t in vals), flush=True)
            kids = []
            for side in (1, -1):
                kid = sig.copy()
                kid[ch.split] = side
                kids.append((_node_bound(kid, {}, XS, mu, norms).bound, side, kid))
            sig = max(kids, key=lambda t: (t[0], t[1]))[2]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    main(ap.parse_args().scale)
