"""What a user of the package gets: licence, changelog, typing marker, package data, and
runtime dependencies limited to what the package imports."""

from __future__ import annotations

import ast
import fnmatch
import json
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs Python 3.11 or tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def package_data_patterns() -> list[str]:
    return PYPROJECT["tool"]["setuptools"]["package-data"]["fakestack"]


def test_the_licence_is_the_mit_licence_pyproject_declares():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 fakestack contributors" in text


def test_the_changelog_starts_with_the_unreleased_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in text
    first = next(line for line in text.splitlines() if line.startswith("## "))
    assert first == "## [0.2.0] - Unreleased"


def test_py_typed_and_the_dashboard_files_ship_as_package_data():
    patterns = package_data_patterns()
    package = ROOT / "fakestack"
    shipped = [package / "py.typed"] + sorted((package / "dashboard" / "static").iterdir())
    assert len(shipped) >= 4
    for path in shipped:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_freezegun_is_a_test_dependency_because_the_package_never_imports_it():
    sources = sorted((ROOT / "fakestack").rglob("*.py")) + [ROOT / "conftest_plugin.py"]
    importing = [str(p.relative_to(ROOT)) for p in sources if "freezegun" in imported_modules(p)]
    assert importing == []
    runtime = " ".join(PYPROJECT["project"]["dependencies"])
    assert "freezegun" not in runtime
    assert any(dep.startswith("freezegun") for dep in PYPROJECT["project"]["optional-dependencies"]["test"])


def test_the_dockerfile_serves_on_all_interfaces_from_a_slim_python():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("\nFROM ") + text.startswith("FROM ") == 1
    assert "FROM python:3.11-slim\n" in text
    cmd = json.loads(next(line for line in text.splitlines() if line.startswith("CMD "))[4:])
    assert cmd[:2] == ["sh", "-c"]
    # off the loopback serve refuses to start without a token: the image takes one from the
    # environment and refuses to start without it
    script = cmd[2]
    assert script.startswith("exec fakestack serve --host 0.0.0.0 --port 8080 --admin-token ")
    assert '"${FAKESTACK_ADMIN_TOKEN:?' in script
