"""The VM endpoints' operations: create (boot from an image or a snapshot), update (live
resize), delete (kill: snapshot on terminate, destroy, expunge), snapshot and clone."""

from __future__ import annotations

from typing import Any

from fakestack.model import StartPolicy
from fakestack.model.errors import DomainError

from ..errors import HttpError, http_error
from ..schemas import DEFAULT_LIFETIME_SECONDS, DEFAULT_MEMORY_MB, DEFAULT_VCPU_COUNT
from .records import LIVE, MiB, Records, _first


class VmOperations(Records):
    def create_vm(self, body, wait: bool) -> dict:
        self.dialect_fault("CreateVm")
        snapshot = None
        if body.snapshot_id is not None:
            snapshot = self.snapshot(body.snapshot_id)
            if snapshot["status"] != "ready":
                raise HttpError(409, f"Snapshot {snapshot['id']} is not ready (status: {snapshot['status']})")
        session = None
        if body.session_id is not None:
            session = self.sessions.get(body.session_id)
            if session is None:
                raise HttpError(404, "Session not found")
            current = self.vms.get(session.get("vm_id") or "")
            if current is not None and self.status(current) in LIVE:
                raise HttpError(
                    409, f"Session {session['session_id']} already has a live VM ({current['vm_id']})"
                )
        # body, else the snapshot's size, else what the session was opened with, else defaults
        sources = [snapshot or {}, session or {}]
        vcpu = body.vcpu_count or _first(sources, "vcpu_count") or DEFAULT_VCPU_COUNT
        memory_mb = body.memory_mb or _first(sources, "memory_mb") or DEFAULT_MEMORY_MB
        lifetime = (
            body.vm_lifetime_seconds or (session or {}).get("vm_lifetime_seconds") or DEFAULT_LIFETIME_SECONDS
        )
        vm_id = self._new_vm_id()
        try:
            model_vm, job = self._boot(vm_id, vcpu, memory_mb, snapshot)
        except DomainError as exc:
            if wait or self._fails_now(exc):
                raise http_error(exc, body=body.model_dump()) from None
            session = session or self._new_session()
            rec = self._vm_record(
                vm_id,
                session,
                vcpu=vcpu,
                memory_mb=memory_mb,
                lifetime=lifetime,
                snapshot_id=body.snapshot_id,
                body=body,
            )
            self._fail(rec, session, exc)
            return {"vm_id": None, "session_id": session["session_id"], "status": "creating"}
        session = session or self._new_session()
        rec = self._vm_record(
            vm_id,
            session,
            vcpu=vcpu,
            memory_mb=memory_mb,
            lifetime=lifetime,
            snapshot_id=body.snapshot_id,
            body=body,
        )
        self._attach_model_vm(rec, model_vm, job, wait)
        if not wait:
            return {"vm_id": None, "session_id": session["session_id"], "status": "creating"}
        self.await_ready(rec, "VM provisioning timed out")
        return rec

    def _attach_model_vm(self, rec: dict, model_vm, job, wait: bool) -> None:
        rec["uuid"] = model_vm.uuid
        rec["job"] = job.uuid
        if not wait:
            rec["timer"] = self._timer("vm.boot", "async_boot_seconds", rec["vm_id"])

    def _boot(self, vm_id: str, vcpu: int, memory_mb: int, snapshot: dict | None):
        kwargs: dict[str, Any] = {
            "cpu_num": vcpu,
            "memory_size": memory_mb * MiB,
            "strategy": StartPolicy.START,
        }
        if snapshot is not None and snapshot.get("uuid"):
            kwargs["snapshot"] = snapshot["uuid"]
        elif snapshot is not None and snapshot.get("image_uuid"):
            kwargs["image"] = snapshot["image_uuid"]
        else:
            kwargs["image"] = self._default_image().uuid
        return self._run("vm.create", self.cloud.create_vm, f"instavm-{vm_id}", **kwargs)

    def _default_image(self):
        wanted = self.setting("default_image")
        if wanted:
            return self.cloud.images.get(wanted)
        for image in self.cloud.images:
            if image.bootable and image.status == "Ready" and image.state == "Enabled":
                return image
        raise HttpError(503, "Insufficient capacity: no bootable image")

    def _vm_record(
        self,
        vm_id: str,
        session: dict,
        *,
        vcpu: int,
        memory_mb: int,
        lifetime: int | None,
        snapshot_id: str | None = None,
        source_vm_id: str | None = None,
        body: Any = None,
    ) -> dict:
        now = self.now()
        rec = {
            "vm_id": vm_id,
            "uuid": None,
            "session_id": session["session_id"],
            "status": "creating",
            "job": None,
            "timer": None,
            "created_at": now,
            "booted_at": None,
            "vm_lifetime_seconds": lifetime,
            "vcpu_count": vcpu,
            "memory_mb": memory_mb,
            "snapshot_id": snapshot_id,
            "source_vm_id": source_vm_id,
            "metadata": {},
            "snapshot_on_terminate": False,
            "snapshot_name": None,
            "extra": {},
        }
        if body is not None:
            rec["metadata"] = dict(body.metadata or {})
            rec["snapshot_on_terminate"] = bool(body.snapshot_on_terminate)
            rec["snapshot_name"] = body.snapshot_name
            rec["extra"] = body.model_dump(
                mode="json",
                exclude_none=True,
                include={
                    "env",
                    "egress_policy",
                    "share",
                    "custom_domain",
                    "volumes",
                    "auto_suspend",
                    "auto_resume",
                    "vault_ids",
                    "image_variant",
                },
            )
        self.vms[vm_id] = rec
        session["vm_id"] = vm_id
        session["failed"] = False
        session["last_error"] = None
        return rec

    def update_vm(self, vm_id: str, body) -> dict:
        rec = self.vm(vm_id)
        self.dialect_fault("UpdateVm", vm=vm_id)
        status = self.status(rec)
        if status not in LIVE:
            raise HttpError(409, f"VM {vm_id} is not active (status: {status})")
        self._resize(rec, body)
        if body.snapshot_on_terminate is not None:
            rec["snapshot_on_terminate"] = body.snapshot_on_terminate
        if body.snapshot_name is not None:
            rec["snapshot_name"] = body.snapshot_name
        rec["extra"].update(
            body.model_dump(
                mode="json", exclude_none=True, include={"auto_suspend", "auto_resume", "vault_ids"}
            )
        )
        return rec

    def _resize(self, rec: dict, body) -> None:
        """Live resize: a different ``memory_mb`` / ``vcpu_count`` goes through the model's
        ``resize_vm``, which needs the growth to fit on the VM's host (503 otherwise, and
        nothing in the PATCH is applied)."""
        current_vcpu, current_memory_mb = self.sizing(rec)
        memory_mb = body.memory_mb if body.memory_mb is not None else current_memory_mb
        vcpu = body.vcpu_count if body.vcpu_count is not None else current_vcpu
        if (memory_mb, vcpu) == (current_memory_mb, current_vcpu):
            return
        vm = self.model_vm(rec)
        if vm is None:
            raise HttpError(409, f"VM {rec['vm_id']} is not active (status: {self.status(rec)})")
        try:
            self.cloud.resize_vm(vm.uuid, cpu_num=vcpu, memory_size=memory_mb * MiB)
        except DomainError as exc:
            raise http_error(exc, body=body.model_dump(mode="json")) from None
        rec["memory_mb"] = memory_mb
        rec["vcpu_count"] = vcpu

    def delete_vm(self, vm_id: str) -> dict:
        rec = self.vm(vm_id)
        if self.status(rec) not in ("killed", "failed"):
            self.dialect_fault("DeleteVm", vm=vm_id)
            self._kill(rec)
        return {"vm_id": vm_id, "status": "killed"}

    def _kill(self, rec: dict) -> None:
        """Terminate: optional snapshot first (its failure does not stop the kill), then
        the model VM is destroyed (host capacity back) and expunged (disks by CoW rules)."""
        vm = self.model_vm(rec)
        if (
            vm is not None
            and rec.get("snapshot_on_terminate")
            and vm.state == "Running"
            and rec["status"] == "active"
        ):
            sid = self._new_snapshot_id()
            try:
                snap, job = self._take_snapshot(vm, rec.get("snapshot_name") or f"instavm-{sid}")
            except DomainError:
                pass
            else:
                self._snapshot_record(sid, snap, rec, rec.get("snapshot_name"), job, None)
        if vm is not None:
            rec["vcpu_count"], rec["memory_mb"] = self.sizing(rec)  # what a killed VM shows
            if vm.state not in ("Destroyed", "Expunging"):
                self.cloud.destroy_vm(vm.uuid)
            self._expunge_unless_snapshotted(rec)
        rec["status"] = "killed"
        rec["killed_at"] = self.now()
        cleanup = rec.pop("cleanup_snapshot", None)
        if cleanup is not None:
            self._delete_snapshot_quietly(cleanup)

    def _expunge_unless_snapshotted(self, rec: dict) -> None:
        """Expunge a killed VM's destroyed model VM, unless InstaVM snapshots of it remain:
        the model deletes a volume's snapshots with the volume, and an InstaVM snapshot
        outlives its VM. The deletion of the last of them expunges the VM."""
        vm = self.model_vm(rec)
        if vm is None or vm.state != "Destroyed":
            return
        # by model VM: a resumed VM's snapshots name its earlier vm_id, which names it too
        if any(
            snap.get("uuid")
            and self._in_model(snap)
            and (self.vms.get(snap.get("source_vm_id") or "") or {}).get("uuid") == vm.uuid
            for snap in self.snapshots.values()
        ):
            return
        self.cloud.expunge_vm(vm.uuid)

    def snapshot_vm(self, vm_id: str, name: str | None, wait: bool) -> dict:
        rec = self.vm(vm_id)
        vm = self.require_active(rec)
        self.dialect_fault("SnapshotVm", vm=vm_id)
        sid = self._new_snapshot_id()
        try:
            snap, job = self._take_snapshot(vm, name or f"instavm-{sid}")
        except DomainError as exc:
            raise http_error(exc, timeout_detail="Snapshot timed out") from None
        timer = None if wait else self._timer("snapshot.finish", "async_snapshot_seconds", sid)
        srec = self._snapshot_record(sid, snap, rec, name, job, timer)
        if wait:
            self.await_ready(srec, "Snapshot timed out")
        else:
            self.settle()
        return {"snapshot_id": sid, "status": srec["status"]}

    def clone_vm(self, vm_id: str, snapshot_name: str | None, wait: bool) -> dict:
        """The three-step pipeline: snapshot the source, boot a VM in a new session from
        it, delete the snapshot unless it was named.

        Steps 1 and 2 run in one ``cloud.atomic()`` block: when the boot fails, the
        snapshot is undone with it and the source is back on its old leaf, so a failed
        clone leaves nothing behind (ledgers, disk trees, records).
        """
        source = self.vm(vm_id)
        vm = self.require_active(source)
        self.dialect_fault("CloneVm", vm=vm_id)
        sid = self._new_snapshot_id()
        clone_id = self._new_vm_id()
        lifetime = source.get("vm_lifetime_seconds") or DEFAULT_LIFETIME_SECONDS
        vcpu, memory_mb = self.sizing(source)
        sizing = {"vcpu": vcpu, "memory_mb": memory_mb, "lifetime": lifetime, "source_vm_id": vm_id}
        step = "snapshot"
        try:
            with self.cloud.atomic():
                # 1. snapshot: the source's current leaf is frozen, the source writes to a new one
                snap, snap_job = self._take_snapshot(vm, snapshot_name or f"instavm-clone-{sid}")
                # 2. boot the clone on a new leaf above the frozen node
                step = "boot"
                model_vm, job = self._boot(clone_id, vcpu, memory_mb, {"uuid": snap.uuid})
        except DomainError as exc:
            if wait or self._fails_now(exc):
                raise http_error(exc) from None
            # wait=false: the failure is what the client finds when it polls (a failed
            # boot leaves a `failed` VM record holding nothing)
            session = self._new_session()
            rec = None
            if step == "boot":
                rec = self._vm_record(clone_id, session, snapshot_id=None, **sizing)
            self._fail(rec, session, exc)
            return self._clone_pending(session)
        self._snapshot_record(sid, snap, source, snapshot_name, snap_job, None)
        session = self._new_session()
        rec = self._vm_record(clone_id, session, snapshot_id=sid, **sizing)
        self._attach_model_vm(rec, model_vm, job, wait)
        # 3. clean-up happens when the clone is active (now for wait=true)
        if snapshot_name is None:
            rec["cleanup_snapshot"] = sid
        if not wait:
            return self._clone_pending(session)
        self.await_ready(rec, "VM provisioning timed out")
        deleted = snapshot_name is None and sid not in self.snapshots
        return {
            "vm_id": clone_id,
            "session_id": session["session_id"],
            "status": self.status(rec),
            "snapshot_id": sid,
            "snapshot_deleted": deleted,
        }

    @staticmethod
    def _clone_pending(session: dict) -> dict:
        return {
            "vm_id": None,
            "session_id": session["session_id"],
            "status": "creating",
            "snapshot_id": None,
            "snapshot_deleted": None,
        }
