"""A failing CloudStateMachine run written out as a scenario (``record_to``), replayed."""

import httpx
import pytest
from example_clonepool import ClonePool
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test
from test_example_state_machine import Autoscaler

from fakestack import scenarios
from fakestack.stateful import CloudStateMachine

# Shrinking kept: hypothesis runs the shrunk failing example last, and that run is the file.
SEARCH = settings(
    max_examples=50,
    stateful_step_count=8,
    deadline=None,
    database=None,
    derandomize=True,
    report_multiple_bugs=False,
    phases=(Phase.generate, Phase.shrink),
)


def model_state(cloud) -> dict:
    """The cloud's snapshot without what the dialects keep (a replay builds the app)."""
    return {k: v for k, v in cloud.snapshot().items() if k != "dialect_state"}


def final_states(machine_class):
    """Run ``machine_class`` until it fails; the cloud snapshot at the end of each example."""
    snapshots = []

    class Remembering(machine_class):
        def teardown(self):
            super().teardown()
            snapshots.append(model_state(self.cloud))

    with pytest.raises(AssertionError):
        run_state_machine_as_test(Remembering, settings=SEARCH)
    return snapshots


def test_a_failing_run_of_model_operations_replays_to_the_state_that_failed(tmp_path):
    class TooManyVms(CloudStateMachine):
        """``check`` stands in for a property of user code: it fails at the third VM."""

        record_to = tmp_path / "three-vms.yaml"
        operations = frozenset({"create", "clone", "start", "stop", "destroy", "tick", "faults"})

        def check(self):
            assert len(self.cloud.vms) < 3

    snapshots = final_states(TooManyVms)

    scenario = scenarios.load(tmp_path / "three-vms.yaml")
    assert scenario.name == "three-vms" and scenario.topology == "tiny"
    kinds = [step.kind for step in scenario.steps]
    assert "op" in kinds[:-1]
    assert (scenario.steps[-1].op, scenario.steps[-1].expect.ok) == ("check_invariants", True)
    result = scenarios.replay(tmp_path / "three-vms.yaml")
    assert result.passed, result.report()
    assert len(result.cloud.vms) >= 3
    assert model_state(result.cloud) == snapshots[-1]


class RecordedAutoscalerMachine(CloudStateMachine):
    """The README's planted-bug autoscaler, its requests recorded through ``self.app``."""

    topology = "tiny"
    operations = frozenset({"tick", "faults"})
    fault_operations = ("vm.clone",)
    fault_effects = ("exhaust", "fail")

    def setup(self):
        http = httpx.Client(transport=httpx.WSGITransport(app=self.app), base_url="http://fakestack")
        self.scaler = Autoscaler(ClonePool(http, golden=self.cloud.vms.get("golden").uuid))

    @rule(size=st.integers(0, 5))
    def scale(self, size):
        self.scaler.scale_to(size)

    def check(self):
        replicas = [vm for vm in self.cloud.vms if vm.name.startswith("replica-")]
        assert self.scaler.replicas == len(replicas)


def test_a_failing_run_of_http_requests_replays_byte_for_byte(tmp_path):
    path = tmp_path / "autoscaler.yaml"
    machine = type("Recorded", (RecordedAutoscalerMachine,), {"record_to": path})

    snapshots = final_states(machine)

    scenario = scenarios.load(path)
    assert scenario.base_url == "http://fakestack"
    http_steps = [step for step in scenario.steps if step.kind == "http"]
    assert http_steps[0].http.path == "/zstack/v1/accounts/login"
    assert any(step.http.method == "PUT" and step.http.path.endswith("/actions") for step in http_steps)
    assert all(step.expect.status is not None for step in http_steps)
    result = scenarios.replay(path)
    assert result.passed, result.report()
    assert model_state(result.cloud) == snapshots[-1]
