"""Secondary indexes of a collection: its entities grouped by an attribute's value, or
ordered by a key of one.

A query that filters or sorts on an indexed attribute reads only the entities it answers
with, whatever the collection's size.  An index is made on first use (from the entities
as they are then) and from then on follows every change the collection sees: ``add``,
``remove``, ``restore``, ``rename``, ``extend``, ``clear`` and attribute writes through
``Collection.set_attr`` (which the cloud's ``_set`` and its undo use for a watched
attribute).  A change only notes the entity; the indexes file the noted entities when
they are next asked for, in O(log n) each.  Each index lists its entities by their
insertion numbers (the collection's order), so a walk through one group is in the order a
scan of the whole collection gives.

An index remembers the value it filed each entity under, and moves the entity from there:
an attribute written behind the collection's back makes the index stale (the cloud's
invariant check reports it) but never breaks it.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable, Iterable, Iterator
from heapq import merge
from itertools import islice
from operator import attrgetter
from typing import Any

# sortedcontainers is imported when the first index is made (most clouds never make one)
SortedList: Any = None
_NOTHING = object()


def _sorted_list(items: Iterable[Any] = ()) -> Any:
    global SortedList
    if SortedList is None:
        from sortedcontainers import SortedList as loaded

        SortedList = loaded
    return SortedList(items)


class GroupIndex:
    """Entities grouped by the value of one attribute (a hashable value: a text, None...).

    ``groups``: value -> the insertion numbers of the entities holding it, ascending (a
    sorted list: a change of an old entity's value moves it in O(log n))."""

    __slots__ = ("attr", "groups", "filed")

    def __init__(self, attr: str) -> None:
        self.attr = attr
        self.groups: dict[Hashable, Any] = {}
        self.filed: dict[int, Hashable] = {}  # insertion number -> the value it is filed under

    def load(self, numbered: dict[int, Any]) -> None:
        """File every entity of ``numbered`` (insertion number -> entity): a build."""
        seqs = list(numbered)
        values = _values_of(numbered.values(), self.attr)
        self.filed = dict(zip(seqs, values))
        lists: dict[Hashable, list[int]] = {}
        for seq, value in zip(seqs, values):
            found = lists.get(value)
            if found is None:
                lists[value] = [seq]
            else:
                found.append(seq)
        for value, group in lists.items():
            self.groups[value] = _sorted_list(group)  # sorts: an undone removal comes last

    def file(self, seq: int, value: Hashable) -> None:
        self.filed[seq] = value
        group = self.groups.get(value)
        if group is None:
            self.groups[value] = _sorted_list((seq,))
        else:
            group.add(seq)

    def unfile(self, seq: int) -> None:
        # an emptied group stays (a new VM passes through states that no other VM is in:
        # making a sorted list each time would cost more than the rest of the filing)
        self.groups[self.filed.pop(seq)].remove(seq)

    def place(self, seq: int, value: Hashable) -> None:
        """File ``seq`` under ``value``, moving it if it is filed under another one."""
        old = self.filed.get(seq, _NOTHING)
        if old is _NOTHING:
            self.file(seq, value)
        elif old is not value and old != value:
            self.unfile(seq)
            self.file(seq, value)

    def discard(self, seq: int) -> None:
        if seq in self.filed:
            self.unfile(seq)

    def clear(self) -> None:
        self.groups.clear()
        self.filed.clear()

    def values(self) -> list[Hashable]:
        """The values some entity holds (in no particular order)."""
        return [value for value, group in self.groups.items() if group]

    def count(self, value: Hashable) -> int:
        group = self.groups.get(value)
        return len(group) if group is not None else 0

    def numbers(self, values: Iterable[Hashable], start: int = 0) -> Iterator[int]:
        """The insertion numbers of the entities holding any of ``values``, ascending, from
        the ``start``-th on (in O(log n) when one value is asked for)."""
        found = [g for g in (self.groups.get(v) for v in dict.fromkeys(values)) if g is not None]
        if not found:
            return iter(())
        if len(found) == 1:
            return iter(found[0].islice(min(start, sys.maxsize))) if start else iter(found[0])
        return islice(merge(*found), min(start, sys.maxsize), None)

    def breaches(self, numbered: dict[int, Any]) -> list[str]:
        """How this index differs from what a scan of ``numbered`` (number -> entity) gives."""
        wanted = GroupIndex(self.attr)
        wanted.load(numbered)
        mine = {value: list(group) for value, group in self.groups.items() if group}
        theirs = {value: list(group) for value, group in wanted.groups.items()}
        if mine == theirs and self.filed == wanted.filed:
            return []
        differing = sorted({repr(v) for v in mine.keys() | theirs.keys() if mine.get(v) != theirs.get(v)})
        return [
            f"the index of {self.attr} differs from a scan for {', '.join(differing[:5]) or 'its filing'}"
        ]


class OrderIndex:
    """Entities ordered by ``key(value of the attribute)``; entities whose keys are equal
    in insertion order (as a stable sort leaves them), in both directions.  ``attr`` may
    name several attributes: the value is then the tuple of theirs (an order on what a
    reader derives from them, e.g. a date that falls back on another one).

    ``keys``: the distinct keys, sorted; ``members``: key -> its entity's insertion
    number, or the ascending list of them when several share the key (most keys have one
    entity: no list each).  The key must be a pure function of the value and its results
    comparable with each other (the caller's sort order: the model knows no dialect's)."""

    __slots__ = ("attr", "key", "keys", "members", "filed")

    def __init__(self, attr: str | tuple[str, ...], key: Callable[[Any], Any]) -> None:
        self.attr = attr
        self.key = key
        self.keys: Any = _sorted_list()
        self.members: dict[Any, int | list[int]] = {}
        self.filed: dict[int, Any] = {}  # insertion number -> the key it is filed under

    def load(self, numbered: dict[int, Any]) -> None:
        """File every entity of ``numbered`` (insertion number -> entity): a build."""
        key, members = self.key, self.members
        seqs = sorted(numbered)  # an undone removal comes last in the dict
        keys = list(map(key, _values_of(map(numbered.__getitem__, seqs), self.attr)))
        self.filed = dict(zip(seqs, keys))
        for seq, k in zip(seqs, keys):
            found = members.get(k)
            if found is None:
                members[k] = seq
            elif isinstance(found, int):
                members[k] = [found, seq]
            else:
                found.append(seq)
        self.keys = _sorted_list(members)

    def file(self, seq: int, value: Any) -> None:
        k = self.key(value)
        self.filed[seq] = k
        members = self.members
        found = members.get(k)
        if found is None:
            members[k] = seq
            self.keys.add(k)
        elif isinstance(found, int):
            members[k] = [found, seq] if found < seq else [seq, found]
        elif found[-1] < seq:
            found.append(seq)
        else:
            insort(found, seq)

    def unfile(self, seq: int) -> None:
        k = self.filed.pop(seq)
        members = self.members
        found = members[k]
        if isinstance(found, int):
            del members[k]
            self.keys.remove(k)
        else:
            del found[bisect_left(found, seq)]
            if len(found) == 1:
                members[k] = found[0]

    def place(self, seq: int, value: Any) -> None:
        old = self.filed.get(seq, _NOTHING)
        if old is _NOTHING:
            self.file(seq, value)
        elif self.key(value) != old:
            self.unfile(seq)
            self.file(seq, value)

    def discard(self, seq: int) -> None:
        if seq in self.filed:
            self.unfile(seq)

    def clear(self) -> None:
        self.keys.clear()
        self.members.clear()
        self.filed.clear()

    def numbers(self, descending: bool = False) -> Iterator[int]:
        """Insertion numbers by key (descending: the keys from the largest; equal keys
        still in ascending insertion order, as ``sorted(..., reverse=True)`` leaves them)."""
        members = self.members
        for k in reversed(self.keys) if descending else self.keys:
            found = members[k]
            if isinstance(found, int):
                yield found
            else:
                yield from found

    def breaches(self, numbered: dict[int, Any]) -> list[str]:
        wanted = OrderIndex(self.attr, self.key)
        wanted.load(numbered)
        if list(self.keys) != list(wanted.keys) or self.members != wanted.members:
            return [f"the order of {self.attr} differs from a scan"]
        return []


Index = GroupIndex | OrderIndex


def _values_of(entities: Iterable[Any], attr: str | tuple[str, ...]) -> list[Any]:
    """``attr`` of each entity (None where it has none), read in C when all have it (the
    tuple of the attributes' values when ``attr`` names several)."""
    entities = list(entities)
    if not isinstance(attr, str) and len(attr) < 2:
        return [value_of(entity, attr) for entity in entities]
    try:  # attrgetter of several names gives their tuple
        return list(map(attrgetter(*attributes(attr)), entities))
    except AttributeError:
        return [value_of(entity, attr) for entity in entities]


def value_of(entity: Any, attr: str | tuple[str, ...]) -> Any:
    """What an index on ``attr`` files ``entity`` by."""
    if isinstance(attr, str):
        return getattr(entity, attr, None)
    return tuple([getattr(entity, name, None) for name in attr])


def attributes(attr: str | tuple[str, ...]) -> tuple[str, ...]:
    """The attributes an index on ``attr`` reads."""
    return (attr,) if isinstance(attr, str) else attr
