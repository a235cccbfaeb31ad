"""What goes on the wire: JSON bodies the way Starlette renders them, and HTTP errors.

FastAPI answers through Starlette's ``JSONResponse`` (compact separators, UTF-8, no
ASCII escaping); clients compare bodies byte for byte in replays, so this module's
``INSTAVM_JSON`` (the kit's builder) is the only way the dialect serializes.
"""
from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..kit.responses import JsonStyle


INSTAVM_JSON = JsonStyle(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return INSTAVM_JSON.response(data, status, headers)


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
