"""The certificate format as the checker reads it: its name and versions, the keys each object
may hold, and typed reads of its fields and numbers.

Part of the trusted checker (standard library only).  A field of the wrong type, a rational
string that is not one or has too many digits, or a common denominator of too many bits makes
the certificate malformed (:class:`~verify.checker.errors.InputError`); a key outside the format
fails rule ``unchecked-claim``, a bound whose ``float`` is not its ``exact`` value rounded
fails rule ``float-twin``.  The limits are those of :mod:`verify.checker.limits`.

Examples
--------
>>> parse_nd("-6/4", "x"), common_denominator([(1, 2), (-1, 3)])
((-6, 4), ([3, -2], 6))
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from verify.checker.arithmetic import parse_rational
from verify.checker.errors import InputError
from verify.checker.limits import BOUND_DIGITS, DEN_BITS, VALUE_DIGITS

__all__ = [
    "FORMAT",
    "VERSION",
    "VERSIONS",
    "CLOSED_FORM_NOTE",
    "parse_nd",
    "common_denominator",
    "witness_ints",
]


FORMAT = "verify-certificate"
VERSION = 2  # the newest format version; VERSIONS are all those this checker reads
VERSIONS = (1, 2)  # 2 = 1 plus the "branch-and-bound" and "support-chambers" evidence methods
_V2_METHODS = ("branch-and-bound", "support-chambers")
_WORD = re.compile(r"[a-z][a-z-]{0,39}")  # solve.method, solve.status: provenance words


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InputError(f"malformed certificate: {where} has no {key!r}")
    v = obj[key]
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is int):
        raise InputError(f"malformed certificate: {where}.{key} has the wrong type")
    return v


def _q(text: Any, where: str, digits: int = BOUND_DIGITS) -> Fraction:
    if type(text) is str:
        num, _, den = text.partition("/")
        if len(num) > digits + 1 or len(den) > digits:
            raise InputError(f"malformed certificate: {where}: more than {digits} digits")
    try:
        return parse_rational(text)
    except ValueError as exc:
        raise InputError(f"malformed certificate: {where}: {exc}") from None


#: The keys each object of a certificate may hold: anything else would be a claim the checker
#: does not recompute (rule ``unchecked-claim``).
_KEYS = {
    "certificate": {"format", "version", "tool", "data", "model", "solver", "tolerance",
                    "classes", "total"},
    "tool": {"name", "version"},
    "data": {"path", "sha256", "n_samples", "n_features", "bias", "classes"},
    "model": {"path", "sha256", "shape_W1", "shape_w2"},
    "total": {"lower_bound", "upper_bound"},
    "class": {"index", "label", "method", "solve", "lambda", "s", "upper_bound", "lower_bound",
              "relative_gap", "verdict", "verdict_detail", "evidence", "optimal_network"},
    "optimal_network": {"W1", "w2", "upper_bound"},
    "bound": {"exact", "float"},
    "chambers": {"pattern_encoding", "patterns", "witnesses", "multipliers", "count_proof",
                 "enumeration_method"},
    "closed-form": {"orthogonal_separability"},
    "restricted": {"reason"},
    "branch-and-bound": {"support", "trees"},
    "support-chambers": {"support", "pattern_encoding", "patterns", "witnesses", "multipliers",
                         "count_proof", "enumeration_method"},
    "multiplier": {"chamber", "sign", "indices", "values"},
}
#: The closed form's evidence is the checker's own re-check; the builder's one sentence says so.
CLOSED_FORM_NOTE = "binary; re-checked exactly by the checker"


def _only_keys(obj: Any, kind: str, where: str, fail: Any) -> None:
    """Rule ``unchecked-claim``: ``obj`` holds no key outside ``_KEYS[kind]``."""
    if isinstance(obj, dict):
        extra = sorted(set(obj) - _KEYS[kind], key=str)
        if extra:
            shown = ", ".join(repr(str(k))[:40] for k in extra[:5])
            fail("unchecked-claim", f"{where}: key(s) {shown} are not part of the format (a "
                 "claim the checker does not recompute)")


def _bound(obj: Any, where: str, fail: Any = None) -> Fraction | None:
    """The exact value of a ``{"exact", "float"}`` bound; ``float`` must be the correctly
    rounded float64 of ``exact`` (rule ``float-twin``)."""
    if obj is None:
        return None
    if fail is not None:
        _only_keys(obj, "bound", where, fail)
    q = _q(_get(obj, "exact", str, where), where + ".exact")
    tw = obj.get("float")
    try:
        ok = type(tw) in (int, float) and tw == float(q)
    except OverflowError:
        ok = False
    if not ok and fail is not None:
        fail("float-twin", f"{where}: float {tw!r} is not the float64 nearest to the exact value")
    return q


def _ints(values: list[Fraction], where: str = "values") -> tuple[list[int], int]:
    """``values == ints / den`` with one common positive denominator (at most ``DEN_BITS``)."""
    den = 1
    for v in values:
        if v.denominator != 1:
            den = math.lcm(den, v.denominator)
            if den.bit_length() > DEN_BITS:
                raise InputError(f"malformed certificate: {where}: the common denominator has "
                                 f"more than {DEN_BITS} bits")
    return [v.numerator * (den // v.denominator) for v in values], den


def parse_nd(text: Any, where: str, digits: int = VALUE_DIGITS) -> tuple[int, int]:
    """``(numerator, denominator > 0)`` of a rational string (not reduced): exactly the
    language of :func:`verify.checker.arithmetic.parse_rational`, without building a ``Fraction``.

    Examples
    --------
    >>> parse_nd("-6/4", "x"), parse_nd("7", "x")
    ((-6, 4), (7, 1))
    """
    if type(text) is str:
        num, sep, den = text.partition("/")
        if len(num) > digits + 1 or len(den) > digits:
            raise InputError(f"malformed certificate: {where}: more than {digits} digits")
        body = num[1:] if num[:1] == "-" else num
        if body.isdigit() and body.isascii() and (not sep or (den.isdigit() and den.isascii())):
            try:
                n, d = int(num), (int(den) if sep else 1)
            except ValueError as exc:  # more digits than int() converts
                raise InputError(f"malformed certificate: {where}: {exc}") from None
            if d:
                return n, d
    try:
        parse_rational(text)
    except ValueError as exc:
        raise InputError(f"malformed certificate: {where}: {exc}") from None
    raise InputError(f"malformed certificate: {where}: not a rational {text!r}")


def common_denominator(pairs: list[tuple[int, int]]) -> tuple[list[int], int]:
    """``num/den`` pairs as ``ints / D`` with one common positive denominator ``D``.

    Examples
    --------
    >>> common_denominator([(1, 2), (-1, 3), (2, 1)])
    ([3, -2, 12], 6)
    """
    D = 1
    for _, d in pairs:
        if d != 1:
            D = math.lcm(D, d)
            if D.bit_length() > DEN_BITS:
                raise InputError(f"malformed certificate: a common denominator of more than "
                                 f"{DEN_BITS} bits")
    if D == 1:
        return [n for n, _ in pairs], 1
    return [n * (D // d) for n, d in pairs], D


_INTS = re.compile(r"-?[0-9]+(?:,-?[0-9]+)*")  # a witness of plain integers, joined by ","


def witness_ints(wit: list[Any], where: str) -> list[int]:
    """A witness (rational strings) as integers ``u``: a positive multiple of the point.

    Examples
    --------
    >>> witness_ints(["3", "-4"], "w"), witness_ints(["1/2", "-1/3"], "w")
    ([3, -4], [3, -2])
    """
    try:
        if _INTS.fullmatch(",".join(wit)) and max(map(len, wit)) <= VALUE_DIGITS:
            return list(map(int, wit))
    except (TypeError, ValueError):
        pass  # not all strings, or more digits than int() converts: the exact route says why
    return common_denominator([parse_nd(t, where) for t in wit])[0]
