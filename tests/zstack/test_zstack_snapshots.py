"""Volume snapshots over REST and the legacy endpoint: create, query, delete, bad inputs."""

from __future__ import annotations

from zstack_support import auth, call_async, legacy, legacy_result, poll, query

CREATE_MSG = "org.zstack.header.volume.APICreateVolumeSnapshotMsg"
SNAPSHOT_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotInventory"


def snapshot(client, session, volume_uuid: str, **params):
    return call_async(
        client, "POST", f"/zstack/v1/volumes/{volume_uuid}/volume-snapshots", session, json={"params": params}
    )


def test_snapshot_of_the_golden_root_volume(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    result = snapshot(client, session, golden.root_volume_uuid, name="before-upgrade", description="first")
    assert result.status_code == 200, result.get_data(as_text=True)
    inventory = result.get_json()["inventory"]
    ps = cloud.volumes.get(golden.root_volume_uuid).primary_storage_uuid
    expected = {
        "name": "before-upgrade",
        "description": "first",
        "type": "Hypervisor",
        "volumeUuid": golden.root_volume_uuid,
        "primaryStorageUuid": ps,
        "volumeType": "Root",
        "format": "qcow2",
        "state": "Enabled",
        "status": "Ready",
        "createDate": "Jan 1, 2026 12:00:00 AM",
        "lastOpDate": "Jan 1, 2026 12:00:00 AM",
        "backupStorageRefs": [],
    }
    assert {k: inventory[k] for k in expected} == expected
    assert len(inventory["uuid"]) == 32 and inventory["uuid"] in cloud.volume_snapshots
    assert isinstance(inventory["size"], int) and inventory["size"] > 0
    listed = query(client, session, "volume-snapshots", q=f"volumeUuid={golden.root_volume_uuid}").get_json()
    assert listed == {"inventories": [inventory], "schema": {"inventories[0]": SNAPSHOT_CLASS}}
    one = query(client, session, f"volume-snapshots/{inventory['uuid']}").get_json()["inventories"]
    assert one == [inventory]


def test_snapshot_answers_202_then_the_job(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    response = client.post(
        f"/zstack/v1/volumes/{golden.root_volume_uuid}/volume-snapshots",
        json={"params": {"name": "s"}},
        headers=auth(session),
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["location"].startswith("http://localhost:80/zstack/v1/api-jobs/")
    assert body["apiTimeout"] == 1_800_000
    polled = poll(client, response)
    assert (polled.status_code, polled.get_json()["inventory"]["name"]) == (200, "s")


def test_snapshot_bad_inputs(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    missing = snapshot(client, session, golden.root_volume_uuid).get_json()["error"]
    assert (missing["code"], missing["details"]) == (
        "SYS.1007",
        f"field[name] of message[{CREATE_MSG}] is mandatory, can not be null",
    )
    unknown = "0123456789ab4def8123456789abcdef"
    gone = snapshot(client, session, unknown, name="x").get_json()["error"]
    assert (gone["code"], gone["details"]) == (
        "SYS.1003",
        f"invalid field[volumeUuid], resource[uuid:{unknown}, type:VolumeVO] not found",
    )
    long_name = snapshot(client, session, golden.root_volume_uuid, name="n" * 256).get_json()["error"]
    assert long_name["details"] == (
        f"field[name] of message[{CREATE_MSG}] exceeds max length of string. "
        "expected was <= 255, actual was 256"
    )
    no_session = client.post(
        f"/zstack/v1/volumes/{golden.root_volume_uuid}/volume-snapshots", json={"params": {"name": "x"}}
    )
    assert (no_session.status_code, no_session.get_data(as_text=True)) == (
        400,
        "missing header 'Authorization'",
    )
    assert query(client, session, "volume-snapshots").get_json()["inventories"] == []


def test_snapshot_of_a_volume_not_instantiated_is_sys_1006(demo):
    cloud, client, session = demo
    offering = cloud.disk_offerings.get("disk-20G").uuid
    volume = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": "d", "diskOfferingUuid": offering}},
    ).get_json()["inventory"]
    result = snapshot(client, session, volume["uuid"], name="s")
    assert (result.status_code, result.get_json()) == (
        503,
        {
            "error": {
                "code": "SYS.1006",
                "description": "An operation failed",
                "details": f"current volume state[NotInstantiated] doesn't allow to proceed message[{CREATE_MSG}]",
            }
        },
    )


def test_delete_snapshot_and_deletes_of_missing_ones(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    taken = snapshot(client, session, golden.root_volume_uuid, name="s").get_json()["inventory"]["uuid"]
    kept = snapshot(client, session, golden.root_volume_uuid, name="t").get_json()["inventory"]["uuid"]
    deleted = call_async(
        client,
        "DELETE",
        f"/zstack/v1/volume-snapshots/{taken}",
        session,
        query_string={"deleteMode": "Enforcing"},
    )
    assert (deleted.status_code, deleted.get_json()) == (200, {})
    assert [s["uuid"] for s in query(client, session, "volume-snapshots").get_json()["inventories"]] == [kept]
    assert taken not in cloud.volume_snapshots
    again = call_async(client, "DELETE", f"/zstack/v1/volume-snapshots/{taken}", session)
    assert (again.status_code, again.get_json()) == (200, {})  # successIfResourceNotExisting
    bad = call_async(client, "DELETE", "/zstack/v1/volume-snapshots/not-a-uuid", session).get_json()["error"]
    assert (bad["code"], bad["details"]) == ("SYS.1003", "invalid value[not-a-uuid] of field [uuid]")
    assert kept in cloud.volume_snapshots
    assert call_async(client, "DELETE", f"/zstack/v1/volume-snapshots/{kept}", session).get_json() == {}
    assert query(client, session, "volume-snapshots").get_json() == {"inventories": [], "schema": {}}
    root = query(client, session, f"volumes/{golden.root_volume_uuid}").get_json()["inventories"][0]
    assert root["status"] == "Ready"  # the volume outlives its snapshots


def test_legacy_endpoint_creates_a_snapshot(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    fields = {"volumeUuid": golden.root_volume_uuid, "name": "legacy", "session": {"uuid": session}}
    job = legacy(client, CREATE_MSG, fields).get_json()["uuid"]
    event = next(iter(legacy_result(client.get(f"/zstack/api/result/{job}")).values()))
    assert event["success"] is True
    assert (event["inventory"]["name"], event["inventory"]["volumeUuid"]) == (
        "legacy",
        golden.root_volume_uuid,
    )
    uuid = event["inventory"]["uuid"]
    assert uuid in cloud.volume_snapshots
    job = legacy(
        client,
        "org.zstack.header.storage.snapshot.APIDeleteVolumeSnapshotMsg",
        {"uuid": uuid, "session": {"uuid": session}},
    ).get_json()["uuid"]
    event = next(iter(legacy_result(client.get(f"/zstack/api/result/{job}")).values()))
    assert event["success"] is True
    assert uuid not in cloud.volume_snapshots
