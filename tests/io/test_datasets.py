"""Loading and validating data sets (verify.io.datasets)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.errors import InputError
from verify.io.datasets import check_dataset, load_dataset, paper_dataset


def test_pm1_labels_kept_and_one_class_allowed():
    ds = check_dataset(np.eye(2), np.array([1, 1]))
    assert ds.y.tolist() == [1, 1] and ds.positive_label == 1 and ds.n_classes == 1


def test_01_labels_map_one_to_plus():
    ds = check_dataset(np.eye(3), [0, 1, 0])
    assert ds.y.tolist() == [-1, 1, -1]
    assert ds.Y[:, 0].tolist() == [-1, 1, -1]


def test_two_strings_second_sorted_is_positive():
    ds = check_dataset(np.eye(3), ["dog", "cat", "dog"])
    assert ds.classes == ("cat", "dog")
    assert ds.positive_label == "dog"
    assert ds.y.tolist() == [1, -1, 1]


def test_numeric_strings_become_integers():
    ds = check_dataset(np.eye(2), np.array(["-1", "1"]))
    assert ds.y.tolist() == [-1, 1]


def test_multiclass_one_vs_all():
    ds = check_dataset(np.eye(4), [2, 0, 1, 2])
    assert ds.y is None and ds.n_classes == 3
    assert ds.Y.tolist() == [[-1, -1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]


def test_bias_appends_constant_feature():
    ds = check_dataset(np.array([[2.0], [-3.0]]), [1, -1], bias=True)
    assert ds.X.tolist() == [[2.0, 1.0], [-3.0, 1.0]]
    assert ds.bias


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[1.0, np.nan]], [1], "non-finite value (nan) at row 0, column 1"),
        ([[1.0, np.inf]], [1], "non-finite"),
        ([[1.0, 2.0]], [1, -1], "2 labels for 1 rows"),
        (np.zeros((0, 2)), [], "no rows"),
        (np.zeros((2, 0)), [1, 1], "no columns"),
        ([1.0, 2.0], [1, 1], "2-D array"),
        ([[1.0], [2.0]], [0.5, 1], "must be integers"),
        ([[1.0], [2.0]], [[1, 2], [3, 4]], "1-D"),
        ([["a", "b"]], [1], "only numbers"),
        ([[1 + 1j]], [1], "real"),
    ],
)
def test_bad_input_names_the_problem(X, y, message):
    with pytest.raises(InputError) as info:
        check_dataset(X, y)
    assert message in str(info.value)


def test_zero_row_is_an_issue_not_an_error():
    ds = check_dataset(np.array([[0.0, 0.0], [1.0, 2.0]]), [1, -1])
    assert [i.kind for i in ds.issues] == ["zero-row"]
    assert ds.issues[0].rows == (0,)
    with pytest.raises(InputError, match="infeasible: row 0 is zero"):
        ds.require_feasible()


def test_identical_rows_different_labels():
    ds = check_dataset(np.array([[1.0, 2.0], [3.0, 1.0], [1.0, 2.0]]), [1, 1, -1])
    assert [(i.kind, i.rows) for i in ds.issues] == [("contradictory-rows", (0, 2))]
    assert "identical" in ds.issues[0].message


def test_positive_multiple_with_different_labels_exact():
    # 0.1 * 3 is not exactly 0.3 in floats: x_1 = 3 x_0 must hold exactly to count.
    X = np.array([[0.1, 0.2], [0.30000000000000004, 0.6000000000000001], [0.3, 0.6]])
    ds = check_dataset(X, [1, -1, -1])
    ex = [Fraction(v) for v in X[0]]
    for n in (1, 2):
        ratio = Fraction(X[n, 0]) / ex[0]
        exact_parallel = all(Fraction(X[n, k]) == ratio * ex[k] for k in range(2))
        assert (("contradictory-rows", (0, n)) in [(i.kind, i.rows) for i in ds.issues]) == (
            exact_parallel
        )


def test_negative_multiple_is_fine():
    ds = check_dataset(np.array([[1.0, 2.0], [-2.0, -4.0]]), [1, -1])
    assert ds.issues == ()
    ds.require_feasible()


def test_same_labels_parallel_fine():
    ds = check_dataset(np.array([[1.0, 2.0], [2.0, 4.0]]), [1, 1])
    assert ds.issues == ()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-3, 3), st.integers(-3, 3), st.integers(0, 2), st.integers(1, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_issues_match_bruteforce(rows):
    X = np.array([[a * s, b * s] for a, b, _, s in rows], dtype=float)
    labels = [c for _, _, c, _ in rows]
    ds = check_dataset(X, labels)
    expected = set()
    for n in range(len(rows)):
        if not X[n].any():
            expected.add(("zero-row", (n,)))
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            if labels[a] == labels[b] or not X[a].any() or not X[b].any():
                continue
            cross = X[a, 0] * X[b, 1] - X[a, 1] * X[b, 0]
            if cross == 0 and X[a] @ X[b] > 0:
                expected.add(("contradictory-rows", (a, b)))
    assert {(i.kind, i.rows) for i in ds.issues} == expected


def test_load_csv_with_header_and_string_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("f1,f2,label\n1.0,2.0,yes\n-1,0.5,no\n")
    ds = load_dataset(p)
    assert ds.X.tolist() == [[1.0, 2.0], [-1.0, 0.5]]
    assert ds.y.tolist() == [1, -1] and ds.positive_label == "yes"


def test_load_csv_without_header(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("1.0,2.0,1\n-1,0.5,-1\n")
    assert load_dataset(p).y.tolist() == [1, -1]


def test_load_csv_errors(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("1.0,2.0,1\n-1,1\n")
    with pytest.raises(InputError, match=r"line 2 \(data row 1\) has 2 columns, expected 3"):
        load_dataset(p)
    p.write_text("1.0,2.0,1\n2.0,abc,1\n")
    with pytest.raises(InputError, match="non-numeric feature 'abc'"):
        load_dataset(p)
    p.write_text("")
    with pytest.raises(InputError, match="no rows"):
        load_dataset(p)


def test_load_npz_and_json(tmp_path):
    X = np.array([[1.65, 0.47], [-0.47, 1.35]])
    np.savez(tmp_path / "d.npz", X=X, y=np.array([1, -1]))
    assert load_dataset(tmp_path / "d.npz").X.tolist() == X.tolist()
    (tmp_path / "d.json").write_text(json.dumps({"X": X.tolist(), "y": ["a", "b"]}))
    assert load_dataset(tmp_path / "d.json").y.tolist() == [-1, 1]


def test_load_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_dataset(tmp_path / "missing.npz")
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(InputError, match="unknown data format"):
        load_dataset(tmp_path / "d.txt")
    np.savez(tmp_path / "bad.npz", X=np.eye(2))
    with pytest.raises(InputError, match="missing \\['y'\\]"):
        load_dataset(tmp_path / "bad.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object), y=np.array([1]))
    with pytest.raises(InputError, match="pickles are never loaded"):
        load_dataset(tmp_path / "obj.npz")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_dataset(tmp_path / "bad.json")
    (tmp_path / "rag.json").write_text(json.dumps({"X": [[1, 2], [3]], "y": [1, 1]}))
    with pytest.raises(InputError, match="different lengths"):
        load_dataset(tmp_path / "rag.json")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable .npz"):
        load_dataset(tmp_path / "garbage.npz")


def test_paper_datasets():
    f1 = paper_dataset("F.1")
    assert f1.y.tolist() == [1, -1] and f1.issues == ()
    f2 = paper_dataset("F.2")
    assert f2.y.tolist() == [1, 1]
    with pytest.raises(InputError, match="unknown paper data set"):
        paper_dataset("F.3")


# --------------------------------------------------------------------------- hardening


def test_duplicate_rows_with_the_same_label_warn():
    ds = check_dataset([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0], [-0.0, 1.0], [3.0, 1.0]],
                       [1, -1, 1, -1, 1])
    assert ds.duplicates == ((0, 2), (1, 3)) and not ds.issues
    assert ds.warnings == ("2 duplicate rows with the same label (e.g. rows 0 and 2 are "
                           "identical): each copy counts again in the training loss; remove "
                           "them if they are not intended",)
    assert ds.summary()["warnings"] == list(ds.warnings)
    assert check_dataset([[1.0, 2.0], [1.0, 2.5]], [1, -1]).warnings == ()


def test_semicolon_file_with_decimal_commas_gets_a_hint(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_text("x1;x2;label\n1,5;2,25;1\n0,5;3,1;-1\n")
    with pytest.raises(InputError, match="semicolon-separated with decimal commas"):
        load_dataset(p)


def test_infeasibility_message_ratio_and_bias():
    a = [1.0, 2.0]
    b = [np.nextafter(1.0, 2.0), 2.0 * np.nextafter(1.0, 2.0)]  # exactly (1 + 2**-52) * a
    ds = check_dataset([a, b], [1, -1])
    msg = ds.issues[0].message
    assert "x_1 = 1.0000000000000002 (exactly 4503599627370497/4503599627370496) * x_0" in msg
    assert "without biases" in msg and "a bias (--bias) may separate them" in msg
    same = check_dataset([[1.0, 2.0], [1.0, 2.0]], [1, -1], bias=True)
    msg = same.issues[0].message
    assert "identical" in msg and "without biases" not in msg and "--bias" in msg
    assert check_dataset([a, b], [1, -1], bias=True).issues == ()
