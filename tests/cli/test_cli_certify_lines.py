"""What ``verify certify`` prints per class: the verdict and the proven bounds on ``P*``
(every class, also a globally optimal one, whose line used to give the gap alone)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from verify.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_optimal_class_prints_its_proven_bounds(tmp_path: Path, capsys):
    out = tmp_path / "f1.cert.json"
    argv = ["certify", str(ROOT / "examples" / "f1.json"),
            str(ROOT / "certificates" / "models" / "f1-optimal.npz"), "-o", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    entry = json.loads(out.read_text())["classes"][0]
    assert entry["verdict"] == "globally-optimal-within"
    m = re.search(r"^  (\S+) <= P\* <= (\S+) \(proven\), relative gap (\S+)$", text, re.M)
    assert m, text
    lb, ub, gap = (float(v) for v in m.groups())
    assert abs(lb - entry["lower_bound"]["float"]) <= 1e-8 * abs(lb)
    assert abs(ub - entry["upper_bound"]["float"]) <= 1e-8 * abs(ub)
    assert lb <= ub
    assert abs(gap - entry["relative_gap"]["float"]) <= 1e-3 * gap
