"""Placement questions: GetCandidateZonesClustersHostsForCreatingVm,
GetCandidatePrimaryStoragesForCreatingVm, GetVmStartingCandidateClustersHosts,
GetVmAttachableDataVolume, GetDataVolumeAttachableVm (issue 16, group 6).

Each is answered by the model's allocator (``model/placement_questions.py``), the one a
create, start or attach uses: the answer predicts the operation.  A creation question that
finds no host fails with the allocator's error (``HOST_ALLOCATION.1000``), as ZStack's dry
run does.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_argument
from .query import schema_for
from .registry import Call, api
from .render import (
    CLUSTER,
    HOST,
    PRIMARY_STORAGE,
    VM,
    VOLUME,
    ZONE,
    cluster_inventory,
    host_inventory,
    primary_storage_inventory,
    vm_inventory,
    volume_inventory,
    zone_inventory,
)

CREATION_RESOURCES = {
    "imageUuid": "image",
    "instanceOfferingUuid": "instance_offering",
    "l3NetworkUuids": "l3_network",
    "rootDiskOfferingUuid": "disk_offering",
    "dataDiskOfferingUuids": "disk_offering",
    "zoneUuid": "zone",
    "clusterUuid": "cluster",
    "defaultL3NetworkUuid": "l3_network",
}


def _sizes(call: Call, name: str) -> list[int]:
    sizes = []
    for size in call.fields.get(name) or []:
        try:
            sizes.append(int(size))
        except (TypeError, ValueError):
            raise invalid_argument(
                f"field[{name}] of message[{call.message_class}] must hold sizes in bytes, but {size} found"
            ) from None
    return sizes


def _creation_candidates(call: Call, data_sizes: list[int], sized: bool = True) -> Any:
    f = call.fields
    return call.cloud.creation_candidates(
        sized=sized,
        image=f["imageUuid"],
        instance_offering=f.get("instanceOfferingUuid"),
        cpu_num=f.get("cpuNum"),
        memory_size=f.get("memorySize"),
        l3_networks=f.get("l3NetworkUuids"),
        zone=f.get("zoneUuid"),
        cluster=f.get("clusterUuid"),
        data_disk_offerings=tuple(f.get("dataDiskOfferingUuids") or ()),
        data_disk_sizes=tuple(data_sizes),
    )


def _hosts_and_clusters(call: Call, hosts: list, clusters: list) -> dict[str, Any]:
    cloud = call.cloud
    reply = {
        "hosts": [host_inventory(cloud, h) for h in hosts],
        "clusters": [cluster_inventory(cloud, c) for c in clusters],
    }
    call.schema = {
        **schema_for(reply["hosts"], HOST, prefix="hosts"),
        **schema_for(reply["clusters"], CLUSTER, prefix="clusters"),
    }
    return reply


@api(
    "GetCandidateZonesClustersHostsForCreatingVm",
    operation="create_vm.candidates",
    resources=CREATION_RESOURCES,
)
def get_candidate_zones_clusters_hosts(call: Call) -> dict:
    answer = _creation_candidates(call, _sizes(call, "dataDiskSizes"))
    reply = _hosts_and_clusters(call, answer.hosts, answer.clusters)
    reply["zones"] = [zone_inventory(call.cloud, z) for z in answer.zones]
    assert call.schema is not None
    call.schema.update(schema_for(reply["zones"], ZONE, prefix="zones"))
    return {"zones": reply["zones"], "clusters": reply["clusters"], "hosts": reply["hosts"]}


@api(
    "GetCandidatePrimaryStoragesForCreatingVm", operation="create_vm.candidates", resources=CREATION_RESOURCES
)
def get_candidate_primary_storages(call: Call) -> dict:
    """``dataVolumePrimaryStorages`` maps each data disk to its candidates: a disk offering
    by its uuid, a disk given by size by that size (as a string)."""
    f = call.fields
    offerings = list(f.get("dataDiskOfferingUuids") or [])
    sizes = _sizes(call, "dataDiskSizes")
    answer = _creation_candidates(call, sizes, sized=False)
    cloud = call.cloud
    roots = [primary_storage_inventory(cloud, ps) for ps in answer.root_storages]
    schema = schema_for(roots, PRIMARY_STORAGE, prefix="rootVolumePrimaryStorages")
    data: dict[str, list[dict]] = {}
    keys = offerings + [str(s) for s in sizes]
    for key, stores in zip(keys, answer.data_storages):
        data[key] = [primary_storage_inventory(cloud, ps) for ps in stores]
        schema.update(schema_for(data[key], PRIMARY_STORAGE, prefix=f"dataVolumePrimaryStorages.{key}"))
    call.schema = schema
    return {"rootVolumePrimaryStorages": roots, "dataVolumePrimaryStorages": data}


@api("GetVmStartingCandidateClustersHosts", operation="start_vm.candidates", resources={"uuid": "vm"})
def get_vm_starting_candidate_clusters_hosts(call: Call) -> dict:
    cloud = call.cloud
    hosts = cloud.start_candidates(call.fields["uuid"])
    reached = {h.cluster_uuid for h in hosts}
    clusters = [c for c in cloud.clusters if c.uuid in reached]
    return _hosts_and_clusters(call, hosts, clusters)


@api("GetVmAttachableDataVolume", operation="attach_volume.candidates", resources={"vmInstanceUuid": "vm"})
def get_vm_attachable_data_volume(call: Call) -> dict:
    cloud = call.cloud
    inventories = [
        volume_inventory(cloud, v) for v in cloud.attachable_volumes(call.fields["vmInstanceUuid"])
    ]
    call.schema = schema_for(inventories, VOLUME)
    return {"inventories": inventories}


@api("GetDataVolumeAttachableVm", operation="attach_volume.candidates", resources={"volumeUuid": "volume"})
def get_data_volume_attachable_vm(call: Call) -> dict:
    cloud = call.cloud
    inventories = [vm_inventory(cloud, vm) for vm in cloud.attachable_vms(call.fields["volumeUuid"])]
    call.schema = schema_for(inventories, VM)
    return {"inventories": inventories}
