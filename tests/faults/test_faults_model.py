"""Fault rules through the model's Python API: every effect, every match kind."""

import pytest
from pydantic import ValidationError

import fakestack
from fakestack import faults
from fakestack.model import CapacityExhausted, InjectedFailure, ManualClock, NotFound, Unreachable
from fakestack.model.errors import Conflict, InvalidState


@pytest.fixture
def cloud():
    return fakestack.Cloud("demo", seed=0, clock=ManualClock())


def capacity_without_names(cloud):
    return cloud.capacity()


# -- exhaust ---------------------------------------------------------------------------
def test_exhaust_host_cpu_on_second_clone_fails_that_name_only(cloud):
    rule = faults.add(cloud, faults.exhaust("vm.clone", "host.cpu", nth=2))[0]
    result = cloud.clone_vm("golden", ["a", "b", "c"])
    assert [e.ok for e in result.entries] == [True, False, True]
    err = result.entries[1].error
    assert isinstance(err, CapacityExhausted)
    assert (err.resource, err.needed, err.available) == ("host.cpu", 2, 0)
    assert "b" not in cloud.vms
    assert faults.hits(cloud, rule) == 1
    assert faults.list_rules(cloud)[0]["calls"] == 3
    cloud.check_invariants()


def test_exhaust_host_memory_on_create_changes_nothing(cloud):
    before = cloud.capacity()
    faults.add(cloud, faults.exhaust("vm.create", "host.memory"))
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("web", image="centos-7", instance_offering="small")
    assert info.value.resource == "host.memory"
    assert info.value.needed == 1024**3
    assert cloud.capacity() == before
    assert "web" not in cloud.vms
    cloud.check_invariants()


@pytest.mark.parametrize("resource", ["primary_storage.virtual", "primary_storage.physical"])
def test_exhaust_primary_storage_ledgers_on_create(cloud, resource):
    before = cloud.capacity()
    faults.add(cloud, faults.exhaust("vm.create", resource))
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("web", image="centos-7", instance_offering="small")
    assert info.value.resource == resource
    assert info.value.resource_uuid in {ps.uuid for ps in cloud.primary_storages}
    assert cloud.capacity() == before
    cloud.check_invariants()


def test_exhaust_physical_space_on_guest_write(cloud):
    vol = cloud.vms.get("golden").root_volume_uuid
    before = cloud.volume_actual_size(vol)
    faults.add(cloud, faults.exhaust("volume.write", "primary_storage.physical"))
    with pytest.raises(CapacityExhausted) as info:
        cloud.write(vol, 1024**3)
    assert info.value.resource == "primary_storage.physical"
    assert cloud.volume_actual_size(vol) == before


def test_exhaust_backup_storage_fails_the_whole_clone(cloud):
    before = cloud.capacity()
    faults.add(cloud, faults.exhaust("vm.clone.prepare", "backup_storage"))
    with pytest.raises(CapacityExhausted) as info:
        cloud.clone_vm("golden", ["a", "b"])
    assert info.value.resource == "backup_storage"
    assert cloud.capacity() == before
    assert len(cloud.vms) == 1


# -- fail ------------------------------------------------------------------------------
def test_fail_with_injected_error_and_dialect_code(cloud):
    faults.add(cloud, faults.fail("vm.stop", "the hypervisor said no", code="VM.1002"))
    with pytest.raises(InjectedFailure) as info:
        cloud.stop_vm("golden")
    assert info.value.to_dict() == {
        "kind": "injected",
        "message": "the hypervisor said no",
        "operation": "vm.stop",
        "code": "VM.1002",
    }
    assert cloud.vms.get("golden").state == "Running"


@pytest.mark.parametrize(
    "kind,cls",
    [
        ("not_found", NotFound),
        ("conflict", Conflict),
        ("unreachable", Unreachable),
        ("invalid_state", InvalidState),
        ("capacity_exhausted", CapacityExhausted),
    ],
)
def test_fail_with_each_neutral_kind(cloud, kind, cls):
    faults.add(cloud, faults.fail("vm.reboot", "nope", kind=kind))
    with pytest.raises(cls) as info:
        cloud.reboot_vm("golden")
    assert info.value.kind == kind
    assert info.value.message == "nope"


def test_fail_on_one_clone_name_keeps_the_others(cloud):
    faults.add(cloud, faults.fail("vm.clone", "no", on="b"))
    result = cloud.clone_vm("golden", ["a", "b", "c"])
    assert [e.name for e in result.failed] == ["b"]
    assert isinstance(result.failed[0].error, InjectedFailure)


# -- latency and hang ------------------------------------------------------------------
def test_latency_lengthens_the_job(cloud):
    faults.add(cloud, faults.latency("vm.stop", 30))
    job = cloud.submit("vm.stop", cloud.stop_vm, "golden")
    assert job.end - job.start == 30
    assert cloud.job_state(job) == "Running"
    cloud.tick(29)
    assert cloud.job_state(job) == "Running"
    cloud.tick(1)
    assert cloud.job_state(job) == "Succeeded"


def test_hang_holds_the_job_until_the_rule_is_removed(cloud):
    rule = faults.add(cloud, faults.hang("vm.stop"))[0]
    job = cloud.submit("vm.stop", cloud.stop_vm, "golden")
    cloud.tick(3600)
    assert cloud.job_state(job) == "Running"
    faults.remove(cloud, rule)
    assert cloud.job_state(job) == "Succeeded"


def test_release_lets_hung_jobs_finish_while_the_rule_stays(cloud):
    faults.add(cloud, faults.hang("vm.stop"))
    job = cloud.submit("vm.stop", cloud.stop_vm, "golden")
    assert faults.release(cloud) == [job.uuid]
    assert cloud.job_state(job) == "Succeeded"
    assert len(faults.list_rules(cloud)) == 1


# -- disconnect / reconnect ------------------------------------------------------------
def test_disconnect_the_calls_own_host_sticks_after_the_failure(cloud):
    faults.add(cloud, faults.disconnect("vm.stop", kind="host"))
    host = cloud.hosts.get(cloud.vms.get("golden").host_uuid)
    cloud.stop_vm("golden")
    assert host.status == "Disconnected"
    # a later start cannot use that host
    with pytest.raises(Unreachable) as info:
        cloud.start_vm("golden", host=host.uuid)
    assert (info.value.resource_kind, info.value.uuid) == ("host", host.uuid)
    assert host.status == "Disconnected"
    cloud.check_invariants()


def test_disconnect_named_primary_storage_makes_the_operation_fail(cloud):
    faults.add(cloud, faults.disconnect("volume.write", "nfs-ps"))
    vol = cloud.vms.get("golden").root_volume_uuid
    with pytest.raises(Unreachable) as info:
        cloud.write(vol, 1024)
    assert info.value.resource_kind == "primary_storage"
    assert cloud.primary_storages.get("nfs-ps").status == "Disconnected"


def test_disconnect_backup_storage_then_reconnect(cloud):
    faults.add(
        cloud,
        faults.disconnect("vm.clone.prepare", "imagestore", nth=1),
        faults.reconnect("vm.clone.prepare", "imagestore", nth=2),
    )
    # (a clone that needs a disconnected backup storage finds no room on it)
    with pytest.raises(CapacityExhausted) as info:
        cloud.clone_vm("golden", ["a"])
    assert (info.value.resource, info.value.available) == ("backup_storage", 0)
    assert cloud.backup_storages.get("imagestore").status == "Disconnected"
    result = cloud.clone_vm("golden", ["a"])
    assert cloud.backup_storages.get("imagestore").status == "Connected"
    assert result.number_of_cloned_vm == 1


def test_disconnect_of_unknown_target_is_not_found(cloud):
    faults.add(cloud, faults.disconnect("vm.stop", "no-such-host"))
    with pytest.raises(NotFound):
        cloud.stop_vm("golden")


# -- drop_connection -------------------------------------------------------------------
def test_drop_connection_aborts_the_operation_with_nothing_done(cloud):
    faults.add(cloud, faults.drop_connection("vm.clone"))
    before = cloud.capacity()
    with pytest.raises(faults.DropConnection):
        cloud.clone_vm("golden", ["a"])
    assert cloud.capacity() == before
    assert len(cloud.vms) == 1
    cloud.check_invariants()


# -- match kinds -----------------------------------------------------------------------
def hit_pattern(cloud, rule, calls=8):
    faults.add(cloud, rule)
    out = []
    for _ in range(calls):
        try:
            cloud.reboot_vm("golden")
            out.append(0)
        except InjectedFailure:
            out.append(1)
    return out


@pytest.mark.parametrize(
    "when,pattern",
    [
        ({}, [1] * 8),
        ({"nth": 3}, [0, 0, 1, 0, 0, 0, 0, 0]),
        ({"after": 5}, [0, 0, 0, 0, 0, 1, 1, 1]),
        ({"every": 3}, [0, 0, 1, 0, 0, 1, 0, 0]),
        ({"times": 2}, [1, 1, 0, 0, 0, 0, 0, 0]),
        ({"after": 2, "times": 3}, [0, 0, 1, 1, 1, 0, 0, 0]),
        ({"every": 2, "times": 2}, [0, 1, 0, 1, 0, 0, 0, 0]),
        ({"probability": 0.0}, [0] * 8),
        ({"probability": 1.0}, [1] * 8),
    ],
)
def test_when_conditions(cloud, when, pattern):
    assert hit_pattern(cloud, faults.fail("vm.reboot", **when)) == pattern


def test_probability_is_drawn_from_the_seeded_rng():
    def run(seed):
        cloud = fakestack.Cloud("demo", seed=seed, clock=ManualClock())
        return hit_pattern(cloud, faults.fail("vm.reboot", probability=0.5), calls=40)

    first = run(7)
    assert first == run(7)
    assert 0 < sum(first) < 40
    assert any(run(s) != first for s in (8, 9, 10))


def test_wildcard_match(cloud):
    faults.add(cloud, faults.fail("vm.*"))
    with pytest.raises(InjectedFailure):
        cloud.reboot_vm("golden")
    with pytest.raises(InjectedFailure):
        cloud.clone_vm("golden", ["a"])
    cloud.write(cloud.vms.get("golden").root_volume_uuid, 10)  # volume.write: untouched


def test_resource_filter_by_name_and_by_uuid(cloud):
    second = cloud.create_vm("other", image="centos-7", instance_offering="small")
    golden = cloud.vms.get("golden")
    faults.add(cloud, faults.fail("vm.reboot", on="golden"))
    with pytest.raises(InjectedFailure):
        cloud.reboot_vm(golden.uuid)
    cloud.reboot_vm(second)
    faults.clear(cloud)
    faults.add(cloud, faults.fail("vm.reboot", on=second.uuid))
    cloud.reboot_vm("golden")
    with pytest.raises(InjectedFailure):
        cloud.reboot_vm("other")


def test_resource_filter_by_host_name(cloud):
    golden = cloud.vms.get("golden")
    host = cloud.hosts.get(golden.host_uuid)
    faults.add(cloud, faults.fail("vm.stop", on=host.name))
    with pytest.raises(InjectedFailure):
        cloud.stop_vm(golden)


def test_calls_are_counted_after_the_resource_filter(cloud):
    cloud.create_vm("other", image="centos-7", instance_offering="small")
    rule = faults.add(cloud, faults.fail("vm.reboot", on="golden", nth=2))[0]
    cloud.reboot_vm("other")
    cloud.reboot_vm("golden")
    cloud.reboot_vm("other")
    with pytest.raises(InjectedFailure):
        cloud.reboot_vm("golden")
    assert faults.list_rules(cloud)[0]["calls"] == 2
    assert faults.hits(cloud, rule) == 1


def test_dialect_operation_error_raises_at_the_point(cloud):
    faults.add(cloud, faults.fail("zstack:CloneVmInstance", code="SYS.1006"))
    with pytest.raises(InjectedFailure) as info:
        faults.dialect_point(cloud, "zstack:CloneVmInstance", {"vm": "golden"})
    assert info.value.operation == "zstack:CloneVmInstance"
    # a neutral pattern never matches a dialect operation, and the reverse
    faults.clear(cloud)
    faults.add(cloud, faults.fail("*"))
    assert faults.dialect_point(cloud, "zstack:CloneVmInstance", {}) is None


def test_dialect_operation_exhaustion_surfaces_at_the_next_model_operation(cloud):
    faults.add(cloud, faults.exhaust("zstack:CreateVmInstance", "host.memory"))
    effects = faults.dialect_point(cloud, "zstack:CreateVmInstance", {"name": "web"})
    assert effects.exhaust == ("host.memory",)
    with pytest.raises(CapacityExhausted) as info:
        cloud.create_vm("web", image="centos-7", instance_offering="small")
    assert info.value.resource == "host.memory"
    # carried once only
    cloud.create_vm("web", image="centos-7", instance_offering="small")


def test_dialect_carry_expires_when_another_operation_ran_first(cloud):
    rule = faults.add(cloud, faults.exhaust("zstack:Anything", "host.memory"))[0]
    faults.dialect_point(cloud, "zstack:Anything", {})
    cloud.set_host_state("host-1", "Enabled")  # journaled: the request moved on
    vm = cloud.create_vm("web", image="centos-7", instance_offering="small")  # not exhausted
    assert vm.state == "Running"
    assert faults.hits(cloud, rule) == 1  # the dialect point fired; nothing carried it further


def test_dialect_latency_lengthens_the_model_job(cloud):
    faults.add(cloud, faults.latency("zstack:StopVmInstance", 12))
    faults.dialect_point(cloud, "zstack:StopVmInstance", {"vm": "golden"})
    job = cloud.submit("vm.stop", cloud.stop_vm, "golden")
    assert job.end - job.start == 12


# -- API ----------------------------------------------------------------------------------
def test_inject_context_manager_removes_its_rules(cloud):
    with faults.inject(cloud, faults.fail("vm.reboot")) as rule:
        with pytest.raises(InjectedFailure):
            cloud.reboot_vm("golden")
        assert faults.hits(cloud, rule) == 1
    cloud.reboot_vm("golden")
    assert faults.list_rules(cloud) == []


def test_ids_are_assigned_and_unique(cloud):
    a, b = faults.add(cloud, faults.fail("vm.reboot"), {"match": "vm.stop", "effect": {"type": "hang"}})
    assert (a.id, b.id) == ("f1", "f2")
    faults.add(cloud, faults.fail("vm.start", id="mine"))
    with pytest.raises(Conflict):
        faults.add(cloud, faults.fail("vm.start", id="mine"))
    faults.remove(cloud, "f1")
    assert [r["id"] for r in faults.list_rules(cloud)] == ["f2", "mine"]
    with pytest.raises(NotFound):
        faults.remove(cloud, "f1")


def test_plan_round_trips_through_json(cloud):
    plan = faults.FaultPlan(
        rules=[
            faults.exhaust("vm.clone", "host.cpu", nth=2),
            faults.disconnect("vm.stop", "host-1", kind="host"),
        ]
    )
    data = plan.model_dump(mode="json")
    again = faults.FaultPlan.model_validate(data)
    assert again == plan
    inj = faults.install(cloud, data)
    assert inj.plan().model_dump(mode="json")["rules"][0]["effect"] == {
        "type": "exhaust",
        "resource": "host.cpu",
    }


def test_faults_are_not_part_of_the_snapshot_and_survive_reset(cloud):
    faults.add(cloud, faults.fail("vm.reboot"))
    restored = fakestack.Cloud.restore(cloud.snapshot())
    assert restored.faults is None
    restored.reboot_vm("golden")
    cloud.reset()
    with pytest.raises(InjectedFailure):
        cloud.reboot_vm("golden")


@pytest.mark.parametrize(
    "data,field",
    [
        (
            {"match": "vm.clone", "effect": {"type": "exhaust", "resource": "host.disk"}},
            "effect.exhaust.resource",
        ),
        ({"match": "vm.clone", "effect": {"type": "melt"}}, "effect"),
        ({"match": "vm.clone", "when": {"nth": 0}, "effect": {"type": "hang"}}, "when.nth"),
        ({"match": "vm.clone", "when": {"probability": 1.5}, "effect": {"type": "hang"}}, "when.probability"),
        ({"match": "Clone VM!", "effect": {"type": "hang"}}, "match"),
        ({"match": "vm.clone", "effect": {"type": "latency", "seconds": -1}}, "effect.latency.seconds"),
        ({"match": "vm.clone", "effect": {"type": "fail", "kind": "oops"}}, "effect.fail.kind"),
        ({"match": "vm.clone", "effect": {"type": "hang"}, "colour": "red"}, "colour"),
        ({"effect": {"type": "hang"}}, "match"),
    ],
)
def test_bad_rules_name_the_field(data, field):
    with pytest.raises(ValidationError) as info:
        faults.FaultRule.model_validate(data)
    assert field in [e["field"] for e in faults.validation_errors(info.value)]
