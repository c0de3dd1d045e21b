"""The builder's branch-and-bound evidence against the trusted replay: two independent codes.

:func:`verify.convex.branch_and_bound_evidence.bab_evidence` (floats, rounded to a grid, exact
leaf bounds) writes trees that :func:`verify.checker.branch_and_bound.check_branch_and_bound`
(integers only) must accept, with an ``s`` no smaller than a sampled maximum and tight to
the value found, on random data of every small shape, for random ``lam`` with zeros; and an
``s`` just below the proven one must be refused.
"""

from __future__ import annotations

import copy
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.checker.arithmetic import format_rational
from verify.checker.branch_and_bound import check_branch_and_bound
from verify.convex.branch_and_bound import bab_maximize
from verify.convex.branch_and_bound_evidence import bab_evidence, evidence_from_results


def _exact(X: np.ndarray) -> tuple[list[list[int]], int]:
    q = [Fraction(float(v)) for v in X.ravel()]
    den = 1
    for v in q:
        den = math.lcm(den, v.denominator)
    flat = [v.numerator * (den // v.denominator) for v in q]
    d = X.shape[1]
    return [flat[i * d:(i + 1) * d] for i in range(X.shape[0])], -(den.bit_length() - 1)


def _replay(ev, X, lam, s) -> list[tuple[str, str]]:
    XI, xe = _exact(X)
    fails: list[tuple[str, str]] = []
    check_branch_and_bound(ev, XI, xe, [Fraction(float(v)) for v in lam], s,
                           lambda r, d: fails.append((r, d)), "class 0")
    return fails


def _sampled_max(X: np.ndarray, lam: np.ndarray, seed: int) -> float:
    """A lower bound of max_{||u||<=1} |lam^T (Xu)_+| from 200,000 random unit vectors."""
    U = np.random.default_rng(seed).standard_normal((200_000, X.shape[1]))
    U /= np.linalg.norm(U, axis=1)[:, None]
    v = np.maximum(U @ X.T, 0.0) @ lam
    return float(max(v.max(), (-v).max(), 0.0))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4), st.integers(2, 9), st.integers(0, 2**31 - 1))
def test_builder_trees_pass_the_trusted_replay(d, N, seed):
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((N, d)), 3)
    lam = rng.standard_normal(N) * (rng.random(N) < 0.7)
    ev = bab_evidence(X, lam)
    assert _replay(ev.evidence, X, lam, ev.s) == []
    found = max(ev.results[0].lower, ev.results[1].lower)  # a value attained by some u
    assert float(ev.s) >= _sampled_max(X, lam, seed) - 1e-12
    assert float(ev.s) <= found + 1e-6 * max(1.0, found)  # the trees are tight
    if ev.s > 0:  # below the proven s by more than the grid: some leaf must fail
        assert _replay(ev.evidence, X, lam, ev.s * (1 - Fraction(1, 10**6)))


# ----------------------------------------------------------------------------- size

def _size_case() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = np.round(rng.standard_normal((40, 4)), 3)
    lam = np.zeros(40)
    lam[rng.choice(40, 14, replace=False)] = rng.standard_normal(14)
    return X, lam


def _bytes(ev: dict) -> int:
    return len(json.dumps(ev, separators=(",", ":")))


def _denominator_bits(node: dict) -> int:
    """The largest denominator (in bits) of the numbers of one leaf."""
    texts = [v for ent in node["leaf"]["rows"] for k, v in ent.items() if k in "ablh"
             or k == "alpha"]
    for obj in [node["leaf"].get("z")] + [ent.get(k) for ent in node["leaf"]["rows"]
                                           for k in ("zl", "zh")]:
        texts += obj["values"] if obj else []
    return max((Fraction(t).denominator.bit_length() - 1 for t in texts), default=0)


def test_shortened_evidence_is_small_with_the_same_s():
    # the code before the precision ladder wrote 29,545 bytes (compact JSON) for this case:
    # every number on the grid 2^-60 and every empty multiplier object spelled out
    X, lam = _size_case()
    plus, minus = bab_maximize(X, lam), bab_maximize(X, lam, sign=-1)
    full = evidence_from_results(X, lam, plus, minus, shorten=False)
    short = evidence_from_results(X, lam, plus, minus)
    assert short.s == full.s  # the ladder never moves s (nor LB)
    assert _replay(short.evidence, X, lam, short.s) == []
    assert _replay(full.evidence, X, lam, full.s) == []
    assert _bytes(short.evidence) <= 12_000
    assert _bytes(short.evidence) * 2 <= _bytes(full.evidence)
    leaves = [n for t in short.evidence["trees"].values() for n in t if "leaf" in n]
    bits = sorted(_denominator_bits(n) for n in leaves)
    assert bits[len(bits) // 2] <= 16 and bits[-1] <= 60  # most leaves on a coarse grid
    # the slack is used: below the proven s by more than the fine grid, some leaf fails
    assert _replay(short.evidence, X, lam, short.s - Fraction(1, 2**40))


def test_shortened_evidence_is_still_exact_evidence():
    X, lam = _size_case()
    ev = bab_evidence(X, lam)
    trimmed = [(sg, i, r) for sg, t in ev.evidence["trees"].items() for i, n in enumerate(t)
               if "leaf" in n for r, ent in enumerate(n["leaf"]["rows"])
               if "a" in ent and "zh" not in ent and "zl" not in ent]
    assert trimmed, "no interval row without multipliers"
    sg, i, r = trimmed[0]

    def tampered(fn) -> set[str]:
        e = copy.deepcopy(ev.evidence)
        fn(e["trees"][sg][i]["leaf"]["rows"][r])
        return {rule for rule, _ in _replay(e, X, lam, ev.s)}

    # without multipliers the interval is [-||x_n||, ||x_n||]: a smaller h or -l is refused
    assert "bab-interval" in tampered(
        lambda ent: ent.update(h=format_rational(Fraction(ent["h"]) * Fraction(9, 10))))
    assert "bab-interval" in tampered(
        lambda ent: ent.update(l=format_rational(Fraction(ent["l"]) * Fraction(9, 10))))
    # the old spelling (empty objects written out) is the same evidence
    empty = {"indices": [], "values": []}
    assert tampered(lambda ent: ent.update(zl=dict(empty), zh=dict(empty))) == set()
    assert tampered(lambda ent: ent.update(zq=dict(empty))) == {"unchecked-claim"}
    assert tampered(lambda ent: ent.update(zh={"indices": [], "values": ["1"]})) == {
        "bab-multipliers"}


def test_shortened_trees_fit_schema_v2():
    jsonschema = pytest.importorskip("jsonschema")
    from pathlib import Path

    v2 = json.loads((Path(__file__).resolve().parents[2] / "certificates" / "schema-v2.json")
                    .read_text())
    tree = {"$defs": v2["$defs"], "$ref": "#/$defs/babTree"}
    X, lam = _size_case()
    ev = bab_evidence(X, lam).evidence
    bare = [n for t in ev["trees"].values() for n in t if "leaf" in n and "z" not in n["leaf"]]
    assert bare  # some leaf has no z object at all
    for t in ev["trees"].values():
        jsonschema.validate(t, tree)
    bad = copy.deepcopy(ev["trees"]["+"])
    next(n for n in bad if "leaf" in n)["leaf"]["zq"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, tree)
