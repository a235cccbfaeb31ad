"""The backup seed APIs: CreateVmBackup, DeleteVmBackup, SyncVmBackup and templates from a
volume backup (§5.2-§5.5)."""

from __future__ import annotations

from fakestack.model.kinds import ImageKind

from .api_storage import image_reply
from .api_vm import run_job
from .query import schema_for
from .registry import Call, api
from .render import BACKUP, backup_inventory


@api(
    "CreateVmBackup",
    operation="create_vm_backup",
    resources={"rootVolumeUuid": "volume", "backupStorageUuid": "backup_storage"},
)
def create_vm_backup(call: Call) -> dict:
    f = call.fields
    cloud = call.cloud
    records = run_job(
        call,
        "backup.create",
        cloud.create_vm_backup,
        None,
        f["backupStorageUuid"],
        f["name"],
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
        mode=f.get("mode"),
        root_volume=f["rootVolumeUuid"],
    )
    inventories = [backup_inventory(cloud, r) for r in records]
    call.schema = schema_for(inventories, BACKUP)
    return {"inventories": inventories}


@api("DeleteVmBackup", operation="delete_vm_backup", resources={"backupStorageUuids": "backup_storage"})
def delete_vm_backup(call: Call) -> dict:
    f = call.fields
    run_job(
        call,
        "backup.delete",
        call.cloud.delete_backup_group,
        f["groupUuid"],
        f.get("backupStorageUuids") or None,
        mode=f.get("deleteMode") or "Permissive",
        handle_dependency=bool(f.get("handleDependency")),
    )
    return {}


@api("SyncVmBackup", operation="sync_vm_backup", resources={"imageStoreUuid": "backup_storage"})
def sync_vm_backup(call: Call) -> dict:
    counts = run_job(call, "backup.sync", call.cloud.sync_backup_storage, call.fields["imageStoreUuid"])
    return {"result": {"newBackupCount": counts.new, "deletedBackupCount": counts.deleted}}


def _template_from_backup(call: Call, media_type: ImageKind) -> dict:
    f = call.fields
    image = run_job(
        call,
        "image.create_from_backup",
        call.cloud.create_image_from_backup,
        f["backupUuid"],
        f["backupStorageUuid"],
        f["name"],
        description=f.get("description") or "",
        guest_os_type=f.get("guestOsType"),
        platform=f.get("platform"),
        system=bool(f.get("system")),
        resource_uuid=f.get("resourceUuid"),
        architecture=f.get("architecture"),
        virtio=f.get("virtio"),
        media_type=media_type,
    )
    return image_reply(call, image)


@api(
    "CreateRootVolumeTemplateFromVolumeBackup",
    operation="create_image_from_backup",
    resources={"backupUuid": "backup", "backupStorageUuid": "backup_storage"},
)
def create_root_template_from_backup(call: Call) -> dict:
    return _template_from_backup(call, ImageKind.ROOT_TEMPLATE)


@api(
    "CreateDataVolumeTemplateFromVolumeBackup",
    operation="create_image_from_backup",
    resources={"backupUuid": "backup", "backupStorageUuid": "backup_storage"},
)
def create_data_template_from_backup(call: Call) -> dict:
    return _template_from_backup(call, ImageKind.DATA_TEMPLATE)
