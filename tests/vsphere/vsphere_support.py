"""Helpers shared by the vSphere dialect tests."""
from __future__ import annotations

import base64
import threading

from werkzeug.test import Client

from fakestack.model.clock import ManualClock

USER = "administrator@vsphere.local"
PASSWORD = "password"


class BareCloud:
    """Just what the session layer needs (clock, lock, seed, dialect state)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.clock = ManualClock()
        self.lock = threading.RLock()
        self._dialect_states: dict[str, dict] = {}

    def dialect_state(self, name: str) -> dict:
        return self._dialect_states.setdefault(name, {})


def basic(user: str = USER, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def client_for(cloud, **choices) -> Client:
    from fakestack.app import make_app
    from fakestack.dialects.vsphere import create_dialect

    return Client(make_app(cloud, [create_dialect(cloud, **choices)]))


def rest_login(client: Client) -> str:
    response = client.post("/rest/com/vmware/cis/session", headers=basic())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["value"]


def api_login(client: Client) -> str:
    response = client.post("/api/session", headers=basic())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def rpc(client: Client, service: str, operation: str, input_fields: dict | None = None,
        *, token: str | None = None, security: dict | None = None, request_id: str = "1") -> dict:
    if security is None:
        security = ({"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": token}
                    if token is not None else {})
    envelope = {
        "jsonrpc": "2.0", "method": "invoke", "id": request_id,
        "params": {
            "serviceId": service, "operationId": operation,
            "input": {"STRUCTURE": {"operation-input": input_fields or {}}},
            "ctx": {"appCtx": {"opId": "op-1"}, "securityCtx": security},
        },
    }
    response = client.post("/api", json=envelope)
    assert response.status_code == 200
    return response.get_json()


def rpc_login(client: Client) -> str:
    answer = rpc(client, "com.vmware.cis.session", "create", security={
        "schemeId": "com.vmware.vapi.std.security.user_pass", "userName": USER, "password": PASSWORD})
    return answer["result"]["output"]["SECRET"]
