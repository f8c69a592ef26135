"""The layout's import rules, read from the source with ``ast`` (nothing is imported or run):

- no import cycle between the project's modules;
- ``still2motion/`` imports neither ``train/`` nor ``research/``, and ``train/`` never imports ``research/``
  (research reaches the training core through ``train/hooks.py`` only);
- ``train/`` keeps at most 15 Python files at its top level (the core; the rest sits in its stage folders);
- ``still2motion/`` holds no module that only training uses.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("still2motion", "train", "research")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports(name: str, path: Path, known: set[str], named: bool) -> set[str]:
    """The project modules ``name`` imports (at any depth in the file), relative imports resolved; with ``named``
    also the sibling modules a ``"module:function"`` string names (io/formats.py's writers, loaded on use)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif named and isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"[a-z_]+:[a-z_]+", node.value):
                targets = [f"{package}.{node.value.partition(':')[0]}"]
        for target in targets:
            while target and target not in known:  # `from pkg import name`: a module, or a name in pkg
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph(named: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules), named) for name, path in modules.items()}


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_is_read():  # the rules below would pass on an empty graph
    graph = _graph()
    assert "train.data.datasets" in graph["train.train"] | graph["train.data.any_dataset"]
    assert "still2motion.motion" in graph["still2motion.model"]


def test_no_import_cycle():
    graph, state, cycles = _graph(), {}, []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            if dep.startswith(node + "."):  # a package's __init__ importing its own submodule is no cycle
                continue
            if state.get(dep) == "open":
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, f"import cycles: {cycles}"


def test_imports_point_one_way():
    wrong = [(a, b) for a, deps in _graph().items() for b in deps
             if (_in(a, "still2motion") and (_in(b, "train") or _in(b, "research")))
             or (_in(a, "train") and _in(b, "research"))]
    assert not wrong, f"imports against the layout (still2motion -> train/research, train -> research): {wrong}"


def test_train_top_level_holds_the_core_only():
    top = sorted(p.name for p in (ROOT / "train").glob("*.py"))
    assert len(top) <= 15, f"train/ has {len(top)} Python files at its top level: {top}"


def test_still2motion_holds_no_training_only_module():
    graph = _graph(named=True)
    served = set()  # what a request can reach: the package's entry points and everything they import
    todo = ["still2motion", "still2motion.cli", "still2motion.__main__", "still2motion.model", "still2motion.loading"]
    while todo:
        name = todo.pop()
        if name not in served:
            served.add(name)
            todo.extend(graph.get(name, ()))
    unused = sorted(n for n in graph if _in(n, "still2motion") and n not in served)
    assert not unused, f"still2motion/ modules no request path imports (training-only?): {unused}"
