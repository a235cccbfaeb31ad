"""What the schemathesis runs share (the quick suite in ``test_schemathesis.py`` and the
large run in ``benchmarks/bench_fuzz.py``): the app under test, credentials for each
dialect, and the dialect-aware "was this a crash?" check.

schemathesis' own ``not_a_server_error`` counts every 5xx as a server error, but a 5xx
is part of some APIs' contracts: every ZStack API error is a 503 ``{"error": ErrorCode}``,
vSphere answers capacity errors with a 500 ``unable_to_allocate_resource``, InstaVM a
503 when capacity runs out.  A *crash* (the fake failing, not the API refusing) is what
each dialect answers for an exception nobody expected, so ``no_crash`` looks for exactly
that: ZStack ``SYS.1000`` (also on the job an async API leaves), vSphere
``internal_server_error``, InstaVM FastAPI's ``Internal Server Error``, the admin API's
``internal_error``, or any 500 from ZStack, InstaVM or the admin API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from werkzeug.test import Client

from fakestack import Cloud, ManualClock
from fakestack.app import make_app

DOCUMENTS = {
    "zstack": "/zstack/v1/openapi.json",
    "vsphere": "/api/openapi.json",
    "instavm": "/openapi.json",
    "admin": "/_fakestack/openapi.json",
}
INSTAVM_KEY = "instavm_sk_fakestack"
# SYS.1000 is also the server's answer to a query on an unknown field (reference §12 #8);
# the fake's crash answers carry the Python exception: "KeyError: 'x'".
_CRASH_DETAILS = re.compile(r'"code":\s*"SYS\.1000"[^}]*"details":\s*"[A-Z][A-Za-z]*(Error|Exception)\b')
BASIC = "Basic " + base64.b64encode(b"administrator@vsphere.local:password").decode()


class Target:
    """One cloud and app per dialect under test, with credentials that are refreshed
    when a fuzzed request ended them (a logout, a session delete)."""

    def __init__(self, dialect: str, topology: str = "demo", seed: int = 0) -> None:
        self.dialect = dialect
        self.cloud = Cloud(topology, seed=seed, clock=ManualClock())
        self.app = make_app(self.cloud)
        self.client = Client(self.app)
        self._headers: dict[str, str] | None = None
        self.requests = 0
        self.invariant_checks = 0

    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = self._login()
        return dict(self._headers)

    def _login(self) -> dict[str, str]:
        if self.dialect == "zstack":
            answer = self.client.put(
                "/zstack/v1/accounts/login",
                json={
                    "logInByAccount": {
                        "accountName": "admin",
                        "password": hashlib.sha512(b"password").hexdigest(),
                    }
                },
            )
            return {"Authorization": "OAuth " + answer.get_json()["inventory"]["uuid"]}
        if self.dialect == "vsphere":
            token = self.client.post("/api/session", headers={"Authorization": BASIC}).get_json()
            # login operations read Basic, every other one the session header
            return {"vmware-api-session-id": token, "Authorization": BASIC}
        if self.dialect == "instavm":
            return {"X-API-Key": INSTAVM_KEY}
        return {}

    def after(self, response) -> None:
        """Forget credentials a request may have ended."""
        self.requests += 1
        status = response.status_code
        body = response.get_data() if hasattr(response, "get_data") else (response.content or b"")
        if status == 401 or b"ID.1001" in body or b"unauthenticated" in body:
            self._headers = None

    def check_invariants(self) -> None:
        self.invariant_checks += 1
        self.cloud.check_invariants()


def crash_in(dialect: str, status: int, body: bytes, poll=None) -> str | None:
    """Why this answer is a crash of the fake, or None.  ``poll(location)`` reads the job
    of a ZStack 202."""
    text = body.decode("utf-8", "replace")
    if dialect == "zstack":
        if status == 500:
            return "ZStack answered 500"
        if _CRASH_DETAILS.search(text):
            return "ZStack SYS.1000 with an exception (an unexpected failure)"
        if status == 202 and poll is not None:
            location = json.loads(text).get("location", "")
            job = poll(location)
            if job is not None and _CRASH_DETAILS.search(job):
                return f"the job of a 202 failed with an exception: {job[:300]}"
        return None
    if dialect == "vsphere":
        if "internal_server_error" in text or "INTERNAL_SERVER_ERROR" in text:
            return "vAPI internal_server_error (an unexpected exception)"
        if status == 500 and "com.vmware.vapi.std.errors" not in text and "error_type" not in text:
            return "vSphere answered a 500 that is no vAPI error"
        return None
    if dialect == "instavm":
        if status == 500:
            return "InstaVM answered 500"
        return None
    if status >= 500 or '"internal_error"' in text:
        return "the admin API answered a server error"
    return None


def poller(target: Target):
    def poll(location: str) -> str | None:
        marker = "/zstack/v1/api-jobs/"
        if marker not in location:
            return None
        answer = target.client.get(location[location.index(marker) :])
        return answer.get_data(as_text=True)

    return poll
