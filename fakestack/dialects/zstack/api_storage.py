"""Data volume and image APIs (§6)."""

from __future__ import annotations

from .api_vm import inventory_reply, provisioning_from_tags, run_job
from .registry import Call, api
from .render import IMAGE, VOLUME, image_inventory, volume_inventory


def volume_reply(call: Call, volume) -> dict:
    return inventory_reply(call, volume_inventory(call.cloud, volume), VOLUME)


def image_reply(call: Call, image) -> dict:
    return inventory_reply(call, image_inventory(call.cloud, image), IMAGE)


@api(
    "CreateDataVolume",
    operation="create_data_volume",
    resources={"diskOfferingUuid": "disk_offering", "primaryStorageUuid": "primary_storage"},
)
def create_data_volume(call: Call) -> dict:
    f = call.fields
    volume = run_job(
        call,
        "volume.create",
        call.cloud.create_data_volume,
        f["name"],
        size=f.get("diskSize"),
        disk_offering=f.get("diskOfferingUuid"),
        primary_storage=f.get("primaryStorageUuid"),
        provisioning=provisioning_from_tags(call.system_tags),
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
    )
    return volume_reply(call, volume)


@api(
    "AttachDataVolumeToVm",
    operation="attach_volume",
    resources={"volumeUuid": "volume", "vmInstanceUuid": "vm"},
)
def attach_data_volume(call: Call) -> dict:
    volume = run_job(
        call,
        "volume.attach",
        call.cloud.attach_volume,
        call.fields["volumeUuid"],
        call.fields["vmInstanceUuid"],
    )
    return volume_reply(call, volume)


@api("DetachDataVolumeFromVm", operation="detach_volume", resources={"uuid": "volume", "vmUuid": "vm"})
def detach_data_volume(call: Call) -> dict:
    volume = run_job(call, "volume.detach", call.cloud.detach_volume, call.fields["uuid"])
    return volume_reply(call, volume)


@api("DeleteDataVolume", operation="delete_volume", resources={"uuid": "volume"}, delete_if_missing="uuid")
def delete_data_volume(call: Call) -> dict:
    run_job(call, "volume.delete", call.cloud.delete_volume, call.fields["uuid"])
    return {}


@api("ExpungeDataVolume", operation="expunge_volume", resources={"uuid": "volume"})
def expunge_data_volume(call: Call) -> dict:
    run_job(call, "volume.expunge", call.cloud.expunge_volume, call.fields["uuid"])
    return {}


@api("RecoverDataVolume", operation="recover_volume", resources={"uuid": "volume"})
def recover_data_volume(call: Call) -> dict:
    return volume_reply(call, run_job(call, "volume.recover", call.cloud.recover_volume, call.fields["uuid"]))


@api(
    "DeleteImage",
    operation="delete_image",
    resources={"uuid": "image", "backupStorageUuids": "backup_storage"},
    delete_if_missing="uuid",
)
def delete_image(call: Call) -> dict:
    run_job(
        call,
        "image.delete",
        call.cloud.delete_image,
        call.fields["uuid"],
        backup_storages=call.fields.get("backupStorageUuids") or None,
    )
    return {}


@api(
    "ExpungeImage",
    operation="expunge_image",
    resources={"imageUuid": "image", "backupStorageUuids": "backup_storage"},
)
def expunge_image(call: Call) -> dict:
    run_job(call, "image.expunge", call.cloud.expunge_image, call.fields["imageUuid"])
    return {}


@api(
    "RecoverImage",
    operation="recover_image",
    resources={"imageUuid": "image", "backupStorageUuids": "backup_storage"},
)
def recover_image(call: Call) -> dict:
    return image_reply(
        call, run_job(call, "image.recover", call.cloud.recover_image, call.fields["imageUuid"])
    )
