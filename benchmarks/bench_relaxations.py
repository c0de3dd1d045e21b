"""Benchmark: how tight are node relaxations stronger than the chord? (plain script)

The branch-and-bound oracle bounds ``max_{u in C ∩ ball} mu^T (X_S u)_+`` on a node by the
chord relaxation of each free row with ``mu_n > 0`` (``(t)_+ <= a t + b`` on ``[l, h]``) and
``alpha`` for the rows with ``mu_n < 0``; the maximum of that linear function over the cone and
the ball is Lemma 4.  On breast-cancer (``N = 569, d = 30``, supports of ~55-60 rows) the trees
do not close in minutes (docs/branch_and_bound.md).  This script measures, on the same nodes,
how much tighter three stronger (float, prototype) relaxations are, to decide what to build:

* **quadratic** - each chord gets a convex quadratic term: ``(t)_+ <= a t + b + g (t - l)(t - h)``
  with ``0 <= g <= min(h, -l) / (h - l)^2`` (valid on ``[l, h]``; ``g = 0`` is the chord), so the
  node bound is ``K + max_{||u|| <= 1} (c + A^T z)^T u + u^T Q u``, ``Q = sum mu_n g_n x_n x_n^T``:
  a trust-region problem (exact by the S-lemma: one eigendecomposition and a secular equation),
  convex in ``(g, alpha, z)``, minimised by L-BFGS-B from the chord's ``alpha, z``.  Never worse
  than the chord.  It sees that ``u`` cannot be near the hyperplanes of all rows at once.
* **Shor** - the semidefinite relaxation of ``t_n = (x_n^T u)_+`` for the free positive rows
  (``Z = [1, u, t][1, u, t]^T`` relaxed to ``Z >= 0``, ``tr U <= 1``, ``t >= 0``, ``t >= X u``,
  ``T_nn = x_n^T W_n``), with the cone rows and, for ``mu_n < 0``, ``s_n >= max(0, x_n^T u)``.
* **Shor + RLT** - with the products of those inequalities: ``t_n t_k >= 0``,
  ``(t_n - x_n^T u) t_k >= 0``, ``(a_m^T u) t_n >= 0``, ``(a_m^T u)(a_k^T u) >= 0``,
  ``(a_m^T u)(t_n - x_n^T u) >= 0`` (CVXPY with Clarabel).

The nodes: the root and the three open leaves of largest bound of a chord tree grown for
``--nodes`` node bounds (default 2,000) with the target 1, for each sign, at the dual point
``lam`` of the first restricted program of column generation on breast-cancer (from the
gradient-descent warm start, as ``verify solve`` runs it), scaled so that the best value found
by a short search is 1.  With ``--trees`` the script also grows a tree to the target ``1.02``
with the chord bound alone and with ``min(chord, quadratic)`` (same time limit each) and prints
nodes and final bounds.

With ``--ablate`` it prints, on the first sign -1 leaf, Shor with each family of products
alone and together, and the relaxation in ``u`` alone (no lifted ReLU values).

Run: ``python benchmarks/bench_relaxations.py [--nodes N] [--trees] [--time S] [--ablate]``.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
from scipy.optimize import minimize

from verify.convex import node_bound as nb
from verify.convex.branch_and_bound import bab_maximize
from verify.convex.candidate_patterns import initial_patterns
from verify.convex.inout_pricing import exact_support
from verify.convex.lazy_restricted import _initial_samples, _restricted_with_cuts, _start_rows
from verify.convex.programs import _choice
from verify.io.datasets import load_dataset
from verify.network.training import warm_start


def _trs(g: np.ndarray, Q: np.ndarray) -> tuple[float, np.ndarray]:
    """``max_{||u|| <= 1} g^T u + u^T Q u`` for ``Q`` psd (value, maximiser): the S-lemma dual
    ``min_{rho >= lambda_max} rho + g^T (rho I - Q)^{-1} g / 4`` by bisection on its derivative."""
    ev, V = np.linalg.eigh(Q)
    g2 = (V.T @ g) ** 2
    lo = max(float(ev[-1]), 0.0)

    def slope(r: float) -> float:
        return 1.0 - 0.25 * float(np.sum(g2 / (r - ev) ** 2))

    r = lo + 1e-12 * (1.0 + lo)
    if slope(r) < 0:
        hi = lo + 0.5 * math.sqrt(float(g2.sum())) + 1e-300
        while slope(hi) < 0:
            hi = lo + 2.0 * (hi - lo)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if slope(mid) < 0 else (lo, mid)
        r = hi
    w = (V.T @ g) / (r - ev) / 2.0
    return r + 0.25 * float(np.sum(g2 / (r - ev))), V @ w


def _node(sig: np.ndarray, mu: np.ndarray):
    P = np.flatnonzero(sig)
    free = np.flatnonzero(sig == 0)
    return P, free[mu[free] > 0], free[mu[free] < 0], P[sig[P] > 0]


def quadratic_bound(sig: np.ndarray, XS: np.ndarray, mu: np.ndarray, chord: nb._Bound
                    ) -> float:
    """The quadratic relaxation's bound of the node (see the module docstring)."""
    P, fpos, fneg, pfix = _node(sig, mu)
    A = sig[P, None] * XS[P]
    L = np.array([chord.intervals[n][0] for n in fpos])
    H = np.array([chord.intervals[n][1] for n in fpos])
    den = np.where(H - L > 0, H - L, 1.0)
    a = np.where(H - L > 0, H / den, 0.0)
    gmax = np.maximum(np.minimum(H, -L), 0.0) / den**2
    c0 = XS[pfix].T @ mu[pfix] + XS[fpos].T @ (mu[fpos] * a)
    B0 = float(mu[fpos] @ (-a * L))
    XP, XN, mp, mn = XS[fpos], XS[fneg], mu[fpos], mu[fneg]
    nP, nN = len(fpos), len(fneg)

    def f(x: np.ndarray) -> tuple[float, np.ndarray]:
        gam, al, z = x[:nP], x[nP:nP + nN], x[nP + nN:]
        g = c0 - XP.T @ (mp * gam * (L + H)) + XN.T @ (mn * al) + A.T @ z
        v, u = _trs(g, (XP.T * (mp * gam)) @ XP)
        t = XP @ u
        grad = np.concatenate([mp * (t - L) * (t - H), mn * (XN @ u), A @ u])
        return B0 + float(np.sum(mp * gam * L * H)) + v, grad

    zmap = dict(zip(chord.P.tolist(), chord.z.tolist()))
    x0 = np.concatenate([np.zeros(nP), [chord.alpha[n] for n in fneg],
                         [zmap.get(int(p), 0.0) for p in P]])
    bounds = [(0.0, g) for g in gmax] + [(0.0, 1.0)] * nN + [(0.0, None)] * len(P)
    res = minimize(f, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 300})
    return min(float(res.fun), chord.bound)


#: The RLT product families: ReLU times ReLU, cone row times ReLU, cone row times cone row.
PRODUCTS = ("tt", "at", "aa")


def shor_bound(sig: np.ndarray, XS: np.ndarray, mu: np.ndarray, rlt: bool,
               products: tuple[str, ...] = PRODUCTS) -> float:
    """The Shor (``rlt=False``) or Shor + RLT semidefinite relaxation's value (CVXPY), with
    the product families ``products`` (``tt``: ``t_n t_k >= 0``, ``(t_n - x_n^T u) t_k >= 0``;
    ``at``: ``(a_m^T u) t_n >= 0``, ``(a_m^T u)(t_n - x_n^T u) >= 0``; ``aa``:
    ``(a_m^T u)(a_k^T u) >= 0``)."""
    import cvxpy as cp

    d = XS.shape[1]
    P, fpos, fneg, pfix = _node(sig, mu)
    A = sig[P, None] * XS[P]
    XP = XS[fpos]
    n = 1 + d + len(fpos)
    Z = cp.Variable((n, n), PSD=True)
    u, t = Z[0, 1:1 + d], Z[0, 1 + d:]
    U, W, T = Z[1:1 + d, 1:1 + d], Z[1:1 + d, 1 + d:], Z[1 + d:, 1 + d:]
    cons = [Z[0, 0] == 1, cp.trace(U) <= 1]
    obj = 0
    if len(fpos):
        cons += [t >= 0, t >= XP @ u, cp.diag(T) == cp.sum(cp.multiply(XP.T, W), axis=0)]
        obj = mu[fpos] @ t
    if len(pfix):
        obj = obj + mu[pfix] @ (XS[pfix] @ u)
    if len(P):
        cons.append(A @ u >= 0)
    if len(fneg):
        s = cp.Variable(len(fneg))
        cons += [s >= 0, s >= XS[fneg] @ u]
        obj = obj + mu[fneg] @ s
    if rlt and "tt" in products and len(fpos):
        cons += [T >= 0, T - XP @ W >= 0]
    if rlt and "at" in products and len(fpos) and len(P):
        cons += [A @ W >= 0, A @ W - A @ U @ XP.T >= 0]
    if rlt and "aa" in products and len(P):
        cons.append(A @ U @ A.T >= 0)
    prob = cp.Problem(cp.Maximize(obj), cons)
    prob.solve(solver="CLARABEL")
    return float(prob.value)


def u_only_bound(sig: np.ndarray, XS: np.ndarray, mu: np.ndarray, chord: nb._Bound,
                 aa: bool) -> float:
    """The semidefinite relaxation in ``u`` alone: ``[1, u][1, u]^T`` relaxed to a psd matrix
    with ``tr U <= 1``, each free positive row below its chord and its quadratic majorant (in
    ``x_n^T U x_n``), and, with ``aa``, the cone rows' products ``a_m^T U a_k >= 0`` (the
    Lagrangian dual of the quadratic bound, plus those products)."""
    import cvxpy as cp

    d = XS.shape[1]
    P, fpos, fneg, pfix = _node(sig, mu)
    A = sig[P, None] * XS[P]
    L = np.array([chord.intervals[n][0] for n in fpos])
    H = np.array([chord.intervals[n][1] for n in fpos])
    a = H / (H - L)
    gmax = np.minimum(H, -L) / (H - L) ** 2
    Z = cp.Variable((d + 1, d + 1), PSD=True)
    u, U = Z[0, 1:], Z[1:, 1:]
    cons = [Z[0, 0] == 1, cp.trace(U) <= 1]
    obj = 0
    if len(fpos):
        XP = XS[fpos]
        tP = XP @ u
        qP = cp.hstack([XP[j] @ U @ XP[j] for j in range(len(fpos))])
        r = cp.Variable(len(fpos))
        cons += [r <= cp.multiply(a, tP) - a * L,
                 r <= cp.multiply(a, tP) - a * L
                 + cp.multiply(gmax, qP - cp.multiply(L + H, tP) + L * H)]
        obj = mu[fpos] @ r
    if len(pfix):
        obj = obj + mu[pfix] @ (XS[pfix] @ u)
    if len(P):
        cons.append(A @ u >= 0)
        if aa:
            cons.append(A @ U @ A.T >= 0)
    if len(fneg):
        s = cp.Variable(len(fneg))
        cons += [s >= 0, s >= XS[fneg] @ u]
        obj = obj + mu[fneg] @ s
    prob = cp.Problem(cp.Maximize(obj), cons)
    prob.solve(solver="CLARABEL")
    return float(prob.value)


def _first_lam(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The dual point of column generation's first restricted program (warm-start patterns)."""
    P, W = initial_patterns(X, y, start=warm_start(X, y))
    rows = np.flatnonzero(X.any(axis=1))
    walls = [_start_rows(X, w, rows) for w in W]
    sol, _, _ = _restricted_with_cuts(X, y, P, walls, rows, _choice(None),
                                      _initial_samples(X, y))
    return exact_support(y, sol.lam)


def _timed(fn, *a, **kw) -> tuple:
    t0 = time.perf_counter()
    v = fn(*a, **kw)
    return v, time.perf_counter() - t0


def main(nodes: int, trees: bool, seconds: float, ablate: bool = False) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ds = load_dataset(os.path.join(here, "data", "breast_cancer_std.csv"))
    X, y = ds.X, ds.Y[:, 0].astype(float)
    lam = _first_lam(X, y)
    best = max(bab_maximize(X, lam, sign=s, node_limit=200).lower for s in (1, -1))
    lam = lam / best
    S = np.flatnonzero(lam)
    XS, norms = X[S], np.linalg.norm(X[S], axis=1)
    print(f"breast-cancer, first restricted lam scaled by 1/{best:.4f}: |S| = {len(S)}")
    print(f"{'sign':>4} {'node':>9} {'free+':>5} {'chord':>8} {'quadratic':>9} {'s':>6} "
          f"{'Shor':>8} {'s':>6} {'Shor+RLT':>8} {'s':>6}")
    for sign in (1, -1):
        mu = sign * lam[S]
        r = bab_maximize(X, lam, sign=sign, prove_below=1.0, node_limit=nodes)
        top = sorted((lf for lf in r.leaves if not lf.closed), key=lambda lf: -lf.bound)[:3]
        sigs = [("root", np.zeros(len(S), dtype=np.int8))]
        for lf in top:
            sig = np.zeros(len(S), dtype=np.int8)
            for row, side in lf.path:
                sig[np.searchsorted(S, row)] = side
            sigs.append((f"depth {len(lf.path)}", sig))
        for name, sig in sigs:
            chord = nb._node_bound(sig, {}, XS, mu, norms)
            q, tq = _timed(quadratic_bound, sig, XS, mu, chord)
            sh, ts = _timed(shor_bound, sig, XS, mu, False)
            sr, tr = _timed(shor_bound, sig, XS, mu, True)
            free = int(np.sum((sig == 0) & (mu > 0)))
            print(f"{sign:>4} {name:>9} {free:>5} {chord.bound:>8.4f} {q:>9.4f} {tq:>6.2f} "
                  f"{sh:>8.4f} {ts:>6.2f} {sr:>8.4f} {tr:>6.2f}", flush=True)
        print(f"     (chord tree: {r.nodes} nodes, upper {r.upper:.4f}, best value "
              f"{r.lower:.4f})")
        if ablate and sign == -1:
            name, sig = sigs[1]
            chord = nb._node_bound(sig, {}, XS, mu, norms)
            print(f"     the first sign -1 leaf ({name}, chord {chord.bound:.4f}): Shor "
                  f"{shor_bound(sig, XS, mu, False):.4f}; with the products", end="")
            for parts in (("tt",), ("at",), ("aa",), ("at", "aa"), PRODUCTS):
                print(f" {'+'.join(parts)} {shor_bound(sig, XS, mu, True, parts):.4f}", end="")
            print(f"; in u alone {u_only_bound(sig, XS, mu, chord, False):.4f}, with aa "
                  f"{u_only_bound(sig, XS, mu, chord, True):.4f}", flush=True)
    if not trees:
        return
    print()
    print(f"trees to the target 1.02, at most {seconds:g} s each: {'bound':>10} {'sign':>4} "
          f"{'nodes':>7} {'upper':>8} {'status':>8} {'s':>6}")
    plain = nb._node_bound

    def with_quadratic(sig, inherit, XS_, mu_, norms_, warm=None, knew=-1):
        b = plain(sig, inherit, XS_, mu_, norms_, warm, knew)
        if b.bound > 1.02 and b.split >= 0:
            b.bound = quadratic_bound(sig, XS_, mu_, b)
        return b

    for label, fn in (("chord", plain), ("quadratic", with_quadratic)):
        nb._node_bound = fn
        try:
            for sign in (1, -1):
                r, t = _timed(bab_maximize, X, lam, sign=sign, prove_below=1.02,
                              time_limit=seconds)
                print(f"{'':>47}{label:>10} {sign:>4} {r.nodes:>7} {r.upper:>8.4f} "
                      f"{r.status:>8} {t:>6.1f}", flush=True)
        finally:
            nb._node_bound = plain


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[args.index("--nodes") + 1]) if "--nodes" in args else 2000,
         "--trees" in args,
         float(args[args.index("--time") + 1]) if "--time" in args else 120.0,
         "--ablate" in args)
