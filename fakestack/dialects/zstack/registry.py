"""Which Python function serves which ZStack API, and what to check before calling it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalog import APIS


@dataclass
class Call:
    """One API invocation, REST or legacy, after the transport layer."""

    dialect: Any
    name: str
    api: dict
    fields: dict[str, Any]
    system_tags: list[str] = field(default_factory=list)
    user_tags: list[str] = field(default_factory=list)
    session: dict | None = None
    session_uuid: str | None = None
    query: Any = None  # QuerySpec for Query* APIs
    model_job: str | None = None  # uuid of the model job the API ran as (simulated duration)
    schema: dict[str, str] | None = None  # runtime classes of nested objects, if known
    error_context: dict[str, Any] = field(default_factory=dict)  # facts for error rendering
    # ``schema``, built only when a reply shows it (``reply_schema``): most requests send
    # no ``X-JSON-Schema: true`` and their replies carry none.
    schema_builder: Callable[[], dict[str, str]] | None = None

    def defer_schema(self, build: Callable[[], dict[str, str]]) -> None:
        """Say how to build ``schema``, from the reply the handler returns (which nothing
        changes before the reply goes out), when a reply shows it."""
        self.schema = None
        self.schema_builder = build

    @property
    def has_schema(self) -> bool:
        return self.schema is not None or self.schema_builder is not None

    def reply_schema(self) -> dict[str, str] | None:
        """``schema``, built now if it was deferred."""
        if self.schema is None and self.schema_builder is not None:
            self.schema = self.schema_builder()
            self.schema_builder = None
        return self.schema

    @property
    def cloud(self):
        return self.dialect.cloud

    @property
    def message_class(self) -> str:
        return self.api["message"]


@dataclass
class Binding:
    name: str
    handler: Callable[[Call], dict]
    operation: str
    resources: dict[str, str] = field(default_factory=dict)  # field -> resource kind
    delete_if_missing: str | None = None  # field whose absence makes a delete succeed


BINDINGS: dict[str, Binding] = {}


def api(
    name: str,
    *,
    operation: str = "",
    resources: dict[str, str] | None = None,
    delete_if_missing: str | None = None,
):
    """Register ``handler(call) -> success body`` for the catalogue API ``name``."""
    if name not in APIS:
        raise KeyError(f"{name} is not in the catalogue")

    def register(handler: Callable[[Call], dict]) -> Callable[[Call], dict]:
        BINDINGS[name] = Binding(
            name=name,
            handler=handler,
            operation=operation or name,
            resources=dict(resources or {}),
            delete_if_missing=delete_if_missing,
        )
        return handler

    return register
