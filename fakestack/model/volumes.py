"""Data volumes, volume snapshots and guest writes."""

from __future__ import annotations

from typing import Any

from .entities import (
    DiskNode,
    PrimaryStorage,
    Vm,
    Volume,
    VolumeSnapshot,
)
from .errors import (
    InvalidArgument,
    InvalidState,
    Unreachable,
)
from .state import CloudState
from .storage import virtual_charge
from .transactions import operation
from .util import key_of


class VolumeMixin(CloudState):
    # -- volumes -----------------------------------------------------------------------
    @operation("volume.create")
    def create_data_volume(
        self,
        name: str,
        *,
        size: int | None = None,
        disk_offering: Any = None,
        primary_storage: Any = None,
        provisioning: str | None = None,
        description: str = "",
        resource_uuid: str | None = None,
        place: bool = False,
    ) -> Volume:
        """A data volume: NotInstantiated (no storage, no capacity) unless a primary storage
        is given, in which case it is created there at once.  ``place=True`` with no storage
        given: created at once on the usable primary storage with the most free virtual
        capacity that fits it (``CapacityExhausted`` when none does)."""
        self._fault_point("volume.create", name=name, primary_storage=key_of(primary_storage))
        uuid = self._claim_uuid(resource_uuid, self.volumes)
        offering = self.disk_offerings.get(disk_offering) if disk_offering is not None else None
        if offering is not None:
            size = offering.disk_size
        if not size or size <= 0:
            raise InvalidArgument("disk_size", "give a disk offering or a positive size")
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if provisioning not in (None, "thin", "thick"):
            raise InvalidArgument("provisioning", "must be thin or thick")
        now = self.clock.now()
        volume: Volume
        if primary_storage is None and not place:
            volume = Volume(
                uuid=uuid,
                name=name,
                type="Data",
                virtual_size=size,
                description=description,
                status="NotInstantiated",
                thick=provisioning == "thick",
                disk_offering_uuid=offering.uuid if offering else None,
                create_date=now,
                last_op_date=now,
            )
            return self._add(self.volumes, volume)
        if primary_storage is None:
            leaf = self.settings.new_leaf_size
            ps = self._pick_primary_storage(
                list(self.primary_storages),
                lambda ps: (
                    virtual_charge(ps, size),
                    size
                    if (ps.default_thick if provisioning is None else provisioning == "thick")
                    else min(leaf, size),
                ),
            )
        else:
            ps = self.primary_storages.get(primary_storage)
        if not ps.usable:
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
            raise InvalidState("primary_storage", ps.uuid, ps.state, "allocate")
        thick = ps.default_thick if provisioning is None else provisioning == "thick"
        volume = self._new_volume_on(None, "Data", size, ps, parent=None, thick=thick, name=name, uuid=uuid)
        volume.description = description
        volume.disk_offering_uuid = offering.uuid if offering else None
        return volume

    @operation("volume.attach")
    def attach_volume(self, volume: Volume | str, vm: Vm | str) -> Volume:
        volume, vm = self._volume(volume), self._vm(vm)
        self._fault_point("volume.attach", volume=volume.uuid, vm=vm.uuid, name=vm.name)
        self._state_check(vm, "attach_volume")
        if volume.type != "Data":
            raise InvalidArgument(
                "volume",
                f"volume {volume.uuid} is not a data volume",
                reason_code="volume_not_data",
                volume_uuid=volume.uuid,
            )
        if volume.state != "Enabled":
            raise InvalidArgument(
                "volume",
                "the volume is disabled",
                reason_code="volume_disabled",
                volume_uuid=volume.uuid,
                volume_state=volume.state,
            )
        if volume.vm_uuid is not None:
            raise InvalidState("volume", volume.uuid, "Attached", "attach")
        if volume.status not in ("Ready", "NotInstantiated"):
            raise InvalidState("volume", volume.uuid, volume.status, "attach", ("Ready", "NotInstantiated"))
        clusters = self._running_clusters(vm)
        if volume.status == "NotInstantiated":
            root = self.volumes.get(vm.root_volume_uuid) if vm.root_volume_uuid else None
            candidates = (
                [self.primary_storages.get(root.primary_storage_uuid)]
                if root
                else [ps for ps in self.primary_storages if ps.zone_uuid == vm.zone_uuid]
            )
            candidates += [
                ps
                for ps in self.primary_storages
                if ps not in candidates and clusters is not None and set(ps.cluster_uuids) & clusters
            ]
            ps = self._pick_primary_storage(
                candidates,
                lambda ps: (
                    virtual_charge(ps, volume.virtual_size),
                    volume.virtual_size
                    if volume.thick
                    else min(self.settings.new_leaf_size, volume.virtual_size),
                ),
            )
            leaf = self.settings.new_leaf_size
            self._charge_virtual(ps, virtual_charge(ps, volume.virtual_size))
            self._set(volume, "virtual_charge", virtual_charge(ps, volume.virtual_size))
            node = self._new_node(
                ps,
                None,
                volume.virtual_size,
                volume.virtual_size if volume.thick else leaf,
                "leaf",
                thick=volume.thick,
            )
            self._set(volume, "node_uuid", node.uuid)
            self._set(volume, "primary_storage_uuid", ps.uuid)
            self._set(volume, "status", "Ready")
        elif clusters is not None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
            if not set(ps.cluster_uuids) & clusters:
                raise InvalidArgument(
                    "volume",
                    f"volume {volume.uuid} is on primary storage {ps.uuid}, "
                    "which the vm's hosts cannot reach",
                    reason_code="volume_storage_unreachable",
                    volume_uuid=volume.uuid,
                    primary_storage_uuid=ps.uuid,
                )
        used = {self.volumes.get(u).device_id for u in vm.data_volume_uuids}
        device = 1
        while device in used:
            device += 1
        self._set(volume, "device_id", device)
        self._set(volume, "vm_uuid", vm.uuid)
        self._set(volume, "last_vm_uuid", vm.uuid)
        self._set(volume, "last_attach_date", self.clock.now())
        self._set(vm, "data_volume_uuids", vm.data_volume_uuids + [volume.uuid])
        return volume

    def _detach(self, volume: Volume, vm: Vm) -> None:
        self._set(vm, "data_volume_uuids", [u for u in vm.data_volume_uuids if u != volume.uuid])
        self._set(volume, "vm_uuid", None)
        self._set(volume, "last_vm_uuid", vm.uuid)
        self._set(volume, "last_detach_date", self.clock.now())

    @operation("volume.detach")
    def detach_volume(self, volume: Volume | str) -> Volume:
        volume = self._volume(volume)
        self._fault_point("volume.detach", volume=volume.uuid)
        if volume.type != "Data":
            raise InvalidArgument(
                "volume",
                f"volume {volume.uuid} is not a data volume",
                reason_code="volume_not_data",
                volume_uuid=volume.uuid,
            )
        if volume.vm_uuid is None:
            raise InvalidState("volume", volume.uuid, "Detached", "detach")
        vm = self.vms.get(volume.vm_uuid)
        self._state_check(vm, "detach_volume")
        self._detach(volume, vm)
        return volume

    @operation("volume.delete")
    def delete_volume(self, volume: Volume | str) -> Volume:
        """Delete a data volume (delayed: status Deleted, disk kept until expunged)."""
        volume = self._volume(volume)
        self._fault_point("volume.delete", volume=volume.uuid)
        if volume.type != "Data":
            raise InvalidArgument(
                "volume",
                f"volume {volume.uuid} is a root volume",
                reason_code="volume_is_root",
                volume_uuid=volume.uuid,
            )
        if volume.status == "Deleted":
            return volume
        if volume.vm_uuid is not None:
            self._detach(volume, self.vms.get(volume.vm_uuid))
        self._set(volume, "status", "Deleted")
        return volume

    @operation("volume.recover")
    def recover_volume(self, volume: Volume | str) -> Volume:
        volume = self._volume(volume)
        if volume.status != "Deleted":
            raise InvalidState("volume", volume.uuid, volume.status, "recover", ("Deleted",))
        self._set(volume, "status", "Ready" if volume.node_uuid else "NotInstantiated")
        return volume

    @operation("volume.expunge")
    def expunge_volume(self, volume: Volume | str) -> None:
        volume = self._volume(volume)
        self._fault_point("volume.expunge", volume=volume.uuid)
        if volume.type == "Data" and volume.status != "Deleted":
            raise InvalidState("volume", volume.uuid, volume.status, "expunge", ("Deleted",))
        if volume.type == "Root":
            raise InvalidArgument("volume", "a root volume goes with its vm (expunge the vm)")
        self._expunge_volume(volume)

    def _expunge_volume(self, volume: Volume) -> None:
        for snap in [s for s in self.volume_snapshots if s.volume_uuid == volume.uuid]:
            self._delete_snapshot(snap, relink=False)  # the whole tree goes: nothing to relink
        if volume.node_uuid is not None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
            self._charge_virtual(ps, -volume.virtual_charge)
            self._release_node(self.nodes.get(volume.node_uuid))
        self._remove(self.volumes, volume)

    @operation("volume.write")
    def write(self, volume: Volume | str, nbytes: int) -> int:
        """Simulated guest writes: the volume's leaf grows by ``nbytes`` (up to its virtual
        size).  Thin volumes consume physical space as they grow; when the storage cannot
        hold the growth nothing is written and ``CapacityExhausted`` is raised.  Returns the
        bytes the disk grew by."""
        volume = self._volume(volume)
        self._fault_point("volume.write", volume=volume.uuid, primary_storage=volume.primary_storage_uuid)
        if nbytes < 0:
            raise InvalidArgument("nbytes", "must not be negative")
        if volume.status != "Ready" or volume.node_uuid is None:
            raise InvalidState("volume", volume.uuid, volume.status, "write", ("Ready",))
        if volume.vm_uuid is not None:
            vm = self.vms.get(volume.vm_uuid)
            if vm.frozen:
                raise InvalidState("vm", vm.uuid, "Frozen", "write")
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        grown = self._grow_node(self.nodes.get(volume.node_uuid), nbytes)
        self._set(volume, "bytes_written", volume.bytes_written + nbytes)
        return grown

    # -- snapshots ---------------------------------------------------------------------
    def _freeze_leaf(
        self, volume: Volume, *, keep_ref: bool = True, ps: PrimaryStorage | None = None
    ) -> DiskNode:
        """Freeze the volume's current leaf and move the volume onto a new leaf above it
        (a thick volume's new leaf is thick too: it holds the full size again).  Returns the
        frozen node.  Its holder passes to the caller (a snapshot) with ``keep_ref``;
        without, the node is held only by the nodes built on it (instant clones)."""
        old = self.nodes.get(volume.node_uuid)
        if ps is None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
        initial = old.virtual_size if volume.thick else self.settings.new_leaf_size
        leaf = self._new_node(ps, old, old.virtual_size, initial, "leaf", thick=volume.thick)
        if self._watching:
            self._set(old, "frozen", True)
            self._set(old, "role", "snapshot")
            self._set(volume, "node_uuid", leaf.uuid)
        else:  # the three ``_set`` calls spelled out (every snapshot passes here)
            undo = self._undo
            if undo is not None:
                undo.append((old, "frozen", old.frozen))
                undo.append((old, "role", old.role))
                undo.append((volume, "node_uuid", volume.node_uuid))
            old.frozen = True
            old.role = "snapshot"
            volume.node_uuid = leaf.uuid
        if not keep_ref:
            self._set(old, "refs", old.refs - 1)
        return old

    @operation("snapshot.create")
    def create_volume_snapshot(
        self,
        volume: Volume | str,
        name: str,
        *,
        description: str = "",
        system: bool = False,
        resource_uuid: str | None = None,
    ) -> VolumeSnapshot:
        """Freeze the volume's disk as a snapshot (its parent: the volume's latest one);
        the volume goes on writing into a new leaf above it.  ``resource_uuid`` is the
        snapshot's uuid when given."""
        volume = self._volume(volume)
        self._fault_point("snapshot.create", volume=volume.uuid, name=name)
        return self._snapshot(volume, name, description, system, uuid=resource_uuid)

    def _snapshot(
        self,
        volume: Volume,
        name: str,
        description: str = "",
        system: bool = False,
        *,
        uuid: str | None = None,
        group_uuid: str | None = None,
    ) -> VolumeSnapshot:
        if uuid is not None:
            uuid = self._claim_uuid(uuid, self.volume_snapshots)
        if volume.status != "Ready" or volume.node_uuid is None:
            raise InvalidState("volume", volume.uuid, volume.status, "snapshot", ("Ready",))
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        node = self._freeze_leaf(volume, ps=ps)
        now = self.clock.now()
        parent = self.volume_snapshots.by_uuid(volume.latest_snapshot_uuid)
        # Positional (a hot path: each keyword costs): the fields in VolumeSnapshot's order.
        snap = VolumeSnapshot(
            uuid or self.ids.uuid(),
            name,
            volume.uuid,
            node.uuid,
            ps.uuid,  # primary_storage_uuid
            volume.type,  # volume_type
            description,
            system,
            "Ready",  # status
            "Enabled",  # state
            node.actual_size,  # size
            parent.uuid if parent is not None else None,  # parent_uuid
            parent.distance + 1 if parent is not None else 1,  # distance
            group_uuid,
            now,  # create_date
            now,  # last_op_date
        )
        if self._watching:
            self._set(volume, "latest_snapshot_uuid", snap.uuid)
        else:  # ``_set`` spelled out (every snapshot passes here)
            if self._undo is not None:
                self._undo.append((volume, "latest_snapshot_uuid", volume.latest_snapshot_uuid))
            volume.latest_snapshot_uuid = snap.uuid
        self.volume_snapshots.add(snap)  # ``_add`` spelled out (every snapshot passes here)
        if self._undo is not None:
            self._undo.append((self.volume_snapshots, snap))
        return snap

    @operation("snapshot.delete")
    def delete_volume_snapshot(self, snapshot: Any) -> None:
        """Delete a snapshot.  Its child snapshots hang off its parent from now on (the
        chain of snapshots closes over the gap); its disk is freed when nothing builds on
        it, or kept hidden (and charged) until the last disk built on it goes."""
        snap = self.volume_snapshots.get(snapshot)
        self._fault_point("snapshot.delete", snapshot=snap.uuid, volume=snap.volume_uuid)
        self._delete_snapshot(snap)

    def _delete_snapshot(self, snap: VolumeSnapshot, relink: bool = True) -> None:
        if relink:
            self._unlink_snapshot(snap)
        self._release_node(self.nodes.get(snap.node_uuid))
        self._remove(self.volume_snapshots, snap)
