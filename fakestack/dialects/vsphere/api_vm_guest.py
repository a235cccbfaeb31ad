"""``com.vmware.vcenter.vm.guest``: Identity, Power, Networking, Networking.Interfaces and
LocalFilesystem (issue 17), from the model's VM, NICs and disks.

VMware Tools run in a powered-on guest ``guest_boot_delay_s`` (a choice, default 30 s) of
the cloud's clock after its last power-on or reboot; before that every guest call but
``Power.get`` answers ``service_unavailable``, as vCenter does while Tools do not report.
An instant clone resumes its source's memory: its Tools run when the source's do.
"""

from __future__ import annotations

from . import vm_specs
from .api_vcenter import _get_vm, reboot, run_sync
from .api_vm import guest_family
from .errors import vapi_error
from .inventory import power_state
from .registry import operation
from .render import booted_at, disk_entries, guest_os, nic_entries, read_vm_record, vmware_mac
from .structures import GUEST_IDENTITY, GUEST_INTERFACE, GUEST_NETWORKING, GUEST_POWER, LOCAL_FILESYSTEM
from .vapi_types import VOID, ListOf, MapOf

GUEST = "com.vmware.vcenter.vm.guest"
DOMAIN = "localdomain"


def tools_running(call, vm) -> bool:
    if vm.state != "Running":
        return False
    return call.cloud.clock.now() >= booted_at(call.state, vm) + call.choices.guest_boot_delay_s


def _with_tools(call, moid: str):
    vm = _get_vm(call, moid)
    if not tools_running(call, vm):
        raise vapi_error("tools_not_running", moid)
    return vm


def host_name(vm) -> str:
    return "".join(c if c.isalnum() or c == "-" else "-" for c in vm.name.lower()) or "localhost"


def _prefix_length(netmask: str) -> int:
    return sum(bin(int(part)).count("1") for part in netmask.split("."))


def _connected_nics(call, vm) -> list[tuple[str, object]]:
    settings = read_vm_record(call.state, vm.uuid).get("nics", {})
    return [
        (key, call.cloud.nics.get(uuid))
        for key, uuid in nic_entries(call.state, vm)
        if settings.get(key, {}).get("connected", True)
    ]


# --- Identity --------------------------------------------------------------------------------


@operation(f"{GUEST}.identity", "get", vm_specs.VmSpecInput, GUEST_IDENTITY)
def identity_get(call, inp):
    vm = _with_tools(call, inp.vm)
    os_name = guest_os(vm, read_vm_record(call.state, vm.uuid))
    nics = _connected_nics(call, vm)
    given = vm.guest_os_type if vm.guest_os_type and vm.guest_os_type != os_name else None
    full_name = given or os_name.replace("_", " ").title()
    return {
        "name": os_name,
        "family": guest_family(os_name),
        "full_name": {
            "id": f"vmsg.guestos.{os_name.lower()}.label",
            "default_message": full_name,
            "args": [],
        },
        "host_name": host_name(vm),
        "ip_address": nics[0][1].ip if nics else None,
    }


# --- Power -----------------------------------------------------------------------------------


@operation(f"{GUEST}.power", "get", vm_specs.VmSpecInput, GUEST_POWER)
def guest_power_get(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state == "SUSPENDED":
        return {"state": "STANDBY", "operations_ready": False}
    if state == "POWERED_OFF":
        return {"state": "NOT_RUNNING", "operations_ready": False}
    if tools_running(call, vm):
        return {"state": "RUNNING", "operations_ready": True}
    return {"state": "UNAVAILABLE", "operations_ready": False}


@operation(f"{GUEST}.power", "shutdown", vm_specs.VmSpecInput, VOID)
def guest_shutdown(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state == "POWERED_OFF":
        raise vapi_error("vm_already_in_state", inp.vm, "POWERED_OFF")
    if state == "SUSPENDED":
        raise vapi_error("vm_power_state", inp.vm, state)
    _with_tools(call, inp.vm)
    call.fault_point(vm=vm.uuid, name=vm.name)
    run_sync(call, "vm.stop", call.cloud.stop_vm, vm.uuid)
    return None


@operation(f"{GUEST}.power", "reboot", vm_specs.VmSpecInput, VOID)
def guest_reboot(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state != "POWERED_ON":
        raise vapi_error("vm_power_state", inp.vm, state)
    _with_tools(call, inp.vm)
    reboot(call, vm)
    return None


@operation(f"{GUEST}.power", "standby", vm_specs.VmSpecInput, VOID)
def guest_standby(call, inp):
    vm = _get_vm(call, inp.vm)
    state = power_state(vm)
    if state == "SUSPENDED":
        raise vapi_error("vm_already_in_state", inp.vm, "SUSPENDED")
    if state != "POWERED_ON":
        raise vapi_error("vm_power_state", inp.vm, state)
    _with_tools(call, inp.vm)
    if vm.frozen:
        raise vapi_error("vm_frozen", inp.vm)
    call.fault_point(vm=vm.uuid, name=vm.name)
    run_sync(call, "vm.pause", call.cloud.pause_vm, vm.uuid)
    return None


# --- Networking ------------------------------------------------------------------------------


def _dns(call, vm) -> dict:
    gateways = []
    for _, nic in _connected_nics(call, vm):
        if nic.gateway not in gateways:
            gateways.append(nic.gateway)
    return {"ip_addresses": gateways, "search_domains": [DOMAIN]}


@operation(f"{GUEST}.networking", "get", vm_specs.VmSpecInput, GUEST_NETWORKING)
def networking_get(call, inp):
    vm = _with_tools(call, inp.vm)
    return {"dns_values": {"host_name": host_name(vm), "domain_name": DOMAIN}, "dns": _dns(call, vm)}


@operation(f"{GUEST}.networking.interfaces", "list", vm_specs.VmSpecInput, ListOf(GUEST_INTERFACE))
def interfaces_list(call, inp):
    vm = _with_tools(call, inp.vm)
    out = []
    for key, nic in _connected_nics(call, vm):
        out.append(
            {
                "mac_address": read_vm_record(call.state, vm.uuid)
                .get("nics", {})
                .get(key, {})
                .get("mac_address", vmware_mac(nic.mac)),
                "ip": {
                    "ip_addresses": [
                        {
                            "ip_address": nic.ip,
                            "prefix_length": _prefix_length(nic.netmask),
                            "origin": "DHCP",
                            "state": "PREFERRED",
                        }
                    ],
                    "dhcp": {"ipv4_enabled": True, "ipv6_enabled": False},
                },
                "dns": _dns(call, vm),
                "nic": key,
            }
        )
    return out


# --- LocalFilesystem --------------------------------------------------------------------------


@operation(f"{GUEST}.local_filesystem", "get", vm_specs.VmSpecInput, MapOf(LOCAL_FILESYSTEM))
def local_filesystem_get(call, inp):
    """One file system per disk: capacity = the disk's size, free = what the guest has not
    written (its chain's allocated data)."""
    vm = _with_tools(call, inp.vm)
    cloud = call.cloud
    windows = guest_family(guest_os(vm, read_vm_record(call.state, vm.uuid))) == "WINDOWS"
    out = {}
    for index, (key, uuid) in enumerate(disk_entries(call.state, cloud, vm)):
        volume = cloud.volumes.get(uuid)
        used = min(cloud.volume_allocated_size(volume), volume.virtual_size)
        mount = f"{chr(ord('C') + index)}:\\" if windows else ("/" if index == 0 else f"/data{index}")
        out[mount] = {
            "capacity": volume.virtual_size,
            "free_space": volume.virtual_size - used,
            "filesystem": "NTFS" if windows else "ext4",
            "mappings": [{"disk": key}],
        }
    return out
