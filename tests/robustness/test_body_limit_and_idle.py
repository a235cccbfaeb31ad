"""Defect 11: a request body over the limit is answered 413 in each dialect's shape without
being read (configurable; chunked bodies too), and idle connections are closed."""

from __future__ import annotations

import http.client
import socket
import time

import pytest
from support import INSTAVM_KEY
from werkzeug.test import Client

from fakestack import Cloud, ManualClock
from fakestack.app import DEFAULT_MAX_BODY_BYTES, make_app
from fakestack.server import start_server

LIMIT = 1000
BIG = b'{"x": "' + b"a" * 2000 + b'"}'


@pytest.fixture
def client():
    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    return Client(make_app(cloud, max_body_bytes=LIMIT))


def _post(client, path, data=BIG, headers=None):
    return client.post(path, data=data, headers={"Content-Type": "application/json", **(headers or {})})


def test_the_default_limit_is_16_mib():
    assert DEFAULT_MAX_BODY_BYTES == 16 * 1024 * 1024
    assert make_app(Cloud("tiny")).max_body_bytes == DEFAULT_MAX_BODY_BYTES


def test_zstack_answers_413_plain_text(client):
    response = _post(client, "/zstack/v1/vm-instances")
    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"the request body exceeds the limit of {LIMIT} bytes"


def test_instavm_answers_413_in_fastapis_shape(client):
    response = _post(client, "/v1/vms", headers=INSTAVM_KEY)
    assert response.status_code == 413
    assert response.get_json() == {"detail": f"Request body exceeds the limit of {LIMIT} bytes"}


def test_vsphere_rest_api_and_jsonrpc_answer_413_in_their_shapes(client):
    rest = _post(client, "/rest/vcenter/vm?action=instant-clone")
    assert rest.status_code == 413
    assert rest.get_json()["type"] == "com.vmware.vapi.std.errors.invalid_request"
    assert rest.get_json()["value"]["messages"][0]["id"] == "vapi.rest.request.body.too_large"
    api = _post(client, "/api/vcenter/vm?action=instant-clone")
    assert api.status_code == 413 and api.get_json()["error_type"] == "INVALID_REQUEST"
    rpc = _post(client, "/api")
    assert rpc.status_code == 413
    assert rpc.get_json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": -32600,
            "message": "Invalid Request.",
            "data": f"the request body exceeds the limit of {LIMIT} bytes",
        },
    }


def test_admin_answers_413_and_the_journal_says_the_body_was_not_read(client):
    response = _post(client, "/_fakestack/faults")
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"
    journal = client.get("/_fakestack/journal").get_json()["requests"]
    assert journal[-1]["request_body"] == f"<{len(BIG)} bytes, not read: over the body limit>"


def test_a_body_within_the_limit_is_served(client):
    response = _post(client, "/v1/vms", data=b"{}", headers=INSTAVM_KEY)
    assert response.status_code == 200


@pytest.fixture
def server():
    running = start_server(
        Cloud("tiny", seed=0, clock=ManualClock()), port=0, max_body_bytes=LIMIT, idle_timeout=0.5
    )
    yield running
    running.stop()


def test_served_413_closes_the_connection_without_reading_a_huge_body(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    # Declares 200 MB but sends only the headers: the answer must come without the body.
    connection.putrequest("POST", "/v1/vms")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(200 * 1024 * 1024))
    for key, value in INSTAVM_KEY.items():
        connection.putheader(key, value)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("Connection") == "close"
    assert b"Request body exceeds the limit" in response.read()
    connection.close()


def test_served_chunked_body_over_the_limit_is_413(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = iter([b"{", b'"x": "' + b"a" * 3000 + b'"', b"}"])
    connection.request(
        "POST",
        "/zstack/v1/vm-instances",
        body=chunks,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 413
    assert response.read().decode() == f"the request body exceeds the limit of {LIMIT} bytes"
    connection.close()


def test_idle_connections_are_closed_after_the_timeout(server):
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        started = time.monotonic()
        assert idle.recv(1) == b""  # the server closed it
        assert time.monotonic() - started < 5
    finally:
        idle.close()
    # the server still answers afterwards
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/_fakestack/health")
    assert connection.getresponse().status == 200
    connection.close()


def test_idle_timeout_must_be_positive():
    with pytest.raises(ValueError, match="idle_timeout"):
        start_server(Cloud("tiny"), port=0, idle_timeout=0)
