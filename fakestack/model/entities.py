"""The simulator's resources: plain slotted dataclasses, neutral vocabulary.

Every entity round-trips through ``to_dict`` / ``from_dict``; ``Cloud.snapshot`` keeps each
collection as a table of columns (``tables``).  Capacity ledgers live on the storages and
hosts as running totals; ``Cloud.check_invariants`` recomputes them from their holders (VMs,
volumes, disk nodes).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from .errors import DomainError
from .kinds import BackupStorageKind, ImageKind, PrimaryStorageKind
from .util import copy_json


class Entity:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        spec = _FIELDS.get(type(self))
        if spec is None:
            names = tuple(f.name for f in dataclasses.fields(cast(Any, self)))
            spec = _FIELDS[type(self)] = (names, operator.attrgetter(*names))
        names, getter = spec
        out = dict(zip(names, getter(self)))
        # The dump must not share a list or dict with the entity; only the fields that can
        # hold one (not typed as a plain scalar) are looked at, not every value.
        for name in _maybe_containers(type(self)):
            value = out[name]
            if value.__class__ is list or value.__class__ is dict:
                out[name] = copy_json(value)
        return out

    @classmethod
    def from_dict(cls: type[E], data: dict[str, Any]) -> E:
        factory: Callable[..., E] = cls
        entity = factory(**data)
        for name in _maybe_containers(cls):
            value = getattr(entity, name)
            if value.__class__ is list or value.__class__ is dict:
                setattr(entity, name, copy_json(value))
        return entity


E = TypeVar("E", bound=Entity)
_FIELDS: dict[
    type, tuple[tuple[str, ...], Callable[[Any], Any]]
] = {}  # field names and an attrgetter, per entity class
_MAYBE_CONTAINERS: dict[type, tuple[str, ...]] = {}  # fields not typed as a plain scalar, per class
_SCALAR_TYPES = frozenset(
    f"{t}{suffix}" for t in ("str", "int", "float", "bool") for suffix in ("", " | None")
)


def _maybe_containers(cls: type) -> tuple[str, ...]:
    names = _MAYBE_CONTAINERS.get(cls)
    if names is None:
        names = _MAYBE_CONTAINERS[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if str(f.type) not in _SCALAR_TYPES
        )
    return names


# Image kinds (``Image.media_type``): a root volume's template, a data volume's template,
# an installer disc.  Module constants: an Enum class attribute costs a lookup each use.
ROOT_TEMPLATE, DATA_TEMPLATE, ISO = ImageKind.ROOT_TEMPLATE, ImageKind.DATA_TEMPLATE, ImageKind.ISO
MEDIA_TYPES = tuple(ImageKind)
# The backup storage kind that keeps volume backups.
BACKUP_STORE = BackupStorageKind.BACKUP_STORE
# Primary storage kinds whose disks are private to each host.
HOST_LOCAL_STORAGE_TYPES = frozenset({PrimaryStorageKind.LOCAL})

# VM states that hold host CPU and memory.
HOLDING_STATES = frozenset(
    {"Starting", "Running", "Stopping", "Paused", "Pausing", "Resuming", "Rebooting", "Migrating"}
)


@dataclass(slots=True)
class Zone(Entity):
    uuid: str
    name: str
    description: str = ""
    state: str = "Enabled"
    create_date: float = 0.0


@dataclass(slots=True)
class Cluster(Entity):
    uuid: str
    name: str
    zone_uuid: str
    description: str = ""
    hypervisor_type: str = "KVM"
    architecture: str = "x86_64"
    state: str = "Enabled"
    create_date: float = 0.0


@dataclass(slots=True)
class Host(Entity):
    uuid: str
    name: str
    zone_uuid: str
    cluster_uuid: str
    management_ip: str
    cpu_num: int
    cpu_sockets: int
    cpu_ratio: float
    total_cpu: int
    total_memory: int
    reserved_memory: int
    used_cpu: int = 0
    used_memory: int = 0
    vm_count: int = 0
    state: str = "Enabled"
    status: str = "Connected"
    architecture: str = "x86_64"
    description: str = ""
    seq: int = 0
    create_date: float = 0.0
    last_op_date: float = 0.0

    @property
    def available_cpu(self) -> int:
        return self.total_cpu - self.used_cpu

    @property
    def available_memory(self) -> int:
        return self.total_memory - self.used_memory

    @property
    def schedulable(self) -> bool:
        return self.state == "Enabled" and self.status == "Connected"


@dataclass(slots=True)
class PrimaryStorage(Entity):
    uuid: str
    name: str
    zone_uuid: str
    type: PrimaryStorageKind
    url: str
    total_capacity: int
    total_physical_capacity: int
    ratio: float
    physical_threshold: float
    reserved_capacity: int
    default_thick: bool
    cluster_uuids: list[str] = field(default_factory=list)
    admission: str = "virtual"  # "virtual": both ledgers admit; "physical": only physical space
    used_virtual: int = 0
    used_physical: int = 0
    state: str = "Enabled"
    status: str = "Connected"
    description: str = ""
    create_date: float = 0.0
    last_op_date: float = 0.0

    @property
    def available_capacity(self) -> int:
        return self.total_capacity - self.used_virtual

    @property
    def available_physical_capacity(self) -> int:
        return self.total_physical_capacity - self.used_physical

    @property
    def physical_limit(self) -> int:
        return round(self.total_physical_capacity * self.physical_threshold)

    @property
    def usable(self) -> bool:
        return self.state == "Enabled" and self.status == "Connected"

    @property
    def admits_virtually(self) -> bool:
        """Whether the virtual (provisioned) ledger refuses allocations that overrun it."""
        return self.admission != "physical"

    @property
    def host_local(self) -> bool:
        """Each host of its clusters sees a private storage of its own (local disks)."""
        return self.type in HOST_LOCAL_STORAGE_TYPES


@dataclass(slots=True)
class BackupStorage(Entity):
    uuid: str
    name: str
    type: BackupStorageKind
    url: str
    hostname: str
    total_capacity: int
    reserved_capacity: int
    zone_uuids: list[str] = field(default_factory=list)
    used: int = 0
    state: str = "Enabled"
    status: str = "Connected"
    description: str = ""
    create_date: float = 0.0
    last_op_date: float = 0.0

    @property
    def available_capacity(self) -> int:
        return self.total_capacity - self.used

    @property
    def usable(self) -> bool:
        return self.state == "Enabled" and self.status == "Connected"

    @property
    def keeps_backups(self) -> bool:
        """Volume backups can be taken to (and synced from) this storage."""
        return self.type == BACKUP_STORE


@dataclass(slots=True)
class DiskNode(Entity):
    """One file in a copy-on-write tree, on a primary or a backup storage.

    ``refs`` counts the holders of the node itself (a volume's leaf, a snapshot, an image,
    a backup); ``children`` counts nodes built on it.  A node with no refs but with
    children is *hidden*: its data stays (and stays charged) until the last child goes.
    Physical charge: ``virtual_size`` for a thick node, else ``actual_size``.
    ``virtual_charge`` is what the node itself holds on a primary storage's virtual
    ledger (image caches); volumes hold their own virtual charge.
    """

    uuid: str
    storage_uuid: str
    parent_uuid: str | None
    virtual_size: int
    actual_size: int
    role: str
    depth: int = 1
    thick: bool = False
    frozen: bool = False
    refs: int = 1
    children: int = 0
    virtual_charge: int = 0
    create_date: float = 0.0

    @property
    def physical_charge(self) -> int:
        return self.virtual_size if self.thick else self.actual_size

    @property
    def hidden(self) -> bool:
        return self.refs == 0


@dataclass(slots=True)
class Image(Entity):
    uuid: str
    name: str
    media_type: ImageKind
    format: str
    platform: str
    guest_os_type: str
    architecture: str
    virtual_size: int
    actual_size: int
    description: str = ""
    state: str = "Enabled"
    status: str = "Ready"
    system: bool = False
    virtio: bool = True
    url: str = ""
    # [{"backup_storage_uuid", "node_uuid", "status"}]: where the image's data is kept
    backup_storage_refs: list[dict[str, Any]] = field(default_factory=list)
    source_backup_uuid: str | None = None
    # the VM whose volume a clone's temporary image copies (None for other images)
    clone_of: str | None = None
    create_date: float = 0.0
    last_op_date: float = 0.0

    @property
    def bootable(self) -> bool:
        """A template for root volumes: VMs can be created from it."""
        return self.media_type == ROOT_TEMPLATE


@dataclass(slots=True)
class InstanceOffering(Entity):
    uuid: str
    name: str
    cpu_num: int
    memory_size: int
    allocator_strategy: str | None = None
    description: str = ""
    state: str = "Enabled"
    create_date: float = 0.0


@dataclass(slots=True)
class DiskOffering(Entity):
    uuid: str
    name: str
    disk_size: int
    description: str = ""
    state: str = "Enabled"
    create_date: float = 0.0


@dataclass(slots=True)
class L3Network(Entity):
    uuid: str
    name: str
    zone_uuid: str
    cidr: str
    gateway: str
    netmask: str
    first_ip: int
    last_ip: int
    next_ip: int = 0
    released: list[int] = field(default_factory=list)  # a heap: the lowest freed address is reused first
    used: dict[str, str] = field(default_factory=dict)  # ip int (as str) -> nic uuid
    description: str = ""
    create_date: float = 0.0


@dataclass(slots=True)
class Nic(Entity):
    uuid: str
    vm_uuid: str | None  # None: a NIC made on its own, attached to no VM yet
    l3_network_uuid: str
    ip: str
    mac: str
    netmask: str
    gateway: str
    device_id: int = 0
    create_date: float = 0.0


@dataclass(slots=True)
class Volume(Entity):
    uuid: str
    name: str
    type: str  # Root | Data
    virtual_size: int
    description: str = ""
    vm_uuid: str | None = None
    last_vm_uuid: str | None = None
    primary_storage_uuid: str | None = None
    node_uuid: str | None = None
    thick: bool = False
    virtual_charge: int = 0
    format: str = "qcow2"
    status: str = "Ready"  # Creating | Ready | NotInstantiated | Deleted
    state: str = "Enabled"
    device_id: int = 0
    root_image_uuid: str | None = None
    disk_offering_uuid: str | None = None
    bytes_written: int = 0
    # the snapshot the volume's current disk builds on (the next snapshot's parent)
    latest_snapshot_uuid: str | None = None
    # backups up to this creation number are not a base for incrementals: the disk was
    # replaced since (revert, reimage), so the next backup is full
    backup_base_seq: int = 0
    create_date: float = 0.0
    last_op_date: float = 0.0
    last_attach_date: float | None = None  # when it was last attached to a VM (not at creation)
    last_detach_date: float | None = None  # when it was last detached from a VM


@dataclass(slots=True)
class VolumeSnapshot(Entity):
    uuid: str
    name: str
    volume_uuid: str
    node_uuid: str
    primary_storage_uuid: str
    volume_type: str
    description: str = ""
    system: bool = False
    status: str = "Ready"
    state: str = "Enabled"
    size: int = 0
    parent_uuid: str | None = None  # the snapshot of the same volume this one builds on
    distance: int = 1  # snapshots from the root of its tree (the root counts 1)
    group_uuid: str | None = None  # snapshots taken together (several volumes at once)
    create_date: float = 0.0
    last_op_date: float = 0.0


@dataclass(slots=True)
class Vm(Entity):
    uuid: str
    name: str
    zone_uuid: str
    cpu_num: int
    memory_size: int
    instance_offering_uuid: str | None
    image_uuid: str | None
    description: str = ""
    state: str = "Created"
    host_uuid: str | None = None
    last_host_uuid: str | None = None
    cluster_uuid: str | None = None
    root_volume_uuid: str | None = None
    data_volume_uuids: list[str] = field(default_factory=list)
    nic_uuids: list[str] = field(default_factory=list)
    l3_network_uuids: list[str] = field(default_factory=list)
    allocator_strategy: str | None = None
    platform: str = "Linux"
    guest_os_type: str = ""
    architecture: str = "x86_64"
    frozen: bool = False
    # For a Created VM whose volumes are not instantiated yet: what the first start builds.
    pending: dict[str, Any] | None = None
    create_date: float = 0.0
    last_op_date: float = 0.0

    @property
    def holds_host(self) -> bool:
        return self.state in HOLDING_STATES


@dataclass(slots=True)
class Job(Entity):
    uuid: str
    operation: str
    start: float
    end: float | None  # None: hung until released
    result: Any = None
    error: DomainError | dict[str, Any] | None = None  # a DomainError; a dict once restored
    args: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False

    def state_at(self, now: float) -> str:
        if self.end is None or now < self.end:
            return "Running"
        return "Failed" if self.error is not None else "Succeeded"


@dataclass(slots=True)
class Backup(Entity):
    """One volume's backup (the database record).

    ``name`` is the name the backup was asked for (a dialect may show it decorated, e.g.
    with the volume and the creation time).  ``backup_storage_refs``:
    ``[{"backup_storage_uuid", "node_uuid", "status" (Ready | Deleted), "create_date",
    "last_op_date"}]``.  ``status`` is ``Deleted`` when every ref is (data kept for later
    incrementals, see ``delete_backup_group(handle_dependency=True)``).  ``written_mark`` is
    the volume's ``bytes_written`` when the backup was taken (the next incremental's base);
    ``seq`` orders backups by creation.
    """

    uuid: str
    name: str
    volume_uuid: str
    group_uuid: str | None  # None: a single volume's backup, in no VM backup
    type: str  # Root | Data
    vm_uuid: str | None = None
    description: str = ""
    state: str = "Enabled"
    status: str = "Ready"
    size: int = 0
    mode: str = "full"  # full | incremental
    metadata: dict[str, Any] = field(default_factory=dict)
    backup_storage_refs: list[dict[str, Any]] = field(default_factory=list)
    written_mark: int = 0
    seq: int = 0
    create_date: float = 0.0
    last_op_date: float = 0.0


@dataclass(slots=True)
class BackupGroup(Entity):
    """A VM backup: the volume backups taken together (root first, then data volumes)."""

    uuid: str
    name: str
    vm_uuid: str | None
    backup_uuids: list[str] = field(default_factory=list)
    description: str = ""
    backup_storage_uuid: str | None = None
    create_date: float = 0.0
