"""The ZStack REST dialect: transport checks, routing, the API pipeline, async jobs.

Request flow (reference §11.5): transport checks (plain-text 4xx) -> parameter checks
(SYS.1007) -> session (ID.1001) -> resource existence (SYS.1003) -> handler.  The server
checks resources before the session; the fake authenticates first so that a caller
without a session cannot probe which uuids exist.  Sync APIs
answer 200/503 at once; async APIs answer 202 with a ``location`` and the outcome is read
from ``/v1/api-jobs/{uuid}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from werkzeug.wrappers import Request, Response

from fakestack import faults
from fakestack.model.errors import DomainError

from ..kit.body import request_data
from ..kit.cloud import DialectCloud
from ..kit.json_input import JsonInputError, parse_json
from ..kit.routing import Router
from . import jobs, render, sessions, webhooks
from .catalog import APIS
from .errors import (
    VO_NAMES,
    ApiError,
    TransportError,
    error_code,
    error_from_domain,
    resource_not_found,
    text_response,
)
from .params import (
    V4_UUID,
    normalize,
    param_specs,
    params_from_query,
    validate,
    verify_types,
)
from .query import Condition, QuerySpec, query_args, spec_from_args
from .registry import BINDINGS, Call
from .render import accepted_response, json_response
from .resources import find
from .routes import route_table

DEFAULT_API_TIMEOUT_MS = 1_800_000
LONG_API_TIMEOUTS_MS = {
    "CloneVmInstance": 129_600_000,
    "CreateVmBackup": 129_600_000,
    "CreateVolumeBackup": 86_400_000,
}

_JOB_PATH = re.compile(r"^/api-jobs/([^/]+)/?$")


@dataclass
class Outcome:
    ok: bool
    payload: dict | None = None
    error: dict | None = None
    stage: str = "handler"


_ROUTES: dict[int, Router] = {}

# Job URLs before the uuid, by the request's scheme, Host header, server address, port and
# context (``ZStackDialect._location``); a few places in practice, so a small table.
_JOB_URL_PREFIXES: dict[tuple, str] = {}
_JOB_URL_PREFIXES_KEPT = 64

# What a way of calling selected (``ZStackDialect._select``): (API, URL variable names,
# their values), by path, method, body keys and route table.
_SELECTED: dict[tuple, tuple[str, tuple, tuple]] = {}
_SELECTED_KEPT = 4096


def _route_table() -> Router:
    """The router of every bound API: the same for every cloud, so built once per set of
    bindings (a fixture makes an app per test) and only read afterwards."""
    routes = _ROUTES.get(len(BINDINGS))
    if routes is None:
        routes = route_table()
        _ROUTES.clear()
        _ROUTES[len(BINDINGS)] = routes
        _SELECTED.clear()  # what the tables before selected (it keeps them alive otherwise)
    return routes


class ZStackDialect:
    name = "zstack"
    openapi_path = "/zstack/v1/openapi.json"  # its OpenAPI 3.1 document
    prefixes = ("/zstack", "/v1")

    def __init__(self, cloud: DialectCloud) -> None:
        from . import handlers  # noqa: F401 - importing registers the API handlers
        from .legacy import LegacyEndpoint

        self.cloud = cloud
        self.legacy = LegacyEndpoint(self)
        self.sources = render.sources(cloud)
        self.webhook_sender = webhooks.background_sender
        # Web hooks go out as soon as the clock completes their jobs: the cloud runs its time
        # listeners on every tick and before every request the app serves.
        cloud.on_time(self._on_time)
        sessions.ensure_defaults(self.state)

    @cached_property
    def routes(self) -> Router:
        """The route table, looked up at the first request (not at start: building it
        costs more than everything else a ``serve`` does before its first answer)."""
        return _route_table()

    def _on_time(self, cloud) -> None:
        if self.state.get("webhookPending"):
            webhooks.deliver_due(self.state, cloud, self.now(), self.webhook_sender)

    # -- shared state ----------------------------------------------------------------
    @property
    def state(self) -> dict:
        return self.cloud.dialect_state(self.name)

    def now(self) -> float:
        return self.cloud.clock.now()

    def new_uuid(self) -> str:
        """A deterministic 32-hex uuid in v4 form, from the cloud's seeded generator."""
        return self.cloud.ids.uuid()

    def set_account(self, name: str, password: str) -> None:
        sessions.set_account(self.state, name, password)

    def set_user(self, name: str, password: str, account: str = "admin") -> None:
        """Add a user of ``account`` (or change its password), for LogInByUser."""
        sessions.set_user(self.state, name, password, account)

    def allow_webhook_host(self, host: str) -> None:
        """Let ``X-Web-Hook`` URLs name ``host`` (by default only the loopback)."""
        webhooks.allow_host(self.state, host)

    # -- entry point -----------------------------------------------------------------
    def payload_too_large(self, request: Request, limit: int) -> Response:
        """The servlet container's refusal: plain text, as every transport error."""
        return text_response(f"the request body exceeds the limit of {limit} bytes", 413)

    def handle(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except TransportError as exc:
            return text_response(exc.text, exc.status)
        except Exception as exc:  # last resort: never a traceback
            return self.internal_error(request, exc)

    def internal_error(self, request: Request, exc: Exception) -> Response:
        """A bug of the fake outside the API pipeline: the API-level ErrorCode the server
        gives an unexpected failure (``SYS.1000``, 503), as ``execute`` does inside it."""
        error = error_code("SYS.1000", f"{type(exc).__name__}: {exc}")
        return json_response({"error": error.to_dict()}, 503)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/zstack/api" or path.startswith("/zstack/api/"):
            return self.legacy.handle(request)
        if path == "/zstack/v1" or path.startswith("/zstack/v1/"):
            context, relative = "/zstack", path[len("/zstack/v1") :]
        elif path == "/v1" or path.startswith("/v1/"):
            context, relative = "", path[len("/v1") :]
        else:
            raise TransportError(404, f"no api mapping to {path}")
        if context and relative == "/openapi.json" and request.method in ("GET", "HEAD"):
            from .openapi import openapi_document

            return json_response(openapi_document(context), 200)
        job = _JOB_PATH.match(relative)
        if job:
            return self._poll(request, job.group(1))
        return self._rest_api(request, context, relative)

    # -- async job polling (before authentication) -------------------------------------
    def _poll(self, request: Request, uuid: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise TransportError(405, "only GET method is allowed for querying job status")
        now = self.now()
        job = jobs.lookup(self.state, uuid, now, self.cloud)
        if job is None:
            raise TransportError(404, "the job has been expired")
        if jobs.is_running(job, now, self.cloud):
            return json_response({}, 202)
        ok, data = jobs.outcome(job)
        if ok:
            return json_response(data, 200)
        return json_response({"error": data}, 503)

    # -- REST APIs ---------------------------------------------------------------------
    def _read_body(self, request: Request) -> dict:
        raw = request_data(request)  # request.get_data(cache=True)
        if not raw.strip():
            return {}
        try:
            body = parse_json(raw)
        except JsonInputError as exc:
            if exc.unparsable:
                raise TransportError(400, f"the body is not valid JSON: {exc}") from None
            # the REST layer's type check (TypeVerifier), before the API sees the field
            raise TransportError(400, f"{exc}.") from None
        if not isinstance(body, dict):
            raise TransportError(400, "the body must be a JSON object")
        return body

    def _select(self, request: Request, relative: str, body: dict) -> tuple[str, dict[str, str]]:
        """The API a request calls, and its URL variables.  What a path selects depends only
        on the route table, the method and (PUT) which keys the body has: kept for the
        next request that comes the same way (clients repeat paths: one VM cloned again
        and again, one collection queried)."""
        routes = self.routes
        way = (relative, request.method, tuple(body) if body else (), routes, routes.version)
        selected = _SELECTED.get(way)
        if selected is None:
            selected = self._select_route(request, relative, body)
            if len(_SELECTED) >= _SELECTED_KEPT:
                _SELECTED.clear()
            _SELECTED[way] = selected
        name, names, values = selected
        return name, dict(zip(names, values))

    def _select_route(self, request: Request, relative: str, body: dict) -> tuple[str, tuple, tuple]:
        candidates = self.routes.candidate_values(relative)
        # The most specific template decides, as on the server; a path of the real API
        # the fake does not serve is an unknown API here, whatever less specific
        # template also matches (routes.route_table).
        if not candidates or candidates[0][0].target is None:
            raise TransportError(404, f"no api mapping to /v1{relative}")
        method = "GET" if request.method == "HEAD" else request.method
        served = False
        for (
            route,
            values,
        ) in candidates:  # in order: the first of the method (PUT: whose wrapper is in the body)
            if route.method != method:
                continue
            served = True
            if method != "PUT" or APIS[route.target]["wrapper"] in body:
                return route.target, route.names, values
        if not served:
            raise TransportError(
                405, f"The method[{request.method}] is not allowed for the path[/v1{relative}]"
            )
        raise TransportError(400, f"the body doesn't contain action mapping to the URL[{request.path}]")

    def _rest_api(self, request: Request, context: str, relative: str) -> Response:
        method = request.method
        body = self._read_body(request) if method in ("POST", "PUT") else {}
        name, url_vars = self._select(request, relative, body)
        request.environ["fakestack.operation"] = name  # named in recordings
        api = APIS[name]
        call = self._call_from_request(request, name, api, body, url_vars)
        environ = request.environ  # headers read as EnvironHeaders.get reads them
        job_uuid = environ.get("HTTP_X_JOB_UUID")
        if job_uuid is not None:
            if len(job_uuid) != 32:
                raise TransportError(400, "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped")
            if api["async"] and method != "GET" and jobs.exists(self.state, job_uuid, self.now(), self.cloud):
                raise TransportError(400, f"Duplicate job uuid[{job_uuid}]")
        hook = environ.get("HTTP_X_WEB_HOOK")
        if hook is not None:
            problem = webhooks.check_url(hook, webhooks.allowed_hosts(self.state))
            if problem is not None:
                raise TransportError(400, f"Invalid header[X-Web-Hook]: {problem}, but was [{hook}]")
        api_timeout = self._api_timeout(request, name) if api["async"] else None
        if api["needSession"]:
            self._authenticate(request, relative, call)

        outcome = self.execute(call)
        is_query = name.startswith("Query")
        if outcome.ok and (
            is_query or (call.has_schema and environ.get("HTTP_X_JSON_SCHEMA", "").lower() == "true")
        ):
            outcome.payload = dict(outcome.payload or {}, schema=call.reply_schema() or {})
        if not api["async"]:
            if outcome.ok:
                return json_response(outcome.payload, 200)
            return json_response({"error": outcome.error}, 503)
        job_uuid = job_uuid or self.new_uuid()
        now = self.now()
        job = jobs.record(
            self.state,
            job_uuid,
            api=name,
            now=now,
            model_job=call.model_job,
            ok=outcome.ok,
            payload=outcome.payload,
            error=outcome.error,
            stage=outcome.stage,
            cloud=self.cloud,
        )
        if hook:
            webhooks.register(self.state, job, hook)
            webhooks.deliver_due(self.state, self.cloud, now, self.webhook_sender)
        return accepted_response(self._location(request, context, job_uuid), api_timeout)

    def _call_from_request(
        self, request: Request, name: str, api: dict, body: dict, url_vars: dict[str, str]
    ) -> Call:
        """The message fields: the body wrapper (POST/PUT) or the query string (GET/DELETE),
        tags from the top level or inside the wrapper, URL variables last (they win)."""
        specs = param_specs(api)
        call = Call(dialect=self, name=name, api=api, fields={})
        if request.method in ("POST", "PUT"):
            key = api["wrapper"] if api["wrapper"] is not None else "null"
            wrapped = body.get(key)
            if wrapped is None:
                wrapped = {}
            if not isinstance(wrapped, dict):
                raise TransportError(400, f"the value of [{key}] in the body must be a JSON object")
            fields = dict(wrapped)
            for tag_key, bucket in (("systemTags", call.system_tags), ("userTags", call.user_tags)):
                for source in (body.get(tag_key), fields.pop(tag_key, None)):
                    if source is None:
                        continue
                    if not isinstance(source, list):
                        raise TransportError(
                            400, f"[{tag_key}] field is excepted a list, but was [{source}]."
                        )
                    bucket.extend(str(t) for t in source)
            verify_types(fields, specs)
            fields = normalize(fields, specs)
        elif name.startswith("Query"):
            fields = {}
            if "uuid" in url_vars:  # GET /resources/{uuid}: other parameters are ignored
                call.query = QuerySpec(conditions=[Condition("uuid", "=", url_vars.pop("uuid"))])
            else:
                # request.args's own parse, without building its MultiDict
                call.query = spec_from_args(query_args(request.query_string))
        else:
            fields = params_from_query(request.args, specs)
            for tag_key, bucket in (("systemTags", call.system_tags), ("userTags", call.user_tags)):
                bucket.extend(str(t) for t in fields.pop(tag_key, None) or [])
        fields.update(url_vars)
        call.fields = fields
        return call

    def _authenticate(self, request: Request, relative: str, call: Call) -> None:
        authorization = request.environ.get("HTTP_AUTHORIZATION")
        if not authorization:
            raise TransportError(400, "missing header 'Authorization'")
        if authorization.startswith("OAuth "):
            call.session_uuid = authorization[len("OAuth ") :].strip()
            return
        if authorization.startswith("ZStack "):
            template = APIS[call.name]["path"]
            call.session = sessions.check_access_key(
                self.state,
                authorization,
                request.headers.get("Date"),
                request.method,
                ["/v1" + relative, "/v1" + template],
                self.now(),
            )
            return
        raise TransportError(400, "Authorization type must be 'OAuth'")

    @staticmethod
    def _location(request: Request, context: str, job_uuid: str) -> str:
        """The job's URL: the part before the uuid depends only on where the request came
        in (scheme, Host header, server address and port), so it is made once per place."""
        environ = request.environ
        place = (
            (request.scheme, environ.get("HTTP_HOST"), request.server, environ.get("SERVER_PORT"), context)
            if request.trusted_hosts is None  # a list would be no key (and is never set here)
            else None
        )
        prefix = _JOB_URL_PREFIXES.get(place) if place is not None else None
        if prefix is None:
            prefix = ZStackDialect._job_url_prefix(request, context)
            if place is not None:
                if len(_JOB_URL_PREFIXES) >= _JOB_URL_PREFIXES_KEPT:
                    _JOB_URL_PREFIXES.clear()
                _JOB_URL_PREFIXES[place] = prefix
        return prefix + job_uuid

    @staticmethod
    def _job_url_prefix(request: Request, context: str) -> str:
        host = request.host
        if ":" not in host.rsplit("]", 1)[-1]:
            host = f"{host}:{request.environ.get('SERVER_PORT', '80')}"
        # The scheme the request came in on: https under `serve --tls` or fakestack.mock
        # on an https URL (a real management node answers plain http on 8080).
        return f"{request.scheme}://{host}{context}/v1/api-jobs/"

    @staticmethod
    def _api_timeout(request: Request, name: str) -> int:
        override = request.environ.get("HTTP_X_API_TIMEOUT")
        if override:
            try:
                return int(float(override) * 1000)
            except (ValueError, OverflowError):  # also "nan" and "inf"
                raise TransportError(
                    400, f"Invalid header[X-API-Timeout], it must be a number but was [{override}]"
                ) from None
        return LONG_API_TIMEOUTS_MS.get(name, DEFAULT_API_TIMEOUT_MS)

    # -- the API pipeline (shared with the legacy endpoint) ----------------------------
    def execute(self, call: Call) -> Outcome:
        binding = BINDINGS[call.name]
        try:
            call.fields = validate(call.api, call.fields)
            # The session before anything that reads the cloud: a caller without one must
            # not learn whether a uuid exists (a delete of a missing resource succeeds).
            # Parameter checks stay first, as on the server: they depend on nothing stored.
            if call.api["needSession"] and call.session is None:
                call.session = sessions.check_session(self.state, call.session_uuid, self.now())
            if self._check_resources(call, binding):
                return Outcome(ok=True, payload={})
            if self.cloud.faults is not None:
                faults.dialect_point(
                    self.cloud, f"{self.name}:{call.name}", self._fault_targets(call, binding)
                )
            payload = binding.handler(call)
            if call.system_tags or call.user_tags:
                self._remember_tags(call, payload)
            return Outcome(ok=True, payload=payload)
        except ApiError as exc:
            return Outcome(ok=False, error=exc.error.to_dict(), stage=exc.stage)
        except DomainError as exc:
            error = error_from_domain(
                exc,
                operation=binding.operation,
                message_class=call.message_class,
                context=self._error_context(call, binding, exc),
            )
            return Outcome(ok=False, error=error.to_dict())
        except TransportError:
            raise
        except Exception as exc:  # an unexpected failure is SYS.1000, never a traceback
            return Outcome(ok=False, error=error_code("SYS.1000", f"{type(exc).__name__}: {exc}").to_dict())

    def _remember_tags(self, call: Call, payload: dict) -> None:
        """Keep the tags a create API was given, for ``__systemTag__``/``__userTag__`` queries."""
        if call.api["method"] != "POST" and call.name != "CloneVmInstance":
            return  # only the APIs that create resources tag them
        created = []
        if isinstance(payload.get("inventory"), dict):
            created.append(payload["inventory"])
        created.extend(i for i in payload.get("inventories", []) if isinstance(i, dict))
        result = payload.get("result")
        if isinstance(result, dict):
            created.extend(
                e["inventory"]
                for e in result.get("inventories", [])
                if isinstance(e, dict) and "inventory" in e and "error" not in e
            )
        if not created:
            return
        store = self.state.setdefault("tags", {})
        for inventory in created:
            uuid = inventory.get("uuid")
            if uuid:
                entry = store.setdefault(uuid, {"system": [], "user": []})
                entry["system"].extend(t for t in call.system_tags if t not in entry["system"])
                entry["user"].extend(t for t in call.user_tags if t not in entry["user"])

    @staticmethod
    def _fault_targets(call: Call, binding) -> dict[str, Any]:
        """What a fault rule's ``resource`` filter can match: the uuids and names involved."""
        targets: dict[str, Any] = {}
        for field_name, kind in binding.resources.items():
            value = call.fields.get(field_name)
            if value is not None:
                targets[kind if kind not in targets else field_name] = value
        for key in ("name", "names"):
            if call.fields.get(key) is not None:
                targets[key] = call.fields[key]
        return targets

    def _error_context(self, call: Call, binding, exc: DomainError) -> dict[str, Any]:
        context: dict[str, Any] = dict(call.error_context)
        key = getattr(exc, "key", None) or getattr(exc, "uuid", None)
        for field_name in binding.resources:
            if call.fields.get(field_name) == key:
                context["field"] = field_name
                break
        return context

    def _check_resources(self, call: Call, binding) -> bool:
        """SYS.1003 for unknown uuids; True when a delete of a missing resource succeeds."""
        for field_name, kind in binding.resources.items():
            value = call.fields.get(field_name)
            if value is None:
                continue
            vo = VO_NAMES.get(kind, kind)
            if isinstance(value, list):
                missing = [v for v in value if find(self.cloud, kind, v) is None]
                if missing:
                    raise ApiError(
                        error_code(
                            "SYS.1003",
                            f"invalid field[{field_name}], resource[uuids:[{', '.join(map(str, missing))}], "
                            f"type:{vo}] not found",
                        ),
                        stage="interceptor",
                    )
                continue
            if find(self.cloud, kind, value) is not None:
                continue
            if field_name == binding.delete_if_missing:
                if V4_UUID.match(str(value)):
                    return True
                raise ApiError(
                    error_code("SYS.1003", f"invalid value[{value}] of field [{field_name}]"),
                    stage="interceptor",
                )
            raise resource_not_found(field_name, value, vo)
        return False
