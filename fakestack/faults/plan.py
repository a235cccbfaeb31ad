"""The fault plan: rules as data (pydantic), their JSON shape, and the builders.

A :class:`FaultRule` is ``match`` (which operations), ``resource`` (which targets),
``when`` (which calls) and ``effect`` (what happens); a :class:`FaultPlan` is a list of
rules.  The builders (:func:`exhaust`, :func:`fail`, ...) make one rule each.  The
package docstring (``fakestack.faults``) describes the semantics.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EXHAUSTIBLE = (
    "host.cpu",
    "host.memory",
    "primary_storage.virtual",
    "primary_storage.physical",
    "backup_storage",
)
FAIL_KINDS = (
    "injected",
    "capacity_exhausted",
    "not_found",
    "invalid_state",
    "conflict",
    "invalid_argument",
    "unreachable",
    "timeout",
)
STORAGE_KINDS = ("host", "primary_storage", "backup_storage")

_MATCH = re.compile(r"^(?:[a-z][a-z0-9_]*:[A-Za-z0-9_.$*?\[\]]+|[a-z0-9_*?\[\]]+(?:\.[a-z0-9_*?\[\]]+)*)$")


# -- the plan --------------------------------------------------------------------------
class _Strict(BaseModel):
    # defer_build: built when a plan is first parsed, not by every import of the faults
    model_config = ConfigDict(extra="forbid", defer_build=True)


class When(_Strict):
    """Which matching calls fire (all given conditions must hold)."""

    nth: int | None = Field(default=None, ge=1, description="fire on the nth matching call only")
    after: int | None = Field(default=None, ge=0, description="fire on calls after the first n")
    every: int | None = Field(default=None, ge=1, description="fire on calls k, 2k, 3k, ...")
    times: int | None = Field(default=None, ge=1, description="fire at most m times")
    probability: float | None = Field(
        default=None, ge=0.0, le=1.0, description="fire with this probability (cloud's seeded RNG)"
    )

    def eligible(self, call: int) -> bool:
        """Whether the rule's ``call``-th matching call passes the counting conditions."""
        if self.nth is not None and call != self.nth:
            return False
        if self.after is not None and call <= self.after:
            return False
        if self.every is not None and call % self.every:
            return False
        return True


class ExhaustEffect(_Strict):
    type: Literal["exhaust"] = "exhaust"
    resource: Literal[
        "host.cpu", "host.memory", "primary_storage.virtual", "primary_storage.physical", "backup_storage"
    ]


class FailEffect(_Strict):
    type: Literal["fail"] = "fail"
    kind: Literal[
        "injected",
        "capacity_exhausted",
        "not_found",
        "invalid_state",
        "conflict",
        "invalid_argument",
        "unreachable",
        "timeout",
    ] = "injected"
    message: str = "injected failure"
    code: str | None = Field(default=None, description="a dialect error code, e.g. SYS.1006")


class LatencyEffect(_Strict):
    type: Literal["latency"] = "latency"
    seconds: float = Field(gt=0)


class HangEffect(_Strict):
    type: Literal["hang"] = "hang"


class StatusEffect(_Strict):
    kind: Literal["host", "primary_storage", "backup_storage"] | None = None
    target: str | None = Field(default=None, description="uuid or name; default: the call's own")

    @field_validator("target")
    @classmethod
    def _not_blank(cls, value):
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


class DisconnectEffect(StatusEffect):
    type: Literal["disconnect"] = "disconnect"


class ReconnectEffect(StatusEffect):
    type: Literal["reconnect"] = "reconnect"


class DropConnectionEffect(_Strict):
    type: Literal["drop_connection"] = "drop_connection"


Effect = Annotated[
    ExhaustEffect
    | FailEffect
    | LatencyEffect
    | HangEffect
    | DisconnectEffect
    | ReconnectEffect
    | DropConnectionEffect,
    Field(discriminator="type"),
]


class FaultRule(_Strict):
    id: str | None = Field(default=None, min_length=1, max_length=64)
    match: str = Field(min_length=1, max_length=200)
    resource: str | None = Field(default=None, min_length=1)
    when: When = Field(default_factory=When)
    effect: Effect

    @field_validator("match")
    @classmethod
    def _operation_name(cls, value: str) -> str:
        if not _MATCH.match(value):
            raise ValueError(
                "must be a neutral operation such as 'vm.clone' or a dialect "
                "operation such as 'zstack:CloneVmInstance' (wildcards * ? allowed)"
            )
        return value

    def matches(self, op: str) -> bool:
        if self.match == op:
            return True
        dialect_pattern = ":" in self.match
        if dialect_pattern != (":" in op):
            return False
        return fnmatch.fnmatchcase(op, self.match)


class FaultPlan(_Strict):
    rules: list[FaultRule] = Field(default_factory=list)


def parse_rules(data: Any) -> list[FaultRule]:
    """Rules from a plan (``{"rules": [...]}``), one rule, a list of rules, or models."""
    if isinstance(data, FaultRule):
        return [data]
    if isinstance(data, FaultPlan):
        return list(data.rules)
    if isinstance(data, dict) and "rules" in data:
        return list(FaultPlan.model_validate(data).rules)
    if isinstance(data, dict):
        return [FaultRule.model_validate(data)]
    if isinstance(data, (list, tuple)):
        if not data:
            return []
        return [r if isinstance(r, FaultRule) else FaultRule.model_validate(r) for r in data]
    raise TypeError(f"a fault rule or plan is a dict, a list or a model, not {type(data).__name__}")


def validation_errors(exc: ValidationError, prefix: str = "") -> list[dict]:
    """``[{"field": "rules.0.effect.exhaust.resource", "message": ...}]`` from pydantic."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        out.append(
            {"field": f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body", "message": err["msg"]}
        )
    return out


# -- builders --------------------------------------------------------------------------
def _rule(match: str, effect: dict, resource: str | None, when: dict, rule_id: str | None) -> FaultRule:
    return FaultRule.model_validate(
        {
            "id": rule_id,
            "match": match,
            "resource": resource,
            "when": {k: v for k, v in when.items() if v is not None},
            "effect": effect,
        }
    )


def exhaust(match: str, resource: str, *, on: str | None = None, id: str | None = None, **when) -> FaultRule:
    """``exhaust("vm.clone", "host.cpu", nth=2)``: the 2nd clone finds no host CPU."""
    return _rule(match, {"type": "exhaust", "resource": resource}, on, when, id)


def fail(
    match: str,
    message: str = "injected failure",
    *,
    kind: str = "injected",
    code: str | None = None,
    on: str | None = None,
    id: str | None = None,
    **when,
) -> FaultRule:
    return _rule(match, {"type": "fail", "kind": kind, "message": message, "code": code}, on, when, id)


def latency(match: str, seconds: float, *, on: str | None = None, id: str | None = None, **when) -> FaultRule:
    return _rule(match, {"type": "latency", "seconds": seconds}, on, when, id)


def hang(match: str, *, on: str | None = None, id: str | None = None, **when) -> FaultRule:
    return _rule(match, {"type": "hang"}, on, when, id)


def disconnect(
    match: str,
    target: str | None = None,
    *,
    kind: str | None = None,
    on: str | None = None,
    id: str | None = None,
    **when,
) -> FaultRule:
    return _rule(match, {"type": "disconnect", "target": target, "kind": kind}, on, when, id)


def reconnect(
    match: str,
    target: str | None = None,
    *,
    kind: str | None = None,
    on: str | None = None,
    id: str | None = None,
    **when,
) -> FaultRule:
    return _rule(match, {"type": "reconnect", "target": target, "kind": kind}, on, when, id)


def drop_connection(match: str, *, on: str | None = None, id: str | None = None, **when) -> FaultRule:
    return _rule(match, {"type": "drop_connection"}, on, when, id)
