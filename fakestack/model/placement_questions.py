"""Placement questions: where a VM would be created or started, which data volumes a VM
could take and which VMs a data volume could join (issue 16, group 6).

Each answer comes from the allocator that the operation itself uses (the storage plan of
``vms._storage_plan``, the host fit of ``placement.HostIndex``), so a question predicts
what the operation would do: a create whose question named no host fails with the error
the question raised.  Questions change nothing; they walk hosts and volumes (they are
not on a hot path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .entities import ROOT_TEMPLATE, Cluster, Host, PrimaryStorage, Vm, Volume, Zone
from .errors import CapacityExhausted, InvalidArgument, InvalidState, Unreachable
from .placement import HostIndex
from .state import CloudState
from .vms import ALLOWED


@dataclass
class CreationCandidates:
    """Where a VM of the question's shape could be created now."""

    zones: list[Zone] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    hosts: list[Host] = field(default_factory=list)
    root_storages: list[PrimaryStorage] = field(default_factory=list)
    data_storages: list[list[PrimaryStorage]] = field(default_factory=list)  # one list per data disk


class PlacementQuestionMixin(CloudState):
    def creation_candidates(
        self,
        *,
        image: Any,
        instance_offering: Any = None,
        cpu_num: int | None = None,
        memory_size: int | None = None,
        l3_networks: Any = None,
        zone: Any = None,
        cluster: Any = None,
        data_disk_offerings: Any = (),
        data_disk_sizes: Any = (),
        sized: bool = True,
    ) -> CreationCandidates:
        """The zones, clusters and hosts (host order), and the primary storages, where
        ``create_vm`` with these arguments could place the VM now.  Raises what the create
        would raise when nothing fits (the storage shortage, or the host shortage).
        ``sized=False`` asks about storage only: no CPU or memory is given, and every
        schedulable host of a reached cluster counts."""
        img = self.images.get(image)
        if img.status != "Ready" or img.state != "Enabled":
            raise InvalidState(
                "image", img.uuid, img.status if img.status != "Ready" else img.state, "create vm"
            )
        if img.media_type != ROOT_TEMPLATE:
            raise InvalidArgument(
                "image",
                f"image {img.uuid} is a {img.media_type}, not a {ROOT_TEMPLATE}",
                reason_code="image_not_root_template",
                image_uuid=img.uuid,
                media_type=img.media_type,
            )
        offering = self.instance_offerings.get(instance_offering) if instance_offering else None
        if offering is not None:
            cpu, memory = offering.cpu_num, offering.memory_size
        elif cpu_num and memory_size and cpu_num > 0 and memory_size > 0:
            cpu, memory = cpu_num, memory_size
        elif not sized:
            cpu, memory = 0, 0
        else:
            raise InvalidArgument(
                "instance_offering",
                "give an instance offering, or a cpu count and a memory size",
                reason_code="instance_offering_or_sizes",
            )
        hint_cluster = self.clusters.get(cluster) if cluster is not None else None
        nets = [self.l3_networks.get(n) for n in (l3_networks or ())]
        if zone is not None:
            zone_uuid = self.zones.get(zone).uuid
        elif hint_cluster is not None:
            zone_uuid = hint_cluster.zone_uuid
        elif nets:
            zone_uuid = nets[0].zone_uuid
        else:
            zone_uuid = next(iter(self.zones)).uuid
        sizes = [self.disk_offerings.get(d).disk_size for d in data_disk_offerings]
        for size in data_disk_sizes:
            if size <= 0:
                raise InvalidArgument("data_disk_sizes", "sizes must be positive")
            sizes.append(size)
        fitting, clusters = self._storage_plan(
            zone_uuid,
            img,
            None,
            None,
            img.virtual_size,
            sizes,
            None,
            None,
            None,
            hint_cluster.uuid if hint_cluster is not None else None,
            None,
        )
        hosts = self._fitting_hosts(cpu, memory, clusters)
        if not hosts:
            raise self.host_index.shortage(cpu, memory)
        reached = {h.cluster_uuid for h in hosts}
        answer = CreationCandidates()
        answer.hosts = hosts
        answer.clusters = [c for c in self.clusters if c.uuid in reached]
        zones = {c.zone_uuid for c in answer.clusters}
        answer.zones = [z for z in self.zones if z.uuid in zones]
        answer.root_storages = [ps for ps in fitting if reached.intersection(ps.cluster_uuids)]
        answer.data_storages = [self._data_storages(zone_uuid, size, reached) for size in sizes]
        return answer

    def _fitting_hosts(
        self, cpu: int, memory: int, clusters: set[str] | frozenset[str] | None, exclude: str | None = None
    ) -> list[Host]:
        """Schedulable hosts (host order) of ``clusters`` with room for ``cpu`` and
        ``memory``: the set the allocator picks from."""
        allowed = frozenset(clusters) if clusters is not None else None
        return [
            h
            for h in self.hosts
            if h.schedulable and h.uuid != exclude and HostIndex.fits(h, cpu, memory, allowed)
        ]

    def _data_storages(self, zone_uuid: str, size: int, clusters: set[str]) -> list[PrimaryStorage]:
        """Primary storages of the zone, reached from ``clusters``, with room for a data
        disk of ``size`` (roomiest first)."""
        out = []
        for ps in self.primary_storages:
            if ps.zone_uuid != zone_uuid or not clusters.intersection(ps.cluster_uuids):
                continue
            try:
                self._pick_primary_storage(
                    [ps], lambda ps: self._storage_need(ps, None, None, 0, [size], ps.default_thick)
                )
            except CapacityExhausted:
                continue
            out.append(ps)
        out.sort(key=lambda ps: ps.used_virtual + ps.reserved_capacity - ps.total_capacity)
        return out

    def start_candidates(self, vm: Vm | str) -> list[Host]:
        """Hosts (host order) a stopped VM could start on now: those its start would pick
        from (reaching all its volumes; a VM on host-local storage only its last host)."""
        vm = self._vm(vm)
        if vm.state not in ("Stopped", "Created"):
            raise InvalidState("vm", vm.uuid, vm.state, "start", ("Stopped", "Created"))
        if vm.state == "Created":
            p = vm.pending or {}
            image = self.images.get(p["image"]) if p.get("image") else None
            if image is None:
                return []
            return self.creation_candidates(
                image=image,
                cpu_num=vm.cpu_num,
                memory_size=vm.memory_size,
                l3_networks=vm.l3_network_uuids,
                zone=vm.zone_uuid,
                cluster=p.get("cluster"),
                data_disk_sizes=p.get("data_sizes") or (),
            ).hosts
        clusters = self._running_clusters(vm)
        local = any(
            self.primary_storages.get(v.primary_storage_uuid).host_local
            for v in self.vm_volumes(vm)
            if v.primary_storage_uuid
        )
        hosts = self._fitting_hosts(vm.cpu_num, vm.memory_size, clusters)
        if local and vm.last_host_uuid:
            hosts = [h for h in hosts if h.uuid == vm.last_host_uuid]
        return hosts

    # -- data volumes and VMs ------------------------------------------------------------
    def _attachable(self, volume: Volume, vm: Vm) -> bool:
        """Whether ``attach_volume(volume, vm)`` would pass its checks (an unplaced volume
        may still find no room when it is placed)."""
        if vm.state not in ALLOWED["attach_volume"]:
            return False
        if volume.type != "Data" or volume.vm_uuid is not None or volume.state != "Enabled":
            return False
        if volume.status not in ("Ready", "NotInstantiated"):
            return False
        if volume.status == "NotInstantiated" or volume.primary_storage_uuid is None:
            return True
        try:
            clusters = self._running_clusters(vm)
        except Unreachable:
            return False
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        return clusters is None or bool(clusters.intersection(ps.cluster_uuids))

    def attachable_volumes(self, vm: Vm | str) -> list[Volume]:
        """Data volumes (volume order) that ``attach_volume`` would accept for ``vm``."""
        vm = self._vm(vm)
        self._state_check(vm, "attach_volume")
        return [v for v in self.volumes if v.type == "Data" and self._attachable(v, vm)]

    def attachable_vms(self, volume: Volume | str) -> list[Vm]:
        """VMs (VM order) that ``attach_volume`` would accept ``volume`` for."""
        volume = self._volume(volume)
        if volume.type != "Data" or volume.vm_uuid is not None:
            return []
        return [vm for vm in self.vms if self._attachable(volume, vm)]
