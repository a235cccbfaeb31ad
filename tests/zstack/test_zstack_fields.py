"""Every inventory field (issue 16, "Every field"): the fields that were never emitted are
emitted with realistic values, or left out where the real server sends null (null fields
are omitted on the wire)."""

from __future__ import annotations

import re

import pytest
from zstack_support import auth, call_async, clone, cloud_client, query

from fakestack.dialects.zstack.dates import format_date

GiB = 1024**3


@pytest.fixture
def demo():
    return cloud_client("demo")


def one(client, session, path, **params):
    return query(client, session, path, **params).get_json()["inventories"][0]


def test_volume_attach_and_detach_dates(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    created = call_async(
        client, "POST", "/zstack/v1/volumes/data", session, json={"params": {"name": "d1", "diskSize": GiB}}
    ).get_json()["inventory"]
    for absent in ("lastAttachDate", "lastDetachDate", "volumeQos", "protocol", "description"):
        assert absent not in created
    cloud.tick(60)
    attached = call_async(
        client, "POST", f"/zstack/v1/volumes/{created['uuid']}/vm-instances/{golden.uuid}", session
    ).get_json()["inventory"]
    assert attached["lastAttachDate"] == format_date(cloud.now())
    assert "lastDetachDate" not in attached
    cloud.tick(60)
    detached = call_async(
        client,
        "DELETE",
        f"/zstack/v1/volumes/{created['uuid']}/vm-instances",
        session,
        query_string={"vmUuid": golden.uuid},
    ).get_json()["inventory"]
    assert detached["lastAttachDate"] == attached["lastAttachDate"]
    assert detached["lastDetachDate"] == format_date(cloud.now())
    assert detached["lastDetachDate"] != detached["lastAttachDate"]


def test_host_hardware_status_and_no_bmc(demo):
    cloud, client, session = demo
    host = one(client, session, "hosts", q="name=host-1")
    for field in (
        "cpuStatus",
        "memoryStatus",
        "diskStatus",
        "nicStatus",
        "gpuStatus",
        "powerSupplyStatus",
        "fanStatus",
        "raidStatus",
        "temperatureStatus",
    ):
        assert host[field] == "Normal", field
    for absent in ("ipmiAddress", "ipmiUsername", "ipmiPort", "ipmiPowerStatus"):
        assert absent not in host
    cloud.set_host_status(cloud.hosts.get("host-1").uuid, "Disconnected")
    assert one(client, session, "hosts", q="name=host-1")["cpuStatus"] == "Unknown"


def test_primary_storage_system_used_capacity_is_the_servers_null(demo):
    cloud, client, session = demo
    ps = one(client, session, "primary-storage")
    assert "systemUsedCapacity" not in ps  # nullable and unused on the server (reference §7.2)


def test_image_md5_and_system_tags(demo):
    cloud, client, session = demo
    image = one(client, session, "images", q="name=centos-7")
    assert re.fullmatch(r"[0-9a-f]{32}", image["md5Sum"])
    assert "systemTags" not in image
    for ref in image["backupStorageRefs"]:
        assert not {"exportUrl", "exportMd5Sum", "id"} & set(ref)
    cloud.settings.default_download_size = GiB
    bs = next(iter(cloud.backup_storages)).uuid
    response = client.post(
        "/zstack/v1/images",
        headers=auth(session),
        json={
            "params": {"name": "tagged", "url": "http://x.test/a.qcow2", "backupStorageUuids": [bs]},
            "systemTags": ["bootMode::UEFI"],
        },
    )
    assert response.status_code == 202
    cloud.tick(60)
    assert one(client, session, "images", q="name=tagged")["systemTags"] == ["bootMode::UEFI"]


def test_snapshot_distance_and_group(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{golden.root_volume_uuid}/volume-snapshots",
        session,
        json={"params": {"name": "s1"}},
    )
    snap = one(client, session, "volume-snapshots", q="name=s1")
    assert snap["distance"] == 1
    assert "groupUuid" not in snap  # taken alone: no group


def test_l3_network_dns_domain_is_null_and_nic_internal_name(demo):
    cloud, client, session = demo
    l3 = one(client, session, "l3-networks")
    assert "dnsDomain" not in l3
    nic = one(client, session, "vm-instances", q="name=golden")["vmNics"][0]
    assert re.fullmatch(r"vnic\d+\.0", nic["internalName"])
    assert "metaData" not in nic
    again = one(client, session, "vm-instances/nics")
    assert again["internalName"] == nic["internalName"]


def test_description_is_absent_when_unset_and_present_when_set(demo):
    cloud, client, session = demo
    assert "description" not in one(client, session, "vm-instances", q="name=golden")
    golden = cloud.vms.get("golden").uuid
    updated = call_async(
        client,
        "PUT",
        f"/zstack/v1/vm-instances/{golden}/actions",
        session,
        json={"updateVmInstance": {"description": "the golden image's VM"}},
    )
    assert updated.get_json()["inventory"]["description"] == "the golden image's VM"


def test_clone_result_entries_carry_no_started_flag(demo):
    cloud, client, session = demo
    result = clone(client, session, cloud.vms.get("golden").uuid, ["c1"]).get_json()["result"]
    entry = result["inventories"][0]
    assert "started" not in entry  # not in the 5.2.1 result class (reference §5.1, §12 item 1)
    assert entry["inventory"]["name"] == "c1"
