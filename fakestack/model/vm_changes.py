"""Changes to an existing VM: its attributes, its size (offering), its host (migration),
its root disk (reimage) and its network interfaces."""

from __future__ import annotations

from typing import Any

from .entities import ISO, DiskNode, Host, L3Network, Nic, Vm, Volume
from .errors import Conflict, InvalidArgument, InvalidState, NotFound, Unreachable
from .networks import ip_int, networks_without
from .placement import HostIndex
from .state import CloudState
from .transactions import operation
from .vms import ALLOWED

MIGRATE_STATES = ALLOWED["migrate"]
PLATFORMS = ("Linux", "Windows", "Other", "Paravirtualization", "WindowsVirtio")


class VmChangeMixin(CloudState):
    def _rename(self, collection: Any, entity: Any, name: str) -> None:
        """Rename undoably (the collection keeps a by-name index)."""
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        old = entity.name
        if old == name:
            return
        collection.rename(entity, name)
        if self._undo is not None:
            self._undo.append(lambda: collection.rename(entity, old))

    # -- attributes ----------------------------------------------------------------------
    @operation("vm.update")
    def update_vm(
        self,
        vm: Vm | str,
        *,
        name: str | None = None,
        description: str | None = None,
        platform: str | None = None,
        guest_os_type: str | None = None,
        cpu_num: int | None = None,
        memory_size: int | None = None,
        default_l3_network: Any = None,
        state: str | None = None,
    ) -> Vm:
        """Change a VM's name, description, platform, guest OS type, default network, size
        (as ``resize_vm``: a VM holding its host needs the growth to fit there) or power
        state (``Running`` starts it, ``Stopped`` stops it)."""
        vm = self._vm(vm)
        self._fault_point("vm.update", vm=vm.uuid, name=vm.name)
        if vm.state == "Destroyed":
            raise InvalidState(
                "vm",
                vm.uuid,
                vm.state,
                "update",
                tuple(s for s in ("Created", "Running", "Stopped", "Paused")),
            )
        if platform is not None and platform not in PLATFORMS:
            raise InvalidArgument("platform", f"must be one of {', '.join(PLATFORMS)}")
        if state not in (None, "Running", "Stopped"):
            raise InvalidArgument("state", "must be Running or Stopped")
        if default_l3_network is not None:
            l3 = self.l3_networks.get(default_l3_network)
            if l3.uuid not in vm.l3_network_uuids:
                raise InvalidArgument(
                    "default_l3_network",
                    f"the vm {vm.uuid} has no nic on l3 network {l3.uuid}",
                    reason_code="no_nic_on_l3_network",
                    vm_uuid=vm.uuid,
                    l3_network_uuid=l3.uuid,
                )
            self._set(vm, "l3_network_uuids", [l3.uuid] + [u for u in vm.l3_network_uuids if u != l3.uuid])
        if name is not None:
            self._rename(self.vms, vm, name)
        if description is not None:
            self._set(vm, "description", description)
        if platform is not None:
            self._set(vm, "platform", platform)
        if guest_os_type is not None:
            self._set(vm, "guest_os_type", guest_os_type)
        if cpu_num is not None or memory_size is not None:
            self.resize_vm(vm, cpu_num=cpu_num, memory_size=memory_size)
        if state == "Stopped" and vm.state != "Stopped":
            self.stop_vm(vm)
        elif state == "Running" and vm.state != "Running":
            self.start_vm(vm)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    @operation("vm.change_offering")
    def change_vm_offering(self, vm: Vm | str, offering: Any) -> Vm:
        """Give a VM an instance offering's CPU and memory.  A Running or Paused VM keeps
        its host, which must hold the growth (``CapacityExhausted`` otherwise)."""
        vm = self._vm(vm)
        offering = self.instance_offerings.get(offering)
        self._fault_point("vm.change_offering", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "change_offering")
        self.resize_vm(vm, cpu_num=offering.cpu_num, memory_size=offering.memory_size)
        self._set(vm, "instance_offering_uuid", offering.uuid)
        if offering.allocator_strategy is not None:
            self._set(vm, "allocator_strategy", offering.allocator_strategy)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    # -- migration -----------------------------------------------------------------------
    def _migration_clusters(self, vm: Vm) -> frozenset[str] | None:
        """Clusters whose hosts reach every volume of the VM (local storage: the hosts of
        the clusters it is attached to, its data going along with the VM)."""
        clusters: frozenset[str] | None = self._running_clusters(vm)
        return clusters

    def _on_local_storage(self, vm: Vm) -> bool:
        root = self.volumes.find(vm.root_volume_uuid)
        if root is None or root.primary_storage_uuid is None:
            return False
        return self.primary_storages.get(root.primary_storage_uuid).host_local

    def migration_candidates(self, vm: Vm | str) -> list[Host]:
        """Hosts a VM could move to now: schedulable, not its own, in a cluster reaching
        all its volumes, with room for its CPU and memory (host order).  A query, not an
        operation: nothing changes."""
        vm = self._vm(vm)
        self._state_check(vm, "migrate")
        clusters = self._migration_clusters(vm)
        return [
            h
            for h in self.hosts
            if h.schedulable
            and h.uuid != vm.host_uuid
            and HostIndex.fits(h, vm.cpu_num, vm.memory_size, clusters)
        ]

    @operation("vm.migrate")
    def migrate_vm(self, vm: Vm | str, host: Any = None) -> Vm:
        """Move a Running or Paused VM to another host (the named one, or one the VM's
        allocator picks among the others): the destination takes its CPU and memory, the
        source gives them back.  A VM on local storage moves only with no data volume and
        a Linux guest (its disk is copied to the destination's share of the storage)."""
        vm = self._vm(vm)
        self._fault_point("vm.migrate", vm=vm.uuid, name=vm.name, host=vm.host_uuid)
        self._state_check(vm, "migrate")
        if vm.host_uuid is None:
            raise InvalidState("vm", vm.uuid, vm.state, "migrate", MIGRATE_STATES)
        if self._on_local_storage(vm):
            if vm.data_volume_uuids:
                raise InvalidArgument(
                    "vm",
                    "data volumes on local storage",
                    reason_code="live_migration_local_data_volumes",
                    vm_uuid=vm.uuid,
                )
            if vm.platform != "Linux":
                raise InvalidArgument(
                    "vm",
                    "not a linux guest on local storage",
                    reason_code="live_migration_local_platform",
                    vm_uuid=vm.uuid,
                    platform=vm.platform,
                )
        source = self.hosts.get(vm.host_uuid)
        clusters = self._migration_clusters(vm)
        if host is not None:
            target = self.hosts.get(host)
            if target.uuid == source.uuid:
                raise InvalidArgument(
                    "host",
                    "the vm already runs there",
                    reason_code="vm_already_on_host",
                    vm_uuid=vm.uuid,
                    host_uuid=target.uuid,
                )
            target = self._choose_host(vm, host=target, clusters=clusters)
        else:
            if self._exhausted:
                self._injected_host_shortage(vm)
            strategy = vm.allocator_strategy or self.settings.default_allocator_strategy
            if strategy == "LastHostPreferredAllocatorStrategy":
                strategy = self.settings.default_allocator_strategy
            target = self.host_index.choose(
                strategy, vm.cpu_num, vm.memory_size, clusters, None, exclude=(source.uuid,)
            )
        self._release_host(vm)
        self._hold_host(vm, target)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    # -- root disk -------------------------------------------------------------------------
    @operation("vm.reimage")
    def reimage_vm(self, vm: Vm | str) -> Vm:
        """Reset a Stopped VM's root volume to its image: a new leaf on the image's cache,
        the old leaf released (its space freed unless snapshots still build on it)."""
        vm = self._vm(vm)
        self._fault_point("vm.reimage", vm=vm.uuid, name=vm.name)
        self._state_check(vm, "reimage")
        root = self.volumes.get(vm.root_volume_uuid)
        image = self.images.find(root.root_image_uuid) if root.root_image_uuid else None
        if image is None:
            raise NotFound(
                "image",
                root.root_image_uuid or "null",
                message=f"the image {root.root_image_uuid} of root volume {root.uuid} is gone",
                reason_code="reimage_image_gone",
                volume_uuid=root.uuid,
                image_uuid=root.root_image_uuid,
            )
        if image.media_type == ISO:
            raise InvalidArgument(
                "vm",
                "the image is an ISO",
                reason_code="reimage_iso",
                volume_uuid=root.uuid,
                image_uuid=image.uuid,
            )
        ps = self.primary_storages.get(root.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        cache = self._ensure_image_cache(image, ps)
        self._replace_leaf(root, cache, root.virtual_size if root.thick else self.settings.new_leaf_size)
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    def _replace_leaf(self, volume: Volume, parent: DiskNode | None, actual_size: int) -> None:
        """Put the volume on a new leaf (above ``parent``, or a new root) and release the old
        one.  The new leaf is charged before the old one is freed, as a real copy would be."""
        old = self.nodes.get(volume.node_uuid)
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        leaf = self._new_node(ps, parent, volume.virtual_size, actual_size, "leaf", thick=volume.thick)
        self._set(volume, "node_uuid", leaf.uuid)
        self._release_node(old)
        # the disk is another one now: the next backup of it cannot be an increment, and it
        # builds on no snapshot of the volume (unless the caller says so)
        self._set(volume, "backup_base_seq", self._backup_seq)
        self._set(volume, "latest_snapshot_uuid", None)
        self._set(volume, "last_op_date", self.clock.now())

    # -- network interfaces ------------------------------------------------------------------
    def _claim_ip(self, l3: L3Network, ip: str | None) -> str | None:
        """Check a caller-chosen address: inside the range, not the gateway, not in use."""
        if ip is None:
            return None
        try:
            value = ip_int(ip)
        except ValueError:
            raise InvalidArgument("static_ip", f"{ip} is not an IPv4 address") from None
        if not l3.first_ip <= value <= l3.last_ip or ip == l3.gateway:
            raise InvalidArgument(
                "static_ip",
                "outside the l3 network's range",
                reason_code="static_ip_out_of_range",
                ip=ip,
                l3_network_uuid=l3.uuid,
            )
        if str(value) in l3.used:
            raise Conflict(
                "ip",
                ip,
                message=f"the IP address {ip} is in use on l3 network {l3.uuid}",
                reason_code="static_ip_taken",
                ip=ip,
                l3_network_uuid=l3.uuid,
            )
        return ip

    def _next_device_id(self, vm: Vm) -> int:
        used = {self.nics.get(u).device_id for u in vm.nic_uuids}
        device = 0
        while device in used:
            device += 1
        return device

    @operation("vm.attach_network")
    def attach_l3_network(self, vm: Vm | str, l3_network: Any, *, ip: str | None = None) -> Vm:
        """Give a VM a NIC on another L3 network (an address from its range, or ``ip``)."""
        vm = self._vm(vm)
        l3 = self.l3_networks.get(l3_network)
        self._fault_point("vm.attach_network", vm=vm.uuid, name=vm.name, l3_network=l3.uuid)
        self._state_check(vm, "attach_network")
        if l3.uuid in vm.l3_network_uuids:
            raise Conflict(
                "l3_network",
                l3.uuid,
                message=f"l3 network {l3.uuid} is already attached to the vm {vm.uuid}",
                reason_code="l3_network_attached",
                l3_network_uuid=l3.uuid,
                vm_uuid=vm.uuid,
            )
        if l3.zone_uuid != vm.zone_uuid:
            raise InvalidArgument(
                "l3_network",
                "another zone",
                reason_code="l3_network_zone",
                l3_network_uuid=l3.uuid,
                zone_uuid=vm.zone_uuid,
            )
        nic = self._allocate_nic(vm, l3, self._next_device_id(vm), ip=self._claim_ip(l3, ip))
        self._set(vm, "nic_uuids", vm.nic_uuids + [nic.uuid])
        self._set(vm, "l3_network_uuids", vm.l3_network_uuids + [l3.uuid])
        self._set(vm, "last_op_date", self.clock.now())
        return vm

    @operation("vm.detach_network")
    def detach_nic(self, nic: Any) -> Vm | None:
        """Remove a NIC (its address goes back to the network).  Returns its VM, if any."""
        nic = self.nics.get(nic)
        self._fault_point("vm.detach_network", nic=nic.uuid, vm=nic.vm_uuid)
        vm = self.vms.get(nic.vm_uuid) if nic.vm_uuid is not None else None
        if vm is not None:
            self._state_check(vm, "detach_network")
            self._set(vm, "nic_uuids", [u for u in vm.nic_uuids if u != nic.uuid])
            self._set(vm, "l3_network_uuids", networks_without(vm.l3_network_uuids, nic.l3_network_uuid))
            self._set(vm, "last_op_date", self.clock.now())
        self._release_nic(nic)
        return vm

    @operation("nic.create")
    def create_nic(self, l3_network: Any, *, ip: str | None = None, resource_uuid: str | None = None) -> Nic:
        """A NIC with an address on an L3 network, attached to no VM yet."""
        l3 = self.l3_networks.get(l3_network)
        self._fault_point("nic.create", l3_network=l3.uuid)
        uuid = self._claim_uuid(resource_uuid, self.nics)
        nic: Nic = self._allocate_nic(None, l3, 0, ip=self._claim_ip(l3, ip), uuid=uuid)
        return nic


__all__ = ["MIGRATE_STATES", "VmChangeMixin"]
