"""Shared arrange/act helpers for the InstaVM tests (imported by module name)."""

from __future__ import annotations

from werkzeug.test import Client

from fakestack import Cloud, ManualClock
from fakestack.app import make_app

KEY = {"X-API-Key": "instavm_sk_fakestack"}
MiB = 1024 * 1024


class InstaVM:
    """A werkzeug test client on ``make_app(cloud)`` speaking InstaVM."""

    def __init__(self, topology: str = "tiny", seed: int = 0) -> None:
        self.cloud = Cloud(topology, seed=seed, clock=ManualClock())
        self.client = Client(make_app(self.cloud))

    def get(self, path):
        return self.client.get(path, headers=KEY)

    def delete(self, path):
        return self.client.delete(path, headers=KEY)

    def post(self, path, body=None):
        return self.client.post(path, json={} if body is None else body, headers=KEY)

    def patch(self, path, body):
        return self.client.patch(path, json=body, headers=KEY)

    def ok(self, response):
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def create_vm(self, **body):
        wait = body.pop("wait", True)
        return self.ok(self.post(f"/v1/vms?wait={str(wait).lower()}", body))

    def clone(self, vm_id, wait=True, **body):
        return self.post(f"/v1/vms/{vm_id}/clone?wait={str(wait).lower()}", body)

    def snapshots(self):
        return self.ok(self.get("/v1/snapshots"))

    def model_vm(self, vm_id):
        uuid = self.cloud.dialect_state("instavm")["vms"][vm_id]["uuid"]
        return self.cloud.vms.find(uuid)

    def host_used_memory(self):
        return sum(h.used_memory for h in self.cloud.hosts)
