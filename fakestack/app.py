"""One WSGI app for a cloud: every dialect plus the ``/_fakestack`` admin API."""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from .dialects.kit.body import content_length
from .dialects.kit.responses import json_response

# Dialect factories, in routing-table order (prefix length decides, not this order).
DIALECT_FACTORIES = (
    "fakestack.dialects.zstack:create_dialect",
    "fakestack.dialects.instavm:create_dialect",
    "fakestack.dialects.vsphere:create_dialect",
)


def _load(spec: str):
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)


# The largest request body served (``make_app(..., max_body_bytes=N)``, ``serve
# --max-body-bytes``): a larger one is answered 413 in the dialect's shape, unread.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

# How much of a request or response body the request journal keeps.
BODY_EXCERPT_CHARS = 2048
REQUEST_JOURNAL_SIZE = 500


def body_excerpt(data: bytes, limit: int = BODY_EXCERPT_CHARS) -> str:
    if not data:
        return ""
    # A UTF-8 character is at most 4 bytes: decode no more than the excerpt can show.
    text = data[: limit * 4 + 4].decode("utf-8", errors="replace")
    if len(text) <= limit and len(data) <= limit * 4:
        return text
    return f"{text[:limit]}... [{len(data)} bytes]"


def is_mutating(request: Request) -> bool:
    """Did this request (possibly) change the cloud?  A dialect or admin handler may say
    so in ``environ["fakestack.mutating"]``; otherwise every method but GET/HEAD/OPTIONS
    counts as mutating."""
    flag = request.environ.get("fakestack.mutating")
    if flag is not None:
        return bool(flag)
    return request.method not in ("GET", "HEAD", "OPTIONS")


class FakestackApp:
    """Routes by path prefix; serializes every request on the cloud's lock.

    ``/_fakestack/...`` goes to the admin API (``fakestack.admin``); every other path to
    the dialect with the longest matching prefix.  Each request is recorded in
    ``request_journal`` (the last ``request_journal_size``; admin reads are left out, and a
    handler may set ``environ["fakestack.journal"]`` to say otherwise) and
    reported to ``request_listeners`` (``fn(entry)``, outside the lock).  After a mutating
    request, ``mutation_listeners`` (``fn(app, request, response)``) run under the lock,
    before the response leaves: the server uses this to save its state file.
    """

    def __init__(
        self,
        cloud,
        dialects: Iterable | None = None,
        *,
        request_journal_size: int = REQUEST_JOURNAL_SIZE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        admin_token: str | None = None,
    ) -> None:
        from . import admin

        admin.load_extensions()
        self._admin = admin  # the module: a patched handle_admin is seen, as with an import per call
        self.cloud = cloud
        self._from_factories = dialects is None
        self._install_dialects(
            [_load(spec)(cloud) for spec in DIALECT_FACTORIES] if dialects is None else dialects
        )
        self.max_body_bytes = max_body_bytes
        # None: the admin API needs no credential (loopback use); else every admin request
        # must carry it in the ``X-Fakestack-Admin-Token`` header.
        self.admin_token = admin_token
        self.request_journal: deque = deque(maxlen=request_journal_size)
        self.request_seq = 0
        self.request_listeners: list[Callable[[dict], None]] = []
        self.mutation_listeners: list[Callable[..., Any]] = []

    def _install_dialects(self, dialects: Iterable) -> None:
        self.dialects = list(dialects)
        self._routes: list[tuple[str, Any]] = sorted(
            ((prefix.rstrip("/") or "/", d) for d in self.dialects for prefix in d.prefixes),
            key=lambda item: -len(item[0]),
        )
        # The routes a path can match, by its first segment (a prefix matches only paths
        # that start with its own first segment; "/" matches every path).  Same order.
        self._routes_by_head: dict[str, list[tuple[str, Any]]] = {}
        for prefix, _ in self._routes:
            head = _first_segment(prefix)
            if head and head not in self._routes_by_head:
                self._routes_by_head[head] = [
                    (p, d) for p, d in self._routes if _first_segment(p) in (head, "")
                ]
        self._routes_any_head = [(p, d) for p, d in self._routes if not _first_segment(p)]

    def reload_dialects(self) -> None:
        """Build the dialects again (after the cloud was reset or restored in place), so
        that whatever a dialect sets up in its constructor exists in the new state.
        Dialect objects passed to the constructor are kept as they are."""
        if self._from_factories:
            self._install_dialects([_load(spec)(self.cloud) for spec in DIALECT_FACTORIES])

    def reset(self) -> None:
        """Back to the initial topology and seed (what ``POST /_fakestack/reset`` does)."""
        with self.cloud.lock:
            self.cloud.reset()
            self.reload_dialects()

    def dialect_for(self, path: str, request: Request | None = None):
        """The dialect serving ``path``: the longest matching prefix, unless that dialect
        declines the request (``accepts(request)`` False: a path two real APIs share, such
        as ``/v1/volumes`` for InstaVM and ZStack, goes by its credentials)."""
        routes = self._routes_by_head.get(_first_segment(path), self._routes_any_head)
        for prefix, dialect in routes:
            if path == prefix or path.startswith(prefix + "/"):
                accepts = getattr(dialect, "accepts", None)
                if accepts is not None and request is not None and not accepts(request):
                    continue
                return dialect
        return None

    def dispatch(self, request: Request) -> Response:
        admin = self._admin
        path = request.path
        prefix = admin.ADMIN_PREFIX
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
            request.environ["fakestack.dialect"] = "admin"
            if self.admin_token is not None and not admin.token_matches(request, self.admin_token):
                return admin.token_required()
            if self._body_too_large(request):
                return admin.payload_too_large(self.max_body_bytes)
            return admin.handle_admin(self, request)
        dialect = self.dialect_for(path, request)
        if dialect is None:
            return json_response({"error": "not_found", "message": f"no dialect serves {request.path}"}, 404)
        request.environ["fakestack.dialect"] = dialect.name
        if self._body_too_large(request):
            return _payload_too_large(dialect, request, self.max_body_bytes)
        return dialect.handle(request)

    def _internal_error(self, request: Request, exc: Exception) -> Response:
        """An unexpected exception, answered in the shape of the dialect that raised it
        (``dialect.internal_error(request, exc)``), else as generic JSON; never a
        traceback page."""
        name = request.environ.get("fakestack.dialect")
        for dialect in self.dialects:
            render = getattr(dialect, "internal_error", None)
            if dialect.name == name and render is not None:
                try:
                    return render(request, exc)
                except Exception:  # the renderer itself failed: the generic answer below
                    break
        return json_response({"error": "internal_error", "message": f"{type(exc).__name__}: {exc}"}, 500)

    def _body_too_large(self, request: Request) -> bool:
        """Is the body over ``max_body_bytes``?  A declared length is judged unread; a
        chunked body is read up to the limit (the dialects read it anyway)."""
        environ = request.environ
        if (
            "CONTENT_LENGTH" not in environ
            and not environ.get("HTTP_TRANSFER_ENCODING")
            and not environ.get("wsgi.input_terminated")
        ):
            return False  # no body declared (content_length is None) and no stream to count
        limit = self.max_body_bytes
        length = content_length(environ)  # request.content_length, from the environ directly
        if length is not None:
            too_large = length > limit
        elif request.environ.get("HTTP_TRANSFER_ENCODING") or request.environ.get("wsgi.input_terminated"):
            # werkzeug's max_content_length truncates a terminated stream silently: count.
            stream, pieces, total = request.stream, [], 0
            while total <= limit:
                piece = stream.read(min(65536, limit + 1 - total))
                if not piece:
                    break
                pieces.append(piece)
                total += len(piece)
            too_large = total > limit
            if not too_large:
                request._cached_data = b"".join(pieces)  # what get_data(cache=True) returns
        else:
            too_large = False
        if too_large:
            request.environ["fakestack.body_unread"] = True
        return too_large

    def __call__(self, environ, start_response):
        request = Request(environ)
        dropped: BaseException | None = None
        with self.cloud.lock:
            try:
                self.cloud.settle()  # time-driven work due since the last request
                response = self.dispatch(request)
            except Exception as exc:  # a bug of the fake: the dialect's own crash answer
                response = self._internal_error(request, exc)
            except BaseException as exc:
                # A fault rule dropping the connection (fakestack.faults.DropConnection): no
                # answer goes out, but the request is journaled and whatever it changed saved.
                dropped, response = exc, None
            entry = self._record(request, response, dropped)
            if self.mutation_listeners and is_mutating(request):
                for listener in self.mutation_listeners:
                    replacement = listener(self, request, response)
                    if isinstance(replacement, Response) and dropped is None:
                        response = replacement
                        entry["status"] = response.status_code
        for listener in self.request_listeners:
            try:
                listener(entry)
            except Exception:  # a broken logger must not cost the client its answer
                pass
        if dropped is not None:
            from .faults.http import abort_connection  # close the socket; in process: ConnectionDropped

            abort_connection(environ, dropped)
        return response(environ, start_response)

    def _record(
        self, request: Request, response: Response | None, dropped: BaseException | None = None
    ) -> dict:
        self.request_seq += 1
        dialect = request.environ.get("fakestack.dialect")
        if response is None:
            response_body = f"<no response: {type(dropped).__name__}: {dropped}>"
        elif response.is_sequence:
            parts = response.response
            # one bytes body (what json_response makes) is what get_data() would join
            data = parts[0] if len(parts) == 1 and parts[0].__class__ is bytes else response.get_data()
            response_body = body_excerpt(data)
        else:
            response_body = "<streamed>"
        entry = {
            "seq": self.request_seq,
            "time": self.cloud.clock.now(),
            "dialect": dialect,
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "request_body": (
                f"<{request.content_length or 'over ' + str(self.max_body_bytes)} "
                "bytes, not read: over the body limit>"
                if request.environ.get("fakestack.body_unread")
                else body_excerpt(_request_body(request))
            ),
            "status": response.status_code if response is not None else None,
            "response_body": response_body,
            "remote_addr": request.remote_addr,
        }
        # Reads of the admin API would drown what clients did; they are logged, not kept.
        keep = request.environ.get("fakestack.journal")
        if keep is None:
            keep = dialect != "admin" or request.method not in ("GET", "HEAD")
        if keep:
            self.request_journal.append(entry)
        return entry


def _payload_too_large(dialect, request: Request, limit: int) -> Response:
    """413 in the dialect's shape (``dialect.payload_too_large(request, limit)``).  The
    server closes every connection after its answer (werkzeug keeps none alive), so the
    unread body is never taken for a next request."""
    render = getattr(dialect, "payload_too_large", None)
    if render is not None:
        response = render(request, limit)
    else:
        response = json_response(
            {"error": "payload_too_large", "message": f"the request body exceeds {limit} bytes"}, 413
        )
    return response


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else path.split("/", 1)[0]


def _request_body(request: Request) -> bytes:
    """The request body (as the handler read it, or read now).  A request that declares
    no body (no Content-Length, not chunked) has none: skip building a stream for it."""
    environ = request.environ
    if environ.get("fakestack.body_unread"):
        return b""
    if (
        not environ.get("CONTENT_LENGTH")
        and not environ.get("wsgi.input_terminated")
        and not environ.get("HTTP_TRANSFER_ENCODING")
    ):
        cached = request.__dict__.get("_cached_data")
        return cached if cached is not None else b""
    return request.get_data(cache=True)


def make_app(cloud, dialects: Iterable | None = None, **options: Any) -> FakestackApp:
    return FakestackApp(cloud, dialects, **options)
