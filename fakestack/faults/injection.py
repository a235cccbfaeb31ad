"""The injector: a cloud's active plan with hit counts, evaluated at fault points, and the
functions tests call (``add``, ``inject``, ``clear``, ``release``, ``dialect_point``...)."""

from __future__ import annotations

from contextlib import contextmanager

from ..model import errors as domain
from ..model.cloud import FaultEffects
from .plan import STORAGE_KINDS, DisconnectEffect, FailEffect, FaultPlan, FaultRule, StatusEffect, parse_rules


class DropConnection(BaseException):
    """Raised at a fault point whose rule drops the connection.  A ``BaseException`` so that
    dialects' catch-all error handlers let it through to the server."""


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
        stored: list[tuple[str, FaultRule]] = []
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
            stored.append((rule_id, rule.model_copy(update={"id": rule_id})))
        for rule_id, rule in stored:
            self._rules[rule_id] = _Active(rule)
        return [rule for _, rule in stored]

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
        return FaultEffects(
            error=effects.error or carried.error,
            exhaust=tuple(dict.fromkeys(carried.exhaust + effects.exhaust)),
            latency=carried.latency + effects.latency,
            hang=carried.hang or effects.hang,
        )

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


_NAMED = (
    "vms",
    "hosts",
    "primary_storages",
    "backup_storages",
    "images",
    "volumes",
    "clusters",
    "zones",
    "l3_networks",
    "volume_snapshots",
)


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


def _set_status(cloud, effect: StatusEffect, targets: dict) -> None:
    status = "Disconnected" if isinstance(effect, DisconnectEffect) else "Connected"
    kind, store = None, None
    if effect.target is not None:
        kind, store = _find_store(cloud, effect.kind, effect.target)
        if store is None:
            raise domain.NotFound(effect.kind or "host or storage", effect.target)
    else:
        for key in (effect.kind,) if effect.kind else STORAGE_KINDS:
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


def _rule_id(rule: FaultRule | str) -> str:
    # A rule never added has no id; no active rule answers to "None" either.
    return str(rule.id) if isinstance(rule, FaultRule) else rule


def remove(cloud, rule: FaultRule | str) -> FaultRule:
    with cloud.lock:
        return injector(cloud).remove(_rule_id(rule), cloud)


def clear(cloud) -> None:
    with cloud.lock:
        if cloud.faults is not None:
            cloud.faults.clear(cloud)


def list_rules(cloud) -> list[dict]:
    """Every active rule with its ``calls`` and ``hits``."""
    with cloud.lock:
        return [] if cloud.faults is None else cloud.faults.report()


def hits(cloud, rule: FaultRule | str) -> int:
    return injector(cloud).hits(_rule_id(rule))


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
