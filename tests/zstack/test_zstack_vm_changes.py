"""VM changes over REST: UpdateVmInstance, ChangeInstanceOffering, MigrateVm and its
candidate hosts, Pause/Resume, ReimageVmInstance, L3 networks and NICs (issue 16, group 1)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from zstack_support import auth, call_async, error, login, query

from fakestack.app import make_app
from fakestack.model import Cloud, ManualClock

GiB = 1024**3
MSG = "org.zstack.header.vm.API{}Msg"

# Two shared-storage hosts (host-b small), two local-storage hosts, two networks.
PAIR = {
    "name": "pair",
    "zones": [{"name": "zone-1"}],
    "clusters": [{"name": "cluster-1", "zone": "zone-1"}, {"name": "cluster-local", "zone": "zone-1"}],
    "hosts": [
        {"name": "host-a", "cluster": "cluster-1", "cpu_num": 4, "memory": "10G"},
        {"name": "host-b", "cluster": "cluster-1", "cpu_num": 4, "memory": "6G"},
        {"name": "host-l1", "cluster": "cluster-local", "cpu_num": 4, "memory": "10G"},
        {"name": "host-l2", "cluster": "cluster-local", "cpu_num": 4, "memory": "10G"},
    ],
    "primary_storages": [
        {"name": "nfs-ps", "type": "NFS", "clusters": ["cluster-1"], "total_capacity": "100G"},
        {"name": "local-ps", "type": "LocalStorage", "clusters": ["cluster-local"], "total_capacity": "100G"},
    ],
    "backup_storages": [{"name": "imagestore", "zones": ["zone-1"], "total_capacity": "50G"}],
    "images": [
        {"name": "tiny-linux", "backup_storages": ["imagestore"], "virtual_size": "10G", "actual_size": "1G"}
    ],
    "instance_offerings": [
        {"name": "vm-2g", "cpu_num": 1, "memory_size": "2G"},
        {"name": "vm-8g", "cpu_num": 2, "memory_size": "8G"},
    ],
    "disk_offerings": [{"name": "disk-5G", "disk_size": "5G"}],
    "l3_networks": [
        {"name": "l3-a", "zone": "zone-1", "cidr": "192.168.10.0/24"},
        {"name": "l3-b", "zone": "zone-1", "cidr": "192.168.20.0/24"},
        {"name": "l3-tiny", "zone": "zone-1", "cidr": "192.168.30.0/29"},
    ],
    "vms": [
        {"name": "golden", "instance_offering": "vm-2g", "image": "tiny-linux", "host": "host-a"},
        {"name": "local", "instance_offering": "vm-2g", "image": "tiny-linux", "host": "host-l1"},
    ],
}


@pytest.fixture
def pair():
    cloud = Cloud(PAIR, seed=0, clock=ManualClock())
    client = Client(make_app(cloud))
    return cloud, client, login(client)


def act(client, session, uuid, action, **params):
    return call_async(
        client, "PUT", f"/zstack/v1/vm-instances/{uuid}/actions", session, json={action: params}
    )


def host(client, session, name):
    return query(client, session, "hosts", q=f"name={name}").get_json()["inventories"][0]


def free(client, session, name):
    inv = host(client, session, name)
    return inv["availableCpuCapacity"], inv["availableMemoryCapacity"]


# -- PauseVmInstance / ResumeVmInstance ----------------------------------------------


def test_pause_holds_the_host_and_resume_runs_again(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    before = free(client, session, "host-a")
    paused = act(client, session, golden, "pauseVmInstance")
    assert paused.status_code == 200
    assert paused.get_json()["inventory"]["state"] == "Paused"
    assert paused.get_json()["inventory"]["hostUuid"] == cloud.hosts.get("host-a").uuid
    assert free(client, session, "host-a") == before  # a paused VM keeps its CPU and memory
    again = error(act(client, session, golden, "pauseVmInstance"))
    assert again == {
        "code": "VM.1010",
        "description": "VM is not in state that allows required operation",
        "details": f"current vm instance state[Paused] doesn't allow to proceed message"
        f"[{MSG.format('PauseVmInstance')}], allowed states are [Running]",
    }
    resumed = act(client, session, golden, "resumeVmInstance")
    assert resumed.get_json()["inventory"]["state"] == "Running"
    assert free(client, session, "host-a") == before
    wrong = error(act(client, session, golden, "resumeVmInstance"))
    assert (wrong["code"], wrong["details"]) == (
        "VM.1010",
        f"current vm instance state[Running] doesn't allow to proceed message"
        f"[{MSG.format('ResumeVmInstance')}], allowed states are [Paused]",
    )
    cloud.check_invariants()


def test_stopping_a_paused_vm_returns_its_capacity(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    cpu, memory = free(client, session, "host-a")
    act(client, session, golden, "pauseVmInstance")
    act(client, session, golden, "stopVmInstance")
    assert free(client, session, "host-a") == (cpu + 1, memory + 2 * GiB)


def test_pause_of_a_missing_vm_is_sys_1003(pair):
    _, client, session = pair
    missing = "0123456789ab4def8123456789abcdef"
    assert error(act(client, session, missing, "pauseVmInstance"))["details"] == (
        f"invalid field[uuid], resource[uuid:{missing}, type:VmInstanceVO] not found"
    )


# -- MigrateVm / GetVmMigrationCandidateHosts -----------------------------------------


def candidates(client, session, uuid):
    response = client.get(f"/zstack/v1/vm-instances/{uuid}/migration-target-hosts", headers=auth(session))
    return response


def test_migration_candidates_are_the_other_hosts_that_reach_the_storage(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    response = candidates(client, session, golden)
    assert response.status_code == 200
    assert [h["name"] for h in response.get_json()["inventories"]] == ["host-b"]
    local = cloud.vms.get("local").uuid
    assert [h["name"] for h in candidates(client, session, local).get_json()["inventories"]] == ["host-l2"]


def test_migrate_moves_the_capacity_from_source_to_destination(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    a, b = free(client, session, "host-a"), free(client, session, "host-b")
    moved = act(client, session, golden, "migrateVm", hostUuid=cloud.hosts.get("host-b").uuid)
    assert moved.status_code == 200, moved.get_data(as_text=True)
    inventory = moved.get_json()["inventory"]
    assert (inventory["hostUuid"], inventory["lastHostUuid"], inventory["state"]) == (
        cloud.hosts.get("host-b").uuid,
        cloud.hosts.get("host-b").uuid,
        "Running",
    )
    assert free(client, session, "host-a") == (a[0] + 1, a[1] + 2 * GiB)
    assert free(client, session, "host-b") == (b[0] - 1, b[1] - 2 * GiB)
    back = act(client, session, golden, "migrateVm")  # no host named: the allocator picks host-a
    assert back.get_json()["inventory"]["hostUuid"] == cloud.hosts.get("host-a").uuid
    assert free(client, session, "host-a") == a and free(client, session, "host-b") == b
    cloud.check_invariants()


def test_migrate_errors(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden")
    to_local = error(act(client, session, golden.uuid, "migrateVm", hostUuid=cloud.hosts.get("host-l1").uuid))
    assert to_local["code"] == "VM.1008" and to_local["description"] == "Unable to migrate a vm"
    assert to_local["cause"]["code"] == "SYS.1006"
    act(client, session, golden.uuid, "stopVmInstance")
    stopped = error(act(client, session, golden.uuid, "migrateVm"))
    assert stopped["code"] == "VM.1008"
    assert stopped["cause"] == {
        "code": "VM.1010",
        "description": "VM is not in state that allows required operation",
        "details": f"current vm instance state[Stopped] doesn't allow to proceed message"
        f"[{MSG.format('MigrateVm')}], allowed states are [Running, Paused, Unknown]",
    }
    listed = error(candidates(client, session, golden.uuid))
    assert (listed["code"], listed["cause"]["code"]) == ("VM.1008", "VM.1010")


def test_migrate_without_room_anywhere_fails_and_candidates_are_empty(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    act(
        client,
        session,
        golden,
        "changeInstanceOffering",
        instanceOfferingUuid=cloud.instance_offerings.get("vm-8g").uuid,
    )
    assert candidates(client, session, golden).get_json() == {"inventories": []}
    before = free(client, session, "host-a"), free(client, session, "host-b")
    failed = error(act(client, session, golden, "migrateVm"))
    details = f"no host having cpu[2], memory[{8 * GiB} bytes] found"
    assert failed == {
        "code": "VM.1008",
        "description": "Unable to migrate a vm",
        "details": details,
        "cause": {"code": "HOST_ALLOCATION.1000", "description": "An operation failed", "details": details},
    }
    assert (free(client, session, "host-a"), free(client, session, "host-b")) == before
    cloud.check_invariants()


def test_local_storage_vm_migrates_only_without_data_volumes(pair):
    cloud, client, session = pair
    local = cloud.vms.get("local").uuid
    moved = act(client, session, local, "migrateVm")
    assert moved.get_json()["inventory"]["hostUuid"] == cloud.hosts.get("host-l2").uuid
    volume = call_async(
        client,
        "POST",
        "/zstack/v1/volumes/data",
        session,
        json={"params": {"name": "d1", "diskOfferingUuid": cloud.disk_offerings.get("disk-5G").uuid}},
    ).get_json()["inventory"]
    call_async(
        client,
        "POST",
        f"/zstack/v1/volumes/{volume['uuid']}/vm-instances/{local}",
        session,
        json={"params": {}},
    )
    refused = error(act(client, session, local, "migrateVm"))
    assert refused["code"] == "VM.1008"
    assert refused["cause"] == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": (
            f"unable to live migrate vm[uuid:{local}] with data volumes on local storage. "
            "Need detach all data volumes first."
        ),
    }
    assert cloud.vms.get("local").host_uuid == cloud.hosts.get("host-l2").uuid


# -- ChangeInstanceOffering / UpdateVmInstance ----------------------------------------


def test_change_offering_of_a_running_vm_takes_the_growth_from_its_host(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    offering = cloud.instance_offerings.get("vm-8g").uuid
    cpu, memory = free(client, session, "host-a")
    changed = act(client, session, golden, "changeInstanceOffering", instanceOfferingUuid=offering)
    assert changed.status_code == 200
    inventory = changed.get_json()["inventory"]
    assert (inventory["cpuNum"], inventory["memorySize"], inventory["instanceOfferingUuid"]) == (
        2,
        8 * GiB,
        offering,
    )
    assert free(client, session, "host-a") == (cpu - 1, memory - 6 * GiB)
    cloud.check_invariants()


def test_change_offering_without_room_on_the_host_fails_and_changes_nothing(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    act(client, session, golden, "migrateVm", hostUuid=cloud.hosts.get("host-b").uuid)
    before = free(client, session, "host-b")
    failed = error(
        act(
            client,
            session,
            golden,
            "changeInstanceOffering",
            instanceOfferingUuid=cloud.instance_offerings.get("vm-8g").uuid,
        )
    )
    details = f"no host having cpu[1], memory[{6 * GiB} bytes] found"
    assert failed == {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": details,
        "cause": {"code": "HOST_ALLOCATION.1000", "description": "An operation failed", "details": details},
    }
    assert free(client, session, "host-b") == before
    vm = query(client, session, f"vm-instances/{golden}").get_json()["inventories"][0]
    assert (vm["cpuNum"], vm["memorySize"]) == (1, 2 * GiB)


def test_change_offering_of_a_stopped_vm_holds_nothing(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    act(client, session, golden, "stopVmInstance")
    before = free(client, session, "host-a")
    changed = act(
        client,
        session,
        golden,
        "changeInstanceOffering",
        instanceOfferingUuid=cloud.instance_offerings.get("vm-8g").uuid,
    )
    assert changed.get_json()["inventory"]["memorySize"] == 8 * GiB
    assert free(client, session, "host-a") == before
    missing = "0123456789ab4def8123456789abcdef"
    unknown = error(act(client, session, golden, "changeInstanceOffering", instanceOfferingUuid=missing))
    assert unknown["details"] == (
        f"invalid field[instanceOfferingUuid], resource[uuid:{missing}, type:InstanceOfferingVO] not found"
    )


def test_update_vm_instance(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    cpu, memory = free(client, session, "host-a")
    updated = act(
        client,
        session,
        golden,
        "updateVmInstance",
        name="renamed",
        description="hello",
        platform="Windows",
        guestOsType="Windows 10",
        cpuNum=2,
        memorySize=3 * GiB,
    )
    assert updated.status_code == 200
    inventory = updated.get_json()["inventory"]
    assert {
        k: inventory[k] for k in ("name", "description", "platform", "guestOsType", "cpuNum", "memorySize")
    } == {
        "name": "renamed",
        "description": "hello",
        "platform": "Windows",
        "guestOsType": "Windows 10",
        "cpuNum": 2,
        "memorySize": 3 * GiB,
    }
    assert free(client, session, "host-a") == (cpu - 1, memory - GiB)
    assert [
        v["uuid"] for v in query(client, session, "vm-instances", q="name=renamed").get_json()["inventories"]
    ] == [golden]
    stopped = act(client, session, golden, "updateVmInstance", state="Stopped")
    assert stopped.get_json()["inventory"]["state"] == "Stopped"
    assert free(client, session, "host-a") == (cpu + 1, memory + 2 * GiB)
    bad = error(act(client, session, golden, "updateVmInstance", platform="Mac"))
    assert bad["code"] == "SYS.1007"
    too_big = error(act(client, session, golden, "updateVmInstance", cpuNum=2000))
    assert (too_big["code"], too_big["details"]) == (
        "SYS.1007",
        "field[cpuNum] must be in range of [1, 1024]",
    )
    cloud.check_invariants()


# -- ReimageVmInstance ------------------------------------------------------------------


def test_reimage_resets_the_root_disk_and_frees_what_was_written(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden")
    cloud.write(golden.root_volume_uuid, 3 * GiB)
    ps_before = query(client, session, "primary-storage", q="name=nfs-ps").get_json()["inventories"][0]
    running = error(act(client, session, golden.uuid, "reimageVmInstance"))
    assert running == {
        "code": "VM.1014",
        "description": "VM is not in Stopped state, cannot do re-image operation.",
        "details": f"unable to reset volume[uuid:{golden.root_volume_uuid}] to origin "
        f"image[uuid:{golden.image_uuid}], the vm[uuid:{golden.uuid}] volume "
        "attached to is not in Stopped state, current state is Running",
    }
    act(client, session, golden.uuid, "stopVmInstance")
    done = act(client, session, golden.uuid, "reimageVmInstance")
    assert done.status_code == 200 and done.get_json()["inventory"]["state"] == "Stopped"
    ps_after = query(client, session, "primary-storage", q="name=nfs-ps").get_json()["inventories"][0]
    assert ps_after["availablePhysicalCapacity"] - ps_before["availablePhysicalCapacity"] == 3 * GiB
    assert ps_after["availableCapacity"] == ps_before["availableCapacity"]
    root = query(client, session, f"volumes/{golden.root_volume_uuid}").get_json()["inventories"][0]
    assert root["actualSize"] == cloud.settings.new_leaf_size
    cloud.check_invariants()


# -- AttachL3NetworkToVm / DetachL3NetworkFromVm / CreateVmNic ----------------------------


def test_attach_and_detach_an_l3_network(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    l3b = cloud.l3_networks.get("l3-b").uuid
    attached = call_async(
        client,
        "POST",
        f"/zstack/v1/vm-instances/{golden}/l3-networks/{l3b}",
        session,
        json={"params": {"staticIp": "192.168.20.50"}},
    )
    assert attached.status_code == 200, attached.get_data(as_text=True)
    nics = attached.get_json()["inventory"]["vmNics"]
    assert [(n["l3NetworkUuid"], n["ip"], n["deviceId"]) for n in nics][1] == (l3b, "192.168.20.50", 1)
    again = error(
        call_async(
            client,
            "POST",
            f"/zstack/v1/vm-instances/{golden}/l3-networks/{l3b}",
            session,
            json={"params": {}},
        )
    )
    assert again["details"] == (
        f"unable to attach a L3 network. The L3 network[uuid:{l3b}] is already "
        f"attached to the vm[uuid: {golden}]"
    )
    nic = nics[1]["uuid"]
    detached = call_async(client, "DELETE", f"/zstack/v1/vm-instances/nics/{nic}", session)
    assert detached.status_code == 200
    assert [n["l3NetworkUuid"] for n in detached.get_json()["inventory"]["vmNics"]] == [
        cloud.l3_networks.get("l3-a").uuid
    ]
    assert query(client, session, "vm-instances/nics", q=f"uuid={nic}").get_json()["inventories"] == []
    missing = error(call_async(client, "DELETE", f"/zstack/v1/vm-instances/nics/{'ab' * 16}", session))
    assert missing["code"] == "SYS.1003"
    cloud.check_invariants()


def test_a_taken_static_ip_is_refused_and_a_full_network_is_exhausted(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden")
    taken = cloud.nics.get(golden.nic_uuids[0]).ip
    l3b = cloud.l3_networks.get("l3-b").uuid
    nic = call_async(
        client,
        "POST",
        "/zstack/v1/nics",
        session,
        json={"params": {"l3NetworkUuid": l3b, "ip": "192.168.20.2"}},
    ).get_json()["inventory"]
    busy = error(
        call_async(
            client,
            "POST",
            f"/zstack/v1/vm-instances/{golden.uuid}/l3-networks/{l3b}",
            session,
            json={"params": {"staticIp": "192.168.20.2"}},
        )
    )
    assert busy["details"] == f"the static IP[192.168.20.2] has been occupied on l3 network[uuid:{l3b}]"
    assert taken.startswith("192.168.10.")
    # the sequential allocation skips the chosen address
    second = call_async(
        client, "POST", "/zstack/v1/nics", session, json={"params": {"l3NetworkUuid": l3b}}
    ).get_json()["inventory"]
    third = call_async(
        client, "POST", "/zstack/v1/nics", session, json={"params": {"l3NetworkUuid": l3b}}
    ).get_json()["inventory"]
    assert (nic["ip"], second["ip"], third["ip"]) == ("192.168.20.2", "192.168.20.3", "192.168.20.4")
    cloud.check_invariants()


def test_create_vm_nic(pair):
    cloud, client, session = pair
    l3a = cloud.l3_networks.get("l3-a").uuid
    chosen = "0123456789ab4def8123456789abcdef"
    created = call_async(
        client,
        "POST",
        "/zstack/v1/nics",
        session,
        json={"params": {"l3NetworkUuid": l3a, "resourceUuid": chosen}},
    )
    assert created.status_code == 200, created.get_data(as_text=True)
    inventory = created.get_json()["inventory"]
    assert inventory["uuid"] == chosen and "vmInstanceUuid" not in inventory
    assert inventory["l3NetworkUuid"] == l3a and inventory["ip"].startswith("192.168.10.")
    listed = query(client, session, "vm-instances/nics", q=f"uuid={chosen}").get_json()["inventories"]
    assert [n["uuid"] for n in listed] == [chosen]
    taken = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/nics",
            session,
            json={"params": {"l3NetworkUuid": l3a, "resourceUuid": chosen}},
        )
    )
    assert taken["code"] == "SYS.1006"
    outside = error(
        call_async(
            client,
            "POST",
            "/zstack/v1/nics",
            session,
            json={"params": {"l3NetworkUuid": l3a, "ip": "10.0.0.1"}},
        )
    )
    assert outside["code"] == "SYS.1007"
    freed = call_async(client, "DELETE", f"/zstack/v1/vm-instances/nics/{chosen}", session)
    assert (freed.status_code, freed.get_json()) == (200, {})
    cloud.check_invariants()


# -- SetVmBootOrder -------------------------------------------------------------------------


def test_set_vm_boot_order_is_a_system_tag_of_the_vm(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    done = act(client, session, golden, "setVmBootOrder", bootOrder=["CdRom", "HardDisk", "CdRom"])
    assert done.status_code == 200 and done.get_json()["inventory"]["uuid"] == golden
    tagged = query(client, session, "vm-instances", q="__systemTag__=bootOrder::CdRom,HardDisk")
    assert [v["uuid"] for v in tagged.get_json()["inventories"]] == [golden]
    bad = error(act(client, session, golden, "setVmBootOrder", bootOrder=["HardDisk", "Floppy"]))
    assert (bad["code"], bad["details"]) == (
        "SYS.1007",
        "invalid boot device[Floppy] in boot order[HardDisk, Floppy]",
    )
    act(client, session, golden, "setVmBootOrder")  # no order: the tag goes
    gone = query(client, session, "vm-instances", q="__systemTag__=bootOrder::CdRom,HardDisk")
    assert gone.get_json()["inventories"] == []


def test_a_network_out_of_addresses_refuses_the_next_nic_and_a_detach_gives_one_back(pair):
    cloud, client, session = pair
    golden = cloud.vms.get("golden").uuid
    tiny = cloud.l3_networks.get("l3-tiny").uuid  # .2 to .6 (.1 is the gateway)
    for _ in range(4):
        ok = call_async(client, "POST", "/zstack/v1/nics", session, json={"params": {"l3NetworkUuid": tiny}})
        assert ok.status_code == 200
    attached = call_async(
        client, "POST", f"/zstack/v1/vm-instances/{golden}/l3-networks/{tiny}", session, json={"params": {}}
    )
    nic = [n for n in attached.get_json()["inventory"]["vmNics"] if n["l3NetworkUuid"] == tiny][0]
    assert nic["ip"] == "192.168.30.6"
    full = error(
        call_async(client, "POST", "/zstack/v1/nics", session, json={"params": {"l3NetworkUuid": tiny}})
    )
    assert full == {
        "code": "HOST_ALLOCATION.1001",
        "description": "An operation failed",
        "details": f"no available ip in l3 network[uuid:{tiny}]",
    }
    call_async(client, "DELETE", f"/zstack/v1/vm-instances/nics/{nic['uuid']}", session)
    again = call_async(client, "POST", "/zstack/v1/nics", session, json={"params": {"l3NetworkUuid": tiny}})
    assert again.get_json()["inventory"]["ip"] == "192.168.30.6"
    cloud.check_invariants()
