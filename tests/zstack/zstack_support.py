"""Shared helpers for the ZStack dialect tests."""

from __future__ import annotations

import hashlib
import json
import threading

from werkzeug.test import Client

from fakestack.app import make_app
from fakestack.dialects.kit.cloud import CloudServices
from fakestack.dialects.zstack import create_dialect
from fakestack.model.clock import ManualClock
from fakestack.model.ids import IdGenerator

ADMIN_PASSWORD_HASH = hashlib.sha512(b"password").hexdigest()


class StubCloud(CloudServices):
    """The smallest cloud the protocol layer needs: the kit's ``CloudServices`` (a clock,
    a lock, seeded ids, time listeners and dialect state), without the model."""

    def __init__(self, clock=None, seed: int = 0) -> None:
        self.clock = clock or ManualClock()
        self.lock = threading.RLock()
        self.seed = seed
        self.ids = IdGenerator(seed)
        self._dialect_state: dict[str, dict] = {}
        self._time_listeners: list = []
        self.faults = None

    def dialect_state(self, name: str) -> dict:
        return self._dialect_state.setdefault(name, {})

    def on_time(self, listener, key=None) -> None:
        self._time_listeners.append(listener)

    def settle(self) -> None:  # the app runs time listeners before each request
        for listener in self._time_listeners:
            listener(self)


def stub_client(cloud=None):
    cloud = cloud or StubCloud()
    app = make_app(cloud, dialects=[create_dialect(cloud)])
    return cloud, Client(app)


def login(client, prefix: str = "/zstack/v1", password_hash: str = ADMIN_PASSWORD_HASH) -> str:
    response = client.put(
        f"{prefix}/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": password_hash}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["inventory"]["uuid"]


def auth(session: str, **extra) -> dict:
    return {"Authorization": f"OAuth {session}", **extra}


def ok(response) -> dict:
    """The body of a 200 answer (a finished API call or its poll)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def error(response) -> dict:
    """The error of a 503 answer (a finished API call that failed)."""
    assert response.status_code == 503, response.get_data(as_text=True)
    return response.get_json()["error"]


def poll(client, response, max_polls: int = 1):
    """Follow a 202's location (path part) and return the poll response."""
    assert response.status_code == 202, response.get_data(as_text=True)
    location = response.get_json()["location"]
    path = location.split("://", 1)[1].split("/", 1)[1]
    return client.get("/" + path)


def legacy(client, message_class: str, fields: dict):
    response = client.post("/zstack/api/", json={message_class: fields})
    return response


def legacy_result(response) -> dict:
    body = response.get_json()
    return json.loads(body["result"])


def cloud_client(topology: str = "demo", seed: int = 0, clock=None):
    """A model cloud behind the full app (every mounted dialect), plus a logged-in session."""
    from fakestack.model import Cloud, ManualClock

    cloud = Cloud(topology, seed=seed, clock=clock or ManualClock())
    client = Client(make_app(cloud))
    return cloud, client, login(client)


def call_async(client, method: str, path: str, session: str, **kwargs):
    """Send an async API call, check its 202, and return the poll response."""
    response = client.open(path, method=method, headers=auth(session), **kwargs)
    return poll(client, response)


def clone(client, session: str, vm_uuid: str, names, **params):
    body = {"cloneVmInstance": {"names": names, **params}}
    return call_async(client, "PUT", f"/zstack/v1/vm-instances/{vm_uuid}/actions", session, json=body)


def query(client, session: str, path: str, **params):
    response = client.get(f"/zstack/v1/{path}", query_string=params, headers=auth(session))
    return response


def SEED_CHAIN_FOR(cpu: int, memory: int) -> dict:  # noqa: N802 - reads like the constant it builds
    """CloneVmInstance's per-name error when no host has room (reference §5.1)."""
    details = f"no host having cpu[{cpu}], memory[{memory} bytes] found"
    return {
        "code": "VM.1001",
        "description": "Unable to start a vm",
        "details": details,
        "cause": {
            "code": "SYS.1006",
            "description": "An operation failed",
            "details": details,
            "cause": {
                "code": "HOST_ALLOCATION.1000",
                "description": "An operation failed",
                "details": details,
            },
        },
    }
