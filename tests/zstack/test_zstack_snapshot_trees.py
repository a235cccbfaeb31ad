"""Snapshot trees over REST: resourceUuid, groups (CreateVolumesSnapshot), revert, delete
(the chain closes over the gap; capacity comes back when nothing builds on the data),
QueryVolumeSnapshotTree, and the tree fields of the snapshot inventory (issue 16, group 2)."""

from __future__ import annotations

from zstack_support import auth, call_async, query

GiB = 1024**3
MiB = 1024**2
TREE_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotTreeInventory"
LEAF_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotTree$SnapshotLeafInventory"
SNAPSHOT_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotInventory"


def snapshot(client, session, volume_uuid, **params):
    response = call_async(
        client, "POST", f"/zstack/v1/volumes/{volume_uuid}/volume-snapshots", session, json={"params": params}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["inventory"]


def snapshots(client, session, volume_uuid):
    listed = query(client, session, "volume-snapshots", q=f"volumeUuid={volume_uuid}").get_json()
    return {s["name"]: s for s in listed["inventories"]}


def revert(client, session, uuid):
    return call_async(
        client,
        "PUT",
        f"/zstack/v1/volume-snapshots/{uuid}/actions",
        session,
        json={"revertVolumeFromSnapshot": {}},
    )


def delete(client, session, uuid):
    return call_async(client, "DELETE", f"/zstack/v1/volume-snapshots/{uuid}", session)


def vm_action(client, session, uuid, action):
    return call_async(client, "PUT", f"/zstack/v1/vm-instances/{uuid}/actions", session, json={action: {}})


def nfs(client, session):
    return query(client, session, "primary-storage", q="name=nfs-ps").get_json()["inventories"][0]


def test_snapshot_inventories_carry_their_tree(demo):
    cloud, client, session = demo
    root = cloud.vms.get("golden").root_volume_uuid
    chosen = "0123456789ab4def8123456789abcdef"
    s1 = snapshot(client, session, root, name="s1", resourceUuid=chosen)
    assert s1["uuid"] == chosen
    assert (s1["latest"], s1["distance"], "parentUuid" in s1, "groupUuid" in s1) == (True, 1, False, False)
    s2 = snapshot(client, session, root, name="s2")
    s3 = snapshot(client, session, root, name="s3")
    listed = snapshots(client, session, root)
    assert [
        (listed[n].get("parentUuid"), listed[n]["latest"], listed[n]["distance"]) for n in ("s1", "s2", "s3")
    ] == [(None, False, 1), (s1["uuid"], False, 2), (s2["uuid"], True, 3)]
    assert len({s["treeUuid"] for s in listed.values()}) == 1
    taken = call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{root}/volume-snapshots",
        session,
        json={"params": {"name": "again", "resourceUuid": chosen}},
    )
    assert taken.get_json()["error"]["code"] == "SYS.1006"
    bad = call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{root}/volume-snapshots",
        session,
        json={"params": {"name": "bad", "resourceUuid": "not-a-uuid"}},
    )
    assert bad.get_json()["error"]["code"] == "SYS.1007"
    assert s3["uuid"] in cloud.volume_snapshots and len(listed) == 3


def test_snapshot_takes_a_new_leaf_of_physical_space(demo):
    cloud, client, session = demo
    root = cloud.vms.get("golden").root_volume_uuid
    before = nfs(client, session)
    snapshot(client, session, root, name="s1")
    after = nfs(client, session)
    assert (
        before["availablePhysicalCapacity"] - after["availablePhysicalCapacity"]
        == cloud.settings.new_leaf_size
    )
    assert after["availableCapacity"] == before["availableCapacity"]


def test_create_volumes_snapshot_is_one_group(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    volumes = [golden.root_volume_uuid] + golden.data_volume_uuids
    response = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/volume-snapshots",
        session,
        json={"params": {"volumeUuids": volumes}},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    inventories = response.get_json()["inventories"]
    assert [s["volumeUuid"] for s in inventories] == volumes
    assert [s["volumeType"] for s in inventories] == ["Root", "Data"]
    assert len({s["groupUuid"] for s in inventories}) == 1 and len(inventories[0]["groupUuid"]) == 32
    missing = "0123456789ab4def8123456789abcdef"
    gone = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/volume-snapshots",
        session,
        json={"params": {"volumeUuids": [golden.root_volume_uuid, missing]}},
    ).get_json()["error"]
    assert (gone["code"], gone["details"]) == (
        "SYS.1003",
        f"invalid field[volumeUuids], resource[uuids:[{missing}], type:VolumeVO] not found",
    )
    assert len(cloud.volume_snapshots) == 2


def test_a_failed_group_snapshot_leaves_nothing(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    offering = cloud.disk_offerings.get("disk-20G").uuid
    lazy = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": "lazy", "diskOfferingUuid": offering}},
    ).get_json()["inventory"]
    before = nfs(client, session)
    failed = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/volume-snapshots",
        session,
        json={"params": {"volumeUuids": [golden.root_volume_uuid, lazy["uuid"]]}},
    )
    assert failed.get_json()["error"]["code"] == "SYS.1006"
    assert len(cloud.volume_snapshots) == 0
    assert nfs(client, session) == before
    cloud.check_invariants()


def test_revert_needs_a_stopped_vm_and_frees_what_was_written_since(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    root = golden.root_volume_uuid
    s1 = snapshot(client, session, root, name="s1")
    cloud.write(root, 3 * GiB)
    running = revert(client, session, s1["uuid"]).get_json()["error"]
    assert running == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": (
            f"unable to reset volume[uuid:{root}] to snapshot[uuid:{s1['uuid']}], the vm[uuid:{golden.uuid}] "
            "volume attached to is not in Stopped state, current state is Running"
        ),
    }
    vm_action(client, session, golden.uuid, "stopVmInstance")
    before = nfs(client, session)
    done = revert(client, session, s1["uuid"])
    assert (done.status_code, done.get_json()) == (200, {})
    after = nfs(client, session)
    # the leaf with 3 GiB written (and its first MiB) goes, a new 1 MiB leaf comes
    assert after["availablePhysicalCapacity"] - before["availablePhysicalCapacity"] == 3 * GiB
    assert after["availableCapacity"] == before["availableCapacity"]
    assert snapshots(client, session, root)["s1"]["latest"] is True
    cloud.check_invariants()


def test_revert_then_new_snapshots_branch_and_the_tree_shows_both(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    root = golden.root_volume_uuid
    s1 = snapshot(client, session, root, name="s1")
    s2 = snapshot(client, session, root, name="s2")
    vm_action(client, session, golden.uuid, "stopVmInstance")
    revert(client, session, s1["uuid"])
    s3 = snapshot(client, session, root, name="s3")
    assert (s3["parentUuid"], s3["distance"], s3["latest"]) == (s1["uuid"], 2, True)
    response = query(client, session, "volume-snapshots/trees", q=f"volumeUuid={root}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    [tree] = body["inventories"]
    assert (tree["uuid"], tree["volumeUuid"], tree["current"], tree["status"]) == (
        s1["treeUuid"],
        root,
        True,
        "Completed",
    )
    top = tree["tree"]
    assert top["inventory"]["uuid"] == s1["uuid"] and "parentUuid" not in top
    assert [(c["inventory"]["name"], c["parentUuid"], c["children"]) for c in top["children"]] == [
        ("s2", s1["uuid"], []),
        ("s3", s1["uuid"], []),
    ]
    assert body["schema"]["inventories[0]"] == TREE_CLASS
    assert body["schema"]["inventories[0].tree"] == LEAF_CLASS
    assert body["schema"]["inventories[0].tree.inventory"] == SNAPSHOT_CLASS
    assert body["schema"]["inventories[0].tree.children[1]"] == LEAF_CLASS
    one = query(client, session, f"volume-snapshots/trees/{tree['uuid']}").get_json()["inventories"]
    assert one == [tree]
    assert s2["uuid"] in cloud.volume_snapshots


def test_deleting_a_middle_snapshot_closes_the_chain_and_keeps_its_data_hidden(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    ps = cloud.primary_storages.get("nfs-ps").uuid
    volume = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": "small", "diskSize": 2 * GiB, "primaryStorageUuid": ps}},
    ).get_json()["inventory"]
    call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{volume['uuid']}/vm-instances/{golden.uuid}",
        session,
        json={"params": {}},
    )
    cloud.write(volume["uuid"], 512 * MiB)
    s1 = snapshot(client, session, volume["uuid"], name="s1")
    cloud.write(volume["uuid"], 512 * MiB)
    s2 = snapshot(client, session, volume["uuid"], name="s2")
    s3 = snapshot(client, session, volume["uuid"], name="s3")
    before = nfs(client, session)
    assert (delete(client, session, s2["uuid"]).get_json()) == {}
    # s3's disk builds on s2's: s2's data stays (hidden), nothing is freed yet
    assert nfs(client, session) == before
    left = snapshots(client, session, volume["uuid"])
    assert list(left) == ["s1", "s3"]
    assert (left["s3"]["parentUuid"], left["s3"]["distance"], left["s3"]["latest"]) == (s1["uuid"], 2, True)
    # the volume goes: every disk of its chain is freed, the hidden one with the rest
    call_async(client, "DELETE", f"/zstack/v1/volumes/{volume['uuid']}", session)
    call_async(
        client, "PUT", f"/zstack/v1/volumes/{volume['uuid']}/actions", session, json={"expungeDataVolume": {}}
    )
    after = nfs(client, session)
    assert after["availablePhysicalCapacity"] - before["availablePhysicalCapacity"] == 1024 * MiB + 4 * MiB
    assert after["availableCapacity"] - before["availableCapacity"] == 2 * GiB
    assert s3["uuid"] not in cloud.volume_snapshots
    cloud.check_invariants()


def test_deleting_a_snapshot_nothing_builds_on_frees_it_whole(demo):
    cloud, client, session = demo
    golden = cloud.vms.get("golden")
    root = golden.root_volume_uuid
    s1 = snapshot(client, session, root, name="s1")
    cloud.write(root, 2 * GiB)
    s2 = snapshot(client, session, root, name="s2")
    vm_action(client, session, golden.uuid, "stopVmInstance")
    revert(client, session, s1["uuid"])  # s2 is now a branch nothing builds on
    before = nfs(client, session)
    delete(client, session, s2["uuid"])
    after = nfs(client, session)
    assert after["availablePhysicalCapacity"] - before["availablePhysicalCapacity"] == 2 * GiB + MiB
    assert snapshots(client, session, root)["s1"]["latest"] is True
    cloud.check_invariants()


def test_revert_errors(demo):
    cloud, client, session = demo
    missing = "0123456789ab4def8123456789abcdef"
    gone = revert(client, session, missing).get_json()["error"]
    assert (gone["code"], gone["details"]) == (
        "SYS.1003",
        f"invalid field[uuid], resource[uuid:{missing}, type:VolumeSnapshotVO] not found",
    )
    no_key = client.put(
        f"/zstack/v1/volume-snapshots/{missing}/actions", json={"other": {}}, headers=auth(session)
    )
    assert no_key.status_code == 400
