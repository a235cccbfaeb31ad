"""The vSphere dialect's OpenAPI 3.1 document (``GET /api/openapi.json``), generated from
its route tables (``routes.ROUTES``, both ``/rest`` and ``/api``), the operations they
serve (``registry.OPERATIONS``) and the operations' pydantic input models (``specs``),
plus the vAPI JSON-RPC endpoint (``POST /api``).

Error shapes (reference §3): ``/rest`` answers ``{"type", "value"}``, ``/api`` the value
alone ``{"error_type", "messages"}``, both with the vAPI error's status; JSON-RPC always
HTTP 200.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter

from ..kit.openapi import document, json_content, operation_id, path_parameter, query_parameter, response
from .errors import STATUS
from .registry import LOGIN, OPERATIONS
from .routes import API, REST, ROUTES, Route
from .vapi_types import ListOf, MapOf, Optional, Primitive, Secret, Struct, Void, VType

REF = "#/components/schemas/{model}"
MESSAGE = {
    "type": "object",
    "required": ["id", "default_message", "args"],
    "properties": {
        "id": {"type": "string"},
        "default_message": {"type": "string"},
        "args": {"type": "array", "items": {"type": "string"}},
    },
}
API_ERROR = {
    "type": "object",
    "required": ["error_type", "messages"],
    "properties": {
        "error_type": {"type": "string"},
        "messages": {"type": "array", "items": MESSAGE},
        "challenge": {"type": "string"},
    },
}
REST_ERROR = {
    "type": "object",
    "required": ["type", "value"],
    "properties": {
        "type": {"type": "string", "pattern": "^com\\.vmware\\.vapi\\.std\\.errors\\."},
        "value": {
            "type": "object",
            "properties": {"error_type": {"type": "string"}, "messages": {"type": "array", "items": MESSAGE}},
        },
    },
}
JSONRPC_REQUEST = {
    "type": "object",
    "required": ["jsonrpc", "id", "method", "params"],
    "properties": {
        "jsonrpc": {"const": "2.0"},
        "id": {"type": ["string", "integer"]},
        "method": {"const": "invoke"},
        "params": {
            "type": "object",
            "required": ["serviceId", "operationId", "input"],
            "properties": {
                "serviceId": {"enum": sorted({s for s, _ in OPERATIONS})},
                "operationId": {"enum": sorted({o for _, o in OPERATIONS})},
                "input": {"type": "object"},
                "ctx": {"type": "object"},
            },
        },
    },
}
JSONRPC_RESPONSE = {
    "type": "object",
    "required": ["jsonrpc", "id"],
    "properties": {
        "jsonrpc": {"const": "2.0"},
        "id": {"type": ["string", "integer", "null"]},
        "result": {"type": "object"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "data": {"type": "string"},
            },
        },
    },
}


def vtype_schema(vtype: VType, surface: str) -> dict:
    """The JSON schema of ``vtype`` as ``vtype.encode(..., surface)`` writes it on ``/rest``
    or ``/api``."""
    if isinstance(vtype, Primitive):
        return {"integer": {"type": "integer"}, "boolean": {"type": "boolean"}}.get(
            vtype.kind, {"type": "string"}
        )
    if isinstance(vtype, Secret):
        return {"type": "string"}
    if isinstance(vtype, Optional):
        return {"anyOf": [vtype_schema(vtype.of, surface), {"type": "null"}]}
    if isinstance(vtype, ListOf):
        return {"type": "array", "items": vtype_schema(vtype.of, surface)}
    if isinstance(vtype, MapOf):
        item = vtype_schema(vtype.of, surface)
        if surface == API:
            return {"type": "object", "additionalProperties": item}
        return {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "value"],
                "properties": {"key": {"type": "string"}, "value": item},
            },
        }
    if isinstance(vtype, Struct):
        properties = {}
        required = []
        for name, ftype in vtype.fields:
            if isinstance(ftype, Optional):
                properties[name] = vtype_schema(ftype.of, surface)
            else:
                properties[name] = vtype_schema(ftype, surface)
                required.append(name)
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    return {}


def _output(op, surface: str) -> dict | None:
    """The success content of ``op`` on ``surface`` (None for a void operation)."""
    if isinstance(op.output, Void):
        return None
    schema = vtype_schema(op.output, surface)
    if surface == REST:
        schema = {"type": "object", "required": ["value"], "properties": {"value": schema}}
    return json_content(schema)


class _Schemas:
    """Collects the pydantic models' JSON schemas into ``components.schemas``."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template=REF)
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        self.components.setdefault(model.__name__, schema)
        return {"$ref": REF.format(model=model.__name__)}

    def of_annotation(self, annotation: Any) -> dict:
        schema = TypeAdapter(annotation).json_schema(ref_template=REF)
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        return schema

    def fields_of(self, model: type[BaseModel], without: set[str]) -> dict:
        """The model's structure without the fields the path gives (the body's part)."""
        schema = model.model_json_schema(ref_template=REF)
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k not in without}
        if "required" in schema:
            schema["required"] = [k for k in schema["required"] if k not in without]
            if not schema["required"]:
                del schema["required"]
        schema.pop("title", None)
        return schema


def _error_responses(surface: str) -> dict:
    schema = {"$ref": "#/components/schemas/" + ("VapiRestError" if surface == REST else "VapiApiError")}
    statuses = sorted({str(pair[0 if surface == REST else 1]) for pair in STATUS.values()} | {"400"})
    answers = {status: response("a vAPI standard error", json_content(schema)) for status in statuses}
    answers["413"] = response("request body over the limit", json_content(schema))
    return answers


def _operation(routes: list[Route], schemas: _Schemas) -> dict:
    """One OpenAPI operation for the routes sharing a method and path (they differ by
    their ``action`` query parameter, and by body)."""
    route = routes[0]
    op = OPERATIONS[(route.service, route.operation)]
    params = [path_parameter(name) for name in re.findall(r"\{(\w+)\}", route.pattern)]
    actions = [r.action for r in routes]
    if any(a is not None for a in actions):
        named = [a for a in actions if a is not None]
        params.append(query_parameter("action", {"enum": named}, required=None not in actions))
    if route.filter is not None:
        for name, field in route.filter.model_fields.items():
            key = f"filter.{name}" if route.surface == REST else name
            is_list = "list" in str(field.annotation)
            items: dict[str, Any] = {"type": "string"}
            if "bool" in str(field.annotation):
                items = {"type": "boolean"}
            params.append(query_parameter(key, {"type": "array", "items": items} if is_list else items))
    answer: dict[str, Any] = {
        "operationId": operation_id(route.surface, route.method, route.pattern),
        "summary": ", ".join(
            f"{r.service}.{r.operation}" + (f" (action={r.action})" if r.action else "") for r in routes
        ),
        "parameters": params,
        "responses": _error_responses(route.surface),
    }
    bodies = []
    for each in routes:
        if not each.body:
            continue
        # As handle_rest reads it: /rest and a route without body_field take the input's
        # fields (less the path's); /api with a body_field takes that field's value alone.
        input_model = OPERATIONS[(each.service, each.operation)].input_model
        path_fields = set(re.findall(r"\{(\w+)\}", each.pattern))
        if each.surface == API and each.body_field is not None:
            bodies.append(schemas.of_annotation(input_model.model_fields[each.body_field].annotation))
        else:
            bodies.append(schemas.fields_of(input_model, path_fields))
    if bodies:
        answer["requestBody"] = {
            "required": True,
            "content": json_content(bodies[0] if len(bodies) == 1 else {"anyOf": bodies}),
        }
    outputs: dict[str, list[dict]] = {}
    for each in routes:
        content = _output(OPERATIONS[(each.service, each.operation)], each.surface)
        if content is None:
            answer["responses"][str(each.void_status)] = response("done (no output)")
        else:
            outputs.setdefault(str(each.status), []).append(content["application/json"]["schema"])
    for status, schemas_ in outputs.items():  # actions sharing a status: any of their outputs
        schema = schemas_[0] if len(schemas_) == 1 else {"anyOf": schemas_}
        answer["responses"][status] = response("the operation's output", json_content(schema))
    answer["security"] = [{"basic": []}] if op.auth == LOGIN else [{"session": []}]
    return answer


def openapi_document() -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict] = {}
    for surface in (REST, API):
        grouped: dict[tuple[str, str], list[Route]] = {}
        for route in ROUTES[surface]:
            grouped.setdefault((route.pattern, route.method), []).append(route)
        for (pattern, method), routes in grouped.items():
            paths.setdefault(f"/{surface}{pattern}", {})[method.lower()] = _operation(routes, schemas)
    paths.setdefault("/api", {})["post"] = {
        "operationId": "vapi_jsonrpc_invoke",
        "summary": "vAPI JSON-RPC 2.0: invoke an operation (always HTTP 200)",
        "requestBody": {"required": True, "content": json_content(JSONRPC_REQUEST)},
        "responses": {
            "200": response(
                "result.output, result.error or a JSON-RPC error", json_content(JSONRPC_RESPONSE)
            ),
            "413": response("request body over the limit", json_content(JSONRPC_RESPONSE)),
        },
    }
    return document(
        "fakestack vSphere Automation API",
        "The vSphere Automation REST (/rest, /api) and JSON-RPC operations fakestack serves, "
        "generated from its route tables and input models.",
        paths,
        components={
            "schemas": {"VapiRestError": REST_ERROR, "VapiApiError": API_ERROR, **schemas.components}
        },
        security_schemes={
            "session": {"type": "apiKey", "in": "header", "name": "vmware-api-session-id"},
            "basic": {"type": "http", "scheme": "basic"},
        },
    )
