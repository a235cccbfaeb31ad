"""The local fake endpoint: the app on a threaded werkzeug server in a background thread.

    server = start_server(Cloud("demo"), port=0)      # port 0: an ephemeral port
    ...  # talk HTTP to server.url
    server.stop()

Requests run on the server's threads; the app serializes them on ``cloud.lock``, so
concurrent clients never see a torn state.  With ``state_file`` the cloud is restored from
that file at start (when it exists) and the file is rewritten atomically (a temporary
file in the same directory, then ``os.replace``) after every mutating request, before the
response is sent: a killed server loses nothing it acknowledged.  The temporary files a
killed server left beside the state file are removed at start.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, get_sockaddr, make_server, select_address_family

from .app import FakestackApp, make_app
from .dialects.kit.responses import json_response
from .faults.http import connection_dropping
from .files import remove_stale_temporaries, write_atomically


class StateFileError(ValueError):
    """The state file cannot be read back into a cloud, or cannot be written."""


# Seconds a connection may sit idle (or a client take to send a request) before the
# server closes it: idle keep-alive connections must not hold a thread each forever.
DEFAULT_IDLE_TIMEOUT = 30.0


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its own access log (the app's listener logs instead),
    with Nagle off: werkzeug writes headers and body separately, and on keep-alive
    connections Nagle + delayed ACKs would add tens of milliseconds per request."""

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):  # not TCP (a Unix socket)
            pass

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        # "Request timed out" of an idle connection closed by the timeout is not an error.
        if format.startswith("Request timed out"):
            return
        super().log_error(format, *args)


def _handler_with_timeout(idle_timeout: float | None) -> type:
    """The handler class with ``timeout`` (socketserver applies it to each connection's
    socket: an idle read past it closes the connection and frees its thread)."""
    return type("_TimedHandler", (_QuietHandler,), {"timeout": idle_timeout})


def read_state_file(path: str | os.PathLike[str]) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise StateFileError(f"cannot read state file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StateFileError(f"state file {path} does not hold a snapshot (a JSON object)")
    return data


def write_state_file(path: str | os.PathLike[str], data: dict) -> None:
    """Write ``data`` as JSON to ``path`` atomically: readers see the old file or the new
    one, never a half-written one."""
    write_atomically(path, json.dumps(data, separators=(",", ":")))


def format_request_line(entry: dict) -> str:
    """One log line per request: ``127.0.0.1 POST /zstack/v1/... -> 202 [zstack]``."""
    target = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
    status = entry["status"] if entry["status"] is not None else "dropped"
    return (
        f"{entry.get('remote_addr') or '-'} {entry['method']} {target} -> "
        f"{status} [{entry['dialect'] or '-'}]"
    )


class RunningServer:
    """A started server: ``url``, ``host``, ``port``, ``cloud``, ``app``; ``stop()``."""

    def __init__(
        self,
        httpd,
        thread: threading.Thread,
        app: FakestackApp,
        host: str,
        state_file: Path | None,
        tls: bool = False,
    ) -> None:
        self._httpd = httpd
        self._thread = thread
        self.app = app
        self.cloud = app.cloud
        self.host = host
        self.port = httpd.server_address[1]
        url_host = f"[{host}]" if ":" in host else host
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://{url_host}:{self.port}"
        self.state_file = state_file
        self._stopped = False

    def stop(self) -> None:
        """Stop accepting requests, wait for the serving thread and close the socket."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningServer {self.url}>"


def start_server(
    cloud,
    host: str = "127.0.0.1",
    port: int = 0,
    state_file=None,
    log: Callable[[str], None] | None = None,
    *,
    app: FakestackApp | None = None,
    tls: bool = False,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    max_body_bytes: int | None = None,
    admin_token: str | None = None,
) -> RunningServer:
    """Serve ``cloud`` (through ``app``, default ``make_app(cloud)``) on ``host:port``.

    ``state_file``: restore from it if it exists (raises ``StateFileError`` if it cannot
    be read), else create it; then rewrite it after every mutating request.
    ``log``: called with one line per request.
    ``tls``: serve https with a self-signed certificate generated now (needs the
    ``cryptography`` package), for clients that insist on https; they must not verify it.
    ``idle_timeout``: seconds a connection may stay idle before it is closed (None: never).
    ``max_body_bytes``: the app's request body limit (default: the app's own).
    ``admin_token``: required in ``X-Fakestack-Admin-Token`` by every admin request.
    """
    if idle_timeout is not None and not idle_timeout > 0:
        raise ValueError(f"invalid idle_timeout {idle_timeout!r}: must be a positive number of seconds")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"invalid port {port!r}: must be an integer from 0 to 65535")
    ssl_context = _self_signed_context() if tls else None
    # Bind first: a taken port fails before the state file or the app are touched.
    # (werkzeug's make_server exits the process when it cannot bind; with a bound socket
    # passed in, that stays an OSError for the caller.)
    listener = _listen(host, port)
    try:
        state_path = Path(state_file) if state_file is not None else None
        if state_path is not None:
            # A server killed mid-write leaves its temporary file behind: nobody else
            # writes this state file now, so every such file is garbage.
            for leftover in remove_stale_temporaries(state_path):
                if log is not None:
                    log(f"removed {leftover.name}, a temporary state file left by a killed server")
        if state_path is not None and state_path.exists():
            data = read_state_file(state_path)
            try:
                # in place: the app, its dialects and the caller keep holding ``cloud``
                cloud.load_snapshot(data)
            except Exception as exc:
                raise StateFileError(
                    f"cannot restore state file {state_path}: {type(exc).__name__}: {exc}"
                ) from None
            if app is not None:
                app.reload_dialects()
        if app is None:
            app = make_app(cloud)
        elif app.cloud is not cloud:
            raise ValueError("start_server: app serves another cloud")
        if max_body_bytes is not None:
            app.max_body_bytes = max_body_bytes
        if admin_token is not None:
            app.admin_token = admin_token
        if state_path is not None:
            try:
                with cloud.lock:
                    write_state_file(state_path, cloud.snapshot())
            except OSError as exc:
                raise StateFileError(f"cannot write state file {state_path}: {exc}") from None
        httpd = make_server(
            host,
            port,
            connection_dropping(app),
            threaded=True,
            request_handler=_handler_with_timeout(idle_timeout),
            fd=listener.fileno(),
            ssl_context=ssl_context,
        )
    finally:
        listener.close()  # the server holds its own duplicate of the socket
    if state_path is not None:
        app.mutation_listeners.append(_state_saver(state_path, log))
    if log is not None:
        app.request_listeners.append(lambda entry: log(format_request_line(entry)))
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"fakestack-server-{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return RunningServer(httpd, thread, app, host, state_path, tls=tls)


def _self_signed_context():
    """An ssl context with a certificate generated for this start (werkzeug's "adhoc")."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "serving with TLS needs the 'cryptography' package (pip install cryptography)"
        ) from None
    from werkzeug.serving import generate_adhoc_ssl_context

    return generate_adhoc_ssl_context()


def is_loopback_host(host: str) -> bool:
    """Does ``host`` (a listen address) only accept connections from this machine?"""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    family = select_address_family(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(get_sockaddr(host, port, family))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _state_saver(path: Path, log: Callable[[str], None] | None):
    def save(app: FakestackApp, request, response):
        try:
            write_state_file(path, app.cloud.snapshot())
        except Exception as exc:
            # The change happened but is not durable: do not acknowledge it as if it were.
            message = f"state not saved to {path}: {type(exc).__name__}: {exc}"
            if log is not None:
                log(message)
            return json_response({"error": "state_not_saved", "message": message}, 500)
        return None

    return save
