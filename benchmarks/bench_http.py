"""HTTP benchmarks (not tests): run ``python benchmarks/bench_http.py``.

Requests per second for two ZStack calls on ``demo``, beside a bare werkzeug app (a
``Request`` -> ``Response`` with a small JSON body) measured in the same run:
* QueryVmInstance: ``GET /zstack/v1/vm-instances?q=name=golden`` with a valid session;
* CloneVmInstance: ``PUT /zstack/v1/vm-instances/{uuid}/actions`` with ``cloneVmInstance``
  and one name, then the poll of its job (two requests per clone; rounds of 100 clones
  on a fresh copy of ``demo``, which holds 115 more VMs).

Three ways in, the same requests on both sides:
* in process: the WSGI callable called directly with a prepared environ (no test client);
* test client: ``werkzeug.test.Client``, as the tests drive the app (builds each environ
  and wraps each response: a fixed cost on both sides, so the ratio is kinder);
* loopback: ``fakestack.server.start_server`` vs the bare app on werkzeug's threaded
  server with the same request handler, through one keep-alive ``http.client`` connection.

CPU time (``time.process_time``, every thread of this process: the client and the server)
is measured, best of N rounds, so other load on the machine matters less.
Target: in process, each API's rate is at least half the bare app's.
``--profile query|clone`` prints a cProfile of the in-process request path instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import http.client
import io
import json
import pstats
import sys
import threading
import time

from werkzeug.serving import make_server
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request, Response

from fakestack import Cloud, ManualClock
from fakestack.app import make_app
from fakestack.server import _QuietHandler, start_server

PREFIX = "/zstack/v1"
QUERY_PATH = f"{PREFIX}/vm-instances"
QUERY_STRING = "q=name=golden"
CLONES_PER_ROUND = 100  # demo has room for 115 more VMs
PASSWORD_HASH = hashlib.sha512(b"password").hexdigest()


# -- the bare app ------------------------------------------------------------------------


def bare_app(environ, start_response):
    request = Request(environ)
    body = json.dumps({"path": request.path, "method": request.method, "ok": True})
    return Response(body, mimetype="application/json")(environ, start_response)


# -- in process: the WSGI callable with a prepared environ ---------------------------------


class Wsgi:
    """Calls a WSGI app with copies of prepared environs (the same work for every app)."""

    def __init__(self, app) -> None:
        self.app = app
        self.status = ""

    def _start_response(self, status, headers, exc_info=None):
        self.status = status
        return None

    def call(self, template: dict, body: bytes = b"", path: str | None = None) -> tuple[int, bytes]:
        environ = dict(template)
        environ["wsgi.input"] = io.BytesIO(body)
        if path is not None:
            environ["PATH_INFO"] = path
        iterable = self.app(environ, self._start_response)
        try:
            data = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return int(self.status[:3]), data


def environ_for(
    method: str, path: str, *, query: str = "", body: bytes = b"", session: str | None = None
) -> dict:
    headers = {"Authorization": f"OAuth {session}"} if session else {}
    builder = EnvironBuilder(
        path=path,
        method=method,
        query_string=query,
        data=body,
        headers=headers,
        content_type="application/json" if body else None,
    )
    environ = builder.get_environ()
    environ.pop("wsgi.input", None)
    return environ


def login_body() -> bytes:
    return json.dumps({"logInByAccount": {"accountName": "admin", "password": PASSWORD_HASH}}).encode()


def clone_bodies(n: int) -> list[bytes]:
    # Names of one length: every body has the same Content-Length, so one environ serves all.
    return [json.dumps({"cloneVmInstance": {"names": [f"clone-{i:05d}"]}}).encode() for i in range(n)]


def poll_path(location: str) -> str:
    return "/" + location.split("://", 1)[1].split("/", 1)[1]


class InProcess:
    """One fresh cloud (a restored copy of ``base``) behind ``make_app``, logged in."""

    def __init__(self, base: dict) -> None:
        self.cloud = Cloud.restore(base)
        self.wsgi = Wsgi(make_app(self.cloud))
        status, data = self.wsgi.call(
            environ_for("PUT", f"{PREFIX}/accounts/login", body=login_body()), login_body()
        )
        assert status == 200, data
        self.session = json.loads(data)["inventory"]["uuid"]
        self.golden = self.cloud.vms.get("golden").uuid


def measure_query_inprocess(base: dict, requests: int, bare: bool) -> float:
    """CPU seconds per QueryVmInstance request (or the bare app's, same environ)."""
    side = InProcess(base)
    env = environ_for("GET", QUERY_PATH, query=QUERY_STRING, session=side.session)
    wsgi = Wsgi(bare_app) if bare else side.wsgi
    status, data = wsgi.call(env)
    assert status == 200 and (bare or json.loads(data)["inventories"][0]["name"] == "golden"), data
    gc.collect()
    t0 = time.process_time()
    for _ in range(requests):
        wsgi.call(env)
    return (time.process_time() - t0) / requests


def measure_clone_inprocess(base: dict, clones: int, bare: bool) -> float:
    """CPU seconds per request of clone + poll pairs (or the bare app's, same environs)."""
    side = InProcess(base)
    bodies = clone_bodies(clones)
    put = environ_for(
        "PUT", f"{PREFIX}/vm-instances/{side.golden}/actions", body=bodies[0], session=side.session
    )
    get = environ_for("GET", f"{PREFIX}/api-jobs/0", session=side.session)
    bare_location = f"http://localhost{PREFIX}/api-jobs/0"
    wsgi = Wsgi(bare_app) if bare else side.wsgi
    gc.collect()
    t0 = time.process_time()
    for body in bodies:
        status, data = wsgi.call(put, body)
        location = bare_location if bare else json.loads(data)["location"]
        status, data = wsgi.call(get, path=poll_path(location))
    took = time.process_time() - t0
    if not bare:  # the last poll is a finished clone of one VM
        assert status == 200 and json.loads(data)["result"]["numberOfClonedVm"] == 1, data
    return took / (2 * clones)


def measure_query_client(base: dict, requests: int, bare: bool) -> float:
    """Through werkzeug's test client (how tests drive the app in process)."""
    side = InProcess(base)
    client = Client(bare_app if bare else side.wsgi.app)
    headers = {"Authorization": f"OAuth {side.session}"}
    assert client.get(QUERY_PATH, query_string=QUERY_STRING, headers=headers).status_code == 200
    gc.collect()
    t0 = time.process_time()
    for _ in range(requests):
        client.get(QUERY_PATH, query_string=QUERY_STRING, headers=headers)
    return (time.process_time() - t0) / requests


def measure_clone_client(base: dict, clones: int, bare: bool) -> float:
    side = InProcess(base)
    client = Client(bare_app if bare else side.wsgi.app)
    headers = {"Authorization": f"OAuth {side.session}", "Content-Type": "application/json"}
    bodies = clone_bodies(clones)
    target = f"{PREFIX}/vm-instances/{side.golden}/actions"
    bare_location = f"http://localhost{PREFIX}/api-jobs/0"
    gc.collect()
    t0 = time.process_time()
    for body in bodies:
        response = client.put(target, data=body, headers=headers)
        location = bare_location if bare else response.get_json()["location"]
        response = client.get(poll_path(location), headers=headers)
    took = time.process_time() - t0
    if not bare:
        assert response.get_json()["result"]["numberOfClonedVm"] == 1
    return took / (2 * clones)


# -- loopback: a live server, one keep-alive connection ---------------------------------------


class BareServer:
    def __init__(self) -> None:
        self.httpd = make_server("127.0.0.1", 0, bare_app, threaded=True, request_handler=_QuietHandler)
        self.url_port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join()
        self.httpd.server_close()


class Loopback:
    """``start_server`` on a fresh cloud, or the bare app served the same way."""

    def __init__(self, base: dict, bare: bool) -> None:
        self.bare = bare
        if bare:
            self.server = BareServer()
            port = self.server.url_port
        else:
            self.server = start_server(Cloud.restore(base), port=0)
            port = self.server.port
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.conn.connect()
        status, data = self.request("PUT", f"{PREFIX}/accounts/login", login_body())
        self.session = "bare" if bare else json.loads(data)["inventory"]["uuid"]
        self.golden = "0" * 32 if bare else self.server.cloud.vms.get("golden").uuid
        self.headers = {"Authorization": f"OAuth {self.session}", "Content-Type": "application/json"}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()
        self.server.stop()


def measure_query_loopback(base: dict, requests: int, bare: bool) -> float:
    side = Loopback(base, bare)
    try:
        target = f"{QUERY_PATH}?{QUERY_STRING}"
        status, data = side.request("GET", target, headers=side.headers)
        assert status == 200, data
        gc.collect()
        t0 = time.process_time()
        for _ in range(requests):
            side.request("GET", target, headers=side.headers)
        return (time.process_time() - t0) / requests
    finally:
        side.close()


def measure_clone_loopback(base: dict, clones: int, bare: bool) -> float:
    side = Loopback(base, bare)
    try:
        bodies = clone_bodies(clones)
        target = f"{PREFIX}/vm-instances/{side.golden}/actions"
        bare_location = f"http://localhost{PREFIX}/api-jobs/0"
        gc.collect()
        t0 = time.process_time()
        for body in bodies:
            status, data = side.request("PUT", target, body, side.headers)
            location = bare_location if bare else json.loads(data)["location"]
            status, data = side.request("GET", poll_path(location), headers=side.headers)
        took = time.process_time() - t0
        if not bare:
            assert status == 200 and json.loads(data)["result"]["numberOfClonedVm"] == 1, data
        return took / (2 * clones)
    finally:
        side.close()


# -- running -----------------------------------------------------------------------------------


def best(rounds: int, measure, *args) -> float:
    """The lowest per-request cost over ``rounds`` rounds (noise only ever adds time)."""
    return min(measure(*args) for _ in range(rounds))


def run(rounds: int, query_requests: int, loop_requests: int, clones: int) -> list[dict]:
    base = Cloud("demo", clock=ManualClock()).snapshot()
    plan = [
        ("QueryVmInstance", "in process", measure_query_inprocess, query_requests),
        ("CloneVmInstance", "in process", measure_clone_inprocess, clones),
        ("QueryVmInstance", "test client", measure_query_client, query_requests),
        ("CloneVmInstance", "test client", measure_clone_client, clones),
        ("QueryVmInstance", "loopback", measure_query_loopback, loop_requests),
        ("CloneVmInstance", "loopback", measure_clone_loopback, clones),
    ]
    rows = []
    for api, transport, measure, n in plan:
        # Interleave the two sides round by round, so that drift affects both alike.
        app_cost = bare_cost = float("inf")
        for _ in range(rounds):
            app_cost = min(app_cost, measure(base, n, False))
            bare_cost = min(bare_cost, measure(base, n, True))
        rows.append(
            {
                "api": api,
                "transport": transport,
                "rate": 1 / app_cost,
                "bare": 1 / bare_cost,
                "ratio": bare_cost / app_cost,
            }
        )
    return rows


def profile(which: str, requests: int) -> None:
    base = Cloud("demo", clock=ManualClock()).snapshot()
    profiler = cProfile.Profile()
    if which == "query":
        side = InProcess(base)
        env = environ_for("GET", QUERY_PATH, query=QUERY_STRING, session=side.session)
        profiler.enable()
        for _ in range(requests):
            side.wsgi.call(env)
        profiler.disable()
    else:
        for _ in range(max(1, requests // CLONES_PER_ROUND)):
            side = InProcess(base)
            bodies = clone_bodies(CLONES_PER_ROUND)
            put = environ_for(
                "PUT", f"{PREFIX}/vm-instances/{side.golden}/actions", body=bodies[0], session=side.session
            )
            get = environ_for("GET", f"{PREFIX}/api-jobs/0", session=side.session)
            profiler.enable()
            for body in bodies:
                _, data = side.wsgi.call(put, body)
                side.wsgi.call(get, path=poll_path(json.loads(data)["location"]))
            profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    parser.add_argument("--profile", choices=("query", "clone"), help="cProfile the in-process path")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile, 2000)
        return 0
    rounds = 3 if args.quick else 7
    rows = run(
        rounds,
        query_requests=300 if args.quick else 2000,
        loop_requests=200 if args.quick else 1000,
        clones=30 if args.quick else CLONES_PER_ROUND,
    )
    print(f"{'API':<16} {'transport':<12} {'fakestack req/s':>16} {'bare req/s':>12} {'ratio':>7}")
    for row in rows:
        print(
            f"{row['api']:<16} {row['transport']:<12} {row['rate']:>16,.0f} {row['bare']:>12,.0f} "
            f"{row['ratio']:>7.2f}"
        )
    print("(CloneVmInstance: a clone is two requests, the PUT and the poll; clones/s is half the rate.")
    print(" in process: the WSGI callable with a prepared environ; test client: werkzeug.test.Client;")
    print(" the target applies to the first, the stricter measure.)")
    ok = all(row["ratio"] >= 0.5 for row in rows if row["transport"] == "in process")
    print("target (in process >= 0.5 x bare):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
