"""VM lifecycle: creation (placement of host and primary storage together), start, stop,
reboot, pause, resume, freeze, destroy, recover, expunge, resize."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from .entities import (
    ROOT_TEMPLATE,
    DiskNode,
    Host,
    Image,
    PrimaryStorage,
    Vm,
    Volume,
    VolumeSnapshot,
)
from .errors import (
    CapacityExhausted,
    DomainError,
    InvalidArgument,
    InvalidState,
    Unreachable,
)
from .placement import STRATEGIES
from .state import CloudState
from .storage import virtual_charge
from .transactions import operation
from .util import key_of

VM_STATES = (
    "Created",
    "Starting",
    "Running",
    "Stopping",
    "Stopped",
    "Rebooting",
    "Destroying",
    "Destroyed",
    "Migrating",
    "Expunging",
    "Pausing",
    "Paused",
    "Resuming",
    "Error",
    "Unknown",
    "Crashed",
    "Hibernated",
)

# The model's allowed-operations table: which VM states allow which operation.
ALLOWED = {
    "start": ("Created", "Running", "Stopped", "Crashed"),
    "stop": ("Running", "Stopped", "Paused", "Unknown", "Crashed", "Hibernated"),
    "reboot": ("Running", "Crashed"),
    "pause": ("Running",),
    "resume": ("Paused",),
    "hibernate": ("Running",),
    "wake": ("Hibernated",),
    "destroy": (
        "Created",
        "Running",
        "Stopped",
        "Paused",
        "Unknown",
        "Crashed",
        "Starting",
        "Stopping",
        "Rebooting",
        "Migrating",
        "Pausing",
        "Resuming",
        "Error",
        "Hibernated",
    ),
    "recover": ("Destroyed",),
    "expunge": ("Destroyed",),
    "clone": ("Running", "Stopped", "Paused"),
    "attach_volume": ("Running", "Stopped", "Paused"),
    "detach_volume": ("Running", "Stopped", "Paused"),
    "backup": ("Running", "Paused"),
    "snapshot": ("Running", "Stopped", "Paused", "Hibernated"),
    "migrate": ("Running", "Paused", "Unknown"),
    "change_offering": ("Running", "Stopped", "Paused"),
    "attach_network": ("Running", "Stopped", "Paused"),
    "detach_network": ("Running", "Stopped", "Paused"),
    "reimage": ("Stopped",),
}


class StartPolicy(str, Enum):
    """What a new VM (created or cloned) becomes: placed and running (``START``), placed
    then stopped (``STOPPED``), or a record holding nothing until its first start
    (``NONE``).  Plain strings with these values are accepted too."""

    START = "start"
    NONE = "none"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


START_POLICIES = tuple(p.value for p in StartPolicy)
_POLICY_OF: dict[str, StartPolicy] = {p.value: p for p in StartPolicy}  # members hash as their values


def start_policy(value: str) -> StartPolicy:
    """``value`` as a :class:`StartPolicy` (``InvalidArgument`` if it is none)."""
    try:
        policy = _POLICY_OF.get(value)
    except TypeError:  # unhashable
        policy = None
    if policy is None:
        raise InvalidArgument("strategy", f"must be one of {', '.join(START_POLICIES)}")
    return policy


# What a new VM record is made of, checked (``VmMixin._vm_shape``; a clone of several
# names makes it once): zone uuid, cpu, memory, offering uuid, image uuid, description, L3
# network uuids, allocator strategy, platform, guest OS type, architecture, pending plan.
VmShape = tuple[
    str, int, int, str | None, str | None, str, list[str], str | None, str, str, str, dict[str, Any]
]


class VmMixin(CloudState):
    # -- lookups -----------------------------------------------------------------------
    def _vm(self, vm: Vm | str) -> Vm:
        return vm if isinstance(vm, Vm) else self.vms.get(vm)

    def _volume(self, volume: Volume | str) -> Volume:
        return volume if isinstance(volume, Volume) else self.volumes.get(volume)

    def _state_check(self, vm: Vm, op: str) -> None:
        allowed = ALLOWED[op]
        if vm.state not in allowed:
            raise InvalidState("vm", vm.uuid, vm.state, op, allowed)

    def vm_volumes(self, vm: Vm | str) -> list[Volume]:
        vm = self._vm(vm)
        out = []
        if vm.root_volume_uuid:
            out.append(self.volumes.get(vm.root_volume_uuid))
        out.extend(self.volumes.get(u) for u in vm.data_volume_uuids)
        return out

    def volume_actual_size(self, volume: Volume | str) -> int:
        volume = self._volume(volume)
        if volume.node_uuid is None:
            return 0
        return self.nodes.get(volume.node_uuid).actual_size

    def volume_allocated_size(self, volume: Volume | str) -> int:
        volume = self._volume(volume)
        if volume.node_uuid is None:
            return 0
        return self.chain_allocated_size(self.nodes.get(volume.node_uuid))

    def volume_chain_depth(self, volume: Volume | str) -> int:
        volume = self._volume(volume)
        return self.nodes.get(volume.node_uuid).depth if volume.node_uuid else 0

    # -- primary storage choice --------------------------------------------------------
    def _image_cache(self, image: Image, ps: PrimaryStorage) -> DiskNode | None:
        uuid = self.image_caches.get(f"{image.uuid}:{ps.uuid}")
        return self.nodes.by_uuid(uuid) if uuid else None

    def _ensure_image_cache(self, image: Image, ps: PrimaryStorage) -> DiskNode:
        key = f"{image.uuid}:{ps.uuid}"
        cached = self.image_caches.get(key)
        node = self.nodes.by_uuid(cached) if cached else None  # _image_cache(image, ps)
        if node is not None:
            return node
        ready = False  # a copy on a connected backup storage (every ref is looked at)
        for r in image.backup_storage_refs:
            if (
                r["status"] == "Ready"
                and self.backup_storages.get(r["backup_storage_uuid"]).status == "Connected"
            ):
                ready = True
        if not ready:
            if image.backup_storage_refs:
                raise Unreachable("backup_storage", image.backup_storage_refs[0]["backup_storage_uuid"])
            raise InvalidState("image", image.uuid, image.status, "download")
        node = self._new_node(
            ps, None, image.virtual_size, image.actual_size, "image-cache", charge_virtual=True
        )
        self.image_caches[key] = node.uuid
        if self._undo is not None:
            self._undo.append((self.image_caches, key))  # ``_unmake``: popped
        return node

    def _storage_need(
        self,
        ps: PrimaryStorage,
        image: Image | None,
        parent: DiskNode | None,
        root_size: int,
        data_sizes: Iterable[int],
        thick: bool,
    ) -> tuple[int, int]:
        """(virtual charge, physical bytes) that a VM's volumes need on ``ps``."""
        leaf = self.settings.new_leaf_size
        ratio = ps.ratio
        virtual = root_size if ratio == 1.0 else virtual_charge(ps, root_size)
        physical = root_size if thick or root_size < leaf else leaf
        if image is not None and (  # _image_cache(image, ps) is None
            not (cached := self.image_caches.get(f"{image.uuid}:{ps.uuid}"))
            or self.nodes.by_uuid(cached) is None
        ):
            virtual += image.actual_size if ratio == 1.0 else virtual_charge(ps, image.actual_size)
            physical += image.actual_size
        for size in data_sizes:
            virtual += virtual_charge(ps, size)
            physical += size if thick else min(leaf, size)
        return virtual, physical

    def _pick_primary_storage(self, candidates: list[PrimaryStorage], need: Any) -> PrimaryStorage:
        """The candidate with the most free virtual capacity that fits ``need(ps)``."""
        best = None
        shortage: CapacityExhausted | None = None
        exhausted = self._exhausted
        for ps in candidates:
            if ps.state != "Enabled" or ps.status != "Connected":  # not ps.usable
                continue
            virtual, physical = need(ps)
            v_room = ps.total_capacity - ps.reserved_capacity - ps.used_virtual
            p_room = ps.physical_limit - ps.used_physical
            admits_virtually = ps.admission != "physical"  # ps.admits_virtually
            if exhausted and "primary_storage.virtual" in exhausted:
                v_room = 0
            # a storage that admits on physical space only ranks by it and never refuses
            # for provisioned size
            rank = v_room if admits_virtually else p_room
            if exhausted and "primary_storage.physical" in exhausted:
                p_room = 0
            if admits_virtually and virtual > v_room:
                if shortage is None or shortage.resource != "primary_storage.virtual":
                    shortage = CapacityExhausted(
                        "primary_storage.virtual",
                        virtual,
                        max(v_room, 0),
                        resource_uuid=ps.uuid,
                        injected="primary_storage.virtual" in exhausted,
                    )
                continue
            if physical > p_room:
                if shortage is None:
                    shortage = CapacityExhausted(
                        "primary_storage.physical",
                        physical,
                        max(p_room, 0),
                        resource_uuid=ps.uuid,
                        injected="primary_storage.physical" in exhausted,
                    )
                continue
            if best is None or rank > best[0]:
                best = (rank, ps)
        if best is None:
            if shortage is None:
                shortage = CapacityExhausted(
                    "primary_storage.virtual",
                    need(candidates[0])[0] if candidates else 0,
                    0,
                    resource_uuid=None,
                )
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
    def create_vm(
        self,
        name: str,
        *,
        image: Any = None,
        instance_offering: Any = None,
        cpu_num: int | None = None,
        memory_size: int | None = None,
        l3_networks: Any = None,
        snapshot: Any = None,
        host: Any = None,
        cluster: Any = None,
        zone: Any = None,
        primary_storage: Any = None,
        primary_storage_for_data: Any = None,
        data_disk_offerings: Any = (),
        data_disk_sizes: Any = (),
        strategy: str = StartPolicy.START,
        allocator_strategy: str | None = None,
        provisioning: str | None = None,
        description: str = "",
        platform: str | None = None,
        resource_uuid: str | None = None,
    ) -> Vm:
        """Create a VM from an image (or a volume snapshot) and an offering (or cpu/memory).

        ``strategy``: a :class:`StartPolicy`: ``start`` (placed and Running), ``stopped``
        (placed, then Stopped) or ``none`` (a Created record holding nothing until its first
        start).  A failed placement deletes the half-built VM and raises.
        """
        self._fault_point("vm.create", name=name, image=key_of(image), host=key_of(host))
        vm = self._new_vm_record(
            name,
            image=image,
            instance_offering=instance_offering,
            cpu_num=cpu_num,
            memory_size=memory_size,
            l3_networks=l3_networks,
            snapshot=snapshot,
            zone=zone,
            host=host,
            cluster=cluster,
            primary_storage=primary_storage,
            primary_storage_for_data=primary_storage_for_data,
            data_disk_offerings=data_disk_offerings,
            data_disk_sizes=data_disk_sizes,
            strategy=strategy,
            allocator_strategy=allocator_strategy,
            provisioning=provisioning,
            description=description,
            platform=platform,
            resource_uuid=resource_uuid,
        )
        policy = start_policy(strategy)  # valid: the record checked it
        if policy is not StartPolicy.NONE:
            self._instantiate(vm)
            if policy is StartPolicy.STOPPED:
                self._stop(vm)
        return vm

    def _new_vm_record(
        self,
        name: Any,
        *,
        image: Any = None,
        instance_offering: Any = None,
        cpu_num: Any = None,
        memory_size: Any = None,
        l3_networks: Any = None,
        snapshot: Any = None,
        zone: Any = None,
        host: Any = None,
        cluster: Any = None,
        primary_storage: Any = None,
        primary_storage_for_data: Any = None,
        data_disk_offerings: Any = (),
        data_disk_sizes: Any = (),
        strategy: Any = StartPolicy.START,
        allocator_strategy: Any = None,
        provisioning: Any = None,
        description: Any = "",
        platform: Any = None,
        resource_uuid: Any = None,
    ) -> Vm:
        uuid = self.ids.uuid() if resource_uuid is None else self._claim_uuid(resource_uuid, self.vms)
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        shape = self._vm_shape(
            image,
            instance_offering,
            cpu_num,
            memory_size,
            l3_networks,
            snapshot,
            zone,
            host,
            cluster,
            primary_storage,
            primary_storage_for_data,
            data_disk_offerings,
            data_disk_sizes,
            strategy,
            allocator_strategy,
            provisioning,
            description,
            platform,
        )
        return self._add_vm_record(uuid, name, shape)

    def _vm_shape(
        self,
        image: Any,
        instance_offering: Any,
        cpu_num: Any,
        memory_size: Any,
        l3_networks: Any,
        snapshot: Any,
        zone: Any,
        host: Any,
        cluster: Any,
        primary_storage: Any,
        primary_storage_for_data: Any,
        data_disk_offerings: Any,
        data_disk_sizes: Any,
        strategy: Any,
        allocator_strategy: Any,
        provisioning: Any,
        description: Any,
        platform: Any,
    ) -> VmShape:
        """``_new_vm_record``'s checks of everything but the uuid and the name, in its
        order, and what the record is made of (no change, nothing drawn)."""
        if strategy.__class__ is not StartPolicy:
            start_policy(strategy)  # InvalidArgument unless it names one
        if provisioning not in (None, "thin", "thick"):
            raise InvalidArgument("provisioning", "must be thin or thick")
        offering = self.instance_offerings.get(instance_offering) if instance_offering else None
        if offering is None:
            if not cpu_num or not memory_size:
                raise InvalidArgument(
                    "instance_offering",
                    "give an instance offering, or a cpu count and a memory size",
                    reason_code="instance_offering_or_sizes",
                )
            if cpu_num <= 0 or memory_size <= 0:
                raise InvalidArgument("cpu_num" if cpu_num <= 0 else "memory_size", "must be positive")
        snap = self.volume_snapshots.get(snapshot) if snapshot is not None else None
        img = self.images.get(image) if image is not None else None
        if img is None and snap is None:
            raise InvalidArgument("image", "give an image or a volume snapshot")
        if img is not None:
            if img.status != "Ready" or img.state != "Enabled":
                raise InvalidState("image", img.uuid, img.status, "create vm")
            if img.media_type != ROOT_TEMPLATE:  # not bootable
                raise InvalidArgument(
                    "image",
                    f"image {img.uuid} is a {img.media_type}, not a {ROOT_TEMPLATE}",
                    reason_code="image_not_bootable",
                    image_uuid=img.uuid,
                    media_type=img.media_type,
                )
        hint_host = self.hosts.get(host) if host is not None else None
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        ps_root = self.primary_storages.get(primary_storage) if primary_storage is not None else None
        ps_data = (
            self.primary_storages.get(primary_storage_for_data)
            if primary_storage_for_data is not None
            else None
        )
        if allocator_strategy is not None and allocator_strategy not in STRATEGIES:
            raise InvalidArgument("allocator_strategy", f"unknown strategy {allocator_strategy}")
        data_sizes: list[int] = []
        data_offerings: list[str | None] = []
        if data_disk_offerings:
            data_sizes = [self.disk_offerings.get(d).disk_size for d in data_disk_offerings]
            data_offerings = [self.disk_offerings.get(d).uuid for d in data_disk_offerings]
        for size in data_disk_sizes:
            if size <= 0:
                raise InvalidArgument("data_disk_sizes", "sizes must be positive")
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
            nets = list(map(self.l3_networks.get, l3_networks))
        if not nets:
            raise InvalidArgument("l3_networks", "at least one L3 network is needed")
        source_vm = None
        if snap is not None:
            source_vol = self.volumes.find(snap.volume_uuid)
            source_vm = self.vms.find(source_vol.vm_uuid or source_vol.last_vm_uuid) if source_vol else None
        return (
            zone_uuid,
            offering.cpu_num if offering else cpu_num,
            offering.memory_size if offering else memory_size,
            offering.uuid if offering else None,
            img.uuid if img else (source_vm.image_uuid if source_vm else None),
            description,
            [n.uuid for n in nets],
            allocator_strategy or (offering.allocator_strategy if offering else None),
            platform or (img.platform if img else (source_vm.platform if source_vm else "Linux")),
            img.guest_os_type if img else (source_vm.guest_os_type if source_vm else ""),
            img.architecture if img else (source_vm.architecture if source_vm else "x86_64"),
            {
                "image": img.uuid if img else None,
                "snapshot": snap.uuid if snap else None,
                "host": hint_host.uuid if hint_host else None,
                "cluster": hint_cluster.uuid if hint_cluster else None,
                "primary_storage": ps_root.uuid if ps_root else None,
                "primary_storage_for_data": ps_data.uuid if ps_data else None,
                "data_sizes": data_sizes,
                "data_offerings": data_offerings,
                "thick": None if provisioning is None else provisioning == "thick",
            },
        )

    def _add_vm_record(self, uuid: str, name: str, shape: VmShape, *, shared: bool = False) -> Vm:
        """A Created VM of ``shape``, added; ``shared``: the shape makes several records,
        each gets lists and a pending plan of its own."""
        (
            zone_uuid,
            cpu_num,
            memory_size,
            offering_uuid,
            image_uuid,
            description,
            l3_network_uuids,
            allocator_strategy,
            platform,
            guest_os_type,
            architecture,
            pending,
        ) = shape
        if shared:
            pending = dict(pending)  # the same keys, in the same order
            pending["data_sizes"] = list(pending["data_sizes"])
            pending["data_offerings"] = list(pending["data_offerings"])
            l3_network_uuids = list(l3_network_uuids)
        now = self.clock.now()
        # Positional (a hot path: each keyword costs): the fields in Vm's order.
        vm = Vm(
            uuid,
            name,
            zone_uuid,
            cpu_num,
            memory_size,
            offering_uuid,
            image_uuid,
            description,
            "Created",  # state
            None,  # host_uuid
            None,  # last_host_uuid
            None,  # cluster_uuid
            None,  # root_volume_uuid
            [],  # data_volume_uuids
            [],  # nic_uuids
            l3_network_uuids,
            allocator_strategy,
            platform,
            guest_os_type,
            architecture,
            False,  # frozen
            pending,
            now,  # create_date
            now,  # last_op_date
        )
        self.vms.add(vm)  # ``_add`` spelled out (every new VM passes here)
        if self._undo is not None:
            self._undo.append((self.vms, vm))
        return vm

    def _storage_plan(
        self,
        zone_uuid: str,
        image: Image | None,
        snap: VolumeSnapshot | None,
        parent_node: DiskNode | None,
        root_size: int,
        data_sizes: list[int],
        ps_root: PrimaryStorage | None,
        ps_data: PrimaryStorage | None,
        hint_host: Host | None,
        hint_cluster: str | None,
        forced_thick: bool | None,
    ) -> tuple[list[PrimaryStorage], set[str]]:
        """Where a new VM's volumes can go: the primary storages (of its zone, reachable
        from the hinted host or cluster) with room for them, roomiest first, and the
        clusters whose hosts reach one of them.  Raises the shortage when none fits.
        VM creation and the placement questions both ask this."""
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
            candidates = [ps for ps in self.primary_storages.view() if ps.zone_uuid == zone_uuid]
        if scope is not None:
            candidates = [ps for ps in candidates if scope.intersection(ps.cluster_uuids)]
        root_data = data_sizes if ps_data is None else ()
        fitting: list[PrimaryStorage] = []
        shortage: DomainError | None = None
        exhausted = self._exhausted
        for ps in candidates:
            thick = ps.default_thick if forced_thick is None else forced_thick
            if not exhausted and ps.state == "Enabled" and ps.status == "Connected":
                # the common case, decided here as _pick_primary_storage would decide it;
                # a storage that does not fit goes there for its shortage
                virtual, physical = self._storage_need(ps, image, parent_node, root_size, root_data, thick)
                if (
                    ps.admission == "physical"
                    or virtual <= ps.total_capacity - ps.reserved_capacity - ps.used_virtual
                ) and physical <= ps.physical_limit - ps.used_physical:
                    fitting.append(ps)
                    continue
            try:
                self._pick_one_storage(ps, image, parent_node, root_size, root_data, thick)
            except (CapacityExhausted, Unreachable) as exc:
                shortage = shortage or exc
                continue
            fitting.append(ps)
        if ps_data is not None and fitting:
            thick = ps_data.default_thick if forced_thick is None else forced_thick
            self._pick_one_storage(ps_data, None, None, 0, data_sizes, thick)
        if not fitting:
            if shortage is not None:
                raise shortage
            raise CapacityExhausted(
                "primary_storage.virtual",
                root_size,
                0,
                message="no primary storage is attached to a cluster that can run the vm",
            )
        if len(fitting) == 2:  # the sort below, spelled out for two (it is stable)
            a, b = fitting
            if (
                b.used_virtual + b.reserved_capacity - b.total_capacity
                < a.used_virtual + a.reserved_capacity - a.total_capacity
            ):
                fitting.reverse()
        elif len(fitting) > 2:
            fitting.sort(key=lambda ps: ps.used_virtual + ps.reserved_capacity - ps.total_capacity)
        clusters: set[str] = set()
        for ps in fitting:
            clusters.update(ps.cluster_uuids)
        if scope is not None:
            clusters &= scope
        if ps_data is not None:
            clusters &= set(ps_data.cluster_uuids)
            if not clusters:
                raise InvalidArgument(
                    "data_volume_primary_storage",
                    f"primary storage {ps_data.uuid} is not attached to a cluster that can run the vm",
                    reason_code="data_storage_unreachable",
                    primary_storage_uuid=ps_data.uuid,
                )
        return fitting, clusters

    def _pick_one_storage(
        self,
        ps: PrimaryStorage,
        image: Image | None,
        parent: DiskNode | None,
        root_size: int,
        data_sizes: Iterable[int],
        thick: bool,
    ) -> PrimaryStorage:
        """``ps`` if the volumes fit there, else its shortage (``_pick_primary_storage`` of
        one candidate; a function of its own so that ``_storage_plan`` keeps no closure)."""
        return self._pick_primary_storage(
            [ps], lambda ps: self._storage_need(ps, image, parent, root_size, data_sizes, thick)
        )

    def _instantiate(self, vm: Vm, strategy: str | None = None, *, image: Image | None = None) -> None:
        """First start of a Created VM: place host and storage, build volumes and NICs.
        ``image``: the VM's image (``pending["image"]``), when the caller has it in hand."""
        p = vm.pending
        assert p is not None  # a Created VM keeps what its first start needs
        if image is None:
            image = self.images.get(p["image"]) if p["image"] else None
        snap = self.volume_snapshots.get(p["snapshot"]) if p["snapshot"] else None
        parent_node = self.nodes.get(snap.node_uuid) if snap else None
        hint_host = self.hosts.get(p["host"]) if p["host"] else None
        hint_cluster = p["cluster"]
        ps_root = self.primary_storages.get(p["primary_storage"]) if p["primary_storage"] else None
        ps_data = (
            self.primary_storages.get(p["primary_storage_for_data"])
            if p["primary_storage_for_data"]
            else None
        )
        if image is not None:
            root_size = image.virtual_size
        else:
            assert parent_node is not None  # made from an image or from a snapshot
            root_size = parent_node.virtual_size
        data_sizes = p["data_sizes"]
        fitting, clusters = self._storage_plan(
            vm.zone_uuid,
            image,
            snap,
            parent_node,
            root_size,
            data_sizes,
            ps_root,
            ps_data,
            hint_host,
            hint_cluster,
            p["thick"],
        )
        if hint_host is None and not self._exhausted:
            # what ``_choose_host`` does with no host hint, spelled out (every first start
            # and clone passes here)
            last = self.hosts.find(vm.last_host_uuid) if vm.last_host_uuid else None
            host = self.host_index.choose(
                vm.allocator_strategy or self.settings.default_allocator_strategy,
                vm.cpu_num,
                vm.memory_size,
                frozenset(clusters),
                last,
            )
        else:
            host = self._choose_host(vm, host=hint_host, clusters=frozenset(clusters))
        for ps in fitting:  # the roomiest storage the host reaches
            if host.cluster_uuid in ps.cluster_uuids:
                break
        else:
            raise StopIteration  # the host's cluster is one of the fitting storages'
        self._hold_host(vm, host)
        thick = ps.default_thick if p["thick"] is None else p["thick"]
        if snap is not None:
            root = self._new_volume_on(vm, "Root", root_size, ps, parent=parent_node, thick=thick)
        else:
            assert image is not None
            cache = self._ensure_image_cache(image, ps)
            root = self._new_volume_on(vm, "Root", root_size, ps, parent=cache, thick=thick)
            root.root_image_uuid = image.uuid
        if self._watching:
            self._set(vm, "root_volume_uuid", root.uuid)
        else:  # ``_set`` spelled out
            if self._undo is not None:
                self._undo.append((vm, "root_volume_uuid", vm.root_volume_uuid))
            vm.root_volume_uuid = root.uuid
        data_ps = ps_data or ps
        data_thick = data_ps.default_thick if p["thick"] is None else p["thick"]
        uuids = []
        for i, size in enumerate(data_sizes):
            vol = self._new_volume_on(
                vm, "Data", size, data_ps, parent=None, thick=data_thick, device_id=i + 1
            )
            vol.disk_offering_uuid = p["data_offerings"][i]
            uuids.append(vol.uuid)
        if self._watching:
            self._set(vm, "data_volume_uuids", uuids)
        else:  # ``_set`` spelled out
            if self._undo is not None:
                self._undo.append((vm, "data_volume_uuids", vm.data_volume_uuids))
            vm.data_volume_uuids = uuids
        for i, l3_uuid in enumerate(vm.l3_network_uuids):
            nic = self._allocate_nic(vm, self.l3_networks.get(l3_uuid), i)
            if self._watching:
                self._set(vm, "nic_uuids", vm.nic_uuids + [nic.uuid])
            else:  # ``_set`` spelled out
                if self._undo is not None:
                    self._undo.append((vm, "nic_uuids", vm.nic_uuids))
                vm.nic_uuids = vm.nic_uuids + [nic.uuid]
        if self._watching:
            self._set(vm, "pending", None)
            self._set(vm, "state", "Running")
        else:  # the two ``_set`` calls spelled out
            undo = self._undo
            if undo is not None:
                undo.append((vm, "pending", vm.pending))
                undo.append((vm, "state", vm.state))
            vm.pending = None
            vm.state = "Running"
        if self._watching:  # an index may order by it
            self._set(vm, "last_op_date", self.clock.now())
        else:  # ``_set`` spelled out
            if self._undo is not None:
                self._undo.append((vm, "last_op_date", vm.last_op_date))
            vm.last_op_date = self.clock.now()

    def _new_volume_on(
        self,
        vm: Vm | None,
        vtype: str,
        size: int,
        ps: PrimaryStorage,
        *,
        parent: DiskNode | None,
        thick: bool,
        device_id: int = 0,
        name: str | None = None,
        uuid: str | None = None,
    ) -> Volume:
        uuid = uuid or self.ids.uuid()
        charge = size if ps.ratio == 1.0 else virtual_charge(ps, size)
        if charge > 0 and (
            self._exhausted or charge > ps.total_capacity - ps.reserved_capacity - ps.used_virtual
        ):
            self._charge_virtual(ps, charge)  # raises the shortage
        else:  # ``_charge_virtual`` inline when there is room
            undo = self._undo
            if undo is not None:
                undo.append((ps, "used_virtual", ps.used_virtual))
            ps.used_virtual += charge
        initial = size if thick else self.settings.new_leaf_size
        node = self._new_node(ps, parent, size, initial, "leaf", thick=thick)
        now = self.clock.now()
        if name is None:
            assert vm is not None  # a volume of no VM is named by its caller
            name = f"ROOT-for-{vm.name}" if vtype == "Root" else f"DATA-for-{vm.name}"
        # Positional (a hot path: each keyword costs): the fields in Volume's order.
        volume = Volume(
            uuid,
            name,
            vtype,
            size,
            "",  # description
            vm.uuid if vm else None,  # vm_uuid
            None,  # last_vm_uuid
            ps.uuid,  # primary_storage_uuid
            node.uuid,  # node_uuid
            thick,
            charge,  # virtual_charge
            "qcow2",  # format
            "Ready",  # status
            "Enabled",  # state
            device_id,
            create_date=now,
            last_op_date=now,
        )
        self.volumes.add(volume)  # ``_add`` spelled out (every new VM's volumes pass here)
        if self._undo is not None:
            self._undo.append((self.volumes, volume))
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
    def start_vm(self, vm: Vm | str, *, host: Any = None) -> Vm:
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
                vm.pending = dict(vm.pending or {}, host=hint.uuid)
            try:
                self._instantiate(vm)
            except DomainError:
                self._delete_created_vm(vm)
                raise
            return vm
        self._start_existing(vm, hint)
        return vm

    def _delete_created_vm(self, vm: Vm) -> None:
        """A Created VM whose first start failed is removed.  The failed
        start is about to be rolled back; the removal is queued as the log's last entry,
        so it runs first and is not itself undone."""
        if self._undo is not None:
            self._undo.append(lambda: self.vms.find(vm.uuid) and self.vms.remove(vm))

    def _start_existing(self, vm: Vm, hint: Host | None) -> None:
        clusters = self._running_clusters(vm)
        local = any(
            self.primary_storages.get(v.primary_storage_uuid).host_local
            for v in self.vm_volumes(vm)
            if v.primary_storage_uuid
        )
        if local and hint is None and vm.last_host_uuid:
            hint = self.hosts.get(vm.last_host_uuid)
        strategy = "LastHostPreferredAllocatorStrategy"
        if vm.allocator_strategy and vm.allocator_strategy != "DefaultHostAllocatorStrategy":
            strategy = vm.allocator_strategy
        host = self._choose_host(vm, host=hint, clusters=clusters, strategy=strategy)
        self._hold_host(vm, host)
        self._set(vm, "state", "Running")
        self._set(vm, "last_op_date", self.clock.now())

    def _stop(self, vm: Vm) -> None:
        self._release_host(vm)
        self._set(vm, "state", "Stopped")
        self._set(vm, "frozen", False)
        self._set(vm, "last_op_date", self.clock.now())

    @operation("vm.stop")
    def stop_vm(self, vm: Vm | str) -> Vm:
        vm = self._vm(vm)
        self._fault_point("vm.stop", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "stop")
        if vm.state != "Stopped":
            self._stop(vm)
        return vm

    def _change_state(self, vm: Vm | str, op: str, state: str) -> Vm:
        """The simple transitions: a fault point, the state table's check, the new state."""
        vm = self._vm(vm)
        self._fault_point(f"vm.{op}", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, op)
        self._set(vm, "state", state)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    @operation("vm.reboot")
    def reboot_vm(self, vm: Vm | str) -> Vm:
        """A guest restart: a frozen VM (an instant-clone source) thaws, as on stop."""
        vm = self._change_state(vm, "reboot", "Running")
        self._set(vm, "frozen", False)
        return vm

    @operation("vm.pause")
    def pause_vm(self, vm: Vm | str) -> Vm:
        return self._change_state(vm, "pause", "Paused")

    @operation("vm.resume")
    def resume_vm(self, vm: Vm | str) -> Vm:
        return self._change_state(vm, "resume", "Running")

    @operation("vm.hibernate")
    def hibernate_vm(self, vm: Vm | str) -> Vm:
        """Suspend a Running VM to its storage: its memory is saved with its disks and the
        host's CPU and memory are released (unlike ``pause``, which keeps them).  A
        Hibernated VM holds no host; ``wake_vm`` places it again."""
        vm = self._vm(vm)
        self._fault_point("vm.hibernate", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "hibernate")
        self._release_host(vm)
        self._set(vm, "state", "Hibernated")
        self._set(vm, "frozen", False)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    @operation("vm.wake")
    def wake_vm(self, vm: Vm | str, *, host: Any = None) -> Vm:
        """A Hibernated VM back to Running: placed again like a start (its last host
        preferred when its disks are local), so it needs the host room a start needs
        (``CapacityExhausted`` otherwise, and it stays Hibernated)."""
        vm = self._vm(vm)
        self._fault_point("vm.wake", vm=vm.uuid, name=vm.name)
        self._state_check(vm, "wake")
        self._start_existing(vm, self.hosts.get(host) if host is not None else None)
        return vm

    @operation("vm.freeze")
    def freeze_vm(self, vm: Vm | str, frozen: bool = True) -> Vm:
        """Mark a running VM frozen (an instant-clone source): its disks move once
        onto new leaves above frozen nodes and stop changing; instant clones then hang off
        those frozen nodes without growing its chain."""
        vm = self._vm(vm)
        if frozen and vm.state != "Running":
            raise InvalidState("vm", vm.uuid, vm.state, "freeze", ("Running",))
        if frozen and not vm.frozen:
            for vol in self.vm_volumes(vm):
                self._freeze_leaf(vol, keep_ref=False)
        self._set(vm, "frozen", bool(frozen))
        return vm

    @operation("vm.destroy")
    def destroy_vm(self, vm: Vm | str) -> Vm:
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
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    @operation("vm.recover")
    def recover_vm(self, vm: Vm | str) -> Vm:
        return self._change_state(vm, "recover", "Stopped")

    @operation("vm.expunge")
    def expunge_vm(self, vm: Vm | str) -> None:
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

    @operation("vm.resize")
    def resize_vm(self, vm: Vm | str, *, cpu_num: int | None = None, memory_size: int | None = None) -> Vm:
        """Change a VM's CPU count and memory.  A VM holding its host is resized in place
        and needs the difference to fit there (``CapacityExhausted`` otherwise)."""
        vm = self._vm(vm)
        self._fault_point("vm.resize", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        cpu = vm.cpu_num if cpu_num is None else cpu_num
        memory = vm.memory_size if memory_size is None else memory_size
        if cpu <= 0:
            raise InvalidArgument("cpu_num", "must be positive")
        if memory <= 0:
            raise InvalidArgument("memory_size", "must be positive")
        if vm.state in ("Destroyed", "Expunging"):
            raise InvalidState("vm", vm.uuid, vm.state, "resize", ("Created", "Running", "Stopped", "Paused"))
        if vm.host_uuid is not None:
            host = self.hosts.get(vm.host_uuid)
            d_cpu, d_memory = cpu - vm.cpu_num, memory - vm.memory_size
            free_cpu = host.total_cpu - host.used_cpu
            free_memory = host.total_memory - host.used_memory - host.reserved_memory
            if d_memory > 0 and (d_memory > free_memory or "host.memory" in self._exhausted):
                raise CapacityExhausted(
                    "host.memory",
                    d_memory,
                    max(free_memory, 0),
                    resource_uuid=host.uuid,
                    request={"cpu": d_cpu, "memory": d_memory},
                )
            if d_cpu > 0 and (d_cpu > free_cpu or "host.cpu" in self._exhausted):
                raise CapacityExhausted(
                    "host.cpu",
                    d_cpu,
                    max(free_cpu, 0),
                    resource_uuid=host.uuid,
                    request={"cpu": d_cpu, "memory": d_memory},
                )
            self._set_host_usage(host, d_cpu, d_memory, 0)
        self._set(vm, "cpu_num", cpu)
        self._set(vm, "memory_size", memory)
        self._set(
            vm,
            "instance_offering_uuid",
            vm.instance_offering_uuid if cpu_num is None and memory_size is None else None,
        )
        return vm
