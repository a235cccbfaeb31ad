"""``VM.Info`` of a model VM (reference §5 hardware defaults, §6.2 shape), and vAPI's JSON.

Identity and NIC settings the model does not know (BIOS / instance UUIDs, NIC connection
state, MAC type) are kept per VM in the dialect state under ``vms``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..kit.responses import JsonStyle
from .inventory import Inventory, MiB, derived_uuid, moid_number, power_state

# vAPI JSON: compact, ASCII escapes (what the REST and JSON-RPC endpoints send).
VSPHERE_JSON = JsonStyle(separators=(",", ":"), ensure_ascii=True)
SCSI_CONTROLLER_UNIT = 7


def vm_record(state: dict, vm_uuid: str) -> dict:
    """The VM's record, created if need be (to write in)."""
    return state.setdefault("vms", {}).setdefault(vm_uuid, {})


def place_in_pool(state: dict, vm_uuid: str, pool: str | None) -> None:
    """Remember the pool a VM was placed in when it is one created through the API (the
    root pools need no record: a VM is in its cluster's root pool by default)."""
    if pool is not None and pool in state.get("pools", {}):
        vm_record(state, vm_uuid)["pool"] = pool
    elif pool is not None:
        state.get("vms", {}).get(vm_uuid, {}).pop("pool", None)


def read_vm_record(state: dict, vm_uuid: str) -> dict:
    """The VM's record, or an empty one (reading leaves the state as it is)."""
    return state.get("vms", {}).get(vm_uuid, {})


def identity(inventory: Inventory, vm) -> dict[str, str]:
    """A BIOS UUID given at clone time, else both UUIDs derived from the seed and the VM's
    number (so they are not stored)."""
    record = read_vm_record(inventory.state, vm.uuid)
    number = moid_number(inventory.moid("vm", vm.uuid))
    seed = inventory.cloud.seed
    return {
        "name": vm.name,
        "bios_uuid": record.get("bios_uuid") or derived_uuid(seed, "bios", number, "42"),
        "instance_uuid": record.get("instance_uuid") or derived_uuid(seed, "instance", number, "50"),
    }


def guest_os(vm, record: dict | None = None) -> str:
    if record and record.get("guest_OS"):
        return record["guest_OS"]  # as given at creation
    platform = (vm.platform or "").lower()
    if platform == "linux":
        return "OTHER_LINUX_64"
    if platform == "windows":
        return "WINDOWS_9_SERVER_64"
    return "OTHER_64"


def vmware_mac(model_mac: str) -> str:
    """The model's MAC keeps its last three octets behind VMware's ``00:50:56`` prefix."""
    return "00:50:56:" + ":".join(model_mac.split(":")[-3:])


def _delta_level(cloud, node_uuid: str | None) -> int:
    if node_uuid is None:
        return 0
    chain = cloud.chain(cloud.nodes.get(node_uuid))
    base = chain[-1] if chain and chain[-1].parent_uuid is None else None
    levels = len(chain) - 1
    if base is not None and base.role == "image-cache":
        levels -= 1  # the image cache is shared: the VM's own base disk sits on it
    return max(levels, 0)


def vmdk_path(cloud, vm, volume, index: int = 0) -> str:
    ps = cloud.primary_storages.find(volume.primary_storage_uuid) if volume.primary_storage_uuid else None
    datastore = ps.name if ps is not None else "unknown"
    level = _delta_level(cloud, volume.node_uuid)
    disk = f"_{index}" if index else ""  # second and later disks: <vm>_1.vmdk, ...
    suffix = f"-{level:06d}" if level else ""
    return f"[{datastore}] {vm.name}/{vm.name}{disk}{suffix}.vmdk"


def disk_file(state: dict, cloud, vm, volume, key: str) -> str:
    """The disk's file: where ``vmdk_path`` puts it, or, for a detached disk attached again,
    the file it had (on the datastore it is on now)."""
    path = vmdk_path(cloud, vm, volume, int(key) - DISK_BASE)
    kept = read_vm_record(state, vm.uuid).get("disk_files", {}).get(volume.uuid)
    return path if kept is None else path[: path.index("] ") + 2] + kept


def keep_disk_file(state: dict, vm_uuid: str, volume_uuid: str, path: str) -> None:
    """Remember the file a disk attached again by its path keeps (the part after ``] ``)."""
    vm_record(state, vm_uuid).setdefault("disk_files", {})[volume_uuid] = path.split("] ", 1)[-1]


# --- the guest's boot time (api_vm_guest) -----------------------------------------------


def booted_at(state: dict, vm) -> float:
    """When the guest last started: the model's last power operation, unless the VM was
    resumed from another's memory (instant clone) and has not restarted since."""
    resumed = read_vm_record(state, vm.uuid).get("resumed")
    if resumed and resumed["at"] == vm.last_op_date:
        return resumed["booted_at"]
    return vm.last_op_date


def mark_resumed(state: dict, source, clone) -> None:
    """An instant clone's guest is its source's, already running (see ``booted_at``)."""
    vm_record(state, clone.uuid)["resumed"] = {
        "at": clone.last_op_date,
        "booted_at": booted_at(state, source),
    }


# --- device keys -----------------------------------------------------------------------
# Device keys are stable (vSphere's device keys): disks 2000 + n, NICs 4000 + n, in the
# model's order until a device is added or removed through this dialect; then every key of
# the VM is written down in its record (``disk_keys`` / ``nic_keys``: model uuid -> key).

DISK_BASE, NIC_BASE = 2000, 4000


def _entries(state: dict, vm, kind: str, base: int, uuids: list[str]) -> list[tuple[str, str]]:
    pinned = read_vm_record(state, vm.uuid).get(kind) or {}
    return [(pinned.get(uuid) or str(base + index), uuid) for index, uuid in enumerate(uuids)]


def disk_entries(state: dict, cloud, vm) -> list[tuple[str, str]]:
    """``(key, volume uuid)`` of the VM's disks: root first, then data disks."""
    uuids = [vol.uuid for vol in cloud.vm_volumes(vm)]
    return _entries(state, vm, "disk_keys", DISK_BASE, uuids)


def nic_entries(state: dict, vm) -> list[tuple[str, str]]:
    """``(key, nic uuid)`` of the VM's NICs, in the model's order."""
    return _entries(state, vm, "nic_keys", NIC_BASE, list(vm.nic_uuids))


def nic_keys(state: dict, vm) -> list[str]:
    return [key for key, _ in nic_entries(state, vm)]


def pin_device_keys(state: dict, cloud, vm) -> dict:
    """Write down the VM's current device keys before its devices change; returns its record."""
    record = vm_record(state, vm.uuid)
    record["disk_keys"] = dict((uuid, key) for key, uuid in disk_entries(state, cloud, vm))
    record["nic_keys"] = dict((uuid, key) for key, uuid in nic_entries(state, vm))
    return record


def next_key(keys, base: int) -> str:
    return str(max([int(k) for k in keys] + [base - 1]) + 1)


# Hardware settings a clone copies from its source.
CLONED_SETTINGS = (
    "guest_OS",
    "cores_per_socket",
    "cpu_hot_add",
    "cpu_hot_remove",
    "memory_hot_add",
    "boot",
    "hardware_version",
    "upgrade_policy",
    "upgrade_version",
)


def copy_device_keys(state: dict, cloud, source, clone) -> None:
    """A clone's devices keep the keys of the source devices they copy (same order), and
    the clone has the source's hardware settings."""
    record = read_vm_record(state, source.uuid)
    settings = {k: copy.deepcopy(record[k]) for k in CLONED_SETTINGS if k in record}
    if settings:
        vm_record(state, clone.uuid).update(settings)
    if "disk_keys" not in record and "nic_keys" not in record:
        return
    target = vm_record(state, clone.uuid)
    disks_of_source = [key for key, _ in disk_entries(state, cloud, source)]
    target["disk_keys"] = {vol.uuid: key for vol, key in zip(cloud.vm_volumes(clone), disks_of_source)}
    target["nic_keys"] = {uuid: key for uuid, key in zip(clone.nic_uuids, nic_keys(state, source))}


def _unit(key: str) -> int:
    """SCSI unit of disk ``key`` (unit 7 is the controller's)."""
    index = int(key) - DISK_BASE
    return index if index < SCSI_CONTROLLER_UNIT else index + 1


def disk_info(inventory: Inventory, vm, key: str, volume) -> dict:
    index = int(key) - DISK_BASE
    return {
        "label": f"Hard disk {index + 1}",
        "type": "SCSI",
        "scsi": {"bus": 0, "unit": _unit(key)},
        "backing": {
            "type": "VMDK_FILE",
            "vmdk_file": disk_file(inventory.state, inventory.cloud, vm, volume, key),
        },
        "capacity": volume.virtual_size,
    }


def disks(inventory: Inventory, vm) -> dict[str, dict]:
    cloud = inventory.cloud
    return {
        key: disk_info(inventory, vm, key, cloud.volumes.get(uuid))
        for key, uuid in disk_entries(inventory.state, cloud, vm)
    }


def nic_info(inventory: Inventory, vm, key: str, nic_uuid: str) -> dict:
    cloud = inventory.cloud
    over = read_vm_record(inventory.state, vm.uuid).get("nics", {}).get(key, {})
    nic = cloud.nics.get(nic_uuid)
    index = int(key) - NIC_BASE
    network_uuid = over.get("network_uuid", nic.l3_network_uuid)
    network = cloud.l3_networks.find(network_uuid)
    on = power_state(vm) == "POWERED_ON"
    emulation = over.get("type", "VMXNET3")
    return {
        "label": f"Network adapter {index + 1}",
        "type": emulation,
        # the SDK's union: only a VMXNET3 adapter has (and must have) this field
        "upt_compatibility_enabled": (
            over.get("upt_compatibility_enabled", False) if emulation == "VMXNET3" else None
        ),
        "mac_type": over.get("mac_type", "ASSIGNED"),
        "mac_address": over.get("mac_address", vmware_mac(nic.mac)),
        "pci_slot_number": 192 + index,
        "wake_on_lan_enabled": over.get("wake_on_lan_enabled", False),
        "backing": {
            "type": "STANDARD_PORTGROUP",
            "network": inventory.moid("network", network_uuid) if network else None,
            "network_name": network.name if network else "",
        },
        "state": "CONNECTED" if on and over.get("connected", True) else "NOT_CONNECTED",
        "start_connected": over.get("start_connected", True),
        "allow_guest_control": over.get("allow_guest_control", True),
    }


def nics(inventory: Inventory, vm) -> dict[str, dict]:
    return {key: nic_info(inventory, vm, key, uuid) for key, uuid in nic_entries(inventory.state, vm)}


# --- settings the model does not keep ----------------------------------------------------

HARDWARE_VERSION = "VMX_19"  # §9 #25


def hardware_info(record: dict) -> dict:
    policy = record.get("upgrade_policy", "NEVER")
    return {
        "version": record.get("hardware_version", HARDWARE_VERSION),
        "upgrade_policy": policy,
        "upgrade_version": record.get("upgrade_version") if policy != "NEVER" else None,
        "upgrade_status": record.get("upgrade_status", "NONE"),
    }


BOOT_DEFAULTS = {"type": "BIOS", "delay": 0, "retry": False, "retry_delay": 10000, "enter_setup_mode": False}


def boot_info(record: dict) -> dict:
    boot = dict(BOOT_DEFAULTS, **record.get("boot", {}))
    if boot["type"] == "EFI":  # the SDK's union: EFI carries both fields
        boot.setdefault("efi_legacy_boot", False)
        boot.setdefault("network_protocol", "IPV4")
    else:
        boot.pop("efi_legacy_boot", None)
        boot.pop("network_protocol", None)
    return boot


def cpu_info(record: dict, vm) -> dict:
    return {
        "count": vm.cpu_num,
        "cores_per_socket": record.get("cores_per_socket", 1),
        "hot_add_enabled": record.get("cpu_hot_add", False),
        "hot_remove_enabled": record.get("cpu_hot_remove", False),
    }


def memory_info(record: dict, vm) -> dict:
    # increment and limit are optional and left unset (the fake enforces neither)
    return {"size_MiB": vm.memory_size // MiB, "hot_add_enabled": record.get("memory_hot_add", False)}


def vm_info(inventory: Inventory, vm) -> dict[str, Any]:
    record = read_vm_record(inventory.state, vm.uuid)
    return {
        "guest_OS": guest_os(vm, record),
        "name": vm.name,
        "identity": identity(inventory, vm),
        "power_state": power_state(vm),
        "instant_clone_frozen": bool(vm.frozen),
        "hardware": hardware_info(record),
        "boot": boot_info(record),
        "boot_devices": [],
        "cpu": cpu_info(record, vm),
        "memory": memory_info(record, vm),
        "disks": disks(inventory, vm),
        "nics": nics(inventory, vm),
        "cdroms": {},
        "floppies": {},
        "parallel_ports": {},
        "serial_ports": {},
        "sata_adapters": {},
        "scsi_adapters": {
            "1000": {
                "label": "SCSI controller 0",
                "type": "PVSCSI",
                "scsi": {"bus": 0, "unit": SCSI_CONTROLLER_UNIT},
                "pci_slot_number": 160,
                "sharing": "NONE",
            }
        },
        "nvme_adapters": {},
    }


def power_info(vm) -> dict[str, Any]:
    state = power_state(vm)
    return {"state": state, "clean_power_off": True if state == "POWERED_OFF" else None}
