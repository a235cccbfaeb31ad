"""Infrastructure APIs over REST (issue 16, group 7): ChangeHostState, ReconnectHost,
ChangePrimaryStorageState, SyncPrimaryStorageCapacity, GetLocalStorageHostDiskCapacity,
LogInByUser."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.test import Client
from zstack_support import auth, call_async, login, query

from fakestack.app import make_app
from fakestack.model import Cloud, ManualClock

GiB = 1024**3
PASSWORD = hashlib.sha512(b"password").hexdigest()

TOPOLOGY = {
    "name": "infra",
    "zones": [{"name": "zone-1"}],
    "clusters": [{"name": "shared", "zone": "zone-1"}, {"name": "local", "zone": "zone-1"}],
    "hosts": [
        {"name": "s1", "cluster": "shared", "cpu_num": 8, "memory": "17G"},
        {"name": "s2", "cluster": "shared", "cpu_num": 8, "memory": "17G"},
        {"name": "l1", "cluster": "local", "cpu_num": 8, "memory": "17G"},
        {"name": "l2", "cluster": "local", "cpu_num": 8, "memory": "17G"},
    ],
    "primary_storages": [
        {"name": "nfs", "type": "NFS", "clusters": ["shared"], "total_capacity": "200G"},
        {"name": "ls", "type": "LocalStorage", "clusters": ["local"], "total_capacity": "100G"},
    ],
    "backup_storages": [{"name": "bs", "zones": ["zone-1"], "total_capacity": "100G"}],
    "images": [{"name": "img", "backup_storages": ["bs"], "virtual_size": "10G", "actual_size": "1G"}],
    "instance_offerings": [{"name": "m4", "cpu_num": 2, "memory_size": "4G"}],
    "l3_networks": [{"name": "l3", "zone": "zone-1", "cidr": "10.0.0.0/24"}],
    "vms": [
        {"name": "on-s1", "instance_offering": "m4", "image": "img", "host": "s1"},
        {"name": "on-s1-too", "instance_offering": "m4", "image": "img", "host": "s1"},
        {"name": "on-l1", "instance_offering": "m4", "image": "img", "host": "l1"},
    ],
}


@pytest.fixture
def env():
    cloud = Cloud(TOPOLOGY, seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    return cloud, client, login(client)


def uuid_of(cloud, collection, name):
    return next(e for e in getattr(cloud, collection) if e.name == name).uuid


def error(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    return response.get_json()["error"]


def host_action(client, session, uuid, action, **params):
    return call_async(client, "PUT", f"/zstack/v1/hosts/{uuid}/actions", session, json={action: params})


def ps_action(client, session, uuid, action, **params):
    return call_async(
        client, "PUT", f"/zstack/v1/primary-storage/{uuid}/actions", session, json={action: params}
    )


def host_inv(client, session, name):
    return query(client, session, "hosts", q=f"name={name}").get_json()["inventories"][0]


def vm_inv(client, session, name):
    return query(client, session, "vm-instances", q=f"name={name}").get_json()["inventories"][0]


def create_vm(cloud, client, session, name, **extra):
    return call_async(
        client,
        "POST",
        "/zstack/v1/vm-instances",
        session,
        json={
            "params": {
                "name": name,
                "imageUuid": uuid_of(cloud, "images", "img"),
                "instanceOfferingUuid": uuid_of(cloud, "instance_offerings", "m4"),
                "l3NetworkUuids": [uuid_of(cloud, "l3_networks", "l3")],
                **extra,
            }
        },
    )


# -- ChangeHostState -----------------------------------------------------------------------


def test_disabled_host_keeps_its_vms_and_takes_no_new_one(env):
    cloud, client, session = env
    s1 = uuid_of(cloud, "hosts", "s1")
    response = host_action(client, session, s1, "changeHostState", stateEvent="disable")
    assert response.status_code == 200
    assert response.get_json()["inventory"]["state"] == "Disabled"
    assert vm_inv(client, session, "on-s1")["hostUuid"] == s1
    pinned = error(create_vm(cloud, client, session, "pinned", hostUuid=s1))
    assert pinned["code"] == "SYS.1006"
    enabled = host_action(client, session, s1, "changeHostState", stateEvent="enable")
    assert enabled.get_json()["inventory"]["state"] == "Enabled"
    assert create_vm(cloud, client, session, "pinned", hostUuid=s1).status_code == 200


def test_maintained_host_moves_its_vms_away_and_stops_local_ones(env):
    cloud, client, session = env
    s1, s2 = uuid_of(cloud, "hosts", "s1"), uuid_of(cloud, "hosts", "s2")
    s2_free = host_inv(client, session, "s2")["availableMemoryCapacity"]
    response = host_action(client, session, s1, "changeHostState", stateEvent="maintain")
    assert response.get_json()["inventory"]["state"] == "Maintenance"
    for name in ("on-s1", "on-s1-too"):
        vm = vm_inv(client, session, name)
        assert (vm["state"], vm["hostUuid"]) == ("Running", s2)
    inv = host_inv(client, session, "s1")
    assert inv["availableMemoryCapacity"] == inv["totalMemoryCapacity"]
    assert host_inv(client, session, "s2")["availableMemoryCapacity"] == s2_free - 8 * GiB
    l1 = uuid_of(cloud, "hosts", "l1")
    host_action(client, session, l1, "changeHostState", stateEvent="maintain")
    local = vm_inv(client, session, "on-l1")
    assert local["state"] == "Stopped" and "hostUuid" not in local
    cloud.check_invariants()


def test_maintained_host_stops_what_no_other_host_can_take(env):
    cloud, client, session = env
    s2 = uuid_of(cloud, "hosts", "s2")
    host_action(client, session, s2, "changeHostState", stateEvent="disable")
    host_action(client, session, uuid_of(cloud, "hosts", "s1"), "changeHostState", stateEvent="maintain")
    assert [vm_inv(client, session, n)["state"] for n in ("on-s1", "on-s1-too")] == ["Stopped", "Stopped"]


def test_change_host_state_errors(env):
    cloud, client, session = env
    bad = error(
        host_action(client, session, uuid_of(cloud, "hosts", "s1"), "changeHostState", stateEvent="reboot")
    )
    assert bad["code"] == "SYS.1007"
    assert bad["details"] == (
        "valid value for field[stateEvent] of message[org.zstack.header.host."
        "APIChangeHostStateMsg] are [enable, disable, maintain], but reboot found"
    )
    assert (
        error(host_action(client, session, "0" * 32, "changeHostState", stateEvent="enable"))["code"]
        == "SYS.1003"
    )


# -- ReconnectHost ---------------------------------------------------------------------------


def test_reconnect_brings_a_disconnected_host_back(env):
    cloud, client, session = env
    s2 = uuid_of(cloud, "hosts", "s2")
    cloud.set_host_status(s2, "Disconnected")
    assert host_inv(client, session, "s2")["status"] == "Disconnected"
    refused = error(create_vm(cloud, client, session, "there", hostUuid=s2))
    assert refused["code"] == "SYS.1006"
    response = host_action(client, session, s2, "reconnectHost")
    assert response.status_code == 200
    assert response.get_json()["inventory"]["status"] == "Connected"
    assert create_vm(cloud, client, session, "there", hostUuid=s2).status_code == 200


def test_reconnect_unknown_host(env):
    cloud, client, session = env
    assert error(host_action(client, session, "0" * 32, "reconnectHost"))["code"] == "SYS.1003"


# -- ChangePrimaryStorageState ------------------------------------------------------------------


def test_disabled_primary_storage_takes_no_new_volume(env):
    cloud, client, session = env
    nfs = uuid_of(cloud, "primary_storages", "nfs")
    response = ps_action(client, session, nfs, "changePrimaryStorageState", stateEvent="disable")
    assert response.get_json()["inventory"]["state"] == "Disabled"
    err = error(create_vm(cloud, client, session, "x", clusterUuid=uuid_of(cloud, "clusters", "shared")))
    assert err["code"] == "SYS.1006"
    assert err["cause"]["code"] == "HOST_ALLOCATION.1000"
    ps_action(client, session, nfs, "changePrimaryStorageState", stateEvent="enable")
    assert (
        create_vm(cloud, client, session, "x", clusterUuid=uuid_of(cloud, "clusters", "shared")).status_code
        == 200
    )


def test_maintained_primary_storage_stops_its_vms_and_keeps_its_data(env):
    cloud, client, session = env
    nfs = uuid_of(cloud, "primary_storages", "nfs")
    before = query(client, session, "primary-storage", q="name=nfs").get_json()["inventories"][0]
    response = ps_action(client, session, nfs, "changePrimaryStorageState", stateEvent="maintain")
    inv = response.get_json()["inventory"]
    assert inv["state"] == "Maintenance"
    assert inv["availableCapacity"] == before["availableCapacity"]
    assert [vm_inv(client, session, n)["state"] for n in ("on-s1", "on-s1-too", "on-l1")] == [
        "Stopped",
        "Stopped",
        "Running",
    ]
    deleting = ps_action(client, session, nfs, "changePrimaryStorageState", stateEvent="deleting")
    assert deleting.get_json()["inventory"]["state"] == "Deleting"


def test_change_primary_storage_state_errors(env):
    cloud, client, session = env
    bad = error(
        ps_action(
            client,
            session,
            uuid_of(cloud, "primary_storages", "nfs"),
            "changePrimaryStorageState",
            stateEvent="wipe",
        )
    )
    assert bad["code"] == "SYS.1007"
    assert (
        error(ps_action(client, session, "0" * 32, "changePrimaryStorageState", stateEvent="enable"))["code"]
        == "SYS.1003"
    )


# -- SyncPrimaryStorageCapacity -------------------------------------------------------------------


def test_sync_answers_the_ledgers_as_they_are(env):
    cloud, client, session = env
    nfs = uuid_of(cloud, "primary_storages", "nfs")
    before = query(client, session, "primary-storage", q="name=nfs").get_json()["inventories"][0]
    response = ps_action(client, session, nfs, "syncPrimaryStorageCapacity")
    assert response.status_code == 200
    inv = response.get_json()["inventory"]
    for key in ("totalCapacity", "availableCapacity", "totalPhysicalCapacity", "availablePhysicalCapacity"):
        assert inv[key] == before[key]
    assert inv["availableCapacity"] < inv["totalCapacity"]  # the two VMs' volumes are counted
    assert error(ps_action(client, session, "0" * 32, "syncPrimaryStorageCapacity"))["code"] == "SYS.1003"


# -- GetLocalStorageHostDiskCapacity -----------------------------------------------------------------


def local_capacity(client, session, ps, **params):
    return client.get(
        f"/zstack/v1/primary-storage/local-storage/{ps}/capacities",
        headers=auth(session),
        query_string=params,
    )


def test_local_storage_capacity_per_host_adds_up_to_the_storage(env):
    cloud, client, session = env
    ls = uuid_of(cloud, "primary_storages", "ls")
    l1, l2 = uuid_of(cloud, "hosts", "l1"), uuid_of(cloud, "hosts", "l2")
    response = local_capacity(client, session, ls)
    assert response.status_code == 200
    rows = response.get_json()["inventories"]
    assert [r["hostUuid"] for r in rows] == [l1, l2]
    ps = query(client, session, "primary-storage", q="name=ls").get_json()["inventories"][0]
    for key in ("totalCapacity", "availableCapacity", "totalPhysicalCapacity", "availablePhysicalCapacity"):
        assert sum(r[key] for r in rows) == ps[key]
    assert rows[0]["totalCapacity"] == 50 * GiB
    # a VM on l2 is charged to l2's share
    free_l2 = rows[1]["availableCapacity"]
    create_vm(cloud, client, session, "on-l2", hostUuid=l2)
    after = local_capacity(client, session, ls, hostUuid=l2).get_json()["inventories"]
    assert [r["hostUuid"] for r in after] == [l2]
    assert after[0]["availableCapacity"] == free_l2 - 10 * GiB


def test_local_storage_capacity_errors(env):
    cloud, client, session = env
    nfs = uuid_of(cloud, "primary_storages", "nfs")
    assert error(local_capacity(client, session, nfs))["code"] == "SYS.1007"
    assert error(local_capacity(client, session, "0" * 32))["code"] == "SYS.1003"
    other = error(
        local_capacity(
            client, session, uuid_of(cloud, "primary_storages", "ls"), hostUuid=uuid_of(cloud, "hosts", "s1")
        )
    )
    assert other["code"] == "SYS.1007"


# -- LogInByUser -------------------------------------------------------------------------------


def user_login(client, **params):
    return client.put("/zstack/v1/accounts/users/login", json={"logInByUser": params})


def test_the_default_accounts_user_logs_in_and_calls_apis(env):
    cloud, client, session = env
    response = user_login(client, accountName="admin", userName="user", password=PASSWORD)
    assert response.status_code == 200
    inv = response.get_json()["inventory"]
    assert inv["accountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert inv["userUuid"] != inv["accountUuid"]
    assert inv["userType"] == "UserVO"
    assert query(client, inv["uuid"], "hosts").status_code == 200
    by_uuid = user_login(client, accountUuid=inv["accountUuid"], userName="user", password=PASSWORD)
    assert by_uuid.status_code == 200


def test_an_added_user_logs_in(env):
    cloud, client, session = env
    client.application.dialects[0].set_user("ops", "s3cret")
    ok = user_login(
        client, accountName="admin", userName="ops", password=hashlib.sha512(b"s3cret").hexdigest()
    )
    assert ok.status_code == 200


def test_user_login_errors(env):
    cloud, client, session = env
    wrong = user_login(client, accountName="admin", userName="user", password="nope")
    assert error(wrong) == {
        "code": "ID.1000",
        "description": "Unable to authenticate a user",
        "details": "wrong account or username or password",
    }
    assert (
        error(user_login(client, accountName="nobody", userName="user", password=PASSWORD))["code"]
        == "ID.1000"
    )
    neither = error(user_login(client, userName="user", password=PASSWORD))
    assert neither["code"] == "SYS.1007"
    missing = error(user_login(client, accountName="admin", password=PASSWORD))
    assert missing["details"].startswith("field[userName]")


# -- faults ------------------------------------------------------------------------------


def test_a_failing_reconnect_leaves_the_host_disconnected(env):
    from fakestack import faults

    cloud, client, session = env
    s2 = uuid_of(cloud, "hosts", "s2")
    cloud.set_host_status(s2, "Disconnected")
    faults.add(cloud, faults.fail("host.reconnect", "the agent does not answer", code="HOST.1010"))
    err = error(host_action(client, session, s2, "reconnectHost"))
    assert err["code"] == "HOST.1010"
    assert host_inv(client, session, "s2")["status"] == "Disconnected"


def test_a_maintenance_that_fails_midway_changes_nothing(env):
    from fakestack import faults

    cloud, client, session = env
    s1 = uuid_of(cloud, "hosts", "s1")
    before = [vm_inv(client, session, n)["hostUuid"] for n in ("on-s1", "on-s1-too")]
    faults.add(cloud, faults.fail("vm.migrate", "migration network down", nth=2))
    err = error(host_action(client, session, s1, "changeHostState", stateEvent="maintain"))
    assert err["details"] == "migration network down"
    assert host_inv(client, session, "s1")["state"] == "Enabled"
    assert [vm_inv(client, session, n)["hostUuid"] for n in ("on-s1", "on-s1-too")] == before
    cloud.check_invariants()
