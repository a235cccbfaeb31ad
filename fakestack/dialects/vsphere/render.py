"""``VM.Info`` of a model VM (reference §5 hardware defaults, §6.2 shape), and vAPI's JSON.

Identity and NIC settings the model does not know (BIOS / instance UUIDs, NIC connection
state, MAC type) are kept per VM in the dialect state under ``vms``.
"""
from __future__ import annotations

from typing import Any

from ..kit.responses import JsonStyle
from .inventory import Inventory, MiB, derived_uuid, moid_number, power_state

# vAPI JSON: compact, ASCII escapes (what the REST and JSON-RPC endpoints send).
VSPHERE_JSON = JsonStyle(separators=(",", ":"), ensure_ascii=True)
SCSI_CONTROLLER_UNIT = 7


def vm_record(state: dict, vm_uuid: str) -> dict:
    """The VM's record, created if need be (to write in)."""
    return state.setdefault("vms", {}).setdefault(vm_uuid, {})


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


def guest_os(vm) -> str:
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


def disks(inventory: Inventory, vm) -> dict[str, dict]:
    cloud = inventory.cloud
    out = {}
    unit = 0
    for index, volume in enumerate(cloud.vm_volumes(vm)):
        if unit == SCSI_CONTROLLER_UNIT:
            unit += 1
        out[str(2000 + index)] = {
            "label": f"Hard disk {index + 1}",
            "type": "SCSI",
            "scsi": {"bus": 0, "unit": unit},
            "backing": {"type": "VMDK_FILE", "vmdk_file": vmdk_path(cloud, vm, volume, index)},
            "capacity": volume.virtual_size,
        }
        unit += 1
    return out


def nic_keys(vm) -> list[str]:
    return [str(4000 + index) for index in range(len(vm.nic_uuids))]


def nics(inventory: Inventory, vm) -> dict[str, dict]:
    cloud = inventory.cloud
    overrides = read_vm_record(inventory.state, vm.uuid).get("nics", {})
    on = power_state(vm) == "POWERED_ON"
    out = {}
    for index, nic_uuid in enumerate(vm.nic_uuids):
        key = str(4000 + index)
        nic = cloud.nics.get(nic_uuid)
        over = overrides.get(key, {})
        network_uuid = over.get("network_uuid", nic.l3_network_uuid)
        network = cloud.l3_networks.find(network_uuid)
        start_connected = over.get("start_connected", True)
        connected = over.get("connected", True)
        out[key] = {
            "label": f"Network adapter {index + 1}",
            "type": "VMXNET3",
            "upt_compatibility_enabled": over.get("upt_compatibility_enabled", False),
            "mac_type": over.get("mac_type", "ASSIGNED"),
            "mac_address": over.get("mac_address", vmware_mac(nic.mac)),
            "pci_slot_number": 192 + index,
            "wake_on_lan_enabled": over.get("wake_on_lan_enabled", False),
            "backing": {
                "type": "STANDARD_PORTGROUP",
                "network": inventory.moid("network", network_uuid) if network else None,
                "network_name": network.name if network else "",
            },
            "state": "CONNECTED" if on and connected else "NOT_CONNECTED",
            "start_connected": start_connected,
            "allow_guest_control": over.get("allow_guest_control", True),
        }
    return out


def vm_info(inventory: Inventory, vm) -> dict[str, Any]:
    return {
        "guest_OS": guest_os(vm),
        "name": vm.name,
        "identity": identity(inventory, vm),
        "power_state": power_state(vm),
        "instant_clone_frozen": bool(vm.frozen),
        "hardware": {"version": "VMX_19", "upgrade_policy": "NEVER", "upgrade_status": "NONE"},
        "boot": {"type": "BIOS", "delay": 0, "retry": False, "retry_delay": 10000, "enter_setup_mode": False},
        "boot_devices": [],
        "cpu": {"count": vm.cpu_num, "cores_per_socket": 1, "hot_add_enabled": False, "hot_remove_enabled": False},
        "memory": {"size_MiB": vm.memory_size // MiB, "hot_add_enabled": False},
        "disks": disks(inventory, vm),
        "nics": nics(inventory, vm),
        "cdroms": {},
        "floppies": {},
        "parallel_ports": {},
        "serial_ports": {},
        "sata_adapters": {},
        "scsi_adapters": {"1000": {"label": "SCSI controller 0", "type": "PVSCSI",
                                   "scsi": {"bus": 0, "unit": SCSI_CONTROLLER_UNIT},
                                   "pci_slot_number": 160, "sharing": "NONE"}},
        "nvme_adapters": {},
    }


def power_info(vm) -> dict[str, Any]:
    state = power_state(vm)
    return {"state": state, "clean_power_off": True if state == "POWERED_OFF" else None}
