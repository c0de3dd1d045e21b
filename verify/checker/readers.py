"""The readers of the data and the model files for the trusted checker.

The checker must not import numpy, so it reads the files itself with the standard library
only: ``.json``, ``.csv`` and ``.npz`` data, ``.npz`` and ``.safetensors`` models (the binary
formats are parsed by :mod:`verify.checker.arrays`).  Labels are normalised exactly as
:func:`verify.io.datasets.check_dataset` does (the tests compare both routes).

Examples
--------
>>> normalise_labels([1, -1, 1])
([-1, 1], [[1], [-1], [1]])
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from verify.checker.arrays import _prod, _read_safetensors, read_npz
from verify.checker.errors import InputError
from verify.checker.files import load_json, read_file
from verify.checker.limits import MAX_VALUES, _text_bytes

__all__ = [
    "read_data",
    "read_model",
    "normalise_labels",
    "positive_label",
]


# ----------------------------------------------------------------------------- labels


def _label(v: Any, name: str, i: int) -> int | str:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v):
            return int(v)
        raise InputError(f"{name}: label {i} is {v!r}; numeric labels must be integers")
    if not isinstance(v, str):
        raise InputError(f"{name}: label {i} is not a number or a string")
    s = v.strip()
    if s == "":
        raise InputError(f"{name}: label {i} is empty")
    try:
        f = float(s)
    except ValueError:
        return s
    if not math.isfinite(f) or f != int(f):
        raise InputError(f"{name}: label {i} is {s!r}, not a class")
    return int(f)


def normalise_labels(
    values: list[Any], name: str = "<labels>"
) -> tuple[list[Any], list[list[int]]]:
    """Classes (sorted) and the one-vs-all matrix ``Y``, as
    :func:`verify.io.datasets.check_dataset`.
    """
    labels = [_label(v, name, i) for i, v in enumerate(values)]
    if not all(isinstance(v, int) for v in labels):
        labels = [str(v) for v in labels]
    classes = sorted(set(labels))
    pos = {v: k for k, v in enumerate(classes)}
    cidx = [pos[v] for v in labels]
    cset = set(classes)
    if len(classes) > 2:
        return classes, [[1 if c == k else -1 for k in range(len(classes))] for c in cidx]
    if cset <= {-1, 1}:
        y = list(labels)
    elif cset == {0, 1}:
        y = [1 if v == 1 else -1 for v in labels]
    elif len(classes) == 1:
        y = [1] * len(labels)
    else:
        y = [1 if c == 1 else -1 for c in cidx]
    return classes, [[v] for v in y]


def positive_label(classes: list[Any]) -> Any:
    """The label mapped to ``+1`` for binary data (as :func:`normalise_labels`).

    Examples
    --------
    >>> positive_label([0, 1]), positive_label(["a", "b"]), positive_label(["x"])
    (1, 'b', 'x')
    """
    cset = set(classes)
    if cset <= {-1, 1} or cset == {0, 1}:
        return 1
    return classes[-1]


# ----------------------------------------------------------------------------- data


def _finite_matrix(X: Any, name: str) -> list[list[float]]:
    if not isinstance(X, list) or not X or not all(isinstance(r, list) for r in X):
        raise InputError(f"{name}: X must be a nonempty list of rows")
    if len({len(r) for r in X}) != 1 or not X[0]:
        raise InputError(f"{name}: the rows of X have different lengths or are empty")
    out = []
    for r in X:
        row = []
        for v in r:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"{name}: X must contain only numbers")
            f = float(v)
            if not math.isfinite(f):
                raise InputError(f"{name}: X has a non-finite value")
            row.append(f)
        out.append(row)
    return out


def read_data(
    path: str | Path, *, bias: bool = False, max_values: int = MAX_VALUES,
    name: str | None = None,
) -> tuple[list[list[float]], list[Any], list[list[int]]]:
    """Read ``.json``, ``.csv`` or ``.npz`` data: returns ``(X, classes, Y)``.

    ``X`` gets a constant last column 1.0 when ``bias`` is true.  At most ``max_values``
    numbers are read (64 bytes each in a text file): a larger file is refused unread.
    Errors name the file ``name`` (default ``str(path)``), e.g. as the user would type it.
    """
    p = Path(path)
    name = str(path) if name is None else name
    suffix = p.suffix.lower()
    if suffix == ".json":
        obj = load_json(read_file(p, _text_bytes(max_values), name), name)
        if isinstance(obj, dict) and "format" in obj:
            raise InputError(f"{name}: a certificate, not a data file")
        if not isinstance(obj, dict) or "X" not in obj or "y" not in obj:
            raise InputError(f'{name}: expected a JSON object {{"X": [[...]], "y": [...]}}')
        X, y = _finite_matrix(obj["X"], name), obj["y"]
        if not isinstance(y, list):
            raise InputError(f"{name}: y must be a list of labels")
        if y and all(isinstance(v, list) and len(v) == 1 for v in y):
            y = [v[0] for v in y]  # a column of labels, as numpy reshapes (N, 1)
    elif suffix == ".csv":
        X, y = _read_csv(read_file(p, _text_bytes(max_values), name), name)
    elif suffix == ".npz":
        arrays = read_npz(p, max_values, name=name)
        if "X" not in arrays or "y" not in arrays:
            raise InputError(f"{name}: the .npz file needs arrays 'X' and 'y'")
        (shape, flat), (yshape, yflat) = arrays["X"], arrays["y"]
        if len(shape) != 2:
            raise InputError(f"{name}: X must be 2-D, got shape {shape}")
        if len(yshape) == 2 and 1 in yshape:
            yshape = (_prod(yshape),)
        if len(yshape) != 1:
            raise InputError(f"{name}: y must be 1-D, got shape {yshape}")
        d = shape[1]
        X = _finite_matrix([[float(v) for v in flat[i * d : (i + 1) * d]]
                            for i in range(shape[0])], name)
        y = [int(v) if isinstance(v, bool) else v for v in yflat]
    else:
        raise InputError(f"{name}: unknown data format {suffix!r}; use .npz, .csv or .json")
    if len(y) != len(X):
        raise InputError(f"{name}: {len(y)} labels for {len(X)} rows of X")
    classes, Y = normalise_labels(y, name)
    if bias:
        X = [row + [1.0] for row in X]
    return X, classes, Y


def _read_csv(raw: bytes, name: str) -> tuple[list[list[float]], list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not a UTF-8 text file ({exc})") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(f"{name}: malformed CSV ({exc})") from None
    if not rows:
        raise InputError(f"{name}: the CSV file has no rows")

    def numeric(cells: list[str]) -> bool:
        try:
            [float(c) for c in cells]
        except ValueError:
            return False
        return bool(cells)

    if not numeric(rows[0][:-1]):
        rows = rows[1:]
    if not rows or len(rows[0]) < 2:
        raise InputError(f"{name}: the CSV file needs rows of features and a label")
    width = len(rows[0])
    X, y = [], []
    for i, r in enumerate(rows):
        if len(r) != width or not numeric(r[:-1]):
            raise InputError(f"{name}: data row {i} is malformed")
        X.append([float(c) for c in r[:-1]])
        y.append(r[-1].strip())
    return _finite_matrix(X, name), y


# ----------------------------------------------------------------------------- model


def _nest(shape: tuple[int, ...], flat: list[float]) -> Any:
    if len(shape) <= 1:
        return list(flat)
    step = _prod(shape[1:])
    return [_nest(shape[1:], flat[i * step : (i + 1) * step]) for i in range(shape[0])]


def read_model(path: str | Path, max_values: int = MAX_VALUES, *, name: str | None = None
               ) -> tuple[Any, tuple[int, ...], Any, tuple[int, ...], bool]:
    """Read ``W1``/``w2`` from ``.npz`` or ``.safetensors``: ``(W1, shape, w2, shape, bias)``.

    ``W1`` and ``w2`` are nested lists of floats (``(d, m)``/``(m,)`` or ``(K, d, m)``/``(K, m)``);
    at most ``max_values`` values are read.  Errors name the file ``name`` (default
    ``str(path)``).
    """
    p = Path(path)
    name = str(path) if name is None else name
    suffix = p.suffix.lower()
    bias = False
    if suffix == ".npz":
        arrays = read_npz(p, max_values, name=name)
        if "bias_feature" in arrays:
            bshape, bflat = arrays.pop("bias_feature")
            if bshape != () or len(bflat) != 1:
                raise InputError(f"{name}: 'bias_feature' must be a 0-d boolean")
            bias = bool(bflat[0])
    elif suffix == ".safetensors":
        arrays, meta = _read_safetensors(p, name, max_values)
        bias = str(meta.get("bias_feature", "false")).lower() == "true"
    else:
        raise InputError(f"{name}: the checker reads .npz and .safetensors models, not "
                         f"{suffix!r}; convert it first: verify convert {name} -o MODEL.npz")
    if "W1" not in arrays or "w2" not in arrays:
        raise InputError(f"{name}: the model file needs arrays 'W1' and 'w2'")
    (s1, f1), (s2, f2) = arrays["W1"], arrays["w2"]
    if len(s1) not in (2, 3) or len(s2) != len(s1) - 1 or s1[-1] != s2[-1] or s1[:-2] != s2[:-1]:
        raise InputError(f"{name}: W1 shape {s1} and w2 shape {s2} do not match")
    for v in f1 + f2:
        if isinstance(v, bool) or not math.isfinite(float(v)):
            raise InputError(f"{name}: the weights must be finite numbers")
    f1 = [float(v) for v in f1]
    f2 = [float(v) for v in f2]
    return _nest(s1, f1), s1, _nest(s2, f2), s2, bias
