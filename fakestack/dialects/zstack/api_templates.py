"""Templates and volumes made from one another, and volume changes (issue 16, group 3):
CreateRootVolumeTemplateFromRootVolume / FromVolumeSnapshot, CreateDataVolumeTemplateFromVolume,
CreateDataVolumeFromVolumeSnapshot / FromVolumeTemplate, ResizeRootVolume / ResizeDataVolume,
SyncVolumeSize, ChangeVolumeState, UpdateVolume."""

from __future__ import annotations

from fakestack.model.kinds import ImageKind

from .api_storage import image_reply, volume_reply
from .api_vm import run_job
from .errors import error_from_domain, invalid_argument
from .query import schema_of
from .registry import Call, api
from .render import IMAGE, image_inventory

_TEMPLATE_RESOURCES = {"backupStorageUuids": "backup_storage"}


def _image_options(f: dict) -> dict:
    return dict(
        description=f.get("description") or "",
        platform=f.get("platform"),
        guest_os_type=f.get("guestOsType"),
        architecture=f.get("architecture"),
        system=bool(f.get("system")),
        virtio=f.get("virtio", True) is not False,
        resource_uuid=f.get("resourceUuid"),
    )


@api(
    "CreateRootVolumeTemplateFromRootVolume",
    operation="create_image_from_volume",
    resources={"rootVolumeUuid": "volume", **_TEMPLATE_RESOURCES},
)
def create_root_template_from_root_volume(call: Call) -> dict:
    f = call.fields
    image = run_job(
        call,
        "image.create_from_volume",
        call.cloud.create_image_from_volume,
        f["rootVolumeUuid"],
        f["name"],
        backup_storages=f.get("backupStorageUuids") or None,
        media_type=ImageKind.ROOT_TEMPLATE,
        **_image_options(f),
    )
    return image_reply(call, image)


@api(
    "CreateDataVolumeTemplateFromVolume",
    operation="create_image_from_volume",
    resources={"volumeUuid": "volume", **_TEMPLATE_RESOURCES},
)
def create_data_template_from_volume(call: Call) -> dict:
    f = call.fields
    image = run_job(
        call,
        "image.create_from_volume",
        call.cloud.create_image_from_volume,
        f["volumeUuid"],
        f["name"],
        backup_storages=f.get("backupStorageUuids") or None,
        media_type=ImageKind.DATA_TEMPLATE,
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
    )
    return image_reply(call, image)


@api(
    "CreateRootVolumeTemplateFromVolumeSnapshot",
    operation="create_image_from_snapshot",
    resources={"snapshotUuid": "volume_snapshot", **_TEMPLATE_RESOURCES},
)
def create_root_template_from_snapshot(call: Call) -> dict:
    f = call.fields
    image, failures = run_job(
        call,
        "image.create_from_snapshot",
        call.cloud.create_image_from_snapshot,
        f["snapshotUuid"],
        f["name"],
        backup_storages=f["backupStorageUuids"],
        **_image_options(f),
    )
    inventory = image_inventory(call.cloud, image)
    call.schema = schema_of(inventory, IMAGE)
    return {
        "inventory": inventory,
        "failures": [
            {
                "backupStorageUuid": bs_uuid,
                "error": error_from_domain(
                    exc, operation="create_image_from_snapshot", message_class=call.message_class
                ).to_dict(),
            }
            for bs_uuid, exc in failures
        ],
    }


@api(
    "CreateDataVolumeFromVolumeSnapshot",
    operation="create_volume_from_snapshot",
    resources={"volumeSnapshotUuid": "volume_snapshot", "primaryStorageUuid": "primary_storage"},
)
def create_data_volume_from_snapshot(call: Call) -> dict:
    f = call.fields
    volume = run_job(
        call,
        "volume.create_from_snapshot",
        call.cloud.create_volume_from_snapshot,
        f["volumeSnapshotUuid"],
        f["name"],
        primary_storage=f.get("primaryStorageUuid"),
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
    )
    return volume_reply(call, volume)


@api(
    "CreateDataVolumeFromVolumeTemplate",
    operation="create_volume_from_image",
    resources={"imageUuid": "image", "primaryStorageUuid": "primary_storage", "hostUuid": "host"},
)
def create_data_volume_from_template(call: Call) -> dict:
    f = call.fields
    volume = run_job(
        call,
        "volume.create_from_image",
        call.cloud.create_volume_from_image,
        f["imageUuid"],
        f["name"],
        primary_storage=f["primaryStorageUuid"],
        host=f.get("hostUuid"),
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
    )
    return volume_reply(call, volume)


@api("ResizeRootVolume", operation="resize_volume", resources={"uuid": "volume", "vmInstanceUuid": "vm"})
def resize_root_volume(call: Call) -> dict:
    f = call.fields
    volume = call.cloud.volumes.get(f["uuid"])
    if volume.type != "Root":
        raise invalid_argument(f"volume[uuid:{volume.uuid}] is not root volume")
    return volume_reply(call, run_job(call, "volume.resize", call.cloud.resize_volume, volume, f["size"]))


@api("ResizeDataVolume", operation="resize_volume", resources={"uuid": "volume"})
def resize_data_volume(call: Call) -> dict:
    f = call.fields
    volume = call.cloud.volumes.get(f["uuid"])
    if volume.type != "Data":
        raise invalid_argument(f"volume[uuid:{volume.uuid}] is not data volume")
    return volume_reply(call, run_job(call, "volume.resize", call.cloud.resize_volume, volume, f["size"]))


@api("SyncVolumeSize", operation="sync_volume_size", resources={"uuid": "volume"})
def sync_volume_size(call: Call) -> dict:
    return volume_reply(
        call, run_job(call, "volume.sync_size", call.cloud.sync_volume_size, call.fields["uuid"])
    )


@api("ChangeVolumeState", operation="set_volume_state", resources={"uuid": "volume"})
def change_volume_state(call: Call) -> dict:
    state = "Enabled" if call.fields["stateEvent"] == "enable" else "Disabled"
    return volume_reply(
        call, run_job(call, "volume.set_state", call.cloud.set_volume_state, call.fields["uuid"], state)
    )


@api("UpdateVolume", operation="update_volume", resources={"uuid": "volume"})
def update_volume(call: Call) -> dict:
    f = call.fields
    return volume_reply(
        call,
        run_job(
            call,
            "volume.update",
            call.cloud.update_volume,
            f["uuid"],
            name=f.get("name"),
            description=f.get("description"),
        ),
    )
