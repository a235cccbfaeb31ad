"""Capacity ledgers: hosts, primary storage (virtual and physical), backup storage."""

import pytest
from model_helpers import GiB, MiB, small_topology

from fakestack import CapacityExhausted, Cloud

LEAF = MiB  # the settings' default new_leaf_size


def ps_of(cloud):
    return cloud.primary_storages.get("ps")


def test_thin_vm_reserves_virtual_size_but_consumes_only_actual():
    cloud = Cloud(small_topology())
    cloud.create_vm("v", image="img", instance_offering="o1")
    ps = ps_of(cloud)
    # root volume 10G virtual + image cache 1G on the virtual ledger
    assert ps.used_virtual == 10 * GiB + 1 * GiB
    # physically: the cache's 1G and the new leaf's initial size
    assert ps.used_physical == 1 * GiB + LEAF
    assert cloud.backup_storages.get("bs").used == 1 * GiB
    cloud.check_invariants()


def test_thick_vm_consumes_full_size_on_both_ledgers():
    cloud = Cloud(small_topology())
    cloud.create_vm("v", image="img", instance_offering="o1", provisioning="thick")
    ps = ps_of(cloud)
    assert ps.used_virtual == 11 * GiB
    assert ps.used_physical == 1 * GiB + 10 * GiB
    cloud.check_invariants()


def test_storage_default_provisioning_thick():
    cloud = Cloud(small_topology(primary_storages={"provisioning": "thick"}))
    vm = cloud.create_vm("v", image="img", instance_offering="o1")
    assert cloud.volumes.get(vm.root_volume_uuid).thick is True
    assert ps_of(cloud).used_physical == 11 * GiB


def test_overprovisioning_ratio_divides_the_virtual_charge():
    cloud = Cloud(small_topology(primary_storages={"overprovisioning_ratio": 2.0}))
    cloud.create_vm("v", image="img", instance_offering="o1")
    ps = ps_of(cloud)
    assert ps.used_virtual == 5 * GiB + GiB // 2
    assert ps.used_physical == 1 * GiB + LEAF  # physical is never over-provisioned


def test_virtual_ledger_exhaustion_changes_nothing():
    # 30G storage: reserve 1G; each VM needs 10G (+1G cache once)
    cloud = Cloud(small_topology(primary_storages={"total_capacity": "30G"}))
    cloud.create_vm("v1", image="img", instance_offering="o1")
    cloud.create_vm("v2", image="img", instance_offering="o1")
    before = cloud.snapshot()
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("v3", image="img", instance_offering="o1")
    err = info.value
    assert err.resource == "primary_storage.virtual"
    assert err.needed == 10 * GiB
    assert err.available == 30 * GiB - 1 * GiB - 21 * GiB
    after = cloud.snapshot()
    assert _without_journal(after) == _without_journal(before)
    assert "v3" not in cloud.vms
    cloud.check_invariants()


def test_physical_threshold_limits_physical_use():
    # 200G physical, threshold 0.1 -> at most 20G physically used
    cloud = Cloud(small_topology(primary_storages={"physical_threshold": 0.1}))
    cloud.create_vm("v1", image="img", instance_offering="o1", provisioning="thick")  # 11G
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("v2", image="img", instance_offering="o1", provisioning="thick")
    assert info.value.resource == "primary_storage.physical"
    assert info.value.needed == 10 * GiB
    assert info.value.available == round(200 * GiB * 0.1) - 11 * GiB
    cloud.check_invariants()


def test_host_capacity_is_held_only_in_holding_states():
    cloud = Cloud(small_topology())
    host = cloud.hosts.get("h1")
    vm = cloud.create_vm("v", image="img", instance_offering="o1")
    assert (host.used_cpu, host.used_memory) == (2, 4 * GiB)
    cloud.pause_vm(vm)
    assert (host.used_cpu, host.used_memory) == (2, 4 * GiB)
    cloud.resume_vm(vm)
    cloud.stop_vm(vm)
    assert (host.used_cpu, host.used_memory) == (0, 0)
    assert vm.host_uuid is None and vm.last_host_uuid == host.uuid
    cloud.start_vm(vm)
    assert (host.used_cpu, host.used_memory) == (2, 4 * GiB)
    cloud.destroy_vm(vm)
    assert (host.used_cpu, host.used_memory) == (0, 0)
    created = cloud.create_vm("later", image="img", instance_offering="o1", strategy="none")
    assert created.state == "Created"
    assert (host.used_cpu, host.used_memory) == (0, 0)
    assert ps_of(cloud).used_virtual == 11 * GiB  # the destroyed VM's disk only; Created holds none
    cloud.check_invariants()


def test_host_memory_reserve_and_cpu_ratio():
    # 8 cores x ratio 10 = 80 vCPUs; 32G memory - 1G reserve = 31G for VMs
    cloud = Cloud(small_topology())
    host = cloud.hosts.get("h1")
    assert host.total_cpu == 80
    for i in range(7):
        cloud.create_vm(f"v{i}", image="img", instance_offering="o1")  # 4G each -> 28G
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("v7", image="img", instance_offering="o1")
    assert info.value.resource == "host.memory"
    assert info.value.request == {"cpu": 2, "memory": 4 * GiB}
    assert info.value.available == 32 * GiB - 28 * GiB - 1 * GiB


def test_host_cpu_exhaustion():
    cloud = Cloud(
        small_topology(
            hosts=[
                {"name": "h1", "cluster": "c", "cpu_num": 1, "cpu_overprovisioning_ratio": 2, "memory": "64G"}
            ]
        )
    )
    cloud.create_vm("v1", image="img", instance_offering="o1")
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("v2", image="img", instance_offering="o1")
    assert info.value.resource == "host.cpu"
    assert info.value.available == 0


def test_disabled_and_disconnected_hosts_get_no_vms():
    cloud = Cloud(small_topology())
    cloud.set_host_state("h1", "Maintenance")
    with pytest.raises(CapacityExhausted):
        cloud.create_vm("v", image="img", instance_offering="o1")
    cloud.set_host_state("h1", "Enabled")
    cloud.set_host_status("h1", "Disconnected")
    with pytest.raises(CapacityExhausted):
        cloud.create_vm("v", image="img", instance_offering="o1")
    cloud.set_host_status("h1", "Connected")
    assert cloud.create_vm("v", image="img", instance_offering="o1").state == "Running"


def test_capacity_table_reports_both_ledgers():
    cloud = Cloud(small_topology())
    cloud.create_vm("v", image="img", instance_offering="o1")
    table = cloud.capacity()
    ps = table["primary_storages"][0]
    assert ps["available_capacity"] == 200 * GiB - 11 * GiB
    assert ps["available_physical_capacity"] == 200 * GiB - GiB - LEAF
    assert table["hosts"][0]["available_memory"] == 28 * GiB
    assert table["backup_storages"][0]["available_capacity"] == 99 * GiB


def _without_journal(snapshot):
    return {k: v for k, v in snapshot.items() if k not in ("ids", "rng", "clock")}


# --- admission: the storage decides which ledger refuses -----------------------------------


def _clone_until_full(cloud, source, limit=500):
    made = 0
    with pytest.raises(CapacityExhausted) as info:
        for i in range(limit):
            cloud.instant_clone(source, f"ic-{i}")
            made += 1
    return made, info.value


@pytest.mark.parametrize(
    "admission, expected_clones, resource",
    [
        # 200 GiB provisioned, 1 GiB reserved, the source's 10 GiB root and 1 GiB image cache:
        # room for 18 more 10 GiB clones on the virtual ledger
        ("virtual", 18, "primary_storage.virtual"),
        # physical: 200 GiB x 0.9 threshold = 180 GiB, minus the cache, the source's first leaf
        # and the leaf it moved to when frozen (1 GiB each here): 177 clones of 1 GiB
        ("physical", 177, "primary_storage.physical"),
    ],
)
def test_instant_clone_storm_stops_at_the_ledger_the_storage_admits_on(admission, expected_clones, resource):
    topo = small_topology(
        primary_storages={"admission": admission},
        hosts={"memory": "16T", "cpu_num": 4096},
        settings={"new_leaf_size": "1G"},
    )
    cloud = Cloud(topo)
    source = cloud.create_vm("src", image="img", instance_offering="o1")
    cloud.freeze_vm(source)  # clones hang off one frozen node: the chain does not grow
    ps = ps_of(cloud)
    made, error = _clone_until_full(cloud, source)
    assert (made, error.resource) == (expected_clones, resource)
    if admission == "physical":
        assert ps.used_virtual == 11 * GiB + 177 * 10 * GiB  # provisioned far beyond the 200 GiB
    cloud.check_invariants()


def test_physical_admission_accepts_a_thin_disk_larger_than_the_storage_but_not_a_thick_one():
    cloud = Cloud(small_topology(primary_storages={"admission": "physical"}))
    ps = ps_of(cloud)
    vol = cloud.create_data_volume("big", size=1024 * GiB, primary_storage=ps.uuid)
    assert (ps.used_virtual, ps.used_physical) == (1024 * GiB, LEAF)
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_data_volume("thick", size=190 * GiB, primary_storage=ps.uuid, provisioning="thick")
    assert info.value.resource == "primary_storage.physical"
    assert cloud.capacity()["primary_storages"][0]["admission"] == "physical"
    assert vol.virtual_size == 1024 * GiB
    cloud.check_invariants()
    virtual_cloud = Cloud(small_topology())
    with pytest.raises(CapacityExhausted) as info:
        virtual_cloud.create_data_volume("big", size=1024 * GiB, primary_storage=ps_of(virtual_cloud).uuid)
    assert info.value.resource == "primary_storage.virtual"
