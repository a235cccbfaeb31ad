"""What goes on the wire: JSON shapes of InstaVM records (key order as the docs list the
fields), serialized the way Starlette renders them.

FastAPI answers through Starlette's ``JSONResponse`` (compact separators, UTF-8, no
ASCII escaping); clients compare bodies byte for byte in replays, so ``INSTAVM_JSON``
(the kit's builder) is the only way the dialect serializes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Response

from ..kit.responses import JsonStyle

INSTAVM_JSON = JsonStyle(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return INSTAVM_JSON.response(data, status, headers)


def timestamp(epoch: float | None) -> str | None:
    """Naive UTC ``YYYY-MM-DDTHH:MM:SS`` (the SDK compares these strings lexicographically)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def vm_record(rec: dict, status: str, sizing: tuple[int, int]) -> dict[str, Any]:
    """A VM record; ``status`` and ``sizing`` (vCPUs, MiB) come from the model VM."""
    vcpu_count, memory_mb = sizing
    booted = rec.get("booted_at")
    lifetime = rec.get("vm_lifetime_seconds")
    expires = booted + lifetime if booted is not None and lifetime is not None else None
    return {
        "vm_id": rec["vm_id"],
        "session_id": rec["session_id"],
        "status": status,
        "created_at": timestamp(rec["created_at"]),
        "expires_at": timestamp(expires),
        "vm_lifetime_seconds": lifetime,
        "vcpu_count": vcpu_count,
        "memory_mb": memory_mb,
        "snapshot_id": rec.get("snapshot_id"),
        "source_vm_id": rec.get("source_vm_id"),
        "metadata": rec.get("metadata") or {},
        "snapshot_on_terminate": bool(rec.get("snapshot_on_terminate")),
        "snapshot_name": rec.get("snapshot_name"),
        "ssh_host": None,
    }


def snapshot_info(rec: dict) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "name": rec.get("name"),
        "status": rec["status"],
        "source_vm_id": rec.get("source_vm_id"),
        "snapshot_type": rec["snapshot_type"],
        "type": rec.get("type", "user"),
        "oci_image": rec.get("oci_image"),
        "vcpu_count": rec.get("vcpu_count"),
        "memory_mb": rec.get("memory_mb"),
        "size_bytes": rec.get("size_bytes", 0),
        "is_public": bool(rec.get("is_public", False)),
        "last_error": rec.get("last_error"),
        "created_at": timestamp(rec["created_at"]),
        "updated_at": timestamp(rec["updated_at"]),
    }


def volume_info(rec: dict, used_bytes: int, mounted_on: dict | None) -> dict[str, Any]:
    """A managed volume; ``used_bytes`` from the model, the mount while the model has it
    attached."""
    mount = rec.get("mount") if mounted_on is not None else None
    return {
        "id": rec["id"],
        "name": rec["name"],
        "status": "mounted" if mount else "ready",
        "quota_bytes": rec["quota_bytes"],
        "used_bytes": used_bytes,
        "mounts": [{"vm_id": mounted_on["vm_id"], "mount_path": mount["mount_path"], "mode": mount["mode"]}]
        if mount and mounted_on
        else [],
        "created_at": timestamp(rec["created_at"]),
        "updated_at": timestamp(rec["updated_at"]),
    }
