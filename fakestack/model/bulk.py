"""Building a topology's VMs in bulk: the cloud ``create_vm`` one by one would build, faster.

A topology's plain VMs (no host, storage, network or data-disk choice of their own) are
made by a short path that does what ``create_vm`` + its first start do, in the same order
(the same ids drawn from the seeded generator, the same placement draws, the same ledger
charges), without the per-call machinery a build does not need: no undo log (a failed
build raises out of ``Cloud()``), no journal entries (the build clears the journal), no
fault points (no plan is active yet).  Any VM the short path does not cover (a hint, a
data disk, the first VM of an image on a storage, which makes the image cache; a storage
or host short of room, so that the error is the general path's own) goes through
``create_vm``.  Consecutive plain VMs of one image and offering are made in one run
(``_create_run``), what they share looked up once.  tests/model/test_bulk_build.py checks
that both paths give equal snapshots (for any mix of VMs, shortages part way included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .entities import ROOT_TEMPLATE, DiskNode, Nic, Vm, Volume
from .networks import ip_int, ip_str
from .storage import virtual_charge
from .vms import StartPolicy

if TYPE_CHECKING:
    from .cloud import Cloud
    from .topology import VmSpec


class _Plan:
    """What every plain VM of one (image, offering) pair shares: looked up once."""

    __slots__ = (
        "image",
        "offering",
        "zone_uuid",
        "l3",
        "gateway",
        "ps",
        "clusters",
        "strategy",
        "thick",
        "root_size",
        "charge",
        "actual",
        "physical",
        "cache",
    )

    def __init__(self, cloud: Cloud, image_name: str, offering_name: str) -> None:
        self.image = image = cloud.images.get(image_name)
        self.offering = offering = cloud.instance_offerings.get(offering_name)
        self.zone_uuid = zone_uuid = next(iter(cloud.zones)).uuid
        nets = [n for n in cloud.l3_networks if n.zone_uuid == zone_uuid][:1]
        self.l3 = nets[0] if nets else None
        self.gateway = ip_int(self.l3.gateway) if self.l3 is not None else None
        pss = [ps for ps in cloud.primary_storages if ps.zone_uuid == zone_uuid]
        self.ps = ps = pss[0] if len(pss) == 1 else None
        self.clusters = frozenset(ps.cluster_uuids) if ps is not None else frozenset()
        self.strategy = offering.allocator_strategy or cloud.settings.default_allocator_strategy
        self.root_size = size = image.virtual_size
        self.thick = thick = ps.default_thick if ps is not None else False
        self.charge = virtual_charge(ps, size) if ps is not None else 0
        self.actual = min(size if thick else cloud.settings.new_leaf_size, size)
        self.physical = size if thick else min(cloud.settings.new_leaf_size, size)
        self.cache: DiskNode | None = None

    def usable(self, cloud: Cloud) -> bool:
        image, ps = self.image, self.ps
        if ps is None or self.l3 is None or not ps.usable:
            return False
        if image.status != "Ready" or image.state != "Enabled" or image.media_type != ROOT_TEMPLATE:
            return False
        if self.cache is None:
            self.cache = cloud._image_cache(image, ps)
            if self.cache is None:
                return False
        return self.cache.depth + 1 <= cloud.settings.max_chain_depth


def _plain(v: VmSpec) -> bool:
    return (
        v.host is None
        and v.primary_storage is None
        and v.l3_networks is None
        and not v.data_disks
        and v.state != "Created"
        and len(v.name) <= 255
    )


class _Pending:
    """Entities made by the short path, added to their collections in one call each (in
    the order one ``add`` each would give) before anything else reads them."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.vms: list[Vm] = []
        self.volumes: list[Volume] = []
        self.nodes: list[DiskNode] = []
        self.nics: list[Nic] = []

    def flush(self) -> None:
        cloud = self.cloud
        cloud.vms.extend(self.vms)
        cloud.volumes.extend(self.volumes)
        cloud.nodes.extend(self.nodes)
        cloud.nics.extend(self.nics)
        for items in (self.vms, self.volumes, self.nodes, self.nics):
            items.clear()


def build_vms(cloud: Cloud, specs: list[VmSpec]) -> None:
    """Create the topology's VMs (``_build``'s last step), equal to one ``create_vm`` each."""
    plans: dict[tuple[str, str], _Plan] = {}
    pending = _Pending(cloud)
    fast = cloud.faults is None and cloud._undo is None and not cloud._exhausted
    i, count = 0, len(specs)
    try:
        while i < count:
            v = specs[i]
            vm = None
            if fast and _plain(v):
                key = (v.image, v.instance_offering)
                plan = plans.get(key)
                if plan is None:
                    pending.flush()
                    plan = plans[key] = _Plan(cloud, v.image, v.instance_offering)
                if plan.usable(cloud):
                    end = _create_run(cloud, specs, i, plan, pending)
                    if end > i:  # specs[i:end] made; the last may want a write or a stop
                        i, v, vm = end - 1, specs[end - 1], pending.vms[-1]
            if vm is None:
                pending.flush()
                vm = cloud.create_vm(
                    v.name,
                    image=v.image,
                    instance_offering=v.instance_offering,
                    l3_networks=v.l3_networks,
                    host=v.host,
                    primary_storage=v.primary_storage,
                    data_disk_offerings=v.data_disks,
                    strategy=StartPolicy.NONE if v.state == "Created" else StartPolicy.START,
                )
            if v.written or v.state in ("Stopped", "Paused"):
                pending.flush()
                if v.written:
                    cloud.write(cast(str, vm.root_volume_uuid), v.written)
                if v.state == "Stopped":
                    cloud.stop_vm(vm)
                elif v.state == "Paused":
                    cloud.pause_vm(vm)
            i += 1
    finally:
        pending.flush()


def _create_run(cloud: Cloud, specs: list[VmSpec], start: int, plan: _Plan, pending: _Pending) -> int:
    """Make plain VMs of ``plan`` from ``specs[start]`` on, while they are plain, of the
    plan's image and offering, and fit; returns the index of the first spec not made.  A
    VM that wants a write, a stop or a pause after its start ends the run (made: the
    caller does the rest).  A VM that does not fit (its storage, hosts or network lack
    room, or its address is not the next one in line) is not made and nothing is drawn
    for it: the general path raises the shortage or finds the address.

    Everything the VMs of a run share is looked up once; each VM then does what
    ``create_vm`` + its first start do, in the same order: the same ids drawn, the same
    placement draws, the same ledger charges."""
    ps, offering, image, l3, cache = plan.ps, plan.offering, plan.image, plan.l3, plan.cache
    assert ps is not None and l3 is not None and cache is not None
    image_name, offering_name = image.name, offering.name
    cpu, memory = offering.cpu_num, offering.memory_size
    strategy, clusters, gateway = plan.strategy, plan.clusters, plan.gateway
    charge, physical = plan.charge, plan.physical
    virtual_room = ps.total_capacity - ps.reserved_capacity if ps.admits_virtually else None
    physical_limit = ps.physical_limit
    used, last_ip = l3.used, l3.last_ip
    host_index, ids = cloud.host_index, cloud.ids
    uuid, hex_digits = ids.uuid, ids.hex
    created = cloud.clock.now()
    ps_uuid, l3_uuid, image_uuid, offering_uuid = ps.uuid, l3.uuid, image.uuid, offering.uuid
    size, thick, actual = plan.root_size, plan.thick, plan.actual
    cache_uuid, depth = cache.uuid, cache.depth + 1
    zone_uuid, allocator = plan.zone_uuid, offering.allocator_strategy
    platform, guest_os_type, architecture = image.platform, image.guest_os_type, image.architecture
    netmask, l3_gateway = l3.netmask, l3.gateway
    vms, volumes, nodes, nics = pending.vms, pending.volumes, pending.nodes, pending.nics
    for i in range(start, len(specs)):
        v = specs[i]
        if (
            v.image != image_name
            or v.instance_offering != offering_name
            or v.host is not None
            or v.primary_storage is not None
            or v.l3_networks is not None
            or v.data_disks
            or v.state == "Created"
            or len(v.name) > 255
        ):
            return i
        # the storage plan: the zone's one storage, with room for the root volume
        if virtual_room is not None and charge > virtual_room - ps.used_virtual:
            return i
        if physical > physical_limit - ps.used_physical:
            return i
        # the address: the next one when none was freed, not the gateway nor a chosen one
        ip = l3.next_ip
        ip_key = str(ip)
        if l3.released or ip == gateway or ip > last_ip or ip_key in used:
            return i
        name = v.name
        vm_uuid = uuid()
        # the host (a shortage raises here as on the general path, from the same index)
        host = host_index.place(strategy, cpu, memory, clusters)
        # the root volume on the image's cache
        volume_uuid = uuid()
        ps.used_virtual += charge
        node_uuid = uuid()
        nodes.append(
            DiskNode(node_uuid, ps_uuid, cache_uuid, size, actual, "leaf", depth, thick, create_date=created)
        )
        ps.used_physical += physical
        cache.children += 1
        volumes.append(
            Volume(
                volume_uuid,
                f"ROOT-for-{name}",
                "Root",
                size,
                vm_uuid=vm_uuid,
                primary_storage_uuid=ps_uuid,
                node_uuid=node_uuid,
                thick=thick,
                virtual_charge=charge,
                root_image_uuid=image_uuid,
                create_date=created,
                last_op_date=created,
            )
        )
        # the NIC (``_allocate_nic``'s sequential case)
        l3.next_ip = ip + 1
        h = hex_digits(10)
        nic_uuid = uuid()
        nics.append(
            Nic(
                nic_uuid,
                vm_uuid,
                l3_uuid,
                ip_str(ip),
                f"fa:{h[0:2]}:{h[2:4]}:{h[4:6]}:{h[6:8]}:{h[8:10]}",
                netmask,
                l3_gateway,
                0,
                created,
            )
        )
        used[ip_key] = nic_uuid
        host_uuid = host.uuid
        vms.append(
            Vm(
                vm_uuid,
                name,
                zone_uuid,
                cpu,
                memory,
                offering_uuid,
                image_uuid,
                "",
                "Running",
                host_uuid,
                host_uuid,
                host.cluster_uuid,
                volume_uuid,
                [],
                [nic_uuid],
                [l3_uuid],
                allocator,
                platform,
                guest_os_type,
                architecture,
                create_date=created,
                last_op_date=created,
            )
        )
        if v.written or v.state != "Running":
            return i + 1
    return len(specs)
