"""Neutral domain errors raised by the simulator.

Dialects render these into their own wire shapes; the errors therefore carry every fact a
faithful rendering needs (resource kind and uuid, amounts, states) and no dialect words.
Every error takes keyword ``facts``: a ``reason_code`` naming the case and the values it is
about, from which a dialect builds its own text;
``message`` is neutral English for whoever shows it as is.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the model raises on purpose."""

    kind = "error"

    def __init__(self, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.message = message
        self.facts = facts

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its attributes, not its constructor's arguments (each subclass takes
        # different ones), so an error crosses a process boundary (multiprocessing,
        # pytest-xdist) with every fact it carries.
        return (_rebuild, (self.__class__, self.args, self.__dict__))

    def default_message(self) -> str:
        """The neutral text the error has when its raiser gave none (a dialect that words
        errors its own way replaces only this one, not a text chosen at the raise)."""
        return self.message

    def to_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind, "message": self.message}
        for key, value in self.__dict__.items():
            if key in ("message", "facts") or key.startswith("_"):
                continue
            data[key] = value
        data.update(self.facts)
        return data


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    """Unpickle an error written by ``__reduce__``: its class, its args and its attributes,
    without running its constructor."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class CapacityExhausted(DomainError):
    """An allocation found no room.

    ``resource`` is one of ``host.cpu``, ``host.memory``, ``host`` (no host had both),
    ``primary_storage.virtual``, ``primary_storage.physical``, ``backup_storage``,
    ``l3.ip``, ``chain_depth``.  ``resource_uuid`` names the one storage or host that
    was short when the allocation was pinned to it, else ``None`` (the whole pool).
    ``request`` holds what was asked for (e.g. ``{"cpu": 4, "memory": 8589934592}``).
    """

    kind = "capacity_exhausted"

    def __init__(
        self,
        resource: str,
        needed: int,
        available: int,
        *,
        resource_uuid: str | None = None,
        request: dict[str, Any] | None = None,
        injected: bool = False,
        message: str | None = None,
        **facts: Any,
    ) -> None:
        self.resource = resource
        self.resource_uuid = resource_uuid
        self.needed = needed
        self.available = available
        self.request = dict(request or {})
        self.injected = injected
        super().__init__(
            message
            or f"not enough {resource}: needed {needed}, available {available}"
            + (f" on {resource_uuid}" if resource_uuid else ""),
            **facts,
        )


class NotFound(DomainError):
    kind = "not_found"

    def __init__(self, resource_kind: str, key: str, message: str | None = None, **facts: Any) -> None:
        self.resource_kind = resource_kind
        self.key = key
        super().__init__(message or self.default_message(), **facts)

    def default_message(self) -> str:
        return f"{self.resource_kind} {self.key} not found"


class InvalidState(DomainError):
    """The resource exists but its state does not allow the operation."""

    kind = "invalid_state"

    def __init__(
        self,
        resource_kind: str,
        uuid: str,
        state: str,
        operation: str,
        allowed: tuple[str, ...] = (),
        message: str | None = None,
        **facts: Any,
    ) -> None:
        self.resource_kind = resource_kind
        self.uuid = uuid
        self.state = state
        self.operation = operation
        self.allowed = list(allowed)
        super().__init__(message or self.default_message(), **facts)

    def default_message(self) -> str:
        return f"{self.resource_kind} {self.uuid} is {self.state}, which does not allow {self.operation}"


class Conflict(DomainError):
    """A name or id is taken, or the resource is busy / in use."""

    kind = "conflict"

    def __init__(self, resource_kind: str, key: str, message: str | None = None, **facts: Any) -> None:
        self.resource_kind = resource_kind
        self.key = key
        super().__init__(message or self.default_message(), **facts)

    def default_message(self) -> str:
        return f"{self.resource_kind} {self.key} conflicts with an existing one"


class InvalidArgument(DomainError):
    """``field`` is the model's neutral (snake_case) name of the argument, e.g.
    ``root_volume``; a dialect maps it onto its own parameter name.  ``facts`` may add
    what a dialect needs to word the error its own way: a ``reason_code`` naming the case,
    and the values it is about (uuids, states, kinds)."""

    kind = "invalid_argument"

    def __init__(self, field: str, reason: str, message: str | None = None, **facts: Any) -> None:
        self.field = field
        self.reason = reason
        super().__init__(message or self.default_message(), **facts)

    def default_message(self) -> str:
        return f"invalid {self.field}: {self.reason}"


class Unreachable(DomainError):
    """A host or storage the operation needs is disconnected."""

    kind = "unreachable"

    def __init__(self, resource_kind: str, uuid: str, message: str | None = None, **facts: Any) -> None:
        self.resource_kind = resource_kind
        self.uuid = uuid
        super().__init__(message or self.default_message(), **facts)

    def default_message(self) -> str:
        return f"{self.resource_kind} {self.uuid} is not reachable"


class Timeout(DomainError):
    kind = "timeout"

    def __init__(self, operation: str, seconds: float, message: str | None = None) -> None:
        self.operation = operation
        self.seconds = seconds
        super().__init__(message or f"{operation} timed out after {seconds}s")


class InjectedFailure(DomainError):
    """A failure requested by a fault plan (``fail`` effect) with a dialect-neutral code."""

    kind = "injected"

    def __init__(self, operation: str, message: str, code: str | None = None) -> None:
        self.operation = operation
        self.code = code
        super().__init__(message)


class InvariantViolation(AssertionError):
    """Raised by ``Cloud.check_invariants`` listing every breach at once."""

    def __init__(self, breaches: list[str]) -> None:
        self.breaches = list(breaches)
        super().__init__("invariants broken:\n" + "\n".join(f"- {b}" for b in breaches))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, self.args, self.__dict__))
