"""The blocked exact Gram sign engine behind
:func:`verify.geometry.separability.orthogonal_separability`.

:class:`GramSignEngine` decides the sign of every inner product ``x_n·x_m`` (``n ≤ m``) of
a data set whose rows are sorted by class, and keeps the separability bookkeeping: the
violation count, the worst violations and the extreme cosines.

The Gram matrix is computed by BLAS in row blocks on and above the diagonal (memory
``O(block·N)``, never ``N×N``) and post-processed in cache-sized tiles.  Rows are scaled by
exact powers of two (inner-product signs are invariant).  An entry ``ĝ`` divided by
rigorous norm bounds ``a ≥ ‖x‖, b ≥ ‖y‖`` proves the sign of the exact ``x·y`` once
``|ĝ/a/b| > θ ≈ γ_d`` (:func:`verify.geometry.rounding.normalized_sign_threshold`).  The rest is
decided exactly: by the float entry itself when it is provably exact (short dyadic rows),
else by exact integer products (:func:`verify.geometry.rounding.exact_products`, python-flint or
Python integers for very wide rows).  Pairs of classes with disjoint supports have exactly
zero cross products and are counted without any Gram block.  The blocks are independent
(:meth:`GramSignEngine._compute` on a copy of the state), which is how
:mod:`verify.distributed` runs them elsewhere.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
>>> eng = GramSignEngine(X, np.array([0, 0, 1]), max_worst=5, stop=False)
>>> eng.run(block=3)
>>> eng.violations, eng.pairs_checked, [(i, j) for _, i, j in eng.worst]
(1, 6, [(1, 2)])
>>> eng.exact.pair(1, 2)[:2]   # x_1·x_2 = 3 · 2**0 > 0 across classes, exactly
(3, 0)
>>> scaled_float(3, -1), scaled_float(-1, 5000)
(1.5, -inf)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verify.distributed import run_gram_blocks
from verify.geometry import rounding as nm

__all__ = ["GramSignEngine", "scaled_float", "n_upper"]

_TILE = 1 << 18  # entries of one post-processing tile (2 MiB)
_CAP = 64  # at most this many float candidates per tile are evaluated exactly
_BIG = 2**40
_MAX_STRUCT_CLASSES = 256  # class-support analysis only up to this many classes
Arr = np.ndarray

class GramSignEngine:
    """Signs of the Gram entries of ``X`` with classes ``cls``, and their bookkeeping.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, d)
        Validated finite float64 data (original row order).
    cls : numpy.ndarray, shape (N,)
        Class index of each row (int64); rows are processed sorted by class.
    max_worst : int
        How many of the worst violations to keep.
    stop : bool
        Stop at the first tile that contains a violation.

    Attributes
    ----------
    violations, pairs_checked, structural, exact_float, exact_checks : int
        The counts reported by :class:`verify.geometry.separability.SeparabilityReport`.
    worst : list of (float, int, int)
        ``(-severity, i, j)`` of the worst violations (original indices), sorted.
    best : dict
        Largest severity per group (``True``: same class, ``-cosine``; ``False``: cross
        class, ``cosine``).
    exact : verify.geometry.rounding.ExactRows
        Exact integer rows and the exact inner products computed so far.
    """

    def __init__(self, X: Arr, cls: Arr, max_worst: int, stop: bool) -> None:
        N, d = X.shape
        self.N = N
        self.perm = np.argsort(cls, kind="stable")
        self.cs = cls[self.perm]
        self.Xs = Xs = np.empty_like(X)
        nrm, lsb = np.empty(N), np.empty(N, dtype=np.int64)
        for s in range(0, N, 256):  # row chunks: cache-friendly preprocessing
            e = min(N, s + 256)
            Xs[s:e] = nm.power_of_two_row_scaling(X[self.perm[s:e]])[0]
            nrm[s:e] = nm.norm_upper_bounds(Xs[s:e])
            lsb[s:e] = nm.lsb_exponents(Xs[s:e])
        self.n1 = np.maximum(nrm, 1.0)  # ≥ max(1, ‖x‖)
        self.unsafe = ~(self.n1 <= 2.0**400)  # such pairs might overflow: check finiteness
        self.zero = lsb >= _BIG
        mag = np.where(np.isfinite(self.n1), np.frexp(self.n1)[1], 2**20).astype(np.int64)
        self.lsb, self.mag = lsb, mag
        self.qz = np.where(self.zero, -_BIG, mag - lsb)
        self.lsbz = np.where(self.zero, _BIG, lsb)
        self.magz = np.where(self.zero, -_BIG, mag)
        self.theta = nm.normalized_sign_threshold(d)
        self.delta = max(1e-9, 16 * nm.gamma(d))
        self.exact = nm.ExactRows(X)
        self.max_worst, self.stop = max_worst, stop
        self.violations = self.pairs_checked = self.structural = 0
        self.exact_float = self.exact_checks = 0
        self.worst: list[tuple[float, int, int]] = []  # (−sev, i, j), sorted
        self.best = {True: -np.inf, False: -np.inf}  # max severity-cosine per group

    # --- pair helpers
    def _orig(self, r: Arr, c: Arr) -> tuple[Arr, Arr]:
        a, b = self.perm[r], self.perm[c]
        return np.minimum(a, b), np.maximum(a, b)

    def _pair_exact(self, r: Arr, c: Arr) -> Arr:
        ok = nm.float_dot_is_exact(self.lsb[r], self.mag[r], self.lsb[c], self.mag[c])
        strict = (self.lsb[r] + self.lsb[c] >= -900) & (self.mag[r] + self.mag[c] <= 100)
        return (self.zero[r] | self.zero[c]) | (ok & strict)

    def _values(self, r: Arr, c: Arr, sev: Arr, same: Arr) -> list:
        """Deterministic severities ``(v, i, j)``: ``v = ±fl(fl(g/a_r)/a_c)`` with ``g`` the
        float Gram entry when it is provably exact, else the exact inner product (of the
        scaled rows) rounded to a float; the same value whatever the blocking."""
        pe = self._pair_exact(r, c)
        i, j = self._orig(r, c)
        miss = [
            k
            for k in np.flatnonzero(~pe).tolist()
            if (int(i[k]), int(j[k])) not in self.exact.pairs
        ]
        if miss:  # exact products in one batch
            m = np.array(miss)
            get_p = self._exact_signs(r[m], c[m], i[m], j[m])[1]
            for n, k in enumerate(miss):
                self.exact.remember(int(i[k]), int(j[k]), get_p(n))
        out = []
        for k in range(len(r)):
            ik, jk = int(i[k]), int(j[k])
            v = float(sev[k])
            if not pe[k]:
                p = self.exact.pairs[(ik, jk)]
                e = int(self.lsb[r[k]] + self.lsb[c[k]])
                v = (scaled_float(p, e) / self.n1[r[k]]) / self.n1[c[k]]
                if not np.isfinite(v) or self.unsafe[r[k]] or self.unsafe[c[k]]:
                    v = self.exact.pair(ik, jk)[2]  # rows with huge entries: exact norms
                v = -v if same[k] else v
            out.append((v + 0.0, ik, jk))
        return out

    # --- bookkeeping of the worst violations and of the extremes
    def _worst_floor(self) -> float:
        return -np.inf if len(self.worst) < self.max_worst else -self.worst[-1][0]

    def _narrow(self, idx: Arr, vals: Arr, k: int, r0: int, c0: int, w: int) -> Arr:
        if len(idx) <= _CAP:
            return idx
        kk = min(k, len(idx))
        kth = np.partition(vals, len(vals) - kk)[len(vals) - kk]
        keep = vals >= kth - 2 * self.delta
        idx, vals = idx[keep], vals[keep]
        if len(idx) > _CAP:
            i, j = self._orig(r0 + idx // w, c0 + idx % w)
            order = np.lexsort((j, i, -vals))[:_CAP]
            idx = idx[order]
        return idx

    def _offer_worst(self, sev: Arr, mask: Arr, same: Any, r0: int, c0: int) -> None:
        if self.max_worst == 0:
            return
        w = sev.shape[1]
        lo = self._worst_floor() - self.delta
        if lo > -np.inf:
            mask = mask & (sev >= lo)
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        vals = sev.reshape(-1)[idx] if sev.flags.c_contiguous else sev.flat[idx]
        idx = self._narrow(idx, vals, self.max_worst, r0, c0, w)
        self._push(r0 + idx // w, c0 + idx % w, np.asarray(sev.flat[idx]), same, idx)

    def _push(self, r: Arr, c: Arr, svals: Arr, same: Any, idx: Any = None) -> None:
        if isinstance(same, bool):
            same = np.full(len(r), same)
        elif idx is not None:
            same = same.reshape(-1)[idx]
        for v, i, j in self._values(r, c, svals, same):
            self.worst.append((-v, i, j))
        self.worst.sort()
        del self.worst[self.max_worst :]

    def _offer_extreme(
        self, sev: Arr, group: Any, is_same: bool, ext: float, r0: int, c0: int, exact_tile: bool
    ) -> None:
        best = self.best[is_same]
        if not ext >= best - self.delta or ext == -np.inf:
            return
        if exact_tile:  # every entry is exact: its float value is the deterministic one
            self.best[is_same] = max(best, ext + 0.0)
            return
        thr = max(ext - 2 * self.delta, best - self.delta)
        m = sev >= thr
        if group is not None:
            m &= group
        idx = np.flatnonzero(m)
        w = sev.shape[1]
        idx = self._narrow(idx, np.asarray(sev.flat[idx]), 1, r0, c0, w)
        r, c = r0 + idx // w, c0 + idx % w
        vals = self._values(r, c, np.asarray(sev.flat[idx]), np.full(len(r), is_same))
        self.best[is_same] = max([best] + [v for v, _, _ in vals])

    # --- the tiles
    def tile(self, R: Arr, r0: int, r1: int, c0: int, c1: int) -> None:
        """Process Gram entries rows ``[r0, r1)`` × cols ``[c0, c1)`` (sorted positions)."""
        rows, cols = slice(r0, r1), slice(c0, c1)
        lower = c0 <= r1 - 1  # touches the diagonal square: keep only c > r
        if lower:
            cr = np.arange(c0, c1)[None, :] <= np.arange(r0, r1)[:, None]
            n_valid = int(cr.size - np.count_nonzero(cr))
            if n_valid == 0:
                return
        else:
            n_valid = R.size
        np.divide(R, self.n1[rows, None], out=R)
        np.divide(R, self.n1[None, cols], out=R)
        if self.unsafe[rows].any() or self.unsafe[cols].any():
            R[~np.isfinite(R)] = 0.0  # overflowed entries: undecided, go exact
        cs = self.cs
        pure = cs[r0] == cs[r1 - 1] and cs[c0] == cs[c1 - 1]
        if pure:
            is_same = bool(cs[r0] == cs[c0])
            same: Arr | bool = is_same
            if is_same:
                np.negative(R, out=R)
        else:
            same = cs[rows, None] == cs[None, cols]
            np.negative(R, out=R, where=same)
        sev = R  # severity: −cosine for same-class entries, cosine for cross-class ones
        if lower:
            sev[cr] = -np.inf
        self.pairs_checked += n_valid
        theta = self.theta
        exact_tile = bool(
            self.qz[rows].max() + self.qz[cols].max() <= 53
            and self.lsbz[rows].min() + self.lsbz[cols].min() >= -900
            and self.magz[rows].max() + self.magz[cols].max() <= 100
        )
        # extremes (informative)
        if pure:
            ext_all = float(sev.max())
            self._offer_extreme(sev, None, is_same, ext_all, r0, c0, exact_tile)
        else:
            ext_s = float(np.max(sev, where=same, initial=-np.inf))
            ext_c = float(np.max(sev, where=~same, initial=-np.inf))
            self._offer_extreme(sev, same, True, ext_s, r0, c0, exact_tile)
            self._offer_extreme(sev, ~same, False, ext_c, r0, c0, exact_tile)
            ext_all = max(ext_s, ext_c)
        if exact_tile:
            if ext_all >= -theta:
                self.exact_float += int(np.count_nonzero((sev >= -theta) & (sev <= theta)))
            if ext_all < 0:
                return
            if pure:
                vmask = sev >= 0 if is_same else sev > 0
            else:
                vmask = (sev > 0) | (same & (sev == 0))
            nv = int(np.count_nonzero(vmask))
            if nv:
                self.violations += nv
                self._offer_worst(sev, vmask, same, r0, c0)
            return
        if ext_all > theta:
            dmask = sev > theta
            self.violations += int(np.count_nonzero(dmask))
            self._offer_worst(sev, dmask, same, r0, c0)
        if ext_all >= -theta:
            und = np.flatnonzero((sev >= -theta) & (sev <= theta))
            if len(und):
                self._undecided(sev, und, same, r0, c0)

    def _undecided(self, sev: Arr, und: Arr, same: Arr | bool, r0: int, c0: int) -> None:
        w = sev.shape[1]
        r, c = r0 + und // w, c0 + und % w
        sv = np.asarray(sev.flat[und])
        sm = np.full(len(und), same) if isinstance(same, bool) else same.reshape(-1)[und]
        pe = self._pair_exact(r, c)
        viol = np.zeros(len(und), dtype=bool)
        viol[pe] = (sv[pe] > 0) | (sm[pe] & (sv[pe] == 0))
        self.exact_float += int(np.count_nonzero(pe))
        i, j = self._orig(r, c)
        ex = np.flatnonzero(~pe)
        if len(ex):
            self.exact_checks += len(ex)
            sg, get_p, g = self._exact_signs(r[ex], c[ex], i[ex], j[ex])
            viol[ex] = np.where(sm[ex], sg <= 0, sg > 0)
            cos = (g / self.n1[r[ex]]) / self.n1[c[ex]]  # approximate, for ranking only
            sv[ex] = np.where(sm[ex], -cos, cos)
        uns = np.flatnonzero(self.unsafe[r] | self.unsafe[c])  # their float values were lost
        for k, (v, _, _) in zip(uns, self._values(r[uns], c[uns], sv[uns], sm[uns])):
            self.best[bool(sm[k])] = max(self.best[bool(sm[k])], v)
        nv = int(np.count_nonzero(viol))
        if nv:
            self.violations += nv
            # these have |cosine| ≲ θ: they can only enter a list whose floor is below that
            if self.max_worst and self._worst_floor() <= 2 * (self.theta + self.delta):
                k = np.flatnonzero(viol)
                if len(k) > _CAP:  # rank by the approximate severities, then exactly
                    k = k[np.lexsort((j[k], i[k], -np.nan_to_num(sv[k])))[:_CAP]]
                pos = {int(v): n for n, v in enumerate(ex)}
                for v in k.tolist():
                    if v in pos:
                        self.exact.remember(int(i[v]), int(j[v]), get_p(pos[v]))
                self._push(r[k], c[k], sv[k], sm[k])

    def _exact_signs(self, r: Arr, c: Arr, i: Arr, j: Arr):
        """Exact signs of the inner products of pairs (sorted positions ``r, c``; original
        ``i, j``), a function giving the exact integer ``P`` of the k-th pair (the product
        is ``P·2**(lsb_r + lsb_c)``) and float approximations of the products."""
        e = self.lsb[r] + self.lsb[c]
        ur, ri = np.unique(r, return_inverse=True)
        uc, ci = np.unique(c, return_inverse=True)
        if len(ur) * len(uc) <= 4 * len(r) + 4096:  # dense enough: limb products by BLAS
            prod = nm.exact_products(self.Xs[ur], self.Xs[uc], self.lsb[ur], self.lsb[uc])
            if prod is not None:
                return (
                    prod.sign[ri, ci],
                    lambda k: prod.integer(ri[k], ci[k]),
                    np.ldexp(prod.approx(ri, ci), e.astype(np.int32)),
                )
        P = self.exact.products(i, j)  # python-flint or Python integers
        g = np.array([scaled_float(p, int(k)) for p, k in zip(P, e.tolist())])
        return np.array([(p > 0) - (p < 0) for p in P], dtype=np.int8), P.__getitem__, g

    # --- the driver
    def run(self, block: int, executor: Any = None) -> None:
        """Decide every pair: the diagonal, then the Gram blocks of ``block`` rows (on
        ``executor`` when given, unless stopping at the first violation)."""
        N = self.N
        # diagonal: x·x > 0 iff x ≠ 0
        self.pairs_checked += N
        zr = np.flatnonzero(self.zero)
        if len(zr):
            self.violations += len(zr)
            if self.max_worst:
                for p in zr:
                    i = int(self.perm[p])
                    self.worst.append((0.0, i, i))
                self.worst.sort()
                del self.worst[self.max_worst :]
            if self.stop:
                return
        starts = np.unique(self.cs, return_index=True)[1].tolist()
        plan = self._plan(block, starts, [*starts[1:], N])
        if executor is not None and not self.stop:  # same blocks, on the executor
            return run_gram_blocks(self, list(plan), executor)
        buf = np.empty(block * N)
        for r0, r1, c0, c1 in plan:
            if self._compute(r0, r1, c0, c1, buf):
                return

    def _plan(self, block: int, starts: list, ends: list):
        """The Gram blocks, in order; pairs between classes of disjoint supports (inner
        products exactly 0) are counted here instead."""
        N, K = self.N, len(starts)
        if K > _MAX_STRUCT_CLASSES:
            yield from ((i0, min(N, i0 + block), i0, N) for i0 in range(0, N, block))
            return
        supp = np.stack([np.any(self.Xs[s:e] != 0, axis=0) for s, e in zip(starts, ends)])
        sf = supp.astype(np.float64)
        disjoint = (sf @ sf.T) == 0
        for i0 in range(0, N, block):
            i1 = min(N, i0 + block)
            for ka in range(K):
                r0, r1 = max(starts[ka], i0), min(ends[ka], i1)
                for kb in range(ka, K) if r1 > r0 else ():
                    c0, c1 = max(starts[kb], r0), ends[kb]
                    n_up = n_upper(r0, r1, c0, c1)
                    if n_up and ka != kb and disjoint[ka, kb]:
                        self.structural += n_up
                        self.pairs_checked += n_up
                        self.best[False] = max(self.best[False], 0.0)
                    elif n_up:
                        yield (r0, r1, c0, c1)

    def _compute(self, r0: int, r1: int, c0: int, c1: int, buf: Arr) -> bool:
        """Gram entries rows ``[r0, r1)`` × cols ``[c0, c1)`` by BLAS, then tile by tile.
        Returns True when stopping at the first violation."""
        G = buf[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
        np.matmul(self.Xs[r0:r1], self.Xs[c0:c1].T, out=G)
        w = max(1, _TILE // (r1 - r0))
        for t0 in range(c0, c1, w):
            t1 = min(c1, t0 + w)
            self.tile(G[:, t0 - c0 : t1 - c0], r0, r1, t0, t1)
            if self.stop and self.violations:
                return True
        return False


def scaled_float(p: int, e: int) -> float:
    """``p·2**e`` correctly rounded (±inf beyond the float range)."""
    try:
        return float(p << e) if e >= 0 else p / (1 << -e)
    except OverflowError:
        return np.inf if p > 0 else -np.inf


def n_upper(r0: int, r1: int, c0: int, c1: int) -> int:
    """Number of pairs ``(r, c)`` with ``r0 ≤ r < r1``, ``c0 ≤ c < c1`` and ``c > r``."""
    r = np.arange(r0, r1)
    return int(np.maximum(0, c1 - np.maximum(c0, r + 1)).sum()) if c1 > c0 else 0
