"""README example 3: a hypothesis state machine finds a bug planted in a small client."""

import httpx
import pytest
from example_clonepool import ClonePool, ZStackError
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test

from fakestack.stateful import CloudStateMachine


class Autoscaler:
    """Keeps ``size`` replicas of the golden VM.  Planted bug: it trusts the request, not
    the answer, so a clone that found no room still counts as a replica."""

    def __init__(self, pool: ClonePool) -> None:
        self.pool = pool
        self.replicas = 0

    def scale_to(self, size: int) -> None:
        if size <= self.replicas:
            return
        try:
            self.pool.grow([f"replica-{i}" for i in range(self.replicas, size)])
        except ZStackError:
            return  # the whole call failed (no host at all): nothing was made
        self.replicas = size  # the bug: should be len(self.pool.members)


class AutoscalerMachine(CloudStateMachine):
    topology = "tiny"  # room for three more VMs
    operations = frozenset({"tick", "faults"})  # built-in rules kept: clock ticks, faults
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


FIND = settings(
    max_examples=50,
    stateful_step_count=10,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.generate,),
)  # no shrinking: this test only needs the verdict


def test_the_state_machine_finds_the_planted_bug():
    with pytest.raises(AssertionError, match="assert .* == "):
        run_state_machine_as_test(AutoscalerMachine, settings=FIND)


class FixedAutoscaler(Autoscaler):
    def scale_to(self, size: int) -> None:
        if size <= self.replicas:
            return
        try:
            self.pool.grow([f"replica-{i}" for i in range(self.replicas, size)])
        except ZStackError:
            return
        self.replicas = len(self.pool.members)


class FixedAutoscalerMachine(AutoscalerMachine):
    def setup(self):
        super().setup()
        self.scaler = FixedAutoscaler(self.scaler.pool)


TestFixedAutoscaler = FixedAutoscalerMachine.TestCase
