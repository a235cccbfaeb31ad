"""Copy-on-write trees: linked clones, instant clones, hidden nodes, writes, full clones."""

import pytest
from model_helpers import GiB, MiB, small_topology

from fakestack import CapacityExhausted, Cloud, InvalidState

LEAF = MiB


@pytest.fixture
def cloud():
    c = Cloud(small_topology())
    c.create_vm("src", image="img", instance_offering="o1")
    return c


def root_node(cloud, vm):
    return cloud.nodes.get(cloud.volumes.get(cloud.vms.get(vm).root_volume_uuid).node_uuid)


def roles(cloud, node):
    return [n.role for n in cloud.chain(node)]


def test_vm_root_is_a_leaf_on_the_image_cache(cloud):
    leaf = root_node(cloud, "src")
    assert roles(cloud, leaf) == ["leaf", "image-cache"]
    assert leaf.actual_size == LEAF and leaf.virtual_size == 10 * GiB


def test_linked_clone_tree_shape(cloud):
    before_leaf = root_node(cloud, "src")
    result = cloud.clone_vm("src", ["c1", "c2"])
    assert result.number_of_cloned_vm == 2
    # the source's old leaf is frozen into a snapshot; the source goes on on a new leaf
    frozen = cloud.nodes.get(before_leaf.uuid)
    assert frozen.frozen and frozen.role == "snapshot" and frozen.children == 1
    src_leaf = root_node(cloud, "src")
    assert src_leaf.parent_uuid == frozen.uuid
    assert roles(cloud, src_leaf) == ["leaf", "snapshot", "image-cache"]
    # a temporary image holds the chain's data on the backup storage
    (image_uuid,) = result.image_uuids
    image = cloud.images.get(image_uuid)
    assert image.system and image.actual_size == 1 * GiB + LEAF
    bs_node = cloud.nodes.get(image.backup_storage_refs[0]["node_uuid"])
    assert bs_node.storage_uuid == cloud.backup_storages.get("bs").uuid
    # both clones are leaves on ONE cache of the temporary image
    c1, c2 = (root_node(cloud, n) for n in ("c1", "c2"))
    assert c1.parent_uuid == c2.parent_uuid
    cache = cloud.nodes.get(c1.parent_uuid)
    assert cache.role == "image-cache" and cache.children == 2 and cache.actual_size == 1 * GiB + LEAF
    cloud.check_invariants()


def test_instant_clone_grows_the_source_chain_by_one(cloud):
    leaf = root_node(cloud, "src")
    assert leaf.depth == 2
    clone = cloud.instant_clone("src", "ic1")
    frozen = cloud.nodes.get(leaf.uuid)
    assert frozen.frozen and frozen.children == 2 and frozen.refs == 0
    assert root_node(cloud, "src").depth == 3
    assert root_node(cloud, clone).depth == 3
    assert root_node(cloud, clone).parent_uuid == frozen.uuid
    assert clone.host_uuid == cloud.vms.get("src").host_uuid
    cloud.instant_clone("src", "ic2")
    assert root_node(cloud, "src").depth == 4
    cloud.check_invariants()


def test_frozen_source_does_not_grow_per_clone(cloud):
    cloud.freeze_vm("src")
    depth = root_node(cloud, "src").depth
    clones = [cloud.instant_clone("src", f"ic{i}") for i in range(3)]
    assert root_node(cloud, "src").depth == depth
    parents = {root_node(cloud, c).parent_uuid for c in clones}
    assert parents == {root_node(cloud, "src").parent_uuid}
    with pytest.raises(InvalidState):
        cloud.write(cloud.vms.get("src").root_volume_uuid, 1)
    cloud.check_invariants()


def test_chain_limit():
    topo = small_topology(
        settings={"max_chain_depth": 5},
        hosts=[{"name": "h1", "cluster": "c", "cpu_num": 64, "memory": "512G"}],
    )
    cloud = Cloud(topo)
    cloud.create_vm("src", image="img", instance_offering="o1")  # depth 2
    cloud.instant_clone("src", "a")  # 3
    cloud.instant_clone("src", "b")  # 4
    cloud.instant_clone("src", "c")  # 5
    before = len(cloud.vms)
    with pytest.raises(CapacityExhausted) as info:
        cloud.instant_clone("src", "d")
    assert info.value.resource == "chain_depth"
    assert len(cloud.vms) == before
    cloud.check_invariants()


def test_deleted_node_with_children_stays_hidden_until_last_child_goes(cloud):
    ps = cloud.primary_storages.get("ps")
    vm = cloud.vms.get("src")
    cloud.write(vm.root_volume_uuid, 100 * MiB)
    physical_before = ps.used_physical
    snap = cloud.create_volume_snapshot(vm.root_volume_uuid, "s1")
    node_uuid = snap.node_uuid
    cloud.delete_volume_snapshot(snap)
    node = cloud.nodes.get(node_uuid)
    assert node.hidden and node.children == 1
    assert ps.used_physical == physical_before + LEAF  # nothing freed: the leaf depends on it
    cloud.destroy_vm(vm)
    cloud.expunge_vm(vm)
    assert node_uuid not in cloud.nodes  # the last child went: the hidden node is freed
    assert ps.used_physical == 1 * GiB  # only the image cache remains
    assert ps.used_virtual == 1 * GiB
    cloud.check_invariants()


def test_writes_grow_up_to_virtual_size(cloud):
    vol = cloud.vms.get("src").root_volume_uuid
    grown = cloud.write(vol, 3 * GiB)
    assert grown == 3 * GiB
    assert cloud.volume_actual_size(vol) == 3 * GiB + LEAF
    assert cloud.write(vol, 100 * GiB) == 10 * GiB - 3 * GiB - LEAF
    assert cloud.volume_actual_size(vol) == 10 * GiB
    assert cloud.write(vol, 1) == 0
    cloud.check_invariants()


def test_write_fails_cleanly_when_physical_space_runs_out():
    # 20G physical, threshold 0.9 -> 18G usable; thin VMs overcommit the virtual ledger
    topo = small_topology(primary_storages={"total_capacity": "100G", "physical_capacity": "20G"})
    cloud = Cloud(topo)
    a = cloud.create_vm("a", image="img", instance_offering="o1")
    b = cloud.create_vm("b", image="img", instance_offering="o1")
    ps = cloud.primary_storages.get("ps")
    cloud.write(a.root_volume_uuid, 9 * GiB)
    used = ps.used_physical
    room = round(20 * GiB * 0.9) - used
    with pytest.raises(CapacityExhausted) as info:
        cloud.write(b.root_volume_uuid, room + 1)
    assert info.value.resource == "primary_storage.physical"
    assert info.value.available == room
    assert ps.used_physical == used
    assert cloud.volume_actual_size(b.root_volume_uuid) == LEAF
    assert cloud.write(b.root_volume_uuid, room) == room
    cloud.check_invariants()


def test_full_clone_is_independent(cloud):
    src = cloud.vms.get("src")
    cloud.write(src.root_volume_uuid, 2 * GiB)
    allocated = cloud.volume_allocated_size(src.root_volume_uuid)
    assert allocated == 1 * GiB + LEAF + 2 * GiB
    copy = cloud.full_clone_vm(src, "copy")
    node = root_node(cloud, copy)
    assert node.parent_uuid is None and node.depth == 1
    assert node.actual_size == allocated
    cloud.destroy_vm(src)
    cloud.expunge_vm(src)
    assert cloud.volume_actual_size(copy.root_volume_uuid) == allocated
    cloud.start_vm(copy)
    cloud.check_invariants()


def test_expunged_image_leaves_its_cache_hidden_until_the_last_volume_goes(cloud):
    ps = cloud.primary_storages.get("ps")
    image = cloud.images.get("img")
    cloud.delete_image(image)
    cloud.expunge_image(image)
    cache = cloud.nodes.get(root_node(cloud, "src").parent_uuid)
    assert cache.role == "image-cache" and cache.hidden and cache.children == 1
    assert cloud.image_caches == {}
    cloud.check_invariants()
    vm = cloud.vms.get("src")
    cloud.destroy_vm(vm)
    cloud.expunge_vm(vm)
    assert cache.uuid not in cloud.nodes
    assert (ps.used_virtual, ps.used_physical) == (0, 0)
    cloud.check_invariants()


def test_reboot_thaws_a_frozen_vm(cloud):
    cloud.freeze_vm("src")
    assert cloud.reboot_vm("src").frozen is False
    assert cloud.write(cloud.vms.get("src").root_volume_uuid, 1) == 1
    cloud.check_invariants()
