"""Images added from a URL (a simulated download), image changes (names, kinds, enable /
disable), and which backup storages can take an image made from a volume (issue 16,
group 5)."""

from __future__ import annotations

from typing import Any

from .entities import ISO, MEDIA_TYPES, ROOT_TEMPLATE, BackupStorage, Image
from .errors import CapacityExhausted, InvalidArgument, InvalidState, Unreachable
from .kinds import ImageKind
from .state import CloudState
from .transactions import operation

IMAGE_STATES = ("Enabled", "Disabled")
IMAGE_FORMATS = ("qcow2", "raw", "iso", "vmdk")


class ImageChangeMixin(CloudState):
    def download_source(self, url: str) -> tuple[int, int, str, float]:
        """What ``url`` serves: (virtual size, actual size, format, download seconds), from
        the settings' image catalogue, else the declared default size; a URL neither
        lists is unreachable (``Unreachable("url", url)``)."""
        for entry in self.settings.image_catalogue:
            if entry.url == url:
                seconds = entry.download_seconds
                if seconds is None:
                    seconds = entry.actual_size / self.settings.download_rate
                return entry.virtual_size, entry.actual_size, entry.format, seconds
        size = self.settings.default_download_size
        if size:
            return size, size, "qcow2", size / self.settings.download_rate
        raise Unreachable("url", url, f"cannot download the image from {url}: the URL cannot be reached")

    @operation("image.download")
    def download_image(
        self,
        name: str,
        url: str,
        backup_storages: Any,
        *,
        media_type: ImageKind | str | None = None,
        format: str | None = None,
        platform: str = "Linux",
        guest_os_type: str = "",
        architecture: str = "x86_64",
        description: str = "",
        system: bool = False,
        virtio: bool = True,
        resource_uuid: str | None = None,
    ) -> Image:
        """Add an image by downloading ``url`` onto each of ``backup_storages``: each
        storage is charged the image's actual size.  The job lasts as long as the download
        (the catalogue's seconds, or the actual size at the download rate); the image is
        Ready when it ends.  A storage short of room, disconnected or disabled fails the
        whole add."""
        uuid = self._claim_uuid(resource_uuid, self.images)
        stores: list[BackupStorage] = [self.backup_storages.get(b) for b in backup_storages]
        self._fault_point(
            "image.download", name=name, url=url, backup_storage=stores[0].uuid if stores else None
        )
        if not name or len(name) > 255:
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if not stores:
            raise InvalidArgument("backup_storages", "at least one backup storage is needed")
        virtual, actual, served_format, seconds = self.download_source(url)
        fmt = format or served_format
        if fmt not in IMAGE_FORMATS:
            raise InvalidArgument("format", f"must be one of {', '.join(IMAGE_FORMATS)}")
        kind = ImageKind.spelled(media_type) if media_type else (ISO if fmt == "iso" else ROOT_TEMPLATE)
        if kind not in MEDIA_TYPES:
            raise InvalidArgument("media_type", f"must be one of {', '.join(MEDIA_TYPES)}")
        refs = []
        seen: set[str] = set()
        for bs in stores:
            if bs.uuid in seen:
                continue
            seen.add(bs.uuid)
            if bs.status != "Connected":
                raise Unreachable("backup_storage", bs.uuid)
            if bs.state != "Enabled":
                raise InvalidState("backup_storage", bs.uuid, bs.state, "download an image", ("Enabled",))
            room = self._physical_room(bs)
            if actual > room or "backup_storage" in self._exhausted:
                raise CapacityExhausted(
                    "backup_storage",
                    actual,
                    max(room, 0) if "backup_storage" not in self._exhausted else 0,
                    resource_uuid=bs.uuid,
                    injected="backup_storage" in self._exhausted,
                    message=f"backup storage {bs.uuid} ({bs.name}) has no room for the image at {url}: "
                    f"{actual} bytes needed, "
                    f"{max(room, 0) if 'backup_storage' not in self._exhausted else 0} available",
                    reason_code="image_download_room",
                    backup_storage_uuid=bs.uuid,
                    backup_storage_name=bs.name,
                    url=url,
                )
            node = self._new_node(bs, None, virtual, actual, "image")
            refs.append({"backup_storage_uuid": bs.uuid, "node_uuid": node.uuid, "status": "Ready"})
        now = self.clock.now()
        image = Image(
            uuid=uuid,
            name=name,
            media_type=kind,
            format=fmt,
            platform=platform,
            guest_os_type=guest_os_type,
            architecture=architecture,
            virtual_size=virtual,
            actual_size=actual,
            description=description,
            system=system,
            virtio=virtio,
            url=url,
            create_date=now,
            last_op_date=now,
            backup_storage_refs=refs,
        )
        self._job_latency += seconds  # the job lasts as long as the download
        return self._add(self.images, image)

    @operation("image.update")
    def update_image(
        self,
        image: Image | str,
        *,
        name: str | None = None,
        description: str | None = None,
        guest_os_type: str | None = None,
        media_type: ImageKind | str | None = None,
        format: str | None = None,
        system: bool | None = None,
        platform: str | None = None,
        architecture: str | None = None,
        virtio: bool | None = None,
    ) -> Image:
        """Change what an image says about itself (its data stays as it is)."""
        image = self.images.get(image)
        self._fault_point("image.update", image=image.uuid, name=image.name)
        if name is not None and (not name or len(name) > 255):
            raise InvalidArgument("name", "must be 1 to 255 characters")
        if media_type is not None:
            media_type = ImageKind.spelled(media_type)
            if media_type not in MEDIA_TYPES:
                raise InvalidArgument("media_type", f"must be one of {', '.join(MEDIA_TYPES)}")
        if format is not None and format not in IMAGE_FORMATS:
            raise InvalidArgument("format", f"must be one of {', '.join(IMAGE_FORMATS)}")
        if name is not None:
            self._rename(self.images, image, name)
        changes = {
            "description": description,
            "guest_os_type": guest_os_type,
            "media_type": media_type,
            "format": format,
            "system": system,
            "platform": platform,
            "architecture": architecture,
            "virtio": virtio,
        }
        for attr, value in changes.items():
            if value is not None:
                self._set(image, attr, value)
        self._set(image, "last_op_date", self.clock.now())
        return image

    @operation("image.set_state")
    def set_image_state(self, image: Image | str, state: str) -> Image:
        """Enable or disable an image (a disabled image makes no new VM or volume)."""
        image = self.images.get(image)
        self._fault_point("image.set_state", image=image.uuid, name=image.name)
        if state not in IMAGE_STATES:
            raise InvalidArgument("state", "must be Enabled or Disabled")
        if image.status == "Deleted":
            raise InvalidState("image", image.uuid, image.status, "change state", ("Ready",))
        self._set(image, "state", state)
        self._set(image, "last_op_date", self.clock.now())
        return image

    def image_storage_candidates(self, *, volume: Any = None, snapshot: Any = None) -> list[BackupStorage]:
        """Backup storages that could take an image made from ``volume`` or ``snapshot``:
        usable ones attached to the zone of the primary storage holding it (storage
        order).  A question: nothing changes."""
        if volume is None and snapshot is None:
            raise InvalidArgument(
                "volume", "give a volume or a volume snapshot", reason_code="volume_or_snapshot"
            )
        if snapshot is not None:
            ps_uuid: str | None = self.volume_snapshots.get(snapshot).primary_storage_uuid
        else:
            ps_uuid = self.volumes.get(volume).primary_storage_uuid
        if ps_uuid is None:  # a volume not instantiated yet lives nowhere
            return []
        zone = self.primary_storages.get(ps_uuid).zone_uuid
        return [bs for bs in self.backup_storages if bs.usable and zone in bs.zone_uuids]
