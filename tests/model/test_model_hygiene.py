"""The model speaks no dialect and has no import circles (issue 13)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

MODEL = Path(__file__).resolve().parents[2] / "fakestack" / "model"

# Wire words that belong to a dialect: API names, URL schemes, field names, Java types, and
# the products' names for storage and image types (the model's kinds are neutral, see
# fakestack/model/kinds.py; each dialect names them).  The grep of issue 13:
#   grep -rniE '<this pattern>' fakestack/model/   finds nothing.
WIRE_WORDS = re.compile(
    r"zstack|vsphere|vcenter|instavm|zstore|java|InstantStart|JustCreate|CreateStopped"
    r"|ImageStore|RootVolumeTemplate|DataVolumeTemplate|resourceUuid|datastore|LocalStorage"
    r"|/zstack_bs|SharedBlock|Ceph|Sftp|NFS"
    r"|SharedMountPoint|VolumeTemplate|VMFS|VSAN",
    re.IGNORECASE,
)


def test_no_dialect_words_in_the_model():
    found = []
    for path in sorted(p for p in MODEL.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if WIRE_WORDS.search(line):
                found.append(f"{path.relative_to(MODEL)}:{number}: {line.strip()}")
    assert found == []


def test_the_wire_words_pattern_catches_the_words_it_names():
    # the check above would pass vacuously with a broken pattern
    for line in (
        'type: Literal["LocalStorage", "NFS"]',
        'IMAGE_STORE = "ImageStoreBackupStorage"',
        '"SftpBackupStorage"',
        'media_type = "RootVolumeTemplate"',
        '"url": "/zstack_ps"',
        '{"name": "imagestore"}',
        '"type": "Ceph"',
        '"SharedBlock"',
        "placement.datastore",
    ):
        assert WIRE_WORDS.search(line), line
    for line in (
        "type: PrimaryStorageKind = PrimaryStorageKind.NETWORK_SHARE",
        '"backup_store"',
        "ImageKind.ROOT_TEMPLATE",
        'format: Literal["qcow2", "raw", "iso", "vmdk"]',
    ):
        assert not WIRE_WORDS.search(line), line


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
                private += [
                    f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")
                ]
    assert private == []


# -- the model's errors are neutral (issue 13 review) -------------------------------------
# A model error carries a snake_case field name, a reason code and facts; its message is
# neutral English.  ZStack's wording (parameter names such as ``rootVolumeUuid``, texts such
# as "Volume[uuid:...] is not root volume") lives in fakestack/dialects/zstack/errors.py.
ERROR_CLASSES = {
    "InvalidArgument",
    "NotFound",
    "InvalidState",
    "Conflict",
    "Unreachable",
    "CapacityExhausted",
    "Timeout",
    "InjectedFailure",
    "DomainError",
}
SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
# ZStack's phrasing: its bracket style (``volume[uuid:...]``, ``state[...]``) and set phrases.
ZSTACK_PHRASES = re.compile(
    r"\[uuid:|[a-z]\[(?:$|\{)|doesn't allow to proceed|it's |meet I/O error|Failed to create"
    r"|can only be created there|cannot find image cache|has been occupied|unable to"
    r"|\b[a-z]+[A-Z]\w*Uuids?\b|cpuNum|memorySize"
)


def _error_calls() -> list[tuple[str, int, ast.Call]]:
    calls = []
    for path in sorted(MODEL.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ERROR_CLASSES:
                    calls.append((path.name, node.lineno, node))
    return calls


def _texts(node: ast.expr) -> list[str]:
    """The literal parts of a string expression (f-string pieces, concatenations)."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_model_errors_name_fields_in_snake_case():
    fields = [
        (f, line, call.args[0])
        for f, line, call in _error_calls()
        if getattr(call.func, "id", None) == "InvalidArgument" and call.args
    ]
    assert len(fields) > 100  # the scan sees the model's InvalidArgument calls
    bad = []
    for f, line, arg in fields:
        names = _texts(arg) if not isinstance(arg, ast.Name) else []
        bad += [f"{f}:{line}: {n}" for n in names if not SNAKE_CASE.fullmatch(n)]
    assert bad == []


def test_model_error_texts_are_not_worded_the_zstack_way():
    bad = []
    for f, line, call in _error_calls():
        parts = [a for a in call.args[1:] if getattr(call.func, "id", None) == "InvalidArgument"]
        parts += [k.value for k in call.keywords if k.arg == "message"]
        for part in parts:
            bad += [f"{f}:{line}: {t}" for t in _texts(part) if ZSTACK_PHRASES.search(t)]
    assert bad == []


def test_model_error_defaults_are_neutral():
    from fakestack.model.errors import Conflict, InvalidArgument, InvalidState, NotFound, Unreachable

    errors = [
        InvalidArgument("root_volume", "not a root volume"),
        NotFound("vm", "a" * 32),
        InvalidState("vm", "a" * 32, "Stopped", "backup", ("Running",)),
        Conflict("vm", "a" * 32),
        Unreachable("host", "a" * 32),
    ]
    assert [e.message for e in errors] == [
        "invalid root_volume: not a root volume",
        f"vm {'a' * 32} not found",
        f"vm {'a' * 32} is Stopped, which does not allow backup",
        f"vm {'a' * 32} conflicts with an existing one",
        f"host {'a' * 32} is not reachable",
    ]
    assert not any(ZSTACK_PHRASES.search(e.message) for e in errors)


def test_the_zstack_phrase_pattern_catches_what_it_names():
    for text in (
        "Volume[uuid:",
        "current backup storage state[",
        "] doesn't allow to proceed",
        "rootVolumeUuid",
        "backupStorageUuids",
        "is not Enabled, it's ",
        "cpuNum",
    ):
        assert ZSTACK_PHRASES.search(text), text
    for text in ("backup storage ", " is not a root volume", "must be positive", "root_volume"):
        assert not ZSTACK_PHRASES.search(text), text
