"""Exact branch-and-bound evidence (certificate schema v2, ``"method": "branch-and-bound"``).

:func:`bab_evidence` runs :func:`verify.convex.branch_and_bound.bab_maximize` for both signs
and writes the two trees in the format of ``docs/certificate.md``, section (d) (replayed by
the trusted checker): a preorder list of ``{"split": n}`` and ``{"leaf": ...}`` nodes per
sign, each leaf with its cone multipliers ``z``, its ``alpha`` rows and its interval rows
(``l``, ``h``, their Lemma-4 multipliers ``zl``, ``zh`` and the chord ``a``, ``b``).

Floats find, exact arithmetic decides.  Every float multiplier is rounded to the grid
``2^-bits`` (``z`` clipped at 0, ``alpha`` and ``a`` into ``[0, 1]``); ``h`` and ``-l`` are the
exact norms ``||+-x_n + sum zh_m a_m||`` of the rounded multipliers rounded *up* to the grid;
``b = max(-a l, (1 - a) h)`` rounded up (so ``(t)_+ <= a t + b`` on ``[l, h]``); each leaf's
bound ``B + ||c + A^T z||`` is computed exactly from those numbers (``X`` and ``lam`` are
floats, hence exact dyadic rationals) with the norm rounded up, and ``s`` is the largest leaf
bound of both trees rounded up to the grid.  By construction every inequality of the checker
holds exactly, and every number in the evidence has a denominator ``<= 2^bits``.

Then (``shorten``, the default) every leaf whose bound is below ``s`` is written again with
shorter numbers: a few interval rows lose their multipliers (chosen in floats, the interval
``[-||x_n||, ||x_n||]``), and the coarsest grid of :data:`LADDER` whose *exact* bound stays
``<= s`` is used; ``s`` does not change.  Empty multiplier objects are left out (absent means
none).  Measured on breast-cancer rows: 3-4x fewer bytes (``benchmarks/bench_bab_size.py``).

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
>>> ev = bab_evidence(X, np.array([0.5, 0.5, -0.25]))
>>> ev.evidence["support"], sorted(ev.evidence["trees"])
([0, 1, 2], ['+', '-'])
>>> float(ev.s) >= max(ev.results[0].lower, ev.results[1].lower), float(ev.s) < 0.7072
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from verify.checker.arithmetic import format_rational
from verify.convex.bounds import int_matrix
from verify.convex.branch_and_bound import BabLeaf, BabResult, _check, bab_maximize
from verify.convex.semidefinite_bound import multiplier_matrix
from verify.errors import InputError

__all__ = ["BabEvidence", "bab_evidence", "evidence_from_results", "GRID_BITS", "LADDER"]

#: Default grid ``2^-GRID_BITS`` of every number written (denominators <= 2^GRID_BITS).
GRID_BITS = 60

#: Coarser grids tried, coarsest first, for the leaves whose bound is below ``s``.
LADDER = (8, 12, 16, 24, 32, 44)

#: Share of a leaf's slack to ``s`` that dropping interval multipliers may use.
TRIVIAL_SPEND = 0.75


@dataclass(frozen=True)
class BabEvidence:
    """Answer of :func:`bab_evidence`.

    Attributes
    ----------
    evidence : dict
        ``{"support": [...], "trees": {"+": [...], "-": [...]}}`` exactly as in the format.
    s : Fraction
        The proven bound: every leaf of both trees has exact bound ``<= s`` (``s >= 0``).
    s_plus, s_minus : Fraction
        The largest exact bound of the leaves written in each tree (rounded up to the grid;
        with ``shorten``, a tree below ``s`` may have leaves written up to ``s``).
    results : (BabResult, BabResult)
        The float searches for ``+`` and ``-``.
    complete : bool
        Both trees are closed (otherwise ``s`` is only the anytime bound of open leaves).
    """

    evidence: dict[str, Any]
    s: Fraction
    s_plus: Fraction
    s_minus: Fraction
    results: tuple[BabResult, BabResult]
    complete: bool


def _grid(x: float, bits: int) -> Fraction:
    """Nearest point of the grid ``2^-bits`` (any rounding keeps the evidence valid)."""
    return Fraction(round(x * 2.0**bits), 1 << bits) if math.isfinite(x) else Fraction(0)


def _ceil_grid(q: Fraction, bits: int) -> Fraction:
    """Smallest point of the grid ``2^-bits`` that is ``>= q``."""
    return Fraction(-((-q.numerator << bits) // q.denominator), 1 << bits)


def _sqrt_up(q: Fraction, bits: int) -> Fraction:
    """A point of the grid ``2^-bits`` that is ``>= sqrt(q)`` (within ``2^-bits``)."""
    t = -((-q.numerator << (2 * bits)) // q.denominator)  # ceil(q 4^bits)
    r = math.isqrt(t)
    if r * r < t:
        r += 1
    return Fraction(r, 1 << bits)


class _Rows:
    """Exact ``||sum_n w_n x_n||^2`` for dyadic weights over the support rows (integers)."""

    def __init__(self, X: np.ndarray, S: np.ndarray):
        Xi, self.ex = int_matrix(X[S]) if S.size else (np.zeros((0, X.shape[1])), 0)
        self.rows = {int(n): [int(v) for v in Xi[i]] for i, n in enumerate(S.tolist())}
        self.float_rows = {int(n): np.asarray(X[n], dtype=np.float64) for n in S.tolist()}
        self.d = X.shape[1]

    def norm_sq(self, w: dict[int, Fraction]) -> Fraction:
        w = {n: q for n, q in w.items() if q}
        if not w:
            return Fraction(0)
        e = max(q.denominator.bit_length() - 1 for q in w.values())  # dyadic denominators
        acc = [0] * self.d
        for n, q in w.items():
            k = q.numerator << (e - (q.denominator.bit_length() - 1))
            for j, v in enumerate(self.rows[n]):
                acc[j] += k * v
        tot = sum(v * v for v in acc)
        p = 2 * (self.ex - e)
        return Fraction(tot << p) if p >= 0 else Fraction(tot, 1 << -p)


    def sqrt_up_grid(self, n: int, t: int, z: dict[int, int], sigma: dict[int, int]) -> int:
        """``r`` with ``r 2^-bits >= ||(t x_n + sum_m z_m sigma_m x_m) 2^-bits||`` for integer
        ``t`` and ``z`` (grid numerators; ``n`` is not among the ``m``)."""
        acc = [t * v for v in self.rows[n]]
        for m, k in z.items():
            k *= sigma[m]
            for j, v in enumerate(self.rows[m]):
                acc[j] += k * v
        T = sum(v * v for v in acc)  # ||.||^2 2^(2 bits) = T 4^ex
        T = T << (2 * self.ex) if self.ex >= 0 else -((-T) >> (-2 * self.ex))  # ceil
        r = math.isqrt(T)
        return r + 1 if r * r < T else r


def _grid_int(x: float, bits: int) -> int:
    """Numerator of the nearest grid point ``k 2^-bits`` of ``max(x, 0)``."""
    return max(round(x * 2.0**bits), 0) if math.isfinite(x) else 0


def _fmt(k: int, bits: int) -> str:
    """``format_rational(k / 2^bits)`` without a gcd (the denominator is a power of two)."""
    if k == 0:
        return "0"
    tz = min((k & -k).bit_length() - 1, bits)
    k >>= tz
    return str(k) if tz == bits else f"{k}/{1 << (bits - tz)}"


def _upper(n: int, zh_f: dict[int, float], sigma: dict[int, int], rows: _Rows, bits: int
           ) -> tuple[dict[int, int], int]:
    """The rounded multipliers ``zh`` (grid numerators) and ``h``'s grid numerator: the exact
    norm ``||x_n + sum zh_m sigma_m x_m||`` rounded up (so ``x_n^T u <= h`` on the leaf)."""
    zh = {m: k for m in sorted(zh_f) if (k := _grid_int(zh_f[m], bits)) > 0}
    return zh, rows.sqrt_up_grid(n, 1 << bits, zh, sigma)


def _interval(n: int, zl_f: dict[int, float], zh_f: dict[int, float], sigma: dict[int, int],
              rows: _Rows, bits: int) -> tuple[dict[str, Any], Fraction, Fraction]:
    """The interval row of ``n`` (JSON) and its exact chord ``a``, ``b``, all on the grid:
    ``h`` and ``-l`` the exact norms of the rounded multipliers rounded up, ``a`` rounded into
    ``[0, 1]``, ``b = max(-a l, (1 - a) h)`` rounded up."""
    one = 1 << bits
    zh, h = _upper(n, zh_f, sigma, rows, bits)
    zl = {m: k for m in sorted(zl_f) if (k := _grid_int(zl_f[m], bits)) > 0}
    nl = rows.sqrt_up_grid(n, -one, zl, sigma)
    a = min(max(round(h / (h + nl) * one), 0), one) if h + nl > 0 else 0
    b = max(-((-a * nl) >> bits), -((-(one - a) * h) >> bits))  # ceil(a nl / 2^bits), ...
    row: dict[str, Any] = {"row": n, "a": _fmt(a, bits), "b": _fmt(b, bits),
                           "l": _fmt(-nl, bits), "h": _fmt(h, bits)}
    for key, zz in (("zl", zl), ("zh", zh)):
        if zz:  # an absent multiplier object means none (docs/certificate.md)
            row[key] = {"indices": list(zz), "values": [_fmt(k, bits) for k in zz.values()]}
    return row, Fraction(a, one), Fraction(b, one)


def _sparse(zd: dict[int, float], bits: int) -> dict[int, Fraction]:
    out = {}
    for n in sorted(zd):
        q = _grid(max(zd[n], 0.0), bits)
        if q > 0:
            out[n] = q
    return out


def _sparse_json(z: dict[int, Fraction]) -> dict[str, list]:
    return {"indices": sorted(z), "values": [format_rational(z[n]) for n in sorted(z)]}


def _leaf(leaf: BabLeaf, mu: dict[int, Fraction], rows: _Rows, bits: int
          ) -> tuple[dict[str, Any], Fraction]:
    """The JSON leaf (numbers on the grid ``2^-bits``) and its exact bound (rounded up to the
    grid ``2^-max(bits, GRID_BITS)``: only compared, never written).  A leaf with a
    semidefinite bound is written by :func:`_sdp_leaf` (as a chord leaf when that fails)."""
    if leaf.sdp is not None:
        got = _sdp_leaf(leaf, mu, rows, SDP_BITS)
        if got is not None:
            return got
        leaf = replace(leaf, sdp=None)
    sigma = dict(leaf.path)
    coef: dict[int, Fraction] = {n: mu[n] for n, s in sigma.items() if s > 0}
    B = Fraction(0)
    out_rows = []
    for n in sorted(mu):
        if n in sigma:
            continue
        if n in leaf.alpha:
            al = min(max(_grid(leaf.alpha[n], bits), Fraction(0)), Fraction(1))
            coef[n] = coef.get(n, Fraction(0)) + mu[n] * al
            out_rows.append({"row": n, "alpha": format_rational(al)})
            continue
        _, _, zl_f, zh_f = leaf.intervals[n]
        row, a, b = _interval(n, zl_f, zh_f, sigma, rows, bits)
        coef[n] = coef.get(n, Fraction(0)) + mu[n] * a
        B += mu[n] * b
        out_rows.append(row)
    z = _sparse({m: v for m, v in leaf.z.items() if m in sigma}, bits)
    for m, q in z.items():
        coef[m] = coef.get(m, Fraction(0)) + q * sigma[m]
    bound = B + _sqrt_up(rows.norm_sq(coef), max(bits, GRID_BITS))
    body: dict[str, Any] = {"z": _sparse_json(z), "rows": out_rows} if z else {"rows": out_rows}
    return {"leaf": body}, bound


#: Grid ``2^-SDP_BITS`` of the multipliers of a semidefinite leaf: its bound
#: ``tau + rho R`` pays ``rho`` for the rounding, so the grid is not coarsened.
SDP_BITS = 40
#: Attempts at ``rho`` (each ten times the margin of the last) before a semidefinite leaf is
#: written as a chord leaf.
SDP_TRIES = 3


def _sdp_leaf(leaf: BabLeaf, mu: dict[int, Fraction], rows: _Rows, bits: int
              ) -> tuple[dict[str, Any], Fraction] | None:
    """The JSON of a semidefinite leaf (``docs/certificate.md``, "sdp leaves") and its exact
    bound ``tau + rho (2 + sum h_j^2)``, with ``rho I - M`` proved positive definite by the
    checker's own test; ``None`` when no ``rho`` tried passes it."""
    from verify.checker.semidefinite import check_sdp_leaf

    sd = leaf.sdp
    sigma = dict(leaf.path)
    S = np.array(sorted(mu), dtype=np.int64)
    pos = {int(n): i for i, n in enumerate(S.tolist())}
    sig = np.zeros(S.size, dtype=np.int8)
    for n, sg in leaf.path:
        sig[pos[n]] = sg
    XS = np.stack([rows.float_rows[int(n)] for n in S.tolist()])
    mua = np.array([float(mu[int(n)]) for n in S.tolist()])

    def ge(v: float) -> Fraction:
        return max(_grid(v, bits), Fraction(0))

    alpha = {n: min(ge(v), Fraction(1)) for n, v in sd.alpha.items()}
    out_rows: list[dict[str, Any]] = []
    H: list[Fraction] = []
    for n in S.tolist():
        if n in sigma:
            continue
        if mu[n] < 0:
            out_rows.append({"row": n, "alpha": format_rational(alpha[n])})
            continue
        zh, h = _upper(n, leaf.intervals[n][3], sigma, rows, bits)
        row: dict[str, Any] = {"row": n, "h": _fmt(h, bits)}
        if zh:
            row["zh"] = {"indices": list(zh), "values": [_fmt(k, bits) for k in zh.values()]}
        out_rows.append(row)
        H.append(Fraction(h, 1 << bits))
    order = [int(np.searchsorted(sd.P, n)) for n, _ in leaf.path]  # path order
    q = {"tau": _grid(sd.tau, bits), "ball": ge(sd.ball),
         "t": [ge(v) for v in sd.t], "tx": [ge(v) for v in sd.tx],
         "eq": [_grid(v, bits) for v in sd.eq], "cone": [ge(sd.cone[i]) for i in order],
         "at": [[ge(v) for v in sd.at[i]] for i in order],
         "atx": [[ge(v) for v in sd.atx[i]] for i in order]}
    fl = replace(sd, P=np.array(sorted(pos[n] for n in sigma), dtype=np.int64),
                 lifted=np.array([pos[int(n)] for n in sd.lifted.tolist()], dtype=np.int64),
                 alpha={pos[n]: float(v) for n, v in alpha.items()},
                 tau=float(q["tau"]), ball=float(q["ball"]),
                 t=np.array(q["t"], dtype=float), tx=np.array(q["tx"], dtype=float),
                 eq=np.array(q["eq"], dtype=float),
                 cone=_unorder(q["cone"], order), at=_unorder(q["at"], order),
                 atx=_unorder(q["atx"], order))
    M = multiplier_matrix(sig, XS, mua, fl)
    lmax = float(np.linalg.eigvalsh(M)[-1])
    scale = max(1.0, float(np.abs(M).max()))
    margin = 1e-9 * scale
    R = 2 + sum(h * h for h in H)
    # the checker's test, on the support rows (indices remapped to positions in S)
    XI = [rows.rows[int(n)] for n in S.tolist()]
    mup = {pos[n]: v for n, v in mu.items()}
    path = [(pos[int(n)], int(sg)) for n, sg in leaf.path]
    lifted = [(pos[int(n)], h) for n, h in zip(sd.lifted.tolist(), H)]
    alph = [(pos[n], v) for n, v in sorted(alpha.items())]
    for _ in range(SDP_TRIES):
        q["rho"] = _ceil_grid(Fraction(max(lmax + margin, 0.0)), bits)
        bound = q["tau"] + q["rho"] * R
        fail = check_sdp_leaf(XI, rows.ex, mup, path, lifted, alph, q, bound)
        if fail is None:
            body = {k: (format_rational(v) if isinstance(v, Fraction) else
                        [format_rational(x) if isinstance(x, Fraction) else
                         [format_rational(w) for w in x] for x in v])
                    for k, v in q.items()}
            return {"leaf": {"sdp": body, "rows": out_rows}}, bound
        margin *= 10.0
    return None


def _unorder(vals: list, order: list[int]) -> np.ndarray:
    """Rows given in path order (``vals[i]`` belongs to sorted position ``order[i]``) back in
    sorted order, as floats."""
    out = np.zeros((len(order),) + np.shape(vals[0]) if vals else (0,))
    for i, o in enumerate(order):
        out[o] = np.array(vals[i], dtype=float)
    return out


def _shape(leaves: list[BabLeaf]) -> tuple[list[dict[str, Any] | None], list[int]]:
    """The preorder list of a tree (leaves given in preorder) with ``None`` at the leaves,
    and the positions of the leaves in it."""
    out: list[dict[str, Any] | None] = []
    at: list[int] = []
    prev: tuple[tuple[int, int], ...] | None = None
    for leaf in leaves:
        path = leaf.path
        if prev is None:
            start = 0
        else:  # the previous leaf ends in the +1 subtree of the split where this one turns -1
            c = 0
            while c < min(len(prev), len(path)) and prev[c] == path[c]:
                c += 1
            if not (c < len(prev) and c < len(path) and prev[c][0] == path[c][0]
                    and prev[c][1] == 1 and path[c][1] == -1):
                raise InputError("bab evidence: the leaves do not form a tree in preorder")
            start = c + 1
        for n, s in path[start:]:
            if s != 1:
                raise InputError("bab evidence: the leaves do not form a tree in preorder")
            out.append({"split": n})
        at.append(len(out))
        out.append(None)
        prev = path
    if prev is None or any(s != -1 for _, s in prev):
        raise InputError("bab evidence: the leaves do not form a tree in preorder")
    return out, at


def _short_leaf(leaf: BabLeaf, mu: dict[int, Fraction], rows: _Rows, bits: int,
                goal: Fraction) -> tuple[dict[str, Any], Fraction] | None:
    """``leaf`` on the coarsest grid of :data:`LADDER` (finer than ``2^-bits`` excluded) whose
    exact bound is ``<= goal`` -- the same multipliers rounded to fewer bits (those that round
    to 0 vanish), ``h``, ``-l``, ``b`` and the bound recomputed exactly from them -- first with
    the interval multipliers :func:`_trivial_intervals` drops, then with all of them; ``None``
    when no grid of the ladder keeps the bound ``<= goal`` (always for a semidefinite leaf:
    its grid is :data:`SDP_BITS`)."""
    if leaf.sdp is not None:
        return None
    trimmed = _trivial_intervals(leaf, mu, rows, float(goal))
    for cand in (trimmed, leaf) if trimmed is not leaf else (leaf,):
        for b in LADDER:
            if b >= bits:
                break
            short, sb = _leaf(cand, mu, rows, b)
            if sb <= goal:
                return short, sb
    return None


#: Leaves whose float bound is within this relative distance of the largest one are written
#: on the fine grid first (their exact bounds make ``s``); the others go down the ladder.
TOP = 1e-6


def _trees(keyed: list[tuple[str, list[BabLeaf], dict[int, Fraction]]], rows: _Rows,
           bits: int, shorten: bool) -> tuple[dict[str, list[dict[str, Any]]],
                                              dict[str, Fraction]]:
    """Both trees and the largest exact bound of the leaves written in each.

    Without ``shorten`` every leaf is on the grid ``2^-bits``.  With it, the leaves whose
    float bound is near the largest (:data:`TOP`) are written on that grid first; ``goal``
    is their largest exact bound rounded up to the grid; every other leaf is written by
    :func:`_short_leaf` with bound ``<= goal``, or, when no coarse grid fits, on the fine grid
    (then ``goal`` grows to its bound: the leaves already written stay below it)."""
    shapes = {key: _shape(leaves) for key, leaves, _ in keyed}
    best = {key: Fraction(0) for key, _, _ in keyed}
    fmax = max((lf.bound for _, leaves, _ in keyed for lf in leaves
                if math.isfinite(lf.bound)), default=0.0)
    cut = fmax - TOP * max(1.0, abs(fmax))
    later = []
    for key, leaves, mu in keyed:
        out, at = shapes[key]
        for leaf, i in zip(leaves, at):
            if shorten and math.isfinite(leaf.bound) and leaf.bound < cut:
                later.append((key, leaf, i, mu))
                continue
            out[i], bound = _leaf(leaf, mu, rows, bits)
            best[key] = max(best[key], bound)
    goal = _ceil_grid(max(best.values(), default=Fraction(0)), bits)
    for key, leaf, i, mu in later:
        out = shapes[key][0]
        got = _short_leaf(leaf, mu, rows, bits, goal)
        if got is None:
            got = _leaf(leaf, mu, rows, bits)
            goal = max(goal, _ceil_grid(got[1], bits))
        out[i], bound = got
        best[key] = max(best[key], bound)
    return {key: shapes[key][0] for key in shapes}, best  # type: ignore[misc]


def _trivial_intervals(leaf: BabLeaf, mu: dict[int, Fraction], rows: _Rows, goal: float,
                       spend: float = TRIVIAL_SPEND, partial: bool = True) -> BabLeaf:
    """``leaf`` with the multipliers ``zl``, ``zh`` of some interval rows dropped (their
    interval becomes ``[-||x_n||, ||x_n||]``, the chord ``(t + ||x_n||) / 2``), chosen greedily
    in floats, most multipliers first, while the float bound stays below its old value plus
    ``spend`` of the slack to ``goal`` (the rest is left for rounding), then (``partial``)
    single multipliers of the other rows, smallest first, on the same terms; the exact bound is
    recomputed by the caller, which keeps the leaf as it was when that fails."""
    cand = [n for n, (_, _, zl, zh) in leaf.intervals.items() if zl or zh]
    if not cand:
        return leaf
    sigma = dict(leaf.path)
    X = rows.float_rows
    c = np.zeros(rows.d)
    B = 0.0
    for n, sg in sigma.items():
        if sg > 0:
            c += float(mu[n]) * X[n]
        if leaf.z.get(n, 0.0) > 0:
            c += sg * leaf.z[n] * X[n]
    for n, al in leaf.alpha.items():
        c += float(mu[n]) * min(max(al, 0.0), 1.0) * X[n]
    chord = {}
    for n, (lo, hi, _, _) in leaf.intervals.items():
        a = hi / (hi - lo) if hi - lo > 0 else 0.0
        chord[n] = (a, max(-a * lo, (1 - a) * hi))
        c += float(mu[n]) * chord[n][0] * X[n]
        B += float(mu[n]) * chord[n][1]
    bound = B + float(np.linalg.norm(c))
    if not bound < goal:
        return leaf
    cap = bound + spend * (goal - bound)
    drop = {}
    for n in sorted(cand, key=lambda n: -(len(leaf.intervals[n][2]) + len(leaf.intervals[n][3]))):
        m = float(mu[n])
        nx = float(np.linalg.norm(X[n]))
        a, b = chord[n]
        c2 = c + m * (0.5 - a) * X[n]
        B2 = B + m * (0.5 * nx - b)
        if B2 + float(np.linalg.norm(c2)) <= cap:
            c, B = c2, B2
            drop[n] = (-nx, nx, {}, {})
    if partial:  # then single multipliers of the other rows, smallest first
        for n in cand:
            if n in drop:
                continue
            lo, hi, zl, zh = leaf.intervals[n]
            zl, zh = dict(zl), dict(zh)
            vl = -X[n] + sum((sigma[m] * v * X[m] for m, v in zl.items()), np.zeros(rows.d))
            vh = X[n] + sum((sigma[m] * v * X[m] for m, v in zh.items()), np.zeros(rows.d))
            a, b = chord[n]
            m_n = float(mu[n])
            terms = [(v * float(np.linalg.norm(X[m])), key, m) for key, zz in (("l", zl), ("h", zh))
                     for m, v in zz.items()]
            changed = False
            for _, key, m in sorted(terms):
                zz, vec = (zl, vl) if key == "l" else (zh, vh)
                v2 = vec - sigma[m] * zz[m] * X[m]
                nl2 = float(np.linalg.norm(v2)) if key == "l" else float(np.linalg.norm(vl))
                h2 = float(np.linalg.norm(v2)) if key == "h" else float(np.linalg.norm(vh))
                a2 = h2 / (h2 + nl2) if h2 + nl2 > 0 else 0.0
                b2 = max(a2 * nl2, (1 - a2) * h2)
                c2 = c + m_n * (a2 - a) * X[n]
                B2 = B + m_n * (b2 - b)
                if B2 + float(np.linalg.norm(c2)) <= cap:
                    c, B, a, b = c2, B2, a2, b2
                    del zz[m]
                    if key == "l":
                        vl = v2
                    else:
                        vh = v2
                    changed = True
            if changed:
                drop[n] = (-float(np.linalg.norm(vl)), float(np.linalg.norm(vh)), zl, zh)
    if not drop:
        return leaf
    return replace(leaf, intervals={**leaf.intervals, **drop})


def evidence_from_results(X: Any, lam: Any, plus: BabResult, minus: BabResult, *,
                          bits: int = GRID_BITS, shorten: bool = True) -> BabEvidence:
    """The exact evidence of two finished (or budget-stopped) searches on ``(X, lam)``.

    Without ``shorten`` every leaf is written on the grid ``2^-bits`` and ``s`` is the largest
    exact leaf bound of both trees rounded up to that grid.  With ``shorten`` (the default)
    only the leaves whose float bound is near the largest are (they make the same ``s``);
    every other leaf is written on the coarsest grid of :data:`LADDER` that keeps its exact
    bound ``<= s``, after dropping the interval multipliers its slack allows (far shorter
    numbers: the certificate shrinks several times and checks faster).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> lam = np.array([0.6, -0.8])
    >>> ev = evidence_from_results(X, lam, bab_maximize(X, lam), bab_maximize(X, lam, sign=-1))
    >>> rows = ev.evidence["trees"]["-"][0]["leaf"]["rows"]  # the root closes at once
    >>> rows[0], {k: rows[1][k] for k in "ablh"}
    ({'row': 0, 'alpha': '0'}, {'a': '1/2', 'b': '1/2', 'l': '-1', 'h': '1'})
    >>> float(ev.s) - 0.8 < 1e-15
    True
    """
    X, lam = _check(X, lam)
    if plus.sign != 1 or minus.sign != -1:
        raise InputError("evidence_from_results: expected the '+' and the '-' search results")
    S = np.flatnonzero(lam)
    if not (np.array_equal(plus.support, S) and np.array_equal(minus.support, S)):
        raise InputError("evidence_from_results: the searches were run on another support")
    if len(plus.leaves) != plus.n_leaves or len(minus.leaves) != minus.n_leaves:
        raise InputError("evidence_from_results: the searches were run with keep_leaves=False")
    rows = _Rows(X, S)
    keyed = [(key, res.leaves, {int(n): Fraction(float(t * lam[n])) for n in S.tolist()})
             for key, res, t in (("+", plus, 1), ("-", minus, -1))]
    trees, best = _trees(keyed, rows, bits, shorten)
    sp, sm = _ceil_grid(best["+"], bits), _ceil_grid(best["-"], bits)
    return BabEvidence(
        evidence={"support": [int(n) for n in S.tolist()], "trees": trees},
        s=max(sp, sm),
        s_plus=sp,
        s_minus=sm,
        results=(plus, minus),
        complete=plus.complete and minus.complete,
    )


def bab_evidence(X: Any, lam: Any, *, prove_below: float | None = None,
                 node_limit: int = 200_000, time_limit: float | None = None,
                 gap: float = 1e-10, batch: int = 8, executor: Any = None,
                 bits: int = GRID_BITS) -> BabEvidence:
    """Branch-and-bound evidence that ``max_{||u||<=1} |lam^T (Xu)_+| <= s``, both trees.

    Runs :func:`verify.convex.branch_and_bound.bab_maximize` for ``sign=+1`` and ``-1`` (same
    options; ``time_limit`` applies to each) and converts the leaves with
    :func:`evidence_from_results`.

    Returns
    -------
    BabEvidence

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> ev = bab_evidence(X, np.array([0.6, 0.0]), prove_below=1.0)
    >>> ev.evidence["support"], ev.s == Fraction(0.6), ev.complete
    ([0], True, True)
    """
    if not isinstance(bits, int) or not 8 <= bits <= 512:
        raise InputError(f"bits: expected an integer in [8, 512], received {bits!r}")
    kw = dict(prove_below=prove_below, node_limit=node_limit, time_limit=time_limit, gap=gap,
              batch=batch, executor=executor)
    plus = bab_maximize(X, lam, sign=1, **kw)
    minus = bab_maximize(X, lam, sign=-1, **kw)
    return evidence_from_results(X, lam, plus, minus, bits=bits)
