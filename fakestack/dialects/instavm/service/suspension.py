"""Suspend and resume: a suspended VM is parked on its storage (the model's
``hibernate_vm``: memory saved with the disks, the host's CPU and memory released), and
resumed by the model's ``wake_vm``, which places it again and needs the room a start
needs (503 otherwise, and it stays suspended).

Resume mints a fresh ``vm_id`` (the SDK says so): the new record takes over the model VM
and the session; the old record reads ``killed`` from then on (it still names the model
VM, so that snapshots taken under the old id keep their VM alive).  ``wait=false``
answers at once with the new record ``creating``, ``active`` after ``async_boot_seconds``.
``auto_suspend`` (create/PATCH) parks a VM whose lifetime ends instead of killing it;
``auto_resume`` lets an execution wake a suspended VM.
"""

from __future__ import annotations

from fakestack.model.errors import DomainError

from ..errors import HttpError, http_error
from .records import LIVE
from .volumes import VolumeOperations

# model VM states that InstaVM's resume brings back
_WAKE = {"Hibernated": "wake_vm", "Paused": "resume_vm"}


class SuspensionOperations(VolumeOperations):
    def suspend_vm(self, vm_id: str) -> dict:
        rec = self.vm(vm_id)
        vm = self.require_active(rec)
        self.dialect_fault("SuspendVm", vm=vm_id)
        try:
            self.cloud.hibernate_vm(vm.uuid)
        except DomainError as exc:
            raise http_error(exc) from None
        self._parked(rec)
        return rec

    def _parked(self, rec: dict) -> None:
        rec["status"] = "suspended"
        rec["suspended_at"] = self.now()

    def _park_on_expiry(self, rec: dict) -> None:
        """``auto_suspend``: the lifetime's end parks the VM (a fault leaves it running
        until the next observation, as a failed expiry does)."""
        vm = self.model_vm(rec)
        if vm is not None and vm.state == "Running":
            self.cloud.hibernate_vm(vm.uuid)
            self._parked(rec)

    def resume_vm(self, vm_id: str, wait: bool) -> dict:
        old = self.vm(vm_id)
        vm = self.model_vm(old)
        status = self.status(old)
        if status != "suspended" or vm is None or vm.state not in _WAKE:
            raise HttpError(409, f"VM {vm_id} is not suspended (status: {status})")
        self.dialect_fault("ResumeVm", vm=vm_id)
        try:
            _, job = self._run("vm.wake", getattr(self.cloud, _WAKE[vm.state]), vm.uuid)
        except DomainError as exc:
            raise http_error(exc) from None
        session = self.sessions[old["session_id"]]
        new_id = self._new_vm_id()
        vcpu, memory_mb = self.sizing(old)
        rec = self._vm_record(
            new_id,
            session,
            vcpu=vcpu,
            memory_mb=memory_mb,
            lifetime=old.get("vm_lifetime_seconds"),
            snapshot_id=old.get("snapshot_id"),
            source_vm_id=old.get("source_vm_id"),
        )
        for key in ("metadata", "snapshot_on_terminate", "snapshot_name", "extra", "egress"):
            if key in old:
                rec[key] = old[key]
        rec["resumed_from"] = vm_id
        self._move_mounts(vm_id, new_id)
        old["vcpu_count"], old["memory_mb"] = vcpu, memory_mb
        old["status"] = "killed"
        old["killed_at"] = self.now()
        old["resumed_as"] = new_id
        self._attach_model_vm(rec, vm, job, wait)
        if wait:
            self.await_ready(rec, "VM provisioning timed out")
        return rec

    def wake_for_use(self, rec: dict) -> dict:
        """An interaction that needs the VM live: a suspended VM with ``auto_resume``
        is resumed (and its new record returned); otherwise it must be live."""
        if self.status(rec) == "suspended" and (rec.get("extra") or {}).get("auto_resume"):
            return self.resume_vm(rec["vm_id"], wait=True)
        status = self.status(rec)
        if status not in LIVE:
            raise HttpError(409, f"VM {rec['vm_id']} is not active (status: {status})")
        return rec
