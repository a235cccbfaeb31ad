"""Every code block of README.md and docs/**/*.md runs as written.

The fenced blocks are extracted from each page and run by their language:

* ``python``: the page's blocks run in order in one namespace, like a doctest session: a
  block may use what an earlier block of the same page defined (``cloud``, an import), never
  what another page defined. They run in a fresh temporary directory (files they write stay
  there). A block that defines pytest tests (``def test_...`` or ``... .TestCase``) is not
  executed in that session: it is written to its own test file, after the page's earlier
  non-test Python blocks (so it sees what they defined), and the files run in one
  ``pytest`` subprocess, with ``tests/plugin`` (the examples' ``ClonePool``) on the path;
  every test in them must pass (``<!-- snippet: fails -->`` before a block: it must fail,
  showing a bug being found).
* ``sh`` / ``bash`` / ``shell``: each block runs alone with ``bash -e -o pipefail`` against a
  live server (``fakestack.server.start_server``) on a free port, reset before the block (no
  fault rules, empty journal). ``$FAKESTACK`` is its URL (``http://127.0.0.1:PORT``); the
  ``demo`` topology unless an HTML comment ``<!-- snippet: topology=NAME -->`` precedes the
  block. ``fakestack`` is on ``PATH``; the working directory is a fresh temporary one with
  the shipped ``scenarios/`` in it. When the block is followed directly by a ``text``
  block, that is its expected standard output (a ``...`` in a line stands for any text).
* ``yaml``: a scenario; it must load (``fakestack.scenarios.loads``) and replay passing.
* ``ini``: parsed with configparser.
* ``text``, ``console``, ``json``, ``output``: examples of output, not code.

Any other language fails the test, so a new kind of block needs a decision here. The first
block of README.md (the two commands, marked ``<!-- snippet: two-commands -->``) installs
the project and blocks in ``serve``; ``test_readme_two_commands`` checks that ``.ci/run``
runs exactly those commands instead of running them.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLE_LANGS = {"text", "console", "json", "output"}
SHELL_LANGS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>[^`]*)$")
MARKER = re.compile(r"<!-- snippet: (?P<what>[^>]*?) -->")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    marker: str | None  # the `<!-- snippet: ... -->` right before the block
    expected: str | None = None  # the `text` block right after a shell block

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    found: list[Block] = []
    i = 0
    last_end = -1
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = len(m.group("indent")), m.group("fence")
        lang = (m.group("info").strip().split() or [""])[0].lower()
        body = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        before = [ln for ln in lines[last_end + 1 : i] if ln.strip()]
        marker = MARKER.search(before[-1]) if before else None
        block = Block(page, i + 1, lang, "\n".join(body) + "\n", marker.group("what") if marker else None)
        if found and lang == "text" and not before and found[-1].lang in SHELL_LANGS:
            found[-1].expected = block.code
        found.append(block)
        last_end = j
        i = j + 1
    return found


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


ALL_BLOCKS = [b for page in PAGES for b in blocks(page)]


def test_every_block_has_a_known_language():
    known = EXAMPLE_LANGS | SHELL_LANGS | {"python", "yaml", "ini"}
    unknown = [f"{b.where}: {b.lang or '(none)'}" for b in ALL_BLOCKS if b.lang not in known]
    assert unknown == []


def test_the_docs_have_blocks_of_every_kind():
    """The extraction itself works: a broken fence pattern would make every test vacuous."""
    langs = {b.lang for b in ALL_BLOCKS}
    assert {"python", "sh", "yaml", "text"} <= langs
    assert len([b for b in ALL_BLOCKS if b.lang == "python"]) >= 10


# -- the two commands -----------------------------------------------------------------------


def test_readme_two_commands():
    first = blocks(ROOT / "README.md")[0]
    assert first.marker == "two-commands" and first.lang in SHELL_LANGS
    setup, test = [ln.strip() for ln in first.code.strip().splitlines()]
    assert setup.startswith("python3 -m venv .venv && ")
    ci = (ROOT / ".ci" / "run").read_text()
    ci_lines = [ln.strip() for ln in ci.strip().splitlines()]
    parts = [p.strip() for p in (setup + " && " + test).split("&&")]
    # .ci/run installs what the two commands install (quietly), in the same order ...
    installs = [p.replace("pip install", "pip install -q") for p in parts if "pip install" in p]
    assert installs and all(p in ci_lines for p in installs), (installs, ci_lines)
    assert [ci_lines.index(p) for p in installs] == sorted(ci_lines.index(p) for p in installs)
    # ... and ends with exactly the test command's pytest run
    assert ci_lines[-1] == [p for p in parts if "pytest" in p][-1]


# -- python -----------------------------------------------------------------------------------


def is_pytest_block(block: Block) -> bool:
    return bool(re.search(r"^def test_|\.TestCase\b", block.code, re.M))


@pytest.mark.parametrize(
    "page", [p for p in PAGES if any(b.lang == "python" for b in blocks(p))], ids=page_id
)
def test_python_blocks(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for block in blocks(page):
        if block.lang != "python" or is_pytest_block(block):
            continue
        code = compile(block.code, block.where, "exec")
        try:
            exec(code, namespace)
        except Exception as exc:
            raise AssertionError(f"{block.where}: {type(exc).__name__}: {exc}") from exc


def module_text(block: Block) -> str:
    """The test block, after the page's earlier non-test Python blocks (its session so far)."""
    earlier = []
    for other in blocks(block.page):
        if other.line == block.line:
            break
        if other.lang == "python" and not is_pytest_block(other):
            earlier.append(f"# {other.where}\n{other.code}")
    return "\n".join(earlier + [f"# {block.where}\n{block.code}"])


PASSING_TESTS = [b for b in ALL_BLOCKS if b.lang == "python" and is_pytest_block(b) and b.marker != "fails"]
FAILING_TESTS = [b for b in ALL_BLOCKS if b.marker == "fails"]


def start_pytest(tests: list[Block], where: Path) -> subprocess.Popen:
    where.mkdir(parents=True)
    for n, block in enumerate(tests):
        name = re.sub(r"\W", "_", block.page.stem)
        (where / f"test_doc_{name}_{n}.py").write_text(module_text(block))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests" / "plugin")]))
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(where)],
        cwd=where,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def pytest_runs(tmp_path_factory):
    """Every pytest run of the docs, started together (they are the slow part): block -> run."""
    root = tmp_path_factory.mktemp("doc_tests")
    groups = [("passing", PASSING_TESTS)] + [(f"fails_{n}", [b]) for n, b in enumerate(FAILING_TESTS)]
    started = [(tests, start_pytest(tests, root / name)) for name, tests in groups]
    runs = {}
    for tests, proc in started:
        out, err = proc.communicate(timeout=180)
        for block in tests:
            runs[block.where] = (proc.returncode, out, err)
    return runs


def test_python_blocks_that_are_pytest_tests(pytest_runs):
    assert PASSING_TESTS, "the pytest plugin page shows tests"
    code, out, err = pytest_runs[PASSING_TESTS[0].where]
    assert code == 0, out[-4000:] + err[-2000:]
    assert re.search(r"\b[1-9]\d* passed", out) and " failed" not in out


@pytest.mark.parametrize("block", FAILING_TESTS, ids=lambda b: b.where)
def test_python_block_that_shows_a_failing_test(block, pytest_runs):
    """A block marked ``<!-- snippet: fails -->`` shows a test that finds a bug: it must fail,
    on an assertion (not an import or a name error), with the text block after it in the report."""
    assert is_pytest_block(block)
    code, out, err = pytest_runs[block.where]
    assert code == 1, out[-4000:] + err[-2000:]
    assert "AssertionError" in out and "Error:" not in out.replace("AssertionError:", "")
    following = blocks(block.page)[blocks(block.page).index(block) + 1]
    assert following.lang == "text"
    first_lines = following.code.splitlines()[:2]
    assert all(ln in out for ln in first_lines), out[-4000:]


# -- shell ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers():
    from fakestack import Cloud
    from fakestack.server import start_server

    running: dict = {}

    def get(topology: str):
        if topology not in running:
            running[topology] = start_server(Cloud(topology, seed=0), port=0)
        return running[topology]

    yield get
    for server in running.values():
        server.stop()


def output_matches(expected: str, actual: str) -> bool:
    want = [ln.rstrip() for ln in expected.strip("\n").splitlines()]
    got = [ln.rstrip() for ln in actual.strip("\n").splitlines()]
    return len(want) == len(got) and all(
        fnmatch.fnmatchcase(g, re.sub(r"([\[\]?*])", r"[\1]", w).replace("...", "*"))
        for w, g in zip(want, got)
    )


SHELL_BLOCKS = [b for b in ALL_BLOCKS if b.lang in SHELL_LANGS and b.marker != "two-commands"]


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda b: b.where)
def test_shell_block(block, servers, tmp_path):
    import httpx

    options = dict(part.split("=", 1) for part in (block.marker or "").split() if "=" in part)
    server = servers(options.get("topology", "demo"))
    with httpx.Client(base_url=server.url) as http:
        for method, path in (("POST", "/reset"), ("DELETE", "/faults"), ("DELETE", "/journal")):
            assert http.request(method, "/_fakestack" + path).status_code < 300
    env = dict(
        os.environ,
        FAKESTACK=server.url,
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        PYTHONPATH=str(ROOT),
    )
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")  # `fakestack replay scenarios/` works
    run = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, f"{block.where}: exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    if block.expected is not None:
        assert output_matches(block.expected, run.stdout), (
            f"{block.where}: the output differs from the text block after it\n"
            f"--- expected\n{block.expected}--- got\n{run.stdout}"
        )


# -- yaml, ini --------------------------------------------------------------------------------


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.lang == "yaml"], ids=lambda b: b.where)
def test_yaml_block_is_a_passing_scenario(block, tmp_path):
    from fakestack import scenarios

    scenario = scenarios.loads(block.code, source=block.where)
    result = scenarios.replay(scenario)
    assert result.passed, result.report()


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.lang == "ini"], ids=lambda b: b.where)
def test_ini_block_parses(block):
    parser = configparser.ConfigParser()
    parser.read_string(textwrap.dedent(block.code))
    assert parser.sections()
