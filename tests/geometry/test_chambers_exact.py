"""Exact enumeration on real decimal data (issue 10, item 7): chambers thinner than any float
witness found get exact integer witnesses, so the list is complete with the proven count.

Cross-checks: every witness verified in exact integer arithmetic against the exact dyadic
values of the data (independently of the code under test); the enumerated number equals the
proven count and the trusted checker's own Zaslavsky count (stdlib code of its own); for a
nonsingular square matrix all ``2^N`` sign vectors are chambers.

The iris rows are ``tests/geometry/data/iris.csv`` (Fisher's iris as shipped by scikit-learn:
the UCI file with its two documented transcription errors, samples 35 and 38, corrected).
"""

from __future__ import annotations

import csv
import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from verify.checker.counting import _hyperplanes, _rank_cols
from verify.checker.counting import _zaslavsky as checker_zaslavsky
from verify.geometry.chamber_count import count_chambers
from verify.geometry.chambers import enumerate_chambers
from verify.geometry.rationals import integer_det

IRIS = Path(__file__).parent / "data" / "iris.csv"
THREE_ROWS = [[5.0, 3.5, 1.0], [5.6, 4.1, 1.3], [5.6, 3.9, 1.1]]


def _iris() -> tuple[np.ndarray, list[str]]:
    with open(IRIS, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[:4]] for r in rows]), [r[4] for r in rows]


def _int_rows(X: np.ndarray) -> list[list[int]]:
    """Each row times the lcm of its denominators: exact integer rows, same hyperplanes."""
    out = []
    for row in X.tolist():
        q = [Fraction(v) for v in row]
        den = math.lcm(*(t.denominator for t in q))
        out.append([int(t * den) for t in q])
    return out


def _check_exact(X: np.ndarray, ch) -> None:
    """Every listed witness (exact rational) is strictly inside its chamber: each nonzero row
    has a nonzero exact dot product whose sign is the pattern bit; patterns distinct."""
    XI = _int_rows(X)
    P = ch.pattern_matrix()
    for j in range(len(ch)):
        u = ch.witness(j)
        assert all(isinstance(t, Fraction) for t in u)
        den = math.lcm(*(t.denominator for t in u))
        ui = [int(t * den) for t in u]
        for n, row in enumerate(XI):
            dot = sum(a * b for a, b in zip(row, ui))
            if any(row):
                assert dot != 0, (j, n)
            assert (dot >= 0) == bool(P[j, n]), (j, n)
    assert len({bytes(r) for r in ch.patterns}) == len(ch)


def _checker_count(X: np.ndarray) -> int:
    """The trusted checker's own Zaslavsky count of the arrangement (independent code)."""
    H = _hyperplanes(_int_rows(X))
    r, cols = _rank_cols(H)
    Hr = []
    for h in H:
        g = tuple(h[c] for c in cols)
        k = math.gcd(*g)
        s = 1 if next(t for t in g if t) > 0 else -1
        Hr.append(tuple(s * t // k for t in g))
    return checker_zaslavsky(list(dict.fromkeys(Hr)), r)


def test_three_nearly_singular_rows_have_all_eight_chambers():
    X = np.array(THREE_ROWS)
    # the float64 values are exact dyadic rationals; their matrix is nonsingular (though
    # singular in decimal), so every one of the 2^3 sign vectors is a chamber
    assert integer_det(_int_rows(X)) != 0
    ch = enumerate_chambers(X)
    assert (len(ch), ch.count, ch.complete) == (8, 8, True)
    assert {tuple(r) for r in ch.pattern_matrix().tolist()} == set(
        itertools.product((False, True), repeat=3)
    )
    _check_exact(X, ch)
    d = ch.to_dict(include_patterns=True)
    for j, u in d["exact_witnesses"].items():  # the JSON carries the exact points
        assert [Fraction(t) for t in u] == ch.witness(int(j))


@pytest.mark.parametrize(
    "name, count",
    [
        ("versicolor-virginica petal", 158),  # rank 2
        ("three classes petal", 200),  # rank 2
        ("setosa-versicolor sepal + bias", 6236),  # rank 3
        ("first 100 rows, features 0, 2, 3", 8992),  # rank 3
    ],
)
def test_iris_subsets_complete_with_proven_count(name, count):
    X, _ = _iris()
    A = {
        "versicolor-virginica petal": X[50:, 2:4],
        "three classes petal": X[:, 2:4],
        "setosa-versicolor sepal + bias": np.hstack([X[:100, :2], np.ones((100, 1))]),
        "first 100 rows, features 0, 2, 3": X[:100][:, [0, 2, 3]],
    }[name]
    ch = enumerate_chambers(A)
    assert ch.count == count_chambers(A)[0] == count
    assert len(ch) == count and ch.complete
    _check_exact(A, ch)
    if count < 1000:  # the checker's Zaslavsky (about 1 s per rank-3 case: done once below)
        assert _checker_count(A) == count


def test_iris_rank3_count_is_the_checkers_zaslavsky_count():
    X, _ = _iris()
    A = np.hstack([X[:100, :2], np.ones((100, 1))])
    ch = enumerate_chambers(A)
    assert len(ch) == _checker_count(A) == 6236


def test_forced_incremental_method_is_completed_exactly():
    X = np.array(THREE_ROWS)
    ch = enumerate_chambers(X, method="incremental")
    assert len(ch) == ch.count == 8
    _check_exact(X, ch)


def test_iris_rank4_completed_by_exact_face_points():
    # rank 4 (first 12 rows, all four features): the incremental method misses 2 thin
    # chambers; the face-enumeration fallback supplies their exact integer points
    X, _ = _iris()
    A = X[:12]
    ch = enumerate_chambers(A)
    assert ch.rank == 4 and ch.count == count_chambers(A)[0] == _checker_count(A) == 462
    assert len(ch) == 462 and ch.complete
    _check_exact(A, ch)
