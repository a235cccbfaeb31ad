"""VM and volume state machines, addresses, jobs, journal, snapshot/restore."""

import json

import pytest
from freezegun import freeze_time
from model_helpers import GiB, MiB, small_topology

from fakestack import CapacityExhausted, Cloud, InvalidArgument, InvalidState, ManualClock, NotFound


@pytest.fixture
def cloud():
    return Cloud(small_topology(), clock=ManualClock(1_800_000_000))


def test_allowed_operations_follow_the_state_table(cloud):
    vm = cloud.create_vm("v", image="img", instance_offering="o1")
    with pytest.raises(InvalidState) as info:
        cloud.resume_vm(vm)
    assert (info.value.state, info.value.operation, info.value.allowed) == ("Running", "resume", ["Paused"])
    with pytest.raises(InvalidState):
        cloud.expunge_vm(vm)
    cloud.reboot_vm(vm)
    cloud.pause_vm(vm)
    with pytest.raises(InvalidState):
        cloud.reboot_vm(vm)
    cloud.stop_vm(vm)
    assert cloud.stop_vm(vm).state == "Stopped"  # no-op
    cloud.destroy_vm(vm)
    with pytest.raises(InvalidState):
        cloud.start_vm(vm)
    assert cloud.recover_vm(vm).state == "Stopped"
    cloud.destroy_vm(vm)
    cloud.expunge_vm(vm)
    with pytest.raises(NotFound):
        cloud.vms.get(vm.uuid)
    cloud.check_invariants()


def test_destroy_detaches_data_volumes_and_keeps_disks(cloud):
    vm = cloud.create_vm("v", image="img", instance_offering="o1", data_disk_offerings=["d10"])
    (data_uuid,) = vm.data_volume_uuids
    ps = cloud.primary_storages.get("ps")
    virtual = ps.used_virtual
    cloud.destroy_vm(vm)
    data = cloud.volumes.get(data_uuid)
    assert data.vm_uuid is None and data.last_vm_uuid == vm.uuid
    assert ps.used_virtual == virtual
    cloud.expunge_vm(vm)
    assert ps.used_virtual == virtual - 10 * GiB  # the root volume went; the data volume stays
    cloud.check_invariants()


def test_data_volume_lifecycle(cloud):
    vm = cloud.create_vm("v", image="img", instance_offering="o1")
    ps = cloud.primary_storages.get("ps")
    vol = cloud.create_data_volume("d", size=5 * GiB)
    assert vol.status == "NotInstantiated" and vol.primary_storage_uuid is None
    virtual = ps.used_virtual
    cloud.attach_volume(vol, vm)
    assert vol.status == "Ready" and vol.device_id == 1
    assert ps.used_virtual == virtual + 5 * GiB
    with pytest.raises(InvalidState):
        cloud.attach_volume(vol, vm)
    cloud.detach_volume(vol)
    cloud.delete_volume(vol)
    assert vol.status == "Deleted"
    cloud.recover_volume(vol)
    cloud.delete_volume(vol)
    cloud.expunge_volume(vol)
    assert ps.used_virtual == virtual
    at_once = cloud.create_data_volume("e", disk_offering="d10", primary_storage="ps")
    assert at_once.status == "Ready" and at_once.virtual_size == 10 * GiB
    with pytest.raises(InvalidArgument):
        cloud.create_data_volume("f")
    cloud.check_invariants()


def test_addresses_are_handed_out_in_order_and_reused(cloud):
    a = cloud.create_vm("a", image="img", instance_offering="o1")
    b = cloud.create_vm("b", image="img", instance_offering="o1")
    ip = lambda vm: cloud.nics.get(vm.nic_uuids[0]).ip  # noqa: E731
    assert (ip(a), ip(b)) == ("10.0.0.2", "10.0.0.3")  # .1 is the gateway
    cloud.destroy_vm(a)
    cloud.expunge_vm(a)
    c = cloud.create_vm("c", image="img", instance_offering="o1")
    assert ip(c) == "10.0.0.2"


def test_jobs_complete_when_the_clock_reaches_their_end():
    topo = small_topology(settings={"job_durations": {"vm.create": 5.0}})
    cloud = Cloud(topo, clock=ManualClock(1_800_000_000))
    job = cloud.submit("vm.create", cloud.create_vm, "v", image="img", instance_offering="o1")
    assert cloud.job_state(job) == "Running"
    cloud.tick(4.9)
    assert cloud.job_state(job) == "Running"
    cloud.tick(0.1)
    assert cloud.job_state(job) == "Succeeded"
    assert job.result.name == "v"
    failed = cloud.submit("vm.create", cloud.create_vm, "w", image="nope", instance_offering="o1")
    cloud.tick(5)
    assert cloud.job_state(failed) == "Failed" and isinstance(failed.error, NotFound)


def test_clock_follows_freezegun():
    with freeze_time("2026-03-01 12:00:00") as frozen:
        cloud = Cloud(small_topology(), clock="system")
        t0 = cloud.now()
        frozen.tick(30)
        assert cloud.now() == t0 + 30
        cloud.tick(10)
        assert cloud.now() == t0 + 40


def test_journal_records_operations_and_outcomes(cloud):
    cloud.create_vm("v", image="img", instance_offering="o1")
    with pytest.raises(NotFound):
        cloud.start_vm("missing")
    ok, failed = list(cloud.journal)[-2:]
    assert ok["operation"] == "vm.create" and ok["args"] == ["v"] and "ok" in ok
    assert failed["operation"] == "vm.start"
    assert failed["error"]["kind"] == "not_found" and failed["error"]["key"] == "missing"


def test_snapshot_restore_round_trip(cloud):
    vm = cloud.create_vm("v", image="img", instance_offering="o1", data_disk_offerings=["d10"])
    cloud.write(vm.root_volume_uuid, 300 * MiB)
    cloud.clone_vm(vm, ["c1", "c2"])
    cloud.instant_clone(vm, "ic")
    cloud.dialect_state("test")["sessions"] = {"a": 1}
    dump = json.loads(json.dumps(cloud.snapshot()))
    restored = Cloud.restore(dump)
    assert restored.snapshot() == cloud.snapshot()
    restored.check_invariants()
    # the restored cloud goes on exactly like the original
    cloud.create_vm("after", image="img", instance_offering="o1")
    restored.create_vm("after", image="img", instance_offering="o1")
    assert restored.snapshot() == cloud.snapshot()


def test_reset_returns_to_the_initial_state(cloud):
    initial = cloud.snapshot()
    cloud.create_vm("v", image="img", instance_offering="o1")
    cloud.reset()
    after = cloud.snapshot()
    assert after["vms"] == initial["vms"] and after["ids"] == initial["ids"]


def test_atomic_block_undoes_everything_when_it_raises(cloud):
    before = cloud.snapshot()
    with pytest.raises(NotFound):
        with cloud.atomic():
            cloud.create_vm("a", image="img", instance_offering="o1")
            cloud.create_vm("b", image="img", instance_offering="nope")
    after = cloud.snapshot()
    assert after["vms"] == before["vms"] and after["hosts"] == before["hosts"]
    ops = [e["operation"] for e in cloud.journal]
    assert ops[-3:] == ["vm.create", "vm.create", "atomic.rollback"]


def test_an_operation_failing_inside_atomic_undoes_only_itself(cloud):
    with cloud.atomic():
        a = cloud.create_vm("a", image="img", instance_offering="o1")
        with pytest.raises(NotFound):
            cloud.create_vm("b", image="img", instance_offering="nope")
    assert cloud.vms.get(a.uuid).state == "Running"
    cloud.check_invariants()


def test_atomic_rollback_after_a_failed_first_start_leaves_the_cloud_as_it_was(cloud):
    # the failed first start removes the Created VM for good; the block's rollback then
    # reaches the VM's creation and finds it gone (it raised KeyError before)
    before = cloud.snapshot()
    with pytest.raises(RuntimeError, match="rollback"):
        with cloud.atomic():
            vm = cloud.create_vm("x", image="img", cpu_num=1, memory_size=2**50, strategy="none")
            with pytest.raises(CapacityExhausted):
                cloud.start_vm(vm)
            assert vm.uuid not in cloud.vms
            raise RuntimeError("rollback")
    after = cloud.snapshot()
    for key, _ in Cloud.COLLECTIONS:
        assert Cloud.snapshot_records(after, key) == Cloud.snapshot_records(before, key), key
    cloud.check_invariants()


@pytest.mark.parametrize("indexed", [False, True])
def test_atomic_rollback_restores_the_vms_last_operation_dates(cloud, indexed):
    # start, stop, destroy and a first start date the VM; the block's rollback undoes
    # that too (it stayed at the undone operation's time), with or without an index
    # ordered by the date
    stopped = cloud.create_vm("s", image="img", instance_offering="o1")
    cloud.stop_vm(stopped)
    running = cloud.create_vm("r", image="img", instance_offering="o1")
    created = cloud.create_vm("c", image="img", instance_offering="o1", strategy="none")
    if indexed:
        cloud.vms.order_index("last_op_date", lambda date: date)
    before = cloud.snapshot()
    cloud.clock.advance(60)
    with pytest.raises(RuntimeError, match="rollback"):
        with cloud.atomic():
            cloud.start_vm(stopped)
            cloud.stop_vm(running)
            cloud.start_vm(created)
            cloud.destroy_vm(stopped)
            raise RuntimeError("rollback")
    after = cloud.snapshot()
    assert Cloud.snapshot_records(after, "vms") == Cloud.snapshot_records(before, "vms")
    cloud.check_invariants()


def test_resize_checks_the_hosts_room(cloud):
    vm = cloud.create_vm("v", image="img", instance_offering="o1")
    host = cloud.hosts.get("h1")
    cloud.resize_vm(vm, memory_size=8 * GiB, cpu_num=4)
    assert (host.used_cpu, host.used_memory) == (4, 8 * GiB)
    from fakestack import CapacityExhausted

    with pytest.raises(CapacityExhausted) as info:
        cloud.resize_vm(vm, memory_size=40 * GiB)
    assert info.value.resource == "host.memory" and info.value.needed == 32 * GiB
    assert vm.memory_size == 8 * GiB
    cloud.check_invariants()


def test_register_image_charges_the_backup_storage(cloud):
    bs = cloud.backup_storages.get("bs")
    used = bs.used
    image = cloud.register_image("built", "bs", virtual_size=10 * GiB, actual_size=3 * GiB)
    assert bs.used == used + 3 * GiB
    vm = cloud.create_vm("from-built", image=image, instance_offering="o1")
    assert vm.state == "Running"
    from fakestack import CapacityExhausted

    with pytest.raises(CapacityExhausted) as info:
        cloud.register_image("huge", "bs", virtual_size=200 * GiB, actual_size=150 * GiB)
    assert info.value.resource == "backup_storage"
    cloud.check_invariants()


def test_time_listeners_run_on_tick(cloud):
    seen = []
    cloud.on_time(lambda c: seen.append(c.now()))
    cloud.tick(5)
    cloud.settle()
    assert seen == [1_800_000_005, 1_800_000_005]


def test_load_snapshot_in_place_keeps_lock_and_listeners(cloud):
    seen = []
    cloud.on_time(lambda c: seen.append(len(c.vms)), key="counter")
    lock = cloud.lock
    empty = cloud.snapshot()
    cloud.create_vm("v", image="img", instance_offering="o1")
    cloud.load_snapshot(empty)
    assert cloud.lock is lock and len(cloud.vms) == 0
    cloud.on_time(lambda c: seen.append(-1), key="counter")  # replaces, does not add
    cloud.tick(1)
    assert seen == [-1]


def test_caller_chosen_uuids(cloud):
    from fakestack.model.errors import Conflict

    wanted = "0123456789abcdef0123456789abcdef"
    vm = cloud.create_vm("v", image="img", instance_offering="o1", resource_uuid=wanted)
    assert vm.uuid == wanted
    with pytest.raises(Conflict):
        cloud.create_vm("w", image="img", instance_offering="o1", resource_uuid=wanted)
    with pytest.raises(InvalidArgument) as info:
        cloud.create_data_volume("d", size=GiB, resource_uuid="not-a-uuid")
    assert info.value.field == "resource_uuid"
    assert cloud.create_data_volume("d", size=GiB, resource_uuid="f" * 32).uuid == "f" * 32


def test_register_image_without_a_storage_takes_the_roomiest(cloud):
    image = cloud.register_image("anywhere", virtual_size=GiB, actual_size=GiB)
    assert image.backup_storage_refs[0]["backup_storage_uuid"] == cloud.backup_storages.get("bs").uuid
    cloud.set_storage_status("bs", "Disconnected")
    from fakestack import Unreachable

    with pytest.raises(Unreachable):
        cloud.register_image("nowhere", virtual_size=GiB, actual_size=GiB)


def test_fault_points_list_every_fault_point_in_the_model():
    """FAULT_POINTS is what strategies and users rely on: it must name exactly the model's
    fault points (read from the source: ``_fault_point("name"`` and the simple transitions)."""
    import pathlib
    import re

    import fakestack.model as model
    from fakestack.model import FAULT_POINTS

    source = "".join(p.read_text() for p in pathlib.Path(model.__file__).parent.glob("*.py"))
    literal = set(re.findall(r'_fault_point\(\s*"([^"]+)"', source))
    transitions = {f"vm.{op}" for op in re.findall(r'_change_state\(vm, "([a-z_]+)"', source)}
    assert set(FAULT_POINTS) == literal | transitions
    assert len(FAULT_POINTS) == len(set(FAULT_POINTS))


def test_a_timed_job_changes_nothing_and_ends_after_its_duration():
    from fakestack import Cloud, ManualClock

    cloud = Cloud("tiny", seed=0, clock=ManualClock(10))
    before = cloud.snapshot()
    job = cloud.timed_job("guest.boot", 2.5, uuid="boot-1")
    assert (job.uuid, job.start, job.end, cloud.job_state(job)) == ("boot-1", 10.0, 12.5, "Running")
    after = cloud.snapshot()
    assert {k: v for k, v in after.items() if k != "jobs"} == {k: v for k, v in before.items() if k != "jobs"}
    cloud.tick(2.5)
    assert cloud.job_state("boot-1") == "Succeeded"
    assert cloud.timed_job("guest.boot", -1).end == 12.5  # a negative duration is none


def test_a_hibernated_vm_holds_no_host_and_wakes_only_where_there_is_room():
    cloud = Cloud("tiny", seed=0, clock=ManualClock(0))
    host = cloud.hosts.get("host-1")
    image = next(i for i in cloud.images if i.bootable)
    vm = cloud.create_vm("a", image=image.uuid, cpu_num=2, memory_size=2 * GiB)
    used = host.used_memory
    assert cloud.hibernate_vm(vm).state == "Hibernated"
    assert (vm.host_uuid, host.used_memory) == (None, used - 2 * GiB)
    with pytest.raises(InvalidState) as info:
        cloud.resume_vm(vm)  # pause/resume is another pair: a hibernated VM wakes
    assert info.value.allowed == ["Paused"]
    cloud.check_invariants()
    # the room it left is taken; waking fails and changes nothing
    filler = cloud.create_vm(
        "b", image=image.uuid, cpu_num=1, memory_size=host.available_memory - host.reserved_memory
    )
    with pytest.raises(CapacityExhausted) as short:
        cloud.wake_vm(vm)
    assert (short.value.resource, short.value.needed) == ("host.memory", 2 * GiB)
    assert (vm.state, vm.host_uuid) == ("Hibernated", None)
    cloud.destroy_vm(filler)
    assert cloud.wake_vm(vm).state == "Running" and vm.host_uuid == host.uuid
    assert host.used_memory == used
    with pytest.raises(InvalidState):
        cloud.wake_vm(vm)
    cloud.hibernate_vm(vm)
    assert cloud.destroy_vm(vm).state == "Destroyed"
    cloud.check_invariants()
