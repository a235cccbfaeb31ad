"""The "code under test" of the README examples: a small ZStack client that keeps a pool
of clones of one golden VM.  It speaks plain HTTP through httpx, so the same code runs
in process (``httpx.WSGITransport``) and against a live endpoint (``base_url``)."""

from __future__ import annotations

import hashlib

import httpx


class ZStackError(Exception):
    def __init__(self, error: dict) -> None:
        super().__init__(f"{error['code']}: {error.get('details', '')}")
        self.error = error


class ClonePool:
    def __init__(
        self, http: httpx.Client, golden: str, account: str = "admin", password: str = "password"
    ) -> None:
        self.http = http
        self.golden = golden
        self.members: list[str] = []
        digest = hashlib.sha512(password.encode()).hexdigest()
        r = http.put(
            "/zstack/v1/accounts/login", json={"logInByAccount": {"accountName": account, "password": digest}}
        )
        r.raise_for_status()
        self.session = r.json()["inventory"]["uuid"]

    def call(self, method: str, path: str, body: dict | None = None, max_polls: int = 20) -> dict:
        """One ZStack API call: follows the async job's location until it is done."""
        headers = {"Authorization": f"OAuth {self.session}"}
        r = self.http.request(method, path, json=body, headers=headers)
        for _ in range(max_polls):
            if r.status_code != 202:
                break
            r = self.http.get(r.json()["location"], headers=headers)
        else:
            raise TimeoutError(f"{method} {path} still running after {max_polls} polls")
        if r.status_code == 503:
            raise ZStackError(r.json()["error"])
        r.raise_for_status()
        return r.json()

    def grow(self, names: list[str]) -> dict[str, str]:
        """Clone the golden VM once per name; returns {name: error code} for the failures."""
        result = self.call(
            "PUT", f"/zstack/v1/vm-instances/{self.golden}/actions", {"cloneVmInstance": {"names": names}}
        )["result"]
        failed = {}
        for name, entry in zip(names, result["inventories"]):
            if "error" in entry:
                failed[name] = entry["error"]["code"]
            else:
                self.members.append(entry["inventory"]["uuid"])
        return failed
