"""Built-in topologies: ``demo`` (the default), ``tiny`` and ``scale:HOSTS:VMS``."""
from __future__ import annotations

from .topology import GiB, Topology, TopologyError, parse_topology

TiB = 1024 * GiB

PRESET_NAMES = ("demo", "tiny", "scale:HOSTS:VMS")


def demo() -> Topology:
    """A zone, two clusters, four hosts of different sizes, local + shared storage,
    an image store, two images, offerings, a network and a running ``golden`` VM."""
    return parse_topology(
        {
            "name": "demo",
            "description": "one zone, two clusters, four hosts, local + NFS storage, a golden VM",
            "zones": [{"name": "zone-1"}],
            "clusters": [
                {"name": "cluster-local", "zone": "zone-1"},
                {"name": "cluster-shared", "zone": "zone-1"},
            ],
            "hosts": [
                {"name": "host-1", "cluster": "cluster-local", "cpu_num": 32, "cpu_sockets": 2,
                 "memory": "128G", "management_ip": "10.0.0.11"},
                {"name": "host-2", "cluster": "cluster-local", "cpu_num": 16, "cpu_sockets": 1,
                 "memory": "64G", "management_ip": "10.0.0.12"},
                {"name": "host-3", "cluster": "cluster-shared", "cpu_num": 64, "cpu_sockets": 2,
                 "memory": "256G", "management_ip": "10.0.0.13"},
                {"name": "host-4", "cluster": "cluster-shared", "cpu_num": 8, "cpu_sockets": 1,
                 "memory": "32G", "management_ip": "10.0.0.14"},
            ],
            "primary_storages": [
                {"name": "local-ps", "type": "LocalStorage", "zone": "zone-1",
                 "clusters": ["cluster-local"], "total_capacity": "2T", "url": "/zstack_ps"},
                {"name": "nfs-ps", "type": "NFS", "zone": "zone-1", "clusters": ["cluster-shared"],
                 "total_capacity": "4T", "url": "10.0.0.30:/nfs_root"},
            ],
            "backup_storages": [
                {"name": "imagestore", "zones": ["zone-1"], "total_capacity": "2T",
                 "hostname": "10.0.0.20"},
            ],
            "images": [
                {"name": "centos-7", "backup_storages": ["imagestore"], "virtual_size": "40G",
                 "actual_size": "2G", "guest_os_type": "CentOS 7"},
                {"name": "ubuntu-22.04", "backup_storages": ["imagestore"], "virtual_size": "20G",
                 "actual_size": "1G", "guest_os_type": "Ubuntu 22.04"},
            ],
            "instance_offerings": [
                {"name": "small", "cpu_num": 1, "memory_size": "1G"},
                {"name": "medium", "cpu_num": 2, "memory_size": "4G"},
                {"name": "large", "cpu_num": 8, "memory_size": "16G"},
            ],
            "disk_offerings": [
                {"name": "disk-20G", "disk_size": "20G"},
                {"name": "disk-100G", "disk_size": "100G"},
            ],
            "l3_networks": [
                {"name": "l3-private", "zone": "zone-1", "cidr": "192.168.100.0/24",
                 "gateway": "192.168.100.1"},
            ],
            "vms": [
                {"name": "golden", "instance_offering": "medium", "image": "centos-7",
                 "host": "host-3", "primary_storage": "nfs-ps", "data_disks": ["disk-20G"],
                 "written": "512M"},
            ],
        }
    )


def tiny() -> Topology:
    """One host with room for exactly three more 2 GiB VMs besides ``golden``; small
    storages, for exhaustion tests."""
    return parse_topology(
        {
            "name": "tiny",
            "description": "one host (10 GiB, 1 GiB reserved), 100 GiB NFS, 20 GiB image store",
            "zones": [{"name": "zone-1"}],
            "clusters": [{"name": "cluster-1", "zone": "zone-1"}],
            "hosts": [
                {"name": "host-1", "cluster": "cluster-1", "cpu_num": 4, "memory": "10G",
                 "management_ip": "10.0.0.11"},
            ],
            "primary_storages": [
                {"name": "nfs-ps", "type": "NFS", "zone": "zone-1", "clusters": ["cluster-1"],
                 "total_capacity": "100G", "url": "10.0.0.30:/nfs_root"},
            ],
            "backup_storages": [
                {"name": "imagestore", "zones": ["zone-1"], "total_capacity": "20G",
                 "hostname": "10.0.0.20"},
            ],
            "images": [
                {"name": "tiny-linux", "backup_storages": ["imagestore"], "virtual_size": "10G",
                 "actual_size": "1G"},
            ],
            "instance_offerings": [{"name": "vm-2g", "cpu_num": 1, "memory_size": "2G"}],
            "disk_offerings": [{"name": "disk-5G", "disk_size": "5G"}],
            "l3_networks": [{"name": "l3-private", "zone": "zone-1", "cidr": "192.168.10.0/24"}],
            "vms": [{"name": "golden", "instance_offering": "vm-2g", "image": "tiny-linux"}],
        }
    )


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
    n_clusters = max(1, -(-hosts // hosts_per_cluster))
    clusters = [{"name": f"cluster-{i + 1}", "zone": "zone-1"} for i in range(n_clusters)]
    host_specs = [
        {"name": f"host-{i + 1}", "cluster": f"cluster-{i // hosts_per_cluster + 1}",
         "cpu_num": 64, "memory": "512G",
         "management_ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}
        for i in range(hosts)
    ]
    storage = max(100, (vms + 1000) * 12) * GiB * 4
    return parse_topology(
        {
            "name": f"scale:{hosts}:{vms}",
            "zones": [{"name": "zone-1"}],
            "clusters": clusters,
            "hosts": host_specs,
            "primary_storages": [
                {"name": "shared-ps", "type": "Ceph", "zone": "zone-1",
                 "clusters": [c["name"] for c in clusters], "total_capacity": storage},
            ],
            "backup_storages": [
                {"name": "imagestore", "zones": ["zone-1"], "total_capacity": storage,
                 "hostname": "10.255.0.20"},
            ],
            "images": [
                {"name": "base", "backup_storages": ["imagestore"], "virtual_size": "10G",
                 "actual_size": "1G"},
            ],
            "instance_offerings": [{"name": "unit", "cpu_num": 1, "memory_size": "1G"}],
            "l3_networks": [{"name": "l3-scale", "zone": "zone-1", "cidr": "10.128.0.0/9"}],
            "vms": [{"name": f"vm-{i + 1}", "instance_offering": "unit", "image": "base"}
                    for i in range(vms)],
        }
    )


def preset(name: str) -> Topology | None:
    if name == "demo":
        return demo()
    if name == "tiny":
        return tiny()
    if name.startswith("scale:"):
        parts = name.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return scale(int(parts[1]), int(parts[2]))
    return None
