"""Request schemas of the VM service's create / relocate / register and of vm.hardware.*
and vm.guest.* (field names and types of the SDK's 9.1 bindings)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import field_validator, model_validator

from .specs import NicUpdateSpec as CloneNicUpdateSpec
from .specs import Schema, _check_vm_name, _map_from_rest

HardwareVersion = Literal[tuple(f"VMX_{n:02d}" for n in range(3, 23))]  # type: ignore[misc]
UpgradePolicy = Literal["NEVER", "AFTER_CLEAN_SHUTDOWN", "ALWAYS"]
BootType = Literal["BIOS", "EFI"]
NetworkProtocol = Literal["IPV4", "IPV6"]
NicEmulation = Literal["E1000", "E1000E", "PCNET32", "VMXNET", "VMXNET2", "VMXNET3", "VMXNET3VRDMA"]
DiskBusType = Literal["IDE", "SCSI", "SATA", "NVME"]


def version_number(version: str) -> int:
    return int(version.split("_", 1)[1])


# --- hardware pieces ---------------------------------------------------------------------


class CpuUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.cpu.update_spec"
    count: int | None = None
    cores_per_socket: int | None = None
    hot_add_enabled: bool | None = None
    hot_remove_enabled: bool | None = None

    @model_validator(mode="after")
    def _positive(self):
        for name in ("count", "cores_per_socket"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")
        return self


class MemoryUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.memory.update_spec"
    size_MiB: int | None = None
    hot_add_enabled: bool | None = None

    @field_validator("size_MiB")
    @classmethod
    def _size(cls, value):
        if value is not None and (value <= 0 or value % 4):
            raise ValueError("size_MiB must be a positive multiple of 4")
        return value


class BootUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.boot.update_spec"
    type: BootType | None = None
    efi_legacy_boot: bool | None = None
    network_protocol: NetworkProtocol | None = None
    delay: int | None = None
    retry: bool | None = None
    retry_delay: int | None = None
    enter_setup_mode: bool | None = None

    @model_validator(mode="after")
    def _not_negative(self):
        for name in ("delay", "retry_delay"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        return self


class BootCreateSpec(BootUpdateSpec):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.boot.create_spec"


class HardwareUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.update_spec"
    upgrade_policy: UpgradePolicy | None = None
    upgrade_version: HardwareVersion | None = None


class ScsiAddressSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.scsi_address_spec"
    bus: int
    unit: int | None = None


class VmdkCreateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.disk.vmdk_create_spec"
    name: str | None = None
    capacity: int | None = None
    storage_policy: dict[str, Any] | None = None  # accepted and ignored (no storage policies)

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, value):
        if value is not None and value <= 0:
            raise ValueError("capacity must be positive")
        return value


class DiskBackingSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.disk.backing_spec"
    type: Literal["VMDK_FILE"]
    vmdk_file: str | None = None

    @model_validator(mode="after")
    def _file(self):
        if self.vmdk_file is None:
            raise ValueError("backing type VMDK_FILE requires vmdk_file")
        return self


class DiskCreateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.disk.create_spec"
    type: DiskBusType | None = None
    ide: dict[str, Any] | None = None
    scsi: ScsiAddressSpec | None = None
    sata: dict[str, Any] | None = None
    nvme: dict[str, Any] | None = None
    backing: DiskBackingSpec | None = None
    new_vmdk: VmdkCreateSpec | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.backing is None) == (self.new_vmdk is None):
            raise ValueError("give exactly one of backing and new_vmdk")
        if self.type not in (None, "SCSI"):
            raise ValueError(f"type {self.type} is not supported (the VM has a SCSI controller only)")
        return self


class DiskUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.disk.update_spec"
    backing: DiskBackingSpec | None = None


class NicUpdateSpec(CloneNicUpdateSpec):
    """Ethernet.update's spec: the one instant clone takes (same structure, same MAC
    checks), limited to standard port groups."""

    @model_validator(mode="after")
    def _standard_portgroup(self):
        if self.backing is not None and self.backing.type != "STANDARD_PORTGROUP":
            raise ValueError(f"backing type {self.backing.type} is not supported (standard port groups only)")
        return self


class NicCreateSpec(NicUpdateSpec):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.ethernet.create_spec"
    type: NicEmulation | None = None
    pci_slot_number: int | None = None


# --- VM create / relocate / register ---------------------------------------------------


class PlacementSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.placement_spec"
    folder: str | None = None
    resource_pool: str | None = None
    host: str | None = None
    cluster: str | None = None
    datastore: str | None = None


class CreateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.create_spec"
    guest_OS: str
    name: str | None = None
    placement: PlacementSpec | None = None
    hardware_version: HardwareVersion | None = None
    boot: BootCreateSpec | None = None
    boot_devices: list[dict[str, Any]] | None = None
    cpu: CpuUpdateSpec | None = None
    memory: MemoryUpdateSpec | None = None
    disks: list[DiskCreateSpec] | None = None
    nics: list[NicCreateSpec] | None = None
    cdroms: list[dict[str, Any]] | None = None
    floppies: list[dict[str, Any]] | None = None
    parallel_ports: list[dict[str, Any]] | None = None
    serial_ports: list[dict[str, Any]] | None = None
    sata_adapters: list[dict[str, Any]] | None = None
    scsi_adapters: list[dict[str, Any]] | None = None
    nvme_adapters: list[dict[str, Any]] | None = None
    storage_policy: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value):
        return None if value is None else _check_vm_name(value)


class RelocatePlacementSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.relocate_placement_spec"
    folder: str | None = None
    resource_pool: str | None = None
    host: str | None = None
    cluster: str | None = None
    datastore: str | None = None


class DiskRelocateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.disk_relocate_spec"
    datastore: str | None = None


class RelocateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.relocate_spec"
    placement: RelocatePlacementSpec | None = None
    disks: dict[str, DiskRelocateSpec] | None = None

    _maps = field_validator("disks", mode="before")(lambda cls, v: _map_from_rest(v))


class RegisterPlacementSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.register_placement_spec"
    folder: str | None = None
    resource_pool: str | None = None
    host: str | None = None
    cluster: str | None = None


class RegisterSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.register_spec"
    datastore: str | None = None
    path: str | None = None
    datastore_path: str | None = None
    name: str | None = None
    placement: RegisterPlacementSpec | None = None

    @model_validator(mode="after")
    def _location(self):
        if self.datastore_path is None and (self.datastore is None or self.path is None):
            raise ValueError("give datastore_path, or datastore and path")
        if self.name is not None:
            _check_vm_name(self.name)
        return self


# --- operation inputs ------------------------------------------------------------------


class CreateInput(Schema):
    spec: CreateSpec


class RelocateInput(Schema):
    vm: str
    spec: RelocateSpec


class RegisterInput(Schema):
    spec: RegisterSpec


class VmSpecInput(Schema):
    """``vm`` and an update ``spec`` (hardware, cpu, memory, boot)."""

    vm: str


class HardwareUpdateInput(VmSpecInput):
    spec: HardwareUpdateSpec


class UpgradeInput(Schema):
    vm: str
    version: HardwareVersion | None = None


class CpuUpdateInput(VmSpecInput):
    spec: CpuUpdateSpec


class MemoryUpdateInput(VmSpecInput):
    spec: MemoryUpdateSpec


class BootUpdateInput(VmSpecInput):
    spec: BootUpdateSpec


class DiskInput(Schema):
    vm: str
    disk: str


class DiskCreateInput(Schema):
    vm: str
    spec: DiskCreateSpec


class DiskUpdateInput(DiskInput):
    spec: DiskUpdateSpec


class NicInput(Schema):
    vm: str
    nic: str


class NicCreateInput(Schema):
    vm: str
    spec: NicCreateSpec


class NicUpdateInput(NicInput):
    spec: NicUpdateSpec


class CdromInput(Schema):
    vm: str
    cdrom: str
