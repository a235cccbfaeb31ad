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
``0.0000``, ``"None"``, ``"nan"``, ``"inf"`` or ``"-inf"`` anywhere, even in a text) is
written by ``json`` instead, as is one the other encoder refuses.  tests/test_dialect_kit.py compares the two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES
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
    body = style.encode(data)
    if headers is None:
        return JsonResponse.whole(body, status, style.content_type)
    return JsonResponse(body, status=status, headers=headers, content_type=style.content_type)


class JsonResponse(Response):
    """A ``Response`` of one body in bytes, as ``json_response`` makes it: the same object
    as ``Response(body, status=status, content_type=content_type)``, and the same status,
    headers and bytes on the wire, with less of werkzeug's general work for the common case.

    * ``whole`` builds it without parsing headers it knows (a content type of the fake's
      own, a length it counts) or the status, whose line is looked up once per code;
    * calling it (WSGI) sends the headers as they are when ``get_wsgi_headers`` would not
      change them (no ``Location``/``Content-Location`` to fix up, a ``Content-Length``, a
      status that has a body, not HEAD), and the body as a list; anything else, or a
      response changed since (``call_on_close``, another body), is werkzeug's own.

    tests/test_dialect_kit.py compares both with plain werkzeug responses."""

    @classmethod
    def whole(cls, body: bytes, status: int, content_type: str) -> JsonResponse:
        line = _STATUS_LINES.get(status) if status.__class__ is int else None
        if line is None:
            if status.__class__ is not int or status not in HTTP_STATUS_CODES or not _HEADERS_HAVE_A_LIST:
                return cls(body, status=status, content_type=content_type)
            line = _STATUS_LINES[status] = Response(status=status)._status, status
        response = cls.__new__(cls)
        headers = Headers()
        # what ``headers["Content-Type"] = ...`` then ``set_data`` write into a new Headers
        headers._list = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        response.headers = headers
        response._status, response._status_code = line
        response.direct_passthrough = False
        response._on_close = []
        response.response = [body]
        return response

    def __call__(self, environ, start_response):
        body = self.response
        status = self._status_code
        if (
            body.__class__ is list
            and len(body) == 1
            and body[0].__class__ is bytes
            and status >= 200
            and status != 204
            and status != 304
            and not self._on_close
            and not self.direct_passthrough
            and environ["REQUEST_METHOD"] != "HEAD"
            and self.headers.__class__ is Headers
            and _sent_as_they_are(self.headers)
        ):
            start_response(self._status, self.headers.to_wsgi_list())
            return [body[0]]
        return super().__call__(environ, start_response)


def _sent_as_they_are(headers: Headers) -> bool:
    """Would ``Response.get_wsgi_headers`` send these headers unchanged (status aside)?
    It fixes up ``Location`` and ``Content-Location`` and adds a missing length."""
    length = False
    for key, _ in headers:
        lowered = key.lower()
        if lowered == "content-length":
            length = True
        elif lowered == "location" or lowered == "content-location":
            return False
    return length


# The status line werkzeug writes for a code it names, once the code was answered.
_STATUS_LINES: dict[int, tuple[str, int]] = {}
_HEADERS_HAVE_A_LIST = isinstance(getattr(Headers(), "_list", None), list)


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
# None key ("None"), a NaN or infinite key ("nan", "inf", "-inf"; the three key spellings
# in one search that starts with a literal quote: a search that does not is many times slower).
_MAYBE_NOT_JSONS = tuple(
    re.compile(pattern).search for pattern in (rb"e-", rb"0\.0000", rb'"[Nni-](?:one"|an"|nf"|inf")')
)
