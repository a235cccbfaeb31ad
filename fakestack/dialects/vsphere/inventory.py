"""The vSphere inventory as a projection of the model (reference §5).

datacenter = zone (with one vm / host / datastore / network folder each), cluster =
cluster (with one root resource pool), host = host, datastore = primary storage,
network = L3 network, VM = VM.  Managed-object ids come from per-kind counters kept in
the dialect state, assigned in the model's (topology) order the first time an object is
seen and never reused (§9 #13), so they survive snapshot / restore.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from string import ascii_lowercase
from typing import Any

from .choices import DATASTORE_TYPES, DEFAULT_DATASTORE_TYPE

MiB = 1024 * 1024
ROOT_FOLDER = "group-d1"

# kind -> id prefix
PREFIXES = {
    "datacenter": "datacenter-",
    "vm_folder": "group-v",
    "host_folder": "group-h",
    "datastore_folder": "group-s",
    "network_folder": "group-n",
    "cluster": "domain-c",
    "resource_pool": "resgroup-",
    "host": "host-",
    "datastore": "datastore-",
    "network": "network-",
    "vm": "vm-",
}
FOLDER_KINDS = {
    "vm_folder": ("vm", "VIRTUAL_MACHINE"),
    "host_folder": ("host", "HOST"),
    "datastore_folder": ("datastore", "DATASTORE"),
    "network_folder": ("network", "NETWORK"),
}

# §5: model VM state -> vSphere power state (§9 #12: Paused is SUSPENDED).
POWER_STATES = {
    "Starting": "POWERED_ON",
    "Running": "POWERED_ON",
    "Stopping": "POWERED_ON",
    "Rebooting": "POWERED_ON",
    "Migrating": "POWERED_ON",
    "Paused": "SUSPENDED",
    "Pausing": "SUSPENDED",
    "Resuming": "SUSPENDED",
}
INVISIBLE_VM_STATES = frozenset({"Destroyed", "Destroying", "Expunging"})


def power_state(vm) -> str:
    return POWER_STATES.get(vm.state, "POWERED_OFF")


def connection_state(host) -> str:
    return {"Connected": "CONNECTED", "Disconnected": "DISCONNECTED"}.get(host.status, "NOT_RESPONDING")


def moid_number(moid: str) -> int:
    """``vm-12`` -> 12, ``group-v3`` -> 3."""
    tail = moid.rsplit("-", 1)[-1].lstrip(ascii_lowercase)
    return int(tail) if tail.isdigit() else 0


class Inventory:
    """Id maps over the model; ``sync`` numbers every object not yet numbered.

    ``sync`` is a pass over every object of the model; the caller runs it when the model
    may hold objects not numbered yet (the dialect: when the model has changed)."""

    def __init__(self, cloud, state: dict) -> None:
        self.cloud = cloud
        self.state = state
        self.ids: dict[str, dict[str, str]] = state.setdefault("ids", {k: {} for k in PREFIXES})
        self.objects: dict[str, list] = state.setdefault("objects", {})  # moid -> [kind, key]
        self.counters: dict[str, int] = state.setdefault("counters", {k: 0 for k in PREFIXES})

    # --- numbering ----------------------------------------------------------------------

    def _number(self, kind: str, key: str) -> str:
        known = self.ids[kind].get(key)
        if known is not None:
            return known
        self.counters[kind] += 1
        moid = f"{PREFIXES[kind]}{self.counters[kind]}"
        self.ids[kind][key] = moid
        self.objects[moid] = [kind, key]
        return moid

    def sync(self) -> None:
        cloud = self.cloud
        for zone in cloud.zones:
            self._number("datacenter", zone.uuid)
            for kind in FOLDER_KINDS:
                self._number(kind, zone.uuid)
        for cluster in cloud.clusters:
            self._number("cluster", cluster.uuid)
            self._number("resource_pool", cluster.uuid)
        for host in cloud.hosts:
            self._number("host", host.uuid)
        for ps in cloud.primary_storages:
            self._number("datastore", ps.uuid)
        for l3 in cloud.l3_networks:
            self._number("network", l3.uuid)
        for vm in cloud.vms:
            if vm.state not in INVISIBLE_VM_STATES:
                self._number("vm", vm.uuid)

    def moid(self, kind: str, key: str) -> str:
        return self._number(kind, key)

    def forget(self, kind: str, key: str) -> None:
        """Drop an object's identifier: seen again, it is numbered anew (a re-registered VM)."""
        moid = self.ids[kind].pop(key, None)
        if moid is not None:
            self.objects.pop(moid, None)

    def resolve(self, kind: str, moid: str | None):
        """The model object (or zone / cluster for folders and pools) behind ``moid``."""
        entry = self.objects.get(moid or "")
        if entry is None or entry[0] != kind:
            return None
        key = entry[1]
        collection = {
            "datacenter": self.cloud.zones,
            "cluster": self.cloud.clusters,
            "resource_pool": self.cloud.clusters,
            "host": self.cloud.hosts,
            "datastore": self.cloud.primary_storages,
            "network": self.cloud.l3_networks,
            "vm": self.cloud.vms,
        }.get(kind, self.cloud.zones)
        found = collection.find(key)
        if found is None or (kind == "vm" and found.state in INVISIBLE_VM_STATES):
            return None
        return found

    def folder_kind(self, moid: str | None) -> str | None:
        if moid == ROOT_FOLDER:
            return "root"
        entry = self.objects.get(moid or "")
        if entry is None or entry[0] not in FOLDER_KINDS or self.cloud.zones.find(entry[1]) is None:
            return None
        return entry[0]

    def folder_zone(self, moid: str) -> str | None:
        entry = self.objects.get(moid or "")
        return entry[1] if entry and entry[0] in FOLDER_KINDS else None

    def sorted_by_id(self, items: Iterable[dict], id_field: str) -> list[dict]:
        return sorted(items, key=lambda item: moid_number(item[id_field]))

    # --- relations ----------------------------------------------------------------------

    def vm_host(self, vm):
        uuid = vm.host_uuid or vm.last_host_uuid
        return self.cloud.hosts.find(uuid) if uuid else None

    def vm_cluster_uuid(self, vm) -> str | None:
        if vm.cluster_uuid:
            return vm.cluster_uuid
        host = self.vm_host(vm)
        return host.cluster_uuid if host else None

    def vm_datastore(self, vm):
        if vm.root_volume_uuid:
            volume = self.cloud.volumes.find(vm.root_volume_uuid)
            if volume is not None and volume.primary_storage_uuid:
                return self.cloud.primary_storages.find(volume.primary_storage_uuid)
        return None

    def vm_pool(self, vm) -> str | None:
        """The VM's resource pool: the child pool it was placed in while it is in that
        pool's cluster, else its cluster's root pool."""
        cluster_uuid = self.vm_cluster_uuid(vm)
        if not cluster_uuid:
            return None
        placed = self.state.get("vms", {}).get(vm.uuid, {}).get("pool")
        child = self.child_pools().get(placed or "")
        if child is not None and child["cluster"] == cluster_uuid:
            return placed
        return self.moid("resource_pool", cluster_uuid)

    # --- child resource pools (kept in the dialect state; the model has one pool per cluster)

    def child_pools(self) -> dict[str, dict]:
        """moid -> {"name", "parent", "cluster"} of every pool created through the API."""
        return self.state.get("pools", {})

    def add_child_pool(self, name: str, parent: str, cluster_uuid: str) -> str:
        self.counters["resource_pool"] += 1
        moid = f"{PREFIXES['resource_pool']}{self.counters['resource_pool']}"
        self.objects[moid] = ["resource_pool", cluster_uuid]
        self.state.setdefault("pools", {})[moid] = {"name": name, "parent": parent, "cluster": cluster_uuid}
        return moid

    def remove_child_pool(self, moid: str) -> None:
        self.state.get("pools", {}).pop(moid, None)
        self.objects.pop(moid, None)

    def pool_name(self, moid: str) -> str:
        child = self.child_pools().get(moid)
        return child["name"] if child else "Resources"

    def pool_children(self, moid: str) -> list[str]:
        return [child for child, pool in self.child_pools().items() if pool["parent"] == moid]

    def datastore_hosts(self, ps) -> list:
        return [h for h in self.cloud.hosts if h.cluster_uuid in ps.cluster_uuids]

    def datastore_mounted_on(self, ps, host) -> bool:
        return host.cluster_uuid in ps.cluster_uuids

    def visible_vms(self) -> list:
        return [vm for vm in self.cloud.vms if vm.state not in INVISIBLE_VM_STATES]

    # --- summaries and infos -------------------------------------------------------------

    def vm_summary(self, vm) -> dict[str, Any]:
        return {
            "vm": self.moid("vm", vm.uuid),
            "name": vm.name,
            "power_state": power_state(vm),
            "cpu_count": vm.cpu_num,
            "memory_size_MiB": vm.memory_size // MiB,
        }

    def host_summary(self, host) -> dict[str, Any]:
        connection = connection_state(host)
        return {
            "host": self.moid("host", host.uuid),
            "name": host.name,
            "connection_state": connection,
            # The SDK enforces this union: power_state only when CONNECTED.
            "power_state": "POWERED_ON" if connection == "CONNECTED" else None,
        }

    @staticmethod
    def datastore_type(ps) -> str:
        return DATASTORE_TYPES.get(ps.type, DEFAULT_DATASTORE_TYPE)

    def datastore_summary(self, ps) -> dict[str, Any]:
        return {
            "datastore": self.moid("datastore", ps.uuid),
            "name": ps.name,
            "type": self.datastore_type(ps),
            "free_space": max(ps.available_physical_capacity, 0),
            "capacity": ps.total_physical_capacity,
        }

    def datastore_info(self, ps) -> dict[str, Any]:
        return {
            "name": ps.name,
            "type": self.datastore_type(ps),
            "accessible": ps.usable,
            "free_space": max(ps.available_physical_capacity, 0),
            # §9 #9: local storage is private to each host even when a cluster shares the name
            "multiple_host_access": not ps.host_local and len(self.datastore_hosts(ps)) > 1,
            "thin_provisioning_supported": True,
        }

    def datacenter_info(self, zone) -> dict[str, Any]:
        return {
            "name": zone.name,
            "datastore_folder": self.moid("datastore_folder", zone.uuid),
            "host_folder": self.moid("host_folder", zone.uuid),
            "network_folder": self.moid("network_folder", zone.uuid),
            "vm_folder": self.moid("vm_folder", zone.uuid),
        }

    def folders(self) -> list[dict[str, Any]]:
        """Every folder with its datacenter (None for the root folder)."""
        out = [{"folder": ROOT_FOLDER, "name": "Datacenters", "type": "DATACENTER", "_zone": None}]
        for zone in self.cloud.zones:
            for kind, (name, ftype) in FOLDER_KINDS.items():
                out.append(
                    {"folder": self.moid(kind, zone.uuid), "name": name, "type": ftype, "_zone": zone.uuid}
                )
        return out


def derived_uuid(seed: Any, purpose: str, number: int, prefix: str) -> str:
    """A reproducible UUID-shaped id (``42...`` BIOS, ``50...`` instance), from the seed."""
    digest = hashlib.sha256(f"fakestack-vsphere:{seed}:{purpose}:{number}".encode()).hexdigest()
    raw = prefix + digest[len(prefix) : 32]
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"
