"""The official ``instavm`` SDK, unmodified, against a live fakestack server on 127.0.0.1."""

from __future__ import annotations

import pytest

instavm = pytest.importorskip("instavm")

from instavm import AuthenticationError, InstaVM, NetworkError  # noqa: E402
from requests.exceptions import HTTPError  # noqa: E402

from fakestack import Cloud, ManualClock  # noqa: E402
from fakestack.server import start_server  # noqa: E402

KEY = "instavm_sk_fakestack"


@pytest.fixture
def cloud():
    return Cloud("tiny", seed=0, clock=ManualClock())


@pytest.fixture
def server(cloud):
    running = start_server(cloud, host="127.0.0.1", port=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server):
    return InstaVM(api_key=KEY, base_url=server.url, auto_start_session=False, timeout=30, max_retries=0)


def test_sdk_create_clone_list_delete(client, cloud):
    src = client.vms.create(wait=True, vcpu_count=2, memory_mb=512)
    assert src["status"] == "active" and src["vm_id"].startswith("vm_")

    tmp = client.vms.clone(src["vm_id"], wait=True)
    assert (tmp["status"], tmp["snapshot_deleted"]) == ("active", True)

    kept = client.vms.clone(src["vm_id"], wait=True, snapshot_name="golden")
    assert kept["snapshot_deleted"] is False
    snaps = client.snapshots.list()
    assert [(s["id"], s["name"], s["source_vm_id"]) for s in snaps] == [
        (kept["snapshot_id"], "golden", src["vm_id"])
    ]
    assert client.snapshots.get(kept["snapshot_id"])["status"] == "ready"

    running = {vm["vm_id"] for vm in client.vms.list()}
    assert {src["vm_id"], tmp["vm_id"], kept["vm_id"]} <= running

    assert client.vms.delete(tmp["vm_id"])["status"] == "killed"
    assert tmp["vm_id"] not in {vm["vm_id"] for vm in client.vms.list()}
    everything = {vm["vm_id"]: vm["status"] for vm in client.vms.list_all_records()}
    assert everything[tmp["vm_id"]] == "killed"

    assert client.snapshots.delete(kept["snapshot_id"]) == {
        "snapshot_id": kept["snapshot_id"],
        "status": "deleted",
    }
    assert client.snapshots.list() == []
    cloud.check_invariants()


def test_sdk_clone_without_wait_then_poll_the_session(client, cloud):
    src = client.vms.create(wait=True)
    pending = client.vms.clone(src["vm_id"], wait=False)
    assert (pending["vm_id"], pending["status"]) == (None, "creating")
    status = client.get_session_status(pending["session_id"])
    assert (status["exists"], status["vm_status"]) == (True, "creating")
    cloud.tick(1)
    status = client.get_session_status(pending["session_id"])
    assert status["vm_status"] == "active"
    assert client.vms.get(status["vm_id"])["status"] == "active"


def test_sdk_clone_fails_on_exhausted_host_memory(client, cloud):
    big = client.vms.create(wait=True, memory_mb=4096)  # leaves 3 GiB on the tiny host
    with pytest.raises(NetworkError, match=r"Server error: 503") as err:
        client.vms.clone(big["vm_id"], wait=True, snapshot_name="never")
    assert "Insufficient capacity: host_memory (needed 4294967296, available 3221225472)" in str(err.value)
    assert client.snapshots.list() == []
    assert [vm["vm_id"] for vm in client.vms.list_all_records()].count(big["vm_id"]) == 1
    assert len(client.vms.list_all_records()) == 2  # golden + big: nothing left behind
    cloud.check_invariants()


def test_sdk_sees_404_and_422_as_http_errors(client):
    with pytest.raises(HTTPError) as err:
        client.vms.clone("vm_000000000000")
    assert err.value.response.status_code == 404
    assert err.value.response.json() == {"detail": "VM not found"}
    with pytest.raises(HTTPError) as err:
        client.vms.create(wait=True, vcpu_count=3)
    assert err.value.response.status_code == 422
    assert err.value.response.json()["detail"][0]["loc"] == ["body", "vcpu_count"]


def test_sdk_wrong_key_is_an_authentication_error(server):
    wrong = InstaVM(api_key="instavm_sk_wrong", base_url=server.url, auto_start_session=False, max_retries=0)
    with pytest.raises(AuthenticationError):
        wrong.vms.list()


def test_sdk_session_start_and_kill(server):
    client = InstaVM(api_key=KEY, base_url=server.url, timeout=60, max_retries=0)  # starts a session
    assert client.session_id
    status = client.get_session_status()
    assert (status["exists"], status["vm_assigned"]) == (True, False)
    vm = client.vms.create(wait=True, session_id=client.session_id)
    assert vm["session_id"] == client.session_id
    assert client.kill()["status"] == "killed"
    assert client.vms.get(vm["vm_id"])["status"] == "killed"


def test_sdk_resize_and_a_full_host(client, cloud):
    vm = client.vms.create(wait=True, memory_mb=512)
    assert client.vms.update(vm["vm_id"], memory_mb=1024)["memory_mb"] == 1024
    with pytest.raises(NetworkError, match="Insufficient capacity: host_memory"):
        client.vms.update(vm["vm_id"], memory_mb=8192)
    assert client.vms.get(vm["vm_id"])["memory_mb"] == 1024


def test_sdk_oci_build_on_a_full_backup_storage(client, cloud):
    first = client.snapshots.create("big:1", build_args={"disk_size_gb": 16})
    assert first["status"] == "building"
    with pytest.raises(NetworkError, match="Insufficient capacity: backup_storage"):
        client.snapshots.create("big:2", build_args={"disk_size_gb": 16})
    cloud.tick(1)  # no request needed for the build to finish
    assert [(s["id"], s["status"]) for s in client.snapshots.list()] == [(first["id"], "ready")]
