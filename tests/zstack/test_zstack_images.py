"""Image APIs over REST: AddImage (a simulated download from a URL), UpdateImage,
ChangeImageState, GetCandidateBackupStorageForCreatingImage (issue 16, group 5)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from zstack_support import auth, call_async, login, query

from fakestack.app import make_app
from fakestack.model import Cloud, ManualClock

GiB = 1024**3
URL = "http://images.example.test/centos-7.qcow2"

TOPOLOGY = {
    "name": "images",
    "zones": [{"name": "zone-1"}, {"name": "zone-2"}],
    "clusters": [{"name": "cluster-1", "zone": "zone-1"}],
    "hosts": [{"name": "host-1", "cluster": "cluster-1", "cpu_num": 8, "memory": "16G"}],
    "primary_storages": [{"name": "nfs", "type": "NFS", "clusters": ["cluster-1"], "total_capacity": "100G"}],
    "backup_storages": [
        {"name": "bs-big", "zones": ["zone-1"], "total_capacity": "20G"},
        {"name": "bs-small", "zones": ["zone-1"], "total_capacity": "3G"},
        {"name": "bs-other-zone", "zones": ["zone-2"], "total_capacity": "20G"},
    ],
    "images": [{"name": "base", "backup_storages": ["bs-big"], "virtual_size": "10G", "actual_size": "1G"}],
    "instance_offerings": [{"name": "small", "cpu_num": 1, "memory_size": "1G"}],
    "l3_networks": [{"name": "l3", "zone": "zone-1", "cidr": "10.0.0.0/24"}],
    "vms": [{"name": "vm-1", "instance_offering": "small", "image": "base"}],
    "settings": {
        "image_catalogue": [
            {"url": URL, "virtual_size": "20G", "actual_size": "2G", "download_seconds": 30},
            {"url": "http://images.example.test/big.qcow2", "virtual_size": "40G", "actual_size": "4G"},
            {
                "url": "http://images.example.test/tools.iso",
                "virtual_size": "1G",
                "actual_size": "1G",
                "format": "iso",
            },
        ],
        "download_rate": "1G",
    },
}


@pytest.fixture
def env():
    cloud = Cloud(TOPOLOGY, seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    return cloud, client, login(client)


def uuid_of(cloud, collection, name):
    return next(e for e in getattr(cloud, collection) if e.name == name).uuid


def bs_available(client, session, name):
    inv = query(client, session, "backup-storage", q=f"name={name}").get_json()["inventories"][0]
    return inv["availableCapacity"]


def error(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    return response.get_json()["error"]


def add_image(client, session, **params):
    return client.post("/zstack/v1/images", headers=auth(session), json={"params": params})


# -- AddImage -------------------------------------------------------------------------


def test_add_image_downloads_for_the_catalogue_duration_and_charges_each_backup_storage(env):
    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    before = bs_available(client, session, "bs-big")
    response = add_image(
        client,
        session,
        name="centos",
        url=URL,
        backupStorageUuids=[big],
        platform="Linux",
        guestOsType="CentOS 7",
    )
    assert response.status_code == 202
    job = response.get_json()["location"].split("/zstack/", 1)[1]
    assert client.get("/zstack/" + job).status_code == 202  # still downloading
    cloud.tick(29)
    assert client.get("/zstack/" + job).status_code == 202
    cloud.tick(1)
    done = client.get("/zstack/" + job)
    assert done.status_code == 200
    inv = done.get_json()["inventory"]
    assert inv["name"] == "centos"
    assert inv["url"] == URL
    assert inv["size"] == 20 * GiB
    assert inv["actualSize"] == 2 * GiB
    assert inv["status"] == "Ready" and inv["state"] == "Enabled"
    assert inv["mediaType"] == "RootVolumeTemplate" and inv["format"] == "qcow2"
    assert inv["guestOsType"] == "CentOS 7"
    assert [r["backupStorageUuid"] for r in inv["backupStorageRefs"]] == [big]
    assert bs_available(client, session, "bs-big") == before - 2 * GiB


def test_add_image_without_catalogue_seconds_takes_actual_size_over_the_rate(env):
    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    response = add_image(
        client, session, name="big", url="http://images.example.test/big.qcow2", backupStorageUuids=[big]
    )
    job = response.get_json()["location"].split("/zstack/", 1)[1]
    cloud.tick(3)
    assert client.get("/zstack/" + job).status_code == 202  # 4G at 1G/s
    cloud.tick(1)
    assert client.get("/zstack/" + job).status_code == 200


def test_add_image_iso_url_is_an_iso_and_resource_uuid_is_honoured(env):
    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    wanted = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
    done = call_async(
        client,
        "POST",
        "/zstack/v1/images",
        session,
        json={
            "params": {
                "name": "tools",
                "url": "http://images.example.test/tools.iso",
                "backupStorageUuids": [big],
                "resourceUuid": wanted,
            }
        },
    )
    cloud.tick(5)
    inv = client.get(f"/zstack/v1/images/{wanted}", headers=auth(session)).get_json()["inventories"][0]
    assert done.status_code == 202  # answered while the download runs
    assert inv["mediaType"] == "ISO" and inv["format"] == "iso"


def test_add_image_onto_two_backup_storages_charges_both(env):
    cloud, client, session = env
    big, small = uuid_of(cloud, "backup_storages", "bs-big"), uuid_of(cloud, "backup_storages", "bs-small")
    before = bs_available(client, session, "bs-big"), bs_available(client, session, "bs-small")
    done = call_async(
        client,
        "POST",
        "/zstack/v1/images",
        session,
        json={"params": {"name": "two", "url": URL, "backupStorageUuids": [big, small]}},
    )
    cloud.tick(30)
    assert done.status_code == 202
    assert bs_available(client, session, "bs-big") == before[0] - 2 * GiB
    assert bs_available(client, session, "bs-small") == before[1] - 2 * GiB


def test_add_image_larger_than_the_backup_storage_fails_and_charges_nothing(env):
    cloud, client, session = env
    big, small = uuid_of(cloud, "backup_storages", "bs-big"), uuid_of(cloud, "backup_storages", "bs-small")
    before = bs_available(client, session, "bs-big"), bs_available(client, session, "bs-small")
    images = len(cloud.images)
    response = call_async(
        client,
        "POST",
        "/zstack/v1/images",
        session,
        json={
            "params": {
                "name": "too-big",
                "url": "http://images.example.test/big.qcow2",
                "backupStorageUuids": [big, small],
            }
        },
    )
    err = error(response)
    assert err["code"] == "SYS.1006"
    assert err["details"].startswith(
        f"the backup storage[uuid:{small}, name:bs-small] has not enough capacity "
        "to download the image[http://images.example.test/big.qcow2].Required "
        f"size:{4 * GiB}, available size:"
    )
    assert (bs_available(client, session, "bs-big"), bs_available(client, session, "bs-small")) == before
    assert len(cloud.images) == images


def test_add_image_from_an_unknown_url_fails_like_an_unreachable_url(env):
    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    err = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/images",
            session,
            json={
                "params": {
                    "name": "nowhere",
                    "url": "http://nowhere.test/x.qcow2",
                    "backupStorageUuids": [big],
                }
            },
        )
    )
    assert err["code"] == "SYS.1006"
    assert "http://nowhere.test/x.qcow2" in err["details"]


def test_add_image_with_a_declared_default_size_serves_any_url():
    topology = dict(TOPOLOGY, settings={"default_download_size": "2G", "download_rate": "1G"})
    cloud = Cloud(topology, seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    session = login(client)
    big = uuid_of(cloud, "backup_storages", "bs-big")
    add_image(client, session, name="any", url="http://anything.test/a.qcow2", backupStorageUuids=[big])
    cloud.tick(2)
    inv = query(client, session, "images", q="name=any").get_json()["inventories"][0]
    assert (inv["size"], inv["actualSize"]) == (2 * GiB, 2 * GiB)


def test_add_image_errors_at_the_interceptor(env):
    cloud, client, session = env
    missing = error(
        call_async(client, "POST", "/zstack/v1/images", session, json={"params": {"name": "x", "url": URL}})
    )
    assert missing["code"] == "SYS.1007"
    assert missing["details"] == (
        "field[backupStorageUuids] of message[org.zstack.header.image.APIAddImageMsg] "
        "is mandatory, can not be null"
    )
    unknown = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/images",
            session,
            json={"params": {"name": "x", "url": URL, "backupStorageUuids": ["0" * 32]}},
        )
    )
    assert unknown["code"] == "SYS.1003"
    bad_kind = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/images",
            session,
            json={
                "params": {
                    "name": "x",
                    "url": URL,
                    "backupStorageUuids": [uuid_of(cloud, "backup_storages", "bs-big")],
                    "mediaType": "Floppy",
                }
            },
        )
    )
    assert bad_kind["code"] == "SYS.1007"


def test_add_image_on_a_disabled_backup_storage_fails(env):
    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    cloud.set_storage_state(big, "Disabled")
    err = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/images",
            session,
            json={"params": {"name": "x", "url": URL, "backupStorageUuids": [big]}},
        )
    )
    assert err["code"] == "SYS.1006"


# -- UpdateImage / ChangeImageState ----------------------------------------------------


def image_action(client, session, uuid, action, **params):
    return call_async(client, "PUT", f"/zstack/v1/images/{uuid}/actions", session, json={action: params})


def test_update_image_changes_what_the_image_says(env):
    cloud, client, session = env
    base = uuid_of(cloud, "images", "base")
    response = image_action(
        client,
        session,
        base,
        "updateImage",
        name="renamed",
        description="golden",
        guestOsType="Ubuntu 22.04",
        platform="Other",
        mediaType="DataVolumeTemplate",
    )
    assert response.status_code == 200
    inv = response.get_json()["inventory"]
    assert (inv["name"], inv["description"], inv["guestOsType"], inv["platform"], inv["mediaType"]) == (
        "renamed",
        "golden",
        "Ubuntu 22.04",
        "Other",
        "DataVolumeTemplate",
    )
    assert inv["size"] == 10 * GiB  # data unchanged
    again = query(client, session, "images", q="name=renamed").get_json()["inventories"]
    assert [i["uuid"] for i in again] == [base]


def test_update_image_errors(env):
    cloud, client, session = env
    assert error(image_action(client, session, "0" * 32, "updateImage", name="x"))["code"] == "SYS.1003"
    bad = error(image_action(client, session, uuid_of(cloud, "images", "base"), "updateImage", format="vhd"))
    assert bad["code"] == "SYS.1007"
    assert "valid value for field[format]" in bad["details"]


def test_disabled_image_makes_no_vm_until_enabled(env):
    cloud, client, session = env
    base = uuid_of(cloud, "images", "base")
    disabled = image_action(client, session, base, "changeImageState", stateEvent="disable")
    assert disabled.get_json()["inventory"]["state"] == "Disabled"
    body = {
        "params": {
            "name": "vm-2",
            "imageUuid": base,
            "cpuNum": 1,
            "memorySize": GiB,
            "l3NetworkUuids": [uuid_of(cloud, "l3_networks", "l3")],
        }
    }
    err = error(call_async(client, "POST", "/zstack/v1/vm-instances", session, json=body))
    assert err["code"] == "SYS.1006"
    enabled = image_action(client, session, base, "changeImageState", stateEvent="enable")
    assert enabled.get_json()["inventory"]["state"] == "Enabled"
    assert call_async(client, "POST", "/zstack/v1/vm-instances", session, json=body).status_code == 200


def test_change_image_state_errors(env):
    cloud, client, session = env
    base = uuid_of(cloud, "images", "base")
    bad = error(image_action(client, session, base, "changeImageState", stateEvent="freeze"))
    assert bad["code"] == "SYS.1007"
    missing = error(image_action(client, session, base, "changeImageState"))
    assert missing["details"].startswith("field[stateEvent]")


# -- GetCandidateBackupStorageForCreatingImage ----------------------------------------------


def test_candidate_backup_storages_are_the_usable_ones_of_the_volume_zone(env):
    cloud, client, session = env
    vm = next(iter(cloud.vms))
    cloud.set_storage_state(uuid_of(cloud, "backup_storages", "bs-small"), "Disabled")
    response = client.get(
        "/zstack/v1/images/candidate-backup-storage",
        headers=auth(session),
        query_string={"volumeUuid": vm.root_volume_uuid},
    )
    assert response.status_code == 200
    names = [bs["name"] for bs in response.get_json()["inventories"]]
    assert names == ["bs-big"]
    snap = cloud.create_volume_snapshot(vm.root_volume_uuid, "s1")
    by_snapshot = client.get(
        "/zstack/v1/images/candidate-backup-storage",
        headers=auth(session),
        query_string={"volumeSnapshotUuid": snap.uuid},
    )
    assert [bs["name"] for bs in by_snapshot.get_json()["inventories"]] == ["bs-big"]


def test_candidate_backup_storages_errors(env):
    cloud, client, session = env
    neither = client.get("/zstack/v1/images/candidate-backup-storage", headers=auth(session))
    assert error(neither)["code"] == "SYS.1007"
    unknown = client.get(
        "/zstack/v1/images/candidate-backup-storage",
        headers=auth(session),
        query_string={"volumeUuid": "0" * 32},
    )
    assert error(unknown)["code"] == "SYS.1003"


# -- faults ---------------------------------------------------------------------------


def test_an_exhausted_backup_storage_fault_fails_add_image_like_a_full_one(env):
    from fakestack import faults

    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    before = bs_available(client, session, "bs-big")
    faults.add(cloud, faults.exhaust("image.download", "backup_storage"))
    err = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/images",
            session,
            json={"params": {"name": "x", "url": URL, "backupStorageUuids": [big]}},
        )
    )
    assert err["code"] == "SYS.1006"
    assert err["details"] == (
        f"the backup storage[uuid:{big}, name:bs-big] has not enough capacity to download "
        f"the image[{URL}].Required size:{2 * GiB}, available size:0"
    )
    assert bs_available(client, session, "bs-big") == before


def test_download_latency_adds_to_the_download_time(env):
    from fakestack import faults

    cloud, client, session = env
    big = uuid_of(cloud, "backup_storages", "bs-big")
    faults.add(cloud, faults.latency("image.download", 10))
    response = add_image(client, session, name="slow", url=URL, backupStorageUuids=[big])
    job = response.get_json()["location"].split("/zstack/", 1)[1]
    cloud.tick(39)
    assert client.get("/zstack/" + job).status_code == 202
    cloud.tick(1)
    assert client.get("/zstack/" + job).status_code == 200
