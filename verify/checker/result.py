"""What a check returns: the failed rules (:class:`Failure`, at most a few listed per rule) and
the recomputed bounds (:class:`CheckResult`), written as ``{"exact", "float"}`` pairs.

Examples
--------
>>> fail = _Fails()
>>> for n in range(22):
...     fail("dual-norm", f"chamber {n}")
>>> [f.detail for f in fail.result()][-1]
'... and 2 more failures of this rule'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from verify.checker.arithmetic import format_rational

__all__ = ["Failure", "CheckResult"]

_MAX_LISTED = 20  # failures listed per rule before summarising


@dataclass(frozen=True)
class Failure:
    """One failed rule: ``rule`` (a short stable name) and ``detail`` (what, where)."""

    rule: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_certificate`: ``valid`` iff no rule failed.

    ``lower_bound``/``upper_bound`` are the recomputed totals over the classes (``None`` when
    some class has no lower bound).
    """

    valid: bool
    lower_bound: Fraction | None
    upper_bound: Fraction | None
    failures: tuple[Failure, ...] = ()
    classes: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "lower_bound": _exact_float(self.lower_bound),
            "upper_bound": _exact_float(self.upper_bound),
            "failures": [f.to_dict() for f in self.failures],
            "classes": list(self.classes),
        }


def _exact_float(v: Fraction | None) -> dict[str, Any] | None:
    """``{"exact": "p/q", "float": ...}`` (``None`` stays ``None``), as bounds are written."""
    return None if v is None else {"exact": format_rational(v), "float": _fl(v)}


def _fl(q: Fraction | int) -> float:
    """``float(q)`` for people, clamped to the largest finite float (never raises)."""
    try:
        return float(q)
    except OverflowError:
        return 1.7976931348623157e308 if q > 0 else -1.7976931348623157e308


class _Fails:
    def __init__(self) -> None:
        self.items: list[Failure] = []
        self.counts: dict[str, int] = {}

    def __call__(self, rule: str, detail: str) -> None:
        c = self.counts.get(rule, 0)
        self.counts[rule] = c + 1
        if c < _MAX_LISTED:
            self.items.append(Failure(rule, detail))

    def result(self) -> tuple[Failure, ...]:
        extra = [
            Failure(r, f"... and {c - _MAX_LISTED} more failures of this rule")
            for r, c in self.counts.items()
            if c > _MAX_LISTED
        ]
        return tuple(self.items + extra)
