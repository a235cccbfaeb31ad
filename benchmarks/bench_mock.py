"""The cost of ``fakestack.mock`` per request (not a test): ``python benchmarks/bench_mock.py``.

The same request (ZStack QueryVmInstance ``GET /zstack/v1/vm-instances?q=name=golden`` with
a session, on ``demo``) measured in one run through:
* the werkzeug test client (``werkzeug.test.Client`` on the app: how the fixtures drive it);
* ``requests`` intercepted by ``fakestack.mock`` (one ``requests.Session``);
* ``httpx`` intercepted by ``fakestack.mock`` (one ``httpx.Client``);
* the app itself, called with a prepared environ (the floor: no client at all).

Per request: CPU time (``time.process_time``), best of N rounds of M requests; the
overhead is each client's time minus the test client's.  ``--quick`` for fewer rounds.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import sys
import time

import httpx
import requests
from werkzeug.test import Client, EnvironBuilder

import fakestack
from fakestack import Cloud
from fakestack.app import make_app

BASE = "http://zstack.example:8080"
PATH = "/zstack/v1/vm-instances"
QUERY = {"q": "name=golden"}


def best_per_request(run, rounds: int, per_round: int) -> float:
    """Microseconds of CPU per call of ``run`` (best round)."""
    run()  # warm up: imports, pools, caches
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            for _ in range(per_round):
                run()
            spent = time.process_time() - start
        finally:
            gc.enable()
        best = min(best, spent)
    return best / per_round * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    rounds, per_round = (3, 100) if args.quick else (7, 400)

    app = make_app(Cloud("demo", seed=0))
    login = {"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"password").hexdigest()}}
    test_client = Client(app)
    session = test_client.put("/zstack/v1/accounts/login", json=login).get_json()["inventory"]["uuid"]
    auth = {"Authorization": f"OAuth {session}"}

    def via_test_client():
        response = test_client.get(PATH, query_string=QUERY, headers=auth)
        assert response.status_code == 200
        response.get_data()

    environ = EnvironBuilder(path=PATH, query_string=QUERY, headers=auth, base_url=BASE).get_environ()

    def via_the_app():
        env = dict(environ, **{"wsgi.input": io.BytesIO()})
        b"".join(app(env, lambda status, headers, exc_info=None: None))

    results = {
        "app called directly (floor)": best_per_request(via_the_app, rounds, per_round),
        "werkzeug.test.Client": best_per_request(via_test_client, rounds, per_round),
    }
    with fakestack.mock(app=app, urls=[BASE]):
        with requests.Session() as http:
            http.headers.update(auth)

            def via_requests():
                response = http.get(BASE + PATH, params=QUERY)
                assert response.status_code == 200

            results["requests + fakestack.mock"] = best_per_request(via_requests, rounds, per_round)
        with httpx.Client(base_url=BASE, headers=auth) as client:

            def via_httpx():
                response = client.get(PATH, params=QUERY)
                assert response.status_code == 200

            results["httpx + fakestack.mock"] = best_per_request(via_httpx, rounds, per_round)

    baseline = results["werkzeug.test.Client"]
    print(f"QueryVmInstance on demo, CPU µs per request (best of {rounds} x {per_round}):")
    for name, micros in results.items():
        delta = micros - baseline
        extra = "" if name == "werkzeug.test.Client" else f"  ({delta:+.0f} µs vs the test client)"
        print(f"  {name:32} {micros:8.0f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
