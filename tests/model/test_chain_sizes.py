"""The remembered chain sizes (``Cloud.chain_allocated_size`` no longer walks a whole clone
chain) always equal a walk of the chain: after random operations, failed ones, rolled-back
``atomic`` blocks and a snapshot/restore."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import GiB, small_topology
from test_properties import OPS, PRELUDE, apply, topologies

from fakestack import Cloud, ManualClock

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Rollback(Exception):
    pass


def walked_size(cloud: Cloud, node) -> int:
    return min(sum(n.actual_size for n in cloud.chain(node)), node.virtual_size)


def ask_every_chain_size(cloud: Cloud) -> None:
    """Ask for every disk's chain size (fills the memory for every parent) and compare
    each answer with a walk of the chain."""
    for node in cloud.nodes:
        assert cloud.chain_allocated_size(node) == walked_size(cloud, node), node.uuid


@SETTINGS
@given(topologies(), st.lists(st.tuples(OPS, st.sampled_from(["keep", "roll back"])), max_size=30))
def test_chain_sizes_equal_a_walk_after_operations_failures_and_rollbacks(topology, steps):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE:
        apply(cloud, op)
    for op, fate in steps:
        if fate == "keep":
            apply(cloud, op)
        else:
            try:
                with cloud.atomic():
                    apply(cloud, op)
                    ask_every_chain_size(cloud)  # remembered inside the block, then undone
                    raise Rollback
            except Rollback:
                pass
        ask_every_chain_size(cloud)
        cloud.check_invariants()  # includes the remembered sizes against walks
    restored = Cloud.restore(cloud.snapshot())
    for node in cloud.nodes:
        assert restored.chain_allocated_size(restored.nodes.get(node.uuid)) == cloud.chain_allocated_size(
            node
        )


def test_a_clone_chain_is_measured_without_walking_it():
    """A linked clone freezes the source's leaf each time: its chain grows by one level per
    clone, and measuring it reads the parent's remembered size instead of the whole chain."""
    cloud = Cloud(small_topology(), clock=ManualClock())
    golden = cloud.create_vm("golden", image="img", instance_offering="o1")
    cloud.write(golden.root_volume_uuid, GiB)
    for i in range(30):
        cloud.clone_vm(golden, [f"c{i}"], strategy="none")
    leaf = cloud.nodes.get(cloud.volumes.get(golden.root_volume_uuid).node_uuid)
    assert leaf.depth == 32
    walks = []
    find = cloud.nodes.find
    cloud.nodes.find = lambda key: walks.append(key) or find(key)  # count the look-ups
    try:
        size = cloud.volume_allocated_size(golden.root_volume_uuid)
    finally:
        del cloud.nodes.find
    assert size == walked_size(cloud, leaf)
    assert len(walks) <= 1


def test_a_write_into_a_remembered_node_is_seen():
    """Writes go into leaves, but a leaf frozen in a rolled-back block was remembered as a
    parent: writing into it afterwards must not leave a stale size behind."""
    cloud = Cloud(small_topology(), clock=ManualClock())
    vm = cloud.create_vm("vm", image="img", instance_offering="o1")
    volume = cloud.volumes.get(vm.root_volume_uuid)
    leaf = cloud.nodes.get(volume.node_uuid)
    try:
        with cloud.atomic():
            cloud.create_volume_snapshot(volume, "s")
            ask_every_chain_size(cloud)  # remembers the frozen leaf
            raise Rollback
    except Rollback:
        pass
    assert volume.node_uuid == leaf.uuid and not leaf.frozen
    cloud.write(volume, 512 * 1024**2)
    cloud.create_volume_snapshot(volume, "s")
    ask_every_chain_size(cloud)
    cloud.check_invariants()
