"""The ZStack dialect's OpenAPI 3.1 document (``GET /zstack/v1/openapi.json``), generated
from the served APIs (``registry.BINDINGS``) and their parameters (``catalog.APIS``).

Shapes (reference §1): transport errors are plain text (400/403/404/405/413); API-level
errors are ``{"error": ErrorCode}`` with 503, at once for sync APIs and on the job poll for
async ones, which answer 202 ``{"location", "apiTimeout"}``.
"""

from __future__ import annotations

import re
from typing import Any

from ..kit.openapi import (
    document,
    json_content,
    operation_id,
    path_parameter,
    query_parameter,
    response,
    text_content,
)
from .catalog import APIS
from .registry import BINDINGS

_VAR = re.compile(r"\{([^}/]+)\}")
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_INT64 = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}
_TYPES: dict[str, dict] = {
    "String": {"type": "string"},
    "Integer": _INT32,
    "int": _INT32,
    "Short": _INT32,
    "short": _INT32,
    "Long": _INT64,
    "long": _INT64,
    "Boolean": {"type": "boolean"},
    "boolean": {"type": "boolean"},
    "List": {"type": "array", "items": {"type": "string"}},
    "Set": {"type": "array", "items": {"type": "string"}},
    "Collection": {"type": "array", "items": {"type": "string"}},
    "Map": {"type": "object"},
}
ERROR_CODE = {
    "type": "object",
    "required": ["code"],
    "properties": {
        "code": {"type": "string"},
        "description": {"type": "string"},
        "details": {"type": "string"},
        "opaque": {"type": "object"},
        "cause": {"$ref": "#/components/schemas/ErrorCode"},
    },
}
API_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"$ref": "#/components/schemas/ErrorCode"}},
}
ACCEPTED = {
    "type": "object",
    "required": ["location", "apiTimeout"],
    "properties": {"location": {"type": "string"}, "apiTimeout": {"type": "integer"}},
}
QUERY_PARAMETERS = (
    query_parameter(
        "q",
        {"type": "array", "items": {"type": "string"}},
        description="conditions, e.g. name=vm1, cpuNum>2, uuid?=a,b (reference §3)",
    ),
    query_parameter("limit", _INT32),
    query_parameter("start", _INT32),
    query_parameter("count", {"type": "boolean"}),
    query_parameter("replyWithCount", {"type": "boolean"}),
    query_parameter("sort", {"type": "string"}, description="+field or -field"),
    query_parameter("fields", {"type": "string"}, description="comma-separated field names"),
    query_parameter("groupBy", {"type": "string"}),
)
TRANSPORT_ERRORS = {
    "400": response("transport error: bad header, body or parameter type", text_content()),
    "403": response("access key refused", text_content()),
    "404": response("no api mapping to the path", text_content()),
    "405": response("method not allowed for the path", text_content()),
    "413": response("request body over the limit", text_content()),
}


def _schema(spec: dict) -> dict:
    schema = dict(_TYPES.get(spec["type"], {}))
    if spec.get("validValues"):
        schema = {"type": "string", "enum": list(spec["validValues"])}
    if spec.get("maxLength") and schema.get("type") == "string":
        schema["maxLength"] = spec["maxLength"]
    if spec.get("numberRange") and schema.get("type") == "integer":
        low, high = (int(p.strip().rstrip("Ll")) for p in spec["numberRange"].split(","))
        schema.update(minimum=low, maximum=high)
    return schema


def _body(api: dict, url_vars: list[str]) -> dict:
    fields = {
        p["name"]: _schema(p)
        for p in api["params"]
        if p["name"] not in url_vars and p["name"] not in ("systemTags", "userTags")
    }
    required = [p["name"] for p in api["params"] if p.get("required") and p["name"] in fields]
    wrapped: dict[str, Any] = {"type": "object", "properties": fields}
    if required:
        wrapped["required"] = required
    key = api["wrapper"] if api["wrapper"] is not None else "null"
    tags = {"type": "array", "items": {"type": "string"}}
    return {
        "required": True,
        "content": json_content(
            {
                "type": "object",
                "required": [key],
                "properties": {key: wrapped, "systemTags": tags, "userTags": tags},
            }
        ),
    }


def _operation(name: str, api: dict, path: str, own_template: str) -> dict:
    url_vars = _VAR.findall(path)
    op: dict[str, Any] = {
        "operationId": name if own_template == api["path"] else operation_id(name, "by", "uuid"),
        "summary": f"{name} ({'async' if api['async'] else 'sync'})",
        "parameters": [path_parameter(v) for v in url_vars],
    }
    if api["method"] in ("POST", "PUT"):
        op["requestBody"] = _body(api, _VAR.findall(own_template))
    elif name.startswith("Query"):
        if "uuid" not in url_vars:
            op["parameters"] += list(QUERY_PARAMETERS)
    else:
        op["parameters"] += [
            query_parameter(p["name"], _schema(p))
            for p in api["params"]
            if p["name"] not in url_vars
            and p["type"] not in ("Map",)
            and p["name"] not in ("systemTags", "userTags")
        ]
    responses = dict(TRANSPORT_ERRORS)
    if api["async"]:
        responses["202"] = response("accepted: poll location", json_content(ACCEPTED))
    else:
        responses["200"] = response("the API's result", json_content({"type": "object"}))
        responses["503"] = response("API error", json_content(API_ERROR))
    op["responses"] = responses
    if api["needSession"]:
        op["security"] = [{"session": []}]
    return op


def openapi_document(context: str = "/zstack") -> dict[str, Any]:
    paths: dict[str, dict] = {}
    first_template: dict[str, str] = {}  # normalised pattern -> the template named first
    for name in sorted(BINDINGS):
        api = APIS[name]
        templates = [api["path"]]
        if name.startswith("Query"):
            templates.append(api["path"] + "/{uuid}")
        for template in templates:
            # One path item per pattern: /vm-instances/{uuid}/actions and
            # /vm-instances/{vmInstanceUuid}/actions are the same path to a client.
            pattern = _VAR.sub("{}", template)
            shown = first_template.setdefault(pattern, template)
            item = paths.setdefault(f"{context}/v1{shown}", {})
            method = api["method"].lower()
            if method in item:  # several PUT actions share a path: any of their bodies
                body = _body(api, _VAR.findall(template))["content"]["application/json"]["schema"]
                schema = item[method]["requestBody"]["content"]["application/json"]["schema"]
                if "oneOf" not in schema:
                    schema = {"oneOf": [schema]}
                    item[method]["requestBody"]["content"]["application/json"]["schema"] = schema
                schema["oneOf"].append(body)
                item[method]["summary"] += f", {name}"
                continue
            item[method] = _operation(name, api, shown, own_template=template)
    paths[f"{context}/v1/api-jobs/{{uuid}}"] = {
        "get": {
            "operationId": "PollApiJob",
            "summary": "the outcome of an async API (no session needed)",
            "parameters": [path_parameter("uuid")],
            "responses": {
                "200": response("the API succeeded: its result", json_content({"type": "object"})),
                "202": response("still running", json_content({"type": "object"})),
                "404": response("the job has been expired", text_content()),
                "503": response("the API failed", json_content(API_ERROR)),
            },
        }
    }
    return document(
        "fakestack ZStack Cloud REST API",
        "The ZStack APIs fakestack serves (a subset of ZStack 5.2.1), generated from its catalogue.",
        paths,
        components={"schemas": {"ErrorCode": ERROR_CODE}},
        security_schemes={
            "session": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "OAuth <session uuid> (PUT /accounts/login)",
            }
        },
    )
