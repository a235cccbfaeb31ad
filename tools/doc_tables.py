"""The generated tables of the docs: served endpoints, error tables, CLI options, admin API.

The pages under ``docs/`` keep each generated table between two markers::

    <!-- generated: NAME -->
    ...
    <!-- end generated: NAME -->

``python tools/doc_tables.py`` rewrites every such block from the code (the dialects' route
tables and catalogue, their error tables, the CLI's argument parser, the admin route table,
the fault builders); ``python tools/doc_tables.py --check`` only reports the stale blocks
(exit 1). ``tests/test_docs_tables.py`` runs the check, so a page that no longer lists what
the code serves fails the suite.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BLOCK = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
    r"(<!-- end generated: (?P=name) -->)",
    re.S,
)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _load_app() -> None:
    """Build an app once so that every dialect has registered its handlers."""
    from fakestack import Cloud
    from fakestack.app import make_app

    make_app(Cloud("tiny", seed=0))


# -- ZStack ---------------------------------------------------------------------------------


def zstack_apis() -> str:
    from fakestack.dialects.zstack.catalog import APIS
    from fakestack.dialects.zstack.registry import BINDINGS

    rows = []
    for name in sorted(BINDINGS):
        api = APIS[name]
        path = "/zstack/v1" + api["path"]
        if name.startswith("Query"):
            path += "[/{uuid}]"
        body = f"`{api['wrapper']}`" if api["wrapper"] else "-"
        rows.append(
            [
                name,
                api["method"],
                f"`{path}`",
                body,
                "async (202 + job)" if api["async"] else "sync",
                "yes" if api["needSession"] else "no",
            ]
        )
    intro = (
        f"{len(rows)} APIs. Every path is served under `/zstack/v1` and `/v1`; `PUT .../actions` "
        "APIs are told apart by the body's wrapper key.\n\n"
    )
    return intro + _table(["API", "method", "path", "body key", "answer", "session"], rows)


def zstack_errors() -> str:
    from fakestack.dialects.zstack.errors import DESCRIPTIONS, RULES

    codes = _table(["code", "description"], [[f"`{c}`", d] for c, d in DESCRIPTIONS.items()])
    rows = []
    for rule in RULES:
        where = ", ".join(f"`{o}`" for o in rule.operations) or "any"
        wrap = rule.wrap if isinstance(rule.wrap, str) else " -> ".join(c for c, _ in rule.wrap)
        rows.append(
            [
                f"`{rule.kind}`",
                "any" if rule.match == "*" else f"`{rule.match}`",
                where,
                f"`{rule.code}`",
                wrap or "-",
            ]
        )
    mapping = _table(["model error", "resource", "operations", "code", "wrapped in"], rows)
    return codes + "\nThe mapping of model errors, first matching row wins:\n\n" + mapping


# -- vSphere --------------------------------------------------------------------------------


def vsphere_routes() -> str:
    from fakestack.dialects.vsphere.routes import PREFIXES, ROUTES

    rows = []
    for surface, routes in ROUTES.items():
        for r in routes:
            path = PREFIXES[surface] + r.pattern + (f"?action={r.action}" if r.action else "")
            status = r.status if r.status != 200 else r.void_status
            rows.append([r.method, f"`{path}`", f"`{r.service}.{r.operation}`", str(status), "sync"])
    return _table(["method", "path", "vAPI operation", "success status", "answer"], rows)


def vsphere_operations() -> str:
    from fakestack.dialects.vsphere.registry import OPERATIONS

    rows = [
        [f"`{service}`", f"`{name}`", "user name and password" if op.auth == "login" else "session"]
        for (service, name), op in OPERATIONS.items()
    ]
    return f"{len(rows)} operations, by `POST /api` (JSON-RPC 2.0, method `invoke`):\n\n" + _table(
        ["service", "operation", "authentication"], rows
    )


def vsphere_errors() -> str:
    from fakestack.dialects.vsphere.errors import ERROR_PREFIX, STATUS

    rows = [[f"`{ERROR_PREFIX}{name}`", str(rest), str(api)] for name, (rest, api) in STATUS.items()]
    return _table(["error type", "`/rest` status", "`/api` status"], rows)


# -- InstaVM --------------------------------------------------------------------------------


def instavm_endpoints() -> str:
    from fakestack.dialects.instavm.routes import ENDPOINTS, OUT_OF_SCOPE

    rows = []
    for e in ENDPOINTS:
        wait = any(p.name == "wait" for p in e.query)
        answer = "`?wait=false`: at once, async; default waits" if wait else "sync"
        auth = {"body": "`api_key` in the body", "none": "none"}.get(e.auth, "`X-API-Key` / Bearer")
        rows.append([e.method, f"`{e.pattern}`", f"`{e.handler}`", answer, auth])
    served = _table(["method", "path", "handler", "answer", "key"], rows)
    rest = ", ".join(f"`{e.method} {e.pattern}`" for e in OUT_OF_SCOPE)
    return (
        served + f'\nAnswered `501 {{"detail": "<METHOD> <path> is not implemented by fakestack"}}` '
        f"after authentication ({len(OUT_OF_SCOPE)} endpoints): {rest}.\n"
    )


# -- admin, CLI, faults ------------------------------------------------------------------------


def admin_routes() -> str:
    from fakestack.admin import ROUTES

    rows = [
        [
            r.method,
            f"`/_fakestack{r.path if r.path != '/' else '/'}`",
            r.summary or "",
            "yes" if r.mutating else "no",
        ]
        for r in ROUTES
    ]
    return _table(["method", "path", "what", "mutating"], rows)


def cli_options() -> str:
    from fakestack.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name, sub in subparsers.choices.items():
        rows = []
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flags = ", ".join(action.option_strings) or action.metavar or action.dest
            if action.option_strings and action.nargs != 0:
                flags += " " + (action.metavar or action.dest.upper())
            default = "" if action.default in (None, argparse.SUPPRESS) else f"`{action.default}`"
            rows.append([f"`{flags}`", default, action.help or ""])
        table = _table(["argument", "default", "meaning"], rows)
        out.append(f"`fakestack {name}`: {sub.description}\n\n" + table)
    return "\n".join(out)


def cli_commands() -> str:
    from fakestack.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    rows = [[f"`fakestack {a.dest}`", a.help or ""] for a in subparsers._choices_actions]
    return _table(["command", "what"], rows)


FAULT_BUILDERS = ("exhaust", "fail", "latency", "hang", "disconnect", "reconnect", "drop_connection")
FAULT_FUNCTIONS = ("add", "inject", "list_rules", "hits", "remove", "clear", "release", "install")


# What a builder does, where its docstring does not say it in its first paragraph.
FAULT_SUMMARIES = {
    "exhaust": "the matching call finds `resource` exhausted (`host.cpu`, `host.memory`, "
    "`primary_storage.virtual`, `primary_storage.physical`, `backup_storage`)",
    "fail": "the matching call fails with a neutral `kind` and `message` (and a dialect `code`)",
    "latency": "the matching job takes `seconds` longer on the cloud's clock",
    "hang": "the matching job runs until the rule is removed or `faults.release(cloud)`",
    "disconnect": "the target (host, primary or backup storage) goes away; it sticks",
    "reconnect": "the target comes back",
    "drop_connection": "server mode: the socket closes without a response",
    "hits": "how many times a rule fired",
    "remove": "remove one rule (by rule or id)",
    "clear": "remove every rule (hung jobs finish)",
}


def _signature(fn: Callable) -> str:
    parts = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            parts.append("*" + p.name)
        elif p.kind is p.VAR_KEYWORD:
            parts.append("**" + p.name)
        elif p.default is p.empty:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={p.default!r}")
    return "(" + ", ".join(parts) + ")"


def fault_builders() -> str:
    from fakestack import faults

    rows = []
    for name in FAULT_BUILDERS + FAULT_FUNCTIONS:
        fn = getattr(faults, name)
        doc = FAULT_SUMMARIES.get(name) or (inspect.getdoc(fn) or "").split("\n\n")[0]
        rows.append([f"`faults.{name}{_signature(fn)}`", doc])
    note = (
        "`**when`: `nth`, `after`, `every`, `times`, `probability`; `on`: a uuid or name the "
        "call targets; `id`: the rule's id.\n\n"
    )
    return note + _table(["call", "what"], rows)


# -- the pytest plugin ------------------------------------------------------------------------


def _plugin_fixtures() -> list[tuple[str, str, str]]:
    """(name, scope, first paragraph of the docstring) of each public fixture of the plugin."""
    import ast

    tree = ast.parse((ROOT / "conftest_plugin.py").read_text())
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        for deco in node.decorator_list:
            call = deco if isinstance(deco, ast.Call) else None
            target = call.func if call else deco
            if ast.unparse(target) != "pytest.fixture":
                continue
            scope = next(
                (ast.literal_eval(k.value) for k in (call.keywords if call else []) if k.arg == "scope"),
                "function",
            )
            doc = (ast.get_docstring(node) or "").split("\n\n")[0]
            found.append((node.name, scope, doc))
    return found


def pytest_fixtures() -> str:
    return _table(
        ["fixture", "scope", "what you get"],
        [[f"`{name}`", scope, doc] for name, scope, doc in _plugin_fixtures()],
    )


def pytest_markers() -> str:
    """The markers ``pytest_configure`` declares (``config.addinivalue_line("markers", ...)``)."""
    import ast

    tree = ast.parse((ROOT / "conftest_plugin.py").read_text())
    rows = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func).endswith("addinivalue_line")
            and len(node.args) == 2
            and ast.literal_eval(node.args[0]) == "markers"
        ):
            signature, _, text = ast.literal_eval(node.args[1]).partition(": ")
            rows.append([f"`@pytest.mark.{signature}`", text])
    return _table(["marker", "what"], rows)


class _OptionRecorder:
    """Stands in for pytest's parser to list what ``pytest_addoption`` declares."""

    def __init__(self) -> None:
        self.options: list[list[str]] = []
        self.ini: list[list[str]] = []

    def getgroup(self, *args, **kwargs):
        return self

    def addoption(self, *names, **kwargs):
        self.options.append([", ".join(f"`{n}`" for n in names), "command line", kwargs.get("help", "")])

    def addini(self, name, help, type=None, default=None):  # noqa: A002 - pytest's signature
        shown = f" (default `{default}`)" if default not in (None, [], "") else ""
        self.ini.append([f"`{name}`", "ini option", help + shown])


def pytest_options() -> str:
    import conftest_plugin

    recorder = _OptionRecorder()
    conftest_plugin.pytest_addoption(recorder)
    return _table(["option", "where", "meaning"], recorder.options + recorder.ini)


GENERATORS: dict[str, Callable[[], str]] = {
    "zstack-apis": zstack_apis,
    "zstack-errors": zstack_errors,
    "vsphere-routes": vsphere_routes,
    "vsphere-operations": vsphere_operations,
    "vsphere-errors": vsphere_errors,
    "instavm-endpoints": instavm_endpoints,
    "admin-routes": admin_routes,
    "cli-options": cli_options,
    "cli-commands": cli_commands,
    "fault-builders": fault_builders,
    "pytest-fixtures": pytest_fixtures,
    "pytest-options": pytest_options,
    "pytest-markers": pytest_markers,
}


def render(text: str) -> tuple[str, list[str]]:
    """The page with every generated block rewritten, and the names of the blocks that changed."""
    changed: list[str] = []

    def replace(m: re.Match) -> str:
        name = m.group("name")
        if name not in GENERATORS:
            raise KeyError(f"unknown generated block {name!r}")
        body = GENERATORS[name]()
        if body != m.group("body"):
            changed.append(name)
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(replace, text), changed


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale blocks, change nothing")
    args = parser.parse_args(argv)
    _load_app()
    stale = []
    for page in pages():
        text = page.read_text()
        new, changed = render(text)
        if changed:
            stale += [f"{page.relative_to(ROOT)}: {name}" for name in changed]
            if not args.check:
                page.write_text(new)
    for line in stale:
        print(("stale: " if args.check else "rewrote: ") + line)
    return 1 if (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
