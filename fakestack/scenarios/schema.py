"""The scenario file format: a pydantic schema (with its JSON Schema), loading with
errors that name the step, line and field, and finding scenario files."""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..model import Cloud
from ..model.topology import parse_size

DEFAULT_CLOCK_START = "2026-01-01T00:00:00Z"
DEFAULT_BASE_URL = "http://localhost"
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")

# Simulator operations a scenario may call: every public operation of the model (the
# methods it journals) plus a few helpers that are not operations of their own.
_EXTRA_OPERATIONS = (
    "capacity",
    "job_state",
    "release_job",
    "check_invariants",
    "set_host_status",
    "set_host_state",
    "set_storage_status",
    "set_storage_state",
)


def model_operations() -> tuple[str, ...]:
    names = {
        name
        for name in dir(Cloud)
        if not name.startswith("_") and hasattr(getattr(Cloud, name), "operation_name")
    }
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
            raise ValueError(
                f"{field} must be epoch seconds or an ISO-8601 date such as "
                f"2026-01-01T00:00:00Z, got {value!r}"
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        return stamp.timestamp()
    raise ValueError(f"{field} must be epoch seconds or an ISO-8601 date, got {type(value).__name__}")


class HttpRequest(_Strict):
    """One HTTP request to the app (any dialect, or the ``/_fakestack`` admin API)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = Field(
        description="HTTP method (upper case)"
    )
    path: str = Field(
        min_length=1,
        description="a path (/zstack/v1/...) or a full URL, such as a saved job location; may hold ${var}",
    )
    query: dict[str, Any] = Field(
        default_factory=dict, description="query string parameters (a list value repeats the parameter)"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(
        default=None,
        alias="json",
        description="a JSON body (sent as application/json unless headers say otherwise)",
    )
    body: str | None = Field(default=None, description="a raw text body")
    base_url: str | None = Field(
        default=None, description="scheme and host for this request (default: the scenario's base_url)"
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("/") or value.startswith("${") or re.match(r"https?://", value)):
            raise ValueError(
                "must start with '/' (a path such as /zstack/v1/vm-instances), be a "
                "full http:// URL, or be a ${variable}"
            )
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
    subset: Any = Field(
        default=None,
        description="a part of the body or result: every key "
        "given must be there with this value (lists: same length, "
        "element by element)",
    )
    text: str | None = Field(default=None, description="the exact raw response text")
    error_code: str | None = Field(
        default=None,
        description="the dialect's error code "
        "(ZStack error.code, vAPI type, InstaVM detail) or, for an op, "
        "the domain error class (CapacityExhausted)",
    )
    ok: bool | None = Field(default=None, description="op steps: whether the operation succeeded")
    headers: dict[str, str] | None = Field(
        default=None, description="response headers that must be there with these values"
    )
    capacity: dict[str, Any] | None = Field(
        default=None,
        description="figures of "
        "cloud.capacity() after the step, by path: "
        "primary_storages.nfs-ps.available_capacity: 0",
    )
    dropped: bool | None = Field(default=None, description="the connection was dropped by a fault")

    @field_validator("capacity")
    @classmethod
    def _capacity_values(cls, value):
        if value is None:
            return value
        for path, figure in value.items():
            if len(path.split(".")) < 2:
                raise ValueError(
                    f"capacity path {path!r} needs a section and a figure, e.g. hosts.host-1.available_memory"
                )
            if isinstance(figure, str) and "${" not in figure:
                parse_size(figure)
        return value


class Step(_Strict):
    """One step: exactly one of ``http``, ``op``, ``fault``, ``clock``, ``write``."""

    name: str | None = Field(default=None, description="a label shown in reports")
    http: HttpRequest | None = None
    op: str | None = Field(
        default=None,
        description="a simulator operation: a public model "
        "operation such as clone_vm, create_vm_backup, write, or capacity, "
        "job_state, release_job, check_invariants",
    )
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of op")
    fault: FaultChange | None = None
    clock: ClockMove | None = None
    write: GuestWrite | None = None
    expect: Expect | None = None
    save: dict[str, str] = Field(
        default_factory=dict,
        description="variable -> path into the "
        "body/result (inventory.uuid, location, entries.0.vm.uuid); "
        "header:Name and status also work",
    )

    @model_validator(mode="after")
    def _one_action(self):
        actions = [k for k in ("http", "op", "fault", "clock", "write") if getattr(self, k) is not None]
        if len(actions) != 1:
            found = ", ".join(actions) if actions else "none"
            raise ValueError(f"a step has exactly one of http, op, fault, clock, write (found: {found})")
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
    topology: str | dict[str, Any] = Field(
        default="demo",
        description="a preset (demo, tiny, scale:H:V), a file relative to the scenario, or inline",
    )
    seed: int = 0
    clock_start: float | str = Field(
        default=DEFAULT_CLOCK_START, description="when the manual clock starts (epoch or ISO)"
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="scheme and host of requests")
    faults: list[dict[str, Any]] = Field(
        default_factory=list, description="fault rules active from the start (fakestack.faults)"
    )
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
    from .. import faults

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
            message = message[len("Value error, ") :]
        if message.startswith("Assertion failed, "):
            message = message[len("Assertion failed, ") :]
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
        raise ScenarioError(
            source, [f"a scenario is a mapping with name and steps, got {type(data).__name__}"]
        )
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


def load(path: str | os.PathLike[str]) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    return loads(text, str(path))


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Scenario files named by ``paths`` (files, or folders searched recursively), sorted
    within each folder; a missing path raises ``FileNotFoundError``."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix in SCENARIO_SUFFIXES
                    and p.name != "schema.json"
                    and not p.name.endswith(".transcript.json")
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such scenario file or folder: {path}")
    return found
