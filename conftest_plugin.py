"""fakestack's pytest plugin (entry point ``pytest11: fakestack``).

Fixtures
    ``fakestack``         a fresh ``fakestack.Cloud`` per test
    ``fakestack_app``     its WSGI app (every dialect plus ``/_fakestack``)
    ``fakestack_client``  a ``werkzeug.test.Client`` on that app (no sockets)
    ``fakestack_server``  a live endpoint on 127.0.0.1 (ephemeral port), started once per
                          session and reset before each test: ``.url``, ``.cloud``, ``.app``
                          (https with a self-signed certificate under
                          ``@pytest.mark.fakestack(tls=True)`` or ini ``fakestack_tls = true``)
    ``fakestack_mock``    ``fakestack.mock`` on the test's app: unmodified ``requests``,
                          ``urllib3`` and ``httpx`` clients reach it in process (marker
                          ``@pytest.mark.fakestack_mock(urls=[...], passthrough=False)``
                          activates it without naming the fixture)
    ``fakestack_factory`` session-scoped: ``fakestack_factory()`` gives a fresh cloud per call
                          (``.cloud``, ``.app``, ``.client``, ``.mock()``), for hypothesis
                          ``@given`` tests: one per example, no health check to suppress

Choosing the cloud (first found wins)
    ``@pytest.mark.fakestack(topology="tiny", seed=3, clock="manual")`` on the test,
    ``--fakestack-seed N`` / ``--fakestack-topology NAME`` on the command line,
    ``fakestack_topology`` / ``fakestack_seed`` / ``fakestack_clock`` ini options,
    then ``demo``, seed ``0``, a manual clock (starts 2026-01-01T00:00:00Z and only moves
    when ticked; ``clock="system"`` reads the real time, so freezegun controls it).

When a test that used a fakestack fixture fails, its report gets a ``fakestack`` section:
the cloud's topology and seed, the last requests and responses, the last model
operations, the fault plan with hit counts and the capacity table.

Scenario files (``fakestack replay`` format) in folders named ``scenarios``, and under the
``fakestack_scenarios`` ini option's paths, are collected as one test item each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

_DEFAULT_TOPOLOGY = "demo"
_MARKER_KEYS = ("topology", "seed", "clock", "tls")
_REPORT_LINES = 10


def pytest_addoption(parser):
    group = parser.getgroup("fakestack", "fakestack (a fake virtualization cloud)")
    group.addoption(
        "--fakestack-seed",
        action="store",
        type=int,
        default=None,
        dest="fakestack_seed",
        help="seed of every fakestack cloud in this run "
        "(a test's @pytest.mark.fakestack(seed=...) still wins)",
    )
    group.addoption(
        "--fakestack-topology",
        action="store",
        default=None,
        dest="fakestack_topology",
        help="topology preset or file for this run",
    )
    parser.addini(
        "fakestack_topology",
        "default topology of the fakestack fixtures (preset name or file)",
        default=_DEFAULT_TOPOLOGY,
    )
    parser.addini("fakestack_seed", "default seed of the fakestack fixtures", default="0")
    parser.addini("fakestack_clock", "manual (default) or system", default="manual")
    parser.addini(
        "fakestack_tls", "serve fakestack_server over https (self-signed)", type="bool", default=False
    )
    parser.addini(
        "fakestack_report_lines",
        "requests and operations shown when a test fails",
        default=str(_REPORT_LINES),
    )
    parser.addini(
        "fakestack_scenarios",
        "scenario files or folders collected as tests (fakestack replay format)",
        type="paths",
        default=[],
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fakestack(topology=None, seed=None, clock=None): the topology (preset, file or dict), "
        "seed and clock (manual|system) of this test's fakestack cloud; tls=True: "
        "fakestack_server speaks https (self-signed)",
    )
    config.addinivalue_line(
        "markers",
        "fakestack_mock(urls=None, passthrough=False): answer this test's HTTP requests "
        "(requests, urllib3, httpx) to urls (default: every URL) with its fakestack app, in "
        "process",
    )
    # Scenario folders from the ini file join a run that names no paths of its own.
    configured = [str(p) for p in config.getini("fakestack_scenarios")]
    if configured and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args.extend(p for p in configured if p not in config.args)


@dataclass(frozen=True)
class CloudSpec:
    topology: Any
    seed: int
    clock: str

    def build(self):
        from fakestack import Cloud

        if not self._reusable():
            return Cloud(self.topology, seed=self.seed, clock=self.clock)
        return Cloud.restore(self.pristine())

    def pristine(self) -> dict:
        """The snapshot of this spec's new cloud.  A preset on the manual clock is built once
        per session and restored for each test (a restored cloud is a new object graph: no
        test sees another's state, fault plan or clock); anything else is built anew."""
        from fakestack import Cloud

        if not self._reusable():
            return self.build().snapshot()
        key = (self.topology, self.seed)
        dump = _PRISTINE.get(key)
        if dump is None:
            dump = _PRISTINE[key] = Cloud(self.topology, seed=self.seed, clock="manual").snapshot()
        return dump

    def _reusable(self) -> bool:
        # A preset name always means the same topology; a file may change during the run,
        # and the system clock stamps the entities with the time they were built.
        if self.clock != "manual" or not isinstance(self.topology, str):
            return False
        found = _IS_PRESET.get(self.topology)
        if found is None:  # asked once per name: preset() builds the topology (1.7 s for scale:1000:100000)
            from fakestack.model.presets import preset

            found = _IS_PRESET[self.topology] = preset(self.topology) is not None
        return found


_PRISTINE: dict[tuple, dict] = {}  # (preset, seed) -> its new cloud's snapshot, this session
_IS_PRESET: dict[str, bool] = {"demo": True, "tiny": True}  # topology text -> names a preset


def cloud_spec(node) -> CloudSpec:
    """The topology, seed and clock for ``node`` (marker > command line > ini > default)."""
    config = node.config
    marker = node.get_closest_marker("fakestack")
    wanted: dict[str, Any] = {}
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(
                f"{node.nodeid}: use keywords in @pytest.mark.fakestack(topology=..., seed=...)"
            )
        unknown = sorted(set(marker.kwargs) - set(_MARKER_KEYS))
        if unknown:
            raise pytest.UsageError(
                f"{node.nodeid}: @pytest.mark.fakestack got unknown "
                f"argument {unknown[0]!r} (allowed: {', '.join(_MARKER_KEYS)})"
            )
        wanted.update({k: v for k, v in marker.kwargs.items() if v is not None})
    topology = wanted.get(
        "topology",
        config.getoption("fakestack_topology") or config.getini("fakestack_topology") or _DEFAULT_TOPOLOGY,
    )
    seed = wanted.get("seed")
    if seed is None:
        seed = config.getoption("fakestack_seed")
    if seed is None:
        raw = config.getini("fakestack_seed") or "0"
        try:
            seed = int(raw)
        except ValueError:
            raise pytest.UsageError(f"ini option fakestack_seed must be an integer, got {raw!r}") from None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise pytest.UsageError(f"{node.nodeid}: fakestack seed must be an integer, got {seed!r}")
    clock = wanted.get("clock", config.getini("fakestack_clock") or "manual")
    if clock not in ("manual", "system"):
        raise pytest.UsageError(f"{node.nodeid}: fakestack clock must be 'manual' or 'system', got {clock!r}")
    return CloudSpec(topology, seed, clock)


def _marker_kwargs(node) -> dict:
    marker = node.get_closest_marker("fakestack")
    return dict(marker.kwargs) if marker is not None else {}


# -- what the failure report shows --------------------------------------------------------
_SEEN = pytest.StashKey[dict]()


def _remember(node, **things) -> None:
    seen = node.stash.setdefault(_SEEN, {})
    seen.update(things)


def _forget(node) -> None:
    """Drop what the report would have shown once the test is over (its call report is
    made by then): a finished test's cloud kept alive on its item for the rest of the
    session makes every later test slower (the garbage collector walks them all)."""
    node.stash[_SEEN] = {}


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def fakestack(request):
    """A fresh ``fakestack.Cloud`` for this test (see the plugin docstring for its spec)."""
    spec = cloud_spec(request.node)
    cloud = spec.build()
    _remember(request.node, cloud=cloud, spec=spec)
    return cloud


@pytest.fixture
def fakestack_app(request, fakestack):
    """The WSGI app serving ``fakestack`` (every dialect and ``/_fakestack``)."""
    from fakestack.app import make_app

    app = make_app(fakestack)
    _remember(request.node, app=app)
    return app


@pytest.fixture
def fakestack_client(fakestack_app):
    """A ``werkzeug.test.Client`` on ``fakestack_app``.  A ``drop_connection`` fault rule
    makes a request raise ``fakestack.faults.ConnectionDropped`` (a ``ConnectionError``)."""
    from werkzeug.test import Client

    from fakestack.faults import connection_dropping

    return Client(connection_dropping(fakestack_app))


def _live_server(tls: bool):
    from fakestack import Cloud
    from fakestack.server import start_server

    return start_server(Cloud(_DEFAULT_TOPOLOGY, seed=0), "127.0.0.1", 0, tls=tls)


@pytest.fixture(scope="session")
def _fakestack_live_server():
    server = _live_server(tls=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _fakestack_live_tls_server():
    server = _live_server(tls=True)
    yield server
    server.stop()


@pytest.fixture
def fakestack_server(request):
    """The session's live endpoint, reset to this test's cloud: ``.url``, ``.cloud``, ``.app``.
    https (a self-signed certificate: clients must not verify it) with the marker's
    ``tls=True`` or the ini option ``fakestack_tls``."""
    tls = _marker_kwargs(request.node).get("tls")
    if tls is None:
        tls = request.config.getini("fakestack_tls")
    server = request.getfixturevalue("_fakestack_live_tls_server" if tls else "_fakestack_live_server")
    spec = cloud_spec(request.node)
    fresh = spec.pristine()
    cloud = server.cloud
    with cloud.lock:
        # In place: the server, its app and its dialects keep their object.
        cloud.load_snapshot(fresh)
        cloud.faults = None  # the last test's fault plan goes with its state
        server.app.reload_dialects()
        server.app.request_journal.clear()
        server.app.request_seq = 0
    _remember(request.node, cloud=cloud, app=server.app, spec=spec, url=server.url)
    return server


@pytest.fixture
def fakestack_mock(request, fakestack_app):
    """``fakestack.mock`` on this test's app, active for the whole test: ``.cloud``, ``.app``.
    URLs and passthrough from ``@pytest.mark.fakestack_mock(urls=[...], passthrough=...)``."""
    from fakestack.interception import Mock

    marker = request.node.get_closest_marker("fakestack_mock")
    options = dict(marker.kwargs) if marker is not None else {}
    with Mock(app=fakestack_app, **options) as active:
        yield active


@pytest.fixture(autouse=True)
def _fakestack_mock_marker(request):
    # autouse fixtures are left out of hypothesis' function-scoped-fixture health check
    if request.node.get_closest_marker("fakestack_mock") is not None:
        request.getfixturevalue("fakestack_mock")


class FreshCloud:
    """One example's cloud: ``.cloud``, ``.app``, ``.client`` (a ``werkzeug.test.Client``),
    ``.mock(urls=None, passthrough=False)`` (``fakestack.mock`` on ``.app``) and ``.number``
    (1 for the test's first example)."""

    def __init__(self, cloud, app, number: int) -> None:
        from werkzeug.test import Client

        from fakestack.faults import connection_dropping

        self.cloud, self.app, self.number = cloud, app, number
        self.client = Client(connection_dropping(app))

    def mock(self, urls=None, **options):
        from fakestack.interception import Mock

        return Mock(app=self.app, urls=urls, **options)

    def __repr__(self) -> str:
        return f"<FreshCloud #{self.number} {self.cloud!r}>"


_EXAMPLES = pytest.StashKey[int]()
_current_item: list = []  # the test item running now (set around each test's protocol)


class CloudFactory:
    """``fakestack_factory()``: a fresh cloud for the running test (its marker, ini and
    command-line spec; keyword arguments override ``topology``, ``seed``, ``clock``), with
    no fault rules and the clock at its start.  Call it once per hypothesis example: the
    failure report then shows the last example's cloud (the one hypothesis shrank to),
    with its own request numbers."""

    def __call__(self, **overrides) -> FreshCloud:
        from fakestack.app import make_app

        unknown = sorted(set(overrides) - {"topology", "seed", "clock"})
        if unknown:
            raise TypeError(f"fakestack_factory() got an unexpected argument {unknown[0]!r}")
        if not _current_item:
            raise RuntimeError("fakestack_factory() works inside a running test")
        item = _current_item[-1]
        spec = cloud_spec(item)
        spec = CloudSpec(
            overrides.get("topology", spec.topology),
            overrides.get("seed", spec.seed),
            overrides.get("clock", spec.clock),
        )
        cloud = spec.build()
        app = make_app(cloud)
        number = item.stash.get(_EXAMPLES, 0) + 1
        item.stash[_EXAMPLES] = number
        _remember(
            item,
            cloud=cloud,
            app=app,
            spec=spec,
            example=number,
            example_args=_example_arguments(item),
            example_final=_hypothesis_final_run(),
        )
        return FreshCloud(cloud, app, number)

    def warm_up(self) -> None:
        """Import and build once, so that the first example is not slower than the rest
        (hypothesis' deadline measures each example)."""
        from fakestack import Cloud, interception
        from fakestack.app import make_app

        app = make_app(Cloud("tiny"))
        with interception.Mock(app=app, urls=["http://warm-up.invalid"]):
            pass  # imports urllib3 and httpx, as a first fresh.mock() would


def _example_arguments(item) -> str | None:
    """The drawn arguments of the hypothesis example calling the factory (read from the
    test function's frame; this version of hypothesis prints them blank)."""
    import inspect
    import sys

    inner = getattr(getattr(getattr(item, "obj", None), "hypothesis", None), "inner_test", None)
    code = getattr(inner, "__code__", None)
    if code is None:
        return None
    frame = sys._getframe(1)
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    if frame is None:
        return None
    fixtures = set(getattr(item, "fixturenames", ()))
    shown = [
        f"{name}={frame.f_locals[name]!r}"
        for name in inspect.signature(inner).parameters
        if name not in fixtures and name != "self" and name in frame.f_locals
    ]
    return ", ".join(shown)


def _hypothesis_final_run() -> bool:
    """Is this hypothesis' last run of a failing example (the shrunk one it reports)?"""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # not inside @given, or no hypothesis
        return False


@pytest.fixture(scope="session")
def fakestack_factory():
    """Fresh clouds on demand (session-scoped, so hypothesis' ``@given`` accepts it)."""
    factory = CloudFactory()
    factory.warm_up()
    return factory


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current_item.append(item)
    try:
        yield
    finally:
        _current_item.pop()
        _forget(item)  # whichever fixture remembered a cloud (the factory's included)


# -- the failure report ----------------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    seen = item.stash.get(_SEEN, None)
    if not seen or "cloud" not in seen:
        return
    try:
        lines = int(item.config.getini("fakestack_report_lines"))
    except ValueError:
        lines = _REPORT_LINES
    try:
        text = failure_report(seen, lines)
        if seen.get("example"):
            text = _example_line(seen) + "\n" + text
    except Exception as exc:  # the report must never hide the test's own failure
        text = f"(fakestack could not build its report: {type(exc).__name__}: {exc})"
    report.sections.append(("fakestack", text))


def _example_line(seen: dict) -> str:
    """Which example the report shows: hypothesis runs the example it shrank to last."""
    what = (
        f"example {seen['example']} of this test (fakestack_factory: each example has its "
        "own cloud; request numbers restart)"
    )
    if seen.get("example_final"):
        what += ", the one hypothesis shrank to"
    if seen.get("example_args") is not None:
        what += f": {seen['example_args']}"
    return what


def failure_report(seen: dict, lines: int = _REPORT_LINES) -> str:
    """What the fake saw: spec, requests, operations, fault plan, capacity table."""
    cloud = seen["cloud"]
    spec = seen.get("spec")
    out = []
    head = f"cloud: topology {cloud.topology.name}, seed {cloud.seed}"
    if spec is not None:
        head += f", {spec.clock} clock"
    head += f", now {cloud.clock.now_datetime().isoformat()}"
    if seen.get("url"):
        head += f", served at {seen['url']}"
    out.append(head)
    app = seen.get("app")
    journal = list(getattr(app, "request_journal", ()) or ())
    out.append("")
    out.append(f"last requests ({min(len(journal), lines)} of {len(journal)}):")
    if not journal:
        out.append("  (none)")
    for entry in journal[-lines:]:
        target = entry.get("path", "") + (f"?{entry['query']}" if entry.get("query") else "")
        out.append(f"  #{entry.get('seq')} {entry.get('method')} {target} -> {entry.get('status')}")
        if entry.get("request_body"):
            out.append(f"      request:  {_squeeze(entry['request_body'])}")
        if entry.get("response_body"):
            out.append(f"      response: {_squeeze(entry['response_body'])}")
    operations = list(cloud.journal)
    out.append("")
    out.append(f"last model operations ({min(len(operations), lines)} of {len(operations)}):")
    if not operations:
        out.append("  (none)")
    for op in operations[-lines:]:
        args = ", ".join(json.dumps(a, default=str) for a in op.get("args", []))
        kwargs = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in op.get("kwargs", {}).items())
        outcome = (
            f"error {op['error'].get('kind')}: {op['error'].get('message')}"
            if "error" in op
            else f"ok {json.dumps(op.get('ok'), default=str)}"
        )
        out.append(
            f"  #{op['seq']} {op['operation']}({', '.join(x for x in (args, kwargs) if x)})"
            f" -> {_squeeze(outcome)}"
        )
    out.append("")
    out.append("fault plan:")
    from fakestack import faults

    rules = faults.list_rules(cloud)
    if not rules:
        out.append("  (no rules)")
    for rule in rules:
        when = ", ".join(f"{k}={v}" for k, v in rule.get("when", {}).items()) or "always"
        effect = dict(rule["effect"])
        kind = effect.pop("type")
        detail = ", ".join(f"{k}={v}" for k, v in effect.items())
        resource = f" on {rule['resource']}" if rule.get("resource") else ""
        out.append(
            f"  {rule['id']}: {rule['match']}{resource} [{when}] -> {kind}"
            f"{'(' + detail + ')' if detail else ''}: calls {rule['calls']}, hits {rule['hits']}"
        )
    out.append("")
    out.append("capacity:")
    out.extend("  " + line for line in capacity_table(cloud.capacity()))
    return "\n".join(out)


def _squeeze(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def capacity_table(cap: dict) -> list[str]:
    from fakestack.cli import human_bytes

    rows = [("resource", "status", "used / total", "available")]
    for h in cap.get("hosts", []):
        rows.append(
            (
                f"host {h['name']} cpu",
                h["status"],
                f"{h['used_cpu']} / {h['total_cpu']}",
                str(h["available_cpu"]),
            )
        )
        rows.append(
            (
                f"host {h['name']} memory",
                "",
                f"{human_bytes(h['used_memory'])} / {human_bytes(h['total_memory'])}",
                human_bytes(h["available_memory"]),
            )
        )
    for p in cap.get("primary_storages", []):
        rows.append(
            (
                f"primary {p['name']} virtual",
                p["status"],
                f"{human_bytes(p['used_capacity'])} / {human_bytes(p['total_capacity'])}",
                human_bytes(p["available_capacity"]),
            )
        )
        rows.append(
            (
                f"primary {p['name']} physical",
                "",
                f"{human_bytes(p['used_physical_capacity'])} / {human_bytes(p['total_physical_capacity'])}",
                human_bytes(p["available_physical_capacity"]),
            )
        )
    for b in cap.get("backup_storages", []):
        rows.append(
            (
                f"backup {b['name']}",
                b["status"],
                f"{human_bytes(b['used_capacity'])} / {human_bytes(b['total_capacity'])}",
                human_bytes(b["available_capacity"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


# == scenario collection ====================================================================
# Every ``*.yaml`` / ``*.yml`` file in a folder named ``scenarios`` that pytest walks, and
# every scenario file under the paths of the ``fakestack_scenarios`` ini option (collected
# too in a run without explicit paths), becomes one test item: the scenario replayed in a
# fresh cloud, its readable diff as the failure message.
_SCENARIO_SUFFIXES = (".yaml", ".yml")


def _configured_scenario_roots(config):
    from pathlib import Path

    return [Path(p).resolve() for p in config.getini("fakestack_scenarios")]


def pytest_collect_file(file_path, parent):
    if file_path.suffix not in _SCENARIO_SUFFIXES:
        return None
    resolved = file_path.resolve()
    in_folder = file_path.parent.name == "scenarios"
    configured = any(
        resolved == root or root in resolved.parents for root in _configured_scenario_roots(parent.config)
    )
    if not (in_folder or configured):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFailed(Exception):
    """A scenario replay did not match (its message is the readable report)."""


class ScenarioFile(pytest.File):
    def collect(self):
        from fakestack import scenarios

        try:
            scenario = scenarios.load(self.path)
        except scenarios.ScenarioError as exc:
            yield ScenarioItem.from_parent(self, name=self.path.stem, scenario=None, error=str(exc))
            return
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario, error=None)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, error, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.error = error

    def runtest(self):
        import hashlib

        from fakestack import scenarios

        if self.error is not None:
            raise ScenarioFailed(self.error)
        result = scenarios.replay(self.scenario, source=str(self.path), base_dir=self.path.parent)
        digest = hashlib.sha256(result.transcript.encode()).hexdigest()
        self.user_properties.append(("fakestack_transcript_sha256", digest))
        if not result.passed:
            raise ScenarioFailed(result.report())

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"scenario: {self.name}"
