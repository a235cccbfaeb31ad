"""Snapshot trees: several volumes at once (a group), revert, and what deleting a snapshot
does to the tree of snapshots (its disk follows the copy-on-write rules: freed when nothing
builds on it, kept hidden while something does)."""

from __future__ import annotations

from typing import Any

from .entities import Volume, VolumeSnapshot
from .errors import InvalidArgument, InvalidState, Unreachable
from .state import CloudState
from .transactions import operation

# A snapshot and the trees of its children.
SnapshotTree = tuple[VolumeSnapshot, list[Any]]


class SnapshotMixin(CloudState):
    # -- the tree of snapshots -------------------------------------------------------------
    def snapshot_root(self, snapshot: VolumeSnapshot | str) -> VolumeSnapshot:
        """The first snapshot of the chain this one belongs to (its tree's root)."""
        snap = self.volume_snapshots.get(snapshot)
        while snap.parent_uuid is not None:
            parent = self.volume_snapshots.by_uuid(snap.parent_uuid)
            if parent is None:
                break
            snap = parent
        return snap

    def volume_snapshot_forest(self, volume: Volume | str) -> list[SnapshotTree]:
        """The volume's snapshots as trees: ``[(root, [(child, [...]), ...]), ...]``, roots
        and children in creation order."""
        volume_uuid = volume if isinstance(volume, str) else volume.uuid
        snaps = [s for s in self.volume_snapshots if s.volume_uuid == volume_uuid]
        children: dict[str | None, list[VolumeSnapshot]] = {}
        for snap in snaps:
            children.setdefault(snap.parent_uuid, []).append(snap)

        def grow(snap: VolumeSnapshot) -> SnapshotTree:
            return snap, [grow(c) for c in children.get(snap.uuid, ())]

        return [grow(root) for root in children.get(None, ())]

    def _unlink_snapshot(self, snap: VolumeSnapshot) -> None:
        """Before a snapshot goes: its child snapshots hang off its parent (one step closer
        to the root), and a volume whose latest it was now builds on its parent."""
        volume = self.volumes.find(snap.volume_uuid)
        if volume is not None and volume.latest_snapshot_uuid == snap.uuid:
            self._set(volume, "latest_snapshot_uuid", snap.parent_uuid)
        below = [
            s for s in self.volume_snapshots if s.volume_uuid == snap.volume_uuid and s.uuid != snap.uuid
        ]
        by_parent: dict[str, list[VolumeSnapshot]] = {}
        for s in below:
            if s.parent_uuid is not None:
                by_parent.setdefault(s.parent_uuid, []).append(s)
        for child in by_parent.get(snap.uuid, ()):
            self._set(child, "parent_uuid", snap.parent_uuid)
        todo = list(by_parent.get(snap.uuid, ()))
        while todo:
            s = todo.pop()
            self._set(s, "distance", s.distance - 1)
            todo.extend(by_parent.get(s.uuid, ()))

    # -- operations ---------------------------------------------------------------------------
    @operation("snapshot.create_group")
    def create_volumes_snapshot(
        self, volumes: Any, *, name: str | None = None, description: str = ""
    ) -> list[VolumeSnapshot]:
        """Snapshot several volumes together, as one group (all or nothing)."""
        chosen = [self._volume(v) for v in volumes]
        self._fault_point("snapshot.create_group", volumes=[v.uuid for v in chosen])
        if not chosen:
            raise InvalidArgument("volumes", "must not be empty")
        if len({v.uuid for v in chosen}) != len(chosen):
            raise InvalidArgument("volumes", "a volume is listed twice")
        group_uuid = self.ids.uuid()
        taken: list[VolumeSnapshot] = [
            self._snapshot(v, name or f"{v.name}-group-snapshot", description, group_uuid=group_uuid)
            for v in chosen
        ]
        return taken

    @operation("snapshot.revert")
    def revert_volume_to_snapshot(self, snapshot: VolumeSnapshot | str) -> Volume:
        """Put the snapshot's volume back to the snapshot: a new leaf above the snapshot's
        disk, the current leaf released (freed unless something builds on it).  The
        volume's VM must be Stopped.  Returns the volume."""
        snap = self.volume_snapshots.get(snapshot)
        self._fault_point("snapshot.revert", snapshot=snap.uuid, volume=snap.volume_uuid)
        volume = self.volumes.find(snap.volume_uuid)
        if volume is None or volume.status == "Deleted":
            raise InvalidState(
                "volume_snapshot",
                snap.uuid,
                "Orphaned",
                "revert",
                message=f"the volume of snapshot {snap.uuid} has been deleted",
                reason_code="snapshot_volume_gone",
                snapshot_uuid=snap.uuid,
            )
        if snap.state != "Enabled":
            raise InvalidState(
                "volume_snapshot",
                snap.uuid,
                snap.state,
                "revert",
                ("Enabled",),
                reason_code="snapshot_state",
                snapshot_uuid=snap.uuid,
                snapshot_state=snap.state,
            )
        if volume.vm_uuid is not None:
            vm = self.vms.get(volume.vm_uuid)
            if vm.state != "Stopped":
                raise InvalidState("vm", vm.uuid, vm.state, "revert_volume", ("Stopped",))
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        node = self.nodes.get(snap.node_uuid)
        self._replace_leaf(volume, node, volume.virtual_size if volume.thick else self.settings.new_leaf_size)
        self._set(volume, "latest_snapshot_uuid", snap.uuid)
        return volume
