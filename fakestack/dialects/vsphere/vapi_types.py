"""vAPI data types, and how one value is written on each of the three surfaces.

Every response is built once as a plain Python value in the ``/api`` form (maps are
dicts, optional fields unset are ``None``) and then encoded by its declared type:

* ``/api``: the value as is, unset optional fields omitted;
* ``/rest``: the same, but every map becomes a list of ``{"key": k, "value": v}``;
* JSON-RPC: the tagged encoding of the runtime's JSON-RPC serializer (``STRUCTURE``,
  ``OPTIONAL``, ``map-entry``, ``SECRET``).  The SDK is strict about optional wrapping
  and unions, so JSON-RPC output is only ever produced from these types.

The reverse direction (JSON-RPC input) is decoded generically by ``decode_rpc``; the
request schemas (pydantic) then check the decoded value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REST, API, RPC = "rest", "api", "rpc"


class VType:
    def encode(self, value: Any, surface: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Primitive(VType):
    """String, id, enum, datetime, integer, boolean: the same on every surface."""

    kind: str = "string"

    def encode(self, value: Any, surface: str) -> Any:
        return value


STRING = Primitive("string")
INTEGER = Primitive("integer")
BOOLEAN = Primitive("boolean")
DATETIME = Primitive("datetime")


@dataclass(frozen=True)
class Void(VType):
    def encode(self, value: Any, surface: str) -> Any:
        return None


VOID = Void()


@dataclass(frozen=True)
class Secret(VType):
    def encode(self, value: Any, surface: str) -> Any:
        return {"SECRET": value} if surface == RPC else value


SECRET = Secret()


@dataclass(frozen=True)
class Optional(VType):
    of: VType

    def encode(self, value: Any, surface: str) -> Any:
        if surface == RPC:
            return {"OPTIONAL": None if value is None else self.of.encode(value, surface)}
        return None if value is None else self.of.encode(value, surface)


@dataclass(frozen=True)
class ListOf(VType):
    """A list or a set (sets are sent as lists on every surface)."""

    of: VType

    def encode(self, value: Any, surface: str) -> Any:
        return [self.of.encode(item, surface) for item in value]


@dataclass(frozen=True)
class MapOf(VType):
    """A map with string keys (device keys, ids)."""

    of: VType

    def encode(self, value: dict, surface: str) -> Any:
        if surface == API:
            return {key: self.of.encode(item, surface) for key, item in value.items()}
        if surface == REST:
            return [{"key": key, "value": self.of.encode(item, surface)} for key, item in value.items()]
        return [
            {"STRUCTURE": {"map-entry": {"key": key, "value": self.of.encode(item, surface)}}}
            for key, item in value.items()
        ]


@dataclass(frozen=True)
class Struct(VType):
    name: str
    fields: tuple[tuple[str, VType], ...] = field(default=())

    def __post_init__(self) -> None:
        # Per field: (name, type, optional, plain); a plain field (a primitive, optional or
        # not) is written as it is on /rest and /api.  Lists encode every item through here.
        plan = []
        for name, ftype in self.fields:
            optional = isinstance(ftype, Optional)
            plain = isinstance(ftype.of if optional else ftype, Primitive)
            plan.append((name, ftype, optional, plain))
        object.__setattr__(self, "_plan", tuple(plan))

    def encode(self, value: dict, surface: str) -> Any:
        if surface == RPC:
            body = {}
            for name, ftype, optional, _ in self._plan:
                if not optional and value.get(name) is None:
                    raise ValueError(f"{self.name}: required field {name!r} is unset")
                body[name] = ftype.encode(value.get(name), surface)
            return {"STRUCTURE": {self.name: body}}
        out = {}
        for name, ftype, optional, plain in self._plan:
            item = value.get(name)
            if item is None:
                if optional:
                    continue
                raise ValueError(f"{self.name}: required field {name!r} is unset")
            out[name] = item if plain else ftype.encode(item, surface)
        return out


def struct(struct_name: str, /, **fields: VType) -> Struct:
    return Struct(struct_name, tuple(fields.items()))


# --- JSON-RPC input -------------------------------------------------------------------


class RpcDecodeError(ValueError):
    """The params are not a well-formed vAPI JSON-RPC value (JSON-RPC -32602)."""


@dataclass(frozen=True)
class _MapEntry:
    key: Any
    value: Any


_UNSET_OPTIONAL = {"OPTIONAL": None}


def decode_rpc(value: Any) -> Any:
    """Tagged JSON-RPC value -> plain value (structures become dicts, maps dicts).

    A structure field sent as ``{"OPTIONAL": null}`` is dropped, so that "unset" and
    "absent" look the same to the request schemas; newer bindings send optional fields
    older servers lack, and those must not count as unexpected input.
    """
    if isinstance(value, dict):
        if len(value) != 1:
            raise RpcDecodeError(f"expected one tag, got {sorted(value)}")
        ((tag, inner),) = value.items()
        if tag == "STRUCTURE" or tag == "ERROR":
            if not isinstance(inner, dict) or len(inner) != 1:
                raise RpcDecodeError("a structure carries exactly one name")
            ((name, fields),) = inner.items()
            if not isinstance(fields, dict):
                raise RpcDecodeError(f"structure {name} has no field object")
            if name == "map-entry":
                if "key" not in fields or "value" not in fields:
                    raise RpcDecodeError("map-entry needs key and value")
                return _MapEntry(decode_rpc(fields["key"]), decode_rpc(fields["value"]))
            return {
                fname: decode_rpc(fvalue) for fname, fvalue in fields.items() if fvalue != _UNSET_OPTIONAL
            }
        if tag == "OPTIONAL":
            return None if inner is None else decode_rpc(inner)
        if tag == "SECRET":
            return inner
        if tag == "BINARY":
            return inner
        raise RpcDecodeError(f"unknown tag {tag}")
    if isinstance(value, list):
        items = [decode_rpc(item) for item in value]
        if items and all(isinstance(item, _MapEntry) for item in items):
            return {item.key: item.value for item in items}
        if any(isinstance(item, _MapEntry) for item in items):
            raise RpcDecodeError("a list mixes map entries and values")
        return items
    return value
