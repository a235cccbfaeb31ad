"""``Cloud``: the simulator's state and its neutral operations.

Every public operation is atomic (a failure leaves nothing allocated), journaled, and
passes a fault point so that a fault plan can make it fail exactly as a real shortage
would.  Operations return entities; dialects render them.
"""
from __future__ import annotations

import functools
import heapq
import ipaddress
import re
import random
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .clock import Clock, ManualClock, SystemClock, clock_from_dict
from .collection import Collection
from .entities import (
    HOLDING_STATES,
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
from .errors import (
    CapacityExhausted,
    Conflict,
    DomainError,
    InvalidArgument,
    InvalidState,
    InvariantViolation,
    NotFound,
    Unreachable,
)
from .ids import IdGenerator, rng_from_json, rng_to_json
from .placement import HostIndex
from .backups import Backup, BackupGroup, BackupMixin
from .storage import StorageMixin, virtual_charge
from .topology import Topology, load_topology

SNAPSHOT_VERSION = 1

VM_STATES = (
    "Created", "Starting", "Running", "Stopping", "Stopped", "Rebooting", "Destroying",
    "Destroyed", "Migrating", "Expunging", "Pausing", "Paused", "Resuming", "Error",
    "Unknown", "Crashed",
)

# Which VM states allow which operation (ZStack's allowed-operations table).
ALLOWED = {
    "start": ("Created", "Running", "Stopped", "Crashed"),
    "stop": ("Running", "Stopped", "Paused", "Unknown", "Crashed"),
    "reboot": ("Running", "Crashed"),
    "pause": ("Running",),
    "resume": ("Paused",),
    "destroy": ("Created", "Running", "Stopped", "Paused", "Unknown", "Crashed", "Starting",
                "Stopping", "Rebooting", "Migrating", "Pausing", "Resuming", "Error"),
    "recover": ("Destroyed",),
    "expunge": ("Destroyed",),
    "clone": ("Running", "Stopped", "Paused"),
    "attach_volume": ("Running", "Stopped", "Paused"),
    "detach_volume": ("Running", "Stopped", "Paused"),
    "backup": ("Running", "Paused"),
    "snapshot": ("Running", "Stopped", "Paused"),
}

STRATEGIES = ("InstantStart", "JustCreate", "CreateStopped")

COLLECTIONS = (
    ("zones", Zone), ("clusters", Cluster), ("hosts", Host),
    ("primary_storages", PrimaryStorage), ("backup_storages", BackupStorage),
    ("images", Image), ("instance_offerings", InstanceOffering),
    ("disk_offerings", DiskOffering), ("l3_networks", L3Network), ("vms", Vm),
    ("volumes", Volume), ("nics", Nic), ("volume_snapshots", VolumeSnapshot),
    ("backups", Backup), ("backup_groups", BackupGroup),
    ("nodes", DiskNode), ("jobs", Job),
)


@dataclass
class CloneEntry:
    """One name's outcome in ``clone_vm``: a VM, or an error (with the VM record as it
    was before its start failed, when it got that far)."""

    name: str
    vm: Vm | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CloneResult:
    source_uuid: str
    entries: list[CloneEntry] = field(default_factory=list)
    snapshot_uuids: list[str] = field(default_factory=list)
    image_uuids: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> list[Vm]:
        return [e.vm for e in self.entries if e.error is None]

    @property
    def failed(self) -> list[CloneEntry]:
        return [e for e in self.entries if e.error is not None]

    @property
    def number_of_cloned_vm(self) -> int:
        return sum(1 for e in self.entries if e.error is None)


@dataclass
class FaultEffects:
    """What a fault plan asks of one fault point (see ``fakestack.faults``)."""

    error: DomainError | None = None
    exhaust: tuple[str, ...] = ()
    latency: float = 0.0
    hang: bool = False


def operation(name: str):
    """Make a public method atomic and journaled.

    An operation called by another operation joins it (one journal entry, one undo).  Inside
    ``Cloud.atomic()`` each operation is journaled on its own and undoes only itself when it
    fails; the block undoes them all if it raises.
    """

    def decorate(fn: Callable):
        @functools.wraps(fn)
        def wrapper(self: "Cloud", *args, **kwargs):
            if self._in_operation:
                return fn(self, *args, **kwargs)
            self._in_operation = True
            own_log = self._undo is None
            if own_log:
                self._undo = []
            mark = len(self._undo)
            self._exhausted = frozenset()
            try:
                result = fn(self, *args, **kwargs)
            except BaseException as exc:
                self._unwind(mark)
                if own_log:
                    self._undo = None
                self._record(name, args, kwargs, exc)
                raise
            finally:
                self._in_operation = False
                self._exhausted = frozenset()
            if own_log:
                self._undo = None
            self._record(name, args, kwargs, result)
            return result

        wrapper.operation_name = name
        return wrapper

    return decorate


def _key(value) -> Any:
    if isinstance(value, (list, tuple)):
        return [_key(v) for v in value]
    uuid = getattr(value, "uuid", None)
    return uuid if uuid is not None else value


class Cloud(BackupMixin, StorageMixin):
    """A simulated data centre.

    ``Cloud(topology="demo", seed=0)``: ``topology`` is a preset name, a file path, a dict
    or a ``Topology``; ``clock`` defaults to a ``SystemClock`` (reads ``time.time()``, so
    freezegun controls it); pass ``ManualClock(start)`` for a clock that only ``tick``
    moves.
    """

    def __init__(self, topology: "str | Topology | dict" = "demo", seed: int = 0,
                 clock: Clock | None = None) -> None:
        self._init_empty(load_topology(topology), seed, clock or SystemClock())
        self._build(self.topology)

    # -- construction ------------------------------------------------------------------
    def _init_empty(self, topology: Topology, seed: int, clock: Clock) -> None:
        self.topology = topology
        self.settings = topology.settings
        self.seed = seed
        self.clock = clock
        self.ids = IdGenerator(seed)
        self.rng = random.Random(f"fakestack-rng:{seed}")
        self.lock = threading.RLock()
        for attr, _cls in COLLECTIONS:
            setattr(self, attr, Collection("disk" if attr == "nodes" else attr[:-1]))
        self.image_caches: dict[str, str] = {}  # "<image>:<ps>" -> node uuid
        self.host_index = HostIndex(self.rng)
        self._dialect_state: dict[str, dict] = {}
        self.journal = OperationJournal(self.settings.journal_size)
        self._journal_seq = 0
        self._in_operation = False
        self._undo: list | None = None
        self._exhausted: frozenset = frozenset()
        self._job_latency = 0.0
        self._job_hang = False
        self.faults = None  # a fakestack.faults.FaultInjector, when a plan is active
        self._time_listeners: dict[str, Callable] = {}
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
                Cluster(ids.uuid(), c.name, zones[c.zone].uuid, hypervisor_type=c.hypervisor_type,
                        architecture=c.architecture, create_date=now))
        for i, h in enumerate(topo.hosts):
            cluster = clusters[h.cluster]
            host = Host(
                uuid=ids.uuid(), name=h.name, zone_uuid=cluster.zone_uuid, cluster_uuid=cluster.uuid,
                management_ip=h.management_ip or f"10.0.{(i >> 8) & 255}.{i & 255}",
                cpu_num=h.cpu_num, cpu_sockets=h.cpu_sockets, cpu_ratio=h.cpu_overprovisioning_ratio,
                total_cpu=int(h.cpu_num * h.cpu_overprovisioning_ratio), total_memory=h.memory,
                reserved_memory=h.reserved_memory, state=h.state, status=h.status,
                architecture=h.architecture, seq=i, create_date=now, last_op_date=now,
            )
            self.hosts.add(host)
            self.host_index.add(host)
        self._host_seq = len(topo.hosts)
        first_zone = next(iter(zones.values()))
        for p in topo.primary_storages:
            zone = zones[p.zone] if p.zone else first_zone
            self.primary_storages.add(PrimaryStorage(
                uuid=ids.uuid(), name=p.name, zone_uuid=zone.uuid, type=p.type,
                url=p.url or f"/fakestack/{p.name}", total_capacity=p.total_capacity,
                total_physical_capacity=p.physical_capacity or p.total_capacity,
                ratio=p.overprovisioning_ratio, physical_threshold=p.physical_threshold,
                reserved_capacity=p.reserved_capacity, default_thick=p.provisioning == "thick",
                cluster_uuids=[clusters[c].uuid for c in p.clusters], state=p.state,
                status=p.status, create_date=now, last_op_date=now))
        for b in topo.backup_storages:
            self.backup_storages.add(BackupStorage(
                uuid=ids.uuid(), name=b.name, type=b.type, url=b.url,
                hostname=b.hostname or "127.0.0.1", total_capacity=b.total_capacity,
                reserved_capacity=b.reserved_capacity,
                zone_uuids=[zones[z].uuid for z in b.zones] or [first_zone.uuid],
                state=b.state, status=b.status, create_date=now, last_op_date=now))
        for im in topo.images:
            image = Image(
                uuid=ids.uuid(), name=im.name, media_type=im.media_type, format=im.format,
                platform=im.platform, guest_os_type=im.guest_os_type, architecture=im.architecture,
                virtual_size=im.virtual_size, actual_size=im.actual_size, create_date=now,
                last_op_date=now)
            image.url = f"http://fakestack.local/images/{im.name}.{im.format}"
            for bs_name in im.backup_storages:
                bs = self.backup_storages.get(bs_name)
                node = self._new_node(bs, None, im.virtual_size, im.actual_size, "image")
                image.backup_storage_refs.append({
                    "backup_storage_uuid": bs.uuid, "node_uuid": node.uuid,
                    "install_path": f"zstore://{_slug(im.name)}/{node.uuid}", "status": "Ready"})
            self.images.add(image)
        for o in topo.instance_offerings:
            self.instance_offerings.add(InstanceOffering(
                ids.uuid(), o.name, o.cpu_num, o.memory_size, o.allocator_strategy, create_date=now))
        for d in topo.disk_offerings:
            self.disk_offerings.add(DiskOffering(ids.uuid(), d.name, d.disk_size, create_date=now))
        for n in topo.l3_networks:
            net = ipaddress.IPv4Network(n.cidr)
            first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
            self.l3_networks.add(L3Network(
                uuid=ids.uuid(), name=n.name, zone_uuid=zones[n.zone].uuid, cidr=n.cidr,
                gateway=n.gateway, netmask=str(net.netmask), first_ip=first, last_ip=last,
                next_ip=first, create_date=now))
        for v in topo.vms:
            vm = self.create_vm(
                v.name, image=v.image, instance_offering=v.instance_offering,
                l3_networks=v.l3_networks, host=v.host, primary_storage=v.primary_storage,
                data_disk_offerings=v.data_disks,
                strategy="JustCreate" if v.state == "Created" else "InstantStart")
            if v.written:
                self.write(vm.root_volume_uuid, v.written)
            if v.state == "Stopped":
                self.stop_vm(vm)
            elif v.state == "Paused":
                self.pause_vm(vm)
        self.journal.clear()
        self._journal_seq = 0

    # -- infrastructure ----------------------------------------------------------------
    def dialect_state(self, name: str) -> dict:
        """JSON-able state a dialect keeps on the cloud (sessions, id maps); snapshotted."""
        return self._dialect_state.setdefault(name, {})

    def tick(self, seconds: float = 1.0) -> float:
        """Move the clock forward (jobs whose end has come complete) and let time-driven
        work (asynchronous boots, expiries) catch up."""
        now = self.clock.advance(seconds)
        self.settle()
        return now

    def on_time(self, listener: Callable[["Cloud"], None], key: str | None = None) -> None:
        """Register ``listener(cloud)``, called by ``settle()``: after every ``tick`` and
        before every request the app serves.  A dialect that schedules work for later
        (e.g. an asynchronous boot) does it there.  One listener per ``key`` (default: the
        listener's qualified name), so a rebuilt dialect replaces its predecessor's.
        Listeners are not part of the state."""
        self._time_listeners[key or getattr(listener, "__qualname__", repr(listener))] = listener

    def settle(self) -> None:
        """Run the time listeners once (the clock may have moved since they last ran)."""
        for listener in list(self._time_listeners.values()):
            listener(self)

    def now(self) -> float:
        return self.clock.now()

    @contextmanager
    def atomic(self):
        """Group several operations: if the block raises, every change is undone (and the
        journal says so with an ``atomic.rollback`` entry)."""
        if self._undo is not None:
            yield self
            return
        self._undo = []
        try:
            yield self
        except BaseException as exc:
            self._unwind(0)
            self._record("atomic.rollback", (), {}, exc)
            raise
        finally:
            self._undo = None
            self._exhausted = frozenset()

    @contextmanager
    def durable(self):
        """Changes made in this block stick even if the operation around it rolls back
        (a fault plan disconnecting a host in the middle of an operation, say)."""
        saved = self._undo
        self._undo = None
        try:
            yield self
        finally:
            self._undo = saved

    @property
    def journal_seq(self) -> int:
        """How many operations have been journaled so far (a change counter)."""
        return self._journal_seq

    def _record(self, name: str, args, kwargs, outcome) -> None:
        self._journal_seq += 1
        self.journal.append((self._journal_seq, self.clock.now(), name, args, kwargs, outcome))

    def _fault_point(self, op: str, **targets) -> None:
        """Ask the active fault plan about this operation; apply what it says."""
        if self.faults is None:
            return
        effects = self.faults.on_operation(self, op, targets)
        if effects is None:
            return
        if effects.latency:
            self._job_latency += effects.latency
        if effects.hang:
            self._job_hang = True
        if effects.exhaust:
            self._exhausted = self._exhausted | frozenset(effects.exhaust)
        if effects.error is not None:
            raise effects.error

    def _set(self, obj, attr: str, value) -> None:
        """Set an attribute, undoably."""
        undo = self._undo
        if undo is not None:
            undo.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, value)

    def _unwind(self, mark: int) -> None:
        """Undo every change recorded after position ``mark`` of the undo log, newest first.
        Entries are ``(obj, attr, old_value)`` triples or callables."""
        undo = self._undo
        while len(undo) > mark:
            step = undo.pop()
            if type(step) is tuple:
                setattr(*step)
            else:
                step()

    def _add(self, collection: Collection, entity):
        collection.add(entity)
        if self._undo is not None:
            self._undo.append(lambda: collection.remove(entity))
        return entity

    def _remove(self, collection: Collection, entity) -> None:
        seq = collection.remove(entity)
        if self._undo is not None:
            self._undo.append(lambda: collection.restore(entity, seq))

    # -- jobs --------------------------------------------------------------------------
    def submit(self, operation_name: str, fn: Callable, *args, **kwargs) -> Job:
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
        job = Job(uuid=job_uuid or self.ids.uuid(), operation=operation_name,
                  start=start, end=None if self._job_hang else start + duration,
                  result=result, error=error)
        self._job_latency = 0.0
        self._job_hang = False
        self.jobs.add(job)
        return job

    def job_state(self, job) -> str:
        job = self.jobs.get(job)
        return job.state_at(self.clock.now())

    def release_job(self, job) -> Job:
        """Let a hung job finish now."""
        job = self.jobs.get(job)
        if job.end is None:
            job.end = self.clock.now()
        return job

    def _claim_uuid(self, wanted: str | None, collection: Collection) -> str:
        """A caller-chosen uuid (ZStack's ``resourceUuid``: 32 hex digits, unused), or a new one."""
        if wanted is None:
            return self.ids.uuid()
        if not isinstance(wanted, str) or not _UUID32.fullmatch(wanted):
            raise InvalidArgument("resourceUuid", f"{wanted!r} is not a uuid of 32 hex digits")
        if wanted in collection:
            raise Conflict(collection.kind, wanted,
                           f"{collection.kind}[uuid:{wanted}] already exists")
        return wanted

    # -- lookups -----------------------------------------------------------------------
    def _vm(self, vm) -> Vm:
        return vm if isinstance(vm, Vm) else self.vms.get(vm)

    def _volume(self, volume) -> Volume:
        return volume if isinstance(volume, Volume) else self.volumes.get(volume)

    def _state_check(self, vm: Vm, op: str) -> None:
        allowed = ALLOWED[op]
        if vm.state not in allowed:
            raise InvalidState("vm", vm.uuid, vm.state, op, allowed)

    def vm_volumes(self, vm) -> list[Volume]:
        vm = self._vm(vm)
        out = []
        if vm.root_volume_uuid:
            out.append(self.volumes.get(vm.root_volume_uuid))
        out.extend(self.volumes.get(u) for u in vm.data_volume_uuids)
        return out

    def volume_actual_size(self, volume) -> int:
        volume = self._volume(volume)
        if volume.node_uuid is None:
            return 0
        return self.nodes.get(volume.node_uuid).actual_size

    def volume_allocated_size(self, volume) -> int:
        volume = self._volume(volume)
        if volume.node_uuid is None:
            return 0
        return self.chain_allocated_size(self.nodes.get(volume.node_uuid))

    def volume_chain_depth(self, volume) -> int:
        volume = self._volume(volume)
        return self.nodes.get(volume.node_uuid).depth if volume.node_uuid else 0

    # -- host capacity -----------------------------------------------------------------
    def _host_shortage(self, host: Host, cpu: int, memory: int) -> CapacityExhausted:
        free_memory = host.total_memory - host.used_memory - host.reserved_memory
        request = {"cpu": cpu, "memory": memory}
        if free_memory < memory:
            return CapacityExhausted("host.memory", memory, max(free_memory, 0),
                                     resource_uuid=host.uuid, request=request)
        return CapacityExhausted("host.cpu", cpu, max(host.total_cpu - host.used_cpu, 0),
                                 resource_uuid=host.uuid, request=request)

    def _set_host_usage(self, host: Host, cpu: int, memory: int, vms: int) -> None:
        index = self.host_index
        index.remove(host)
        host.used_cpu += cpu
        host.used_memory += memory
        host.vm_count += vms
        index.add(host)
        if self._undo is not None:
            self._undo.append(lambda: self._set_host_usage_raw(host, -cpu, -memory, -vms))

    def _set_host_usage_raw(self, host: Host, cpu: int, memory: int, vms: int) -> None:
        self.host_index.remove(host)
        host.used_cpu += cpu
        host.used_memory += memory
        host.vm_count += vms
        self.host_index.add(host)

    def _hold_host(self, vm: Vm, host: Host) -> None:
        if self._exhausted:
            self._injected_host_shortage(vm, host)
        if not HostIndex.fits(host, vm.cpu_num, vm.memory_size, None):
            raise self._host_shortage(host, vm.cpu_num, vm.memory_size)
        self._set_host_usage(host, vm.cpu_num, vm.memory_size, 1)
        self._set(vm, "host_uuid", host.uuid)
        self._set(vm, "last_host_uuid", host.uuid)
        self._set(vm, "cluster_uuid", host.cluster_uuid)

    def _release_host(self, vm: Vm) -> None:
        if vm.host_uuid is None:
            return
        self._set_host_usage(self.hosts.get(vm.host_uuid), -vm.cpu_num, -vm.memory_size, -1)
        self._set(vm, "host_uuid", None)

    def _injected_host_shortage(self, vm: Vm, host: Host | None = None) -> None:
        """Raise the shortage a fault plan asked for, shaped like a real one."""
        for resource in ("host.memory", "host.cpu", "host"):
            if resource in self._exhausted:
                needed = vm.cpu_num if resource == "host.cpu" else vm.memory_size
                raise CapacityExhausted(
                    resource, needed, 0, resource_uuid=host.uuid if host is not None else None,
                    request={"cpu": vm.cpu_num, "memory": vm.memory_size}, injected=True)

    def _choose_host(self, vm: Vm, *, host=None, clusters=None, strategy=None) -> Host:
        if self._exhausted:
            self._injected_host_shortage(vm, host)
        if host is not None:
            if not host.schedulable:
                if host.status != "Connected":
                    raise Unreachable("host", host.uuid)
                raise InvalidState("host", host.uuid, host.state, "allocate")
            if clusters is not None and host.cluster_uuid not in clusters:
                raise InvalidArgument("hostUuid", f"host[uuid:{host.uuid}] cannot reach the storage")
            if not HostIndex.fits(host, vm.cpu_num, vm.memory_size, None):
                raise self._host_shortage(host, vm.cpu_num, vm.memory_size)
            return host
        strategy = strategy or vm.allocator_strategy or self.settings.default_allocator_strategy
        last = self.hosts.find(vm.last_host_uuid) if vm.last_host_uuid else None
        return self.host_index.choose(strategy, vm.cpu_num, vm.memory_size, clusters, last)

    # -- IP addresses ------------------------------------------------------------------
    def _allocate_nic(self, vm: Vm, l3: L3Network, device_id: int) -> Nic:
        if l3.released:
            ip = heapq.heappop(l3.released)
            if self._undo is not None:
                self._undo.append(lambda: heapq.heappush(l3.released, ip))
        else:
            ip = l3.next_ip
            if ip == _ip_int(l3.gateway):
                ip += 1
            if ip > l3.last_ip:
                raise CapacityExhausted("l3.ip", 1, 0, resource_uuid=l3.uuid,
                                        message=f"no free IP address left on l3 network[uuid:{l3.uuid}]")
            self._set(l3, "next_ip", ip + 1)
        h = self.ids.hex(10)
        mac = f"fa:{h[0:2]}:{h[2:4]}:{h[4:6]}:{h[6:8]}:{h[8:10]}"
        nic = Nic(self.ids.uuid(), vm.uuid, l3.uuid, _ip_str(ip), mac,
                  l3.netmask, l3.gateway, device_id, self.clock.now())
        self._add(self.nics, nic)
        key = str(ip)
        l3.used[key] = nic.uuid
        if self._undo is not None:
            self._undo.append(lambda: l3.used.pop(key, None))
        return nic

    def _release_nic(self, nic: Nic) -> None:
        l3 = self.l3_networks.get(nic.l3_network_uuid)
        ip = _ip_int(nic.ip)
        key = str(ip)
        held = l3.used.pop(key, None)
        heapq.heappush(l3.released, ip)
        if self._undo is not None:
            def undo():
                l3.released.remove(ip)
                heapq.heapify(l3.released)
                if held is not None:
                    l3.used[key] = held
            self._undo.append(undo)
        self._remove(self.nics, nic)

    # -- primary storage choice --------------------------------------------------------
    def _image_cache(self, image: Image, ps: PrimaryStorage) -> DiskNode | None:
        uuid = self.image_caches.get(f"{image.uuid}:{ps.uuid}")
        return self.nodes.find(uuid) if uuid else None

    def _ensure_image_cache(self, image: Image, ps: PrimaryStorage) -> DiskNode:
        node = self._image_cache(image, ps)
        if node is not None:
            return node
        ready = [r for r in image.backup_storage_refs if r["status"] == "Ready"
                 and self.backup_storages.get(r["backup_storage_uuid"]).status == "Connected"]
        if not ready:
            if image.backup_storage_refs:
                raise Unreachable("backup_storage", image.backup_storage_refs[0]["backup_storage_uuid"])
            raise InvalidState("image", image.uuid, image.status, "download")
        node = self._new_node(ps, None, image.virtual_size, image.actual_size, "image-cache",
                              charge_virtual=True)
        key = f"{image.uuid}:{ps.uuid}"
        self.image_caches[key] = node.uuid
        if self._undo is not None:
            self._undo.append(lambda: self.image_caches.pop(key, None))
        return node

    def _storage_need(self, ps: PrimaryStorage, image: Image | None, parent: DiskNode | None,
                      root_size: int, data_sizes: Iterable[int], thick: bool) -> tuple[int, int]:
        """(virtual charge, physical bytes) that a VM's volumes need on ``ps``."""
        leaf = self.settings.new_leaf_size
        virtual = virtual_charge(ps, root_size)
        physical = root_size if thick else min(leaf, root_size)
        if image is not None and self._image_cache(image, ps) is None:
            virtual += virtual_charge(ps, image.actual_size)
            physical += image.actual_size
        for size in data_sizes:
            virtual += virtual_charge(ps, size)
            physical += size if thick else min(leaf, size)
        return virtual, physical

    def _pick_primary_storage(self, candidates: list[PrimaryStorage], need) -> PrimaryStorage:
        """The candidate with the most free virtual capacity that fits ``need(ps)``."""
        best = None
        shortage: CapacityExhausted | None = None
        for ps in candidates:
            if not ps.usable:
                continue
            virtual, physical = need(ps)
            v_room = ps.total_capacity - ps.reserved_capacity - ps.used_virtual
            p_room = ps.physical_limit - ps.used_physical
            if "primary_storage.virtual" in self._exhausted:
                v_room = 0
            if "primary_storage.physical" in self._exhausted:
                p_room = 0
            if virtual > v_room:
                if shortage is None or shortage.resource != "primary_storage.virtual":
                    shortage = CapacityExhausted("primary_storage.virtual", virtual, max(v_room, 0),
                                                 resource_uuid=ps.uuid,
                                                 injected="primary_storage.virtual" in self._exhausted)
                continue
            if physical > p_room:
                if shortage is None:
                    shortage = CapacityExhausted("primary_storage.physical", physical, max(p_room, 0),
                                                 resource_uuid=ps.uuid,
                                                 injected="primary_storage.physical" in self._exhausted)
                continue
            if best is None or v_room > best[0]:
                best = (v_room, ps)
        if best is None:
            if shortage is None:
                shortage = CapacityExhausted("primary_storage.virtual", need(candidates[0])[0] if candidates else 0,
                                             0, resource_uuid=None)
                if candidates and all(not ps.usable for ps in candidates):
                    ps = candidates[0]
                    if ps.status != "Connected":
                        raise Unreachable("primary_storage", ps.uuid)
            raise shortage
        return best[1]

    def _cluster_storages(self, cluster_uuid: str) -> list[PrimaryStorage]:
        return [ps for ps in self.primary_storages if cluster_uuid in ps.cluster_uuids]

    # -- VM lifecycle ------------------------------------------------------------------
    @operation("vm.create")
    def create_vm(self, name: str, *, image=None, instance_offering=None, cpu_num: int | None = None,
                  memory_size: int | None = None, l3_networks=None, snapshot=None, host=None,
                  cluster=None, zone=None, primary_storage=None, primary_storage_for_data=None,
                  data_disk_offerings=(), data_disk_sizes=(), strategy: str = "InstantStart",
                  allocator_strategy: str | None = None, provisioning: str | None = None,
                  description: str = "", platform: str | None = None,
                  resource_uuid: str | None = None) -> Vm:
        """Create a VM from an image (or a volume snapshot) and an offering (or cpu/memory).

        ``strategy``: ``InstantStart`` (placed and Running), ``CreateStopped`` (placed,
        then Stopped) or ``JustCreate`` (a Created record holding nothing until its first
        start).  A failed placement deletes the half-built VM and raises.
        """
        self._fault_point("vm.create", name=name, image=_key(image), host=_key(host))
        vm = self._new_vm_record(
            name, image=image, instance_offering=instance_offering, cpu_num=cpu_num,
            memory_size=memory_size, l3_networks=l3_networks, snapshot=snapshot, zone=zone,
            host=host, cluster=cluster, primary_storage=primary_storage,
            primary_storage_for_data=primary_storage_for_data,
            data_disk_offerings=data_disk_offerings, data_disk_sizes=data_disk_sizes,
            strategy=strategy, allocator_strategy=allocator_strategy, provisioning=provisioning,
            description=description, platform=platform, resource_uuid=resource_uuid)
        if strategy != "JustCreate":
            self._instantiate(vm)
            if strategy == "CreateStopped":
                self._stop(vm)
        return vm

    def _new_vm_record(self, name, *, image=None, instance_offering=None, cpu_num=None,
                       memory_size=None, l3_networks=None, snapshot=None, zone=None, host=None,
                       cluster=None, primary_storage=None, primary_storage_for_data=None,
                       data_disk_offerings=(), data_disk_sizes=(), strategy="InstantStart",
                       allocator_strategy=None, provisioning=None, description="",
                       platform=None, resource_uuid=None) -> Vm:
        uuid = self._claim_uuid(resource_uuid, self.vms)
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if strategy not in STRATEGIES:
            raise InvalidArgument("strategy", f"must be one of {', '.join(STRATEGIES)}")
        if provisioning not in (None, "thin", "thick"):
            raise InvalidArgument("provisioning", "must be thin or thick")
        offering = self.instance_offerings.get(instance_offering) if instance_offering else None
        if offering is None:
            if not cpu_num or not memory_size:
                raise InvalidArgument("instanceOfferingUuid",
                                      "give an instance offering, or cpuNum and memorySize")
            if cpu_num <= 0 or memory_size <= 0:
                raise InvalidArgument("cpuNum" if cpu_num <= 0 else "memorySize", "must be positive")
        snap = self.volume_snapshots.get(snapshot) if snapshot is not None else None
        img = self.images.get(image) if image is not None else None
        if img is None and snap is None:
            raise InvalidArgument("imageUuid", "give an image or a volume snapshot")
        if img is not None:
            if img.status != "Ready" or img.state != "Enabled":
                raise InvalidState("image", img.uuid, img.status, "create vm")
            if img.media_type != "RootVolumeTemplate":
                raise InvalidArgument("imageUuid", f"image[uuid:{img.uuid}] is a {img.media_type}, "
                                      "not a RootVolumeTemplate")
        hint_host = self.hosts.get(host) if host is not None else None
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        ps_root = self.primary_storages.get(primary_storage) if primary_storage is not None else None
        ps_data = (self.primary_storages.get(primary_storage_for_data)
                   if primary_storage_for_data is not None else None)
        if allocator_strategy is not None:
            from .topology import ALLOCATOR_STRATEGIES
            if allocator_strategy not in ALLOCATOR_STRATEGIES:
                raise InvalidArgument("allocatorStrategy", f"unknown strategy {allocator_strategy}")
        data_sizes = [self.disk_offerings.get(d).disk_size for d in data_disk_offerings]
        data_offerings = [self.disk_offerings.get(d).uuid for d in data_disk_offerings]
        for size in data_disk_sizes:
            if size <= 0:
                raise InvalidArgument("dataDiskSizes", "sizes must be positive")
            data_sizes.append(size)
            data_offerings.append(None)
        if zone is not None:
            zone_uuid = self.zones.get(zone).uuid
        elif hint_host is not None:
            zone_uuid = hint_host.zone_uuid
        elif hint_cluster is not None:
            zone_uuid = hint_cluster.zone_uuid
        elif snap is not None:
            zone_uuid = self.primary_storages.get(snap.primary_storage_uuid).zone_uuid
        else:
            zone_uuid = next(iter(self.zones)).uuid
        if l3_networks is None:
            nets = [n for n in self.l3_networks if n.zone_uuid == zone_uuid][:1]
        else:
            nets = [self.l3_networks.get(n) for n in l3_networks]
        if not nets:
            raise InvalidArgument("l3NetworkUuids", "at least one L3 network is needed")
        source_vm = None
        if snap is not None:
            source_vol = self.volumes.find(snap.volume_uuid)
            source_vm = self.vms.find(source_vol.vm_uuid or source_vol.last_vm_uuid) if source_vol else None
        now = self.clock.now()
        vm = Vm(
            uuid=uuid, name=name, zone_uuid=zone_uuid,
            cpu_num=offering.cpu_num if offering else cpu_num,
            memory_size=offering.memory_size if offering else memory_size,
            instance_offering_uuid=offering.uuid if offering else None,
            image_uuid=img.uuid if img else (source_vm.image_uuid if source_vm else None),
            description=description, state="Created",
            l3_network_uuids=[n.uuid for n in nets],
            allocator_strategy=allocator_strategy or (offering.allocator_strategy if offering else None),
            platform=platform or (img.platform if img else (source_vm.platform if source_vm else "Linux")),
            guest_os_type=img.guest_os_type if img else (source_vm.guest_os_type if source_vm else ""),
            architecture=img.architecture if img else (source_vm.architecture if source_vm else "x86_64"),
            pending={
                "image": img.uuid if img else None,
                "snapshot": snap.uuid if snap else None,
                "host": hint_host.uuid if hint_host else None,
                "cluster": hint_cluster.uuid if hint_cluster else None,
                "primary_storage": ps_root.uuid if ps_root else None,
                "primary_storage_for_data": ps_data.uuid if ps_data else None,
                "data_sizes": data_sizes, "data_offerings": data_offerings,
                "thick": None if provisioning is None else provisioning == "thick",
            },
            create_date=now, last_op_date=now)
        self._add(self.vms, vm)
        return vm

    def _instantiate(self, vm: Vm, strategy: str | None = None) -> None:
        """First start of a Created VM: place host and storage, build volumes and NICs."""
        p = vm.pending
        image = self.images.get(p["image"]) if p["image"] else None
        snap = self.volume_snapshots.get(p["snapshot"]) if p["snapshot"] else None
        parent_node = self.nodes.get(snap.node_uuid) if snap else None
        hint_host = self.hosts.get(p["host"]) if p["host"] else None
        hint_cluster = p["cluster"]
        ps_root = self.primary_storages.get(p["primary_storage"]) if p["primary_storage"] else None
        ps_data = (self.primary_storages.get(p["primary_storage_for_data"])
                   if p["primary_storage_for_data"] else None)
        root_size = image.virtual_size if image else parent_node.virtual_size
        data_sizes = p["data_sizes"]
        # Storage first: which primary storages (of the VM's zone, reachable from the hinted
        # host or cluster) can hold the volumes; then a host in a cluster attached to one.
        if hint_host is not None:
            scope = {hint_host.cluster_uuid}
        elif hint_cluster is not None:
            scope = {hint_cluster}
        else:
            scope = None
        if snap is not None:
            ps_root = ps_root or self.primary_storages.get(snap.primary_storage_uuid)
        if ps_root is not None:
            candidates = [ps_root]
        else:
            candidates = [ps for ps in self.primary_storages if ps.zone_uuid == vm.zone_uuid]
        if scope is not None:
            candidates = [ps for ps in candidates if scope.intersection(ps.cluster_uuids)]
        forced_thick = p["thick"]
        root_data = data_sizes if ps_data is None else ()
        fitting: list[PrimaryStorage] = []
        shortage: DomainError | None = None
        for ps in candidates:
            thick = ps.default_thick if forced_thick is None else forced_thick
            try:
                self._pick_primary_storage([ps], lambda ps, thick=thick: self._storage_need(
                    ps, image, parent_node, root_size, root_data, thick))
            except (CapacityExhausted, Unreachable) as exc:
                shortage = shortage or exc
                continue
            fitting.append(ps)
        if ps_data is not None and fitting:
            thick = ps_data.default_thick if forced_thick is None else forced_thick
            self._pick_primary_storage([ps_data], lambda ps: self._storage_need(
                ps, None, None, 0, data_sizes, thick))
        if not fitting:
            if shortage is not None:
                raise shortage
            raise CapacityExhausted("primary_storage.virtual", virtual_charge_guess(root_size), 0,
                                    message="no primary storage is attached to a cluster that can run the vm")
        fitting.sort(key=lambda ps: ps.used_virtual + ps.reserved_capacity - ps.total_capacity)
        clusters: set[str] = set()
        for ps in fitting:
            clusters.update(ps.cluster_uuids)
        if scope is not None:
            clusters &= scope
        if ps_data is not None:
            clusters &= set(ps_data.cluster_uuids)
            if not clusters:
                raise InvalidArgument("primaryStorageUuidForDataVolume",
                                      f"primary storage[uuid:{ps_data.uuid}] is not attached to a "
                                      "cluster that can run the vm")
        host = self._choose_host(vm, host=hint_host, clusters=frozenset(clusters))
        ps = next(ps for ps in fitting if host.cluster_uuid in ps.cluster_uuids)
        self._hold_host(vm, host)
        thick = ps.default_thick if p["thick"] is None else p["thick"]
        if snap is not None:
            root = self._new_volume_on(vm, "Root", root_size, ps, parent=parent_node, thick=thick)
        else:
            cache = self._ensure_image_cache(image, ps)
            root = self._new_volume_on(vm, "Root", root_size, ps, parent=cache, thick=thick)
            root.root_image_uuid = image.uuid
        self._set(vm, "root_volume_uuid", root.uuid)
        data_ps = ps_data or ps
        data_thick = data_ps.default_thick if p["thick"] is None else p["thick"]
        uuids = []
        for i, size in enumerate(data_sizes):
            vol = self._new_volume_on(vm, "Data", size, data_ps, parent=None, thick=data_thick,
                                      device_id=i + 1)
            vol.disk_offering_uuid = p["data_offerings"][i]
            uuids.append(vol.uuid)
        self._set(vm, "data_volume_uuids", uuids)
        for i, l3_uuid in enumerate(vm.l3_network_uuids):
            nic = self._allocate_nic(vm, self.l3_networks.get(l3_uuid), i)
            self._set(vm, "nic_uuids", vm.nic_uuids + [nic.uuid])
        self._set(vm, "pending", None)
        self._set(vm, "state", "Running")
        vm.last_op_date = self.clock.now()

    def _new_volume_on(self, vm: Vm | None, vtype: str, size: int, ps: PrimaryStorage, *,
                       parent: DiskNode | None, thick: bool, device_id: int = 0,
                       name: str | None = None, uuid: str | None = None) -> Volume:
        uuid = uuid or self.ids.uuid()
        charge = virtual_charge(ps, size)
        self._charge_virtual(ps, charge)
        initial = size if thick else self.settings.new_leaf_size
        node = self._new_node(ps, parent, size, initial, "leaf", thick=thick)
        now = self.clock.now()
        if name is None:
            name = f"ROOT-for-{vm.name}" if vtype == "Root" else f"DATA-for-{vm.name}"
        volume = Volume(uuid=uuid, name=name, type=vtype, virtual_size=size,
                        vm_uuid=vm.uuid if vm else None, primary_storage_uuid=ps.uuid,
                        node_uuid=node.uuid, thick=thick, virtual_charge=charge,
                        status="Ready", device_id=device_id, create_date=now, last_op_date=now)
        self._add(self.volumes, volume)
        return volume

    def _running_clusters(self, vm: Vm) -> frozenset[str] | None:
        """Clusters whose hosts can reach every one of the VM's volumes."""
        allowed: set[str] | None = None
        for vol in self.vm_volumes(vm):
            if vol.primary_storage_uuid is None:
                continue
            ps = self.primary_storages.get(vol.primary_storage_uuid)
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
            clusters = set(ps.cluster_uuids)
            allowed = clusters if allowed is None else allowed & clusters
        return frozenset(allowed) if allowed is not None else None

    @operation("vm.start")
    def start_vm(self, vm, *, host=None) -> Vm:
        """Start a Created, Stopped or Crashed VM (a no-op when Running).  A Created VM's
        first start places and builds it; if that fails the VM record is deleted."""
        vm = self._vm(vm)
        self._fault_point("vm.start", vm=vm.uuid, name=vm.name)
        self._state_check(vm, "start")
        if vm.state == "Running":
            return vm
        hint = self.hosts.get(host) if host is not None else None
        if vm.state == "Created":
            if hint is not None:
                vm.pending = dict(vm.pending, host=hint.uuid)
            try:
                self._instantiate(vm)
            except DomainError:
                self._delete_created_vm(vm)
                raise
            return vm
        self._start_existing(vm, hint)
        return vm

    def _delete_created_vm(self, vm: Vm) -> None:
        """A Created VM whose first start failed is removed (outside the failed transaction,
        so that the deletion itself sticks)."""
        # The surrounding operation will roll back; remember to delete after.
        if self._undo is not None:
            self._undo.append(lambda: self.vms.find(vm.uuid) and self.vms.remove(vm))

    def _start_existing(self, vm: Vm, hint: Host | None) -> None:
        clusters = self._running_clusters(vm)
        local = any(self.primary_storages.get(v.primary_storage_uuid).type == "LocalStorage"
                    for v in self.vm_volumes(vm) if v.primary_storage_uuid)
        if local and hint is None and vm.last_host_uuid:
            hint = self.hosts.get(vm.last_host_uuid)
        strategy = "LastHostPreferredAllocatorStrategy"
        if vm.allocator_strategy and vm.allocator_strategy != "DefaultHostAllocatorStrategy":
            strategy = vm.allocator_strategy
        host = self._choose_host(vm, host=hint, clusters=clusters, strategy=strategy)
        self._hold_host(vm, host)
        self._set(vm, "state", "Running")
        vm.last_op_date = self.clock.now()

    def _stop(self, vm: Vm) -> None:
        self._release_host(vm)
        self._set(vm, "state", "Stopped")
        self._set(vm, "frozen", False)
        vm.last_op_date = self.clock.now()

    @operation("vm.stop")
    def stop_vm(self, vm) -> Vm:
        vm = self._vm(vm)
        self._fault_point("vm.stop", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "stop")
        if vm.state != "Stopped":
            self._stop(vm)
        return vm

    @operation("vm.reboot")
    def reboot_vm(self, vm) -> Vm:
        vm = self._vm(vm)
        self._fault_point("vm.reboot", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "reboot")
        self._set(vm, "state", "Running")
        vm.last_op_date = self.clock.now()
        return vm

    @operation("vm.pause")
    def pause_vm(self, vm) -> Vm:
        vm = self._vm(vm)
        self._fault_point("vm.pause", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "pause")
        self._set(vm, "state", "Paused")
        return vm

    @operation("vm.resume")
    def resume_vm(self, vm) -> Vm:
        vm = self._vm(vm)
        self._fault_point("vm.resume", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "resume")
        self._set(vm, "state", "Running")
        return vm

    @operation("vm.freeze")
    def freeze_vm(self, vm, frozen: bool = True) -> Vm:
        """Mark a running VM frozen (vSphere ``instantclone.freeze``): its disks stop
        changing, and instant clones hang off its current leaf without growing its chain."""
        vm = self._vm(vm)
        if frozen and vm.state != "Running":
            raise InvalidState("vm", vm.uuid, vm.state, "freeze", ("Running",))
        if frozen and not vm.frozen:
            for vol in self.vm_volumes(vm):
                node = self._freeze_leaf(vol)
                self._set(node, "refs", node.refs - 1)
        self._set(vm, "frozen", bool(frozen))
        return vm

    @operation("vm.destroy")
    def destroy_vm(self, vm) -> Vm:
        """Destroyed (recoverable): host capacity returned, data volumes detached, disks kept."""
        vm = self._vm(vm)
        self._fault_point("vm.destroy", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "destroy")
        if vm.state == "Created" and vm.pending is not None:
            self._remove(self.vms, vm)
            self._set(vm, "state", "Destroyed")
            return vm
        self._release_host(vm)
        for uuid in list(vm.data_volume_uuids):
            self._detach(self.volumes.get(uuid), vm)
        self._set(vm, "state", "Destroyed")
        self._set(vm, "frozen", False)
        vm.last_op_date = self.clock.now()
        return vm

    @operation("vm.recover")
    def recover_vm(self, vm) -> Vm:
        vm = self._vm(vm)
        self._fault_point("vm.recover", vm=vm.uuid, name=vm.name)
        self._state_check(vm, "recover")
        self._set(vm, "state", "Stopped")
        return vm

    @operation("vm.expunge")
    def expunge_vm(self, vm) -> None:
        """Remove a Destroyed VM for good: its root volume's disk is released by the
        copy-on-write rules, its addresses are freed."""
        vm = self._vm(vm)
        self._fault_point("vm.expunge", vm=vm.uuid, name=vm.name)
        self._state_check(vm, "expunge")
        for uuid in list(vm.nic_uuids):
            self._release_nic(self.nics.get(uuid))
        if vm.root_volume_uuid:
            self._expunge_volume(self.volumes.get(vm.root_volume_uuid))
        self._remove(self.vms, vm)

    # -- volumes -----------------------------------------------------------------------
    @operation("volume.create")
    def create_data_volume(self, name: str, *, size: int | None = None, disk_offering=None,
                           primary_storage=None, provisioning: str | None = None,
                           description: str = "", resource_uuid: str | None = None) -> Volume:
        """A data volume: NotInstantiated (no storage, no capacity) unless a primary storage
        is given, in which case it is created there at once."""
        self._fault_point("volume.create", name=name, primary_storage=_key(primary_storage))
        uuid = self._claim_uuid(resource_uuid, self.volumes)
        offering = self.disk_offerings.get(disk_offering) if disk_offering is not None else None
        if offering is not None:
            size = offering.disk_size
        if not size or size <= 0:
            raise InvalidArgument("diskSize", "give a disk offering or a positive size")
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if provisioning not in (None, "thin", "thick"):
            raise InvalidArgument("provisioning", "must be thin or thick")
        now = self.clock.now()
        if primary_storage is None:
            volume = Volume(uuid=uuid, name=name, type="Data", virtual_size=size,
                            description=description, status="NotInstantiated",
                            thick=provisioning == "thick",
                            disk_offering_uuid=offering.uuid if offering else None,
                            create_date=now, last_op_date=now)
            return self._add(self.volumes, volume)
        ps = self.primary_storages.get(primary_storage)
        if not ps.usable:
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
            raise InvalidState("primary_storage", ps.uuid, ps.state, "allocate")
        thick = ps.default_thick if provisioning is None else provisioning == "thick"
        volume = self._new_volume_on(None, "Data", size, ps, parent=None, thick=thick, name=name,
                                     uuid=uuid)
        volume.description = description
        volume.disk_offering_uuid = offering.uuid if offering else None
        return volume

    @operation("volume.attach")
    def attach_volume(self, volume, vm) -> Volume:
        volume, vm = self._volume(volume), self._vm(vm)
        self._fault_point("volume.attach", volume=volume.uuid, vm=vm.uuid, name=vm.name)
        self._state_check(vm, "attach_volume")
        if volume.type != "Data":
            raise InvalidArgument("volumeUuid", f"volume[uuid:{volume.uuid}] is not a data volume")
        if volume.vm_uuid is not None:
            raise InvalidState("volume", volume.uuid, "Attached", "attach")
        if volume.status not in ("Ready", "NotInstantiated"):
            raise InvalidState("volume", volume.uuid, volume.status, "attach", ("Ready", "NotInstantiated"))
        clusters = self._running_clusters(vm)
        if volume.status == "NotInstantiated":
            root = self.volumes.get(vm.root_volume_uuid) if vm.root_volume_uuid else None
            candidates = ([self.primary_storages.get(root.primary_storage_uuid)] if root else
                          [ps for ps in self.primary_storages if ps.zone_uuid == vm.zone_uuid])
            candidates += [ps for ps in self.primary_storages
                           if ps not in candidates and clusters is not None
                           and set(ps.cluster_uuids) & clusters]
            ps = self._pick_primary_storage(candidates, lambda ps: (
                virtual_charge(ps, volume.virtual_size),
                volume.virtual_size if volume.thick else min(self.settings.new_leaf_size, volume.virtual_size)))
            leaf = self.settings.new_leaf_size
            self._charge_virtual(ps, virtual_charge(ps, volume.virtual_size))
            self._set(volume, "virtual_charge", virtual_charge(ps, volume.virtual_size))
            node = self._new_node(ps, None, volume.virtual_size,
                                  volume.virtual_size if volume.thick else leaf, "leaf",
                                  thick=volume.thick)
            self._set(volume, "node_uuid", node.uuid)
            self._set(volume, "primary_storage_uuid", ps.uuid)
            self._set(volume, "status", "Ready")
        elif clusters is not None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
            if not set(ps.cluster_uuids) & clusters:
                raise InvalidArgument("volumeUuid", f"volume[uuid:{volume.uuid}] is on primary storage "
                                      f"[uuid:{ps.uuid}], which the vm's hosts cannot reach")
        used = {self.volumes.get(u).device_id for u in vm.data_volume_uuids}
        device = 1
        while device in used:
            device += 1
        self._set(volume, "device_id", device)
        self._set(volume, "vm_uuid", vm.uuid)
        self._set(volume, "last_vm_uuid", vm.uuid)
        self._set(vm, "data_volume_uuids", vm.data_volume_uuids + [volume.uuid])
        return volume

    def _detach(self, volume: Volume, vm: Vm) -> None:
        self._set(vm, "data_volume_uuids", [u for u in vm.data_volume_uuids if u != volume.uuid])
        self._set(volume, "vm_uuid", None)
        self._set(volume, "last_vm_uuid", vm.uuid)

    @operation("volume.detach")
    def detach_volume(self, volume) -> Volume:
        volume = self._volume(volume)
        self._fault_point("volume.detach", volume=volume.uuid)
        if volume.type != "Data":
            raise InvalidArgument("volumeUuid", f"volume[uuid:{volume.uuid}] is not a data volume")
        if volume.vm_uuid is None:
            raise InvalidState("volume", volume.uuid, "Detached", "detach")
        vm = self.vms.get(volume.vm_uuid)
        self._state_check(vm, "detach_volume")
        self._detach(volume, vm)
        return volume

    @operation("volume.delete")
    def delete_volume(self, volume) -> Volume:
        """Delete a data volume (delayed: status Deleted, disk kept until expunged)."""
        volume = self._volume(volume)
        self._fault_point("volume.delete", volume=volume.uuid)
        if volume.type != "Data":
            raise InvalidArgument("volumeUuid", f"volume[uuid:{volume.uuid}] is a root volume")
        if volume.status == "Deleted":
            return volume
        if volume.vm_uuid is not None:
            self._detach(volume, self.vms.get(volume.vm_uuid))
        self._set(volume, "status", "Deleted")
        return volume

    @operation("volume.recover")
    def recover_volume(self, volume) -> Volume:
        volume = self._volume(volume)
        if volume.status != "Deleted":
            raise InvalidState("volume", volume.uuid, volume.status, "recover", ("Deleted",))
        self._set(volume, "status", "Ready" if volume.node_uuid else "NotInstantiated")
        return volume

    @operation("volume.expunge")
    def expunge_volume(self, volume) -> None:
        volume = self._volume(volume)
        self._fault_point("volume.expunge", volume=volume.uuid)
        if volume.type == "Data" and volume.status != "Deleted":
            raise InvalidState("volume", volume.uuid, volume.status, "expunge", ("Deleted",))
        if volume.type == "Root":
            raise InvalidArgument("volumeUuid", "a root volume goes with its vm (expunge the vm)")
        self._expunge_volume(volume)

    def _expunge_volume(self, volume: Volume) -> None:
        for snap in [s for s in self.volume_snapshots if s.volume_uuid == volume.uuid]:
            self._delete_snapshot(snap)
        if volume.node_uuid is not None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
            self._charge_virtual(ps, -volume.virtual_charge)
            self._release_node(self.nodes.get(volume.node_uuid))
        self._remove(self.volumes, volume)

    @operation("volume.write")
    def write(self, volume, nbytes: int) -> int:
        """Simulated guest writes: the volume's leaf grows by ``nbytes`` (up to its virtual
        size).  Thin volumes consume physical space as they grow; when the storage cannot
        hold the growth nothing is written and ``CapacityExhausted`` is raised.  Returns the
        bytes the disk grew by."""
        volume = self._volume(volume)
        self._fault_point("volume.write", volume=volume.uuid,
                          primary_storage=volume.primary_storage_uuid)
        if nbytes < 0:
            raise InvalidArgument("nbytes", "must not be negative")
        if volume.status != "Ready" or volume.node_uuid is None:
            raise InvalidState("volume", volume.uuid, volume.status, "write", ("Ready",))
        if volume.vm_uuid is not None:
            vm = self.vms.get(volume.vm_uuid)
            if vm.frozen:
                raise InvalidState("vm", vm.uuid, "Frozen", "write")
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        grown = self._grow_node(self.nodes.get(volume.node_uuid), nbytes)
        self._set(volume, "bytes_written", volume.bytes_written + nbytes)
        return grown

    # -- snapshots ---------------------------------------------------------------------
    def _freeze_leaf(self, volume: Volume) -> DiskNode:
        """Freeze the volume's current leaf and move the volume onto a new leaf above it.
        Returns the frozen node (whose volume ref passes to the caller)."""
        old = self.nodes.get(volume.node_uuid)
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        initial = old.virtual_size if volume.thick else self.settings.new_leaf_size
        leaf = self._new_node(ps, old, old.virtual_size, initial, "leaf", thick=volume.thick)
        self._set(old, "frozen", True)
        self._set(old, "role", "snapshot")
        self._set(volume, "node_uuid", leaf.uuid)
        if volume.thick:
            # the frozen node keeps only what was written; the new thick leaf holds the full size
            pass
        return old

    @operation("snapshot.create")
    def create_volume_snapshot(self, volume, name: str, *, description: str = "",
                               system: bool = False) -> VolumeSnapshot:
        volume = self._volume(volume)
        self._fault_point("snapshot.create", volume=volume.uuid, name=name)
        return self._snapshot(volume, name, description, system)

    def _snapshot(self, volume: Volume, name: str, description: str = "",
                  system: bool = False) -> VolumeSnapshot:
        if volume.status != "Ready" or volume.node_uuid is None:
            raise InvalidState("volume", volume.uuid, volume.status, "snapshot", ("Ready",))
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        node = self._freeze_leaf(volume)
        now = self.clock.now()
        snap = VolumeSnapshot(uuid=self.ids.uuid(), name=name, volume_uuid=volume.uuid,
                              node_uuid=node.uuid, primary_storage_uuid=ps.uuid,
                              volume_type=volume.type, description=description, system=system,
                              size=node.actual_size, create_date=now, last_op_date=now)
        return self._add(self.volume_snapshots, snap)

    @operation("snapshot.delete")
    def delete_volume_snapshot(self, snapshot) -> None:
        snap = self.volume_snapshots.get(snapshot)
        self._fault_point("snapshot.delete", snapshot=snap.uuid, volume=snap.volume_uuid)
        self._delete_snapshot(snap)

    def _delete_snapshot(self, snap: VolumeSnapshot) -> None:
        self._release_node(self.nodes.get(snap.node_uuid))
        self._remove(self.volume_snapshots, snap)

    # -- clones ------------------------------------------------------------------------
    def _pick_backup_storage(self, zone_uuid: str, size: int) -> BackupStorage:
        shortage = None
        for bs in self.backup_storages:
            if zone_uuid not in bs.zone_uuids or not bs.usable:
                continue
            try:
                self._check_physical(bs, size)
            except CapacityExhausted as exc:
                shortage = shortage or exc
                continue
            return bs
        if shortage is None:
            shortage = CapacityExhausted("backup_storage", size, 0)
        shortage.resource_uuid = None
        raise shortage

    @operation("vm.clone")
    def clone_vm(self, source, names: list[str], *, strategy: str = "InstantStart",
                 full: bool = False, host=None, cluster=None, primary_storage_for_root=None,
                 primary_storage_for_data=None, provisioning: str | None = None,
                 description: str | None = None) -> CloneResult:
        """ZStack's CloneVmInstance pipeline.

        Shared steps (any failure fails the whole call and leaves nothing): source state,
        a host dry run for one clone (skipped for JustCreate), a backup storage with room,
        a system snapshot of the root volume (and data volumes when ``full``), temporary
        image(s) on the backup storage.  Then per name: a VM created from the temporary
        image and (unless JustCreate) started; each name succeeds or fails on its own, a
        failed name leaving nothing allocated.
        """
        vm = self._vm(source)
        self._fault_point("vm.clone.prepare", vm=vm.uuid, name=vm.name)
        if not names:
            raise InvalidArgument("names", "must not be empty")
        for n in names:
            if not isinstance(n, str) or not n or len(n) > 255:
                raise InvalidArgument("names", "each name must be 1 to 255 characters")
        if strategy not in STRATEGIES:
            raise InvalidArgument("strategy", f"must be one of {', '.join(STRATEGIES)}")
        self._state_check(vm, "clone")
        hint_host = self.hosts.get(host) if host is not None else None
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        ps_root = self.primary_storages.get(primary_storage_for_root) if primary_storage_for_root else None
        ps_data = self.primary_storages.get(primary_storage_for_data) if primary_storage_for_data else None
        if strategy != "JustCreate":
            clusters = frozenset([hint_cluster.uuid]) if hint_cluster else None
            probe = Vm("", "", vm.zone_uuid, vm.cpu_num, vm.memory_size, None, None)
            self._choose_host(probe, host=hint_host, clusters=clusters,
                              strategy="MinimumMemoryUsageHostAllocatorStrategy")
        volumes = [self.volumes.get(vm.root_volume_uuid)]
        if full:
            volumes += [self.volumes.get(u) for u in vm.data_volume_uuids]
        sizes = [self.volume_allocated_size(v) for v in volumes]
        bs = self._pick_backup_storage(vm.zone_uuid, sum(sizes))
        if bs.status != "Connected":
            raise Unreachable("backup_storage", bs.uuid)
        result = CloneResult(source_uuid=vm.uuid)
        images: list[Image] = []
        now = self.clock.now()
        for vol, size in zip(volumes, sizes):
            snap = self._snapshot(vol, f"for-clone-vm-{names[0]}", system=True)
            result.snapshot_uuids.append(snap.uuid)
            kind = "rootVolume" if vol.type == "Root" else "volume"
            node = self._new_node(bs, None, vol.virtual_size, size, "image")
            image = Image(
                uuid=self.ids.uuid(), name=f"for-clone-vm-{vm.uuid}-{kind}-{vol.uuid}",
                media_type="RootVolumeTemplate" if vol.type == "Root" else "DataVolumeTemplate",
                format="qcow2", platform=vm.platform, guest_os_type=vm.guest_os_type,
                architecture=vm.architecture, virtual_size=vol.virtual_size, actual_size=size,
                system=True, create_date=now, last_op_date=now,
                backup_storage_refs=[{"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid,
                                      "install_path": f"zstore://clone-{vm.uuid}/{node.uuid}",
                                      "status": "Ready"}])
            self._add(self.images, image)
            images.append(image)
            result.image_uuids.append(image.uuid)
        root_image = images[0]
        data_images = images[1:]
        allocator = vm.allocator_strategy or self.settings.clone_allocator_strategy
        for name in names:
            entry = CloneEntry(name=name)
            mark = len(self._undo) if self._undo is not None else 0
            saved_exhausted = self._exhausted
            try:
                self._fault_point("vm.clone", vm=vm.uuid, name=name, source=vm.name)
                clone = self._new_vm_record(
                    name, image=root_image, instance_offering=vm.instance_offering_uuid,
                    cpu_num=vm.cpu_num, memory_size=vm.memory_size,
                    l3_networks=list(vm.l3_network_uuids), zone=vm.zone_uuid, host=hint_host,
                    cluster=hint_cluster,
                    primary_storage=ps_root or (self.primary_storages.get(
                        self.volumes.get(vm.root_volume_uuid).primary_storage_uuid) if full else None),
                    primary_storage_for_data=ps_data,
                    data_disk_sizes=[im.virtual_size for im in data_images],
                    strategy="JustCreate", allocator_strategy=allocator, provisioning=provisioning,
                    description=description if description is not None
                    else f"cloned from vm[uuid:{vm.uuid}]")
                clone.cpu_num, clone.memory_size = vm.cpu_num, vm.memory_size
                entry.vm = clone
                if strategy != "JustCreate":
                    self._instantiate(clone)
                    for vol_uuid, image in zip(clone.data_volume_uuids, data_images):
                        self._fill_from_image(self.volumes.get(vol_uuid), image)
                    if strategy == "CreateStopped":
                        self._stop(clone)
                elif data_images:
                    clone.pending["data_images"] = [im.uuid for im in data_images]
            except DomainError as exc:
                # roll back this name only
                self._unwind(mark)
                entry.error = exc
                if entry.vm is not None:
                    # the caller sees the record as it was before its start failed
                    entry.vm = Vm.from_dict(entry.vm.to_dict())
                    entry.vm.state = "Created"
            finally:
                self._exhausted = saved_exhausted
            result.entries.append(entry)
        return result

    def _fill_from_image(self, volume: Volume, image: Image) -> None:
        """A full clone's data volume receives the temporary data image's bytes."""
        node = self.nodes.get(volume.node_uuid)
        want = image.actual_size - node.actual_size
        if want > 0:
            self._grow_node(node, want)

    @operation("vm.instant_clone")
    def instant_clone(self, source, name: str, *, primary_storage=None, host=None) -> Vm:
        """vSphere instant clone: the clone runs on the source's host at once.

        Every disk of the source gets a new leaf for the clone on the parent node; unless
        the source is frozen, the source's current leaf is frozen and the source moves to a
        new leaf (its chain grows one level).  The chain limit is the settings'
        ``max_chain_depth`` (255).
        """
        vm = self._vm(source)
        self._fault_point("vm.instant_clone", vm=vm.uuid, name=name, host=vm.host_uuid)
        if not name:
            raise InvalidArgument("name", "must not be empty")
        if vm.state not in ("Running",):
            raise InvalidState("vm", vm.uuid, vm.state, "instant_clone", ("Running",))
        src_host = self.hosts.get(vm.host_uuid)
        if host is not None and self.hosts.get(host).uuid != src_host.uuid:
            raise InvalidArgument("placement.host", "an instant clone runs on its source's host")
        if src_host.status != "Connected":
            raise Unreachable("host", src_host.uuid)
        if src_host.state != "Enabled":
            raise InvalidState("host", src_host.uuid, src_host.state, "instant_clone", ("Enabled",))
        target_ps = self.primary_storages.get(primary_storage) if primary_storage is not None else None
        if target_ps is not None:
            if target_ps.status != "Connected":
                raise Unreachable("primary_storage", target_ps.uuid)
            if src_host.cluster_uuid not in target_ps.cluster_uuids:
                raise InvalidArgument("placement.datastore",
                                      f"primary storage[uuid:{target_ps.uuid}] is not reachable from "
                                      f"the source's host[uuid:{src_host.uuid}]")
        volumes = self.vm_volumes(vm)
        for vol in volumes:
            ps = self.primary_storages.get(vol.primary_storage_uuid)
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
        now = self.clock.now()
        clone = Vm(uuid=self.ids.uuid(), name=name, zone_uuid=vm.zone_uuid, cpu_num=vm.cpu_num,
                   memory_size=vm.memory_size, instance_offering_uuid=vm.instance_offering_uuid,
                   image_uuid=vm.image_uuid, description=f"instant clone of vm[uuid:{vm.uuid}]",
                   state="Running", l3_network_uuids=list(vm.l3_network_uuids),
                   allocator_strategy=vm.allocator_strategy, platform=vm.platform,
                   guest_os_type=vm.guest_os_type, architecture=vm.architecture,
                   create_date=now, last_op_date=now)
        self._add(self.vms, clone)
        self._hold_host(clone, src_host)
        data_uuids = []
        for vol in volumes:
            parent = self.nodes.get(vol.node_uuid)
            if vm.frozen:
                # freeze_vm already froze this leaf's parent: every clone hangs off it
                parent = self.nodes.get(parent.parent_uuid)
            else:
                if parent.depth + 1 > self.settings.max_chain_depth:
                    raise CapacityExhausted(
                        "chain_depth", parent.depth + 1, self.settings.max_chain_depth,
                        resource_uuid=vol.uuid,
                        message=f"the disk chain of volume[uuid:{vol.uuid}] would reach "
                        f"{parent.depth + 1} levels, over the limit of {self.settings.max_chain_depth}")
                parent = self._freeze_leaf(vol)
                # the frozen node is now held by the clone tree only (children), not a volume
                self._set(parent, "refs", parent.refs - 1)
            ps = target_ps or self.primary_storages.get(vol.primary_storage_uuid)
            new = self._new_volume_on(clone, vol.type, vol.virtual_size, ps, parent=parent,
                                      thick=False, device_id=vol.device_id,
                                      name=f"{vol.type.upper()}-for-{name}")
            new.root_image_uuid = vol.root_image_uuid
            # the clone is new: undoing its creation undoes these too
            if vol.type == "Root":
                clone.root_volume_uuid = new.uuid
            else:
                data_uuids.append(new.uuid)
        clone.data_volume_uuids = data_uuids
        clone.nic_uuids = [self._allocate_nic(clone, self.l3_networks.get(l3_uuid), i).uuid
                           for i, l3_uuid in enumerate(vm.l3_network_uuids)]
        return clone

    @operation("vm.full_clone")
    def full_clone_vm(self, source, name: str, *, host=None, cluster=None, primary_storage=None,
                      power_on: bool = False) -> Vm:
        """An independent copy (vSphere ``clone``): every disk becomes a new root whose
        actual size is the source chain's allocated size; the source is unchanged."""
        vm = self._vm(source)
        self._fault_point("vm.full_clone", vm=vm.uuid, name=name)
        if not name:
            raise InvalidArgument("name", "must not be empty")
        if vm.state in ("Destroyed", "Created"):
            raise InvalidState("vm", vm.uuid, vm.state, "clone", ("Running", "Stopped", "Paused"))
        volumes = self.vm_volumes(vm)
        src_ps = self.primary_storages.get(volumes[0].primary_storage_uuid)
        target_ps = self.primary_storages.get(primary_storage) if primary_storage is not None else src_ps
        if target_ps.status != "Connected":
            raise Unreachable("primary_storage", target_ps.uuid)
        hint_host = self.hosts.get(host) if host is not None else None
        if hint_host is None and cluster is None and vm.host_uuid and primary_storage is None:
            hint_host = self.hosts.get(vm.host_uuid)
        now = self.clock.now()
        clone = Vm(uuid=self.ids.uuid(), name=name, zone_uuid=vm.zone_uuid, cpu_num=vm.cpu_num,
                   memory_size=vm.memory_size, instance_offering_uuid=vm.instance_offering_uuid,
                   image_uuid=vm.image_uuid, description=f"clone of vm[uuid:{vm.uuid}]",
                   state="Stopped", l3_network_uuids=list(vm.l3_network_uuids),
                   allocator_strategy=vm.allocator_strategy, platform=vm.platform,
                   guest_os_type=vm.guest_os_type, architecture=vm.architecture,
                   create_date=now, last_op_date=now)
        self._add(self.vms, clone)
        data_uuids = []
        for vol in volumes:
            size = self.volume_allocated_size(vol)
            self._charge_virtual(target_ps, virtual_charge(target_ps, vol.virtual_size))
            node = self._new_node(target_ps, None, vol.virtual_size, size, "leaf", thick=vol.thick)
            new = Volume(uuid=self.ids.uuid(), name=f"{vol.type.upper()}-for-{name}", type=vol.type,
                         virtual_size=vol.virtual_size, vm_uuid=clone.uuid,
                         primary_storage_uuid=target_ps.uuid, node_uuid=node.uuid, thick=vol.thick,
                         virtual_charge=virtual_charge(target_ps, vol.virtual_size),
                         device_id=vol.device_id, root_image_uuid=vol.root_image_uuid,
                         create_date=now, last_op_date=now)
            self._add(self.volumes, new)
            if vol.type == "Root":
                self._set(clone, "root_volume_uuid", new.uuid)
            else:
                data_uuids.append(new.uuid)
        self._set(clone, "data_volume_uuids", data_uuids)
        for i, l3_uuid in enumerate(vm.l3_network_uuids):
            nic = self._allocate_nic(clone, self.l3_networks.get(l3_uuid), i)
            self._set(clone, "nic_uuids", clone.nic_uuids + [nic.uuid])
        if power_on:
            clusters = self._running_clusters(clone)
            if cluster is not None:
                clusters = (clusters or frozenset()) & {self.clusters.get(cluster).uuid}
            chosen = self._choose_host(clone, host=hint_host, clusters=clusters)
            self._hold_host(clone, chosen)
            self._set(clone, "state", "Running")
        return clone

    @operation("vm.resize")
    def resize_vm(self, vm, *, cpu_num: int | None = None, memory_size: int | None = None) -> Vm:
        """Change a VM's CPU count and memory.  A VM holding its host is resized in place
        and needs the difference to fit there (``CapacityExhausted`` otherwise)."""
        vm = self._vm(vm)
        self._fault_point("vm.resize", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        cpu = vm.cpu_num if cpu_num is None else cpu_num
        memory = vm.memory_size if memory_size is None else memory_size
        if cpu <= 0:
            raise InvalidArgument("cpuNum", "must be positive")
        if memory <= 0:
            raise InvalidArgument("memorySize", "must be positive")
        if vm.state in ("Destroyed", "Expunging"):
            raise InvalidState("vm", vm.uuid, vm.state, "resize", ("Created", "Running", "Stopped", "Paused"))
        if vm.host_uuid is not None:
            host = self.hosts.get(vm.host_uuid)
            d_cpu, d_memory = cpu - vm.cpu_num, memory - vm.memory_size
            free_cpu = host.total_cpu - host.used_cpu
            free_memory = host.total_memory - host.used_memory - host.reserved_memory
            if d_memory > 0 and (d_memory > free_memory or "host.memory" in self._exhausted):
                raise CapacityExhausted("host.memory", d_memory, max(free_memory, 0),
                                        resource_uuid=host.uuid, request={"cpu": d_cpu, "memory": d_memory})
            if d_cpu > 0 and (d_cpu > free_cpu or "host.cpu" in self._exhausted):
                raise CapacityExhausted("host.cpu", d_cpu, max(free_cpu, 0),
                                        resource_uuid=host.uuid, request={"cpu": d_cpu, "memory": d_memory})
            self._set_host_usage(host, d_cpu, d_memory, 0)
        self._set(vm, "cpu_num", cpu)
        self._set(vm, "memory_size", memory)
        self._set(vm, "instance_offering_uuid", vm.instance_offering_uuid
                  if cpu_num is None and memory_size is None else None)
        return vm

    @operation("image.register")
    def register_image(self, name: str, backup_storage, *, virtual_size: int, actual_size: int,
                       media_type: str = "RootVolumeTemplate", format: str = "qcow2",
                       platform: str = "Linux", guest_os_type: str = "", architecture: str = "x86_64",
                       description: str = "", system: bool = False) -> Image:
        """Add an image whose data (``actual_size`` bytes) lands on a backup storage now
        (``CapacityExhausted("backup_storage")`` when it does not fit)."""
        bs = self.backup_storages.get(backup_storage)
        self._fault_point("image.register", name=name, backup_storage=bs.uuid)
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if virtual_size <= 0 or actual_size < 0 or actual_size > virtual_size:
            raise InvalidArgument("actualSize", "sizes must satisfy 0 <= actual <= virtual, virtual > 0")
        if media_type not in ("RootVolumeTemplate", "DataVolumeTemplate", "ISO"):
            raise InvalidArgument("mediaType", "must be RootVolumeTemplate, DataVolumeTemplate or ISO")
        if bs.status != "Connected":
            raise Unreachable("backup_storage", bs.uuid)
        if bs.state != "Enabled":
            raise InvalidState("backup_storage", bs.uuid, bs.state, "add image", ("Enabled",))
        node = self._new_node(bs, None, virtual_size, actual_size, "image")
        now = self.clock.now()
        image = Image(uuid=self.ids.uuid(), name=name, media_type=media_type, format=format,
                      platform=platform, guest_os_type=guest_os_type, architecture=architecture,
                      virtual_size=virtual_size, actual_size=actual_size, description=description,
                      system=system, create_date=now, last_op_date=now,
                      backup_storage_refs=[{"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid,
                                            "install_path": f"zstore://{_slug(name)}/{node.uuid}",
                                            "status": "Ready"}])
        image.url = f"zstore://{bs.hostname}/{_slug(name)}/{node.uuid}"
        return self._add(self.images, image)

    # -- infrastructure state ----------------------------------------------------------
    def _set_host_attr(self, host: Host, attr: str, value: str) -> None:
        old = getattr(host, attr)
        self.host_index.remove(host)
        setattr(host, attr, value)
        self.host_index.add(host)
        if self._undo is not None:
            self._undo.append(lambda: self._set_host_attr_raw(host, attr, old))

    def _set_host_attr_raw(self, host: Host, attr: str, value: str) -> None:
        self.host_index.remove(host)
        setattr(host, attr, value)
        self.host_index.add(host)

    @operation("host.set_status")
    def set_host_status(self, host, status: str) -> Host:
        """Connected / Disconnected / Connecting (disconnected hosts get no new VMs)."""
        host = self.hosts.get(host)
        if status not in ("Connected", "Disconnected", "Connecting"):
            raise InvalidArgument("status", "must be Connected, Disconnected or Connecting")
        self._set_host_attr(host, "status", status)
        return host

    @operation("host.set_state")
    def set_host_state(self, host, state: str) -> Host:
        host = self.hosts.get(host)
        if state not in ("Enabled", "Disabled", "PreMaintenance", "Maintenance"):
            raise InvalidArgument("state", "must be Enabled, Disabled, PreMaintenance or Maintenance")
        self._set_host_attr(host, "state", state)
        return host

    @operation("storage.set_status")
    def set_storage_status(self, storage, status: str):
        """Connect / disconnect a primary or backup storage."""
        store = self.primary_storages.find(storage) or self.backup_storages.get(storage)
        if status not in ("Connected", "Disconnected", "Connecting"):
            raise InvalidArgument("status", "must be Connected, Disconnected or Connecting")
        self._set(store, "status", status)
        return store

    @operation("storage.set_state")
    def set_storage_state(self, storage, state: str):
        store = self.primary_storages.find(storage) or self.backup_storages.get(storage)
        if state not in ("Enabled", "Disabled", "Maintenance"):
            raise InvalidArgument("state", "must be Enabled, Disabled or Maintenance")
        self._set(store, "state", state)
        return store

    # -- images ------------------------------------------------------------------------
    @operation("image.delete")
    def delete_image(self, image, backup_storages=None) -> Image:
        """Delayed delete: the image's refs on those storages (all when None) become Deleted."""
        image = self.images.get(image)
        self._fault_point("image.delete", image=image.uuid, name=image.name)
        wanted = None if backup_storages is None else {self.backup_storages.get(b).uuid for b in backup_storages}
        refs = [dict(r, status="Deleted") if wanted is None or r["backup_storage_uuid"] in wanted else r
                for r in image.backup_storage_refs]
        self._set(image, "backup_storage_refs", refs)
        if all(r["status"] == "Deleted" for r in refs):
            self._set(image, "status", "Deleted")
        return image

    @operation("image.recover")
    def recover_image(self, image) -> Image:
        image = self.images.get(image)
        if image.status != "Deleted":
            raise InvalidState("image", image.uuid, image.status, "recover", ("Deleted",))
        self._set(image, "backup_storage_refs", [dict(r, status="Ready") for r in image.backup_storage_refs])
        self._set(image, "status", "Ready")
        return image

    @operation("image.expunge")
    def expunge_image(self, image) -> None:
        """Remove a Deleted image; its data goes by the copy-on-write rules (caches on
        primary storage stay while volumes are built on them)."""
        image = self.images.get(image)
        self._fault_point("image.expunge", image=image.uuid, name=image.name)
        if image.status != "Deleted":
            raise InvalidState("image", image.uuid, image.status, "expunge", ("Deleted",))
        for ref in image.backup_storage_refs:
            node = self.nodes.find(ref["node_uuid"])
            if node is not None:
                self._release_node(node)
        for key in [k for k in self.image_caches if k.startswith(image.uuid + ":")]:
            # the cache stays (hidden) while volumes are built on it, but no longer as the
            # image's cache
            node_uuid = self.image_caches.pop(key)
            if self._undo is not None:
                self._undo.append(lambda key=key, node_uuid=node_uuid:
                                  self.image_caches.__setitem__(key, node_uuid))
            node = self.nodes.find(node_uuid)
            if node is not None and node.refs > 0:
                self._release_node(node)
        self._remove(self.images, image)

    # -- reports -----------------------------------------------------------------------
    def capacity(self) -> dict:
        """The capacity table: hosts, primary storages (both ledgers), backup storages."""
        return {
            "hosts": [{
                "name": h.name, "uuid": h.uuid, "state": h.state, "status": h.status,
                "total_cpu": h.total_cpu, "used_cpu": h.used_cpu, "available_cpu": h.available_cpu,
                "total_memory": h.total_memory, "used_memory": h.used_memory,
                "available_memory": h.available_memory, "reserved_memory": h.reserved_memory,
                # what placement can still give a VM: available minus the reserve
                "placeable_memory": max(h.available_memory - h.reserved_memory, 0),
                "vms": h.vm_count} for h in self.hosts],
            "primary_storages": [{
                "name": p.name, "uuid": p.uuid, "type": p.type, "status": p.status,
                "total_capacity": p.total_capacity, "used_capacity": p.used_virtual,
                "available_capacity": p.available_capacity,
                "total_physical_capacity": p.total_physical_capacity,
                "used_physical_capacity": p.used_physical,
                "available_physical_capacity": p.available_physical_capacity} for p in self.primary_storages],
            "backup_storages": [{
                "name": b.name, "uuid": b.uuid, "type": b.type, "status": b.status,
                "total_capacity": b.total_capacity, "used_capacity": b.used,
                "available_capacity": b.available_capacity} for b in self.backup_storages],
        }

    # -- invariants --------------------------------------------------------------------
    def _node_holders(self) -> dict[str, int]:
        """How many holders reference each disk node (extended by the backup half)."""
        held: dict[str, int] = {}
        for vol in self.volumes:
            if vol.node_uuid:
                held[vol.node_uuid] = held.get(vol.node_uuid, 0) + 1
        for snap in self.volume_snapshots:
            held[snap.node_uuid] = held.get(snap.node_uuid, 0) + 1
        for image in self.images:
            for ref in image.backup_storage_refs:
                if ref.get("node_uuid"):
                    held[ref["node_uuid"]] = held.get(ref["node_uuid"], 0) + 1
        for node_uuid in self.image_caches.values():
            held[node_uuid] = held.get(node_uuid, 0) + 1
        self._extra_node_holders(held)
        return held

    def check_invariants(self) -> None:
        """Raise ``InvariantViolation`` listing every breach (DESIGN.md, Invariants)."""
        breaches: list[str] = []
        cpu: dict[str, int] = {}
        mem: dict[str, int] = {}
        count: dict[str, int] = {}
        for vm in self.vms:
            if vm.state in HOLDING_STATES:
                if vm.host_uuid is None or vm.host_uuid not in self.hosts:
                    breaches.append(f"vm {vm.name} ({vm.uuid}) is {vm.state} without a host")
                    continue
                cpu[vm.host_uuid] = cpu.get(vm.host_uuid, 0) + vm.cpu_num
                mem[vm.host_uuid] = mem.get(vm.host_uuid, 0) + vm.memory_size
                count[vm.host_uuid] = count.get(vm.host_uuid, 0) + 1
            elif vm.host_uuid is not None:
                breaches.append(f"vm {vm.name} ({vm.uuid}) is {vm.state} but holds host {vm.host_uuid}")
            for vol_uuid in ([vm.root_volume_uuid] if vm.root_volume_uuid else []) + vm.data_volume_uuids:
                vol = self.volumes.find(vol_uuid)
                if vol is None:
                    breaches.append(f"vm {vm.name} ({vm.uuid}) has missing volume {vol_uuid}")
                elif vol.vm_uuid != vm.uuid:
                    breaches.append(f"volume {vol_uuid} of vm {vm.uuid} points at vm {vol.vm_uuid}")
            if vm.pending is None and vm.root_volume_uuid is None and vm.state != "Destroyed":
                breaches.append(f"vm {vm.name} ({vm.uuid}) has no root volume")
        for h in self.hosts:
            if h.used_cpu != cpu.get(h.uuid, 0):
                breaches.append(f"host {h.name}: used cpu {h.used_cpu} != held {cpu.get(h.uuid, 0)}")
            if h.used_memory != mem.get(h.uuid, 0):
                breaches.append(f"host {h.name}: used memory {h.used_memory} != held {mem.get(h.uuid, 0)}")
            if h.vm_count != count.get(h.uuid, 0):
                breaches.append(f"host {h.name}: vm count {h.vm_count} != {count.get(h.uuid, 0)}")
            if not 0 <= h.used_cpu <= h.total_cpu:
                breaches.append(f"host {h.name}: cpu ledger {h.used_cpu} outside 0..{h.total_cpu}")
            if not 0 <= h.used_memory <= h.total_memory:
                breaches.append(f"host {h.name}: memory ledger {h.used_memory} outside 0..{h.total_memory}")
        virtual: dict[str, int] = {}
        physical: dict[str, int] = {}
        children: dict[str, int] = {}
        for vol in self.volumes:
            if vol.primary_storage_uuid:
                virtual[vol.primary_storage_uuid] = virtual.get(vol.primary_storage_uuid, 0) + vol.virtual_charge
            if vol.vm_uuid and vol.vm_uuid not in self.vms:
                breaches.append(f"volume {vol.uuid} attached to missing vm {vol.vm_uuid}")
            if vol.status == "Ready" and (vol.node_uuid is None or vol.node_uuid not in self.nodes):
                breaches.append(f"volume {vol.uuid} is Ready without a disk")
        for node in self.nodes:
            if node.storage_uuid not in self.primary_storages and node.storage_uuid not in self.backup_storages:
                breaches.append(f"disk {node.uuid} on missing storage {node.storage_uuid}")
            physical[node.storage_uuid] = physical.get(node.storage_uuid, 0) + node.physical_charge
            if node.virtual_charge:
                virtual[node.storage_uuid] = virtual.get(node.storage_uuid, 0) + node.virtual_charge
            if node.parent_uuid is not None:
                parent = self.nodes.find(node.parent_uuid)
                if parent is None:
                    breaches.append(f"disk {node.uuid} has missing parent {node.parent_uuid}")
                else:
                    children[parent.uuid] = children.get(parent.uuid, 0) + 1
                    if node.depth != parent.depth + 1:
                        breaches.append(f"disk {node.uuid} depth {node.depth} != parent's + 1")
            elif node.depth != 1:
                breaches.append(f"root disk {node.uuid} has depth {node.depth}")
            if not 0 <= node.actual_size <= node.virtual_size:
                breaches.append(f"disk {node.uuid} actual {node.actual_size} outside 0..{node.virtual_size}")
        held = self._node_holders()
        for node in self.nodes:
            if node.children != children.get(node.uuid, 0):
                breaches.append(f"disk {node.uuid} counts {node.children} children, has "
                                f"{children.get(node.uuid, 0)}")
            if node.refs != held.get(node.uuid, 0):
                breaches.append(f"disk {node.uuid} ({node.role}) counts {node.refs} holders, has "
                                f"{held.get(node.uuid, 0)}")
            if node.refs <= 0 and node.children == 0:
                breaches.append(f"disk {node.uuid} is hidden with no children (should be freed)")
        for uuid in held:
            if uuid not in self.nodes:
                breaches.append(f"a holder references freed disk {uuid}")
        for ps in self.primary_storages:
            if ps.used_virtual != virtual.get(ps.uuid, 0):
                breaches.append(f"primary storage {ps.name}: virtual ledger {ps.used_virtual} != held "
                                f"{virtual.get(ps.uuid, 0)}")
            if ps.used_physical != physical.get(ps.uuid, 0):
                breaches.append(f"primary storage {ps.name}: physical ledger {ps.used_physical} != held "
                                f"{physical.get(ps.uuid, 0)}")
            if not 0 <= ps.used_virtual <= ps.total_capacity:
                breaches.append(f"primary storage {ps.name}: virtual ledger {ps.used_virtual} outside "
                                f"0..{ps.total_capacity}")
            if not 0 <= ps.used_physical <= ps.total_physical_capacity:
                breaches.append(f"primary storage {ps.name}: physical ledger {ps.used_physical} outside "
                                f"0..{ps.total_physical_capacity}")
        for bs in self.backup_storages:
            if bs.used != physical.get(bs.uuid, 0):
                breaches.append(f"backup storage {bs.name}: ledger {bs.used} != held {physical.get(bs.uuid, 0)}")
            if not 0 <= bs.used <= bs.total_capacity:
                breaches.append(f"backup storage {bs.name}: ledger {bs.used} outside 0..{bs.total_capacity}")
        for l3 in self.l3_networks:
            for ip, nic_uuid in l3.used.items():
                if nic_uuid not in self.nics:
                    breaches.append(f"l3 {l3.name}: address {ip} held by missing nic {nic_uuid}")
        for nic in self.nics:
            if nic.vm_uuid not in self.vms:
                breaches.append(f"nic {nic.uuid} of missing vm {nic.vm_uuid}")
        breaches.extend(self._extra_invariant_breaches())
        if breaches:
            raise InvariantViolation(breaches)

    def _extra_invariant_breaches(self) -> list[str]:
        return self._backup_invariant_breaches()

    # -- snapshot / restore ------------------------------------------------------------
    def snapshot(self) -> dict:
        """A JSON-able dump of the whole state; ``Cloud.restore`` is its inverse."""
        data = {
            "version": SNAPSHOT_VERSION,
            "seed": self.seed,
            "topology": self.topology.model_dump(mode="json"),
            "clock": self.clock.to_dict(),
            "ids": self.ids.to_dict(),
            "rng": rng_to_json(self.rng),
            "image_caches": dict(self.image_caches),
            "dialect_state": _json_copy(self._dialect_state),
        }
        for attr, _cls in COLLECTIONS:
            if attr == "jobs":
                data["jobs"] = [_job_to_json(j) for j in self.jobs]
            else:
                data[attr] = [e.to_dict() for e in getattr(self, attr)]
        data.update(self._extra_snapshot())
        return data

    def _extra_snapshot(self) -> dict:
        return self._backup_snapshot()

    def _extra_restore(self, data: dict) -> None:
        self._backup_restore(data)

    @classmethod
    def restore(cls, data: dict, clock: Clock | None = None) -> "Cloud":
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {data.get('version')!r}")
        cloud = cls.__new__(cls)
        topology = Topology.model_validate(data["topology"])
        cloud._init_empty(topology, data["seed"], clock or clock_from_dict(data["clock"]))
        cloud.ids.load(data["ids"])
        rng_from_json(cloud.rng, data["rng"])
        cloud.image_caches = dict(data["image_caches"])
        cloud._dialect_state = _json_copy(data.get("dialect_state", {}))
        for attr, entity_cls in COLLECTIONS:
            collection = getattr(cloud, attr)
            for item in data.get(attr, []):
                collection.add(entity_cls.from_dict(item))
        for host in cloud.hosts:
            cloud.host_index.add(host)
        cloud._host_seq = len(cloud.hosts)
        cloud._extra_restore(data)
        return cloud

    def reset(self) -> None:
        """Back to the initial topology and seed (the clock keeps its time)."""
        self._become(type(self)(self.topology, self.seed, self.clock))

    def load_snapshot(self, data: dict) -> None:
        """Make this cloud hold the state of ``data`` (a ``snapshot()``) in place, so that
        every holder of the object sees it; its lock, fault plan and time listeners stay."""
        self._become(type(self).restore(data))

    def _become(self, other: "Cloud") -> None:
        kept = self.lock, self.faults, self._time_listeners
        self.__dict__.clear()
        self.__dict__.update(other.__dict__)
        self.lock, self.faults, self._time_listeners = kept

    def __repr__(self) -> str:
        return (f"<Cloud {self.topology.name} seed={self.seed}: {len(self.hosts)} hosts, "
                f"{len(self.vms)} vms>")


class OperationJournal:
    """The last operations with their arguments and outcomes.

    Entries are kept raw (the hot path only appends a tuple) and rendered as JSON-able
    dicts when read: ``{"seq", "time", "operation", "args", "kwargs", "ok" | "error"}``.
    """

    def __init__(self, size: int) -> None:
        self._entries: deque = deque(maxlen=size)

    def append(self, raw: tuple) -> None:
        self._entries.append(raw)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return (self._render(raw) for raw in list(self._entries))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._render(raw) for raw in list(self._entries)[index]]
        return self._render(self._entries[index])

    @staticmethod
    def _render(raw: tuple) -> dict:
        seq, when, name, args, kwargs, outcome = raw
        if isinstance(outcome, BaseException):
            result = {"error": outcome.to_dict() if isinstance(outcome, DomainError)
                      else {"kind": type(outcome).__name__, "message": str(outcome)}}
        elif isinstance(outcome, CloneResult):
            result = {"ok": [e.vm.uuid if e.ok else None for e in outcome.entries]}
        else:
            result = {"ok": _key(outcome)}
        return {"seq": seq, "time": when, "operation": name, "args": [_key(a) for a in args],
                "kwargs": {k: _key(v) for k, v in kwargs.items()}, **result}


_UUID32 = re.compile(r"[0-9a-f]{32}")


@functools.lru_cache(maxsize=1024)
def _ip_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _ip_str(value: int) -> str:
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


def virtual_charge_guess(size: int) -> int:
    return size


def _slug(name: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    return out or "image"


def _json_copy(value):
    import json
    return json.loads(json.dumps(value))


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, CloneResult):
        return {"source_uuid": value.source_uuid,
                "entries": [{"name": e.name, "vm_uuid": e.vm.uuid if e.vm else None,
                             "error": e.error.to_dict() if e.error else None} for e in value.entries]}
    uuid = getattr(value, "uuid", None)
    if uuid is not None:
        return {"uuid": uuid}
    return repr(value)


def _job_to_json(job: Job) -> dict:
    return {"uuid": job.uuid, "operation": job.operation, "start": job.start, "end": job.end,
            "result": _jsonable(job.result),
            "error": job.error.to_dict() if isinstance(job.error, DomainError) else job.error,
            "args": _jsonable(job.args), "cancelled": job.cancelled}
