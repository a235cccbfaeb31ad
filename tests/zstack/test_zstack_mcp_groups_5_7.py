"""The unmodified zstack-mcp-server client drives the APIs of issue 16's groups 5-7
(images, placement questions, infrastructure) through the legacy endpoint of a live
server: at least one API of each group."""

from __future__ import annotations

import asyncio

import pytest

from fakestack.model import Cloud
from fakestack.model.topology import DownloadableImage

zstack_client = pytest.importorskip("zstack_mcp.zstack_client")

from fakestack.server import start_server  # noqa: E402

GiB = 1024**3
URL = "http://images.example.test/alpine.qcow2"


@pytest.fixture
def live():
    cloud = Cloud("demo", seed=0)
    cloud.settings.image_catalogue.append(
        DownloadableImage(url=URL, virtual_size=8 * GiB, actual_size=GiB, download_seconds=0)
    )
    server = start_server(cloud, host="127.0.0.1", port=0)
    try:
        yield cloud, server
    finally:
        server.stop()


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


def test_mcp_client_adds_an_image_from_a_url_and_disables_it(live):
    cloud, server = live
    bs = next(iter(cloud.backup_storages))
    before = bs.used

    async def steps(client):
        added = await client.execute(
            "AddImage",
            "org.zstack.header.image.APIAddImageMsg",
            {"name": "alpine", "url": URL, "backupStorageUuids": [bs.uuid]},
            is_async=True,
        )
        disabled = await client.execute(
            "ChangeImageState",
            "org.zstack.header.image.APIChangeImageStateMsg",
            {"uuid": added["inventory"]["uuid"], "stateEvent": "disable"},
            is_async=True,
        )
        return added, disabled

    added, disabled = drive(server, steps)
    assert added["success"] is True
    assert (added["inventory"]["size"], added["inventory"]["actualSize"]) == (8 * GiB, GiB)
    assert disabled["inventory"]["state"] == "Disabled"
    assert bs.used == before + GiB
    cloud.check_invariants()


def test_mcp_client_asks_where_a_vm_would_go_then_creates_it_there(live):
    cloud, server = live
    image = cloud.images.get("centos-7").uuid
    offering = cloud.instance_offerings.get("small").uuid
    l3 = cloud.l3_networks.get("l3-private").uuid
    params = {"imageUuid": image, "instanceOfferingUuid": offering, "l3NetworkUuids": [l3]}

    async def steps(client):
        answer = await client.execute(
            "GetCandidateZonesClustersHostsForCreatingVm",
            "org.zstack.header.vm.APIGetCandidateZonesClustersHostsForCreatingVmMsg",
            params,
        )
        created = await client.execute(
            "CreateVmInstance",
            "org.zstack.header.vm.APICreateVmInstanceMsg",
            {"name": "predicted", **params},
            is_async=True,
        )
        return answer, created

    answer, created = drive(server, steps)
    assert answer["success"] is True
    assert created["inventory"]["hostUuid"] in {h["uuid"] for h in answer["hosts"]}
    cloud.check_invariants()


def test_mcp_client_puts_a_host_in_maintenance_and_reads_local_storage(live):
    cloud, server = live
    golden = cloud.vms.get("golden")
    host = golden.host_uuid
    local = cloud.primary_storages.get("local-ps").uuid

    async def steps(client):
        maintained = await client.execute(
            "ChangeHostState",
            "org.zstack.header.host.APIChangeHostStateMsg",
            {"uuid": host, "stateEvent": "maintain"},
            is_async=True,
        )
        shares = await client.execute(
            "GetLocalStorageHostDiskCapacity",
            "org.zstack.storage.primary.local.APIGetLocalStorageHostDiskCapacityMsg",
            {"primaryStorageUuid": local},
        )
        return maintained, shares

    maintained, shares = drive(server, steps)
    assert maintained["inventory"]["state"] == "Maintenance"
    assert golden.host_uuid != host
    ps = cloud.primary_storages.get("local-ps")
    assert sum(r["totalCapacity"] for r in shares["inventories"]) == ps.total_capacity
    cloud.check_invariants()
