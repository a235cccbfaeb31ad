"""The account's view: the current user (``/v1/users/me``), a session's usage
(``/v1/sessions/usage/{id}``, from the model's accounting), the templates one can boot
(``/v1/templates``: the cloud's bootable images) and egress policies kept as VM and
session state (``/v1/egress/vm/{id}``, ``/v1/egress/session/{id}``)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import HttpError
from ..render import timestamp
from ..schemas import DEFAULT_MEMORY_MB, DEFAULT_VCPU_COUNT
from .records import MiB, Records

DEFAULT_USER = {"id": 1, "email": "fakestack@localhost", "name": "fakestack", "is_verified": True}

DEFAULT_EGRESS = {
    "allow_public_repos": True,
    "allow_http": True,
    "allow_https": True,
    "allowed_domains": [],
    "allowed_cidrs": [],
}


def template_slug(name: str) -> str:
    """An image name as a template slug: lowercase, runs of other characters as ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "template"


class AccountOperations(Records):
    # -- user -------------------------------------------------------------------------
    def current_user(self) -> dict:
        """``settings.user`` of the dialect state, over a default user."""
        return {**DEFAULT_USER, **(self.state.get("settings", {}).get("user") or {})}

    # -- usage ------------------------------------------------------------------------
    def session_usage(self, session_id: str) -> dict[str, Any]:
        """What the session's VMs (its first, and those resume minted) have used: time
        holding host capacity (boot to suspension, kill or now) times their size; the
        capacity held now; the bytes the live VM's disks take on primary storage."""
        session = self.sessions.get(session_id)
        if session is None:
            raise HttpError(404, "Session not found")
        now = self.now()
        uptime = vcpu_seconds = memory_mb_seconds = 0.0
        vm_ids = []
        for rec in self.ordered_vms():
            if rec["session_id"] != session_id:
                continue
            vm_ids.append(rec["vm_id"])
            if rec.get("booted_at") is None:
                continue
            end = min(t for t in (rec.get("suspended_at"), rec.get("killed_at"), now) if t is not None)
            span = max(end - rec["booted_at"], 0.0)
            vcpu, memory_mb = self.sizing(rec)
            uptime += span
            vcpu_seconds += vcpu * span
            memory_mb_seconds += memory_mb * span
        current = self.vms.get(session.get("vm_id") or "")
        vm = self.model_vm(current) if current is not None and self.status(current) != "killed" else None
        holds = vm is not None and vm.holds_host
        storage = sum(self.cloud.volume_actual_size(v) for v in self.cloud.vm_volumes(vm)) if vm else 0
        return {
            "session_id": session_id,
            "vm_ids": vm_ids,
            "vm_id": current["vm_id"] if current is not None else None,
            "uptime_seconds": uptime,
            "vcpu_seconds": vcpu_seconds,
            "memory_mb_seconds": memory_mb_seconds,
            "vcpu_count": vm.cpu_num if holds else 0,
            "memory_mb": vm.memory_size // MiB if holds else 0,
            "storage_bytes": int(storage),
        }

    # -- templates --------------------------------------------------------------------
    def templates(self) -> list[dict[str, Any]]:
        out = []
        for image in self.cloud.images:
            if image.bootable and image.status == "Ready" and image.state == "Enabled":
                out.append(
                    {
                        "slug": template_slug(image.name),
                        "name": image.name,
                        "description": image.description or None,
                        "aliases": [],
                        "status": "active",
                        "vcpu_count": DEFAULT_VCPU_COUNT,
                        "memory_mb": DEFAULT_MEMORY_MB,
                        "disk_size_bytes": int(image.virtual_size),
                        "architecture": image.architecture,
                        "created_at": timestamp(image.create_date),
                    }
                )
        return out

    def template(self, slug: str) -> dict[str, Any]:
        for template in self.templates():
            if template["slug"] == slug:
                return template
        raise HttpError(404, "Template not found")

    # -- egress -----------------------------------------------------------------------
    def vm_egress(self, vm_id: str) -> dict[str, Any]:
        rec = self.vm(vm_id)
        return {"vm_id": vm_id, **(rec.get("egress") or DEFAULT_EGRESS)}

    def set_vm_egress(self, vm_id: str, body) -> dict[str, Any]:
        rec = self.vm(vm_id)
        status = self.status(rec)
        if status in ("killed", "failed"):
            raise HttpError(409, f"VM {vm_id} is not active (status: {status})")
        self.dialect_fault("SetEgress", vm=vm_id)
        rec["egress"] = body.model_dump(mode="json")
        return self.vm_egress(vm_id)

    def session_egress(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise HttpError(404, "Session not found")
        return {"session_id": session_id, **(session.get("egress") or DEFAULT_EGRESS)}

    def set_session_egress(self, session_id: str, body) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise HttpError(404, "Session not found")
        self.dialect_fault("SetEgress", session=session_id)
        session["egress"] = body.model_dump(mode="json")
        return self.session_egress(session_id)
