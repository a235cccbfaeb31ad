"""Four unmodified clients, in process through ``fakestack.mock`` (no server, no adapter),
each with a fault injected in the middle of its run."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
import requests

import fakestack
from fakestack import Cloud, faults
from fakestack.server import RunningServer

VCENTER, ZSTACK, INSTAVM = (
    "https://vcenter.example",
    "http://zstack.example:8080",
    "https://api.instavm.example",
)


@pytest.fixture(autouse=True)
def no_server_starts(monkeypatch):
    """Prove the point: starting a live server in these tests is an error."""

    def refuse(*args, **kwargs):
        raise AssertionError("this test must not start a server")

    monkeypatch.setattr("fakestack.server.start_server", refuse)
    monkeypatch.setattr(RunningServer, "__init__", refuse)


def test_official_vsphere_sdk_over_https_with_no_adapter():
    from com.vmware.vapi.std.errors_client import UnableToAllocateResource
    from com.vmware.vcenter_client import VM
    from vmware.vapi.vsphere.client import create_vsphere_client

    with fakestack.mock(Cloud("tiny", seed=0), urls=[VCENTER]) as fake:
        client = create_vsphere_client(
            server="vcenter.example",
            username="administrator@vsphere.local",
            password="password",
            session=requests.Session(),
        )
        assert [s.name for s in client.vcenter.VM.list()] == ["golden"]
        assert client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-1")) == "vm-2"
        # the fault in the middle: the next instant clone finds no host memory
        faults.add(fake.cloud, faults.exhaust("vm.instant_clone", "host.memory", nth=1))
        with pytest.raises(UnableToAllocateResource) as info:
            client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-2"))
        assert info.value.messages[0].id == "com.vmware.api.vcenter.vm.insufficient_memory"
        assert client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-3")) == "vm-3"
        assert sorted(s.name for s in client.vcenter.VM.list()) == ["golden", "ic-1", "ic-3"]
        client.session_svc.delete()
        requests_seen = [(e["method"], e["path"]) for e in fake.app.request_journal]
    assert set(requests_seen) == {("POST", "/api")}  # JSON-RPC, every call through the mock
    fake.cloud.check_invariants()


def test_official_instavm_sdk():
    instavm = pytest.importorskip("instavm")

    with fakestack.mock(Cloud("tiny", seed=0), urls=[INSTAVM]) as fake:
        client = instavm.InstaVM(
            api_key="instavm_sk_fakestack",
            base_url=INSTAVM,
            auto_start_session=False,
            timeout=30,
            max_retries=0,
        )
        source = client.vms.create(wait=True, vcpu_count=2, memory_mb=512)
        first = client.vms.clone(source["vm_id"], wait=True)
        assert first["status"] == "active"
        faults.add(fake.cloud, faults.exhaust("vm.create", "host.memory", nth=1))  # the clone's boot
        with pytest.raises(instavm.NetworkError, match="Server error: 503"):
            client.vms.clone(source["vm_id"], wait=True, snapshot_name="never")
        assert client.snapshots.list() == []  # nothing left behind by the failed clone
        again = client.vms.clone(source["vm_id"], wait=True)
        assert again["status"] == "active" and again["vm_id"] != first["vm_id"]
    fake.cloud.check_invariants()


def test_zstack_mcp_server_client_async_httpx(monkeypatch):
    zstack_client = pytest.importorskip("zstack_mcp.zstack_client")
    # the client sleeps this long before each poll of an async job; in process, no need
    monkeypatch.setattr(zstack_client.ZStackClient, "JOB_POLL_INTERVAL", 0.001, raising=False)
    cloud = Cloud("demo", seed=0)
    golden = cloud.vms.get("golden").uuid
    msg = "org.zstack.header.vm.APICloneVmInstanceMsg"

    async def story():
        client = zstack_client.ZStackClient(api_url=ZSTACK, account="admin", password="password")
        try:
            await client.login()
            first = await client.execute(
                "CloneVmInstance",
                msg,
                {"vmInstanceUuid": golden, "names": ["mcp-1"], "strategy": "InstantStart"},
                is_async=True,
            )
            faults.add(cloud, faults.fail("zstack:CloneVmInstance", "agent died", code="SYS.1006", nth=1))
            with pytest.raises(zstack_client.ZStackApiError) as failure:
                await client.execute(
                    "CloneVmInstance", msg, {"vmInstanceUuid": golden, "names": ["mcp-2"]}, is_async=True
                )
            third = await client.execute(
                "CloneVmInstance", msg, {"vmInstanceUuid": golden, "names": ["mcp-3"]}, is_async=True
            )
            return first, failure.value, third
        finally:
            await client.close()

    with fakestack.mock(cloud, urls=[ZSTACK]):
        first, error, third = asyncio.run(story())
    assert first["result"]["numberOfClonedVm"] == 1
    assert error.code == "SYS.1006"
    assert third["result"]["inventories"][0]["inventory"]["name"] == "mcp-3"
    assert sorted(vm.name for vm in cloud.vms) == ["golden", "mcp-1", "mcp-3"]


def clone_web_servers(base_url: str, golden: str, names: list[str]) -> dict[str, str]:
    """A user's plain-requests function: log in, clone, follow the job; name -> state."""
    with requests.Session() as http:
        login = http.put(
            f"{base_url}/zstack/v1/accounts/login",
            json={
                "logInByAccount": {
                    "accountName": "admin",
                    "password": hashlib.sha512(b"password").hexdigest(),
                }
            },
        )
        login.raise_for_status()
        http.headers["Authorization"] = f"OAuth {login.json()['inventory']['uuid']}"
        made = {}
        for name in names:
            job = http.put(
                f"{base_url}/zstack/v1/vm-instances/{golden}/actions",
                json={"cloneVmInstance": {"names": [name]}},
            )
            entry = http.get(job.json()["location"]).json()["result"]["inventories"][0]
            made[name] = entry["error"]["code"] if entry.get("error") else entry["inventory"]["state"]
        return made


def test_plain_requests_client():
    with fakestack.mock(urls=[ZSTACK]) as fake:
        faults.add(fake.cloud, faults.exhaust("vm.clone", "host.cpu", nth=2))
        golden = fake.cloud.vms.get("golden").uuid
        assert clone_web_servers(ZSTACK, golden, ["web-1", "web-2", "web-3"]) == {
            "web-1": "Running",
            "web-2": "VM.1001",
            "web-3": "Running",
        }
    assert sorted(vm.name for vm in fake.cloud.vms) == ["golden", "web-1", "web-3"]
