"""Chaos scenarios: a replayable file format, replay, record and transcripts.

A scenario is one YAML (or JSON) file: a cloud (topology, seed, clock start, fault plan)
and a list of steps.  Each step does one thing and may check what came back::

    name: clone-storm
    description: what a client should learn from this story
    topology: tiny
    seed: 0
    clock_start: "2026-01-01T00:00:00Z"
    faults: []                         # rules as in fakestack.faults
    steps:
      - name: log in
        http: {method: PUT, path: /zstack/v1/accounts/login, json: {...}}
        expect: {status: 200}
        save: {session: inventory.uuid}
      - op: clone_vm                   # a neutral simulator operation, called directly
        args: {source: golden, names: [a, b]}
        expect: {subset: {entries: [{name: a}, {name: b}]}}
      - fault: {add: [{match: vm.clone, effect: {type: exhaust, resource: host.memory}}]}
      - clock: {tick: 30}              # or {to: "2026-01-01T00:05:00Z"}
      - write: {vm: golden, bytes: 1G} # simulated guest writes
        expect: {capacity: {primary_storages.nfs-ps.available_physical_capacity: 0}}

``${name}`` in any string of a later step is replaced by a saved value (a whole-string
``${name}`` keeps the value's type).  :func:`replay` runs a scenario in a fresh cloud on a
:class:`~fakestack.model.ManualClock` through ``make_app(cloud)`` (HTTP steps) or the model
(operation steps) and returns a :class:`ReplayResult` whose ``transcript`` is a
deterministic JSON text of every request and response: replaying twice gives the same
bytes.  :class:`RecordingMiddleware` (``fakestack serve --record FILE``) and
:class:`Recorder` (for Python code such as a hypothesis state machine) write scenarios.

The package, one module per concept: ``schema`` (the file format, loading, finding
files), ``values`` (variables, paths, comparison), ``replaying`` (replay and transcripts),
``record`` (writing scenarios) and ``command`` (``fakestack replay``).  Everything public
is importable from ``fakestack.scenarios``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Each public name -> the module that defines it.  They load on first use, not with the
# package: ``fakestack serve`` declares the ``replay`` command without loading pydantic's
# scenario models.
_HOMES = {
    name: module
    for module, names in (
        (
            "schema",
            "ClockMove DEFAULT_BASE_URL DEFAULT_CLOCK_START discover Expect FaultChange "
            "GuestWrite HttpRequest json_schema json_schema_text load loads "
            "model_operations OPERATIONS parse_scenario Scenario SCENARIO_SUFFIXES "
            "ScenarioError Step",
        ),
        (
            "values",
            "DIFF_LINES error_code_of pretty project render_value resolve StepFailure "
            "strict_equal subset_matches substitute text_diff",
        ),
        ("replaying", "build_cloud replay ReplayResult StepReport transcript_text TRANSCRIPT_VERSION"),
        (
            "record",
            "bind_arguments dumps record_app Recorder recording_cloud RecordingMiddleware scenario_dict",
        ),
        ("command", "add_replay_command cmd_replay ProgressBar transcript_name"),
    )
    for name in names.split()
}

if TYPE_CHECKING:
    from .command import ProgressBar, add_replay_command, cmd_replay, transcript_name
    from .record import (
        Recorder,
        RecordingMiddleware,
        bind_arguments,
        dumps,
        record_app,
        recording_cloud,
        scenario_dict,
    )
    from .replaying import TRANSCRIPT_VERSION, ReplayResult, StepReport, build_cloud, replay, transcript_text
    from .schema import (
        DEFAULT_BASE_URL,
        DEFAULT_CLOCK_START,
        OPERATIONS,
        SCENARIO_SUFFIXES,
        ClockMove,
        Expect,
        FaultChange,
        GuestWrite,
        HttpRequest,
        Scenario,
        ScenarioError,
        Step,
        discover,
        json_schema,
        json_schema_text,
        load,
        loads,
        model_operations,
        parse_scenario,
    )
    from .values import (
        DIFF_LINES,
        StepFailure,
        error_code_of,
        pretty,
        project,
        render_value,
        resolve,
        strict_equal,
        subset_matches,
        substitute,
        text_diff,
    )


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    # Explicit imports (not importlib), so that readers and the import-layer test see them.
    if home == "schema":
        from . import schema as module
    elif home == "values":
        from . import values as module
    elif home == "replaying":
        from . import replaying as module
    elif home == "record":
        from . import record as module
    elif home == "command":
        from . import command as module
    else:
        raise AttributeError(f"module 'fakestack.scenarios' has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The package's names with those not loaded yet (for completion and ``help``)."""
    return sorted(set(globals()) | set(_HOMES))


__all__ = [
    "ClockMove",
    "DEFAULT_BASE_URL",
    "DEFAULT_CLOCK_START",
    "discover",
    "Expect",
    "FaultChange",
    "GuestWrite",
    "HttpRequest",
    "json_schema",
    "json_schema_text",
    "load",
    "loads",
    "model_operations",
    "OPERATIONS",
    "parse_scenario",
    "Scenario",
    "SCENARIO_SUFFIXES",
    "ScenarioError",
    "Step",
    "DIFF_LINES",
    "error_code_of",
    "pretty",
    "project",
    "render_value",
    "resolve",
    "StepFailure",
    "strict_equal",
    "subset_matches",
    "substitute",
    "text_diff",
    "build_cloud",
    "replay",
    "ReplayResult",
    "StepReport",
    "transcript_text",
    "TRANSCRIPT_VERSION",
    "bind_arguments",
    "dumps",
    "record_app",
    "Recorder",
    "recording_cloud",
    "RecordingMiddleware",
    "scenario_dict",
    "add_replay_command",
    "cmd_replay",
    "ProgressBar",
    "transcript_name",
]
