"""The model speaks no dialect and has no import circles (issue 13)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

MODEL = Path(__file__).resolve().parents[2] / "fakestack" / "model"

# Wire words that belong to a dialect: API names, URL schemes, field names, Java types.
WIRE_WORDS = re.compile(
    r"zstack|vsphere|vcenter|instavm|zstore|java|InstantStart|JustCreate|CreateStopped"
    r"|resourceUuid|datastore|/zstack_bs",
    re.IGNORECASE,
)
# Demo preset data shown verbatim on the wire (a mount path), not vocabulary.
ALLOWED_LINES = {("presets.py", '"url": "/zstack_ps"')}


def test_no_dialect_words_in_the_model():
    found = []
    for path in sorted(MODEL.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WIRE_WORDS.search(line) and not any(
                    path.name == name and text in line for name, text in ALLOWED_LINES):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []


def _runtime_imports(path: Path) -> set[str]:
    """Sibling modules ``path`` imports at run time (``if TYPE_CHECKING:`` blocks skipped)."""
    tree = ast.parse(path.read_text())
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(sub) for sub in ast.walk(node))
    out = set()
    for node in ast.walk(tree):
        if id(node) not in skipped and isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
    return out


def test_no_import_circles_inside_the_model():
    graph = {p.stem: _runtime_imports(p) for p in MODEL.glob("*.py") if p.stem != "__init__"}
    circles = []

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(graph.get(module, ())):
            if dep == path[0]:
                circles.append(" -> ".join(path + [dep]))
            elif dep not in path and dep in graph:
                visit(dep, path + [dep])

    for module in sorted(graph):
        visit(module, [module])
    assert circles == []


def test_no_model_module_imports_a_private_name_of_another():
    private = []
    for path in sorted(MODEL.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_")]
    assert private == []
