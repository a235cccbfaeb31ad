"""Building a topology's VMs in bulk: the cloud ``create_vm`` one by one would build, faster.

A topology's plain VMs (no host, storage, network or data-disk choice of their own) are
made by a short path that does what ``create_vm`` + its first start do, in the same order
(the same ids drawn from the seeded generator, the same placement draws, the same ledger
charges), without the per-call machinery a build does not need: no undo log (a failed
build raises out of ``Cloud()``), no journal entries (the build clears the journal), no
fault points (no plan is active yet).  Any VM the short path does not cover (a hint, a
data disk, the first VM of an image on a storage, which makes the image cache; a storage
or host short of room, so that the error is the general path's own) goes through
``create_vm``.  tests/model/test_bulk_build.py checks that both paths give equal snapshots.
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
    try:
        for v in specs:
            vm = None
            if fast and _plain(v):
                key = (v.image, v.instance_offering)
                plan = plans.get(key)
                if plan is None:
                    pending.flush()
                    plan = plans[key] = _Plan(cloud, v.image, v.instance_offering)
                if plan.usable(cloud):
                    vm = _create(cloud, v.name, plan, pending)
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
    finally:
        pending.flush()


def _create(cloud: Cloud, name: str, plan: _Plan, pending: _Pending) -> Vm | None:
    """One plain VM, or None (nothing drawn, nothing changed) when it needs the general
    path: its storage, hosts or network lack room, or its address is not the next one in
    line (the general path raises the shortage or finds the address)."""
    ps, offering, image, l3 = plan.ps, plan.offering, plan.image, plan.l3
    assert ps is not None and l3 is not None and plan.cache is not None
    cpu, memory = offering.cpu_num, offering.memory_size
    # the storage plan: the zone's one storage, with room for the root volume
    if ps.admits_virtually and plan.charge > ps.total_capacity - ps.reserved_capacity - ps.used_virtual:
        return None
    if plan.physical > ps.physical_limit - ps.used_physical:
        return None
    # the address: the next one when none was freed, not the gateway nor a chosen one
    ip = l3.next_ip
    if l3.released or ip == plan.gateway or ip > l3.last_ip or str(ip) in l3.used:
        return None
    host_index = cloud.host_index
    uuid = cloud.ids.uuid
    created = cloud.clock.now()
    vm_uuid = uuid()
    # the host (a shortage raises here as it does on the general path, from the same index)
    host = host_index.choose(plan.strategy, cpu, memory, plan.clusters, None)
    host_index.remove(host)
    host.used_cpu += cpu
    host.used_memory += memory
    host.vm_count += 1
    host_index.add(host)
    # the root volume on the image's cache
    volume_uuid = uuid()
    charge = plan.charge
    ps.used_virtual += charge
    cache = plan.cache
    size, thick = plan.root_size, plan.thick
    node_uuid = uuid()
    node = DiskNode(
        node_uuid, ps.uuid, cache.uuid, size, plan.actual, "leaf", cache.depth + 1, thick, create_date=created
    )
    ps.used_physical += plan.physical
    cache.children += 1
    root = Volume(
        volume_uuid,
        f"ROOT-for-{name}",
        "Root",
        size,
        vm_uuid=vm_uuid,
        primary_storage_uuid=ps.uuid,
        node_uuid=node_uuid,
        thick=thick,
        virtual_charge=charge,
        root_image_uuid=image.uuid,
        create_date=created,
        last_op_date=created,
    )
    # the NIC (``_allocate_nic``'s sequential case)
    l3.next_ip = ip + 1
    h = cloud.ids.hex(10)
    nic_uuid = uuid()
    nic = Nic(
        nic_uuid,
        vm_uuid,
        l3.uuid,
        ip_str(ip),
        f"fa:{h[0:2]}:{h[2:4]}:{h[4:6]}:{h[6:8]}:{h[8:10]}",
        l3.netmask,
        l3.gateway,
        0,
        created,
    )
    l3.used[str(ip)] = nic_uuid
    vm = Vm(
        vm_uuid,
        name,
        plan.zone_uuid,
        cpu,
        memory,
        offering.uuid,
        image.uuid,
        "",
        "Running",
        host.uuid,
        host.uuid,
        host.cluster_uuid,
        volume_uuid,
        [],
        [nic_uuid],
        [l3.uuid],
        offering.allocator_strategy,
        image.platform,
        image.guest_os_type,
        image.architecture,
        create_date=created,
        last_op_date=created,
    )
    pending.vms.append(vm)
    pending.nodes.append(node)
    pending.volumes.append(root)
    pending.nics.append(nic)
    return vm
