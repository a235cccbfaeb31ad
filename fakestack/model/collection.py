"""Insertion-ordered collections with lookup by uuid and by name (and, once asked for,
secondary indexes: see ``indexes``)."""

from __future__ import annotations

import gc
from bisect import insort
from collections.abc import Callable, Iterable, Iterator, ValuesView
from typing import Any, Generic, Protocol, TypeVar

from .errors import NotFound
from .indexes import GroupIndex, Index, OrderIndex, attributes, value_of


class Keyed(Protocol):
    """What a collection holds: entities with a uuid (and usually a name)."""

    uuid: str


T = TypeVar("T", bound=Keyed)


class Collection(Generic[T]):
    """Entities of one kind, kept in insertion order.

    ``get`` accepts a uuid, a name (first entity with that name) or the entity itself.
    """

    def __init__(self, kind: str, on_watch: Callable[[Collection[T]], object] | None = None) -> None:
        self.kind = kind
        self._by_uuid: dict[str, T] = {}
        self._by_name: dict[str, list[str]] = {}
        self._seq: dict[str, int] = {}  # insertion number, so an undone removal keeps its place
        self._next_seq = 0
        self._unsettled = False  # a restored entity is not yet in its place in ``_by_uuid``
        # secondary indexes, made on first use (``group_index``, ``order_index``)
        self._indexes: list[Index] = []
        self._by_number: dict[int, T] = {}  # insertion number -> entity, while indexes exist
        self._dirty: dict[int, T | None] = {}  # changed since the indexes caught up (None: gone)
        self.watched: frozenset[str] = frozenset()  # the attributes some index reads
        self._on_watch = on_watch  # told when this collection first watches an attribute

    def add(self, entity: T) -> T:
        if self._indexes:
            return self._add_filed(entity)
        uuid = entity.uuid
        self._by_uuid[uuid] = entity
        self._seq[uuid] = self._next_seq = self._next_seq + 1
        name = getattr(entity, "name", None)
        if name is not None:
            self._by_name.setdefault(name, []).append(uuid)
        return entity

    def _add_filed(self, entity: T) -> T:
        """``add`` while indexes exist (the same, and the indexes are told)."""
        replaced = self._seq.get(entity.uuid)
        if replaced is not None:
            self._unfile(replaced)
        self._by_uuid[entity.uuid] = entity
        self._next_seq += 1
        self._seq[entity.uuid] = self._next_seq
        name = getattr(entity, "name", None)
        if name is not None:
            self._by_name.setdefault(name, []).append(entity.uuid)
        self._file(self._next_seq, entity)
        return entity

    def extend(self, entities: list[T]) -> None:
        """``add`` each of ``entities``, in order (a bulk build's one call)."""
        by_uuid, seq, by_name = self._by_uuid, self._seq, self._by_name
        number = self._next_seq
        for entity in entities:
            uuid = entity.uuid
            by_uuid[uuid] = entity
            number += 1
            seq[uuid] = number
            name = getattr(entity, "name", None)
            if name is not None:
                by_name.setdefault(name, []).append(uuid)
            if self._indexes:
                self._file(number, entity)
        self._next_seq = number

    def remove(self, entity: T) -> int:
        """Remove ``entity``; returns its insertion number for ``restore``."""
        del self._by_uuid[entity.uuid]
        seq = self._seq.pop(entity.uuid)
        if self._indexes:
            self._unfile(seq)
        name = getattr(entity, "name", None)
        if name is not None:
            uuids = self._by_name.get(name)
            if uuids is not None:
                uuids.remove(entity.uuid)
                if not uuids:
                    del self._by_name[name]
        return seq

    def restore(self, entity: T, seq: int) -> None:
        """Undo a ``remove``: the entity goes back to its place in the iteration order (in
        O(log n): the first read in order after a run of restores puts them in place, once,
        see ``_settle``)."""
        uuid = entity.uuid
        self._by_uuid[uuid] = entity  # last for now
        self._seq[uuid] = seq
        if seq < self._next_seq:
            self._unsettled = True
        name = getattr(entity, "name", None)
        if name is not None:
            uuids = self._by_name.setdefault(name, [])
            if uuids and self._seq[uuids[-1]] > seq:
                insort(uuids, uuid, key=self._seq.__getitem__)
            else:
                uuids.append(uuid)
        if self._indexes:
            self._file(seq, entity)

    def _settle(self) -> None:
        """Put the restored entities back in their places in the iteration order: one sort
        of the entities by insertion number (in place: a live ``view`` stays live) for any
        number of restores since the last read in order."""
        self._unsettled = False
        by_uuid = self._by_uuid
        collecting = gc.isenabled()
        gc.disable()  # the pairs are acyclic: no collection walking a large cloud meanwhile
        try:
            items = list(by_uuid.items())
            numbers = list(map(self._seq.__getitem__, by_uuid))
            ranks = sorted(range(len(items)), key=numbers.__getitem__)  # in C: no Python key call
            by_uuid.clear()
            by_uuid.update(map(items.__getitem__, ranks))
        finally:
            if collecting:
                gc.enable()

    def rename(self, entity: T, new_name: str) -> None:
        self.remove(entity)
        setattr(entity, "name", new_name)  # noqa: B010 (T is any entity: mypy knows no .name)
        self.add(entity)

    def find(self, key: Any) -> T | None:
        if key is None:
            return None
        if key.__class__ is not str:
            key = getattr(key, "uuid", None)
            if key.__class__ is not str:
                return None
        entity = self._by_uuid.get(key)
        if entity is not None:
            return entity
        uuids = self._by_name.get(key)
        if uuids:
            return self._by_uuid[uuids[0]]
        return None

    def by_uuid(self, uuid: str | None) -> T | None:
        """The entity with exactly this uuid (never a name match), or None."""
        return self._by_uuid.get(uuid) if uuid is not None else None

    def get(self, key: Any) -> T:
        entity = self._by_uuid.get(key) if key.__class__ is str else None
        if entity is None:
            entity = self.find(key)
            if entity is None:
                raise NotFound(self.kind, key if isinstance(key, str) else str(getattr(key, "uuid", key)))
        return entity

    def in_order(self, entities: Iterable[T]) -> list[T]:
        """``entities`` (of this collection) in its iteration order."""
        number = self._seq
        return sorted(entities, key=lambda entity: number[entity.uuid])

    def by_name(self, name: str) -> list[T]:
        return [self._by_uuid[u] for u in self._by_name.get(name, ())]

    def __contains__(self, key: object) -> bool:
        return self.find(key) is not None

    def __iter__(self) -> Iterator[T]:
        if self._unsettled:
            self._settle()
        return iter(list(self._by_uuid.values()))

    def __len__(self) -> int:
        return len(self._by_uuid)

    def values(self) -> list[T]:
        if self._unsettled:
            self._settle()
        return list(self._by_uuid.values())

    def view(self) -> ValuesView[T]:
        """The entities in order, live (no copy): for a reader that may stop early and does
        not change the collection while it iterates."""
        if self._unsettled:
            self._settle()
        return self._by_uuid.values()

    def clear(self) -> None:
        self._unsettled = False
        self._by_uuid.clear()
        self._by_name.clear()
        self._seq.clear()
        self._by_number.clear()
        self._dirty.clear()
        for index in self._indexes:
            index.clear()

    # -- secondary indexes ------------------------------------------------------------
    # A change only notes the entity's number in ``_dirty`` (None: removed); the indexes
    # take the noted entities in when they are next asked for (``_catch_up``).  So a new VM
    # that goes Created -> Starting -> Running is filed once, and a run of clones costs a
    # dictionary write per change, the filing waiting for the next query.

    def group_index(self, attr: str) -> GroupIndex:
        """The entities grouped by ``attr``'s value (made now if it is the first call),
        as they are now: ask again after a change."""
        self._catch_up()
        for index in self._indexes:
            if isinstance(index, GroupIndex) and index.attr == attr:
                return index
        made = GroupIndex(attr)
        self._start(made)
        return made

    def order_index(self, attr: str | tuple[str, ...], key: Callable[[Any], Any]) -> OrderIndex:
        """The entities ordered by ``key(attr's value)``, then by insertion (made now if it
        is the first call with this attribute and this very key function), as they are
        now: ask again after a change.  ``attr`` may name several attributes: ``key`` then
        takes the tuple of their values."""
        self._catch_up()
        for index in self._indexes:
            if isinstance(index, OrderIndex) and index.attr == attr and index.key is key:
                return index
        made = OrderIndex(attr, key)
        self._start(made)
        return made

    def _start(self, index: Index) -> None:
        # no cyclic collection while the build allocates (acyclic) numbers and lists: one
        # would walk every object of a large cloud (most of the build's time)
        collecting = gc.isenabled()
        gc.disable()
        try:
            if not self._indexes:
                seq = self._seq
                self._by_number = {seq[uuid]: entity for uuid, entity in self._by_uuid.items()}
            index.load(self._by_number)
        finally:
            if collecting:
                gc.enable()
        self._indexes.append(index)
        first = not self.watched.issuperset(attributes(index.attr))
        self.watched = self.watched.union(attributes(index.attr))
        if first and self._on_watch is not None:
            self._on_watch(self)

    def by_number(self, number: int) -> T:
        """The entity with this insertion number (while an index exists)."""
        return self._by_number[number]

    def entities_of(self, numbers: Iterable[int]) -> Iterator[T]:
        """The entities of insertion ``numbers`` (from an index), in that order."""
        return map(self._by_number.__getitem__, numbers)

    def set_attr(self, entity: T, attr: str, value: Any) -> None:
        """``setattr``, telling the indexes that read ``attr`` when ``entity`` is in this
        collection (not undoable: the cloud's ``_set`` is)."""
        setattr(entity, attr, value)
        if attr in self.watched:
            seq = self._seq.get(entity.uuid)
            if seq is not None and self._by_number.get(seq) is entity:
                self._dirty[seq] = entity

    def _file(self, seq: int, entity: T) -> None:
        self._by_number[seq] = entity
        self._dirty[seq] = entity

    def _unfile(self, seq: int) -> None:
        if self._by_number.pop(seq, None) is not None:
            self._dirty[seq] = None

    def _catch_up(self) -> None:
        """File the entities changed since the indexes were last asked for."""
        dirty = self._dirty
        if not dirty:
            return
        for index in self._indexes:
            attr = index.attr
            if attr.__class__ is not str:
                for seq, entity in dirty.items():
                    if entity is None:
                        index.discard(seq)
                    else:
                        index.place(seq, value_of(entity, attr))
                continue
            for seq, entity in dirty.items():
                if entity is None:
                    index.discard(seq)
                else:
                    index.place(seq, getattr(entity, attr, None))
        dirty.clear()

    def index_breaches(self) -> list[str]:
        """How the indexes differ from what a scan of the entities gives (none when sound)."""
        if not self._indexes:
            return []
        self._catch_up()
        seq = self._seq
        numbered = {seq[uuid]: entity for uuid, entity in self._by_uuid.items()}
        breaches = []
        if self._by_number != numbered:
            breaches.append(f"{self.kind}: the insertion numbers differ from the collection's")
        for index in self._indexes:
            breaches.extend(f"{self.kind}: {b}" for b in index.breaches(numbered))
        return breaches
