"""The placement questions predict the operations (property): whatever the hosts' and
storages' states and loads, a create the question answered lands on a host it named, and a
create the question refused fails with the same error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fakestack.model import Cloud, DomainError, ManualClock

GiB = 1024**3

TOPOLOGY = {
    "name": "property",
    "zones": [{"name": "z"}],
    "clusters": [{"name": "c1", "zone": "z"}, {"name": "c2", "zone": "z"}],
    "hosts": [
        {"name": "h1", "cluster": "c1", "cpu_num": 4, "memory": "9G"},
        {"name": "h2", "cluster": "c1", "cpu_num": 2, "memory": "5G"},
        {"name": "h3", "cluster": "c2", "cpu_num": 4, "memory": "9G"},
    ],
    "primary_storages": [
        {"name": "p1", "type": "NFS", "clusters": ["c1"], "total_capacity": "80G"},
        {"name": "p2", "type": "NFS", "clusters": ["c2"], "total_capacity": "40G"},
    ],
    "backup_storages": [{"name": "bs", "zones": ["z"], "total_capacity": "50G"}],
    "images": [{"name": "img", "backup_storages": ["bs"], "virtual_size": "10G", "actual_size": "1G"}],
    "l3_networks": [{"name": "l3", "zone": "z", "cidr": "10.0.0.0/24"}],
}

steps = st.lists(
    st.tuples(
        st.sampled_from(["create", "disable", "enable", "ps-off", "ps-on", "restart"]),
        st.integers(0, 2),
        st.sampled_from([1, 2, 4]),
        st.sampled_from([1, 2, 4, 8]),
        st.sampled_from([0, 10, 30]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(steps=steps, seed=st.integers(0, 3))
def test_creation_candidates_predict_create(steps, seed):
    cloud = Cloud(TOPOLOGY, seed=seed, clock=ManualClock())
    hosts = [h.uuid for h in cloud.hosts]
    pss = [p.uuid for p in cloud.primary_storages]
    image = next(iter(cloud.images)).uuid
    for i, (action, which, cpu, mem, disk) in enumerate(steps):
        if action == "disable":
            cloud.set_host_state(hosts[which], "Disabled")
        elif action == "enable":
            cloud.set_host_state(hosts[which], "Enabled")
        elif action == "ps-off":
            cloud.set_storage_state(pss[which % 2], "Disabled")
        elif action == "ps-on":
            cloud.set_storage_state(pss[which % 2], "Enabled")
        elif action == "restart":
            vms = [vm for vm in cloud.vms if vm.state == "Running"]
            if not vms:
                continue
            vm = vms[which % len(vms)]
            cloud.stop_vm(vm)
            hosts_now = {h.uuid for h in cloud.start_candidates(vm)}
            try:
                cloud.start_vm(vm)
            except DomainError:
                assert hosts_now == set()  # refused only when the question named no host
            else:
                assert vm.host_uuid in hosts_now
        else:
            sizes = (disk * GiB,) if disk else ()
            try:
                answer = cloud.creation_candidates(
                    image=image, cpu_num=cpu, memory_size=mem * GiB, data_disk_sizes=sizes
                )
            except DomainError as refused:
                try:
                    cloud.create_vm(
                        f"vm-{i}", image=image, cpu_num=cpu, memory_size=mem * GiB, data_disk_sizes=sizes
                    )
                except DomainError as failed:
                    assert type(failed) is type(refused)
                    assert str(failed) == str(refused)
                else:
                    raise AssertionError(f"create succeeded where the question said: {refused}")
                continue
            vm = cloud.create_vm(
                f"vm-{i}", image=image, cpu_num=cpu, memory_size=mem * GiB, data_disk_sizes=sizes
            )
            assert vm.host_uuid in {h.uuid for h in answer.hosts}
            root = cloud.volumes.get(vm.root_volume_uuid)
            assert root.primary_storage_uuid in {p.uuid for p in answer.root_storages}
        cloud.check_invariants()
