"""Built-in topologies: ``demo`` (the default), ``tiny``, ``shared`` and ``scale:HOSTS:VMS``.

Their documents are data, in ``fakestack/topologies/*.json`` (the same format as a user's
topology file); ``scale`` fills the hosts, clusters, VMs and storage sizes of its template.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .topology import GiB, Topology, TopologyError, parse_topology
from .trusted_topology import trusted

TiB = 1024 * GiB

PRESET_NAMES = ("demo", "tiny", "shared", "scale:HOSTS:VMS")

TOPOLOGIES = Path(__file__).resolve().parent.parent / "topologies"


@cache
def _document_text(name: str) -> str:
    return (TOPOLOGIES / f"{name}.json").read_text(encoding="utf-8")


@cache
def _document(name: str) -> dict[str, Any]:
    """The document, read once; only validated or constructed (both copy), never handed out."""
    data: dict[str, Any] = json.loads(_document_text(name))
    return data


def document(name: str) -> dict[str, Any]:
    """A fresh copy of the built-in topology document ``name`` (``demo``, ``tiny``, ``shared``,
    ``scale``)."""
    data: dict[str, Any] = json.loads(_document_text(name))
    return data


def _preset_topology(name: str) -> Topology:
    """A built-in document's topology, constructed while the process has no validator for
    topologies (building one would cost more than ``fakestack serve``'s whole start: see
    ``trusted_topology``); a test checks both ways give the same for every preset."""
    return trusted(Topology, _document(name))


def demo() -> Topology:
    """A zone, two clusters, four hosts of different sizes, local + shared storage,
    a backup storage, two images, offerings, a network and a running ``golden`` VM."""
    return _preset_topology("demo")


def tiny() -> Topology:
    """One host with room for exactly three more 2 GiB VMs besides ``golden``; small
    storages, for exhaustion tests."""
    return _preset_topology("tiny")


def shared() -> Topology:
    """Two clusters (``esx-1`` and ``esx-3`` in ``cluster-a``, ``esx-2`` in ``cluster-b``)
    sharing two storages that admit on free physical space only, to the last byte (thin
    disks and copy-on-write deltas may provision more than the capacity), two networks, and
    a running 40 GiB ``golden`` VM on ``esx-1`` / ``ds-1``."""
    return _preset_topology("shared")


# The largest ``scale:HOSTS:VMS`` preset: building one costs about 0.1 ms per VM, so the
# limit keeps a typo (scale:100000:1000000) from running for minutes.
MAX_SCALE_HOSTS = 10_000
MAX_SCALE_VMS = 100_000


class ScaleOutOfRange(TopologyError):
    """A ``scale:HOSTS:VMS`` outside the preset's limits; its text is one line."""

    def __init__(self, hosts: int, vms: int) -> None:
        if not 1 <= hosts <= MAX_SCALE_HOSTS:
            reason = f"HOSTS must be from 1 to {MAX_SCALE_HOSTS} (MAX_SCALE_HOSTS), got {hosts}"
        else:
            reason = f"VMS must be from 0 to {MAX_SCALE_VMS} (MAX_SCALE_VMS), got {vms}"
        super().__init__([("topology", reason)], f"scale:{hosts}:{vms}")
        self.line = f"topology scale:{hosts}:{vms}: {reason}"

    def __str__(self) -> str:
        return self.line


def scale(hosts: int, vms: int, hosts_per_cluster: int = 1000) -> Topology:
    """``hosts`` identical hosts in clusters of ``hosts_per_cluster`` on one shared
    storage (sized to fit), and ``vms`` running VMs placed by the default allocator."""
    if not (1 <= hosts <= MAX_SCALE_HOSTS and 0 <= vms <= MAX_SCALE_VMS):
        raise ScaleOutOfRange(hosts, vms)
    data = document("scale")
    n_clusters = max(1, -(-hosts // hosts_per_cluster))
    clusters = [{"name": f"cluster-{i + 1}", "zone": "zone-1"} for i in range(n_clusters)]
    storage = max(100, (vms + 1000) * 12) * GiB * 4
    data["name"] = f"scale:{hosts}:{vms}"
    data["clusters"] = clusters
    data["hosts"] = [
        {
            "name": f"host-{i + 1}",
            "cluster": f"cluster-{i // hosts_per_cluster + 1}",
            "cpu_num": 64,
            "memory": "512G",
            "management_ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
        }
        for i in range(hosts)
    ]
    (ps,) = data["primary_storages"]
    ps["clusters"] = [c["name"] for c in clusters]
    ps["total_capacity"] = storage
    (bs,) = data["backup_storages"]
    bs["total_capacity"] = storage
    (image,) = data["images"]
    offering = data["instance_offerings"][0]["name"]
    data["vms"] = [
        {"name": f"vm-{i + 1}", "instance_offering": offering, "image": image["name"]} for i in range(vms)
    ]
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
