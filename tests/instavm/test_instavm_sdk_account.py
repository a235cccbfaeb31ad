"""``get_current_user``, ``get_usage`` (from the model's accounting), ``templates.list``
and egress get/set on a VM or a session, through the official SDK."""

from __future__ import annotations

import pytest

instavm = pytest.importorskip("instavm")

from conftest import KEY, MiB, detail  # noqa: E402
from instavm import InstaVM, InstaVMError  # noqa: E402
from requests.exceptions import HTTPError  # noqa: E402


def test_current_user(client, server, cloud):
    assert client.get_current_user() == {
        "id": 1,
        "email": "fakestack@localhost",
        "name": "fakestack",
        "is_verified": True,
    }
    cloud.dialect_state("instavm").setdefault("settings", {})["user"] = {"email": "dev@example.org"}
    assert client.get_current_user()["email"] == "dev@example.org"
    wrong = InstaVM(api_key="instavm_sk_wrong", base_url=server.url, auto_start_session=False)
    with pytest.raises(InstaVMError):
        wrong.get_current_user()


def test_usage_counts_capacity_held_over_clock_time(client, cloud):
    vm = client.vms.create(wait=True, vcpu_count=2, memory_mb=1024)
    client.session_id = vm["session_id"]
    cloud.tick(10)
    usage = client.get_usage()
    root = cloud.vm_volumes(cloud.dialect_state("instavm")["vms"][vm["vm_id"]]["uuid"])[0]
    assert usage == {
        "session_id": vm["session_id"],
        "vm_ids": [vm["vm_id"]],
        "vm_id": vm["vm_id"],
        "uptime_seconds": 10.0,
        "vcpu_seconds": 20.0,
        "memory_mb_seconds": 10240.0,
        "vcpu_count": 2,
        "memory_mb": 1024,
        "storage_bytes": cloud.volume_actual_size(root),
    }
    assert usage["storage_bytes"] == 1 * MiB  # a new leaf above the image cache
    client.vms.suspend(vm["vm_id"])
    cloud.tick(100)  # a suspended VM holds nothing and accrues nothing
    parked = client.get_usage()
    assert (parked["uptime_seconds"], parked["vcpu_count"], parked["memory_mb"]) == (10.0, 0, 0)
    resumed = client.vms.resume(vm["vm_id"])
    cloud.tick(5)
    after = client.get_usage()
    assert (after["vm_ids"], after["vm_id"], after["uptime_seconds"], after["memory_mb_seconds"]) == (
        [vm["vm_id"], resumed["vm_id"]],
        resumed["vm_id"],
        15.0,
        15360.0,
    )
    client.session_id = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(HTTPError) as err:
        client.get_usage()
    assert detail(err) == (404, "Session not found")


def test_templates_are_the_bootable_images_and_need_no_key(server):
    anonymous = InstaVM(base_url=server.url, auto_start_session=False)
    templates = anonymous.templates.list()
    assert [(t["slug"], t["name"], t["disk_size_bytes"]) for t in templates] == [
        ("tiny-linux", "tiny-linux", 10 * 1024 * MiB)
    ]
    assert anonymous.templates.get("tiny-linux")["slug"] == "tiny-linux"
    with pytest.raises(HTTPError) as err:
        anonymous.templates.get("nope")
    assert detail(err) == (404, "Template not found")


def test_vm_egress_is_kept_as_vm_state(client, cloud):
    vm = client.vms.create(wait=True)
    assert client.get_vm_egress(vm["vm_id"]) == {
        "vm_id": vm["vm_id"],
        "allow_public_repos": True,
        "allow_http": True,
        "allow_https": True,
        "allowed_domains": [],
        "allowed_cidrs": [],
    }
    set_ = client.set_vm_egress(
        vm["vm_id"], allow_http=False, allowed_domains=["pypi.org"], allowed_cidrs=["10.0.0.0/8"]
    )
    assert (
        set_
        == client.get_vm_egress(vm["vm_id"])
        == {
            "vm_id": vm["vm_id"],
            "allow_public_repos": True,
            "allow_http": False,
            "allow_https": True,
            "allowed_domains": ["pypi.org"],
            "allowed_cidrs": ["10.0.0.0/8"],
        }
    )
    with pytest.raises(InstaVMError, match="422"):
        client.set_vm_egress(vm["vm_id"], allowed_cidrs=["not-a-cidr"])
    assert client.get_vm_egress(vm["vm_id"])["allowed_cidrs"] == ["10.0.0.0/8"]  # unchanged
    resumed = client.vms.resume(client.vms.suspend(vm["vm_id"])["vm_id"])
    assert client.get_vm_egress(resumed["vm_id"])["allow_http"] is False  # follows the VM
    with pytest.raises(InstaVMError, match="404"):
        client.get_vm_egress("vm_000000000000")
    client.vms.delete(resumed["vm_id"])
    with pytest.raises(InstaVMError, match="409"):
        client.set_vm_egress(resumed["vm_id"], allow_https=False)


def test_session_egress(server):
    agent = InstaVM(api_key=KEY, base_url=server.url, max_retries=0)
    agent.set_session_egress(allow_package_managers=False)
    assert agent.get_session_egress()["allow_public_repos"] is False
    with pytest.raises(InstaVMError, match="404"):
        agent.get_session_egress("00000000-0000-4000-8000-000000000000")
