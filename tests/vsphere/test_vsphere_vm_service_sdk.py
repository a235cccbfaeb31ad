"""Issue 17 through the official SDK over JSON-RPC: VM create / relocate / register /
unregister, vm.hardware, vm.guest, host / network / folder, read-only users, and
datastores that admit on physical space only (``vcenter_topology``)."""

import pytest
from com.vmware.vapi.std.errors_client import (
    AlreadyExists,
    AlreadyInDesiredState,
    Error,
    InvalidArgument,
    NotAllowedInCurrentState,
    NotFound,
    ResourceInaccessible,
    ServiceUnavailable,
    UnableToAllocateResource,
    Unauthorized,
    Unsupported,
)
from com.vmware.vcenter.vm.guest_client import Power as GuestPower
from com.vmware.vcenter.vm.hardware_client import Boot, ConnectionState, Cpu, Disk, Ethernet, Memory
from com.vmware.vcenter.vm_client import GuestOS, Hardware, Power
from com.vmware.vcenter_client import VM
from sdk_support import READONLY_USER, GiB, connect
from vsphere_support import vcenter_topology

from fakestack import faults
from fakestack.model import Cloud, ManualClock
from fakestack.server import start_server

MiB = 1024**2
FOLDER, CLUSTER_A, CLUSTER_B = "group-v1", "domain-c1", "domain-c2"
ESX1, ESX2, ESX3 = "host-1", "host-2", "host-3"
DS1, DS2 = "datastore-1", "datastore-2"
VM_NETWORK, BACKEND = "network-1", "network-2"


@pytest.fixture
def server():
    running = start_server(Cloud(vcenter_topology(), seed=0, clock=ManualClock()), host="127.0.0.1", port=0)
    yield running
    running.stop()


@pytest.fixture
def client(server):
    return connect(server)


def portgroup(network):
    return Ethernet.BackingSpec(type=Ethernet.BackingType.STANDARD_PORTGROUP, network=network)


def create_spec(
    name="web-1",
    *,
    memory_mib=4096,
    disk_gib=40,
    host=None,
    cluster=CLUSTER_A,
    datastore=DS1,
    nics=(VM_NETWORK,),
    cpu=2,
    **extra,
):
    return VM.CreateSpec(
        guest_os=GuestOS.UBUNTU_64,
        name=name,
        placement=VM.PlacementSpec(
            folder=FOLDER, cluster=None if host else cluster, host=host, datastore=datastore
        ),
        cpu=Cpu.UpdateSpec(count=cpu),
        memory=Memory.UpdateSpec(size_mib=memory_mib),
        disks=[Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=disk_gib * GiB))],
        nics=[Ethernet.CreateSpec(start_connected=True, backing=portgroup(n)) for n in nics],
        **extra,
    )


def store(cloud, name):
    return cloud.primary_storages.get(name)


def host(cloud, name):
    return cloud.hosts.get(name)


# --- VM.create --------------------------------------------------------------------------------


def test_create_builds_a_powered_off_vm_whose_thin_disks_cost_only_their_first_megabyte(server, client):
    cloud = server.cloud
    ds1 = store(cloud, "ds-1")
    before = (ds1.used_virtual, ds1.used_physical)
    vm = client.vcenter.VM.create(create_spec(disk_gib=4096, host=ESX1))  # 4 TiB on a 2 TiB datastore
    assert vm == "vm-2"
    info = client.vcenter.VM.get(vm)
    assert (info.name, info.guest_os, info.power_state, info.cpu.count, info.memory.size_mib) == (
        "web-1",
        GuestOS.UBUNTU_64,
        Power.State.POWERED_OFF,
        2,
        4096,
    )
    assert info.disks["2000"].capacity == 4096 * GiB
    assert info.disks["2000"].backing.vmdk_file == "[ds-1] web-1/web-1.vmdk"
    assert info.nics["4000"].backing.network == VM_NETWORK and info.nics["4000"].start_connected is True
    # vSphere admits a thin disk on free space only: provisioned 4 TiB, written 1 MiB
    assert (ds1.used_virtual - before[0], ds1.used_physical - before[1]) == (4096 * GiB, MiB)
    free = [d.free_space for d in client.vcenter.Datastore.list() if d.datastore == DS1]
    assert free == [ds1.total_physical_capacity - ds1.used_physical]
    assert host(cloud, "esx-1").used_memory == 1 * GiB  # powered off: only golden holds the host
    client.vcenter.vm.Power.start(vm)
    assert host(cloud, "esx-1").used_memory == 5 * GiB
    cloud.check_invariants()


def test_create_errors(server, client):
    cloud = server.cloud
    with pytest.raises(NotFound) as info:
        client.vcenter.VM.create(create_spec(datastore="datastore-9"))
    assert info.value.messages[0].id == "com.vmware.api.vcenter.datastore.not_found"
    with pytest.raises(NotFound):
        client.vcenter.VM.create(create_spec(nics=("network-9",)))
    with pytest.raises(AlreadyExists):
        client.vcenter.VM.create(create_spec(name="golden"))
    with pytest.raises(InvalidArgument) as info:
        client.vcenter.VM.create(VM.CreateSpec(guest_os=GuestOS.UBUNTU_64, name="x"))
    assert info.value.messages[0].args == ["com.vmware.vcenter.VM.create_spec", "placement"]
    # esx-3 has 8 GiB, 1 GiB reserved: a 16 GiB VM does not fit, and nothing is left behind
    vms, ledger = len(cloud.vms), store(cloud, "ds-1").used_virtual
    with pytest.raises(UnableToAllocateResource) as info:
        client.vcenter.VM.create(create_spec(memory_mib=16384, host=ESX3))
    assert (info.value.messages[0].id, info.value.messages[0].args) == (
        "com.vmware.api.vcenter.vm.insufficient_memory",
        [ESX3, "16384", "7168"],
    )
    assert (len(cloud.vms), store(cloud, "ds-1").used_virtual) == (vms, ledger)
    # a datastore taken away by a fault: the create answers resource_inaccessible
    faults.add(
        cloud, faults.disconnect("vsphere:com.vmware.vcenter.VM.create", "ds-2", kind="primary_storage")
    )
    with pytest.raises(ResourceInaccessible) as info:
        client.vcenter.VM.create(create_spec(datastore=DS2))
    assert (info.value.messages[0].id, info.value.messages[0].args) == (
        "com.vmware.api.vcenter.vm.datastore_inaccessible",
        [DS2],
    )
    assert (len(cloud.vms), store(cloud, "ds-2").used_virtual) == (vms, 0)
    cloud.check_invariants()


# --- VM.relocate, register, unregister -----------------------------------------------------------


def test_relocate_moves_host_memory_and_datastore_space(server, client):
    cloud = server.cloud
    vm = client.vcenter.VM.create(create_spec(memory_mib=8192, host=ESX1))
    client.vcenter.vm.Power.start(vm)
    cloud.write(cloud.vms.get("web-1").root_volume_uuid, 3 * GiB)  # the guest wrote 3 GiB
    esx1, esx2, ds1, ds2 = (
        host(cloud, "esx-1"),
        host(cloud, "esx-2"),
        store(cloud, "ds-1"),
        store(cloud, "ds-2"),
    )
    used1 = (esx1.used_memory, ds1.used_virtual, ds1.used_physical)
    client.vcenter.VM.relocate(
        vm, VM.RelocateSpec(placement=VM.RelocatePlacementSpec(host=ESX2, datastore=DS2))
    )
    assert (esx1.used_memory, esx2.used_memory) == (used1[0] - 8 * GiB, 8 * GiB)
    assert (ds1.used_virtual, ds1.used_physical) == (used1[1] - 40 * GiB, used1[2] - 3 * GiB - MiB)
    assert (ds2.used_virtual, ds2.used_physical) == (40 * GiB, 3 * GiB + MiB)
    assert [s.vm for s in client.vcenter.VM.list(VM.FilterSpec(hosts={ESX2}))] == [vm]
    assert client.vcenter.VM.get(vm).disks["2000"].backing.vmdk_file == "[ds-2] web-1/web-1.vmdk"
    with pytest.raises(UnableToAllocateResource) as info:  # esx-3: 7 GiB placeable
        client.vcenter.VM.relocate(vm, VM.RelocateSpec(placement=VM.RelocatePlacementSpec(host=ESX3)))
    assert info.value.messages[0].args == [ESX3, "8192", "7168"]
    assert esx2.used_memory == 8 * GiB
    with pytest.raises(NotFound):
        client.vcenter.VM.relocate(vm, VM.RelocateSpec(placement=VM.RelocatePlacementSpec(host="host-9")))
    with pytest.raises(InvalidArgument) as info:
        client.vcenter.VM.relocate(
            vm, VM.RelocateSpec(placement=VM.RelocatePlacementSpec(host=ESX1, cluster=CLUSTER_B))
        )
    assert info.value.messages[0].id == "com.vmware.api.vcenter.vm.placement.disjoint"
    with pytest.raises(InvalidArgument):
        client.vcenter.VM.relocate(vm, VM.RelocateSpec(disks={"2009": VM.DiskRelocateSpec(datastore=DS1)}))
    cloud.check_invariants()


def test_relocating_instant_clones_and_their_source_follows_the_copy_on_write_rules(server, client):
    cloud = server.cloud
    ds1, ds2 = store(cloud, "ds-1"), store(cloud, "ds-2")
    child = client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="child"))
    sibling = client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="sibling"))
    before = ds1.used_physical
    # the child leaves its delta behind: on ds-2 it holds a full copy of its chain
    client.vcenter.VM.relocate(child, VM.RelocateSpec(placement=VM.RelocatePlacementSpec(datastore=DS2)))
    assert ds1.used_physical == before - MiB
    assert (
        ds2.used_physical
        == cloud.volume_allocated_size(cloud.vms.get("child").root_volume_uuid)
        == 2 * GiB + 2 * MiB
    )  # cache, frozen leaf, own leaf
    # a delta disk of an instant clone cannot be removed; the relocated child's disk is its own
    with pytest.raises(NotAllowedInCurrentState) as info:
        client.vcenter.vm.hardware.Disk.delete(sibling, "2000")
    assert info.value.messages[0].id == "com.vmware.api.vcenter.vm.hardware.disk.delta"
    # a frozen source stays where its clones' parents are
    cloud.freeze_vm(cloud.vms.get("golden"))
    with pytest.raises(NotAllowedInCurrentState) as info:
        client.vcenter.VM.relocate("vm-1", VM.RelocateSpec(placement=VM.RelocatePlacementSpec(datastore=DS2)))
    assert info.value.messages[0].id == "com.vmware.api.vcenter.vm.instant_clone_frozen"
    cloud.check_invariants()


def test_unregister_keeps_the_files_and_register_brings_the_vm_back_under_a_new_id(server, client):
    cloud = server.cloud
    ds1 = store(cloud, "ds-1")
    vm = client.vcenter.VM.create(create_spec())
    client.vcenter.vm.hardware.Disk.create(
        vm, Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=10 * GiB))
    )
    ledger = (ds1.used_virtual, ds1.used_physical)
    client.vcenter.vm.Power.start(vm)
    with pytest.raises(NotAllowedInCurrentState):
        client.vcenter.VM.unregister(vm)
    client.vcenter.vm.Power.stop(vm)
    client.vcenter.VM.unregister(vm)
    assert [s.name for s in client.vcenter.VM.list()] == ["golden"]
    assert (ds1.used_virtual, ds1.used_physical) == ledger  # the files stay
    with pytest.raises(NotFound):
        client.vcenter.VM.register(VM.RegisterSpec(datastore_path="[ds-1] nothing/nothing.vmx"))
    again = client.vcenter.VM.register(VM.RegisterSpec(datastore=DS1, path="web-1/web-1.vmx", name="web-1b"))
    assert again == "vm-3"
    info = client.vcenter.VM.get(again)
    assert (info.name, sorted(info.disks), info.disks["2001"].capacity) == (
        "web-1b",
        ["2000", "2001"],
        10 * GiB,
    )
    with pytest.raises(NotFound):
        client.vcenter.VM.get(vm)
    client.vcenter.VM.delete(again)  # deleting a VM deletes its disks
    assert (ds1.used_virtual, ds1.used_physical) == (40 * GiB + 2 * GiB, 2 * GiB + MiB)  # golden alone
    cloud.check_invariants()


# --- vm.hardware ---------------------------------------------------------------------------------


def test_cpu_and_memory_follow_the_hot_add_rules_and_growth_is_admitted_on_the_host(server, client):
    cloud = server.cloud
    vm = client.vcenter.VM.create(create_spec(memory_mib=2048, host=ESX3, cpu=2))
    cpu, memory = client.vcenter.vm.hardware.Cpu, client.vcenter.vm.hardware.Memory
    cpu.update(vm, Cpu.UpdateSpec(count=4, cores_per_socket=2, hot_add_enabled=True))
    memory.update(vm, Memory.UpdateSpec(size_mib=4096, hot_add_enabled=True))
    client.vcenter.vm.Power.start(vm)
    esx3 = host(cloud, "esx-3")
    assert (esx3.used_cpu, esx3.used_memory) == (4, 4 * GiB)
    cpu.update(vm, Cpu.UpdateSpec(count=6))  # hot add
    memory.update(vm, Memory.UpdateSpec(size_mib=6144))  # hot add, 7 GiB placeable on esx-3
    assert (esx3.used_cpu, esx3.used_memory) == (6, 6 * GiB)
    got = cpu.get(vm)
    assert (got.count, got.cores_per_socket, got.hot_add_enabled, got.hot_remove_enabled) == (
        6,
        2,
        True,
        False,
    )
    assert memory.get(vm).size_mib == 6144
    with pytest.raises(UnableToAllocateResource) as info:
        memory.update(vm, Memory.UpdateSpec(size_mib=8192))
    assert info.value.messages[0].args == [ESX3, "2048", "1024"]
    with pytest.raises(NotAllowedInCurrentState):  # no hot remove
        cpu.update(vm, Cpu.UpdateSpec(count=2))
    with pytest.raises(NotAllowedInCurrentState):  # memory never shrinks while on
        memory.update(vm, Memory.UpdateSpec(size_mib=4096))
    with pytest.raises(NotAllowedInCurrentState):
        cpu.update(vm, Cpu.UpdateSpec(hot_remove_enabled=True))
    with pytest.raises(InvalidArgument):
        cpu.update(vm, Cpu.UpdateSpec(count=5))  # not a multiple of 2 cores per socket
    assert (esx3.used_cpu, esx3.used_memory) == (6, 6 * GiB)
    client.vcenter.vm.Power.stop(vm)
    cpu.update(vm, Cpu.UpdateSpec(count=2, cores_per_socket=1))
    memory.update(vm, Memory.UpdateSpec(size_mib=1024))
    assert (cpu.get(vm).count, memory.get(vm).size_mib, esx3.used_memory) == (2, 1024, 0)
    cloud.check_invariants()


def test_disks_are_created_on_the_datastore_ledger_detached_on_delete_and_attached_again(server, client):
    cloud = server.cloud
    ds1 = store(cloud, "ds-1")
    disks = client.vcenter.vm.hardware.Disk
    vm = client.vcenter.VM.create(create_spec())
    before = (ds1.used_virtual, ds1.used_physical)
    key = disks.create(vm, Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=500 * GiB)))
    assert key == "2001"
    assert [d.disk for d in disks.list(vm)] == ["2000", "2001"]
    info = disks.get(vm, key)
    assert (info.capacity, info.scsi.unit, info.backing.vmdk_file, info.label) == (
        500 * GiB,
        1,
        "[ds-1] web-1/web-1_1.vmdk",
        "Hard disk 2",
    )
    assert (ds1.used_virtual - before[0], ds1.used_physical - before[1]) == (500 * GiB, MiB)
    disks.delete(vm, key)  # detached: the file stays, and so does its space
    assert [d.disk for d in disks.list(vm)] == ["2000"]
    assert (ds1.used_virtual - before[0], ds1.used_physical - before[1]) == (500 * GiB, MiB)
    with pytest.raises(NotFound):
        disks.get(vm, key)
    again = disks.create(
        vm,
        Disk.CreateSpec(
            backing=Disk.BackingSpec(type=Disk.BackingType.VMDK_FILE, vmdk_file="[ds-1] web-1/web-1_1.vmdk")
        ),
    )
    assert (again, disks.get(vm, again).capacity) == ("2001", 500 * GiB)
    with pytest.raises(NotFound):
        disks.create(
            vm,
            Disk.CreateSpec(
                backing=Disk.BackingSpec(
                    type=Disk.BackingType.VMDK_FILE, vmdk_file="[ds-1] web-1/web-1_1.vmdk"
                )
            ),
        )
    with pytest.raises(InvalidArgument):  # neither a new disk nor a file
        disks.create(vm, Disk.CreateSpec())
    cloud.check_invariants()


def test_ethernet_adapters_need_an_existing_network_and_connect_only_when_powered_on(server, client):
    cloud = server.cloud
    nics = client.vcenter.vm.hardware.Ethernet
    vm = client.vcenter.VM.create(create_spec())
    key = nics.create(vm, Ethernet.CreateSpec(backing=portgroup(BACKEND), start_connected=True))
    assert key == "4001"
    assert [n.nic for n in nics.list(vm)] == ["4000", "4001"]
    info = nics.get(vm, key)
    assert (info.backing.network, info.backing.network_name, info.state, info.start_connected) == (
        BACKEND,
        "backend",
        ConnectionState.NOT_CONNECTED,
        True,
    )
    with pytest.raises(NotFound):
        nics.create(vm, Ethernet.CreateSpec(backing=portgroup("network-7")))
    with pytest.raises(NotAllowedInCurrentState):
        nics.connect(vm, key)
    client.vcenter.vm.Power.start(vm)
    assert nics.get(vm, key).state == ConnectionState.CONNECTED
    nics.disconnect(vm, key)
    assert nics.get(vm, key).state == ConnectionState.NOT_CONNECTED
    with pytest.raises(AlreadyInDesiredState):
        nics.disconnect(vm, key)
    nics.connect(vm, key)
    nics.update(vm, "4000", Ethernet.UpdateSpec(backing=portgroup(BACKEND), wake_on_lan_enabled=True))
    assert (nics.get(vm, "4000").backing.network, nics.get(vm, "4000").wake_on_lan_enabled) == (BACKEND, True)
    ips = sorted(cloud.nics.get(u).ip for u in cloud.vms.get("web-1").nic_uuids)
    assert ips == ["10.20.0.2", "10.20.0.3"]  # both on backend now; VM Network's address freed
    nics.delete(vm, "4000")
    assert [n.nic for n in nics.list(vm)] == ["4001"]  # keys are stable
    with pytest.raises(NotFound):
        nics.get(vm, "4000")
    cloud.check_invariants()


def test_hardware_boot_and_cdrom(server, client):
    hw, boot, cdrom = (
        client.vcenter.vm.Hardware,
        client.vcenter.vm.hardware.Boot,
        client.vcenter.vm.hardware.Cdrom,
    )
    vm = client.vcenter.VM.create(create_spec())
    assert hw.get(vm).version == Hardware.Version.VMX_19
    hw.update(
        vm,
        Hardware.UpdateSpec(
            upgrade_policy=Hardware.UpgradePolicy.AFTER_CLEAN_SHUTDOWN,
            upgrade_version=Hardware.Version.VMX_21,
        ),
    )
    info = hw.get(vm)
    assert (info.upgrade_policy, info.upgrade_version, info.upgrade_status) == (
        Hardware.UpgradePolicy.AFTER_CLEAN_SHUTDOWN,
        Hardware.Version.VMX_21,
        Hardware.UpgradeStatus.PENDING,
    )
    with pytest.raises(InvalidArgument):
        hw.update(
            vm,
            Hardware.UpdateSpec(
                upgrade_policy=Hardware.UpgradePolicy.ALWAYS, upgrade_version=Hardware.Version.VMX_15
            ),
        )
    client.vcenter.vm.Power.start(vm)  # the scheduled upgrade happens at power-on
    info = hw.get(vm)
    assert (info.version, info.upgrade_policy, info.upgrade_status) == (
        Hardware.Version.VMX_21,
        Hardware.UpgradePolicy.NEVER,
        Hardware.UpgradeStatus.SUCCESS,
    )
    client.vcenter.vm.Power.stop(vm)
    with pytest.raises(InvalidArgument):  # older than the VM's
        hw.upgrade(vm, Hardware.Version.VMX_20)
    hw.upgrade(vm)  # default: the newest version
    assert (hw.get(vm).version, hw.get(vm).upgrade_status) == (
        Hardware.Version.VMX_22,
        Hardware.UpgradeStatus.NONE,
    )
    with pytest.raises(AlreadyInDesiredState):
        hw.upgrade(vm, Hardware.Version.VMX_22)
    boot.update(vm, Boot.UpdateSpec(type=Boot.Type.EFI, delay=3000))
    got = boot.get(vm)
    assert (got.type, got.delay, got.efi_legacy_boot, got.network_protocol) == (
        Boot.Type.EFI,
        3000,
        False,
        Boot.NetworkProtocol.IPV4,
    )
    client.vcenter.vm.Power.start(vm)
    with pytest.raises(NotAllowedInCurrentState):
        hw.upgrade(vm)
    with pytest.raises(NotAllowedInCurrentState):
        boot.update(vm, Boot.UpdateSpec(type=Boot.Type.BIOS))
    assert cdrom.list(vm) == []
    with pytest.raises(NotFound):
        cdrom.get(vm, "3000")


# --- vm.guest --------------------------------------------------------------------------------------


def test_guest_identity_reports_the_nics_ip_once_tools_run_after_the_boot_delay(server, client):
    cloud = server.cloud
    vm = client.vcenter.VM.create(create_spec())
    guest = client.vcenter.vm.guest
    assert guest.Power.get(vm).state == GuestPower.State.NOT_RUNNING
    client.vcenter.vm.Power.start(vm)
    for call in (
        lambda: guest.Identity.get(vm),
        lambda: guest.Networking.get(vm),
        lambda: guest.LocalFilesystem.get(vm),
        lambda: guest.networking.Interfaces.list(vm),
        lambda: guest.Power.shutdown(vm),
    ):
        with pytest.raises(ServiceUnavailable) as info:
            call()
        assert info.value.messages[0].id == "com.vmware.api.vcenter.vm.guest.tools_not_running"
    assert (guest.Power.get(vm).state, guest.Power.get(vm).operations_ready) == (
        GuestPower.State.UNAVAILABLE,
        False,
    )
    cloud.tick(30)  # the choice guest_boot_delay_s
    identity = guest.Identity.get(vm)
    assert (identity.name, identity.family, identity.host_name, identity.ip_address) == (
        GuestOS.UBUNTU_64,
        "LINUX",
        "web-1",
        "10.10.0.3",
    )
    interfaces = guest.networking.Interfaces.list(vm)
    assert [
        (i.nic, [a.ip_address for a in i.ip.ip_addresses], i.ip.ip_addresses[0].prefix_length)
        for i in interfaces
    ] == [("4000", ["10.10.0.3"], 16)]
    assert guest.Networking.get(vm).dns_values.host_name == "web-1"
    cloud.write(cloud.vms.get("web-1").root_volume_uuid, 5 * GiB)
    fs = guest.LocalFilesystem.get(vm)
    assert (list(fs), fs["/"].capacity, fs["/"].free_space, [m.disk for m in fs["/"].mappings]) == (
        ["/"],
        40 * GiB,
        40 * GiB - 5 * GiB - MiB,
        ["2000"],
    )
    assert guest.Power.get(vm).state == GuestPower.State.RUNNING
    guest.Power.reboot(vm)  # tools restart with the guest
    with pytest.raises(ServiceUnavailable):
        guest.Identity.get(vm)
    cloud.tick(30)
    guest.Power.standby(vm)
    assert client.vcenter.vm.Power.get(vm).state == Power.State.SUSPENDED
    with pytest.raises(AlreadyInDesiredState):
        guest.Power.standby(vm)
    client.vcenter.vm.Power.start(vm)
    cloud.tick(30)
    guest.Power.shutdown(vm)
    assert client.vcenter.vm.Power.get(vm).state == Power.State.POWERED_OFF
    with pytest.raises(AlreadyInDesiredState):
        guest.Power.shutdown(vm)
    with pytest.raises(NotAllowedInCurrentState):
        guest.Power.reboot(vm)


def test_an_instant_clone_resumes_its_sources_running_guest(server, client):
    server.cloud.tick(30)
    clone = client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-1"))
    identity = client.vcenter.vm.guest.Identity.get(clone)
    assert (identity.host_name, identity.ip_address) == ("ic-1", "10.10.0.3")


# --- inventory gets, users, errors ----------------------------------------------------------------


def test_host_network_and_folder_gets_over_rest(server, client):
    import requests

    headers = {"vmware-api-session-id": client.get_session_id()}
    assert requests.get(f"{server.url}/api/vcenter/host/{ESX2}", headers=headers).json() == {
        "host": ESX2,
        "name": "esx-2",
        "connection_state": "CONNECTED",
        "power_state": "POWERED_ON",
    }
    assert requests.get(f"{server.url}/rest/vcenter/network/{BACKEND}", headers=headers).json() == {
        "value": {"network": BACKEND, "name": "backend", "type": "STANDARD_PORTGROUP"}
    }
    assert requests.get(f"{server.url}/api/vcenter/folder/{FOLDER}", headers=headers).json() == {
        "folder": FOLDER,
        "name": "vm",
        "type": "VIRTUAL_MACHINE",
    }
    missing = requests.get(f"{server.url}/api/vcenter/folder/group-v9", headers=headers)
    assert (missing.status_code, missing.json()["error_type"]) == (404, "NOT_FOUND")


def test_a_read_only_user_reads_but_every_change_is_unauthorized(server):
    reader = connect(server, username=READONLY_USER)
    assert [s.name for s in reader.vcenter.VM.list()] == ["golden"]
    assert reader.vcenter.vm.hardware.Cpu.get("vm-1").count == 1
    for change in (
        lambda: reader.vcenter.vm.Power.stop("vm-1"),
        lambda: reader.vcenter.VM.create(create_spec()),
        lambda: reader.vcenter.vm.hardware.Memory.update("vm-1", Memory.UpdateSpec(size_mib=2048)),
    ):
        with pytest.raises(Unauthorized) as info:
            change()
        assert info.value.messages[0].id == "vapi.security.authorization.invalid"
    assert server.cloud.vms.get("golden").state == "Running"
    reader.session_svc.delete()


def test_a_chain_over_the_limit_answers_the_generic_error(server, client):
    cloud = Cloud(dict(vcenter_topology(), settings={"max_chain_depth": 3}), clock=ManualClock())
    with start_server(cloud, host="127.0.0.1", port=0) as small:
        sdk = connect(small)
        sdk.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="c1"))
        with pytest.raises(Error) as info:
            sdk.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="c2"))
        assert info.value.messages[0].id == "com.vmware.api.vcenter.vm.instant_clone.delta_chain_limit"


def test_a_service_unavailable_fault_reaches_the_sdk_as_its_exception(server, client):
    faults.add(
        server.cloud,
        faults.fail(
            "vsphere:com.vmware.vcenter.vm.hardware.disk.create",
            code="service_unavailable",
            message="vpxd restarting",
        ),
    )
    with pytest.raises(ServiceUnavailable):
        client.vcenter.vm.hardware.Disk.create(
            "vm-1", Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=GiB))
        )
    assert len(server.cloud.vm_volumes(server.cloud.vms.get("golden"))) == 1


def test_an_e1000_adapter_with_a_manual_mac_renders_as_the_sdk_requires(server, client):
    nics = client.vcenter.vm.hardware.Ethernet
    key = nics.create(
        "vm-1",
        Ethernet.CreateSpec(
            type=Ethernet.EmulationType.E1000,
            mac_type=Ethernet.MacAddressType.MANUAL,
            mac_address="00:50:56:01:02:03",
            backing=portgroup(BACKEND),
        ),
    )
    info = nics.get("vm-1", key)  # the SDK refuses upt_compatibility_enabled on a non-VMXNET3
    assert (info.type, info.upt_compatibility_enabled, info.mac_type, info.mac_address) == (
        Ethernet.EmulationType.E1000,
        None,
        Ethernet.MacAddressType.MANUAL,
        "00:50:56:01:02:03",
    )
    assert client.vcenter.VM.get("vm-1").nics[key].type == Ethernet.EmulationType.E1000


def test_resource_pools_created_under_a_cluster_hold_vms_until_deleted(server, client):
    from com.vmware.vapi.std.errors_client import Unsupported
    from com.vmware.vcenter_client import ResourcePool

    pools = client.vcenter.ResourcePool
    web = pools.create(ResourcePool.CreateSpec(name="web", parent="resgroup-1"))
    inner = pools.create(ResourcePool.CreateSpec(name="canary", parent=web))
    assert (web, inner) == ("resgroup-3", "resgroup-4")
    assert pools.get("resgroup-1").resource_pools == {web}
    assert [
        (p.resource_pool, p.name) for p in pools.list(ResourcePool.FilterSpec(parent_resource_pools={web}))
    ] == [(inner, "canary")]
    with pytest.raises(AlreadyExists):
        pools.create(ResourcePool.CreateSpec(name="web", parent="resgroup-1"))
    with pytest.raises(NotFound):
        pools.create(ResourcePool.CreateSpec(name="x", parent="resgroup-9"))
    vm = client.vcenter.VM.create(
        VM.CreateSpec(
            guest_os=GuestOS.UBUNTU_64,
            name="in-pool",
            placement=VM.PlacementSpec(folder=FOLDER, resource_pool=inner, datastore=DS1),
        )
    )
    assert [s.vm for s in client.vcenter.VM.list(VM.FilterSpec(resource_pools={inner}))] == [vm]
    client.vcenter.vm.Power.start(vm)
    clone = client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source=vm, name="in-pool-ic"))
    assert [s.vm for s in client.vcenter.VM.list(VM.FilterSpec(resource_pools={inner}))] == [vm, clone]
    pools.update(inner, ResourcePool.UpdateSpec(name="canary-2"))
    assert pools.get(inner).name == "canary-2"
    pools.delete(web)  # its child pool and its VMs move to the parent
    assert pools.get("resgroup-1").resource_pools == {inner}
    pools.delete(inner)
    assert [s.vm for s in client.vcenter.VM.list(VM.FilterSpec(resource_pools={"resgroup-1"}))] == [
        "vm-1",
        vm,
        clone,
    ]
    with pytest.raises(NotFound):
        pools.get(inner)
    with pytest.raises(Unsupported):
        pools.delete("resgroup-1")
    # the model is untouched by pools: they hold no allocations
    server.cloud.check_invariants()


def test_disk_update_swaps_a_data_disk_for_a_detached_file_while_powered_off(server, client):
    disks = client.vcenter.vm.hardware.Disk
    vm = client.vcenter.VM.create(create_spec())
    logs = disks.create(vm, Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=10 * GiB)))
    data = disks.create(vm, Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=20 * GiB)))
    logs_file = disks.get(vm, logs).backing.vmdk_file
    disks.delete(vm, logs)  # detached: its file can back another disk
    swap = Disk.UpdateSpec(backing=Disk.BackingSpec(type=Disk.BackingType.VMDK_FILE, vmdk_file=logs_file))
    client.vcenter.vm.Power.start(vm)
    with pytest.raises(NotAllowedInCurrentState):
        disks.update(vm, data, swap)
    client.vcenter.vm.Power.stop(vm)
    with pytest.raises(Unsupported):
        disks.update(vm, "2000", swap)  # the boot disk
    disks.update(vm, data, swap)
    assert [d.disk for d in disks.list(vm)] == ["2000", data]
    info = disks.get(vm, data)
    assert (info.capacity, info.backing.vmdk_file) == (10 * GiB, logs_file)  # the 20 GiB one is detached
    disks.update(vm, data, swap)  # the file it has already: nothing changes
    back = Disk.BackingSpec(type=Disk.BackingType.VMDK_FILE, vmdk_file="[ds-1] web-1/web-1_2.vmdk")
    disks.update(vm, data, Disk.UpdateSpec(backing=back))
    assert disks.get(vm, data).capacity == 20 * GiB
    with pytest.raises(NotFound):
        disks.update(
            vm,
            data,
            Disk.UpdateSpec(
                backing=Disk.BackingSpec(
                    type=Disk.BackingType.VMDK_FILE, vmdk_file="[ds-1] nowhere/nowhere.vmdk"
                )
            ),
        )
    server.cloud.check_invariants()
