"""``Cloud``: the simulator's state, its construction from a topology, the clock and jobs.

Every public operation is atomic (a failure leaves nothing allocated), journaled, and
passes a fault point so that a fault plan can make it fail exactly as a real shortage
would.  Operations return entities; dialects render them.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import threading
from collections.abc import Callable
from typing import Any, cast

from .backups import BackupMixin
from .bulk import build_vms
from .clock import Clock, make_clock
from .clones import CloneEntry, CloneMixin, CloneResult
from .collection import Collection
from .devices import DeviceMixin
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
from .errors import DomainError
from .hosts import HostMixin
from .ids import IdGenerator
from .image_changes import ImageChangeMixin
from .images import ImageMixin
from .infrastructure import InfrastructureMixin
from .invariants import InvariantsMixin
from .loader import load_topology
from .networks import NetworkMixin
from .persistence import SNAPSHOT_VERSION, PersistenceMixin, gc_paused
from .placement import HostIndex
from .placement_questions import PlacementQuestionMixin
from .restores import RestoreMixin
from .snapshots import SnapshotMixin
from .state import UndoStep
from .storage import StorageMixin
from .topology import Topology
from .transactions import FaultEffects, OperationJournal, TransactionMixin, operation
from .vm_changes import VmChangeMixin
from .vms import ALLOWED, START_POLICIES, VM_STATES, StartPolicy, VmMixin
from .volume_changes import VolumeChangeMixin
from .volumes import VolumeMixin

__all__ = [
    "ALLOWED",
    "COLLECTIONS",
    "Cloud",
    "CloneEntry",
    "CloneResult",
    "FaultEffects",
    "SNAPSHOT_VERSION",
    "START_POLICIES",
    "StartPolicy",
    "VM_STATES",
    "operation",
]

COLLECTIONS = (
    ("zones", Zone),
    ("clusters", Cluster),
    ("hosts", Host),
    ("primary_storages", PrimaryStorage),
    ("backup_storages", BackupStorage),
    ("images", Image),
    ("instance_offerings", InstanceOffering),
    ("disk_offerings", DiskOffering),
    ("l3_networks", L3Network),
    ("vms", Vm),
    ("volumes", Volume),
    ("nics", Nic),
    ("volume_snapshots", VolumeSnapshot),
    ("backups", Backup),
    ("backup_groups", BackupGroup),
    ("nodes", DiskNode),
    ("jobs", Job),
)


class Cloud(
    RestoreMixin,
    BackupMixin,
    CloneMixin,
    SnapshotMixin,
    VmChangeMixin,
    VolumeChangeMixin,
    ImageChangeMixin,
    PlacementQuestionMixin,
    InfrastructureMixin,
    DeviceMixin,
    VmMixin,
    VolumeMixin,
    ImageMixin,
    HostMixin,
    NetworkMixin,
    StorageMixin,
    InvariantsMixin,
    PersistenceMixin,
    TransactionMixin,
):
    """A simulated data centre.

    ``Cloud(topology="demo", seed=0)``: ``topology`` is a preset name, a file path, a dict
    or a ``Topology``.  ``clock`` defaults to a ``ManualClock`` starting at
    2026-01-01T00:00:00Z that only ``tick`` moves, so two clouds fed the same operations
    have equal snapshots; ``clock="system"`` reads ``time.time()`` (so freezegun controls
    it); ``ManualClock(start)`` starts elsewhere.

    The operations live in mixins, one concept each: ``vms``, ``volumes``, ``clones``,
    ``images``, ``hosts``, ``networks``, ``storage``, ``backups``; the machinery in
    ``transactions`` (atomic, journaled operations), ``invariants`` and ``persistence``.
    """

    COLLECTIONS = COLLECTIONS

    def __init__(
        self,
        topology: str | Topology | dict[str, Any] = "demo",
        seed: int = 0,
        clock: Clock | str | None = None,
    ) -> None:
        self._init_empty(load_topology(topology), seed, make_clock(clock))
        with gc_paused():
            self._build(self.topology)

    # -- construction ------------------------------------------------------------------
    def _init_empty(self, topology: Topology, seed: int, clock: Clock) -> None:
        self.topology = topology
        self.settings = topology.settings
        self.seed = seed
        self.clock = clock
        self.ids = IdGenerator(seed)
        self.rng = random.Random(f"fakestack-rng:{seed}")  # placement ("random" allocator)
        # probabilistic fault rules: a stream of their own, so adding a rule does not
        # change where VMs land
        self.fault_rng = random.Random(f"fakestack-faults:{seed}")
        self.lock = threading.RLock()
        # a collection whose index watches an attribute registers here, so that ``_set``
        # (and its undo) writes that attribute through the collection
        self._watching: dict[type, Collection[Any]] = {}
        for attr, cls in self.COLLECTIONS:
            register = functools.partial(self._watching.__setitem__, cls)
            setattr(self, attr, Collection("disk" if attr == "nodes" else attr[:-1], on_watch=register))
        self.image_caches: dict[str, str] = {}  # "<image>:<ps>" -> node uuid
        self._chain_sizes: dict[str, int] = {}  # StorageMixin._size_through's memory
        self.host_index = HostIndex(self.rng)
        self._dialect_state: dict[str, dict[str, Any]] = {}
        self.journal = OperationJournal(self.settings.journal_size)
        self._journal_seq = 0
        self._in_operation = False
        self._undo: list[UndoStep] | None = None
        self._exhausted: frozenset[str] = frozenset()
        self._job_latency = 0.0
        self._job_hang = False
        self.faults = None  # a fakestack.faults.FaultInjector, when a plan is active
        self._time_listeners: dict[str, Callable[..., None]] = {}
        self._host_seq = 0

    def _build(self, topo: Topology) -> None:
        now = self.clock.now()
        ids = self.ids
        zones = {}
        for z in topo.zones:
            zones[z.name] = self.zones.add(Zone(ids.uuid(), z.name, z.description, create_date=now))
        clusters = {}
        for c in topo.clusters:
            clusters[c.name] = self.clusters.add(
                Cluster(
                    ids.uuid(),
                    c.name,
                    zones[c.zone].uuid,
                    hypervisor_type=c.hypervisor_type,
                    architecture=c.architecture,
                    create_date=now,
                )
            )
        for i, h in enumerate(topo.hosts):
            cluster = clusters[h.cluster]
            host = Host(
                uuid=ids.uuid(),
                name=h.name,
                zone_uuid=cluster.zone_uuid,
                cluster_uuid=cluster.uuid,
                management_ip=h.management_ip or f"10.0.{(i >> 8) & 255}.{i & 255}",
                cpu_num=h.cpu_num,
                cpu_sockets=h.cpu_sockets,
                cpu_ratio=h.cpu_overprovisioning_ratio,
                total_cpu=int(h.cpu_num * h.cpu_overprovisioning_ratio),
                total_memory=h.memory,
                reserved_memory=h.reserved_memory,
                state=h.state,
                status=h.status,
                architecture=h.architecture,
                seq=i,
                create_date=now,
                last_op_date=now,
            )
            self.hosts.add(host)
            self.host_index.add(host)
        self._host_seq = len(topo.hosts)
        first_zone = next(iter(zones.values()))
        for p in topo.primary_storages:
            zone = zones[p.zone] if p.zone else first_zone
            self.primary_storages.add(
                PrimaryStorage(
                    uuid=ids.uuid(),
                    name=p.name,
                    zone_uuid=zone.uuid,
                    type=p.type,
                    url=p.url or f"/fakestack/{p.name}",
                    total_capacity=p.total_capacity,
                    total_physical_capacity=p.physical_capacity or p.total_capacity,
                    ratio=p.overprovisioning_ratio,
                    physical_threshold=p.physical_threshold,
                    reserved_capacity=p.reserved_capacity,
                    default_thick=p.provisioning == "thick",
                    cluster_uuids=[clusters[c].uuid for c in p.clusters],
                    admission=p.admission,
                    state=p.state,
                    status=p.status,
                    create_date=now,
                    last_op_date=now,
                )
            )
        for b in topo.backup_storages:
            self.backup_storages.add(
                BackupStorage(
                    uuid=ids.uuid(),
                    name=b.name,
                    type=b.type,
                    url=b.url or "",
                    hostname=b.hostname or "127.0.0.1",
                    total_capacity=b.total_capacity,
                    reserved_capacity=b.reserved_capacity,
                    zone_uuids=[zones[z].uuid for z in b.zones] or [first_zone.uuid],
                    state=b.state,
                    status=b.status,
                    create_date=now,
                    last_op_date=now,
                )
            )
        for im in topo.images:
            image = Image(
                uuid=ids.uuid(),
                name=im.name,
                media_type=im.media_type,
                format=im.format,
                platform=im.platform,
                guest_os_type=im.guest_os_type,
                architecture=im.architecture,
                virtual_size=im.virtual_size,
                actual_size=im.actual_size,
                create_date=now,
                last_op_date=now,
            )
            image.url = f"http://fakestack.local/images/{im.name}.{im.format}"
            for bs_name in im.backup_storages:
                bs = self.backup_storages.get(bs_name)
                node = self._new_node(bs, None, im.virtual_size, im.actual_size, "image")
                image.backup_storage_refs.append(
                    {"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid, "status": "Ready"}
                )
            self.images.add(image)
        for o in topo.instance_offerings:
            self.instance_offerings.add(
                InstanceOffering(
                    ids.uuid(), o.name, o.cpu_num, o.memory_size, o.allocator_strategy, create_date=now
                )
            )
        for d in topo.disk_offerings:
            self.disk_offerings.add(DiskOffering(ids.uuid(), d.name, d.disk_size, create_date=now))
        for n in topo.l3_networks:
            net = ipaddress.IPv4Network(n.cidr)
            assert n.gateway is not None  # the topology's validation fills it in
            first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
            self.l3_networks.add(
                L3Network(
                    uuid=ids.uuid(),
                    name=n.name,
                    zone_uuid=zones[n.zone].uuid,
                    cidr=n.cidr,
                    gateway=n.gateway,
                    netmask=str(net.netmask),
                    first_ip=first,
                    last_ip=last,
                    next_ip=first,
                    create_date=now,
                )
            )
        build_vms(cast(Any, self), topo.vms)
        self.journal.clear()
        self._journal_seq = 0

    # -- infrastructure ----------------------------------------------------------------
    def dialect_state(self, name: str) -> dict[str, Any]:
        """JSON-able state a dialect keeps on the cloud (sessions, id maps); snapshotted."""
        return self._dialect_state.setdefault(name, {})

    def tick(self, seconds: float = 1.0) -> float:
        """Move the clock forward (jobs whose end has come complete) and let time-driven
        work (asynchronous boots, expiries) catch up."""
        now = self.clock.advance(seconds)
        self.settle()
        return now

    def on_time(self, listener: Callable[[Cloud], None], key: str | None = None) -> None:
        """Register ``listener(cloud)``, called by ``settle()``: after every ``tick`` and
        before every request the app serves.  A dialect that schedules work for later
        (e.g. an asynchronous boot) does it there.  One listener per ``key`` (default: the
        listener's qualified name), so a rebuilt dialect replaces its predecessor's.
        Listeners are not part of the state."""
        name: str = key or getattr(listener, "__qualname__", None) or repr(listener)
        self._time_listeners[name] = listener

    def settle(self) -> None:
        """Run the time listeners once (the clock may have moved since they last ran)."""
        for listener in list(self._time_listeners.values()):
            listener(self)

    def now(self) -> float:
        return self.clock.now()

    # -- jobs --------------------------------------------------------------------------
    def submit(self, operation_name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
        """Run an operation as a job.  Its effects apply now; the job reports Running
        until the clock reaches its end (duration from settings plus injected latency;
        a hung job never ends until ``release_job``)."""
        self._job_latency = 0.0
        self._job_hang = False
        job_uuid = kwargs.pop("_job_uuid", None)
        start = self.clock.now()
        result = error = None
        try:
            result = fn(*args, **kwargs)
        except DomainError as exc:
            error = exc
        duration = self.settings.job_durations.get(operation_name, 0.0) + self._job_latency
        # Positional (every job passes here): uuid, operation, start, end, result, error.
        job = Job(
            job_uuid or self.ids.uuid(),
            operation_name,
            start,
            None if self._job_hang else start + duration,
            result,
            error,
        )
        self._job_latency = 0.0
        self._job_hang = False
        self.jobs.add(job)
        return job

    def timed_job(
        self, operation_name: str, seconds: float, *, uuid: str | None = None, result: Any = None
    ) -> Job:
        """A job that only takes time: it changes nothing and ends ``seconds`` of clock time
        from now.  For work the model does not simulate step by step (a guest booting, an
        image being built): a caller that must wait for it waits for the job's end, on the
        cloud's clock, like any other job.  ``uuid`` names the job (e.g. after the record
        it times, so that no id is drawn from the seeded generator); default: a new one."""
        start = self.clock.now()
        job = Job(
            uuid=uuid or self.ids.uuid(),
            operation=operation_name,
            start=start,
            end=start + max(float(seconds), 0.0),
            result=result,
        )
        self.jobs.add(job)
        return job

    def job_state(self, job: Job | str) -> str:
        job = self.jobs.get(job)
        return job.state_at(self.clock.now())

    def release_job(self, job: Job | str) -> Job:
        """Let a hung job finish now."""
        job = self.jobs.get(job)
        if job.end is None:
            job.end = self.clock.now()
        return job

    # -- reports -----------------------------------------------------------------------
    def capacity(self) -> dict[str, Any]:
        """The capacity table: hosts, primary storages (both ledgers), backup storages."""
        return {
            "hosts": [
                {
                    "name": h.name,
                    "uuid": h.uuid,
                    "state": h.state,
                    "status": h.status,
                    "total_cpu": h.total_cpu,
                    "used_cpu": h.used_cpu,
                    "available_cpu": h.available_cpu,
                    "total_memory": h.total_memory,
                    "used_memory": h.used_memory,
                    "available_memory": h.available_memory,
                    "reserved_memory": h.reserved_memory,
                    # what placement can still give a VM: available minus the reserve
                    "placeable_memory": max(h.available_memory - h.reserved_memory, 0),
                    "vms": h.vm_count,
                }
                for h in self.hosts
            ],
            "primary_storages": [
                {
                    "name": p.name,
                    "uuid": p.uuid,
                    "type": p.type,
                    "status": p.status,
                    "admission": p.admission,
                    "total_capacity": p.total_capacity,
                    "used_capacity": p.used_virtual,
                    "available_capacity": p.available_capacity,
                    "total_physical_capacity": p.total_physical_capacity,
                    "used_physical_capacity": p.used_physical,
                    "available_physical_capacity": p.available_physical_capacity,
                }
                for p in self.primary_storages
            ],
            "backup_storages": [
                {
                    "name": b.name,
                    "uuid": b.uuid,
                    "type": b.type,
                    "status": b.status,
                    "total_capacity": b.total_capacity,
                    "used_capacity": b.used,
                    "available_capacity": b.available_capacity,
                }
                for b in self.backup_storages
            ],
        }

    def __repr__(self) -> str:
        return f"<Cloud {self.topology.name} seed={self.seed}: {len(self.hosts)} hosts, {len(self.vms)} vms>"
