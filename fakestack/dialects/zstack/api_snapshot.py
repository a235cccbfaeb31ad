"""Volume snapshot APIs: CreateVolumeSnapshot, DeleteVolumeSnapshot (§4; QueryVolumeSnapshot
is one of the query APIs)."""
from __future__ import annotations

from .api_vm import inventory_reply, run_job
from .registry import Call, api
from .render import SNAPSHOT, snapshot_inventory


@api("CreateVolumeSnapshot", operation="create_volume_snapshot", resources={"volumeUuid": "volume"})
def create_volume_snapshot(call: Call) -> dict:
    f = call.fields
    snapshot = run_job(call, "snapshot.create", call.cloud.create_volume_snapshot, f["volumeUuid"], f["name"],
                       description=f.get("description") or "")
    return inventory_reply(call, snapshot_inventory(call.cloud, snapshot), SNAPSHOT)


@api("DeleteVolumeSnapshot", operation="delete_volume_snapshot", resources={"uuid": "volume_snapshot"},
     delete_if_missing="uuid")
def delete_volume_snapshot(call: Call) -> dict:
    run_job(call, "snapshot.delete", call.cloud.delete_volume_snapshot, call.fields["uuid"])
    return {}
