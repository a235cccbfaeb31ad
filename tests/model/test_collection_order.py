"""Property test for a collection's order (issue 18): after any sequence of adds, removals,
renames and restores (undone removals, in any order, any number before the next read), a
collection iterates, lists and looks up by name exactly as a list of its entities sorted
by insertion number does; an undone removal is back in its place."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from fakestack.model.collection import Collection


@dataclass
class Thing:
    uuid: str
    name: str


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(["a", "b", "c"])),
        st.tuples(st.just("extend"), st.integers(1, 3), st.sampled_from(["a", "d"])),
        st.tuples(st.just("remove"), st.integers(0, 30)),
        st.tuples(st.just("undo"), st.integers(1, 3)),  # the last removals, newest first
        st.tuples(st.just("restore_any"), st.integers(0, 30)),  # any removal still undoable
        st.tuples(st.just("rename"), st.integers(0, 30), st.sampled_from(["a", "b", "e"])),
        st.tuples(st.just("read"), st.sampled_from(["values", "iter", "view", "names"])),
        st.tuples(st.just("index")),
        st.tuples(st.just("clear")),
    ),
    max_size=60,
)


def name_key(name):
    return name


def assert_in_insertion_order(things: Collection[Thing], wanted: dict[str, tuple[int, Thing]]) -> None:
    ordered = [thing for _, thing in sorted(wanted.values(), key=lambda pair: pair[0])]
    assert things.values() == ordered
    assert list(things) == ordered
    assert list(things.view()) == ordered
    assert len(things) == len(ordered)
    for name in ("a", "b", "c", "d", "e"):
        named = [thing for thing in ordered if thing.name == name]
        assert things.by_name(name) == named
        assert things.find(name) is (named[0] if named else None)
    for thing in ordered:
        assert things.get(thing.uuid) is thing
    assert things.index_breaches() == []


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_a_collection_keeps_insertion_order_through_removals_and_restores(ops):
    things: Collection[Thing] = Collection("thing")
    wanted: dict[str, tuple[int, Thing]] = {}  # uuid -> (insertion number, thing)
    counter = iter(range(10**6))
    number = 0
    removed: list[tuple[Thing, int]] = []  # undoable removals, oldest first

    def add(thing: Thing) -> None:
        nonlocal number
        number += 1
        wanted[thing.uuid] = (number, thing)

    for op in ops:
        kind = op[0]
        items = things.values() if kind in ("remove", "rename") else []
        pick = items[op[1] % len(items)] if items else None
        if kind == "add":
            thing = Thing(f"u{next(counter)}", op[1])
            things.add(thing)
            add(thing)
        elif kind == "extend":
            batch = [Thing(f"u{next(counter)}", op[2]) for _ in range(op[1])]
            things.extend(batch)
            for thing in batch:
                add(thing)
        elif kind == "remove" and pick is not None:
            seq = things.remove(pick)
            assert seq == wanted.pop(pick.uuid)[0]
            removed.append((pick, seq))
        elif kind == "undo":
            for _ in range(min(op[1], len(removed))):
                thing, seq = removed.pop()
                things.restore(thing, seq)
                wanted[thing.uuid] = (seq, thing)
        elif kind == "restore_any" and removed:
            thing, seq = removed.pop(op[1] % len(removed))
            things.restore(thing, seq)
            wanted[thing.uuid] = (seq, thing)
        elif kind == "rename" and pick is not None:
            # a rename is a removal and an add: the entity goes last, its old place gone
            removed = [(thing, seq) for thing, seq in removed if thing is not pick]
            things.rename(pick, op[2])
            del wanted[pick.uuid]
            add(pick)
        elif kind == "read":
            if op[1] == "names":
                assert_in_insertion_order(things, wanted)
            else:
                ordered = [thing for _, thing in sorted(wanted.values(), key=lambda pair: pair[0])]
                got = {
                    "values": things.values,
                    "iter": lambda: list(things),
                    "view": lambda: list(things.view()),
                }
                assert got[op[1]]() == ordered
        elif kind == "index":
            things.order_index("name", name_key)
            things.group_index("name")
        elif kind == "clear":
            things.clear()
            wanted.clear()
            removed.clear()
    assert_in_insertion_order(things, wanted)


def test_an_undone_removal_keeps_its_place_among_later_additions():
    things: Collection[Thing] = Collection("thing")
    first, second, third = (things.add(Thing(f"u{i}", "a")) for i in range(3))
    seqs = [things.remove(second), things.remove(first)]
    fourth = things.add(Thing("u3", "a"))
    things.restore(first, seqs[1])
    things.restore(second, seqs[0])
    assert things.values() == [first, second, third, fourth]
    assert things.by_name("a") == [first, second, third, fourth]
    assert things.find("a") is first
