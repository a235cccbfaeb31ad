"""Infrastructure APIs that tests use to make trouble through the API itself:
ChangeHostState, ReconnectHost, ChangePrimaryStorageState, SyncPrimaryStorageCapacity,
GetLocalStorageHostDiskCapacity; and LogInByUser (issue 16, group 7)."""

from __future__ import annotations

from . import sessions
from .api_vm import inventory_reply, run_job
from .errors import invalid_argument
from .registry import Call, api
from .render import HOST, PRIMARY_STORAGE, host_inventory, primary_storage_inventory

HOST_DISK_CAPACITY_CLASS = (
    "org.zstack.storage.primary.local.APIGetLocalStorageHostDiskCapacityReply$HostDiskCapacity"
)


def host_reply(call: Call, host) -> dict:
    return inventory_reply(call, host_inventory(call.cloud, host), HOST)


def primary_storage_reply(call: Call, ps) -> dict:
    return inventory_reply(call, primary_storage_inventory(call.cloud, ps), PRIMARY_STORAGE)


@api("ChangeHostState", operation="change_host_state", resources={"uuid": "host"})
def change_host_state(call: Call) -> dict:
    host = run_job(
        call,
        "host.change_state",
        call.cloud.change_host_state,
        call.fields["uuid"],
        call.fields["stateEvent"],
    )
    return host_reply(call, host)


@api("ReconnectHost", operation="reconnect_host", resources={"uuid": "host"})
def reconnect_host(call: Call) -> dict:
    return host_reply(call, run_job(call, "host.reconnect", call.cloud.reconnect_host, call.fields["uuid"]))


@api(
    "ChangePrimaryStorageState",
    operation="change_primary_storage_state",
    resources={"uuid": "primary_storage"},
)
def change_primary_storage_state(call: Call) -> dict:
    ps = run_job(
        call,
        "primary_storage.change_state",
        call.cloud.change_primary_storage_state,
        call.fields["uuid"],
        call.fields["stateEvent"],
    )
    return primary_storage_reply(call, ps)


@api(
    "SyncPrimaryStorageCapacity",
    operation="sync_primary_storage",
    resources={"primaryStorageUuid": "primary_storage"},
)
def sync_primary_storage_capacity(call: Call) -> dict:
    ps = run_job(
        call, "primary_storage.sync", call.cloud.sync_primary_storage, call.fields["primaryStorageUuid"]
    )
    return primary_storage_reply(call, ps)


@api(
    "GetLocalStorageHostDiskCapacity",
    operation="local_storage_capacity",
    resources={"primaryStorageUuid": "primary_storage", "hostUuid": "host"},
)
def get_local_storage_host_disk_capacity(call: Call) -> dict:
    ps = call.cloud.primary_storages.get(call.fields["primaryStorageUuid"])
    if not ps.host_local:
        raise invalid_argument(f"the primary storage[uuid:{ps.uuid}] is not a local primary storage")
    shares = call.cloud.host_local_shares(call.fields["primaryStorageUuid"], call.fields.get("hostUuid"))
    inventories = [
        {
            "hostUuid": s.host_uuid,
            "totalCapacity": s.total,
            "availableCapacity": s.available,
            "totalPhysicalCapacity": s.total_physical,
            "availablePhysicalCapacity": s.available_physical,
        }
        for s in shares
    ]
    call.schema = {f"inventories[{i}]": HOST_DISK_CAPACITY_CLASS for i in range(len(inventories))}
    return {"inventories": inventories}


@api("LogInByUser")
def log_in_by_user(call: Call) -> dict:
    dialect = call.dialect
    f = call.fields
    session = sessions.log_in_user(
        dialect.state,
        f["userName"],
        f["password"],
        dialect.now(),
        dialect.new_uuid,
        account_name=f.get("accountName"),
        account_uuid=f.get("accountUuid"),
    )
    return {"inventory": sessions.session_inventory(session)}
