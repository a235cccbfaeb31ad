"""A VM's devices and where it lives: VMs built from empty disks, disks and NICs added or
removed after creation, and relocation (host, storage, or both) with its capacity moves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .entities import Host, Nic, PrimaryStorage, Vm, Volume
from .errors import CapacityExhausted, InvalidArgument, InvalidState, Unreachable
from .networks import networks_without
from .state import CloudState
from .storage import virtual_charge
from .transactions import operation

# VM states in which devices may change and the VM may move.
DEVICE_STATES = ("Running", "Stopped", "Paused")


class DeviceMixin(CloudState):
    # -- VMs from empty disks -----------------------------------------------------------
    @operation("vm.create_blank")
    def create_blank_vm(
        self,
        name: str,
        *,
        cpu_num: int,
        memory_size: int,
        disk_sizes: Iterable[int],
        l3_networks: Iterable[Any] = (),
        zone: Any = None,
        host: Any = None,
        cluster: Any = None,
        primary_storage: Any = None,
        provisioning: str | None = None,
        platform: str = "Linux",
        guest_os_type: str = "",
        power_on: bool = False,
    ) -> Vm:
        """A VM whose disks are new and empty (no image): the first is its root disk.

        Placement admits like a start: a host with room for its CPU and memory in a cluster
        attached to a primary storage with room for its disks (by that storage's
        admission).  Unless ``power_on``, the VM is then stopped: it keeps its disks and its
        last host, and holds no host capacity."""
        self._fault_point("vm.create", name=name, host=getattr(host, "uuid", host))
        sizes = list(disk_sizes)
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if cpu_num is None or cpu_num <= 0:
            raise InvalidArgument("cpu_num", "must be positive")
        if memory_size is None or memory_size <= 0:
            raise InvalidArgument("memory_size", "must be positive")
        if not sizes or any(size <= 0 for size in sizes):
            raise InvalidArgument("disk_sizes", "give at least one disk, each of positive size")
        if provisioning not in (None, "thin", "thick"):
            raise InvalidArgument("provisioning", "must be thin or thick")
        hint_host = self.hosts.get(host) if host is not None else None
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        ps_given = self.primary_storages.get(primary_storage) if primary_storage is not None else None
        zone_uuid = (
            self.zones.get(zone).uuid
            if zone is not None
            else hint_host.zone_uuid
            if hint_host
            else hint_cluster.zone_uuid
            if hint_cluster
            else ps_given.zone_uuid
            if ps_given
            else next(iter(self.zones)).uuid
        )
        networks = [self.l3_networks.get(l3) for l3 in l3_networks]
        candidates = (
            [ps_given] if ps_given else [ps for ps in self.primary_storages if ps.zone_uuid == zone_uuid]
        )
        scope = {hint_host.cluster_uuid} if hint_host else {hint_cluster.uuid} if hint_cluster else None
        if scope is not None:
            candidates = [ps for ps in candidates if scope.intersection(ps.cluster_uuids)]
            if ps_given is not None and not candidates:
                raise InvalidArgument(
                    "primary_storage",
                    f"primary storage {ps_given.uuid} is not attached to the cluster of the requested host",
                    reason_code="storage_not_in_host_cluster",
                    primary_storage_uuid=ps_given.uuid,
                )
        leaf = self.settings.new_leaf_size

        def need(ps: PrimaryStorage) -> tuple[int, int]:
            thick = ps.default_thick if provisioning is None else provisioning == "thick"
            return (
                sum(virtual_charge(ps, s) for s in sizes),
                sum(s if thick else min(leaf, s) for s in sizes),
            )

        fitting = []
        shortage = None
        for ps in candidates:
            try:
                self._pick_primary_storage([ps], need)
            except (CapacityExhausted, Unreachable) as exc:
                shortage = shortage or exc
                continue
            fitting.append(ps)
        if not fitting:
            if shortage is not None:
                raise shortage
            if ps_given is not None and ps_given.status != "Connected":
                raise Unreachable("primary_storage", ps_given.uuid)
            raise CapacityExhausted(
                "primary_storage.virtual", sum(sizes), 0, message="no primary storage can hold the vm's disks"
            )
        clusters: set[str] = set()
        for ps in fitting:
            clusters.update(ps.cluster_uuids)
        if scope is not None:
            clusters &= scope
        now = self.clock.now()
        vm = Vm(
            uuid=self.ids.uuid(),
            name=name,
            zone_uuid=zone_uuid,
            cpu_num=cpu_num,
            memory_size=memory_size,
            instance_offering_uuid=None,
            image_uuid=None,
            state="Starting",
            platform=platform,
            guest_os_type=guest_os_type,
            l3_network_uuids=[l3.uuid for l3 in networks],
            create_date=now,
            last_op_date=now,
        )
        chosen = self._choose_host(vm, host=hint_host, clusters=frozenset(clusters))
        ps = self._pick_primary_storage([p for p in fitting if chosen.cluster_uuid in p.cluster_uuids], need)
        thick = ps.default_thick if provisioning is None else provisioning == "thick"
        self._add(self.vms, vm)
        self._hold_host(vm, chosen)
        uuids = []
        for index, size in enumerate(sizes):
            vol = self._new_volume_on(
                vm, "Root" if index == 0 else "Data", size, ps, parent=None, thick=thick, device_id=index
            )
            if index == 0:
                vm.root_volume_uuid = vol.uuid
            else:
                uuids.append(vol.uuid)
        vm.data_volume_uuids = uuids
        vm.nic_uuids = [self._allocate_nic(vm, l3, i).uuid for i, l3 in enumerate(networks)]
        self._set(vm, "state", "Running")  # as every write: the VM indexes follow it
        if not power_on:
            self._stop(vm)
        return vm

    # -- disks --------------------------------------------------------------------------
    @operation("vm.add_disk")
    def add_disk(
        self,
        vm: Vm | str,
        size: int,
        *,
        primary_storage: Any = None,
        provisioning: str | None = None,
        name: str | None = None,
    ) -> Volume:
        """A new empty data disk, created on ``primary_storage`` (default: the root disk's)
        and attached at the next free device id."""
        vm = self._vm(vm)
        self._fault_point("vm.add_disk", vm=vm.uuid, name=vm.name)
        self._device_state_check(vm, "add_disk")
        if size is None or size <= 0:
            raise InvalidArgument("size", "must be positive")
        if provisioning not in (None, "thin", "thick"):
            raise InvalidArgument("provisioning", "must be thin or thick")
        root = self.volumes.get(vm.root_volume_uuid)
        ps = self.primary_storages.get(
            primary_storage if primary_storage is not None else root.primary_storage_uuid
        )
        if not ps.usable:
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
            raise InvalidState("primary_storage", ps.uuid, ps.state, "allocate")
        reachable = self._running_clusters(vm)
        if reachable is not None and not reachable.intersection(ps.cluster_uuids):
            raise InvalidArgument(
                "primary_storage",
                f"primary storage {ps.uuid} is not reachable from the vm's hosts",
                reason_code="storage_unreachable_from_vm",
                primary_storage_uuid=ps.uuid,
            )
        thick = ps.default_thick if provisioning is None else provisioning == "thick"
        used = {self.volumes.get(u).device_id for u in vm.data_volume_uuids}
        device = 1
        while device in used:
            device += 1
        volume: Volume = self._new_volume_on(
            vm, "Data", size, ps, parent=None, thick=thick, device_id=device, name=name
        )
        self._set(volume, "last_vm_uuid", vm.uuid)
        self._set(vm, "data_volume_uuids", vm.data_volume_uuids + [volume.uuid])
        return volume

    def volume_is_delta(self, volume: Volume | str) -> bool:
        """Whether the volume's disk is a writable leaf over a frozen node it shares (an
        instant clone's or a frozen source's delta), as opposed to a disk of its own."""
        volume = self._volume(volume)
        if volume.node_uuid is None:
            return False
        node = self.nodes.get(volume.node_uuid)
        parent = self.nodes.find(node.parent_uuid) if node.parent_uuid else None
        return parent is not None and parent.frozen and parent.refs == 0

    # -- NICs ---------------------------------------------------------------------------
    @operation("vm.add_nic")
    def add_nic(self, vm: Vm | str, l3_network: Any) -> Nic:
        """A new NIC on ``l3_network`` (its address allocated there), after the VM's others."""
        vm = self._vm(vm)
        self._fault_point("vm.add_nic", vm=vm.uuid, name=vm.name)
        self._device_state_check(vm, "add_nic")
        l3 = self.l3_networks.get(l3_network)
        nic: Nic = self._allocate_nic(vm, l3, len(vm.nic_uuids))
        self._set(vm, "nic_uuids", vm.nic_uuids + [nic.uuid])
        self._set(vm, "l3_network_uuids", vm.l3_network_uuids + [l3.uuid])
        return nic

    @operation("vm.remove_nic")
    def remove_nic(self, vm: Vm | str, nic: Nic | str) -> None:
        vm = self._vm(vm)
        nic = self.nics.get(nic)
        self._fault_point("vm.remove_nic", vm=vm.uuid, name=vm.name)
        self._device_state_check(vm, "remove_nic")
        index = self._nic_index(vm, nic)
        self._release_nic(nic)
        self._set(vm, "nic_uuids", vm.nic_uuids[:index] + vm.nic_uuids[index + 1 :])
        self._set(vm, "l3_network_uuids", networks_without(vm.l3_network_uuids, nic.l3_network_uuid))

    @operation("vm.move_nic")
    def move_nic(self, vm: Vm | str, nic: Nic | str, l3_network: Any) -> Nic:
        """Put a NIC on another L3 network: a new address there, the old one freed; the
        NIC keeps its place and its MAC (it is a new NIC record)."""
        vm = self._vm(vm)
        old = self.nics.get(nic)
        self._fault_point("vm.move_nic", vm=vm.uuid, name=vm.name)
        self._device_state_check(vm, "move_nic")
        l3 = self.l3_networks.get(l3_network)
        index = self._nic_index(vm, old)
        if old.l3_network_uuid == l3.uuid:
            return old
        new: Nic = self._allocate_nic(vm, l3, old.device_id)
        new.mac = old.mac
        self._release_nic(old)
        self._set(vm, "nic_uuids", vm.nic_uuids[:index] + [new.uuid] + vm.nic_uuids[index + 1 :])
        self._set(vm, "l3_network_uuids", networks_without(vm.l3_network_uuids, old.l3_network_uuid, l3.uuid))
        return new

    def _nic_index(self, vm: Vm, nic: Nic) -> int:
        if nic.uuid not in vm.nic_uuids:
            raise InvalidArgument(
                "nic",
                f"nic {nic.uuid} is not a nic of vm {vm.uuid}",
                reason_code="nic_of_another_vm",
                nic_uuid=nic.uuid,
                vm_uuid=vm.uuid,
            )
        return vm.nic_uuids.index(nic.uuid)

    def _device_state_check(self, vm: Vm, op: str) -> None:
        if vm.state not in DEVICE_STATES:
            raise InvalidState("vm", vm.uuid, vm.state, op, DEVICE_STATES)

    # -- relocation ---------------------------------------------------------------------
    @operation("vm.relocate")
    def relocate_vm(
        self,
        vm: Vm | str,
        *,
        host: Any = None,
        cluster: Any = None,
        primary_storage: Any = None,
        volume_storages: dict[str, str] | None = None,
    ) -> Vm:
        """Move a VM to another host, another primary storage, or both.

        ``cluster`` without ``host``: a host of that cluster, chosen by the allocator, unless
        the VM's host is already there.

        A VM that holds its host (running, paused) moves its CPU and memory to the new host,
        which must have room; a stopped VM only changes its last host.  Each moved disk
        becomes an independent disk on the target storage, as large as its chain's
        allocated data (thick: its full size); the old disk is released by the copy-on-write
        rules, so nodes other VMs' disks hang off stay until those go.  A frozen VM does not
        move (its frozen disks are the parents of its clones' disks), nor does a disk with
        snapshots change storage (they are nodes of the chain it would leave)."""
        vm = self._vm(vm)
        self._fault_point("vm.relocate", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._device_state_check(vm, "relocate")
        if vm.frozen:
            raise InvalidState("vm", vm.uuid, "Frozen", "relocate", DEVICE_STATES)
        target_host = self.hosts.get(host) if host is not None else None
        volumes = self.vm_volumes(vm)
        targets: dict[str, PrimaryStorage] = {}
        for vol in volumes:
            chosen = (volume_storages or {}).get(vol.uuid, primary_storage)
            if chosen is None:
                continue
            ps = self.primary_storages.get(chosen)
            if ps.uuid != vol.primary_storage_uuid:
                targets[vol.uuid] = ps
        with_snapshots = {snap.volume_uuid for snap in self.volume_snapshots}
        for vol in volumes:
            if vol.uuid in targets:
                if vol.uuid in with_snapshots:
                    # its snapshots are nodes of the chain it would leave behind
                    raise InvalidState("volume", vol.uuid, "HasSnapshots", "relocate")
                for ps in (targets[vol.uuid], self.primary_storages.get(vol.primary_storage_uuid)):
                    if ps.status != "Connected":
                        raise Unreachable("primary_storage", ps.uuid)
                    if ps.state != "Enabled":
                        raise InvalidState("primary_storage", ps.uuid, ps.state, "relocate", ("Enabled",))
        reach: set[str] | None = None
        for vol in volumes:
            ps = targets.get(vol.uuid) or self.primary_storages.get(vol.primary_storage_uuid)
            reach = set(ps.cluster_uuids) if reach is None else reach & set(ps.cluster_uuids)
        current = self.hosts.find(vm.host_uuid or vm.last_host_uuid or "")
        new_host: Host | None = target_host
        if new_host is None and cluster is not None:
            cluster_uuid = self.clusters.get(cluster).uuid
            if (
                current is None
                or current.cluster_uuid != cluster_uuid
                or (reach is not None and cluster_uuid not in reach)
            ):
                if reach is not None and cluster_uuid not in reach:
                    raise InvalidArgument(
                        "cluster",
                        f"cluster {cluster_uuid} cannot reach the vm's storage",
                        reason_code="cluster_cannot_reach_storage",
                        cluster_uuid=cluster_uuid,
                    )
                new_host = self._choose_host(vm, clusters=frozenset({cluster_uuid}))
        if (
            new_host is None
            and current is not None
            and reach is not None
            and current.cluster_uuid not in reach
        ):
            raise InvalidArgument("host", "the vm's host cannot reach the target storage; give a host")
        if new_host is not None:
            if reach is not None and new_host.cluster_uuid not in reach:
                raise InvalidArgument(
                    "host",
                    f"host {new_host.uuid} cannot reach the vm's storage",
                    reason_code="host_cannot_reach_vm_storage",
                    host_uuid=new_host.uuid,
                )
            if vm.holds_host and new_host.uuid != vm.host_uuid:
                if not new_host.schedulable:
                    if new_host.status != "Connected":
                        raise Unreachable("host", new_host.uuid)
                    raise InvalidState("host", new_host.uuid, new_host.state, "relocate", ("Enabled",))
                self._release_host(vm)
                self._hold_host(vm, new_host)
            elif not vm.holds_host:
                self._set(vm, "last_host_uuid", new_host.uuid)
                self._set(vm, "cluster_uuid", new_host.cluster_uuid)
        for vol in volumes:
            if vol.uuid in targets:
                self._move_volume(vol, targets[vol.uuid])
        return vm  # last_op_date stays: a live migration is no restart

    def _move_volume(self, volume: Volume, target: PrimaryStorage) -> None:
        old_node = self.nodes.get(volume.node_uuid)
        old_ps = self.primary_storages.get(volume.primary_storage_uuid)
        size = self.chain_allocated_size(old_node)
        charge = virtual_charge(target, volume.virtual_size)
        self._charge_virtual(target, charge)
        node = self._new_node(target, None, volume.virtual_size, size, "leaf", thick=volume.thick)
        self._charge_virtual(old_ps, -volume.virtual_charge)
        self._set(volume, "node_uuid", node.uuid)
        self._set(volume, "primary_storage_uuid", target.uuid)
        self._set(volume, "virtual_charge", charge)
        self._release_node(old_node)
