"""What a ``CloudStateMachine.record_to`` file reproduces, tested as the README states it:
a broken cloud invariant fails the replay on its last step while the bug is there; a
failed client ``check()`` is named in the file, whose replay passes and rebuilds the cloud
that failed the check."""

import pytest
from test_state_machine_recording import final_states, model_state

from fakestack import scenarios
from fakestack.model import Cloud
from fakestack.stateful import CloudStateMachine


def test_a_failed_client_check_is_named_and_the_replay_rebuilds_the_failing_cloud(tmp_path):
    class AtMostTwoVms(CloudStateMachine):
        record_to = tmp_path / "client-check.yaml"
        operations = frozenset({"create", "clone", "destroy"})

        def check(self):
            assert len(self.cloud.vms) < 3, "the client allows two VMs"

    snapshots = final_states(AtMostTwoVms)
    scenario = scenarios.load(tmp_path / "client-check.yaml")
    assert "The client's check() failed: AssertionError: the client allows two VMs" in scenario.description
    assert "its replay passes" in scenario.description
    result = scenarios.replay(tmp_path / "client-check.yaml")
    assert result.passed, result.report()  # the client is not in the file
    assert model_state(result.cloud) == snapshots[-1]
    with pytest.raises(AssertionError):  # the promise: the check fails again on the replayed cloud
        AtMostTwoVms.check(type("Replayed", (), {"cloud": result.cloud})())


def test_a_broken_invariant_fails_the_replay_on_its_last_step_while_the_bug_is_there(tmp_path, monkeypatch):
    def forgets_host_memory(self, vm):  # a planted model bug: stop keeps the host's memory held
        if vm.host_uuid is not None:
            self._set(vm, "host_uuid", None)

    class StopStart(CloudStateMachine):
        record_to = tmp_path / "model-bug.yaml"
        operations = frozenset({"create", "start", "stop"})

    monkeypatch.setattr(Cloud, "_release_host", forgets_host_memory)
    final_states(StopStart)
    scenario = scenarios.load(tmp_path / "model-bug.yaml")
    assert "A cloud invariant broke" in scenario.description
    with_bug = scenarios.replay(tmp_path / "model-bug.yaml")
    assert not with_bug.passed
    assert [s.index for s in with_bug.failures] == [len(scenario.steps) - 1]
    monkeypatch.undo()  # the bug fixed: the same file passes
    fixed = scenarios.replay(tmp_path / "model-bug.yaml")
    assert fixed.passed, fixed.report()
