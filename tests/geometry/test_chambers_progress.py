"""The chamber enumeration's progress bar: drawn on a terminal, in batches, ending at the
proven count; silent when disabled (--quiet), off a terminal, or for short work."""

from __future__ import annotations

import io
import itertools
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from verify import progress as P
from verify.cli.main import main
from verify.geometry import chambers as arrangements
from verify.geometry.chamber_count import count_chambers
from verify.geometry.chambers import enumerate_chambers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_DRAW = re.compile(r"\rchambers \[[#.]{30}\] +\d+% (\d+)/(\d+) ")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty(monkeypatch):
    """A fake terminal for stderr (installed by :func:`_on`: pytest's capture resets
    ``sys.stderr`` after fixtures run); no delay; a clock that moves 1 s per reading, so
    that every advance of a bar is drawn (the redraw throttle never hides one)."""
    out = _Tty()
    monkeypatch.setattr(arrangements, "_BAR_DELAY", 0.0)
    clock = itertools.count()
    monkeypatch.setattr(P.time, "monotonic", lambda: float(next(clock)))
    P.set_enabled(True)
    return out


def _on(monkeypatch, out: io.StringIO) -> None:
    monkeypatch.setattr(sys, "stderr", out)


def _draws(text: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in _DRAW.findall(text)]


@pytest.mark.parametrize(
    ("shape", "method", "expected_method"),
    [((9, 3), "auto", "extreme-rays"), ((15, 2), "auto", "sort-angles"),
     ((12, 3), "incremental", "incremental")],
)
def test_bar_reaches_the_proven_count(tty, monkeypatch, shape, method, expected_method):
    _on(monkeypatch, tty)
    X = np.random.default_rng(1).standard_normal(shape)
    count = count_chambers(X)[0]  # independent exact count
    ch = enumerate_chambers(X, method=method)
    assert ch.method == expected_method and ch.complete and len(ch) == count
    text = tty.getvalue()
    draws = _draws(text)
    assert draws, repr(text)
    assert all(total == count for _, total in draws)  # total known before enumerating
    done = [a for a, _ in draws]
    assert done == sorted(done) and done[-1] == count  # advances only, ends at the count
    assert f"100% {count}/{count}" in text and text.endswith("\n") and text.count("\n") == 1
    # batched: far fewer redraws than chambers (at most one per hyperplane or chunk, + end)
    assert len(draws) <= X.shape[0] + 3 < count


def test_incremental_bar_moves_once_per_hyperplane(tty, monkeypatch):
    _on(monkeypatch, tty)
    X = np.random.default_rng(2).standard_normal((10, 4))
    ch = enumerate_chambers(X)
    assert ch.method == "incremental" and ch.complete
    done = [a for a, _ in _draws(tty.getvalue())]
    assert len(set(done)) >= 5  # it moved during the enumeration, not only at the end
    assert done[-1] == len(ch) == count_chambers(X)[0]


def test_sampled_bar_counts_distinct_patterns(tty, monkeypatch):
    _on(monkeypatch, tty)
    X = np.random.default_rng(3).standard_normal((20, 3))
    ch = enumerate_chambers(X, mode="sampled", samples=500, seed=0)
    text = tty.getvalue()
    assert re.search(rf"\rchambers \(sampled\) {len(ch)} ", text) and text.endswith("\n")


def test_silent_when_disabled_or_not_a_terminal(tty, monkeypatch):
    _on(monkeypatch, tty)
    X = np.random.default_rng(1).standard_normal((9, 3))
    P.set_enabled(False)
    try:
        enumerate_chambers(X)
        enumerate_chambers(X, mode="sampled", samples=100)
    finally:
        P.set_enabled(True)
    assert tty.getvalue() == ""
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    enumerate_chambers(X)
    assert plain.getvalue() == ""


def test_silent_for_short_work(tty, monkeypatch):
    _on(monkeypatch, tty)
    monkeypatch.setattr(arrangements, "_BAR_DELAY", 0.5)
    clock = itertools.count()
    monkeypatch.setattr(P.time, "monotonic", lambda: next(clock) * 1e-3)  # 1 ms a reading
    enumerate_chambers(np.random.default_rng(1).standard_normal((9, 3)))
    assert tty.getvalue() == ""


@pytest.mark.parametrize("command", ["enumerate", "audit"])
def test_cli_shows_the_bar_on_a_terminal_unless_quiet(tty, capsys, monkeypatch, command):
    _on(monkeypatch, tty)
    assert main([command, str(EXAMPLES / "f2.json")]) == 0
    text = tty.getvalue()
    draws = _draws(text)
    assert draws and draws[-1][0] == draws[-1][1] and f"100% {draws[-1][1]}/" in text
    tty.seek(0)
    tty.truncate()
    try:
        assert main(["--quiet", command, str(EXAMPLES / "f2.json")]) == 0
    finally:
        P.set_enabled(True)
    assert tty.getvalue() == ""
