"""clone_vm: ZStack's CloneVmInstance pipeline on the model."""

import pytest
from model_helpers import GiB, small_topology

from fakestack import CapacityExhausted, Cloud, InvalidArgument, InvalidState
from fakestack.model.kinds import ImageKind


def test_clone_five_with_room_for_three_on_tiny():
    cloud = Cloud("tiny")
    result = cloud.clone_vm("golden", ["c1", "c2", "c3", "c4", "c5"])
    assert result.number_of_cloned_vm == 3
    assert [e.name for e in result.entries] == ["c1", "c2", "c3", "c4", "c5"]
    assert [e.ok for e in result.entries] == [True, True, True, False, False]
    for entry in result.failed:
        assert isinstance(entry.error, CapacityExhausted)
        assert entry.error.resource == "host.memory"
        assert entry.error.request == {"cpu": 1, "memory": 2 * GiB}
        assert entry.vm is not None and entry.vm.state == "Created"  # the stale record
        assert entry.vm.uuid not in cloud.vms  # ... which no longer exists
    assert sorted(vm.name for vm in cloud.vms) == ["c1", "c2", "c3", "golden"]
    host = cloud.hosts.get("host-1")
    assert host.used_memory == 8 * GiB and host.vm_count == 4
    cloud.check_invariants()  # every ledger equals the sum of its holders


def test_just_create_holds_nothing_until_started():
    cloud = Cloud("tiny")
    ps = cloud.primary_storages.get("nfs-ps")
    result = cloud.clone_vm("golden", [f"j{i}" for i in range(5)], strategy="none")
    assert result.number_of_cloned_vm == 5
    assert {vm.state for vm in result.succeeded} == {"Created"}
    virtual = ps.used_virtual
    assert cloud.hosts.get("host-1").vm_count == 1
    started = 0
    for vm in result.succeeded:
        try:
            cloud.start_vm(vm)
            started += 1
        except CapacityExhausted as exc:
            assert exc.resource == "host.memory"
            assert vm.uuid not in cloud.vms  # a Created VM whose first start fails is deleted
    assert started == 3
    assert ps.used_virtual > virtual
    cloud.check_invariants()


def test_create_stopped_ends_stopped():
    cloud = Cloud("tiny")
    result = cloud.clone_vm("golden", ["s1"], strategy="stopped")
    vm = result.succeeded[0]
    assert vm.state == "Stopped" and vm.host_uuid is None and vm.root_volume_uuid
    cloud.check_invariants()


def test_full_backup_storage_fails_the_whole_clone():
    topo = small_topology(backup_storages={"total_capacity": "2G"})  # 1G reserve, 1G image
    cloud = Cloud(topo)
    cloud.create_vm("src", image="img", instance_offering="o1")
    before = len(cloud.vms), len(cloud.images), len(cloud.nodes)
    with pytest.raises(CapacityExhausted) as info:
        cloud.clone_vm("src", ["a", "b"])
    assert info.value.resource == "backup_storage"
    assert (len(cloud.vms), len(cloud.images), len(cloud.nodes)) == before
    assert cloud.volume_snapshots.values() == []
    cloud.check_invariants()


def test_host_dry_run_fails_the_whole_call_when_no_host_fits():
    cloud = Cloud("tiny")
    cloud.clone_vm("golden", ["a", "b", "c"])
    with pytest.raises(CapacityExhausted) as info:
        cloud.clone_vm("golden", ["d"])
    assert info.value.resource == "host.memory"
    # the "none" start policy skips the dry run
    assert cloud.clone_vm("golden", ["d"], strategy="none").number_of_cloned_vm == 1


def test_clone_validation():
    cloud = Cloud("tiny")
    with pytest.raises(InvalidArgument) as info:
        cloud.clone_vm("golden", [])
    assert info.value.field == "names"
    with pytest.raises(InvalidArgument):
        cloud.clone_vm("golden", ["x"], strategy="Later")
    cloud.destroy_vm("golden")
    with pytest.raises(InvalidState) as state:
        cloud.clone_vm("golden", ["x"])
    assert state.value.state == "Destroyed"
    assert state.value.allowed == ["Running", "Stopped", "Paused"]


def test_full_clone_copies_data_volumes():
    cloud = Cloud("demo")
    golden = cloud.vms.get("golden")
    result = cloud.clone_vm(golden, ["f1"], full=True)
    clone = result.succeeded[0]
    assert len(clone.data_volume_uuids) == 1
    data = cloud.volumes.get(clone.data_volume_uuids[0])
    assert data.virtual_size == 20 * GiB
    assert len(result.image_uuids) == 2
    assert cloud.images.get(result.image_uuids[1]).media_type == ImageKind.DATA_TEMPLATE
    cloud.check_invariants()


def test_clone_uses_temporary_image_and_description():
    cloud = Cloud("demo")
    golden = cloud.vms.get("golden")
    result = cloud.clone_vm(golden, ["a"])
    clone = result.succeeded[0]
    image = cloud.images.get(result.image_uuids[0])
    assert image.name == f"for-clone-vm-{golden.uuid}-rootVolume-{golden.root_volume_uuid}"
    assert clone.image_uuid == image.uuid
    assert clone.description == f"cloned from vm[uuid:{golden.uuid}]"
    assert cloud.volume_snapshots.values()[0].name == "for-clone-vm-a"
