"""The one JSON response builder: every dialect and the admin API answer through it.

A dialect names its wire style once (separators, ASCII escaping, NaN, content type) as a
``JsonStyle``; ``style.response(data, status, headers)`` builds the werkzeug response and
``style.dumps(data)`` the text (for bodies nested in bodies, web hooks).  The encoder is
built once per style: ``json.dumps`` with options builds a new one on every call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.wrappers import Response

JSON_MIMETYPE = "application/json"


class JsonStyle:
    """How one API writes JSON.

    ``separators``/``ensure_ascii``/``allow_nan``/``default`` are ``json.dumps``'s;
    ``content_type`` is the full ``Content-Type`` header value.
    """

    __slots__ = ("_encoder", "allow_nan", "content_type", "default", "ensure_ascii", "separators")

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
    return Response(style.dumps(data), status=status, headers=headers, content_type=style.content_type)
