"""``X-Web-Hook``: when an async job completes, its result is POSTed to the client's URL
(reference §1.4) with ``X-Job-UUID``, ``X-Job-Success`` and, for batch APIs such as
CloneVmInstance, ``X-Job-Batch``.

Completion is observed on the cloud's clock: a job that is complete when submitted is
delivered at once; a longer one on the first request the dialect serves after its end.
Every delivery is recorded in ``dialect_state["webhooks"]`` (what tests look at); the
actual POST goes through ``sender`` (default: a background thread posting with urllib, so
that a client calling back into the server from its webhook handler cannot deadlock on the
cloud's lock).

The fake never fetches anything a client names but an ``http(s)`` URL on the loopback or
on a host allowed with ``allow_host`` (``fakestack serve --webhook-host``): a bad URL is a
400 at submission (:func:`check_url`), and the sender neither follows redirects nor uses
a proxy.
"""

from __future__ import annotations

import ipaddress
import threading
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from . import jobs
from .render import dumps

BATCH_APIS = ("CloneVmInstance",)
RETRIES = 15
RETRY_INTERVAL = 2.0


def allowed_hosts(state: dict) -> list[str]:
    return state.get("webhookHosts", [])


def allow_host(state: dict, host: str) -> None:
    """Let web hooks go to ``host`` (a name or address) besides the loopback."""
    hosts = state.setdefault("webhookHosts", [])
    if host.lower() not in hosts:
        hosts.append(host.lower())


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, extra_hosts: list[str] = ()) -> str | None:
    """Why ``url`` cannot be a web hook, or None when it can."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port that is no number or out of range
    except ValueError as exc:
        return f"it is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are called back"
    host = (parts.hostname or "").lower()
    if not host:
        return "the URL names no host"
    if port == 0:
        return "port 0 cannot be called"
    if not (_is_loopback(host) or host in extra_hosts):
        return (
            f"host {host} is neither the loopback nor an allowed web hook host "
            "(fakestack serve --webhook-host)"
        )
    return None


# No redirects (a hook must not lead the fake elsewhere) and no proxy from the environment.
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    import time

    for _ in range(RETRIES):
        try:
            request = urllib.request.Request(
                url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
            )
            with _OPENER.open(request, timeout=10) as response:
                if 200 <= response.status < 300:
                    return
        except Exception:  # noqa: BLE001 - a failed call back is retried, never a traceback
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
            {"url": job["webhook"], "headers": headers, "body": body, "time": now}
        )
        sender(job["webhook"], dumps(body).encode("utf-8"), headers)
    state["webhookPending"] = still


def register(state: dict, job: dict, url: str) -> None:
    job["webhook"] = url
    state.setdefault("webhookPending", []).append(job["uuid"])
