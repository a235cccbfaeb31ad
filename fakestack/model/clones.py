"""Clones: linked clones through a temporary image (``clone_vm``), instant clones that
share the source's disks (``instant_clone``) and full, independent copies
(``full_clone_vm``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .entities import (
    DATA_TEMPLATE,
    ROOT_TEMPLATE,
    BackupStorage,
    Cluster,
    Host,
    Image,
    PrimaryStorage,
    Vm,
    Volume,
)
from .errors import (
    CapacityExhausted,
    DomainError,
    InvalidArgument,
    InvalidState,
    Unreachable,
)
from .placement import MIN_MEMORY, STRATEGIES
from .state import CloudState
from .storage import virtual_charge
from .transactions import operation
from .vms import ALLOWED, StartPolicy, VmShape, start_policy

_CLONE_STATES = ALLOWED["clone"]


@dataclass(slots=True)
class CloneEntry:
    """One name's outcome in ``clone_vm``: a VM, or an error (with the VM record as it
    was before its start failed, when it got that far)."""

    name: str
    vm: Vm | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class CloneResult:
    source_uuid: str
    entries: list[CloneEntry] = field(default_factory=list)
    snapshot_uuids: list[str] = field(default_factory=list)
    image_uuids: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> list[Vm]:
        return [e.vm for e in self.entries if e.error is None and e.vm is not None]

    @property
    def failed(self) -> list[CloneEntry]:
        return [e for e in self.entries if e.error is not None]

    @property
    def number_of_cloned_vm(self) -> int:
        return sum(1 for e in self.entries if e.error is None)


class CloneMixin(CloudState):
    # -- clones ------------------------------------------------------------------------
    def _pick_backup_storage(self, zone_uuid: str, size: int) -> BackupStorage:
        shortage = None
        for bs in self.backup_storages.view():
            if zone_uuid not in bs.zone_uuids or bs.state != "Enabled" or bs.status != "Connected":
                continue  # not in the zone, or not bs.usable
            if not self._exhausted and size <= bs.total_capacity - bs.reserved_capacity - bs.used:
                return bs  # fits (what _check_physical would say)
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
    def clone_vm(
        self,
        source: Vm | str,
        names: list[str],
        *,
        strategy: str = StartPolicy.START,
        full: bool = False,
        host: Any = None,
        cluster: Any = None,
        primary_storage_for_root: Any = None,
        primary_storage_for_data: Any = None,
        provisioning: str | None = None,
        description: str | None = None,
    ) -> CloneResult:
        """Linked clones of a VM through a temporary image, one VM per name.

        Shared steps (any failure fails the whole call and leaves nothing): source state,
        a host dry run for one clone (skipped for ``StartPolicy.NONE``), a backup storage with room,
        a system snapshot of the root volume (and data volumes when ``full``), temporary
        image(s) on the backup storage.  Then per name: a VM created from the temporary
        image and (unless ``strategy`` is ``none``) started; each name succeeds or fails on its own, a
        failed name leaving nothing allocated.
        """
        vm = source if isinstance(source, Vm) else self.vms.get(source)  # self._vm(source)
        if self.faults is not None:
            self._fault_point("vm.clone.prepare", vm=vm.uuid, name=vm.name)
        if not names:
            raise InvalidArgument("names", "must not be empty")
        for n in names:
            if not isinstance(n, str) or not n or len(n) > 255:
                raise InvalidArgument("names", "each name must be 1 to 255 characters")
        policy = strategy if strategy.__class__ is StartPolicy else start_policy(strategy)
        if vm.state not in _CLONE_STATES:  # self._state_check(vm, "clone")
            raise InvalidState("vm", vm.uuid, vm.state, "clone", _CLONE_STATES)
        hint_host = self.hosts.get(host) if host is not None else None
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        ps_root = self.primary_storages.get(primary_storage_for_root) if primary_storage_for_root else None
        ps_data = self.primary_storages.get(primary_storage_for_data) if primary_storage_for_data else None
        if policy is not StartPolicy.NONE:
            clusters = frozenset([hint_cluster.uuid]) if hint_cluster else None
            if hint_host is None and not self._exhausted:
                # what _choose_host does for a probe with no host and no last host
                self.host_index.choose(MIN_MEMORY, vm.cpu_num, vm.memory_size, clusters, None)
            else:
                probe = Vm("", "", vm.zone_uuid, vm.cpu_num, vm.memory_size, None, None)
                self._choose_host(probe, host=hint_host, clusters=clusters, strategy=MIN_MEMORY)
        root = self.volumes.get(vm.root_volume_uuid)
        # volume_allocated_size of each volume (it is in hand)
        if full:
            volumes = [root] + [self.volumes.get(u) for u in vm.data_volume_uuids]
            sizes = [
                0 if v.node_uuid is None else self.chain_allocated_size(self.nodes.get(v.node_uuid))
                for v in volumes
            ]
        else:
            volumes = [root]
            if root.node_uuid is None:
                sizes = [0]
            else:  # chain_allocated_size(node), spelled out
                node = self.nodes.get(root.node_uuid)
                total = node.actual_size
                if node.parent_uuid is not None:
                    total += self._size_through(node.parent_uuid)
                sizes = [min(total, node.virtual_size)]
        bs = self._pick_backup_storage(vm.zone_uuid, sum(sizes))
        if bs.status != "Connected":
            raise Unreachable("backup_storage", bs.uuid)
        result = CloneResult(vm.uuid, [], [], [])  # positional: no default factories
        images: list[Image] = []
        now = self.clock.now()
        for vol, size in zip(volumes, sizes):
            snap = self._snapshot(vol, f"for-clone-vm-{names[0]}", "", True)  # a system snapshot
            result.snapshot_uuids.append(snap.uuid)
            kind = "rootVolume" if vol.type == "Root" else "volume"
            node = self._new_node(bs, None, vol.virtual_size, size, "image")
            # Positional (a hot path: each keyword costs): the fields in Image's order.
            image = Image(
                self.ids.uuid(),
                f"for-clone-vm-{vm.uuid}-{kind}-{vol.uuid}",  # name
                ROOT_TEMPLATE if vol.type == "Root" else DATA_TEMPLATE,  # media_type
                "qcow2",  # format
                vm.platform,
                vm.guest_os_type,
                vm.architecture,
                vol.virtual_size,
                size,  # actual_size
                "",  # description
                "Enabled",  # state
                "Ready",  # status
                True,  # system
                True,  # virtio
                "",  # url
                [{"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid, "status": "Ready"}],
                None,  # source_backup_uuid
                vm.uuid,  # clone_of
                now,  # create_date
                now,  # last_op_date
            )
            self.images.add(image)  # ``_add`` spelled out (every clone passes here)
            if self._undo is not None:
                self._undo.append((self.images, image))
            images.append(image)
            result.image_uuids.append(image.uuid)
        root_image = images[0]
        data_images = images[1:]
        allocator = vm.allocator_strategy or self.settings.clone_allocator_strategy
        start, stop, created = policy is not StartPolicy.NONE, policy is StartPolicy.STOPPED, StartPolicy.NONE
        # the same for every name (each record copies what it keeps of them)
        networks = list(vm.l3_network_uuids)
        data_sizes = [im.virtual_size for im in data_images] if data_images else []
        clone_description = description if description is not None else f"cloned from vm[uuid:{vm.uuid}]"
        # Every name's record checks the same things against the same state (no name's work
        # changes what they read, and with no fault plan nothing else runs in between): check
        # them once.  If they fail, each name goes the whole way and fails on its own (the
        # same ids drawn, the same error).
        shape = None
        shared = len(names) > 1  # then each record gets lists of its own
        if self.faults is None and not full:
            shape = self._clone_shape(
                vm,
                root_image,
                networks,
                hint_host,
                hint_cluster,
                ps_root,
                ps_data,
                allocator,
                provisioning,
                clone_description,
            )
        if shape is None and self.faults is None and not full:
            try:
                shape = self._vm_shape(
                    root_image.uuid,  # the image, found by its uuid at once
                    vm.instance_offering_uuid,
                    vm.cpu_num,
                    vm.memory_size,
                    networks,
                    None,
                    vm.zone_uuid,
                    hint_host,
                    hint_cluster,
                    ps_root,
                    ps_data,
                    (),
                    data_sizes,
                    created,
                    allocator,
                    provisioning,
                    clone_description,
                    None,
                )
            except DomainError:
                shape = None
        for name in names:
            entry = CloneEntry(name)
            mark = len(self._undo) if self._undo is not None else 0
            saved_exhausted = self._exhausted
            try:
                if self.faults is not None:
                    self._fault_point("vm.clone", vm=vm.uuid, name=name, source=vm.name)
                if shape is not None:
                    clone = self._add_vm_record(self.ids.uuid(), name, shape, shared=shared)
                else:
                    clone = self._new_vm_record(
                        name,
                        image=root_image,
                        instance_offering=vm.instance_offering_uuid,
                        cpu_num=vm.cpu_num,
                        memory_size=vm.memory_size,
                        l3_networks=networks,
                        zone=vm.zone_uuid,
                        host=hint_host,
                        cluster=hint_cluster,
                        primary_storage=ps_root
                        or (
                            self.primary_storages.get(
                                self.volumes.get(vm.root_volume_uuid).primary_storage_uuid
                            )
                            if full
                            else None
                        ),
                        primary_storage_for_data=ps_data,
                        data_disk_sizes=data_sizes,
                        strategy=created,
                        allocator_strategy=allocator,
                        provisioning=provisioning,
                        description=clone_description,
                    )
                clone.cpu_num, clone.memory_size = vm.cpu_num, vm.memory_size
                entry.vm = clone
                if start:
                    self._instantiate(clone, image=root_image)  # pending["image"]
                    for vol_uuid, image in zip(clone.data_volume_uuids, data_images):
                        self._fill_from_image(self.volumes.get(vol_uuid), image)
                    if stop:
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

    def _clone_shape(
        self,
        vm: Vm,
        image: Image,
        networks: list[str],
        hint_host: Host | None,
        hint_cluster: Cluster | None,
        ps_root: PrimaryStorage | None,
        ps_data: PrimaryStorage | None,
        allocator: str,
        provisioning: str | None,
        description: str,
    ) -> VmShape | None:
        """``_vm_shape`` of a linked clone's record, spelled out (every clone passes here):
        no data disks, no snapshot, the new temporary image, the hints entities in hand.
        None when anything is out of the common case: the caller then asks ``_vm_shape``,
        which raises what it raises.
        tests/model/test_clone_paths.py compares the two."""
        if provisioning not in (None, "thin", "thick") or allocator not in STRATEGIES:
            return None
        if image.status != "Ready" or image.state != "Enabled" or image.media_type != ROOT_TEMPLATE:
            return None
        offering_uuid = vm.instance_offering_uuid
        if offering_uuid:
            offering = self.instance_offerings.by_uuid(offering_uuid)
            if offering is None:
                return None
            cpu_num, memory_size = offering.cpu_num, offering.memory_size
        else:
            offering_uuid = None
            cpu_num, memory_size = vm.cpu_num, vm.memory_size
            if not cpu_num or not memory_size or cpu_num <= 0 or memory_size <= 0:
                return None
        zone = self.zones.by_uuid(vm.zone_uuid)
        if zone is None or not networks:
            return None
        find = self.l3_networks.by_uuid
        for uuid in networks:
            if find(uuid) is None:
                return None
        return (
            zone.uuid,
            cpu_num,
            memory_size,
            offering_uuid,
            image.uuid,
            description,
            networks[:],  # l3 network uuids (each found by its uuid)
            allocator,
            image.platform,
            image.guest_os_type,
            image.architecture,
            {
                "image": image.uuid,
                "snapshot": None,
                "host": hint_host.uuid if hint_host else None,
                "cluster": hint_cluster.uuid if hint_cluster else None,
                "primary_storage": ps_root.uuid if ps_root else None,
                "primary_storage_for_data": ps_data.uuid if ps_data else None,
                "data_sizes": [],
                "data_offerings": [],
                "thick": None if provisioning is None else provisioning == "thick",
            },
        )

    def _copy_vm_record(self, vm: Vm, name: str, description: str, state: str) -> Vm:
        """A new VM record with the source's shape (offering, networks, platform)."""
        now = self.clock.now()
        clone = Vm(
            uuid=self.ids.uuid(),
            name=name,
            zone_uuid=vm.zone_uuid,
            cpu_num=vm.cpu_num,
            memory_size=vm.memory_size,
            instance_offering_uuid=vm.instance_offering_uuid,
            image_uuid=vm.image_uuid,
            description=description,
            state=state,
            l3_network_uuids=list(vm.l3_network_uuids),
            allocator_strategy=vm.allocator_strategy,
            platform=vm.platform,
            guest_os_type=vm.guest_os_type,
            architecture=vm.architecture,
            create_date=now,
            last_op_date=now,
        )
        return self._add(self.vms, clone)

    def _fill_from_image(self, volume: Volume, image: Image) -> None:
        """A full clone's data volume receives the temporary data image's bytes."""
        node = self.nodes.get(volume.node_uuid)
        want = image.actual_size - node.actual_size
        if want > 0:
            self._grow_node(node, want)

    @operation("vm.instant_clone")
    def instant_clone(
        self, source: Vm | str, name: str, *, primary_storage: Any = None, host: Any = None
    ) -> Vm:
        """An instant clone: the clone runs on the source's host at once.

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
            raise InvalidArgument("host", "an instant clone runs on its source's host")
        if src_host.status != "Connected":
            raise Unreachable("host", src_host.uuid)
        if src_host.state != "Enabled":
            raise InvalidState("host", src_host.uuid, src_host.state, "instant_clone", ("Enabled",))
        target_ps = self.primary_storages.get(primary_storage) if primary_storage is not None else None
        if target_ps is not None:
            if target_ps.status != "Connected":
                raise Unreachable("primary_storage", target_ps.uuid)
            if src_host.cluster_uuid not in target_ps.cluster_uuids:
                raise InvalidArgument(
                    "primary_storage",
                    f"primary storage {target_ps.uuid} is not reachable from "
                    f"the source's host {src_host.uuid}",
                    reason_code="storage_unreachable_from_host",
                    primary_storage_uuid=target_ps.uuid,
                    host_uuid=src_host.uuid,
                )
        volumes = self.vm_volumes(vm)
        for vol in volumes:
            ps = self.primary_storages.get(vol.primary_storage_uuid)
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
        clone = self._copy_vm_record(vm, name, f"instant clone of vm[uuid:{vm.uuid}]", "Running")
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
                        "chain_depth",
                        parent.depth + 1,
                        self.settings.max_chain_depth,
                        resource_uuid=vol.uuid,
                        message=f"the disk chain of volume {vol.uuid} would reach "
                        f"{parent.depth + 1} levels, over the limit of {self.settings.max_chain_depth}",
                        reason_code="volume_chain_depth",
                        volume_uuid=vol.uuid,
                    )
                parent = self._freeze_leaf(vol, keep_ref=False)
            ps = target_ps or self.primary_storages.get(vol.primary_storage_uuid)
            new = self._new_volume_on(
                clone,
                vol.type,
                vol.virtual_size,
                ps,
                parent=parent,
                thick=False,
                device_id=vol.device_id,
                name=f"{vol.type.upper()}-for-{name}",
            )
            new.root_image_uuid = vol.root_image_uuid
            # the clone is new: undoing its creation undoes these too
            if vol.type == "Root":
                clone.root_volume_uuid = new.uuid
            else:
                data_uuids.append(new.uuid)
        clone.data_volume_uuids = data_uuids
        clone.nic_uuids = [
            self._allocate_nic(clone, self.l3_networks.get(l3_uuid), i).uuid
            for i, l3_uuid in enumerate(vm.l3_network_uuids)
        ]
        return clone

    @operation("vm.full_clone")
    def full_clone_vm(
        self,
        source: Vm | str,
        name: str,
        *,
        host: Any = None,
        cluster: Any = None,
        primary_storage: Any = None,
        power_on: bool = False,
    ) -> Vm:
        """An independent copy: every disk becomes a new root whose
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
        clone = self._copy_vm_record(vm, name, f"clone of vm[uuid:{vm.uuid}]", "Stopped")
        now = clone.create_date
        data_uuids = []
        for vol in volumes:
            size = self.volume_allocated_size(vol)
            self._charge_virtual(target_ps, virtual_charge(target_ps, vol.virtual_size))
            node = self._new_node(target_ps, None, vol.virtual_size, size, "leaf", thick=vol.thick)
            new = Volume(
                uuid=self.ids.uuid(),
                name=f"{vol.type.upper()}-for-{name}",
                type=vol.type,
                virtual_size=vol.virtual_size,
                vm_uuid=clone.uuid,
                primary_storage_uuid=target_ps.uuid,
                node_uuid=node.uuid,
                thick=vol.thick,
                virtual_charge=virtual_charge(target_ps, vol.virtual_size),
                device_id=vol.device_id,
                root_image_uuid=vol.root_image_uuid,
                create_date=now,
                last_op_date=now,
            )
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
