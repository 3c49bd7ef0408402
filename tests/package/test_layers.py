"""The package's layering (see ``deepfab/__init__.py``): imports go one way down, with no cycles.

Reads every module's import statements (also those inside functions) with ``ast``; nothing is run.
"""
from __future__ import annotations

import ast
from pathlib import Path

import deepfab

SRC = Path(deepfab.__file__).resolve().parent

# top-level name -> layer; a module may import only from its own layer or a lower number
LAYERS = {
    "__init__": 1, "errors": 1, "io": 1, "device": 1,
    "data": 2, "models": 2, "scratch": 2, "plots": 2,
    "train": 3,
    "foundations": 4, "augment": 4, "explain": 4, "segment": 4, "experiment": 4, "robust": 4, "ood": 4, "generative": 4,
    "generalization": 4, "compress": 4, "restore": 4, "rl": 4, "adapt": 4, "aiops": 4,
    "wafer": 5, "sem": 5, "logs": 5, "sensors": 5, "exercises": 5, "lectures": 5, "lecture": 5,
    "runner": 6, "book": 6, "cli": 6, "__main__": 6,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        if "files" in rel.parts or "default" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict) -> set[str]:
    """Modules of deepfab that ``name`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                targets.add(full if full in modules else mod)
        elif isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
    return {t for t in targets if t in modules and t != name}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_top_level_module_has_a_layer():
    tops = {_top(m) for m in _modules()}
    assert tops <= set(LAYERS), f"modules without a layer in LAYERS (and in deepfab/__init__.py): {tops - set(LAYERS)}"


def test_no_module_imports_from_a_later_layer():
    modules = _modules()
    upward = []
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            if LAYERS[_top(target)] > LAYERS[_top(name)]:
                upward.append(f"{name} (layer {LAYERS[_top(name)]}) imports {target} (layer {LAYERS[_top(target)]})")
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        # a package's __init__ re-exports its submodules: an edge from a submodule up to its own
        # package (or an ancestor) is not a cycle of ideas, so it is left out
        graph[name] = {t for t in _imports(name, path, modules) if not name.startswith(t + ".")}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
