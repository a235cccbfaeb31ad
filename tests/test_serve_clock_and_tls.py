"""``fakestack serve --clock manual|system`` and ``--tls``; ``start_server(tls=True)``."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import requests

from fakestack import Cloud
from fakestack.server import start_server

pytest.importorskip("cryptography")


def serve(*args: str) -> tuple[subprocess.Popen, str, list[str]]:
    """The process, its URL and its banner (every line up to the first request)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakestack.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    banner = [proc.stdout.readline().rstrip("\n")]
    assert banner[0].startswith("fakestack 0.1.0 serving at "), banner[0] + proc.stderr.read()
    while banner[-1] != "press Ctrl-C to stop":
        banner.append(proc.stdout.readline().rstrip("\n"))
    if "--clock" in args and "manual" in args:
        banner.append(proc.stdout.readline().rstrip("\n"))
    return proc, banner[0].rsplit(" ", 1)[1], banner


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    proc.stderr.close()
    return out


def test_serve_manual_clock_over_tls_moves_only_when_told():
    proc, url, banner = serve("--clock", "manual", "--tls", "--topology", "tiny")
    try:
        assert url.startswith("https://127.0.0.1:")
        with httpx.Client(base_url=url, verify=False, timeout=10) as http:
            assert http.get("/_fakestack/clock").json() == {
                "now": 1767225600.0,
                "iso": "2026-01-01T00:00:00Z",
                "kind": "manual",
                "offset": 0.0,
            }
            # the README's example: an ISO instant ahead of the manual clock's start
            moved = http.post("/_fakestack/clock", json={"to": "2026-01-01T01:00:00Z"})
            assert (moved.status_code, moved.json()["iso"]) == (200, "2026-01-01T01:00:00Z")
            assert http.get("/_fakestack/clock").json()["now"] == 1767229200.0
        with pytest.raises(httpx.ConnectError):  # a verifying client refuses the self-signed certificate
            httpx.get(url + "/_fakestack/health", timeout=10)
    finally:
        stop(proc)
    assert banner[-1] == "manual clock at 2026-01-01T00:00:00+00:00: it moves only by POST /_fakestack/clock"


def test_serve_keeps_the_system_clock_by_default():
    proc, url, _ = serve("--topology", "tiny")
    try:
        clock = httpx.get(url + "/_fakestack/clock", timeout=10).json()
        assert clock["kind"] == "system" and clock["now"] > 1767225600.0 + 300 * 86400
        past = httpx.post(url + "/_fakestack/clock", json={"to": "2026-01-01T01:00:00Z"}, timeout=10)
        assert past.status_code == 400
    finally:
        stop(proc)


def test_serve_record_refuses_a_manual_clock():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fakestack.cli",
            "serve",
            "--port",
            "0",
            "--record",
            "x.yaml",
            "--clock",
            "manual",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--record runs its own clock" in done.stderr


def test_start_server_with_tls_serves_https_with_a_fresh_self_signed_certificate():
    cloud = Cloud("tiny", seed=0)
    with start_server(cloud, tls=True) as server:
        assert server.url == f"https://127.0.0.1:{server.port}"
        session = requests.Session()
        session.trust_env = False
        session.verify = False
        answer = session.get(server.url + "/_fakestack/health", timeout=10)
        assert (answer.status_code, answer.json()["topology"]) == (200, "tiny")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "/_fakestack/health", timeout=10)
