"""What every part of ``Cloud`` shares: the state ``Cloud._init_empty`` sets up.

``Cloud`` is assembled from mixins (``vms``, ``volumes``, ``clones``...), each using the
collections and machinery the others define.  Each mixin derives from :class:`CloudState`,
which declares those attributes for type checkers; at run time it is an empty class.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .clock import Clock
from .collection import Collection, Keyed
from .entities import (
    Backup,
    BackupGroup,
    BackupStorage,
    Cluster,
    DiskNode,
    DiskOffering,
    Host,
    Image,
    InstanceOffering,
    Job,
    L3Network,
    Nic,
    PrimaryStorage,
    Vm,
    Volume,
    VolumeSnapshot,
    Zone,
)
from .ids import IdGenerator
from .placement import HostIndex
from .topology import Settings, Topology

if TYPE_CHECKING:
    from .transactions import OperationJournal

E = TypeVar("E", bound=Keyed)

# One entry of the undo log: a function to call, ``(object, attribute, old value)``, or
# ``(where, what)`` for something made (``TransactionMixin._unmake``: a pair costs less
# than a closure, and every new entity logs one).
UndoStep = Callable[[], object] | tuple[Any, str, Any] | tuple[Any, Any]


class CloudState:
    topology: Topology
    settings: Settings
    seed: int
    clock: Clock
    ids: IdGenerator
    rng: random.Random
    fault_rng: random.Random
    lock: threading.RLock
    zones: Collection[Zone]
    clusters: Collection[Cluster]
    hosts: Collection[Host]
    primary_storages: Collection[PrimaryStorage]
    backup_storages: Collection[BackupStorage]
    images: Collection[Image]
    instance_offerings: Collection[InstanceOffering]
    disk_offerings: Collection[DiskOffering]
    l3_networks: Collection[L3Network]
    vms: Collection[Vm]
    volumes: Collection[Volume]
    nics: Collection[Nic]
    volume_snapshots: Collection[VolumeSnapshot]
    backups: Collection[Backup]
    backup_groups: Collection[BackupGroup]
    nodes: Collection[DiskNode]
    jobs: Collection[Job]
    image_caches: dict[str, str]  # "<image>:<ps>" -> node uuid
    _chain_sizes: dict[str, int]  # node uuid -> actual sizes of it and its ancestors (a cache)
    host_index: HostIndex
    journal: OperationJournal
    faults: Any  # a fault injector (fakestack.faults), when a plan is active
    _dialect_state: dict[str, dict[str, Any]]
    _journal_seq: int
    _in_operation: bool
    _undo: list[UndoStep] | None
    _exhausted: frozenset[str]
    _job_latency: float
    _job_hang: bool
    _time_listeners: dict[str, Callable[..., None]]
    _host_seq: int
    # entity class -> its collection, for the collections where an index watches attributes
    _watching: dict[type, Collection[Any]]

    if TYPE_CHECKING:
        # Helpers one mixin takes from another, as declared by the mixin that defines them.
        def _add(self, collection: Collection[E], entity: E) -> E: ...
        def _vm(self, vm: Vm | str) -> Vm: ...
        def _volume(self, volume: Volume | str) -> Volume: ...
        def _new_node(
            self,
            store: PrimaryStorage | BackupStorage,
            parent: DiskNode | None,
            virtual_size: int,
            actual_size: int,
            role: str,
            *,
            thick: bool = False,
            charge_virtual: bool = False,
        ) -> DiskNode: ...
        def chain_allocated_size(self, node: DiskNode) -> int: ...
        def _grow_node(self, node: DiskNode, nbytes: int) -> int: ...
        def _backup_snapshot(self) -> dict[str, Any]: ...
        def _backup_invariant_breaches(self) -> list[str]: ...

        # Any other operation or helper of the other mixins.
        def __getattr__(self, name: str) -> Any: ...
