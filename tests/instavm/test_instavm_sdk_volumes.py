"""The ``volumes`` API and ``vms.mount_volume`` / ``list_volumes`` / ``unmount_volume``
through the official SDK: volumes are data volumes of the model on primary storage
(quota on the virtual ledger, a new leaf on the physical one)."""

from __future__ import annotations

import pytest

instavm = pytest.importorskip("instavm")

from conftest import GiB, MiB, detail  # noqa: E402
from instavm import NetworkError  # noqa: E402
from requests.exceptions import HTTPError  # noqa: E402


def _nfs(cloud) -> dict:
    return next(p for p in cloud.capacity()["primary_storages"] if p["name"] == "nfs-ps")


def test_create_list_delete_on_primary_storage_capacity(client, cloud):
    before = _nfs(cloud)
    vol = client.volumes.create(name="data", quota_bytes=10 * GiB)
    assert vol["id"].startswith("vol_")
    assert (vol["name"], vol["quota_bytes"], vol["used_bytes"], vol["status"]) == (
        "data",
        10 * GiB,
        1 * MiB,
        "ready",
    )
    after = _nfs(cloud)
    assert after["available_capacity"] == before["available_capacity"] - 10 * GiB
    assert after["available_physical_capacity"] == before["available_physical_capacity"] - 1 * MiB
    assert [v["id"] for v in client.volumes.list()] == [vol["id"]]
    assert client.volumes.get(vol["id"])["quota_bytes"] == 10 * GiB
    assert client.volumes.delete(vol["id"]) == {"volume_id": vol["id"], "status": "deleted"}
    assert client.volumes.list() == []
    assert _nfs(cloud) == before
    with pytest.raises(HTTPError) as err:
        client.volumes.get(vol["id"])
    assert detail(err) == (404, "Volume not found")
    cloud.check_invariants()


def test_a_volume_larger_than_the_storage_is_refused_and_nothing_is_created(client, cloud):
    # what allocations may still take: the available capacity less the storage's reserve
    room = _nfs(cloud)["available_capacity"] - cloud.primary_storages.get("nfs-ps").reserved_capacity
    assert room == 88 * GiB  # 100 GiB, 1 GiB reserved, golden's 10 GiB disk + 1 GiB image cache
    with pytest.raises(NetworkError, match=r"Server error: 503") as err:
        client.volumes.create(name="huge", quota_bytes=room + 1)
    assert (f"Insufficient capacity: primary_storage_virtual (needed {room + 1}, available {room})") in str(
        err.value
    )
    assert client.volumes.create(name="fits", quota_bytes=room)["quota_bytes"] == room
    client.volumes.delete(client.volumes.list()[0]["id"])
    assert client.volumes.list() == []
    with pytest.raises(HTTPError) as err:
        client.volumes.create(name="", quota_bytes=0)
    assert err.value.response.status_code == 422
    assert [item["loc"] for item in err.value.response.json()["detail"]] == [
        ["body", "name"],
        ["body", "quota_bytes"],
    ]


def test_mount_list_unmount_and_delete_rules(client, cloud):
    vm = client.vms.create(wait=True)
    other = client.vms.create(wait=True)
    vol = client.volumes.create(name="work", quota_bytes=1 * GiB)
    mounted = client.vms.mount_volume(vm["vm_id"], vol["id"], "/mnt/work")
    assert mounted == {
        "vm_id": vm["vm_id"],
        "volume_id": vol["id"],
        "mount_path": "/mnt/work",
        "mode": "rw",
        "status": "mounted",
    }
    assert client.vms.list_volumes(vm["vm_id"]) == [mounted]
    assert client.volumes.get(vol["id"])["mounts"] == [
        {"vm_id": vm["vm_id"], "mount_path": "/mnt/work", "mode": "rw"}
    ]
    model_vm = cloud.vms.get(cloud.dialect_state("instavm")["vms"][vm["vm_id"]]["uuid"])
    assert len(model_vm.data_volume_uuids) == 1
    with pytest.raises(HTTPError) as err:
        client.vms.mount_volume(other["vm_id"], vol["id"], "/mnt/x")
    assert detail(err) == (409, f"Volume {vol['id']} is mounted on VM {vm['vm_id']}")
    with pytest.raises(HTTPError) as err:
        client.volumes.delete(vol["id"])
    assert detail(err) == (409, f"Volume {vol['id']} is mounted on VM {vm['vm_id']}")
    with pytest.raises(HTTPError) as err:
        client.vms.mount_volume(vm["vm_id"], "vol_000000000000", "/mnt/y")
    assert detail(err) == (404, "Volume not found")
    with pytest.raises(HTTPError) as err:
        client.vms.unmount_volume(other["vm_id"], vol["id"], "/mnt/work")
    assert detail(err) == (404, f"Volume {vol['id']} is not mounted on VM {other['vm_id']} at /mnt/work")
    unmounted = client.vms.unmount_volume(vm["vm_id"], vol["id"], "/mnt/work")
    assert unmounted["status"] == "unmounted" and client.vms.list_volumes(vm["vm_id"]) == []
    assert model_vm.data_volume_uuids == []
    client.vms.mount_volume(other["vm_id"], vol["id"], "/data", mode="ro")
    client.vms.delete(other["vm_id"])  # a killed VM lets its volumes go
    assert client.volumes.get(vol["id"])["mounts"] == []
    client.volumes.delete(vol["id"])
    cloud.check_invariants()


def test_mounts_follow_a_resumed_vm_and_need_a_live_one(client, cloud):
    vm = client.vms.create(wait=True)
    vol = client.volumes.create(name="keep", quota_bytes=1 * GiB)
    client.vms.mount_volume(vm["vm_id"], vol["id"], "/keep")
    client.vms.suspend(vm["vm_id"])
    other = client.volumes.create(name="late", quota_bytes=1 * GiB)
    with pytest.raises(HTTPError) as err:
        client.vms.mount_volume(vm["vm_id"], other["id"], "/late")
    assert detail(err) == (409, f"VM {vm['vm_id']} is not active (status: suspended)")
    resumed = client.vms.resume(vm["vm_id"])
    assert [m["volume_id"] for m in client.vms.list_volumes(resumed["vm_id"])] == [vol["id"]]


def test_zstack_keeps_its_own_v1_volumes(client, server):
    import requests

    # /v1/volumes is ZStack's path too: without an InstaVM key the request is ZStack's
    zstack = requests.get(f"{server.url}/v1/volumes")
    assert (zstack.status_code, zstack.text) == (400, "missing header 'Authorization'")
    instavm_answer = requests.get(f"{server.url}/v1/volumes", headers={"X-API-Key": "instavm_sk_fakestack"})
    assert instavm_answer.json() == []
