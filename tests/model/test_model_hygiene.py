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
    for line in ('type: Literal["LocalStorage", "NFS"]', 'IMAGE_STORE = "ImageStoreBackupStorage"',
                 '"SftpBackupStorage"', 'media_type = "RootVolumeTemplate"', '"url": "/zstack_ps"',
                 '{"name": "imagestore"}', '"type": "Ceph"', '"SharedBlock"', "placement.datastore"):
        assert WIRE_WORDS.search(line), line
    for line in ('type: PrimaryStorageKind = PrimaryStorageKind.NETWORK_SHARE', '"backup_store"',
                 'ImageKind.ROOT_TEMPLATE', 'format: Literal["qcow2", "raw", "iso", "vmdk"]'):
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
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_")]
    assert private == []
