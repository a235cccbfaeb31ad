"""Caller-chosen uuids (``resourceUuid``) on CreateVmInstance and CreateDataVolume."""

from __future__ import annotations

from zstack_support import call_async, legacy, legacy_result, query

CHOSEN = "0123456789ab4def8123456789abcdef"
OTHER = "fedcba98765443218123456789abcdef"
VM_MSG = "org.zstack.header.vm.APICreateVmInstanceMsg"


def create_vm(client, session, cloud, name: str, **extra):
    params = {
        "name": name,
        "instanceOfferingUuid": cloud.instance_offerings.get("small").uuid,
        "imageUuid": cloud.images.get("centos-7").uuid,
        **extra,
    }
    return call_async(client, "POST", "/zstack/v1/vm-instances", session, json={"params": params})


def create_volume(client, session, cloud, name: str, **extra):
    params = {"name": name, "diskOfferingUuid": cloud.disk_offerings.get("disk-100G").uuid, **extra}
    return call_async(client, "POST", "/zstack/v1/volumes/data", session, json={"params": params})


def names(client, session, path: str, name: str) -> list[str]:
    return [i["uuid"] for i in query(client, session, path, q=f"name={name}").get_json()["inventories"]]


def test_create_vm_takes_the_chosen_uuid(demo):
    cloud, client, session = demo
    result = create_vm(client, session, cloud, "chosen", resourceUuid=CHOSEN)
    assert result.status_code == 200, result.get_data(as_text=True)
    inventory = result.get_json()["inventory"]
    assert inventory["uuid"] == CHOSEN
    assert inventory["rootVolumeUuid"] != CHOSEN  # the chosen uuid is the VM's, not its volumes'
    assert [v["vmInstanceUuid"] for v in inventory["allVolumes"]] == [CHOSEN]
    fetched = query(client, session, f"vm-instances/{CHOSEN}").get_json()["inventories"]
    assert [(vm["uuid"], vm["name"], vm["state"]) for vm in fetched] == [(CHOSEN, "chosen", "Running")]
    assert cloud.vms.get(CHOSEN).name == "chosen"


def test_create_vm_with_a_taken_uuid_is_sys_1006_and_creates_nothing(demo):
    cloud, client, session = demo
    assert create_vm(client, session, cloud, "first", resourceUuid=CHOSEN).status_code == 200
    vms_before, volumes_before = len(list(cloud.vms)), len(list(cloud.volumes))
    again = create_vm(client, session, cloud, "second", resourceUuid=CHOSEN)
    assert again.status_code == 503
    assert again.get_json() == {
        "error": {
            "code": "SYS.1006",
            "description": "An operation failed",
            "details": f"resourceUuid[{CHOSEN}] is already taken by an existing VmInstanceVO",
        }
    }
    assert names(client, session, "vm-instances", "second") == []
    assert (len(list(cloud.vms)), len(list(cloud.volumes))) == (vms_before, volumes_before)
    assert cloud.vms.get(CHOSEN).name == "first"


def test_create_vm_with_a_malformed_uuid_is_sys_1007(demo):
    cloud, client, session = demo
    for bad in ("not-a-uuid", CHOSEN.upper(), "0123456789ab0def8123456789abcdef", CHOSEN[:-1]):
        result = create_vm(client, session, cloud, "bad", resourceUuid=bad)
        error = result.get_json()["error"]
        assert (result.status_code, error["code"]) == (503, "SYS.1007"), bad
        assert error["details"].startswith(f"resourceUuid[{bad}] is not a valid uuid. "), bad
    assert names(client, session, "vm-instances", "bad") == []


def test_create_data_volume_takes_the_chosen_uuid_once(demo):
    cloud, client, session = demo
    created = create_volume(client, session, cloud, "scratch", resourceUuid=OTHER)
    assert created.status_code == 200, created.get_data(as_text=True)
    assert created.get_json()["inventory"]["uuid"] == OTHER
    assert names(client, session, "volumes", "scratch") == [OTHER]
    again = create_volume(client, session, cloud, "scratch-2", resourceUuid=OTHER)
    assert (again.status_code, again.get_json()) == (
        503,
        {
            "error": {
                "code": "SYS.1006",
                "description": "An operation failed",
                "details": f"resourceUuid[{OTHER}] is already taken by an existing VolumeVO",
            }
        },
    )
    assert names(client, session, "volumes", "scratch-2") == []
    bad = create_volume(client, session, cloud, "scratch-3", resourceUuid=12345)
    assert bad.get_json()["error"]["code"] == "SYS.1007"
    assert bad.get_json()["error"]["details"].startswith("resourceUuid[12345] is not a valid uuid.")


def test_a_deleted_volume_keeps_its_uuid_taken(demo):
    cloud, client, session = demo
    assert create_volume(client, session, cloud, "v", resourceUuid=OTHER).status_code == 200
    assert call_async(client, "DELETE", f"/zstack/v1/volumes/{OTHER}", session).get_json() == {}
    again = create_volume(client, session, cloud, "v2", resourceUuid=OTHER)
    assert again.get_json()["error"]["code"] == "SYS.1006"
    expunged = call_async(
        client, "PUT", f"/zstack/v1/volumes/{OTHER}/actions", session, json={"expungeDataVolume": {}}
    )
    assert expunged.get_json() == {}
    reused = create_volume(client, session, cloud, "v3", resourceUuid=OTHER)
    assert reused.get_json()["inventory"]["uuid"] == OTHER


def test_legacy_endpoint_honours_resource_uuid(demo):
    cloud, client, session = demo
    fields = {
        "name": "legacy",
        "instanceOfferingUuid": cloud.instance_offerings.get("small").uuid,
        "imageUuid": cloud.images.get("centos-7").uuid,
        "resourceUuid": CHOSEN,
        "session": {"uuid": session},
    }
    first = legacy_result(
        client.get(f"/zstack/api/result/{legacy(client, VM_MSG, fields).get_json()['uuid']}")
    )
    event = next(iter(first.values()))
    assert event["success"] is True and event["inventory"]["uuid"] == CHOSEN
    second = legacy_result(
        client.get(f"/zstack/api/result/{legacy(client, VM_MSG, fields).get_json()['uuid']}")
    )
    event = next(iter(second.values()))
    assert event["success"] is False
    assert (event["error"]["code"], event["error"]["details"]) == (
        "SYS.1006",
        f"resourceUuid[{CHOSEN}] is already taken by an existing VmInstanceVO",
    )
