"""Placement questions over REST (issue 16, group 6): each answer comes from the allocator
that the operation uses, so it predicts what the create, start or attach does."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from zstack_support import auth, call_async, login, query

from fakestack.app import make_app
from fakestack.model import Cloud, ManualClock

GiB = 1024**3

TOPOLOGY = {
    "name": "questions",
    "zones": [{"name": "zone-1"}],
    "clusters": [{"name": "cluster-a", "zone": "zone-1"}, {"name": "cluster-b", "zone": "zone-1"}],
    "hosts": [
        {"name": "a-big", "cluster": "cluster-a", "cpu_num": 8, "memory": "17G"},
        {"name": "a-small", "cluster": "cluster-a", "cpu_num": 8, "memory": "5G"},
        {"name": "b-big", "cluster": "cluster-b", "cpu_num": 8, "memory": "17G"},
    ],
    "primary_storages": [
        {"name": "ps-a", "type": "NFS", "clusters": ["cluster-a"], "total_capacity": "200G"},
        {"name": "ps-b", "type": "NFS", "clusters": ["cluster-b"], "total_capacity": "60G"},
    ],
    "backup_storages": [{"name": "bs", "zones": ["zone-1"], "total_capacity": "100G"}],
    "images": [{"name": "img", "backup_storages": ["bs"], "virtual_size": "20G", "actual_size": "2G"}],
    "instance_offerings": [
        {"name": "m8", "cpu_num": 2, "memory_size": "8G"},
        {"name": "m2", "cpu_num": 1, "memory_size": "2G"},
    ],
    "disk_offerings": [{"name": "d10", "disk_size": "10G"}, {"name": "d100", "disk_size": "100G"}],
    "l3_networks": [{"name": "l3", "zone": "zone-1", "cidr": "10.0.0.0/22"}],
}


@pytest.fixture
def env():
    cloud = Cloud(TOPOLOGY, seed=3, clock=ManualClock())
    client = Client(make_app(cloud))
    return cloud, client, login(client)


def uuid_of(cloud, collection, name):
    return next(e for e in getattr(cloud, collection) if e.name == name).uuid


def ask(client, session, path, **params):
    return client.get(f"/zstack/v1/{path}", headers=auth(session), query_string=params)


def error(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    return response.get_json()["error"]


def creation_params(cloud, offering="m8", **extra):
    return {
        "imageUuid": uuid_of(cloud, "images", "img"),
        "instanceOfferingUuid": uuid_of(cloud, "instance_offerings", offering),
        "l3NetworkUuids": [uuid_of(cloud, "l3_networks", "l3")],
        **extra,
    }


def create(client, session, name, params):
    return call_async(
        client, "POST", "/zstack/v1/vm-instances", session, json={"params": {"name": name, **params}}
    )


def capacity(client, session):
    hosts = query(client, session, "hosts").get_json()["inventories"]
    pss = query(client, session, "primary-storage").get_json()["inventories"]
    return (
        [(h["name"], h["availableCpuCapacity"], h["availableMemoryCapacity"]) for h in hosts],
        [(p["name"], p["availableCapacity"]) for p in pss],
    )


# -- GetCandidateZonesClustersHostsForCreatingVm -------------------------------------------


def test_creation_candidates_name_the_hosts_with_room_and_change_nothing(env):
    cloud, client, session = env
    before = capacity(client, session)
    response = ask(client, session, "vm-instances/candidate-destinations", **creation_params(cloud))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert sorted(body) == ["clusters", "hosts", "zones"]
    assert [h["name"] for h in body["hosts"]] == ["a-big", "b-big"]  # a-small: 5G - 1G reserve < 8G
    assert [c["name"] for c in body["clusters"]] == ["cluster-a", "cluster-b"]
    assert [z["name"] for z in body["zones"]] == ["zone-1"]
    assert capacity(client, session) == before


def test_creation_candidates_predict_every_create_until_the_hosts_are_full(env):
    cloud, client, session = env
    params = creation_params(cloud)
    for i in range(6):
        answer = ask(client, session, "vm-instances/candidate-destinations", **params)
        created = create(client, session, f"vm-{i}", params)
        if answer.status_code == 200:
            hosts = {h["uuid"] for h in answer.get_json()["hosts"]}
            assert created.status_code == 200, created.get_data(as_text=True)
            assert created.get_json()["inventory"]["hostUuid"] in hosts
            continue
        # no host: the question fails with the cause the create fails with
        cause = error(answer)
        assert cause == {
            "code": "HOST_ALLOCATION.1000",
            "description": "An operation failed",
            "details": f"no host having cpu[2], memory[{8 * GiB} bytes] found",
        }
        failed = error(created)
        assert failed["code"] == "SYS.1006" and failed["cause"] == cause
        break
    else:
        pytest.fail("the hosts never filled up")
    assert i == 4  # a-big and b-big take two 8G VMs each (17G - 1G reserve)


def test_creation_candidates_skip_disabled_hosts_and_follow_the_cluster_hint(env):
    cloud, client, session = env
    cloud.set_host_state(uuid_of(cloud, "hosts", "b-big"), "Disabled")
    body = ask(client, session, "vm-instances/candidate-destinations", **creation_params(cloud)).get_json()
    assert [h["name"] for h in body["hosts"]] == ["a-big"]
    hinted = ask(
        client,
        session,
        "vm-instances/candidate-destinations",
        **creation_params(cloud, "m2", clusterUuid=uuid_of(cloud, "clusters", "cluster-a")),
    ).get_json()
    assert [h["name"] for h in hinted["hosts"]] == ["a-big", "a-small"]


def test_creation_candidates_leave_out_clusters_whose_storage_is_full(env):
    cloud, client, session = env
    params = creation_params(cloud, "m2", dataDiskOfferingUuids=[uuid_of(cloud, "disk_offerings", "d100")])
    body = ask(client, session, "vm-instances/candidate-destinations", **params).get_json()
    assert [c["name"] for c in body["clusters"]] == ["cluster-a"]  # ps-b (60G) cannot hold 20G + 100G
    created = create(client, session, "vm-data", params)
    assert created.get_json()["inventory"]["clusterUuid"] == uuid_of(cloud, "clusters", "cluster-a")


def test_creation_candidates_errors(env):
    cloud, client, session = env
    missing = error(
        ask(client, session, "vm-instances/candidate-destinations", imageUuid=uuid_of(cloud, "images", "img"))
    )
    assert missing["code"] == "SYS.1007"
    assert missing["details"].startswith("field[l3NetworkUuids]")
    unknown = error(
        ask(
            client,
            session,
            "vm-instances/candidate-destinations",
            **creation_params(cloud, imageUuid="0" * 32),
        )
    )
    assert unknown["code"] == "SYS.1003"
    no_size = error(
        ask(
            client,
            session,
            "vm-instances/candidate-destinations",
            imageUuid=uuid_of(cloud, "images", "img"),
            l3NetworkUuids=[uuid_of(cloud, "l3_networks", "l3")],
        )
    )
    assert no_size["code"] == "SYS.1007"


# -- GetCandidatePrimaryStoragesForCreatingVm -------------------------------------------------


def test_storage_candidates_predict_where_the_root_volume_goes(env):
    cloud, client, session = env
    d10 = uuid_of(cloud, "disk_offerings", "d10")
    params = creation_params(cloud, "m2", dataDiskOfferingUuids=[d10])
    response = ask(client, session, "vm-instances/candidate-storages", **params, dataDiskSizes=[5 * GiB])
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    roots = [p["name"] for p in body["rootVolumePrimaryStorages"]]
    assert roots == ["ps-a", "ps-b"]  # roomiest first
    data = body["dataVolumePrimaryStorages"]
    assert sorted(data) == sorted([d10, str(5 * GiB)])
    assert [p["name"] for p in data[d10]] == ["ps-a", "ps-b"]
    vm = create(client, session, "vm-1", params).get_json()["inventory"]
    root = next(v for v in vm["allVolumes"] if v["type"] == "Root")
    assert root["primaryStorageUuid"] in {p["uuid"] for p in body["rootVolumePrimaryStorages"]}


def test_storage_candidates_drop_a_full_storage(env):
    cloud, client, session = env
    params = creation_params(cloud, "m2", dataDiskOfferingUuids=[uuid_of(cloud, "disk_offerings", "d100")])
    body = ask(client, session, "vm-instances/candidate-storages", **params).get_json()
    assert [p["name"] for p in body["rootVolumePrimaryStorages"]] == ["ps-a"]
    cloud.set_storage_state(uuid_of(cloud, "primary_storages", "ps-a"), "Disabled")
    err = error(ask(client, session, "vm-instances/candidate-storages", **params))
    assert err["code"] == "HOST_ALLOCATION.1000"
    assert err["details"].startswith("cannot find available primary storage")
    created = error(create(client, session, "no-room", params))
    assert created["cause"]["details"] == err["details"]


# -- GetVmStartingCandidateClustersHosts ------------------------------------------------------


def test_start_candidates_predict_the_start(env):
    cloud, client, session = env
    vm = create(client, session, "vm-1", creation_params(cloud)).get_json()["inventory"]
    running = error(ask(client, session, f"vm-instances/{vm['uuid']}/starting-target-hosts"))
    assert running["code"] == "SYS.1006"
    assert running["cause"]["code"] == "VM.1010"
    call_async(
        client, "PUT", f"/zstack/v1/vm-instances/{vm['uuid']}/actions", session, json={"stopVmInstance": {}}
    )
    answer = ask(client, session, f"vm-instances/{vm['uuid']}/starting-target-hosts").get_json()
    assert sorted(answer) == ["clusters", "hosts"]
    hosts = {h["uuid"] for h in answer["hosts"]}
    # the VM's storage is in one cluster: only that cluster's hosts with room
    assert {h["clusterUuid"] for h in answer["hosts"]} == {vm["clusterUuid"]}
    assert [c["uuid"] for c in answer["clusters"]] == [vm["clusterUuid"]]
    started = call_async(
        client, "PUT", f"/zstack/v1/vm-instances/{vm['uuid']}/actions", session, json={"startVmInstance": {}}
    )
    assert started.get_json()["inventory"]["hostUuid"] in hosts


def test_start_candidates_of_an_unknown_vm(env):
    cloud, client, session = env
    assert error(ask(client, session, f"vm-instances/{'0' * 32}/starting-target-hosts"))["code"] == "SYS.1003"


# -- GetVmAttachableDataVolume / GetDataVolumeAttachableVm --------------------------------------


def new_volume(client, session, name, **params):
    return call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": name, "diskSize": 5 * GiB, **params}},
    ).get_json()["inventory"]


def test_attachable_volumes_and_vms_predict_the_attach(env):
    cloud, client, session = env
    in_a = create(
        client,
        session,
        "in-a",
        creation_params(cloud, "m2", clusterUuid=uuid_of(cloud, "clusters", "cluster-a")),
    ).get_json()["inventory"]
    in_b = create(
        client,
        session,
        "in-b",
        creation_params(cloud, "m2", clusterUuid=uuid_of(cloud, "clusters", "cluster-b")),
    ).get_json()["inventory"]
    on_a = new_volume(client, session, "on-a", primaryStorageUuid=uuid_of(cloud, "primary_storages", "ps-a"))
    floating = new_volume(client, session, "floating")  # not instantiated: goes where the VM is
    vols = ask(client, session, f"vm-instances/{in_b['uuid']}/data-volume-candidates").get_json()
    assert [v["name"] for v in vols["inventories"]] == ["floating"]
    vols_a = ask(client, session, f"vm-instances/{in_a['uuid']}/data-volume-candidates").get_json()
    assert [v["name"] for v in vols_a["inventories"]] == ["on-a", "floating"]
    vms = ask(client, session, f"volumes/{on_a['uuid']}/candidate-vm-instances").get_json()
    assert [v["name"] for v in vms["inventories"]] == ["in-a"]
    vms_floating = ask(client, session, f"volumes/{floating['uuid']}/candidate-vm-instances").get_json()
    assert [v["name"] for v in vms_floating["inventories"]] == ["in-a", "in-b"]
    # the prediction: the one refused is refused, the one offered attaches
    refused = call_async(
        client, "POST", f"/zstack/v1/volumes/{on_a['uuid']}/vm-instances/{in_b['uuid']}", session
    )
    assert refused.status_code == 503
    attached = call_async(
        client, "POST", f"/zstack/v1/volumes/{on_a['uuid']}/vm-instances/{in_a['uuid']}", session
    )
    assert attached.status_code == 200
    again = ask(client, session, f"vm-instances/{in_a['uuid']}/data-volume-candidates").get_json()
    assert [v["name"] for v in again["inventories"]] == ["floating"]
    assert (
        ask(client, session, f"volumes/{on_a['uuid']}/candidate-vm-instances").get_json()["inventories"] == []
    )


def test_attachable_questions_errors(env):
    cloud, client, session = env
    assert (
        error(ask(client, session, f"vm-instances/{'0' * 32}/data-volume-candidates"))["code"] == "SYS.1003"
    )
    assert error(ask(client, session, f"volumes/{'0' * 32}/candidate-vm-instances"))["code"] == "SYS.1003"
    vm = create(client, session, "gone", creation_params(cloud, "m2")).get_json()["inventory"]
    call_async(client, "DELETE", f"/zstack/v1/vm-instances/{vm['uuid']}", session)
    destroyed = error(ask(client, session, f"vm-instances/{vm['uuid']}/data-volume-candidates"))
    assert destroyed["cause"]["code"] == "VM.1010"
