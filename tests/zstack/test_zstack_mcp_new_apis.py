"""The unmodified zstack-mcp-server client drives the APIs of issue 16 through the legacy
endpoint of a live server: one API (at least) of each group."""

from __future__ import annotations

import asyncio

import pytest

zstack_client = pytest.importorskip("zstack_mcp.zstack_client")

VM = "org.zstack.header.vm."


def drive(server, steps):
    """Log in, run ``steps(client)`` (a coroutine function), log out."""

    async def scenario():
        client = zstack_client.ZStackClient(api_url=server.url, account="admin", password="password")
        try:
            await client.login()
            result = await steps(client)
            await client.logout()
            return result
        finally:
            await client.close()

    return asyncio.run(scenario())


def test_mcp_client_pauses_migrates_and_resumes_a_vm(live):
    cloud, server = live
    golden = cloud.vms.get("golden")
    host_4 = cloud.hosts.get("host-4").uuid

    async def steps(client):
        paused = await client.execute(
            "PauseVmInstance", VM + "APIPauseVmInstanceMsg", {"uuid": golden.uuid}, is_async=True
        )
        candidates = await client.execute(
            "GetVmMigrationCandidateHosts",
            VM + "APIGetVmMigrationCandidateHostsMsg",
            {"vmInstanceUuid": golden.uuid},
        )
        moved = await client.execute(
            "MigrateVm",
            VM + "APIMigrateVmMsg",
            {"vmInstanceUuid": golden.uuid, "hostUuid": host_4},
            is_async=True,
        )
        resumed = await client.execute(
            "ResumeVmInstance", VM + "APIResumeVmInstanceMsg", {"uuid": golden.uuid}, is_async=True
        )
        return paused, candidates, moved, resumed

    paused, candidates, moved, resumed = drive(server, steps)
    assert paused["success"] is True and paused["inventory"]["state"] == "Paused"
    assert [h["name"] for h in candidates["inventories"]] == ["host-4"]
    assert (moved["inventory"]["hostUuid"], moved["inventory"]["state"]) == (host_4, "Paused")
    assert resumed["inventory"]["state"] == "Running"
    assert cloud.hosts.get("host-4").used_memory == golden.memory_size
    cloud.check_invariants()


SNAP = "org.zstack.header.storage.snapshot."


def test_mcp_client_snapshots_a_vm_reverts_and_reads_the_tree(live):
    cloud, server = live
    golden = cloud.vms.get("golden")
    volumes = [golden.root_volume_uuid] + golden.data_volume_uuids

    async def steps(client):
        group = await client.execute(
            "CreateVolumesSnapshot",
            SNAP + "APICreateVolumesSnapshotMsg",
            {"volumeUuids": volumes},
            is_async=True,
        )
        await client.execute(
            "StopVmInstance", VM + "APIStopVmInstanceMsg", {"uuid": golden.uuid}, is_async=True
        )
        root_snapshot = group["inventories"][0]["uuid"]
        reverted = await client.execute(
            "RevertVolumeFromSnapshot",
            SNAP + "APIRevertVolumeFromSnapshotMsg",
            {"uuid": root_snapshot},
            is_async=True,
        )
        trees = await client.execute(
            "QueryVolumeSnapshotTree",
            SNAP + "APIQueryVolumeSnapshotTreeMsg",
            {
                "conditions": [{"name": "volumeUuid", "op": "=", "value": golden.root_volume_uuid}],
                "replyWithCount": True,
            },
        )
        return group, reverted, trees

    group, reverted, trees = drive(server, steps)
    assert [s["volumeUuid"] for s in group["inventories"]] == volumes
    assert group["inventories"][0]["groupUuid"] == group["inventories"][1]["groupUuid"]
    assert reverted["success"] is True
    assert trees["total"] == 1
    assert trees["inventories"][0]["tree"]["inventory"]["uuid"] == group["inventories"][0]["uuid"]
    assert trees["inventories"][0]["tree"]["inventory"]["latest"] is True
    cloud.check_invariants()


def test_mcp_client_makes_templates_and_volumes_and_resizes(live):
    cloud, server = live
    golden = cloud.vms.get("golden")
    data = golden.data_volume_uuids[0]
    nfs = cloud.primary_storages.get("nfs-ps").uuid
    volume_msg = "org.zstack.header.volume."

    async def steps(client):
        template = await client.execute(
            "CreateDataVolumeTemplateFromVolume",
            "org.zstack.header.image.APICreateDataVolumeTemplateFromVolumeMsg",
            {"volumeUuid": data, "name": "mcp-data-tpl"},
            is_async=True,
        )
        volume = await client.execute(
            "CreateDataVolumeFromVolumeTemplate",
            volume_msg + "APICreateDataVolumeFromVolumeTemplateMsg",
            {"imageUuid": template["inventory"]["uuid"], "name": "mcp-copy", "primaryStorageUuid": nfs},
            is_async=True,
        )
        resized = await client.execute(
            "ResizeDataVolume",
            volume_msg + "APIResizeDataVolumeMsg",
            {"uuid": volume["inventory"]["uuid"], "size": 30 * 1024**3},
            is_async=True,
        )
        return template, volume, resized

    template, volume, resized = drive(server, steps)
    assert template["inventory"]["mediaType"] == "DataVolumeTemplate"
    assert volume["inventory"]["primaryStorageUuid"] == nfs
    assert resized["inventory"]["size"] == 30 * 1024**3
    cloud.check_invariants()


def test_mcp_client_backs_up_a_volume_and_restores_a_vm(live):
    cloud, server = live
    golden = cloud.vms.get("golden")
    bs = cloud.backup_storages.get("imagestore").uuid
    backup_msg = "org.zstack.header.storage.volume.backup."

    async def steps(client):
        vm_backup = await client.execute(
            "CreateVmBackup",
            backup_msg + "APICreateVmBackupMsg",
            {"rootVolumeUuid": golden.root_volume_uuid, "backupStorageUuid": bs, "name": "mcp"},
            is_async=True,
        )
        volume_backup = await client.execute(
            "CreateVolumeBackup",
            backup_msg + "APICreateVolumeBackupMsg",
            {"volumeUuid": golden.data_volume_uuids[0], "backupStorageUuid": bs, "name": "mcp-data"},
            is_async=True,
        )
        restored = await client.execute(
            "CreateVmFromVmBackup",
            backup_msg + "APICreateVmFromVmBackupMsg",
            {"groupUuid": vm_backup["inventories"][0]["groupUuid"], "name": "mcp-restored"},
            is_async=True,
        )
        await client.execute(
            "StopVmInstance", VM + "APIStopVmInstanceMsg", {"uuid": golden.uuid}, is_async=True
        )
        reverted = await client.execute(
            "RevertVolumeFromVolumeBackup",
            backup_msg + "APIRevertVolumeFromVolumeBackupMsg",
            {"uuid": volume_backup["inventory"]["uuid"]},
            is_async=True,
        )
        return volume_backup, restored, reverted

    volume_backup, restored, reverted = drive(server, steps)
    assert volume_backup["inventory"]["mode"] == "incremental"  # the VM backup started its chain
    assert restored["inventory"]["name"] == "mcp-restored" and restored["inventory"]["state"] == "Running"
    assert reverted["success"] is True
    cloud.check_invariants()
