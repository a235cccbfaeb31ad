"""InstaVM's errors: FastAPI's ``{"detail": ...}`` answers (``HttpError``), and domain
errors -> those answers, the one table of error mapping:

| domain error            | status | detail                                                 |
|-------------------------|--------|--------------------------------------------------------|
| NotFound                | 404    | ``<Kind> not found``                                   |
| InvalidState / Conflict | 409    | the handler's text, else the model's message           |
| CapacityExhausted       | 503    | ``Insufficient capacity: <resource> (needed N, available M)`` |
| Unreachable             | 503    | ``Service unavailable: <kind> <uuid> is not reachable`` |
| InvalidArgument         | 422    | one FastAPI ``value_error`` item at ``body.<field>``   |
| Timeout                 | 504    | ``<what> timed out``                                   |
| InjectedFailure         | code   | ``forbidden`` 403, ``rate_limit`` 429 (JSON, the SDK parses it), an HTTP status number as given, else 500 |
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from fakestack.model.errors import (
    CapacityExhausted,
    Conflict,
    DomainError,
    InjectedFailure,
    InvalidArgument,
    InvalidState,
    NotFound,
    Timeout,
    Unreachable,
)

from .render import json_response


class HttpError(Exception):
    """An answer other than 200, as FastAPI's ``HTTPException``: ``{"detail": ...}``."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    def to_response(self) -> Response:
        return json_response({"detail": self.detail}, self.status, self.headers)


class RequestValidationFailed(HttpError):
    """FastAPI's ``RequestValidationError``: 422 with a list of error items."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(422, list(items))
        self.items = self.detail


AUTH_HEADERS = {"WWW-Authenticate": "Bearer"}


def not_authenticated() -> HttpError:
    return HttpError(401, "Not authenticated", AUTH_HEADERS)


def invalid_api_key() -> HttpError:
    return HttpError(401, "Invalid API key", AUTH_HEADERS)


def route_not_found() -> HttpError:
    return HttpError(404, "Not Found")


def method_not_allowed(allowed: list[str]) -> HttpError:
    return HttpError(405, "Method Not Allowed", {"Allow": ", ".join(allowed)})


def not_implemented(method: str, path: str) -> HttpError:
    return HttpError(501, f"{method} {path} is not implemented by fakestack")


NOT_FOUND_TEXT = {
    "vm": "VM not found",
    "snapshot": "Snapshot not found",
    "session": "Session not found or no VM assigned to session",
}

INJECTED_STATUS = {
    "forbidden": 403,
    "rate_limit": 429,
    "rate_limited": 429,
    "too_many_requests": 429,
    "unavailable": 503,
    "timeout": 504,
}


def capacity_resource_name(resource: str) -> str:
    """``host.memory`` -> ``host_memory``: the InstaVM text uses one word per ledger."""
    return resource.replace(".", "_")


def capacity_detail(exc: CapacityExhausted) -> str:
    return (
        f"Insufficient capacity: {capacity_resource_name(exc.resource)} "
        f"(needed {exc.needed}, available {exc.available})"
    )


def injected_status(code: str | None) -> int:
    if code is None:
        return 500
    text = str(code).strip().lower()
    if text.isdigit() and 400 <= int(text) <= 599:
        return int(text)
    return INJECTED_STATUS.get(text, 500)


def http_error(
    exc: DomainError,
    *,
    conflict_detail: str | None = None,
    timeout_detail: str = "VM provisioning timed out",
    body: Any = None,
) -> HttpError:
    if isinstance(exc, NotFound):
        kind = str(exc.resource_kind).lower()
        return HttpError(404, NOT_FOUND_TEXT.get(kind, f"{exc.resource_kind} not found"))
    if isinstance(exc, (InvalidState, Conflict)):
        return HttpError(409, conflict_detail or exc.message)
    if isinstance(exc, CapacityExhausted):
        return HttpError(503, capacity_detail(exc))
    if isinstance(exc, Unreachable):
        return HttpError(503, f"Service unavailable: {exc.resource_kind} {exc.uuid} is not reachable")
    if isinstance(exc, InvalidArgument):
        value = body.get(exc.field) if isinstance(body, dict) else None
        return RequestValidationFailed(
            [
                {
                    "type": "value_error",
                    "loc": ["body", exc.field],
                    "msg": f"Value error, {exc.reason}",
                    "input": value,
                    "ctx": {"error": {}},
                }
            ]
        )
    if isinstance(exc, Timeout):
        return HttpError(504, timeout_detail)
    if isinstance(exc, InjectedFailure):
        status = injected_status(exc.code)
        detail = exc.message or ("Rate limit exceeded" if status == 429 else "Internal Server Error")
        return HttpError(status, detail)
    return HttpError(500, exc.message or "Internal Server Error")


def describe_failure(exc: DomainError) -> str:
    """The ``last_error`` text a failed background operation leaves on its session."""
    err = http_error(exc)
    detail = err.detail
    if isinstance(detail, list):
        return "; ".join(item.get("msg", "") for item in detail)
    return str(detail)
