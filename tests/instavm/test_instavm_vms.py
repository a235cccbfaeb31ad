"""InstaVM VMs, snapshots and sessions on the simulator (tiny topology, manual clock)."""

from __future__ import annotations

import re

import pytest
from instavm_support import KEY, InstaVM, MiB
from werkzeug.test import Client

from fakestack import Cloud, ManualClock
from fakestack.app import make_app
from fakestack.dialects.instavm.ids import SESSION_ID, SNAPSHOT_ID, VM_ID
from fakestack.model.kinds import ImageKind


@pytest.fixture
def api():
    return InstaVM()


# --- create ------------------------------------------------------------------------


def test_create_with_defaults_boots_a_2_vcpu_512_mb_vm_for_300_seconds(api):
    before = api.host_used_memory()
    vm = api.create_vm()
    assert VM_ID.match(vm["vm_id"]) and SESSION_ID.match(vm["session_id"])
    assert vm == {
        "vm_id": vm["vm_id"],
        "session_id": vm["session_id"],
        "status": "active",
        "created_at": "2026-01-01T00:00:00",
        "expires_at": "2026-01-01T00:05:00",
        "vm_lifetime_seconds": 300,
        "vcpu_count": 2,
        "memory_mb": 512,
        "snapshot_id": None,
        "source_vm_id": None,
        "metadata": {},
        "snapshot_on_terminate": False,
        "snapshot_name": None,
        "ssh_host": None,
    }
    model = api.model_vm(vm["vm_id"])
    assert (model.state, model.cpu_num, model.memory_size) == ("Running", 2, 512 * MiB)
    assert api.host_used_memory() == before + 512 * MiB


def test_create_with_size_lifetime_and_metadata(api):
    vm = api.create_vm(vcpu_count=4, memory_mb=1024, vm_lifetime_seconds=60, metadata={"team": "a"})
    assert (vm["vcpu_count"], vm["memory_mb"], vm["expires_at"]) == (4, 1024, "2026-01-01T00:01:00")
    assert vm["metadata"] == {"team": "a"}
    assert api.model_vm(vm["vm_id"]).memory_size == 1024 * MiB


def test_create_without_wait_answers_at_once_and_becomes_active_as_the_clock_moves(api):
    pending = api.create_vm(wait=False)
    assert pending == {"vm_id": None, "session_id": pending["session_id"], "status": "creating"}
    status = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))
    assert (status["vm_status"], status["vm_alive"]) == ("creating", False)
    vm_id = status["vm_id"]
    assert api.ok(api.get(f"/v1/vms/{vm_id}"))["status"] == "creating"
    assert vm_id in [v["vm_id"] for v in api.ok(api.get("/v1/vms"))]
    api.cloud.tick(1.0)
    vm = api.ok(api.get(f"/v1/vms/{vm_id}"))
    assert (vm["status"], vm["expires_at"]) == ("active", "2026-01-01T00:05:01")


def test_create_that_does_not_fit_is_503_and_leaves_nothing(api):
    before = (len(api.cloud.vms), api.host_used_memory(), len(api.ok(api.get("/v1/vms/"))))
    response = api.post("/v1/vms", {"memory_mb": 8192})
    assert response.status_code == 503
    assert response.get_json() == {
        "detail": "Insufficient capacity: host_memory (needed 8589934592, available 7516192768)"
    }
    assert (len(api.cloud.vms), api.host_used_memory(), len(api.ok(api.get("/v1/vms/")))) == before
    api.cloud.check_invariants()


def test_create_into_an_existing_session(api):
    session_id = api.ok(api.client.post("/v1/sessions/session", json={"api_key": "instavm_sk_fakestack"}))[
        "session_id"
    ]
    vm = api.create_vm(session_id=session_id)
    assert vm["session_id"] == session_id
    busy = api.post("/v1/vms", {"session_id": session_id})
    assert busy.status_code == 409
    assert busy.get_json() == {"detail": f"Session {session_id} already has a live VM ({vm['vm_id']})"}
    missing = api.post("/v1/vms", {"session_id": "00000000-0000-4000-8000-000000000000"})
    assert (missing.status_code, missing.get_json()) == (404, {"detail": "Session not found"})


def test_create_in_a_session_takes_the_session_settings_as_defaults(api):
    opened = api.client.post(
        "/v1/sessions/session",
        json={
            "api_key": "instavm_sk_fakestack",
            "vm_lifetime_seconds": 120,
            "memory_mb": 1024,
            "vcpu_count": 4,
        },
    )
    vm = api.create_vm(session_id=opened.get_json()["session_id"])
    assert (vm["vcpu_count"], vm["memory_mb"], vm["vm_lifetime_seconds"]) == (4, 1024, 120)


def test_delete_a_creating_vm_cancels_its_provisioning(api):
    before = api.host_used_memory()
    pending = api.create_vm(wait=False)
    vm_id = api.ok(api.get(f"/v1/sessions/status/{pending['session_id']}"))["vm_id"]
    assert api.ok(api.delete(f"/v1/vms/{vm_id}")) == {"vm_id": vm_id, "status": "killed"}
    api.cloud.tick(5)
    assert api.ok(api.get(f"/v1/vms/{vm_id}"))["status"] == "killed"
    assert api.host_used_memory() == before


def test_create_from_a_snapshot_takes_its_size_and_its_disk(api):
    source = api.create_vm(memory_mb=1024)
    snap = api.ok(api.post(f"/v1/vms/{source['vm_id']}/snapshot", {"name": "base"}))
    vm = api.create_vm(snapshot_id=snap["snapshot_id"])
    assert (vm["memory_mb"], vm["vcpu_count"], vm["snapshot_id"]) == (1024, 2, snap["snapshot_id"])
    frozen = api.cloud.volume_snapshots.get(
        api.cloud.dialect_state("instavm")["snapshots"][snap["snapshot_id"]]["uuid"]
    ).node_uuid
    root = api.cloud.volumes.get(api.model_vm(vm["vm_id"]).root_volume_uuid)
    assert api.cloud.nodes.get(root.node_uuid).parent_uuid == frozen


def test_create_from_an_unknown_or_unready_snapshot(api):
    missing = api.post("/v1/vms", {"snapshot_id": "snap_000000000000"})
    assert (missing.status_code, missing.get_json()) == (404, {"detail": "Snapshot not found"})
    source = api.create_vm()
    snap = api.ok(api.post(f"/v1/vms/{source['vm_id']}/snapshot?wait=false"))
    busy = api.post("/v1/vms", {"snapshot_id": snap["snapshot_id"]})
    assert busy.status_code == 409
    assert busy.get_json() == {"detail": f"Snapshot {snap['snapshot_id']} is not ready (status: creating)"}


# --- list / get / patch / delete ---------------------------------------------------


def test_topology_vms_are_listed_and_never_expire(api):
    vms = api.ok(api.get("/v1/vms"))
    assert len(vms) == 1
    golden = vms[0]
    assert (golden["status"], golden["expires_at"], golden["memory_mb"]) == ("active", None, 2048)
    api.cloud.tick(100_000)
    assert api.ok(api.get(f"/v1/vms/{golden['vm_id']}"))["status"] == "active"


def test_running_list_and_all_records_list_differ_by_terminated_vms(api):
    keep = api.create_vm()
    gone = api.create_vm()
    assert api.ok(api.delete(f"/v1/vms/{gone['vm_id']}")) == {"vm_id": gone["vm_id"], "status": "killed"}
    running = [v["vm_id"] for v in api.ok(api.get("/v1/vms"))]
    everything = {v["vm_id"]: v["status"] for v in api.ok(api.get("/v1/vms/"))}
    assert keep["vm_id"] in running and gone["vm_id"] not in running
    assert everything[gone["vm_id"]] == "killed" and everything[keep["vm_id"]] == "active"


def test_get_unknown_vm_is_404(api):
    response = api.get("/v1/vms/vm_000000000000")
    assert (response.status_code, response.get_json()) == (404, {"detail": "VM not found"})


def test_delete_releases_host_memory_and_disk_and_is_idempotent(api):
    baseline = (api.host_used_memory(), [p.used_physical for p in api.cloud.primary_storages])
    vm = api.create_vm()
    api.ok(api.delete(f"/v1/vms/{vm['vm_id']}"))
    assert api.model_vm(vm["vm_id"]) is None
    assert (api.host_used_memory(), [p.used_physical for p in api.cloud.primary_storages]) == baseline
    assert api.ok(api.delete(f"/v1/vms/{vm['vm_id']}")) == {"vm_id": vm["vm_id"], "status": "killed"}
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "killed"
    api.cloud.check_invariants()


def test_delete_with_snapshot_on_terminate_keeps_a_named_snapshot(api):
    vm = api.create_vm()
    patched = api.ok(
        api.patch(f"/v1/vms/{vm['vm_id']}", {"snapshot_on_terminate": True, "snapshot_name": "last"})
    )
    assert (patched["snapshot_on_terminate"], patched["snapshot_name"]) == (True, "last")
    api.ok(api.delete(f"/v1/vms/{vm['vm_id']}"))
    snaps = api.snapshots()
    assert [(s["name"], s["source_vm_id"], s["status"]) for s in snaps] == [("last", vm["vm_id"], "ready")]


def test_a_snapshot_outlives_its_deleted_vm_and_boots_until_it_is_deleted(api):
    baseline = (
        api.host_used_memory(),
        [(p.used_virtual, p.used_physical) for p in api.cloud.primary_storages],
    )
    vm = api.create_vm()
    api.ok(api.patch(f"/v1/vms/{vm['vm_id']}", {"snapshot_on_terminate": True, "snapshot_name": "last"}))
    earlier = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot", {"name": "earlier"}))["snapshot_id"]
    api.ok(api.delete(f"/v1/vms/{vm['vm_id']}"))
    [last] = [s["id"] for s in api.snapshots() if s["name"] == "last"]
    for sid in (earlier, last):  # both still stand on the killed VM's disk
        booted = api.create_vm(snapshot_id=sid)
        assert (booted["status"], booted["snapshot_id"]) == ("active", sid)
        api.ok(api.delete(f"/v1/vms/{booted['vm_id']}"))
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "killed"
    api.ok(api.delete(f"/v1/snapshots/{earlier}"))
    assert api.model_vm(vm["vm_id"]) is not None  # "last" still needs its disk
    api.ok(api.delete(f"/v1/snapshots/{last}"))
    assert api.model_vm(vm["vm_id"]) is None  # expunged with its last snapshot
    assert (
        api.host_used_memory(),
        [(p.used_virtual, p.used_physical) for p in api.cloud.primary_storages],
    ) == baseline
    api.cloud.check_invariants()


def test_a_vm_resized_through_the_model_shows_and_clones_its_new_size(api):
    vm = api.create_vm()
    api.cloud.resize_vm(api.model_vm(vm["vm_id"]), cpu_num=4, memory_size=1024 * MiB)  # as ZStack would
    shown = api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))
    assert (shown["vcpu_count"], shown["memory_mb"]) == (4, 1024)
    clone = api.ok(api.clone(vm["vm_id"]))
    assert (api.model_vm(clone["vm_id"]).cpu_num, api.model_vm(clone["vm_id"]).memory_size) == (4, 1024 * MiB)
    api.ok(api.delete(f"/v1/vms/{vm['vm_id']}"))
    killed = api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))
    assert (killed["status"], killed["vcpu_count"], killed["memory_mb"]) == ("killed", 4, 1024)


def test_a_snapshot_deleted_through_the_model_is_gone(api):
    vm = api.create_vm()
    sid = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot", {"name": "s"}))["snapshot_id"]
    uuid = api.cloud.dialect_state("instavm")["snapshots"][sid]["uuid"]
    api.cloud.delete_volume_snapshot(uuid)  # as ZStack's DeleteVolumeSnapshot would
    assert api.snapshots() == []
    assert api.get(f"/v1/snapshots/{sid}").get_json() == {"detail": "Snapshot not found"}
    booted = api.post("/v1/vms", {"snapshot_id": sid})
    assert (booted.status_code, booted.get_json()) == (404, {"detail": "Snapshot not found"})


def test_patch_a_killed_vm_is_409_and_bad_memory_is_422(api):
    vm = api.create_vm()
    bad = api.patch(f"/v1/vms/{vm['vm_id']}", {"memory_mb": 64})
    assert bad.status_code == 422 and bad.get_json()["detail"][0]["loc"] == ["body", "memory_mb"]
    api.ok(api.delete(f"/v1/vms/{vm['vm_id']}"))
    response = api.patch(f"/v1/vms/{vm['vm_id']}", {"snapshot_name": "x"})
    assert response.status_code == 409
    assert response.get_json() == {"detail": f"VM {vm['vm_id']} is not active (status: killed)"}


def test_lifetime_expiry_kills_the_vm_and_frees_its_host_memory(api):
    before = api.host_used_memory()
    vm = api.create_vm(vm_lifetime_seconds=60)
    api.cloud.tick(59)
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "active"
    api.cloud.tick(1)
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "killed"
    assert api.host_used_memory() == before
    status = api.ok(api.get(f"/v1/sessions/status/{vm['session_id']}"))
    assert (status["vm_status"], status["vm_alive"], status["expires_in_seconds"]) == ("killed", False, 0.0)


def test_a_vm_stopped_through_the_model_shows_stopped(api):
    vm = api.create_vm()
    api.cloud.stop_vm(api.model_vm(vm["vm_id"]))
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "stopped"
    assert vm["vm_id"] not in [v["vm_id"] for v in api.ok(api.get("/v1/vms"))]


# --- VM snapshots and snapshot endpoints -------------------------------------------


def test_snapshot_with_wait_is_ready_and_freezes_the_current_disk(api):
    vm = api.create_vm()
    api.cloud.write(api.model_vm(vm["vm_id"]).root_volume_uuid, 10 * MiB)
    result = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot", {"name": "s1"}))
    assert SNAPSHOT_ID.match(result["snapshot_id"]) and result["status"] == "ready"
    info = api.ok(api.get(f"/v1/snapshots/{result['snapshot_id']}"))
    assert info == {
        "id": result["snapshot_id"],
        "name": "s1",
        "status": "ready",
        "source_vm_id": vm["vm_id"],
        "snapshot_type": "vm",
        "type": "user",
        "oci_image": None,
        "vcpu_count": 2,
        "memory_mb": 512,
        "size_bytes": 11 * MiB,
        "is_public": False,
        "last_error": None,
        "created_at": "2026-01-01T00:00:00",
        "updated_at": "2026-01-01T00:00:00",
    }


def test_snapshot_without_wait_is_creating_then_ready(api):
    vm = api.create_vm()
    result = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot?wait=false"))
    assert result["status"] == "creating"
    assert api.ok(api.get(f"/v1/snapshots/{result['snapshot_id']}"))["status"] == "creating"
    deleting = api.delete(f"/v1/snapshots/{result['snapshot_id']}")
    assert deleting.status_code == 409
    api.cloud.tick(1)
    info = api.ok(api.get(f"/v1/snapshots/{result['snapshot_id']}"))
    assert (info["status"], info["updated_at"]) == ("ready", "2026-01-01T00:00:01")


def test_snapshot_of_a_creating_vm_is_409(api):
    status = api.ok(api.get(f"/v1/sessions/status/{api.create_vm(wait=False)['session_id']}"))
    response = api.post(f"/v1/vms/{status['vm_id']}/snapshot")
    assert response.status_code == 409
    assert response.get_json() == {"detail": f"VM {status['vm_id']} is not active (status: creating)"}


def test_delete_snapshot_then_it_is_gone(api):
    vm = api.create_vm()
    sid = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot"))["snapshot_id"]
    assert api.ok(api.delete(f"/v1/snapshots/{sid}")) == {"snapshot_id": sid, "status": "deleted"}
    assert api.get(f"/v1/snapshots/{sid}").get_json() == {"detail": "Snapshot not found"}
    assert api.delete(f"/v1/snapshots/{sid}").status_code == 404
    assert len(api.cloud.volume_snapshots) == 0
    api.cloud.check_invariants()


def test_oci_snapshot_builds_as_the_clock_moves_and_type_filters(api):
    built = api.ok(api.post("/v1/snapshots", {"oci_image": "python:3.12", "name": "py", "type": "system"}))
    assert (built["status"], built["snapshot_type"], built["type"], built["size_bytes"]) == (
        "building",
        "oci",
        "system",
        3 * 1024 * MiB,
    )
    api.cloud.tick(1)
    assert api.ok(api.get(f"/v1/snapshots/{built['id']}"))["status"] == "ready"
    assert [s["id"] for s in api.ok(api.get("/v1/snapshots?type=system"))] == [built["id"]]
    assert api.ok(api.get("/v1/snapshots?type=user")) == []
    assert api.ok(api.get("/v1/snapshots?type=other")) == []


# --- sessions and /kill ------------------------------------------------------------


def test_session_create_checks_the_key_in_the_body(api):
    denied = api.client.post("/v1/sessions/session", json={"api_key": "instavm_sk_wrong"})
    assert (denied.status_code, denied.get_json()) == (401, {"detail": "Invalid API key"})
    created = api.ok(api.client.post("/v1/sessions/session", json={"api_key": "instavm_sk_fakestack"}))
    assert list(created) == ["session_id"] and SESSION_ID.match(created["session_id"])
    status = api.ok(api.get(f"/v1/sessions/status/{created['session_id']}"))
    assert status == {
        "session_id": created["session_id"],
        "exists": True,
        "vm_assigned": False,
        "vm_status": None,
        "vm_id": None,
        "vm_alive": False,
        "uptime_seconds": None,
        "expires_in_seconds": None,
        "created_at": "2026-01-01T00:00:00",
        "last_error": None,
    }


def test_unknown_session_status_is_200_with_exists_false(api):
    status = api.ok(api.get("/v1/sessions/status/nope"))
    assert status == {
        "session_id": "nope",
        "exists": False,
        "vm_assigned": False,
        "vm_status": None,
        "vm_id": None,
        "vm_alive": False,
        "uptime_seconds": None,
        "expires_in_seconds": None,
        "created_at": None,
        "last_error": None,
    }


def test_session_status_of_a_live_vm(api):
    vm = api.create_vm()
    api.cloud.tick(30)
    status = api.ok(api.get(f"/v1/sessions/status/{vm['session_id']}"))
    assert (
        status["vm_status"],
        status["vm_alive"],
        status["uptime_seconds"],
        status["expires_in_seconds"],
    ) == ("active", True, 30.0, 270.0)


def test_kill(api):
    bad = api.post("/kill", {"session_id": "abc"})
    assert (bad.status_code, bad.get_json()) == (400, {"detail": "Invalid session_id format"})
    missing = api.post("/kill", {"session_id": "00000000-0000-4000-8000-000000000000"})
    assert (missing.status_code, missing.get_json()) == (
        404,
        {"detail": "Session not found or no VM assigned to session"},
    )
    vm = api.create_vm()
    assert api.ok(api.post("/kill", {"session_id": vm["session_id"]})) == {
        "session_id": vm["session_id"],
        "vm_id": vm["vm_id"],
        "status": "killed",
    }
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "killed"


# --- determinism and persistence ---------------------------------------------------


def _script(api):
    out = []
    vm = api.create_vm()
    out.append(vm)
    out.append(api.ok(api.clone(vm["vm_id"], snapshot_name="k")))
    out.append(api.ok(api.clone(vm["vm_id"], wait=False)))
    api.cloud.tick(2)
    out.append(api.ok(api.get("/v1/vms/")))
    out.append(api.snapshots())
    return out


def test_same_seed_same_requests_same_answers():
    assert _script(InstaVM(seed=3)) == _script(InstaVM(seed=3))
    assert _script(InstaVM(seed=3)) != _script(InstaVM(seed=4))


def test_ids_survive_snapshot_and_restore(api):
    vm = api.create_vm()
    kept = api.ok(api.clone(vm["vm_id"], snapshot_name="k"))
    restored = Cloud.restore(api.cloud.snapshot(), clock=ManualClock(api.cloud.clock.now()))
    client = Client(make_app(restored))
    again = client.get(f"/v1/vms/{kept['vm_id']}", headers=KEY)
    assert again.status_code == 200 and again.get_json()["source_vm_id"] == vm["vm_id"]
    assert client.get(f"/v1/snapshots/{kept['snapshot_id']}", headers=KEY).get_json()["name"] == "k"
    clone = client.post(f"/v1/vms/{vm['vm_id']}/clone", json={}, headers=KEY)
    assert clone.status_code == 200
    restored.check_invariants()


# --- live resize (PATCH memory_mb / vcpu_count) ------------------------------------


def _host(api):
    host = api.cloud.hosts.get("host-1")
    return (host.used_cpu, host.used_memory)


def test_patch_memory_and_vcpus_resizes_the_vm_on_its_host(api):
    vm = api.create_vm()
    cpu, memory = _host(api)
    same = api.ok(api.patch(f"/v1/vms/{vm['vm_id']}", {"memory_mb": 512, "vcpu_count": 2}))
    assert _host(api) == (cpu, memory) and same["memory_mb"] == 512
    grown = api.ok(api.patch(f"/v1/vms/{vm['vm_id']}", {"memory_mb": 1024, "vcpu_count": 4}))
    assert (grown["memory_mb"], grown["vcpu_count"], grown["status"]) == (1024, 4, "active")
    assert _host(api) == (cpu + 2, memory + 512 * MiB)
    model = api.model_vm(vm["vm_id"])
    assert (model.cpu_num, model.memory_size) == (4, 1024 * MiB)
    shrunk = api.ok(api.patch(f"/v1/vms/{vm['vm_id']}", {"memory_mb": 256}))
    assert (shrunk["memory_mb"], shrunk["vcpu_count"]) == (256, 4)
    assert _host(api) == (cpu + 2, memory - 256 * MiB)
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["memory_mb"] == 256
    api.cloud.check_invariants()


def test_patch_that_does_not_fit_the_host_is_503_and_changes_nothing(api):
    vm = api.create_vm()  # tiny: 7 GiB free before, 6.5 GiB after this VM
    before, host = api.ok(api.get(f"/v1/vms/{vm['vm_id']}")), _host(api)
    response = api.patch(f"/v1/vms/{vm['vm_id']}", {"memory_mb": 8192, "snapshot_name": "x"})
    assert (response.status_code, response.get_json()) == (
        503,
        {"detail": "Insufficient capacity: host_memory (needed 8053063680, available 6979321856)"},
    )
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}")) == before  # snapshot_name not applied either
    assert _host(api) == host and api.model_vm(vm["vm_id"]).memory_size == 512 * MiB
    api.cloud.check_invariants()


@pytest.mark.parametrize(
    "resource, body, text",
    [
        ("host.memory", {"memory_mb": 1024}, r"host_memory \(needed 536870912, available \d+\)"),
        ("host.cpu", {"vcpu_count": 4}, r"host_cpu \(needed 2, available \d+\)"),
    ],
)
def test_injected_exhaustion_on_resize_looks_like_a_real_one(api, resource, body, text):
    from fakestack import faults

    vm = api.create_vm()
    host = _host(api)
    with faults.inject(api.cloud, faults.exhaust("vm.resize", resource)):
        response = api.patch(f"/v1/vms/{vm['vm_id']}", body)
    # the "available" figure is the model's to choose for an injected shortage
    assert response.status_code == 503 and list(response.get_json()) == ["detail"]
    assert re.fullmatch(f"Insufficient capacity: {text}", response.get_json()["detail"])
    assert _host(api) == host
    assert api.ok(api.patch(f"/v1/vms/{vm['vm_id']}", body))["status"] == "active"  # the rule is gone


def test_patch_vcpu_count_outside_the_choices_is_422(api):
    vm = api.create_vm()
    response = api.patch(f"/v1/vms/{vm['vm_id']}", {"vcpu_count": 3})
    assert (response.status_code, response.get_json()) == (
        422,
        {
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["body", "vcpu_count"],
                    "msg": "Value error, vcpu_count must be one of 1, 2, 4, 6, 8",
                    "input": 3,
                    "ctx": {"error": {}},
                }
            ]
        },
    )


# --- OCI builds on backup storage --------------------------------------------------


def _backup_used(api):
    return api.cloud.backup_storages.get("imagestore").used


def test_oci_build_registers_an_image_on_backup_storage_and_boots_from_it(api):
    used = _backup_used(api)
    built = api.ok(api.post("/v1/snapshots", {"oci_image": "python:3.12", "build_args": {"disk_size_gb": 4}}))
    assert built["size_bytes"] == 4 * 1024 * MiB
    assert _backup_used(api) == used + 4 * 1024 * MiB
    [image] = [i for i in api.cloud.images if i.name == f"instavm-{built['id']}"]
    assert (image.virtual_size, image.media_type) == (4 * 1024 * MiB, ImageKind.ROOT_TEMPLATE)
    api.cloud.tick(1)
    vm = api.create_vm(snapshot_id=built["id"])
    root = api.cloud.volumes.get(api.model_vm(vm["vm_id"]).root_volume_uuid)
    assert (root.virtual_size, root.root_image_uuid) == (4 * 1024 * MiB, image.uuid)
    api.cloud.check_invariants()


def test_oci_build_on_a_full_backup_storage_is_503_and_records_nothing(api):
    api.ok(api.post("/v1/snapshots", {"oci_image": "big:1", "build_args": {"disk_size_gb": 16}}))
    used, listed, images = _backup_used(api), api.snapshots(), len(api.cloud.images)
    response = api.post("/v1/snapshots", {"oci_image": "big:2", "build_args": {"disk_size_gb": 16}})
    assert (response.status_code, response.get_json()) == (
        503,
        {"detail": "Insufficient capacity: backup_storage (needed 17179869184, available 2147483648)"},
    )
    assert (_backup_used(api), api.snapshots(), len(api.cloud.images)) == (used, listed, images)
    api.cloud.check_invariants()


def test_injected_backup_storage_exhaustion_on_an_oci_build(api):
    from fakestack import faults

    with faults.inject(api.cloud, faults.exhaust("image.register", "backup_storage")):
        response = api.post("/v1/snapshots", {"oci_image": "python:3.12"})
    assert response.status_code == 503 and list(response.get_json()) == ["detail"]
    assert re.fullmatch(
        r"Insufficient capacity: backup_storage \(needed 3221225472, available \d+\)",
        response.get_json()["detail"],
    )
    assert api.snapshots() == []


def test_deleting_an_oci_snapshot_frees_its_backup_storage(api):
    used = _backup_used(api)
    built = api.ok(api.post("/v1/snapshots", {"oci_image": "python:3.12"}))
    api.cloud.tick(1)
    vm = api.create_vm(snapshot_id=built["id"])  # its disk is built on the image's cache
    assert api.ok(api.delete(f"/v1/snapshots/{built['id']}"))["status"] == "deleted"
    assert _backup_used(api) == used
    assert [i for i in api.cloud.images if i.name == f"instavm-{built['id']}"] == []
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "active"
    api.cloud.check_invariants()


@pytest.mark.parametrize(
    "operation, method, path, body",
    [
        ("CreateVm", "POST", "/v1/vms", {}),
        ("SnapshotVm", "POST", "/v1/vms/{vm}/snapshot", {}),
        ("DeleteVm", "DELETE", "/v1/vms/{vm}", None),
        ("UpdateVm", "PATCH", "/v1/vms/{vm}", {"snapshot_name": "x"}),
        ("CreateSnapshot", "POST", "/v1/snapshots", {"oci_image": "python:3.12"}),
        ("CreateSession", "POST", "/v1/sessions/session", {"api_key": "instavm_sk_fakestack"}),
        ("KillVm", "POST", "/kill", {"session_id": "{session}"}),
    ],
)
def test_every_dialect_operation_is_a_fault_point(api, operation, method, path, body):
    from fakestack import faults

    vm = api.create_vm()
    path = path.format(vm=vm["vm_id"])
    if body and body.get("session_id") == "{session}":
        body = {"session_id": vm["session_id"]}
    with faults.inject(api.cloud, faults.fail(f"instavm:{operation}", "injected", code="503")):
        response = api.client.open(path, method=method, json=body, headers=KEY)
    assert (response.status_code, response.get_json()) == (503, {"detail": "injected"})
    assert api.ok(api.get(f"/v1/vms/{vm['vm_id']}"))["status"] == "active"


def test_boot_from_a_ready_oci_snapshot_uses_its_size(api):
    built = api.ok(
        api.post("/v1/snapshots", {"oci_image": "python:3.12", "vcpu_count": 4, "memory_mb": 1024})
    )
    early = api.post("/v1/vms", {"snapshot_id": built["id"]})
    assert early.get_json() == {"detail": f"Snapshot {built['id']} is not ready (status: building)"}
    api.cloud.tick(1)
    vm = api.create_vm(snapshot_id=built["id"])
    assert (vm["vcpu_count"], vm["memory_mb"], vm["snapshot_id"], vm["status"]) == (
        4,
        1024,
        built["id"],
        "active",
    )


def test_a_fault_on_delete_snapshot_keeps_the_snapshot(api):
    from fakestack import faults

    vm = api.create_vm()
    sid = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot", {"name": "s"}))["snapshot_id"]
    with faults.inject(api.cloud, faults.fail("instavm:DeleteSnapshot", "injected", code="503")):
        response = api.delete(f"/v1/snapshots/{sid}")
    assert (response.status_code, response.get_json()) == (503, {"detail": "injected"})
    assert [s["id"] for s in api.snapshots()] == [sid] and len(api.cloud.volume_snapshots) == 1


def test_a_failed_expunge_of_the_killed_vm_keeps_its_last_snapshot(api):
    from fakestack import faults

    vm = api.create_vm()
    sid = api.ok(api.post(f"/v1/vms/{vm['vm_id']}/snapshot", {"name": "s"}))["snapshot_id"]
    api.ok(api.delete(f"/v1/vms/{vm['vm_id']}"))
    with faults.inject(api.cloud, faults.fail("vm.expunge", "disk busy")):
        response = api.delete(f"/v1/snapshots/{sid}")
    assert (response.status_code, response.get_json()) == (500, {"detail": "disk busy"})
    assert [s["id"] for s in api.snapshots()] == [sid] and api.model_vm(vm["vm_id"]) is not None
    api.ok(api.delete(f"/v1/snapshots/{sid}"))
    assert api.snapshots() == [] and api.model_vm(vm["vm_id"]) is None
    api.cloud.check_invariants()
