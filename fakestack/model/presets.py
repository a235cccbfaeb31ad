"""Built-in topologies: ``demo`` (the default), ``tiny``, ``shared`` and ``scale:HOSTS:VMS``.

Their documents are data, in ``fakestack/topologies/*.json`` (the same format as a user's
topology file); ``scale`` fills the hosts, clusters, VMs and storage sizes of its template.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .topology import GiB, HostSpec, Topology, TopologyError, VmSpec, specs_like
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
    storage (sized to fit), and ``vms`` running VMs placed by the default allocator.

    Equal to ``parse_topology(scale_document(...))``, made faster: the template (ours) is
    taken as valid (``trusted``), and the hosts and VMs (which differ only in their names,
    clusters and addresses, all made here) are copies of one host and one VM
    (``specs_like``), not 100,000 specs validated one by one."""
    data = scale_document(hosts, vms, hosts_per_cluster, with_specs=False)
    topology = trusted(Topology, data)
    offering, image = _scale_vm_template(data)
    host_proto = trusted(HostSpec, _scale_host(0, hosts_per_cluster))
    topology.hosts = specs_like(
        host_proto,
        hosts,
        {
            "name": [f"host-{i + 1}" for i in range(hosts)],
            "cluster": [f"cluster-{i // hosts_per_cluster + 1}" for i in range(hosts)],
            "management_ip": [_scale_host_ip(i) for i in range(hosts)],
        },
    )
    if vms:
        vm_proto = trusted(VmSpec, _scale_vm(0, offering, image))
        topology.vms = specs_like(vm_proto, vms, {"name": [f"vm-{i + 1}" for i in range(vms)]})
    return topology


def scale_document(
    hosts: int, vms: int, hosts_per_cluster: int = 1000, *, with_specs: bool = True
) -> dict[str, Any]:
    """The topology document of ``scale(hosts, vms, hosts_per_cluster)``, as a topology
    file would hold it (``with_specs=False``: without its hosts and VMs)."""
    if not (1 <= hosts <= MAX_SCALE_HOSTS and 0 <= vms <= MAX_SCALE_VMS):
        raise ScaleOutOfRange(hosts, vms)
    data = document("scale")
    n_clusters = max(1, -(-hosts // hosts_per_cluster))
    clusters = [{"name": f"cluster-{i + 1}", "zone": "zone-1"} for i in range(n_clusters)]
    storage = max(100, (vms + 1000) * 12) * GiB * 4
    data["name"] = f"scale:{hosts}:{vms}"
    data["clusters"] = clusters
    data["hosts"] = [_scale_host(i, hosts_per_cluster) for i in range(hosts)] if with_specs else []
    (ps,) = data["primary_storages"]
    ps["clusters"] = [c["name"] for c in clusters]
    ps["total_capacity"] = storage
    (bs,) = data["backup_storages"]
    bs["total_capacity"] = storage
    offering, image = _scale_vm_template(data)
    data["vms"] = [_scale_vm(i, offering, image) for i in range(vms)] if with_specs else []
    return data


def _scale_host(i: int, hosts_per_cluster: int) -> dict[str, Any]:
    return {
        "name": f"host-{i + 1}",
        "cluster": f"cluster-{i // hosts_per_cluster + 1}",
        "cpu_num": 64,
        "memory": "512G",
        "management_ip": _scale_host_ip(i),
    }


def _scale_host_ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _scale_vm_template(data: dict[str, Any]) -> tuple[str, str]:
    """The offering and the image of every VM of a scale document."""
    (image,) = data["images"]
    return data["instance_offerings"][0]["name"], image["name"]


def _scale_vm(i: int, offering: str, image: str) -> dict[str, Any]:
    return {"name": f"vm-{i + 1}", "instance_offering": offering, "image": image}


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
