"""POST /v1/vms/{vm_id}/clone: snapshot the source, boot a clone from it, clean up."""

from __future__ import annotations

import pytest
from instavm_support import InstaVM, MiB

from fakestack import faults
from fakestack.dialects.instavm.ids import SESSION_ID, SNAPSHOT_ID, VM_ID


@pytest.fixture
def api():
    return InstaVM()


@pytest.fixture
def source(api):
    return api.create_vm()


def _counts(api):
    """What a failed request must not change (the ledgers are checked further down)."""
    state = api.cloud.dialect_state("instavm")
    return (
        len(api.cloud.vms),
        len(api.cloud.volumes),
        len(api.cloud.volume_snapshots),
        api.host_used_memory(),
        len(state["vms"]),
        len(state["snapshots"]),
        len(state["sessions"]),
    )


def test_clone_without_a_name_deletes_its_temporary_snapshot(api, source):
    result = api.ok(api.clone(source["vm_id"]))
    assert list(result) == ["vm_id", "session_id", "status", "snapshot_id", "snapshot_deleted"]
    assert VM_ID.match(result["vm_id"]) and SNAPSHOT_ID.match(result["snapshot_id"])
    assert SESSION_ID.match(result["session_id"]) and result["session_id"] != source["session_id"]
    assert (result["status"], result["snapshot_deleted"]) == ("active", True)
    assert api.get(f"/v1/snapshots/{result['snapshot_id']}").status_code == 404
    assert api.snapshots() == []
    assert len(api.cloud.volume_snapshots) == 0
    clone = api.ok(api.get(f"/v1/vms/{result['vm_id']}"))
    assert (clone["source_vm_id"], clone["snapshot_id"], clone["memory_mb"], clone["vcpu_count"]) == (
        source["vm_id"],
        result["snapshot_id"],
        512,
        2,
    )
    api.cloud.check_invariants()


def test_clone_shares_the_frozen_disk_with_its_source(api, source):
    src_root = api.cloud.volumes.get(api.model_vm(source["vm_id"]).root_volume_uuid)
    api.cloud.write(src_root, 64 * MiB)
    leaf_before = src_root.node_uuid
    result = api.ok(api.clone(source["vm_id"]))
    clone_root = api.cloud.volumes.get(api.model_vm(result["vm_id"]).root_volume_uuid)
    frozen = api.cloud.nodes.get(leaf_before)
    assert frozen.frozen and frozen.hidden  # temporary snapshot deleted, data kept for both
    assert api.cloud.nodes.get(src_root.node_uuid).parent_uuid == leaf_before
    assert api.cloud.nodes.get(clone_root.node_uuid).parent_uuid == leaf_before
    assert frozen.actual_size == 65 * MiB


def test_clone_with_a_name_keeps_a_listed_user_snapshot(api, source):
    result = api.ok(api.clone(source["vm_id"], snapshot_name="golden"))
    assert (result["status"], result["snapshot_deleted"]) == ("active", False)
    [snap] = api.snapshots()
    assert (
        snap["id"],
        snap["name"],
        snap["source_vm_id"],
        snap["status"],
        snap["type"],
        snap["snapshot_type"],
    ) == (result["snapshot_id"], "golden", source["vm_id"], "ready", "user", "vm")
    again = api.create_vm(snapshot_id=snap["id"])
    assert again["snapshot_id"] == snap["id"]


def test_clone_of_a_clone(api, source):
    first = api.ok(api.clone(source["vm_id"]))
    second = api.ok(api.clone(first["vm_id"]))
    assert api.ok(api.get(f"/v1/vms/{second['vm_id']}"))["source_vm_id"] == first["vm_id"]


def test_clone_without_wait_answers_at_once_then_becomes_active(api, source):
    pending = api.ok(api.clone(source["vm_id"], wait=False))
    assert pending == {
        "vm_id": None,
        "session_id": pending["session_id"],
        "status": "creating",
        "snapshot_id": None,
        "snapshot_deleted": None,
    }
    status = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))
    assert (status["exists"], status["vm_assigned"], status["vm_status"]) == (True, True, "creating")
    clone_id = status["vm_id"]
    record = api.ok(api.get(f"/v1/vms/{clone_id}"))
    assert (record["status"], record["expires_at"]) == ("creating", None)
    assert [s["id"] for s in api.snapshots()] == [record["snapshot_id"]]  # until the boot ends
    api.cloud.tick(0.5)
    assert api.ok(api.get(f"/v1/vms/{clone_id}"))["status"] == "creating"
    api.cloud.tick(0.5)
    status = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))
    assert (status["vm_status"], status["vm_alive"], status["vm_id"]) == ("active", True, clone_id)
    assert api.snapshots() == []
    api.cloud.check_invariants()


def test_clone_without_wait_and_a_name_keeps_the_snapshot(api, source):
    pending = api.ok(api.clone(source["vm_id"], wait=False, snapshot_name="keep"))
    api.cloud.tick(1)
    vm_id = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))["vm_id"]
    assert [s["name"] for s in api.snapshots()] == ["keep"]
    assert api.ok(api.get(f"/v1/vms/{vm_id}"))["status"] == "active"


def test_clone_of_an_unknown_vm_is_404(api):
    response = api.clone("vm_000000000000")
    assert (response.status_code, response.get_json()) == (404, {"detail": "VM not found"})


@pytest.mark.parametrize("wait", [True, False])
def test_clone_of_a_vm_that_is_not_active_is_409(api, wait):
    pending = api.create_vm(wait=False)
    vm_id = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))["vm_id"]
    creating = api.clone(vm_id, wait=wait)
    assert (creating.status_code, creating.get_json()) == (
        409,
        {"detail": f"VM {vm_id} is not active (status: creating)"},
    )
    api.cloud.tick(1)
    api.ok(api.delete(f"/v1/vms/{vm_id}"))
    killed = api.clone(vm_id, wait=wait)
    assert killed.get_json() == {"detail": f"VM {vm_id} is not active (status: killed)"}


def test_clone_validation_errors(api, source):
    bad = api.client.post(
        f"/v1/vms/{source['vm_id']}/clone?wait=perhaps",
        json={"snapshot_name": 1},
        headers={"X-API-Key": "instavm_sk_fakestack"},
    )
    assert bad.status_code == 422
    assert [item["loc"] for item in bad.get_json()["detail"]] == [
        ["query", "wait"],
        ["body", "snapshot_name"],
    ]
    absent = api.client.post(
        f"/v1/vms/{source['vm_id']}/clone", headers={"X-API-Key": "instavm_sk_fakestack"}
    )
    assert absent.get_json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }


@pytest.mark.parametrize("wait", [True, False])
def test_clone_on_exhausted_host_memory_is_503_and_leaves_nothing(api, wait):
    big = api.create_vm(memory_mb=4096)  # tiny: 7 GiB free, 3 GiB left after this one
    before = _counts(api)
    response = api.clone(big["vm_id"], wait=wait, snapshot_name="named")
    assert response.status_code == 503
    assert response.get_json() == {
        "detail": "Insufficient capacity: host_memory (needed 4294967296, available 3221225472)"
    }
    assert _counts(api) == before
    assert api.snapshots() == []
    api.cloud.check_invariants()


def _ledgers(api):
    """Every physical ledger and tree the model keeps."""
    c = api.cloud
    return (
        [(h.name, h.used_cpu, h.used_memory, h.vm_count) for h in c.hosts],
        [(p.name, p.used_virtual, p.used_physical) for p in c.primary_storages],
        [(b.name, b.used) for b in c.backup_storages],
        [(n.uuid, n.parent_uuid, n.children, n.frozen, n.hidden, n.actual_size) for n in c.nodes],
        [(v.uuid, v.node_uuid) for v in c.volumes],
    )


def _state_without_history(api):
    """The whole cloud dump but the id counters and the job history (a failed step is
    still a job that ran)."""
    dump = api.cloud.snapshot()
    return {k: v for k, v in dump.items() if k not in ("ids", "jobs")}


@pytest.mark.parametrize("fault", [None, "exhaust", "fail"])
def test_a_failed_boot_leaves_nothing_at_all_behind(api, fault):
    big = api.create_vm(memory_mb=4096 if fault is None else 512)
    root = api.cloud.volumes.get(api.model_vm(big["vm_id"]).root_volume_uuid)
    leaf = root.node_uuid
    ledgers, state = _ledgers(api), _state_without_history(api)
    rules = {
        None: [],
        "exhaust": [faults.exhaust("vm.create", "host.memory")],
        "fail": [faults.fail("vm.create", "no boot today")],
    }[fault]
    with faults.inject(api.cloud, *rules):
        response = api.clone(big["vm_id"], snapshot_name="named")
    assert response.status_code == (500 if fault == "fail" else 503)
    assert _ledgers(api) == ledgers
    assert _state_without_history(api) == state
    # both steps ran as model operations (fault rules see them), then were undone together
    assert [e["operation"] for e in api.cloud.journal][-3:] == [
        "snapshot.create",
        "vm.create",
        "atomic.rollback",
    ]
    # the source is back on its own leaf, which is writable again
    assert root.node_uuid == leaf and not api.cloud.nodes.get(leaf).frozen
    assert api.cloud.write(root, MiB) == MiB
    api.cloud.check_invariants()


def test_a_failed_boot_without_wait_leaves_only_the_failed_records(api, source):
    ledgers = _ledgers(api)
    with faults.inject(api.cloud, faults.fail("vm.create", "no boot today")):
        pending = api.ok(api.clone(source["vm_id"], wait=False))
    assert _ledgers(api) == ledgers
    status = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))
    assert api.ok(api.get(f"/v1/vms/{status['vm_id']}"))["status"] == "failed"
    api.cloud.check_invariants()


def test_a_one_shot_exhaustion_hits_one_clone_only(api, source):
    faults.add(api.cloud, faults.exhaust("vm.create", "host.memory", times=1))
    assert api.clone(source["vm_id"]).status_code == 503
    assert api.ok(api.clone(source["vm_id"]))["status"] == "active"
    assert api.ok(api.clone(source["vm_id"], wait=False))["status"] == "creating"


def test_injected_host_memory_exhaustion_looks_like_a_real_one(api, source):
    before = _counts(api)
    with faults.inject(api.cloud, faults.exhaust("vm.create", "host.memory")):
        response = api.clone(source["vm_id"])
    assert response.status_code == 503
    assert response.get_json()["detail"].startswith("Insufficient capacity: host_memory (needed 536870912")
    assert _counts(api) == before


def test_snapshot_step_failure_with_wait_leaves_nothing(api, source):
    before = _counts(api)
    with faults.inject(api.cloud, faults.fail("snapshot.create", "storage said no")):
        response = api.clone(source["vm_id"])
    assert (response.status_code, response.get_json()) == (500, {"detail": "storage said no"})
    assert _counts(api) == before


def test_snapshot_step_failure_without_wait_fails_the_session(api, source):
    with faults.inject(api.cloud, faults.fail("snapshot.create", "storage said no")):
        pending = api.ok(api.clone(source["vm_id"], wait=False))
    status = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))
    assert (status["exists"], status["vm_assigned"], status["vm_status"], status["last_error"]) == (
        True,
        False,
        "failed",
        "storage said no",
    )


def test_boot_failure_without_wait_leaves_a_failed_record_holding_nothing(api, source):
    before_memory = api.host_used_memory()
    with faults.inject(api.cloud, faults.fail("vm.create", "no boot today")):
        pending = api.ok(api.clone(source["vm_id"], wait=False, snapshot_name="named"))
    status = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))
    assert (status["vm_status"], status["vm_alive"], status["last_error"]) == (
        "failed",
        False,
        "no boot today",
    )
    failed = api.ok(api.get(f"/v1/vms/{status['vm_id']}"))
    assert failed["status"] == "failed"
    assert status["vm_id"] not in [v["vm_id"] for v in api.ok(api.get("/v1/vms"))]
    assert status["vm_id"] in [v["vm_id"] for v in api.ok(api.get("/v1/vms/"))]
    assert api.snapshots() == [] and len(api.cloud.volume_snapshots) == 0
    assert api.host_used_memory() == before_memory
    api.cloud.check_invariants()


def test_cleanup_failure_answers_200_and_the_snapshot_stays_listed(api, source):
    with faults.inject(api.cloud, faults.fail("snapshot.delete", "busy")):
        result = api.ok(api.clone(source["vm_id"]))
    assert (result["status"], result["snapshot_deleted"]) == ("active", False)
    assert [s["id"] for s in api.snapshots()] == [result["snapshot_id"]]


def test_boot_latency_on_a_manual_clock_moves_the_clock(api, source):
    start = api.cloud.clock.now()
    with faults.inject(api.cloud, faults.latency("vm.create", 20)):
        result = api.ok(api.clone(source["vm_id"]))
    assert result["status"] == "active"
    assert api.cloud.clock.now() == start + 20
    clone = api.ok(api.get(f"/v1/vms/{result['vm_id']}"))
    assert clone["expires_at"] == "2026-01-01T00:05:20"


def test_hung_boot_is_504_and_the_clone_finishes_when_released(api, source):
    faults.add(api.cloud, faults.hang("vm.create", times=1))
    response = api.clone(source["vm_id"])
    assert (response.status_code, response.get_json()) == (504, {"detail": "VM provisioning timed out"})
    [clone] = [v for v in api.ok(api.get("/v1/vms/")) if v["source_vm_id"] == source["vm_id"]]
    assert clone["status"] == "creating"
    assert len(api.snapshots()) == 1
    faults.release(api.cloud)
    assert api.ok(api.get(f"/v1/vms/{clone['vm_id']}"))["status"] == "active"
    assert api.snapshots() == []


@pytest.mark.parametrize("code, status", [("rate_limit", 429), ("forbidden", 403), (None, 500)])
def test_dialect_level_faults_on_clone(api, source, code, status):
    before = _counts(api)
    with faults.inject(api.cloud, faults.fail("instavm:CloneVm", "not now", code=code)):
        response = api.clone(source["vm_id"])
    assert (response.status_code, response.get_json()) == (status, {"detail": "not now"})
    assert response.headers["Content-Type"] == "application/json"
    assert _counts(api) == before


def test_real_clock_waits_for_a_slow_boot_then_gives_up_with_504():
    from werkzeug.test import Client

    from fakestack import Cloud
    from fakestack.app import make_app

    cloud = Cloud("tiny", seed=0, clock="system")
    cloud.dialect_state("instavm")["settings"] = {"wait_timeout_seconds": 0.2}
    client = Client(make_app(cloud))
    key = {"X-API-Key": "instavm_sk_fakestack"}
    source = client.post("/v1/vms", json={}, headers=key).get_json()
    with faults.inject(cloud, faults.latency("vm.create", 0.05)):
        quick = client.post(f"/v1/vms/{source['vm_id']}/clone", json={}, headers=key)
    assert (quick.status_code, quick.get_json()["status"]) == (200, "active")
    with faults.inject(cloud, faults.latency("vm.create", 60)):
        slow = client.post(f"/v1/vms/{source['vm_id']}/clone", json={}, headers=key)
    assert (slow.status_code, slow.get_json()) == (504, {"detail": "VM provisioning timed out"})
    creating = [v for v in client.get("/v1/vms", headers=key).get_json() if v["status"] == "creating"]
    assert len(creating) == 1
