"""The example scripts run as a user would run them, and every certificate they make checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("audit_paper.py", "orthogonally separable: True"),
        ("theorem4_orthogonal.py", "globally-optimal-within"),
        ("whitened_spike_free.py", "spike-free (exact): True"),
        ("three_class.py", "orthogonally separable among the classes: True"),
        ("spurious_stationary.py", "orthogonally separable: False"),
    ],
)
def test_example_script(script, expect, tmp_path):
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout
    assert "INVALID" not in r.stdout
