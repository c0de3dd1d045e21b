"""The trusted checker's replay of branch-and-bound evidence (verify/checker/branch_and_bound.py).

Honest trees are built here, by a tiny float helper independent of the toolkit's builder:
splits in support order down to a given depth; at a leaf, Lemma-4 multipliers from
``scipy.optimize.nnls`` (converted exactly, so every stated number is an exact rational),
interval bounds rounded up with ``sqrt_bounds`` and the chord through ``(l, 0)`` and
``(h, h)``.  The full tree (every support row split) is cross-checked against the chamber
enumeration maximum; every tampering must be rejected with its rule named.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import shutil
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import nnls

from verify.checker.arithmetic import format_rational, sqrt_bounds
from verify.checker.branch_and_bound import MAX_CHARS, check_branch_and_bound
from verify.checker.check import check_file
from verify.errors import InputError
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.rationals import solve_rational

ROOT = Path(__file__).resolve().parents[2]
CERTS = ROOT / "certificates"
Q = Fraction
HALF = Fraction(1, 2)

# ----------------------------------------------------------------------------- honest trees


def _exact(X):
    """Float data as ``(XI, xe)`` with ``X = XI * 2**xe`` (as the checker reads them)."""
    q = [[Fraction(float(v)) for v in row] for row in X]
    den = 1
    for row in q:
        for v in row:
            den = math.lcm(den, v.denominator)
    assert den & (den - 1) == 0
    return [[int(v * den) for v in row] for row in q], -(den.bit_length() - 1)


def _lemma4(c, A):
    """Float NNLS multipliers ``z >= 0`` (exact rationals of the floats) for
    ``min ||c + A^T z||`` and the exact squared norm they give."""
    if A:
        z = nnls(np.array(A, dtype=float).T, -np.array(c, dtype=float))[0]
        zq = [Fraction(float(v)) for v in z]
    else:
        zq = []
    v = [c[k] + sum((zq[m] * A[m][k] for m in range(len(A))), Q(0)) for k in range(len(c))]
    return zq, sum((t * t for t in v), Q(0))


def _up(sq):
    return sqrt_bounds(sq)[1]


def _zjson(rows, z):
    keep = [(n, v) for n, v in zip(rows, z) if v]
    return {"indices": [n for n, _ in keep], "values": [format_rational(v) for _, v in keep]}


def build_tree(X, lam, t, depth=None, alpha=HALF):
    """Preorder nodes of an honest tree for sign ``t`` and the largest leaf bound."""
    Xq = [[Fraction(float(v)) for v in row] for row in X]
    d = len(Xq[0])
    S = [n for n in range(len(Xq)) if lam[n]]
    depth = len(S) if depth is None else depth
    mu = [t * v for v in lam]
    nodes: list = []
    best = [Q(0)]

    def leaf(path):
        P = sorted(path)
        A = [[path[n] * v for v in Xq[n]] for n in P]
        c = [Q(0)] * d
        B = Q(0)
        rows = []

        def add(coef, x):
            for k in range(d):
                c[k] += coef * x[k]

        for n in P:
            if path[n] > 0:
                add(mu[n], Xq[n])
        for n in S:
            if n in path:
                continue
            if mu[n] < 0:
                rows.append({"row": n, "alpha": format_rational(alpha)})
                add(mu[n] * alpha, Xq[n])
                continue
            zh, sqh = _lemma4(Xq[n], A)
            zl, sql = _lemma4([-v for v in Xq[n]], A)
            h, lo = _up(sqh), -_up(sql)
            a = h / (h - lo) if h != lo else Q(0)
            b = -a * lo
            rows.append({"row": n, "a": format_rational(a), "b": format_rational(b),
                         "l": format_rational(lo), "h": format_rational(h),
                         "zl": _zjson(P, zl), "zh": _zjson(P, zh)})
            add(mu[n] * a, Xq[n])
            B += mu[n] * b
        z, sq = _lemma4(c, A)
        best[0] = max(best[0], B + _up(sq))
        nodes.append({"leaf": {"z": _zjson(P, z), "rows": rows}})

    def rec(path):
        free = [n for n in S if n not in path]
        if len(path) < depth and free:
            n = free[0]
            nodes.append({"split": n})
            rec({**path, n: 1})
            rec({**path, n: -1})
        else:
            leaf(path)

    rec({})
    return nodes, best[0]


def build(X, lam, depth=None, alpha=HALF):
    """Evidence for both signs and the smallest ``s`` it proves."""
    plus, sp = build_tree(X, lam, 1, depth, alpha)
    minus, sm = build_tree(X, lam, -1, depth, alpha)
    S = [n for n in range(len(lam)) if lam[n]]
    return {"support": S, "trees": {"+": plus, "-": minus}}, max(sp, sm)


def run(ev, X, lam, s):
    XI, xe = _exact(X)
    out: list = []
    check_branch_and_bound(ev, XI, xe, lam, s, lambda r, m: out.append((r, m)), "class 0")
    return out


def rules_of(out):
    return {r for r, _ in out}


# ----------------------------------------------------------------------------- enumeration


def _refine(c, A, zf):
    """Exact Lemma-4 minimum from the float active set (None if not provably optimal)."""
    J = [j for j, v in enumerate(zf) if v > 1e-12]
    zJ: list = []
    if J:
        M = [[sum((A[i][k] * A[j][k] for k in range(len(c))), Q(0)) for j in J] for i in J]
        rhs = [[-sum((A[i][k] * c[k] for k in range(len(c))), Q(0))] for i in J]
        try:
            zJ = [r[0] for r in solve_rational(M, rhs)]
        except ValueError:
            return None
        if any(v < 0 for v in zJ):
            return None
    v = [c[k] + sum((zJ[m] * A[J[m]][k] for m in range(len(J))), Q(0)) for k in range(len(c))]
    if any(sum((a[k] * v[k] for k in range(len(c))), Q(0)) < 0 for a in A):
        return None  # not dual feasible: not the minimum
    return sum((t * t for t in v), Q(0))


def enumeration_max(X, lam, exact=False):
    """max over the chambers of X and both signs of the Lemma-4 value (float, or exact
    squared value from the refined active set)."""
    X = np.asarray(X, dtype=float)
    ch = enumerate_chambers(X)
    assert ch.complete
    Xq = [[Fraction(float(v)) for v in row] for row in X]
    best = Q(0) if exact else 0.0
    for j in range(len(ch)):
        D = ch.pattern(j)
        A = [[(1 if D[n] else -1) * v for v in Xq[n]] for n in range(len(Xq))]
        for t in (1, -1):
            c = [sum((t * lam[n] * Xq[n][k] for n in range(len(Xq)) if D[n]), Q(0))
                 for k in range(X.shape[1])]
            zf = nnls(np.array(A, dtype=float).T, -np.array(c, dtype=float))[0]
            if exact:
                sq = _refine(c, A, zf)
                assert sq is not None
                best = max(best, sq)
            else:
                v = np.array(c, dtype=float) + np.array(A, dtype=float).T @ zf
                best = max(best, float(np.linalg.norm(v)))
    return best


# 2-D: s_+ = ||(3, 4)|| = 5 at u = (3, 4)/5, s_- = 5 at u = -(3, 4)/5 (row 3 is outside S)
X2 = [[1.0, 0.0], [0.0, 1.0], [-3.0, -4.0], [2.0, 1.0], [-1.0, 2.0], [1.0, -2.0]]
L2 = [Q(3), Q(4), Q(-1), Q(0), Q(-1, 2), Q(1, 4)]
# 3-D: the max 7 = ||(2, 3, 6)|| in the positive octant; row 4 outside S
X3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-2.0, -3.0, -6.0], [1.0, 1.0, -1.0]]
L3 = [Q(2), Q(3), Q(6), Q(-1), Q(0)]
# the exact example: three rows, max exactly 5 for both signs
XE = [[1.0, 0.0], [0.0, 1.0], [-3.0, -4.0]]
LE = [Q(3), Q(4), Q(-1)]


@pytest.fixture(scope="module")
def honest():
    """A depth-2 tree on the 2-D data: leaves with alpha rows, interval rows and z."""
    ev, s = build(X2, L2, depth=2)
    assert run(ev, X2, L2, s) == []
    return ev, s


# ----------------------------------------------------------------------------- honest trees pass


def test_exact_max_passes_and_equals_the_enumeration_maximum():
    ev, s = build(XE, LE)  # full tree: every support row split, leaves are cones of X_S
    assert s == 5
    assert enumeration_max(XE, LE, exact=True) == s * s  # exact, by the chamber list
    assert run(ev, XE, LE, Q(5)) == []
    out = run(ev, XE, LE, Q(5) - Q(1, 10**30))  # the smallest deflation fails
    assert rules_of(out) == {"bab-leaf"}
    ev3, s3 = build(X3, L3)
    assert s3 == 7 and enumeration_max(X3, L3, exact=True) == 49
    assert run(ev3, X3, L3, Q(7)) == []
    assert rules_of(run(ev3, X3, L3, Q(7) - Q(1, 2**80))) == {"bab-leaf"}


@pytest.mark.parametrize("dim", [2, 3])
def test_random_trees_pass_and_bound_the_enumeration_maximum(dim):
    rng = np.random.default_rng(dim)
    for trial in range(6):
        N = int(rng.integers(3, 9))
        X = np.round(rng.standard_normal((N, dim)) * 8) / 8  # dyadic: exact for the checker
        X[np.all(X == 0, axis=1), 0] = 1.0
        lam = [Q(int(v), 16) for v in rng.integers(-16, 17, size=N)]
        lam[int(rng.integers(N))] = Q(0)  # one row outside the support at least
        true = enumeration_max(X, lam)
        for depth in (0, 1, None):
            ev, s = build(X, lam, depth=depth, alpha=Q(int(rng.integers(0, 5)), 4))
            assert run(ev, X, lam, s) == [], (trial, depth)
            assert float(s) >= true - 1e-12  # sound
            if depth is None:  # the full tree is exact
                assert abs(float(s) - true) <= 1e-9 * max(1.0, true), (trial, float(s), true)


def test_scaled_data_use_the_exponent():
    """X = XI * 2**xe with xe < 0: the same tree checks the scaled problem (s scales too)."""
    Xs = [[v / 8 for v in row] for row in XE]
    ev, s = build(Xs, LE)
    assert s == Q(5, 8) and run(ev, Xs, LE, s) == []
    assert rules_of(run(ev, Xs, LE, s - Q(1, 2**70))) == {"bab-leaf"}
    # a positive exponent (X = XI * 2**3; check.py never makes one, the function allows it)
    Xb = [[v * 8 for v in row] for row in XE]
    ev, s = build(Xb, LE)
    assert s == 40
    XI, _ = _exact(XE)
    out: list = []
    check_branch_and_bound(ev, XI, 3, LE, s, lambda r, m: out.append(r), "c")
    check_branch_and_bound(ev, XI, 3, LE, s - Q(1, 2**60), lambda r, m: out.append(r), "c")
    assert set(out) == {"bab-leaf"}


def test_zero_lambda_single_leaf():
    lam = [Q(0)] * 3
    leaf = {"leaf": {"z": {"indices": [], "values": []}, "rows": []}}
    ev = {"support": [], "trees": {"+": [leaf], "-": [leaf]}}
    assert run(ev, XE, lam, Q(0)) == []


# ----------------------------------------------------------------------------- tampering


def _tamper(honest, fn, s=None, lam=None):
    ev, s0 = copy.deepcopy(honest[0]), honest[1]
    fn(ev)
    return rules_of(run(ev, X2, L2 if lam is None else lam, s0 if s is None else s))


def _leaf_nodes(tree):
    return [i for i, nd in enumerate(tree) if "leaf" in nd]


def _row(ev, sign, kind):
    """(node, row position) of the first leaf row of a kind ('alpha' or 'a')."""
    tree = ev["trees"][sign]
    for i in _leaf_nodes(tree):
        for r, ent in enumerate(tree[i]["leaf"]["rows"]):
            if kind in ent:
                return tree[i]["leaf"]["rows"][r]
    raise AssertionError("no such row")


def test_tree_shape_tampering(honest):
    plus = honest[0]["trees"]["+"]
    assert [("split" in n) for n in plus[:3]] == [True, True, False]
    # drop a leaf; drop a whole subtree (the + child of the root: nodes 1..3)
    assert _tamper(honest, lambda ev: ev["trees"]["+"].pop()) == {"bab-tree"}
    # (the - child's leaves are then read as the + child's: their bounds may fail as well)
    assert "bab-tree" in _tamper(honest, lambda ev: ev["trees"]["+"].__delitem__(slice(1, 4)))
    # extra trailing nodes
    assert _tamper(honest, lambda ev: ev["trees"]["-"].append(plus[2])) == {"bab-tree"}
    # split on a row outside the support, out of range, twice on a path, not an int
    for bad in (3, 99, -1, True, "0"):
        assert _tamper(honest, lambda ev, b=bad: ev["trees"]["+"][0].update(split=b)) == {
            "bab-tree"}, bad
    assert _tamper(honest, lambda ev: ev["trees"]["+"][1].update(split=plus[0]["split"])) == {
        "bab-tree"}
    # unknown nodes
    for node in ({}, {"leaf": 1}, {"split": 0, "leaf": {}}, {"prune": 0}, [], "leaf"):
        assert _tamper(honest, lambda ev, nd=node: ev["trees"]["-"].__setitem__(2, nd)) == {
            "bab-tree"}, node
    # missing or empty tree
    assert _tamper(honest, lambda ev: ev["trees"].pop("-")) == {"bab-tree"}
    assert _tamper(honest, lambda ev: ev["trees"].__setitem__("+", [])) == {"bab-tree"}


def test_collapsing_a_split_is_caught_by_the_rows(honest):
    """Replace a split by its + child alone: still a well-formed tree, but its leaves no
    longer account for the row (VIPR's unsplit rule needs both sides)."""

    def collapse(ev):
        t = ev["trees"]["+"]  # [split a, split b, L, L, split b, L, L]
        ev["trees"]["+"] = t[1:4]

    got = _tamper(honest, collapse)
    assert "bab-rows" in got and got <= {"bab-rows", "bab-multipliers"}


def test_changed_split_row_or_swapped_sides_are_rejected(honest):
    def change(ev):  # the second split on another support row: leaves' rows then mismatch
        t = ev["trees"]["+"]
        t[1]["split"] = next(n for n in honest[0]["support"]
                             if n not in (t[0]["split"], t[1]["split"]))

    assert "bab-rows" in _tamper(honest, change)

    # swap the two children of the root (both subtrees have the same size here).  Not every
    # swap is a fraud (on XE the mirrored leaves happen to prove 5 as well), so the data are
    # the 2-D set whose bounds are tight: the full tree and the depth-2 tree
    for depth, rule in ((None, "bab-leaf"), (2, "bab-interval")):
        ev, s = build(X2, L2, depth)
        for sign in ("+", "-"):
            t = copy.deepcopy(ev)
            nodes = t["trees"][sign]
            half = (len(nodes) - 1) // 2
            t["trees"][sign] = [nodes[0]] + nodes[1 + half:] + nodes[1:1 + half]
            assert rule in rules_of(run(t, X2, L2, s)), (depth, sign)


def test_s_tampering(honest):
    ev, s = honest
    assert rules_of(run(ev, X2, L2, s - Q(1, 10**12))) == {"bab-leaf"}
    assert run(ev, X2, L2, s + 1) == []  # a larger s is still proven (it only weakens LB)


def test_alpha_tampering(honest):
    for bad in ("3/2", "-1/2", "2", "-1"):
        assert _tamper(honest, lambda ev, b=bad: _row(ev, "+", "alpha").update(alpha=b)) == {
            "bab-alpha"}, bad

    def alpha_on_positive(ev):
        ent = _row(ev, "+", "a")
        n = ent["row"]
        ent.clear()
        ent.update(row=n, alpha="1/2")

    assert "bab-rows" in _tamper(honest, alpha_on_positive)

    def interval_on_negative(ev):
        ent = _row(ev, "+", "alpha")
        ent.update(a="0", b="0", l="0", h="0", zl={"indices": [], "values": []},
                   zh={"indices": [], "values": []})
        del ent["alpha"]

    assert "bab-rows" in _tamper(honest, interval_on_negative)
    assert "bab-rows" in _tamper(honest, lambda ev: _row(ev, "+", "a").update(alpha="0"))


def test_interval_and_chord_tampering(honest):
    def scale(key, f):
        def go(ev):
            ent = _row(ev, "+", "a")
            ent[key] = format_rational(Q(ent[key]) * f)
        return go

    assert "bab-interval" in _tamper(honest, scale("h", Q(1, 2)))
    assert "bab-interval" in _tamper(honest, scale("l", Q(1, 2)))
    assert "bab-interval" in _tamper(honest, scale("h", -1))  # h < 0
    assert "bab-interval" in _tamper(honest, scale("l", -1))  # l > 0
    assert _tamper(honest, scale("a", Q(1, 2))) == {"bab-chord"}
    assert _tamper(honest, scale("b", Q(1, 2))) == {"bab-chord"}

    def huge_b(ev):  # a valid (looser) chord whose B exceeds s: s - B < 0 passes the squares
        ent = _row(ev, "+", "a")
        ent["b"] = format_rational(Q(ent["b"]) + 10**6)

    assert _tamper(honest, huge_b) == {"bab-leaf"}
    # a looser interval (h and l doubled) with the chord scaled to match is still valid

    def loosen(ev):
        for sign in ("+", "-"):
            for i in _leaf_nodes(ev["trees"][sign]):
                for ent in ev["trees"][sign][i]["leaf"]["rows"]:
                    if "a" in ent:
                        for key in "hlb":
                            ent[key] = format_rational(Q(ent[key]) * 2)

    ev, s = copy.deepcopy(honest[0]), honest[1]
    loosen(ev)
    assert run(ev, X2, L2, s + 100) == []


def _first_z(ev, sign="+"):
    tree = ev["trees"][sign]
    for i in _leaf_nodes(tree):
        z = tree[i]["leaf"]["z"]
        if len(z["indices"]) >= 1:
            return z
    raise AssertionError("no leaf with a nonzero z")


def test_multiplier_tampering(honest):
    assert _tamper(honest, lambda ev: _first_z(ev)["values"].__setitem__(0, "-1/8")) == {
        "bab-multipliers"}
    # an index off the path: row 3 is outside the support, and a free support row
    assert _tamper(honest, lambda ev: _first_z(ev)["indices"].__setitem__(0, 3)) == {
        "bab-multipliers"}

    def off_path(ev):
        t = ev["trees"]["+"]
        z = t[2]["leaf"]["z"]  # path: the first two split rows
        free = min(n for n in honest[0]["support"] if n not in (t[0]["split"], t[1]["split"]))
        z["indices"], z["values"] = [free], ["1"]

    assert _tamper(honest, off_path) == {"bab-multipliers"}

    def dup(ev):
        z = _first_z(ev)
        z["indices"], z["values"] = [z["indices"][0]] * 2, ["0", "0"]

    assert _tamper(honest, dup) == {"bab-multipliers"}
    assert _tamper(honest, lambda ev: _first_z(ev)["values"].append("1")) == {"bab-multipliers"}

    def zh_negative(ev):
        for sign in ("+", "-"):
            for i in _leaf_nodes(ev["trees"][sign]):
                for ent in ev["trees"][sign][i]["leaf"]["rows"]:
                    if "a" in ent and ent["zh"]["values"]:
                        ent["zh"]["values"][0] = "-" + ent["zh"]["values"][0]
                        return
        raise AssertionError("no interval row with zh")

    assert _tamper(honest, zh_negative) == {"bab-multipliers"}


def test_support_tampering(honest):
    lam = list(L2)
    lam[3] = Q(1, 1000)  # nonzero lambda outside S
    assert _tamper(honest, lambda ev: None, lam=lam) == {"bab-support"}
    lam = list(L2)
    lam[3] = Q(0)
    assert _tamper(honest, lambda ev: ev["support"].append(3)) == {"bab-support"}  # 0 inside
    assert _tamper(honest, lambda ev: ev["support"].reverse()) == {"bab-support"}
    assert _tamper(honest, lambda ev: ev["support"].append(6)) == {"bab-support"}
    assert _tamper(honest, lambda ev: ev["support"].insert(1, ev["support"][0])) == {
        "bab-support"}
    assert _tamper(honest, lambda ev: ev["support"].pop()) == {"bab-support"}


def test_rows_tampering(honest):
    def leaf_rows(ev, sign="+"):
        return ev["trees"][sign][2]["leaf"]["rows"]

    assert _tamper(honest, lambda ev: leaf_rows(ev).pop()) == {"bab-rows"}  # missing
    assert _tamper(honest, lambda ev: leaf_rows(ev).append(leaf_rows(ev)[0])) == {"bab-rows"}

    def path_row(ev):
        ent = copy.deepcopy(leaf_rows(ev)[0])
        ent["row"] = ev["trees"]["+"][0]["split"]
        leaf_rows(ev).append(ent)

    assert "bab-rows" in _tamper(honest, path_row)

    def outside(ev):
        ent = copy.deepcopy(leaf_rows(ev)[0])
        ent["row"] = 3
        leaf_rows(ev).append(ent)

    assert "bab-rows" in _tamper(honest, outside)
    assert "bab-rows" in _tamper(honest, lambda ev: leaf_rows(ev)[0].pop("alpha", None)
                                 or leaf_rows(ev)[0].pop("a"))


def test_huge_trees_and_numbers_fail_fast(honest):
    k = len(honest[0]["support"])
    leaf = honest[0]["trees"]["+"][2]
    # more nodes than a complete tree over the support can have: refused before the walk
    assert _tamper(honest, lambda ev: ev["trees"].__setitem__("+", [leaf] * 10**6)) == {
        "bab-tree"}
    assert _tamper(honest, lambda ev: ev["trees"].__setitem__("+", [leaf] * (2 << k))) == {
        "bab-tree"}
    # a deep chain of splits: stops at the first repeated row
    chain = [{"split": n} for n in honest[0]["support"]] * 10**5
    assert _tamper(honest, lambda ev: ev["trees"].__setitem__("-", chain[: (2 << k) - 1])) == {
        "bab-tree"}
    # a million-digit number is refused by its length, never converted
    big = "1" + "0" * 10**6
    assert _tamper(honest, lambda ev: _row(ev, "+", "alpha").update(alpha="1/" + big)) == {
        "bab-size"}
    assert _tamper(honest, lambda ev: _first_z(ev)["values"].__setitem__(0, big)) == {
        "bab-size"}
    # many short numbers with coprime denominators: the common denominator is refused
    odd = [(1 << 10000) + i for i in (1, 3, 5, 7)]  # pairwise gcds divide 2, 4 or 6: 1 or 3
    assert all(len(str(p)) < MAX_CHARS for p in odd)

    def coprime(ev):
        t = ev["trees"]["+"]
        S = honest[0]["support"]
        t[:] = [{"split": n} for n in S[:-1]]
        path = S[:-1]
        rows = [{"row": S[-1], "a": "0", "b": "0", "l": "0", "h": "0",
                 "zl": {"indices": [], "values": []}, "zh": {"indices": [], "values": []}}]
        z = {"indices": path, "values": [f"1/{p}" for p in odd[: len(path)]]}
        t.append({"leaf": {"z": z, "rows": rows}})

    assert "bab-size" in _tamper(honest, coprime)


def test_malformed_evidence_is_input_error(honest):
    ev = copy.deepcopy(honest[0])
    _row(ev, "+", "alpha")["alpha"] = 0.5  # a float cannot be smuggled in
    with pytest.raises(InputError):
        run(ev, X2, L2, honest[1])
    with pytest.raises(InputError):
        run({"trees": {}}, X2, L2, honest[1])


# ----------------------------------------------------------------------------- certificates


def _to_bab(cert_dir: Path, name: str) -> Path:
    """Rewrite a committed chambers certificate with branch-and-bound evidence (full trees)
    for the same lambda; bounds recomputed exactly from the proven s."""
    p = cert_dir / name
    cert = json.loads(p.read_text())
    data = json.loads((cert_dir / cert["data"]["path"]).read_text())
    X = np.asarray(data["X"], dtype=float)
    if cert["data"]["bias"]:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    cert["version"] = 2
    total = Q(0)
    for ent in cert["classes"]:
        lam = [Q(v) for v in ent["lambda"]]
        ev, s = build(X, lam)
        s = max(s, Q(ent["s"]))
        ent["method"], ent["evidence"], ent["s"] = "branch-and-bound", ev, format_rational(s)
        y = [1 if v > 0 else -1 if v < 0 else 0 for v in lam]
        lb = sum((a * b for a, b in zip(y, lam)), Q(0)) / max(Q(1), s)
        ub = Q(ent["upper_bound"]["exact"])
        ent["lower_bound"] = {"exact": format_rational(lb), "float": float(lb)}
        ent["relative_gap"] = {"exact": format_rational((ub - lb) / ub),
                               "float": float((ub - lb) / ub)}
        total += lb
    cert["total"]["lower_bound"] = {"exact": format_rational(total), "float": float(total)}
    out = cert_dir / name.replace(".cert.json", "-bab.cert.json")
    out.write_text(json.dumps(cert, indent=2))
    return out


@pytest.fixture(scope="module")
def bab_certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bab")
    for sub in ("data", "models"):
        shutil.copytree(CERTS / sub, d / sub)
    out = {}
    for name in ("three_class-optimal.cert.json", "whitened-trained.cert.json"):
        shutil.copyfile(CERTS / name, d / name)
        out[name] = _to_bab(d, name)
    return out


def test_bab_certificates_check(bab_certs):
    for name, p in bab_certs.items():
        orig = check_file(CERTS / name)
        res = check_file(p)
        assert res.valid, res.failures
        assert res.upper_bound == orig.upper_bound
        assert abs(float(res.lower_bound) - float(orig.lower_bound)) <= 1e-9


def test_bab_certificate_tampering_through_check_file(bab_certs, tmp_path):
    src = bab_certs["three_class-optimal.cert.json"]
    shutil.copytree(src.parent, tmp_path / "c")
    p = tmp_path / "c" / src.name
    base = json.loads(p.read_text())

    def check(fn):
        cert = copy.deepcopy(base)
        fn(cert)
        p.write_text(json.dumps(cert))
        return {f.rule for f in check_file(p).failures}

    assert "method" in check(lambda c: c.update(version=1))  # v1 has no branch-and-bound
    ent = base["classes"][1]

    def inflate(c):  # a larger s with the old lower bound: LB no longer implied
        c["classes"][1]["s"] = format_rational(Q(ent["s"]) * 2)

    assert check(inflate) == {"lower-bound", "total"}

    def deflate(c):
        c["classes"][1]["s"] = format_rational(Q(ent["s"]) * Q(9, 10))

    assert check(deflate) == {"bab-leaf"}

    def wrong_sign(c):
        lam = c["classes"][0]["lambda"]
        lam[0] = lam[0][1:] if lam[0].startswith("-") else "-" + lam[0]

    assert "lambda-sign" in check(wrong_sign)
    assert check(lambda c: c["classes"][2]["evidence"]["trees"]["+"].pop()) == {"bab-tree"}
    with pytest.raises(InputError):
        check(lambda c: c.update(version=3))


def test_schema_v2(bab_certs):
    jsonschema = pytest.importorskip("jsonschema")
    v2 = json.loads((CERTS / "schema-v2.json").read_text())
    v1 = json.loads((CERTS / "schema-v1.json").read_text())
    jsonschema.Draft202012Validator.check_schema(v2)
    for p in bab_certs.values():
        cert = json.loads(p.read_text())
        jsonschema.validate(cert, v2)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(cert, v1)
        bad = copy.deepcopy(cert)
        bad["classes"][0]["evidence"]["trees"]["+"][0] = {"prune": 1}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, v2)
    for p in sorted(CERTS.glob("*.cert.json")):  # v2 is v1 plus the new method
        cert = json.loads(p.read_text())
        cert["version"] = 2
        jsonschema.validate(cert, v2)


@pytest.mark.parametrize("name", ["branch_and_bound.py", "semidefinite.py"])
def test_module_imports_nothing_outside_the_checker(name):
    src = ROOT / "verify" / "checker" / name
    for node in ast.walk(ast.parse(src.read_text())):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            mods = [node.module or ""]
        else:
            continue
        for m in mods:
            top = m.split(".")[0]
            assert m.startswith("verify.checker.") or (
                top != "verify" and top in sys.stdlib_module_names), m


def test_every_rule_is_documented():
    """Each rule name the replay can report is described in docs/certificate.md."""
    names = set()
    for mod in ("branch_and_bound.py", "semidefinite.py"):  # the sdp leaf's bound: bab-sdp
        src = (ROOT / "verify" / "checker" / mod).read_text()
        names |= {n.value for n in ast.walk(ast.parse(src))
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)
                  and n.value.startswith("bab-")}
    assert len(names) == 10, names
    doc = (ROOT / "docs" / "certificate.md").read_text()
    section = doc[doc.index("**(d) `branch-and-bound`**"):doc.index("### Verdicts")]
    for name in names:
        assert f"`{name}`" in section, name
