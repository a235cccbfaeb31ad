"""Atomic, journaled operations: the ``@operation`` decorator, the undo log, fault points.

Every public operation of ``Cloud`` runs inside a transaction: each change is recorded in
an undo log (``(obj, attr, old)`` triples or callables) so that a failure leaves nothing
behind, and each outcome is journaled.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .collection import Collection, Keyed
from .errors import (
    Conflict,
    DomainError,
    InvalidArgument,
)
from .placement import HostIndex
from .state import CloudState
from .util import key_of

if TYPE_CHECKING:
    from .cloud import Cloud


# Every neutral operation name a fault rule can match (the model's fault points), in one
# place so that strategies and docs need not keep their own lists.  A test checks it
# against the ``_fault_point`` calls in the model's source.
FAULT_POINTS = (
    "vm.create",
    "vm.start",
    "vm.stop",
    "vm.reboot",
    "vm.pause",
    "vm.resume",
    "vm.hibernate",
    "vm.wake",
    "vm.resize",
    "vm.destroy",
    "vm.recover",
    "vm.expunge",
    "vm.clone.prepare",
    "vm.clone",
    "vm.instant_clone",
    "vm.full_clone",
    "vm.relocate",
    "vm.add_disk",
    "vm.add_nic",
    "vm.remove_nic",
    "vm.move_nic",
    "volume.create",
    "volume.attach",
    "volume.detach",
    "volume.delete",
    "volume.expunge",
    "volume.write",
    "snapshot.create",
    "snapshot.delete",
    "backup.create",
    "backup.create.volume",
    "backup.delete",
    "backup.sync",
    "backup.forget",
    "backup.lose_data",
    "image.create_from_backup",
    "image.register",
    "image.delete",
    "image.expunge",
    "vm.update",
    "vm.change_offering",
    "vm.migrate",
    "vm.reimage",
    "vm.attach_network",
    "vm.detach_network",
    "nic.create",
    "snapshot.create_group",
    "snapshot.revert",
    "image.create_from_volume",
    "image.create_from_snapshot",
    "volume.create_from_snapshot",
    "volume.create_from_image",
    "volume.resize",
    "backup.create_vm",
    "backup.revert_vm",
    "backup.create_volume",
    "backup.delete_volume",
    "backup.revert_volume",
    "backup.copy",
    "image.download",
    "image.update",
    "image.set_state",
    "host.change_state",
    "host.reconnect",
    "primary_storage.change_state",
    "primary_storage.sync",
)


@dataclass
class FaultEffects:
    """What a fault plan asks of one fault point (see ``fakestack.faults``)."""

    error: DomainError | None = None
    exhaust: tuple[str, ...] = ()
    latency: float = 0.0
    hang: bool = False


# No injected shortage (the empty frozenset, read, not built, twice per operation)
_NOTHING_EXHAUSTED: frozenset[str] = frozenset()

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=Keyed)


def operation(name: str) -> Callable[[F], F]:
    """Make a public method atomic and journaled.

    An operation called by another operation joins it (one journal entry, one undo).  Inside
    ``Cloud.atomic()`` each operation is journaled on its own and undoes only itself when it
    fails; the block undoes them all if it raises.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(self: Cloud, *args: Any, **kwargs: Any) -> Any:
            if self._in_operation:
                return fn(self, *args, **kwargs)
            self._in_operation = True
            undo = self._undo
            own_log = undo is None
            if undo is None:
                undo = self._undo = []
            mark = len(undo)
            self._exhausted = _NOTHING_EXHAUSTED
            try:
                result = fn(self, *args, **kwargs)
            except BaseException as exc:
                self._unwind(mark)
                if own_log:
                    self._undo = None
                self._record(name, args, kwargs, exc)
                raise
            finally:
                self._in_operation = False
                self._exhausted = _NOTHING_EXHAUSTED
            if own_log:
                self._undo = None
            self._record(name, args, kwargs, result)
            return result

        setattr(wrapper, "operation_name", name)  # noqa: B010 (a function has no declared attribute)
        return cast(F, wrapper)

    return decorate


class TransactionMixin(CloudState):
    @contextmanager
    def atomic(self) -> Iterator[Any]:
        """Group several operations: if the block raises, every change is undone (and the
        journal says so with an ``atomic.rollback`` entry)."""
        if self._undo is not None:
            yield self
            return
        self._undo = []
        try:
            yield self
        except BaseException as exc:
            self._unwind(0)
            self._record("atomic.rollback", (), {}, exc)
            raise
        finally:
            self._undo = None
            self._exhausted = _NOTHING_EXHAUSTED

    @contextmanager
    def durable(self) -> Iterator[Any]:
        """Changes made in this block stick even if the operation around it rolls back
        (a fault plan disconnecting a host in the middle of an operation, say)."""
        saved = self._undo
        self._undo = None
        try:
            yield self
        finally:
            self._undo = saved

    @property
    def journal_seq(self) -> int:
        """How many operations have been journaled so far (a change counter)."""
        return self._journal_seq

    def _record(self, name: str, args: Any, kwargs: Any, outcome: Any) -> None:
        self._journal_seq += 1
        self.journal.append((self._journal_seq, self.clock.now(), name, args, kwargs, outcome))

    def _fault_point(self, op: str, **targets: Any) -> None:
        """Ask the active fault plan about this operation; apply what it says."""
        if self.faults is None:
            return
        effects = self.faults.on_operation(self, op, targets)
        if effects is None:
            return
        if effects.latency:
            self._job_latency += effects.latency
        if effects.hang:
            self._job_hang = True
        if effects.exhaust:
            self._exhausted = self._exhausted | frozenset(effects.exhaust)
        if effects.error is not None:
            raise effects.error

    def _set(self, obj: Any, attr: str, value: Any) -> None:
        """Set an attribute, undoably (and through the entity's collection when one of its
        indexes reads that attribute)."""
        undo = self._undo
        if undo is not None:
            undo.append((obj, attr, getattr(obj, attr)))
        if self._watching:
            self._assign(obj, attr, value)
        else:
            setattr(obj, attr, value)

    def _assign(self, obj: Any, attr: str, value: Any) -> None:
        """``setattr``, through the collection of ``obj``'s kind when an index watches it."""
        collection = self._watching.get(obj.__class__)
        if collection is not None and attr in collection.watched:
            collection.set_attr(obj, attr, value)
        else:
            setattr(obj, attr, value)

    def _unwind(self, mark: int) -> None:
        """Undo every change recorded after position ``mark`` of the undo log, newest first.
        Entries are ``(obj, attr, old_value)`` triples or callables."""
        undo = self._undo
        assert undo is not None  # only operations unwind, and they keep a log
        while len(undo) > mark:
            step = undo.pop()
            if isinstance(step, tuple):
                if len(step) == 2:
                    self._unmake(*step)
                elif self._watching:
                    self._assign(*step)
                else:
                    setattr(*step)
            else:
                step()

    def _unmake(self, where: Any, what: Any) -> None:
        """Undo a creation logged as ``(where, what)``:

        * ``(dict, key)``: the key added to the dict goes (``dict.pop(key, None)``);
        * ``(cloud.nodes, node)``: a disk node made by ``_new_node`` goes (``_drop_node``);
        * ``(HostIndex, (host, cpu, memory, vms))``: the host's usage goes back to these
          (``_set_host_usage``);
        * ``(collection, entity)``: the entity added (``_add``) goes, unless it is gone
          already: a Created VM whose first start failed inside ``atomic()`` is removed for
          good (``_delete_created_vm``) before the block's rollback reaches its creation.
        """
        if where.__class__ is dict:
            where.pop(what, None)
        elif where is self.nodes:
            self._drop_node(what)
        elif where.__class__ is HostIndex:
            host, cpu, memory, vms = what
            host.used_cpu, host.used_memory, host.vm_count = cpu, memory, vms
            where.rekey(host)
        elif where.by_uuid(what.uuid) is what:
            where.remove(what)

    def _add(self, collection: Collection[E], entity: E) -> E:
        # spelled out on the hot paths (a clone's image, VM, volume, snapshot and NIC)
        collection.add(entity)
        undo = self._undo
        if undo is not None:
            undo.append((collection, entity))  # undone by ``_unmake``
        return entity

    def _remove(self, collection: Collection[E], entity: E) -> None:
        seq = collection.remove(entity)
        if self._undo is not None:
            self._undo.append(lambda: collection.restore(entity, seq))

    def _claim_uuid(self, wanted: str | None, collection: Collection[Any]) -> str:
        """A caller-chosen uuid (32 hex digits, unused), or a new one."""
        if wanted is None:
            return self.ids.uuid()
        if not isinstance(wanted, str) or not _UUID32.fullmatch(wanted):
            raise InvalidArgument("resource_uuid", f"{wanted!r} is not a uuid of 32 hex digits")
        if wanted in collection:
            raise Conflict(
                collection.kind,
                wanted,
                f"{collection.kind} {wanted} already exists",
                reason_code="uuid_taken",
            )
        return wanted


_UUID32 = re.compile(r"[0-9a-f]{32}")


class OperationJournal:
    """The last operations with their arguments and outcomes.

    Entries are kept raw (the hot path only appends a tuple) and rendered as JSON-able
    dicts when read: ``{"seq", "time", "operation", "args", "kwargs", "ok" | "error"}``.
    """

    def __init__(self, size: int) -> None:
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=size)

    def append(self, raw: tuple[Any, ...]) -> None:
        self._entries.append(raw)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._render(raw) for raw in list(self._entries))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._render(raw) for raw in list(self._entries)[index]]
        return self._render(self._entries[index])

    @staticmethod
    def _render(raw: tuple[Any, ...]) -> dict[str, Any]:
        seq, when, name, args, kwargs, outcome = raw
        result: dict[str, Any]
        if isinstance(outcome, BaseException):
            result = {
                "error": outcome.to_dict()
                if isinstance(outcome, DomainError)
                else {"kind": type(outcome).__name__, "message": str(outcome)}
            }
        elif hasattr(outcome, "entries") and hasattr(outcome, "source_uuid"):  # a clone result
            result = {"ok": [e.vm.uuid if e.ok else None for e in outcome.entries]}
        else:
            result = {"ok": key_of(outcome)}
        return {
            "seq": seq,
            "time": when,
            "operation": name,
            "args": [key_of(a) for a in args],
            "kwargs": {k: key_of(v) for k, v in kwargs.items()},
            **result,
        }
