"""How certificate facts are worded for people: checker messages with class labels,
the labels of a certificate file, lines clipped to a terminal's width.

Used by ``verify certify``/``check``/``regress`` and the regression report; below the CLI so
that :mod:`verify.certificate.regress` need not import it.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["with_labels", "certificate_labels", "clip"]


_CLASS_INDEX = re.compile(r"\bclass (\d+)(?![\d(])(?! \(label)")


def with_labels(detail: str, labels: list[Any] | None) -> str:
    """A checker message with each ``class <index>`` followed by its label, so that it agrees
    with ``certify``/``check``, which print classes by label.

    Examples
    --------
    >>> with_labels("class 0: claimed UB 2.4 is below 4.8", [1])
    'class 0 (label 1): claimed UB 2.4 is below 4.8'
    >>> with_labels("class 1.upper_bound: bad", ["cat", "dog"])
    'class 1 (label dog).upper_bound: bad'
    >>> with_labels("class 7: out of range", [1])
    'class 7: out of range'
    """
    if not labels:
        return detail

    def sub(m: re.Match[str]) -> str:
        k = int(m[1])
        return f"{m[0]} (label {labels[k]})" if k < len(labels) else m[0]

    return _CLASS_INDEX.sub(sub, detail)


def certificate_labels(path: Any) -> list[Any] | None:
    """The class labels of a certificate file, by index (``None`` if it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as fh:
            entries = json.load(fh)["classes"]
        return [e.get("label") for e in entries]
    except Exception:
        return None


def clip(line: str, width: int = 100) -> str:
    """``line`` cut to ``width`` columns, ending in ``…`` when something was cut.

    Examples
    --------
    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return line if len(line) <= width else line[: width - 1] + "…"
