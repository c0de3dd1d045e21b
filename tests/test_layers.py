"""The layers import one way, and the module graph has no cycle.

Layers, bottom to top (``docs/architecture.md``): ``checker`` (the trusted kernel, alone) →
the foundation modules at the root (``errors``, ``status``, ``progress``, ``distributed``) →
``io`` → ``geometry`` → ``convex`` → ``network`` → ``certificate`` → ``plots`` → ``cli`` and
the public ``api``.  A module may import its own layer and the ones below, never one above.
Imports inside functions count: a lazy import is still a dependency, and so is
``importlib.import_module("verify...")``; relative imports are refused.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {
    "checker": 0,
    "errors": 1, "status": 1, "progress": 1, "distributed": 1,
    "io": 2,
    "geometry": 3,
    "convex": 4,
    "network": 5,
    "certificate": 6,
    "plots": 7,
    "cli": 8, "api": 8, "__main__": 8,
}


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """``module -> modules of verify it imports`` (``from a import b`` counts ``a.b`` when
    ``a.b`` is a module, else ``a``)."""
    files = {}
    for f in (root / "verify").rglob("*.py"):
        parts = f.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = f
    graph: dict[str, set[str]] = {m: set() for m in files}
    for name, f in files.items():
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{f}: relative import at line {node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in files
                           else node.module for a in node.names]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):
                targets = [node.args[0].value]  # importlib.import_module("verify....")
            else:
                continue
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def layer(module: str) -> int | None:
    parts = module.split(".")
    return None if len(parts) == 1 else LAYERS[parts[1]]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} imports {b}" for a, deps in graph.items() for b in deps
                  if layer(a) is not None and layer(b) is not None and layer(b) > layer(a))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_every_package_has_a_layer():
    graph = module_graph()
    assert {m.split(".")[1] for m in graph if "." in m} <= set(LAYERS)


def test_no_layer_imports_a_higher_one():
    assert upward_imports(module_graph()) == []


def test_no_import_cycles():
    # the package loads the public API lazily: it is the top, not part of a cycle
    graph = {m: deps - {"verify"} for m, deps in module_graph().items() if m != "verify"}
    assert cycles(graph) == []


def test_the_checks_catch_violations(tmp_path):
    pkg = tmp_path / "verify"
    for sub in ("geometry", "convex", "checker"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "geometry" / "a.py").write_text("def f():\n    from verify.convex import b\n")
    (pkg / "convex" / "b.py").write_text("from verify.geometry.a import f\n")
    (pkg / "checker" / "c.py").write_text("import verify.geometry.a\n")
    (pkg / "convex" / "d.py").write_text("import importlib\n"
                                         "m = importlib.import_module('verify.plots')\n")
    (pkg / "plots").mkdir()
    (pkg / "plots" / "__init__.py").write_text("")
    graph = module_graph(tmp_path)
    assert upward_imports(graph) == ["verify.checker.c imports verify.geometry.a",
                                     "verify.convex.d imports verify.plots",
                                     "verify.geometry.a imports verify.convex.b"]
    assert cycles(graph) == [["verify.convex.b", "verify.geometry.a"]]
