"""The trusted kernel stands alone: standard library only, nothing from the rest of ``verify``.

Two independent tests, as the architecture issue asks: the import graph read from the source
(every ``import`` statement of every module in ``verify/checker/``, the package's own
``__init__`` files included), and a run in a fresh interpreter with the numerical stack blocked
that checks a committed certificate and then lists which ``verify`` modules got loaded.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "verify" / "checker"
# What importing ``verify.checker`` necessarily loads besides the kernel: the package itself.
PACKAGES = ("verify/__init__.py", "verify/checker/__init__.py")


def _imports(path: Path, *, top_level_only: bool = False) -> list[tuple[int, str]]:
    out = []
    tree = ast.parse(path.read_text())
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import could climb out of the package
                out.append((node.lineno, "." * node.level + (node.module or "")))
            else:
                out.append((node.lineno, node.module or ""))
    return out


def kernel_violations() -> list[str]:
    bad = []
    files = sorted(KERNEL.glob("*.py")) + [ROOT / p for p in PACKAGES[:1]]
    for f in files:
        # verify/__init__.py loads the public API lazily (inside __getattr__): only its
        # module-level imports run when the kernel is imported.
        for line, mod in _imports(f, top_level_only=f.parent.name == "verify"):
            top = mod.split(".")[0]
            if mod == "verify.checker" or mod.startswith("verify.checker."):
                continue
            if top and top != "verify" and top in sys.stdlib_module_names:
                continue
            bad.append(f"{f.parent.name}/{f.name}:{line} imports {mod!r}")
    return bad


def test_kernel_import_graph_is_stdlib_and_itself():
    assert kernel_violations() == []


def test_import_graph_test_catches_a_violation(tmp_path, monkeypatch):
    """The AST test above fails on a kernel module that imports numpy or the builder."""
    fake = tmp_path / "checker"
    fake.mkdir()
    (fake / "rules.py").write_text("import json\nfrom verify.convex import bounds\n")
    (fake / "readers.py").write_text("import numpy as np\nfrom . import rules\n"
                                     "def f():\n    import cvxpy\n")
    monkeypatch.setattr(sys.modules[__name__], "KERNEL", fake)
    bad = kernel_violations()
    assert any("verify.convex" in b for b in bad)
    assert any("'numpy'" in b for b in bad)
    assert any("'.'" in b for b in bad)
    assert any("'cvxpy'" in b for b in bad)  # imports inside functions count in the kernel


BLOCKED_RUN = r"""
import importlib.abc, json, sys

BLOCKED = ("numpy", "scipy", "cvxpy", "networkx", "sympy", "flint", "clarabel", "matplotlib",
           "dask", "torch")


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked: {name}")
        return None


sys.meta_path.insert(0, Block())
from verify.checker.check import check_file

res = check_file(sys.argv[1])
loaded = sorted(m for m in sys.modules if m == "verify" or m.startswith("verify."))
print(json.dumps({"valid": res.valid, "lb": str(res.lower_bound), "loaded": loaded}))
"""


def test_kernel_checks_a_certificate_with_the_numerical_stack_blocked():
    cert = ROOT / "certificates" / "grid3-optimal.cert.json"
    r = subprocess.run([sys.executable, "-c", BLOCKED_RUN, str(cert)], capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    import json

    out = json.loads(r.stdout)
    assert out["valid"] and out["lb"] != "None"
    outside = [m for m in out["loaded"] if m != "verify" and not m.startswith("verify.checker")]
    assert outside == [], f"the kernel loaded {outside}"


def test_blocking_is_effective():
    """The blocker really blocks: the builder cannot even be imported under it."""
    code = BLOCKED_RUN.replace("from verify.checker.check import check_file",
                               "import verify.convex.bounds")
    r = subprocess.run([sys.executable, "-c", code, "unused"], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode != 0 and "blocked: numpy" in r.stderr
