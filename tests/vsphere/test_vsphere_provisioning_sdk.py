"""Issue 17's done-when: a provisioning script written for vCenter runs unmodified against
the fake, and an instant-clone storm is limited only by the datastore's physical space."""

import time

import pytest
from com.vmware.vapi.std.errors_client import ServiceUnavailable, UnableToAllocateResource
from com.vmware.vcenter.vm.hardware_client import Cpu, Disk, Ethernet, Memory
from com.vmware.vcenter.vm_client import GuestOS, Power
from com.vmware.vcenter_client import VM
from sdk_support import GiB, connect
from vsphere_support import vcenter_topology

from fakestack.model import Cloud, ManualClock
from fakestack.server import start_server


def provision(client, name, *, cluster_name, datastore_name, network_name, wait):
    """A provisioning script as one would write it for vCenter: look objects up by name,
    create, reconfigure, power on, wait for the guest's IP, relocate, delete."""
    vc = client.vcenter
    folder = vc.Folder.list(vc.Folder.FilterSpec(type=vc.Folder.Type.VIRTUAL_MACHINE))[0].folder
    cluster = vc.Cluster.list(vc.Cluster.FilterSpec(names={cluster_name}))[0].cluster
    datastore = vc.Datastore.list(vc.Datastore.FilterSpec(names={datastore_name}))[0].datastore
    network = vc.Network.list(vc.Network.FilterSpec(names={network_name}))[0].network
    vm = vc.VM.create(
        VM.CreateSpec(
            guest_os=GuestOS.RHEL_9_64,
            name=name,
            placement=VM.PlacementSpec(folder=folder, cluster=cluster, datastore=datastore),
            cpu=Cpu.UpdateSpec(count=2),
            memory=Memory.UpdateSpec(size_mib=4096),
            disks=[Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=40 * GiB))],
            nics=[
                Ethernet.CreateSpec(
                    start_connected=True,
                    backing=Ethernet.BackingSpec(
                        type=Ethernet.BackingType.STANDARD_PORTGROUP, network=network
                    ),
                )
            ],
        )
    )
    vc.vm.hardware.Cpu.update(vm, Cpu.UpdateSpec(count=4, hot_add_enabled=True))
    vc.vm.hardware.Memory.update(vm, Memory.UpdateSpec(size_mib=8192))
    vc.vm.hardware.Disk.create(vm, Disk.CreateSpec(new_vmdk=Disk.VmdkCreateSpec(capacity=200 * GiB)))
    vc.vm.Power.start(vm)
    ip = None
    for _ in range(60):
        try:
            ip = vc.vm.guest.Identity.get(vm).ip_address
        except ServiceUnavailable:  # VMware Tools not running yet
            ip = None
        if ip:
            break
        wait(5)
    info = vc.VM.get(vm)
    target = next(
        h.host
        for h in vc.Host.list()
        if h.host not in {s.host for s in vc.Host.list(vc.Host.FilterSpec(clusters={cluster}))}
    )
    other_store = next(d.datastore for d in vc.Datastore.list() if d.datastore != datastore)
    vc.VM.relocate(
        vm, VM.RelocateSpec(placement=VM.RelocatePlacementSpec(host=target, datastore=other_store))
    )
    moved = [s.vm for s in vc.VM.list(VM.FilterSpec(hosts={target}))]
    vc.vm.Power.stop(vm)
    vc.VM.delete(vm)
    return {
        "vm": vm,
        "ip": ip,
        "disks": sorted(info.disks),
        "moved": vm in moved,
        "left": [s.name for s in vc.VM.list()],
    }


def test_a_provisioning_script_runs_end_to_end_on_a_manual_clock():
    cloud = Cloud(vcenter_topology(), clock=ManualClock())
    before = cloud.capacity()
    with start_server(cloud, host="127.0.0.1", port=0) as server:
        waits = []

        def wait(seconds):
            waits.append(seconds)
            cloud.tick(seconds)

        result = provision(
            connect(server),
            "app-1",
            cluster_name="cluster-a",
            datastore_name="ds-1",
            network_name="VM Network",
            wait=wait,
        )
    assert result == {
        "vm": "vm-2",
        "ip": "10.10.0.3",
        "disks": ["2000", "2001"],
        "moved": True,
        "left": ["golden"],
    }
    assert sum(waits) == 30  # the guest's Tools came up after the simulated boot delay
    assert cloud.capacity() == before  # everything it took is back
    cloud.check_invariants()


def test_the_same_script_on_a_real_clock_with_a_short_boot_delay():
    cloud = Cloud(vcenter_topology(), clock="system")  # a real clock, as the name says
    cloud.dialect_state("vsphere")["choices"] = {"guest_boot_delay_s": 0.2}
    with start_server(cloud, host="127.0.0.1", port=0) as server:
        result = provision(
            connect(server),
            "app-1",
            cluster_name="cluster-a",
            datastore_name="ds-1",
            network_name="VM Network",
            wait=lambda s: time.sleep(0.05),
        )
    assert (result["ip"], result["moved"], result["left"]) == ("10.10.0.3", True, ["golden"])


@pytest.mark.parametrize(
    "admission, clones, needed",
    [
        # vSphere: only free physical space counts; each clone writes a 1 GiB delta here
        # (new_leaf_size 1G): 200 GiB minus the image's 2 GiB and the frozen source's two
        # leaves leaves room for 196
        ("physical", 196, str(1 * GiB)),
        # the virtual (ZStack) ledger charges each clone its 40 GiB provisioned size: 200 GiB,
        # 1 GiB reserved, golden's 40 GiB and the image's 2 GiB leave room for 3
        ("virtual", 3, "42949672960"),
    ],
)
def test_an_instant_clone_storm_is_limited_by_the_datastores_admission(admission, clones, needed):
    topology = vcenter_topology(admission=admission, datastore_size="200G", leaf="1G")
    topology["hosts"][0].update(memory="1T", cpu_num=512)  # the host is not the limit
    cloud = Cloud(topology, clock=ManualClock())
    cloud.freeze_vm(cloud.vms.get("golden"))  # the chain does not grow either
    with start_server(cloud, host="127.0.0.1", port=0) as server:
        client = connect(server)
        made = []
        with pytest.raises(UnableToAllocateResource) as info:
            for i in range(1000):
                made.append(
                    client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name=f"ic-{i}"))
                )
        message = info.value.messages[0]
        assert (len(made), message.id, message.args[1]) == (
            clones,
            "com.vmware.api.vcenter.vm.insufficient_space",
            needed,
        )
        assert client.vcenter.vm.Power.get(made[-1]).state == Power.State.POWERED_ON
        ds = client.vcenter.Datastore.list()[0]
        if admission == "physical":
            assert ds.free_space == 0  # the datastore is full of deltas
            provisioned = cloud.primary_storages.get("ds-1").used_virtual
            assert provisioned == (2 + 40 + 196 * 40) * GiB  # 39 times the capacity
    cloud.check_invariants()
