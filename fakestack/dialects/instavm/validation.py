"""Request parsing and validation with FastAPI's rules and FastAPI's error items.

FastAPI validates each query/path parameter on its own and the body as one model, with
pydantic v2 in Python (lax) mode, and reports every failure in one list:
``{"type", "loc", "msg", "input"[, "ctx"]}`` with ``loc`` prefixed by ``query``, ``path``
or ``body``. The items are built from pydantic's own ``ValidationError`` so that messages
and types are exactly what a FastAPI server would send.
"""

from __future__ import annotations

import email.message
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined

from ..kit.json_input import NON_FINITE, NOT_JSON, NOT_TEXT, SURROGATE, JsonInputError, escaped, parse_json
from .errors import HttpError, RequestValidationFailed

MISSING: Any = PydanticUndefined


def jsonable(value: Any) -> Any:
    """``fastapi.encoders.jsonable_encoder`` for what can appear in an error item."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, BaseException):
        # jsonable_encoder falls back to vars(): an exception without attributes is {}.
        return {k: jsonable(v) for k, v in vars(value).items()}
    return str(value)


def error_items(exc: ValidationError, loc_prefix: tuple) -> list[dict[str, Any]]:
    items = []
    for err in exc.errors(include_url=False):
        item = dict(err)
        item["loc"] = list(loc_prefix) + list(err.get("loc", ()))
        items.append(jsonable(item))
    return items


def missing_item(loc: tuple) -> dict[str, Any]:
    return {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}


@cache
def _adapter(annotation: Any) -> TypeAdapter:
    return TypeAdapter(annotation)


def validate_value(annotation: Any, value: Any, loc: tuple) -> tuple[Any, list[dict[str, Any]]]:
    try:
        return _adapter(annotation).validate_python(value, from_attributes=True), []
    except ValidationError as exc:
        return None, error_items(exc, loc)


@dataclass(frozen=True)
class Param:
    """A query or path parameter: name, type, default (``MISSING`` = required)."""

    name: str
    annotation: Any
    default: Any = MISSING

    def validate(self, source: str, raw: Any) -> tuple[Any, list[dict[str, Any]]]:
        loc = (source, self.name)
        if raw is None:
            if self.default is MISSING:
                return None, [missing_item(loc)]
            return self.default, []
        return validate_value(self.annotation, raw, loc)


def read_body(data: bytes, content_type: str | None) -> Any:
    """The body as FastAPI's request handler sees it before validation.

    Empty body -> ``MISSING``. With a JSON content type (or ``+json``) the body is
    decoded; any other or no content type leaves raw bytes, which then fail model
    validation (FastAPI's strict content-type default). Bad JSON is a 422
    ``json_invalid`` raised here, before authentication, as FastAPI does.
    """
    if not data:
        return MISSING
    if not content_type:
        return data
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return data
    subtype = message.get_content_subtype()
    if not (subtype == "json" or subtype.endswith("+json")):
        return data
    try:
        return parse_json(data)
    except JsonInputError as exc:
        if exc.reason == NOT_TEXT:  # undecodable bytes: Starlette fails before json, FastAPI says 400
            raise HttpError(400, "There was an error parsing the body") from None
        raise RequestValidationFailed([_json_input_item(exc)]) from None


def _json_input_item(exc: JsonInputError) -> dict[str, Any]:
    """The 422 item of a body the fake refuses: FastAPI's ``json_invalid`` for syntax and
    depth; pydantic's own item for a value that is no text (``string_unicode``) or no
    finite number (``finite_number``), at the value's place in the body."""
    loc = ["body", *(escaped(p) if isinstance(p, str) else p for p in exc.path)]
    if exc.reason == SURROGATE:
        return {
            "type": "string_unicode",
            "loc": loc,
            "msg": "Input should be a valid string, unable to parse raw data as a unicode string",
            "input": escaped(exc.value),
        }
    if exc.reason == NON_FINITE:
        return {"type": "finite_number", "loc": loc, "msg": "Input should be a finite number", "input": None}
    position = exc.position if exc.reason == NOT_JSON else 0
    return {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": exc.detail},
    }


def validate_body(model: Any, body: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Every InstaVM body is required (the SDK sends at least ``{}``)."""
    if body is MISSING:
        return None, [missing_item(("body",))]
    return validate_value(model, body, ("body",))
