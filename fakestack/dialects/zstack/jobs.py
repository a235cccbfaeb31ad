"""The async-job table behind ``202 + location`` and the legacy ``/zstack/api/result``.

A job stores its outcome as data (the REST success body, or an ErrorCode dict) plus the
clock time at which it is complete; polling before that answers "still running".  Kept in
``cloud.dialect_state("zstack")["jobs"]`` so jobs survive snapshot/restore.
"""
from __future__ import annotations

from typing import Any

COMPLETED_RETENTION = 10800.0  # rest.completedApi.expiredPeriod


def table(state: dict) -> dict[str, dict]:
    return state.setdefault("jobs", {})


def sweep(state: dict, now: float) -> None:
    jobs = table(state)
    for uuid in [u for u, j in jobs.items() if j["readyAt"] + COMPLETED_RETENTION < now]:
        del jobs[uuid]


def exists(state: dict, uuid: str, now: float) -> bool:
    sweep(state, now)
    return uuid in table(state)


def record(
    state: dict, uuid: str, *, api: str, now: float, ready_at: float, ok: bool,
    payload: dict | None, error: dict | None, stage: str, legacy: bool = False,
) -> dict:
    job = {
        "uuid": uuid,
        "api": api,
        "createdAt": now,
        "readyAt": max(ready_at, now),
        "ok": ok,
        "payload": payload,
        "error": error,
        "stage": stage,
        "legacy": legacy,
    }
    table(state)[uuid] = job
    return job


def lookup(state: dict, uuid: str, now: float) -> dict | None:
    sweep(state, now)
    return table(state).get(uuid)


def is_running(job: dict, now: float) -> bool:
    return now < job["readyAt"]


def outcome(job: dict) -> tuple[bool, Any]:
    return (True, job["payload"]) if job["ok"] else (False, job["error"])
