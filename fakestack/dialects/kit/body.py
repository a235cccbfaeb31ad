"""A request's body, read as werkzeug's ``request.get_data(cache=True)`` reads it.

``get_data`` builds a guarded stream (``LimitedStream``) over the WSGI input and reads it in
chunks; for the common request (a declared ``Content-Length``, no server-terminated stream,
no ``max_content_length``, nothing read yet) :func:`request_data` reads the same bytes
straight from the input: the same length, the same ``ClientDisconnected`` when the input
ends early or fails, the same cache.  Anything else is ``get_data``'s own.
tests/test_dialect_kit.py compares the two.
"""

from __future__ import annotations

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_content_length

_CHUNK = 64 * 1024  # LimitedStream.readall's read size


def content_length(environ: dict) -> int | None:
    """``werkzeug.wsgi.get_content_length(environ)``: a plain decimal length with no
    ``Transfer-Encoding`` read at once, anything else (signs, spaces, other digits, any
    transfer coding) by werkzeug."""
    value = environ.get("CONTENT_LENGTH")
    if (
        value.__class__ is str
        and value.isdigit()
        and value.isascii()
        and environ.get("HTTP_TRANSFER_ENCODING") is None
    ):
        return int(value)
    return get_content_length(environ)


def request_data(request: Request) -> bytes:
    """``request.get_data(cache=True)``."""
    state = request.__dict__
    cached = state.get("_cached_data")
    if cached is not None:
        return cached
    environ = request.environ
    if (
        "stream" in state  # the guarded stream exists: it may have been read from
        or request.shallow
        or request.max_content_length is not None
        or "wsgi.input_terminated" in environ
    ):
        return request.get_data(cache=True)
    length = content_length(environ)
    if not length:  # none declared (get_data reads an empty stream), or zero
        data = b""
    else:
        stream = environ["wsgi.input"]
        chunks = []
        remaining = length
        while remaining > 0:
            try:
                chunk = stream.read(min(remaining, _CHUNK))
            except (OSError, ValueError):
                raise ClientDisconnected() from None
            if not chunk:  # the client went away before sending it all
                raise ClientDisconnected()
            chunks.append(chunk)
            remaining -= len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._cached_data = data  # what get_data(cache=True) keeps
    return data
