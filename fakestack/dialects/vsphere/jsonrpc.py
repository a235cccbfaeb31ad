"""The vAPI JSON-RPC 2.0 envelope on ``POST /api`` (reference §7.1, §7.5).

Every answer is HTTP 200: ``result.output`` on success, ``result.error`` for a vAPI error,
and a JSON-RPC ``error`` object (codes of the runtime's ``JsonRpc20Error``) for a request
that is not a well-formed vAPI invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..kit.json_input import JsonInputError, has_surrogate, parse_json
from .vapi_types import RpcDecodeError, decode_rpc

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

MESSAGES = {
    PARSE_ERROR: "Parse error.",
    INVALID_REQUEST: "Invalid Request.",
    METHOD_NOT_FOUND: "Method not found.",
    INVALID_PARAMS: "Invalid params.",
    INTERNAL_ERROR: "Internal error.",
}

SCHEME_SESSION = "com.vmware.vapi.std.security.session_id"
SCHEME_USER_PASS = "com.vmware.vapi.std.security.user_pass"


class ProtocolError(Exception):
    def __init__(self, code: int, request_id: Any = None, data: str | None = None) -> None:
        super().__init__(MESSAGES[code])
        self.code = code
        self.request_id = request_id
        self.data = data

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": MESSAGES[self.code]}
        if self.data:
            error["data"] = self.data
        return {"jsonrpc": "2.0", "id": self.request_id, "error": error}


@dataclass
class Invocation:
    request_id: Any
    service: str
    operation: str
    input: dict
    security: dict
    # Text that is not Unicode or a number that is not finite somewhere in the request:
    # answered as vAPI's invalid_argument once the request id is known.
    invalid_value: str | None = None

    @property
    def scheme(self) -> str | None:
        return self.security.get("schemeId")


def parse_invocation(raw: bytes) -> Invocation:
    invalid_value = None
    try:
        envelope = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError(PARSE_ERROR) from None
    except JsonInputError as exc:
        if exc.unparsable:
            raise ProtocolError(PARSE_ERROR) from None
        envelope, invalid_value = exc.document, str(exc)
    if not isinstance(envelope, dict) or envelope.get("jsonrpc") != "2.0" or "method" not in envelope:
        raise ProtocolError(INVALID_REQUEST)
    request_id = envelope.get("id")
    if (
        not isinstance(request_id, (str, int))
        or isinstance(request_id, bool)
        or (isinstance(request_id, str) and has_surrogate(request_id))
    ):
        raise ProtocolError(INVALID_REQUEST)
    if invalid_value is not None:
        return Invocation(request_id, "", "", {}, {}, invalid_value)
    if envelope["method"] != "invoke":
        raise ProtocolError(METHOD_NOT_FOUND, request_id)
    params = envelope.get("params")
    if not isinstance(params, dict):
        raise ProtocolError(INVALID_REQUEST, request_id)
    service, operation = params.get("serviceId"), params.get("operationId")
    if not isinstance(service, str) or not isinstance(operation, str) or "input" not in params:
        raise ProtocolError(INVALID_PARAMS, request_id)
    ctx = params.get("ctx") or {}
    security = ctx.get("securityCtx") if isinstance(ctx, dict) else None
    try:
        decoded = decode_rpc(params["input"])
    except RpcDecodeError as exc:
        raise ProtocolError(INVALID_PARAMS, request_id, str(exc)) from None
    if not isinstance(decoded, dict):
        raise ProtocolError(INVALID_PARAMS, request_id, "input is not a structure")
    return Invocation(request_id, service, operation, decoded, security if isinstance(security, dict) else {})


def output_body(request_id: Any, output: Any) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "result": {"output": output}}


def error_body(request_id: Any, error_value: dict) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "result": {"error": error_value}}
