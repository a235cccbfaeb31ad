"""The VM list picks its candidates from the model's indexes (names, moids) and tests the
rest of the filter on them; the answer must be the plain definition's: every visible VM
tested against every filter field (reference §6.1), sorted by id.  The reference is kept
here, not in the package."""

from __future__ import annotations

from functools import lru_cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from vsphere_support import Surfaces

from fakestack.dialects.vsphere.inventory import INVISIBLE_VM_STATES, moid_number, power_state
from fakestack.model import Cloud, ManualClock


@lru_cache(maxsize=1)
def _world():
    cloud = Cloud("demo", seed=0, clock=ManualClock())
    golden = cloud.vms.get("golden")
    cloud.clone_vm(golden, ["web-1", "web-2", "db", "web-1"])
    cloud.create_vm(
        "local", image="ubuntu-22.04", instance_offering="small", l3_networks=["l3-private"], host="host-1"
    )
    cloud.stop_vm("local")
    cloud.stop_vm(cloud.vms.by_name("web-2")[0])
    cloud.destroy_vm(cloud.vms.by_name("db")[0])
    surfaces = Surfaces(cloud)
    surfaces.client.get("/rest/vcenter/vm", headers=surfaces.headers)  # number every object
    return cloud, surfaces


def reference(surfaces, cloud, filters: dict) -> list[str]:
    state = cloud.dialect_state("vsphere")
    ids = state["ids"]

    def host_moid(vm):
        uuid = vm.host_uuid or vm.last_host_uuid
        host = cloud.hosts.find(uuid) if uuid else None
        return host and ids["host"][host.uuid]

    def cluster_moid(vm):
        uuid = vm.cluster_uuid
        if not uuid:
            host_uuid = vm.host_uuid or vm.last_host_uuid
            host = cloud.hosts.find(host_uuid) if host_uuid else None
            uuid = host.cluster_uuid if host else None
        return uuid and ids["cluster"][uuid]

    tests = {
        "vms": lambda vm: ids["vm"][vm.uuid],
        "names": lambda vm: vm.name,
        "hosts": host_moid,
        "clusters": cluster_moid,
        "power_states": power_state,
    }
    found = []
    for vm in cloud.vms:
        if vm.state in INVISIBLE_VM_STATES:
            continue
        if all(not values or tests[key](vm) in values for key, values in filters.items()):
            found.append(ids["vm"][vm.uuid])
    return sorted(found, key=moid_number)


MOIDS = {
    "vms": ["vm-1", "vm-2", "vm-3", "vm-4", "vm-5", "vm-6", "vm-99"],
    "names": ["golden", "web-1", "web-2", "db", "local", "nothing"],
    "hosts": ["host-1", "host-2", "host-3", "host-9"],
    "clusters": ["domain-c1", "domain-c2", "domain-c9"],
    "power_states": ["POWERED_ON", "POWERED_OFF", "SUSPENDED"],
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {}, optional={k: st.lists(st.sampled_from(v), max_size=3) for k, v in MOIDS.items()}
    )
)
def test_a_filtered_vm_list_answers_as_every_vm_tested_against_the_filter(filters):
    cloud, surfaces = _world()
    query = "&".join(f"filter.{k}={v}" for k, vs in filters.items() for v in vs)
    response = surfaces.client.get(f"/rest/vcenter/vm?{query}", headers=surfaces.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [s["vm"] for s in response.get_json()["value"]] == reference(surfaces, cloud, filters)


FILTERS = st.fixed_dictionaries(
    {}, optional={k: st.lists(st.sampled_from(v), max_size=3) for k, v in MOIDS.items() if k != "vms"}
)
CHANGES = st.tuples(
    st.sampled_from(["clone", "stop", "start", "pause", "destroy", "recover", "migrate", "failed_clone"]),
    st.integers(0, 20),
)


def _change(cloud, change) -> None:
    from fakestack import DomainError, faults

    kind, pick = change
    vms = cloud.vms.values()
    vm = vms[pick % len(vms)]
    try:
        if kind == "clone":
            cloud.clone_vm(cloud.vms.get("golden"), ["web-1", "web-9"])
        elif kind == "failed_clone":
            with faults.inject(cloud, faults.exhaust("vm.clone", "host.memory")):
                cloud.clone_vm(cloud.vms.get("golden"), ["web-1"])
        else:
            getattr(cloud, f"{kind}_vm")(vm)
    except DomainError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(CHANGES, FILTERS), min_size=1, max_size=6))
@example([(("stop", 1), {"hosts": ["host-1", "host-2", "host-3"]})])  # a stopped VM: its last host
@example([(("migrate", 0), {"hosts": ["host-1"], "power_states": ["POWERED_ON"]})])
def test_a_vm_list_filtered_by_host_and_power_state_follows_the_vms_changes(steps):
    """The host and power-state picks come from the model's indexes: after clones, starts,
    stops, migrations and failed clones the list is still every VM tested one by one."""
    cloud = Cloud("demo", seed=0, clock=ManualClock())
    cloud.clone_vm(cloud.vms.get("golden"), ["web-1", "web-2", "db"])
    surfaces = Surfaces(cloud)
    for change, filters in steps:
        _change(cloud, change)
        surfaces.client.get("/rest/vcenter/vm", headers=surfaces.headers)  # number new VMs
        query = "&".join(f"filter.{k}={v}" for k, vs in filters.items() for v in vs)
        response = surfaces.client.get(f"/rest/vcenter/vm?{query}", headers=surfaces.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert [s["vm"] for s in response.get_json()["value"]] == reference(surfaces, cloud, filters), change
