"""``fakestack serve`` answers its first request without loading what that answer does not
need: the route tables, request models and generated documents of the dialects load at
their first request, the built-in topology is constructed without building a pydantic
validator, and nothing of the scenarios, the test helpers or the HTTP clients loads at all.
(How long it takes is measured in ``benchmarks/bench_scale.py``, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Serve in a fresh interpreter; at the banner (the server answers from then on), ask
# /_fakestack/health over a socket and report what the process has loaded by then.
SERVE_AND_REPORT = textwrap.dedent(
    """
    import json, os, socket, sys
    import fakestack.cli as cli

    def report(server, restored):
        host, port = server.host, server.port
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(b"GET /_fakestack/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        from fakestack.dialects.zstack import routes
        print(json.dumps({
            "status": answer.split(b"\\r\\n", 1)[0].decode(),
            "modules": sorted(sys.modules),
            "zstack_route_table_built": routes._CACHE is not None,
        }), flush=True)
        os._exit(0)

    cli.serve_banner = report
    cli.main(["serve", "--port", "0"])
    """
)

NOT_BEFORE_THE_FIRST_ANSWER = (
    # a dialect's route table, request validation and OpenAPI document: its first request
    "fakestack.dialects.instavm.routes",
    "fakestack.dialects.instavm.validation",
    "fakestack.dialects.instavm.openapi",
    "fakestack.dialects.vsphere.openapi",
    "fakestack.dialects.zstack.openapi",
    # pydantic builds its first validator (and looks for plugins) only when one validates
    "pydantic.plugin._loader",
    # scenarios (serve --record), the pytest and hypothesis helpers, the mock transport
    "fakestack.scenarios.schema",
    "fakestack.scenarios.record",
    "fakestack.scenarios.replaying",
    "fakestack.stateful",
    "fakestack.strategies",
    "fakestack.interception",
    "hypothesis",
    "yaml",
    "httpx",
    "requests",
    "urllib3",
)


def test_serve_loads_only_what_its_first_answer_needs():
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_REPORT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "HTTP/1.1 200 OK"
    loaded = set(report["modules"])
    assert [name for name in NOT_BEFORE_THE_FIRST_ANSWER if name in loaded] == []
    assert report["zstack_route_table_built"] is False
    # the pins the list relies on: the dialects are mounted, the topology is built
    assert {"fakestack.dialects.instavm.dialect", "fakestack.model.cloud", "fakestack.server"} <= loaded
