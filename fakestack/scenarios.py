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
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import io
import json
import math
import os
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .files import write_atomically
from .model import Cloud, DomainError, ManualClock
from .model.topology import parse_size

DEFAULT_CLOCK_START = "2026-01-01T00:00:00Z"
DEFAULT_BASE_URL = "http://localhost"
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
TRANSCRIPT_VERSION = 1

# Simulator operations a scenario may call: every public operation of the model (the
# methods it journals) plus a few helpers that are not operations of their own.
_EXTRA_OPERATIONS = ("capacity", "job_state", "release_job", "check_invariants", "set_host_status", "set_host_state",
                     "set_storage_status", "set_storage_state")


def model_operations() -> tuple[str, ...]:
    names = {name for name in dir(Cloud)
             if not name.startswith("_") and hasattr(getattr(Cloud, name), "operation_name")}
    names.update(n for n in _EXTRA_OPERATIONS if hasattr(Cloud, n))
    return tuple(sorted(names))


OPERATIONS = model_operations()


# -- the schema ----------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _epoch(value: Any, field: str) -> float:
    """An epoch number or an ISO-8601 date (``2026-01-01T00:00:00Z``) as epoch seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{field} must be epoch seconds or an ISO-8601 date, not a boolean")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"{field} must be finite")
        return float(value)
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return stamp.timestamp()
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{field} must be epoch seconds or an ISO-8601 date such as "
                             f"2026-01-01T00:00:00Z, got {value!r}") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        return stamp.timestamp()
    raise ValueError(f"{field} must be epoch seconds or an ISO-8601 date, got {type(value).__name__}")


class HttpRequest(_Strict):
    """One HTTP request to the app (any dialect, or the ``/_fakestack`` admin API)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = Field(
        description="HTTP method (upper case)")
    path: str = Field(min_length=1, description="a path (/zstack/v1/...) or a full URL, such as "
                      "a saved job location; may hold ${var}")
    query: dict[str, Any] = Field(default_factory=dict, description="query string parameters "
                                  "(a list value repeats the parameter)")
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json", description="a JSON body (sent as "
                           "application/json unless headers say otherwise)")
    body: str | None = Field(default=None, description="a raw text body")
    base_url: str | None = Field(default=None, description="scheme and host for this request "
                                 "(default: the scenario's base_url)")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("/") or value.startswith("${") or re.match(r"https?://", value)):
            raise ValueError("must start with '/' (a path such as /zstack/v1/vm-instances), be a "
                             "full http:// URL, or be a ${variable}")
        return value

    @model_validator(mode="after")
    def _one_body(self):
        if "json_body" in self.model_fields_set and self.body is not None:
            raise ValueError("give either json (a JSON body) or body (raw text), not both")
        return self


class ClockMove(_Strict):
    """Move the scenario's manual clock: ``tick`` seconds forward, or ``to`` a time."""

    tick: float | None = Field(default=None, ge=0, description="seconds to move forward")
    to: float | str | None = Field(default=None, description="epoch seconds or ISO-8601 date")

    @model_validator(mode="after")
    def _one(self):
        if (self.tick is None) == (self.to is None):
            raise ValueError("a clock step has exactly one of tick (seconds) or to (a time)")
        if self.to is not None:
            _epoch(self.to, "to")
        return self


class FaultChange(_Strict):
    """Change the active fault plan (rules as in ``fakestack.faults``)."""

    add: list[dict[str, Any]] | None = Field(default=None, description="rules to add")
    remove: list[str] | str | None = Field(default=None, description="rule ids to remove")
    clear: bool = Field(default=False, description="remove every rule")
    release: bool = Field(default=False, description="let every hung job finish now")

    @model_validator(mode="after")
    def _something(self):
        if not (self.add or self.remove or self.clear or self.release):
            raise ValueError("a fault step needs add, remove, clear or release")
        if self.add:
            _validate_rules(self.add)
        return self


class GuestWrite(_Strict):
    """Simulated guest writes: a volume's disk grows by ``bytes``."""

    volume: str | None = Field(default=None, description="volume uuid or name")
    vm: str | None = Field(default=None, description="VM uuid or name: writes to its root volume")
    bytes: int | str = Field(description="how much the guest writes: 1048576, 512M, 1G")

    @model_validator(mode="after")
    def _target(self):
        if (self.volume is None) == (self.vm is None):
            raise ValueError("a write step names exactly one of volume or vm")
        if not (isinstance(self.bytes, str) and "${" in self.bytes):
            parse_size(self.bytes)
        return self


class Expect(_Strict):
    """What a step must answer.  Only what is given is checked."""

    status: int | None = Field(default=None, ge=100, le=599, description="HTTP status")
    body: Any = Field(default=None, description="the exact body (HTTP) or result (op), as JSON")
    subset: Any = Field(default=None, description="a part of the body or result: every key "
                        "given must be there with this value (lists: same length, "
                        "element by element)")
    text: str | None = Field(default=None, description="the exact raw response text")
    error_code: str | None = Field(default=None, description="the dialect's error code "
                                   "(ZStack error.code, vAPI type, InstaVM detail) or, for an op, "
                                   "the domain error class (CapacityExhausted)")
    ok: bool | None = Field(default=None, description="op steps: whether the operation succeeded")
    headers: dict[str, str] | None = Field(default=None, description="response headers that must "
                                           "be there with these values")
    capacity: dict[str, Any] | None = Field(default=None, description="figures of "
                                            "cloud.capacity() after the step, by path: "
                                            "primary_storages.nfs-ps.available_capacity: 0")
    dropped: bool | None = Field(default=None, description="the connection was dropped by a fault")

    @field_validator("capacity")
    @classmethod
    def _capacity_values(cls, value):
        if value is None:
            return value
        for path, figure in value.items():
            if len(path.split(".")) < 2:
                raise ValueError(f"capacity path {path!r} needs a section and a figure, e.g. "
                                 "hosts.host-1.available_memory")
            if isinstance(figure, str) and "${" not in figure:
                parse_size(figure)
        return value


class Step(_Strict):
    """One step: exactly one of ``http``, ``op``, ``fault``, ``clock``, ``write``."""

    name: str | None = Field(default=None, description="a label shown in reports")
    http: HttpRequest | None = None
    op: str | None = Field(default=None, description="a simulator operation: a public model "
                           "operation such as clone_vm, create_vm_backup, write, or capacity, "
                           "job_state, release_job, check_invariants")
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of op")
    fault: FaultChange | None = None
    clock: ClockMove | None = None
    write: GuestWrite | None = None
    expect: Expect | None = None
    save: dict[str, str] = Field(default_factory=dict, description="variable -> path into the "
                                 "body/result (inventory.uuid, location, entries.0.vm.uuid); "
                                 "header:Name and status also work")

    @model_validator(mode="after")
    def _one_action(self):
        actions = [k for k in ("http", "op", "fault", "clock", "write") if getattr(self, k) is not None]
        if len(actions) != 1:
            found = ", ".join(actions) if actions else "none"
            raise ValueError("a step has exactly one of http, op, fault, clock, write "
                             f"(found: {found})")
        if self.op is not None and self.op not in OPERATIONS:
            close = difflib.get_close_matches(self.op, OPERATIONS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(OPERATIONS)})"
            raise ValueError(f"op: unknown simulator operation {self.op!r}{hint}")
        if self.args and self.op is None:
            raise ValueError("args belongs to an op step")
        for var in self.save:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
                raise ValueError(f"save: variable name {var!r} must be letters, digits and _")
        return self

    @property
    def kind(self) -> str:
        for k in ("http", "op", "fault", "clock", "write"):
            if getattr(self, k) is not None:
                return k
        return "?"  # pragma: no cover - the validator forbids it


class Scenario(_Strict):
    """A reproducible story: a cloud and the steps a client takes against it."""

    name: str = Field(min_length=1)
    description: str = Field(default="", description="what a client should learn from it")
    topology: str | dict[str, Any] = Field(default="demo", description="a preset (demo, tiny, "
                                           "scale:H:V), a file relative to the scenario, or inline")
    seed: int = 0
    clock_start: float | str = Field(default=DEFAULT_CLOCK_START,
                                     description="when the manual clock starts (epoch or ISO)")
    base_url: str = Field(default=DEFAULT_BASE_URL, description="scheme and host of requests")
    faults: list[dict[str, Any]] = Field(default_factory=list, description="fault rules active "
                                         "from the start (fakestack.faults)")
    variables: dict[str, Any] = Field(default_factory=dict, description="initial ${variables}")
    steps: list[Step] = Field(min_length=1)

    @field_validator("clock_start")
    @classmethod
    def _clock(cls, value):
        _epoch(value, "clock_start")
        return value

    @field_validator("faults")
    @classmethod
    def _faults(cls, value):
        if value:
            _validate_rules(value)
        return value

    @property
    def start_epoch(self) -> float:
        return _epoch(self.clock_start, "clock_start")


def _validate_rules(rules: list) -> None:
    from . import faults

    for i, rule in enumerate(rules):
        if _has_variable(rule):
            continue
        try:
            faults.FaultRule.model_validate(rule)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"fault rule {i}: {where + ': ' if where else ''}{first['msg']}") from None


def _has_variable(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_variable(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_variable(v) for v in value)
    return False


def json_schema() -> dict:
    """The JSON Schema of a scenario file (``scenarios/schema.json``)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "fakestack scenario"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


# -- loading -------------------------------------------------------------------------------
class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``problems`` are one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid scenario:\n" + "\n".join(f"  - {p}" for p in problems))


def _step_lines(text: str) -> list[int]:
    """1-based line of each step in a YAML text (empty when it cannot be told)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _describe_errors(exc: ValidationError, data: Any, lines: list[int]) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if message.startswith("Assertion failed, "):
            message = message[len("Assertion failed, "):]
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            index = loc[1]
            raw = data.get("steps", [])[index] if isinstance(data, dict) else None
            label = f"step {index + 1}"
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                label += f" ({raw['name']})"
            if index < len(lines):
                label += f", line {lines[index]}"
            field = ".".join(str(p) for p in loc[2:] if not _is_union_tag(p))
            problems.append(f"{label}: {field + ': ' if field else ''}{message}")
        else:
            field = ".".join(str(p) for p in loc if not _is_union_tag(p))
            problems.append(f"{field or 'scenario'}: {message}")
    return problems


def _is_union_tag(part: Any) -> bool:
    # pydantic names the union member it tried (``str``, ``dict[str,any]``, ``float``)
    return isinstance(part, str) and (part in ("str", "float", "int", "bool") or "[" in part)


def parse_scenario(data: Any, source: str = "<scenario>", text: str | None = None) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(source, [f"a scenario is a mapping with name and steps, got "
                                     f"{type(data).__name__}"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _describe_errors(exc, data, _step_lines(text or ""))) from None


def loads(text: str, source: str = "<scenario>") -> Scenario:
    """A scenario from YAML (or JSON) text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, [f"{where}not valid YAML: {problem}"]) from None
    return parse_scenario(data, source, text)


def load(path: "str | os.PathLike[str]") -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    return loads(text, str(path))


def discover(paths: Iterable["str | os.PathLike[str]"]) -> list[Path]:
    """Scenario files named by ``paths`` (files, or folders searched recursively), sorted
    within each folder; a missing path raises ``FileNotFoundError``."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix in SCENARIO_SUFFIXES
                                and p.name != "schema.json"
                                and not p.name.endswith(".transcript.json")))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such scenario file or folder: {path}")
    return found


# -- values: variables, paths, comparison --------------------------------------------------
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StepFailure(Exception):
    """A step did not do what the scenario says (the message is the readable diff)."""


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ``${name}`` in every string of ``value``."""
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return _lookup_var(whole.group(1), variables)
        return _VAR.sub(lambda m: _as_text(_lookup_var(m.group(1), variables)), value)
    if isinstance(value, dict):
        return {substitute(k, variables): substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    return value


def _lookup_var(name: str, variables: dict[str, Any]) -> Any:
    if name not in variables:
        known = ", ".join(sorted(variables)) or "none yet"
        raise StepFailure(f"variable ${{{name}}} is not set (saved so far: {known})")
    return variables[name]


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def resolve(document: Any, path: str) -> Any:
    """Follow a dotted path: keys, list indexes, and a list element by its ``name``
    (or ``key=value``).  Raises ``KeyError`` naming the part that was not found."""
    current = document
    walked: list[str] = []
    for part in path.split(".") if path else []:
        if isinstance(current, dict):
            if part not in current:
                raise KeyError(f"{'.'.join(walked) or 'the document'} has no key {part!r}"
                               f" (keys: {', '.join(map(str, current)) or 'none'})")
            current = current[part]
        elif isinstance(current, list):
            if re.fullmatch(r"-?\d+", part):
                index = int(part)
                if not -len(current) <= index < len(current):
                    raise KeyError(f"{'.'.join(walked) or 'the list'} has {len(current)} items, "
                                   f"no index {index}")
                current = current[index]
            else:
                key, _, wanted = part.partition("=") if "=" in part else ("name", "", part)
                match = [item for item in current
                         if isinstance(item, dict) and str(item.get(key)) == wanted]
                if not match:
                    raise KeyError(f"{'.'.join(walked) or 'the list'} has no item with "
                                   f"{key} {wanted!r}")
                current = match[0]
        else:
            raise KeyError(f"{'.'.join(walked) or 'the document'} is "
                           f"{type(current).__name__}, not an object or a list")
        walked.append(part)
    return current


def strict_equal(a: Any, b: Any) -> bool:
    """JSON equality that tells 1 from 1.0 from True (key order does not matter)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def subset_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset_matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            subset_matches(e, a) for e, a in zip(expected, actual))
    return strict_equal(expected, actual)


def project(expected: Any, actual: Any) -> Any:
    """``actual`` cut down to the shape of ``expected`` (so a diff shows only what matters)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: project(expected[k], actual[k]) if k in expected else actual[k]
                for k in actual if k in expected}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [project(e, a) for e, a in zip(expected, actual)]
    return actual


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


DIFF_LINES = 80


def text_diff(expected: Any, actual: Any, what: str) -> str:
    """A unified diff of the pretty JSON of both (cut after ``DIFF_LINES`` lines)."""
    exp = pretty(expected).splitlines()
    act = pretty(actual).splitlines()
    diff = list(difflib.unified_diff(exp, act, f"expected {what}", f"actual {what}",
                                     lineterm="", n=3))
    if len(diff) > DIFF_LINES:
        diff = diff[:DIFF_LINES] + [f"... ({len(diff) - DIFF_LINES} more diff lines)"]
    return "\n".join(diff)


def render_value(value: Any) -> Any:
    """A JSON-able rendering of what a model operation returned."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, DomainError):
        return {"error": type(value).__name__, **_jsonable(value.to_dict())}
    if isinstance(value, dict):
        return {str(k): render_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if hasattr(value, "_asdict"):
            return {k: render_value(v) for k, v in value._asdict().items()}
        return [render_value(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return render_value(to_dict())
    if dataclasses.is_dataclass(value):
        return {f.name: render_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return repr(value)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def error_code_of(body: Any) -> str | None:
    """The error code a dialect put in a body: ZStack ``error.code``, vAPI ``type`` /
    ``error_type``, FastAPI ``detail`` (text), the admin API's ``error``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error["code"]
    for key in ("error_type", "type"):
        if isinstance(body.get(key), str):
            return body[key]
    value = body.get("value")
    if isinstance(value, dict) and isinstance(value.get("error_type"), str):
        return value["error_type"]
    if isinstance(body.get("detail"), str):
        return body["detail"]
    if isinstance(error, str):
        return error
    return None


def _size(value: Any) -> Any:
    if isinstance(value, str):
        return parse_size(value)
    return value


# -- replay --------------------------------------------------------------------------------
@dataclasses.dataclass
class StepReport:
    index: int
    label: str
    kind: str
    passed: bool
    message: str = ""


@dataclasses.dataclass
class ReplayResult:
    scenario: Scenario
    source: str
    steps: list[StepReport]
    transcript_data: dict
    variables: dict[str, Any]
    cloud: Any = None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps) and len(self.steps) == len(self.scenario.steps)

    @property
    def failures(self) -> list[StepReport]:
        return [s for s in self.steps if not s.passed]

    @property
    def transcript(self) -> str:
        return transcript_text(self.transcript_data)

    def report(self) -> str:
        """The readable failure report (empty when the scenario passed)."""
        if self.passed:
            return ""
        lines = [f"scenario {self.scenario.name} ({self.source}) failed"]
        for failure in self.failures:
            lines.append(f"step {failure.index + 1} {failure.label} [{failure.kind}]:")
            lines.extend("  " + line for line in failure.message.splitlines())
        if len(self.steps) < len(self.scenario.steps):
            left = len(self.scenario.steps) - len(self.steps)
            lines.append(f"({left} later step{'s' if left != 1 else ''} not run)")
        return "\n".join(lines)


def transcript_text(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _topology_for(scenario: Scenario, base_dir: Path | None):
    topo = scenario.topology
    if isinstance(topo, str) and base_dir is not None:
        candidate = base_dir / topo
        if candidate.suffix in (".yaml", ".yml", ".json") and candidate.is_file():
            return str(candidate)
    return topo


def build_cloud(scenario: Scenario, base_dir: Path | None = None):
    """A fresh cloud for ``scenario``: its topology and seed, a manual clock at its start,
    its fault plan installed."""
    cloud = Cloud(_topology_for(scenario, base_dir), seed=scenario.seed,
                  clock=ManualClock(scenario.start_epoch))
    if scenario.faults:
        from . import faults

        faults.add(cloud, list(scenario.faults))
    return cloud


def _step_label(step: Step, index: int) -> str:
    if step.name:
        return step.name
    if step.http is not None:
        return f"{step.http.method} {step.http.path}"
    if step.op is not None:
        return f"op {step.op}"
    return step.kind


class _Runner:
    def __init__(self, scenario: Scenario, base_dir: Path | None) -> None:
        from werkzeug.test import Client

        from .app import make_app

        self.scenario = scenario
        self.cloud = build_cloud(scenario, base_dir)
        self.app = make_app(self.cloud)
        # No cookie jar: a step sends exactly the headers it lists (a recorded Cookie included).
        self.client = Client(self.app, use_cookies=False)
        self.variables: dict[str, Any] = dict(scenario.variables)

    # each action returns (record for the transcript, answer document for expect/save)
    def run_http(self, step: Step) -> tuple[dict, dict]:
        req = step.http
        path = substitute(req.path, self.variables)
        if not isinstance(path, str):
            raise StepFailure(f"http.path became {path!r}, not a string")
        query = substitute(req.query, self.variables)
        headers = {k: str(v) for k, v in substitute(req.headers, self.variables).items()}
        base_url = substitute(req.base_url or self.scenario.base_url, self.variables)
        data: bytes | None = None
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        sent_body: Any = None
        if "json_body" in req.model_fields_set:
            sent_body = substitute(req.json_body, self.variables)
            data = json.dumps(sent_body).encode()
            content_type = content_type or "application/json"
        elif req.body is not None:
            sent_body = substitute(req.body, self.variables)
            data = str(sent_body).encode()
        kwargs: dict[str, Any] = {"method": req.method, "headers": headers}
        if query:
            kwargs["query_string"] = {k: ([str(x) for x in v] if isinstance(v, list) else str(v))
                                      for k, v in query.items()}
        if data is not None:
            kwargs["data"] = data
            if content_type:
                kwargs["content_type"] = content_type
        if not re.match(r"https?://", path):
            kwargs["base_url"] = base_url
        record: dict[str, Any] = {"request": {"method": req.method, "path": path}}
        if query:
            record["request"]["query"] = kwargs["query_string"]
        if headers:
            record["request"]["headers"] = headers
        if sent_body is not None:
            record["request"]["body"] = sent_body
        try:
            from .faults import ConnectionDropped, DropConnection
            dropped_errors: tuple = (DropConnection, ConnectionDropped)
        except ImportError:  # pragma: no cover
            dropped_errors = ()
        try:
            response = self.client.open(path, **kwargs)
        except dropped_errors:
            record["response"] = {"dropped": True}
            return record, {"dropped": True, "status": None, "headers": {}, "body": None, "text": ""}
        text = response.get_data(as_text=True)
        body: Any = text
        is_json = response.mimetype == "application/json" or response.mimetype.endswith("+json")
        if is_json and text:
            try:
                body = json.loads(text)
            except ValueError:
                is_json = False
        headers_out = [f"{k}: {v}" for k, v in response.headers.items()]
        record["response"] = {"status": response.status_code, "headers": headers_out,
                              "body" if is_json else "text": body if is_json else text}
        answer = {"status": response.status_code, "headers": dict(response.headers.items()),
                  "body": body if is_json else (None if not text else text), "text": text,
                  "dropped": False}
        return record, answer

    def run_op(self, step: Step) -> tuple[dict, dict]:
        args = substitute(step.args, self.variables)
        record: dict[str, Any] = {"op": step.op, "args": args}
        try:
            with self.cloud.lock:
                result = getattr(self.cloud, step.op)(**args)
        except DomainError as exc:
            rendered = render_value(exc)
            record["error"] = rendered
            return record, {"ok": False, "error": exc, "body": rendered,
                            "error_code": type(exc).__name__}
        except Exception as exc:  # a wrong argument: the scenario's own mistake
            rendered = {"error": type(exc).__name__, "message": str(exc)}
            record["error"] = rendered
            return record, {"ok": False, "error": exc, "body": rendered, "crashed": True,
                            "error_code": type(exc).__name__}
        rendered = render_value(result)
        record["result"] = rendered
        return record, {"ok": True, "body": rendered}

    def run_fault(self, step: Step) -> tuple[dict, dict]:
        from . import faults

        change = step.fault
        record: dict[str, Any] = {"fault": {}}
        with self.cloud.lock:
            if change.clear:
                faults.clear(self.cloud)
                record["fault"]["clear"] = True
            if change.remove:
                ids = [change.remove] if isinstance(change.remove, str) else change.remove
                for rule_id in substitute(ids, self.variables):
                    try:
                        faults.remove(self.cloud, rule_id)
                    except KeyError:
                        raise StepFailure(f"fault.remove: no active rule {rule_id!r} (active: "
                                          f"{', '.join(r['id'] for r in faults.list_rules(self.cloud)) or 'none'})") from None
                record["fault"]["remove"] = ids
            if change.add:
                rules = substitute(change.add, self.variables)
                try:
                    added = faults.add(self.cloud, rules)
                except ValidationError as exc:
                    raise StepFailure(f"fault.add: {exc}") from None
                record["fault"]["add"] = [r.model_dump(mode="json", exclude_none=True) for r in added]
            if change.release:
                record["fault"]["released"] = faults.release(self.cloud)
            record["fault"]["active"] = [r["id"] for r in faults.list_rules(self.cloud)]
        return record, {"ok": True, "body": record["fault"]}

    def run_clock(self, step: Step) -> tuple[dict, dict]:
        move = step.clock
        with self.cloud.lock:
            if move.tick is not None:
                self.cloud.tick(move.tick)
            else:
                target = _epoch(substitute(move.to, self.variables), "to")
                if target < self.cloud.clock.now():
                    raise StepFailure(f"clock.to {move.to} is before the clock's time "
                                      f"{self.cloud.clock.now()}: the clock only moves forward")
                self.cloud.clock.move_to(target)
            now = self.cloud.clock.now()
        record = {"clock": {"tick": move.tick} if move.tick is not None else {"to": move.to},
                  "now": now}
        return record, {"ok": True, "body": {"now": now}}

    def run_write(self, step: Step) -> tuple[dict, dict]:
        w = step.write
        nbytes = _size(substitute(w.bytes, self.variables))
        record: dict[str, Any] = {"write": {}}
        with self.cloud.lock:
            try:
                if w.vm is not None:
                    vm_key = substitute(w.vm, self.variables)
                    record["write"]["vm"] = vm_key
                    vm = self.cloud.vms.get(vm_key)
                    volume = vm.root_volume_uuid
                else:
                    volume = substitute(w.volume, self.variables)
                    record["write"]["volume"] = volume
                record["write"]["bytes"] = nbytes
                grown = self.cloud.write(volume, nbytes)
            except DomainError as exc:
                rendered = render_value(exc)
                record["error"] = rendered
                return record, {"ok": False, "error": exc, "body": rendered,
                                "error_code": type(exc).__name__}
        record["result"] = {"grown": grown}
        return record, {"ok": True, "body": {"grown": grown}}

    # -- checks ----------------------------------------------------------------------
    def check(self, step: Step, answer: dict) -> list[str]:
        problems: list[str] = []
        if answer.get("crashed") and not (step.expect and step.expect.error_code):
            err = answer["error"]
            return [f"the operation could not run: {type(err).__name__}: {err}"]
        expect = step.expect
        if expect is None:
            return problems
        given = expect.model_fields_set
        exp = substitute(expect.model_dump(include=given), self.variables)
        if "dropped" in given and bool(answer.get("dropped")) != exp["dropped"]:
            problems.append(f"expected the connection {'to be' if exp['dropped'] else 'not to be'} "
                            "dropped")
        if answer.get("dropped") and "dropped" not in given:
            problems.append("the connection was dropped (a drop_connection fault fired)")
            return problems
        if "status" in given and answer.get("status") != exp["status"]:
            problems.append(f"expected status {exp['status']}, got {answer.get('status')}"
                            + _body_hint(answer))
        if "ok" in given:
            if step.kind in ("op", "write"):
                if answer.get("ok") != exp["ok"]:
                    if answer.get("ok"):
                        problems.append("expected the operation to fail, it succeeded")
                    else:
                        problems.append(f"expected the operation to succeed, it failed: "
                                        f"{pretty(answer['body'])}")
            else:
                status = answer.get("status") or 0
                if (200 <= status < 300) != exp["ok"]:
                    problems.append(f"expected {'a success' if exp['ok'] else 'an error'}, "
                                    f"got status {status}" + _body_hint(answer))
        if "error_code" in given:
            if step.kind in ("op", "write"):
                actual = answer.get("error_code")
            else:
                actual = error_code_of(answer.get("body"))
            if actual != exp["error_code"]:
                problems.append(f"expected error code {exp['error_code']!r}, got "
                                f"{actual!r}" + _body_hint(answer))
        if "headers" in given:
            headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
            for name, value in (exp["headers"] or {}).items():
                if headers.get(name.lower()) != value:
                    problems.append(f"expected header {name}: {value!r}, got "
                                    f"{headers.get(name.lower())!r}")
        if "text" in given and answer.get("text") != exp["text"]:
            problems.append(text_diff(exp["text"], answer.get("text"), "text"))
        if "body" in given and not strict_equal(exp["body"], answer.get("body")):
            problems.append("body differs:\n" + text_diff(exp["body"], answer.get("body"), "body"))
        if "subset" in given and not subset_matches(exp["subset"], answer.get("body")):
            shown = project(exp["subset"], answer.get("body"))
            problems.append("body does not contain the expected part:\n"
                            + text_diff(exp["subset"], shown, "part"))
        if "capacity" in given:
            table = self.cloud.capacity()
            for path, figure in (exp["capacity"] or {}).items():
                wanted = _size(figure)
                try:
                    actual = resolve(table, path)
                except KeyError as exc:
                    problems.append(f"capacity {path}: {exc.args[0]}")
                    continue
                if not strict_equal(wanted, actual):
                    problems.append(f"capacity {path}: expected {wanted}, got {actual}"
                                    + (f" (off by {actual - wanted:+d})"
                                       if isinstance(actual, int) and isinstance(wanted, int) else ""))
        return problems

    def save(self, step: Step, answer: dict) -> list[str]:
        problems = []
        for var, path in step.save.items():
            try:
                if path == "status":
                    value = answer.get("status")
                elif path.startswith("header:"):
                    name = path[len("header:"):].lower()
                    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
                    if name not in headers:
                        raise KeyError(f"the response has no header {path[7:]!r}")
                    value = headers[name]
                else:
                    value = resolve(answer.get("body"), path)
            except KeyError as exc:
                problems.append(f"save {var} from {path}: {exc.args[0]}")
                continue
            self.variables[var] = value
        return problems


def _body_hint(answer: dict) -> str:
    body = answer.get("body")
    if body is None:
        return ""
    text = pretty(body)
    if len(text) > 600:
        text = text[:600] + "\n..."
    return "\nbody:\n" + "\n".join("  " + line for line in text.splitlines())


def replay(scenario: "Scenario | str | os.PathLike[str]", *, source: str | None = None,
           base_dir: "str | os.PathLike[str] | None" = None,
           on_step: Callable[[int, int], None] | None = None,
           stop_on_failure: bool = True) -> ReplayResult:
    """Replay ``scenario`` (a model, or a file path) in a fresh cloud.

    Runs every step, checks its ``expect`` and ``save``; by default stops at the first
    failing step.  ``on_step(done, total)`` reports progress."""
    if not isinstance(scenario, Scenario):
        path = Path(scenario)
        source = source or str(path)
        base_dir = base_dir if base_dir is not None else path.parent
        scenario = load(path)
    source = source or "<scenario>"
    runner = _Runner(scenario, Path(base_dir) if base_dir is not None else None)
    actions = {"http": runner.run_http, "op": runner.run_op, "fault": runner.run_fault,
               "clock": runner.run_clock, "write": runner.run_write}
    entries: list[dict] = []
    reports: list[StepReport] = []
    total = len(scenario.steps)
    for index, step in enumerate(scenario.steps):
        label = _step_label(step, index)
        entry: dict[str, Any] = {"step": index + 1}
        if step.name:
            entry["name"] = step.name
        entry["kind"] = step.kind
        try:
            record, answer = actions[step.kind](step)
            entry.update(record)
            problems = runner.check(step, answer)
            problems += runner.save(step, answer)
            if step.save:
                entry["saved"] = {var: runner.variables.get(var) for var in step.save}
        except StepFailure as exc:
            problems = [str(exc)]
        entry["passed"] = not problems
        if problems:
            entry["problems"] = problems
        entries.append(entry)
        reports.append(StepReport(index, label, step.kind, not problems, "\n".join(problems)))
        if on_step is not None:
            on_step(index + 1, total)
        if problems and stop_on_failure:
            break
    state = json.dumps(runner.cloud.snapshot(), sort_keys=True, separators=(",", ":"),
                       default=str)
    data = {
        "transcript": TRANSCRIPT_VERSION,
        "scenario": scenario.name,
        "topology": runner.cloud.topology.name,
        "seed": scenario.seed,
        "clock_start": scenario.start_epoch,
        "steps": entries,
        "passed": all(r.passed for r in reports) and len(reports) == total,
        "final_clock": runner.cloud.clock.now(),
        "final_state_sha256": hashlib.sha256(state.encode()).hexdigest(),
    }
    return ReplayResult(scenario, source, reports, data, runner.variables, runner.cloud)


# -- writing scenarios ---------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dumps(scenario: "Scenario | dict") -> str:
    """YAML text of a scenario (what :func:`loads` reads back)."""
    data = scenario if isinstance(scenario, dict) else scenario_dict(scenario)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def scenario_dict(scenario: Scenario) -> dict:
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.setdefault("name", scenario.name)
    return data


def _topology_reference(cloud) -> str | dict:
    """A preset's name when the cloud was built from an unchanged preset, else inline."""
    from .model.topology import load_topology

    name = cloud.topology.name
    try:
        if load_topology(name) == cloud.topology:
            return name
    except Exception:
        pass
    return cloud.topology.model_dump(mode="json", exclude_defaults=True)


def bind_arguments(op: str, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``Cloud.<op>(*args, **kwargs)`` (for an op step)."""
    import inspect

    method = getattr(Cloud, op, None)
    if method is None:
        raise ValueError(f"unknown simulator operation {op!r}")
    signature = inspect.signature(method)
    bound = signature.bind(None, *args, **kwargs)
    named: dict[str, Any] = {}
    for index, (key, value) in enumerate(bound.arguments.items()):
        if index == 0:
            continue  # self
        kind = signature.parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise ValueError(f"{op}: extra positional arguments cannot be written as a step")
        else:
            named[key] = value
    return named


def _plain(value: Any) -> Any:
    """Model objects (entities with a uuid) as their uuid; tuples as lists."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    uuid = getattr(value, "uuid", None)
    if uuid is not None and not isinstance(value, (str, bytes)):
        return uuid
    return value


class Recorder:
    """Builds a scenario step by step, from Python.

    For code that drives a cloud directly (a hypothesis ``CloudStateMachine``, a test
    that wants to hand its reproduction to a colleague)::

        rec = Recorder.for_cloud(cloud, name="clone-until-full")
        rec.call("clone_vm", source="golden", names=["a", "b"])   # runs it and records it
        rec.tick(30)
        rec.write("golden", 512 * 1024**2, vm=True)
        rec.check_invariants()          # a step that fails on replay while the bug is there
        rec.save("failing-run.yaml")

    ``call`` / ``write`` / ``tick`` / ``add_faults`` do the thing on the cloud *and*
    record it, with the outcome as the step's expectation (success, or the domain error's
    class).  ``note_op`` and ``note_http`` only record (for code that already called).
    Build the recorder before the first change to the cloud: replay starts from the
    topology, the seed and the clock's time when the recorder was made.
    """

    def __init__(self, *, name: str = "recorded", description: str = "",
                 topology: "str | dict" = "demo", seed: int = 0,
                 clock_start: "float | str" = DEFAULT_CLOCK_START,
                 base_url: str = DEFAULT_BASE_URL, faults: list | None = None,
                 cloud=None) -> None:
        self.name = name
        self.description = description
        self.topology = topology
        self.seed = seed
        self.clock_start = clock_start
        self.base_url = base_url
        self.faults = list(faults or [])
        self.steps: list[dict] = []
        self.cloud = cloud

    @classmethod
    def for_cloud(cls, cloud, *, name: str = "recorded", description: str = "",
                  base_url: str = DEFAULT_BASE_URL) -> "Recorder":
        """A recorder for ``cloud`` as it is now (fresh from its topology: no operation
        run yet), with its fault plan."""
        plan = []
        if getattr(cloud, "faults", None) is not None:
            plan = [r.model_dump(mode="json", exclude_none=True) for r in cloud.faults.rules]
        return cls(name=name, description=description, topology=_topology_reference(cloud),
                   seed=cloud.seed, clock_start=_clock_text(cloud.clock.now()),
                   base_url=base_url, faults=plan, cloud=cloud)

    # -- steps that act and record -------------------------------------------------------
    def call(self, op: str, /, **args):
        """Run a model operation on the recorder's cloud and record it."""
        if self.cloud is None:
            raise ValueError("Recorder.call needs a cloud: use Recorder.for_cloud(cloud)")
        try:
            result = getattr(self.cloud, op)(**args)
        except DomainError as exc:
            self.note_op(op, args, error=exc)
            raise
        self.note_op(op, args)
        return result

    def write(self, target, nbytes: int, *, vm: bool = False) -> int:
        if self.cloud is None:
            raise ValueError("Recorder.write needs a cloud: use Recorder.for_cloud(cloud)")
        key = _plain(target)
        volume = self.cloud.vms.get(key).root_volume_uuid if vm else key
        step: dict[str, Any] = {"write": {"vm" if vm else "volume": key, "bytes": int(nbytes)}}
        try:
            grown = self.cloud.write(volume, nbytes)
        except DomainError as exc:
            step["expect"] = {"ok": False, "error_code": type(exc).__name__}
            self.steps.append(step)
            raise
        step["expect"] = {"ok": True}
        self.steps.append(step)
        return grown

    def tick(self, seconds: float) -> float:
        if self.cloud is not None:
            self.cloud.tick(seconds)
        self.steps.append({"clock": {"tick": seconds}})
        return self.cloud.clock.now() if self.cloud is not None else seconds

    def add_faults(self, *rules) -> list:
        from . import faults

        added = faults.add(self.cloud, *rules) if self.cloud is not None else []
        dumped = [r.model_dump(mode="json", exclude_none=True) for r in added] or [
            r if isinstance(r, dict) else r.model_dump(mode="json", exclude_none=True)
            for r in rules]
        self.steps.append({"fault": {"add": dumped}})
        return added

    def check_invariants(self, name: str = "invariants hold") -> None:
        """Record (and run) ``check_invariants``, expected to succeed: if the run broke an
        invariant, the saved scenario fails on this step until the bug is fixed."""
        step = {"name": name, "op": "check_invariants", "expect": {"ok": True}}
        self.steps.append(step)
        if self.cloud is not None:
            self.cloud.check_invariants()

    # -- steps that only record -----------------------------------------------------------
    def note_op(self, op: str, args: dict, *, error: BaseException | None = None,
                name: str | None = None) -> None:
        step: dict[str, Any] = {}
        if name:
            step["name"] = name
        step["op"] = op
        if args:
            step["args"] = _plain(args)
        if error is None:
            step["expect"] = {"ok": True}
        else:
            step["expect"] = {"ok": False, "error_code": type(error).__name__}
        self.steps.append(step)

    def note_http(self, method: str, path: str, *, headers: dict | None = None,
                  query: dict | None = None, json_body: Any = None, body: str | None = None,
                  status: int | None = None, response_body: Any = None,
                  response_text: str | None = None, base_url: str | None = None,
                  dropped: bool = False, has_json: bool = False) -> None:
        http: dict[str, Any] = {"method": method, "path": path}
        if base_url and base_url != self.base_url:
            http["base_url"] = base_url
        if query:
            http["query"] = query
        if headers:
            http["headers"] = headers
        if has_json or json_body is not None:
            http["json"] = json_body
        elif body is not None:
            http["body"] = body
        expect: dict[str, Any] = {}
        if dropped:
            expect["dropped"] = True
        else:
            if status is not None:
                expect["status"] = status
            if response_text is not None:
                expect["text"] = response_text
            else:
                expect["body"] = response_body
        self.steps.append({"http": http, "expect": expect})

    def note_call(self, op: str, /, *args, error: BaseException | None = None, **kwargs) -> None:
        """Record a model call made elsewhere, as it was written in Python: positional
        arguments are named from the ``Cloud`` method's signature.  ``op`` is the method
        name (``"clone_vm"``) or the bound method itself."""
        name = op if isinstance(op, str) else op.__name__
        self.note_op(name, bind_arguments(name, args, kwargs), error=error)

    def note_tick(self, seconds: float) -> None:
        self.steps.append({"clock": {"tick": seconds}})

    def note_faults(self, *rules, clear: bool = False) -> None:
        """Record fault rules added elsewhere (``clear``: the plan was cleared first)."""
        change: dict[str, Any] = {}
        if clear:
            change["clear"] = True
        dumped = [r if isinstance(r, dict) else r.model_dump(mode="json", exclude_none=True)
                  for r in rules]
        if dumped:
            change["add"] = dumped
        if change:
            self.steps.append({"fault": change})

    def note_clock_to(self, epoch: float) -> None:
        self.steps.append({"clock": {"to": epoch}})

    # -- output -----------------------------------------------------------------------------
    def as_dict(self) -> dict:
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data["topology"] = self.topology
        data["seed"] = self.seed
        data["clock_start"] = self.clock_start
        if self.base_url != DEFAULT_BASE_URL:
            data["base_url"] = self.base_url
        if self.faults:
            data["faults"] = self.faults
        data["steps"] = list(self.steps)
        return data

    def scenario(self) -> Scenario:
        return parse_scenario(self.as_dict(), f"<recorded {self.name}>")

    def dumps(self) -> str:
        return dumps(self.as_dict())

    def save(self, path: "str | os.PathLike[str]") -> Path:
        """Write the scenario (valid as soon as it has a step) to ``path``."""
        write_atomically(path, self.dumps())
        return Path(path)


def _clock_text(epoch: float) -> "str | float":
    """An ISO date when the time is a whole second (readable), else the exact epoch."""
    if float(epoch).is_integer():
        return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return float(epoch)


# Request headers that describe the transport or the client program, not the request.
_UNRECORDED_HEADERS = {"host", "content-length", "connection", "accept-encoding", "user-agent",
                       "keep-alive", "te", "transfer-encoding"}


class RecordingMiddleware:
    """WSGI middleware that records every request and response of ``app`` (a
    ``FakestackApp``) into ``recorder`` and rewrites ``path`` after each one.

    ``sync_clock``: the cloud must run on a ``ManualClock``; before each request the
    middleware moves it to the wall-clock time (milliseconds) and records that move, so
    that time passes as in a live server and the replay sees the same times.  Attribute
    reads fall through to ``app`` (``start_server(cloud, app=middleware)`` works)."""

    def __init__(self, app, recorder: Recorder, path: "str | os.PathLike[str] | None" = None,
                 *, sync_clock: bool = True, wall_clock: Callable[[], float] | None = None) -> None:
        self.app = app
        self.recorder = recorder
        self.path = Path(path) if path is not None else None
        self.sync_clock = sync_clock
        self._wall = wall_clock or _wall_time
        self.count = 0

    def __getattr__(self, name: str):
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request

        cloud = self.app.cloud
        with cloud.lock:
            if self.sync_clock:
                target = round(self._wall(), 3)
                if target > cloud.clock.now():
                    cloud.clock.move_to(target)
                    self.recorder.note_clock_to(target)
            request = Request(environ)
            raw = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
            captured: dict[str, Any] = {}

            def capture(status, headers, exc_info=None):
                captured["status"] = status
                captured["headers"] = headers
                return lambda data: captured.setdefault("written", []).append(data)

            try:
                result = self.app(environ, capture)
                try:
                    chunks = list(captured.get("written", [])) + [bytes(c) for c in result]
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except BaseException as exc:
                if _is_drop(exc):
                    self._note(request, raw, dropped=True)
                raise
            data = b"".join(chunks)
            self._note(request, raw, status=int(captured["status"].split()[0]),
                       headers=captured["headers"], data=data)
        start_response(captured["status"], captured["headers"])
        return [data]

    def _note(self, request, raw: bytes, *, status: int | None = None, headers=None,
              data: bytes = b"", dropped: bool = False) -> None:
        base_url = f"{request.scheme}://{request.host}"
        if not self.recorder.steps or all("http" not in s for s in self.recorder.steps):
            if self.recorder.base_url == DEFAULT_BASE_URL:
                self.recorder.base_url = base_url
        req_headers = {k: v for k, v in request.headers.items()
                       if k.lower() not in _UNRECORDED_HEADERS}
        query: dict[str, Any] = {}
        for key in request.args.keys():
            values = request.args.getlist(key)
            query[key] = values if len(values) > 1 else values[0]
        json_body, body_text, has_json = None, None, False
        if raw:
            text = raw.decode("utf-8", errors="replace")
            if request.mimetype == "application/json":
                try:
                    json_body, has_json = json.loads(text), True
                except ValueError:
                    body_text = text
            else:
                body_text = text
        response_body, response_text = None, None
        if not dropped:
            content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            text = data.decode("utf-8", errors="replace")
            if "json" in content_type.split(";")[0] and text:
                try:
                    response_body = json.loads(text)
                except ValueError:
                    response_text = text
            else:
                response_text = text
        self.recorder.note_http(request.method, request.path, headers=req_headers, query=query,
                                json_body=json_body, body=body_text, has_json=has_json,
                                status=status, response_body=response_body,
                                response_text=response_text, base_url=base_url, dropped=dropped)
        self.count += 1
        if self.path is not None:
            self.recorder.save(self.path)


def _is_drop(exc: BaseException) -> bool:
    try:
        from .faults import ConnectionDropped, DropConnection
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (DropConnection, ConnectionDropped))


def _wall_time() -> float:
    # Recording is the one place that follows the wall clock: it turns real time into
    # explicit clock steps, so that the replay needs none.
    return time.time()


def recording_cloud(topology="demo", seed: int = 0, *, start: float | None = None):
    """A cloud for ``serve --record``: a manual clock started at the current second."""
    start = float(int(_wall_time())) if start is None else start
    return Cloud(topology, seed=seed, clock=ManualClock(start))


def record_app(cloud, path: "str | os.PathLike[str]", *, name: str | None = None,
               description: str = "", sync_clock: bool = True,
               wall_clock: Callable[[], float] | None = None) -> RecordingMiddleware:
    """``make_app(cloud)`` wrapped so that what it serves is written to ``path`` as a
    scenario.  Make it before the first request (the recorder starts from the cloud as
    it is)."""
    from .app import make_app

    recorder = Recorder.for_cloud(cloud, name=name or Path(path).stem, description=description
                                  or "recorded by fakestack serve --record")
    middleware = RecordingMiddleware(make_app(cloud), recorder, path, sync_clock=sync_clock,
                                     wall_clock=wall_clock)
    recorder.save(path) if recorder.steps else None
    return middleware


# -- the replay command --------------------------------------------------------------------
class ProgressBar:
    """``[#####.....] 3/10 scenario-name`` on one line of a terminal (stderr)."""

    def __init__(self, total: int, stream=None, enabled: bool | None = None, width: int = 24) -> None:
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = enabled if enabled is not None else getattr(self.stream, "isatty", lambda: False)()
        self.width = width
        self._last = ""

    def show(self, done: float, label: str = "") -> None:
        if not self.enabled:
            return
        filled = int(self.width * min(done, self.total) / self.total)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {int(done)}/{self.total} {label}"[:100]
        pad = max(0, len(self._last) - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\r" + " " * len(self._last) + "\r")
            self.stream.flush()


def transcript_name(path: Path, roots: Sequence[Path]) -> str:
    """A file name for a scenario's transcript, unique within one run."""
    resolved = path.resolve()
    for root in roots:
        root = root.resolve()
        if root.is_dir() and root in resolved.parents:
            rel = resolved.relative_to(root).with_suffix("")
            return "__".join(rel.parts) + ".transcript.json"
    return path.stem + ".transcript.json"


def add_replay_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "replay", help="replay scenario files and report pass/fail",
        description="Replay each scenario (files, or folders searched for *.yaml) in a fresh "
                    "cloud; print a pass/fail table and a diff for each mismatch. Exit 0 only "
                    "when every scenario passes.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    parser.add_argument("--transcript", metavar="DIR",
                        help="write each scenario's transcript (JSON) into DIR")
    parser.add_argument("--progress", dest="progress", action="store_true", default=None,
                        help="always show the progress bar on stderr (default: on a terminal)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="never show the progress bar")


def cmd_replay(args) -> int:
    from .cli import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, table

    try:
        files = discover(args.paths)
    except FileNotFoundError as exc:
        print(f"fakestack: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not files:
        print(f"fakestack: no scenario files under {', '.join(args.paths)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out_dir = Path(args.transcript) if args.transcript else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    roots = [Path(p) for p in args.paths]
    bar = ProgressBar(len(files), enabled=args.progress)
    rows, details = [], []
    failed = 0
    for number, path in enumerate(files):
        bar.show(number, path.name)
        try:
            scenario = load(path)
        except ScenarioError as exc:
            failed += 1
            rows.append((str(path), "-", "-", "INVALID"))
            details.append(str(exc))
            continue

        def on_step(done, total, _n=number, _name=scenario.name):
            bar.show(_n + done / max(total, 1), _name)

        result = replay(scenario, source=str(path), base_dir=path.parent, on_step=on_step)
        passed_steps = sum(1 for s in result.steps if s.passed)
        rows.append((str(path), scenario.name, f"{passed_steps}/{len(scenario.steps)}",
                     "PASS" if result.passed else "FAIL"))
        if not result.passed:
            failed += 1
            details.append(result.report())
        if out_dir is not None:
            (out_dir / transcript_name(path, roots)).write_text(result.transcript, encoding="utf-8")
    bar.show(len(files))
    bar.close()
    print("\n".join(table(("FILE", "SCENARIO", "STEPS", "RESULT"), rows, indent="")))
    for detail in details:
        print()
        print(detail)
    print()
    print(f"{len(files) - failed} passed, {failed} failed")
    return EXIT_OK if failed == 0 else EXIT_FAILURE
