"""The snapshot endpoints' operations: VM snapshots (volume snapshots in the model), OCI
builds (images on backup storage), listing and deletion."""

from __future__ import annotations

from fakestack.model.errors import DomainError

from ..errors import HttpError, http_error
from .records import MiB, Records


class SnapshotOperations(Records):
    def _take_snapshot(self, vm, name: str):
        return self._run("snapshot.create", self.cloud.create_volume_snapshot, vm.root_volume_uuid, name)

    def _snapshot_record(
        self, sid: str, model_snap, source: dict, name: str | None, job, timer: str | None
    ) -> dict:
        now = self.now()
        vcpu, memory_mb = self.sizing(source)
        rec = {
            "id": sid,
            "uuid": model_snap.uuid,
            "name": name,
            "status": "creating",
            "job": job.uuid,
            "timer": timer,
            "source_vm_id": source["vm_id"],
            "snapshot_type": "vm",
            "type": "user",
            "oci_image": None,
            "vcpu_count": vcpu,
            "memory_mb": memory_mb,
            "size_bytes": int(model_snap.size),
            "is_public": False,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        }
        self.snapshots[sid] = rec
        return rec

    def _delete_snapshot_quietly(self, snapshot_id: str) -> bool:
        """Delete a snapshot; True when it is gone (a fault leaves it listed)."""
        rec = self.snapshots.get(snapshot_id)
        if rec is None:
            return True
        try:
            self._delete_model_snapshot(rec)
        except DomainError:
            return False
        del self.snapshots[snapshot_id]
        return True

    def _delete_model_snapshot(self, rec: dict) -> None:
        """What a snapshot stands for in the model goes: a VM snapshot's volume snapshot
        (its data stays hidden while disks are built on it; a killed source VM kept for it
        goes with its last one), an OCI build's image (freeing the backup storage; image
        caches on primary storage stay while disks use them)."""
        if rec.get("uuid") and self.cloud.volume_snapshots.find(rec["uuid"]) is not None:
            with self.cloud.atomic():
                self.cloud.delete_volume_snapshot(rec["uuid"])
                source = self.vms.get(rec.get("source_vm_id") or "")
                if source is not None and source["status"] == "killed":
                    self._expunge_unless_snapshotted(source)
        image_uuid = rec.get("image_uuid")
        if image_uuid and self.cloud.images.find(image_uuid) is not None:
            with self.cloud.atomic():
                self.cloud.delete_image(image_uuid)
                self.cloud.expunge_image(image_uuid)

    def create_oci_snapshot(self, body) -> dict:
        """An OCI build registers its disk (``disk_size_gb`` GiB, default 3) as an image on
        the backup storage with the most room, now: a full backup storage answers 503
        ``Insufficient capacity: backup_storage (...)`` and nothing is recorded. The
        snapshot reads ``building`` for ``oci_build_seconds``, then ``ready``."""
        self.dialect_fault("CreateSnapshot")
        sid = self._new_snapshot_id()
        now = self.now()
        disk_gb = (body.build_args.disk_size_gb if body.build_args else None) or 3
        size = disk_gb * 1024 * MiB
        try:
            image = self.cloud.register_image(
                f"instavm-{sid}",
                virtual_size=size,
                actual_size=size,
                description=f"InstaVM OCI snapshot {sid} ({body.oci_image})",
            )
        except DomainError as exc:
            raise http_error(exc, body=body.model_dump(mode="json")) from None
        rec = {
            "id": sid,
            "uuid": None,
            "image_uuid": image.uuid,
            "name": body.name,
            "status": "building",
            "job": None,
            "timer": self._timer("image.build", "oci_build_seconds", sid),
            "source_vm_id": None,
            "snapshot_type": "oci",
            "type": body.type,
            "oci_image": body.oci_image,
            "vcpu_count": body.vcpu_count,
            "memory_mb": body.memory_mb,
            "size_bytes": size,
            "is_public": False,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
            "build_args": body.build_args.model_dump(mode="json", exclude_none=True)
            if body.build_args
            else None,
        }
        self.snapshots[sid] = rec
        return rec

    def list_snapshots(self, type_filter: str | None) -> list[dict]:
        # the type first: only the snapshots listed are looked up in the model and sorted
        return sorted(
            (
                r
                for r in self.snapshots.values()
                if (type_filter is None or r.get("type") == type_filter) and self._in_model(r)
            ),
            key=lambda r: (r["created_at"], r["id"]),
        )

    def delete_snapshot(self, snapshot_id: str) -> dict:
        rec = self.snapshot(snapshot_id)
        if rec["status"] in ("creating", "building"):
            raise HttpError(409, f"Snapshot {snapshot_id} is not ready (status: {rec['status']})")
        self.dialect_fault("DeleteSnapshot", snapshot=snapshot_id)
        try:
            self._delete_model_snapshot(rec)
        except DomainError as exc:
            raise http_error(exc) from None
        for vm_rec in self.vms.values():
            if vm_rec.get("cleanup_snapshot") == snapshot_id:
                vm_rec.pop("cleanup_snapshot")
        del self.snapshots[snapshot_id]
        return {"snapshot_id": snapshot_id, "status": "deleted"}
