"""InstaVM's objects (VM records, snapshots, sessions) kept in the dialect state, and the
model operations behind them.

Everything InstaVM-specific lives in ``cloud.dialect_state("instavm")`` (JSON-able, so
it survives ``Cloud.snapshot()`` / ``Cloud.restore()``): records keyed by InstaVM id,
each holding the model uuid it stands for. The model does the work (placement, capacity,
copy-on-write trees); this module sequences the model's neutral operations the way
InstaVM's endpoints do, and decides what status a record shows at the current time.

Time-driven changes (``creating`` -> ``active`` after an asynchronous boot, clean-up of a
clone's temporary snapshot, lifetime expiry) are applied by ``settle()``. The dialect
registers ``settle_on_time`` with ``cloud.on_time``, so they happen after every
``cloud.tick()`` and before every request the app serves, whichever dialect it is for.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Optional

from fakestack import faults
from fakestack.model import StartPolicy
from fakestack.model.clock import ManualClock
from fakestack.model.errors import CapacityExhausted, DomainError

from . import ids as idfmt
from .errors import describe_failure, http_error
from .render import timestamp
from .schemas import DEFAULT_LIFETIME_SECONDS, DEFAULT_MEMORY_MB, DEFAULT_VCPU_COUNT
from .wire import HttpError

MiB = 1024 * 1024

DEFAULT_SETTINGS = {
    "async_boot_seconds": 1.0,  # wait=false: creating -> active after this much clock time
    "async_snapshot_seconds": 1.0,  # wait=false VM snapshot: creating -> ready
    "oci_build_seconds": 1.0,  # POST /v1/snapshots: building -> ready
    "wait_timeout_seconds": 30.0,  # wait=true on a real clock: give up (504) after this
    "default_image": None,  # image name or uuid; None = the first root-volume template
}

STATE_NAME = "instavm"
# How often a wait=true request on a real clock looks again at its job (the cloud lock is
# free in between, so other clients are served meanwhile).
WAIT_POLL_SECONDS = 0.02

LIVE = ("creating", "active")
MODEL_STATUS = {
    "Running": "active",
    "Starting": "creating",
    "Created": "creating",
    "Stopped": "stopped",
    "Stopping": "stopped",
    "Paused": "suspended",
    "Pausing": "suspended",
    "Resuming": "suspended",
    "Destroyed": "killed",
    "Destroying": "killed",
    "Expunging": "killed",
}


def settle_on_time(cloud) -> None:
    """The dialect's ``cloud.on_time`` listener: apply InstaVM's time-driven changes.

    A module-level function, so that registering it again (every ``make_app`` on the same
    cloud, a reset that rebuilds the dialects) keeps one listener. Clouds where InstaVM
    has no records are left untouched.
    """
    state = cloud.dialect_state(STATE_NAME)
    if state.get("vms") or state.get("snapshots"):
        InstaVMService(cloud).settle()


@contextmanager
def lock_released(lock):
    """Let other threads take ``lock`` (a ``threading.RLock`` this thread may hold, at any
    depth) for the duration of the block; take it back, at the same depth, afterwards."""
    depth = 0
    while True:
        try:
            lock.release()
        except RuntimeError:  # not (or no longer) held by this thread
            break
        depth += 1
    try:
        yield
    finally:
        for _ in range(depth):
            lock.acquire()


def _in_creation_order(records) -> list[dict]:
    return sorted(records, key=lambda r: (r["created_at"], r["vm_id"]))


def _first(records: list[dict], key: str) -> Any:
    for record in records:
        if record.get(key):
            return record[key]
    return None


class InstaVMService:
    def __init__(self, cloud) -> None:
        self.cloud = cloud

    # -- state --------------------------------------------------------------------------
    @property
    def state(self) -> dict:
        state = self.cloud.dialect_state(STATE_NAME)
        for key in ("vms", "snapshots", "sessions"):
            state.setdefault(key, {})
        return state

    def setting(self, name: str) -> Any:
        return self.state.get("settings", {}).get(name, DEFAULT_SETTINGS[name])

    @property
    def vms(self) -> dict:
        return self.state["vms"]

    @property
    def snapshots(self) -> dict:
        return self.state["snapshots"]

    @property
    def sessions(self) -> dict:
        return self.state["sessions"]

    def now(self) -> float:
        return self.cloud.clock.now()

    # -- ids ----------------------------------------------------------------------------
    def _new_vm_id(self) -> str:
        return idfmt.new_vm_id(self.cloud.ids, self.vms)

    def _new_snapshot_id(self) -> str:
        return idfmt.new_snapshot_id(self.cloud.ids, self.snapshots)

    def _new_session(self, **settings) -> dict:
        sid = idfmt.new_session_id(self.cloud.ids, self.sessions)
        session = {"session_id": sid, "created_at": self.now(), "vm_id": None,
                   "failed": False, "last_error": None, **settings}
        self.sessions[sid] = session
        return session

    # -- lookups ------------------------------------------------------------------------
    def vm(self, vm_id: str) -> dict:
        rec = self.vms.get(vm_id)
        if rec is None:
            raise HttpError(404, "VM not found")
        return rec

    def snapshot(self, snapshot_id: str) -> dict:
        rec = self.snapshots.get(snapshot_id)
        if rec is None or not self._in_model(rec):
            raise HttpError(404, "Snapshot not found")
        return rec

    def _in_model(self, rec: dict) -> bool:
        """Does what a snapshot record stands for still exist in the model? Another dialect
        may delete a VM snapshot's volume snapshot or an OCI build's image; the record then
        reads as gone (and again as there if the image is recovered)."""
        if rec.get("uuid"):
            return self.cloud.volume_snapshots.by_uuid(rec["uuid"]) is not None
        image = self.cloud.images.by_uuid(rec.get("image_uuid"))
        return image is not None and image.status != "Deleted"

    def model_vm(self, rec: dict):
        return self.cloud.vms.by_uuid(rec.get("uuid"))

    def sizing(self, rec: dict) -> tuple[int, int]:
        """``(vcpu_count, memory_mb)``: the model VM's while it exists (another dialect may
        resize it); the record's last known figures once it is gone."""
        vm = self.model_vm(rec)
        if vm is None:
            return rec["vcpu_count"], rec["memory_mb"]
        return vm.cpu_num, vm.memory_size // MiB

    def status(self, rec: dict) -> str:
        if rec["status"] in ("killed", "failed", "creating"):
            return rec["status"]
        vm = self.model_vm(rec)
        if vm is None:
            return "killed"
        return MODEL_STATUS.get(vm.state, vm.state.lower())

    def require_active(self, rec: dict) -> Any:
        status = self.status(rec)
        if status != "active":
            raise HttpError(409, f"VM {rec['vm_id']} is not active (status: {status})")
        return self.model_vm(rec)

    def ordered_vms(self) -> list[dict]:
        return _in_creation_order(self.vms.values())

    # -- the clock ----------------------------------------------------------------------
    def _job_end(self, job_uuid: Optional[str]) -> Optional[float]:
        """When the job ended or will end; ``None`` while it hangs."""
        if job_uuid is None:
            return 0.0
        job = self.cloud.jobs.find(job_uuid)
        if job is None:
            return 0.0
        return job.end

    def _ready_time(self, rec: dict) -> Optional[float]:
        end = self._job_end(rec.get("job"))
        if end is None:
            return None
        return max(end, rec.get("ready_at") or 0.0)

    def adopt(self) -> None:
        """Take in the topology's running VMs, once (at the first InstaVM request)."""
        if not self.state.get("adopted"):
            self._adopt_topology_vms()

    def settle(self) -> None:
        """Apply every change whose time has come, in time order per kind."""
        now = self.now()
        for rec in list(self.snapshots.values()):
            if rec["status"] in ("creating", "building"):
                ready = self._ready_time(rec)
                if ready is not None and ready <= now:
                    rec["status"] = "ready"
                    rec["updated_at"] = ready
        # This runs before every request of every dialect: pick the due records in one
        # pass, and sort only those (same order as sorting them all).
        booting = [r for r in self.vms.values() if r["status"] == "creating"]
        for rec in _in_creation_order(booting):
            ready = self._ready_time(rec)
            if ready is not None and ready <= now:
                self._became_active(rec, ready)
        expired = [r for r in self.vms.values() if r["status"] == "active"
                   and r.get("vm_lifetime_seconds") is not None
                   and r["booted_at"] + r["vm_lifetime_seconds"] <= now]
        for rec in _in_creation_order(expired):
            if self.status(rec) in ("active", "stopped", "suspended"):
                try:
                    self._kill(rec)
                except DomainError:
                    pass  # a fault on expiry: the VM lives on until the next observation

    def _became_active(self, rec: dict, at: float) -> None:
        rec["status"] = "active"
        rec["booted_at"] = at
        cleanup = rec.pop("cleanup_snapshot", None)
        if cleanup is not None and cleanup in self.snapshots:
            rec["snapshot_deleted"] = self._delete_snapshot_quietly(cleanup)

    def _adopt_topology_vms(self) -> None:
        """Topology VMs running at start are InstaVM VMs too (ids from their model uuids,
        so adopting draws nothing from the seeded generator); they never expire."""
        names = [v.name for v in getattr(self.cloud.topology, "vms", [])]
        known = {rec["uuid"] for rec in self.vms.values()}
        for name in names:
            for vm in self.cloud.vms.by_name(name):
                if vm.state != "Running" or vm.uuid in known:
                    continue
                vm_id = f"vm_{vm.uuid[:12]}"
                session = {"session_id": idfmt.dashed_uuid(vm.uuid), "created_at": vm.create_date,
                           "vm_id": vm_id, "failed": False, "last_error": None}
                self.sessions[session["session_id"]] = session
                self.vms[vm_id] = {
                    "vm_id": vm_id, "uuid": vm.uuid, "session_id": session["session_id"],
                    "status": "active", "job": None, "created_at": vm.create_date, "ready_at": None,
                    "booted_at": vm.create_date, "vm_lifetime_seconds": None,
                    "vcpu_count": vm.cpu_num, "memory_mb": vm.memory_size // MiB,
                    "snapshot_id": None, "source_vm_id": None, "metadata": {},
                    "snapshot_on_terminate": False, "snapshot_name": None, "extra": {},
                }
        self.state["adopted"] = True

    def await_ready(self, rec: dict, detail: str) -> None:
        """wait=true: the record must be ready before the answer.

        Hung job: 504 at once. Manual clock: move it to the job's end (and let every
        time listener catch up). Real clock: wait up to ``wait_timeout_seconds`` of real
        time, then 504 while the work goes on; the cloud lock is released while waiting,
        so other clients (a poll, a DELETE, an admin clock move) are served meanwhile.
        """
        ready = self._ready_time(rec)
        if ready is None:
            raise HttpError(504, detail)
        if ready > self.now():
            clock = self.cloud.clock
            if isinstance(clock, ManualClock):
                clock.move_to(ready)
                self.cloud.settle()
            else:
                self._wait_in_real_time(rec, detail)
        self.settle()

    def _is_current(self, rec: dict) -> bool:
        """Is ``rec`` still the record the state holds (a reset or restore replaces them)?"""
        if "vm_id" in rec:
            return self.vms.get(rec["vm_id"]) is rec
        return self.snapshots.get(rec["id"]) is rec

    def _wait_in_real_time(self, rec: dict, detail: str) -> None:
        # The budget counts the time slept, not clock readings: under freezegun the clock
        # stands still and the request still gives up after wait_timeout_seconds.
        limit = float(self.setting("wait_timeout_seconds"))
        waited = 0.0
        while True:
            if not self._is_current(rec):
                kind = "VM" if "vm_id" in rec else "Snapshot"
                raise HttpError(404, f"{kind} not found")
            if rec["status"] not in ("creating", "building"):
                return  # settled (or killed) by another request meanwhile
            ready = self._ready_time(rec)
            if ready is None:
                raise HttpError(504, detail)
            remaining = ready - self.now()
            if remaining <= 0:
                return
            if waited >= limit:
                raise HttpError(504, detail)
            step = min(WAIT_POLL_SECONDS, limit - waited, remaining)
            with lock_released(self.cloud.lock):
                time.sleep(step)
            waited += step

    # -- model steps --------------------------------------------------------------------
    def _run(self, operation: str, fn, *args, **kwargs):
        """Run a model operation as a job; raise its domain error, return (result, job)."""
        job = self.cloud.submit(operation, fn, *args, **kwargs)
        if job.error is not None:
            raise job.error
        return job.result, job

    def dialect_fault(self, operation: str, **targets) -> None:
        """Let a fault plan match the whole request (``instavm:CloneVm`` ...)."""
        faults.dialect_point(self.cloud, f"instavm:{operation}", targets)

    def _default_image(self):
        wanted = self.setting("default_image")
        if wanted:
            return self.cloud.images.get(wanted)
        for image in self.cloud.images:
            if image.bootable and image.status == "Ready" \
                    and image.state == "Enabled":
                return image
        raise HttpError(503, "Insufficient capacity: no bootable image")

    def _take_snapshot(self, vm, name: str):
        return self._run("snapshot.create", self.cloud.create_volume_snapshot, vm.root_volume_uuid, name)

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

    def _snapshot_record(self, sid: str, model_snap, source: dict, name: Optional[str],
                         job, ready_at: Optional[float]) -> dict:
        now = self.now()
        vcpu, memory_mb = self.sizing(source)
        rec = {
            "id": sid, "uuid": model_snap.uuid, "name": name,
            "status": "creating", "job": job.uuid, "ready_at": ready_at,
            "source_vm_id": source["vm_id"], "snapshot_type": "vm", "type": "user",
            "oci_image": None, "vcpu_count": vcpu, "memory_mb": memory_mb,
            "size_bytes": int(model_snap.size), "is_public": False, "last_error": None,
            "created_at": now, "updated_at": now,
        }
        self.snapshots[sid] = rec
        return rec

    def _boot(self, vm_id: str, vcpu: int, memory_mb: int, snapshot: Optional[dict]):
        kwargs: dict[str, Any] = {"cpu_num": vcpu, "memory_size": memory_mb * MiB,
                                  "strategy": StartPolicy.START}
        if snapshot is not None and snapshot.get("uuid"):
            kwargs["snapshot"] = snapshot["uuid"]
        elif snapshot is not None and snapshot.get("image_uuid"):
            kwargs["image"] = snapshot["image_uuid"]
        else:
            kwargs["image"] = self._default_image().uuid
        return self._run("vm.create", self.cloud.create_vm, f"instavm-{vm_id}", **kwargs)

    def _vm_record(self, vm_id: str, session: dict, *, vcpu: int, memory_mb: int,
                   lifetime: Optional[int], snapshot_id: Optional[str] = None,
                   source_vm_id: Optional[str] = None, body: Any = None) -> dict:
        now = self.now()
        rec = {
            "vm_id": vm_id, "uuid": None, "session_id": session["session_id"],
            "status": "creating", "job": None, "created_at": now, "ready_at": now,
            "booted_at": None, "vm_lifetime_seconds": lifetime, "vcpu_count": vcpu,
            "memory_mb": memory_mb, "snapshot_id": snapshot_id, "source_vm_id": source_vm_id,
            "metadata": {}, "snapshot_on_terminate": False, "snapshot_name": None, "extra": {},
        }
        if body is not None:
            rec["metadata"] = dict(body.metadata or {})
            rec["snapshot_on_terminate"] = bool(body.snapshot_on_terminate)
            rec["snapshot_name"] = body.snapshot_name
            rec["extra"] = body.model_dump(
                mode="json", exclude_none=True,
                include={"env", "egress_policy", "share", "custom_domain", "volumes",
                         "auto_suspend", "auto_resume", "vault_ids", "image_variant"})
        self.vms[vm_id] = rec
        session["vm_id"] = vm_id
        session["failed"] = False
        session["last_error"] = None
        return rec

    @staticmethod
    def _fails_now(exc: DomainError) -> bool:
        """A real shortage is what the synchronous dry run of a wait=false request sees."""
        return isinstance(exc, CapacityExhausted) and not exc.injected

    # -- VM operations ------------------------------------------------------------------
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
                raise HttpError(409, f"Session {session['session_id']} already has a live VM ({current['vm_id']})")
        # body, else the snapshot's size, else what the session was opened with, else defaults
        sources = [snapshot or {}, session or {}]
        vcpu = body.vcpu_count or _first(sources, "vcpu_count") or DEFAULT_VCPU_COUNT
        memory_mb = body.memory_mb or _first(sources, "memory_mb") or DEFAULT_MEMORY_MB
        lifetime = (body.vm_lifetime_seconds or (session or {}).get("vm_lifetime_seconds")
                    or DEFAULT_LIFETIME_SECONDS)
        vm_id = self._new_vm_id()
        try:
            model_vm, job = self._boot(vm_id, vcpu, memory_mb, snapshot)
        except DomainError as exc:
            if wait or self._fails_now(exc):
                raise http_error(exc, body=body.model_dump()) from None
            session = session or self._new_session()
            rec = self._vm_record(vm_id, session, vcpu=vcpu, memory_mb=memory_mb, lifetime=lifetime,
                                  snapshot_id=body.snapshot_id, body=body)
            self._fail(rec, session, exc)
            return {"vm_id": None, "session_id": session["session_id"], "status": "creating"}
        session = session or self._new_session()
        rec = self._vm_record(vm_id, session, vcpu=vcpu, memory_mb=memory_mb, lifetime=lifetime,
                              snapshot_id=body.snapshot_id, body=body)
        self._attach_model_vm(rec, model_vm, job, wait)
        if not wait:
            return {"vm_id": None, "session_id": session["session_id"], "status": "creating"}
        self.await_ready(rec, "VM provisioning timed out")
        return rec

    def _attach_model_vm(self, rec: dict, model_vm, job, wait: bool) -> None:
        rec["uuid"] = model_vm.uuid
        rec["job"] = job.uuid
        if not wait:
            rec["ready_at"] = self.now() + float(self.setting("async_boot_seconds"))

    def _fail(self, rec: Optional[dict], session: dict, exc: DomainError) -> None:
        text = describe_failure(exc)
        if rec is not None:
            rec["status"] = "failed"
            rec["last_error"] = text
        session["failed"] = True
        session["last_error"] = text

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
        rec["extra"].update(body.model_dump(mode="json", exclude_none=True,
                                            include={"auto_suspend", "auto_resume", "vault_ids"}))
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
        if vm is not None and rec.get("snapshot_on_terminate") and vm.state == "Running" \
                and rec["status"] == "active":
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
        if any(snap.get("source_vm_id") == rec["vm_id"] and snap.get("uuid") and self._in_model(snap)
               for snap in self.snapshots.values()):
            return
        self.cloud.expunge_vm(vm.uuid)

    def snapshot_vm(self, vm_id: str, name: Optional[str], wait: bool) -> dict:
        rec = self.vm(vm_id)
        vm = self.require_active(rec)
        self.dialect_fault("SnapshotVm", vm=vm_id)
        sid = self._new_snapshot_id()
        try:
            snap, job = self._take_snapshot(vm, name or f"instavm-{sid}")
        except DomainError as exc:
            raise http_error(exc, timeout_detail="Snapshot timed out") from None
        ready_at = None if wait else self.now() + float(self.setting("async_snapshot_seconds"))
        srec = self._snapshot_record(sid, snap, rec, name, job, ready_at)
        if wait:
            self.await_ready(srec, "Snapshot timed out")
        else:
            self.settle()
        return {"snapshot_id": sid, "status": srec["status"]}

    def clone_vm(self, vm_id: str, snapshot_name: Optional[str], wait: bool) -> dict:
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
        return {"vm_id": clone_id, "session_id": session["session_id"], "status": self.status(rec),
                "snapshot_id": sid, "snapshot_deleted": deleted}

    @staticmethod
    def _clone_pending(session: dict) -> dict:
        return {"vm_id": None, "session_id": session["session_id"], "status": "creating",
                "snapshot_id": None, "snapshot_deleted": None}

    # -- snapshots ----------------------------------------------------------------------
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
                f"instavm-{sid}", virtual_size=size,
                actual_size=size, description=f"InstaVM OCI snapshot {sid} ({body.oci_image})")
        except DomainError as exc:
            raise http_error(exc, body=body.model_dump(mode="json")) from None
        rec = {
            "id": sid, "uuid": None, "image_uuid": image.uuid, "name": body.name,
            "status": "building", "job": None,
            "ready_at": now + float(self.setting("oci_build_seconds")), "source_vm_id": None,
            "snapshot_type": "oci", "type": body.type, "oci_image": body.oci_image,
            "vcpu_count": body.vcpu_count, "memory_mb": body.memory_mb,
            "size_bytes": size, "is_public": False, "last_error": None,
            "created_at": now, "updated_at": now,
            "build_args": body.build_args.model_dump(mode="json", exclude_none=True) if body.build_args else None,
        }
        self.snapshots[sid] = rec
        return rec

    def list_snapshots(self, type_filter: Optional[str]) -> list[dict]:
        recs = sorted((r for r in self.snapshots.values() if self._in_model(r)),
                      key=lambda r: (r["created_at"], r["id"]))
        if type_filter is not None:
            recs = [r for r in recs if r.get("type") == type_filter]
        return recs

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

    # -- sessions -----------------------------------------------------------------------
    def create_session(self, body) -> dict:
        self.dialect_fault("CreateSession")
        session = self._new_session(
            vm_lifetime_seconds=body.vm_lifetime_seconds, memory_mb=body.memory_mb,
            vcpu_count=body.vcpu_count, metadata=body.metadata)
        return {"session_id": session["session_id"]}

    def session_status(self, session_id: str) -> dict:
        session = self.sessions.get(session_id)
        if session is None:
            return {"session_id": session_id, "exists": False, "vm_assigned": False,
                    "vm_status": None, "vm_id": None, "vm_alive": False, "uptime_seconds": None,
                    "expires_in_seconds": None, "created_at": None, "last_error": None}
        rec = self.vms.get(session.get("vm_id") or "")
        now = self.now()
        if rec is None:
            return {"session_id": session_id, "exists": True, "vm_assigned": False,
                    "vm_status": "failed" if session.get("failed") else None, "vm_id": None,
                    "vm_alive": False, "uptime_seconds": None, "expires_in_seconds": None,
                    "created_at": timestamp(session["created_at"]),
                    "last_error": session.get("last_error")}
        status = self.status(rec)
        alive = status == "active"
        lifetime = rec.get("vm_lifetime_seconds")
        expires_in: Optional[float] = 0.0
        if alive:
            expires_in = (float(rec["booted_at"] + lifetime - now) if lifetime is not None else None)
        elif status == "creating":
            expires_in = None
        return {
            "session_id": session_id, "exists": True, "vm_assigned": True, "vm_status": status,
            "vm_id": rec["vm_id"], "vm_alive": alive,
            "uptime_seconds": float(now - rec["booted_at"]) if alive else None,
            "expires_in_seconds": expires_in,
            "created_at": timestamp(session["created_at"]),
            "last_error": session.get("last_error"),
        }

    def kill_session(self, session_id: str) -> dict:
        if not idfmt.is_uuid_text(session_id):
            raise HttpError(400, "Invalid session_id format")
        session = self.sessions.get(session_id)
        rec = self.vms.get((session or {}).get("vm_id") or "")
        if rec is None:
            raise HttpError(404, "Session not found or no VM assigned to session")
        if self.status(rec) not in ("killed", "failed"):
            self.dialect_fault("KillVm", vm=rec["vm_id"])
            self._kill(rec)
        return {"session_id": session_id, "vm_id": rec["vm_id"], "status": "killed"}
