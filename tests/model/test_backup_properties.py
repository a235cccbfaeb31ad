"""Property tests for backups: random backup / write / delete / sync / image / drift
sequences keep every invariant; each backup storage's used space is the sum of the distinct
data it holds; every group is complete or absent; sync is idempotent; a failed operation
changes nothing; snapshot -> restore is the identity."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import GiB, MiB

from fakestack.model import Cloud, DomainError, ManualClock, SyncCounts

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def topologies(draw):
    return {
        "zones": [{"name": "z"}],
        "clusters": [{"name": "c", "zone": "z"}],
        "hosts": [{"name": "h", "cluster": "c", "cpu_num": 16, "memory": "64G"}],
        "primary_storages": [{"name": "ps", "type": "NFS", "clusters": ["c"], "total_capacity": "400G"}],
        "backup_storages": [
            {"name": "bs0", "zones": ["z"], "total_capacity": draw(st.integers(3, 12)) * GiB},
            {"name": "bs1", "zones": ["z"], "total_capacity": draw(st.integers(2, 6)) * GiB},
        ],
        "images": [
            {
                "name": "img",
                "backup_storages": ["bs0"],
                "virtual_size": "4G",
                "actual_size": draw(st.integers(1, 1500)) * MiB,
            }
        ],
        "instance_offerings": [{"name": "o", "cpu_num": 1, "memory_size": "1G"}],
        "disk_offerings": [{"name": "d", "disk_size": "3G"}],
        "l3_networks": [{"name": "n", "zone": "z", "cidr": "10.0.0.0/24"}],
        "vms": [
            {"name": "a", "image": "img", "instance_offering": "o", "data_disks": ["d"]},
            {"name": "b", "image": "img", "instance_offering": "o"},
        ],
    }


IDX = st.integers(0, 20)
BS = st.sampled_from(["bs0", "bs1"])
BACKUP = st.tuples(st.just("backup"), IDX, BS, st.booleans())
WRITE = st.tuples(st.just("write"), IDX, st.integers(0, 3 * 1024).map(lambda m: m * MiB))
OPS = st.one_of(
    BACKUP,
    BACKUP,
    BACKUP,
    WRITE,
    WRITE,
    st.tuples(
        st.just("delete"),
        IDX,
        st.sampled_from(["Permissive", "Enforcing"]),
        st.booleans(),
        st.sampled_from([None, "bs0", "bs1"]),
    ),
    st.tuples(st.just("sync"), BS),
    st.tuples(st.just("image"), IDX, BS),
    st.tuples(st.just("boot"), IDX),
    st.tuples(st.just("drop_image"), IDX),
    st.tuples(st.just("forget"), IDX),
    st.tuples(st.just("lose"), IDX, BS),
    st.tuples(st.just("status"), BS, st.booleans()),
    st.tuples(st.sampled_from(["stop", "start", "pause", "resume"]), IDX),
)


# Every sequence starts with a chain, an image of its latest backup and a second storage's backup.
PRELUDE = [
    ("backup", 0, "bs0", False),
    ("write", 0, 200 * MiB),
    ("backup", 0, "bs0", False),
    ("image", 2, "bs0"),
    ("backup", 1, "bs1", False),
]


def _pick(items, i):
    items = list(items)
    return items[i % len(items)] if items else None


def _group_keys(cloud):
    """Groups in the database, then groups only a storage knows (orphans), stable order."""
    keys = [g.uuid for g in cloud.backup_groups]
    for bs in cloud.backup_storages:
        for entry in cloud._catalog_entries(bs.uuid):
            if entry["backup"]["group_uuid"] not in keys:
                keys.append(entry["backup"]["group_uuid"])
    return keys


def apply(cloud: Cloud, op) -> None:
    kind = op[0]
    try:
        if kind == "backup":
            cloud.create_vm_backup(_pick(cloud.vms, op[1]), op[2], "bk", mode="full" if op[3] else None)
        elif kind == "write":
            cloud.write(_pick(cloud.volumes, op[1]), op[2])
        elif kind == "delete":
            group = _pick(_group_keys(cloud), op[1])
            if group is not None:
                cloud.delete_backup_group(
                    group,
                    mode=op[2],
                    handle_dependency=op[3],
                    backup_storages=None if op[4] is None else [op[4]],
                )
        elif kind == "sync":
            first = cloud.sync_backup_storage(op[1])
            assert isinstance(first, SyncCounts)
            before = cloud.snapshot()
            assert cloud.sync_backup_storage(op[1]) == SyncCounts(0, 0)
            assert cloud.snapshot() == before
        elif kind == "image":
            backup = _pick(cloud.backups, op[1])
            if backup is not None:
                cloud.create_image_from_backup(backup, op[2], "from-backup")
        elif kind == "boot":
            image = _pick([i for i in cloud.images if i.source_backup_uuid], op[1])
            if image is not None:
                cloud.create_vm("restored", image=image, instance_offering="o")
        elif kind == "drop_image":
            image = _pick([i for i in cloud.images if i.source_backup_uuid], op[1])
            if image is not None:
                cloud.delete_image(image)
                cloud.expunge_image(image)
        elif kind == "forget":
            group = _pick(cloud.backup_groups, op[1])
            if group is not None:
                cloud.forget_backup_group(group)
        elif kind == "lose":
            group = _pick(_group_keys(cloud), op[1])
            if group is not None:
                cloud.lose_backup_group_data(group, op[2])
        elif kind == "status":
            cloud.set_storage_status(op[1], "Connected" if op[2] else "Disconnected")
        else:
            getattr(cloud, f"{kind}_vm")(_pick(cloud.vms, op[1]))
    except DomainError:
        pass


def distinct_data_held(cloud, bs) -> int:
    """Bytes of every node a holder on ``bs`` needs (its chain included), each counted once."""
    needed: dict[str, int] = {}
    holders = [e["node_uuid"] for e in cloud.backup_catalogs.get(bs.uuid, {}).values()]
    holders += [
        r["node_uuid"]
        for im in cloud.images
        for r in im.backup_storage_refs
        if r["backup_storage_uuid"] == bs.uuid
    ]
    for uuid in holders:
        for node in cloud.chain(cloud.nodes.get(uuid)):
            needed[node.uuid] = node.physical_charge
    return sum(needed.values())


def check_backup_properties(cloud) -> None:
    cloud.check_invariants()
    for bs in cloud.backup_storages:
        assert bs.used == distinct_data_held(cloud, bs), bs.name
    for group in cloud.backup_groups:
        present = [cloud.backups.find(u) for u in group.backup_uuids]
        ready = [b for b in present if b is not None and b.status == "Ready"]
        assert len(ready) in (0, len(group.backup_uuids)), group.uuid
        assert any(b is not None for b in present)
    for backup in cloud.backups:
        assert backup.group_uuid in cloud.backup_groups


def state_without_ids(cloud) -> dict:
    """The snapshot minus the id generator and the allocator's RNG (draws are not given
    back), collections keyed by uuid (order-free)."""
    snap = cloud.snapshot()
    snap.pop("ids")
    snap.pop("rng")
    for key, _ in Cloud.COLLECTIONS:
        snap[key] = {item["uuid"]: item for item in Cloud.snapshot_records(snap, key)}
    return snap


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=30))
def test_random_backup_sequences_keep_every_invariant(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    check_backup_properties(cloud)
    for op in PRELUDE + ops:
        apply(cloud, op)
        check_backup_properties(cloud)
        cloud.tick(1)


@SETTINGS
@given(topologies(), st.lists(OPS, min_size=1, max_size=25))
def test_a_failed_backup_operation_changes_nothing(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        before = state_without_ids(cloud)
        seq = cloud._journal_seq
        apply(cloud, op)
        if cloud._journal_seq == seq + 1 and "error" in cloud.journal[-1]:
            assert state_without_ids(cloud) == before, op


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=25))
def test_backup_snapshot_restore_is_the_identity(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        apply(cloud, op)
    dump = json.loads(json.dumps(cloud.snapshot()))
    restored = Cloud.restore(dump)
    assert restored.snapshot() == dump
    check_backup_properties(restored)
    # the restored cloud behaves like the original
    for op in ops[:5]:
        apply(cloud, op)
        apply(restored, op)
    assert restored.snapshot() == cloud.snapshot()


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=25), st.integers(0, 2**16))
def test_same_seed_and_backup_operations_give_equal_snapshots(topology, ops, seed):
    a = Cloud(topology, seed=seed, clock=ManualClock())
    b = Cloud(topology, seed=seed, clock=ManualClock())
    for op in PRELUDE + ops:
        apply(a, op)
        apply(b, op)
    assert json.dumps(a.snapshot(), sort_keys=True) == json.dumps(b.snapshot(), sort_keys=True)
