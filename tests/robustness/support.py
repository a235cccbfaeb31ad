"""One full cloud behind make_app, spoken to through werkzeug's test client in each
dialect (the robustness tests of issue 14)."""

from __future__ import annotations

import base64
import hashlib

from werkzeug.test import Client

from fakestack import Cloud, ManualClock
from fakestack.app import make_app

INSTAVM_KEY = {"X-API-Key": "instavm_sk_fakestack"}
ZSTACK_PASSWORD = hashlib.sha512(b"password").hexdigest()
VSPHERE_BASIC = {
    "Authorization": "Basic " + base64.b64encode(b"administrator@vsphere.local:password").decode()
}


class Fake:
    def __init__(self, topology: str = "tiny", seed: int = 0) -> None:
        self.cloud = Cloud(topology, seed=seed, clock=ManualClock())
        self.app = make_app(self.cloud)
        self.client = Client(self.app)

    # -- ZStack ----------------------------------------------------------------------
    def zstack_session(self) -> str:
        response = self.client.put(
            "/zstack/v1/accounts/login",
            json={"logInByAccount": {"accountName": "admin", "password": ZSTACK_PASSWORD}},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["inventory"]["uuid"]

    def zstack_auth(self) -> dict:
        return {"Authorization": f"OAuth {self.zstack_session()}"}

    # -- vSphere ---------------------------------------------------------------------
    def vsphere_session(self) -> str:
        response = self.client.post("/api/session", headers=VSPHERE_BASIC)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def vsphere_auth(self) -> dict:
        return {"vmware-api-session-id": self.vsphere_session()}

    # -- InstaVM ---------------------------------------------------------------------
    def instavm_vm(self) -> str:
        response = self.client.post("/v1/vms?wait=true", json={}, headers=INSTAVM_KEY)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["vm_id"]

    def admin_ok(self) -> None:
        """The admin API still answers and the invariants hold."""
        response = self.client.get("/_fakestack/invariants")
        assert response.status_code == 200, response.get_data(as_text=True)
