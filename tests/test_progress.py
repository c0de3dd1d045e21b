"""Progress bars: drawn on a terminal only, silenced by set_enabled(False) (--quiet)."""

from __future__ import annotations

import io

from verify import progress as P


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_drawn_on_a_terminal():
    out = _Tty()
    with P.progress("work", total=4, stream=out) as bar:
        for _ in range(4):
            bar.advance()
    text = out.getvalue()
    assert "\rwork [" in text and "100% 4/4" in text and text.endswith("\n")


def test_silent_when_not_a_terminal_or_quiet():
    plain = io.StringIO()
    with P.progress("work", total=2, stream=plain) as bar:
        bar.advance(2)
    assert plain.getvalue() == ""
    out = _Tty()
    P.set_enabled(False)
    try:
        with P.progress("work", stream=out) as bar:
            bar.advance()
    finally:
        P.set_enabled(True)
    assert out.getvalue() == ""


def test_close_is_idempotent_and_ends_the_line():
    out = _Tty()
    bar = P.progress("checking", total=2, stream=out)
    bar.advance(2)
    bar.close()
    bar.close()
    assert out.getvalue().count("\n") == 1 and "2/2" in out.getvalue()


def test_delay_hides_short_work_and_shows_long_work(monkeypatch):
    out = _Tty()
    with P.progress("quick", total=3, stream=out, delay=60.0) as bar:
        bar.advance(3)
    assert out.getvalue() == ""  # shorter than the delay: nothing, not even a newline
    clock = iter([0.0, 5.0, 5.0, 10.0, 10.0])
    monkeypatch.setattr(P.time, "monotonic", lambda: next(clock))
    out = _Tty()
    with P.progress("slow", total=3, stream=out, delay=1.0) as bar:
        bar.advance(3)  # 5 s after the start: drawn
    assert "100% 3/3" in out.getvalue() and out.getvalue().endswith("\n")
