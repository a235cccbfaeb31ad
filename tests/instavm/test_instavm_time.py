"""Time in the InstaVM dialect: what happens when the clock moves, with no InstaVM request
(a ``cloud.on_time`` listener), and ``wait=true`` on a real clock, which must not hold the
cloud while it waits."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from instavm_support import KEY, InstaVM, MiB
from werkzeug.test import Client

from fakestack import Cloud, ManualClock, faults
from fakestack.app import make_app
from fakestack.server import start_server


@pytest.fixture
def api():
    return InstaVM()


def _record(api, vm_id):
    """The dialect's own record, read without a request (a request would settle)."""
    return api.cloud.dialect_state("instavm")["vms"][vm_id]


def _requests_served(api):
    return api.client.application.request_seq


# --- the on_time listener: cloud.tick() alone ----------------------------------------


def test_a_tick_alone_finishes_an_async_clone_and_deletes_its_temporary_snapshot(api):
    source = api.create_vm()
    pending = api.ok(api.clone(source["vm_id"], wait=False))
    clone_id = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))["vm_id"]
    served = _requests_served(api)
    assert _record(api, clone_id)["status"] == "creating" and len(api.cloud.volume_snapshots) == 1
    api.cloud.tick(1)
    assert _requests_served(api) == served
    assert _record(api, clone_id)["status"] == "active"
    assert api.cloud.dialect_state("instavm")["snapshots"] == {}
    assert len(api.cloud.volume_snapshots) == 0
    api.cloud.check_invariants()


def test_a_tick_alone_expires_a_vm_and_frees_its_host(api):
    before = api.host_used_memory()
    vm = api.create_vm(vm_lifetime_seconds=20)
    uuid = _record(api, vm["vm_id"])["uuid"]
    assert api.host_used_memory() == before + 512 * MiB
    api.cloud.tick(19)
    assert api.cloud.vms.find(uuid) is not None
    api.cloud.tick(1)
    assert _record(api, vm["vm_id"])["status"] == "killed"
    assert api.cloud.vms.find(uuid) is None and api.host_used_memory() == before
    api.cloud.check_invariants()


def test_a_tick_alone_finishes_an_oci_build(api):
    built = api.ok(api.post("/v1/snapshots", {"oci_image": "python:3.12"}))
    api.cloud.tick(1)
    assert api.cloud.dialect_state("instavm")["snapshots"][built["id"]]["status"] == "ready"


def test_any_request_settles_instavm_first_even_an_admin_one(api):
    source = api.create_vm()
    pending = api.ok(api.clone(source["vm_id"], wait=False))
    clone_id = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))["vm_id"]
    api.cloud.clock.advance(1)  # the clock moves, no tick: nothing has looked yet
    assert _record(api, clone_id)["status"] == "creating"
    assert api.client.get("/_fakestack/clock").status_code == 200
    assert _record(api, clone_id)["status"] == "active"


def test_a_restored_cloud_gets_its_listener_from_the_app(api):
    source = api.create_vm()
    pending = api.ok(api.clone(source["vm_id"], wait=False))
    restored = Cloud.restore(api.cloud.snapshot(), clock=ManualClock(api.cloud.clock.now()))
    make_app(restored)
    make_app(restored)  # a second app on the same cloud: still one listener
    restored.tick(1)
    session = restored.dialect_state("instavm")["sessions"][pending["session_id"]]
    assert restored.dialect_state("instavm")["vms"][session["vm_id"]]["status"] == "active"
    assert [e["operation"] for e in restored.journal].count("snapshot.delete") == 1
    restored.check_invariants()


def test_a_cloud_without_instavm_records_is_left_alone_by_ticks():
    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    make_app(cloud)
    before = cloud.snapshot()
    cloud.tick(5)
    after = cloud.snapshot()
    assert {k: v for k, v in after.items() if k != "clock"} == {
        k: v for k, v in before.items() if k != "clock"
    }


# --- wait=true on a real clock ---------------------------------------------------------


@pytest.fixture
def live():
    """A real-clock cloud behind a real server (requests from several threads)."""
    cloud = Cloud("tiny", seed=0, clock="system")
    cloud.dialect_state("instavm")["settings"] = {"wait_timeout_seconds": 20.0}
    server = start_server(cloud, host="127.0.0.1", port=0)
    session = requests.Session()
    session.headers.update(KEY)
    yield cloud, server, session
    session.close()
    server.stop()


def _in_background(fn):
    out: dict = {}

    def run():
        out["response"] = fn()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _wait_for_creating_clone(server, session, source_id, waiting_thread):
    """Poll the VM list while the clone request waits; each poll must be answered at once
    (the cloud is not held by the waiting request). Returns the clone's id."""
    for _ in range(200):
        start = time.monotonic()
        listed = session.get(f"{server.url}/v1/vms/", timeout=5).json()
        assert time.monotonic() - start < 1.0
        clones = [v for v in listed if v["source_vm_id"] == source_id]
        if clones:
            assert waiting_thread.is_alive()  # seen while the clone request is still waiting
            assert clones[0]["status"] == "creating"
            return clones[0]["vm_id"]
        time.sleep(0.01)
    raise AssertionError("the clone never appeared")


def test_a_waiting_clone_does_not_block_other_clients(live):
    cloud, server, session = live
    source = session.post(f"{server.url}/v1/vms", json={}, timeout=5).json()
    faults.add(cloud, faults.latency("vm.create", 2.0, times=1))
    started = time.monotonic()
    thread, out = _in_background(
        lambda: session.post(f"{server.url}/v1/vms/{source['vm_id']}/clone?wait=true", json={}, timeout=10)
    )
    clone_id = _wait_for_creating_clone(server, session, source["vm_id"], thread)
    # another client can work meanwhile: a snapshot of the source goes through
    snap = session.post(f"{server.url}/v1/vms/{source['vm_id']}/snapshot", json={"name": "mid"}, timeout=5)
    assert (snap.status_code, snap.json()["status"]) == (200, "ready")
    thread.join(10)
    response = out["response"]
    assert time.monotonic() - started >= 2.0
    assert response.status_code == 200
    assert response.json()["vm_id"] == clone_id
    assert (response.json()["status"], response.json()["snapshot_deleted"]) == ("active", True)
    cloud.check_invariants()


def test_moving_the_clock_through_the_admin_api_ends_a_real_clock_wait(live):
    cloud, server, session = live
    source = session.post(f"{server.url}/v1/vms", json={}, timeout=5).json()
    faults.add(cloud, faults.latency("vm.create", 60, times=1))
    thread, out = _in_background(
        lambda: session.post(f"{server.url}/v1/vms/{source['vm_id']}/clone?wait=true", json={}, timeout=10)
    )
    _wait_for_creating_clone(server, session, source["vm_id"], thread)
    moved = requests.post(f"{server.url}/_fakestack/clock", json={"advance": 60}, timeout=5)
    assert moved.status_code == 200
    thread.join(5)
    assert not thread.is_alive()
    assert (out["response"].status_code, out["response"].json()["status"]) == (200, "active")


def test_a_vm_deleted_while_its_create_waits_answers_killed(live):
    cloud, server, session = live
    faults.add(cloud, faults.latency("vm.create", 60, times=1))
    thread, out = _in_background(lambda: session.post(f"{server.url}/v1/vms?wait=true", json={}, timeout=10))
    for _ in range(200):
        creating = [
            v for v in session.get(f"{server.url}/v1/vms", timeout=5).json() if v["status"] == "creating"
        ]
        if creating:
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the VM never appeared")
    assert (
        session.delete(f"{server.url}/v1/vms/{creating[0]['vm_id']}", timeout=5).json()["status"] == "killed"
    )
    thread.join(5)
    assert (
        out["response"].status_code,
        out["response"].json()["vm_id"],
        out["response"].json()["status"],
    ) == (200, creating[0]["vm_id"], "killed")
    cloud.check_invariants()


def test_a_real_clock_wait_under_a_frozen_clock_still_gives_up():
    """The wait counts the time it slept, not clock readings: a frozen clock (freezegun)
    cannot make it wait forever."""
    from freezegun import freeze_time

    started = time.perf_counter()  # freezegun stops perf_counter too: measure outside
    with freeze_time("2026-03-01 12:00:00"):
        cloud = Cloud("tiny", seed=0, clock="system")
        cloud.dialect_state("instavm")["settings"] = {"wait_timeout_seconds": 0.2}
        client = Client(make_app(cloud))
        with faults.inject(cloud, faults.latency("vm.create", 5)):
            response = client.post("/v1/vms?wait=true", json={}, headers=KEY)
    assert (response.status_code, response.get_json()) == (504, {"detail": "VM provisioning timed out"})
    assert 0.2 <= time.perf_counter() - started < 5


def test_a_reset_while_a_create_waits_answers_404(live):
    cloud, server, session = live
    faults.add(cloud, faults.latency("vm.create", 60, times=1))
    thread, out = _in_background(lambda: session.post(f"{server.url}/v1/vms?wait=true", json={}, timeout=10))
    for _ in range(200):
        if [v for v in session.get(f"{server.url}/v1/vms", timeout=5).json() if v["status"] == "creating"]:
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the VM never appeared: the reset would not happen while it waits")
    assert requests.post(f"{server.url}/_fakestack/reset", timeout=5).status_code == 200
    thread.join(5)
    assert (out["response"].status_code, out["response"].json()) == (404, {"detail": "VM not found"})


def test_a_slow_snapshot_on_a_real_clock_is_waited_for():
    cloud = Cloud("tiny", seed=0, clock="system")
    client = Client(make_app(cloud))
    vm = client.post("/v1/vms", json={}, headers=KEY).get_json()
    with faults.inject(cloud, faults.latency("snapshot.create", 0.1)):
        response = client.post(f"/v1/vms/{vm['vm_id']}/snapshot?wait=true", json={"name": "s"}, headers=KEY)
    assert (response.status_code, response.get_json()["status"]) == (200, "ready")


# --- ready times are model job ends ----------------------------------------------------


def test_an_async_boot_is_ready_when_its_model_jobs_end_and_the_record_keeps_no_time(api):
    t0 = api.cloud.clock.now()
    pending = api.create_vm(wait=False)
    vm_id = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))["vm_id"]
    rec = _record(api, vm_id)
    assert "ready_at" not in rec
    boot, timer = api.cloud.jobs.get(rec["job"]), api.cloud.jobs.get(rec["timer"])
    assert (boot.operation, boot.end) == ("vm.create", t0)
    # the timer is named after the record it times (no id drawn) and lasts async_boot_seconds
    assert (timer.operation, timer.uuid, timer.start, timer.end) == ("vm.boot", vm_id, t0, t0 + 1)
    assert api.cloud.job_state(timer) == "Running"
    api.cloud.tick(1)
    assert api.cloud.job_state(timer) == "Succeeded"
    assert (_record(api, vm_id)["status"], _record(api, vm_id)["booted_at"]) == ("active", t0 + 1)


def test_an_oci_build_waits_for_a_timed_job_named_after_its_record(api):
    snap = api.ok(api.post("/v1/snapshots", {"oci_image": "docker.io/library/python:3.12"}))
    rec = api.cloud.dialect_state("instavm")["snapshots"][snap["id"]]
    timer = api.cloud.jobs.get(rec["timer"])
    assert (timer.operation, timer.uuid, timer.end - timer.start) == ("image.build", snap["id"], 1.0)
    assert "ready_at" not in rec and rec["status"] == "building"
    api.cloud.tick(1)
    assert api.cloud.dialect_state("instavm")["snapshots"][snap["id"]]["status"] == "ready"
