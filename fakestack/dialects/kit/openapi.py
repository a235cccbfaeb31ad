"""Small builders for the OpenAPI 3.1 documents each dialect generates from its own route
and parameter catalogue (``<dialect>/openapi.py``; the admin API's in ``fakestack.admin``).

The documents describe what the fake serves, in the shapes it answers, so that a
schema-driven fuzzer (schemathesis) can check every answer against them.  They are built
on request from the catalogues: a route added to a catalogue appears in its document.
"""

from __future__ import annotations

from typing import Any

OPENAPI_VERSION = "3.1.0"


def document(
    title: str,
    description: str,
    paths: dict,
    *,
    components: dict | None = None,
    security_schemes: dict | None = None,
) -> dict[str, Any]:
    from fakestack.version import __version__

    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": __version__, "description": description},
        "paths": paths,
    }
    comps = dict(components or {})
    if security_schemes:
        comps["securitySchemes"] = security_schemes
    if comps:
        doc["components"] = comps
    return doc


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def text_content() -> dict:
    return {"text/plain": {"schema": {"type": "string"}}}


def response(description: str, content: dict | None = None) -> dict:
    answer: dict[str, Any] = {"description": description}
    if content is not None:
        answer["content"] = content
    return answer


def path_parameter(name: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or {"type": "string", "minLength": 1},
    }


def query_parameter(
    name: str, schema: dict, *, required: bool = False, description: str | None = None
) -> dict:
    param: dict[str, Any] = {"name": name, "in": "query", "required": required, "schema": schema}
    if schema.get("type") == "array":
        param["style"] = "form"
        param["explode"] = True
    if description:
        param["description"] = description
    return param


def operation_id(*parts: str) -> str:
    """A unique, readable operationId from its parts (non-alphanumerics become ``_``)."""
    text = "_".join(parts)
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")
