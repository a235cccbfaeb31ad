"""InstaVM's time-driven changes (asynchronous boot, lifetime expiry) are applied when
they come due, whichever dialect's request or tick comes next; requests of other
dialects do not pass over InstaVM's records while nothing is due."""

from __future__ import annotations

from instavm_support import InstaVM

from fakestack.dialects.instavm.service import records


def _count_settles(monkeypatch) -> list:
    calls: list = []
    original = records.Records.settle

    def counting(self):
        calls.append(self.now())
        return original(self)

    monkeypatch.setattr(records.Records, "settle", counting)
    return calls


def test_other_dialects_requests_do_not_settle_instavm_until_a_change_is_due(monkeypatch):
    fake = InstaVM()
    started = fake.create_vm(wait=False)
    assert started["status"] == "creating"
    calls = _count_settles(monkeypatch)
    for _ in range(3):  # nothing is due: the async boot ends one second from now
        assert fake.client.get("/api/vcenter/vm").status_code == 401  # a vSphere request, no session
        assert fake.client.get("/_fakestack/health").status_code == 200
    # one look after the InstaVM request (to learn when the boot is due), then none
    assert len(calls) == 1
    fake.cloud.clock.advance(1.0)  # the boot is due: the next request of any dialect settles
    assert fake.client.get("/_fakestack/health").status_code == 200
    assert len(calls) == 2
    listed = fake.ok(fake.get("/v1/vms"))
    assert [vm["status"] for vm in listed if vm["session_id"] == started["session_id"]] == ["active"]


def test_a_lifetime_that_ends_is_applied_before_another_dialects_request(monkeypatch):
    fake = InstaVM()
    vm = fake.create_vm(vm_lifetime_seconds=60)
    model_uuid = fake.model_vm(vm["vm_id"]).uuid
    fake.cloud.clock.advance(59.0)
    fake.client.get("/_fakestack/health")
    assert fake.cloud.vms.find(model_uuid).state == "Running"
    fake.cloud.clock.advance(1.0)
    fake.client.get("/_fakestack/health")  # not an InstaVM request: the expiry is due
    found = fake.cloud.vms.find(model_uuid)
    assert found is None or found.state in ("Destroyed", "Expunged")
    assert fake.ok(fake.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "killed"
