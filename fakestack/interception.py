"""``fakestack.mock``: unmodified HTTP clients reach the fake in process, with no socket.

While a ``mock`` is active, a request that ``requests``, ``urllib3`` or ``httpx`` (sync or
async) sends to one of its base URLs is answered by the cloud's WSGI app
(``fakestack.app.make_app``) in the calling thread.  The patches sit at the transport:

* urllib3 (and so ``requests``): ``HTTPConnectionPool._make_request``.  The connection
  writes its request, with its own ``Host``, ``User-Agent``, ``Content-Length`` or chunked
  framing, into an in-memory socket; the request is parsed back the way werkzeug's server
  parses it, the app answers, and ``http.client`` parses the answer's bytes.  Retries,
  redirects, cookies (``response._original_response``), decoding and streaming are
  urllib3's and requests' own code on a real ``http.client`` response.  https URLs need no
  certificate: nothing is encrypted in process.
* httpx: ``HTTPTransport.handle_request`` and ``AsyncHTTPTransport.handle_async_request``.

A request to a host no active mock serves fails with ``UnmatchedRequest`` naming the URL,
or goes out to the network with ``passthrough=True``.  Mocks nest: the innermost one that
serves a URL answers it; the patches are installed by the first and removed by the last to
exit (also when the block raises).
"""

from __future__ import annotations

import functools
import http.client
import inspect
import io
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["Mock", "UnmatchedRequest", "mock"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnmatchedRequest(RuntimeError):
    """A request to a URL that no active ``fakestack.mock`` serves (and no passthrough)."""


@dataclass(frozen=True)
class BaseUrl:
    scheme: str | None  # None: any
    host: str | None  # None: any
    port: int | None
    path: str  # a prefix ("" for all paths)

    @classmethod
    def parse(cls, url: str) -> BaseUrl:
        if "://" not in url:
            raise ValueError(
                f"fakestack.mock: {url!r} is not a base URL such as "
                "'https://vcenter.example' or 'http://zstack.example:8080'"
            )
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"fakestack.mock: {url!r} is not an http(s) base URL")
        return cls(
            scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[scheme], parts.path.rstrip("/")
        )

    def serves(self, scheme: str, host: str, port: int, path: str) -> bool:
        if self.scheme is not None and (scheme, host.lower(), port) != (self.scheme, self.host, self.port):
            return False
        return not self.path or path == self.path or path.startswith(self.path + "/")

    def __str__(self) -> str:
        if self.scheme is None:
            return "any URL"
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"


_ANY = BaseUrl(None, None, None, "")


class Mock:
    """Answer HTTP requests to ``urls`` with ``cloud``'s app, in process.

    ``cloud``: a ``fakestack.Cloud`` or a topology (``"tiny"``) (or ``app``: an app from
    ``fakestack.make_app``, or any WSGI app); neither, a new
    ``Cloud(topology, seed)`` (manual clock) is built, for a decorated function once per call.
    ``urls``: base URLs served (scheme, host, port and an optional path prefix); omitted,
    every URL.  ``passthrough``: let requests to other URLs reach the network instead of
    failing with ``UnmatchedRequest``.

    Use it as ``with fakestack.mock() as fake: ...`` (``fake.cloud``, ``fake.app``), as a
    decorator (``@fakestack.mock`` or ``@fakestack.mock(urls=[...])``), or through the
    ``fakestack_mock`` pytest fixture and marker.
    """

    def __init__(
        self,
        cloud: Any = None,
        urls: str | Iterable[str] | None = None,
        *,
        app: Any = None,
        passthrough: bool = False,
        topology: Any = "demo",
        seed: int = 0,
    ) -> None:
        if cloud is not None and app is not None:
            raise ValueError("fakestack.mock: pass a cloud or an app, not both")
        if isinstance(urls, str):
            urls = [urls]
        self.urls: tuple[BaseUrl, ...] = (_ANY,) if urls is None else tuple(BaseUrl.parse(u) for u in urls)
        if not self.urls:
            raise ValueError("fakestack.mock: urls=[] serves nothing; omit it to serve every URL")
        self.passthrough = passthrough
        self._given = cloud if app is None else app
        self._topology, self._seed = topology, seed
        self._app = None
        self._depth = 0

    # -- what answers --------------------------------------------------------------------
    @property
    def app(self):
        """The WSGI app answering (built on first use)."""
        if self._app is None:
            from .app import make_app
            from .model import Cloud

            given = self._given
            if given is None or isinstance(given, (str, dict)):  # none, or a topology
                given = Cloud(self._topology if given is None else given, seed=self._seed)
            if not isinstance(given, Cloud) and not callable(given):
                raise TypeError(f"fakestack.mock: {given!r} is neither a Cloud nor a WSGI app")
            # A cloud gets its app; an app (fakestack's or any WSGI callable) answers as is.
            self._app = make_app(given) if isinstance(given, Cloud) else given
        return self._app

    @property
    def cloud(self):
        """The cloud answering (None for a WSGI app that is not fakestack's)."""
        return getattr(self.app, "cloud", None)

    def serves(self, scheme: str, host: str, port: int, path: str) -> bool:
        return any(base.serves(scheme, host, port, path) for base in self.urls)

    # -- activation ------------------------------------------------------------------------
    def start(self) -> Mock:
        _ = self.app  # build the cloud before a request needs it
        with _state_lock:
            if not _active:
                try:
                    _install()
                except BaseException:
                    _uninstall()  # the patches made before the failure go too
                    raise
            _active.append(self)
            self._depth += 1
        return self

    def stop(self) -> None:
        with _state_lock:
            if self._depth == 0:
                raise RuntimeError("fakestack.mock: stop() without start()")
            for i in range(len(_active) - 1, -1, -1):
                if _active[i] is self:
                    del _active[i]
                    break
            self._depth -= 1
            if not _active:
                _uninstall()

    def __enter__(self) -> Mock:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __call__(self, fn):
        """Decorate ``fn`` (sync or async): each call runs inside its own activation, on a
        fresh cloud unless this mock was given one."""

        def activation() -> Mock:
            if self._given is not None:
                return self
            return Mock(
                urls=None if self.urls == (_ANY,) else [str(u) for u in self.urls],
                passthrough=self.passthrough,
                topology=self._topology,
                seed=self._seed,
            )

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args, **kwargs):
                with activation():
                    return await fn(*args, **kwargs)

            return run_async

        @functools.wraps(fn)
        def run(*args, **kwargs):
            with activation():
                return fn(*args, **kwargs)

        return run

    @staticmethod
    def current() -> Mock | None:
        """The innermost active mock (for a decorated function that wants its cloud)."""
        with _state_lock:
            return _active[-1] if _active else None

    def __repr__(self) -> str:
        return f"<fakestack.mock {', '.join(map(str, self.urls))}{' (active)' if self._depth else ''}>"


def mock(cloud: Any = None, urls: str | Iterable[str] | None = None, **options: Any):
    """``fakestack.mock``: see ``Mock``.  ``@fakestack.mock`` without parentheses works too."""
    if inspect.isfunction(cloud) or inspect.ismethod(cloud):
        return Mock(urls=urls, **options)(cloud)
    return Mock(cloud, urls, **options)


# -- the registry of active mocks ----------------------------------------------------------
_state_lock = threading.RLock()
_active: list[Mock] = []
_originals: dict[tuple[Any, str], Any] = {}


def _route(scheme: str, host: str, port: int, path: str, url: str) -> Mock | None:
    """The mock serving this URL, None to pass it through, or ``UnmatchedRequest``."""
    with _state_lock:
        stack = list(_active)
    for candidate in reversed(stack):
        if candidate.serves(scheme, host, port, path):
            return candidate
    if any(m.passthrough for m in stack):
        return None
    served = ", ".join(dict.fromkeys(str(u) for m in stack for u in m.urls)) or "nothing"
    raise UnmatchedRequest(
        f"fakestack.mock does not serve {url} (it serves {served}); add its base URL to "
        "urls=[...] or pass passthrough=True to let it reach the network"
    )


def _patch(owner: Any, name: str, replacement: Any) -> None:
    _originals[(owner, name)] = owner.__dict__[name]
    setattr(owner, name, replacement)


def _install() -> None:
    try:
        from urllib3.connectionpool import HTTPConnectionPool
    except ImportError:  # neither requests nor urllib3 installed: httpx only
        pass
    else:
        _patch(HTTPConnectionPool, "_make_request", _urllib3_make_request)
    try:
        import httpx
    except ImportError:  # httpx is optional
        return
    _patch(httpx.HTTPTransport, "handle_request", _httpx_handle_request)
    _patch(httpx.AsyncHTTPTransport, "handle_async_request", _httpx_handle_async_request)


def _uninstall() -> None:
    while _originals:
        (owner, name), original = _originals.popitem()
        setattr(owner, name, original)


def _original(owner: Any, name: str):
    found = _originals.get((owner, name))
    return found if found is not None else owner.__dict__[name]


# -- WSGI: one request in, status/headers/bytes out -----------------------------------------
def _environ(
    *,
    scheme: str,
    server_name: str,
    server_port: int,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
) -> dict:
    """The environ werkzeug's development server would build for this request."""
    url = urlsplit(target)
    path = unquote(url.path)
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "fakestack.mock",
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": url.query.encode("utf-8").decode("latin-1"),
        "REQUEST_URI": target,
        "RAW_URI": target,
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "fakestack.in_process": True,
    }
    for key, value in headers:
        if "_" in key:
            continue
        key = key.upper().replace("-", "_")
        value = value.replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
            if key in environ:
                value = f"{environ[key]},{value}"
        environ[key] = value
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        environ["wsgi.input_terminated"] = True  # the body is already de-chunked
    return environ


@dataclass
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    chunks: list[bytes]  # as the app yielded them: a server sends each as an HTTP chunk

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def _answer(app, environ: dict) -> _Answer | None:
    """Run the app; None when a fault rule dropped the connection."""
    from .faults import ConnectionDropped, DropConnection

    seen: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        if exc_info is not None and seen:
            raise exc_info[1].with_traceback(exc_info[2])
        seen["status"], seen["headers"] = status, list(headers)
        return lambda data: seen.setdefault("written", []).append(data)

    try:
        result = app(environ, start_response)
        try:
            chunks = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except (ConnectionDropped, DropConnection):
        return None
    code, _, reason = seen["status"].partition(" ")
    return _Answer(int(code), reason, seen["headers"], [c for c in seen.get("written", []) + chunks if c])


def _bodiless(method: str, status: int) -> bool:
    return method == "HEAD" or status in (204, 304) or status < 200


def _has_header(headers: Iterable[tuple[str, str]], name: str) -> bool:
    return any(k.lower() == name for k, _ in headers)


def _response_bytes(answer: _Answer, method: str) -> bytes:
    """The answer as werkzeug's server writes it: a body without Content-Length goes out
    chunked (HTTP/1.1), a HEAD or 1xx/204/304 answer has no body."""
    headers = list(answer.headers)
    body = answer.body
    if _bodiless(method, answer.status):
        body = b""
    elif not _has_header(headers, "content-length"):
        headers.append(("Transfer-Encoding", "chunked"))
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in answer.chunks) + b"0\r\n\r\n"
    head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    head += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


# -- urllib3 ---------------------------------------------------------------------------------
def _parse_request(raw: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """Method, target, headers and de-chunked body of one HTTP/1.1 request's bytes."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, target, _version = lines[0].decode("latin-1").split(" ", 2)
    message = http.client.parse_headers(io.BytesIO(b"\r\n".join(lines[1:]) + b"\r\n\r\n"))
    headers = list(message.items())
    if "chunked" in (message.get("Transfer-Encoding") or "").lower():
        body, stream = [], io.BytesIO(rest)
        while True:
            size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            body.append(stream.read(size))
            stream.readline()
        return method, target, headers, b"".join(body)
    length = int(message.get("Content-Length") or 0)
    return method, target, headers, rest[:length]


class _InMemorySocket:
    """What a connection writes is a request; what it reads back is the app's answer,
    computed when the connection starts reading (the request is complete by then)."""

    def __init__(self, app, scheme: str, server_name: str, server_port: int) -> None:
        self.app, self.scheme = app, scheme
        self.server_name, self.server_port = server_name, server_port
        self.written = bytearray()
        self.timeout: float | None = None

    def sendall(self, data) -> None:
        self.written += data

    send = sendall

    def settimeout(self, timeout) -> None:
        self.timeout = timeout

    def setsockopt(self, *args) -> None:
        pass

    def makefile(self, mode: str = "rb", *args, **kwargs):
        method, target, headers, body = _parse_request(bytes(self.written))
        environ = _environ(
            scheme=self.scheme,
            server_name=self.server_name,
            server_port=self.server_port,
            method=method,
            target=target,
            headers=headers,
            body=body,
        )
        answer = _answer(self.app, environ)
        # A dropped connection reads as end-of-file: http.client raises RemoteDisconnected.
        return io.BytesIO(b"" if answer is None else _response_bytes(answer, method))

    def shutdown(self, how) -> None:
        pass

    def close(self) -> None:
        pass


_UNSET: Any = object()  # "no timeout given" (None means "wait forever" to urllib3)


def _urllib3_make_request(
    pool,
    conn,
    method,
    url,
    body=None,
    headers=None,
    retries=None,
    timeout=_UNSET,
    chunked=False,
    response_conn=None,
    preload_content=True,
    decode_content=True,
    enforce_content_length=True,
    **kwargs,
):
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.util.timeout import _DEFAULT_TIMEOUT, Timeout

    scheme = pool.scheme
    host = (pool.host or "").strip("[]")
    port = pool.port or _DEFAULT_PORTS.get(scheme, 80)
    absolute = url if "://" in url else f"{scheme}://{_netloc(scheme, host, port)}{url}"
    serving = _route(scheme, host, port, urlsplit(absolute).path or "/", absolute)
    if timeout is _UNSET:
        timeout = _DEFAULT_TIMEOUT
    if serving is None:
        original = _original(HTTPConnectionPool, "_make_request")
        return original(
            pool,
            conn,
            method,
            url,
            body=body,
            headers=headers,
            retries=retries,
            timeout=timeout,
            chunked=chunked,
            response_conn=response_conn,
            preload_content=preload_content,
            decode_content=decode_content,
            enforce_content_length=enforce_content_length,
            **kwargs,
        )
    pool.num_requests += 1
    if conn.sock is not None and not isinstance(conn.sock, _InMemorySocket):
        conn.close()  # a real socket from before the mock: not ours to write on
    timeout_obj = pool._get_timeout(timeout)
    conn.timeout = Timeout.resolve_default_timeout(timeout_obj.read_timeout)
    conn.sock = _InMemorySocket(serving.app, scheme, host, port)
    conn.request(
        method,
        url,
        body=body,
        headers=headers,
        chunked=chunked,
        preload_content=preload_content,
        decode_content=decode_content,
        enforce_content_length=enforce_content_length,
    )
    response = conn.getresponse()
    conn.sock = None  # the answer is buffered; the next request gets a fresh socket
    response.retries = retries
    response._connection = response_conn
    response._pool = pool
    return response


def _netloc(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if _DEFAULT_PORTS.get(scheme) == port else f"{shown}:{port}"


# -- httpx -----------------------------------------------------------------------------------
def _httpx_route(request):
    url = request.url
    scheme = url.scheme
    port = url.port or _DEFAULT_PORTS.get(scheme, 80)
    return _route(scheme, url.host, port, url.path or "/", str(url))


def _httpx_environ(request, body: bytes) -> dict:
    url = request.url
    target = url.raw_path.decode("ascii")
    return _environ(
        scheme=url.scheme,
        server_name=url.host,
        server_port=url.port or _DEFAULT_PORTS.get(url.scheme, 80),
        method=request.method,
        target=target,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        body=body,
    )


def _httpx_response(request, answer: _Answer | None):
    import httpx

    if answer is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    headers = list(answer.headers)
    chunks = answer.chunks
    if _bodiless(request.method, answer.status):
        chunks = []
    elif not _has_header(headers, "content-length"):
        headers.append(("Transfer-Encoding", "chunked"))
    return httpx.Response(
        answer.status,
        headers=headers,
        stream=_chunk_stream_class()(chunks),
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.encode("latin-1")},
        request=request,
    )


@functools.cache
def _chunk_stream_class():
    import httpx

    class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
        """An httpx response stream (sync and async) giving the app's chunks one by one."""

        def __init__(self, chunks: list[bytes]) -> None:
            self.chunks = chunks

        def __iter__(self):
            yield from self.chunks

        async def __aiter__(self):
            for chunk in self.chunks:
                yield chunk

    return ChunkStream


def _httpx_handle_request(transport, request):
    import httpx

    serving = _httpx_route(request)
    if serving is None:
        return _original(httpx.HTTPTransport, "handle_request")(transport, request)
    body = request.read()
    return _httpx_response(request, _answer(serving.app, _httpx_environ(request, body)))


async def _httpx_handle_async_request(transport, request):
    import httpx

    serving = _httpx_route(request)
    if serving is None:
        return await _original(httpx.AsyncHTTPTransport, "handle_async_request")(transport, request)
    body = await request.aread()
    return _httpx_response(request, _answer(serving.app, _httpx_environ(request, body)))
