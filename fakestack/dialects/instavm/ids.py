"""InstaVM id formats, drawn from the cloud's seeded generator (``cloud.ids``).

``vm_<12 hex>``, ``snap_<12 hex>``, and sessions as dashed version-4 UUID strings; none
contains ``/`` or is ``.``/``..`` (the SDK refuses those as path segments).
"""

from __future__ import annotations

import re

VM_ID = re.compile(r"^vm_[0-9a-f]{12}$")
SNAPSHOT_ID = re.compile(r"^snap_[0-9a-f]{12}$")
SESSION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def dashed_uuid(hex32: str) -> str:
    h = hex32.lower()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _unique(make, taken) -> str:
    while True:
        value = make()
        if value not in taken:
            return value


def new_vm_id(ids, taken=()) -> str:
    return _unique(lambda: f"vm_{ids.hex(12)}", taken)


def new_snapshot_id(ids, taken=()) -> str:
    return _unique(lambda: f"snap_{ids.hex(12)}", taken)


def new_session_id(ids, taken=()) -> str:
    return _unique(lambda: dashed_uuid(ids.uuid()), taken)


def is_uuid_text(value: str) -> bool:
    """What ``uuid.UUID(value)`` would accept in the forms clients send."""
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if text.lower().startswith("urn:uuid:"):
        text = text[9:]
    return bool(UUID_TEXT.match(text))


def new_task_id(ids, taken=()) -> str:
    """Execution task ids: dashed version-4 UUID strings, like sessions."""
    return _unique(lambda: dashed_uuid(ids.uuid()), taken)


def new_volume_id(ids, taken=()) -> str:
    return _unique(lambda: f"vol_{ids.hex(12)}", taken)
