"""fakestack's pytest plugin (entry point ``pytest11: fakestack``).

Fixtures
    ``fakestack``         a fresh ``fakestack.Cloud`` per test
    ``fakestack_app``     its WSGI app (every dialect plus ``/_fakestack``)
    ``fakestack_client``  a ``werkzeug.test.Client`` on that app (no sockets)
    ``fakestack_server``  a live endpoint on 127.0.0.1 (ephemeral port), started once per
                          session and reset before each test: ``.url``, ``.cloud``, ``.app``

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
_MARKER_KEYS = ("topology", "seed", "clock")
_REPORT_LINES = 10


def pytest_addoption(parser):
    group = parser.getgroup("fakestack", "fakestack (a fake virtualization cloud)")
    group.addoption("--fakestack-seed", action="store", type=int, default=None,
                    dest="fakestack_seed", help="seed of every fakestack cloud in this run "
                    "(a test's @pytest.mark.fakestack(seed=...) still wins)")
    group.addoption("--fakestack-topology", action="store", default=None,
                    dest="fakestack_topology", help="topology preset or file for this run")
    parser.addini("fakestack_topology", "default topology of the fakestack fixtures "
                  "(preset name or file)", default=_DEFAULT_TOPOLOGY)
    parser.addini("fakestack_seed", "default seed of the fakestack fixtures", default="0")
    parser.addini("fakestack_clock", "manual (default) or system", default="manual")
    parser.addini("fakestack_report_lines", "requests and operations shown when a test "
                  "fails", default=str(_REPORT_LINES))
    parser.addini("fakestack_scenarios", "scenario files or folders collected as tests "
                  "(fakestack replay format)", type="paths", default=[])


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fakestack(topology=None, seed=None, clock=None): the topology (preset, file or dict), "
        "seed and clock (manual|system) of this test's fakestack cloud")
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
        from fakestack import Cloud, ManualClock

        if not self._reusable():
            return Cloud(self.topology, seed=self.seed,
                         clock=ManualClock() if self.clock == "manual" else None)
        return Cloud.restore(self.pristine())

    def pristine(self) -> dict:
        """The snapshot of this spec's new cloud.  A preset on the manual clock is built once
        per session and restored for each test (a restored cloud is a new object graph: no
        test sees another's state, fault plan or clock); anything else is built anew."""
        from fakestack import Cloud, ManualClock

        if not self._reusable():
            return self.build().snapshot()
        key = (self.topology, self.seed)
        dump = _PRISTINE.get(key)
        if dump is None:
            dump = _PRISTINE[key] = Cloud(self.topology, seed=self.seed, clock=ManualClock()).snapshot()
        return dump

    def _reusable(self) -> bool:
        # A preset name always means the same topology; a file may change during the run,
        # and the system clock stamps the entities with the time they were built.
        if self.clock != "manual" or not isinstance(self.topology, str):
            return False
        from fakestack.model.presets import preset

        return self.topology in _PRESET_NAMES or preset(self.topology) is not None


_PRISTINE: dict[tuple, dict] = {}  # (preset, seed) -> its new cloud's snapshot, this session
_PRESET_NAMES = frozenset(("demo", "tiny"))


def cloud_spec(node) -> CloudSpec:
    """The topology, seed and clock for ``node`` (marker > command line > ini > default)."""
    config = node.config
    marker = node.get_closest_marker("fakestack")
    wanted: dict[str, Any] = {}
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(
                f"{node.nodeid}: use keywords in @pytest.mark.fakestack(topology=..., seed=...)")
        unknown = sorted(set(marker.kwargs) - set(_MARKER_KEYS))
        if unknown:
            raise pytest.UsageError(f"{node.nodeid}: @pytest.mark.fakestack got unknown "
                                    f"argument {unknown[0]!r} (allowed: {', '.join(_MARKER_KEYS)})")
        wanted.update({k: v for k, v in marker.kwargs.items() if v is not None})
    topology = wanted.get("topology", config.getoption("fakestack_topology")
                          or config.getini("fakestack_topology") or _DEFAULT_TOPOLOGY)
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
        raise pytest.UsageError(f"{node.nodeid}: fakestack clock must be 'manual' or 'system', "
                                f"got {clock!r}")
    return CloudSpec(topology, seed, clock)


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
    request.addfinalizer(lambda: _forget(request.node))
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


@pytest.fixture(scope="session")
def _fakestack_live_server():
    from fakestack import Cloud, ManualClock
    from fakestack.server import start_server

    server = start_server(Cloud(_DEFAULT_TOPOLOGY, seed=0, clock=ManualClock()), "127.0.0.1", 0)
    yield server
    server.stop()


@pytest.fixture
def fakestack_server(request, _fakestack_live_server):
    """The session's live endpoint, reset to this test's cloud: ``.url``, ``.cloud``, ``.app``."""
    server = _fakestack_live_server
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
    except Exception as exc:  # the report must never hide the test's own failure
        text = f"(fakestack could not build its report: {type(exc).__name__}: {exc})"
    report.sections.append(("fakestack", text))


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
        outcome = (f"error {op['error'].get('kind')}: {op['error'].get('message')}" if "error" in op
                   else f"ok {json.dumps(op.get('ok'), default=str)}")
        out.append(f"  #{op['seq']} {op['operation']}({', '.join(x for x in (args, kwargs) if x)})"
                   f" -> {_squeeze(outcome)}")
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
        out.append(f"  {rule['id']}: {rule['match']}{resource} [{when}] -> {kind}"
                   f"{'(' + detail + ')' if detail else ''}: calls {rule['calls']}, hits {rule['hits']}")
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
        rows.append((f"host {h['name']} cpu", h["status"], f"{h['used_cpu']} / {h['total_cpu']}",
                     str(h["available_cpu"])))
        rows.append((f"host {h['name']} memory", "", f"{human_bytes(h['used_memory'])} / "
                     f"{human_bytes(h['total_memory'])}", human_bytes(h["available_memory"])))
    for p in cap.get("primary_storages", []):
        rows.append((f"primary {p['name']} virtual", p["status"],
                     f"{human_bytes(p['used_capacity'])} / {human_bytes(p['total_capacity'])}",
                     human_bytes(p["available_capacity"])))
        rows.append((f"primary {p['name']} physical", "",
                     f"{human_bytes(p['used_physical_capacity'])} / {human_bytes(p['total_physical_capacity'])}",
                     human_bytes(p["available_physical_capacity"])))
    for b in cap.get("backup_storages", []):
        rows.append((f"backup {b['name']}", b["status"],
                     f"{human_bytes(b['used_capacity'])} / {human_bytes(b['total_capacity'])}",
                     human_bytes(b["available_capacity"])))
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
    configured = any(resolved == root or root in resolved.parents
                     for root in _configured_scenario_roots(parent.config))
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
            yield ScenarioItem.from_parent(self, name=self.path.stem, scenario=None,
                                           error=str(exc))
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
