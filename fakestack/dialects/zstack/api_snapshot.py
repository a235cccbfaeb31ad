"""Volume snapshot APIs: CreateVolumeSnapshot (one volume) and CreateVolumesSnapshot (a group),
RevertVolumeFromSnapshot, DeleteVolumeSnapshot (§4; QueryVolumeSnapshot and
QueryVolumeSnapshotTree are query APIs)."""

from __future__ import annotations

from .api_vm import inventory_reply, run_job
from .query import schema_for
from .registry import Call, api
from .render import SNAPSHOT, snapshot_inventory


@api("CreateVolumeSnapshot", operation="create_volume_snapshot", resources={"volumeUuid": "volume"})
def create_volume_snapshot(call: Call) -> dict:
    f = call.fields
    snapshot = run_job(
        call,
        "snapshot.create",
        call.cloud.create_volume_snapshot,
        f["volumeUuid"],
        f["name"],
        description=f.get("description") or "",
        resource_uuid=f.get("resourceUuid"),
    )
    return inventory_reply(call, snapshot_inventory(call.cloud, snapshot), SNAPSHOT)


@api("CreateVolumesSnapshot", operation="create_volume_snapshot", resources={"volumeUuids": "volume"})
def create_volumes_snapshot(call: Call) -> dict:
    snapshots = run_job(
        call, "snapshot.create_group", call.cloud.create_volumes_snapshot, list(call.fields["volumeUuids"])
    )
    inventories = [snapshot_inventory(call.cloud, s) for s in snapshots]
    call.schema = schema_for(inventories, SNAPSHOT)
    return {"inventories": inventories}


@api("RevertVolumeFromSnapshot", operation="revert_volume_to_snapshot", resources={"uuid": "volume_snapshot"})
def revert_volume_from_snapshot(call: Call) -> dict:
    snap = call.cloud.volume_snapshots.get(call.fields["uuid"])
    call.error_context = {"volumeUuid": snap.volume_uuid, "snapshotUuid": snap.uuid}
    run_job(call, "snapshot.revert", call.cloud.revert_volume_to_snapshot, snap)
    return {}


@api(
    "DeleteVolumeSnapshot",
    operation="delete_volume_snapshot",
    resources={"uuid": "volume_snapshot"},
    delete_if_missing="uuid",
)
def delete_volume_snapshot(call: Call) -> dict:
    run_job(call, "snapshot.delete", call.cloud.delete_volume_snapshot, call.fields["uuid"])
    return {}
