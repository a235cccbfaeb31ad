"""The docs' generated tables match the code: every served route, API, error, CLI option,
fixture, fault builder and admin endpoint is listed, and nothing that is not served.

``python tools/doc_tables.py`` rewrites the stale blocks; this test fails until it has run.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("doc_tables", ROOT / "tools" / "doc_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_current():
    tool = _tool()
    tool._load_app()
    stale = []
    for page in tool.pages():
        _, changed = tool.render(page.read_text())
        stale += [f"{page.name}: {name}" for name in changed]
    assert stale == [], "run: python tools/doc_tables.py"


def test_every_generator_is_used_on_some_page():
    tool = _tool()
    used = {m.group("name") for page in tool.pages() for m in tool.BLOCK.finditer(page.read_text())}
    assert used == set(tool.GENERATORS)


def test_dialect_pages_list_every_served_route():
    """Independent of the generator: each served route's path is on its dialect's page."""
    tool = _tool()
    tool._load_app()
    from fakestack.dialects.instavm.routes import ENDPOINTS
    from fakestack.dialects.vsphere.routes import PREFIXES, ROUTES
    from fakestack.dialects.zstack.catalog import APIS
    from fakestack.dialects.zstack.registry import BINDINGS

    docs = ROOT / "docs"
    zstack = (docs / "zstack.md").read_text()
    rows = {n: f"| {n} | {APIS[n]['method']} | `/zstack/v1{APIS[n]['path']}" for n in BINDINGS}
    assert [n for n, row in rows.items() if row not in zstack] == []
    vsphere = (docs / "vsphere.md").read_text()
    missing = [
        f"{r.method} {PREFIXES[s]}{r.pattern}"
        for s, routes in ROUTES.items()
        for r in routes
        if f"| {r.method} | `{PREFIXES[s]}{r.pattern}" not in vsphere
    ]
    assert missing == []
    instavm = (docs / "instavm.md").read_text()
    assert [e for e in ENDPOINTS if f"| {e.method} | `{e.pattern}` |" not in instavm] == []


def test_nav_lists_every_page_and_readme_links_them():
    """Every page is in mkdocs' nav; the README's table links every top-level page."""
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    docs = ROOT / "docs"
    for page in sorted(docs.rglob("*.md")):
        name = page.relative_to(docs).as_posix()
        assert re.search(rf":\s+{re.escape(name)}\s*$", mkdocs, re.M), name
        if page.parent == docs:
            assert f"(docs/{name})" in readme, name


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) < 250


def test_ci_builds_the_docs_strictly_into_an_ignored_directory():
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    build = [i for i, ln in enumerate(lines) if "mkdocs build" in ln]
    installs = [i for i, ln in enumerate(lines) if "pip install" in ln]
    tests = [i for i, ln in enumerate(lines) if "pytest" in ln]
    assert len(build) == 1 and "--strict" in lines[build[0]]
    assert max(installs) < build[0] < min(tests)
    site = re.search(r"--site-dir (\S+)", lines[build[0]]).group(1)
    assert f"/{site}/" in (ROOT / ".gitignore").read_text().splitlines()
