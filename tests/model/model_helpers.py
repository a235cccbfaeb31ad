"""Topologies for the model tests."""

GiB = 1024**3
MiB = 1024**2


def small_topology(**overrides):
    """One zone, one cluster, one host, one NFS storage, one image store, one image."""
    topo = {
        "name": "unit",
        "zones": [{"name": "z"}],
        "clusters": [{"name": "c", "zone": "z"}],
        "hosts": [{"name": "h1", "cluster": "c", "cpu_num": 8, "memory": "32G"}],
        "primary_storages": [
            {"name": "ps", "type": "NFS", "zone": "z", "clusters": ["c"], "total_capacity": "200G"}
        ],
        "backup_storages": [{"name": "bs", "zones": ["z"], "total_capacity": "100G"}],
        "images": [{"name": "img", "backup_storages": ["bs"], "virtual_size": "10G", "actual_size": "1G"}],
        "instance_offerings": [{"name": "o1", "cpu_num": 2, "memory_size": "4G"}],
        "disk_offerings": [{"name": "d10", "disk_size": "10G"}],
        "l3_networks": [{"name": "net", "zone": "z", "cidr": "10.0.0.0/24"}],
        "vms": [],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(topo.get(key), list):
            topo[key] = [dict(item, **value) for item in topo[key]]
        else:
            topo[key] = value
    return topo
