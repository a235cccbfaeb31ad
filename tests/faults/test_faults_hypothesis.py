"""Hypothesis support: strategies draw valid data, the state machine keeps the invariants,
and a failing example replays from the seed alone."""

import json

import pytest
from hypothesis import Phase, given, seed, settings
from hypothesis.stateful import run_state_machine_as_test

import fakestack
from fakestack import faults
from fakestack import strategies as fs
from fakestack.model import ManualClock
from fakestack.stateful import CloudStateMachine

SHORT = settings(max_examples=30, deadline=None)


@SHORT
@given(topology=fs.topologies(tight=True), cloud_seed=fs.seeds())
def test_tight_topologies_build_clouds_whose_invariants_hold(topology, cloud_seed):
    cloud = fakestack.Cloud(topology, seed=cloud_seed, clock=ManualClock())
    cloud.check_invariants()
    assert cloud.vms.get("golden").state == "Running"


@SHORT
@given(topology=fs.topologies(tight=True), cloud_seed=fs.seeds(), request=fs.clone_requests())
def test_clone_keeps_ledgers_exact_and_failed_names_leave_nothing(topology, cloud_seed, request):
    cloud = fakestack.Cloud(topology, seed=cloud_seed, clock=ManualClock())
    before = len(cloud.vms)
    try:
        result = cloud.clone_vm("golden", **request)
    except fakestack.DomainError:
        assert len(cloud.vms) == before
    else:
        assert len(cloud.vms) == before + result.number_of_cloned_vm
    cloud.check_invariants()


@SHORT
@given(
    topology=fs.topologies(tight=True),
    size=fs.write_sizes(),
    plan=fs.fault_plans(operations=("volume.write",)),
)
def test_writes_under_any_fault_plan_keep_the_invariants(topology, size, plan):
    cloud = fakestack.Cloud(topology, seed=0, clock=ManualClock())
    faults.install(cloud, plan)
    volume = cloud.vms.get("golden").root_volume_uuid
    for _ in range(3):
        try:
            cloud.write(volume, size)
        except fakestack.DomainError:
            pass
    cloud.check_invariants()


@SHORT
@given(plan=fs.fault_plans(max_rules=4, effects=fs.ALL_EFFECTS, resources=("golden", "host-1")))
def test_drawn_plans_round_trip_through_json_and_the_http_api(plan):
    data = json.loads(json.dumps(plan.model_dump(mode="json")))
    assert faults.FaultPlan.model_validate(data) == plan
    cloud = fakestack.Cloud("tiny", clock=ManualClock())
    status, body = faults.handle_admin_request(cloud, "POST", "", json.dumps(data).encode())
    assert status == 201
    assert len(body["rules"]) == len(plan.rules)


@SHORT
@given(request=fs.backup_requests(), cloud_seed=fs.seeds())
def test_backup_requests_are_accepted_by_the_model(request, cloud_seed):
    cloud = fakestack.Cloud("tiny", seed=cloud_seed, clock=ManualClock())
    backups = cloud.create_vm_backup("golden", "imagestore", **request)
    assert backups and {b.group_uuid for b in backups} == {backups[0].group_uuid}
    cloud.check_invariants()


class TightCloudMachine(CloudStateMachine):
    """Tight drawn topologies, every built-in rule, gentle faults."""

    topology = fs.topologies(tight=True, max_hosts=2)


class DemoCloudMachine(CloudStateMachine):
    topology = "demo"


def test_machines_get_short_settings_by_default():
    assert TightCloudMachine.TestCase.settings.max_examples == 25
    assert TightCloudMachine.TestCase.settings.deadline is None


TestCloudMachineKeepsInvariants = CloudStateMachine.TestCase
TestTightCloudMachineKeepsInvariants = TightCloudMachine.TestCase
TestDemoCloudMachineKeepsInvariants = DemoCloudMachine.TestCase


class NaiveCounter(CloudStateMachine):
    """A planted bug: counting clone *names* as VMs."""

    operations = frozenset({"clone", "tick"})

    def setup(self):
        self.expected = len(self.cloud.vms)

    def do_clone(self, source, request):
        made = super().do_clone(source, request)
        self.expected += len(request["names"])  # the bug: ignores per-name failures
        return made

    def check(self):
        assert self.expected == len(self.cloud.vms)


def failing_steps(machine, hypothesis_seed):
    machine = seed(hypothesis_seed)(machine)
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=50,
                stateful_step_count=10,
                deadline=None,
                database=None,
                phases=(Phase.generate,),
            ),
        )
    return [n for n in getattr(info.value, "__notes__", []) if not n.startswith("Explanation")]


def test_a_failing_example_replays_from_the_seed_alone():
    first = failing_steps(NaiveCounter, 1234)
    assert any("clone_vm(" in line for line in first)
    assert any(line.startswith("cloud = Cloud('tiny', seed=") for line in first)
    assert failing_steps(NaiveCounter, 1234) == first
