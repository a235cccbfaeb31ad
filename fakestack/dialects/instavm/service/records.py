"""InstaVM's records and their lifecycle: the dialect state, lookups, the status a record
shows at the current time, and the time-driven changes (``settle``).

Everything InstaVM-specific lives in ``cloud.dialect_state("instavm")`` (JSON-able, so
it survives ``Cloud.snapshot()`` / ``Cloud.restore()``): records keyed by InstaVM id,
each holding the model uuid it stands for. A record is ready when the model jobs it
refers to have ended: ``job``, the operation behind it, and ``timer``, a job that only
takes time (``cloud.timed_job``), for the asynchronous boot and build durations.
"""

from __future__ import annotations

from bisect import insort
from itertools import islice
from typing import Any
from weakref import WeakKeyDictionary

from fakestack import faults
from fakestack.model.errors import CapacityExhausted, DomainError

from ...kit.cloud import DialectCloud
from ...kit.jobs import run_job, wait_until
from .. import ids as idfmt
from ..errors import HttpError, describe_failure

MiB = 1024 * 1024

DEFAULT_SETTINGS = {
    "async_boot_seconds": 1.0,  # wait=false: creating -> active after this much clock time
    "async_snapshot_seconds": 1.0,  # wait=false VM snapshot: creating -> ready
    "oci_build_seconds": 1.0,  # POST /v1/snapshots: building -> ready
    "wait_timeout_seconds": 30.0,  # wait=true on a real clock: give up (504) after this
    "default_image": None,  # image name or uuid; None = the first root-volume template
}

STATE_NAME = "instavm"

LIVE = ("creating", "active")
MODEL_STATUS = {
    "Running": "active",
    "Starting": "creating",
    "Created": "creating",
    "Stopped": "stopped",
    "Stopping": "stopped",
    "Paused": "suspended",
    "Hibernated": "suspended",
    "Pausing": "suspended",
    "Resuming": "suspended",
    "Destroyed": "killed",
    "Destroying": "killed",
    "Expunging": "killed",
}


def _list_key(rec: dict) -> tuple:
    return rec["created_at"], rec["vm_id"]


# A record's stored status once it is over: it never changes again (``status`` answers it
# without asking the model).
OVER = ("killed", "failed")


class VmOrder:
    """The VM records in list order (``created_at``, then ``vm_id``), and those not over
    (their stored status not killed or failed: every record a live list, a boot or an
    expiry can concern), kept beside the dialect state for one ``vms`` dict of it: derived,
    never in a snapshot.  Records are only ever added to that dict (never removed, their
    ``created_at`` and ``vm_id`` never change): each look files the records added since
    the last one (the dict's newest, at its end), so a list costs what it lists, not a
    sort of the whole history.  A record found over leaves the live keys when a reader
    walks past it."""

    __slots__ = ("vms", "seen", "last", "keys", "live")

    def __init__(self, vms: dict) -> None:
        self.vms = vms
        self.seen = 0  # how many records of ``vms`` are filed
        self.last: dict | None = None  # the newest of them (a replaced dict shows here)
        self.keys: list[tuple] = []  # every record's list key, sorted
        self.live: list[tuple] = []  # the keys of the records not over, sorted

    def catch_up(self) -> None:
        vms, last = self.vms, self.last
        count = len(vms)
        if count < self.seen or (last is not None and vms.get(last["vm_id"]) is not last):
            self.seen, self.keys, self.live = 0, [], []  # not the records it was: file them all again
            self.last = None
        if count == self.seen:
            return
        added = list(islice(reversed(vms.values()), count - self.seen))
        added.reverse()
        if len(added) > 64:
            self.keys = sorted(self.keys + [_list_key(rec) for rec in added])
            self.live = sorted(self.live + [_list_key(rec) for rec in added if rec["status"] not in OVER])
        else:
            for rec in added:
                key = _list_key(rec)
                insort(self.keys, key)
                if rec["status"] not in OVER:
                    insort(self.live, key)
        self.seen = count
        self.last = added[-1]

    def records(self) -> list[dict]:
        """Every record, in list order."""
        self.catch_up()
        vms = self.vms
        return [vms[key[1]] for key in self.keys]

    def live_records(self) -> list[dict]:
        """The records not over, in list order."""
        self.catch_up()
        vms = self.vms
        found = [vms[key[1]] for key in self.live]
        if any(rec["status"] in OVER for rec in found):
            self.live = [key for key, rec in zip(self.live, found) if rec["status"] not in OVER]
            found = [rec for rec in found if rec["status"] not in OVER]
        return found


# the order of each cloud's InstaVM records (rebuilt when its state is replaced)
_ORDERS: WeakKeyDictionary = WeakKeyDictionary()


def _first(records: list[dict], key: str) -> Any:
    for record in records:
        if record.get(key):
            return record[key]
    return None


class Records:
    """The state and the lifecycle; ``vms``, ``snapshots`` and ``sessions`` add the
    endpoints' operations (``InstaVMService`` puts them together)."""

    def __init__(self, cloud: DialectCloud) -> None:
        self.cloud = cloud

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

    def _new_vm_id(self) -> str:
        return idfmt.new_vm_id(self.cloud.ids, self.vms)

    def _new_snapshot_id(self) -> str:
        return idfmt.new_snapshot_id(self.cloud.ids, self.snapshots)

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

    def _order(self) -> VmOrder:
        vms = self.vms
        order = _ORDERS.get(self.cloud)
        if order is None or order.vms is not vms:
            order = _ORDERS[self.cloud] = VmOrder(vms)
        return order

    def ordered_vms(self) -> list[dict]:
        """Every VM record, in list order."""
        return self._order().records()

    def live_vms(self) -> list[dict]:
        """The VM records whose stored status is not over (killed, failed), in list order:
        the only ones whose status may be live, booting or due to expire."""
        return self._order().live_records()

    def _job_end(self, job_uuid: str | None) -> float | None:
        """When the job ended or will end; ``None`` while it hangs."""
        if job_uuid is None:
            return 0.0
        job = self.cloud.jobs.find(job_uuid)
        if job is None:
            return 0.0
        return job.end

    def _ready_time(self, rec: dict) -> float | None:
        """When both jobs of the record have ended (``None`` while one hangs)."""
        end = self._job_end(rec.get("job"))
        timer_end = self._job_end(rec.get("timer"))
        if end is None or timer_end is None:
            return None
        return max(end, timer_end)

    def _timer(self, operation: str, setting: str, record_id: str) -> str:
        """A job lasting the ``setting``'s seconds, named after the InstaVM record it
        times (``vm_...`` / ``snap_...``: unique, and no id drawn from the seeded
        generator); its uuid, for the record's ``timer``."""
        return self.cloud.timed_job(operation, float(self.setting(setting)), uuid=record_id).uuid

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
        # Pick the due records in one pass, and sort only those (same order as sorting
        # them all).
        live = self.live_vms()  # in creation order
        booting = [r for r in live if r["status"] == "creating"]
        for rec in booting:
            ready = self._ready_time(rec)
            if ready is not None and ready <= now:
                self._became_active(rec, ready)
        expired = [
            r
            for r in live
            if r["status"] == "active"
            and r.get("vm_lifetime_seconds") is not None
            and r["booted_at"] + r["vm_lifetime_seconds"] <= now
        ]
        for rec in expired:
            if self.status(rec) in ("active", "stopped", "suspended"):
                try:
                    if (rec.get("extra") or {}).get("auto_suspend"):
                        self._park_on_expiry(rec)
                    else:
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
                session = {
                    "session_id": idfmt.dashed_uuid(vm.uuid),
                    "created_at": vm.create_date,
                    "vm_id": vm_id,
                    "failed": False,
                    "last_error": None,
                }
                self.sessions[session["session_id"]] = session
                self.vms[vm_id] = {
                    "vm_id": vm_id,
                    "uuid": vm.uuid,
                    "session_id": session["session_id"],
                    "status": "active",
                    "job": None,
                    "timer": None,
                    "created_at": vm.create_date,
                    "booted_at": vm.create_date,
                    "vm_lifetime_seconds": None,
                    "vcpu_count": vm.cpu_num,
                    "memory_mb": vm.memory_size // MiB,
                    "snapshot_id": None,
                    "source_vm_id": None,
                    "metadata": {},
                    "snapshot_on_terminate": False,
                    "snapshot_name": None,
                    "extra": {},
                }
        self.state["adopted"] = True

    def await_ready(self, rec: dict, detail: str) -> None:
        """wait=true: the record must be ready before the answer (the kit's job wait).

        Hung job: 504 at once. Manual clock: move it to the job's end (and let every
        time listener catch up). Real clock: wait up to ``wait_timeout_seconds`` of real
        time, then 504 while the work goes on; the cloud lock is released while waiting,
        so other clients (a poll, a DELETE, an admin clock move) are served meanwhile.
        """
        ready = self._ready_time(rec)
        if ready is None:
            raise HttpError(504, detail)
        if ready > self.now():
            reached = wait_until(
                self.cloud,
                lambda: self._ready_time(rec),
                budget=float(self.setting("wait_timeout_seconds")),
                settled=lambda: self._settled_elsewhere(rec),
            )
            if not reached:
                raise HttpError(504, detail)
        self.settle()

    def _settled_elsewhere(self, rec: dict) -> bool:
        """Asked between the steps of a real-clock wait: a reset or restore replaced the
        record (404), or another request settled (or killed) it meanwhile."""
        current = self.vms.get(rec["vm_id"]) if "vm_id" in rec else self.snapshots.get(rec["id"])
        if current is not rec:
            kind = "VM" if "vm_id" in rec else "Snapshot"
            raise HttpError(404, f"{kind} not found")
        return rec["status"] not in ("creating", "building")

    def _run(self, operation: str, fn, *args, **kwargs):
        """Run a model operation as a job; raise its domain error, return (result, job)."""
        job = run_job(self.cloud, operation, fn, *args, **kwargs)
        return job.result, job

    def dialect_fault(self, operation: str, **targets) -> None:
        """Let a fault plan match the whole request (``instavm:CloneVm`` ...)."""
        faults.dialect_point(self.cloud, f"instavm:{operation}", targets)

    @staticmethod
    def _fails_now(exc: DomainError) -> bool:
        """A real shortage is what the synchronous dry run of a wait=false request sees."""
        return isinstance(exc, CapacityExhausted) and not exc.injected

    def _fail(self, rec: dict | None, session: dict, exc: DomainError) -> None:
        text = describe_failure(exc)
        if rec is not None:
            rec["status"] = "failed"
            rec["last_error"] = text
        session["failed"] = True
        session["last_error"] = text

    def settle_due_at(self) -> float | None:
        """When ``settle`` next has work: the earliest ready time of a pending record or
        lifetime end of an active VM (``-inf`` while a pending record waits on a hung job,
        whose end is set when it is released; None: nothing pending)."""
        due: float | None = None
        pending = [r for r in self.snapshots.values() if r["status"] in ("creating", "building")]
        live = self.live_vms()
        pending += [r for r in live if r["status"] == "creating"]
        for rec in pending:
            ready = self._ready_time(rec)
            if ready is None:
                return float("-inf")
            due = ready if due is None else min(due, ready)
        for rec in live:
            if rec["status"] == "active" and rec.get("vm_lifetime_seconds") is not None:
                end = rec["booted_at"] + rec["vm_lifetime_seconds"]
                due = end if due is None else min(due, end)
        return due
