"""The vSphere dialect: ``/rest`` and ``/api`` REST, and vAPI JSON-RPC on ``POST /api``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from werkzeug.wrappers import Request, Response

from fakestack import faults

from ..kit.cloud import DialectCloud
from ..kit.json_input import JsonInputError, parse_json
from . import jsonrpc, specs
from .choices import Choices
from .errors import VapiError, translate, vapi_error
from .filters import REST_PREFIX, parse_filter
from .inventory import Inventory
from .registry import LOGIN, OPERATIONS, Operation
from .render import VSPHERE_JSON
from .routes import API, PREFIXES, REST, ROUTE_TABLES, Route
from .sessions import (
    CHALLENGE,
    COOKIE_NAME,
    READ_ONLY,
    SESSION_HEADER,
    SessionStore,
    parse_basic_authorization,
)
from .vapi_types import RPC

NAME = "vsphere"
SESSION_SERVICE = "com.vmware.cis.session"


@dataclass
class Call:
    """What a handler sees of one request."""

    dialect: VsphereDialect
    surface: str
    operation: Operation
    token: str | None = None
    session: dict | None = None  # the caller's session record (None while logging in)
    subject: str | None = None  # the VM id an error message names (delta chain limit)
    fault_fired: bool = False
    _inventory: Inventory | None = None

    def fault_point(self, **targets: Any) -> None:
        """The dialect operation's fault point (``vsphere:<service>.<operation>``, §9 #21).

        Mutating handlers call it after their own precondition checks, just before the
        model is touched (reference §4.2 row 14 comes last); read-only operations pass it
        before answering.  An injected error is rendered like a real one."""
        if self.fault_fired:
            return
        self.fault_fired = True
        faults.dialect_point(self.cloud, self.operation.fault_name, targets)

    @property
    def cloud(self):
        return self.dialect.cloud

    # Read once per request (the dialect re-reads them from the cloud for every request).
    @cached_property
    def state(self) -> dict:
        return self.dialect.state

    @cached_property
    def choices(self) -> Choices:
        return self.dialect.choices

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(self.cloud, self.state, self.choices)

    @property
    def inventory(self) -> Inventory:
        if self._inventory is None:
            self._inventory = self.dialect.inventory(self.state)
        return self._inventory


_json = VSPHERE_JSON.response


class VsphereDialect:
    name = NAME
    openapi_path = "/api/openapi.json"  # its OpenAPI 3.1 document
    prefixes = (PREFIXES[REST], PREFIXES[API])

    def __init__(self, cloud: DialectCloud, choices: Choices | None = None) -> None:
        self.cloud = cloud
        self._base_choices = choices or Choices()
        self._numbered: tuple[dict, int] | None = None  # (state, journal_seq) of the last sync
        # Load every module that registers operations.
        from . import handlers  # noqa: F401

    # State is re-read on every request: Cloud.restore may have replaced it.
    @property
    def state(self) -> dict:
        return self.cloud.dialect_state(NAME)

    @property
    def choices(self) -> Choices:
        return Choices.from_state(self.state, self._base_choices)

    def inventory(self, state: dict) -> Inventory:
        """The inventory over ``state``, every model object numbered.

        Numbering is a pass over every object of the model, so it runs only when the model
        may have objects it has not seen: its journal has moved (every model operation is
        journaled) or the state is another one (reset, restore)."""
        inventory = Inventory(self.cloud, state)
        mark = self._numbered
        seq = self.cloud.journal_seq
        if mark is None or mark[0] is not state or mark[1] != seq:
            inventory.sync()
            self._numbered = (state, seq)
        return inventory

    def default_credentials(self) -> dict:
        """What ``fakestack serve`` prints (the configured user, §9 #16)."""
        choices = self.choices
        return {"username": choices.username, "password": choices.password}

    # --- entry ------------------------------------------------------------------------

    def payload_too_large(self, request: Request, limit: int) -> Response:
        """JSON-RPC: a JSON-RPC error (no id can be read); REST: the surface's vAPI error."""
        text = f"the request body exceeds the limit of {limit} bytes"
        path = request.path
        if path.rstrip("/") == PREFIXES[API] and request.method == "POST":
            body = jsonrpc.ProtocolError(jsonrpc.INVALID_REQUEST, None, text).body()
            return _json(body, 413)
        surface = REST if path == PREFIXES[REST] or path.startswith(PREFIXES[REST] + "/") else API
        response = self.rest_error(surface, vapi_error("body_too_large", limit))
        response.status_code = 413
        return response

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == PREFIXES[API] + "/openapi.json" and request.method in ("GET", "HEAD"):
            from .openapi import openapi_document

            return _json(openapi_document(), 200)
        if path.rstrip("/") == PREFIXES[API] and request.method == "POST":
            return self.handle_jsonrpc(request)
        surface = REST if path == PREFIXES[REST] or path.startswith(PREFIXES[REST] + "/") else API
        try:
            return self.handle_rest(surface, request)
        except VapiError as err:
            return self.rest_error(surface, err)
        except Exception as exc:  # a bug of the fake: still answer in the API's own shape
            return self.internal_error(request, exc)

    def internal_error(self, request: Request, exc: Exception) -> Response:
        """A bug of the fake: vAPI's ``internal_server_error`` in the surface's shape
        (JSON-RPC: HTTP 200 with ``result.error``; the request id when it can be read)."""
        err = vapi_error("internal", f"{type(exc).__name__}: {exc}")
        path = request.path
        if path.rstrip("/") == PREFIXES[API] and request.method == "POST":
            try:
                request_id = jsonrpc.parse_invocation(request.get_data()).request_id
            except Exception:
                request_id = None
            return _json(jsonrpc.error_body(request_id, err.rpc_value()), 200)
        surface = REST if path == PREFIXES[REST] or path.startswith(PREFIXES[REST] + "/") else API
        return self.rest_error(surface, err)

    # --- running an operation -----------------------------------------------------------

    def invoke(self, call: Call, raw_input: dict) -> Any:
        op = call.operation
        if (
            call.session is not None
            and call.session.get("role") == READ_ONLY
            and not op.reads_only
            and op.service != SESSION_SERVICE
        ):
            raise vapi_error("not_authorized")
        inp = specs.validate(op.input_model, raw_input)
        try:
            output = op.handler(call, inp)
            call.fault_point()
            return output
        except VapiError:
            raise
        except Exception as exc:  # a domain error or a bug: never a stack trace on the wire
            translated = translate(call, exc)
            if translated is not None:
                raise translated from exc
            raise vapi_error("internal", f"{type(exc).__name__}: {exc}") from exc

    # --- REST ---------------------------------------------------------------------------

    def rest_error(self, surface: str, err: VapiError) -> Response:
        choices = self.choices
        if surface == API:
            if err.name == "unauthenticated" and err.challenge is None:
                err = VapiError(err.name, err.messages, CHALLENGE)
            return _json(err.api_body(), err.status(API))
        status = err.status(REST, choices.rest_spec_statuses)
        return _json(err.rest_body(choices.rest_error_type_in_value), status)

    def _match(self, surface: str, request: Request) -> tuple[Route, dict]:
        table = ROUTE_TABLES[surface]
        sub_path = table.relative(request.path) or "/"
        candidates = [(route.target, params) for route, params in table.matches(request.method, sub_path)]
        if not candidates:
            raise vapi_error("url_not_found", sub_path)
        action_keys = ("action", "~action") if surface == REST else ("action",)
        action = next((request.args.get(k) for k in action_keys if k in request.args), None)
        for route, params in candidates:
            if route.action == action:
                return route, params
        raise specs.unexpected([next(k for k in action_keys if k in request.args)] if action else ["action"])

    def handle_rest(self, surface: str, request: Request) -> Response:
        route, path_params = self._match(surface, request)
        request.environ["fakestack.operation"] = _operation_label(route.service, route.operation)
        op = OPERATIONS.get((route.service, route.operation))
        if op is None:
            raise vapi_error("url_not_found", request.path[len(PREFIXES[surface]) :])
        call = Call(self, surface, op)
        self._authenticate_rest(call, request)
        raw_input = dict(path_params)
        action_keys = {"action", "~action"} if surface == REST else {"action"}
        allowed = action_keys if route.action else set()
        if surface == API and route.operation == "clone" and "vmw-task" in request.args:
            raise vapi_error("unsupported", "Tasks (vmw-task) are not supported by this endpoint.")
        # The body first: a body that is not JSON (§4.2 row 2) answers before unknown
        # parameters (row 3); unknown body fields and query parameters join the input as
        # extra fields, so that validation reports a missing field before them.
        unexpected: dict[str, Any] = {}
        if route.body:
            body = self._json_body(request)
            if surface == REST:
                if not isinstance(body, dict):
                    specs.validate(op.input_model, body)  # not a structure: raises invalid_argument
                raw_input.update({k: v for k, v in body.items() if k not in path_params})
                unexpected.update({k: v for k, v in body.items() if k in path_params})
            elif route.body_field is None:
                if not isinstance(body, dict):
                    specs.validate(op.input_model, body)
                raw_input.update({k: v for k, v in body.items() if k not in path_params})
                unexpected.update({k: v for k, v in body.items() if k in path_params})
            else:
                raw_input[route.body_field] = body
        else:
            ignored = self._json_body(request, strict=False)
            if isinstance(ignored, dict):
                unexpected.update(ignored)
        if route.filter is not None:
            filter_value = parse_filter(
                route.filter,
                request.args.items(multi=True),
                prefix=REST_PREFIX if surface == REST else "",
                allowed_other=allowed,
            )
            if filter_value is not None:
                raw_input["filter"] = filter_value
        else:
            unexpected.update({k: v for k, v in request.args.items() if k not in allowed})
        clashing = [k for k in unexpected if k in raw_input or k in op.input_model.model_fields]
        if clashing:
            raise specs.unexpected(clashing)
        raw_input.update(unexpected)
        output = self.invoke(call, raw_input)
        return self._rest_output(surface, route, call, op, output, request)

    def _json_body(self, request: Request, strict: bool = True) -> Any:
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            return parse_json(raw.decode("utf-8"))
        except (UnicodeDecodeError, JsonInputError) as exc:
            if not strict:  # a body on a call that takes none is only looked at for fields
                return None
            if isinstance(exc, JsonInputError) and not exc.unparsable:
                raise vapi_error("value_invalid", str(exc)) from None
            raise vapi_error("body_not_json", str(exc)) from None

    def _authenticate_rest(self, call: Call, request: Request) -> None:
        sessions = call.sessions
        if call.operation.auth == LOGIN:
            credentials = parse_basic_authorization(request.headers.get("Authorization"))
            user, password = credentials if credentials else (None, None)
            call.token = sessions.login(user, password)
            return
        token = request.headers.get(SESSION_HEADER) or request.cookies.get(COOKIE_NAME)
        call.session = sessions.authenticate(token)
        call.token = token

    def _rest_output(self, surface, route, call, op, output, request) -> Response:
        headers = {}
        if (
            surface == REST
            and op.auth == LOGIN
            and request.headers.get("vmware-use-header-authn", "").lower() != "true"
        ):
            headers["Set-Cookie"] = f"{COOKIE_NAME}={call.token}; Path={call.choices.cookie_path}; HttpOnly"
        if output is None:
            return Response(b"", status=route.void_status, headers=headers)
        encoded = op.output.encode(output, surface)
        if surface == REST:
            return _json({"value": encoded}, route.status, headers)
        return _json(encoded, route.status, headers)

    # --- JSON-RPC -----------------------------------------------------------------------

    def handle_jsonrpc(self, request: Request) -> Response:
        try:
            invocation = jsonrpc.parse_invocation(request.get_data())
        except jsonrpc.ProtocolError as err:
            return _json(err.body(), 200)
        try:
            if invocation.invalid_value is not None:
                raise vapi_error("value_invalid", invocation.invalid_value)
            op = OPERATIONS.get((invocation.service, invocation.operation))
            request.environ["fakestack.operation"] = _operation_label(
                invocation.service, invocation.operation
            )
            if op is None:
                raise vapi_error("operation_not_found", invocation.service, invocation.operation)
            call = Call(self, RPC, op)
            self._authenticate_rpc(call, invocation)
            output = self.invoke(call, invocation.input)
            return _json(jsonrpc.output_body(invocation.request_id, op.output.encode(output, RPC)), 200)
        except VapiError as err:
            return _json(jsonrpc.error_body(invocation.request_id, err.rpc_value()), 200)
        except Exception as exc:  # a bug of the fake: still a vAPI error the SDK can raise
            err = vapi_error("internal", f"{type(exc).__name__}: {exc}")
            return _json(jsonrpc.error_body(invocation.request_id, err.rpc_value()), 200)

    def _authenticate_rpc(self, call: Call, invocation: jsonrpc.Invocation) -> None:
        security = invocation.security
        sessions = call.sessions
        if call.operation.auth == LOGIN:
            if invocation.scheme != jsonrpc.SCHEME_USER_PASS:
                raise vapi_error("login_failed")
            call.token = sessions.login(security.get("userName"), security.get("password"))
            return
        if invocation.scheme != jsonrpc.SCHEME_SESSION:
            raise vapi_error("no_session")
        token = security.get("sessionId")
        call.session = sessions.authenticate(token if isinstance(token, str) else None)
        call.token = token


def create_dialect(cloud: DialectCloud, **overrides: Any) -> VsphereDialect:
    return VsphereDialect(cloud, Choices(**overrides) if overrides else None)


def _operation_label(service: str, operation: str) -> str:
    """``com.vmware.vcenter.VM`` + ``instant_clone`` -> ``VM.instant_clone`` (recordings)."""
    return f"{service.rsplit('.', 1)[-1]}.{operation}"
