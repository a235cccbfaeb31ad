"""``X-Web-Hook``: when an async job completes, its result is POSTed to the client's URL
(reference §1.4) with ``X-Job-UUID``, ``X-Job-Success`` and, for batch APIs such as
CloneVmInstance, ``X-Job-Batch``.

Completion is observed on the cloud's clock: a job that is complete when submitted is
delivered at once; a longer one on the first request the dialect serves after its end.
Every delivery is recorded in ``dialect_state["webhooks"]`` (what tests look at); the
actual POST goes through ``sender`` (default: a background thread posting with urllib, so
that a client calling back into the server from its webhook handler cannot deadlock on the
cloud's lock).
"""
from __future__ import annotations

import threading
import urllib.request
from typing import Callable

from . import jobs
from .render import dumps

BATCH_APIS = ("CloneVmInstance",)
RETRIES = 15
RETRY_INTERVAL = 2.0


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    import time

    for _ in range(RETRIES):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if 200 <= response.status < 300:
                    return
        except Exception:
            pass
        time.sleep(RETRY_INTERVAL)


def background_sender(url: str, body: bytes, headers: dict[str, str]) -> None:
    threading.Thread(target=_post, args=(url, body, headers), daemon=True).start()


def _batch_outcome(payload: dict) -> str:
    entries = (payload.get("result") or {}).get("inventories", [])
    failed = sum(1 for e in entries if "error" in e)
    if failed == 0:
        return "SUCCESS"
    return "FAIL" if failed == len(entries) else "PARTIAL"


def deliver_due(state: dict, cloud, now: float, sender: Callable[[str, bytes, dict], None]) -> None:
    pending = state.get("webhookPending")
    if not pending:
        return
    table = jobs.table(state)
    still = []
    for job_uuid in pending:
        job = table.get(job_uuid)
        if job is None:
            continue
        if jobs.is_running(job, now, cloud):
            still.append(job_uuid)
            continue
        ok, data = jobs.outcome(job)
        body = data if ok else {"error": data}
        headers = {"X-Job-UUID": job_uuid, "X-Job-Success": "true" if ok else "false"}
        if ok and job["api"] in BATCH_APIS:
            headers["X-Job-Batch"] = _batch_outcome(data)
        state.setdefault("webhooks", []).append(
            {"url": job["webhook"], "headers": headers, "body": body, "time": now})
        sender(job["webhook"], dumps(body).encode("utf-8"), headers)
    state["webhookPending"] = still


def register(state: dict, job: dict, url: str) -> None:
    job["webhook"] = url
    state.setdefault("webhookPending", []).append(job["uuid"])
