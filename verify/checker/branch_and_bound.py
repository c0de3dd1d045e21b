"""Exact replay of branch-and-bound evidence (certificate method ``branch-and-bound``).

Part of the trusted checker: standard library only, and nothing from ``verify`` outside
:mod:`verify.checker`.  The evidence (``docs/certificate.md``, section "(d) branch-and-bound")
proves ``max_{||u|| <= 1} t * lambda^T (Xu)_+ <= s`` for ``t = +1`` and ``t = -1`` by a tree
of sign splits over the support ``S`` of ``lambda``; every leaf carries a linear relaxation of
the free rows and Lemma-4 multipliers.  The replay is rule by rule, in the VIPR spirit, in
integers and fractions only (squared norms, no square roots, no floats):

* ``bab-support``: ``S`` strictly increasing sample indices; ``lambda_n == 0`` exactly off
  ``S`` and ``!= 0`` on it;
* ``bab-tree``: a preorder list of ``{"split": n}`` and ``{"leaf": ...}`` nodes, parsed
  iteratively; a split row is in ``S`` and not yet on the path; the list is consumed exactly;
  at most ``min(2**(|S|+1) - 1, MAX_NODES)`` nodes;
* ``bab-rows``: at a leaf every support row not on the path appears exactly once, ``alpha``
  only on rows with ``mu_n < 0``, interval (or, in an sdp leaf, ``h``) evidence only on rows
  with ``mu_n > 0``;
* ``bab-alpha``: ``0 <= alpha <= 1``;
* ``bab-interval``: ``h >= 0``, ``||x_n + A^T zh||^2 <= h^2``, ``-l >= 0``,
  ``||-x_n + A^T zl||^2 <= l^2``;
* ``bab-chord``: ``l <= h``, ``a l + b >= max(l, 0)``, ``a h + b >= max(h, 0)``;
* ``bab-multipliers``: ``z >= 0``, indices on the path, strictly increasing (an absent
  ``z``, ``zl`` or ``zh`` means no multipliers: ``||x_n||^2 <= h^2`` is then checked as is);
* ``bab-leaf``: ``s - B >= 0`` and ``||c + A^T z||^2 <= (s - B)^2``;
* ``bab-sdp`` (a leaf ``{"sdp", "rows"}``: its lifted rows ``{"row", "h", "zh"}`` have the
  ``h`` half of ``bab-interval``, its alpha rows are as above): the multipliers' shapes and
  signs, ``rho I - M`` positive definite and ``tau + rho (2 + sum_j h_j^2) <= s``, checked
  by :func:`verify.checker.semidefinite.check_sdp_leaf`;
* ``bab-size``: no rational string longer than ``MAX_CHARS`` characters and no common
  denominator longer than ``MAX_DEN_BITS`` bits; for sdp leaves the limits of
  :mod:`verify.checker.semidefinite` (order, bits, and one elimination budget per
  certificate) (a hostile file cannot stall the replay).

Here ``mu_n = t lambda_n`` and, at a leaf with path ``P`` (signs ``sigma_n``), the cone's rows
are ``a_m = sigma_m x_m`` (``m in P``).  Squared norms of combinations of data rows are
evaluated with the Gram matrix of the support rows (computed row by row on first use) when
that is cheaper than forming the ``d``-vector.

Examples
--------
>>> from fractions import Fraction
>>> leaf = {"leaf": {"z": {"indices": [], "values": []}, "rows": []}}
>>> ev = {"support": [0], "trees": {
...     "+": [{"split": 0}, leaf, leaf],
...     "-": [{"leaf": {"z": {"indices": [], "values": []},
...                     "rows": [{"row": 0, "alpha": "0"}]}}]}}
>>> out = []
>>> check_branch_and_bound(ev, [[1]], 0, [Fraction(2)], Fraction(2),
...                        lambda r, m: out.append(r), "class 0")
>>> out
[]
>>> check_branch_and_bound(ev, [[1]], 0, [Fraction(2)], Fraction(3, 2),
...                        lambda r, m: out.append(r), "class 0")
>>> out
['bab-leaf']
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from operator import mul
from typing import Any

from verify.checker.errors import InputError
from verify.checker.fields import parse_nd
from verify.checker.semidefinite import FAMILIES, WorkBudget, check_sdp_leaf

__all__ = ["MAX_CHARS", "MAX_DEN_BITS", "MAX_NODES", "check_branch_and_bound", "check_support"]

MAX_NODES = 1 << 22  # nodes per tree (besides the 2**(|S|+1) - 1 of a complete tree)
MAX_CHARS = 4096  # characters of one rational string (an exact float needs at most ~650)
MAX_DEN_BITS = 1 << 15  # bits of one common denominator (lambda, one z, a leaf's vector, B)

_SIGNS = (("+", 1), ("-", -1))
#: The keys each object of the evidence may hold (anything else is a claim the replay does not
#: recompute: rule ``unchecked-claim``).
_LEAF_KEYS = frozenset({"z", "rows"})
_ALPHA_KEYS = frozenset({"row", "alpha"})
_INTERVAL_KEYS = frozenset({"row", "a", "b", "l", "h", "zl", "zh"})
_SDP_LEAF_KEYS = frozenset({"sdp", "rows"})
_LIFTED_KEYS = frozenset({"row", "h", "zh"})
_SDP_KEYS = frozenset(key for key, _, _ in FAMILIES)
_Z_KEYS = frozenset({"indices", "values"})
_Fail = Callable[[str, str], None]
_NO_MULTIPLIERS: dict[str, list[Any]] = {"indices": [], "values": []}  # an absent z, zl or zh


class _Stop(Exception):
    """Abandon the current tree (or the whole evidence) after a shape or size failure."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def _field(obj: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InputError(f"malformed certificate: {where} has no {key!r}")
    v = obj[key]
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise InputError(f"malformed certificate: {where}.{key} has the wrong type")
    return v


def _sparse_field(obj: dict, key: str, where: str) -> Any:
    """The multiplier object ``obj[key]``; an absent key means no multipliers (all zero)."""
    return _field(obj, key, dict, where) if key in obj else _NO_MULTIPLIERS


def _num(text: Any, where: str) -> tuple[int, int]:
    """``(numerator, denominator > 0)`` of a rational string, refusing huge ones (bab-size)."""
    if type(text) is str and len(text) > MAX_CHARS:
        raise _Stop("bab-size", f"{where}: a number of {len(text)} characters (the limit is "
                    f"{MAX_CHARS})")
    return parse_nd(text, where, MAX_CHARS)  # this module's own size rules (bab-size)


def _frac(text: Any, where: str) -> Fraction:
    n, d = _num(text, where)
    return Fraction(n, d)


def _list(v: Any, where: str) -> list:
    if not isinstance(v, list):
        raise InputError(f"malformed certificate: {where} holds a non-list")
    return v


def _lcm(dens: Any, where: str) -> int:
    """The least common multiple of positive integers, refusing more than MAX_DEN_BITS."""
    D = 1
    for d in dens:
        if d != 1 and D % d:
            D = math.lcm(D, d)
            if D.bit_length() > MAX_DEN_BITS:
                raise _Stop("bab-size", f"{where}: a common denominator of more than "
                            f"{MAX_DEN_BITS} bits")
    return D


class _Replay:
    """The data of one class entry: support rows, exact ``lambda`` on them, lazy Gram rows."""

    def __init__(self, XI: list[list[int]], xe: int, support: list[int],
                 lam: list[Fraction], s: Fraction, fail: _Fail, where: str,
                 budget: WorkBudget | None = None) -> None:
        self.XI, self.xe, self.s, self.fail, self.where = XI, xe, s, fail, where
        # the elimination work left for sdp leaves (bab-size)
        self.budget = WorkBudget() if budget is None else budget
        self.d = len(XI[0]) if XI else 0
        self.S = support
        self.pos = {n: p for p, n in enumerate(support)}
        self.XS = [XI[n] for n in support]
        self.lden = _lcm((lam[n].denominator for n in support), f"{where}: lambda")
        self.lnum = [lam[n].numerator * (self.lden // lam[n].denominator) for n in support]
        self.gram: list[list[int] | None] = [None] * len(support)
        self.uses = [0] * len(support)  # column-route uses of a row without its Gram row
        self.n_missing = 0  # leaves with missing rows so far

    # ------------------------------------------------------------------ exact squared norms

    def _gram_row(self, p: int) -> list[int]:
        x = self.XS[p]
        row = [sum(map(mul, x, y)) for y in self.XS]
        self.gram[p] = row
        return row

    def _quad(self, idx: list[int], w: list[int]) -> int:
        """``|| sum_i w_i x_{S[idx_i]} ||^2`` in integers (rows of ``XI``, unscaled).

        The Gram route (``k^2`` products instead of ``k d``) once every row has its Gram row;
        a row gets it (``|S| d`` products) after ``|S|`` uses in the column route, which have
        cost as much (rent, then buy: at most twice the cheaper of the two, and a tree that
        uses each row once, such as one leaf of ``|S|`` intervals, never pays ``|S|^2 d``).
        """
        k = len(idx)
        if k == 0:
            return 0
        gram = self.gram
        if k < self.d:
            if all(gram[p] is not None for p in idx):  # Gram route
                tot = 0
                for p, wp in zip(idx, w):
                    row = gram[p]
                    tot += wp * sum(map(mul, w, [row[q] for q in idx]))
                return tot
            uses, buy = self.uses, len(self.S)
            for p in idx:
                if gram[p] is None:
                    uses[p] += 1
                    if uses[p] >= buy:
                        self._gram_row(p)
        tot = 0
        for col in zip(*[self.XS[p] for p in idx]):
            v = sum(map(mul, w, col))
            tot += v * v
        return tot

    def norm_le(self, idx: list[int], w: list[int], den: int, bound: Fraction) -> bool:
        """``|| 2**xe * sum_i (w_i / den) x_{S[idx_i]} ||^2 <= bound^2`` exactly."""
        lhs = self._quad(idx, w) * bound.denominator**2
        rhs = bound.numerator**2 * den**2
        if self.xe >= 0:
            lhs <<= 2 * self.xe
        else:
            rhs <<= -2 * self.xe
        return lhs <= rhs

    def extra(self, obj: dict, keys: frozenset[str], at: str) -> None:
        """Rule ``unchecked-claim``: ``obj`` holds no key outside ``keys``."""
        bad = sorted(set(obj) - keys, key=str)
        if bad:
            shown = ", ".join(repr(str(k))[:40] for k in bad[:5])
            self.fail("unchecked-claim", f"{at}: key(s) {shown} are not part of the format "
                      "(a claim the checker does not recompute)")

    # ------------------------------------------------------------------ evidence pieces

    def multipliers(self, obj: Any, sign: list[int], at: str
                    ) -> tuple[list[int], list[int], int] | None:
        """A sparse ``z >= 0`` over the path: ``(support positions, numerators, den)``, or
        ``None`` after a bab-multipliers failure."""
        idx = _field(obj, "indices", list, at)
        vals = _field(obj, "values", list, at)
        if len(obj) != 2:
            self.extra(obj, _Z_KEYS, at)
        if len(idx) != len(vals):
            self.fail("bab-multipliers", f"{at}: {len(idx)} indices for {len(vals)} values")
            return None
        ps: list[int] = []
        last = -1
        for n in idx:
            if type(n) is not int:
                raise InputError(f"malformed certificate: {at}.indices holds a non-integer")
            p = self.pos.get(n)
            if n <= last or p is None or not sign[p]:
                why = "not strictly increasing" if n <= last else "not on the path"
                self.fail("bab-multipliers", f"{at}: index {n} is {why}")
                return None
            ps.append(p)
            last = n
        nd = [_num(v, at) for v in vals]
        for n, (v, _) in zip(idx, nd):
            if v < 0:
                self.fail("bab-multipliers", f"{at}: z is negative at sample {n}")
                return None
        D = _lcm((q for _, q in nd), at)
        return ps, [v * (D // q) for v, q in nd], D

    def bound_side(self, p: int, ent: dict, sign: list[int], at: str, name: str) -> bool:
        """One half of ``bab-interval``: ``name = "h"``: ``h >= 0`` and
        ``||x_n + A^T zh||^2 <= h^2`` (so ``x_n^T u <= h``); ``name = "l"``: ``-l >= 0`` and
        ``||-x_n + A^T zl||^2 <= l^2`` (so ``x_n^T u >= l``).  Returns whether it holds."""
        sg, z = (1, "zh") if name == "h" else (-1, "zl")
        t = _frac(_field(ent, name, str, at), f"{at}.{name}")
        zz = self.multipliers(_sparse_field(ent, z, at), sign, f"{at}.{z}")
        if zz is None:
            return False
        ps, zi, D = zz
        if sg * t < 0:
            self.fail("bab-interval", f"{at}: {'h' if sg > 0 else '-l'} = {sg * t} is negative")
            return False
        w = [sg * D] + [sign[q] * v for q, v in zip(ps, zi)]
        if not self.norm_le([p, *ps], w, D, t):
            self.fail("bab-interval", f"{at}: ||{'+' if sg > 0 else '-'}x_n + A^T {z}|| "
                      f"> |{name}|")
            return False
        return True

    def interval(self, p: int, ent: dict, sign: list[int], at: str
                 ) -> tuple[Fraction, Fraction] | None:
        """Check ``l <= x_n^T u <= h`` on the leaf and the chord; ``(a, b)`` or ``None``."""
        a, b, lo, hi = (_frac(_field(ent, k, str, at), f"{at}.{k}") for k in "ablh")
        ok = self.bound_side(p, ent, sign, at, "h")
        ok = self.bound_side(p, ent, sign, at, "l") and ok
        if not (lo <= hi and a * lo + b >= max(lo, 0) and a * hi + b >= max(hi, 0)):
            self.fail("bab-chord", f"{at}: a t + b does not bound (t)_+ at both ends of [l, h]")
            ok = False
        return (a, b) if ok else None

    def free_rows(self, t: int, rows: list, sign: list[int], on_path: list[int], at: str,
                  marker: str) -> tuple[bool, list[tuple[int, int, int]],
                                        list[tuple[int, dict, str]]]:
        """Rules ``bab-rows`` and ``bab-alpha`` of one leaf's ``rows``: ``(ok, alpha rows as
        (support position, alpha numerator, denominator), mu_n > 0 rows as (position, entry,
        where))``.  ``marker`` is the key of the evidence of a ``mu_n > 0`` row (``"a"`` for a
        chord leaf, ``"h"`` for an sdp leaf)."""
        seen: set[int] = set()  # O(rows) per leaf, never O(|S|) (a leaf may be tiny)
        ok = True
        alphas: list[tuple[int, int, int]] = []
        positive: list[tuple[int, dict, str]] = []
        need = ("the interval fields 'a', 'b', 'l', 'h', 'zl', 'zh'" if marker == "a"
                else "'h' (and optionally 'zh')")
        for r, ent in enumerate(rows):
            n = _field(ent, "row", int, f"{at}.rows[{r}]")
            rat = f"{at} row {n}"
            p = self.pos.get(n)
            if p is None or sign[p] or p in seen:
                why = ("is not in the support" if p is None else
                       "is on the path" if sign[p] else "is listed twice")
                self.fail("bab-rows", f"{rat} {why}")
                ok = False
                continue
            seen.add(p)
            mu = t * self.lnum[p]  # mu_n * lden
            has_alpha, has_other = "alpha" in ent, marker in ent
            if has_alpha == has_other:
                self.fail("bab-rows", f"{rat}: needs either 'alpha' or {need}")
                ok = False
            elif has_alpha:
                if len(ent) != 2:
                    self.extra(ent, _ALPHA_KEYS, rat)
                if mu > 0:
                    self.fail("bab-rows", f"{rat}: alpha on a row with mu_n > 0")
                    ok = False
                    continue
                an, ad = _num(_field(ent, "alpha", str, rat), f"{rat}.alpha")
                if an < 0 or an > ad:
                    self.fail("bab-alpha", f"{rat}: alpha = {Fraction(an, ad)} is not in [0, 1]")
                    ok = False
                    continue
                alphas.append((p, an, ad))
            else:
                if marker == "a" and len(ent) != 5 + ("zl" in ent) + ("zh" in ent):
                    self.extra(ent, _INTERVAL_KEYS, rat)
                elif marker == "h" and len(ent) != 2 + ("zh" in ent):
                    self.extra(ent, _LIFTED_KEYS, rat)
                if mu < 0:
                    self.fail("bab-rows", f"{rat}: {'interval' if marker == 'a' else 'h'} "
                              "evidence on a row with mu_n < 0 (use alpha)")
                    ok = False
                    continue
                positive.append((p, ent, rat))
        n_missing = len(self.S) - len(on_path) - len(seen)
        if n_missing:
            self.n_missing += 1  # name the rows (an O(|S|) scan) for the first few leaves only
            missing = [] if self.n_missing > 20 else [
                self.S[p] for p in range(len(self.S)) if not sign[p] and p not in seen]
            self.fail("bab-rows", f"{at}: {n_missing} free support row(s) missing"
                      f"{': ' + str(missing[:10]) if missing else ''}"
                      f"{' ...' if len(missing) > 10 else ''}")
            ok = False
        return ok, alphas, positive

    def leaf(self, t: int, node: Any, sign: list[int], on_path: list[int], at: str) -> None:
        """Every rule of one leaf; failures are recorded, the walk goes on."""
        body = node["leaf"]
        if "sdp" in body:
            self.sdp_leaf(t, body, sign, on_path, at)
            return
        rows = _field(body, "rows", list, at)
        zobj = _sparse_field(body, "z", at)
        if len(body) != 1 + ("z" in body):
            self.extra(body, _LEAF_KEYS, at)
        ok, alphas, positive = self.free_rows(t, rows, sign, on_path, at, "a")
        pairs = [(p, t * self.lnum[p] * an, self.lden * ad) for p, an, ad in alphas]
        bs: list[tuple[int, int]] = []  # mu_n b_n of the interval rows (numerator, denominator)
        for p, ent, rat in positive:
            ab = self.interval(p, ent, sign, rat)
            if ab is None:
                ok = False
                continue
            mu = t * self.lnum[p]
            pairs.append((p, mu * ab[0].numerator, self.lden * ab[0].denominator))
            bs.append((mu * ab[1].numerator, self.lden * ab[1].denominator))
        zz = self.multipliers(zobj, sign, f"{at}.z")
        if zz is None or not ok:
            return
        ps, zi, zden = zz
        zof = dict(zip(ps, zip(zi, [zden] * len(ps))))
        for p in on_path:  # sigma = +1: mu_p + z_p;  sigma = -1: -z_p
            zn, zd = zof.get(p, (0, 1))
            if sign[p] > 0:
                pairs.append((p, t * self.lnum[p] * zd + zn * self.lden, self.lden * zd))
            elif zn:
                pairs.append((p, -zn, zd))
        BD = _lcm((q for _, q in bs), f"{at}: B")  # never a Fraction sum (coprime
        B = Fraction(sum(v * (BD // q) for v, q in bs), BD)  # denominators would grow it)
        rest = self.s - B
        if rest < 0:
            self.fail("bab-leaf", f"{at}: s - B = {rest} is negative")
            return
        D = _lcm((q for _, _, q in pairs), f"{at}: leaf vector")
        idx = [p for p, v, _ in pairs if v]
        w = [v * (D // q) for _, v, q in pairs if v]
        if not self.norm_le(idx, w, D, rest):
            self.fail("bab-leaf", f"{at}: ||c + A^T z|| > s - B")

    def sdp_leaf(self, t: int, body: dict, sign: list[int], on_path: list[int], at: str
                 ) -> None:
        """An sdp leaf: ``rows`` (alpha rows, lifted rows with their ``h`` half of
        ``bab-interval``), then ``bab-sdp`` and its sizes (:mod:`verify.checker.semidefinite`)."""
        rows = _field(body, "rows", list, at)
        obj = _field(body, "sdp", dict, at)
        if len(body) != 2:
            self.extra(body, _SDP_LEAF_KEYS, at)
        sdp = self.sdp_multipliers(obj, f"{at}.sdp")
        ok, alphas, positive = self.free_rows(t, rows, sign, on_path, at, "h")
        lifted: list[tuple[int, Fraction]] = []
        for p, ent, rat in positive:
            if self.bound_side(p, ent, sign, rat, "h"):
                lifted.append((self.S[p], _frac(ent["h"], f"{rat}.h")))
            else:
                ok = False
        if not ok:
            return
        mu = {self.S[p]: Fraction(t * self.lnum[p], self.lden)
              for p in [*on_path, *(p for p, _, _ in positive), *(p for p, _, _ in alphas)]}
        out = check_sdp_leaf(self.XI, self.xe, mu, [(self.S[p], sign[p]) for p in on_path],
                             lifted, [(self.S[p], Fraction(an, ad)) for p, an, ad in alphas],
                             sdp, self.s, self.budget)
        if out is not None:
            rule, detail = out
            if rule == "bab-size":
                raise _Stop(rule, f"{at}: {detail}")
            self.fail(rule, f"{at}: {detail}")

    def sdp_multipliers(self, obj: dict, at: str) -> dict[str, Any]:
        """The ``sdp`` object read: rational strings to Fractions (wrong JSON types:
        malformed; keys outside the format: ``unchecked-claim``; shapes and signs are
        ``bab-sdp``, checked by :func:`check_sdp_leaf`)."""
        self.extra(obj, _SDP_KEYS, at)
        out: dict[str, Any] = {}
        for key, shape, _ in FAMILIES:
            if key not in obj and key not in ("tau", "rho"):
                continue  # absent: all zero
            where = f"{at}.{key}"
            if shape == "":
                out[key] = _frac(_field(obj, key, str, at), where)
            elif shape == "pk":
                rows = _field(obj, key, list, at)
                out[key] = [[_frac(v, where) for v in _list(r, where)] for r in rows]
            else:
                out[key] = [_frac(v, where) for v in _field(obj, key, list, at)]
        return out

    # ------------------------------------------------------------------ the tree

    def tree(self, t: int, name: str, tree: Any) -> None:
        at0 = f"{self.where}: tree {name}"
        if not isinstance(tree, list):
            raise _Stop("bab-tree", f"{at0}: missing (a list of nodes is needed)")
        k = len(self.S)
        cap = MAX_NODES if k >= 22 else min(MAX_NODES, (1 << (k + 1)) - 1)
        if len(tree) > cap:
            raise _Stop("bab-tree", f"{at0}: {len(tree)} nodes, more than the {cap} of a "
                        f"complete tree over the {k} support rows")
        sign = [0] * k  # sigma over the support positions, 0 = free
        stack: list[int] = []  # the path, root first
        i = 0
        while True:
            if i >= len(tree):
                raise _Stop("bab-tree", f"{at0}: the list ends at node {i} with "
                            f"{len(stack)} open split(s): a subtree is missing")
            node = tree[i]
            at = f"{at0} node {i}"
            i += 1
            kind = next(iter(node)) if isinstance(node, dict) and len(node) == 1 else None
            if kind == "split":
                n = node["split"]
                p = self.pos.get(n) if type(n) is int else None
                if p is None or sign[p]:
                    why = "is not a support row" if p is None else "is already on the path"
                    raise _Stop("bab-tree", f"{at}: split row {n!r} {why}")
                sign[p] = 1
                stack.append(p)
                continue
            if kind != "leaf" or not isinstance(node["leaf"], dict):
                raise _Stop("bab-tree", f"{at}: unknown node (expected {{'split': n}} or "
                            "{'leaf': {...}})")
            self.leaf(t, node, sign, stack, f"{at} (leaf)")
            while stack and sign[stack[-1]] < 0:  # close finished splits
                sign[stack.pop()] = 0
            if not stack:
                break
            sign[stack[-1]] = -1  # now the sigma = -1 child of the innermost open split
        if i != len(tree):
            raise _Stop("bab-tree", f"{at0}: {len(tree) - i} trailing node(s) after the "
                        f"complete tree of {i} nodes")


def check_support(support: list[Any], N: int, lam: list[Fraction], fail: _Fail, where: str,
                  rule: str) -> bool:
    """Rule ``rule`` (``bab-support``, ``support``): ``support`` is strictly increasing sample
    indices ``0..N-1`` (so none repeats or lies out of range), ``lambda`` has ``N`` entries,
    ``lambda_n == 0`` exactly off the support and ``!= 0`` on it.  Returns whether it holds.

    Examples
    --------
    >>> out = []
    >>> check_support([0, 2], 3, [Fraction(1), Fraction(0), Fraction(-1)],
    ...               lambda r, m: out.append(r), "class 0", "support")
    True
    >>> check_support([0, 0], 3, [Fraction(1), Fraction(0), Fraction(0)],
    ...               lambda r, m: out.append(m), "class 0", "support"), out[-1][:40]
    (False, 'class 0: the support must be strictly in')
    """
    last = -1
    for n in support:
        if type(n) is not int or not last < n < N:
            fail(rule, f"{where}: the support must be strictly increasing sample "
                 f"indices 0..{N - 1}; found {n!r} after {last}")
            return False
        last = n
    if len(lam) != N:
        fail(rule, f"{where}: lambda has {len(lam)} entries for {N} samples")
        return False
    inside = set(support)
    bad = [n for n in range(N) if (lam[n] != 0) != (n in inside)]
    for n in bad[:20]:
        fail(rule, f"{where}: sample {n}: lambda_n "
             f"{'!= 0 outside' if lam[n] else '== 0 inside'} the support")
    return not bad


def check_branch_and_bound(ev: Any, XI: list[list[int]], xe: int, lam: list[Fraction],
                           s: Fraction, fail: _Fail, where: str,
                           budget: WorkBudget | None = None) -> None:
    """Replay branch-and-bound evidence for ``s >= max_{||u|| <= 1} |lambda^T (Xu)_+|``.

    Parameters
    ----------
    ev : dict
        The class entry's ``evidence``: ``support`` and ``trees`` (``"+"``, ``"-"``).
    XI, xe : list of list of int, int
        The data exactly: ``X = XI * 2**xe``.
    lam : list of Fraction
        The exact ``lambda`` (``N`` entries).
    s : Fraction
        The claimed ``s`` (``>= 0``, checked by the caller: rule ``s-sign``).
    fail : callable
        ``fail(rule, detail)`` records one failed rule.
    where : str
        Prefix of every detail (e.g. ``"class 0"``).
    budget : WorkBudget, optional
        The elimination work left for sdp leaves, shared by the class entries of a
        certificate (``None``: a fresh ``MAX_SDP_WORK`` for this call).

    Raises
    ------
    InputError
        Malformed evidence (missing fields, wrong JSON types, non-rational strings).
    """
    if not isinstance(ev, dict):
        raise InputError(f"malformed certificate: {where}.evidence is not an object")
    support = _field(ev, "support", list, f"{where}.evidence")
    trees = _field(ev, "trees", dict, f"{where}.evidence")
    if not check_support(support, len(XI), lam, fail, where, "bab-support"):
        return
    try:
        rep = _Replay(XI, xe, support, lam, s, fail, where, budget)
    except _Stop as st:
        fail(st.rule, st.detail)
        return
    rep.extra(trees, frozenset(name for name, _ in _SIGNS), f"{where}.evidence.trees")
    for name, t in _SIGNS:
        try:
            rep.tree(t, name, trees.get(name))
        except _Stop as st:
            fail(st.rule, st.detail)
