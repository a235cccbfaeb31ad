"""The topology schema: what a cloud looks like before the first operation.

Storage types and image media types are the neutral kinds of ``kinds``; a file may also
spell them the way a dialect taught the model (older files use one dialect's words).

Loaded from a preset name, a YAML/JSON file or built in Python.  Sizes accept integers
(bytes) or strings with binary units (``"40G"``, ``"1.5T"``, ``"512M"``).  Every cross
reference is checked; a bad topology raises ``TopologyError`` naming the field and why.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from itertools import repeat
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from .kinds import BackupStorageKind, ImageKind, PrimaryStorageKind
from .util import gc_paused

GiB = 1024**3
MiB = 1024**2

_UNITS = {"": 1, "B": 1, "K": 1024, "M": MiB, "G": GiB, "T": 1024**4, "P": 1024**5}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_size(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or a string such as '40G'")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match:
            raise ValueError(f"cannot read {value!r} as a size (use bytes or e.g. '40G', '512M')")
        number, unit = match.groups()
        return int(float(number) * _UNITS[unit.upper()])
    raise ValueError("a size must be a number of bytes or a string such as '40G'")


Size = Annotated[int, BeforeValidator(parse_size), Field(ge=0)]
PositiveSize = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]

# Kinds: the neutral value or a spelling a dialect taught (see ``kinds.add_spellings``).
PrimaryStorageType = Annotated[PrimaryStorageKind, BeforeValidator(PrimaryStorageKind.spelled)]
BackupStorageType = Annotated[BackupStorageKind, BeforeValidator(BackupStorageKind.spelled)]
MediaType = Annotated[ImageKind, BeforeValidator(ImageKind.spelled)]

ALLOCATOR_STRATEGIES = (
    "DefaultHostAllocatorStrategy",
    "LastHostPreferredAllocatorStrategy",
    "LeastVmPreferredHostAllocatorStrategy",
    "MinimumCPUUsageHostAllocatorStrategy",
    "MinimumMemoryUsageHostAllocatorStrategy",
)
AllocatorStrategy = Literal[
    "DefaultHostAllocatorStrategy",
    "LastHostPreferredAllocatorStrategy",
    "LeastVmPreferredHostAllocatorStrategy",
    "MinimumCPUUsageHostAllocatorStrategy",
    "MinimumMemoryUsageHostAllocatorStrategy",
]


class _Spec(BaseModel):
    # The validator is built at the first validation, not with the class: the built-in
    # presets are constructed without one (``trusted_topology``), and building it takes
    # longer than the rest of ``fakestack serve``'s start.
    model_config = ConfigDict(extra="forbid", frozen=False, defer_build=True)


class ZoneSpec(_Spec):
    name: str = Field(min_length=1)
    description: str = ""


class ClusterSpec(_Spec):
    name: str = Field(min_length=1)
    zone: str
    hypervisor_type: str = "KVM"
    architecture: str = "x86_64"


class HostSpec(_Spec):
    name: str = Field(min_length=1)
    cluster: str
    cpu_num: int = Field(gt=0)
    cpu_sockets: int = Field(default=1, gt=0)
    cpu_overprovisioning_ratio: float = Field(default=10.0, gt=0)
    memory: PositiveSize
    reserved_memory: Size = GiB
    state: Literal["Enabled", "Disabled", "PreMaintenance", "Maintenance"] = "Enabled"
    status: Literal["Connected", "Disconnected", "Connecting"] = "Connected"
    management_ip: str | None = None
    architecture: str = "x86_64"


class PrimaryStorageSpec(_Spec):
    name: str = Field(min_length=1)
    type: PrimaryStorageType
    zone: str | None = None
    clusters: list[str] = Field(default_factory=list)
    total_capacity: PositiveSize
    physical_capacity: Size | None = None
    overprovisioning_ratio: float = Field(default=1.0, gt=0)
    physical_threshold: float = Field(default=0.9, gt=0, le=1)
    reserved_capacity: Size = GiB
    provisioning: Literal["thin", "thick"] = "thin"
    # What a new allocation must fit: "virtual" checks both ledgers (the provisioned size
    # against total x ratio, and the bytes written against the physical threshold);
    # "physical" checks only free physical space, so thin disks and copy-on-write deltas
    # may provision more than the capacity (the virtual ledger still counts them).
    admission: Literal["virtual", "physical"] = "virtual"
    state: Literal["Enabled", "Disabled", "Maintenance"] = "Enabled"
    status: Literal["Connected", "Disconnected", "Connecting"] = "Connected"
    url: str | None = None


class BackupStorageSpec(_Spec):
    name: str = Field(min_length=1)
    type: BackupStorageType = BackupStorageKind.BACKUP_STORE
    zones: list[str] = Field(default_factory=list)
    total_capacity: PositiveSize
    reserved_capacity: Size = GiB
    hostname: str | None = None
    state: Literal["Enabled", "Disabled"] = "Enabled"
    status: Literal["Connected", "Disconnected", "Connecting"] = "Connected"
    url: str | None = None  # none given: the dialect shows its default


class ImageSpec(_Spec):
    name: str = Field(min_length=1)
    backup_storages: list[str] = Field(min_length=1)
    virtual_size: PositiveSize
    actual_size: PositiveSize
    format: Literal["qcow2", "raw", "iso", "vmdk"] = "qcow2"
    platform: Literal["Linux", "Windows", "Other", "Paravirtualization", "WindowsVirtio"] = "Linux"
    media_type: MediaType = ImageKind.ROOT_TEMPLATE
    guest_os_type: str = "Linux"
    architecture: str = "x86_64"

    @model_validator(mode="after")
    def _actual_fits(self) -> ImageSpec:
        if self.actual_size > self.virtual_size:
            raise ValueError(
                f"actual_size ({self.actual_size}) is larger than virtual_size ({self.virtual_size})"
            )
        return self


class InstanceOfferingSpec(_Spec):
    name: str = Field(min_length=1)
    cpu_num: int = Field(gt=0)
    memory_size: PositiveSize
    allocator_strategy: AllocatorStrategy | None = None


class DiskOfferingSpec(_Spec):
    name: str = Field(min_length=1)
    disk_size: PositiveSize


class L3NetworkSpec(_Spec):
    name: str = Field(min_length=1)
    zone: str
    cidr: str
    gateway: str | None = None

    @model_validator(mode="after")
    def _addresses(self) -> L3NetworkSpec:
        try:
            net = ipaddress.IPv4Network(self.cidr, strict=True)
        except ValueError as exc:
            raise ValueError(f"cidr {self.cidr!r} is not an IPv4 network: {exc}") from None
        if net.num_addresses < 4:
            raise ValueError(f"cidr {self.cidr!r} has no room for hosts")
        if self.gateway is None:
            self.gateway = str(net.network_address + 1)
        try:
            gw = ipaddress.IPv4Address(self.gateway)
        except ValueError:
            raise ValueError(f"gateway {self.gateway!r} is not an IPv4 address") from None
        if gw not in net:
            raise ValueError(f"gateway {self.gateway} is outside cidr {self.cidr}")
        return self


class VmSpec(_Spec):
    name: str = Field(min_length=1)
    instance_offering: str
    image: str
    l3_networks: list[str] | None = None
    state: Literal["Running", "Stopped", "Paused", "Created"] = "Running"
    host: str | None = None
    primary_storage: str | None = None
    data_disks: list[str] = Field(default_factory=list)
    written: Size = 0


class DownloadableImage(_Spec):
    """An image a URL serves: what adding an image from that URL downloads (its sizes), and
    how long the download takes (``download_seconds``; none given: the actual size at the
    settings' ``download_rate``)."""

    url: str = Field(min_length=1)
    virtual_size: PositiveSize
    actual_size: PositiveSize
    format: Literal["qcow2", "raw", "iso", "vmdk"] = "qcow2"
    download_seconds: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _actual_fits(self) -> DownloadableImage:
        if self.actual_size > self.virtual_size:
            raise ValueError(
                f"actual_size ({self.actual_size}) is larger than virtual_size ({self.virtual_size})"
            )
        return self


class Settings(_Spec):
    """Knobs of the simulator that are not resources."""

    new_leaf_size: Size = MiB
    default_allocator_strategy: AllocatorStrategy = "DefaultHostAllocatorStrategy"
    clone_allocator_strategy: AllocatorStrategy = "LeastVmPreferredHostAllocatorStrategy"
    job_durations: dict[str, float] = Field(default_factory=dict)
    max_chain_depth: int = Field(default=255, gt=1)
    journal_size: int = Field(default=10_000, gt=0)
    # What URLs serve when an image is added from one (a URL not listed cannot be reached,
    # unless ``default_download_size`` declares what every other URL serves).
    image_catalogue: list[DownloadableImage] = Field(default_factory=list)
    default_download_size: Size | None = None
    download_rate: PositiveSize = 100 * MiB  # bytes per second of simulated download


class Topology(_Spec):
    name: str = "custom"
    description: str = ""
    zones: list[ZoneSpec] = Field(min_length=1)
    clusters: list[ClusterSpec] = Field(default_factory=list)
    hosts: list[HostSpec] = Field(default_factory=list)
    primary_storages: list[PrimaryStorageSpec] = Field(default_factory=list)
    backup_storages: list[BackupStorageSpec] = Field(default_factory=list)
    images: list[ImageSpec] = Field(default_factory=list)
    instance_offerings: list[InstanceOfferingSpec] = Field(default_factory=list)
    disk_offerings: list[DiskOfferingSpec] = Field(default_factory=list)
    l3_networks: list[L3NetworkSpec] = Field(default_factory=list)
    vms: list[VmSpec] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _references(self) -> Topology:
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def reference_problems(topology: Topology) -> list[str]:
    """What in ``topology`` names what it does not hold, or names it twice: one
    ``"<field path>: <reason>"`` each (a valid topology has none)."""
    problems: list[str] = []

    def names(kind: str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(getattr(topology, kind)):
            if item.name in seen:
                problems.append(f"{kind}[{i}].name: duplicate name {item.name!r}")
            seen.add(item.name)
        return seen

    zones, clusters, hosts = names("zones"), names("clusters"), names("hosts")
    pss, bss, images = names("primary_storages"), names("backup_storages"), names("images")
    offerings, disk_offerings = names("instance_offerings"), names("disk_offerings")
    l3s = names("l3_networks")
    names("vms")

    def check(path: str, value: str | None, known: set[str], kind: str) -> None:
        if value is not None and value not in known:
            problems.append(f"{path}: unknown {kind} {value!r}")

    for i, cl in enumerate(topology.clusters):
        check(f"clusters[{i}].zone", cl.zone, zones, "zone")
    for i, h in enumerate(topology.hosts):
        check(f"hosts[{i}].cluster", h.cluster, clusters, "cluster")
    for i, p in enumerate(topology.primary_storages):
        check(f"primary_storages[{i}].zone", p.zone, zones, "zone")
        for j, c in enumerate(p.clusters):
            check(f"primary_storages[{i}].clusters[{j}]", c, clusters, "cluster")
        if p.physical_capacity is not None and p.physical_capacity <= 0:
            problems.append(f"primary_storages[{i}].physical_capacity: must be positive")
    for i, bs in enumerate(topology.backup_storages):
        for j, z in enumerate(bs.zones):
            check(f"backup_storages[{i}].zones[{j}]", z, zones, "zone")
    for i, im in enumerate(topology.images):
        for j, b in enumerate(im.backup_storages):
            check(f"images[{i}].backup_storages[{j}]", b, bss, "backup storage")
    for i, net in enumerate(topology.l3_networks):
        check(f"l3_networks[{i}].zone", net.zone, zones, "zone")
    host_cluster = {h.name: h.cluster for h in topology.hosts}
    ps_clusters = {p.name: set(p.clusters) for p in topology.primary_storages}
    for i, v in enumerate(topology.vms):
        check(f"vms[{i}].instance_offering", v.instance_offering, offerings, "instance offering")
        check(f"vms[{i}].image", v.image, images, "image")
        check(f"vms[{i}].host", v.host, hosts, "host")
        check(f"vms[{i}].primary_storage", v.primary_storage, pss, "primary storage")
        for j, n in enumerate(v.l3_networks or []):
            check(f"vms[{i}].l3_networks[{j}]", n, l3s, "l3 network")
        for j, d in enumerate(v.data_disks):
            check(f"vms[{i}].data_disks[{j}]", d, disk_offerings, "disk offering")
        if v.l3_networks is None and not topology.l3_networks:
            problems.append(f"vms[{i}].l3_networks: the topology has no l3 network")
        if v.host and v.primary_storage and v.host in host_cluster and v.primary_storage in ps_clusters:
            if host_cluster[v.host] not in ps_clusters[v.primary_storage]:
                problems.append(
                    f"vms[{i}].primary_storage: {v.primary_storage!r} is not attached to the "
                    f"cluster of host {v.host!r}"
                )
    return problems


class TopologyError(ValueError):
    """A topology that cannot be built; ``errors`` lists ``(field, reason)`` pairs."""

    def __init__(self, errors: list[tuple[str, str]], source: str = "topology") -> None:
        self.errors = errors
        self.source = source
        lines = [f"{field}: {reason}" for field, reason in errors]
        super().__init__(f"invalid {source}:\n" + "\n".join(f"  {line}" for line in lines))


def _format_validation_error(exc: ValidationError) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = err.get("loc", ())
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if not path and ": " in msg:
            # cross-reference problems carry their own paths
            for piece in msg.split("; "):
                field, _, reason = piece.partition(": ")
                errors.append((field, reason))
            continue
        errors.append((path or "topology", msg))
    return errors


def parse_topology(data: Any, source: str = "topology") -> Topology:
    if isinstance(data, Topology):
        return data
    try:
        return Topology.model_validate(data)
    except ValidationError as exc:
        raise TopologyError(_format_validation_error(exc), source) from None


# -- many specs at once -----------------------------------------------------------------
# A generated topology (``scale``) or a snapshot's holds up to 100,000 VM specs that differ
# only in a field or two (a name); validating each as a model costs ~5 us, half a second
# in all.  ``specs_like`` makes them from one validated prototype instead.

S = TypeVar("S", bound=_Spec)


def specs_like(prototype: S, count: int, varying: dict[str, list[Any]]) -> list[S]:
    """``count`` specs equal to ``prototype`` but for the ``varying`` fields (``count``
    values each, in order): what validating each spec would give, when every value in ``varying`` is valid
    as it stands (made by our own code, or checked with ``validated_column``).  Only for
    specs whose class has no model validator (no check across fields that the prototype's
    validation could not stand for)."""
    cls = type(prototype)
    if cls.__pydantic_decorators__.model_validators:
        raise TypeError(f"{cls.__name__} has model validators: validate each spec")
    if any(len(column) != count for column in varying.values()):
        raise ValueError(f"specs_like: a varying field does not hold {count} values")
    base = prototype.__dict__
    # lists in the prototype (e.g. a VM's data disks) are each spec's own
    lists = tuple(k for k, v in base.items() if k not in varying and v.__class__ is list)
    fields_set = prototype.model_fields_set | set(varying)
    names = tuple(varying)
    new, set_attribute = object.__new__, object.__setattr__
    specs: list[S] = []
    append = specs.append
    with gc_paused():
        for values in zip(*varying.values()) if varying else repeat((), count):
            fields = base.copy()
            fields.update(zip(names, values))
            for k in lists:
                fields[k] = list(fields[k])
            spec = new(cls)
            set_attribute(spec, "__dict__", fields)
            set_attribute(spec, "__pydantic_fields_set__", set(fields_set))
            set_attribute(spec, "__pydantic_extra__", None)
            set_attribute(spec, "__pydantic_private__", None)
            append(spec)
    return specs


def validated_column(cls: type[_Spec], field: str, values: list[Any]) -> list[Any]:
    """``values`` of ``cls``'s ``field`` as validating each spec would leave them (in one
    pydantic call); raises ``ValidationError`` for a value that is not valid."""
    validated: list[Any] = _column_adapter(cls, field).validate_python(values)
    return validated


@cache
def _column_adapter(cls: type[_Spec], field: str) -> TypeAdapter[list[Any]]:
    info = cls.model_fields[field]
    annotation: Any = info.annotation
    if info.metadata:  # the field's constraints and validators (min_length, parse_size...)
        annotation = Annotated[tuple([annotation, *info.metadata])]
    return TypeAdapter(list[annotation])
