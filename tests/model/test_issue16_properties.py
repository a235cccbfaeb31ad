"""Property tests for the operations of issue 16: VM changes, snapshot trees, volumes from
templates and snapshots, restores from backups.  Random sequences mixed with the older
operations keep every invariant (ledgers equal what holds them, trees sound), keep the
snapshot tree consistent with the disks, and a failed operation changes nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from model_helpers import GiB, MiB
from test_properties import OPS, PRELUDE, SETTINGS, apply, topologies

from fakestack import Cloud, DomainError, ManualClock
from fakestack.model.kinds import ImageKind

# The operations of issue 16 (each takes a VM index and a number).
NEW_KINDS = (
    "migrate",
    "reimage",
    "snapshot_group",
    "revert",
    "attach_l3",
    "detach_nic",
    "change_offering",
    "update",
    "template",
    "from_snapshot",
    "from_template",
    "resize",
    "vm_backup",
    "volume_backup",
    "restore_vm",
    "revert_vm",
    "revert_volume",
    "delete_volume_backup",
)

NEW_OPS = st.one_of(
    st.tuples(
        st.sampled_from(NEW_KINDS),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    st.tuples(st.just("write"), st.integers(0, 50), st.integers(0, 6 * 1024).map(lambda m: m * MiB)),
    st.tuples(
        st.sampled_from(["snapshot", "delete_snapshot", "stop", "start", "pause", "resume"]),
        st.integers(0, 50),
    ),
)


def apply_new(cloud: Cloud, op) -> None:
    kind = op[0]
    vms = cloud.vms.values()
    if kind not in NEW_KINDS or not vms:
        return apply(cloud, op)
    vm = vms[op[1] % len(vms)]
    snaps = cloud.volume_snapshots.values()
    backups = cloud.backups.values()
    try:
        if kind == "migrate":
            cloud.migrate_vm(vm)
        elif kind == "reimage":
            if vm.state == "Running":
                cloud.stop_vm(vm)
            cloud.reimage_vm(vm)
        elif kind == "snapshot_group":
            cloud.create_volumes_snapshot([v.uuid for v in cloud.vm_volumes(vm)])
        elif kind == "revert" and snaps:
            snap = snaps[op[2] % len(snaps)]
            volume = cloud.volumes.find(snap.volume_uuid)
            if volume is not None and volume.vm_uuid and cloud.vms.get(volume.vm_uuid).state == "Running":
                cloud.stop_vm(volume.vm_uuid)
            cloud.revert_volume_to_snapshot(snap)
        elif kind == "attach_l3":
            if op[2] % 2:
                cloud.create_nic("n")
            else:
                cloud.attach_l3_network(vm, "n")
        elif kind == "detach_nic" and vm.nic_uuids:
            cloud.detach_nic(vm.nic_uuids[op[2] % len(vm.nic_uuids)])
        elif kind == "change_offering":
            cloud.change_vm_offering(vm, "m" if op[2] % 2 else "s")
        elif kind == "template" and vm.root_volume_uuid:
            cloud.create_image_from_volume(vm.root_volume_uuid, "t")
        elif kind == "from_snapshot" and snaps:
            cloud.create_volume_from_snapshot(snaps[op[2] % len(snaps)], "fs")
        elif kind == "from_template":
            templates = [i for i in cloud.images if i.media_type == ImageKind.DATA_TEMPLATE]
            data = [v for v in cloud.volumes if v.type == "Data" and v.node_uuid]
            if not templates and data:
                cloud.create_image_from_volume(data[op[2] % len(data)], "dt")
            elif templates:
                cloud.create_volume_from_image(templates[0], "ft", primary_storage="ps1")
        elif kind == "resize":
            volumes = cloud.vm_volumes(vm)
            if volumes:
                volume = volumes[op[2] % len(volumes)]
                cloud.resize_volume(volume, volume.virtual_size + (op[2] % 3) * GiB)
        elif kind == "vm_backup":
            cloud.create_vm_backup(vm, "bs", "b")
        elif kind == "volume_backup" and vm.data_volume_uuids:
            cloud.create_volume_backup(vm.data_volume_uuids[0], "bs", "vb")
        elif kind in ("restore_vm", "revert_vm") and backups:
            record = backups[op[2] % len(backups)]
            if record.group_uuid is not None and kind == "restore_vm":
                cloud.create_vm_from_backup(record.group_uuid, "r", strategy="stopped")
            elif record.group_uuid is not None:
                owner = cloud.vms.find(record.vm_uuid)
                if owner is not None and owner.state == "Running":
                    cloud.stop_vm(owner)
                cloud.revert_vm_from_backup(record.group_uuid)
        elif kind == "revert_volume" and backups:
            record = backups[op[2] % len(backups)]
            volume = cloud.volumes.find(record.volume_uuid)
            if volume is not None and volume.vm_uuid and cloud.vms.get(volume.vm_uuid).state == "Running":
                cloud.stop_vm(volume.vm_uuid)
            cloud.revert_volume_from_backup(record)
        elif kind == "delete_volume_backup" and backups:
            cloud.delete_volume_backup(backups[op[2] % len(backups)].uuid)
        elif kind == "update":
            cloud.update_vm(
                vm, memory_size=(1 + op[2] % 4) * GiB, state="Stopped" if op[2] % 3 == 0 else None
            )
    except DomainError:
        pass


def check_snapshot_trees(cloud: Cloud) -> None:
    """Each snapshot's parent is a snapshot of the same volume one step nearer the root, whose
    disk is an ancestor of the snapshot's disk; a volume's latest snapshot holds an ancestor
    of its current disk."""
    for snap in cloud.volume_snapshots:
        if snap.parent_uuid is None:
            assert snap.distance == 1
            continue
        parent = cloud.volume_snapshots.get(snap.parent_uuid)
        assert parent.volume_uuid == snap.volume_uuid
        assert snap.distance == parent.distance + 1
        assert parent.node_uuid in {n.uuid for n in cloud.chain(cloud.nodes.get(snap.node_uuid))[1:]}
    for volume in cloud.volumes:
        if volume.latest_snapshot_uuid is not None and volume.node_uuid is not None:
            latest = cloud.volume_snapshots.get(volume.latest_snapshot_uuid)
            assert latest.node_uuid in {n.uuid for n in cloud.chain(cloud.nodes.get(volume.node_uuid))}


@SETTINGS
@given(topologies(), st.lists(st.one_of(OPS, NEW_OPS, NEW_OPS), max_size=30))
def test_vm_changes_and_snapshot_trees_keep_every_invariant(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        apply_new(cloud, op)
        cloud.check_invariants()
        check_snapshot_trees(cloud)


@SETTINGS
@given(topologies(), st.lists(st.one_of(OPS, NEW_OPS, NEW_OPS), min_size=1, max_size=25))
def test_a_failed_new_operation_changes_nothing(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        before = cloud.snapshot()
        seq = cloud._journal_seq
        apply_new(cloud, op)
        last = cloud.journal[-1] if cloud.journal and cloud._journal_seq > seq else None
        if (
            last is not None
            and "error" in last
            and cloud._journal_seq == seq + 1
            and last["operation"] != "vm.start"
        ):
            after = cloud.snapshot()
            for key in (
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
            ):
                assert after[key] == before[key], key


RESTORE_OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "vm_backup",
                "volume_backup",
                "restore_vm",
                "revert_vm",
                "revert_volume",
                "delete_volume_backup",
                "write",
                "snapshot",
                "revert",
                "delete_snapshot",
                "start",
                "template",
                "resize",
            ]
        ),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    max_size=25,
)


@SETTINGS
@given(RESTORE_OPS)
def test_backup_restore_and_snapshot_sequences_keep_ledgers_equal_to_their_holders(ops):
    """On one small cloud with a VM and a data volume, backups, restores, reverts and
    snapshots in any order keep every ledger equal to what holds it."""
    topology = {
        "zones": [{"name": "z"}],
        "clusters": [{"name": "c", "zone": "z"}],
        "hosts": [{"name": "h", "cluster": "c", "cpu_num": 8, "memory": "32G"}],
        "primary_storages": [{"name": "ps1", "type": "NFS", "clusters": ["c"], "total_capacity": "60G"}],
        "backup_storages": [{"name": "bs", "zones": ["z"], "total_capacity": "30G"}],
        "images": [{"name": "img", "backup_storages": ["bs"], "virtual_size": "8G", "actual_size": "1G"}],
        "instance_offerings": [
            {"name": "s", "cpu_num": 1, "memory_size": "1G"},
            {"name": "m", "cpu_num": 2, "memory_size": "3G"},
        ],
        "disk_offerings": [{"name": "d", "disk_size": "4G"}],
        "l3_networks": [{"name": "n", "zone": "z", "cidr": "10.0.0.0/27"}],
        "vms": [{"name": "vm", "instance_offering": "s", "image": "img", "data_disks": ["d"]}],
    }
    cloud = Cloud(topology, clock=ManualClock())
    for kind, a, b in ops:
        op = (kind, a, (b + 1) * 256 * MiB) if kind == "write" else (kind, a, b)
        apply_new(cloud, op)
        cloud.check_invariants()
        check_snapshot_trees(cloud)
