"""``vms.suspend`` / ``vms.resume`` through the official SDK: a suspended VM releases its
host's memory (the model's hibernate) and resuming needs the room back (the model's wake);
resume mints a fresh ``vm_id``."""

from __future__ import annotations

import pytest

instavm = pytest.importorskip("instavm")

from conftest import GiB, detail, host_used_memory  # noqa: E402
from instavm import NetworkError  # noqa: E402
from requests.exceptions import HTTPError  # noqa: E402


def test_suspend_releases_host_memory_and_resume_takes_it_back_under_a_new_vm_id(client, cloud):
    before = host_used_memory(cloud)
    vm = client.vms.create(wait=True, memory_mb=2048)
    assert host_used_memory(cloud) == before + 2 * GiB
    parked = client.vms.suspend(vm["vm_id"])
    assert (parked["vm_id"], parked["status"]) == (vm["vm_id"], "suspended")
    assert host_used_memory(cloud) == before
    assert vm["vm_id"] not in {v["vm_id"] for v in client.vms.list()}
    assert client.vms.get(vm["vm_id"])["status"] == "suspended"

    resumed = client.vms.resume(vm["vm_id"], wait=True)
    assert resumed["vm_id"] != vm["vm_id"] and resumed["vm_id"].startswith("vm_")
    assert (resumed["status"], resumed["session_id"], resumed["memory_mb"]) == (
        "active",
        vm["session_id"],
        2048,
    )
    assert host_used_memory(cloud) == before + 2 * GiB
    assert client.vms.get(vm["vm_id"])["status"] == "killed"
    assert client.get_session_status(vm["session_id"])["vm_id"] == resumed["vm_id"]
    # the resumed VM is the same machine: deleting it frees what it holds
    client.vms.delete(resumed["vm_id"])
    assert host_used_memory(cloud) == before
    cloud.check_invariants()


def test_suspend_and_resume_refuse_the_wrong_states(client, cloud):
    vm = client.vms.create(wait=True)
    with pytest.raises(HTTPError) as err:
        client.vms.resume(vm["vm_id"])
    assert detail(err) == (409, f"VM {vm['vm_id']} is not suspended (status: active)")
    client.vms.suspend(vm["vm_id"])
    with pytest.raises(HTTPError) as err:
        client.vms.suspend(vm["vm_id"])
    assert detail(err) == (409, f"VM {vm['vm_id']} is not active (status: suspended)")
    with pytest.raises(HTTPError) as err:
        client.vms.clone(vm["vm_id"])
    assert detail(err)[0] == 409
    with pytest.raises(HTTPError) as err:
        client.vms.suspend("vm_000000000000")
    assert detail(err) == (404, "VM not found")
    resumed = client.vms.resume(vm["vm_id"])
    with pytest.raises(HTTPError) as err:
        client.vms.resume(vm["vm_id"])  # the old id is gone
    assert detail(err) == (409, f"VM {vm['vm_id']} is not suspended (status: killed)")
    client.vms.delete(resumed["vm_id"])
    cloud.check_invariants()


def test_resume_needs_the_room_back(client, cloud):
    vm = client.vms.create(wait=True, memory_mb=4096)
    client.vms.suspend(vm["vm_id"])
    # 7 GiB placeable besides golden: 4 GiB + 2 GiB + 1 GiB fill it while vm is parked
    filler = [client.vms.create(wait=True, memory_mb=mb) for mb in (4096, 2048, 1024)]
    with pytest.raises(NetworkError, match=r"Server error: 503") as err:
        client.vms.resume(vm["vm_id"])
    assert "Insufficient capacity: host_memory (needed 4294967296, available 0)" in str(err.value)
    assert client.vms.get(vm["vm_id"])["status"] == "suspended"  # nothing changed
    client.vms.delete(filler[0]["vm_id"])
    assert client.vms.resume(vm["vm_id"])["status"] == "active"
    cloud.check_invariants()


def test_resume_without_wait_boots_on_the_clock(client, cloud):
    vm = client.vms.create(wait=True)
    client.vms.suspend(vm["vm_id"])
    pending = client.vms.resume(vm["vm_id"], wait=False)
    assert pending["status"] == "creating"
    cloud.tick(1)
    assert client.vms.get(pending["vm_id"])["status"] == "active"


def test_auto_suspend_parks_an_expiring_vm_instead_of_killing_it(client, cloud):
    before = host_used_memory(cloud)
    vm = client.vms.create(wait=True, vm_lifetime_seconds=20, auto_suspend=True)
    cloud.tick(20)
    assert client.vms.get(vm["vm_id"])["status"] == "suspended"
    assert host_used_memory(cloud) == before
    cloud.tick(1000)  # a parked VM does not expire
    assert client.vms.get(vm["vm_id"])["status"] == "suspended"
    assert client.vms.resume(vm["vm_id"])["status"] == "active"


def test_deleting_a_suspended_vm_frees_its_disk_and_a_fault_can_refuse_the_suspend(client, cloud):
    from fakestack import faults

    nfs = cloud.primary_storages.get("nfs-ps")
    used = nfs.used_virtual
    vm = client.vms.create(wait=True)
    client.vms.suspend(vm["vm_id"])
    assert client.vms.delete(vm["vm_id"])["status"] == "killed"
    assert nfs.used_virtual == used  # the root disk went with the VM
    other = client.vms.create(wait=True)
    before = host_used_memory(cloud)
    with (
        faults.inject(cloud, faults.fail("instavm:SuspendVm", "tier limit", code="forbidden")),
        pytest.raises(instavm.ForbiddenError, match="tier limit"),
    ):
        client.vms.suspend(other["vm_id"])
    assert client.vms.get(other["vm_id"])["status"] == "active"
    assert host_used_memory(cloud) == before
    cloud.check_invariants()
