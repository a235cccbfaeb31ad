"""The admin API's exposure: open on the loopback; with a token, every admin request needs
it; serve refuses a non-loopback --host without --admin-token unless --insecure-admin."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest
from support import INSTAVM_KEY
from werkzeug.test import Client

import fakestack.server as server_module
from fakestack import Cloud, ManualClock
from fakestack.app import make_app
from fakestack.cli import main
from fakestack.server import is_loopback_host

TOKEN = "s3cret-token"


def test_without_a_token_the_admin_api_is_open():
    client = Client(make_app(Cloud("tiny", clock=ManualClock())))
    assert client.get("/_fakestack/health").status_code == 200


def test_with_a_token_every_admin_request_needs_it():
    client = Client(make_app(Cloud("tiny", clock=ManualClock()), admin_token=TOKEN))
    for method, path in (
        ("GET", "/_fakestack/health"),
        ("GET", "/_fakestack/state"),
        ("POST", "/_fakestack/reset"),
        ("GET", "/_fakestack/nowhere"),
        ("POST", "/_fakestack/faults"),
    ):
        for headers in ({}, {"X-Fakestack-Admin-Token": "wrong"}, {"X-Fakestack-Admin-Token": TOKEN + "x"}):
            response = client.open(path, method=method, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.get_json()["error"] == "unauthorized"
    ok = client.get("/_fakestack/health", headers={"X-Fakestack-Admin-Token": TOKEN})
    assert ok.status_code == 200
    # the dialects keep their own credentials
    assert client.get("/v1/vms", headers=INSTAVM_KEY).status_code == 200


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


def test_serve_on_a_non_loopback_host_without_a_token_refuses_to_start(capsys, monkeypatch):
    started = []
    monkeypatch.setattr(server_module, "start_server", lambda *a, **k: started.append(a))
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--topology", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fakestack: --host 0.0.0.0 is not a loopback address")
    assert "--admin-token TOKEN, or --insecure-admin" in err
    assert started == []


def _serve_in_process(monkeypatch, argv):
    """Run ``fakestack serve argv`` (bound to 127.0.0.1 whatever --host says, so that the
    test opens no outside port), talk to it, then stop it with SIGINT.  Returns (exit
    code, the banner, what the probe saw)."""
    real_start = server_module.start_server
    servers = []

    def start_on_loopback(cloud, host="127.0.0.1", *args, **kwargs):
        running = real_start(cloud, "127.0.0.1", *args, **kwargs)
        running.host = host  # what the banner reports
        servers.append(running)
        return running

    monkeypatch.setattr(server_module, "start_server", start_on_loopback)
    seen = {}

    def probe():
        while not servers:
            threading.Event().wait(0.02)
        url = f"http://127.0.0.1:{servers[0].port}"
        with httpx.Client(base_url=url, timeout=10) as http:
            seen["bare"] = http.get("/_fakestack/health").status_code
            seen["token"] = http.get(
                "/_fakestack/health", headers={"X-Fakestack-Admin-Token": TOKEN}
            ).status_code
            seen["dialect"] = http.get("/v1/vms", headers=INSTAVM_KEY).status_code
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=probe)
    thread.start()
    code = main(argv)
    thread.join()
    return code, seen


def test_serve_with_an_admin_token_requires_it(monkeypatch, capsys):
    code, seen = _serve_in_process(
        monkeypatch,
        ["serve", "--host", "0.0.0.0", "--port", "0", "--topology", "tiny", "--admin-token", TOKEN],
    )
    assert code == 0
    assert seen == {"bare": 401, "token": 200, "dialect": 200}
    assert "admin API needs the X-Fakestack-Admin-Token header (--admin-token)" in capsys.readouterr().out


def test_serve_with_insecure_admin_leaves_it_open_and_says_so(monkeypatch, capsys):
    code, seen = _serve_in_process(
        monkeypatch, ["serve", "--host", "0.0.0.0", "--port", "0", "--topology", "tiny", "--insecure-admin"]
    )
    assert code == 0
    assert seen == {"bare": 200, "token": 200, "dialect": 200}
    assert "WARNING: the admin API is open to anyone" in capsys.readouterr().out
