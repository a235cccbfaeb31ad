"""Restores and single-volume backups over REST (issue 16, group 4): CreateVmFromVmBackup,
RevertVmFromVmBackup, CreateVolumeBackup, DeleteVolumeBackup, RevertVolumeFromVolumeBackup,
SyncVmBackupFromImageStoreBackupStorage (a copy to another image store)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from zstack_support import auth, call_async, error, login, ok, poll, query

from fakestack.app import make_app
from fakestack.model import Cloud, ManualClock

GiB = 1024**3
MiB = 1024**2


def vm_backup(client, session, cloud, name="nightly"):
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    return ok(
        call_async(
            client,
            "POST",
            f"/zstack/v1/volumes/{golden.root_volume_uuid}/vm-backups",
            session,
            json={"params": {"backupStorageUuid": bs, "name": name}},
        )
    )["inventories"]


def vm_action(client, session, uuid, action, **params):
    return call_async(
        client, "PUT", f"/zstack/v1/vm-instances/{uuid}/actions", session, json={action: params}
    )


def ps_free(client, session, name="nfs-ps"):
    ps = query(client, session, "primary-storage", q=f"name={name}").get_json()["inventories"][0]
    return ps["availableCapacity"], ps["availablePhysicalCapacity"]


def bs_free(client, session, name="imagestore"):
    return query(client, session, "backup-storage", q=f"name={name}").get_json()["inventories"][0][
        "availableCapacity"
    ]


def host_free(client, session, uuid):
    host = query(client, session, f"hosts/{uuid}").get_json()["inventories"][0]
    return host["availableCpuCapacity"], host["availableMemoryCapacity"]


# -- CreateVmFromVmBackup -----------------------------------------------------------------


def test_create_vm_from_vm_backup_restores_every_volume(demo):
    cloud, client, session = demo
    backups = vm_backup(client, session, cloud)
    group = backups[0]["groupUuid"]
    nfs = cloud.primary_storages.get("nfs-ps").uuid
    host_3 = cloud.hosts.get("host-3").uuid
    virtual, physical = ps_free(client, session)
    cpu, memory = host_free(client, session, host_3)
    response = client.post(
        f"/zstack/v1/vm-instances/from/vm-backups/{group}",
        headers=auth(session),
        json={"params": {"name": "restored", "hostUuid": host_3}},
    )
    assert response.status_code == 202
    vm = ok(poll(client, response))["inventory"]
    assert (vm["name"], vm["state"], vm["hostUuid"], vm["cpuNum"], vm["memorySize"]) == (
        "restored",
        "Running",
        host_3,
        2,
        4 * GiB,
    )
    assert vm["instanceOfferingUuid"] == cloud.instance_offerings.get("medium").uuid
    volumes = {v["type"]: v for v in vm["allVolumes"]}
    # the root backup held the image's 2 GiB + 1 MiB + 512 MiB written; the data one 1 MiB
    assert (volumes["Root"]["size"], volumes["Root"]["actualSize"]) == (40 * GiB, 2 * GiB + 513 * MiB)
    assert (volumes["Data"]["size"], volumes["Data"]["actualSize"]) == (20 * GiB, MiB)
    assert all(v["primaryStorageUuid"] == nfs for v in vm["allVolumes"])
    assert ps_free(client, session) == (virtual - 60 * GiB, physical - 2 * GiB - 514 * MiB)
    assert host_free(client, session, host_3) == (cpu - 2, memory - 4 * GiB)
    assert len(vm["vmNics"]) == 1
    cloud.check_invariants()


def test_create_vm_from_vm_backup_stopped_with_another_offering(demo):
    cloud, client, session = demo
    group = vm_backup(client, session, cloud)[0]["groupUuid"]
    small = cloud.instance_offerings.get("small").uuid
    vm = ok(
        call_async(
            client,
            "POST",
            f"/zstack/v1/vm-instances/from/vm-backups/{group}",
            session,
            json={"params": {"name": "r2", "instanceOfferingUuid": small, "strategy": "CreateStopped"}},
        )
    )["inventory"]
    assert (vm["state"], vm["cpuNum"], vm["memorySize"], "hostUuid" in vm) == ("Stopped", 1, GiB, False)
    started = ok(vm_action(client, session, vm["uuid"], "startVmInstance"))["inventory"]
    assert started["state"] == "Running"
    cloud.check_invariants()


def test_create_vm_from_vm_backup_errors(demo):
    cloud, client, session = demo
    missing = "0123456789ab4def8123456789abcdef"
    unknown = error(
        call_async(
            client,
            "POST",
            f"/zstack/v1/vm-instances/from/vm-backups/{missing}",
            session,
            json={"params": {"name": "x"}},
        )
    )
    assert unknown == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": f"no volume backup found in group[uuid:{missing}]",
    }
    group = vm_backup(client, session, cloud)[0]["groupUuid"]
    no_name = error(
        call_async(
            client, "POST", f"/zstack/v1/vm-instances/from/vm-backups/{group}", session, json={"params": {}}
        )
    )
    assert no_name["code"] == "SYS.1007"
    vms = len(cloud.vms)
    big = {"name": "big", "cpuNum": 1, "memorySize": 1024 * GiB}
    no_room = error(
        call_async(
            client, "POST", f"/zstack/v1/vm-instances/from/vm-backups/{group}", session, json={"params": big}
        )
    )
    details = f"no host having cpu[1], memory[{1024 * GiB} bytes] found"
    assert no_room == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": details,
        "cause": {"code": "HOST_ALLOCATION.1000", "description": "An operation failed", "details": details},
    }
    assert len(cloud.vms) == vms
    cloud.check_invariants()


# -- RevertVmFromVmBackup ---------------------------------------------------------------------


def test_revert_vm_from_vm_backup_needs_a_stopped_vm_and_restores_its_disks(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    group = vm_backup(client, session, cloud)[0]["groupUuid"]
    cloud.write(golden.root_volume_uuid, 3 * GiB)
    path = f"/zstack/v1/vm-backups/{group}/actions"
    running = error(call_async(client, "PUT", path, session, json={"revertVmFromVmBackup": {}}))
    assert running["code"] == "SYS.1006" and running["cause"]["code"] == "VM.1010"
    vm_action(client, session, golden.uuid, "stopVmInstance")
    virtual, physical = ps_free(client, session)
    reverted = call_async(client, "PUT", path, session, json={"revertVmFromVmBackup": {}})
    assert ok(reverted) == {}
    root = query(client, session, f"volumes/{golden.root_volume_uuid}").get_json()["inventories"][0]
    assert root["actualSize"] == 2 * GiB + 513 * MiB  # a full copy of the backup
    # the root leaf (1 MiB + 512 MiB + 3 GiB) and the data leaf (1 MiB) go; the copies come
    assert ps_free(client, session) == (virtual, physical + 3 * GiB + 513 * MiB - (2 * GiB + 513 * MiB))
    # the next backup of reverted volumes is full again
    vm_action(client, session, golden.uuid, "startVmInstance")
    assert [b["mode"] for b in vm_backup(client, session, cloud, name="after")] == ["full", "full"]
    cloud.check_invariants()


# -- CreateVolumeBackup / DeleteVolumeBackup / RevertVolumeFromVolumeBackup --------------------


def volume_backup(client, session, cloud, volume_uuid, name="vb", **extra):
    bs = cloud.backup_storages.get("imagestore").uuid
    return call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{volume_uuid}/volume-backups",
        session,
        json={"params": {"backupStorageUuid": bs, "name": name, **extra}},
    )


def test_volume_backup_full_then_incremental_with_capacity(demo):
    cloud, client, session = demo
    data = cloud.vms.get("golden").data_volume_uuids[0]
    cloud.write(data, GiB)
    before = bs_free(client, session)
    response = client.post(
        f"/zstack/v1/volumes/{data}/volume-backups",
        headers=auth(session),
        json={"params": {"backupStorageUuid": cloud.backup_storages.get("imagestore").uuid, "name": "vb1"}},
    )
    assert response.status_code == 202 and response.get_json()["apiTimeout"] == 86_400_000
    first = ok(poll(client, response))["inventory"]
    assert (first["name"], first["mode"], first["size"], first["type"], "groupUuid" in first) == (
        "vb1",
        "full",
        GiB + MiB,
        "Data",
        False,
    )
    assert before - bs_free(client, session) == GiB + MiB
    cloud.write(data, 100 * MiB)
    second = ok(volume_backup(client, session, cloud, data, name="vb2"))["inventory"]
    assert (second["mode"], second["size"]) == ("incremental", 100 * MiB)
    listed = query(client, session, "volume-backups", q=f"volumeUuid={data}").get_json()["inventories"]
    assert [b["name"] for b in listed] == ["vb1", "vb2"]
    cloud.check_invariants()


def test_volume_backup_errors(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    vm_action(client, session, golden.uuid, "stopVmInstance")
    stopped = error(volume_backup(client, session, cloud, data))
    assert stopped == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": (
            f"Failed to create backup for volume[uuid:{data}], because its vm[uuid:{golden.uuid}] is not in "
            "state[Running, Paused]"
        ),
    }
    bad_mode = error(volume_backup(client, session, cloud, data, mode="incremental"))
    assert bad_mode["code"] == "SYS.1007"
    assert len(cloud.backups) == 0


def test_delete_volume_backup(demo):
    cloud, client, session = demo
    data = cloud.vms.get("golden").data_volume_uuids[0]
    cloud.write(data, GiB)
    before = bs_free(client, session)
    backup = ok(volume_backup(client, session, cloud, data))["inventory"]
    deleted = call_async(client, "DELETE", f"/zstack/v1/volume-backups/{backup['uuid']}", session)
    assert ok(deleted) == {}
    assert bs_free(client, session) == before
    assert query(client, session, "volume-backups").get_json()["inventories"] == []
    again = call_async(client, "DELETE", f"/zstack/v1/volume-backups/{backup['uuid']}", session)
    assert ok(again) == {}  # a missing backup's delete succeeds
    bad = error(call_async(client, "DELETE", "/zstack/v1/volume-backups/not-a-uuid", session))
    assert (bad["code"], bad["details"]) == ("SYS.1003", "invalid value[not-a-uuid] of field [uuid]")
    cloud.check_invariants()


def test_deleting_a_member_of_a_vm_backup_deletes_the_vm_backup(demo):
    cloud, client, session = demo
    before = bs_free(client, session)
    backups = vm_backup(client, session, cloud)
    ok(call_async(client, "DELETE", f"/zstack/v1/volume-backups/{backups[1]['uuid']}", session))
    assert query(client, session, "volume-backups").get_json()["inventories"] == []
    assert bs_free(client, session) == before
    cloud.check_invariants()


def test_revert_volume_from_volume_backup(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    cloud.write(data, GiB)
    backup = ok(volume_backup(client, session, cloud, data))["inventory"]
    cloud.write(data, 4 * GiB)
    path = f"/zstack/v1/volume-backups/{backup['uuid']}/actions"
    running = error(call_async(client, "PUT", path, session, json={"revertVolumeFromVolumeBackup": {}}))
    assert running["cause"]["code"] == "VM.1010"
    vm_action(client, session, golden.uuid, "stopVmInstance")
    virtual, physical = ps_free(client, session)
    assert ok(call_async(client, "PUT", path, session, json={"revertVolumeFromVolumeBackup": {}})) == {}
    volume = query(client, session, f"volumes/{data}").get_json()["inventories"][0]
    assert volume["actualSize"] == GiB + MiB
    assert ps_free(client, session) == (virtual, physical + 4 * GiB)
    missing = "0123456789ab4def8123456789abcdef"
    gone = error(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/volume-backups/{missing}/actions",
            session,
            json={"revertVolumeFromVolumeBackup": {}},
        )
    )
    assert gone["details"] == f"invalid field[uuid], resource[uuid:{missing}, type:VolumeBackupVO] not found"
    cloud.check_invariants()


# -- SyncVmBackupFromImageStoreBackupStorage -------------------------------------------------

TWO_STORES = {
    "name": "two-stores",
    "zones": [{"name": "zone-1"}],
    "clusters": [{"name": "cluster-1", "zone": "zone-1"}],
    "hosts": [{"name": "host-1", "cluster": "cluster-1", "cpu_num": 8, "memory": "32G"}],
    "primary_storages": [
        {"name": "nfs-ps", "type": "NFS", "clusters": ["cluster-1"], "total_capacity": "200G"}
    ],
    "backup_storages": [
        {"name": "store-a", "zones": ["zone-1"], "total_capacity": "50G"},
        {"name": "store-b", "zones": ["zone-1"], "total_capacity": "5G"},
    ],
    "images": [{"name": "linux", "backup_storages": ["store-a"], "virtual_size": "10G", "actual_size": "1G"}],
    "instance_offerings": [{"name": "small", "cpu_num": 1, "memory_size": "1G"}],
    "l3_networks": [{"name": "l3", "zone": "zone-1", "cidr": "192.168.1.0/24"}],
    "vms": [{"name": "golden", "instance_offering": "small", "image": "linux"}],
}


@pytest.fixture
def stores():
    cloud = Cloud(TWO_STORES, seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    return cloud, client, login(client)


def test_sync_vm_backup_copies_a_vm_backup_to_another_image_store(stores):
    cloud, client, session = stores
    golden = cloud.vms.get("golden")
    a, b = cloud.backup_storages.get("store-a").uuid, cloud.backup_storages.get("store-b").uuid
    backups = ok(
        call_async(
            client,
            "POST",
            f"/zstack/v1/volumes/{golden.root_volume_uuid}/vm-backups",
            session,
            json={"params": {"backupStorageUuid": a, "name": "n"}},
        )
    )["inventories"]
    group = backups[0]["groupUuid"]
    before = bs_free(client, session, "store-b")
    body = ok(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/vm-backups/{group}/actions",
            session,
            json={
                "syncVmBackupFromImageStoreBackupStorage": {
                    "srcBackupStorageUuid": a,
                    "dstBackupStorageUuid": b,
                }
            },
        )
    )
    [copied] = body["inventories"]
    assert [r["backupStorageUuid"] for r in copied["backupStorageRefs"]] == [a, b]
    assert before - bs_free(client, session, "store-b") == GiB + MiB
    # the copy serves a restore on its own once the first store is gone
    cloud.set_storage_status("store-a", "Disconnected")
    vm = ok(
        call_async(
            client,
            "POST",
            f"/zstack/v1/vm-instances/from/vm-backups/{group}",
            session,
            json={"params": {"name": "from-b", "backupStorageUuid": b}},
        )
    )["inventory"]
    assert vm["state"] == "Running"
    cloud.check_invariants()


def test_sync_vm_backup_to_a_full_store_fails_and_leaves_nothing(stores):
    cloud, client, session = stores
    golden = cloud.vms.get("golden")
    a, b = cloud.backup_storages.get("store-a").uuid, cloud.backup_storages.get("store-b").uuid
    cloud.write(golden.root_volume_uuid, 5 * GiB)
    group = ok(
        call_async(
            client,
            "POST",
            f"/zstack/v1/volumes/{golden.root_volume_uuid}/vm-backups",
            session,
            json={"params": {"backupStorageUuid": a, "name": "n"}},
        )
    )["inventories"][0]["groupUuid"]
    before = bs_free(client, session, "store-b")
    failed = error(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/vm-backups/{group}/actions",
            session,
            json={
                "syncVmBackupFromImageStoreBackupStorage": {
                    "srcBackupStorageUuid": a,
                    "dstBackupStorageUuid": b,
                }
            },
        )
    )
    assert failed["code"] == "BS.1003"
    assert bs_free(client, session, "store-b") == before
    same = error(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/vm-backups/{group}/actions",
            session,
            json={
                "syncVmBackupFromImageStoreBackupStorage": {
                    "srcBackupStorageUuid": a,
                    "dstBackupStorageUuid": a,
                }
            },
        )
    )
    assert same["details"] == "the source and destination backup storage are the same"
    missing = error(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/vm-backups/{group}/actions",
            session,
            json={"syncVmBackupFromImageStoreBackupStorage": {"srcBackupStorageUuid": a}},
        )
    )
    assert missing["code"] == "SYS.1007"
    cloud.check_invariants()


def test_the_seed_sync_vm_backup_still_reconciles(demo):
    cloud, client, session = demo
    bs = cloud.backup_storages.get("imagestore").uuid
    backups = vm_backup(client, session, cloud)
    cloud.forget_backup_group(backups[0]["groupUuid"])
    body = ok(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/vm-backups/imageStore/{bs}/actions",
            session,
            json={"syncVmBackup": {}},
        )
    )
    assert body == {"result": {"newBackupCount": 2, "deletedBackupCount": 0}}


def test_revert_vm_leaves_a_volume_now_attached_to_another_vm_alone(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    group = vm_backup(client, session, cloud)[0]["groupUuid"]
    other = cloud.create_vm("other", image="centos-7", instance_offering="small", host="host-3")
    call_async(client, "DELETE", f"/zstack/v1/volumes/{data}/vm-instances", session)
    call_async(
        client, "POST", f"/zstack/v1/volumes/{data}/vm-instances/{other.uuid}", session, json={"params": {}}
    )
    cloud.write(data, GiB)
    vm_action(client, session, golden.uuid, "stopVmInstance")
    ok(
        call_async(
            client,
            "PUT",
            f"/zstack/v1/vm-backups/{group}/actions",
            session,
            json={"revertVmFromVmBackup": {}},
        )
    )
    assert query(client, session, f"volumes/{data}").get_json()["inventories"][0]["actualSize"] == GiB + MiB
    cloud.check_invariants()
