"""check_invariants finds what the issue-16 operations could break: a NIC and its VM that
disagree, a NIC whose address its network does not hold for it, a snapshot tree whose
parent links or distances are wrong.  (The property suites check that operations keep
these; here each one is broken by hand to show the check can fail.)"""

from __future__ import annotations

import pytest

from fakestack.model import Cloud, InvariantViolation, ManualClock


@pytest.fixture
def cloud():
    cloud = Cloud("demo", clock=ManualClock())
    cloud.check_invariants()
    return cloud


def breaches(cloud) -> list[str]:
    with pytest.raises(InvariantViolation) as info:
        cloud.check_invariants()
    return info.value.breaches


def test_a_vm_listing_a_nic_of_nobody_is_a_breach(cloud):
    golden = cloud.vms.get("golden")
    loose = cloud.create_nic(golden.l3_network_uuids[0])
    networks = list(golden.l3_network_uuids)
    golden.nic_uuids.append(loose.uuid)
    assert breaches(cloud) == [
        f"vm golden ({golden.uuid}) lists networks {networks}, its nics are on {networks * 2}",
        f"vm golden ({golden.uuid}) lists nic {loose.uuid}, which is not its own",
    ]


def test_a_nic_pointing_at_a_vm_that_does_not_list_it_is_a_breach(cloud):
    golden = cloud.vms.get("golden")
    loose = cloud.create_nic(golden.l3_network_uuids[0])
    loose.vm_uuid = golden.uuid
    assert breaches(cloud) == [f"nic {loose.uuid} points at vm {golden.uuid}, which does not list it"]


def test_a_nic_whose_address_is_not_held_for_it_is_a_breach(cloud):
    golden = cloud.vms.get("golden")
    nic = cloud.nics.get(golden.nic_uuids[0])
    l3 = cloud.l3_networks.get(nic.l3_network_uuid)
    l3.used.clear()
    assert breaches(cloud) == [f"nic {nic.uuid}: its address {nic.ip} is not held for it in l3 {l3.name}"]


def test_snapshot_parent_links_and_distances_are_checked(cloud):
    volume = cloud.vms.get("golden").root_volume_uuid
    first = cloud.create_volume_snapshot(volume, "first")
    second = cloud.create_volume_snapshot(volume, "second")
    assert (second.parent_uuid, second.distance) == (first.uuid, 2)
    cloud.check_invariants()
    second.distance = 3
    assert breaches(cloud) == [f"snapshot {second.uuid} distance 3 != parent's + 1"]
    second.distance, first.distance = 2, 2
    assert breaches(cloud) == [
        f"snapshot {first.uuid} is a tree root at distance 2",
        f"snapshot {second.uuid} distance 2 != parent's + 1",
    ]
    first.distance, second.parent_uuid = 1, "gone"
    assert breaches(cloud) == [f"snapshot {second.uuid} has missing parent gone"]


def test_snapshot_disks_must_build_on_their_parents_and_the_volume_on_its_latest(cloud):
    golden = cloud.vms.get("golden")
    volume = cloud.volumes.get(golden.root_volume_uuid)
    first = cloud.create_volume_snapshot(volume, "first")
    second = cloud.create_volume_snapshot(volume, "second")
    first.node_uuid, second.node_uuid = second.node_uuid, first.node_uuid
    assert breaches(cloud) == [f"snapshot {second.uuid}: its disk does not build on its parent's disk"]
    first.node_uuid, second.node_uuid = second.node_uuid, first.node_uuid
    cloud.check_invariants()
    volume.latest_snapshot_uuid = "gone"
    assert breaches(cloud) == [f"volume {volume.uuid}: latest snapshot gone is not its own"]
    other = cloud.volumes.get(cloud.vms.get("golden").root_volume_uuid)
    data = next(v for v in cloud.volumes if v.uuid != other.uuid and v.node_uuid is not None)
    volume.latest_snapshot_uuid = second.uuid
    data.latest_snapshot_uuid = second.uuid
    assert breaches(cloud) == [f"volume {data.uuid}: latest snapshot {second.uuid} is not its own"]


def test_a_vm_lists_the_networks_of_its_nics(cloud):
    golden = cloud.vms.get("golden")
    networks = list(golden.l3_network_uuids)
    golden.l3_network_uuids.append(networks[0])
    assert breaches(cloud) == [
        f"vm golden ({golden.uuid}) lists networks {networks * 2}, its nics are on {networks}"
    ]
