"""Fault plans: rules that make chosen operations fail, slow down, hang or lose their host.

A plan is data (pydantic), so the same plan can be built in Python, posted to
``/_fakestack/faults``, written in a scenario file or drawn by a hypothesis strategy::

    from fakestack import faults

    faults.add(cloud, faults.exhaust("vm.clone", "host.cpu", nth=2))
    with faults.inject(cloud, faults.fail("backup.create", message="disk on fire")):
        ...

A rule has three parts:

* ``match``: a neutral operation (``vm.clone``, ``vm.create``, ``backup.create``,
  ``volume.write``...) or a dialect operation (``zstack:CloneVmInstance``); shell-style
  wildcards are allowed (``vm.*``, ``zstack:*``).  ``resource`` narrows it to calls whose
  targets name that uuid or name (a VM, host, storage, image, or a clone's new name).
* ``when``: ``nth`` call only, every call ``after`` the first n, ``every`` k-th call, at
  most ``times`` fires, with ``probability`` p drawn from the cloud's seeded fault RNG
  (``cloud.fault_rng``, a stream apart from placement's, so a rule never moves VMs).  The
  conditions combine (all must hold); with none, every matching call fires.  Calls are
  counted per rule, after the ``resource`` filter.
* ``effect`` (``type``): ``exhaust`` a resource (the operation then fails exactly where a
  real shortage fails, with the same error; an operation that allocates none of that
  resource is not affected, though the hit counts), ``fail`` with a neutral error, add job
  ``latency``, ``hang`` the job until the rule is removed (or ``release`` is called),
  ``disconnect`` / ``reconnect`` a host, primary or backup storage (the change sticks even
  when the operation fails), ``drop_connection`` (server mode: the socket closes without a
  response; in process the caller gets ``ConnectionDropped``).

Where rules are evaluated
-------------------------
The model calls ``cloud.faults.on_operation(cloud, op, targets)`` at each neutral
operation's fault point.  Dialects add their own operations with one line at the start
of each API handler, before any model call::

    fakestack.faults.dialect_point(cloud, "zstack:CloneVmInstance", {"vm": uuid, "names": names})

It raises the rule's error (a ``DomainError``, which the dialect renders like any model
error) or ``DropConnection``; ``exhaust``, ``latency`` and ``hang`` are carried to the next
model operation of the same request, so that the shortage surfaces at the real place.

Server mode: ``DropConnection`` derives from ``BaseException`` so that no dialect's
catch-all turns it into a 500; wrap the WSGI app with :func:`connection_dropping` (or
call :func:`abort_connection` where the app catches it) so that the socket is closed.

State: the plan and its hit counts live on the ``FaultInjector`` installed as
``cloud.faults``.  They are *not* part of ``cloud.snapshot()`` (a snapshot is the cloud's
state, a plan is a test's intent); ``Cloud.reset()`` keeps the injector.  Persist a plan
with ``injector.plan().model_dump()`` and load it with ``install(cloud, plan)``.
"""
from __future__ import annotations

import fnmatch
import re
import socket
from contextlib import contextmanager
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from .model import errors as domain
from .model.cloud import FaultEffects

__all__ = [
    "ConnectionDropped", "DropConnection", "FaultInjector", "FaultPlan", "FaultRule", "When",
    "abort_connection", "add", "clear", "connection_dropping", "dialect_point", "disconnect",
    "drop_connection", "exhaust", "fail", "hang", "inject", "injector", "install", "latency",
    "list_rules", "reconnect", "release", "remove", "validation_errors",
]

EXHAUSTIBLE = ("host.cpu", "host.memory", "primary_storage.virtual",
               "primary_storage.physical", "backup_storage")
FAIL_KINDS = ("injected", "capacity_exhausted", "not_found", "invalid_state", "conflict",
              "invalid_argument", "unreachable", "timeout")
STORAGE_KINDS = ("host", "primary_storage", "backup_storage")

_MATCH = re.compile(r"^(?:[a-z][a-z0-9_]*:[A-Za-z0-9_.$*?\[\]]+|[a-z0-9_*?\[\]]+(?:\.[a-z0-9_*?\[\]]+)*)$")


class DropConnection(BaseException):
    """Raised at a fault point whose rule drops the connection.  A ``BaseException`` so that
    dialects' catch-all error handlers let it through to the server."""


class ConnectionDropped(ConnectionAbortedError):
    """What an in-process caller sees when a rule dropped its connection."""


# -- the plan --------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class When(_Strict):
    """Which matching calls fire (all given conditions must hold)."""

    nth: int | None = Field(default=None, ge=1, description="fire on the nth matching call only")
    after: int | None = Field(default=None, ge=0, description="fire on calls after the first n")
    every: int | None = Field(default=None, ge=1, description="fire on calls k, 2k, 3k, ...")
    times: int | None = Field(default=None, ge=1, description="fire at most m times")
    probability: float | None = Field(default=None, ge=0.0, le=1.0,
                                      description="fire with this probability (cloud's seeded RNG)")

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
    resource: Literal["host.cpu", "host.memory", "primary_storage.virtual",
                      "primary_storage.physical", "backup_storage"]


class FailEffect(_Strict):
    type: Literal["fail"] = "fail"
    kind: Literal["injected", "capacity_exhausted", "not_found", "invalid_state", "conflict",
                  "invalid_argument", "unreachable", "timeout"] = "injected"
    message: str = "injected failure"
    code: str | None = Field(default=None, description="a dialect error code, e.g. SYS.1006")


class LatencyEffect(_Strict):
    type: Literal["latency"] = "latency"
    seconds: float = Field(gt=0)


class HangEffect(_Strict):
    type: Literal["hang"] = "hang"


class _StatusEffect(_Strict):
    kind: Literal["host", "primary_storage", "backup_storage"] | None = None
    target: str | None = Field(default=None, description="uuid or name; default: the call's own")

    @field_validator("target")
    @classmethod
    def _not_blank(cls, value):
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value


class DisconnectEffect(_StatusEffect):
    type: Literal["disconnect"] = "disconnect"


class ReconnectEffect(_StatusEffect):
    type: Literal["reconnect"] = "reconnect"


class DropConnectionEffect(_Strict):
    type: Literal["drop_connection"] = "drop_connection"


Effect = Annotated[
    Union[ExhaustEffect, FailEffect, LatencyEffect, HangEffect, DisconnectEffect,
          ReconnectEffect, DropConnectionEffect],
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
            raise ValueError("must be a neutral operation such as 'vm.clone' or a dialect "
                             "operation such as 'zstack:CloneVmInstance' (wildcards * ? allowed)")
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


_RULES = TypeAdapter(Union[FaultPlan, FaultRule, list[FaultRule]])


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
        out.append({"field": f"{prefix}{loc}" if loc else prefix.rstrip(".") or "body",
                    "message": err["msg"]})
    return out


# -- builders --------------------------------------------------------------------------
def _rule(match: str, effect: dict, resource: str | None, when: dict, rule_id: str | None) -> FaultRule:
    return FaultRule.model_validate({"id": rule_id, "match": match, "resource": resource,
                                     "when": {k: v for k, v in when.items() if v is not None},
                                     "effect": effect})


def exhaust(match: str, resource: str, *, on: str | None = None, id: str | None = None,
            **when) -> FaultRule:
    """``exhaust("vm.clone", "host.cpu", nth=2)``: the 2nd clone finds no host CPU."""
    return _rule(match, {"type": "exhaust", "resource": resource}, on, when, id)


def fail(match: str, message: str = "injected failure", *, kind: str = "injected",
         code: str | None = None, on: str | None = None, id: str | None = None,
         **when) -> FaultRule:
    return _rule(match, {"type": "fail", "kind": kind, "message": message, "code": code}, on, when, id)


def latency(match: str, seconds: float, *, on: str | None = None, id: str | None = None,
            **when) -> FaultRule:
    return _rule(match, {"type": "latency", "seconds": seconds}, on, when, id)


def hang(match: str, *, on: str | None = None, id: str | None = None, **when) -> FaultRule:
    return _rule(match, {"type": "hang"}, on, when, id)


def disconnect(match: str, target: str | None = None, *, kind: str | None = None,
               on: str | None = None, id: str | None = None, **when) -> FaultRule:
    return _rule(match, {"type": "disconnect", "target": target, "kind": kind}, on, when, id)


def reconnect(match: str, target: str | None = None, *, kind: str | None = None,
              on: str | None = None, id: str | None = None, **when) -> FaultRule:
    return _rule(match, {"type": "reconnect", "target": target, "kind": kind}, on, when, id)


def drop_connection(match: str, *, on: str | None = None, id: str | None = None,
                    **when) -> FaultRule:
    return _rule(match, {"type": "drop_connection"}, on, when, id)


# -- the injector ----------------------------------------------------------------------
class _Active:
    __slots__ = ("rule", "calls", "hits")

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.calls = 0
        self.hits = 0

    def to_dict(self) -> dict:
        data = self.rule.model_dump(mode="json", exclude_none=True)
        data["when"] = self.rule.when.model_dump(mode="json", exclude_none=True)
        data["calls"] = self.calls
        data["hits"] = self.hits
        return data


class FaultInjector:
    """The active plan of one cloud (installed as ``cloud.faults``), with hit counts."""

    def __init__(self) -> None:
        self._rules: dict[str, _Active] = {}
        self._next_id = 1
        # Effects a dialect point passes on to the request's first model fault point,
        # valid only while no operation has been journaled since.
        self._carry: FaultEffects | None = None
        self._carry_seq = -1

    # -- managing rules ------------------------------------------------------------------
    def add(self, rules) -> list[FaultRule]:
        """Add one rule, a list or a plan; returns the rules as stored (ids assigned)."""
        parsed = parse_rules(rules)
        taken = set(self._rules)
        stored = []
        for rule in parsed:
            rule_id = rule.id
            if rule_id is None:
                while f"f{self._next_id}" in taken:
                    self._next_id += 1
                rule_id = f"f{self._next_id}"
                self._next_id += 1
            elif rule_id in taken:
                raise domain.Conflict("fault rule", rule_id, f"fault rule [{rule_id}] already exists")
            taken.add(rule_id)
            stored.append(rule.model_copy(update={"id": rule_id}))
        for rule in stored:
            self._rules[rule.id] = _Active(rule)
        return stored

    def remove(self, rule_id: str, cloud=None) -> FaultRule:
        """Remove one rule (by id); a removed ``hang`` rule releases hung jobs (with ``cloud``)."""
        active = self._rules.pop(rule_id, None)
        if active is None:
            raise domain.NotFound("fault rule", rule_id)
        if cloud is not None and active.rule.effect.type == "hang":
            release(cloud)
        return active.rule

    def clear(self, cloud=None) -> None:
        had_hang = any(a.rule.effect.type == "hang" for a in self._rules.values())
        self._rules.clear()
        self._carry = None
        if cloud is not None and had_hang:
            release(cloud)

    def rules(self) -> list[FaultRule]:
        return [a.rule for a in self._rules.values()]

    def plan(self) -> FaultPlan:
        return FaultPlan(rules=self.rules())

    def hits(self, rule_id: str) -> int:
        try:
            return self._rules[rule_id].hits
        except KeyError:
            raise domain.NotFound("fault rule", rule_id) from None

    def calls(self, rule_id: str) -> int:
        try:
            return self._rules[rule_id].calls
        except KeyError:
            raise domain.NotFound("fault rule", rule_id) from None

    def report(self) -> list[dict]:
        """Every rule as JSON with its ``calls`` (matching calls seen) and ``hits`` (fired)."""
        return [a.to_dict() for a in self._rules.values()]

    def __len__(self) -> int:
        return len(self._rules)

    def __bool__(self) -> bool:  # an injector without rules is still installed
        return True

    # -- evaluation ----------------------------------------------------------------------
    def _fired(self, cloud, op: str, targets: dict) -> list[FaultRule]:
        fired = []
        names = None
        for active in list(self._rules.values()):
            rule = active.rule
            if not rule.matches(op):
                continue
            if rule.resource is not None:
                if names is None:
                    names = _target_values(targets)
                if not _resource_matches(cloud, rule.resource, names):
                    continue
            active.calls += 1
            when = rule.when
            if not when.eligible(active.calls):
                continue
            if when.times is not None and active.hits >= when.times:
                continue
            if when.probability is not None and cloud.fault_rng.random() >= when.probability:
                continue
            active.hits += 1
            fired.append(rule)
        return fired

    def _effects(self, cloud, op: str, targets: dict, fired: list[FaultRule]) -> FaultEffects | None:
        effects = FaultEffects()
        drop = False
        for rule in fired:
            effect = rule.effect
            if effect.type == "exhaust":
                if effect.resource not in effects.exhaust:
                    effects.exhaust = effects.exhaust + (effect.resource,)
            elif effect.type == "fail":
                if effects.error is None:
                    effects.error = _error_for(effect, op, targets)
            elif effect.type == "latency":
                effects.latency += effect.seconds
            elif effect.type == "hang":
                effects.hang = True
            elif effect.type in ("disconnect", "reconnect"):
                _set_status(cloud, effect, targets)
            elif effect.type == "drop_connection":
                drop = True
        if drop:
            raise DropConnection(f"fault plan dropped the connection at {op}")
        if effects.error is None and not effects.exhaust and not effects.latency and not effects.hang:
            return None
        return effects

    def on_operation(self, cloud, op: str, targets: dict) -> FaultEffects | None:
        """Called by the model at each operation's fault point."""
        carried = self._take_carry(cloud)
        effects = self._effects(cloud, op, targets, self._fired(cloud, op, targets)) if self._rules else None
        if carried is None:
            return effects
        if effects is None:
            return carried
        return FaultEffects(error=effects.error or carried.error,
                            exhaust=tuple(dict.fromkeys(carried.exhaust + effects.exhaust)),
                            latency=carried.latency + effects.latency,
                            hang=carried.hang or effects.hang)

    def on_dialect_operation(self, cloud, op: str, targets: dict) -> FaultEffects | None:
        """A dialect operation's fault point: raise the error now, carry the rest."""
        self._carry = None
        if not self._rules:
            return None
        effects = self._effects(cloud, op, targets, self._fired(cloud, op, targets))
        if effects is None:
            return None
        if effects.error is not None:
            raise effects.error
        self._carry = effects
        self._carry_seq = cloud.journal_seq
        return effects

    def _take_carry(self, cloud) -> FaultEffects | None:
        carried, self._carry = self._carry, None
        if carried is not None and cloud.journal_seq == self._carry_seq:
            return carried
        return None


def _target_values(targets: dict) -> list[str]:
    out: list[str] = []
    for value in targets.values():
        if isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, str))
        elif isinstance(value, str):
            out.append(value)
        elif value is not None and isinstance(getattr(value, "uuid", None), str):
            out.append(value.uuid)
    return out


_NAMED = ("vms", "hosts", "primary_storages", "backup_storages", "images", "volumes",
          "clusters", "zones", "l3_networks", "volume_snapshots")


def _resource_matches(cloud, resource: str, values: list[str]) -> bool:
    if resource in values:
        return True
    # A name filter also matches the uuids of the entities with that name.
    for attr in _NAMED:
        collection = getattr(cloud, attr, None)
        if collection is None:
            continue
        for entity in collection.by_name(resource):
            if entity.uuid in values:
                return True
    return False


def _error_for(effect: FailEffect, op: str, targets: dict) -> domain.DomainError:
    first = next((v for v in _target_values(targets)), "")
    message = effect.message
    kind = effect.kind
    if kind == "injected":
        return domain.InjectedFailure(op, message, code=effect.code)
    if kind == "capacity_exhausted":
        exc: domain.DomainError = domain.CapacityExhausted("host", 0, 0, injected=True, message=message)
    elif kind == "not_found":
        exc = domain.NotFound(op.split(".")[0].split(":")[-1], first, message=message)
    elif kind == "invalid_state":
        exc = domain.InvalidState(op.split(".")[0].split(":")[-1], first, "Unknown", op, message=message)
    elif kind == "conflict":
        exc = domain.Conflict(op.split(".")[0].split(":")[-1], first, message=message)
    elif kind == "invalid_argument":
        exc = domain.InvalidArgument("uuid", message, message=message)
    elif kind == "unreachable":
        exc = domain.Unreachable(op.split(".")[0].split(":")[-1], first, message=message)
    else:
        exc = domain.Timeout(op, 0.0, message=message)
    if effect.code is not None:
        exc.code = effect.code
    return exc


def _find_store(cloud, kind: str | None, key: str):
    kinds = (kind,) if kind else STORAGE_KINDS
    for k in kinds:
        collection = cloud.hosts if k == "host" else getattr(cloud, k + "s")
        found = collection.find(key)
        if found is not None:
            return k, found
    return None, None


def _set_status(cloud, effect: _StatusEffect, targets: dict) -> None:
    status = "Disconnected" if effect.type == "disconnect" else "Connected"
    kind, store = None, None
    if effect.target is not None:
        kind, store = _find_store(cloud, effect.kind, effect.target)
        if store is None:
            raise domain.NotFound(effect.kind or "host or storage", effect.target)
    else:
        for key in ((effect.kind,) if effect.kind else STORAGE_KINDS):
            value = targets.get(key)
            if isinstance(value, str):
                kind, store = _find_store(cloud, key, value)
                if store is not None:
                    break
        if store is None:
            return  # nothing of that kind in this call: nothing to disconnect
    # The change must stick even when the operation it interrupts rolls back: run it
    # outside the open transaction (its own journal entry when no operation is open).
    with cloud.durable():
        if kind == "host":
            cloud.set_host_status(store, status)
        else:
            cloud.set_storage_status(store, status)


# -- module-level API ------------------------------------------------------------------
def injector(cloud) -> FaultInjector:
    """The cloud's injector, installed on first use."""
    current = cloud.faults
    if current is None:
        current = cloud.faults = FaultInjector()
    return current


def install(cloud, plan=None) -> FaultInjector:
    """Install a fresh injector on ``cloud`` (replacing any plan), optionally with ``plan``."""
    fresh = FaultInjector()
    if plan is not None:
        fresh.add(plan)
    with cloud.lock:
        cloud.faults = fresh
    return fresh


def add(cloud, *rules) -> list[FaultRule]:
    """Add rules (``FaultRule``, dicts, lists or a ``FaultPlan``); returns them with ids."""
    parsed = [r for item in rules for r in parse_rules(item)]
    with cloud.lock:  # a live server may be evaluating rules on another thread
        return injector(cloud).add(parsed)


def remove(cloud, rule) -> FaultRule:
    rule_id = rule.id if isinstance(rule, FaultRule) else rule
    with cloud.lock:
        return injector(cloud).remove(rule_id, cloud)


def clear(cloud) -> None:
    with cloud.lock:
        if cloud.faults is not None:
            cloud.faults.clear(cloud)


def list_rules(cloud) -> list[dict]:
    """Every active rule with its ``calls`` and ``hits``."""
    with cloud.lock:
        return [] if cloud.faults is None else cloud.faults.report()


def hits(cloud, rule) -> int:
    return injector(cloud).hits(rule.id if isinstance(rule, FaultRule) else rule)


@contextmanager
def inject(cloud, *rules):
    """``with inject(cloud, rule, ...) as added:`` rules active inside the block only."""
    added = add(cloud, *rules)
    try:
        yield added if len(added) != 1 else added[0]
    finally:
        with cloud.lock:
            inj = cloud.faults
            for rule in added:
                if inj is not None and rule.id in inj._rules:
                    inj.remove(rule.id, cloud)


def release(cloud) -> list[str]:
    """Let every hung job finish now; returns their uuids."""
    released = []
    with cloud.lock:
        for job in cloud.jobs:
            if job.end is None:
                cloud.release_job(job)
                released.append(job.uuid)
    return released


def dialect_point(cloud, op: str, targets: dict | None = None) -> FaultEffects | None:
    """A dialect operation's fault point (see the module docstring).  Raises the rule's
    error or ``DropConnection``; returns the carried effects (or ``None``)."""
    if cloud.faults is None:
        return None
    # The model asks only for ``on_operation``: a stand-in injector (tests install one)
    # need not answer dialect points.
    hook = getattr(cloud.faults, "on_dialect_operation", None)
    if hook is None:
        return None
    return hook(cloud, op, dict(targets or {}))


# -- server mode -----------------------------------------------------------------------
def abort_connection(environ: dict, exc: BaseException | None = None):
    """Close the client's socket without a response (werkzeug's server exposes it as
    ``werkzeug.socket``), then raise ``ConnectionDropped``, which werkzeug's server treats
    as a dropped connection (nothing written) and in-process callers see as an error."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionDropped(str(exc) if exc else "connection dropped by a fault rule")


def connection_dropping(app):
    """WSGI middleware: turn ``DropConnection`` into a closed socket (see ``abort_connection``)."""

    def wrapped(environ, start_response):
        try:
            return app(environ, start_response)
        except DropConnection as exc:
            abort_connection(environ, exc)

    wrapped.__wrapped__ = app
    return wrapped


# -- HTTP admin API --------------------------------------------------------------------
def handle_admin_request(cloud, method: str, subpath: str, body: bytes | None):
    """``/_fakestack/faults[/<id>]``: returns ``(status, json_data)``.

    GET lists the rules with hit counts; POST adds a rule, a list or a plan (201);
    DELETE clears (or removes one rule by id).  A bad plan answers 400 with every field
    at fault: ``{"error": "invalid_fault_plan", "message": ..., "errors": [{"field", "message"}]}``.
    """

    subpath = subpath.strip("/")
    with cloud.lock:
        if method == "GET":
            if subpath:
                for rule in list_rules(cloud):
                    if rule["id"] == subpath:
                        return 200, rule
                return 404, {"error": "not_found", "message": f"no fault rule [{subpath}]"}
            return 200, {"rules": list_rules(cloud)}
        if method == "DELETE":
            if subpath:
                try:
                    remove(cloud, subpath)
                except domain.NotFound:
                    return 404, {"error": "not_found", "message": f"no fault rule [{subpath}]"}
                return 200, {"rules": list_rules(cloud)}
            clear(cloud)
            return 200, {"rules": []}
        if method == "POST" and not subpath:
            try:
                from .dialects.json_input import parse_json

                data = parse_json(body or b"null")
            except ValueError as exc:  # json_input.JsonInputError: not JSON, too deep, ...
                return 400, {"error": "invalid_json", "message": f"the body is not JSON: {exc}",
                             "errors": [{"field": "body", "message": str(exc)}]}
            if not isinstance(data, (dict, list)):
                return 400, {"error": "invalid_fault_plan",
                             "message": "send a rule, a list of rules or {\"rules\": [...]}",
                             "errors": [{"field": "body", "message": "must be an object or a list"}]}
            try:
                added = add(cloud, data)
            except ValidationError as exc:
                errors = validation_errors(exc)
                if isinstance(data, list):
                    errors = _list_errors(data, exc)
                return 400, {"error": "invalid_fault_plan",
                             "message": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                             "errors": errors}
            except domain.Conflict as exc:
                return 409, {"error": "conflict", "message": exc.message}
            ids = {r.id for r in added}
            return 201, {"added": [r for r in list_rules(cloud) if r["id"] in ids],
                         "rules": list_rules(cloud)}
        return 405, {"error": "method_not_allowed",
                     "message": f"{method} is not allowed here (GET, POST, DELETE)"}


def _list_errors(data: list, exc: ValidationError) -> list[dict]:
    # parse_rules validates a list item by item; name the item's index.
    for i, item in enumerate(data):
        try:
            FaultRule.model_validate(item) if not isinstance(item, FaultRule) else item
        except ValidationError as item_exc:
            return validation_errors(item_exc, prefix=f"{i}.")
    return validation_errors(exc)


# -- registration with the admin API ---------------------------------------------------
def _admin_handler(call):
    """Fault rules with hit counts (GET), add (POST), clear or remove one (DELETE)."""
    status, data = handle_admin_request(call.cloud, call.request.method,
                                        call.params.get("rule_id", ""),
                                        call.request.get_data(cache=True))
    return data, status


_registered = False


def register_admin_routes() -> bool:
    """Mount ``/_fakestack/faults`` on the admin API (idempotent; called on import)."""
    global _registered
    if _registered:
        return True
    from . import admin

    existing = {(r.method, r.path) for r in admin.ROUTES}
    for method, path, mutating, summary in (
            ("GET", "/faults", False, "The fault plan: every rule with its calls and hits."),
            ("POST", "/faults", True, "Add a fault rule, a list of rules or {\"rules\": [...]} (201)."),
            ("DELETE", "/faults", True, "Remove every fault rule (hung jobs are released)."),
            ("GET", "/faults/{rule_id}", False, "One fault rule with its calls and hits."),
            ("DELETE", "/faults/{rule_id}", True, "Remove one fault rule.")):
        if (method, path) not in existing:
            admin.register_admin_route(method, path, _admin_handler, mutating=mutating,
                                       summary=summary)
    _registered = True
    return True


register_admin_routes()
