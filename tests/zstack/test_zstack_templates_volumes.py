"""Templates and volumes made from one another, and volume changes, over REST (issue 16,
group 3): every API's success, main errors and effect on the storage ledgers."""

from __future__ import annotations

from zstack_support import call_async, cloud_client, error, ok, query

GiB = 1024**3
MiB = 1024**2
VOLUME_MSG = "org.zstack.header.volume.API{}Msg"


def storage(client, session, path, name):
    return query(client, session, path, q=f"name={name}").get_json()["inventories"][0]


def bs_free(client, session):
    return storage(client, session, "backup-storage", "imagestore")["availableCapacity"]


def ps_free(client, session, name="nfs-ps"):
    ps = storage(client, session, "primary-storage", name)
    return ps["availableCapacity"], ps["availablePhysicalCapacity"]


def post(client, session, path, **params):
    return call_async(client, "POST", f"/zstack/v1/{path}", session, json={"params": params})


def put(client, session, path, action, **params):
    return call_async(client, "PUT", f"/zstack/v1/{path}", session, json={action: params})


# -- templates ------------------------------------------------------------------------------


def test_root_volume_template_copies_the_allocated_data_to_the_image_store(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    before = bs_free(client, session)
    # the image cache (2 GiB) + the leaf (1 MiB + 512 MiB written)
    allocated = 2 * GiB + MiB + 512 * MiB
    body = ok(
        post(
            client,
            session,
            f"images/root-volume-templates/from/volumes/{golden.root_volume_uuid}",
            name="golden-tpl",
            backupStorageUuids=[bs],
            platform="Linux",
        )
    )
    image = body["inventory"]
    assert (image["name"], image["mediaType"], image["status"], image["size"], image["actualSize"]) == (
        "golden-tpl",
        "RootVolumeTemplate",
        "Ready",
        40 * GiB,
        allocated,
    )
    assert image["guestOsType"] == "CentOS 7"
    assert [r["backupStorageUuid"] for r in image["backupStorageRefs"]] == [bs]
    assert before - bs_free(client, session) == allocated
    # the template boots VMs like any image
    vm = ok(
        post(
            client,
            session,
            "vm-instances",
            name="from-tpl",
            imageUuid=image["uuid"],
            instanceOfferingUuid=cloud.instance_offerings.get("small").uuid,
        )
    )["inventory"]
    assert vm["state"] == "Running" and vm["imageUuid"] == image["uuid"]
    cloud.check_invariants()


def test_root_volume_template_errors(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    not_root = error(post(client, session, f"images/root-volume-templates/from/volumes/{data}", name="x"))
    assert (not_root["code"], not_root["details"]) == ("SYS.1007", f"volume[uuid:{data}] is not root volume")
    no_name = error(
        post(client, session, f"images/root-volume-templates/from/volumes/{golden.root_volume_uuid}")
    )
    assert no_name["code"] == "SYS.1007"
    cloud.set_storage_status("imagestore", "Disconnected")
    gone = error(
        post(
            client,
            session,
            f"images/root-volume-templates/from/volumes/{golden.root_volume_uuid}",
            name="x",
            backupStorageUuids=[cloud.backup_storages.get("imagestore").uuid],
        )
    )
    assert gone["code"] == "SYS.1006"
    assert len(cloud.images) == 2


def test_template_larger_than_the_image_store_fails_and_leaves_nothing():
    cloud, client, session = cloud_client("tiny")  # a 20 GiB image store (1 GiB reserved)
    golden = cloud.vms.get("golden")
    cloud.write(golden.root_volume_uuid, 9 * GiB)  # cache + leaf: 10 GiB + 1 MiB, a copy holds 10 GiB
    path = f"images/root-volume-templates/from/volumes/{golden.root_volume_uuid}"
    ok(post(client, session, path, name="first"))
    before = bs_free(client, session)
    images = len(cloud.images)
    failed = error(post(client, session, path, name="second"))
    needed = 10 * GiB  # a copy of the chain is at most the volume's size
    assert failed == {
        "code": "BS.1003",
        "description": "Unable to allocate a backup storage",
        "details": "unable to allocate a backup storage",
        "cause": {
            "code": "SYS.1006",
            "description": "An operation failed",
            "details": (
                f"after subtracting reserved capacity, no backup storage has required "
                f"capacity[{needed} bytes]"
            ),
        },
    }
    assert len(cloud.images) == images and bs_free(client, session) == before
    cloud.check_invariants()


def test_template_from_a_snapshot_has_the_data_as_it_was(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    snap = ok(post(client, session, f"volumes/{golden.root_volume_uuid}/volume-snapshots", name="s"))[
        "inventory"
    ]
    cloud.write(golden.root_volume_uuid, 4 * GiB)  # written after the snapshot: not in the template
    bs = cloud.backup_storages.get("imagestore").uuid
    before = bs_free(client, session)
    body = ok(
        post(
            client,
            session,
            f"images/root-volume-templates/from/volume-snapshots/{snap['uuid']}",
            name="snap-tpl",
            backupStorageUuids=[bs],
        )
    )
    assert body["failures"] == []
    assert body["inventory"]["actualSize"] == 2 * GiB + MiB + 512 * MiB
    assert before - bs_free(client, session) == 2 * GiB + MiB + 512 * MiB
    required = error(
        post(client, session, f"images/root-volume-templates/from/volume-snapshots/{snap['uuid']}", name="x")
    )
    assert required["details"] == (
        "field[backupStorageUuids] of message[org.zstack.header.image."
        "APICreateRootVolumeTemplateFromVolumeSnapshotMsg] is mandatory, can not be null"
    )


def test_data_volume_template_and_a_volume_from_it(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    cloud.write(data, 3 * GiB)
    before = bs_free(client, session)
    image = ok(post(client, session, f"images/data-volume-templates/from/volumes/{data}", name="data-tpl"))[
        "inventory"
    ]
    assert (image["mediaType"], image["size"], image["actualSize"]) == (
        "DataVolumeTemplate",
        20 * GiB,
        3 * GiB + MiB,
    )
    assert before - bs_free(client, session) == 3 * GiB + MiB
    ps = cloud.primary_storages.get("nfs-ps").uuid
    virtual, physical = ps_free(client, session)
    volume = ok(
        post(
            client,
            session,
            f"volumes/data/from/data-volume-templates/{image['uuid']}",
            name="copy",
            primaryStorageUuid=ps,
        )
    )["inventory"]
    assert (volume["size"], volume["actualSize"], volume["status"], volume["type"]) == (
        20 * GiB,
        3 * GiB + MiB,
        "Ready",
        "Data",
    )
    assert ps_free(client, session) == (virtual - 20 * GiB, physical - 3 * GiB - MiB)
    root_template = cloud.images.get("centos-7").uuid
    wrong = error(
        post(
            client,
            session,
            f"volumes/data/from/data-volume-templates/{root_template}",
            name="x",
            primaryStorageUuid=ps,
        )
    )
    assert (wrong["code"], wrong["details"]) == (
        "SYS.1007",
        f"image[uuid:{root_template}] is not DataVolumeTemplate, it's RootVolumeTemplate",
    )
    no_ps = error(post(client, session, f"volumes/data/from/data-volume-templates/{image['uuid']}", name="x"))
    assert no_ps["code"] == "SYS.1007"
    local_host = cloud.hosts.get("host-1").uuid
    unreachable = error(
        post(
            client,
            session,
            f"volumes/data/from/data-volume-templates/{image['uuid']}",
            name="x",
            primaryStorageUuid=ps,
            hostUuid=local_host,
        )
    )
    assert unreachable["code"] == "SYS.1007"
    cloud.check_invariants()


def test_data_volume_from_a_snapshot(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    cloud.write(data, 2 * GiB)
    snap = ok(post(client, session, f"volumes/{data}/volume-snapshots", name="s"))["inventory"]
    virtual, physical = ps_free(client, session)
    chosen = "0123456789ab4def8123456789abcdef"
    volume = ok(
        post(
            client,
            session,
            f"volumes/data/from/volume-snapshots/{snap['uuid']}",
            name="restored",
            resourceUuid=chosen,
        )
    )["inventory"]
    assert (volume["uuid"], volume["size"], volume["actualSize"], volume["primaryStorageUuid"]) == (
        chosen,
        20 * GiB,
        2 * GiB + MiB,
        snap["primaryStorageUuid"],
    )
    assert ps_free(client, session) == (virtual - 20 * GiB, physical - 2 * GiB - MiB)
    other = cloud.primary_storages.get("local-ps").uuid
    elsewhere = error(
        post(
            client,
            session,
            f"volumes/data/from/volume-snapshots/{snap['uuid']}",
            name="x",
            primaryStorageUuid=other,
        )
    )
    assert elsewhere["code"] == "SYS.1007"
    # the new volume is independent: deleting the snapshot changes nothing for it
    call_async(client, "DELETE", f"/zstack/v1/volume-snapshots/{snap['uuid']}", session)
    assert (
        query(client, session, f"volumes/{chosen}").get_json()["inventories"][0]["actualSize"]
        == 2 * GiB + MiB
    )
    cloud.check_invariants()


# -- resize, sync, state, update -----------------------------------------------------------------


def test_resize_grows_the_ledgers_and_refuses_to_shrink(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    root, data = golden.root_volume_uuid, golden.data_volume_uuids[0]
    virtual, physical = ps_free(client, session)
    grown = ok(put(client, session, f"volumes/resize/{root}/actions", "resizeRootVolume", size=60 * GiB))
    assert grown["inventory"]["size"] == 60 * GiB
    assert ps_free(client, session) == (virtual - 20 * GiB, physical)  # thin: only the virtual ledger
    data_grown = ok(
        put(client, session, f"volumes/data/resize/{data}/actions", "resizeDataVolume", size=25 * GiB)
    )
    assert data_grown["inventory"]["size"] == 25 * GiB
    assert ps_free(client, session) == (virtual - 25 * GiB, physical)
    shrink = error(put(client, session, f"volumes/data/resize/{data}/actions", "resizeDataVolume", size=GiB))
    assert (shrink["code"], shrink["details"]) == (
        "SYS.1007",
        f"Shrink volume is not supported: volume[uuid:{data}] is {25 * GiB} bytes, the new "
        f"size[{GiB}] is smaller",
    )
    wrong_kind = error(
        put(client, session, f"volumes/data/resize/{root}/actions", "resizeDataVolume", size=90 * GiB)
    )
    assert wrong_kind["details"] == f"volume[uuid:{root}] is not data volume"
    assert ps_free(client, session) == (virtual - 25 * GiB, physical)
    cloud.check_invariants()


def test_resize_beyond_the_storage_fails_and_changes_nothing(demo):
    cloud, client, session = demo
    data = cloud.vms.get("golden").data_volume_uuids[0]
    before = ps_free(client, session)
    failed = error(
        put(client, session, f"volumes/data/resize/{data}/actions", "resizeDataVolume", size=8 * 1024 * GiB)
    )
    assert failed["code"] == "SYS.1006"
    assert ps_free(client, session) == before
    assert query(client, session, f"volumes/{data}").get_json()["inventories"][0]["size"] == 20 * GiB


def test_thick_volume_resize_takes_physical_space_too(demo):
    cloud, client, session = demo
    ps = cloud.primary_storages.get("nfs-ps").uuid
    volume = ok(
        call_async(
            client,
            "POST",
            "/zstack/v1/volumes/data",
            session,
            json={
                "params": {"name": "thick", "diskSize": 10 * GiB, "primaryStorageUuid": ps},
                "systemTags": ["volumeProvisioningStrategy::ThickProvisioning"],
            },
        )
    )["inventory"]
    virtual, physical = ps_free(client, session)
    ok(
        put(
            client,
            session,
            f"volumes/data/resize/{volume['uuid']}/actions",
            "resizeDataVolume",
            size=15 * GiB,
        )
    )
    assert ps_free(client, session) == (virtual - 5 * GiB, physical - 5 * GiB)
    cloud.check_invariants()


def test_sync_volume_size(demo):
    cloud, client, session = demo
    root = cloud.vms.get("golden").root_volume_uuid
    body = ok(put(client, session, f"volumes/{root}/actions", "syncVolumeSize"))
    assert (body["inventory"]["size"], body["inventory"]["actualSize"]) == (40 * GiB, MiB + 512 * MiB)
    cloud.set_storage_status("nfs-ps", "Disconnected")
    assert error(put(client, session, f"volumes/{root}/actions", "syncVolumeSize"))["code"] == "SYS.1006"


def test_change_volume_state_and_a_disabled_volume_cannot_be_attached(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    volume = ok(
        post(
            client,
            session,
            "volumes/data",
            name="d",
            diskOfferingUuid=cloud.disk_offerings.get("disk-20G").uuid,
        )
    )["inventory"]
    disabled = ok(
        put(client, session, f"volumes/{volume['uuid']}/actions", "changeVolumeState", stateEvent="disable")
    )
    assert disabled["inventory"]["state"] == "Disabled"
    refused = error(
        call_async(
            client,
            "POST",
            f"/zstack/v1/volumes/{volume['uuid']}/vm-instances/{golden.uuid}",
            session,
            json={"params": {}},
        )
    )
    assert (refused["code"], refused["details"]) == (
        "SYS.1007",
        f"volume[uuid:{volume['uuid']}] is in state[Disabled], data volume can only be attached "
        "when state is Enabled",
    )
    enabled = ok(
        put(client, session, f"volumes/{volume['uuid']}/actions", "changeVolumeState", stateEvent="enable")
    )
    assert enabled["inventory"]["state"] == "Enabled"
    ok(
        call_async(
            client,
            "POST",
            f"/zstack/v1/volumes/{volume['uuid']}/vm-instances/{golden.uuid}",
            session,
            json={"params": {}},
        )
    )
    root = error(
        put(
            client,
            session,
            f"volumes/{golden.root_volume_uuid}/actions",
            "changeVolumeState",
            stateEvent="disable",
        )
    )
    assert (root["code"], root["details"]) == (
        "SYS.1006",
        f"it's not allowed to change state of root volume, uuid:{golden.root_volume_uuid}",
    )
    bad = error(
        put(client, session, f"volumes/{volume['uuid']}/actions", "changeVolumeState", stateEvent="off")
    )
    assert bad["details"] == (
        f"valid value for field[stateEvent] of message[{VOLUME_MSG.format('ChangeVolumeState')}]"
        " are [enable, disable], but off found"
    )


def test_update_volume(demo):
    cloud, client, session = demo
    data = cloud.vms.get("golden").data_volume_uuids[0]
    body = ok(
        put(client, session, f"volumes/{data}/actions", "updateVolume", name="renamed", description="d")
    )
    assert (body["inventory"]["name"], body["inventory"]["description"]) == ("renamed", "d")
    assert [
        v["uuid"] for v in query(client, session, "volumes", q="name=renamed").get_json()["inventories"]
    ] == [data]
    too_long = error(put(client, session, f"volumes/{data}/actions", "updateVolume", name="n" * 256))
    assert too_long["code"] == "SYS.1007"
