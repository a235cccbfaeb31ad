"""The InstaVM dialect's OpenAPI 3.1 document (``GET /openapi.json``, FastAPI's path),
generated from its route table (``routing.ALL_ENDPOINTS``), the query parameters and the
pydantic body models each endpoint declares.

Errors are FastAPI's: ``{"detail": TEXT}`` for an HTTP error, 422 ``{"detail": [items]}``
for validation.  Known InstaVM endpoints outside the fake's scope answer 501.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter

from ..kit.openapi import document, json_content, operation_id, path_parameter, query_parameter, response
from .routes import ALL_ENDPOINTS, Endpoint

REF = "#/components/schemas/{model}"
HTTP_ERROR = {"type": "object", "required": ["detail"], "properties": {"detail": {}}}
VALIDATION_ERROR = {
    "type": "object",
    "required": ["type", "loc", "msg"],
    "properties": {
        "type": {"type": "string"},
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "input": {},
        "ctx": {"type": "object"},
    },
}
HTTP_VALIDATION_ERROR = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}},
}


# Handlers that answer 501 until a test registers what they stand for (code execution).
NOT_IMPLEMENTED_WITHOUT_A_HOOK = ("execute", "execute_async")


def _errors(endpoint: Endpoint) -> dict:
    error = json_content({"$ref": "#/components/schemas/HTTPError"})
    answers = {
        "307": response("redirect to the path with (or without) its trailing slash"),
        "401": response("no or a wrong API key", error),
        "404": response("not found", error),
        "405": response("method not allowed", error),
        "409": response("conflict with the current state", error),
        "413": response("request body over the limit", error),
        "422": response(
            "validation error", json_content({"$ref": "#/components/schemas/HTTPValidationError"})
        ),
        "400": response("the body could not be parsed", error),
    }
    if endpoint.handler in NOT_IMPLEMENTED_WITHOUT_A_HOOK:
        answers["501"] = response("no code runner registered (fakestack.instavm.on_execute)", error)
    if endpoint.handler == "not_implemented":
        answers["501"] = response("outside fakestack's scope", error)
    else:
        answers.update(
            {
                "403": response("refused (fault injection)", error),
                "429": response("rate limited (fault injection)", error),
                "503": response("no capacity, or a resource is unreachable", error),
                "504": response("timed out", error),
            }
        )
    return answers


def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {
        "HTTPError": HTTP_ERROR,
        "ValidationError": VALIDATION_ERROR,
        "HTTPValidationError": HTTP_VALIDATION_ERROR,
    }
    paths: dict[str, dict] = {}
    for endpoint in ALL_ENDPOINTS:
        params = [path_parameter(name) for name in re.findall(r"\{(\w+)\}", endpoint.pattern)]
        for param in endpoint.query:
            schema = TypeAdapter(param.annotation).json_schema()
            params.append(query_parameter(param.name, schema))
        op: dict[str, Any] = {
            "operationId": operation_id(endpoint.handler, endpoint.method, endpoint.pattern),
            "summary": endpoint.handler.replace("_", " "),
            "parameters": params,
            "responses": {"200": response("success", json_content({})), **_errors(endpoint)},
        }
        if endpoint.body is not None:
            schema = endpoint.body.model_json_schema(ref_template=REF)
            for name, definition in schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(endpoint.body.__name__, schema)
            op["requestBody"] = {
                "required": True,
                "content": json_content({"$ref": REF.format(model=endpoint.body.__name__)}),
            }
        if endpoint.auth == "header":
            op["security"] = [{"api_key": []}, {"bearer": []}]
        paths.setdefault(endpoint.pattern, {})[endpoint.method.lower()] = op
    return document(
        "fakestack InstaVM API",
        "The InstaVM endpoints fakestack serves (501 for the known ones it does not), "
        "generated from its route table and request models.",
        paths,
        components={"schemas": components},
        security_schemes={
            "api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "bearer": {"type": "http", "scheme": "bearer"},
        },
    )
