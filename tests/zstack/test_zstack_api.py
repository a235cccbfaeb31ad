"""ZStack APIs end to end through make_app(cloud): the seed flows, lifecycle, bad inputs."""

from __future__ import annotations

import json

import pytest
from zstack_support import auth, call_async, clone, cloud_client, poll, query

from fakestack.model.kinds import BackupStorageKind

NO_ROOM = "no host having cpu[1], memory[2147483648 bytes] found"
SEED_CHAIN = {
    "code": "VM.1001",
    "description": "Unable to start a vm",
    "details": NO_ROOM,
    "cause": {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": NO_ROOM,
        "cause": {"code": "HOST_ALLOCATION.1000", "description": "An operation failed", "details": NO_ROOM},
    },
}


@pytest.fixture
def tiny():
    return cloud_client("tiny")


def vm_names(client, session, **params):
    return [vm["name"] for vm in query(client, session, "vm-instances", **params).get_json()["inventories"]]


# -- the seed: CloneVmInstance ------------------------------------------------------


def test_clone_two_from_golden_with_instant_start(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    response = client.put(
        f"/zstack/v1/vm-instances/{golden.uuid}/actions",
        json={
            "cloneVmInstance": {"strategy": "InstantStart", "names": ["vm1", "vm2"], "full": False},
            "systemTags": [],
            "userTags": [],
        },
        headers=auth(session, **{"X-Job-UUID": "0e9f6d8a2b7c4c1e8f5a3d2c1b0a9f8e", "Host": "127.0.0.1:8080"}),
    )
    assert response.status_code == 202
    assert response.get_json() == {
        "location": "http://127.0.0.1:8080/zstack/v1/api-jobs/0e9f6d8a2b7c4c1e8f5a3d2c1b0a9f8e",
        "apiTimeout": 129600000,
    }
    result = client.get("/zstack/v1/api-jobs/0e9f6d8a2b7c4c1e8f5a3d2c1b0a9f8e")
    assert result.status_code == 200
    body = result.get_json()["result"]
    assert body["numberOfClonedVm"] == 2
    assert [entry["inventory"]["name"] for entry in body["inventories"]] == ["vm1", "vm2"]
    for entry in body["inventories"]:
        assert set(entry) == {"inventory"}
        inventory = entry["inventory"]
        assert inventory["state"] == "Running"
        assert inventory["description"] == f"cloned from vm[uuid:{golden.uuid}]"
        assert inventory["cpuNum"] == golden.cpu_num and inventory["memorySize"] == golden.memory_size
        assert inventory["allVolumes"][0]["name"] == f"ROOT-for-{inventory['name']}"
        assert inventory["hostUuid"] and len(inventory["vmNics"]) == 1
    listed = query(client, session, "vm-instances", q="name?=vm1,vm2", replyWithCount="true", limit="10")
    assert listed.get_json()["total"] == 2


def test_clone_job_stays_running_until_the_clock_reaches_its_end(demo):
    cloud, client, session = demo
    cloud.settings.job_durations["vm.clone"] = 30.0
    response = client.put(
        f"/zstack/v1/vm-instances/{cloud.vms.get('golden').uuid}/actions",
        json={"cloneVmInstance": {"names": ["slow"]}},
        headers=auth(session),
    )
    first = poll(client, response)
    assert (first.status_code, first.get_json()) == (202, {})
    cloud.tick(29)
    assert poll(client, response).status_code == 202
    cloud.tick(1)
    done = poll(client, response)
    assert done.status_code == 200 and done.get_json()["result"]["numberOfClonedVm"] == 1


def test_clone_five_with_room_for_three_reports_two_errors(tiny):
    cloud, client, session = tiny
    names = ["c1", "c2", "c3", "c4", "c5"]
    result = clone(client, session, cloud.vms.get("golden").uuid, names)
    assert result.status_code == 200
    body = result.get_json()["result"]
    assert body["numberOfClonedVm"] == 3
    entries = body["inventories"]
    assert [e["inventory"]["name"] for e in entries] == names
    assert [e["inventory"]["state"] for e in entries] == ["Running"] * 3 + ["Created"] * 2
    assert ["error" in e for e in entries] == [False, False, False, True, True]
    assert entries[3]["error"] == SEED_CHAIN and entries[4]["error"] == SEED_CHAIN
    # the failed clones were deleted
    assert vm_names(client, session, q="name?=c1,c2,c3,c4,c5") == ["c1", "c2", "c3"]
    # and the host dry run now fails the whole API
    again = clone(client, session, cloud.vms.get("golden").uuid, ["c6"])
    assert again.status_code == 503
    error = again.get_json()["error"]
    assert error["code"] == "HOST_ALLOCATION.1000" and error["description"] == "An operation failed"
    assert error["details"].startswith(
        "unable to allocate hosts, no host meets the following conditions: "
        "clusterUuid=null hostUuid=null cpu=1 memoryCapacity=2147483648"
    )


def test_clone_just_create_skips_the_dry_run_and_leaves_created_vms(tiny):
    cloud, client, session = tiny
    golden = cloud.vms.get("golden").uuid
    clone(client, session, golden, ["a", "b", "c", "d"])
    result = clone(client, session, golden, ["later"], strategy="JustCreate")
    body = result.get_json()["result"]
    assert body["numberOfClonedVm"] == 1
    assert body["inventories"][0]["inventory"]["state"] == "Created"
    assert "hostUuid" not in body["inventories"][0]["inventory"]


def test_clone_create_stopped(demo):
    cloud, client, session = demo
    result = clone(client, session, cloud.vms.get("golden").uuid, ["cold"], strategy="CreateStopped")
    assert result.get_json()["result"]["inventories"][0]["inventory"]["state"] == "Stopped"


def test_clone_bad_inputs(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden").uuid
    message = "org.zstack.header.vm.APICloneVmInstanceMsg"
    cases = [
        ({}, "SYS.1007", f"field[names] of message[{message}] is mandatory, can not be null"),
        ({"names": []}, "SYS.1007", "field[names] must be a nonempty list"),
        (
            {"names": ["x"], "strategy": "Foo"},
            "SYS.1007",
            f"valid value for field[strategy] of message[{message}] are [InstantStart, JustCreate, CreateStopped], but Foo found",
        ),
        (
            {"names": ["x" * 256]},
            "SYS.1007",
            f"field[names] of message[{message}] exceeds max length of string. expected was <= 255, actual was 256",
        ),
        (
            {"names": ["x"], "hostUuid": "ab" * 16},
            "SYS.1003",
            f"invalid field[hostUuid], resource[uuid:{'ab' * 16}, type:HostVO] not found",
        ),
    ]
    for params, code, details in cases:
        error = (
            clone(client, session, golden, **params)
            if "names" in params
            else call_async(
                client,
                "PUT",
                f"/zstack/v1/vm-instances/{golden}/actions",
                session,
                json={"cloneVmInstance": params},
            )
        )
        assert error.status_code == 503, params
        assert (error.get_json()["error"]["code"], error.get_json()["error"]["details"]) == (code, details)
    missing = clone(client, session, "cd" * 16, ["x"])
    assert missing.get_json()["error"]["details"] == (
        f"invalid field[vmInstanceUuid], resource[uuid:{'cd' * 16}, type:VmInstanceVO] not found"
    )
    typed = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"cloneVmInstance": {"names": "vm1"}},
        headers=auth(session),
    )
    assert (typed.status_code, typed.get_data(as_text=True)) == (
        400,
        "[names] field is excepted a list, but was [vm1].",
    )
    typed = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"cloneVmInstance": {"names": ["a"], "full": "yes"}},
        headers=auth(session),
    )
    assert (typed.status_code, typed.get_data(as_text=True)) == (
        400,
        "[full] field is excepted a boolean, but was [yes].",
    )


def test_clone_of_a_destroyed_vm_is_sys_1006_wrapping_vm_1010(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden").uuid
    call_async(client, "DELETE", f"/zstack/v1/vm-instances/{golden}", session)
    error = clone(client, session, golden, ["x"]).get_json()["error"]
    assert error["code"] == "SYS.1006"
    assert error["cause"]["code"] == "VM.1010"
    assert error["details"] == (
        "current vm instance state[Destroyed] doesn't allow to proceed message"
        "[org.zstack.header.vm.APICloneVmInstanceMsg], allowed states are [Running, Stopped, Paused]"
    )


# -- VM lifecycle -----------------------------------------------------------------


def create_vm(cloud, client, session, name="web", **extra):
    params = {
        "name": name,
        "instanceOfferingUuid": cloud.instance_offerings.get("medium").uuid,
        "imageUuid": cloud.images.get("centos-7").uuid,
        "l3NetworkUuids": [cloud.l3_networks.get("l3-private").uuid],
        **extra,
    }
    return call_async(client, "POST", "/zstack/v1/vm-instances", session, json={"params": params})


def host_memory(client, session, host_uuid):
    return query(client, session, f"hosts/{host_uuid}").get_json()["inventories"][0][
        "availableMemoryCapacity"
    ]


def test_vm_lifecycle(demo):
    cloud, client, session = demo
    created = create_vm(cloud, client, session)
    assert created.status_code == 200
    vm = created.get_json()["inventory"]
    assert (vm["name"], vm["state"], vm["cpuNum"], vm["memorySize"]) == ("web", "Running", 2, 4294967296)
    host = vm["hostUuid"]
    before = host_memory(client, session, host)
    path = f"/zstack/v1/vm-instances/{vm['uuid']}/actions"
    stopped = call_async(client, "PUT", path, session, json={"stopVmInstance": {"type": "grace"}})
    assert stopped.get_json()["inventory"]["state"] == "Stopped"
    assert "hostUuid" not in stopped.get_json()["inventory"]
    assert stopped.get_json()["inventory"]["lastHostUuid"] == host
    assert host_memory(client, session, host) == before + 4294967296
    rebooted = call_async(client, "PUT", path, session, json={"rebootVmInstance": {}})
    error = rebooted.get_json()["error"]
    assert (rebooted.status_code, error["code"], error["cause"]["code"]) == (503, "VM.1003", "VM.1010")
    started = call_async(client, "PUT", path, session, json={"startVmInstance": {}})
    assert started.get_json()["inventory"]["state"] == "Running"
    destroyed = call_async(client, "DELETE", f"/zstack/v1/vm-instances/{vm['uuid']}", session)
    assert (destroyed.status_code, destroyed.get_json()) == (200, {})
    assert (
        query(client, session, f"vm-instances/{vm['uuid']}").get_json()["inventories"][0]["state"]
        == "Destroyed"
    )
    recovered = call_async(client, "PUT", path, session, json={"recoverVmInstance": {}})
    assert recovered.get_json()["inventory"]["state"] == "Stopped"
    call_async(client, "DELETE", f"/zstack/v1/vm-instances/{vm['uuid']}", session)
    expunged = call_async(client, "PUT", path, session, json={"expungeVmInstance": {}})
    assert (expunged.status_code, expunged.get_json()) == (200, {})
    assert query(client, session, f"vm-instances/{vm['uuid']}").get_json() == {
        "inventories": [],
        "schema": {},
    }
    gone = call_async(client, "PUT", path, session, json={"startVmInstance": {}})
    assert gone.get_json()["error"] == {
        "code": "SYS.1003",
        "description": "A resource can not be found",
        "details": f"invalid field[uuid], resource[uuid:{vm['uuid']}, type:VmInstanceVO] not found",
    }


def test_delete_of_a_missing_resource_succeeds_only_for_a_uuid(demo):
    _, client, session = demo
    ok = call_async(
        client, "DELETE", "/zstack/v1/vm-instances/" + "a" * 12 + "4" + "a" * 3 + "8" + "a" * 15, session
    )
    assert (ok.status_code, ok.get_json()) == (200, {})
    bad = call_async(client, "DELETE", "/zstack/v1/vm-instances/not-a-uuid", session)
    assert bad.get_json()["error"]["details"] == "invalid value[not-a-uuid] of field [uuid]"


def test_create_vm_without_room_fails_and_leaves_nothing(tiny):
    cloud, client, session = tiny
    params = {
        "name": "big",
        "cpuNum": 1,
        "memorySize": 64 * 1024**3,
        "imageUuid": cloud.images.get("tiny-linux").uuid,
    }
    result = call_async(client, "POST", "/zstack/v1/vm-instances", session, json={"params": params})
    error = result.get_json()["error"]
    assert (result.status_code, error["code"], error["cause"]["code"]) == (
        503,
        "SYS.1006",
        "HOST_ALLOCATION.1000",
    )
    assert error["details"] == "no host having cpu[1], memory[68719476736 bytes] found"
    assert vm_names(client, session, q="name=big") == []


def test_create_vm_parameter_errors(demo):
    cloud, client, session = demo
    missing = call_async(client, "POST", "/zstack/v1/vm-instances", session, json={"params": {}})
    assert missing.get_json()["error"]["details"] == (
        "field[name] of message[org.zstack.header.vm.APICreateVmInstanceMsg] is mandatory, can not be null"
    )
    no_wrapper = call_async(client, "POST", "/zstack/v1/vm-instances", session, json={})
    assert no_wrapper.get_json()["error"]["code"] == "SYS.1007"
    typed = client.post(
        "/zstack/v1/vm-instances", json={"params": {"name": "x", "cpuNum": "four"}}, headers=auth(session)
    )
    assert (typed.status_code, typed.get_data(as_text=True)) == (
        400,
        "[cpuNum] field is excepted an int or long, but was [four].",
    )


# -- volumes and images ------------------------------------------------------------


def test_data_volume_lifecycle(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden").uuid
    offering = cloud.disk_offerings.get("disk-100G").uuid
    created = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": "scratch", "diskOfferingUuid": offering}},
    )
    volume = created.get_json()["inventory"]
    assert (volume["status"], volume["size"], volume["type"]) == ("NotInstantiated", 107374182400, "Data")
    assert "primaryStorageUuid" not in volume
    attached = call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{volume['uuid']}/vm-instances/{golden}",
        session,
        json={"params": {}},
    )
    inventory = attached.get_json()["inventory"]
    assert (inventory["status"], inventory["vmInstanceUuid"], inventory["deviceId"]) == ("Ready", golden, 2)
    assert inventory["primaryStorageUuid"] == cloud.primary_storages.get("nfs-ps").uuid
    detached = call_async(
        client,
        "DELETE",
        f"/zstack/v1/volumes/{volume['uuid']}/vm-instances",
        session,
        query_string={"vmUuid": golden},
    )
    assert "vmInstanceUuid" not in detached.get_json()["inventory"]
    deleted = call_async(client, "DELETE", f"/zstack/v1/volumes/{volume['uuid']}", session)
    assert deleted.get_json() == {}
    assert (
        query(client, session, f"volumes/{volume['uuid']}").get_json()["inventories"][0]["status"]
        == "Deleted"
    )
    recovered = call_async(
        client, "PUT", f"/zstack/v1/volumes/{volume['uuid']}/actions", session, json={"recoverDataVolume": {}}
    )
    assert recovered.get_json()["inventory"]["status"] == "Ready"
    call_async(client, "DELETE", f"/zstack/v1/volumes/{volume['uuid']}", session)
    expunged = call_async(
        client, "PUT", f"/zstack/v1/volumes/{volume['uuid']}/actions", session, json={"expungeDataVolume": {}}
    )
    assert expunged.get_json() == {}
    assert query(client, session, f"volumes/{volume['uuid']}").get_json()["inventories"] == []


def test_data_volume_larger_than_the_storage_is_sys_1006(tiny):
    cloud, client, session = tiny
    ps = cloud.primary_storages.get("nfs-ps").uuid
    result = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": "huge", "diskSize": 500 * 1024**3, "primaryStorageUuid": ps}},
    )
    error = result.get_json()["error"]
    assert error["code"] == "SYS.1006"
    assert error["details"].startswith(
        "after subtracting reserved capacity[1G], there is no primary storage "
        "having required size[536870912000 bytes]"
    )


def test_image_delete_recover_expunge(demo):
    cloud, client, session = demo
    image = cloud.images.get("ubuntu-22.04").uuid
    assert call_async(client, "DELETE", f"/zstack/v1/images/{image}", session).get_json() == {}
    inventory = query(client, session, f"images/{image}").get_json()["inventories"][0]
    assert inventory["status"] == "Deleted"
    assert [r["status"] for r in inventory["backupStorageRefs"]] == ["Deleted"]
    recovered = call_async(
        client, "PUT", f"/zstack/v1/images/{image}/actions", session, json={"recoverImage": {}}
    )
    assert recovered.get_json()["inventory"]["status"] == "Ready"
    call_async(client, "DELETE", f"/zstack/v1/images/{image}", session)
    expunged = call_async(
        client, "PUT", f"/zstack/v1/images/{image}/actions", session, json={"expungeImage": {}}
    )
    assert expunged.get_json() == {}
    assert query(client, session, f"images/{image}").get_json()["inventories"] == []


# -- queries and capacity -----------------------------------------------------------

# query path -> which of the model's entities it lists
COLLECTIONS = {
    "vm-instances": lambda cloud: cloud.vms,
    "volumes": lambda cloud: cloud.volumes,
    "hosts": lambda cloud: cloud.hosts,
    "primary-storage": lambda cloud: cloud.primary_storages,
    "backup-storage": lambda cloud: cloud.backup_storages,
    "images": lambda cloud: cloud.images,
    "zones": lambda cloud: cloud.zones,
    "clusters": lambda cloud: cloud.clusters,
    "l3-networks": lambda cloud: cloud.l3_networks,
    "instance-offerings": lambda cloud: cloud.instance_offerings,
    "disk-offerings": lambda cloud: cloud.disk_offerings,
    "vm-instances/nics": lambda cloud: cloud.nics,
    "volume-snapshots": lambda cloud: cloud.volume_snapshots,
    "backup-storage/image-store": lambda cloud: [
        bs for bs in cloud.backup_storages if bs.type == BackupStorageKind.BACKUP_STORE
    ],
    "volume-backups": lambda cloud: cloud.backups,
}


@pytest.mark.parametrize("path", list(COLLECTIONS))
def test_every_collection_answers_queries_with_schema(demo, path):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")  # something in every collection, snapshots and backups too
    cloud.create_volume_snapshot(golden.root_volume_uuid, "snap")
    cloud.create_vm_backup(golden, cloud.backup_storages.get("imagestore"), "backup")
    response = query(client, session, path, replyWithCount="true")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == len(body["inventories"])
    assert [i["uuid"] for i in body["inventories"]] == [e.uuid for e in COLLECTIONS[path](cloud)] != []
    assert set(body) == {"inventories", "total", "schema"}
    for index, inventory in enumerate(body["inventories"]):
        assert body["schema"][f"inventories[{index}]"].startswith("org.zstack.")
        assert None not in inventory.values()
        assert "location" not in body


def test_query_language_over_rest(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden").uuid
    clone(client, session, golden, ["b-clone", "a-clone"])
    assert vm_names(client, session, q="name~=%-clone", sort="name") == ["a-clone", "b-clone"]
    assert vm_names(client, session, q="name~=%-clone", sort="-name") == ["b-clone", "a-clone"]
    assert vm_names(client, session, q=["state=Running", "name!=golden"], limit="1", start="1") == ["a-clone"]
    assert vm_names(client, session, q="vmNics.ip=192.168.100.2") == ["golden"]
    host = cloud.vms.get("golden").host_uuid
    assert (
        vm_names(client, session, q=f"host.managementIp={cloud.hosts.get(host).management_ip}")[0] == "golden"
    )
    assert vm_names(client, session, q="allVolumes.type=Data") == ["golden"]
    counted = query(client, session, "vm-instances", q="name~=%-clone", count="true").get_json()
    assert counted["total"] == 2 and "inventories" not in counted
    picked = query(client, session, "vm-instances", q="name=golden", fields="uuid,name").get_json()
    assert picked["inventories"] == [{"uuid": golden, "name": "golden"}]
    unknown = query(client, session, "vm-instances", q="colour=red")
    assert unknown.status_code == 503
    assert unknown.get_json()["error"] == {
        "code": "SYS.1000",
        "description": "An internal error happened in system",
        "details": "inventory class[org.zstack.header.vm.VmInstanceInventory] has no field[colour]",
    }
    no_op = query(client, session, "vm-instances", q="nothing")
    assert no_op.status_code == 400
    assert query(client, session, "vm-instances", limit="x").get_data(as_text=True) == (
        "Invalid query parameter. 'limit' must be an integer"
    )
    assert query(client, session, "vm-instances/" + "0" * 32).get_json() == {"inventories": [], "schema": {}}


def test_capacity_apis_follow_the_model(demo):
    cloud, client, session = demo
    before = query(client, session, "hosts/capacities/cpu-memory").get_json()
    assert before["success"] is True
    assert before["totalCpu"] == sum(h.total_cpu for h in cloud.hosts)
    assert before["managedCpuNum"] == sum(h.cpu_num for h in cloud.hosts)
    clone(client, session, cloud.vms.get("golden").uuid, ["one", "two"])
    after = query(client, session, "hosts/capacities/cpu-memory").get_json()
    assert before["availableMemory"] - after["availableMemory"] == 2 * 4294967296
    assert before["availableCpu"] - after["availableCpu"] == 4
    zone = cloud.zones.get("zone-1").uuid
    scoped = query(client, session, "hosts/capacities/cpu-memory", zoneUuids=zone).get_json()
    assert scoped["resourceType"] == "ZoneVO" and scoped["capacityData"][0]["resourceUuid"] == zone
    ps = query(client, session, "primary-storage/capacities").get_json()
    assert set(ps) == {
        "totalCapacity",
        "availableCapacity",
        "totalPhysicalCapacity",
        "availablePhysicalCapacity",
        "success",
    }
    assert ps["totalCapacity"] == sum(p.total_capacity for p in cloud.primary_storages)
    bs = query(client, session, "backup-storage/capacities").get_json()
    assert bs == {
        "totalCapacity": cloud.backup_storages.get("imagestore").total_capacity,
        "availableCapacity": cloud.backup_storages.get("imagestore").available_capacity,
        "success": True,
    }
    missing = query(client, session, "primary-storage/capacities", primaryStorageUuids="f" * 32)
    assert missing.get_json()["error"]["code"] == "SYS.1003"


def test_json_schema_header_adds_schema_to_async_results(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden").uuid
    cloned = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"cloneVmInstance": {"names": ["s"]}},
        headers=auth(session, **{"X-JSON-Schema": "true"}),
    )
    schema = poll(client, cloned).get_json()["schema"]
    assert schema["result"] == "org.zstack.header.vm.CloneVmInstanceResults"
    assert schema["result.inventories[0]"] == "org.zstack.header.vm.CloneVmInstanceInventory"
    assert schema["result.inventories[0].inventory"] == "org.zstack.header.vm.VmInstanceInventory"
    assert (
        schema["result.inventories[0].inventory.allVolumes[0]"] == "org.zstack.header.volume.VolumeInventory"
    )
    assert not any("[0].inventory[0]" in key for key in schema)
    plain = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"cloneVmInstance": {"names": ["t"]}},
        headers=auth(session),
    )
    assert "schema" not in poll(client, plain).get_json()
    response = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"stopVmInstance": {}},
        headers=auth(session, **{"X-JSON-Schema": "true"}),
    )
    body = poll(client, response).get_json()
    assert body["schema"]["inventory"] == "org.zstack.header.vm.VmInstanceInventory"
    assert body["schema"]["inventory.vmNics[0]"] == "org.zstack.header.vm.VmNicInventory"


# -- legacy endpoint on the same operations --------------------------------------------


def test_legacy_query_and_clone(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden").uuid
    response = client.post(
        "/zstack/api/",
        json={
            "org.zstack.header.vm.APIQueryVmInstanceMsg": {
                "session": {"uuid": session},
                "conditions": [{"name": "name", "op": "=", "value": "golden"}],
                "limit": 50,
                "replyWithCount": True,
            }
        },
    )
    reply = json.loads(response.get_json()["result"])["org.zstack.header.vm.APIQueryVmInstanceReply"]
    assert reply["success"] is True and reply["total"] == 1 and reply["inventories"][0]["uuid"] == golden
    assert "schema" not in reply
    started = client.post(
        "/zstack/api/",
        json={
            "org.zstack.header.vm.APICloneVmInstanceMsg": {
                "session": {"uuid": session},
                "vmInstanceUuid": golden,
                "names": ["l1", "l2"],
            }
        },
    )
    assert started.get_json()["state"] == "Processing"
    done = client.get(f"/zstack/api/result/{started.get_json()['uuid']}").get_json()
    event = json.loads(done["result"])["org.zstack.header.vm.APICloneVmInstanceEvent"]
    assert event["success"] is True and event["result"]["numberOfClonedVm"] == 2
    failing = client.post(
        "/zstack/api/",
        json={"org.zstack.header.vm.APIStartVmInstanceMsg": {"session": {"uuid": session}, "uuid": "e" * 32}},
    )
    done = client.get(f"/zstack/api/result/{failing.get_json()['uuid']}").get_json()
    event = json.loads(done["result"])["org.zstack.header.message.APIEvent"]
    assert event["success"] is False and event["error"]["code"] == "SYS.1003"


def test_same_seed_same_operations_same_bytes():
    transcripts = []
    for _ in range(2):
        cloud, client, session = cloud_client("demo", seed=7)
        golden = cloud.vms.get("golden").uuid
        out = [
            clone(client, session, golden, ["d1", "d2"]).get_data(),
            query(client, session, "vm-instances").get_data(),
            query(client, session, "hosts").get_data(),
        ]
        transcripts.append(out)
    assert transcripts[0] == transcripts[1]


def test_capacity_apis_sum_only_the_named_scopes(demo):
    cloud, client, session = demo
    local = cloud.clusters.get("cluster-local").uuid
    in_local = [h for h in cloud.hosts if h.cluster_uuid == local]
    by_cluster = query(client, session, "hosts/capacities/cpu-memory", clusterUuids=local).get_json()
    assert (by_cluster["resourceType"], by_cluster["totalCpu"]) == (
        "ClusterVO",
        sum(h.total_cpu for h in in_local),
    )
    assert [row["resourceUuid"] for row in by_cluster["capacityData"]] == [local]
    host = cloud.hosts.get("host-3")
    by_host = query(client, session, "hosts/capacities/cpu-memory", hostUuids=host.uuid).get_json()
    assert (by_host["resourceType"], by_host["totalMemory"]) == ("HostVO", host.total_memory)
    everything = query(
        client, session, "hosts/capacities/cpu-memory", hostUuids=host.uuid, all="true"
    ).get_json()
    assert everything["totalCpu"] == sum(h.total_cpu for h in cloud.hosts)
    ps = query(client, session, "primary-storage/capacities", clusterUuids=local).get_json()
    assert ps["totalCapacity"] == cloud.primary_storages.get("local-ps").total_capacity
    either = query(
        client,
        session,
        "primary-storage/capacities",
        clusterUuids=local,
        primaryStorageUuids=cloud.primary_storages.get("nfs-ps").uuid,
    ).get_json()
    assert either["totalCapacity"] == sum(p.total_capacity for p in cloud.primary_storages)
    zone = cloud.zones.get("zone-1").uuid
    bs = query(client, session, "backup-storage/capacities", zoneUuids=zone).get_json()
    assert bs["totalCapacity"] == cloud.backup_storages.get("imagestore").total_capacity
