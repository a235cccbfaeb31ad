"""VM change APIs: UpdateVmInstance, ChangeInstanceOffering, MigrateVm and its candidate
hosts, Pause/Resume, ReimageVmInstance, L3 networks and NICs, SetVmBootOrder (issue 16,
group 1)."""

from __future__ import annotations

from .api_vm import inventory_reply, run_job, vm_reply
from .errors import invalid_argument
from .query import schema_for
from .registry import Call, api
from .render import HOST, NIC, host_inventory, nic_inventory


@api(
    "UpdateVmInstance", operation="update_vm", resources={"uuid": "vm", "defaultL3NetworkUuid": "l3_network"}
)
def update_vm_instance(call: Call) -> dict:
    f = call.fields
    vm = run_job(
        call,
        "vm.update",
        call.cloud.update_vm,
        f["uuid"],
        name=f.get("name"),
        description=f.get("description"),
        platform=f.get("platform"),
        guest_os_type=f.get("guestOsType"),
        cpu_num=f.get("cpuNum"),
        memory_size=f.get("memorySize"),
        default_l3_network=f.get("defaultL3NetworkUuid"),
        state=f.get("state"),
    )
    return vm_reply(call, vm)


@api(
    "ChangeInstanceOffering",
    operation="change_vm_offering",
    resources={"vmInstanceUuid": "vm", "instanceOfferingUuid": "instance_offering"},
)
def change_instance_offering(call: Call) -> dict:
    f = call.fields
    vm = run_job(
        call,
        "vm.change_offering",
        call.cloud.change_vm_offering,
        f["vmInstanceUuid"],
        f["instanceOfferingUuid"],
    )
    return vm_reply(call, vm)


@api("MigrateVm", operation="migrate_vm", resources={"vmInstanceUuid": "vm", "hostUuid": "host"})
def migrate_vm(call: Call) -> dict:
    f = call.fields
    vm = call.cloud.vms.get(f["vmInstanceUuid"])
    call.error_context = {"cpu": vm.cpu_num, "memory": vm.memory_size}
    vm = run_job(call, "vm.migrate", call.cloud.migrate_vm, vm, host=f.get("hostUuid"))
    return vm_reply(call, vm)


@api("GetVmMigrationCandidateHosts", operation="migrate_vm", resources={"vmInstanceUuid": "vm"})
def get_vm_migration_candidate_hosts(call: Call) -> dict:
    hosts = call.cloud.migration_candidates(call.fields["vmInstanceUuid"])
    inventories = [host_inventory(call.cloud, h) for h in hosts]
    call.schema = schema_for(inventories, HOST)
    return {"inventories": inventories}


@api("PauseVmInstance", operation="pause_vm", resources={"uuid": "vm"})
def pause_vm_instance(call: Call) -> dict:
    return vm_reply(call, run_job(call, "vm.pause", call.cloud.pause_vm, call.fields["uuid"]))


@api("ResumeVmInstance", operation="resume_vm", resources={"uuid": "vm"})
def resume_vm_instance(call: Call) -> dict:
    return vm_reply(call, run_job(call, "vm.resume", call.cloud.resume_vm, call.fields["uuid"]))


@api("ReimageVmInstance", operation="reimage_vm", resources={"vmInstanceUuid": "vm"})
def reimage_vm_instance(call: Call) -> dict:
    cloud = call.cloud
    vm = cloud.vms.get(call.fields["vmInstanceUuid"])
    root = cloud.volumes.by_uuid(vm.root_volume_uuid)
    call.error_context = {
        "rootVolumeUuid": vm.root_volume_uuid,
        "imageUuid": vm.image_uuid or (root.root_image_uuid if root is not None else None),
    }
    return vm_reply(call, run_job(call, "vm.reimage", cloud.reimage_vm, vm))


@api(
    "AttachL3NetworkToVm",
    operation="attach_l3_network",
    resources={"vmInstanceUuid": "vm", "l3NetworkUuid": "l3_network"},
)
def attach_l3_network_to_vm(call: Call) -> dict:
    f = call.fields
    vm = run_job(
        call,
        "vm.attach_network",
        call.cloud.attach_l3_network,
        f["vmInstanceUuid"],
        f["l3NetworkUuid"],
        ip=f.get("staticIp"),
    )
    return vm_reply(call, vm)


@api("DetachL3NetworkFromVm", operation="detach_l3_network", resources={"vmNicUuid": "nic"})
def detach_l3_network_from_vm(call: Call) -> dict:
    vm = run_job(call, "vm.detach_network", call.cloud.detach_nic, call.fields["vmNicUuid"])
    if vm is None:
        return {}
    return vm_reply(call, vm)


@api("CreateVmNic", operation="create_nic", resources={"l3NetworkUuid": "l3_network"})
def create_vm_nic(call: Call) -> dict:
    f = call.fields
    nic = run_job(
        call,
        "nic.create",
        call.cloud.create_nic,
        f["l3NetworkUuid"],
        ip=f.get("ip"),
        resource_uuid=f.get("resourceUuid"),
    )
    return inventory_reply(call, nic_inventory(call.cloud, nic), NIC)


BOOT_DEVICES = ("HardDisk", "CdRom", "Network")


@api("SetVmBootOrder", operation="set_vm_boot_order", resources={"uuid": "vm"})
def set_vm_boot_order(call: Call) -> dict:
    """The boot order is a system tag of the VM (``bootOrder::HardDisk,CdRom``), as in
    ZStack: no boot order removes it; ``bootOrderOnce::true`` among the system tags marks it
    for the next boot only.  The tags show in ``__systemTag__`` queries."""
    vm = call.cloud.vms.get(call.fields["uuid"])
    order = call.fields.get("bootOrder")
    if order is not None:
        for device in order:
            if device not in BOOT_DEVICES:
                raise invalid_argument(
                    f"invalid boot device[{device}] in boot order[{', '.join(map(str, order))}]"
                )
    tags = call.dialect.state.setdefault("tags", {}).setdefault(vm.uuid, {"system": [], "user": []})
    kept = [t for t in tags["system"] if not t.startswith(("bootOrder::", "bootOrderOnce::"))]
    if order is not None:
        kept.append("bootOrder::" + ",".join(dict.fromkeys(order)))
    if "bootOrderOnce::true" in call.system_tags:
        kept.append("bootOrderOnce::true")
    tags["system"] = kept
    return vm_reply(call, vm)
