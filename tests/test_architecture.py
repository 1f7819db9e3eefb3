"""The package's shape, as ARCHITECTURE.md promises it: imports flow one way (no cycle, counting
imports inside functions), no module over 600 lines, no function over 80 lines, and the library
never imports the CLI."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qualkit"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every qualkit module this one imports, at module level or inside functions.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else ``pkg``."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "qualkit")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "qualkit":
                continue
            subs = {f"{target}.{a.name}" for a in node.names} & known
            found.update(subs or {target})
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_the_import_graph_has_no_cycle_counting_imports_inside_functions():
    # A package __init__ importing its own submodules lazily is not a cycle of layers,
    # but a submodule importing its package's __init__ back would be one, so both count.
    assert find_cycles(import_graph()) == []


def test_the_library_never_imports_the_cli():
    graph = import_graph()
    offenders = {m: sorted(d for d in deps if d.startswith("qualkit.cli"))
                 for m, deps in graph.items() if not m.startswith("qualkit.cli")}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_no_module_is_longer_than_600_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_longer_than_80_lines():
    long = {}
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = n
    assert long == {}


# Bottom first: a module may import from its own layer or any layer before it, never after.
LAYERS = ["qualkit.errors", "qualkit.io", "qualkit.render", "qualkit.transcripts", "qualkit.agreement",
          "qualkit.frameworks", "qualkit.workspace", "qualkit.deid", "qualkit.coding", "qualkit.analysis", "qualkit.reporting",
          "qualkit.refiqda", "qualkit.pipeline", "qualkit.api", "qualkit.cli"]


def _layer(module: str) -> int | None:
    found = [i for i, layer in enumerate(LAYERS) if module == layer or module.startswith(layer + ".")]
    return found[-1] if found else None


def test_imports_only_go_down_the_layers_of_architecture_md():
    upward = []
    for module, deps in import_graph().items():
        here = _layer(module)
        for dep in deps:
            there = _layer(dep)
            if here is not None and there is not None and there > here:
                upward.append(f"{module} -> {dep}")
    assert sorted(upward) == []


def _untyped_public_functions(body: list[ast.stmt], where: str) -> list[str]:
    found = []
    for node in body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += _untyped_public_functions(node.body, f"{where}.{node.name}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("_") and node.name not in ("__init__", "__call__"):
                continue
            args = [a for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                    if a.arg not in ("self", "cls")]
            extra = [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
            if any(a.annotation is None for a in args + extra) or (node.returns is None and node.name != "__init__"):
                found.append(f"{where}.{node.name}")
    return found


def test_every_public_function_of_the_library_has_type_hints():
    untyped = []
    for name, path in _modules().items():
        if not name.startswith("qualkit.cli"):
            untyped += _untyped_public_functions(ast.parse(path.read_text(encoding="utf-8")).body, name)
    assert untyped == []
