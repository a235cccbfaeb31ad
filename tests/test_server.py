"""The local endpoint: a live server on an ephemeral port, its state file, concurrency."""

from __future__ import annotations

import json
import os
import shutil
import threading

import httpx
import pytest
from werkzeug.wrappers import Response

from fakestack import Cloud, ManualClock
from fakestack.app import make_app
from fakestack.server import (
    StateFileError,
    read_state_file,
    start_server,
    write_state_file,
)


class VmDialect:
    """A small test dialect over the model: POST /t/clone/<source>/<name>,
    POST /t/destroy/<name> (destroy + expunge), GET /t/vms."""

    name = "t"
    prefixes = ("/t",)

    def __init__(self, cloud) -> None:
        self.cloud = cloud

    def handle(self, request):
        parts = request.path.strip("/").split("/")
        cloud = self.cloud
        if request.method == "GET" and parts == ["t", "vms"]:
            return _json({"vms": [vm.name for vm in cloud.vms]})
        if request.method == "POST" and len(parts) == 4 and parts[1] == "clone":
            result = cloud.clone_vm(parts[2], [parts[3]])
            entry = result.entries[0]
            if entry.error is not None:
                return _json({"error": entry.error.to_dict()}, 409)
            return _json({"uuid": entry.vm.uuid, "state": entry.vm.state}, 201)
        if request.method == "POST" and len(parts) == 3 and parts[1] == "destroy":
            vm = cloud.vms.get(parts[2])
            cloud.destroy_vm(vm)
            cloud.expunge_vm(vm)
            return _json({"ok": True})
        return _json({"error": "no such route"}, 404)


def _json(data, status=200):
    return Response(json.dumps(data), status=status, mimetype="application/json")


def state_vm_names(path) -> list[str]:
    """The names of the VMs in the state file at ``path``."""
    return [vm["name"] for vm in Cloud.snapshot_records(read_state_file(path), "vms")]


def serve(cloud, **kw):
    return start_server(cloud, app=make_app(cloud, dialects=[VmDialect(cloud)]), **kw)


@pytest.fixture
def cloud():
    return Cloud("demo", seed=0, clock=ManualClock())


# -- a live server ----------------------------------------------------------------------


def test_server_listens_on_an_ephemeral_loopback_port_and_stops(cloud):
    server = start_server(cloud, port=0)
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.cloud is cloud and server.app.cloud is cloud
        response = httpx.get(server.url + "/_fakestack/health")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["topology"] == "demo"
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/_fakestack/health", timeout=2)
    server.stop()  # a second stop is harmless


def test_server_is_a_context_manager(cloud):
    with serve(cloud) as server:
        assert httpx.post(server.url + "/t/clone/golden/c1").status_code == 201
    assert [vm.name for vm in cloud.vms] == ["golden", "c1"]


def test_the_logger_gets_one_line_per_request(cloud):
    lines = []
    with serve(cloud, log=lines.append) as server:
        with httpx.Client(base_url=server.url) as http:
            http.get("/_fakestack/health")
            http.post("/t/clone/golden/c1")
            http.get("/t/vms", params={"x": "1"})
            http.get("/elsewhere")
    assert lines == [
        "127.0.0.1 GET /_fakestack/health -> 200 [admin]",
        "127.0.0.1 POST /t/clone/golden/c1 -> 201 [t]",
        "127.0.0.1 GET /t/vms?x=1 -> 200 [t]",
        "127.0.0.1 GET /elsewhere -> 404 [-]",
    ]


def test_the_journal_over_http_records_the_client_address(cloud):
    with serve(cloud) as server:
        httpx.post(server.url + "/t/clone/golden/c1")
        journal = httpx.get(server.url + "/_fakestack/journal").json()
    [entry] = journal["requests"]
    assert (entry["remote_addr"], entry["path"], entry["status"]) == ("127.0.0.1", "/t/clone/golden/c1", 201)
    assert [op["operation"] for op in journal["operations"]] == ["vm.clone"]


def test_a_taken_port_raises_oserror_and_touches_no_state(cloud, tmp_path):
    with start_server(cloud) as first:
        with pytest.raises(OSError):
            start_server(Cloud("tiny"), port=first.port, state_file=tmp_path / "state.json")
    assert os.listdir(tmp_path) == []


# -- the state file ---------------------------------------------------------------------


def test_state_file_is_created_at_start_with_the_initial_snapshot(cloud, tmp_path):
    path = tmp_path / "state.json"
    with serve(cloud, state_file=path):
        assert read_state_file(path) == json.loads(json.dumps(cloud.snapshot()))


def test_state_file_follows_every_mutating_request_before_the_answer(cloud, tmp_path):
    path = tmp_path / "state.json"
    with serve(cloud, state_file=path) as server:
        with httpx.Client(base_url=server.url) as http:
            assert http.post("/t/clone/golden/c1").status_code == 201
            assert state_vm_names(path) == ["golden", "c1"]
            http.post("/_fakestack/clock", json={"advance": 120})
            assert read_state_file(path)["clock"]["offset"] == 120.0
            http.post("/t/destroy/c1")
            assert state_vm_names(path) == ["golden"]
    assert sorted(os.listdir(tmp_path)) == ["state.json"]  # no temporary files left behind


def test_a_killed_server_restarts_from_its_state_file(tmp_path):
    path = tmp_path / "state.json"
    first = Cloud("demo", seed=0, clock=ManualClock())
    server = serve(first, state_file=path)
    with httpx.Client(base_url=server.url) as http:
        for name in ("c1", "c2", "c3"):
            assert http.post(f"/t/clone/golden/{name}").status_code == 201
        http.post("/t/destroy/c2")
        http.post("/_fakestack/clock", json={"advance": 30})
        acknowledged = http.get("/_fakestack/state").json()
    # Simulate a kill: nothing runs after the last answer (stop() only closes the socket).
    server.stop()
    second = Cloud("demo", seed=0, clock=ManualClock())  # a fresh cloud, as at a restart
    with serve(second, state_file=path) as restarted:
        assert httpx.get(restarted.url + "/_fakestack/state").json() == acknowledged
        assert httpx.get(restarted.url + "/t/vms").json() == {"vms": ["golden", "c1", "c3"]}
        assert httpx.get(restarted.url + "/_fakestack/invariants").json() == {"ok": True, "breaches": []}
        # The restored cloud goes on where the first one stopped: same next ids.
        uuid = httpx.post(restarted.url + "/t/clone/golden/c4").json()["uuid"]
    first.load_snapshot(acknowledged)
    assert first.clone_vm("golden", ["c4"]).entries[0].vm.uuid == uuid


def test_load_snapshot_restores_in_place_keeping_the_object_and_its_lock(cloud):
    other = Cloud("demo", seed=0, clock=ManualClock())
    other.clone_vm("golden", ["c1"])
    lock = cloud.lock
    cloud.load_snapshot(other.snapshot())
    assert cloud.lock is lock
    assert cloud.snapshot() == other.snapshot()


def test_an_unreadable_state_file_is_refused(cloud, tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{half")
    with pytest.raises(StateFileError, match="cannot read state file .*state.json"):
        start_server(cloud, state_file=path)
    path.write_text('{"version": 99}')
    with pytest.raises(StateFileError, match="cannot restore state file .*unsupported snapshot version 99"):
        start_server(cloud, state_file=path)


def test_a_state_that_cannot_be_saved_is_not_acknowledged(cloud, tmp_path):
    folder = tmp_path / "gone"
    folder.mkdir()
    logged = []
    with serve(cloud, state_file=folder / "state.json", log=logged.append) as server:
        shutil.rmtree(folder)
        response = httpx.post(server.url + "/t/clone/golden/c1")
    assert response.status_code == 500
    assert response.json()["error"] == "state_not_saved"
    assert response.json()["message"].startswith(
        f"state not saved to {folder / 'state.json'}: FileNotFoundError"
    )
    assert logged[-1] == "127.0.0.1 POST /t/clone/golden/c1 -> 500 [t]"


def test_write_state_file_replaces_the_file_whole(tmp_path):
    path = tmp_path / "s.json"
    write_state_file(path, {"a": 1})
    write_state_file(path, {"b": [1, 2]})
    assert json.loads(path.read_text()) == {"b": [1, 2]}
    assert os.listdir(tmp_path) == ["s.json"]


# -- concurrency ------------------------------------------------------------------------


def test_concurrent_clients_never_break_an_invariant(cloud, tmp_path):
    threads_n, rounds = 8, 12
    errors = []

    def worker(i: int, url: str) -> None:
        try:
            with httpx.Client(base_url=url, timeout=30) as http:
                for r in range(rounds):
                    name = f"w{i}-{r}"
                    assert http.post(f"/t/clone/golden/{name}").status_code == 201
                    http.get("/_fakestack/capacity").raise_for_status()
                    if r % 2:
                        assert http.post(f"/t/destroy/{name}").status_code == 200
                    assert http.get("/_fakestack/invariants").status_code == 200
        except Exception as exc:  # surfaced below, with the thread's name
            errors.append(f"worker {i}: {exc!r}")

    with serve(cloud, state_file=tmp_path / "state.json") as server:
        threads = [threading.Thread(target=worker, args=(i, server.url)) for i in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert httpx.get(server.url + "/_fakestack/invariants").json() == {"ok": True, "breaches": []}
        names = httpx.get(server.url + "/t/vms").json()["vms"]
        assert server.app.request_seq == threads_n * rounds * 3 + threads_n * rounds // 2 + 2
    expected = {"golden"} | {f"w{i}-{r}" for i in range(threads_n) for r in range(0, rounds, 2)}
    assert sorted(names) == sorted(expected)
    assert len(names) == len(expected)
    assert state_vm_names(tmp_path / "state.json") == names


def test_a_zstack_session_acknowledged_before_a_kill_is_valid_after_restart(tmp_path):
    """The real dialects through make_app(cloud): a login (PUT) is saved with the state."""
    import hashlib

    path = tmp_path / "state.json"
    server = start_server(Cloud("demo"), state_file=path)
    login = {"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"password").hexdigest()}}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        response = http.put("/zstack/v1/accounts/login", json=login)
        assert response.status_code == 200
        session = response.json()["inventory"]["uuid"]
    server.stop()
    with start_server(Cloud("tiny"), state_file=path) as restarted:
        response = httpx.get(
            restarted.url + "/zstack/v1/vm-instances",
            headers={"Authorization": f"OAuth {session}"},
            timeout=10,
        )
        assert response.status_code == 200
        assert [vm["name"] for vm in response.json()["inventories"]] == ["golden"]
        assert restarted.cloud.topology.name == "demo"


class DroppingDialect(VmDialect):
    """Clones, then drops the connection as a fault rule's drop_connection effect does."""

    name = "drop"
    prefixes = ("/drop",)

    def handle(self, request):
        from fakestack.faults import DropConnection

        self.cloud.clone_vm("golden", [request.path.rsplit("/", 1)[1]])
        raise DropConnection("fault rule r1 drops the connection")


def test_a_dropped_connection_gets_no_answer_but_is_logged_journaled_and_saved(cloud, tmp_path):
    path = tmp_path / "state.json"
    lines = []
    app = make_app(cloud, dialects=[VmDialect(cloud), DroppingDialect(cloud)])
    with start_server(cloud, app=app, state_file=path, log=lines.append) as server:
        with pytest.raises(httpx.TransportError):
            httpx.post(server.url + "/drop/c1", timeout=10)
        assert httpx.get(server.url + "/t/vms").json() == {"vms": ["golden", "c1"]}  # still serving
        [entry] = httpx.get(server.url + "/_fakestack/journal").json()["requests"][:1]
    assert (entry["path"], entry["status"]) == ("/drop/c1", None)
    assert entry["response_body"] == "<no response: DropConnection: fault rule r1 drops the connection>"
    assert lines[0] == "127.0.0.1 POST /drop/c1 -> dropped [drop]"
    assert state_vm_names(path) == ["golden", "c1"]
