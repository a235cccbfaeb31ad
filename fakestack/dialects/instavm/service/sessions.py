"""The session endpoints' operations: InstaVM sessions (a VM slot with defaults), their
status, and ``/kill``.  (API keys, who may call, are in ``auth``.)"""

from __future__ import annotations

from .. import ids as idfmt
from ..errors import HttpError
from ..render import timestamp
from .records import Records


class SessionOperations(Records):
    def _new_session(self, **settings) -> dict:
        sid = idfmt.new_session_id(self.cloud.ids, self.sessions)
        session = {
            "session_id": sid,
            "created_at": self.now(),
            "vm_id": None,
            "failed": False,
            "last_error": None,
            **settings,
        }
        self.sessions[sid] = session
        return session

    def create_session(self, body) -> dict:
        self.dialect_fault("CreateSession")
        session = self._new_session(
            vm_lifetime_seconds=body.vm_lifetime_seconds,
            memory_mb=body.memory_mb,
            vcpu_count=body.vcpu_count,
            metadata=body.metadata,
        )
        return {"session_id": session["session_id"]}

    def session_status(self, session_id: str) -> dict:
        session = self.sessions.get(session_id)
        if session is None:
            return {
                "session_id": session_id,
                "exists": False,
                "vm_assigned": False,
                "vm_status": None,
                "vm_id": None,
                "vm_alive": False,
                "uptime_seconds": None,
                "expires_in_seconds": None,
                "created_at": None,
                "last_error": None,
            }
        rec = self.vms.get(session.get("vm_id") or "")
        now = self.now()
        if rec is None:
            return {
                "session_id": session_id,
                "exists": True,
                "vm_assigned": False,
                "vm_status": "failed" if session.get("failed") else None,
                "vm_id": None,
                "vm_alive": False,
                "uptime_seconds": None,
                "expires_in_seconds": None,
                "created_at": timestamp(session["created_at"]),
                "last_error": session.get("last_error"),
            }
        status = self.status(rec)
        alive = status == "active"
        lifetime = rec.get("vm_lifetime_seconds")
        expires_in: float | None = 0.0
        if alive:
            expires_in = float(rec["booted_at"] + lifetime - now) if lifetime is not None else None
        elif status == "creating":
            expires_in = None
        return {
            "session_id": session_id,
            "exists": True,
            "vm_assigned": True,
            "vm_status": status,
            "vm_id": rec["vm_id"],
            "vm_alive": alive,
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
