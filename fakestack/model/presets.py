"""Built-in topologies: ``demo`` (the default), ``tiny`` and ``scale:HOSTS:VMS``.

Their documents are data, in ``fakestack/topologies/*.json`` (the same format as a user's
topology file); ``scale`` fills the hosts, clusters, VMs and storage sizes of its template.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .topology import GiB, Topology, parse_topology

TiB = 1024 * GiB

PRESET_NAMES = ("demo", "tiny", "shared", "scale:HOSTS:VMS")

TOPOLOGIES = Path(__file__).resolve().parent.parent / "topologies"


@cache
def _document_text(name: str) -> str:
    return (TOPOLOGIES / f"{name}.json").read_text(encoding="utf-8")


@cache
def _document(name: str) -> dict[str, Any]:
    """The document, read once; only validated (which copies), never handed out."""
    data: dict[str, Any] = json.loads(_document_text(name))
    return data


def document(name: str) -> dict[str, Any]:
    """A fresh copy of the built-in topology document ``name`` (``demo``, ``tiny``, ``scale``)."""
    data: dict[str, Any] = json.loads(_document_text(name))
    return data


def demo() -> Topology:
    """A zone, two clusters, four hosts of different sizes, local + shared storage,
    a backup storage, two images, offerings, a network and a running ``golden`` VM."""
    return parse_topology(_document("demo"))


def tiny() -> Topology:
    """One host with room for exactly three more 2 GiB VMs besides ``golden``; small
    storages, for exhaustion tests."""
    return parse_topology(_document("tiny"))


def shared() -> Topology:
    """Two clusters (``esx-1`` and ``esx-3`` in ``cluster-a``, ``esx-2`` in ``cluster-b``)
    sharing two storages that admit on free physical space only, to the last byte (thin
    disks and copy-on-write deltas may provision more than the capacity), two networks, and
    a running 40 GiB ``golden`` VM on ``esx-1`` / ``ds-1``."""
    physical = {"type": "NFS", "zone": "dc-1", "clusters": ["cluster-a", "cluster-b"],
                "admission": "physical", "physical_threshold": 1.0}
    return parse_topology(
        {
            "name": "shared",
            "description": "one zone, two clusters, three hosts, two shared storages admitting on "
                           "physical space, a running 40 GiB golden VM",
            "zones": [{"name": "dc-1"}],
            "clusters": [{"name": "cluster-a", "zone": "dc-1"}, {"name": "cluster-b", "zone": "dc-1"}],
            "hosts": [
                {"name": "esx-1", "cluster": "cluster-a", "cpu_num": 32, "memory": "128G",
                 "management_ip": "10.0.1.11"},
                {"name": "esx-2", "cluster": "cluster-b", "cpu_num": 16, "memory": "64G",
                 "management_ip": "10.0.1.12"},
                {"name": "esx-3", "cluster": "cluster-a", "cpu_num": 4, "memory": "8G",
                 "management_ip": "10.0.1.13"},
            ],
            "primary_storages": [
                dict(physical, name="ds-1", total_capacity="2T"),
                dict(physical, name="ds-2", total_capacity="1T"),
            ],
            "backup_storages": [{"name": "library", "zones": ["dc-1"], "total_capacity": "1T"}],
            "images": [{"name": "photon-5", "backup_storages": ["library"], "virtual_size": "40G",
                        "actual_size": "2G", "guest_os_type": "VMware Photon OS 5"}],
            "instance_offerings": [{"name": "medium", "cpu_num": 1, "memory_size": "1G"}],
            "l3_networks": [{"name": "VM Network", "zone": "dc-1", "cidr": "10.10.0.0/16"},
                            {"name": "backend", "zone": "dc-1", "cidr": "10.20.0.0/24"}],
            "vms": [{"name": "golden", "instance_offering": "medium", "image": "photon-5", "host": "esx-1",
                     "primary_storage": "ds-1", "l3_networks": ["VM Network"]}],
        }
    )


def scale(hosts: int, vms: int, hosts_per_cluster: int = 1000) -> Topology:
    """``hosts`` identical hosts in clusters of ``hosts_per_cluster`` on one shared
    storage (sized to fit), and ``vms`` running VMs placed by the default allocator."""
    if hosts < 1 or vms < 0:
        raise ValueError("scale needs at least one host and a non-negative VM count")
    data = document("scale")
    n_clusters = max(1, -(-hosts // hosts_per_cluster))
    clusters = [{"name": f"cluster-{i + 1}", "zone": "zone-1"} for i in range(n_clusters)]
    storage = max(100, (vms + 1000) * 12) * GiB * 4
    data["name"] = f"scale:{hosts}:{vms}"
    data["clusters"] = clusters
    data["hosts"] = [
        {"name": f"host-{i + 1}", "cluster": f"cluster-{i // hosts_per_cluster + 1}",
         "cpu_num": 64, "memory": "512G",
         "management_ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}
        for i in range(hosts)
    ]
    (ps,) = data["primary_storages"]
    ps["clusters"] = [c["name"] for c in clusters]
    ps["total_capacity"] = storage
    (bs,) = data["backup_storages"]
    bs["total_capacity"] = storage
    (image,) = data["images"]
    offering = data["instance_offerings"][0]["name"]
    data["vms"] = [{"name": f"vm-{i + 1}", "instance_offering": offering, "image": image["name"]}
                   for i in range(vms)]
    return parse_topology(data)


def preset(name: str) -> Topology | None:
    if name == "demo":
        return demo()
    if name == "tiny":
        return tiny()
    if name == "shared":
        return shared()
    if name.startswith("scale:"):
        parts = name.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return scale(int(parts[1]), int(parts[2]))
    return None
