"""One session store for /rest, /api and JSON-RPC, kept in the cloud's dialect state."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime, timezone

from .choices import Choices
from .errors import vapi_error

SESSION_HEADER = "vmware-api-session-id"
COOKIE_NAME = "vmware-api-session-id"
CHALLENGE = 'Basic realm="VAPI endpoint"'
ADMIN, READ_ONLY = "admin", "read-only"


def rfc3339_millis(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def display_user(username: str) -> str:
    """``administrator@vsphere.local`` -> ``VSPHERE.LOCAL\\Administrator``."""
    name, _, domain = username.partition("@")
    name = name[:1].upper() + name[1:]
    return f"{domain.upper()}\\{name}" if domain else name


def parse_basic_authorization(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


class SessionStore:
    """Sessions live in ``state["sessions"]``: token -> {user, created, last}.

    Tokens are 32 lowercase hex characters from a stream seeded by the cloud's seed and
    a per-cloud counter, so they are reproducible and independent of the model's RNG.
    """

    def __init__(self, cloud, state: dict, choices: Choices) -> None:
        self.cloud = cloud
        self.state = state
        self.choices = choices
        state.setdefault("sessions", {})
        state.setdefault("session_seq", 0)

    def _now(self) -> float:
        return self.cloud.clock.now()

    def _next_token(self) -> str:
        self.state["session_seq"] += 1
        material = f"fakestack-vsphere-session:{self.cloud.seed}:{self.state['session_seq']}"
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    def role_of(self, username: str | None, password: str | None) -> str | None:
        """``ADMIN`` or ``READ_ONLY`` for valid credentials, else None (§9 #16, #18)."""
        if username is None or password is None:
            return None
        choices = self.choices
        for known, secret, role in (
            (choices.username, choices.password, ADMIN),
            (choices.readonly_username, choices.readonly_password, READ_ONLY),
        ):
            if username.lower() == known.lower() and password == secret:
                return role
        return None

    def credentials_valid(self, username: str | None, password: str | None) -> bool:
        return self.role_of(username, password) is not None

    def login(self, username: str | None, password: str | None) -> str:
        role = self.role_of(username, password)
        if role is None:
            raise vapi_error("login_failed")
        token = self._next_token()
        now = self._now()
        known = self.choices.username if role == ADMIN else self.choices.readonly_username
        self.state["sessions"][token] = {
            "user": display_user(known),
            "created": now,
            "last": now,
            "role": role,
        }
        return token

    def authenticate(self, token: str | None) -> dict:
        """The session of ``token``; refreshes its last access. Raises unauthenticated."""
        sessions = self.state["sessions"]
        record = sessions.get(token) if token else None
        if record is None:
            raise vapi_error("no_session")
        now = self._now()
        if now - record["last"] > self.choices.session_idle_timeout_s:
            del sessions[token]
            raise vapi_error("no_session")
        record["last"] = now
        return record

    def logout(self, token: str) -> None:
        self.state["sessions"].pop(token, None)

    def info(self, token: str) -> dict:
        record = self.state["sessions"][token]
        return {
            "user": record["user"],
            "created_time": rfc3339_millis(record["created"]),
            "last_accessed_time": rfc3339_millis(record["last"]),
        }
