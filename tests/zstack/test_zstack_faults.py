"""Fault plans seen through the ZStack dialect: an injected shortage looks like a real one."""

from __future__ import annotations

from zstack_support import SEED_CHAIN_FOR, auth, clone, cloud_client, poll

from fakestack import faults


def test_exhausting_host_memory_on_the_second_clone_looks_like_a_real_shortage():
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden")
    faults.add(cloud, faults.exhaust("vm.clone", "host.memory", nth=2))
    body = clone(client, session, golden.uuid, ["f1", "f2", "f3"]).get_json()["result"]
    assert body["numberOfClonedVm"] == 2
    assert [("error" in e) for e in body["inventories"]] == [False, True, False]
    assert body["inventories"][1]["error"] == SEED_CHAIN_FOR(golden.cpu_num, golden.memory_size)


def test_a_dialect_operation_rule_fails_the_api_with_its_code():
    cloud, client, session = cloud_client("demo")
    faults.add(cloud, faults.fail("zstack:CloneVmInstance", "storage agent on fire", code="HOST.1005"))
    error = clone(client, session, cloud.vms.get("golden").uuid, ["x"]).get_json()["error"]
    assert error == {"code": "HOST.1005", "details": "storage agent on fire"}
    assert cloud.vms.find("x") is None


def test_a_hung_job_polls_202_until_released():
    cloud, client, session = cloud_client("demo")
    faults.add(cloud, faults.hang("vm.stop"))
    golden = cloud.vms.get("golden").uuid
    response = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions", json={"stopVmInstance": {}}, headers=auth(session)
    )
    assert poll(client, response).status_code == 202
    cloud.tick(3600)
    assert poll(client, response).status_code == 202
    faults.release(cloud)
    done = poll(client, response)
    assert done.status_code == 200 and done.get_json()["inventory"]["state"] == "Stopped"


def test_latency_delays_the_poll_by_that_many_seconds():
    cloud, client, session = cloud_client("demo")
    faults.add(cloud, faults.latency("vm.reboot", 10))
    golden = cloud.vms.get("golden").uuid
    response = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions", json={"rebootVmInstance": {}}, headers=auth(session)
    )
    assert poll(client, response).status_code == 202
    cloud.tick(10)
    assert poll(client, response).status_code == 200


def test_no_backup_storage_for_the_clone_image_fails_the_whole_clone():
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden")
    faults.add(cloud, faults.exhaust("vm.clone.prepare", "backup_storage"))
    error = clone(client, session, golden.uuid, ["x"]).get_json()["error"]
    ps = cloud.volumes.get(golden.root_volume_uuid).primary_storage_uuid
    assert error == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": f"can not find backup storage, unable to commit volume snapshot[psUuid:{ps}] "
        f"as image, destination required PS uuid:{ps}",
    }
