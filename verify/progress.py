"""Progress bars on stderr for long work: shown only on a terminal, silenced by ``--quiet``.

Pure standard library (the trusted checker may use it). A bar is a context manager that
counts steps and redraws at most a few times a second; when stderr is not a terminal, or
progress is disabled, it does nothing at all.  With ``delay``, nothing is drawn (not even
the final line) unless the work lasts longer than ``delay`` seconds.

Examples
--------
>>> with progress("training", total=3) as bar:   # silent here: stderr is not a terminal
...     for _ in range(3):
...         bar.advance()
>>> set_enabled(False); enabled()
False
>>> set_enabled(True)
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["progress", "set_enabled", "enabled", "Progress"]

_ENABLED = True


def set_enabled(on: bool) -> None:
    """Turn every progress bar on or off (``--quiet`` turns them off)."""
    global _ENABLED
    _ENABLED = bool(on)


def enabled() -> bool:
    """Whether progress bars may be drawn (they still need a terminal)."""
    return _ENABLED


class Progress:
    """A counter drawn as ``label [#####.....] 50% 5/10`` on one line of a terminal."""

    def __init__(
        self, label: str, total: int | None, stream: TextIO, active: bool, delay: float = 0.0
    ) -> None:
        self.label = label
        self.total = total
        self.count = 0
        self._stream = stream
        self._active = active
        self._last = 0.0
        self._start = time.monotonic()
        self._delay = delay
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish the line (idempotent)."""
        if self._active:
            self._draw(force=True)
            self._active = False
            if self._drawn:
                self._stream.write("\n")
                self._stream.flush()

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more steps (redraws at most every 0.2 s)."""
        self.count += n
        if self._active:
            self._draw()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        elapsed = now - self._start
        if (not force and now - self._last < 0.2) or elapsed < self._delay:
            return
        self._last = now
        self._drawn = True
        if self.total:
            frac = min(1.0, self.count / self.total)
            bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
            text = f"{self.label} [{bar}] {100 * frac:3.0f}% {self.count}/{self.total}"
        else:
            text = f"{self.label} {self.count}"
        self._stream.write(f"\r{text} {elapsed:6.1f}s\x1b[K")  # erase leftovers (nested bars)
        self._stream.flush()


def progress(
    label: str, total: int | None = None, *, stream: TextIO | None = None, delay: float = 0.0
) -> Progress:
    """A progress bar for ``total`` steps (``None``: a plain counter) on ``stream`` (stderr),
    drawn only once ``delay`` seconds have passed."""
    out = sys.stderr if stream is None else stream
    active = _ENABLED and hasattr(out, "isatty") and out.isatty()
    return Progress(label, total, out, active, delay)
