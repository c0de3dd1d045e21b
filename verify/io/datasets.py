"""Load and validate data sets: the one boundary every array crosses.

A data set is a matrix ``X`` (``N`` samples × ``d`` features) and one label per row.  Three file
formats are read: ``.npz`` (arrays ``X`` and ``y``), ``.csv`` (features, then the label in the
last column; a header row is allowed) and ``.json`` (``{"X": [[...]], "y": [...]}``).

Labels
------
* labels that are all in ``{-1, +1}`` are used as they are (one class alone is allowed);
* labels in ``{0, 1}`` (both present) map ``1 → +1`` and ``0 → -1``;
* any other two distinct labels are sorted (numbers numerically, strings as text) and the
  **second** one is ``+1``; a single label that is not ±1 becomes ``+1``;
* three or more distinct labels give ``K`` classes, sorted the same way, and the paper's
  one-vs-all matrix ``Y`` (``Y[n, k] = 1`` iff sample ``n`` is in class ``k``, else ``-1``).

Data issues that make the max-margin problem infeasible (a zero row; two rows that are
positive multiples of each other — identical rows included — with different labels: a
homogeneous network gives them outputs of the same sign) are *reported*, not raised, so that an
audit can show them; :meth:`Dataset.require_feasible` raises for the solvers.

Examples
--------
>>> import numpy as np
>>> ds = check_dataset(np.array([[1.65, 0.47], [-0.47, 1.35]]), np.array([1, -1]))
>>> ds.n_samples, ds.n_features, ds.n_classes, ds.y.tolist()
(2, 2, 2, [1, -1])
>>> check_dataset(np.array([[1.0, 2.0]]), np.array(["cat"])).positive_label
'cat'
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError
from verify.io.files import existing_file, load_npz

__all__ = ["Dataset", "DataIssue", "check_dataset", "load_dataset", "paper_dataset"]

#: The largest entry magnitude (and, for data not all zero, the inverse of the smallest largest
#: one) accepted: beyond it float64 squares overflow (1e154 squared is 1e308) and the solvers,
#: Gram matrices and trainers fail with warnings instead of an answer.
MAX_MAGNITUDE = 1e150


@dataclass(frozen=True)
class DataIssue:
    """A property of the data that makes the max-margin problem infeasible.

    Attributes
    ----------
    kind : str
        ``"zero-row"`` or ``"contradictory-rows"``.
    rows : tuple of int
        The rows involved (0-based).
    message : str
        One sentence a user can act on.
    """

    kind: str
    rows: tuple[int, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": list(self.rows), "message": self.message}


@dataclass(frozen=True)
class Dataset:
    """A validated data set.

    Attributes
    ----------
    X : ndarray of shape (N, d), float64
        The features (with the constant bias feature appended when ``bias`` is true).
    labels : ndarray of shape (N,)
        The labels as given (numbers or strings).
    classes : tuple
        The distinct labels, sorted; ``class_index[n]`` indexes into it.
    class_index : ndarray of shape (N,), int
        The class of every row.
    y : ndarray of shape (N,), int or None
        Binary labels in ``{-1, +1}`` (``None`` when there are more than two classes).
    Y : ndarray of shape (N, K), int
        One-vs-all labels: ``Y[:, k]`` is the binary problem of class ``k``.  For binary data
        ``K = 1`` and ``Y[:, 0] = y``.
    positive_label : object or None
        Which label is ``+1`` for binary data.
    bias : bool
        Whether a constant feature was appended.
    source : str
        Where the data came from (a path or ``"<array>"``).
    issues : tuple of DataIssue
        Reasons why no network can reach a positive margin on this data.
    duplicates : tuple of tuple of int
        Groups of identical rows with the same label (harmless for feasibility, but each copy
        counts again in the loss; reported in :attr:`warnings`).
    """

    X: np.ndarray
    labels: np.ndarray
    classes: tuple[Any, ...]
    class_index: np.ndarray
    y: np.ndarray | None
    Y: np.ndarray
    positive_label: Any
    bias: bool = False
    source: str = "<array>"
    issues: tuple[DataIssue, ...] = field(default=())
    duplicates: tuple[tuple[int, ...], ...] = field(default=())

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def is_binary(self) -> bool:
        return self.y is not None

    def require_feasible(self) -> None:
        """Raise :class:`InputError` if no network can separate the data with a positive margin.

        Examples
        --------
        >>> import numpy as np
        >>> ds = check_dataset(np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([1, -1]))
        >>> ds.require_feasible()
        Traceback (most recent call last):
        ...
        verify.errors.InputError: the max-margin problem is infeasible: rows 0 and 1 ...
        """
        if self.issues:
            raise InputError(f"the max-margin problem is infeasible: {self.issues[0].message}")

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things about the data a user probably did not intend (nothing is infeasible).

        Examples
        --------
        >>> import numpy as np
        >>> check_dataset(np.eye(2), [1, 1]).warnings
        ('only one class (label 1): every label is +1',)
        >>> check_dataset([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]], [1, -1, 1]).warnings
        ('1 duplicate row with the same label (e.g. rows 0 and 2 are identical): ...',)
        """
        out = []
        if self.n_classes == 1 and self.y is not None:
            sign = "+1" if int(self.y[0]) == 1 else "-1"
            out.append(f"only one class (label {_json_label(self.classes[0])}): "
                       f"every label is {sign}")
        if self.duplicates:
            extra = sum(len(g) - 1 for g in self.duplicates)
            first = self.duplicates[0]
            eg = " and ".join(map(str, first)) if len(first) == 2 else ", ".join(map(str, first))
            out.append(
                f"{extra} duplicate row{'s' if extra > 1 else ''} with the same label (e.g. rows "
                f"{eg} are identical): each copy counts again in the training loss; remove "
                "them if they are not intended"
            )
        return tuple(out)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description of the labels and any issues."""
        out: dict[str, Any] = {
            "source": self.source,
            "samples": self.n_samples,
            "features": self.n_features,
            "bias": self.bias,
            "classes": [_json_label(c) for c in self.classes],
            "class_counts": [
                int(c) for c in np.bincount(self.class_index, minlength=self.n_classes)
            ],
            "issues": [i.to_dict() for i in self.issues],
            "warnings": list(self.warnings),
        }
        if self.is_binary:
            out["positive_label"] = _json_label(self.positive_label)
        return out


def _json_label(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


# --------------------------------------------------------------------------- validation


def check_dataset(X: Any, y: Any, *, bias: bool = False, source: str = "<array>") -> Dataset:
    """Validate ``X`` and ``y`` and return the normalised :class:`Dataset`.

    Parameters
    ----------
    X : array_like of shape (N, d)
        Finite real features.
    y : array_like of shape (N,)
        Labels: numbers (integers) or strings.
    bias : bool, keyword-only
        Append a constant feature 1 (a first-layer bias becomes an ordinary weight).
    source : str, keyword-only
        Name used in messages.

    Raises
    ------
    InputError
        On anything unusable; the message names the problem.

    Examples
    --------
    >>> import numpy as np
    >>> check_dataset([[0.0, float("nan")]], [1])
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: X has a non-finite value (nan) at row 0, column 1; ...
    >>> check_dataset([[1.0, 2.0]], [1, -1])
    Traceback (most recent call last):
    ...
    verify.errors.InputError: <array>: 2 labels for 1 rows of X; every row needs exactly one label
    >>> check_dataset([[1.0], [2.0], [3.0]], ["a", "b", "c"], bias=True).X.tolist()
    [[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]]
    """
    Xa = _as_matrix(X, source)
    labels = _as_labels(y, source)
    if labels.shape[0] != Xa.shape[0]:
        raise InputError(
            f"{source}: {labels.shape[0]} labels for {Xa.shape[0]} rows of X; "
            "every row needs exactly one label"
        )
    if bias:
        Xa = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
    classes, class_index = _classes(labels)
    y_bin, positive = _binary_labels(labels, classes, class_index)
    if y_bin is not None:
        Y = y_bin.reshape(-1, 1)
    else:
        Y = np.where(class_index[:, None] == np.arange(len(classes))[None, :], 1, -1)
    Xa.setflags(write=False)
    issues = _find_issues(Xa, class_index, bias=bias)
    return Dataset(
        X=Xa,
        labels=labels,
        classes=tuple(classes),
        class_index=class_index,
        y=y_bin,
        Y=Y.astype(np.int64),
        positive_label=positive,
        bias=bias,
        source=source,
        issues=issues,
        duplicates=_duplicates(Xa, class_index),
    )


def _duplicates(X: np.ndarray, class_index: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Groups of bit-identical rows (``-0.0`` equals ``0.0``) that share a class."""
    if X.shape[0] < 2:
        return ()
    key = np.ascontiguousarray(np.hstack([X + 0.0, class_index[:, None].astype(np.float64)]))
    view = key.view(np.dtype((np.void, key.dtype.itemsize * key.shape[1]))).ravel()
    _, inverse, counts = np.unique(view, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    groups = [tuple(int(i) for i in np.flatnonzero(inverse == g))
              for g in np.flatnonzero(counts > 1)]
    return tuple(sorted(groups))


def _as_matrix(X: Any, source: str) -> np.ndarray:
    try:
        Xa = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{source}: X is not a rectangular array of numbers ({exc})") from None
    if Xa.dtype == object or Xa.dtype.kind in "USV":
        try:
            Xa = Xa.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f"{source}: X must contain only numbers (got dtype {Xa.dtype}); "
                "is a header row or a text column in the data?"
            ) from None
    if Xa.dtype.kind == "c":
        raise InputError(f"{source}: X must be real, got complex values")
    if Xa.dtype.kind not in "biuf":
        raise InputError(f"{source}: X must contain numbers, got dtype {Xa.dtype}")
    if Xa.ndim != 2:
        raise InputError(
            f"{source}: X must be a 2-D array (samples × features), got shape {Xa.shape}"
        )
    if Xa.shape[0] < 1:
        raise InputError(f"{source}: X has no rows; at least 1 sample is needed")
    if Xa.shape[1] < 1:
        raise InputError(f"{source}: X has no columns; at least 1 feature is needed")
    Xa = np.array(Xa, dtype=np.float64)  # a copy we own; ints convert exactly up to 2**53
    bad = ~np.isfinite(Xa)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise InputError(
            f"{source}: X has a non-finite value ({Xa[r, c]}) at row {r}, column {c}; "
            "remove or impute it"
        )
    top = float(np.abs(Xa).max())
    if top > MAX_MAGNITUDE or 0 < top < 1 / MAX_MAGNITUDE:
        r, c = map(int, np.unravel_index(int(np.abs(Xa).argmax()), Xa.shape))
        raise InputError(
            f"{source}: the largest |X| entry is {top:.3g} (row {r}, column {c}): float64 "
            f"squares and inner products overflow or underflow beyond {MAX_MAGNITUDE:.0e} "
            f"(or below {1 / MAX_MAGNITUDE:.0e}); rescale the features"
        )
    return Xa


def _as_labels(y: Any, source: str) -> np.ndarray:
    ya = np.asarray(y)
    if ya.ndim == 2 and 1 in ya.shape:
        ya = ya.reshape(-1)
    if ya.ndim != 1:
        raise InputError(f"{source}: y must be 1-D (one label per row), got shape {ya.shape}")
    if ya.dtype.kind in "US" or ya.dtype == object:
        out = [_normalise_label(v, source, i) for i, v in enumerate(ya.tolist())]
        if all(isinstance(v, int) for v in out):
            return np.array(out, dtype=np.int64)
        return np.array([str(v) for v in out], dtype=object)
    if ya.dtype.kind == "b":
        return ya.astype(np.int64)
    if ya.dtype.kind in "iu":
        return ya.astype(np.int64)
    if ya.dtype.kind == "f":
        if not np.all(np.isfinite(ya)):
            i = int(np.flatnonzero(~np.isfinite(ya))[0])
            raise InputError(f"{source}: label {i} is not finite ({ya[i]})")
        if not np.all(ya == np.round(ya)):
            i = int(np.flatnonzero(ya != np.round(ya))[0])
            raise InputError(
                f"{source}: label {i} is {ya[i].item()!r}; numeric labels must be integers "
                "(use strings for named classes)"
            )
        return ya.astype(np.int64)
    raise InputError(f"{source}: labels must be integers or strings, got dtype {ya.dtype}")


def _normalise_label(v: Any, source: str, i: int) -> int | str:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v):
            return int(v)
        raise InputError(f"{source}: label {i} is {v!r}; numeric labels must be integers")
    s = str(v).strip()
    if s == "":
        raise InputError(f"{source}: label {i} is empty")
    try:
        f = float(s)
    except ValueError:
        return s
    if not math.isfinite(f):
        raise InputError(f"{source}: label {i} is {s!r}, not a class")
    if f != int(f):
        raise InputError(
            f"{source}: label {i} is {s!r}; numeric labels must be integers (use names for classes)"
        )
    return int(f)


def _classes(labels: np.ndarray) -> tuple[list[Any], np.ndarray]:
    values = labels.tolist()
    distinct = sorted(set(values))
    pos = {v: k for k, v in enumerate(distinct)}
    return distinct, np.array([pos[v] for v in values], dtype=np.int64)


def _binary_labels(
    labels: np.ndarray, classes: list[Any], class_index: np.ndarray
) -> tuple[np.ndarray | None, Any]:
    k = len(classes)
    if k > 2:
        return None, None
    cset = set(classes)
    if cset <= {-1, 1}:
        return labels.astype(np.int64).copy(), 1
    if cset == {0, 1}:
        return np.where(labels == 1, 1, -1).astype(np.int64), 1
    if k == 1:
        return np.ones(labels.shape[0], dtype=np.int64), classes[0]
    return np.where(class_index == 1, 1, -1).astype(np.int64), classes[1]


def _find_issues(X: np.ndarray, class_index: np.ndarray, *, bias: bool = False
                 ) -> tuple[DataIssue, ...]:
    """Zero rows and positively parallel rows with different classes, decided exactly.

    Candidates come from ``fl(x_k / x_first)``: division is correctly rounded, so rows whose
    exact ratios agree give bit-identical keys (no false negatives); every candidate pair is
    then confirmed with exact rationals (no false positives).
    """
    issues: list[DataIssue] = []
    zero = ~X.any(axis=1)
    for n in np.flatnonzero(zero):
        issues.append(
            DataIssue(
                "zero-row",
                (int(n),),
                f"row {n} is zero: every network outputs 0 there, so no positive margin exists",
            )
        )
    nz = np.flatnonzero(~zero)
    if nz.size < 2:
        return tuple(issues)
    Xn = X[nz]
    first = (Xn != 0).argmax(axis=1)
    lead = Xn[np.arange(Xn.shape[0]), first]
    with np.errstate(over="ignore", under="ignore"):
        ratios = Xn / lead[:, None]
    key = np.concatenate([first[:, None].astype(np.float64), np.sign(lead)[:, None], ratios], 1)
    key = np.ascontiguousarray(key)
    view = key.view(np.dtype((np.void, key.dtype.itemsize * key.shape[1]))).ravel()
    _, inverse, counts = np.unique(view, return_inverse=True, return_counts=True)
    for g in np.flatnonzero(counts > 1):
        members = nz[np.flatnonzero(inverse.ravel() == g)]
        if len(set(class_index[members].tolist())) < 2:
            continue
        issues.extend(_confirm_parallel(X, class_index, members, bias=bias))
    issues.sort(key=lambda i: i.rows)
    return tuple(issues)


def _confirm_parallel(
    X: np.ndarray, class_index: np.ndarray, members: np.ndarray, *, bias: bool = False
) -> list[DataIssue]:
    out = []
    exact = {int(n): [Fraction(v) for v in X[n].tolist()] for n in members}
    members = [int(n) for n in members]
    for a_pos, a in enumerate(members):
        for b in members[a_pos + 1 :]:
            if class_index[a] == class_index[b]:
                continue
            c = _positive_multiple(exact[a], exact[b])
            if c is None:
                continue
            rel = "identical" if c == 1 else f"x_{b} = {_ratio_text(c)} * x_{a}"
            if bias:  # the constant feature is part of the rows: parallel means identical
                why = ("even with the bias feature (--bias) a ReLU network gives them the same "
                       "output")
            else:
                why = ("a ReLU network without biases gives them outputs of the same sign"
                       + ("" if c == 1 else "; a bias (--bias) may separate them"))
            out.append(
                DataIssue(
                    "contradictory-rows",
                    (a, b),
                    f"rows {a} and {b} are positive multiples of each other ({rel}) but have "
                    f"different labels; {why}",
                )
            )
    return out


def _ratio_text(c: Fraction) -> str:
    """An exact ratio for people: short fractions as they are, long ones as a decimal with the
    exact value after it.

    Examples
    --------
    >>> _ratio_text(Fraction(2)), _ratio_text(Fraction(3, 2))
    ('2', '3/2')
    >>> _ratio_text(Fraction(4503599627370497, 4503599627370496))
    '1.0000000000000002 (exactly 4503599627370497/4503599627370496)'
    """
    text = str(c)
    if len(text) <= 12:
        return text
    return f"{float(c)!r} (exactly {text})"


def _positive_multiple(a: list[Fraction], b: list[Fraction]) -> Fraction | None:
    k = next(i for i, v in enumerate(a) if v != 0)
    c = b[k] / a[k]
    if c <= 0:
        return None
    return c if all(bi == c * ai for ai, bi in zip(a, b)) else None


# --------------------------------------------------------------------------- files


def load_dataset(path: str | Path, *, bias: bool = False) -> Dataset:
    """Read a data set from ``.npz``, ``.csv`` or ``.json`` and validate it.

    Raises
    ------
    InputError
        If the file is missing, unreadable, of an unknown type, or holds unusable data.

    Examples
    --------
    >>> import json, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "f1.json")
    >>> _ = open(p, "w").write(json.dumps({"X": [[1.65, 0.47], [-0.47, 1.35]], "y": [1, -1]}))
    >>> load_dataset(p).y.tolist()
    [1, -1]
    """
    p = existing_file(path)
    name = str(path)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        X, y = _read_npz(p, name)
    elif suffix == ".csv":
        X, y = _read_csv(p, name)
    elif suffix == ".json":
        X, y = _read_json(p, name)
    else:
        raise InputError(f"{name}: unknown data format {suffix!r}; use .npz, .csv or .json")
    return check_dataset(X, y, bias=bias, source=name)


def _read_npz(p: Path, name: str) -> tuple[Any, Any]:
    arrays = load_npz(p, name)
    missing = [k for k in ("X", "y") if k not in arrays]
    if missing:
        raise InputError(
            f"{name}: the .npz file needs arrays 'X' and 'y'; missing {missing} "
            f"(found {sorted(arrays)})"
        )
    return arrays["X"], arrays["y"]

def _read_json(p: Path, name: str) -> tuple[Any, Any]:
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None
    except RecursionError:  # e.g. 200,000 nested brackets: one line, never a traceback
        raise InputError(f"{name}: not valid data JSON (nested too deeply)") from None
    if not isinstance(obj, dict) or "X" not in obj or "y" not in obj:
        raise InputError(f'{name}: expected a JSON object {{"X": [[...]], "y": [...]}}')
    X, y = obj["X"], obj["y"]
    if not isinstance(X, list) or not all(isinstance(r, list) for r in X):
        raise InputError(f"{name}: X must be a list of rows (lists of numbers)")
    if X and len({len(r) for r in X}) != 1:
        raise InputError(f"{name}: the rows of X have different lengths")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for r in X for v in r):
        raise InputError(f"{name}: X must contain only numbers")
    if not isinstance(y, list):
        raise InputError(f"{name}: y must be a list of labels")
    return (np.array(X, dtype=np.float64) if X else np.zeros((0, 0))), np.array(y, dtype=object)


def _read_csv(p: Path, name: str) -> tuple[Any, Any]:
    """Features then the label (last column); errors name the 1-based line of the file."""
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not a UTF-8 text file ({exc})") from None
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    for r in reader:
        if r and any(c.strip() for c in r):
            rows.append((reader.line_num, r))
    if not rows:
        raise InputError(f"{name}: the CSV file has no rows")
    if not _is_numeric_row(rows[0][1][:-1]):
        rows = rows[1:]  # a header row
        if not rows:
            raise InputError(f"{name}: the CSV file has a header but no data rows")
    line, first = rows[0]
    width = len(first)
    if width < 2:
        cell = first[0] if first else ""
        sep = next((f" (line {line} holds {c!r})" for c in (";", "\t", "|", " ")
                    if c in cell.strip()), "")
        raise InputError(
            f"{name}: each CSV row needs at least one feature and a label, got 1 column"
            f"{sep}; is the file comma-separated?"
        )
    X = []
    y = []
    for i, (line, r) in enumerate(rows):
        at = f"line {line} (data row {i})"  # editors count lines from 1, the report rows from 0
        if len(r) != width:
            raise InputError(f"{name}: {at} has {len(r)} columns, expected {width}")
        try:
            X.append([float(c) for c in r[:-1]])
        except ValueError:
            col, bad = next((j, c) for j, c in enumerate(r[:-1]) if not _is_float(c))
            hint = ("; the label must be the last column"
                    if col == 0 and _is_float(r[-1]) else "")
            if any(";" in c for c in r):
                hint = ("; the file looks semicolon-separated with decimal commas (e.g. "
                        "'1,5;2,25;1'): write it with ',' between columns and '.' for decimals")
            raise InputError(
                f"{name}: {at}, column {col + 1} has a non-numeric feature {bad!r}{hint}"
            ) from None
        if not all(np.isfinite(X[-1])):
            col = next(j for j, v in enumerate(X[-1]) if not np.isfinite(v))
            raise InputError(f"{name}: {at}, column {col + 1} has a non-finite value "
                             f"({r[col].strip()}); remove or impute it")
        y.append(r[-1].strip())
    return np.array(X, dtype=np.float64), np.array(y, dtype=object)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _is_numeric_row(cells: list[str]) -> bool:
    return bool(cells) and all(_is_float(c) for c in cells)


# --------------------------------------------------------------------------- the paper's data


def paper_dataset(name: str) -> Dataset:
    """The paper's Appendix F data sets, embedded (``"F.1"`` or ``"F.2"``).

    F.1 has labels ``(1, -1)``; F.2's labels are illegible in the text extraction and
    ``(1, 1)`` reproduces the single optimal neuron the paper reports (see docs/math.md).

    Examples
    --------
    >>> paper_dataset("F.1").X.tolist()
    [[1.65, 0.47], [-0.47, 1.35]]
    """
    table = {
        "F.1": ([[1.65, 0.47], [-0.47, 1.35]], [1, -1]),
        "F.2": ([[1.65, 0.47], [0.47, 1.35]], [1, 1]),
    }
    if name not in table:
        raise InputError(f"unknown paper data set {name!r}; choose one of {sorted(table)}")
    X, y = table[name]
    return check_dataset(np.array(X), np.array(y), source=f"paper {name}")
