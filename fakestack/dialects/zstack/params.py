"""Reading API parameters from requests and checking them as ZStack does.

* :func:`params_from_query` turns a GET/DELETE query string into message fields (lists as
  repeated keys, ``key.0``/``key.1`` or the Python SDK's ``['a', 'b']`` text; maps as
  ``key.sub``).
* :func:`verify_types` is the REST layer's ``TypeVerifier`` (plain-text 400).
* :func:`validate` is ``ApiMessageParamValidator`` (``SYS.1007``): mandatory, valid values,
  nonempty lists, max length, number range.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import TransportError, invalid_argument

_INT_TYPES = ("Integer", "int", "Long", "long", "Short", "short")
# What the Java field can hold: a larger number fails Jackson's binding, not the API.
_INT_RANGES = {"Integer": 31, "int": 31, "Long": 63, "long": 63, "Short": 15, "short": 15}
_BOOL_TYPES = ("Boolean", "boolean")
_LIST_TYPES = ("List", "Set", "Collection")
_MAP_TYPES = ("Map",)
_STRING_TYPES = ("String",)


def param_specs(api: dict) -> dict[str, dict]:
    """The API's parameters by name (built once per catalogue entry, read only)."""
    known = _SPECS.get(id(api))
    if known is not None and known[0] is api:
        return known[1]
    specs = {p["name"]: p for p in api.get("params", ())}
    _SPECS[id(api)] = (api, specs)
    return specs


_SPECS: dict[int, tuple[dict, dict[str, dict]]] = {}


def _split_list_text(text: str) -> list[str]:
    """``['a', 'b']`` (Python SDK's ``str(list)``) or ``a,b`` -> ``['a', 'b']``."""
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    items = []
    for part in inner.split(","):
        part = part.strip()
        if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
            part = part[1:-1]
        if part:
            items.append(part)
    return items


def params_from_query(args, specs: dict[str, dict]) -> dict[str, Any]:
    """Message fields from a query string (a werkzeug ``MultiDict``)."""
    result: dict[str, Any] = {}
    indexed: dict[str, dict[int, str]] = {}
    maps: dict[str, dict[str, str]] = {}
    for key in args.keys():
        values = args.getlist(key)
        base, dot, rest = key.partition(".")
        if dot and base in specs:
            if rest.isdigit():
                indexed.setdefault(base, {})[int(rest)] = values[-1]
            else:
                maps.setdefault(base, {})[rest] = values[-1]
            continue
        spec = specs.get(key)
        if spec is None:
            continue  # unknown query parameters are ignored (ZStack logs them)
        if spec["type"] in _LIST_TYPES:
            items: list[str] = []
            for value in values:
                if value.strip().startswith("[") or "," in value:
                    items.extend(_split_list_text(value))
                else:
                    items.append(value)
            result[key] = items
        else:
            result[key] = values[-1]
    for key, by_index in indexed.items():
        result[key] = [by_index[i] for i in sorted(by_index)]
    for key, entries in maps.items():
        result[key] = dict(entries)
    # Query-string values are text: convert declared scalars like the server's binder does.
    for key, value in list(result.items()):
        spec = specs[key]
        if isinstance(value, str):
            result[key] = _coerce_text(key, value, spec["type"])
    return result


def _coerce_text(name: str, value: str, java_type: str) -> Any:
    if java_type in _INT_TYPES:
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        bits = _INT_RANGES[java_type]
        if number is None or not -(2**bits) <= number < 2**bits:
            raise TransportError(400, f"[{name}] field is excepted an int or long, but was [{value}].")
        return number
    if java_type in _BOOL_TYPES:
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise TransportError(400, f"[{name}] field is excepted a boolean, but was [{value}].")
    return value


def java_text(value: Any) -> str:
    """A JSON value as Java prints it (``String.valueOf``): booleans in lower case."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def verify_types(fields: dict[str, Any], specs: dict[str, dict]) -> None:
    """TypeVerifier: declared int/long and boolean fields must hold the right JSON type.

    Beyond the real verifier, lists, maps and strings are checked too, so that a wrong type
    is a clear 400 naming the field instead of an exception deeper down.
    """
    for name, value in fields.items():
        spec = specs.get(name)
        if spec is None or value is None:
            continue
        java_type = spec["type"]
        if java_type in _INT_TYPES:
            integral = isinstance(value, int) and not isinstance(value, bool)
            if isinstance(value, float) and value.is_integer():
                integral = True
            bits = _INT_RANGES[java_type]
            if integral and not -(2**bits) <= value < 2**bits:
                integral = False
            if not integral:
                raise TransportError(
                    400, f"[{name}] field is excepted an int or long, but was [{java_text(value)}]."
                )
        elif java_type in _BOOL_TYPES:
            if not isinstance(value, bool):
                raise TransportError(
                    400, f"[{name}] field is excepted a boolean, but was [{java_text(value)}]."
                )
        elif java_type in _LIST_TYPES:
            if not isinstance(value, list):
                raise TransportError(400, f"[{name}] field is excepted a list, but was [{java_text(value)}].")
        elif java_type in _MAP_TYPES:
            if not isinstance(value, dict):
                raise TransportError(400, f"[{name}] field is excepted a map, but was [{java_text(value)}].")
        elif java_type in _STRING_TYPES:
            if isinstance(value, (dict, list)):
                raise TransportError(
                    400, f"[{name}] field is excepted a string, but was [{java_text(value)}]."
                )


def normalize(fields: dict[str, Any], specs: dict[str, dict]) -> dict[str, Any]:
    """After type checks: floats -> int for integral fields, scalars -> str for strings."""
    out = dict(fields)
    for name, value in fields.items():
        spec = specs.get(name)
        if spec is None or value is None:
            continue
        if spec["type"] in _INT_TYPES and isinstance(value, float):
            out[name] = int(value)
        elif spec["type"] in _STRING_TYPES and not isinstance(value, str):
            out[name] = java_text(value)
    return out


def _range(text: str) -> tuple[int, int]:
    low, high = (part.strip().rstrip("Ll") for part in text.split(","))
    return int(low), int(high)


# What ZStack accepts as a caller-chosen resourceUuid, and as the uuid of a missing resource
# whose delete succeeds (reference §1.6).
V4_UUID = re.compile(r"^[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}$")


def validate(api: dict, fields: dict[str, Any]) -> dict[str, Any]:
    """SYS.1007 checks in declaration order; returns fields with defaults applied."""
    message = api["message"]
    out = dict(fields)
    resource_uuid = out.get("resourceUuid")
    if resource_uuid is not None and not V4_UUID.match(str(resource_uuid)):
        raise invalid_argument(
            f"resourceUuid[{resource_uuid}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) "
            "with '-' stripped, matching [0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}"
        )
    for name, required, has_default, checked, spec in _validation_plan(api):
        value = out.get(name)
        if value is None:
            if required:
                raise invalid_argument(f"field[{name}] of message[{message}] is mandatory, can not be null")
            if has_default:
                out[name] = _default(spec)
            continue
        if not checked:
            continue  # a parameter with no value checks (most)
        valid = spec.get("validValues")
        if valid and str(value) not in valid:
            raise invalid_argument(
                f"valid value for field[{name}] of message[{message}] are [{', '.join(valid)}], "
                f"but {java_text(value)} found"
            )
        if spec.get("nonempty") and isinstance(value, (list, dict)) and not value:
            raise invalid_argument(f"field[{name}] must be a nonempty list")
        limit = spec.get("maxLength")
        if limit and isinstance(value, str) and len(value) > limit:
            raise invalid_argument(
                f"field[{name}] of message[{message}] exceeds max length of string. "
                f"expected was <= {limit}, actual was {len(value)}"
            )
        if spec.get("numberRange") and isinstance(value, int) and not isinstance(value, bool):
            low, high = _range(spec["numberRange"])
            if not low <= value <= high:
                raise invalid_argument(f"field[{name}] must be in range of [{low}, {high}]")
    return out


_PLANS: dict[int, tuple[dict, list, int, list[tuple[str, bool, bool, bool, dict]]]] = {}


def _validation_plan(api: dict) -> list[tuple[str, bool, bool, bool, dict]]:
    """Per parameter that is required, has a default or a value check (valid values,
    nonempty, max length, number range; the others ask nothing), in declaration order: its
    name, those three facts, and its spec; made once per catalogue entry (remade if its
    parameter list changes)."""
    params = api.get("params", ())
    known = _PLANS.get(id(api))
    if known is not None and known[0] is api and known[1] is params and known[2] == len(params):
        return known[3]
    facts = [
        (
            spec["name"],
            bool(spec.get("required")),
            "default" in spec,
            bool(
                spec.get("validValues")
                or spec.get("nonempty")
                or spec.get("maxLength")
                or spec.get("numberRange")
            ),
            spec,
        )
        for spec in params
    ]
    plan = [fact for fact in facts if fact[1] or fact[2] or fact[3]]
    _PLANS[id(api)] = (api, params, len(params), plan)
    return plan


def _default(spec: dict) -> Any:
    text = spec["default"]
    if spec["type"] in _BOOL_TYPES:
        return text == "true"
    if spec["type"] in _INT_TYPES:
        return int(text.rstrip("Ll"))
    return text
