"""The one JSON response builder: every dialect and the admin API answer through it.

A dialect names its wire style once (separators, ASCII escaping, NaN, content type) as a
``JsonStyle``; ``style.response(data, status, headers)`` builds the werkzeug response and
``style.dumps(data)`` the text (for bodies nested in bodies, web hooks).  The encoder is
built once per style: ``json.dumps`` with options builds a new one on every call.

A response body is written by pydantic's JSON encoder (``pydantic_core.to_json``, in Rust:
a few times faster than ``json``'s) when the style is compact and has no ``default``, and
only when its bytes are the ones ``json`` writes: for JSON data the two agree on strings,
integers, lists and dicts, but not on every float (``1e-05`` is ``0.00001`` there), nor on a
``None``, NaN or infinite key; a body in which such a number could hide (it holds ``e-``,
``0.0000``, ``"None"``, ``"nan"`` or ``inf"`` anywhere, even in a text) is written by ``json``
instead, as is one the other encoder refuses.  tests/test_dialect_kit.py compares the two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Response

JSON_MIMETYPE = "application/json"


class JsonStyle:
    """How one API writes JSON.

    ``separators``/``ensure_ascii``/``allow_nan``/``default`` are ``json.dumps``'s;
    ``content_type`` is the full ``Content-Type`` header value.
    """

    __slots__ = ("_encoder", "_fast", "allow_nan", "content_type", "default", "ensure_ascii", "separators")

    def __init__(
        self,
        *,
        separators: tuple[str, str] = (",", ":"),
        ensure_ascii: bool = True,
        allow_nan: bool = True,
        default: Callable[[Any], Any] | None = None,
        content_type: str = JSON_MIMETYPE,
    ) -> None:
        self.separators = separators
        self.ensure_ascii = ensure_ascii
        self.allow_nan = allow_nan
        self.default = default
        self.content_type = content_type
        self._encoder = json.JSONEncoder(
            separators=separators, ensure_ascii=ensure_ascii, allow_nan=allow_nan, default=default
        )
        # the other encoder writes compact JSON and knows no ``default``
        self._fast = tuple(separators) == (",", ":") and default is None

    def with_default(self, default: Callable[[Any], Any] | None) -> JsonStyle:
        """The same style, rendering what ``json`` cannot with ``default``."""
        return JsonStyle(
            separators=self.separators,
            ensure_ascii=self.ensure_ascii,
            allow_nan=self.allow_nan,
            default=default,
            content_type=self.content_type,
        )

    def dumps(self, data: Any) -> str:
        return self._encoder.encode(data)

    def encode(self, data: Any) -> bytes:
        """``dumps(data)`` as UTF-8 bytes (a response body)."""
        if self._fast:
            out = _same_as_json(data)
            if (
                out is not None
                and (self.allow_nan or (b"NaN" not in out and b"Infinity" not in out))
                # ``ensure_ascii``: json escapes every character past "~" (DEL too)
                and (not self.ensure_ascii or (out.isascii() and b"\x7f" not in out))
            ):
                return out
        return self._encoder.encode(data).encode()

    def response(self, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return json_response(data, status, headers, style=self)


# fakestack's own JSON (the admin API, the app's own errors): readable separators.
FAKESTACK_JSON = JsonStyle(separators=(", ", ": "))


def json_response(
    data: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    style: JsonStyle = FAKESTACK_JSON,
    default: Callable[[Any], Any] | None = None,
) -> Response:
    """A JSON response in ``style``; ``default`` renders what ``json`` cannot (as in
    ``json.dumps``), overriding the style's.  Extra ``headers`` come before
    ``Content-Type`` and ``Content-Length``, as werkzeug places them."""
    if default is not None and default is not style.default:
        style = style.with_default(default)
    return Response(style.encode(data), status=status, headers=headers, content_type=style.content_type)


def _same_as_json(data: Any) -> bytes | None:
    """``data`` as compact JSON by pydantic's encoder (NaN and infinities as json spells
    them), or None when the bytes might differ from json's (see the module's docstring)."""
    to_json = _rust_to_json or _load_rust_to_json()
    try:
        out = to_json(data, inf_nan_mode="constants")
    except Exception:  # what json would refuse too (or report otherwise): json decides
        return None
    # One literal search each (a regex's literal search beats ``in`` on text full of "e"s)
    for pattern in _MAYBE_NOT_JSONS:
        if pattern(out) is not None:
            return None
    return out


_rust_to_json: Callable[..., bytes] | None = None


def _load_rust_to_json() -> Callable[..., bytes]:
    """pydantic_core's encoder, imported on the first response (not with this module: a
    process that answers nothing need not load it)."""
    global _rust_to_json
    from pydantic_core import to_json

    _rust_to_json = to_json
    return to_json


# Where pydantic's bytes may differ from json's: a float under 1e-4 ("0.00001", "1e-7"), a
# None key ("None"), a NaN or infinite key ("nan", "inf", "-inf").
_MAYBE_NOT_JSONS = tuple(
    re.compile(literal).search for literal in (rb"e-", rb"0\.0000", rb'"None"', rb'"nan"', rb'inf"')
)
