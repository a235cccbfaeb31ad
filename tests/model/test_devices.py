"""VMs from empty disks, disks and NICs after creation, relocation and its capacity moves."""

import pytest
from model_helpers import GiB, MiB, small_topology

from fakestack import CapacityExhausted, Cloud
from fakestack.model import InvalidArgument, InvalidState, Unreachable

LEAF = MiB


def two_storages(**ps_overrides):
    topo = small_topology()
    topo["clusters"].append({"name": "c2", "zone": "z"})
    topo["hosts"].append({"name": "h2", "cluster": "c2", "cpu_num": 8, "memory": "8G"})
    topo["primary_storages"] = [
        dict(
            {"name": "ps", "type": "NFS", "zone": "z", "clusters": ["c", "c2"], "total_capacity": "200G"},
            **ps_overrides,
        ),
        dict(
            {"name": "ps2", "type": "NFS", "zone": "z", "clusters": ["c", "c2"], "total_capacity": "200G"},
            **ps_overrides,
        ),
    ]
    return Cloud(topo)


def test_blank_vm_is_placed_like_a_start_then_stopped_holding_only_its_disks():
    cloud = two_storages()
    ps = cloud.primary_storages.get("ps")
    vm = cloud.create_blank_vm(
        "b",
        cpu_num=2,
        memory_size=4 * GiB,
        disk_sizes=[16 * GiB, 8 * GiB],
        l3_networks=["net"],
        primary_storage="ps",
        host="h1",
    )
    assert (vm.state, vm.host_uuid, vm.last_host_uuid) == ("Stopped", None, cloud.hosts.get("h1").uuid)
    assert [v.virtual_size for v in cloud.vm_volumes(vm)] == [16 * GiB, 8 * GiB]
    assert (ps.used_virtual, ps.used_physical) == (24 * GiB, 2 * LEAF)
    assert cloud.hosts.get("h1").used_memory == 0
    assert cloud.nics.get(vm.nic_uuids[0]).ip == "10.0.0.2"
    cloud.start_vm(vm)
    assert cloud.hosts.get("h1").used_memory == 4 * GiB
    cloud.check_invariants()


def test_blank_vm_admits_on_host_memory_and_leaves_nothing_when_refused():
    cloud = two_storages()
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_blank_vm("b", cpu_num=2, memory_size=64 * GiB, disk_sizes=[GiB], host="h2")
    assert info.value.resource == "host.memory"
    assert len(cloud.vms) == 0 and cloud.primary_storages.get("ps").used_virtual == 0
    cloud.check_invariants()


def test_relocate_a_running_vm_moves_its_host_capacity_and_its_disks():
    cloud = two_storages()
    vm = cloud.create_blank_vm(
        "b",
        cpu_num=2,
        memory_size=4 * GiB,
        disk_sizes=[16 * GiB],
        primary_storage="ps",
        host="h1",
        power_on=True,
    )
    cloud.write(vm.root_volume_uuid, 3 * GiB)
    h1, h2 = cloud.hosts.get("h1"), cloud.hosts.get("h2")
    ps, ps2 = cloud.primary_storages.get("ps"), cloud.primary_storages.get("ps2")
    cloud.relocate_vm(vm, host="h2", primary_storage="ps2")
    assert (h1.used_memory, h2.used_memory, vm.host_uuid) == (0, 4 * GiB, h2.uuid)
    assert (ps.used_virtual, ps.used_physical) == (0, 0)
    assert (ps2.used_virtual, ps2.used_physical) == (16 * GiB, LEAF + 3 * GiB)
    with pytest.raises(CapacityExhausted):  # h1 has 31 GiB placeable, h2 7: the VM is on h2
        cloud.relocate_vm(
            cloud.create_blank_vm(
                "big", cpu_num=1, memory_size=20 * GiB, disk_sizes=[GiB], host="h1", power_on=True
            ),
            host="h2",
        )
    cloud.check_invariants()


def test_relocating_an_instant_clone_consolidates_its_chain_and_the_frozen_parent_stays_for_the_others():
    cloud = two_storages()
    src = cloud.create_vm("src", image="img", instance_offering="o1", primary_storage="ps", host="h1")
    a = cloud.instant_clone(src, "a")
    b = cloud.instant_clone(src, "b")
    ps, ps2 = cloud.primary_storages.get("ps"), cloud.primary_storages.get("ps2")
    before = ps.used_physical
    cloud.relocate_vm(a, primary_storage="ps2")
    # a's 1 MiB leaf is freed on ps; on ps2 a holds the chain's data: cache 1 GiB + leaves
    assert ps.used_physical == before - LEAF
    assert ps2.used_physical == cloud.volume_allocated_size(a.root_volume_uuid)
    assert cloud.volume_is_delta(b.root_volume_uuid) and not cloud.volume_is_delta(a.root_volume_uuid)
    cloud.freeze_vm(src)
    with pytest.raises(InvalidState):
        cloud.relocate_vm(src, primary_storage="ps2")
    cloud.check_invariants()


def test_relocate_refuses_an_unreachable_target_and_a_host_that_cannot_reach_the_disks():
    cloud = two_storages()
    vm = cloud.create_blank_vm(
        "b", cpu_num=1, memory_size=GiB, disk_sizes=[GiB], primary_storage="ps", host="h1", power_on=True
    )
    cloud.set_storage_status("ps2", "Disconnected")
    with pytest.raises(Unreachable):
        cloud.relocate_vm(vm, primary_storage="ps2")
    cloud.set_storage_status("ps2", "Connected")
    cloud.primary_storages.get("ps2").cluster_uuids.remove(cloud.clusters.get("c2").uuid)
    with pytest.raises(InvalidArgument):
        cloud.relocate_vm(vm, host="h2", primary_storage="ps2")
    cloud.check_invariants()


def test_disks_and_nics_added_and_removed_after_creation():
    cloud = two_storages()
    vm = cloud.create_blank_vm(
        "b",
        cpu_num=1,
        memory_size=GiB,
        disk_sizes=[GiB],
        l3_networks=["net"],
        primary_storage="ps",
        power_on=True,
    )
    disk = cloud.add_disk(vm, 10 * GiB)
    assert (disk.device_id, disk.vm_uuid) == (1, vm.uuid)
    assert cloud.primary_storages.get("ps").used_virtual == 11 * GiB
    nic = cloud.add_nic(vm, "net")
    assert [cloud.nics.get(u).ip for u in vm.nic_uuids] == ["10.0.0.2", "10.0.0.3"]
    moved = cloud.move_nic(vm, vm.nic_uuids[0], "net")
    assert moved.uuid == vm.nic_uuids[0]
    cloud.remove_nic(vm, nic.uuid)
    assert len(vm.nic_uuids) == 1 and len(vm.l3_network_uuids) == 1
    cloud.check_invariants()


def test_a_vm_lists_one_network_per_nic_whichever_family_removes_or_moves_it():
    """add_nic allows two NICs on one network; detach_nic (ZStack's) then keeps one entry
    of it (it used to keep both, and a clone then got two NICs); remove_nic / move_nic
    (vSphere's) change the NIC's network, not the entry at the NIC's index, which after
    update_vm's default-network reorder is another network."""
    topo = small_topology()
    topo["l3_networks"].append({"name": "net2", "zone": "z", "cidr": "10.0.1.0/24"})
    cloud = Cloud(topo)
    vm = cloud.create_blank_vm(
        "b", cpu_num=1, memory_size=GiB, disk_sizes=[GiB], l3_networks=["net"], power_on=True
    )
    net, net2 = cloud.l3_networks.get("net").uuid, cloud.l3_networks.get("net2").uuid
    second = cloud.add_nic(vm, "net")
    cloud.detach_nic(second)
    assert vm.l3_network_uuids == [net]
    cloud.check_invariants()
    clone = cloud.clone_vm(vm, ["c"]).entries[0].vm
    assert len(cloud.vms.get(clone).nic_uuids) == 1

    first = vm.nic_uuids[0]
    cloud.add_nic(vm, "net2")
    cloud.update_vm(vm, default_l3_network="net2")
    assert vm.l3_network_uuids == [net2, net]
    cloud.remove_nic(vm, first)
    assert vm.l3_network_uuids == [net2]
    cloud.check_invariants()
    cloud.add_nic(vm, "net")
    cloud.update_vm(vm, default_l3_network="net")
    assert vm.l3_network_uuids == [net, net2]
    cloud.move_nic(vm, vm.nic_uuids[0], "net")  # the NIC on net2 moves to net
    assert vm.l3_network_uuids == [net, net]
    cloud.check_invariants()
