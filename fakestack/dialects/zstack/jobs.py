"""The async-job table behind ``202 + location`` and the legacy ``/zstack/api/result``.

A job stores its outcome as data (the REST success body, or an ErrorCode dict).  When the
API ran as a model job (``cloud.submit``), the record names that job and is "running" while
the model job is, so simulated durations, latency faults and hung jobs show through the
poll; otherwise it is complete at once.  Kept in ``cloud.dialect_state("zstack")["jobs"]``
so jobs survive snapshot/restore.
"""

from __future__ import annotations

from typing import Any

COMPLETED_RETENTION = 10800.0  # rest.completedApi.expiredPeriod


def table(state: dict) -> dict[str, dict]:
    return state.setdefault("jobs", {})


def end_of(job: dict, cloud) -> float | None:
    """When the job completes (None: hung until released)."""
    model_job = job.get("modelJob")
    if model_job is not None:
        found = cloud.jobs.by_uuid(model_job)
        if found is not None:
            return found.end
    return job["readyAt"]


SWEEP_INTERVAL = 3600.0  # how often expired jobs are swept out (ZStack: every 3 600 s)


def _expired(job: dict, now: float, cloud) -> bool:
    end = end_of(job, cloud)
    return end is not None and end + COMPLETED_RETENTION < now


def sweep(state: dict, now: float, cloud) -> None:
    """Drop expired jobs, at most once per SWEEP_INTERVAL of clock time (lookups check the
    one job they read, so a sweep is housekeeping only)."""
    if now - state.get("jobsSweptAt", float("-inf")) < SWEEP_INTERVAL:
        return
    state["jobsSweptAt"] = now
    jobs = table(state)
    for uuid in [u for u, job in jobs.items() if _expired(job, now, cloud)]:
        del jobs[uuid]


def exists(state: dict, uuid: str, now: float, cloud) -> bool:
    return lookup(state, uuid, now, cloud) is not None


def record(
    state: dict,
    uuid: str,
    *,
    api: str,
    now: float,
    ok: bool,
    payload: dict | None,
    error: dict | None,
    stage: str,
    model_job: str | None = None,
    ready_at: float | None = None,
    cloud=None,
) -> dict:
    job = {
        "uuid": uuid,
        "api": api,
        "createdAt": now,
        "readyAt": max(ready_at, now) if ready_at is not None else now,
        "modelJob": model_job,
        "ok": ok,
        "payload": payload,
        "error": error,
        "stage": stage,
    }
    table(state)[uuid] = job
    if cloud is not None:
        sweep(state, now, cloud)
    return job


def lookup(state: dict, uuid: str, now: float, cloud) -> dict | None:
    jobs = table(state)
    job = jobs.get(uuid)
    if job is not None and _expired(job, now, cloud):
        del jobs[uuid]
        return None
    return job


def is_running(job: dict, now: float, cloud) -> bool:
    end = end_of(job, cloud)
    return end is None or now < end


def outcome(job: dict) -> tuple[bool, Any]:
    return (True, job["payload"]) if job["ok"] else (False, job["error"])
