"""Property tests for the collections' secondary indexes (issue 18): after any sequence of
operations, including failed ones that roll back (injected faults, atomic blocks that
raise), undo, renames and snapshot/restore, every index equals what a scan of the
collection computes, and reads in the collection's order."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st
from test_issue16_properties import NEW_OPS, apply_new
from test_properties import OPS, PRELUDE, SETTINGS, topologies

from fakestack import Cloud, DomainError, ManualClock, faults
from fakestack.model.collection import Collection
from fakestack.model.indexes import value_of


def first_letter(name):
    """An order key with many ties (VMs named alike, or alike in their first letter)."""
    return name[:1] if isinstance(name, str) else ""


def whole_seconds(moment):
    """An order key of a date with ties (moments within the same second)."""
    return int(moment // 1)


def latest(dates):
    """The last operation's date, or the creation's when there was none (as ZStack shows
    lastOpDate): an order on two attributes."""
    return whole_seconds(dates[0] or dates[1])


GROUPED = ("state", "host_uuid", "last_host_uuid", "name", "cpu_num")
ORDERED = (
    ("name", first_letter),
    ("create_date", whole_seconds),
    (("last_op_date", "create_date"), latest),
    ("memory_size", abs),
)


def start_indexes(cloud: Cloud, which=GROUPED) -> None:
    for attr in which:
        cloud.vms.group_index(attr)
    for attr, key in ORDERED:
        cloud.vms.order_index(attr, key)


def assert_indexes_equal_a_scan(collection: Collection) -> None:
    assert collection.index_breaches() == []
    everything = collection.values()
    for index in collection._indexes:
        if hasattr(index, "groups"):
            for value in index.values():
                found = list(collection.entities_of(index.numbers([value])))
                assert found == [e for e in everything if getattr(e, index.attr) == value]
                assert index.count(value) == len(found)
        else:
            for descending in (False, True):
                walked = list(collection.entities_of(index.numbers(descending)))
                # what a stable sort gives (equal keys in the collection's order both ways)
                wanted = sorted(
                    everything, key=lambda e: index.key(value_of(e, index.attr)), reverse=descending
                )
                assert walked == wanted


class Rollback(Exception):
    pass


INDEX_OPS = st.one_of(
    OPS,
    NEW_OPS,
    st.tuples(st.just("rename"), st.integers(0, 50), st.sampled_from(["a", "b", "ab", "vm0", "Jan 1, 2026"])),
    st.tuples(st.just("atomic"), st.lists(st.one_of(OPS, NEW_OPS), min_size=1, max_size=3)),
    st.tuples(st.just("restore")),
    st.tuples(st.just("check")),
    st.tuples(st.just("tick"), st.sampled_from([0.3, 1, 5])),  # dates apart, or alike
)

# fault points whose failure unwinds a VM's state, host or record half way
FAULTED = ("vm.clone", "vm.start", "vm.stop", "vm.create", "vm.migrate", "vm.destroy", "vm.instant_clone")


def apply_index_op(cloud: Cloud, op) -> None:
    kind = op[0]
    vms = cloud.vms.values()
    if kind == "rename" and vms:
        try:
            cloud.update_vm(vms[op[1] % len(vms)], name=op[2])
        except DomainError:
            pass
    elif kind == "atomic":
        try:
            with cloud.atomic():
                for inner in op[1]:
                    apply_new(cloud, inner)
                raise Rollback
        except Rollback:
            pass
    elif kind == "restore":
        cloud.load_snapshot(json.loads(json.dumps(cloud.snapshot())))  # the fault plan stays
        start_indexes(cloud)
    elif kind == "check":
        assert_indexes_equal_a_scan(cloud.vms)
    elif kind == "tick":
        cloud.clock.advance(op[1])
    else:
        apply_new(cloud, op)


@SETTINGS
@given(
    topologies(),
    st.lists(INDEX_OPS, max_size=30),
    st.sampled_from([0.0, 0.2, 0.5]),
    st.integers(0, len(PRELUDE) + 30),
    st.sampled_from([GROUPED, ()]),
)
def test_every_vm_index_equals_a_scan_after_any_operation_sequence(
    topology, ops, failing, started_at, grouped
):
    """Indexes made at any point (before, between or after operations) stay equal to a
    scan, whatever fails and rolls back; the cloud's invariant check says so too.  Orders
    alone too (an index on state would refile a VM whose state changes with its dates)."""
    cloud = Cloud(topology, clock=ManualClock())
    if failing:
        faults.add(cloud, *(faults.fail(point, probability=failing) for point in FAULTED))
    for step, op in enumerate(PRELUDE + ops):
        if step == started_at:
            start_indexes(cloud, grouped)
        apply_index_op(cloud, op)
        cloud.check_invariants()
    start_indexes(cloud, grouped)
    assert_indexes_equal_a_scan(cloud.vms)


@SETTINGS
@given(topologies(), st.lists(st.one_of(OPS, NEW_OPS), min_size=1, max_size=20))
def test_an_index_made_inside_an_atomic_block_follows_its_rollback(topology, ops):
    """The undo log of a block holds changes made before the index existed: undoing them
    moves the entities back in the index."""
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE:
        apply_new(cloud, op)
    try:
        with cloud.atomic():
            half = len(ops) // 2
            for op in ops[:half]:
                apply_new(cloud, op)
            start_indexes(cloud)
            for op in ops[half:]:
                apply_new(cloud, op)
            assert_indexes_equal_a_scan(cloud.vms)
            raise Rollback
    except Rollback:
        pass
    assert_indexes_equal_a_scan(cloud.vms)
    cloud.check_invariants()


# -- a bare collection --------------------------------------------------------------------


@dataclass
class Thing:
    uuid: str
    name: str
    colour: str | None = None


COLLECTION_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(["a", "b", "c"]), st.sampled_from([None, "red", "blue"])),
        st.tuples(st.just("extend"), st.integers(1, 3), st.sampled_from(["a", "d"])),
        st.tuples(st.just("remove"), st.integers(0, 20)),
        st.tuples(st.just("remove_and_restore"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("rename"), st.integers(0, 20), st.sampled_from(["a", "b", "e"])),
        st.tuples(st.just("paint"), st.integers(0, 20), st.sampled_from([None, "red", "green"])),
        st.tuples(st.just("paint_behind_and_back"), st.integers(0, 20)),
        st.tuples(st.just("index"), st.sampled_from(["colour", "name"])),
        st.tuples(st.just("order"), st.sampled_from(["colour", "name", ("colour", "name")])),
        st.tuples(st.just("check")),
        st.tuples(st.just("clear")),
    ),
    max_size=40,
)


def colour_key(value):
    return "" if value is None else value


def colour_then_name(values):
    return colour_key(values[0]), values[1][:1]


def order_key(attr):
    return colour_then_name if isinstance(attr, tuple) else colour_key


@SETTINGS
@given(COLLECTION_OPS)
def test_a_collections_indexes_equal_a_scan_after_any_change(ops):
    things: Collection[Thing] = Collection("thing")
    counter = iter(range(10**6))
    removed: list[tuple[Thing, int]] = []
    for op in ops:
        kind = op[0]
        items = things.values()
        pick = items[op[1] % len(items)] if items and len(op) > 1 and isinstance(op[1], int) else None
        if kind == "add":
            things.add(Thing(f"u{next(counter)}", op[1], op[2]))
        elif kind == "extend":
            things.extend([Thing(f"u{next(counter)}", op[2]) for _ in range(op[1])])
        elif kind == "remove" and pick is not None:
            removed.append((pick, things.remove(pick)))
        elif kind == "remove_and_restore" and pick is not None:
            seq = things.remove(pick)
            if op[2]:
                things.add(Thing(f"u{next(counter)}", "x"))  # something newer in between
            things.restore(pick, seq)
        elif kind == "rename" and pick is not None:
            things.rename(pick, op[2])
        elif kind == "paint" and pick is not None:
            things.set_attr(pick, "colour", op[2])
        elif kind == "paint_behind_and_back" and pick is not None:
            old = pick.colour
            pick.colour = "behind"  # a write the collection is not told of...
            pick.colour = old  # ... undone before anyone looks
        elif kind == "index":
            things.group_index(op[1])
        elif kind == "order":
            things.order_index(op[1], order_key(op[1]))
        elif kind == "clear":
            things.clear()
        elif kind == "check":
            assert_indexes_equal_a_scan(things)
    assert_indexes_equal_a_scan(things)
    things.group_index("colour")
    things.order_index("name", colour_key)
    assert_indexes_equal_a_scan(things)


def test_a_write_behind_the_collections_back_is_reported_not_fatal():
    things: Collection[Thing] = Collection("thing")
    first = things.add(Thing("u1", "a", "red"))
    things.group_index("colour")
    first.colour = "blue"  # not through set_attr: the index cannot know
    assert things.index_breaches() != []
    things.remove(first)  # filed under red: taken out from there
    assert things.index_breaches() == []


def test_an_order_on_dates_alone_follows_every_operation_that_dates_a_vm():
    """Starting, stopping and destroying a VM date it without an undo entry: the write goes
    through the collection all the same (no index on state refiles the VM here)."""
    cloud = Cloud("demo", clock=ManualClock())
    cloud.vms.order_index(("last_op_date", "create_date"), latest)
    cloud.clone_vm(cloud.vms.get("golden"), ["a", "b", "c"], strategy="none")  # first start: instantiated
    for change in ("start_vm", "stop_vm", "start_vm", "destroy_vm"):
        for name in ("a", "b"):
            assert_indexes_equal_a_scan(cloud.vms)  # filed as they are now
            cloud.clock.advance(5)
            getattr(cloud, change)(name)
    assert_indexes_equal_a_scan(cloud.vms)
    order = cloud.vms.order_index(("last_op_date", "create_date"), latest)
    assert [vm.name for vm in cloud.vms.entities_of(order.numbers(descending=True))][:2] == ["b", "a"]
