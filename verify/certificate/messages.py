"""How certificate facts are worded for people: checker messages with class labels,
the labels of a certificate file, lines clipped to a terminal's width.

Used by ``verify certify``/``check``/``regress`` and the regression report; below the CLI so
that :mod:`verify.certificate.regress` need not import it.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["verdict_text", "with_labels", "certificate_labels", "clip", "printable",
           "printable_text", "CONTROL"]

#: Characters a terminal may act on: C0/C1 controls, DEL, bidirectional overrides and
#: isolates, zero-width and invisible format characters (soft hyphen, U+180E, interlinear
#: annotation, tags, the noncharacters U+FFFE/U+FFFF that XML refuses),
#: line/paragraph separators, the byte-order mark, and lone surrogates
#: (a JSON file may hold ``"\ud800"``; printed raw it is no UTF-8 at all and crashes the
#: output stream).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e"
                     "\u2028\u2029\u2060-\u2069\ud800-\udfff\ufeff\ufff9-\uffff"
                     "\U000e0000-\U000e007f]")


def printable(text: Any) -> str:
    r"""``text`` with every control character escaped (``\x1b``, ``\u202e``): strings from a
    file (labels, paths, messages) cannot move the cursor, recolour or reorder a line.

    Examples
    --------
    >>> printable("ok\x1b[2K\rvalid")
    'ok\\x1b[2K\\rvalid'
    """
    def esc(m: re.Match[str]) -> str:
        c = ord(m[0])
        return {9: "\\t", 10: "\\n", 13: "\\r"}.get(c) or (
            f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}")

    return CONTROL.sub(esc, str(text))


def printable_text(text: Any) -> str:
    r""":func:`printable` line by line: a multi-line report keeps its line breaks, and
    nothing else from a file reaches the terminal raw.

    Examples
    --------
    >>> printable_text("classes  a\x1b[2J, b\nrank  2")
    'classes  a\\x1b[2J, b\nrank  2'
    """
    return "\n".join(printable(line) for line in str(text).split("\n"))


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
    line = printable(line)
    return line if len(line) <= width else line[: width - 1] + "…"


_SUBOPTIMAL = re.compile(r"suboptimal: objective >= (\S+) > (\S+) >= P\*")


def verdict_text(entry: dict[str, Any]) -> str:
    """A certificate class entry's verdict for people (the certificate itself is unchanged).

    A ``suboptimal`` verdict reads ``objective >= A > B = UB(optimal network) >= P*``: ``A``
    is an exact lower bound on the trained network's normalised objective, ``B`` the exact upper
    bound of the convex optimum's network, which is itself ``>= P*``.

    Examples
    --------
    >>> verdict_text({"verdict": "suboptimal", "verdict_detail": "suboptimal: objective >= "
    ...     "25.57 > 24.85 >= P* (the convex optimum's network)"})
    'suboptimal: objective >= 25.57 > 24.85 = UB(optimal network) >= P*'
    >>> verdict_text({"verdict": "proven-gap", "verdict_detail": "proven-gap 0.1 (relative gap, "
    ...     "above the tolerance 1e-06)"})
    'proven-gap 0.1 (relative gap, above the tolerance 1e-06)'
    >>> verdict_text({"verdict": "restricted", "verdict_detail": "restricted: no lower bound",
    ...               "evidence": {"reason": "chamber list not proven complete (...)"}})
    'restricted: no lower bound: chamber list not proven complete (...)'
    """
    detail = str(entry.get("verdict_detail", entry.get("verdict", "")))
    m = _SUBOPTIMAL.match(detail)
    if entry.get("verdict") == "suboptimal" and m:
        return f"suboptimal: objective >= {m[1]} > {m[2]} = UB(optimal network) >= P*"
    evidence = entry.get("evidence")
    reason = evidence.get("reason") if isinstance(evidence, dict) else None
    if entry.get("verdict") == "restricted" and isinstance(reason, str) and reason:
        return f"{detail}: {reason}"
    return detail
