"""``execute`` / ``execute_async`` / ``get_task_result`` through the official SDK: the fake
runs no code; the test registers a handler (``fakestack.instavm.on_execute``) and drives an
agent loop against it.  Executions run on the session's VM (booted on first use, capacity
checked); a task's duration is clock time."""

from __future__ import annotations

import pytest

instavm = pytest.importorskip("instavm")

import requests  # noqa: E402
from conftest import KEY, MiB, host_used_memory  # noqa: E402
from instavm import ExecutionError, InstaVM, NetworkError  # noqa: E402

from fakestack.instavm import on_execute  # noqa: E402


@pytest.fixture
def agent(server):
    """A client as an agent makes it: the constructor starts a session."""
    return InstaVM(api_key=KEY, base_url=server.url, timeout=30, max_retries=0)


def test_without_a_handler_execute_answers_501_naming_how_to_register_one(agent, cloud):
    before = host_used_memory(cloud)
    with pytest.raises(NetworkError, match=r"Server error: 501") as err:
        agent.execute("ls")
    assert "fakestack.instavm.on_execute(cloud, fn)" in str(err.value)
    assert host_used_memory(cloud) == before  # nothing was booted


def test_an_agent_loop_against_a_registered_handler(agent, cloud):
    files: dict[str, str] = {}

    def shell(command: str) -> dict:
        verb, _, rest = command.partition(" ")
        if verb == "write":
            name, _, text = rest.partition("=")
            files[name] = text
            return {"stdout": "", "duration": 2}
        if verb == "cat":
            if rest not in files:
                return {"stderr": f"cat: {rest}: No such file", "exit_code": 1}
            return files[rest]
        raise ValueError(f"unknown command {verb}")

    on_execute(cloud, shell)
    before = host_used_memory(cloud)
    t0 = cloud.clock.now()
    assert agent.execute("cat notes")["exit_code"] == 1  # the first call boots the session's VM
    assert host_used_memory(cloud) == before + 512 * MiB
    status = agent.get_session_status()
    assert (status["vm_assigned"], status["vm_status"]) == (True, "active")
    assert agent.execute("write notes=hello") == {
        "stdout": "",
        "stderr": "",
        "exit_code": 0,
        "execution_time": 2.0,
        "cpu_time": None,
    }
    assert cloud.clock.now() == t0 + 2  # the execution took two seconds of the cloud's clock
    assert agent.execute("cat notes")["stdout"] == "hello"
    failed = agent.execute("rm -rf /")
    assert (failed["exit_code"], failed["stderr"]) == (1, "ValueError: unknown command rm")
    assert len(agent.vms.list()) == 2  # golden + the session's VM, booted once
    cloud.check_invariants()


def test_a_handler_may_take_the_context(agent, cloud):
    seen = []
    on_execute(cloud, lambda command, language, vm_id: seen.append((command, language, vm_id)) or "ok")
    assert agent.execute("print(1)", language="python")["stdout"] == "ok"
    vm_id = agent.get_session_status()["vm_id"]
    assert seen == [("print(1)", "python", vm_id)]


def test_execute_async_reveals_its_output_when_the_clock_reaches_the_end(agent, cloud, server):
    on_execute(cloud, lambda command: {"stdout": f"done: {command}", "duration": 5})
    task = agent.execute_async("make test")
    assert task["status"] == "running"
    raw = requests.get(f"{server.url}/v1/executions/{task['task_id']}", headers={"X-API-Key": KEY})
    assert raw.status_code == 200
    assert (raw.json()["is_complete"], raw.json()["serialized_stdout"]) == (False, "")
    cloud.tick(5)
    result = agent.get_task_result(task["task_id"], poll_interval=1, timeout=5)
    assert (result["stdout"], result["stderr"], result["execution_time"]) == ("done: make test", "", 5.0)
    missing = requests.get(f"{server.url}/v1/executions/nope", headers={"X-API-Key": KEY})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Task not found"})


def test_execute_on_a_dead_unknown_or_unplaceable_session(agent, server, cloud):
    on_execute(cloud, lambda command: "ok")
    agent.execute("true")
    session_id = agent.session_id
    agent.kill()
    stranger = InstaVM(api_key=KEY, base_url=server.url, auto_start_session=False, max_retries=0)
    stranger.session_id = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ExecutionError, match="404"):
        stranger.execute("true")
    # the killed session's VM is not brought back
    killed = InstaVM(api_key=KEY, base_url=server.url, auto_start_session=False, max_retries=0)
    killed.session_id = session_id
    with pytest.raises(ExecutionError, match="409"):
        killed.execute("true")
    # a new session on a full host: booting its VM fails with the host's numbers
    big = InstaVM(api_key=KEY, base_url=server.url, memory_mb=8192, max_retries=0)
    with pytest.raises(NetworkError, match="Insufficient capacity: host_memory"):
        big.execute("true")
    cloud.check_invariants()


def test_a_suspended_vm_with_auto_resume_wakes_for_an_execution(client, cloud):
    on_execute(cloud, lambda command: "ok")
    vm = client.vms.create(wait=True, auto_resume=True)
    client.vms.suspend(vm["vm_id"])
    client.session_id = vm["session_id"]
    assert client.execute("true")["stdout"] == "ok"
    status = client.get_session_status()
    assert status["vm_status"] == "active" and status["vm_id"] != vm["vm_id"]
