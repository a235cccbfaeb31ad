"""Property tests: random topologies x random operation sequences keep every invariant;
same seed + same operations give equal snapshots; snapshot -> restore is the identity."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import GiB, MiB

from fakestack import Cloud, DomainError, ManualClock

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def topologies(draw):
    n_hosts = draw(st.integers(1, 4))
    hosts = [
        {
            "name": f"h{i}",
            "cluster": f"c{i % 2}",
            "cpu_num": draw(st.integers(1, 8)),
            "cpu_overprovisioning_ratio": draw(st.sampled_from([1, 2, 10])),
            "memory": draw(st.integers(2, 24)) * GiB,
        }
        for i in range(n_hosts)
    ]
    return {
        "zones": [{"name": "z"}],
        "clusters": [{"name": "c0", "zone": "z"}, {"name": "c1", "zone": "z"}],
        "hosts": hosts,
        "primary_storages": [
            {
                "name": "ps0",
                "type": "LocalStorage",
                "clusters": ["c0"],
                "total_capacity": draw(st.integers(5, 120)) * GiB,
                "physical_capacity": draw(st.integers(3, 120)) * GiB,
                "overprovisioning_ratio": draw(st.sampled_from([1.0, 1.5, 3.0])),
                "provisioning": draw(st.sampled_from(["thin", "thick"])),
                "admission": draw(st.sampled_from(["virtual", "physical"])),
            },
            {
                "name": "ps1",
                "type": "NFS",
                "clusters": ["c0", "c1"],
                "total_capacity": draw(st.integers(5, 120)) * GiB,
                "admission": draw(st.sampled_from(["virtual", "physical"])),
            },
        ],
        "backup_storages": [{"name": "bs", "zones": ["z"], "total_capacity": draw(st.integers(3, 40)) * GiB}],
        "images": [
            {
                "name": "img",
                "backup_storages": ["bs"],
                "virtual_size": "8G",
                "actual_size": draw(st.integers(1, 2000)) * MiB,
            }
        ],
        "instance_offerings": [
            {"name": "s", "cpu_num": 1, "memory_size": "1G"},
            {"name": "m", "cpu_num": 2, "memory_size": "3G"},
        ],
        "disk_offerings": [{"name": "d", "disk_size": "4G"}],
        "l3_networks": [{"name": "n", "zone": "z", "cidr": "10.0.0.0/27"}],
    }


OPS = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(["s", "m"]),
        st.booleans(),
        st.sampled_from(["start", "none", "stopped"]),
    ),
    st.tuples(
        st.just("clone"),
        st.integers(0, 50),
        st.integers(1, 4),
        st.sampled_from(["start", "none"]),
        st.booleans(),
    ),
    st.tuples(st.just("instant_clone"), st.integers(0, 50)),
    st.tuples(st.just("full_clone"), st.integers(0, 50)),
    st.tuples(st.just("write"), st.integers(0, 50), st.integers(0, 6 * 1024).map(lambda m: m * MiB)),
    st.tuples(
        st.sampled_from(
            [
                "start",
                "stop",
                "pause",
                "resume",
                "destroy",
                "recover",
                "expunge",
                "reboot",
                "freeze",
                "snapshot",
            ]
        ),
        st.integers(0, 50),
    ),
    st.tuples(st.just("delete_snapshot"), st.integers(0, 50)),
    st.tuples(st.just("volume"), st.integers(0, 50)),
    st.tuples(st.just("host_status"), st.integers(0, 3), st.booleans()),
    # devices and relocation (issue 17)
    st.tuples(st.just("blank"), st.integers(1, 64).map(lambda g: g * GiB), st.booleans()),
    st.tuples(st.just("add_disk"), st.integers(0, 50), st.integers(1, 200).map(lambda g: g * GiB)),
    st.tuples(st.just("nic"), st.integers(0, 50), st.sampled_from(["add", "remove", "move"])),
    st.tuples(
        st.just("relocate"), st.integers(0, 50), st.integers(0, 3), st.sampled_from([None, "ps0", "ps1"])
    ),
)


# Every sequence starts with two VMs (when they fit), so that most operations have a target.
PRELUDE = [("create", "s", True, "start"), ("create", "m", False, "start")]


def apply(cloud: Cloud, op) -> None:
    kind = op[0]
    vms = cloud.vms.values()
    pick = (lambda i: vms[i % len(vms)]) if vms else None
    try:
        if kind == "create":
            cloud.create_vm(
                f"vm{len(vms)}",
                image="img",
                instance_offering=op[1],
                data_disk_offerings=["d"] if op[2] else [],
                strategy=op[3],
            )
        elif not vms:
            return
        elif kind == "clone":
            cloud.clone_vm(pick(op[1]), [f"c{i}" for i in range(op[2])], strategy=op[3], full=op[4])
        elif kind == "instant_clone":
            cloud.instant_clone(pick(op[1]), "ic")
        elif kind == "full_clone":
            cloud.full_clone_vm(pick(op[1]), "fc")
        elif kind == "write":
            vm = pick(op[1])
            if vm.root_volume_uuid:
                cloud.write(vm.root_volume_uuid, op[2])
        elif kind == "snapshot":
            vm = pick(op[1])
            if vm.root_volume_uuid:
                cloud.create_volume_snapshot(vm.root_volume_uuid, "s")
        elif kind == "delete_snapshot":
            snaps = cloud.volume_snapshots.values()
            if snaps:
                cloud.delete_volume_snapshot(snaps[op[1] % len(snaps)])
        elif kind == "volume":
            vol = cloud.create_data_volume("dv", size=2 * GiB)
            cloud.attach_volume(vol, pick(op[1]))
        elif kind == "host_status":
            hosts = cloud.hosts.values()
            cloud.set_host_status(hosts[op[1] % len(hosts)], "Connected" if op[2] else "Disconnected")
        elif kind == "blank":
            cloud.create_blank_vm(
                f"b{len(vms)}",
                cpu_num=1,
                memory_size=GiB,
                disk_sizes=[op[1]],
                l3_networks=["n"],
                power_on=op[2],
            )
        elif kind == "add_disk":
            cloud.add_disk(pick(op[1]), op[2])
        elif kind == "nic":
            vm = pick(op[1])
            if op[2] == "add":
                cloud.add_nic(vm, "n")
            elif vm.nic_uuids:
                (
                    cloud.remove_nic(vm, vm.nic_uuids[0])
                    if op[2] == "remove"
                    else cloud.move_nic(vm, vm.nic_uuids[0], "n")
                )
        elif kind == "relocate":
            hosts = cloud.hosts.values()
            cloud.relocate_vm(pick(op[1]), host=hosts[op[2] % len(hosts)], primary_storage=op[3])
        elif kind == "freeze":
            cloud.freeze_vm(pick(op[1]), not pick(op[1]).frozen)
        else:
            getattr(cloud, f"{kind}_vm")(pick(op[1]))
    except DomainError:
        pass


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=30))
def test_random_operation_sequences_keep_every_invariant(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    cloud.check_invariants()
    for op in PRELUDE + ops:
        apply(cloud, op)
        cloud.check_invariants()


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=25), st.integers(0, 2**16))
def test_same_seed_and_operations_give_equal_snapshots(topology, ops, seed):
    a = Cloud(topology, seed=seed, clock=ManualClock())
    b = Cloud(topology, seed=seed, clock=ManualClock())
    for op in PRELUDE + ops:
        apply(a, op)
        apply(b, op)
    assert json.dumps(a.snapshot(), sort_keys=True) == json.dumps(b.snapshot(), sort_keys=True)


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=25))
def test_snapshot_restore_snapshot_is_the_identity(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        apply(cloud, op)
    dump = json.loads(json.dumps(cloud.snapshot()))
    assert Cloud.restore(dump).snapshot() == dump


@SETTINGS
@given(topologies(), st.lists(OPS, min_size=1, max_size=25))
def test_a_failed_operation_changes_nothing_but_a_failed_first_start_deletes_the_vm(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        before = cloud.snapshot()
        seq = cloud._journal_seq
        apply(cloud, op)
        last = cloud.journal[-1] if cloud.journal and cloud._journal_seq > seq else None
        if last is not None and "error" in last and cloud._journal_seq == seq + 1:
            after = cloud.snapshot()
            keys = (
                "vms",
                "volumes",
                "nodes",
                "hosts",
                "primary_storages",
                "backup_storages",
                "images",
                "volume_snapshots",
                "nics",
                "l3_networks",
            )
            expected = {key: Cloud.snapshot_records(before, key) for key in keys}
            if last["operation"] == "vm.start":
                # ZStack deletes a Created VM whose first start fails; nothing else changes
                expected["vms"] = [
                    v
                    for v in expected["vms"]
                    if not (v["uuid"] == last["args"][0] and v["state"] == "Created")
                ]
            for key in keys:
                assert Cloud.snapshot_records(after, key) == expected[key], key
