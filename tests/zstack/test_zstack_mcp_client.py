"""Acceptance: the unmodified zstack-mcp-server client against a live fakestack server.

Needs ``pip install --no-deps zstack-mcp-server`` and ``httpx`` (the test extra).  The
client speaks the legacy ``/zstack/api/`` endpoint and polls async results every second.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

zstack_client = pytest.importorskip("zstack_mcp.zstack_client")


def run(coro):
    return asyncio.run(coro)


def test_mcp_client_logs_in_queries_clones_and_backs_up(live):
    cloud, server = live
    golden = cloud.vms.get("golden").uuid
    root_volume = cloud.vms.get("golden").root_volume_uuid
    backup_storage = cloud.backup_storages.get("imagestore").uuid

    async def scenario():
        client = zstack_client.ZStackClient(api_url=server.url, account="admin", password="password")
        try:
            session = await client.login()
            vms = await client.execute(
                "QueryVmInstance",
                "org.zstack.header.vm.APIQueryVmInstanceMsg",
                {
                    "conditions": [{"name": "name", "op": "=", "value": "golden"}],
                    "limit": 50,
                    "replyWithCount": True,
                },
            )
            cloned = await client.execute(
                "CloneVmInstance",
                "org.zstack.header.vm.APICloneVmInstanceMsg",
                {"vmInstanceUuid": golden, "names": ["mcp-1", "mcp-2"], "strategy": "InstantStart"},
                is_async=True,
            )
            after = await client.execute(
                "QueryVmInstance",
                "org.zstack.header.vm.APIQueryVmInstanceMsg",
                {
                    "conditions": [{"name": "name", "op": "in", "value": "mcp-1,mcp-2"}],
                    "replyWithCount": True,
                },
            )
            hosts = await client.execute("QueryHost", "org.zstack.header.host.APIQueryHostMsg", {"limit": 50})
            backup = await client.execute(
                "CreateVmBackup",
                "org.zstack.header.storage.volume.backup.APICreateVmBackupMsg",
                {"rootVolumeUuid": root_volume, "backupStorageUuid": backup_storage, "name": "mcp"},
                is_async=True,
            )
            backups = await client.execute(
                "QueryVolumeBackup",
                "org.zstack.header.storage.volume.backup.APIQueryVolumeBackupMsg",
                {
                    "conditions": [
                        {"name": "groupUuid", "op": "=", "value": backup["inventories"][0]["groupUuid"]}
                    ],
                    "replyWithCount": True,
                },
            )
            await client.logout()
            return session, vms, cloned, after, hosts, backups
        finally:
            await client.close()

    session, vms, cloned, after, hosts, backups = run(scenario())
    assert len(session.uuid) == 32
    assert session.account_uuid == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert vms["total"] == 1 and vms["inventories"][0]["uuid"] == golden
    assert cloned["success"] is True
    assert cloned["result"]["numberOfClonedVm"] == 2
    assert sorted(vm["name"] for vm in after["inventories"]) == ["mcp-1", "mcp-2"]
    assert after["total"] == 2
    assert len(hosts["inventories"]) == 4
    assert backups["total"] == 2
    assert [b["type"] for b in backups["inventories"]] == ["Root", "Data"]
    # the logout really ended the session on the server
    request = urllib.request.Request(f"{server.url}/zstack/v1/accounts/sessions/{session.uuid}/valid")
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read()) == {"valid": False}


def test_mcp_client_sees_api_errors_and_relogs_in_after_expiry(live):
    cloud, server = live

    async def scenario():
        client = zstack_client.ZStackClient(api_url=server.url, account="admin", password="password")
        try:
            first = await client.login()
            with pytest.raises(zstack_client.ZStackApiError) as failure:
                await client.execute(
                    "StartVmInstance",
                    "org.zstack.header.vm.APIStartVmInstanceMsg",
                    {"uuid": "0" * 32},
                    is_async=True,
                )
            cloud.tick(7201)  # the session expires; the client logs in again once and retries
            zones = await client.execute("QueryZone", "org.zstack.header.zone.APIQueryZoneMsg", {})
            return first, client.session, failure.value, zones
        finally:
            await client.close()

    first, second, error, zones = run(scenario())
    assert error.code == "SYS.1003"
    assert second.uuid != first.uuid
    assert [z["name"] for z in zones["inventories"]] == ["zone-1"]


def test_mcp_client_wrong_password_is_id_1000(live):
    _, server = live

    async def scenario():
        client = zstack_client.ZStackClient(api_url=server.url, account="admin", password="wrong")
        try:
            await client.login()
        finally:
            await client.close()

    with pytest.raises(zstack_client.ZStackApiError) as failure:
        run(scenario())
    assert failure.value.code == "ID.1000"
