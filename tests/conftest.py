"""Fixtures shared by test folders."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

F1 = Path(__file__).resolve().parents[1] / "examples" / "f1.json"


@pytest.fixture
def f1_suboptimal_certificate(tmp_path: Path) -> Path:
    """A certificate of a short gradient-descent run on examples/f1.json (verdict
    ``suboptimal``), written by the CLI next to its data and model in ``tmp_path``."""
    from verify.cli.main import main

    data = tmp_path / "f1.json"
    shutil.copy(F1, data)
    assert main(["train", str(data), "--neurons", "10", "--steps", "2000",
                 "-o", str(tmp_path / "m.npz")]) == 0
    cert = tmp_path / "c.cert.json"
    assert main(["certify", str(data), str(tmp_path / "m.npz"), "-o", str(cert)]) == 0
    return cert


class FakeClock:
    """A stand-in for the ``time`` module whose clocks move only when a test says so
    (``now += seconds``): a test of time budgets with no timing in it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:  # the wall clock: another origin, the same seconds
        return self.now + 5000.0

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A :class:`FakeClock` at 1000 s (patch it in as a module's ``time``)."""
    return FakeClock()
