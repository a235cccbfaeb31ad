"""``com.vmware.vcenter.vm.hardware`` and its Cpu, Memory, Boot, Disk, Ethernet and Cdrom
services (issue 17).

What the model knows (CPU count, memory size, disks and their datastores, NICs and their
networks) changes through model operations, which admit on host and datastore capacity;
what it does not (hot-add flags, cores per socket, boot settings, hardware version, NIC
connection) lives in the VM's record of the dialect state.

Rules [inferred from the SDK's docstrings and vSphere's behaviour]: a powered-on VM grows
its CPU count only with CPU hot add enabled and shrinks it only with hot remove enabled,
grows its memory only with memory hot add enabled and never shrinks it, and keeps its
hot-add flags, cores per socket and firmware; a suspended VM changes nothing; growth of a
running VM is admitted on its host.  ``Disk.delete`` detaches the disk (its file stays on
the datastore, holding its space, and can be attached again by its path); the delta disk
of an instant clone and the boot disk cannot be removed.
"""

from __future__ import annotations

from . import vm_specs
from .api_vcenter import _get, _get_vm, run_sync
from .errors import VapiError, message, vapi_error
from .inventory import MiB, power_state
from .registry import operation
from .render import (
    BOOT_DEFAULTS,
    DISK_BASE,
    NIC_BASE,
    boot_info,
    cpu_info,
    disk_entries,
    disk_file,
    disk_info,
    hardware_info,
    keep_disk_file,
    memory_info,
    next_key,
    nic_entries,
    nic_info,
    pin_device_keys,
    read_vm_record,
    vm_record,
)
from .structures import (
    BOOT,
    CDROM_INFO,
    CDROM_SUMMARY,
    CPU,
    DISK,
    DISK_SUMMARY,
    HARDWARE,
    MEMORY,
    NIC,
    NIC_SUMMARY,
)
from .vapi_types import STRING, VOID, ListOf

HARDWARE_SERVICE = "com.vmware.vcenter.vm.hardware"
CPU_SERVICE = f"{HARDWARE_SERVICE}.cpu"
MEMORY_SERVICE = f"{HARDWARE_SERVICE}.memory"
BOOT_SERVICE = f"{HARDWARE_SERVICE}.boot"
DISK_SERVICE = f"{HARDWARE_SERVICE}.disk"
NIC_SERVICE = f"{HARDWARE_SERVICE}.ethernet"
CDROM_SERVICE = f"{HARDWARE_SERVICE}.cdrom"

LATEST_HARDWARE_VERSION = "VMX_22"  # the newest the 9.1 bindings name
DEFAULT_DISK_BYTES = 16 * 1024 * MiB


def _not_suspended(vm, moid: str) -> str:
    state = power_state(vm)
    if state == "SUSPENDED":
        raise vapi_error("vm_power_state", moid, state)
    return state


def _invalid(structure: str, field_name: str, reason: str) -> VapiError:
    return VapiError("invalid_argument", [message("field_invalid", structure, field_name, reason)])


# --- Hardware ----------------------------------------------------------------------------


@operation(HARDWARE_SERVICE, "get", vm_specs.VmSpecInput, HARDWARE)
def hardware_get(call, inp):
    vm = _get_vm(call, inp.vm)
    return hardware_info(read_vm_record(call.state, vm.uuid))


def _version(record: dict) -> str:
    return hardware_info(record)["version"]


@operation(HARDWARE_SERVICE, "update", vm_specs.HardwareUpdateInput, VOID)
def hardware_update(call, inp):
    """The upgrade policy: with a policy other than NEVER, ``upgrade_version`` (default the
    newest) is applied at the next power-on (status PENDING until then, SUCCESS after:
    ``api_vcenter.apply_scheduled_upgrade``)."""
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    record = read_vm_record(call.state, vm.uuid)
    policy = spec.upgrade_policy or record.get("upgrade_policy", "NEVER")
    target = spec.upgrade_version or record.get("upgrade_version") or LATEST_HARDWARE_VERSION
    if policy == "NEVER" and spec.upgrade_version is not None:
        raise _invalid(
            vm_specs.HardwareUpdateSpec.vapi_name,
            "upgrade_version",
            "an upgrade version needs an upgrade policy other than NEVER",
        )
    if policy != "NEVER" and vm_specs.version_number(target) <= vm_specs.version_number(_version(record)):
        raise _invalid(
            vm_specs.HardwareUpdateSpec.vapi_name,
            "upgrade_version",
            f"{target} is not newer than the virtual machine's {_version(record)}",
        )
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = vm_record(call.state, vm.uuid)
    record["upgrade_policy"] = policy
    if policy == "NEVER":
        record.pop("upgrade_version", None)
        record["upgrade_status"] = "NONE"
    else:
        record["upgrade_version"] = target
        record["upgrade_status"] = "PENDING"
    return None


@operation(HARDWARE_SERVICE, "upgrade", vm_specs.UpgradeInput, VOID)
def hardware_upgrade(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state != "POWERED_OFF":
        raise vapi_error("vm_power_state", inp.vm, state)
    record = read_vm_record(call.state, vm.uuid)
    target = inp.version or LATEST_HARDWARE_VERSION
    current = _version(record)
    if target == current:
        raise vapi_error("hardware_version", inp.vm, current)
    if vm_specs.version_number(target) < vm_specs.version_number(current):
        raise _invalid(
            "operation-input", "version", f"{target} is older than the virtual machine's {current}"
        )
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = vm_record(call.state, vm.uuid)
    record["hardware_version"] = target
    record["upgrade_status"] = "NONE"
    record["upgrade_policy"] = "NEVER"
    record.pop("upgrade_version", None)
    return None


# --- Cpu and Memory -------------------------------------------------------------------------


@operation(CPU_SERVICE, "get", vm_specs.VmSpecInput, CPU)
def cpu_get(call, inp):
    vm = _get_vm(call, inp.vm)
    return cpu_info(read_vm_record(call.state, vm.uuid), vm)


@operation(CPU_SERVICE, "update", vm_specs.CpuUpdateInput, VOID)
def cpu_update(call, inp):
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    state = _not_suspended(vm, inp.vm)
    current = cpu_info(read_vm_record(call.state, vm.uuid), vm)
    count = spec.count if spec.count is not None else current["count"]
    cores = spec.cores_per_socket if spec.cores_per_socket is not None else current["cores_per_socket"]
    if count % cores:
        raise _invalid(
            vm_specs.CpuUpdateSpec.vapi_name,
            "cores_per_socket",
            f"count {count} is not a multiple of cores_per_socket {cores}",
        )
    if state == "POWERED_ON":
        for name, field in (
            ("hot_add_enabled", "CPU hot add"),
            ("hot_remove_enabled", "CPU hot remove"),
            ("cores_per_socket", "cores per socket"),
        ):
            value = getattr(spec, name)
            if value is not None and value != current[name]:
                raise vapi_error("powered_on_change", inp.vm, f"{field} cannot change")
        if count > current["count"] and not current["hot_add_enabled"]:
            raise vapi_error("powered_on_change", inp.vm, "CPU hot add is not enabled")
        if count < current["count"] and not current["hot_remove_enabled"]:
            raise vapi_error("powered_on_change", inp.vm, "CPU hot remove is not enabled")
    call.fault_point(vm=vm.uuid, name=vm.name, host=vm.host_uuid)
    if count != vm.cpu_num:
        run_sync(call, "vm.resize", call.cloud.resize_vm, vm.uuid, cpu_num=count)
    record = vm_record(call.state, vm.uuid)
    record["cores_per_socket"] = cores
    for name, key in (("hot_add_enabled", "cpu_hot_add"), ("hot_remove_enabled", "cpu_hot_remove")):
        value = getattr(spec, name)
        if value is not None:
            record[key] = value
    return None


@operation(MEMORY_SERVICE, "get", vm_specs.VmSpecInput, MEMORY)
def memory_get(call, inp):
    vm = _get_vm(call, inp.vm)
    return memory_info(read_vm_record(call.state, vm.uuid), vm)


@operation(MEMORY_SERVICE, "update", vm_specs.MemoryUpdateInput, VOID)
def memory_update(call, inp):
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    state = _not_suspended(vm, inp.vm)
    current = memory_info(read_vm_record(call.state, vm.uuid), vm)
    size = spec.size_MiB if spec.size_MiB is not None else current["size_MiB"]
    if state == "POWERED_ON":
        if spec.hot_add_enabled is not None and spec.hot_add_enabled != current["hot_add_enabled"]:
            raise vapi_error("powered_on_change", inp.vm, "memory hot add cannot change")
        if size > current["size_MiB"] and not current["hot_add_enabled"]:
            raise vapi_error("powered_on_change", inp.vm, "memory hot add is not enabled")
        if size < current["size_MiB"]:
            raise vapi_error("powered_on_change", inp.vm, "memory cannot shrink")
    call.fault_point(vm=vm.uuid, name=vm.name, host=vm.host_uuid)
    if size * MiB != vm.memory_size:
        run_sync(call, "vm.resize", call.cloud.resize_vm, vm.uuid, memory_size=size * MiB)
    if spec.hot_add_enabled is not None:
        vm_record(call.state, vm.uuid)["memory_hot_add"] = spec.hot_add_enabled
    return None


# --- Boot ------------------------------------------------------------------------------------


@operation(BOOT_SERVICE, "get", vm_specs.VmSpecInput, BOOT)
def boot_get(call, inp):
    vm = _get_vm(call, inp.vm)
    return boot_info(read_vm_record(call.state, vm.uuid))


@operation(BOOT_SERVICE, "update", vm_specs.BootUpdateInput, VOID)
def boot_update(call, inp):
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    current = boot_info(read_vm_record(call.state, vm.uuid))
    if spec.type is not None and spec.type != current["type"] and power_state(vm) != "POWERED_OFF":
        raise vapi_error("powered_on_change", inp.vm, "the firmware cannot change")
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = vm_record(call.state, vm.uuid)
    boot = dict(record.get("boot", {}))
    boot.update(spec.model_dump(exclude_none=True))
    record["boot"] = {k: v for k, v in boot.items() if BOOT_DEFAULTS.get(k, object()) != v}
    return None


# --- Disk --------------------------------------------------------------------------------------


def _disk(call, vm, moid: str, key: str):
    for entry_key, uuid in disk_entries(call.state, call.cloud, vm):
        if entry_key == key:
            return call.cloud.volumes.get(uuid)
    raise vapi_error("device_missing", moid, "disk", key)


@operation(DISK_SERVICE, "list", vm_specs.VmSpecInput, ListOf(DISK_SUMMARY))
def disk_list(call, inp):
    vm = _get_vm(call, inp.vm)
    return [{"disk": key} for key, _ in disk_entries(call.state, call.cloud, vm)]


@operation(DISK_SERVICE, "get", vm_specs.DiskInput, DISK)
def disk_get(call, inp):
    vm = _get_vm(call, inp.vm)
    return disk_info(call.inventory, vm, inp.disk, _disk(call, vm, inp.vm, inp.disk))


@operation(DISK_SERVICE, "create", vm_specs.DiskCreateInput, STRING)
def disk_create(call, inp):
    """A new empty disk on the VM's datastore (admitted on its space), or a detached disk
    attached again by its file path."""
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    _not_suspended(vm, inp.vm)
    cloud = call.cloud
    inv = call.inventory
    keys = [key for key, _ in disk_entries(call.state, cloud, vm)]
    if spec.scsi is not None and spec.scsi.bus != 0:
        raise _invalid(vm_specs.ScsiAddressSpec.vapi_name, "bus", "the VM has one SCSI controller, bus 0")
    key = next_key(keys, DISK_BASE)
    detached = call.state.get("detached_disks", {})
    if spec.backing is not None:
        volume_uuid = detached.get(spec.backing.vmdk_file)
        if volume_uuid is None or cloud.volumes.find(volume_uuid) is None:
            raise vapi_error("file_not_found", spec.backing.vmdk_file)
        datastore = cloud.primary_storages.get(cloud.volumes.get(volume_uuid).primary_storage_uuid)
    else:
        datastore = inv.vm_datastore(vm)
    if datastore is not None and not datastore.usable:
        raise vapi_error("datastore_inaccessible", inv.moid("datastore", datastore.uuid))
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = pin_device_keys(call.state, cloud, vm)
    if spec.backing is not None:
        volume = run_sync(call, "volume.attach", cloud.attach_volume, volume_uuid, vm.uuid)
        del detached[spec.backing.vmdk_file]
    else:
        size = spec.new_vmdk.capacity or DEFAULT_DISK_BYTES
        volume = run_sync(call, "vm.add_disk", cloud.add_disk, vm.uuid, size)
    record["disk_keys"][volume.uuid] = key
    if spec.backing is not None:
        keep_disk_file(call.state, vm.uuid, volume.uuid, spec.backing.vmdk_file)
    return key


@operation(DISK_SERVICE, "update", vm_specs.DiskUpdateInput, VOID)
def disk_update(call, inp):
    """Change a data disk's backing to a detached disk file (powered off only); the disk it
    had is detached in turn."""
    vm = _get_vm(call, inp.vm)
    cloud = call.cloud
    current = _disk(call, vm, inp.vm, inp.disk)
    backing = inp.spec.backing
    if backing is None:
        return None
    current_path = disk_file(call.state, cloud, vm, current, inp.disk)
    if backing.vmdk_file == current_path:
        return None
    state = power_state(vm)
    if state != "POWERED_OFF":
        raise vapi_error("vm_power_state", inp.vm, state)
    if current.uuid == vm.root_volume_uuid:
        raise vapi_error("unsupported", "The boot disk's backing cannot be changed by this endpoint.")
    detached = call.state.setdefault("detached_disks", {})
    replacement = detached.get(backing.vmdk_file)
    if replacement is None or cloud.volumes.find(replacement) is None:
        raise vapi_error("file_not_found", backing.vmdk_file)
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = pin_device_keys(call.state, cloud, vm)

    def swap():
        with cloud.atomic():
            cloud.detach_volume(current.uuid)
            return cloud.attach_volume(replacement, vm.uuid)

    run_sync(call, "volume.attach", swap)
    del detached[backing.vmdk_file]
    detached[current_path] = current.uuid
    record["disk_keys"].pop(current.uuid, None)
    record["disk_keys"][replacement] = inp.disk
    record.get("disk_files", {}).pop(current.uuid, None)
    keep_disk_file(call.state, vm.uuid, replacement, backing.vmdk_file)
    return None


@operation(DISK_SERVICE, "delete", vm_specs.DiskInput, VOID)
def disk_delete(call, inp):
    vm = _get_vm(call, inp.vm)
    cloud = call.cloud
    volume = _disk(call, vm, inp.vm, inp.disk)
    _not_suspended(vm, inp.vm)
    if cloud.volume_is_delta(volume.uuid):
        raise vapi_error("delta_disk", inp.vm, inp.disk)
    if volume.uuid == vm.root_volume_uuid:
        raise vapi_error("unsupported", "The boot disk cannot be removed by this endpoint.")
    path = disk_file(call.state, cloud, vm, volume, inp.disk)
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = pin_device_keys(call.state, cloud, vm)
    run_sync(call, "volume.detach", cloud.detach_volume, volume.uuid)
    record["disk_keys"].pop(volume.uuid, None)
    record.get("disk_files", {}).pop(volume.uuid, None)
    call.state.setdefault("detached_disks", {})[path] = volume.uuid
    return None


# --- Ethernet ----------------------------------------------------------------------------------


def _nic(call, vm, moid: str, key: str) -> str:
    for entry_key, uuid in nic_entries(call.state, vm):
        if entry_key == key:
            return uuid
    raise vapi_error("device_missing", moid, "network adapter", key)


NIC_SETTINGS = (
    "type",
    "upt_compatibility_enabled",
    "mac_type",
    "mac_address",
    "wake_on_lan_enabled",
    "start_connected",
    "allow_guest_control",
)


@operation(NIC_SERVICE, "list", vm_specs.VmSpecInput, ListOf(NIC_SUMMARY))
def nic_list(call, inp):
    vm = _get_vm(call, inp.vm)
    return [{"nic": key} for key, _ in nic_entries(call.state, vm)]


@operation(NIC_SERVICE, "get", vm_specs.NicInput, NIC)
def nic_get(call, inp):
    vm = _get_vm(call, inp.vm)
    return nic_info(call.inventory, vm, inp.nic, _nic(call, vm, inp.vm, inp.nic))


@operation(NIC_SERVICE, "create", vm_specs.NicCreateInput, STRING)
def nic_create(call, inp):
    """A new NIC on an existing network (its address allocated there).  Unless
    ``start_connected``, it is not connected, as vSphere's default."""
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    _not_suspended(vm, inp.vm)
    if spec.backing is None:
        raise VapiError(
            "invalid_argument", [message("field_missing", vm_specs.NicCreateSpec.vapi_name, "backing")]
        )
    network = _get(call, "network", spec.backing.network)
    key = next_key([k for k, _ in nic_entries(call.state, vm)], NIC_BASE)
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = pin_device_keys(call.state, call.cloud, vm)
    nic = run_sync(call, "vm.add_nic", call.cloud.add_nic, vm.uuid, network.uuid)
    record["nic_keys"][nic.uuid] = key
    settings = {name: getattr(spec, name) for name in NIC_SETTINGS if getattr(spec, name) is not None}
    settings.setdefault("start_connected", False)
    settings["connected"] = settings["start_connected"]
    record.setdefault("nics", {})[key] = settings
    return key


@operation(NIC_SERVICE, "update", vm_specs.NicUpdateInput, VOID)
def nic_update(call, inp):
    vm = _get_vm(call, inp.vm)
    spec = inp.spec
    nic_uuid = _nic(call, vm, inp.vm, inp.nic)
    _not_suspended(vm, inp.vm)
    network = _get(call, "network", spec.backing.network) if spec.backing is not None else None
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = pin_device_keys(call.state, call.cloud, vm)
    if network is not None:
        moved = run_sync(call, "vm.move_nic", call.cloud.move_nic, vm.uuid, nic_uuid, network.uuid)
        if moved.uuid != nic_uuid:
            record["nic_keys"].pop(nic_uuid, None)
            record["nic_keys"][moved.uuid] = inp.nic
        record.setdefault("nics", {}).setdefault(inp.nic, {}).pop("network_uuid", None)
    settings = record.setdefault("nics", {}).setdefault(inp.nic, {})
    for name in NIC_SETTINGS:
        value = getattr(spec, name, None)
        if value is not None:
            settings[name] = value
    if spec.mac_type in ("GENERATED", "ASSIGNED") and spec.mac_address is None:
        settings.pop("mac_address", None)
    return None


@operation(NIC_SERVICE, "delete", vm_specs.NicInput, VOID)
def nic_delete(call, inp):
    vm = _get_vm(call, inp.vm)
    nic_uuid = _nic(call, vm, inp.vm, inp.nic)
    _not_suspended(vm, inp.vm)
    call.fault_point(vm=vm.uuid, name=vm.name)
    record = pin_device_keys(call.state, call.cloud, vm)
    run_sync(call, "vm.remove_nic", call.cloud.remove_nic, vm.uuid, nic_uuid)
    record["nic_keys"].pop(nic_uuid, None)
    record.get("nics", {}).pop(inp.nic, None)
    return None


def _set_connected(call, inp, connected: bool) -> None:
    vm = _get_vm(call, inp.vm)
    _nic(call, vm, inp.vm, inp.nic)
    state = power_state(vm)
    if state != "POWERED_ON":
        raise vapi_error("vm_power_state", inp.vm, state)
    settings = read_vm_record(call.state, vm.uuid).get("nics", {}).get(inp.nic, {})
    if settings.get("connected", True) == connected:
        raise vapi_error(
            "device_already", inp.vm, "network adapter", inp.nic, "connected" if connected else "disconnected"
        )
    call.fault_point(vm=vm.uuid, name=vm.name)
    vm_record(call.state, vm.uuid).setdefault("nics", {}).setdefault(inp.nic, {})["connected"] = connected


@operation(NIC_SERVICE, "connect", vm_specs.NicInput, VOID)
def nic_connect(call, inp):
    _set_connected(call, inp, True)
    return None


@operation(NIC_SERVICE, "disconnect", vm_specs.NicInput, VOID)
def nic_disconnect(call, inp):
    _set_connected(call, inp, False)
    return None


# --- Cdrom (the fake's VMs have none) --------------------------------------------------------


@operation(CDROM_SERVICE, "list", vm_specs.VmSpecInput, ListOf(CDROM_SUMMARY))
def cdrom_list(call, inp):
    _get_vm(call, inp.vm)
    return []


@operation(CDROM_SERVICE, "get", vm_specs.CdromInput, CDROM_INFO)
def cdrom_get(call, inp):
    _get_vm(call, inp.vm)
    raise vapi_error("device_missing", inp.vm, "CD-ROM drive", inp.cdrom)
