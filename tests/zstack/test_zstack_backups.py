"""The backup seed APIs end to end: CreateVmBackup, templates from backups, DeleteVmBackup,
SyncVmBackup (reference §5.2-§5.5)."""

from __future__ import annotations

import json

from zstack_support import auth, call_async, cloud_client, poll, query

from fakestack import faults
from fakestack.model.presets import document


def backup_vm(client, session, root_volume, bs, name="nightly", **extra):
    return call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{root_volume}/vm-backups",
        session,
        json={"params": {"backupStorageUuid": bs, "name": name, **extra}},
    )


def test_vm_backup_is_one_group_of_root_and_data_backups(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    response = client.post(
        f"/zstack/v1/volumes/{golden.root_volume_uuid}/vm-backups",
        json={"params": {"backupStorageUuid": bs, "name": "nightly"}},
        headers=auth(session),
    )
    assert response.status_code == 202 and response.get_json()["apiTimeout"] == 129600000
    body = poll(client, response).get_json()
    backups = body["inventories"]
    assert [b["type"] for b in backups] == ["Root", "Data"]
    assert [b["volumeUuid"] for b in backups] == [golden.root_volume_uuid] + golden.data_volume_uuids
    assert len({b["groupUuid"] for b in backups}) == 1
    assert backups[0]["name"] == "nightly-2026-01-01 00:00:00.0"
    assert backups[1]["name"] == f"nightly-{golden.data_volume_uuids[0]}-2026-01-01 00:00:00.0"
    assert all(b["mode"] == "full" and b["status"] == "Ready" and b["state"] == "Enabled" for b in backups)
    assert all(b["vmInstanceUuid"] == golden.uuid for b in backups)
    ref = backups[0]["backupStorageRefs"][0]
    assert ref["backupStorageUuid"] == bs and ref["volumeBackupUuid"] == backups[0]["uuid"]
    assert ref["installPath"].startswith(f"zstore://volumebackup-{golden.root_volume_uuid}/")
    metadata = json.loads(backups[0]["metadata"])
    assert (metadata["vmName"], metadata["cpuNum"], metadata["type"]) == ("golden", 2, "Root")
    group = query(client, session, "volume-backups", q=f"groupUuid={backups[0]['groupUuid']}").get_json()
    assert [b["uuid"] for b in group["inventories"]] == [b["uuid"] for b in backups]
    # the next backup of the same volumes is incremental: the bytes written since
    cloud.write(golden.root_volume_uuid, 64 * 1024**2)
    again = backup_vm(client, session, golden.root_volume_uuid, bs, name="later").get_json()["inventories"]
    assert [b["mode"] for b in again] == ["incremental", "incremental"]
    assert again[0]["size"] == 64 * 1024**2
    forced = backup_vm(client, session, golden.root_volume_uuid, bs, name="full", mode="full")
    assert [b["mode"] for b in forced.get_json()["inventories"]] == ["full", "full"]


def test_group_uuid_is_the_resource_uuid_when_given(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    chosen = "5" * 12 + "4" + "5" * 3 + "8" + "5" * 15
    body = backup_vm(client, session, golden.root_volume_uuid, bs, resourceUuid=chosen).get_json()
    assert {b["groupUuid"] for b in body["inventories"]} == {chosen}
    again = backup_vm(client, session, golden.root_volume_uuid, bs, resourceUuid=chosen).get_json()
    assert again["error"]["code"] == "SYS.1006"  # the group uuid is taken
    bad = backup_vm(client, session, golden.root_volume_uuid, bs, resourceUuid="not-hex").get_json()
    assert bad["error"]["code"] == "SYS.1007"
    assert bad["error"]["details"].startswith("resourceUuid[not-hex] is not a valid uuid.")


def test_template_from_root_backup_boots_a_vm(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore")
    root_backup = backup_vm(client, session, golden.root_volume_uuid, bs.uuid).get_json()["inventories"][0]
    made = call_async(
        client,
        "POST",
        f"/zstack/v1/images/root-volume-templates/from/volume-template/{root_backup['uuid']}",
        session,
        json={"params": {"backupStorageUuid": bs.uuid, "name": "My Volume Template"}},
    )
    assert made.status_code == 200
    image = made.get_json()["inventory"]
    assert (image["mediaType"], image["format"], image["type"], image["status"]) == (
        "RootVolumeTemplate",
        "qcow2",
        "zstack",
        "Ready",
    )
    assert (image["platform"], image["guestOsType"], image["architecture"]) == ("Linux", "CentOS 7", "x86_64")
    assert image["url"].startswith(f"zstore://{bs.hostname}/my-volume-template/")
    assert image["backupStorageRefs"][0]["installPath"].startswith("zstore://my-volume-template/")
    assert image["size"] == golden_root_size(cloud, golden)
    vm = call_async(
        client,
        "POST",
        "/zstack/v1/vm-instances",
        session,
        json={
            "params": {
                "name": "restored",
                "instanceOfferingUuid": golden.instance_offering_uuid,
                "imageUuid": image["uuid"],
            }
        },
    )
    assert vm.get_json()["inventory"]["state"] == "Running"
    assert vm.get_json()["inventory"]["imageUuid"] == image["uuid"]
    data_template = call_async(
        client,
        "POST",
        f"/zstack/v1/images/data-volume-templates/from/volume-template/{root_backup['uuid']}",
        session,
        json={"params": {"backupStorageUuid": bs.uuid, "name": "as-data"}},
    )
    assert data_template.get_json()["inventory"]["mediaType"] == "DataVolumeTemplate"


def golden_root_size(cloud, golden) -> int:
    return cloud.volumes.get(golden.root_volume_uuid).virtual_size


def test_delete_vm_backup_in_both_modes(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore")
    first = backup_vm(client, session, golden.root_volume_uuid, bs.uuid).get_json()["inventories"]
    group = first[0]["groupUuid"]
    cloud.set_storage_status(bs.uuid, "Disconnected")
    enforcing = call_async(
        client,
        "DELETE",
        f"/zstack/v1/vm-backups/{group}",
        session,
        query_string={"backupStorageUuids": bs.uuid, "deleteMode": "Enforcing"},
    )
    assert enforcing.status_code == 503
    assert enforcing.get_json()["error"]["code"] == "SYS.1006"
    assert (
        len(query(client, session, "volume-backups", q=f"groupUuid={group}").get_json()["inventories"]) == 2
    )
    permissive = call_async(
        client,
        "DELETE",
        f"/zstack/v1/vm-backups/{group}",
        session,
        query_string={"backupStorageUuids": bs.uuid, "deleteMode": "Permissive"},
    )
    assert (permissive.status_code, permissive.get_json()) == (200, {})
    assert query(client, session, "volume-backups", q=f"groupUuid={group}").get_json()["inventories"] == []
    # the data stayed on the storage: once it is back, sync registers the group again
    cloud.set_storage_status(bs.uuid, "Connected")
    synced = call_async(
        client,
        "PUT",
        f"/zstack/v1/vm-backups/imageStore/{bs.uuid}/actions",
        session,
        json={"syncVmBackup": {}},
    )
    assert synced.get_json() == {"result": {"newBackupCount": 2, "deletedBackupCount": 0}}
    assert (
        len(query(client, session, "volume-backups", q=f"groupUuid={group}").get_json()["inventories"]) == 2
    )
    # deleting for real frees the storage
    before = cloud.backup_storages.get("imagestore").available_capacity
    assert call_async(client, "DELETE", f"/zstack/v1/vm-backups/{group}", session).get_json() == {}
    assert cloud.backup_storages.get("imagestore").available_capacity > before
    unknown = call_async(client, "DELETE", "/zstack/v1/vm-backups/" + "7" * 32, session)
    assert (unknown.status_code, unknown.get_json()) == (200, {})


def test_sync_counts_backups_lost_by_the_storage(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    group = backup_vm(client, session, golden.root_volume_uuid, bs).get_json()["inventories"][0]["groupUuid"]
    cloud.lose_backup_group_data(group, bs)
    synced = call_async(
        client, "PUT", f"/zstack/v1/vm-backups/imageStore/{bs}/actions", session, json={"syncVmBackup": {}}
    )
    assert synced.get_json() == {"result": {"newBackupCount": 0, "deletedBackupCount": 2}}
    assert query(client, session, "volume-backups").get_json()["inventories"] == []


def test_backup_errors(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    message = "org.zstack.header.storage.volume.backup.APICreateVmBackupMsg"
    missing = call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{golden.root_volume_uuid}/vm-backups",
        session,
        json={"params": {"backupStorageUuid": bs}},
    )
    assert missing.get_json()["error"]["details"] == (
        f"field[name] of message[{message}] is mandatory, can not be null"
    )
    bad_mode = backup_vm(client, session, golden.root_volume_uuid, bs, mode="incremental")
    assert bad_mode.get_json()["error"]["details"] == (
        f"valid value for field[mode] of message[{message}] are [full], but incremental found"
    )
    data_volume = backup_vm(client, session, golden.data_volume_uuids[0], bs).get_json()["error"]
    assert data_volume == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": f"Volume[uuid:{golden.data_volume_uuids[0]}] is not root volume",
    }
    call_async(
        client, "PUT", f"/zstack/v1/vm-instances/{golden.uuid}/actions", session, json={"stopVmInstance": {}}
    )
    stopped = backup_vm(client, session, golden.root_volume_uuid, bs).get_json()["error"]
    assert stopped == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": f"Failed to create backups for VM[uuid:{golden.uuid}], because it is "
        "not in state[Running, Paused]",
    }
    unknown_bs = backup_vm(client, session, golden.root_volume_uuid, "9" * 32).get_json()["error"]
    assert unknown_bs["details"] == (
        f"invalid field[backupStorageUuid], resource[uuid:{'9' * 32}, type:BackupStorageVO] not found"
    )
    template = call_async(
        client,
        "POST",
        "/zstack/v1/images/root-volume-templates/from/volume-template/" + "8" * 32,
        session,
        json={"params": {"backupStorageUuid": bs, "name": "t"}},
    )
    assert template.get_json()["error"]["details"] == (
        f"invalid field[backupUuid], resource[uuid:{'8' * 32}, type:VolumeBackupVO] not found"
    )


def test_template_from_a_backup_deleted_on_that_storage_is_sys_1006(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    record = backup_vm(client, session, golden.root_volume_uuid, bs).get_json()["inventories"][0]
    cloud.write(golden.root_volume_uuid, 1024)
    backup_vm(client, session, golden.root_volume_uuid, bs, name="second")  # incremental on top
    call_async(
        client,
        "DELETE",
        f"/zstack/v1/vm-backups/{record['groupUuid']}",
        session,
        query_string={"handleDependency": "true"},
    )
    kept = query(client, session, f"volume-backups/{record['uuid']}").get_json()["inventories"][0]
    assert kept["status"] == "Deleted" and kept["backupStorageRefs"][0]["status"] == "Deleted"
    response = call_async(
        client,
        "POST",
        f"/zstack/v1/images/root-volume-templates/from/volume-template/{record['uuid']}",
        session,
        json={"params": {"backupStorageUuid": bs, "name": "t"}},
    )
    assert response.get_json()["error"] == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": f"Volume backup[uuid:{record['uuid']}] not found on backup storage[uuid:{bs}]",
    }


def test_backup_storage_exhaustion_is_bs_1003():
    cloud, client, session = cloud_client("tiny")
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    faults.add(cloud, faults.exhaust("backup.create", "backup_storage"))
    error = backup_vm(client, session, golden.root_volume_uuid, bs).get_json()["error"]
    assert error["code"] == "BS.1003"
    assert error["details"] == "unable to allocate a backup storage"
    assert error["cause"]["code"] == "SYS.1006"
    assert error["cause"]["details"].startswith(
        "after subtracting reserved capacity, no backup storage has required capacity["
    )
    assert query(client, session, "volume-backups").get_json()["inventories"] == []


def test_legacy_backup_and_query(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    started = client.post(
        "/zstack/api/",
        json={
            "org.zstack.header.storage.volume.backup.APICreateVmBackupMsg": {
                "session": {"uuid": session},
                "rootVolumeUuid": golden.root_volume_uuid,
                "backupStorageUuid": bs,
                "name": "legacy",
            }
        },
    )
    done = client.get(f"/zstack/api/result/{started.get_json()['uuid']}").get_json()
    event = json.loads(done["result"])["org.zstack.header.storage.volume.backup.APICreateVmBackupEvent"]
    assert event["success"] is True and len(event["inventories"]) == 2
    listed = client.post(
        "/zstack/api/",
        json={
            "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupMsg": {
                "session": {"uuid": session},
                "conditions": [{"name": "type", "op": "=", "value": "Root"}],
            }
        },
    )
    reply = json.loads(listed.get_json()["result"])[
        "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupReply"
    ]
    assert [b["type"] for b in reply["inventories"]] == ["Root"]


def test_storage_and_image_kinds_show_by_zstack_names_in_inventories_and_errors():
    # the model's kinds are neutral; the zstack dialect names them, errors included
    topology = document("demo")
    topology["backup_storages"].append(
        {
            "name": "sftp",
            "type": "SftpBackupStorage",
            "zones": ["zone-1"],
            "total_capacity": "1T",
            "hostname": "10.0.0.21",
        }
    )
    cloud, client, session = cloud_client(topology)
    pss = query(client, session, "primary-storage").get_json()["inventories"]
    assert [(p["name"], p["type"], p.get("mountPath")) for p in pss] == [
        ("local-ps", "LocalStorage", "/zstack_ps"),
        ("nfs-ps", "NFS", f"/opt/zstack/nfsprimarystorage/prim-{cloud.primary_storages.get('nfs-ps').uuid}"),
    ]
    bss = query(client, session, "backup-storage").get_json()
    assert [(b["name"], b["type"], b.get("hostname")) for b in bss["inventories"]] == [
        ("imagestore", "ImageStoreBackupStorage", "10.0.0.20"),
        ("sftp", "SftpBackupStorage", None),
    ]
    assert [bss["schema"][f"inventories[{i}]"] for i in range(2)] == [
        "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory",
        "org.zstack.header.storage.backup.BackupStorageInventory",
    ]
    image_stores = query(client, session, "backup-storage/image-store").get_json()["inventories"]
    assert [b["name"] for b in image_stores] == ["imagestore"]
    images = query(client, session, "images", q="mediaType=RootVolumeTemplate").get_json()["inventories"]
    assert sorted(i["name"] for i in images) == ["centos-7", "ubuntu-22.04"]
    golden = cloud.vms.get("golden")
    sftp = cloud.backup_storages.get("sftp").uuid
    unexpected = f"Unexpected backup storage[type:SftpBackupStorage,uuid:{sftp}]"
    refused = backup_vm(client, session, golden.root_volume_uuid, sftp).get_json()
    failed = {"code": "SYS.1006", "description": "An operation failed", "details": unexpected}
    assert refused["error"] == failed
    sync = call_async(
        client, "PUT", f"/zstack/v1/vm-backups/imageStore/{sftp}/actions", session, json={"syncVmBackup": {}}
    ).get_json()
    assert sync["error"] == failed
    one_volume = client.post(
        f"/zstack/v1/volumes/{golden.data_volume_uuids[0]}/volume-backups",
        headers=auth(session),
        json={"params": {"backupStorageUuid": sftp, "name": "vb"}},
    )
    assert poll(client, one_volume).get_json()["error"] == failed
    bs = cloud.backup_storages.get("imagestore").uuid
    group = backup_vm(client, session, golden.root_volume_uuid, bs).get_json()["inventories"][0]["groupUuid"]
    copy = {"srcBackupStorageUuid": bs, "dstBackupStorageUuid": sftp}
    copied = call_async(
        client,
        "PUT",
        f"/zstack/v1/vm-backups/{group}/actions",
        session,
        json={"syncVmBackupFromImageStoreBackupStorage": copy},
    )
    assert copied.get_json()["error"] == failed
    # a data template does not boot a VM
    root_backup = backup_vm(client, session, golden.root_volume_uuid, bs).get_json()["inventories"][0]
    data_template = call_async(
        client,
        "POST",
        f"/zstack/v1/images/data-volume-templates/from/volume-template/{root_backup['uuid']}",
        session,
        json={"params": {"backupStorageUuid": bs, "name": "as-data"}},
    ).get_json()["inventory"]
    vm = client.post(
        "/zstack/v1/vm-instances",
        headers=auth(session),
        json={
            "params": {
                "name": "from-data",
                "instanceOfferingUuid": golden.instance_offering_uuid,
                "imageUuid": data_template["uuid"],
            }
        },
    )
    body = vm.get_json() if vm.status_code != 202 else poll(client, vm).get_json()
    assert body["error"]["details"] == (
        f"invalid imageUuid: image[uuid:{data_template['uuid']}] is a "
        "DataVolumeTemplate, not a RootVolumeTemplate"
    )
