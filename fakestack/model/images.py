"""Images: registration on backup storage, delayed delete, recover, expunge; image caches
on primary storage are built by VM creation (see vms.py)."""

from __future__ import annotations

import functools
from typing import Any

from .entities import MEDIA_TYPES, ROOT_TEMPLATE, BackupStorage, Image
from .errors import (
    InvalidArgument,
    InvalidState,
    NotFound,
    Unreachable,
)
from .kinds import ImageKind
from .state import CloudState
from .transactions import operation


class ImageMixin(CloudState):
    @operation("image.register")
    def register_image(
        self,
        name: str,
        backup_storage: Any = None,
        *,
        virtual_size: int,
        actual_size: int,
        media_type: ImageKind | str = ROOT_TEMPLATE,
        format: str = "qcow2",
        platform: str = "Linux",
        guest_os_type: str = "",
        architecture: str = "x86_64",
        description: str = "",
        system: bool = False,
    ) -> Image:
        """Add an image whose data (``actual_size`` bytes) lands on a backup storage now
        (``CapacityExhausted("backup_storage")`` when it does not fit).  With no storage
        named, the usable one with the most room takes it."""
        bs = (
            self.backup_storages.get(backup_storage)
            if backup_storage is not None
            else self._roomiest_backup_storage()
        )
        self._fault_point("image.register", name=name, backup_storage=bs.uuid)
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if virtual_size <= 0 or actual_size < 0 or actual_size > virtual_size:
            raise InvalidArgument("actual_size", "sizes must satisfy 0 <= actual <= virtual, virtual > 0")
        kind = ImageKind.spelled(media_type)
        if kind not in MEDIA_TYPES:
            raise InvalidArgument("media_type", f"must be {', '.join(MEDIA_TYPES[:-1])} or {MEDIA_TYPES[-1]}")
        if bs.status != "Connected":
            raise Unreachable("backup_storage", bs.uuid)
        if bs.state != "Enabled":
            raise InvalidState("backup_storage", bs.uuid, bs.state, "add image", ("Enabled",))
        node = self._new_node(bs, None, virtual_size, actual_size, "image")
        now = self.clock.now()
        image = Image(
            uuid=self.ids.uuid(),
            name=name,
            media_type=kind,
            format=format,
            platform=platform,
            guest_os_type=guest_os_type,
            architecture=architecture,
            virtual_size=virtual_size,
            actual_size=actual_size,
            description=description,
            system=system,
            create_date=now,
            last_op_date=now,
            backup_storage_refs=[{"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid, "status": "Ready"}],
        )
        return self._add(self.images, image)

    # -- images ------------------------------------------------------------------------
    def _roomiest_backup_storage(self) -> BackupStorage:
        """The enabled, connected backup storage with the most room (the first on a tie)."""
        best = None
        for bs in self.backup_storages:
            if bs.usable and (best is None or self._physical_room(bs) > self._physical_room(best)):
                best = bs
        if best is None:
            first = next(iter(self.backup_storages), None)
            if first is None:
                raise NotFound("backup_storage", "any")
            raise Unreachable("backup_storage", first.uuid)
        return best

    @operation("image.delete")
    def delete_image(self, image: Image | str, backup_storages: Any = None) -> Image:
        """Delayed delete: the image's refs on those storages (all when None) become Deleted."""
        image = self.images.get(image)
        self._fault_point("image.delete", image=image.uuid, name=image.name)
        wanted = (
            None if backup_storages is None else {self.backup_storages.get(b).uuid for b in backup_storages}
        )
        refs = [
            dict(r, status="Deleted") if wanted is None or r["backup_storage_uuid"] in wanted else r
            for r in image.backup_storage_refs
        ]
        self._set(image, "backup_storage_refs", refs)
        if all(r["status"] == "Deleted" for r in refs):
            self._set(image, "status", "Deleted")
        return image

    @operation("image.recover")
    def recover_image(self, image: Image | str) -> Image:
        image = self.images.get(image)
        if image.status != "Deleted":
            raise InvalidState("image", image.uuid, image.status, "recover", ("Deleted",))
        self._set(image, "backup_storage_refs", [dict(r, status="Ready") for r in image.backup_storage_refs])
        self._set(image, "status", "Ready")
        return image

    @operation("image.expunge")
    def expunge_image(self, image: Image | str) -> None:
        """Remove a Deleted image; its data goes by the copy-on-write rules (caches on
        primary storage stay while volumes are built on them)."""
        image = self.images.get(image)
        self._fault_point("image.expunge", image=image.uuid, name=image.name)
        if image.status != "Deleted":
            raise InvalidState("image", image.uuid, image.status, "expunge", ("Deleted",))
        for ref in image.backup_storage_refs:
            node = self.nodes.find(ref["node_uuid"])
            if node is not None:
                self._release_node(node)
        for key in [k for k in self.image_caches if k.startswith(image.uuid + ":")]:
            # the cache stays (hidden) while volumes are built on it, but no longer as the
            # image's cache
            node_uuid = self.image_caches.pop(key)
            if self._undo is not None:
                self._undo.append(functools.partial(self.image_caches.__setitem__, key, node_uuid))
            node = self.nodes.find(node_uuid)
            if node is not None and node.refs > 0:
                self._release_node(node)
        self._remove(self.images, image)
