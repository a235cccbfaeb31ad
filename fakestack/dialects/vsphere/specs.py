"""Request schemas (pydantic) for every operation input, and their errors as vAPI errors.

Each ``*Input`` model is the vAPI ``operation-input`` structure; all three surfaces build
the same plain dict (``/rest`` from ``{"spec": ...}`` and query parameters, ``/api`` from
the bare body, JSON-RPC from the decoded ``operation-input``) and validate it here, so a
bad input answers identically everywhere.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .choices import NAME_MAX_LENGTH
from .errors import VapiError, message

BIOS_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAC_ADDRESS = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")

VmPowerState = Literal["POWERED_OFF", "POWERED_ON", "SUSPENDED"]
HostConnectionState = Literal["CONNECTED", "DISCONNECTED", "NOT_RESPONDING"]
DatastoreType = Literal["VMFS", "NFS", "NFS41", "CIFS", "VSAN", "VFFS", "VVOL"]
FolderType = Literal["DATACENTER", "DATASTORE", "HOST", "NETWORK", "VIRTUAL_MACHINE"]
NetworkType = Literal["STANDARD_PORTGROUP", "DISTRIBUTED_PORTGROUP", "OPAQUE_NETWORK"]
NicBackingType = Literal["STANDARD_PORTGROUP", "DISTRIBUTED_PORTGROUP", "OPAQUE_NETWORK", "HOST_DEVICE"]
MacType = Literal["MANUAL", "GENERATED", "ASSIGNED"]


def _map_from_rest(value: Any) -> Any:
    """/rest sends maps as ``[{"key": k, "value": v}]``; JSON-RPC may send an empty map as ``[]``."""
    if isinstance(value, list):
        if all(isinstance(item, dict) and set(item) == {"key", "value"} for item in value):
            return {item["key"]: item["value"] for item in value}
    return value


class Schema(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import (most
    # runs, ``fakestack serve`` to its first answer included, use a few of them)
    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)
    vapi_name: ClassVar[str] = "operation-input"


# --- filters ---------------------------------------------------------------------------


class VmFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.filter_spec"
    vms: list[str] | None = None
    names: list[str] | None = None
    folders: list[str] | None = None
    datacenters: list[str] | None = None
    hosts: list[str] | None = None
    clusters: list[str] | None = None
    resource_pools: list[str] | None = None
    power_states: list[VmPowerState] | None = None


class HostFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.host.filter_spec"
    hosts: list[str] | None = None
    names: list[str] | None = None
    folders: list[str] | None = None
    datacenters: list[str] | None = None
    standalone: bool | None = None
    clusters: list[str] | None = None
    connection_states: list[HostConnectionState] | None = None
    host_uuids: list[str] | None = None


class DatastoreFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.datastore.filter_spec"
    datastores: list[str] | None = None
    names: list[str] | None = None
    types: list[DatastoreType] | None = None
    folders: list[str] | None = None
    datacenters: list[str] | None = None


class ResourcePoolFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.resource_pool.filter_spec"
    resource_pools: list[str] | None = None
    names: list[str] | None = None
    parent_resource_pools: list[str] | None = None
    datacenters: list[str] | None = None
    hosts: list[str] | None = None
    clusters: list[str] | None = None


class FolderFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.folder.filter_spec"
    folders: list[str] | None = None
    names: list[str] | None = None
    type: FolderType | None = None
    parent_folders: list[str] | None = None
    datacenters: list[str] | None = None


class ClusterFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.cluster.filter_spec"
    clusters: list[str] | None = None
    names: list[str] | None = None
    folders: list[str] | None = None
    datacenters: list[str] | None = None


class DatacenterFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.datacenter.filter_spec"
    datacenters: list[str] | None = None
    names: list[str] | None = None
    folders: list[str] | None = None


class NetworkFilter(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.network.filter_spec"
    networks: list[str] | None = None
    names: list[str] | None = None
    types: list[NetworkType] | None = None
    folders: list[str] | None = None
    datacenters: list[str] | None = None


# --- clone specs -----------------------------------------------------------------------


class NicBackingSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.ethernet.backing_spec"
    type: NicBackingType
    network: str | None = None
    distributed_port: str | None = None

    @model_validator(mode="after")
    def _network_required(self):
        if self.type != "HOST_DEVICE" and self.network is None:
            raise ValueError(f"backing type {self.type} requires network")
        return self


class NicUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.ethernet.update_spec"
    upt_compatibility_enabled: bool | None = None
    upt_v2_compatibility_enabled: bool | None = None
    mac_type: MacType | None = None
    mac_address: str | None = None
    wake_on_lan_enabled: bool | None = None
    backing: NicBackingSpec | None = None
    start_connected: bool | None = None
    allow_guest_control: bool | None = None

    @model_validator(mode="after")
    def _manual_mac(self):
        if self.mac_address is not None and not MAC_ADDRESS.match(self.mac_address):
            raise ValueError(f"mac_address {self.mac_address!r} is not a MAC address")
        if self.mac_type == "MANUAL" and self.mac_address is None:
            raise ValueError("mac_type MANUAL requires mac_address")
        return self


class PortUpdateSpec(Schema):
    """Parallel.UpdateSpec and Serial.UpdateSpec (applied to the clone only)."""

    vapi_name: ClassVar[str] = "com.vmware.vcenter.vm.hardware.port.update_spec"
    backing: dict[str, Any] | None = None
    start_connected: bool | None = None
    allow_guest_control: bool | None = None
    yield_on_poll: bool | None = None


class InstantClonePlacement(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.instant_clone_placement_spec"
    folder: str | None = None
    resource_pool: str | None = None
    datastore: str | None = None


def _check_vm_name(name: str) -> str:
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"name must have 1 to {NAME_MAX_LENGTH} characters")
    return name


class InstantCloneSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.instant_clone_spec"
    source: str
    name: str
    placement: InstantClonePlacement | None = None
    nics_to_update: dict[str, NicUpdateSpec] | None = None
    disconnect_all_nics: bool | None = None
    parallel_ports_to_update: dict[str, PortUpdateSpec] | None = None
    serial_ports_to_update: dict[str, PortUpdateSpec] | None = None
    bios_uuid: str | None = None

    _maps = field_validator(
        "nics_to_update", "parallel_ports_to_update", "serial_ports_to_update", mode="before"
    )(lambda cls, v: _map_from_rest(v))
    _name = field_validator("name")(lambda cls, v: _check_vm_name(v))

    @field_validator("bios_uuid")
    @classmethod
    def _bios_uuid(cls, value):
        if value is not None and not BIOS_UUID.match(value):
            raise ValueError(f"bios_uuid {value!r} is not in 12345678-abcd-1234-cdef-123456789abc form")
        return value


class ClonePlacement(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.clone_placement_spec"
    folder: str | None = None
    resource_pool: str | None = None
    host: str | None = None
    cluster: str | None = None
    datastore: str | None = None


class DiskCloneSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.disk_clone_spec"
    datastore: str | None = None


class CloneSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.VM.clone_spec"
    source: str
    name: str
    placement: ClonePlacement | None = None
    disks_to_remove: list[str] | None = None
    disks_to_update: dict[str, DiskCloneSpec] | None = None
    power_on: bool | None = None
    guest_customization_spec: dict[str, Any] | None = None  # accepted and ignored

    _maps = field_validator("disks_to_update", mode="before")(lambda cls, v: _map_from_rest(v))
    _name = field_validator("name")(lambda cls, v: _check_vm_name(v))


# --- operation inputs ------------------------------------------------------------------


class NoInput(Schema):
    pass


class InstantCloneInput(Schema):
    spec: InstantCloneSpec


class CloneInput(Schema):
    spec: CloneSpec


class VmInput(Schema):
    vm: str


def list_input(filter_model: type[Schema]) -> type[Schema]:
    return type(
        f"List{filter_model.__name__}Input",
        (Schema,),
        {"__annotations__": {"filter": filter_model | None}, "filter": None, "__module__": __name__},
    )


def get_input(field_name: str) -> type[Schema]:
    return type(
        f"Get{field_name.title().replace('_', '')}Input",
        (Schema,),
        {"__annotations__": {field_name: str}, "__module__": __name__},
    )


# --- validation errors -> vAPI errors --------------------------------------------------


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _structure_and_field(model: type[Schema], loc: tuple) -> tuple[str, str]:
    current: type[BaseModel] = model
    for part in loc[:-1]:
        if isinstance(part, str) and part in current.model_fields:
            inner = _inner_model(current.model_fields[part].annotation)
            if inner is not None:
                current = inner
    last = loc[-1] if loc else ""
    if not isinstance(last, str) or last not in current.model_fields and len(loc) > 1:
        # a map key, a list index or a model-level check: name the field that holds it
        names = [p for p in loc if isinstance(p, str) and not p.isdigit()]
        last = names[-1] if names else str(last)
    return getattr(current, "vapi_name", "operation-input"), str(last)


_PRIORITY = {"missing": 0, "extra_forbidden": 1}


def to_vapi_error(model: type[Schema], exc: ValidationError) -> VapiError:
    """First error by the reference's order (§4.2 rows 2-4): missing, unexpected, invalid."""
    errors = sorted(exc.errors(), key=lambda e: _PRIORITY.get(e["type"], 2))
    first = errors[0]
    structure, field_name = _structure_and_field(model, tuple(first["loc"]))
    if first["type"] == "missing":
        return VapiError("invalid_argument", [message("field_missing", structure, field_name)])
    if first["type"] == "extra_forbidden":
        unexpected = [
            e
            for e in errors
            if e["type"] == "extra_forbidden" and _structure_and_field(model, tuple(e["loc"]))[0] == structure
        ]
        names = ", ".join(str(e["loc"][-1]) for e in unexpected)
        return VapiError("unexpected_input", [message("field_unexpected", f"[{names}]", structure)])
    text = first["msg"]
    if text.startswith("Value error, "):
        text = text[len("Value error, ") :]
    return VapiError("invalid_argument", [message("field_invalid", structure, field_name, text)])


def validate(model: type[Schema], data: Any) -> Schema:
    if not isinstance(data, dict):
        raise VapiError(
            "invalid_argument",
            [message("field_invalid", model.vapi_name, "", "expected a structure")],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_vapi_error(model, exc) from None


def unexpected(field_names: list[str], structure: str = "operation-input") -> VapiError:
    return VapiError(
        "unexpected_input", [message("field_unexpected", f"[{', '.join(field_names)}]", structure)]
    )


def is_list_field(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    return any(get_origin(arg) is list for arg in (annotation, *get_args(annotation)))


def is_bool_field(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    return annotation is bool or bool in get_args(annotation)
