"""Finding model resources by kind and uuid (for the SYS.1003 checks)."""

from __future__ import annotations

from typing import Any

# resource kind -> attribute of the cloud holding that collection
COLLECTIONS: dict[str, str] = {
    "vm": "vms",
    "volume": "volumes",
    "host": "hosts",
    "image": "images",
    "primary_storage": "primary_storages",
    "backup_storage": "backup_storages",
    "zone": "zones",
    "cluster": "clusters",
    "l3_network": "l3_networks",
    "instance_offering": "instance_offerings",
    "disk_offering": "disk_offerings",
    "volume_snapshot": "volume_snapshots",
    "backup": "backups",
    "nic": "nics",
}


def find(cloud, kind: str, uuid: Any):
    """The entity of ``kind`` with ``uuid``, or None."""
    if not isinstance(uuid, str):
        return None
    return getattr(cloud, COLLECTIONS[kind]).by_uuid(uuid)  # never a name match: fields hold uuids
