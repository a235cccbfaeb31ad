"""The VM service's create, relocate, register and unregister (issue 17; SDK 9.1 bindings)."""

from __future__ import annotations

from . import vm_specs
from .api_vcenter import (
    VM,
    _check_name_free,
    _check_vm_folder,
    _get,
    _get_vm,
    check_placement_agrees,
    resolve_placement,
    run_sync,
)
from .errors import VapiError, message, vapi_error
from .inventory import MiB, power_state
from .registry import operation
from .render import disk_entries, nic_keys, place_in_pool, vm_record
from .vapi_types import STRING, VOID

GiB = 1024 * MiB
DEFAULT_DISK_BYTES = 16 * GiB  # a disk created without a capacity (inferred; vSphere's default for Linux)
DEFAULT_CPU_COUNT = 1
DEFAULT_MEMORY_MIB = 1024
DEFAULT_VM_NAME = "Virtual machine"

# guest_OS -> guest family (com.vmware.vcenter.vm.GuestOSFamily); Linux distributions by name
LINUX_WORDS = (
    "LINUX",
    "CENTOS",
    "RHEL",
    "UBUNTU",
    "DEBIAN",
    "SLES",
    "SUSE",
    "FEDORA",
    "ORACLE",
    "ASIANUX",
    "ALMA",
    "ROCKY",
    "COREOS",
    "PHOTON",
    "MANDR",
    "TURBO",
    "AMAZON",
    "MIRACLE",
    "KYLIN",
    "CRXPOD",
)


def guest_family(guest_os: str) -> str:
    name = guest_os.upper()
    if name.startswith(("WINDOWS", "WIN")):
        return "WINDOWS"
    for prefix, family in (("DARWIN", "DARWIN"), ("SOLARIS", "SOLARIS"), ("NETWARE", "NETWARE")):
        if name.startswith(prefix):
            return family
    if any(word in name for word in LINUX_WORDS):
        return "LINUX"
    return "OTHER"


PLATFORMS = {"WINDOWS": "Windows", "LINUX": "Linux"}


def _missing(structure: str, field_name: str) -> VapiError:
    return VapiError("invalid_argument", [message("field_missing", structure, field_name)])


def _invalid(structure: str, field_name: str, reason: str) -> VapiError:
    return VapiError("invalid_argument", [message("field_invalid", structure, field_name, reason)])


def _placement(call, placement, *, need_datastore: bool, structure: str):
    """Resolve folder / resource pool / host / cluster / datastore and check they agree
    (reference §4.2 rows 6 and 10; disjoint -> invalid_argument)."""
    inv = call.inventory
    folder, pool_cluster, host, cluster, datastore = resolve_placement(call, placement)
    datastore_id = getattr(placement, "datastore", None)
    if need_datastore and datastore is None:
        raise _missing(structure, "datastore")
    check_placement_agrees(placement, host, cluster, pool_cluster)
    target_cluster = cluster or pool_cluster
    anchor = placement.host or placement.cluster or placement.resource_pool
    if datastore is not None:
        if host is not None and not inv.datastore_mounted_on(datastore, host):
            raise vapi_error("placement_disjoint", "datastore", datastore_id, placement.host)
        if target_cluster is not None and target_cluster.uuid not in datastore.cluster_uuids:
            raise vapi_error("placement_disjoint", "datastore", datastore_id, anchor)
    return folder, host, target_cluster, datastore


def _check_datastore_usable(datastore, moid: str) -> None:
    if not datastore.usable:
        raise vapi_error("datastore_inaccessible", moid)


# --- create --------------------------------------------------------------------------------


@operation(VM, "create", vm_specs.CreateInput, STRING)
def vm_create(call, inp):
    """A new VM from a spec: its disks are new and empty, it is powered off (reference:
    VM.create); placement admits on host memory and CPU and on datastore space."""
    spec = inp.spec
    cloud = call.cloud
    inv = call.inventory
    structure = vm_specs.PlacementSpec.vapi_name
    if spec.placement is None:
        raise _missing(vm_specs.CreateSpec.vapi_name, "placement")
    placement = spec.placement
    if placement.folder is None:
        raise _missing(structure, "folder")
    if not (placement.resource_pool or placement.host or placement.cluster):
        raise _missing(structure, "resource_pool")
    folder, host, cluster, datastore = _placement(call, placement, need_datastore=True, structure=structure)
    if inv.folder_kind(folder) != "vm_folder":
        raise vapi_error("placement_invalid", "folder", folder, "it is not a virtual machine folder")
    zone_uuid = inv.folder_zone(folder)
    if datastore.zone_uuid != zone_uuid:
        raise vapi_error("placement_disjoint", "datastore", placement.datastore, folder)
    for unsupported in (
        "cdroms",
        "floppies",
        "parallel_ports",
        "serial_ports",
        "sata_adapters",
        "nvme_adapters",
        "boot_devices",
    ):
        if getattr(spec, unsupported):
            raise vapi_error("unsupported", f"{unsupported} are not supported by this endpoint.")
    cpu = spec.cpu or vm_specs.CpuUpdateSpec()
    memory = spec.memory or vm_specs.MemoryUpdateSpec()
    count = cpu.count or DEFAULT_CPU_COUNT
    cores = cpu.cores_per_socket or 1
    if count % cores:
        raise _invalid(
            vm_specs.CpuUpdateSpec.vapi_name,
            "cores_per_socket",
            f"count {count} is not a multiple of cores_per_socket {cores}",
        )
    sizes = []
    for disk in spec.disks if spec.disks is not None else [vm_specs.DiskCreateSpec(new_vmdk={})]:
        if disk.new_vmdk is None:
            raise vapi_error(
                "unsupported",
                "disks backed by an existing file are attached with "
                "vm.hardware.Disk.create after the VM exists.",
            )
        sizes.append(disk.new_vmdk.capacity or DEFAULT_DISK_BYTES)
    if not sizes:
        raise _invalid(
            vm_specs.CreateSpec.vapi_name, "disks", "a VM of this endpoint needs at least one disk"
        )
    networks = []
    for nic in spec.nics or []:
        if nic.backing is None:
            raise _missing(vm_specs.NicCreateSpec.vapi_name, "backing")
        networks.append(_get(call, "network", nic.backing.network))
    name = spec.name or DEFAULT_VM_NAME
    _check_name_free(call, name, zone_uuid)
    _check_datastore_usable(datastore, placement.datastore)
    family = guest_family(spec.guest_OS)
    call.fault_point(name=name, host=host.uuid if host else None)
    vm = run_sync(
        call,
        "vm.create",
        cloud.create_blank_vm,
        name,
        cpu_num=count,
        memory_size=(memory.size_MiB or DEFAULT_MEMORY_MIB) * MiB,
        disk_sizes=sizes,
        l3_networks=[n.uuid for n in networks],
        zone=zone_uuid,
        host=host.uuid if host else None,
        cluster=cluster.uuid if cluster else None,
        primary_storage=datastore.uuid,
        platform=PLATFORMS.get(family, "Other"),
        guest_os_type=spec.guest_OS,
    )
    place_in_pool(call.state, vm.uuid, placement.resource_pool)
    record = vm_record(call.state, vm.uuid)
    record["guest_OS"] = spec.guest_OS
    if cores != 1:
        record["cores_per_socket"] = cores
    for flag, value in (
        ("cpu_hot_add", cpu.hot_add_enabled),
        ("cpu_hot_remove", cpu.hot_remove_enabled),
        ("memory_hot_add", memory.hot_add_enabled),
    ):
        if value:
            record[flag] = True
    if spec.hardware_version:
        record["hardware_version"] = spec.hardware_version
    if spec.boot is not None:
        record["boot"] = spec.boot.model_dump(exclude_none=True)
    nic_settings = {}
    for key, nic in zip(nic_keys(call.state, vm), spec.nics or []):
        settings = nic.model_dump(
            exclude_none=True, exclude={"backing", "pci_slot_number", "upt_v2_compatibility_enabled"}
        )
        if settings:
            nic_settings[key] = settings
    if nic_settings:
        record["nics"] = nic_settings
    return inv.moid("vm", vm.uuid)


# --- relocate ------------------------------------------------------------------------------


@operation(VM, "relocate", vm_specs.RelocateInput, VOID)
def vm_relocate(call, inp):
    """Move a VM to another host, cluster / resource pool, datastore, or all of them: host
    capacity and datastore space move with it (model ``relocate_vm``)."""
    vm = _get_vm(call, inp.vm)
    cloud = call.cloud
    inv = call.inventory
    spec = inp.spec
    placement = spec.placement or vm_specs.RelocatePlacementSpec()
    folder, host, cluster, datastore = _placement(
        call, placement, need_datastore=False, structure=vm_specs.RelocatePlacementSpec.vapi_name
    )
    current = inv.vm_host(vm)
    _check_vm_folder(call, folder, vm.zone_uuid, placement.host or inp.vm)
    keys = {key: uuid for key, uuid in disk_entries(call.state, cloud, vm)}
    volume_storages = {}
    for key, disk_spec in (spec.disks or {}).items():
        if key not in keys:
            raise vapi_error("device_not_found", inp.vm, "disk", key)
        if disk_spec.datastore is not None:
            store = _get(call, "datastore", disk_spec.datastore)
            _check_datastore_usable(store, disk_spec.datastore)
            volume_storages[keys[key]] = store.uuid
    if datastore is not None:
        _check_datastore_usable(datastore, placement.datastore)
    if vm.frozen:
        raise vapi_error("vm_frozen", inp.vm)
    if host is not None and host.status != "Connected":
        raise vapi_error("host_inaccessible", placement.host)
    call.subject = inp.vm
    call.fault_point(vm=vm.uuid, name=vm.name, host=current.uuid if current else None)
    run_sync(
        call,
        "vm.relocate",
        cloud.relocate_vm,
        vm.uuid,
        host=host.uuid if host else None,
        cluster=cluster.uuid if cluster and host is None else None,
        primary_storage=datastore.uuid if datastore else None,
        volume_storages=volume_storages,
    )
    place_in_pool(call.state, vm.uuid, placement.resource_pool)
    return None


# --- register / unregister -------------------------------------------------------------------


def vmx_path(cloud, inv, vm) -> tuple[str, str]:
    """``(datastore name, path)`` of the VM's configuration file: ``<name>/<name>.vmx`` on the
    datastore of its root disk."""
    store = inv.vm_datastore(vm)
    return (store.name if store else "unknown"), f"{vm.name}/{vm.name}.vmx"


@operation(VM, "unregister", vm_specs.VmSpecInput, VOID)
def vm_unregister(call, inp):
    """The VM leaves the inventory; its files (disks, configuration) stay on the datastore,
    holding their space, until ``register`` brings it back (under a new identifier)."""
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state != "POWERED_OFF":
        raise vapi_error("vm_power_state", inp.vm, state)
    cloud = call.cloud
    inv = call.inventory
    datastore, path = vmx_path(cloud, inv, vm)
    call.fault_point(vm=vm.uuid, name=vm.name)
    data = list(vm.data_volume_uuids)
    run_sync(call, "vm.destroy", cloud.destroy_vm, vm.uuid)
    call.state.setdefault("unregistered", {})[f"[{datastore}] {path}"] = {"vm": vm.uuid, "data": data}
    return None


def _split_datastore_path(text: str) -> tuple[str, str] | None:
    if not text.startswith("[") or "]" not in text:
        return None
    name, _, path = text[1:].partition("]")
    return name, path.strip()


@operation(VM, "register", vm_specs.RegisterInput, STRING)
def vm_register(call, inp):
    spec = inp.spec
    cloud = call.cloud
    inv = call.inventory
    if spec.datastore_path is not None:
        parts = _split_datastore_path(spec.datastore_path)
        if parts is None:
            raise _invalid(
                vm_specs.RegisterSpec.vapi_name, "datastore_path", "expected '[datastore] path/to/file.vmx'"
            )
        datastore_name, path = parts
    else:
        store = _get(call, "datastore", spec.datastore)
        datastore_name, path = store.name, spec.path
    full_path = f"[{datastore_name}] {path}"
    entry = call.state.get("unregistered", {}).get(full_path)
    vm = cloud.vms.find(entry["vm"]) if entry else None
    if vm is None or vm.state != "Destroyed":
        raise vapi_error("file_not_found", full_path)
    placement = spec.placement or vm_specs.RegisterPlacementSpec()
    folder, host, cluster, _ = _placement(
        call, placement, need_datastore=False, structure=vm_specs.RegisterPlacementSpec.vapi_name
    )
    _check_vm_folder(call, folder, vm.zone_uuid, placement.host or full_path)
    name = spec.name or vm.name
    _check_name_free(call, name, vm.zone_uuid)
    call.fault_point(vm=vm.uuid, name=name)

    def recover_and_reattach():
        with cloud.atomic():
            cloud.recover_vm(vm.uuid)
            for volume in entry["data"]:
                if cloud.volumes.find(volume) is not None and cloud.volumes.get(volume).vm_uuid is None:
                    cloud.attach_volume(volume, vm.uuid)
            if host is not None or cluster is not None:
                cloud.relocate_vm(
                    vm.uuid,
                    host=host.uuid if host else None,
                    cluster=cluster.uuid if cluster and host is None else None,
                )
            cloud.update_vm(vm.uuid, name=name)

    run_sync(call, "vm.recover", recover_and_reattach)
    del call.state["unregistered"][full_path]
    inv.forget("vm", vm.uuid)  # a registered VM is a new inventory object: a new identifier
    place_in_pool(call.state, vm.uuid, placement.resource_pool)
    return inv.moid("vm", vm.uuid)
