"""Capacity ledgers of primary and backup storage, and the copy-on-write disk trees.

Mixed into ``Cloud``.  Every charge goes through ``_charge_*`` so that an open
transaction (``Cloud.atomic``) can undo it, and so that injected exhaustion is checked at
exactly the place a real shortage is.
"""

from __future__ import annotations

import math
from typing import Any

from .entities import BackupStorage, DiskNode, PrimaryStorage
from .errors import CapacityExhausted, InvalidArgument, InvalidState
from .state import CloudState
from .transactions import operation


def virtual_charge(ps: PrimaryStorage, size: int) -> int:
    """What ``size`` virtual bytes cost on ``ps``'s virtual ledger (over-provisioning)."""
    if ps.ratio == 1.0:
        return size
    return math.ceil(size / ps.ratio)


class StorageMixin(CloudState):
    @operation("storage.set_status")
    def set_storage_status(self, storage: Any, status: str) -> PrimaryStorage | BackupStorage:
        """Connect / disconnect a primary or backup storage."""
        store: PrimaryStorage | BackupStorage = self.primary_storages.find(
            storage
        ) or self.backup_storages.get(storage)
        if status not in ("Connected", "Disconnected", "Connecting"):
            raise InvalidArgument("status", "must be Connected, Disconnected or Connecting")
        self._set(store, "status", status)
        return store

    @operation("storage.set_state")
    def set_storage_state(self, storage: Any, state: str) -> PrimaryStorage | BackupStorage:
        store: PrimaryStorage | BackupStorage = self.primary_storages.find(
            storage
        ) or self.backup_storages.get(storage)
        if state not in ("Enabled", "Disabled", "Maintenance"):
            raise InvalidArgument("state", "must be Enabled, Disabled or Maintenance")
        self._set(store, "state", state)
        return store

    # -- ledgers -------------------------------------------------------------------------
    def _store(self, uuid: str) -> PrimaryStorage | BackupStorage:
        store: PrimaryStorage | BackupStorage | None = self.primary_storages.find(uuid)
        return store if store is not None else self.backup_storages.get(uuid)

    def _check_virtual(self, ps: PrimaryStorage, charge: int) -> None:
        if not ps.admits_virtually:
            return  # the storage admits on physical space only; the ledger just counts
        available = ps.total_capacity - ps.reserved_capacity - ps.used_virtual
        injected = charge > 0 and "primary_storage.virtual" in self._exhausted
        if charge > available or injected:
            # an injected shortage reports no room at all, as a full storage would
            raise CapacityExhausted(
                "primary_storage.virtual",
                charge,
                0 if injected else max(available, 0),
                resource_uuid=ps.uuid,
                injected=injected,
            )

    def _charge_virtual(self, ps: PrimaryStorage, charge: int) -> None:
        if charge > 0 and (
            self._exhausted or charge > ps.total_capacity - ps.reserved_capacity - ps.used_virtual
        ):
            self._check_virtual(ps, charge)  # raises the shortage (a real or an injected one)
        if self._undo is not None:
            self._undo.append((ps, "used_virtual", ps.used_virtual))
        ps.used_virtual += charge

    def _physical_room(self, store: PrimaryStorage | BackupStorage) -> int:
        if isinstance(store, BackupStorage):
            return store.total_capacity - store.reserved_capacity - store.used
        return store.physical_limit - store.used_physical

    def _check_physical(self, store: Any, delta: int) -> None:
        available = self._physical_room(store)
        if isinstance(store, BackupStorage):
            resource = "backup_storage"
        else:
            resource = "primary_storage.physical"
        injected = delta > 0 and resource in self._exhausted
        if delta > available or injected:
            raise CapacityExhausted(
                resource,
                delta,
                0 if injected else max(available, 0),
                resource_uuid=store.uuid,
                injected=injected,
            )

    def _charge_physical(self, store: Any, delta: int) -> None:
        undo = self._undo
        if isinstance(store, BackupStorage):
            # the room is checked inline; ``_check_physical`` raises the shortage (a real
            # one, or one a fault plan injects)
            if delta > 0 and (
                self._exhausted or delta > store.total_capacity - store.reserved_capacity - store.used
            ):
                self._check_physical(store, delta)
            if undo is not None:
                undo.append((store, "used", store.used))
            store.used += delta
        else:
            if delta > 0 and (self._exhausted or delta > store.physical_limit - store.used_physical):
                self._check_physical(store, delta)
            if undo is not None:
                undo.append((store, "used_physical", store.used_physical))
            store.used_physical += delta

    # -- disk nodes ----------------------------------------------------------------------
    def _new_node(
        self,
        store: Any,
        parent: DiskNode | None,
        virtual_size: int,
        actual_size: int,
        role: str,
        *,
        thick: bool = False,
        charge_virtual: bool = False,
    ) -> DiskNode:
        if parent is None:
            depth, parent_uuid = 1, None
        else:
            depth, parent_uuid = parent.depth + 1, parent.uuid
            if depth > self.settings.max_chain_depth:
                raise CapacityExhausted(
                    "chain_depth",
                    depth,
                    self.settings.max_chain_depth,
                    resource_uuid=parent.uuid,
                    message=f"the disk chain would reach {depth} levels, over the limit of "
                    f"{self.settings.max_chain_depth}",
                    reason_code="chain_depth",
                )
        if actual_size > virtual_size:
            actual_size = virtual_size
        # Positional (a hot path): uuid, storage, parent, sizes, role, depth, thick, frozen,
        # refs, children, virtual_charge, create_date.
        node = DiskNode(
            self.ids.uuid(),
            store.uuid,
            parent_uuid,
            virtual_size,
            actual_size,
            role,
            depth,
            thick,
            False,
            1,
            0,
            0,
            self.clock.now(),
        )
        undo = self._undo
        if charge_virtual:
            charge = node.virtual_charge = (
                actual_size if store.ratio == 1.0 else virtual_charge(store, actual_size)
            )
            if charge > 0 and (
                self._exhausted
                or charge > store.total_capacity - store.reserved_capacity - store.used_virtual
            ):
                self._charge_virtual(store, charge)  # raises the shortage
            else:  # ``_charge_virtual`` inline when there is room (every image cache passes here)
                if undo is not None:
                    undo.append((store, "used_virtual", store.used_virtual))
                store.used_virtual += charge
        delta = virtual_size if thick else actual_size
        # ``_charge_physical`` inline for a storage with room (every new disk node passes
        # here: a clone's image on a backup storage, the others on primary storage);
        # anything else goes there
        kind = store.__class__
        if (
            kind is PrimaryStorage
            and not self._exhausted
            and delta
            <= round(store.total_physical_capacity * store.physical_threshold)  # physical_limit
            - store.used_physical
        ):
            if undo is not None:
                undo.append((store, "used_physical", store.used_physical))
            store.used_physical += delta
        elif (
            kind is BackupStorage
            and not self._exhausted
            and delta <= store.total_capacity - store.reserved_capacity - store.used
        ):
            if undo is not None:
                undo.append((store, "used", store.used))
            store.used += delta
        else:
            self._charge_physical(store, delta)
        self.nodes.add(node)
        if parent is not None:
            parent.children += 1
        if undo is not None:
            undo.append((self.nodes, node))  # ``_unmake``: ``_drop_node(node)``
        return node

    def _drop_node(self, node: DiskNode) -> None:
        """Undo of ``_new_node`` (ledgers are undone by their own entries)."""
        self.nodes.remove(node)
        self._chain_sizes.pop(node.uuid, None)
        if node.parent_uuid is not None:
            self.nodes.get(node.parent_uuid).children -= 1

    def _retain_node(self, node: DiskNode) -> None:
        if self._undo is not None:
            self._undo.append((node, "refs", node.refs))
        node.refs += 1

    def _release_node(self, node: DiskNode) -> int:
        """Drop one holder; free the node (and hidden ancestors) once nothing needs it.
        Returns the bytes freed physically."""
        if self._undo is not None:
            self._undo.append((node, "refs", node.refs))
        node.refs -= 1
        freed = 0
        current: DiskNode | None = node
        while current is not None and current.refs <= 0 and current.children == 0:
            freed += self._free_node(current)
            current = self.nodes.find(current.parent_uuid) if current.parent_uuid else None
            if current is not None:
                if self._undo is not None:
                    self._undo.append((current, "children", current.children))
                current.children -= 1
        return freed

    def _free_node(self, node: DiskNode) -> int:
        store = self._store(node.storage_uuid)
        charge = node.physical_charge
        self._charge_physical(store, -charge)
        if node.virtual_charge:
            assert isinstance(store, PrimaryStorage)  # only primary storage keeps a virtual ledger
            self._charge_virtual(store, -node.virtual_charge)
        seq = self.nodes.remove(node)
        self._chain_sizes.pop(node.uuid, None)
        if self._undo is not None:
            self._undo.append(lambda: self.nodes.restore(node, seq))
        return charge

    def _grow_node(self, node: DiskNode, nbytes: int) -> int:
        """Guest writes into a writable node; returns the bytes the node grew by."""
        if node.frozen:
            raise InvalidState("disk", node.uuid, "frozen", "write")
        grow = min(nbytes, node.virtual_size - node.actual_size)
        if grow <= 0:
            return 0
        if not node.thick:
            self._charge_physical(self._store(node.storage_uuid), grow)
        if self._undo is not None:
            old = node.actual_size

            def ungrow() -> None:
                node.actual_size = old
                self._sizes_changed(node)

            self._undo.append(ungrow)
        node.actual_size += grow
        self._sizes_changed(node)
        return grow

    def _sizes_changed(self, node: DiskNode) -> None:
        """``node``'s actual size changed: forget the chain sizes that counted it.  Only a
        node that is in ``_chain_sizes`` can be counted by one (an entry's ancestors all
        have entries), and a written node is a leaf: this is a dictionary look-up."""
        if node.uuid in self._chain_sizes:
            self._chain_sizes.clear()

    def chain(self, node: DiskNode) -> list[DiskNode]:
        """The node and its ancestors, leaf first."""
        out = [node]
        find = self.nodes.find
        while node.parent_uuid is not None:
            parent = find(node.parent_uuid)
            assert parent is not None, f"disk {node.uuid} names a missing parent"
            node = parent
            out.append(node)
        return out

    def chain_allocated_size(self, node: DiskNode) -> int:
        """Bytes a full copy of the chain ending at ``node`` needs (capped at its virtual size).

        The ancestors' part comes from ``_chain_sizes`` (filled as chains are walked), so a
        clone chain that grows by one snapshot per clone costs no more to measure."""
        total = node.actual_size
        if node.parent_uuid is not None:
            total += self._size_through(node.parent_uuid)
        return min(total, node.virtual_size)

    def _size_through(self, uuid: str) -> int:
        """The actual sizes of the node ``uuid`` and all its ancestors, summed.

        Remembered per node in ``_chain_sizes``: a node with children does not change size
        (frozen snapshots, image caches, backups; ``_grow_node`` clears the entries if one
        ever does), and its parent never changes.  Invariant: a node with an entry has
        ancestors with entries, so the walk stops at the first one it finds."""
        sizes = self._chain_sizes
        total = sizes.get(uuid)
        if total is not None:
            return total
        find = self.nodes.find
        path: list[DiskNode] = []
        base = 0
        current: str | None = uuid
        while current is not None:
            node = find(current)
            assert node is not None, f"a disk names a missing parent {current}"
            path.append(node)
            current = node.parent_uuid
            if current is not None:
                known = sizes.get(current)
                if known is not None:
                    base = known
                    break
        for node in reversed(path):
            base += node.actual_size
            sizes[node.uuid] = base
        return base
