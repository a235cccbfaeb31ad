"""The ``/_fakestack`` admin API: look at and steer a running fake.

Every endpoint speaks JSON, errors included (``{"error": CODE, "message": TEXT}``).
It needs no credential by default: anyone who reaches it can reset, time-travel, inject
faults and read the whole state, which is fine on the loopback.  With an admin token
(``make_app(..., admin_token=T)``, ``fakestack serve --admin-token T``, required when
serving a non-loopback address) every admin request must send it in the
``X-Fakestack-Admin-Token`` header, else 401.
Paths are relative to ``/_fakestack``:

    GET    /             the endpoint list
    GET    /health       liveness, version, topology, seed, mounted dialects
    GET    /state        cloud.snapshot()
    POST   /reset        back to the initial topology and seed (the clock keeps its time)
    GET    /clock        the simulated time
    POST   /clock        {"advance": SECONDS} or {"to": EPOCH-SECONDS | "ISO-8601"}
    GET    /journal      recent HTTP requests and model operations (?limit=N, default 100)
    DELETE /journal      forget both journals
    GET    /invariants   200 {"ok": true, "breaches": []} or 409 {"ok": false, "breaches": [...]}
    GET    /capacity     cloud.capacity()
    GET    /faults       the fault plan with hit counts (POST adds rules, DELETE clears;
                         /faults/{rule_id}: GET one, DELETE one): fakestack.faults.http
    GET    /ui           the dashboard (and /ledgers, /trees): fakestack.dashboard.routes

Extension point
---------------
Routes live in one table.  Another module adds its own with::

    from fakestack.admin import AdminError, register_admin_route

    def list_notes(call):                     # call: AdminCall
        return {"notes": [...]}               # -> 200 JSON

    def add_note(call):
        body = call.json()                    # 400 JSON if the body is not a JSON object
        ...
        return {"id": note_id}, 201           # (data, status) -> JSON with that status

    register_admin_route("GET", "/notes", list_notes)
    register_admin_route("POST", "/notes", add_note)
    register_admin_route("DELETE", "/notes/{note_id}", remove_note)   # call.params["note_id"]

and lists itself in ``ADMIN_EXTENSIONS`` below (one line, ``"module.path"``) so that the app
imports it before serving.  fakestack's own modules do not register themselves: they
expose their routes as data, and the end of this module mounts them (the fault routes of
``fakestack.faults.http``), so that every built-in route is named here.

A handler returns a JSON-able value (200), a ``(value, status)`` pair, or a werkzeug
``Response``; it raises ``AdminError(status, code, message)`` for a client mistake.
Handlers run under ``cloud.lock``.  A route is *mutating* (the server then saves
``--state``) when its method is not GET/HEAD, unless ``mutating=`` says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from .dashboard.routes import ADMIN_ROUTES as DASHBOARD_ROUTES
from .dialects.kit.responses import FAKESTACK_JSON
from .dialects.kit.routing import Router
from .faults.http import ADMIN_ROUTES as FAULT_ROUTES
from .timefmt import clock_view, iso_utc
from .version import __version__

ADMIN_PREFIX = "/_fakestack"

# Modules outside fakestack that register admin routes when imported (one line each,
# e.g. "myproject.fake_extras").  fakestack's own routes are mounted at the end of this module.
ADMIN_EXTENSIONS: tuple[str, ...] = ()

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class AdminError(Exception):
    """A client mistake, answered as ``{"error": code, "message": message}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}


def bad_request(message: str) -> AdminError:
    return AdminError(400, "bad_request", message)


@dataclass
class AdminCall:
    """What a handler gets: the app, its cloud, the request and the path's placeholders."""

    app: Any
    request: Request
    params: dict[str, str] = field(default_factory=dict)

    @property
    def cloud(self):
        return self.app.cloud

    def json(self, *, required: bool = False) -> dict:
        """The body as a JSON object (``{}`` when empty and not required)."""
        raw = self.request.get_data(cache=True)
        if not raw.strip():
            if required:
                raise bad_request("this endpoint needs a JSON object body")
            return {}
        from .dialects.kit.json_input import NON_FINITE, NOT_TEXT, JsonInputError, parse_json

        try:
            data = parse_json(raw)
        except JsonInputError as exc:
            if exc.reason == NOT_TEXT:
                raise bad_request("request body is not UTF-8 text") from None
            if exc.unparsable:
                raise bad_request(f"request body is not valid JSON: {exc}") from None
            if exc.reason != NON_FINITE:
                raise bad_request(f"request body: {exc}") from None
            data = exc.document  # the handlers name the field that must be finite
        if not isinstance(data, dict):
            raise bad_request(f"request body must be a JSON object, not {_json_kind(data)}")
        return data

    def query_int(self, name: str, default: int | None, minimum: int = 0) -> int | None:
        raw = self.request.args.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"query parameter {name!r} must be an integer, got {raw!r}") from None
        if value < minimum:
            raise bad_request(f"query parameter {name!r} must be >= {minimum}, got {value}")
        return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


Handler = Callable[[AdminCall], Any]


@dataclass
class AdminRoute:
    method: str
    path: str
    handler: Handler
    mutating: bool
    summary: str


def _relative(path: str) -> str:
    """A path as the admin table holds it: without the prefix, no empty segments."""
    if path.startswith(ADMIN_PREFIX):
        path = path[len(ADMIN_PREFIX) :]
    return "/" + "/".join(part for part in path.split("/") if part)


class AdminRoutes:
    """The admin routing table (method + path pattern -> handler): the kit's router, in
    table order, ``HEAD`` served by ``GET``, empty segments ignored."""

    def __init__(self) -> None:
        self._table = Router(order="table", head_as_get=True, collapse_slashes=True)

    def register(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        mutating: bool | None = None,
        summary: str | None = None,
    ) -> AdminRoute:
        method = method.upper()
        norm = _relative(path)
        if self._table.find(method, norm) is not None:
            raise ValueError(f"admin route {method} {ADMIN_PREFIX}{norm} is already registered")
        if summary is None:
            doc = (handler.__doc__ or "").strip()
            summary = doc.splitlines()[0] if doc else ""
        route = AdminRoute(
            method, norm, handler, method not in SAFE_METHODS if mutating is None else mutating, summary
        )
        self._table.add(method, norm, route)
        return route

    def unregister(self, method: str, path: str) -> None:
        self._table.remove(method, _relative(path))

    def __iter__(self):
        return iter([route.target for route in self._table])

    def resolve(self, method: str, path: str) -> tuple[AdminRoute, dict[str, str]]:
        relative = _relative(path)
        match = self._table.match(method, relative)
        if match.route is not None:
            return match.target, match.params
        if match.allowed:
            raise AdminError(
                405,
                "method_not_allowed",
                f"{method} is not allowed on {ADMIN_PREFIX}/{relative[1:]}",
                allowed=sorted(match.allowed),
            )
        raise AdminError(
            404, "not_found", f"no admin endpoint {method} {path} (GET {ADMIN_PREFIX}/ lists them)"
        )


ROUTES = AdminRoutes()


def register_admin_route(
    method: str, path: str, handler: Handler, *, mutating: bool | None = None, summary: str | None = None
) -> AdminRoute:
    """Add ``method path`` (relative to ``/_fakestack``; ``{name}`` segments are
    placeholders) to the admin API.  See the module docstring."""
    return ROUTES.register(method, path, handler, mutating=mutating, summary=summary)


def unregister_admin_route(method: str, path: str) -> None:
    ROUTES.unregister(method, path)


_extensions_loaded = False


def load_extensions() -> None:
    """Import the modules in ``ADMIN_EXTENSIONS`` once (they register their routes)."""
    global _extensions_loaded
    if _extensions_loaded:
        return
    import importlib

    for module in ADMIN_EXTENSIONS:
        importlib.import_module(module)
    _extensions_loaded = True


def _fallback(value: Any) -> Any:
    # Journals carry operation arguments as given (tuples, sets of names, entities).
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    uuid = getattr(value, "uuid", None)
    if uuid is not None:
        return uuid
    return repr(value)


# fakestack's JSON, with the journal's fallback renderer.
ADMIN_JSON = FAKESTACK_JSON.with_default(_fallback)


def json_body(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return ADMIN_JSON.response(data, status, headers)


ADMIN_TOKEN_HEADER = "X-Fakestack-Admin-Token"


def token_matches(request: Request, token: str) -> bool:
    import hmac

    given = request.headers.get(ADMIN_TOKEN_HEADER, "")
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def token_required() -> Response:
    return json_body(
        {
            "error": "unauthorized",
            "message": f"the admin API needs the {ADMIN_TOKEN_HEADER} header (fakestack serve --admin-token)",
        },
        401,
    )


def payload_too_large(limit: int) -> Response:
    return json_body(
        {"error": "payload_too_large", "message": f"the request body exceeds {limit} bytes"}, 413
    )


def handle_admin(app, request: Request) -> Response:
    """Answer one request under ``/_fakestack``.  Flags it as mutating or not in
    ``request.environ["fakestack.mutating"]``."""
    request.environ["fakestack.mutating"] = False
    try:
        route, params = ROUTES.resolve(request.method, request.path)
        request.environ["fakestack.mutating"] = route.mutating
        result = route.handler(AdminCall(app, request, params))
    except AdminError as exc:
        headers = {"Allow": ", ".join(exc.extra["allowed"])} if exc.status == 405 else None
        return json_body(exc.body(), exc.status, headers)
    except Exception as exc:  # a handler bug: still JSON, never a traceback
        return json_body({"error": "internal_error", "message": f"{type(exc).__name__}: {exc}"}, 500)
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int):
        return json_body(result[0], result[1])
    return json_body(result)


# -- the built-in endpoints -------------------------------------------------------------


def _index(call: AdminCall):
    """The admin endpoints, the OpenAPI document of each mounted API (and a link to the
    dashboard; HTML for a browser)."""
    endpoints = [{"method": r.method, "path": ADMIN_PREFIX + r.path, "summary": r.summary} for r in ROUTES]
    dashboard = call.request.script_root + ADMIN_PREFIX + "/ui"
    if call.request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html":
        return Response(_index_html(dashboard, endpoints, call.request.script_root), mimetype="text/html")
    documents = [{"api": "admin", "path": ADMIN_PREFIX + "/openapi.json"}]
    documents += [
        {"api": d.name, "path": d.openapi_path} for d in call.app.dialects if getattr(d, "openapi_path", None)
    ]
    return {"dashboard": dashboard, "endpoints": endpoints, "openapi": documents}


def _index_html(dashboard: str, endpoints: list[dict], root: str) -> str:
    from html import escape

    rows = []
    for e in endpoints:
        path = escape(e["path"])
        if e["method"] == "GET" and "{" not in e["path"]:
            path = f'<a href="{escape(root + e["path"])}">{path}</a>'
        rows.append(
            f"<tr><td>{e['method']}</td><td><code>{path}</code></td><td>{escape(e['summary'])}</td></tr>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>fakestack admin</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:24px}td{padding:3px 10px}</style>"
        f'</head><body><h1>fakestack admin</h1><p><a href="{escape(dashboard)}">'
        "Open the dashboard</a> (capacity, clone trees, journal, fault plan, clock)</p>"
        f"<table>{''.join(rows)}</table></body></html>"
    )


# Request bodies of the built-in endpoints that take one (the rest take none).
REQUEST_SCHEMAS: dict[tuple[str, str], dict] = {
    ("POST", "/clock"): {
        "oneOf": [
            {
                "type": "object",
                "required": ["advance"],
                "additionalProperties": False,
                "properties": {"advance": {"type": "number", "minimum": 0}},
            },
            {
                "type": "object",
                "required": ["to"],
                "additionalProperties": False,
                "properties": {
                    "to": {"anyOf": [{"type": "number"}, {"type": "string", "format": "date-time"}]}
                },
            },
        ]
    },
    ("POST", "/faults"): {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
}
QUERY_PARAMETERS: dict[tuple[str, str], list[dict]] = {
    ("GET", "/journal"): [
        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}
    ],
}
ADMIN_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def openapi_document() -> dict:
    """The admin API's OpenAPI 3.1 document, generated from its route table."""
    from .dialects.kit.openapi import document, json_content, operation_id, path_parameter, response

    error = json_content({"$ref": "#/components/schemas/AdminError"})
    paths: dict[str, dict] = {}
    for route in ROUTES:
        params = [path_parameter(s[1:-1]) for s in route.path.split("/") if s.startswith("{")]
        params += QUERY_PARAMETERS.get((route.method, route.path), [])
        op: dict = {
            "operationId": operation_id("admin", route.method, route.path),
            "summary": route.summary,
            "parameters": params,
            "responses": {
                "200": response("done", json_content({})),
                "201": response("created", json_content({})),
                "400": response("a client mistake", error),
                "401": response("the admin token is missing or wrong", error),
                "404": response("not found", error),
                "405": response("method not allowed", error),
                "409": response("conflict (or: invariants broken)", json_content({})),
                "413": response("request body over the limit", error),
            },
        }
        schema = REQUEST_SCHEMAS.get((route.method, route.path))
        if schema is not None:
            op["requestBody"] = {"required": True, "content": json_content(schema)}
        paths.setdefault(ADMIN_PREFIX + (route.path if route.path != "/" else "/"), {})[
            route.method.lower()
        ] = op
    return document(
        "fakestack admin API",
        "Look at and steer a running fake: reset, clock, faults, journal, state.  No "
        "credential on the loopback; X-Fakestack-Admin-Token when serve was given --admin-token.",
        paths,
        components={"schemas": {"AdminError": ADMIN_ERROR}},
        security_schemes={"admin_token": {"type": "apiKey", "in": "header", "name": ADMIN_TOKEN_HEADER}},
    )


def _openapi(call: AdminCall):
    """This API's OpenAPI 3.1 document."""
    return openapi_document()


def _health(call: AdminCall):
    """Liveness, version, topology, seed and the mounted dialects."""
    cloud = call.cloud
    return {
        "status": "ok",
        "version": __version__,
        "topology": cloud.topology.name,
        "seed": cloud.seed,
        "dialects": [d.name for d in call.app.dialects],
    }


def _state(call: AdminCall):
    """The whole state (cloud.snapshot())."""
    return call.cloud.snapshot()


def _reset(call: AdminCall):
    """Back to the initial topology and seed; the clock keeps its time."""
    call.app.reset()
    cloud = call.cloud
    return {"ok": True, "topology": cloud.topology.name, "seed": cloud.seed}


def _parse_time(value: Any) -> float:
    if isinstance(value, bool):
        raise bad_request("'to' must be epoch seconds or an ISO-8601 time")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):  # JSON's NaN / Infinity would stop the clock for good
            raise bad_request("'to' must be a finite number of epoch seconds")
        if value < 0:  # before 1970: in the past of any clock, and not every date renders it
            raise bad_request(f"'to' ({value:g}) is before 1970: the clock only moves forward")
        _within_range(float(value), "'to'")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise bad_request(f"'to' is not an ISO-8601 time: {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    raise bad_request("'to' must be epoch seconds or an ISO-8601 time")


def _within_range(target: float, field_name: str) -> None:
    """400 (and the clock unchanged) for a time the dialects' date formats cannot render."""
    from .model.clock import ClockOutOfRange, check_within_range

    try:
        check_within_range(target)
    except ClockOutOfRange as exc:
        raise bad_request(f"{field_name}: {exc}") from None


def _get_clock(call: AdminCall):
    """The simulated time."""
    return clock_view(call.cloud.clock)


def _set_clock(call: AdminCall):
    """Advance the clock: {"advance": seconds} or {"to": epoch seconds | ISO-8601}."""
    body = call.json(required=True)
    unknown = sorted(set(body) - {"advance", "to"})
    if unknown:
        raise bad_request(f"unknown field {unknown[0]!r} (expected 'advance' or 'to')")
    if ("advance" in body) == ("to" in body):
        raise bad_request("give exactly one of 'advance' (seconds) or 'to' (a time)")
    clock = call.cloud.clock
    if "advance" in body:
        seconds = body["advance"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise bad_request("'advance' must be a number of seconds")
        if not math.isfinite(seconds):
            raise bad_request("'advance' must be a finite number of seconds")
        if seconds < 0:
            raise bad_request("'advance' must not be negative: the clock only moves forward")
        _within_range(clock.now() + seconds, "'advance'")
        call.cloud.tick(seconds)
    else:
        target = _parse_time(body["to"])
        if target < clock.now():
            raise bad_request(
                f"'to' ({iso_utc(target)}) is in the past "
                f"(now {iso_utc(clock.now())}): the clock only moves forward"
            )
        _within_range(target, "'to'")
        clock.move_to(target)
    return clock_view(clock)


def _journal(call: AdminCall):
    """Recent HTTP requests (with dialect) and model operations; ?limit=N (default 100)."""
    limit = call.query_int("limit", 100)
    requests = list(call.app.request_journal)
    operations = list(call.cloud.journal)
    return {
        "requests": requests[-limit:] if limit else [],
        "operations": operations[-limit:] if limit else [],
        "requests_total": call.app.request_seq,
        "operations_total": len(operations),
    }


def _clear_journal(call: AdminCall):
    """Forget the request and operation journals."""
    call.app.request_journal.clear()
    call.cloud.journal.clear()
    call.request.environ["fakestack.journal"] = False  # the journal starts after this request
    return {"ok": True}


def _invariants(call: AdminCall):
    """Run cloud.check_invariants(): 200 when they hold, 409 with the breaches."""
    from .model.errors import InvariantViolation

    try:
        call.cloud.check_invariants()
    except InvariantViolation as exc:
        return {"ok": False, "breaches": list(exc.breaches)}, 409
    return {"ok": True, "breaches": []}


def _capacity(call: AdminCall):
    """The capacity table (cloud.capacity())."""
    return call.cloud.capacity()


for _method, _path, _handler, _mutating in (
    ("GET", "/", _index, None),
    ("GET", "/health", _health, None),
    ("GET", "/state", _state, None),
    ("POST", "/reset", _reset, None),
    ("GET", "/clock", _get_clock, None),
    ("POST", "/clock", _set_clock, None),
    ("GET", "/journal", _journal, None),
    ("DELETE", "/journal", _clear_journal, False),
    ("GET", "/invariants", _invariants, None),
    ("GET", "/capacity", _capacity, None),
):
    register_admin_route(_method, _path, _handler, mutating=_mutating)

# The fault plan (``/faults``, ``/faults/{rule_id}``), then the dashboard (``/ui``,
# ``/ledgers``, ``/trees``), after the built-in endpoints.
for _method, _path, _handler, _mutating, _summary in FAULT_ROUTES + DASHBOARD_ROUTES:
    register_admin_route(_method, _path, _handler, mutating=_mutating, summary=_summary)

# This API's OpenAPI document, after every other endpoint.
register_admin_route("GET", "/openapi.json", _openapi)
