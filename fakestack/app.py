"""One WSGI app for a cloud: every dialect plus the ``/_fakestack`` admin API."""
from __future__ import annotations

import importlib
import json
from typing import Any, Iterable

from werkzeug.wrappers import Request, Response

# Dialect factories, in routing-table order (prefix length decides, not this order).
DIALECT_FACTORIES = (
    "fakestack.dialects.zstack:create_dialect",
)


def _load(spec: str):
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data, sort_keys=False, separators=(", ", ": ")),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


class FakestackApp:
    """Routes by path prefix; serializes every request on the cloud's lock."""

    def __init__(self, cloud, dialects: Iterable | None = None) -> None:
        self.cloud = cloud
        if dialects is None:
            dialects = [_load(spec)(cloud) for spec in DIALECT_FACTORIES]
        self.dialects = list(dialects)
        self._routes: list[tuple[str, Any]] = sorted(
            ((prefix.rstrip("/") or "/", d) for d in self.dialects for prefix in d.prefixes),
            key=lambda item: -len(item[0]),
        )

    def dialect_for(self, path: str):
        for prefix, dialect in self._routes:
            if path == prefix or path.startswith(prefix + "/"):
                return dialect
        return None

    def dispatch(self, request: Request) -> Response:
        dialect = self.dialect_for(request.path)
        if dialect is None:
            return json_response(
                {"error": "not_found", "message": f"no dialect serves {request.path}"}, 404
            )
        return dialect.handle(request)

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.cloud.lock:
            response = self.dispatch(request)
        return response(environ, start_response)


def make_app(cloud, dialects: Iterable | None = None) -> FakestackApp:
    return FakestackApp(cloud, dialects)
