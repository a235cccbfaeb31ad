"""Restores and single-volume backups (issue 16, group 4): CreateVmFromVmBackup,
RevertVmFromVmBackup, CreateVolumeBackup, DeleteVolumeBackup, RevertVolumeFromVolumeBackup,
and SyncVmBackupFromImageStoreBackupStorage.

SyncVmBackupFromImageStoreBackupStorage is not the seed's SyncVmBackup under another name:
its parameters (``groupUuid``, ``srcBackupStorageUuid``, ``dstBackupStorageUuid``) and its
result (the group's VolumeBackup inventories) are those of a copy of one VM backup from one
image store to another, which is what it does here.
"""

from __future__ import annotations

from .api_vm import inventory_reply, run_job, start_policy, vm_reply
from .query import schema_for
from .registry import Call, api
from .render import BACKUP, backup_inventory


@api(
    "CreateVmFromVmBackup",
    operation="create_vm_from_backup",
    resources={
        "backupStorageUuid": "backup_storage",
        "instanceOfferingUuid": "instance_offering",
        "l3NetworkUuids": "l3_network",
        "zoneUuid": "zone",
        "clusterUuid": "cluster",
        "hostUuid": "host",
        "primaryStorageUuidForRootVolume": "primary_storage",
        "primaryStorageUuidForDataVolume": "primary_storage",
        "defaultL3NetworkUuid": "l3_network",
    },
)
def create_vm_from_vm_backup(call: Call) -> dict:
    f = call.fields
    l3 = list(f.get("l3NetworkUuids") or []) or None
    if l3 and f.get("defaultL3NetworkUuid") in l3:
        l3.remove(f["defaultL3NetworkUuid"])
        l3.insert(0, f["defaultL3NetworkUuid"])
    vm = run_job(
        call,
        "backup.create_vm",
        call.cloud.create_vm_from_backup,
        f["groupUuid"],
        f["name"],
        backup_storage=f.get("backupStorageUuid"),
        instance_offering=f.get("instanceOfferingUuid"),
        cpu_num=f.get("cpuNum"),
        memory_size=f.get("memorySize"),
        l3_networks=l3,
        zone=f.get("zoneUuid"),
        cluster=f.get("clusterUuid"),
        host=f.get("hostUuid"),
        primary_storage=f.get("primaryStorageUuidForRootVolume"),
        primary_storage_for_data=f.get("primaryStorageUuidForDataVolume"),
        strategy=start_policy(f.get("strategy")),
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
    )
    return vm_reply(call, vm)


@api(
    "RevertVmFromVmBackup",
    operation="revert_vm_from_backup",
    resources={"backupStorageUuid": "backup_storage"},
)
def revert_vm_from_vm_backup(call: Call) -> dict:
    run_job(
        call,
        "backup.revert_vm",
        call.cloud.revert_vm_from_backup,
        call.fields["groupUuid"],
        call.fields.get("backupStorageUuid"),
    )
    return {}


@api(
    "CreateVolumeBackup",
    operation="create_volume_backup",
    resources={"volumeUuid": "volume", "backupStorageUuid": "backup_storage"},
)
def create_volume_backup(call: Call) -> dict:
    f = call.fields
    record = run_job(
        call,
        "backup.create_volume",
        call.cloud.create_volume_backup,
        f["volumeUuid"],
        f["backupStorageUuid"],
        f["name"],
        description=f.get("description") or "",
        mode=f.get("mode"),
        resource_uuid=f.get("resourceUuid"),
    )
    return inventory_reply(call, backup_inventory(call.cloud, record), BACKUP)


@api(
    "DeleteVolumeBackup",
    operation="delete_volume_backup",
    resources={"uuid": "backup", "backupStorageUuids": "backup_storage"},
    delete_if_missing="uuid",
)
def delete_volume_backup(call: Call) -> dict:
    f = call.fields
    run_job(
        call,
        "backup.delete_volume",
        call.cloud.delete_volume_backup,
        f["uuid"],
        f.get("backupStorageUuids") or None,
        mode=f.get("deleteMode") or "Permissive",
        handle_dependency=bool(f.get("handleDependency")),
    )
    return {}


@api(
    "RevertVolumeFromVolumeBackup",
    operation="revert_volume_from_backup",
    resources={"uuid": "backup", "backupStorageUuid": "backup_storage"},
)
def revert_volume_from_volume_backup(call: Call) -> dict:
    run_job(
        call,
        "backup.revert_volume",
        call.cloud.revert_volume_from_backup,
        call.fields["uuid"],
        call.fields.get("backupStorageUuid"),
    )
    return {}


@api(
    "SyncVmBackupFromImageStoreBackupStorage",
    operation="copy_backup_group",
    resources={"srcBackupStorageUuid": "backup_storage", "dstBackupStorageUuid": "backup_storage"},
)
def sync_vm_backup_from_image_store(call: Call) -> dict:
    f = call.fields
    records = run_job(
        call,
        "backup.copy",
        call.cloud.copy_backup_group,
        f["groupUuid"],
        f["srcBackupStorageUuid"],
        f["dstBackupStorageUuid"],
    )
    inventories = [backup_inventory(call.cloud, r) for r in records]
    call.schema = schema_for(inventories, BACKUP)
    return {"inventories": inventories}
