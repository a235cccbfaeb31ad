"""VM backups: full and incremental sizes, all-or-nothing groups, delete modes, hidden
retention, sync and drift, images from backups."""

import pytest
from model_helpers import GiB, MiB, small_topology

from fakestack import faults
from fakestack.dialects.zstack.render import (
    backup_install_path,
    backup_name,
    image_install_path,
    image_url,
)
from fakestack.model import (
    CapacityExhausted,
    Cloud,
    Conflict,
    InjectedFailure,
    InvalidArgument,
    InvalidState,
    ManualClock,
    NotFound,
    SyncCounts,
    Unreachable,
)
from fakestack.model.kinds import BackupStorageKind, ImageKind

LEAF = MiB
T0 = 1729143815.123  # 2024-10-17 05:43:35.123 UTC
BS_TOTAL = 100 * GiB
BS_BASE = GiB  # the image "img" (1 GiB actual) on the image store


def make_cloud(**overrides) -> Cloud:
    cloud = Cloud(small_topology(**overrides), clock=ManualClock(T0))
    cloud.create_vm("vm1", image="img", instance_offering="o1", data_disk_offerings=["d10"])
    return cloud


@pytest.fixture
def cloud():
    return make_cloud()


def vols(cloud, vm="vm1"):
    return cloud.vm_volumes(vm)


def node_of(cloud, backup):
    return cloud.nodes.get(backup.backup_storage_refs[0]["node_uuid"])


def bs_used(cloud):
    return cloud.backup_storages.get("bs").used


# -- create: sizes ---------------------------------------------------------------------
def test_first_backup_is_full_at_the_volumes_allocated_size(cloud):
    root, data = vols(cloud)
    root_b, data_b = cloud.create_vm_backup("vm1", "bs", "nightly")
    # root: the image cache (1 GiB) + its 1 MiB leaf; data: a 1 MiB leaf
    assert (root_b.size, root_b.mode, root_b.type, root_b.volume_uuid) == (
        GiB + LEAF,
        "full",
        "Root",
        root.uuid,
    )
    assert (data_b.size, data_b.mode, data_b.type, data_b.volume_uuid) == (LEAF, "full", "Data", data.uuid)
    assert bs_used(cloud) == BS_BASE + GiB + 2 * LEAF
    assert node_of(cloud, root_b).parent_uuid is None and node_of(cloud, root_b).role == "backup"
    cloud.check_invariants()


def test_later_backups_are_incremental_by_bytes_written(cloud):
    root, data = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 300 * MiB)
    cloud.write(data, 50 * MiB)
    cloud.write(data, 25 * MiB)
    second = cloud.create_vm_backup("vm1", "bs", "b2")
    assert [(b.size, b.mode) for b in second] == [(300 * MiB, "incremental"), (75 * MiB, "incremental")]
    assert [node_of(cloud, b).parent_uuid for b in second] == [node_of(cloud, b).uuid for b in first]
    third = cloud.create_vm_backup("vm1", "bs", "b3")
    assert [(b.size, b.mode) for b in third] == [(0, "incremental"), (0, "incremental")]
    assert node_of(cloud, third[0]).depth == 3
    assert bs_used(cloud) == BS_BASE + GiB + 2 * LEAF + 375 * MiB
    cloud.check_invariants()


def test_incremental_is_capped_at_the_virtual_size(cloud):
    root, _ = vols(cloud)
    cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 6 * GiB)
    cloud.write(root, 6 * GiB)  # 12 GiB written to a 10 GiB disk
    assert cloud.create_vm_backup("vm1", "bs", "b2")[0].size == 10 * GiB


def test_mode_full_forces_a_full_backup(cloud):
    root, _ = vols(cloud)
    cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 300 * MiB)
    root_b, data_b = cloud.create_vm_backup("vm1", "bs", "b2", mode="full")
    assert (root_b.size, root_b.mode) == (GiB + LEAF + 300 * MiB, "full")
    assert node_of(cloud, root_b).parent_uuid is None
    assert (data_b.size, data_b.mode) == (LEAF, "full")


def test_chain_reaching_64_incrementals_starts_a_new_full_backup():
    cloud = Cloud(small_topology(), clock=ManualClock(T0))
    cloud.create_vm("solo", image="img", instance_offering="o1")
    modes = [cloud.create_vm_backup("solo", "bs", f"b{i}")[0].mode for i in range(66)]
    assert modes == ["full"] + ["incremental"] * 64 + ["full"]


# -- create: records -------------------------------------------------------------------
def test_backup_records_carry_what_the_inventory_needs(cloud):
    root, data = vols(cloud)
    vm = cloud.vms.get("vm1")
    root_b, data_b = cloud.create_vm_backup(
        "vm1", "bs", "nightly", description="critical", resource_uuid="2f7c0a5bb86430e8a5ac48312172d70d"
    )
    bs = cloud.backup_storages.get("bs")
    assert root_b.group_uuid == data_b.group_uuid == "2f7c0a5bb86430e8a5ac48312172d70d"
    # the model keeps the name asked for; ZStack shows it with the volume and creation time
    assert root_b.name == data_b.name == "nightly"
    assert backup_name(root_b) == "nightly-2024-10-17 05:43:35.123"
    assert backup_name(data_b) == f"nightly-{data.uuid}-2024-10-17 05:43:35.123"
    assert (root_b.description, root_b.state, root_b.status, root_b.vm_uuid) == (
        "critical",
        "Enabled",
        "Ready",
        vm.uuid,
    )
    assert root_b.create_date == root_b.last_op_date == T0
    node = node_of(cloud, root_b)
    assert root_b.backup_storage_refs == [
        {
            "backup_storage_uuid": bs.uuid,
            "node_uuid": node.uuid,
            "status": "Ready",
            "create_date": T0,
            "last_op_date": T0,
        }
    ]
    assert backup_install_path(root_b, root_b.backup_storage_refs[0]) == (
        f"zstore://volumebackup-{root.uuid}/{node.uuid}"
    )
    meta = root_b.metadata
    assert (meta["volume_name"], meta["vm_name"], meta["cpu_num"], meta["memory_size"]) == (
        "ROOT-for-vm1",
        "vm1",
        2,
        4 * GiB,
    )
    assert (
        meta["data_volume_uuids"] == [data.uuid] and meta["root_image_uuid"] == cloud.images.get("img").uuid
    )
    group = cloud.backup_groups.get("2f7c0a5bb86430e8a5ac48312172d70d")
    assert (group.name, group.vm_uuid, group.backup_uuids, group.backup_storage_uuid) == (
        "nightly",
        vm.uuid,
        [root_b.uuid, data_b.uuid],
        bs.uuid,
    )
    assert cloud.group_backups(group) == [root_b, data_b]


def test_whole_second_timestamp_renders_dot_zero():
    cloud = Cloud(small_topology(), clock=ManualClock(1729143815.0))
    cloud.create_vm("solo", image="img", instance_offering="o1")
    assert backup_name(cloud.create_vm_backup("solo", "bs", "b")[0]) == "b-2024-10-17 05:43:35.0"


def test_group_uuid_is_random_when_not_given_and_taken_uuids_conflict(cloud):
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    assert first[0].group_uuid not in (first[0].uuid, first[1].uuid)
    with pytest.raises(Conflict):
        cloud.create_vm_backup("vm1", "bs", "b2", resource_uuid=first[0].group_uuid)


def test_paused_vm_can_be_backed_up(cloud):
    cloud.pause_vm("vm1")
    assert len(cloud.create_vm_backup("vm1", "bs", "b")) == 2


def test_stopped_vm_is_refused_with_the_reference_message(cloud):
    vm = cloud.stop_vm("vm1")
    with pytest.raises(InvalidState) as err:
        cloud.create_vm_backup("vm1", "bs", "b")
    # neutral facts (the zstack dialect words them "Failed to create backups for VM[uuid:...]...")
    assert err.value.facts == {"reason_code": "vm_backup_state", "vm_uuid": vm.uuid}
    assert (err.value.resource_kind, err.value.state, err.value.allowed) == (
        "vm",
        "Stopped",
        ["Running", "Paused"],
    )


def test_disabled_backup_storage_is_refused(cloud):
    cloud.set_storage_state("bs", "Disabled")
    with pytest.raises(InvalidState) as err:
        cloud.create_vm_backup("vm1", "bs", "b")
    assert err.value.facts == {"reason_code": "backup_storage_state", "backup_storage_state": "Disabled"}
    assert err.value.resource_kind == "backup_storage"


def test_non_image_store_is_refused():
    topo = small_topology()
    topo["backup_storages"].append(
        {"name": "sftp", "type": "SftpBackupStorage", "zones": ["z"], "total_capacity": "10G"}
    )
    cloud = Cloud(topo, clock=ManualClock(T0))
    cloud.create_vm("vm1", image="img", instance_offering="o1")
    sftp = cloud.backup_storages.get("sftp")
    assert sftp.type == BackupStorageKind.FILE_SERVER  # the old spelling still loads
    with pytest.raises(InvalidArgument) as err:
        cloud.create_vm_backup("vm1", sftp, "b")
    # neutral facts (the zstack dialect words them "Unexpected backup storage[type:...]")
    assert (err.value.field, err.value.facts) == (
        "backup_storage",
        {
            "reason_code": "backup_storage_kind",
            "backup_storage_kind": BackupStorageKind.FILE_SERVER,
            "backup_storage_uuid": sftp.uuid,
        },
    )
    assert err.value.message == (
        f"backup storage {sftp.uuid} is of kind file_server, which keeps no volume backups"
    )


def test_disconnected_backup_storage_is_unreachable(cloud):
    cloud.set_storage_status("bs", "Disconnected")
    with pytest.raises(Unreachable) as err:
        cloud.create_vm_backup("vm1", "bs", "b")
    assert (err.value.resource_kind, err.value.uuid) == (
        "backup_storage",
        cloud.backup_storages.get("bs").uuid,
    )


def test_vm_named_by_its_root_volume(cloud):
    root, data = vols(cloud)
    backups = cloud.create_vm_backup(None, "bs", "b", root_volume=root.uuid)
    assert [b.volume_uuid for b in backups] == [root.uuid, data.uuid]
    with pytest.raises(InvalidArgument) as err:
        cloud.create_vm_backup(None, "bs", "b", root_volume=data.uuid)
    assert (err.value.field, err.value.facts) == (
        "root_volume",
        {"reason_code": "not_root_volume", "volume_uuid": data.uuid},
    )


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "b", "mode": "incremental"}, "mode"),
        ({"name": "b", "description": "d" * 2049}, "description"),
    ],
)
def test_bad_arguments(cloud, kwargs, field):
    with pytest.raises(InvalidArgument) as err:
        cloud.create_vm_backup("vm1", "bs", **kwargs)
    assert err.value.field == field


# -- create: all or nothing ------------------------------------------------------------
def test_group_is_all_or_nothing_when_the_storage_holds_the_root_backup_but_not_the_data_backup():
    # room after the reserve (1 GiB) and the image (1 GiB): 2 GiB + 1 MiB
    cloud = make_cloud(backup_storages=[{"name": "bs", "zones": ["z"], "total_capacity": 4 * GiB + LEAF}])
    root, data = vols(cloud)
    cloud.write(data, 2 * GiB)  # the data backup needs 2 GiB + 1 MiB, the root 1 GiB + 1 MiB
    before = cloud.snapshot()
    with pytest.raises(CapacityExhausted) as err:
        cloud.create_vm_backup("vm1", "bs", "b")
    exc = err.value
    assert (exc.resource, exc.needed, exc.available, exc.resource_uuid, exc.injected) == (
        "backup_storage",
        3 * GiB + 2 * LEAF,
        2 * GiB + LEAF,
        cloud.backup_storages.get("bs").uuid,
        False,
    )
    assert len(cloud.backups) == 0 and len(cloud.backup_groups) == 0
    assert bs_used(cloud) == BS_BASE
    assert cloud.snapshot() == before
    cloud.check_invariants()
    # the root alone would have fitted: a single-volume VM backs up fine
    cloud.detach_volume(data)
    assert [b.size for b in cloud.create_vm_backup("vm1", "bs", "b")] == [GiB + LEAF]


def test_a_failing_member_leaves_nothing(cloud):
    _, data = vols(cloud)
    with faults.inject(cloud, faults.fail("backup.create.volume", "data disk gone", on=data.uuid)):
        with pytest.raises(InjectedFailure):
            cloud.create_vm_backup("vm1", "bs", "b")
    assert len(cloud.backups) == 0 and len(cloud.backup_groups) == 0
    assert bs_used(cloud) == BS_BASE
    assert [n.role for n in cloud.nodes].count("backup") == 0
    assert cloud.backup_catalogs.get(cloud.backup_storages.get("bs").uuid, {}) == {}
    cloud.check_invariants()


def test_injected_exhaustion_on_the_data_member_looks_like_a_real_shortage(cloud):
    _, data = vols(cloud)
    with faults.inject(cloud, faults.exhaust("backup.create.volume", "backup_storage", on=data.uuid)):
        with pytest.raises(CapacityExhausted) as err:
            cloud.create_vm_backup("vm1", "bs", "b")
    assert (err.value.resource, err.value.needed, err.value.injected) == ("backup_storage", LEAF, True)
    assert len(cloud.backups) == 0 and bs_used(cloud) == BS_BASE
    cloud.check_invariants()


# -- delete ----------------------------------------------------------------------------
def test_delete_frees_the_data_and_the_records(cloud):
    group = cloud.create_vm_backup("vm1", "bs", "b")[0].group_uuid
    assert cloud.delete_backup_group(group) is None
    assert len(cloud.backups) == 0 and len(cloud.backup_groups) == 0
    assert bs_used(cloud) == BS_BASE
    cloud.check_invariants()


def test_deleting_an_unknown_group_succeeds_and_changes_nothing(cloud):
    cloud.create_vm_backup("vm1", "bs", "b")
    before = cloud.snapshot()
    cloud.delete_backup_group("0" * 32)
    cloud.delete_backup_group("0" * 32, mode="Enforcing", handle_dependency=True)
    assert cloud.snapshot() == before


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"mode": "Lenient"}, "delete_mode"),
        ({"backup_storages": []}, "backup_storages"),
    ],
)
def test_delete_arguments(cloud, kwargs, field):
    group = cloud.create_vm_backup("vm1", "bs", "b")[0].group_uuid
    with pytest.raises(InvalidArgument) as err:
        cloud.delete_backup_group(group, **kwargs)
    assert err.value.field == field


def test_delete_from_an_unknown_backup_storage_is_not_found(cloud):
    group = cloud.create_vm_backup("vm1", "bs", "b")[0].group_uuid
    with pytest.raises(NotFound):
        cloud.delete_backup_group(group, backup_storages=["nowhere"])


def test_permissive_delete_on_a_disconnected_storage_drops_the_records_and_leaves_orphans(cloud):
    backups = cloud.create_vm_backup("vm1", "bs", "b")
    group = backups[0].group_uuid
    used = bs_used(cloud)
    cloud.set_storage_status("bs", "Disconnected")
    cloud.delete_backup_group(group)  # Permissive is the default
    assert len(cloud.backups) == 0 and len(cloud.backup_groups) == 0
    assert bs_used(cloud) == used  # the data stays on the storage
    assert [e["backup"]["uuid"] for e in cloud.orphan_backups("bs")] == [b.uuid for b in backups]
    cloud.check_invariants()
    cloud.set_storage_status("bs", "Connected")
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=2, deleted=0)
    assert [b.uuid for b in cloud.group_backups(group)] == [b.uuid for b in backups]
    assert all(b.status == "Ready" for b in cloud.group_backups(group))
    assert cloud.orphan_backups("bs") == []
    cloud.check_invariants()


def test_enforcing_delete_on_a_disconnected_storage_fails_and_changes_nothing(cloud):
    group = cloud.create_vm_backup("vm1", "bs", "b")[0].group_uuid
    cloud.set_storage_status("bs", "Disconnected")
    before = cloud.snapshot()
    with pytest.raises(Unreachable) as err:
        cloud.delete_backup_group(group, mode="Enforcing")
    assert (err.value.resource_kind, err.value.uuid) == (
        "backup_storage",
        cloud.backup_storages.get("bs").uuid,
    )
    assert cloud.snapshot() == before
    cloud.set_storage_status("bs", "Connected")
    cloud.delete_backup_group(group, mode="Enforcing")
    assert len(cloud.backups) == 0 and bs_used(cloud) == BS_BASE
    cloud.check_invariants()


def test_delete_only_from_the_given_storage():
    topo = small_topology()
    topo["backup_storages"].append({"name": "bs2", "zones": ["z"], "total_capacity": "50G"})
    cloud = Cloud(topo, clock=ManualClock(T0))
    cloud.create_vm("vm1", image="img", instance_offering="o1")
    on_bs = cloud.create_vm_backup("vm1", "bs", "a")[0]
    on_bs2 = cloud.create_vm_backup("vm1", "bs2", "b")[0]
    assert on_bs2.mode == "full"  # chains are per storage
    cloud.delete_backup_group(on_bs.group_uuid, backup_storages=["bs2"])
    assert on_bs.uuid in cloud.backups  # it has no ref on bs2
    cloud.delete_backup_group(on_bs2.group_uuid, backup_storages=["bs2"])
    assert on_bs2.uuid not in cloud.backups and cloud.backup_storages.get("bs2").used == 0
    cloud.check_invariants()


def test_depended_upon_data_stays_hidden_until_its_dependants_are_gone(cloud):
    root, data = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 300 * MiB)
    second = cloud.create_vm_backup("vm1", "bs", "b2")
    used = bs_used(cloud)
    assert used == BS_BASE + GiB + 2 * LEAF + 300 * MiB
    hidden = [node_of(cloud, b) for b in first]
    cloud.delete_backup_group(first[0].group_uuid)
    assert first[0].uuid not in cloud.backups and first[0].group_uuid not in cloud.backup_groups
    assert bs_used(cloud) == used  # kept for the incrementals
    assert [(n.hidden, n.children) for n in hidden] == [(True, 1), (True, 1)]
    cloud.check_invariants()
    cloud.delete_backup_group(second[0].group_uuid)
    assert bs_used(cloud) == BS_BASE
    assert all(n.uuid not in cloud.nodes for n in hidden)
    cloud.check_invariants()


def test_handle_dependency_keeps_a_depended_upon_backup_marked_deleted(cloud):
    root, _ = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 300 * MiB)
    second = cloud.create_vm_backup("vm1", "bs", "b2")
    used = bs_used(cloud)
    cloud.delete_backup_group(first[0].group_uuid, handle_dependency=True)
    kept = cloud.group_backups(first[0].group_uuid)
    assert [(b.status, b.backup_storage_refs[0]["status"]) for b in kept] == [("Deleted", "Deleted")] * 2
    assert bs_used(cloud) == used
    cloud.check_invariants()
    # the next backup does not build on a Deleted one
    third = cloud.create_vm_backup("vm1", "bs", "b3")
    assert node_of(cloud, third[0]).parent_uuid == node_of(cloud, second[0]).uuid
    # deleting the head of the chain is allowed; the rest goes with the last dependant
    cloud.delete_backup_group(third[0].group_uuid, handle_dependency=True)
    cloud.delete_backup_group(second[0].group_uuid, handle_dependency=True)
    assert len(cloud.backups) == 0 and len(cloud.backup_groups) == 0
    assert bs_used(cloud) == BS_BASE
    cloud.check_invariants()


def test_after_deleting_the_latest_backup_the_next_builds_on_the_previous_one(cloud):
    root, _ = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 100 * MiB)
    second = cloud.create_vm_backup("vm1", "bs", "b2")
    cloud.delete_backup_group(second[0].group_uuid)
    cloud.write(root, 10 * MiB)
    third = cloud.create_vm_backup("vm1", "bs", "b3")
    assert (third[0].size, third[0].mode) == (110 * MiB, "incremental")
    assert node_of(cloud, third[0]).parent_uuid == node_of(cloud, first[0]).uuid


def test_first_backup_after_all_are_deleted_is_full_again(cloud):
    group = cloud.create_vm_backup("vm1", "bs", "b1")[0].group_uuid
    cloud.delete_backup_group(group)
    assert [b.mode for b in cloud.create_vm_backup("vm1", "bs", "b2")] == ["full", "full"]


# -- sync and drift --------------------------------------------------------------------
def test_sync_registers_dropped_records_again_and_is_idempotent(cloud):
    backups = cloud.create_vm_backup("vm1", "bs", "b1")
    group = cloud.backup_groups.get(backups[0].group_uuid).to_dict()
    records = [b.to_dict() for b in backups]
    assert cloud.forget_backup_group(backups[0].group_uuid) == 2
    assert len(cloud.backups) == 0 and len(cloud.backup_groups) == 0
    cloud.check_invariants()
    cloud.tick(60)
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=2, deleted=0)
    assert cloud.backup_groups.get(group["uuid"]).to_dict() == group
    back = [cloud.backups.get(r["uuid"]).to_dict() for r in records]
    for old, new in zip(records, back):
        assert new["last_op_date"] == T0 + 60
        assert [r["node_uuid"] for r in new["backup_storage_refs"]] == [
            r["node_uuid"] for r in old["backup_storage_refs"]
        ]
        strip = ("last_op_date", "backup_storage_refs")
        assert {k: v for k, v in new.items() if k not in strip} == {
            k: v for k, v in old.items() if k not in strip
        }
    snap = cloud.snapshot()
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=0, deleted=0)
    assert cloud.snapshot() == snap
    cloud.check_invariants()
    # the chain goes on from the re-registered backups
    assert cloud.create_vm_backup("vm1", "bs", "b2")[0].mode == "incremental"


def test_sync_drops_records_whose_data_the_storage_lost(cloud):
    backups = cloud.create_vm_backup("vm1", "bs", "b1")
    group = backups[0].group_uuid
    assert cloud.lose_backup_group_data(group, "bs") == 2
    assert bs_used(cloud) == BS_BASE
    assert [b.status for b in cloud.group_backups(group)] == [
        "Ready",
        "Ready",
    ]  # the database does not know yet
    cloud.check_invariants()
    with pytest.raises(InvalidState):
        cloud.create_image_from_backup(backups[0], "bs", "img-from-lost")
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=0, deleted=2)
    assert len(cloud.backups) == 0 and group not in cloud.backup_groups
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=0, deleted=0)
    cloud.check_invariants()
    assert [b.mode for b in cloud.create_vm_backup("vm1", "bs", "b2")] == ["full", "full"]


def test_sync_of_a_disconnected_storage_is_an_io_error(cloud):
    bs = cloud.set_storage_status("bs", "Disconnected")
    with pytest.raises(Unreachable) as err:
        cloud.sync_backup_storage("bs")
    assert err.value.facts == {
        "reason_code": "backup_sync_unreachable",
        "backup_storage_uuid": bs.uuid,
        "backup_storage_status": "Disconnected",
    }


def test_retired_data_is_not_registered_again(cloud):
    root, _ = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, MiB)
    cloud.create_vm_backup("vm1", "bs", "b2")
    cloud.delete_backup_group(first[0].group_uuid, handle_dependency=True)
    cloud.forget_backup_group(first[0].group_uuid)
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=0, deleted=0)
    assert first[0].group_uuid not in cloud.backup_groups
    cloud.check_invariants()


# -- images from backups ---------------------------------------------------------------
def test_image_from_a_backup_shares_its_data_and_boots_a_vm(cloud):
    root, _ = vols(cloud)
    cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 300 * MiB)
    root_b = cloud.create_vm_backup("vm1", "bs", "b2")[0]
    used = bs_used(cloud)
    bs = cloud.backup_storages.get("bs")
    node = node_of(cloud, root_b)
    image = cloud.create_image_from_backup(root_b, "bs", "My Template", description="from b2")
    assert bs_used(cloud) == used  # no extra space
    assert (image.media_type, image.format, image.status, image.source_backup_uuid) == (
        ImageKind.ROOT_TEMPLATE,
        "qcow2",
        "Ready",
        root_b.uuid,
    )
    assert (image.virtual_size, image.actual_size) == (10 * GiB, GiB + LEAF + 300 * MiB)
    # defaults come from the backed-up VM (made from "img")
    assert (image.platform, image.architecture, image.guest_os_type) == ("Linux", "x86_64", "Linux")
    assert image.backup_storage_refs == [
        {"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid, "status": "Ready"}
    ]
    assert image_install_path(image, image.backup_storage_refs[0]) == f"zstore://my-template/{node.uuid}"
    assert image_url(cloud, image) == f"zstore://{bs.hostname}/my-template/{node.uuid}"
    assert node.refs == 2
    cloud.check_invariants()
    # deleting every backup keeps the image's data
    for group in list(cloud.backup_groups):
        cloud.delete_backup_group(group)
    assert len(cloud.backups) == 0
    assert bs_used(cloud) == BS_BASE + GiB + LEAF + 300 * MiB  # the image's chain
    cloud.check_invariants()
    vm = cloud.create_vm("restored", image=image, instance_offering="o1")
    assert vm.state == "Running"
    restored_root = cloud.volumes.get(vm.root_volume_uuid)
    assert cloud.volume_allocated_size(restored_root) == GiB + LEAF + 300 * MiB + LEAF
    cloud.check_invariants()


def test_expunging_the_last_image_of_a_deleted_backup_frees_its_chain(cloud):
    root, _ = vols(cloud)
    cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, 300 * MiB)
    root_b = cloud.create_vm_backup("vm1", "bs", "b2")[0]
    image = cloud.create_image_from_backup(root_b, "bs", "tpl")
    for group in list(cloud.backup_groups):
        cloud.delete_backup_group(group)
    assert bs_used(cloud) == BS_BASE + GiB + LEAF + 300 * MiB
    cloud.delete_image(image)
    assert bs_used(cloud) == BS_BASE + GiB + LEAF + 300 * MiB  # a Deleted image still holds it
    cloud.expunge_image(image)
    assert bs_used(cloud) == BS_BASE
    assert [n for n in cloud.nodes if n.role == "backup"] == []
    cloud.check_invariants()


def test_image_from_a_data_volume_backup_is_accepted(cloud):
    data_b = cloud.create_vm_backup("vm1", "bs", "b1")[1]
    image = cloud.create_image_from_backup(
        data_b, "bs", "data-tpl", platform="Windows", architecture="aarch64", guest_os_type="Windows 10"
    )
    assert (image.media_type, image.virtual_size, image.actual_size) == (
        ImageKind.ROOT_TEMPLATE,
        10 * GiB,
        LEAF,
    )
    assert (image.platform, image.architecture, image.guest_os_type) == ("Windows", "aarch64", "Windows 10")


def test_image_from_a_backup_not_on_that_storage_is_refused():
    topo = small_topology()
    topo["backup_storages"].append({"name": "bs2", "zones": ["z"], "total_capacity": "50G"})
    cloud = Cloud(topo, clock=ManualClock(T0))
    cloud.create_vm("vm1", image="img", instance_offering="o1")
    backup = cloud.create_vm_backup("vm1", "bs", "b")[0]
    bs2 = cloud.backup_storages.get("bs2")
    with pytest.raises(InvalidArgument) as err:
        cloud.create_image_from_backup(backup, bs2, "tpl")
    assert err.value.facts == {
        "reason_code": "backup_not_on_storage",
        "backup_uuid": backup.uuid,
        "backup_storage_uuid": bs2.uuid,
    }
    cloud.set_storage_state("bs", "Disabled")
    with pytest.raises(InvalidState):
        cloud.create_image_from_backup(backup, "bs", "tpl")
    cloud.set_storage_state("bs", "Enabled")
    cloud.delete_backup_group(backup.group_uuid, backup_storages=["bs"])
    with pytest.raises(NotFound):
        cloud.create_image_from_backup(backup.uuid, "bs", "tpl")


def test_image_from_a_deleted_backup_is_refused(cloud):
    root, _ = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, MiB)
    cloud.create_vm_backup("vm1", "bs", "b2")
    cloud.delete_backup_group(first[0].group_uuid, handle_dependency=True)
    with pytest.raises(InvalidArgument):
        cloud.create_image_from_backup(first[0], "bs", "tpl")


# -- snapshot / restore, jobs ------------------------------------------------------------
def test_snapshot_restore_keeps_backups_catalogues_and_orphans(cloud):
    root, _ = vols(cloud)
    first = cloud.create_vm_backup("vm1", "bs", "b1")
    cloud.write(root, MiB)
    second = cloud.create_vm_backup("vm1", "bs", "b2")
    cloud.create_image_from_backup(second[0], "bs", "tpl")
    cloud.delete_backup_group(first[0].group_uuid, handle_dependency=True)
    cloud.set_storage_status("bs", "Disconnected")
    cloud.delete_backup_group(second[0].group_uuid)
    cloud.set_storage_status("bs", "Connected")
    snap = cloud.snapshot()
    restored = Cloud.restore(snap)
    assert restored.snapshot() == snap
    restored.check_invariants()
    assert restored.sync_backup_storage("bs") == cloud.sync_backup_storage("bs") == SyncCounts(2, 0)
    assert restored.snapshot() == cloud.snapshot()


def test_backup_as_a_job(cloud):
    job = cloud.submit("backup.create", cloud.create_vm_backup, "vm1", "bs", "b")
    assert cloud.job_state(job) == "Succeeded" and len(job.result) == 2
    failed = cloud.submit("backup.sync", cloud.sync_backup_storage, "nowhere")
    assert cloud.job_state(failed) == "Failed" and isinstance(failed.error, NotFound)


def test_a_fault_that_disconnects_the_storage_during_a_permissive_delete_leaves_orphans(cloud):
    backups = cloud.create_vm_backup("vm1", "bs", "b")
    used = bs_used(cloud)
    with faults.inject(cloud, faults.disconnect("backup.delete", kind="backup_storage")):
        cloud.delete_backup_group(backups[0].group_uuid)
    assert cloud.backup_storages.get("bs").status == "Disconnected"
    assert len(cloud.backups) == 0 and bs_used(cloud) == used
    assert len(cloud.orphan_backups("bs")) == 2
    cloud.set_storage_status("bs", "Connected")
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=2, deleted=0)
    cloud.check_invariants()


def test_image_resource_uuid_conflict_and_lost_data_with_an_image(cloud):
    root_b = cloud.create_vm_backup("vm1", "bs", "b")[0]
    image = cloud.create_image_from_backup(
        root_b, "bs", "tpl", resource_uuid="e2b2695d55243c2997b5dc6165fffa83"
    )
    assert image.uuid == "e2b2695d55243c2997b5dc6165fffa83"
    with pytest.raises(Conflict):
        cloud.create_image_from_backup(root_b, "bs", "tpl2", resource_uuid=image.uuid)
    # the storage loses the backup: the image still holds the data it shares
    cloud.lose_backup_group_data(root_b.group_uuid, "bs")
    assert bs_used(cloud) == BS_BASE + GiB + LEAF
    assert cloud.sync_backup_storage("bs") == SyncCounts(new=0, deleted=2)
    assert cloud.create_vm("from-tpl", image=image, instance_offering="o1").state == "Running"
    cloud.check_invariants()


def test_reset_forgets_backups_and_catalogues(cloud):
    cloud.create_vm_backup("vm1", "bs", "b")
    cloud.forget_backup_group(cloud.backup_groups.values()[0])
    assert len(cloud.orphan_backups("bs")) == 2
    cloud.reset()
    assert len(cloud.backups) == 0 and cloud.orphan_backups("bs") == []
    assert bs_used(cloud) == BS_BASE
    cloud.check_invariants()
