"""The import graph of the ``fakestack`` package has no circles, and the model imports no
HTTP layer: checked statically, from the ``import`` statements (nothing is imported).

Run as a script to print the graph's cycles::

    python tests/test_import_layers.py

An edge ``a -> b`` means module ``a`` has an ``import`` statement naming ``b`` (``from .x
import y`` names ``x``, and ``x.y`` too when ``y`` is a submodule).  Importing ``a.b.c``
also runs the ``__init__`` of ``a`` and ``a.b``, but those implicit parent edges are left
out: a package importing its own submodules is not a circle.  Imports at the top of a
module (also inside top-level ``if``/``try``) are *module-level*; imports inside a
function or method are *function-level*; imports under ``if TYPE_CHECKING:`` are
ignored (never executed).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "fakestack"


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    module_level: set[str] = field(default_factory=set)  # fakestack modules, top level
    function_level: set[str] = field(default_factory=set)  # fakestack modules, in functions
    external: set[str] = field(default_factory=set)  # top-level names of other packages


def discover(root: Path = ROOT) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        modules[name] = Module(name, path, is_package)
    for module in modules.values():
        _read_imports(module, modules)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _read_imports(module: Module, modules: dict[str, Module]) -> None:
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    package = module.name if module.is_package else module.name.rpartition(".")[0]

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if node.level:
            base_parts = package.split(".")
            if node.level > 1:
                base_parts = base_parts[: -(node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [base] if node.module or not node.level else []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in modules:
                names.append(sub)
            elif base not in names:
                names.append(base)
        return names

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for orelse in child.orelse:
                    visit_one(orelse, in_function)
                continue
            visit_one(child, in_function)

    def visit_one(child: ast.AST, in_function: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for name in targets(child):
                if name == PACKAGE or name.startswith(PACKAGE + "."):
                    # ``import fakestack.x.y`` of a name that is not a module: its package.
                    while name not in modules and "." in name:
                        name = name.rpartition(".")[0]
                    if name == module.name:
                        continue
                    (module.function_level if in_function else module.module_level).add(name)
                elif name:
                    module.external.add(name.split(".")[0])
            return
        nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        visit(child, nested)

    visit(tree, False)


def cycles(modules: dict[str, Module], *, with_functions: bool) -> list[list[str]]:
    """The strongly connected components with more than one module (each sorted), in
    order; every such component holds at least one import circle."""
    graph = {
        name: sorted(m.module_level | (m.function_level if with_functions else set()))
        for name, m in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                strongconnect(w)
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
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(found)


def a_circle(modules: dict[str, Module], component: list[str], *, with_functions: bool) -> list[str]:
    """One concrete circle through the component's first module (for messages)."""
    members = set(component)
    start = component[0]

    def edges(name: str) -> list[str]:
        m = modules[name]
        out = m.module_level | (m.function_level if with_functions else set())
        return sorted(out & members)

    # Breadth-first from start back to start.
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in edges(v):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return component


def describe(modules: dict[str, Module], component: list[str], *, with_functions: bool) -> str:
    circle = a_circle(modules, component, with_functions=with_functions)
    return " -> ".join(circle) + (
        f"  (component: {', '.join(component)})" if len(component) > len(circle) - 1 else ""
    )


MODULES = discover()
MODEL = f"{PACKAGE}.model"


def _params(with_functions: bool):
    found = cycles(MODULES, with_functions=with_functions)
    params = []
    for component in found:
        params.append(pytest.param(component, id=" ".join(component)))
    return params or [pytest.param(None, id="none")]


@pytest.mark.parametrize("component", _params(with_functions=False))
def test_no_module_level_import_circle(component):
    assert component is None, "import circle: " + describe(MODULES, component, with_functions=False)


@pytest.mark.parametrize("component", _params(with_functions=True))
def test_no_import_circle_even_through_function_level_imports(component):
    # A function-level import hides a circle from Python's import order, not from a
    # reader: the layers still depend on each other both ways.
    assert component is None, "import circle: " + describe(MODULES, component, with_functions=True)


def test_the_graph_sees_the_imports_it_should():
    # The checker would pass vacuously if it read no edges: pin a few known ones.
    assert f"{PACKAGE}.admin" in MODULES[f"{PACKAGE}.app"].function_level
    assert f"{PACKAGE}.faults.http" in MODULES[f"{PACKAGE}.admin"].module_level
    assert MODEL in MODULES[f"{PACKAGE}.cli"].function_level
    assert f"{MODEL}.errors" in MODULES[f"{MODEL}.cloud"].module_level
    # the scenarios package loads its modules on first use of a name (issue 18)
    assert f"{PACKAGE}.scenarios.schema" in MODULES[f"{PACKAGE}.scenarios"].function_level
    assert "werkzeug" in MODULES[f"{PACKAGE}.app"].external
    # And it finds a circle when there is one.
    fake = {"a": Module("a", Path("a.py"), False, {"b"}), "b": Module("b", Path("b.py"), False, set(), {"a"})}
    assert cycles(fake, with_functions=False) == []
    assert cycles(fake, with_functions=True) == [["a", "b"]]


MODEL_MODULES = sorted(name for name in MODULES if name == MODEL or name.startswith(MODEL + "."))


@pytest.mark.parametrize("name", MODEL_MODULES)
def test_the_model_imports_no_http_layer_and_no_dialect(name):
    module = MODULES[name]
    assert "werkzeug" not in module.external, f"{name} imports werkzeug"
    outside = sorted(
        target
        for target in module.module_level | module.function_level
        if not (target == MODEL or target.startswith(MODEL + "."))
    )
    assert outside == [], f"{name} imports {outside} (the model imports only the model)"


def main() -> int:
    status = 0
    for label, with_functions in (("module-level", False), ("including function-level", True)):
        found = cycles(MODULES, with_functions=with_functions)
        print(f"import circles, {label}: {len(found)}")
        for component in found:
            print("  " + describe(MODULES, component, with_functions=with_functions))
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
