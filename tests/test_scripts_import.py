"""Every ``from verify... import name`` in the benchmarks, examples and the certificate script
names something that exists (a module moved or a re-export removed breaks them silently:
they are not run by the test suite)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("examples/*.py"),
                  *ROOT.glob("certificates/*.py")])


def missing_names(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        ours = isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "verify"
        if ours:
            mod = importlib.import_module(node.module)
            for a in node.names:
                if hasattr(mod, a.name):
                    continue
                try:
                    importlib.import_module(f"{node.module}.{a.name}")
                except ImportError:
                    out.append(f"{path.name}:{node.lineno} {node.module}.{a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "verify":
                    importlib.import_module(a.name)
    return out


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_imports_resolve(path):
    assert missing_names(path) == []


def test_a_missing_name_is_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from verify.convex.programs import column_generation\n")
    assert missing_names(bad) == ["bad.py:1 verify.convex.programs.column_generation"]
