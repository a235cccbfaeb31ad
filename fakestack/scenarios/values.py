"""What replay does with values: ``${variables}``, dotted paths into a document,
strict JSON comparison, readable diffs and the rendering of model results."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from typing import Any

from ..model import DomainError
from ..model.topology import parse_size

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StepFailure(Exception):
    """A step did not do what the scenario says (the message is the readable diff)."""


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ``${name}`` in every string of ``value``."""
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return _lookup_var(whole.group(1), variables)
        return _VAR.sub(lambda m: _as_text(_lookup_var(m.group(1), variables)), value)
    if isinstance(value, dict):
        return {substitute(k, variables): substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    return value


def _lookup_var(name: str, variables: dict[str, Any]) -> Any:
    if name not in variables:
        known = ", ".join(sorted(variables)) or "none yet"
        raise StepFailure(f"variable ${{{name}}} is not set (saved so far: {known})")
    return variables[name]


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def resolve(document: Any, path: str) -> Any:
    """Follow a dotted path: keys, list indexes, and a list element by its ``name``
    (or ``key=value``).  Raises ``KeyError`` naming the part that was not found."""
    current = document
    walked: list[str] = []
    for part in path.split(".") if path else []:
        if isinstance(current, dict):
            if part not in current:
                raise KeyError(
                    f"{'.'.join(walked) or 'the document'} has no key {part!r}"
                    f" (keys: {', '.join(map(str, current)) or 'none'})"
                )
            current = current[part]
        elif isinstance(current, list):
            if re.fullmatch(r"-?\d+", part):
                index = int(part)
                if not -len(current) <= index < len(current):
                    raise KeyError(
                        f"{'.'.join(walked) or 'the list'} has {len(current)} items, no index {index}"
                    )
                current = current[index]
            else:
                key, _, wanted = part.partition("=") if "=" in part else ("name", "", part)
                match = [item for item in current if isinstance(item, dict) and str(item.get(key)) == wanted]
                if not match:
                    raise KeyError(f"{'.'.join(walked) or 'the list'} has no item with {key} {wanted!r}")
                current = match[0]
        else:
            raise KeyError(
                f"{'.'.join(walked) or 'the document'} is {type(current).__name__}, not an object or a list"
            )
        walked.append(part)
    return current


def strict_equal(a: Any, b: Any) -> bool:
    """JSON equality that tells 1 from 1.0 from True (key order does not matter)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def subset_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset_matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(subset_matches(e, a) for e, a in zip(expected, actual))
        )
    return strict_equal(expected, actual)


def project(expected: Any, actual: Any) -> Any:
    """``actual`` cut down to the shape of ``expected`` (so a diff shows only what matters)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {
            k: project(expected[k], actual[k]) if k in expected else actual[k]
            for k in actual
            if k in expected
        }
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [project(e, a) for e, a in zip(expected, actual)]
    return actual


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


DIFF_LINES = 80


def text_diff(expected: Any, actual: Any, what: str) -> str:
    """A unified diff of the pretty JSON of both (cut after ``DIFF_LINES`` lines)."""
    exp = pretty(expected).splitlines()
    act = pretty(actual).splitlines()
    diff = list(difflib.unified_diff(exp, act, f"expected {what}", f"actual {what}", lineterm="", n=3))
    if len(diff) > DIFF_LINES:
        diff = diff[:DIFF_LINES] + [f"... ({len(diff) - DIFF_LINES} more diff lines)"]
    return "\n".join(diff)


def render_value(value: Any) -> Any:
    """A JSON-able rendering of what a model operation returned."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, DomainError):
        return {"error": type(value).__name__, **_jsonable(value.to_dict())}
    if isinstance(value, dict):
        return {str(k): render_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if hasattr(value, "_asdict"):
            return {k: render_value(v) for k, v in value._asdict().items()}
        return [render_value(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return render_value(to_dict())
    if dataclasses.is_dataclass(value):
        return {f.name: render_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return repr(value)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def error_code_of(body: Any) -> str | None:
    """The error code a dialect put in a body: ZStack ``error.code``, vAPI ``type`` /
    ``error_type``, FastAPI ``detail`` (text), the admin API's ``error``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error["code"]
    for key in ("error_type", "type"):
        if isinstance(body.get(key), str):
            return body[key]
    value = body.get("value")
    if isinstance(value, dict) and isinstance(value.get("error_type"), str):
        return value["error_type"]
    if isinstance(body.get("detail"), str):
        return body["detail"]
    if isinstance(error, str):
        return error
    return None


def _size(value: Any) -> Any:
    if isinstance(value, str):
        return parse_size(value)
    return value
