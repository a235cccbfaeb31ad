"""Image APIs: AddImage (a simulated download from a URL), UpdateImage, ChangeImageState,
GetCandidateBackupStorageForCreatingImage (issue 16, group 5)."""

from __future__ import annotations

from .api_storage import image_reply
from .api_vm import run_job
from .errors import invalid_argument
from .names import MEDIA_TYPES
from .query import schema_for
from .registry import Call, api
from .render import BACKUP_STORAGE, BS_CLASS, IMAGE_STORE_CLASS, backup_storage_inventory

# ZStack's ``stateEvent`` words -> the model's image states.
IMAGE_STATE_EVENTS = {"enable": "Enabled", "disable": "Disabled"}
# ZStack's ``mediaType`` words -> the model's image kinds (validValues checked the word).
IMAGE_KINDS = {word: kind for kind, word in MEDIA_TYPES.items()}


def image_kind(word):
    return IMAGE_KINDS[word] if word is not None else None


@api("AddImage", operation="add_image", resources={"backupStorageUuids": "backup_storage"})
def add_image(call: Call) -> dict:
    f = call.fields
    image = run_job(
        call,
        "image.download",
        call.cloud.download_image,
        f["name"],
        f["url"],
        list(f["backupStorageUuids"]),
        media_type=image_kind(f.get("mediaType")),
        format=f.get("format"),
        platform=f.get("platform") or "Linux",
        guest_os_type=f.get("guestOsType") or "",
        architecture=f.get("architecture") or "x86_64",
        description=f.get("description") or "",
        system=bool(f.get("system", False)),
        virtio=bool(f.get("virtio", True)),
        resource_uuid=f.get("resourceUuid"),
    )
    return image_reply(call, image)


@api("UpdateImage", operation="update_image", resources={"uuid": "image"})
def update_image(call: Call) -> dict:
    f = call.fields
    image = run_job(
        call,
        "image.update",
        call.cloud.update_image,
        f["uuid"],
        name=f.get("name"),
        description=f.get("description"),
        guest_os_type=f.get("guestOsType"),
        media_type=image_kind(f.get("mediaType")),
        format=f.get("format"),
        system=f.get("system"),
        platform=f.get("platform"),
        architecture=f.get("architecture"),
        virtio=f.get("virtio"),
    )
    return image_reply(call, image)


@api("ChangeImageState", operation="change_image_state", resources={"uuid": "image"})
def change_image_state(call: Call) -> dict:
    state = IMAGE_STATE_EVENTS[call.fields["stateEvent"]]  # validValues checked it
    image = run_job(call, "image.set_state", call.cloud.set_image_state, call.fields["uuid"], state)
    return image_reply(call, image)


@api(
    "GetCandidateBackupStorageForCreatingImage",
    operation="image_storage_candidates",
    resources={"volumeUuid": "volume", "volumeSnapshotUuid": "volume_snapshot"},
)
def get_candidate_backup_storage_for_creating_image(call: Call) -> dict:
    f = call.fields
    if f.get("volumeUuid") is None and f.get("volumeSnapshotUuid") is None:
        raise invalid_argument("either volumeUuid or volumeSnapshotUuid must be set")
    stores = call.cloud.image_storage_candidates(
        volume=f.get("volumeUuid"), snapshot=f.get("volumeSnapshotUuid")
    )
    inventories = [backup_storage_inventory(call.cloud, bs) for bs in stores]
    call.schema = schema_for(
        inventories,
        BACKUP_STORAGE,
        class_of=lambda bs: IMAGE_STORE_CLASS if bs.get("type") == "ImageStoreBackupStorage" else BS_CLASS,
    )
    return {"inventories": inventories}
