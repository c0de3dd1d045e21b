"""The second-order cone program over the leaves of a partition, in Clarabel's native form.

``maximise y_S^T lam_S`` subject to ``0 <= y_n lam_n <= box`` and, per leaf, its bound as a
function of ``lam`` ``<= 1``: a chord leaf (:class:`verify.convex.tree_dual._Leaf`, its
``beta`` and ``z`` as the leaf's own variables) or any second-order cone block (the
semidefinite leaves of :mod:`verify.convex.semidefinite_dual`, its only user).  The chord
leaves alone are :func:`verify.convex.tree_dual.tree_dual`'s program, which solves it by
cutting planes instead; the tests compare the two.

Examples
--------
>>> import numpy as np
>>> from verify.convex.tree_dual import _Leaf
>>> XS = np.eye(2); ys = np.array([1.0, -1.0])
>>> prog = LeafProgram(ys, XS, box=10.0)
>>> for sign in (1.0, -1.0):  # one leaf per sign: the whole ball, every row chorded on [-1, 1]
...     coef = 0.5 * sign * XS.T; bcoef = np.full(2, 0.5 * sign)
...     pos = np.flatnonzero(sign * ys > 0); neg = np.flatnonzero(sign * ys < 0)
...     c = coef.copy(); c[:, neg] = 0.0; b = bcoef.copy(); b[neg] = 0.0
...     _ = prog.add_chord(_Leaf(sign, c, b, neg, np.zeros((0, 2))))
>>> x = prog.solve(None)[:2]
>>> np.round(x, 6).tolist()  # (t)_+ <= (t + 1) / 2: lam_n / 2 + |lam_n| / 2 <= 1
[1.0, -1.0]
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from verify.convex.tree_dual import _Leaf

__all__: list[str] = []  # the semidefinite dual's helper: nothing public

#: Clarabel's tolerances for this program (a candidate only: fresh trees or bounds decide).
_OPTIONS = {"tol_gap_abs": 1e-7, "tol_gap_rel": 1e-7, "tol_feas": 1e-7, "max_iter": 200}
#: Clarabel statuses whose point is used: a point cut short by the time limit is a candidate
#: too (the caller scales it by its largest leaf bound).
_USABLE = ("Solved", "AlmostSolved", "MaxTime", "MaxIterations", "InsufficientProgress")


class LeafProgram:
    """``maximise y_S^T lam_S`` subject to ``0 <= y_n lam_n <= box`` and one second-order cone
    per leaf, in Clarabel's native form (``A x + s = b``, ``s`` in the cones).  The variables
    are ``lam_S`` first, then each leaf's own multipliers (:meth:`add_chord` and
    :meth:`variables` return where they start; :meth:`block` adds a cone over them)."""

    def __init__(self, ys: np.ndarray, XS: np.ndarray, box: float):
        m = XS.shape[0]
        self.ys, self.XS, self.m = ys, XS, m
        # nonnegative rows: y_n lam_n >= 0 and box - y_n lam_n >= 0 first
        self.nn_r: list[np.ndarray] = [np.arange(m), m + np.arange(m)]
        self.nn_c: list[np.ndarray] = [np.arange(m), np.arange(m)]
        self.nn_v: list[np.ndarray] = [-ys, ys]
        self.nn_b: list[np.ndarray] = [np.zeros(m), np.full(m, box)]
        self.n_nn = 2 * m
        self.soc: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.nvar = m

    def variables(self, k: int) -> int:
        """``k`` new variables; the index of the first."""
        base = self.nvar
        self.nvar += k
        return base

    def nonneg(self, cols: np.ndarray, vals: np.ndarray, b: np.ndarray | None = None) -> None:
        """Rows ``b_i - vals_i x_{cols_i} >= 0`` (one entry per row; ``b`` default 0)."""
        k = np.arange(cols.size)
        self.nn_r.append(self.n_nn + k)
        self.nn_c.append(np.asarray(cols, dtype=np.int64))
        self.nn_v.append(np.asarray(vals, dtype=np.float64))
        self.nn_b.append(np.zeros(cols.size) if b is None else b)
        self.n_nn += cols.size

    def nonneg_rows(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                    b: np.ndarray) -> None:
        """Rows ``b_r - sum vals x_cols >= 0`` given as triplets (``rows`` from 0)."""
        self.nn_r.append(self.n_nn + rows)
        self.nn_c.append(np.asarray(cols, dtype=np.int64))
        self.nn_v.append(np.asarray(vals, dtype=np.float64))
        self.nn_b.append(b)
        self.n_nn += b.size

    def block(self, blk: np.ndarray, cols: np.ndarray, b: np.ndarray) -> None:
        """One second-order cone ``b - blk x[cols]`` (first entry the norm's bound)."""
        self.soc.append((blk, np.asarray(cols, dtype=np.int64), b, np.nonzero(blk)))

    def add_chord(self, leaf: _Leaf) -> int:
        """A chord leaf's bound ``<= 1``; returns the index of its first multiplier."""
        XS, m = self.XS, self.m
        d = XS.shape[1]
        neg, coef = leaf.neg, leaf.coef
        nb, nz = neg.size, leaf.A.shape[0]
        base = self.variables(nb + nz)
        # beta_n - mu_n >= 0 and -beta_n >= 0 (mu_n = sign lam_n < 0), z >= 0
        if nb:
            k = np.arange(nb)
            jb = base + k
            self.nonneg_rows(np.concatenate([k, k, nb + k]), np.concatenate([jb, neg, jb]),
                             np.concatenate([-np.ones(nb), np.full(nb, leaf.sign),
                                             np.ones(nb)]), np.zeros(2 * nb))
        if nz:
            self.nonneg(base + nb + np.arange(nz), -np.ones(nz))
        # the cone (1 - B(lam), v(lam, beta, z)): s = b - A x, so A's rows are +B and -v
        blk = np.zeros((d + 1, m + nb + nz))
        blk[0, :m] = leaf.bcoef
        blk[1:, :m] = -coef
        if nb:
            blk[1:, m:m + nb] = -XS[neg].T
        if nz:
            blk[1:, m + nb:] = -leaf.A.T
        b = np.zeros(d + 1)
        b[0] = 1.0
        self.block(blk, np.concatenate([np.arange(m), base + np.arange(nb + nz)]), b)
        return base

    def solve(self, time_limit: float | None) -> np.ndarray | None:
        """Clarabel's ``x`` (all variables), or ``None`` (no usable answer)."""
        import clarabel

        A_nn = sp.csc_matrix((np.concatenate(self.nn_v), (np.concatenate(self.nn_r),
                                                           np.concatenate(self.nn_c))),
                             shape=(self.n_nn, self.nvar))
        rows, cols, vals, bs, cones = [], [], [], [], []
        off = 0
        for blk, bc, b, (rr, cc) in self.soc:
            rows.append(off + rr)
            cols.append(bc[cc])
            vals.append(blk[rr, cc])
            bs.append(b)
            cones.append(clarabel.SecondOrderConeT(b.size))
            off += b.size
        A_soc = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                       np.concatenate(cols))),
                              shape=(off, self.nvar))
        A = sp.vstack([A_nn, A_soc], format="csc")
        b = np.concatenate(self.nn_b + bs)
        q = np.zeros(self.nvar)
        q[:self.m] = -self.ys
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        for k, v in _OPTIONS.items():
            setattr(settings, k, v)
        if time_limit is not None:
            settings.time_limit = max(float(time_limit), 0.1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = clarabel.DefaultSolver(sp.csc_matrix((self.nvar, self.nvar)), q, A, b,
                                         [clarabel.NonnegativeConeT(self.n_nn)] + cones,
                                         settings).solve()
        if str(sol.status) not in _USABLE:
            return None
        x = np.asarray(sol.x)
        return x if np.all(np.isfinite(x)) and np.any(x[:self.m]) else None
