"""What goes on the wire: JSON bodies the way Starlette renders them, and HTTP errors.

FastAPI answers through Starlette's ``JSONResponse`` (compact separators, UTF-8, no
ASCII escaping); clients compare bodies byte for byte in replays, so this module is the
only place that serializes.
"""
from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response


def render_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(render_json(data), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


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
