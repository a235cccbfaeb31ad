"""Managed volumes (``/v1/volumes``) and their mounts on VMs (``/v1/vms/{id}/volumes``).

A volume is a data volume of the model, created at once on the primary storage with the
most room (``quota_bytes`` reserved on the virtual ledger; thin, so the physical ledger
holds what has been written: a new leaf at first); a full storage answers 503 and nothing
is created.  ``used_bytes`` is the model's actual size.  Mounting attaches it to the VM's
model VM (one VM at a time: 409 when it is mounted elsewhere); the mount path and mode
are InstaVM's, kept on the record.  Deleting a mounted volume is 409; deleting frees its
capacity (the model's delete and expunge, as one).  A killed VM's volumes are unmounted
by the model's destroy.
"""

from __future__ import annotations

from typing import Any

from fakestack.model.errors import DomainError, InvalidArgument

from .. import ids as idfmt
from ..errors import HttpError, http_error
from .records import Records


class VolumeOperations(Records):
    @property
    def volumes(self) -> dict:
        return self.state.setdefault("volumes", {})

    def volume(self, volume_id: str) -> dict:
        rec = self.volumes.get(volume_id)
        if rec is None or self.cloud.volumes.find(rec["uuid"]) is None:
            raise HttpError(404, "Volume not found")
        return rec

    def mounted_on(self, rec: dict) -> dict | None:
        """The VM record the volume is mounted on, if the model still has it attached."""
        mount = rec.get("mount")
        if mount is None:
            return None
        vm_rec = self.vms.get(mount["vm_id"])
        model_volume = self.cloud.volumes.find(rec["uuid"])
        if (
            vm_rec is None
            or model_volume is None
            or model_volume.vm_uuid is None
            or model_volume.vm_uuid != vm_rec.get("uuid")
        ):
            return None
        return vm_rec

    def used_bytes(self, rec: dict) -> int:
        return int(self.cloud.volume_actual_size(rec["uuid"]))

    def create_volume(self, body) -> dict:
        self.dialect_fault("CreateVolume")
        volume_id = idfmt.new_volume_id(self.cloud.ids, self.volumes)
        try:
            model_volume = self.cloud.create_data_volume(
                f"instavm-{volume_id}", size=body.quota_bytes, provisioning="thin", place=True
            )
        except DomainError as exc:
            raise http_error(exc, body=body.model_dump(mode="json")) from None
        now = self.now()
        rec = {
            "id": volume_id,
            "uuid": model_volume.uuid,
            "name": body.name,
            "quota_bytes": body.quota_bytes,
            "mount": None,
            "created_at": now,
            "updated_at": now,
        }
        self.volumes[volume_id] = rec
        return rec

    def list_volume_records(self) -> list[dict]:
        return [rec for rec in self.volumes.values() if self.cloud.volumes.find(rec["uuid"]) is not None]

    def delete_volume(self, volume_id: str) -> dict:
        rec = self.volume(volume_id)
        holder = self.mounted_on(rec)
        if holder is not None:
            raise HttpError(409, f"Volume {volume_id} is mounted on VM {holder['vm_id']}")
        self.dialect_fault("DeleteVolume", volume=volume_id)
        try:
            with self.cloud.atomic():
                self.cloud.delete_volume(rec["uuid"])
                self.cloud.expunge_volume(rec["uuid"])
        except DomainError as exc:
            raise http_error(exc) from None
        del self.volumes[volume_id]
        return {"volume_id": volume_id, "status": "deleted"}

    # -- mounts -------------------------------------------------------------------------
    def mount_volume(self, vm_id: str, body) -> dict:
        vm_rec = self.vm(vm_id)
        vm = self.require_active(vm_rec)
        rec = self.volume(body.volume_id)
        holder = self.mounted_on(rec)
        if holder is not None:
            raise HttpError(409, f"Volume {rec['id']} is mounted on VM {holder['vm_id']}")
        self.dialect_fault("MountVolume", vm=vm_id, volume=rec["id"])
        try:
            self.cloud.attach_volume(rec["uuid"], vm.uuid)
        except InvalidArgument as exc:  # a storage the VM's host cannot reach
            raise HttpError(
                409, f"Volume {rec['id']} cannot be mounted on VM {vm_id}: {exc.reason}"
            ) from None
        except DomainError as exc:
            raise http_error(exc) from None
        rec["mount"] = {
            "vm_id": vm_id,
            "mount_path": body.mount_path,
            "mode": body.mode,
            "mounted_at": self.now(),
        }
        rec["updated_at"] = self.now()
        return self.mount_info(rec)

    def vm_mounts(self, vm_id: str) -> list[dict[str, Any]]:
        self.vm(vm_id)
        return [
            self.mount_info(rec)
            for rec in self.list_volume_records()
            if (self.mounted_on(rec) or {}).get("vm_id") == vm_id
        ]

    def unmount_volume(self, vm_id: str, volume_id: str, mount_path: str | None) -> dict:
        self.vm(vm_id)
        rec = self.volume(volume_id)
        holder = self.mounted_on(rec)
        if (
            holder is None
            or holder["vm_id"] != vm_id
            or (mount_path is not None and mount_path != rec["mount"]["mount_path"])
        ):
            raise HttpError(
                404,
                f"Volume {volume_id} is not mounted on VM {vm_id}"
                + (f" at {mount_path}" if mount_path is not None else ""),
            )
        self.dialect_fault("UnmountVolume", vm=vm_id, volume=volume_id)
        try:
            self.cloud.detach_volume(rec["uuid"])
        except DomainError as exc:
            raise http_error(exc) from None
        info = self.mount_info(rec)
        rec["mount"] = None
        rec["updated_at"] = self.now()
        return {**info, "status": "unmounted"}

    def mount_info(self, rec: dict) -> dict[str, Any]:
        mount = rec.get("mount") or {}
        return {
            "vm_id": mount.get("vm_id"),
            "volume_id": rec["id"],
            "mount_path": mount.get("mount_path"),
            "mode": mount.get("mode"),
            "status": "mounted",
        }

    def _move_mounts(self, old_vm_id: str, new_vm_id: str) -> None:
        """A resumed VM's mounts follow it to its new id."""
        for rec in self.volumes.values():
            if (rec.get("mount") or {}).get("vm_id") == old_vm_id:
                rec["mount"]["vm_id"] = new_vm_id
