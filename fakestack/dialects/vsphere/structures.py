"""Output types of every served operation (reference §6.2, §7.3, §7.4).

The field lists and their optionality follow the SDK's 9.1 bindings; JSON-RPC output
is only correct if these are (the SDK rejects a bare optional and a missing required
field).
"""

from __future__ import annotations

from .vapi_types import BOOLEAN, DATETIME, INTEGER, SECRET, STRING, VOID, ListOf, MapOf, Optional, struct

OPT_STR = Optional(STRING)
OPT_INT = Optional(INTEGER)
OPT_BOOL = Optional(BOOLEAN)

SESSION_TOKEN = SECRET
SESSION_INFO = struct(
    "com.vmware.cis.session.info",
    user=STRING,
    created_time=DATETIME,
    last_accessed_time=DATETIME,
)

VM_SUMMARY = struct(
    "com.vmware.vcenter.VM.summary",
    vm=STRING,
    name=STRING,
    power_state=STRING,
    cpu_count=OPT_INT,
    memory_size_MiB=OPT_INT,
)

POWER_INFO = struct("com.vmware.vcenter.vm.power.info", state=STRING, clean_power_off=OPT_BOOL)

IDENTITY = struct("com.vmware.vcenter.vm.identity.info", name=STRING, bios_uuid=STRING, instance_uuid=STRING)
HARDWARE = struct(
    "com.vmware.vcenter.vm.hardware.info",
    version=STRING,
    upgrade_policy=STRING,
    upgrade_version=OPT_STR,
    upgrade_status=STRING,
    upgrade_error=OPT_STR,
)
BOOT = struct(
    "com.vmware.vcenter.vm.hardware.boot.info",
    type=STRING,
    efi_legacy_boot=OPT_BOOL,
    network_protocol=OPT_STR,
    delay=INTEGER,
    retry=BOOLEAN,
    retry_delay=INTEGER,
    enter_setup_mode=BOOLEAN,
)
CPU = struct(
    "com.vmware.vcenter.vm.hardware.cpu.info",
    count=INTEGER,
    cores_per_socket=INTEGER,
    hot_add_enabled=BOOLEAN,
    hot_remove_enabled=BOOLEAN,
)
MEMORY = struct(
    "com.vmware.vcenter.vm.hardware.memory.info",
    size_MiB=INTEGER,
    hot_add_enabled=BOOLEAN,
    hot_add_increment_size_MiB=OPT_INT,
    hot_add_limit_MiB=OPT_INT,
)
SCSI_ADDRESS = struct("com.vmware.vcenter.vm.hardware.scsi_address_info", bus=INTEGER, unit=INTEGER)
DISK_BACKING = struct("com.vmware.vcenter.vm.hardware.disk.backing_info", type=STRING, vmdk_file=OPT_STR)
DISK = struct(
    "com.vmware.vcenter.vm.hardware.disk.info",
    label=STRING,
    type=STRING,
    ide=OPT_STR,
    scsi=Optional(SCSI_ADDRESS),
    sata=OPT_STR,
    nvme=OPT_STR,
    backing=DISK_BACKING,
    capacity=OPT_INT,
)
NIC_BACKING = struct(
    "com.vmware.vcenter.vm.hardware.ethernet.backing_info",
    type=STRING,
    network=OPT_STR,
    network_name=OPT_STR,
    host_device=OPT_STR,
    distributed_switch_uuid=OPT_STR,
    distributed_port=OPT_STR,
    connection_cookie=OPT_INT,
    opaque_network_type=OPT_STR,
    opaque_network_id=OPT_STR,
)
NIC = struct(
    "com.vmware.vcenter.vm.hardware.ethernet.info",
    label=STRING,
    type=STRING,
    upt_compatibility_enabled=OPT_BOOL,
    upt_v2_compatibility_enabled=OPT_BOOL,
    mac_type=STRING,
    mac_address=OPT_STR,
    pci_slot_number=OPT_INT,
    wake_on_lan_enabled=BOOLEAN,
    backing=NIC_BACKING,
    state=STRING,
    start_connected=BOOLEAN,
    allow_guest_control=BOOLEAN,
)
SCSI_ADAPTER = struct(
    "com.vmware.vcenter.vm.hardware.adapter.scsi.info",
    label=STRING,
    type=STRING,
    scsi=SCSI_ADDRESS,
    pci_slot_number=OPT_INT,
    sharing=STRING,
)
# Devices the fake never has; their maps are always empty, the value type is a placeholder.
_NO_DEVICE = struct("com.vmware.vcenter.vm.hardware.device.info", label=STRING)

VM_INFO = struct(
    "com.vmware.vcenter.VM.info",
    guest_OS=STRING,
    name=STRING,
    identity=Optional(IDENTITY),
    power_state=STRING,
    instant_clone_frozen=OPT_BOOL,
    hardware=HARDWARE,
    boot=BOOT,
    boot_devices=ListOf(_NO_DEVICE),
    cpu=CPU,
    memory=MEMORY,
    disks=MapOf(DISK),
    nics=MapOf(NIC),
    cdroms=MapOf(_NO_DEVICE),
    floppies=MapOf(_NO_DEVICE),
    parallel_ports=MapOf(_NO_DEVICE),
    serial_ports=MapOf(_NO_DEVICE),
    sata_adapters=MapOf(_NO_DEVICE),
    scsi_adapters=MapOf(SCSI_ADAPTER),
    nvme_adapters=Optional(MapOf(_NO_DEVICE)),
)

HOST_SUMMARY = struct(
    "com.vmware.vcenter.host.summary",
    host=STRING,
    name=STRING,
    connection_state=STRING,
    power_state=OPT_STR,
    host_uuid=OPT_STR,
)
DATASTORE_SUMMARY = struct(
    "com.vmware.vcenter.datastore.summary",
    datastore=STRING,
    name=STRING,
    type=STRING,
    free_space=OPT_INT,
    capacity=OPT_INT,
)
DATASTORE_INFO = struct(
    "com.vmware.vcenter.datastore.info",
    name=STRING,
    type=STRING,
    accessible=BOOLEAN,
    free_space=OPT_INT,
    multiple_host_access=BOOLEAN,
    thin_provisioning_supported=BOOLEAN,
)
RESOURCE_POOL_SUMMARY = struct("com.vmware.vcenter.resource_pool.summary", resource_pool=STRING, name=STRING)
RESOURCE_POOL_INFO = struct(
    "com.vmware.vcenter.resource_pool.info",
    name=STRING,
    resource_pools=ListOf(STRING),
    cpu_allocation=OPT_STR,  # allocations are omitted (reference §5)
    memory_allocation=OPT_STR,
)
FOLDER_SUMMARY = struct("com.vmware.vcenter.folder.summary", folder=STRING, name=STRING, type=STRING)
CLUSTER_SUMMARY = struct(
    "com.vmware.vcenter.cluster.summary",
    cluster=STRING,
    name=STRING,
    ha_enabled=BOOLEAN,
    drs_enabled=BOOLEAN,
)
CLUSTER_INFO = struct("com.vmware.vcenter.cluster.info", name=STRING, resource_pool=STRING)
DATACENTER_SUMMARY = struct("com.vmware.vcenter.datacenter.summary", datacenter=STRING, name=STRING)
DATACENTER_INFO = struct(
    "com.vmware.vcenter.datacenter.info",
    name=STRING,
    datastore_folder=STRING,
    host_folder=STRING,
    network_folder=STRING,
    vm_folder=STRING,
)
NETWORK_SUMMARY = struct("com.vmware.vcenter.network.summary", network=STRING, name=STRING, type=STRING)

# --- vm.hardware devices, guest, inventory gets (9.1 bindings) ---------------------------

DISK_SUMMARY = struct("com.vmware.vcenter.vm.hardware.disk.summary", disk=STRING)
NIC_SUMMARY = struct("com.vmware.vcenter.vm.hardware.ethernet.summary", nic=STRING)
CDROM_SUMMARY = struct("com.vmware.vcenter.vm.hardware.cdrom.summary", cdrom=STRING)
CDROM_INFO = struct(  # no VM of the fake has a CD-ROM drive; the type serves get's signature
    "com.vmware.vcenter.vm.hardware.cdrom.info",
    type=STRING,
    label=STRING,
    ide=OPT_STR,
    sata=OPT_STR,
    backing=struct("com.vmware.vcenter.vm.hardware.cdrom.backing_info", type=STRING, iso_file=OPT_STR),
    state=STRING,
    start_connected=BOOLEAN,
    allow_guest_control=BOOLEAN,
)

LOCALIZABLE_MESSAGE = struct(
    "com.vmware.vapi.std.localizable_message", id=STRING, default_message=STRING, args=ListOf(STRING)
)
GUEST_IDENTITY = struct(
    "com.vmware.vcenter.vm.guest.identity.info",
    name=STRING,
    family=STRING,
    full_name=LOCALIZABLE_MESSAGE,
    host_name=STRING,
    ip_address=OPT_STR,
)
GUEST_POWER = struct("com.vmware.vcenter.vm.guest.power.info", state=STRING, operations_ready=BOOLEAN)
DNS_VALUES = struct("com.vmware.vcenter.vm.guest.dns_assigned_values", host_name=STRING, domain_name=STRING)
DNS_CONFIG = struct(
    "com.vmware.vcenter.vm.guest.dns_config_info", ip_addresses=ListOf(STRING), search_domains=ListOf(STRING)
)
GUEST_NETWORKING = struct(
    "com.vmware.vcenter.vm.guest.networking.info", dns_values=Optional(DNS_VALUES), dns=Optional(DNS_CONFIG)
)
IP_ADDRESS = struct(
    "com.vmware.vcenter.vm.guest.networking.interfaces.ip_address_info",
    ip_address=STRING,
    prefix_length=INTEGER,
    origin=OPT_STR,
    state=STRING,
)
DHCP_CONFIG = struct(
    "com.vmware.vcenter.vm.guest.dhcp_config_info", ipv4_enabled=BOOLEAN, ipv6_enabled=BOOLEAN
)
IP_CONFIG = struct(
    "com.vmware.vcenter.vm.guest.networking.interfaces.ip_config_info",
    ip_addresses=ListOf(IP_ADDRESS),
    dhcp=Optional(DHCP_CONFIG),
)
GUEST_INTERFACE = struct(
    "com.vmware.vcenter.vm.guest.networking.interfaces.info",
    dns_values=Optional(DNS_VALUES),
    mac_address=OPT_STR,
    dns=Optional(DNS_CONFIG),
    ip=Optional(IP_CONFIG),
    wins_servers=Optional(ListOf(STRING)),
    nic=OPT_STR,
)
DISK_MAPPING = struct("com.vmware.vcenter.vm.guest.local_filesystem.virtual_disk_mapping", disk=STRING)
LOCAL_FILESYSTEM = struct(
    "com.vmware.vcenter.vm.guest.local_filesystem.info",
    capacity=INTEGER,
    free_space=INTEGER,
    filesystem=OPT_STR,
    mappings=Optional(ListOf(DISK_MAPPING)),
)

__all__ = [name for name in dir() if name.isupper()] + ["VOID"]
