"""vAPI operations: one registry shared by the three surfaces.

An operation is identified by its vAPI service and operation ids (what JSON-RPC names
and fault plans match as ``vsphere:<service>.<operation>``); REST routes point at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .specs import Schema
from .vapi_types import VType

LOGIN = "login"  # authenticated by user name and password; creates the session
SESSION = "session"  # needs a valid session


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    input_model: type[Schema]
    output: VType
    handler: Callable[[Any, Schema], Any]
    auth: str = SESSION
    reads_only: bool = False  # a read-only user may call it (gets and lists)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.name)

    @property
    def fault_name(self) -> str:
        return f"vsphere:{self.service}.{self.name}"


OPERATIONS: dict[tuple[str, str], Operation] = {}


def operation(
    service: str,
    name: str,
    input_model: type[Schema],
    output: VType,
    auth: str = SESSION,
    reads_only: bool | None = None,
):
    """Register ``handler`` as ``service.name``; ``get`` and ``list`` read only unless told."""

    def register(handler):
        reading = name in ("get", "list") if reads_only is None else reads_only
        op = Operation(service, name, input_model, output, handler, auth, reading)
        OPERATIONS[op.key] = op
        return handler

    return register
