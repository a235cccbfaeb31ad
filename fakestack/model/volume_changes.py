"""Volumes and templates made from one another: templates (images) from volumes and
snapshots, data volumes from snapshots and data-volume templates; and changes to a volume
(size, state, name)."""

from __future__ import annotations

from typing import Any

from .entities import DATA_TEMPLATE, ROOT_TEMPLATE, BackupStorage, Image, Vm, Volume, VolumeSnapshot
from .errors import DomainError, InvalidArgument, InvalidState, NotFound, Unreachable
from .kinds import ImageKind
from .state import CloudState
from .storage import virtual_charge
from .transactions import operation

# VM states in which its root volume can be copied into a template.
TEMPLATE_VM_STATES = ("Running", "Stopped", "Paused")
PLATFORMS = ("Linux", "Windows", "Other", "Paravirtualization", "WindowsVirtio")


def _check_snapshot(snap: VolumeSnapshot, action: str, *wanted: tuple[str, str]) -> None:
    """Refuse ``action`` on a snapshot whose ``status`` / ``state`` is not the one wanted."""
    for attribute, value in wanted:
        current = getattr(snap, attribute)
        if current != value:
            raise InvalidState(
                "volume_snapshot",
                snap.uuid,
                current,
                action,
                (value,),
                message=f"volume snapshot {snap.uuid} is {current}, not {value}",
                reason_code="snapshot_condition",
                snapshot_uuid=snap.uuid,
                expected=value,
                current=current,
            )


class VolumeChangeMixin(CloudState):
    # -- templates -------------------------------------------------------------------------
    def _template_storages(self, backup_storages: Any, zone_uuid: str) -> list[BackupStorage]:
        """The named backup storages, or the roomiest usable one of the zone."""
        if backup_storages:
            return [self.backup_storages.get(b) for b in backup_storages]
        candidates = [bs for bs in self.backup_storages if zone_uuid in bs.zone_uuids and bs.usable]
        if not candidates:
            return [self._roomiest_backup_storage()]
        return [max(candidates, key=self._physical_room)]

    def _image_from_node(
        self,
        node: Any,
        zone_uuid: str,
        name: str,
        *,
        media_type: ImageKind,
        vm: Vm | None,
        backup_storages: Any = None,
        description: str = "",
        platform: str | None = None,
        guest_os_type: str | None = None,
        architecture: str | None = None,
        system: bool = False,
        virtio: bool = True,
        resource_uuid: str | None = None,
    ) -> tuple[Image, list[tuple[str, DomainError]]]:
        """Copy the data of the chain ending at ``node`` onto backup storages as a new image;
        platform, guest OS type and architecture not given are ``vm``'s (if any).
        Each storage succeeds or fails on its own; ``failures`` lists ``(bs_uuid, error)``;
        when every storage fails the first failure is raised (and nothing remains)."""
        platform = platform or (vm.platform if vm is not None else "Linux")
        if guest_os_type is None:
            guest_os_type = vm.guest_os_type if vm is not None else ""
        architecture = architecture or (vm.architecture if vm is not None else "x86_64")
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if platform not in PLATFORMS:
            raise InvalidArgument("platform", f"must be one of {', '.join(PLATFORMS)}")
        uuid = self._claim_uuid(resource_uuid, self.images)
        size = self.chain_allocated_size(node)
        refs: list[dict[str, Any]] = []
        failures: list[tuple[str, DomainError]] = []
        for bs in self._template_storages(backup_storages, zone_uuid):
            mark = len(self._undo) if self._undo is not None else 0
            try:
                if bs.status != "Connected":
                    raise Unreachable("backup_storage", bs.uuid)
                if bs.state != "Enabled":
                    raise InvalidState("backup_storage", bs.uuid, bs.state, "create image", ("Enabled",))
                copy = self._new_node(bs, None, node.virtual_size, size, "image")
            except DomainError as exc:
                if self._undo is not None:
                    self._unwind(mark)
                failures.append((bs.uuid, exc))
                continue
            refs.append(
                {
                    "backup_storage_uuid": bs.uuid,
                    "node_uuid": copy.uuid,
                    "status": "Ready",
                }
            )
        if not refs:
            raise failures[0][1]
        now = self.clock.now()
        image = Image(
            uuid=uuid,
            name=name,
            media_type=media_type,
            format="qcow2",
            platform=platform,
            guest_os_type=guest_os_type,
            architecture=architecture,
            virtual_size=node.virtual_size,
            actual_size=size,
            description=description,
            system=system,
            virtio=virtio,
            backup_storage_refs=refs,
            create_date=now,
            last_op_date=now,
        )
        return self._add(self.images, image), failures

    @operation("image.create_from_volume")
    def create_image_from_volume(
        self,
        volume: Any,
        name: str,
        *,
        backup_storages: Any = None,
        description: str = "",
        platform: str | None = None,
        guest_os_type: str | None = None,
        architecture: str | None = None,
        system: bool = False,
        virtio: bool = True,
        resource_uuid: str | None = None,
        media_type: ImageKind | str | None = None,
    ) -> Image:
        """A template holding a copy of a volume's data (its chain's allocated size, charged
        on each backup storage): a root template from a root volume (its VM Running,
        Stopped or Paused), a data template from a data volume."""
        volume = self._volume(volume)
        self._fault_point("image.create_from_volume", volume=volume.uuid, name=name)
        kind = (
            ImageKind.spelled(media_type)
            if media_type
            else (ROOT_TEMPLATE if volume.type == "Root" else DATA_TEMPLATE)
        )
        if kind not in (ROOT_TEMPLATE, DATA_TEMPLATE):
            raise InvalidArgument("media_type", f"must be {ROOT_TEMPLATE} or {DATA_TEMPLATE}")
        if kind == ROOT_TEMPLATE and volume.type != "Root":
            raise InvalidArgument(
                "root_volume",
                "not a root volume",
                reason_code="volume_not_root",
                volume_uuid=volume.uuid,
            )
        if volume.status != "Ready" or volume.node_uuid is None:
            raise InvalidState("volume", volume.uuid, volume.status, "create image", ("Ready",))
        if volume.state != "Enabled":
            raise InvalidState("volume", volume.uuid, volume.state, "create image", ("Enabled",))
        vm = self.vms.find(volume.vm_uuid or volume.last_vm_uuid)
        if volume.type == "Root" and vm is not None and vm.state not in TEMPLATE_VM_STATES:
            raise InvalidState("vm", vm.uuid, vm.state, "create_template", TEMPLATE_VM_STATES)
        ps = self.primary_storages.get(volume.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        image, _ = self._image_from_node(
            self.nodes.get(volume.node_uuid),
            ps.zone_uuid,
            name,
            media_type=kind,
            backup_storages=backup_storages,
            description=description,
            vm=vm,
            platform=platform,
            guest_os_type=guest_os_type,
            architecture=architecture,
            system=system,
            virtio=virtio,
            resource_uuid=resource_uuid,
        )
        return image

    @operation("image.create_from_snapshot")
    def create_image_from_snapshot(
        self,
        snapshot: Any,
        name: str,
        *,
        backup_storages: Any,
        description: str = "",
        platform: str | None = None,
        guest_os_type: str | None = None,
        architecture: str | None = None,
        system: bool = False,
        virtio: bool = True,
        resource_uuid: str | None = None,
    ) -> tuple[Image, list[tuple[str, DomainError]]]:
        """A root template holding the data as it was at the snapshot.  Returns the
        image and the storages that failed ``[(bs_uuid, error)]``."""
        snap = self.volume_snapshots.get(snapshot)
        self._fault_point("image.create_from_snapshot", snapshot=snap.uuid, name=name)
        _check_snapshot(snap, "create image", ("status", "Ready"), ("state", "Enabled"))
        ps = self.primary_storages.get(snap.primary_storage_uuid)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        volume = self.volumes.find(snap.volume_uuid)
        vm = self.vms.find((volume.vm_uuid or volume.last_vm_uuid) if volume is not None else None)
        return self._image_from_node(
            self.nodes.get(snap.node_uuid),
            ps.zone_uuid,
            name,
            media_type=ROOT_TEMPLATE,
            backup_storages=backup_storages,
            description=description,
            vm=vm,
            platform=platform,
            guest_os_type=guest_os_type,
            architecture=architecture,
            system=system,
            virtio=virtio,
            resource_uuid=resource_uuid,
        )

    # -- volumes from snapshots and templates --------------------------------------------------
    def _standalone_volume(
        self, name: str, ps: Any, size: int, actual: int, *, uuid: str | None, description: str
    ) -> Volume:
        """A detached, Ready data volume on its own disk (a copy, not linked to its source)."""
        if not isinstance(name, str) or not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        uuid = self._claim_uuid(uuid, self.volumes)
        if ps.status != "Connected":
            raise Unreachable("primary_storage", ps.uuid)
        if ps.state != "Enabled":
            raise InvalidState("primary_storage", ps.uuid, ps.state, "allocate", ("Enabled",))
        charge = virtual_charge(ps, size)
        self._charge_virtual(ps, charge)
        thick = ps.default_thick
        node = self._new_node(ps, None, size, size if thick else actual, "leaf", thick=thick)
        now = self.clock.now()
        volume = Volume(
            uuid=uuid,
            name=name,
            type="Data",
            virtual_size=size,
            description=description,
            primary_storage_uuid=ps.uuid,
            node_uuid=node.uuid,
            thick=thick,
            virtual_charge=charge,
            status="Ready",
            create_date=now,
            last_op_date=now,
        )
        return self._add(self.volumes, volume)

    @operation("volume.create_from_snapshot")
    def create_volume_from_snapshot(
        self,
        snapshot: Any,
        name: str,
        *,
        primary_storage: Any = None,
        description: str = "",
        resource_uuid: str | None = None,
    ) -> Volume:
        """A data volume holding the snapshot's data, on the snapshot's primary storage."""
        snap = self.volume_snapshots.get(snapshot)
        self._fault_point("volume.create_from_snapshot", snapshot=snap.uuid, name=name)
        ps = self.primary_storages.get(snap.primary_storage_uuid)
        if primary_storage is not None and self.primary_storages.get(primary_storage).uuid != ps.uuid:
            raise InvalidArgument(
                "primary_storage",
                "not the snapshot's primary storage",
                reason_code="snapshot_other_storage",
                snapshot_uuid=snap.uuid,
                primary_storage_uuid=ps.uuid,
            )
        _check_snapshot(snap, "create volume", ("status", "Ready"))
        node = self.nodes.get(snap.node_uuid)
        return self._standalone_volume(
            name,
            ps,
            node.virtual_size,
            self.chain_allocated_size(node),
            uuid=resource_uuid,
            description=description,
        )

    @operation("volume.create_from_image")
    def create_volume_from_image(
        self,
        image: Any,
        name: str,
        *,
        primary_storage: Any,
        host: Any = None,
        description: str = "",
        resource_uuid: str | None = None,
    ) -> Volume:
        """A data volume holding a copy of a data template, on the given primary storage
        (reachable from ``host`` when one is named)."""
        image = self.images.get(image)
        ps = self.primary_storages.get(primary_storage)
        self._fault_point("volume.create_from_image", image=image.uuid, primary_storage=ps.uuid, name=name)
        if image.media_type != DATA_TEMPLATE:
            raise InvalidArgument(
                "image",
                "not a data template",
                reason_code="image_not_data_template",
                image_uuid=image.uuid,
                media_type=image.media_type,
            )
        if image.state != "Enabled":
            raise InvalidState(
                "image",
                image.uuid,
                image.state,
                "create volume",
                ("Enabled",),
                reason_code="image_not_enabled",
                image_uuid=image.uuid,
                image_state=image.state,
            )
        if image.status != "Ready":
            raise InvalidState(
                "image",
                image.uuid,
                image.status,
                "create volume",
                ("Ready",),
                reason_code="image_not_ready",
                image_uuid=image.uuid,
                image_status=image.status,
            )
        if host is not None:
            h = self.hosts.get(host)
            if h.cluster_uuid not in ps.cluster_uuids:
                raise InvalidArgument(
                    "host",
                    "cannot reach the primary storage",
                    reason_code="host_cannot_reach_primary_storage",
                    host_uuid=h.uuid,
                    primary_storage_uuid=ps.uuid,
                )
        ready = [
            r
            for r in image.backup_storage_refs
            if r["status"] == "Ready"
            and self.backup_storages.get(r["backup_storage_uuid"]).status == "Connected"
        ]
        if not ready:
            if image.backup_storage_refs:
                raise Unreachable("backup_storage", image.backup_storage_refs[0]["backup_storage_uuid"])
            raise NotFound("image", image.uuid)
        return self._standalone_volume(
            name, ps, image.virtual_size, image.actual_size, uuid=resource_uuid, description=description
        )

    # -- changes ------------------------------------------------------------------------------
    @operation("volume.resize")
    def resize_volume(self, volume: Volume | str, size: int) -> Volume:
        """Grow a volume to ``size`` bytes: the virtual ledger takes the growth (and the
        physical one too for a thick disk); shrinking is refused."""
        volume = self._volume(volume)
        self._fault_point("volume.resize", volume=volume.uuid, primary_storage=volume.primary_storage_uuid)
        if not isinstance(size, int) or size <= 0:
            raise InvalidArgument("size", "must be a positive number of bytes")
        if size < volume.virtual_size:
            raise InvalidArgument(
                "size",
                "shrinking is not allowed",
                reason_code="volume_shrink",
                volume_uuid=volume.uuid,
                volume_size=volume.virtual_size,
                size=size,
            )
        if volume.status == "Deleted":
            raise InvalidState("volume", volume.uuid, volume.status, "resize", ("Ready", "NotInstantiated"))
        if size == volume.virtual_size:
            return volume
        if volume.node_uuid is not None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
            charge = virtual_charge(ps, size)
            self._charge_virtual(ps, charge - volume.virtual_charge)
            self._set(volume, "virtual_charge", charge)
            leaf = self.nodes.get(volume.node_uuid)
            if leaf.thick:
                self._charge_physical(ps, size - leaf.virtual_size)
            self._set(leaf, "virtual_size", size)
        self._set(volume, "virtual_size", size)
        self._set(volume, "last_op_date", self.clock.now())
        return volume

    @operation("volume.sync_size")
    def sync_volume_size(self, volume: Volume | str) -> Volume:
        """Read a volume's sizes from its storage (the model's are always current; the
        storage must be reachable)."""
        volume = self._volume(volume)
        if volume.primary_storage_uuid is not None:
            ps = self.primary_storages.get(volume.primary_storage_uuid)
            if ps.status != "Connected":
                raise Unreachable("primary_storage", ps.uuid)
        return volume

    @operation("volume.set_state")
    def set_volume_state(self, volume: Volume | str, state: str) -> Volume:
        """Enable or disable a data volume (a disabled one cannot be attached)."""
        volume = self._volume(volume)
        if state not in ("Enabled", "Disabled"):
            raise InvalidArgument("state", "must be Enabled or Disabled")
        if volume.type == "Root":
            raise InvalidArgument(
                "uuid",
                "a root volume",
                reason_code="root_volume_state",
                volume_uuid=volume.uuid,
            )
        if volume.status == "Deleted":
            raise InvalidState(
                "volume", volume.uuid, volume.status, "change state", ("Ready", "NotInstantiated")
            )
        self._set(volume, "state", state)
        self._set(volume, "last_op_date", self.clock.now())
        return volume

    @operation("volume.update")
    def update_volume(
        self, volume: Volume | str, *, name: str | None = None, description: str | None = None
    ) -> Volume:
        volume = self._volume(volume)
        if name is not None:
            self._rename(self.volumes, volume, name)
        if description is not None:
            self._set(volume, "description", description)
        self._set(volume, "last_op_date", self.clock.now())
        return volume
