"""VM APIs: create, lifecycle, and the seed CloneVmInstance (§5.1, §6)."""

from __future__ import annotations

from typing import Any

from fakestack.model import StartPolicy
from fakestack.model.errors import DomainError, InvalidArgument

from ..kit.jobs import job_result
from .errors import error_from_domain, invalid_argument
from .query import schema_of
from .registry import Call, api
from .render import VM, vm_inventory

VM_RESOURCES = {"uuid": "vm"}

# ZStack's ``strategy`` of CreateVmInstance and CloneVmInstance -> the model's start policy.
START_STRATEGIES = {
    "InstantStart": StartPolicy.START,
    "JustCreate": StartPolicy.NONE,
    "CreateStopped": StartPolicy.STOPPED,
}


def start_policy(strategy: str | None) -> StartPolicy:
    """The start policy a ``strategy`` field names (InstantStart when absent)."""
    policy = START_STRATEGIES.get(strategy or "InstantStart")
    if policy is None:
        raise InvalidArgument("strategy", f"must be one of {', '.join(START_STRATEGIES)}")
    return policy


def provisioning_from_tags(*tag_lists) -> str | None:
    """``volumeProvisioningStrategy::ThinProvisioning|ThickProvisioning`` -> thin/thick."""
    for tags in tag_lists:
        for tag in tags or ():
            if not isinstance(tag, str):
                continue
            if tag == "volumeProvisioningStrategy::ThinProvisioning":
                return "thin"
            if tag == "volumeProvisioningStrategy::ThickProvisioning":
                return "thick"
    return None


def run_job(call: Call, operation: str, fn, *args, **kwargs) -> Any:
    """Run a model operation as a job; raise its error.  ZStack answers at once: the job
    is named in the call, and its end on the clock drives the 202 poll (``jobs``)."""
    job = call.cloud.submit(operation, fn, *args, **kwargs)
    call.model_job = job.uuid
    return job_result(job)


def inventory_reply(call: Call, inventory: dict, collection) -> dict:
    """The success body ``{"inventory": ...}`` of a single-resource API, and its schema."""
    call.defer_schema(lambda: schema_of(inventory, collection))
    return {"inventory": inventory}


def vm_reply(call: Call, vm) -> dict:
    return inventory_reply(call, vm_inventory(call.cloud, vm), VM)


@api(
    "CreateVmInstance",
    operation="create_vm",
    resources={
        "imageUuid": "image",
        "instanceOfferingUuid": "instance_offering",
        "l3NetworkUuids": "l3_network",
        "zoneUuid": "zone",
        "clusterUuid": "cluster",
        "hostUuid": "host",
        "primaryStorageUuidForRootVolume": "primary_storage",
        "dataDiskOfferingUuids": "disk_offering",
        "defaultL3NetworkUuid": "l3_network",
    },
)
def create_vm_instance(call: Call) -> dict:
    f = call.fields
    cloud = call.cloud
    l3 = list(f.get("l3NetworkUuids") or []) or None
    if l3 and f.get("defaultL3NetworkUuid") in l3:
        l3.remove(f["defaultL3NetworkUuid"])
        l3.insert(0, f["defaultL3NetworkUuid"])
    sizes = []
    for size in f.get("dataDiskSizes") or []:
        try:
            sizes.append(int(size))
        except (TypeError, ValueError):
            raise invalid_argument(
                f"field[dataDiskSizes] of message[{call.message_class}] must hold "
                f"sizes in bytes, but {size} found"
            ) from None
    vm = run_job(
        call,
        "vm.create",
        cloud.create_vm,
        f["name"],
        image=f.get("imageUuid"),
        instance_offering=f.get("instanceOfferingUuid"),
        cpu_num=f.get("cpuNum"),
        memory_size=f.get("memorySize"),
        l3_networks=l3,
        host=f.get("hostUuid"),
        cluster=f.get("clusterUuid"),
        zone=f.get("zoneUuid"),
        primary_storage=f.get("primaryStorageUuidForRootVolume"),
        data_disk_offerings=tuple(f.get("dataDiskOfferingUuids") or ()),
        data_disk_sizes=tuple(sizes),
        strategy=start_policy(f.get("strategy")),
        provisioning=provisioning_from_tags(f.get("rootVolumeSystemTags"), call.system_tags),
        description=f.get("description") or "",
        platform=f.get("platform"),
        resource_uuid=f.get("resourceUuid"),
    )
    return vm_reply(call, vm)


@api(
    "StartVmInstance",
    operation="start_vm",
    resources={"uuid": "vm", "hostUuid": "host", "clusterUuid": "cluster"},
)
def start_vm_instance(call: Call) -> dict:
    vm = run_job(call, "vm.start", call.cloud.start_vm, call.fields["uuid"], host=call.fields.get("hostUuid"))
    return vm_reply(call, vm)


@api("StopVmInstance", operation="stop_vm", resources=VM_RESOURCES)
def stop_vm_instance(call: Call) -> dict:
    return vm_reply(call, run_job(call, "vm.stop", call.cloud.stop_vm, call.fields["uuid"]))


@api("RebootVmInstance", operation="reboot_vm", resources=VM_RESOURCES)
def reboot_vm_instance(call: Call) -> dict:
    return vm_reply(call, run_job(call, "vm.reboot", call.cloud.reboot_vm, call.fields["uuid"]))


@api("DestroyVmInstance", operation="destroy_vm", resources=VM_RESOURCES, delete_if_missing="uuid")
def destroy_vm_instance(call: Call) -> dict:
    vm = call.cloud.vms.get(call.fields["uuid"])
    if vm.state == "Destroyed":
        return {}  # destroying a destroyed VM changes nothing
    run_job(call, "vm.destroy", call.cloud.destroy_vm, vm)
    return {}


@api("RecoverVmInstance", operation="recover_vm", resources=VM_RESOURCES)
def recover_vm_instance(call: Call) -> dict:
    return vm_reply(call, run_job(call, "vm.recover", call.cloud.recover_vm, call.fields["uuid"]))


@api("ExpungeVmInstance", operation="expunge_vm", resources=VM_RESOURCES)
def expunge_vm_instance(call: Call) -> dict:
    run_job(call, "vm.expunge", call.cloud.expunge_vm, call.fields["uuid"])
    return {}


# -- CloneVmInstance ---------------------------------------------------------------


@api(
    "CloneVmInstance",
    operation="clone_vm",
    resources={
        "vmInstanceUuid": "vm",
        "hostUuid": "host",
        "clusterUuid": "cluster",
        "primaryStorageUuidForRootVolume": "primary_storage",
        "primaryStorageUuidForDataVolume": "primary_storage",
    },
)
def clone_vm_instance(call: Call) -> dict:
    f = call.fields
    cloud = call.cloud
    for name in f["names"]:
        if not isinstance(name, str) or not name:
            raise invalid_argument(
                f"field[names] of message[{call.message_class}] must hold non-empty "
                f"strings, but {name!r} found"
            )
        if len(name) > 255:
            raise invalid_argument(
                f"field[names] of message[{call.message_class}] exceeds max length of "
                f"string. expected was <= 255, actual was {len(name)}"
            )
    source = cloud.vms.get(f["vmInstanceUuid"])
    root = cloud.volumes.by_uuid(source.root_volume_uuid)
    call.error_context = {
        "clusterUuid": f.get("clusterUuid"),
        "hostUuid": f.get("hostUuid"),
        "cpu": source.cpu_num,
        "memory": source.memory_size,
        "l3NetworkUuids": "[" + ", ".join(source.l3_network_uuids) + "]",
        "psUuid": root.primary_storage_uuid if root is not None else None,
    }
    result = run_job(
        call,
        "vm.clone",
        cloud.clone_vm,
        source,
        list(f["names"]),
        strategy=start_policy(f.get("strategy")),
        full=bool(f.get("full")),
        host=f.get("hostUuid"),
        cluster=f.get("clusterUuid"),
        primary_storage_for_root=f.get("primaryStorageUuidForRootVolume"),
        primary_storage_for_data=f.get("primaryStorageUuidForDataVolume"),
        provisioning=provisioning_from_tags(f.get("rootVolumeSystemTags"), call.system_tags),
    )
    entries: list[dict] = []
    for entry in result.entries:
        item: dict[str, Any] = {}
        if entry.vm is not None:
            item["inventory"] = vm_inventory(cloud, entry.vm)
        if entry.error is not None:
            item["error"] = entry_error(call, entry.error, started=entry.vm is not None)
        entries.append(item)
    call.defer_schema(lambda: clone_schema(entries))
    return {"result": {"numberOfClonedVm": result.number_of_cloned_vm, "inventories": entries}}


def clone_schema(entries: list[dict]) -> dict[str, str]:
    """The ``schema`` map of CloneVmInstance's result: each entry, and the VM in it."""
    schema: dict[str, str] = {"result": "org.zstack.header.vm.CloneVmInstanceResults"}
    for index, item in enumerate(entries):
        path = f"result.inventories[{index}]"
        schema[path] = "org.zstack.header.vm.CloneVmInstanceInventory"
        if "inventory" in item:
            schema.update(schema_of(item["inventory"], VM, f"{path}.inventory"))
    return schema


def entry_error(call: Call, error: DomainError, *, started: bool) -> dict:
    """One clone's error: a failed start is VM.1001 -> SYS.1006 -> cause; a failed create
    carries the create error as is."""
    operation = "clone_vm.start" if started else "clone_vm.create"
    return error_from_domain(error, operation=operation, message_class=call.message_class).to_dict()
