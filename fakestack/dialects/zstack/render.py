"""Model entities -> ZStack inventories, field by field (reference §9).

Null fields are omitted (Gson without ``serializeNulls``); numbers stay integers; dates use
ZStack's text form.  Each inventory class is also described as a query
:class:`~.query.QuerySource` (its fields, nested inventories and dotted joins).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from werkzeug.wrappers import Response

from ..kit.responses import JsonResponse, JsonStyle
from .dates import format_date, sql_timestamp
from .entity_query import Field, attribute, derived
from .names import IMAGE_STORE, bs_type, media_type, ps_type
from .query import QuerySource, _sort_key, date_sort_key, last_op_sort_key, plan_of, walk_plan
from .sessions import ADMIN_ACCOUNT_UUID

# ZStack's JSON: compact, UTF-8 (the kit's one builder).
JSON_MIMETYPE = "application/json;charset=utf-8"
ZSTACK_JSON = JsonStyle(separators=(",", ":"), ensure_ascii=False, content_type=JSON_MIMETYPE)
dumps = ZSTACK_JSON.dumps
_json_text = json.encoder.encode_basestring  # a str as ZSTACK_JSON writes it (no ASCII escapes)


def json_response(data: Any, status: int = 200) -> Response:
    return ZSTACK_JSON.response(data, status)


def accepted_response(location: str, api_timeout: Any) -> Response:
    """The 202 of an async API, ``json_response({"location": location, "apiTimeout":
    api_timeout}, 202)``: written directly when it is a text and an integer (as ``json``
    writes them without ASCII escapes), which every submit answers."""
    if api_timeout.__class__ is int and location.__class__ is str:
        try:
            body = f'{{"location":{_json_text(location)},"apiTimeout":{api_timeout}}}'.encode()
        except UnicodeEncodeError:  # a lone surrogate: what the general path makes of it
            pass
        else:
            return JsonResponse.whole(body, 202, JSON_MIMETYPE)
    return json_response({"location": location, "apiTimeout": api_timeout}, 202)


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its null fields, removed in place (every caller hands over a dict
    it just built; the others keep their order)."""
    for key in [key for key, value in data.items() if value is None]:
        del data[key]
    return data


def _text(value: str | None) -> str | None:
    return value or None


@lru_cache(maxsize=65536)
def derived_uuid(*parts: str) -> str:
    """A stable 32-hex id for things the model does not give ids (used IPs, IP ranges)."""
    return hashlib.md5(":".join(parts).encode()).hexdigest()


def _dates(entity) -> tuple[str, str]:
    created = getattr(entity, "create_date", 0.0)
    last = getattr(entity, "last_op_date", None) or created
    return format_date(created), format_date(last)


# -- classes ---------------------------------------------------------------------------

VM_CLASS = "org.zstack.header.vm.VmInstanceInventory"
NIC_CLASS = "org.zstack.header.vm.VmNicInventory"
USED_IP_CLASS = "org.zstack.header.network.l3.UsedIpInventory"
VOLUME_CLASS = "org.zstack.header.volume.VolumeInventory"
HOST_CLASS = "org.zstack.kvm.KVMHostInventory"
PS_CLASS = "org.zstack.header.storage.primary.PrimaryStorageInventory"
BS_CLASS = "org.zstack.header.storage.backup.BackupStorageInventory"
IMAGE_STORE_CLASS = "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory"
IMAGE_CLASS = "org.zstack.header.image.ImageInventory"
IMAGE_REF_CLASS = "org.zstack.header.image.ImageBackupStorageRefInventory"
ZONE_CLASS = "org.zstack.header.zone.ZoneInventory"
CLUSTER_CLASS = "org.zstack.header.cluster.ClusterInventory"
L3_CLASS = "org.zstack.header.network.l3.L3NetworkInventory"
IP_RANGE_CLASS = "org.zstack.header.network.l3.IpRangeInventory"
INSTANCE_OFFERING_CLASS = "org.zstack.header.configuration.InstanceOfferingInventory"
DISK_OFFERING_CLASS = "org.zstack.header.configuration.DiskOfferingInventory"
SNAPSHOT_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotInventory"
SNAPSHOT_TREE_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotTreeInventory"
SNAPSHOT_LEAF_CLASS = "org.zstack.header.storage.snapshot.VolumeSnapshotTree$SnapshotLeafInventory"
BACKUP_CLASS = "org.zstack.header.storage.volume.backup.VolumeBackupInventory"
BACKUP_REF_CLASS = "org.zstack.header.storage.volume.backup.VolumeBackupBackupStorageRefInventory"


# -- renderers ---------------------------------------------------------------------------


def slug(name: str) -> str:
    """An image name as the image store's folder name: lower case, every character other
    than a letter or digit a dash, no dash at either end."""
    out = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    return out or "image"


def image_install_path(image, ref) -> str:
    """Where the image store keeps an image: a clone's temporary image under the cloned VM,
    any other under the image's name."""
    folder = f"clone-{image.clone_of}" if image.clone_of else slug(image.name)
    return f"zstore://{folder}/{ref['node_uuid']}"


def image_url(cloud, image) -> str | None:
    """The image's url: the one it was added from, else its place on its first image store
    (none for a clone's temporary image)."""
    if image.url or image.clone_of or not image.backup_storage_refs:
        return image.url or None
    ref = image.backup_storage_refs[0]
    bs = cloud.backup_storages.by_uuid(ref["backup_storage_uuid"])
    hostname = bs.hostname if bs is not None else "127.0.0.1"
    return f"zstore://{hostname}/{slug(image.name)}/{ref['node_uuid']}"


def backup_install_path(record, ref) -> str:
    return f"zstore://volumebackup-{record.volume_uuid}/{ref['node_uuid']}"


def backup_name(record) -> str:
    """A VM backup member's name: the name asked for, the data volume's uuid for a data
    volume, and the creation time as ``java.sql.Timestamp`` text."""
    if record.group_uuid is None:  # a single volume's backup (CreateVolumeBackup) keeps its name
        return record.name[:255]
    stamp = sql_timestamp(record.create_date)
    if record.type == "Root":
        return f"{record.name}-{stamp}"[:255]
    return f"{record.name}-{record.volume_uuid}-{stamp}"[:255]


def volume_install_path(ps, volume) -> str:
    folder = "rootVolumes" if volume.type == "Root" else "dataVolumes"
    kind = ps_type(ps)
    if kind == "Ceph":
        return f"ceph://pri-v-r-{ps.uuid}/{volume.uuid}"
    mount = ps.url if kind == "LocalStorage" else f"/opt/zstack/nfsprimarystorage/prim-{ps.uuid}"
    return f"{mount}/{folder}/acct-{ADMIN_ACCOUNT_UUID}/vol-{volume.uuid}/{volume.uuid}.qcow2"


def volume_inventory(cloud, volume) -> dict[str, Any]:
    # compact(...) spelled out: the fields that may be null are removed one by one (the
    # others are never null); tests/zstack/test_zstack_render_equivalence.py compares
    # this with the plain form
    created_at = volume.create_date
    created = format_date(created_at)
    last_at = volume.last_op_date or created_at
    last = created if last_at is created_at else format_date(last_at)
    ps_uuid = volume.primary_storage_uuid
    ps = cloud.primary_storages.by_uuid(ps_uuid)
    node_uuid = volume.node_uuid
    node = cloud.nodes.by_uuid(node_uuid) if node_uuid else None
    actual = node.actual_size if node is not None else 0  # cloud.volume_actual_size, when it has a disk
    description = volume.description or None
    vm_uuid = volume.vm_uuid
    disk_offering_uuid = volume.disk_offering_uuid
    root_image_uuid = volume.root_image_uuid
    install_path = volume_install_path(ps, volume) if ps is not None and node_uuid else None
    device_id = volume.device_id if vm_uuid else None
    last_vm_uuid = volume.last_vm_uuid
    attached_at = volume.last_attach_date
    detached_at = volume.last_detach_date
    uuid = volume.uuid
    name = volume.name
    kind = volume.type
    disk_format = volume.format
    size = volume.virtual_size
    state = volume.state
    status = volume.status
    inventory = {
        "uuid": uuid,
        "name": name,
        "description": description,
        "primaryStorageUuid": ps_uuid,
        "vmInstanceUuid": vm_uuid,
        "diskOfferingUuid": disk_offering_uuid,
        "rootImageUuid": root_image_uuid,
        "installPath": install_path,
        "type": kind,
        "format": disk_format,
        "size": size,
        "actualSize": actual,
        "deviceId": device_id,
        "state": state,
        "status": status,
        "createDate": created,
        "lastOpDate": last,
        "isShareable": False,
        "lastVmInstanceUuid": last_vm_uuid,
        # volumeQos and protocol are null unless set (no QoS, no vhost protocol): omitted
        "lastAttachDate": format_date(attached_at) if attached_at is not None else None,
        "lastDetachDate": format_date(detached_at) if detached_at is not None else None,
    }
    if description is None:
        del inventory["description"]
    if vm_uuid is None:
        del inventory["vmInstanceUuid"]
    if disk_offering_uuid is None:
        del inventory["diskOfferingUuid"]
    if root_image_uuid is None:
        del inventory["rootImageUuid"]
    if install_path is None:
        del inventory["installPath"]
    if device_id is None:
        del inventory["deviceId"]
    if last_vm_uuid is None:
        del inventory["lastVmInstanceUuid"]
    if attached_at is None:
        del inventory["lastAttachDate"]
    if detached_at is None:
        del inventory["lastDetachDate"]
    if (  # null only when set so by hand
        uuid is None
        or name is None
        or ps_uuid is None
        or kind is None
        or disk_format is None
        or size is None
        or actual is None
        or state is None
        or status is None
    ):
        compact(inventory)
    return inventory


@lru_cache(maxsize=65536)
def _ip_in_long(ip: str) -> int:
    if _DOTTED_QUAD.fullmatch(ip):  # what IPv4Address accepts, read without it
        a, b, c, d = ip.split(".")
        return int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)
    return int(ipaddress.IPv4Address(ip))


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}", re.ASCII)


def nic_internal_name(nic) -> str | None:
    """``vnic<vm internal id>.<device id>``: the libvirt name of a NIC of a VM (none for a
    NIC of no VM; metaData is null for a plain VNIC and omitted).  The VM's internal id is
    a database sequence on the server; here a stable number derived from the VM's uuid."""
    if nic.vm_uuid is None:
        return None
    return f"vnic{int(nic.vm_uuid[:5], 16) % 100000 + 1}.{nic.device_id}"


@lru_cache(maxsize=65536)
def _cached_internal_name(vm_uuid: str, device_id: int) -> str:
    return f"vnic{int(vm_uuid[:5], 16) % 100000 + 1}.{device_id}"


def _nic_internal_name(vm_uuid: Any, device_id: Any) -> str:
    """``nic_internal_name`` of a NIC of a VM, remembered for a text uuid and an integer
    device id (the cache would take ``1`` and ``1.0``, ``0.0`` and ``-0.0`` for one key)."""
    if vm_uuid.__class__ is str and device_id.__class__ is int:
        return _cached_internal_name(vm_uuid, device_id)
    return f"vnic{int(vm_uuid[:5], 16) % 100000 + 1}.{device_id}"


def nic_inventory(cloud, nic) -> dict[str, Any]:
    created = format_date(nic.create_date)
    uuid = nic.uuid
    l3 = nic.l3_network_uuid
    ip = nic.ip
    netmask = nic.netmask
    gateway = nic.gateway
    vm_uuid = nic.vm_uuid
    device_id = nic.device_id
    used_ip = {
        "uuid": derived_uuid("usedip", uuid),
        "ipRangeUuid": derived_uuid("iprange", l3),
        "l3NetworkUuid": l3,
        "ipVersion": 4,
        "ip": ip,
        "netmask": netmask,
        "gateway": gateway,
        "ipInLong": _ip_in_long(ip),
        "vmNicUuid": uuid,
        "createDate": created,
        "lastOpDate": created,
    }
    if vm_uuid is None:  # a NIC not attached yet (CreateVmNic): null fields are omitted
        return {
            "uuid": uuid,
            "l3NetworkUuid": l3,
            "ip": ip,
            "mac": nic.mac,
            "hypervisorType": "KVM",
            "netmask": netmask,
            "gateway": gateway,
            "ipVersion": 4,
            "driverType": "virtio",
            "deviceId": device_id,
            "type": "VNIC",
            "state": "enable",
            "usedIps": [used_ip],
            "createDate": created,
            "lastOpDate": created,
        }
    return {
        "uuid": uuid,
        "vmInstanceUuid": vm_uuid,
        "l3NetworkUuid": l3,
        "ip": ip,
        "mac": nic.mac,
        "hypervisorType": "KVM",
        "netmask": netmask,
        "gateway": gateway,
        "ipVersion": 4,
        "driverType": "virtio",
        "internalName": _nic_internal_name(vm_uuid, device_id),  # nic_internal_name(nic)
        "deviceId": device_id,
        "type": "VNIC",
        "state": "enable",
        "usedIps": [used_ip],
        "createDate": created,
        "lastOpDate": created,
    }


def vm_inventory(cloud, vm) -> dict[str, Any]:
    # compact(...) spelled out, as in volume_inventory
    created_at = vm.create_date
    created = format_date(created_at)
    last_at = vm.last_op_date or created_at
    last = created if last_at is created_at else format_date(last_at)
    volumes = []
    by_uuid = cloud.volumes.by_uuid
    root = vm.root_volume_uuid
    if root:
        volume = by_uuid(root)
        if volume is not None:
            volumes.append(volume_inventory(cloud, volume))
    for uuid in vm.data_volume_uuids:
        volume = by_uuid(uuid)
        if volume is not None:
            volumes.append(volume_inventory(cloud, volume))
    nics = []
    by_uuid = cloud.nics.by_uuid
    for uuid in vm.nic_uuids:
        nic = by_uuid(uuid)
        if nic is not None:
            nics.append(nic_inventory(cloud, nic))
    uuid = vm.uuid
    name = vm.name
    description = vm.description or None
    zone_uuid = vm.zone_uuid
    cluster_uuid = vm.cluster_uuid
    image_uuid = vm.image_uuid
    host_uuid = vm.host_uuid
    last_host_uuid = vm.last_host_uuid
    offering_uuid = vm.instance_offering_uuid
    platform = vm.platform
    architecture = vm.architecture
    l3_uuids = vm.l3_network_uuids
    default_l3 = l3_uuids[0] if l3_uuids else None
    memory_size = vm.memory_size
    cpu_num = vm.cpu_num
    strategy = vm.allocator_strategy or cloud.settings.default_allocator_strategy
    state = vm.state
    guest_os_type = vm.guest_os_type
    inventory = {
        "uuid": uuid,
        "name": name,
        "description": description,
        "zoneUuid": zone_uuid,
        "clusterUuid": cluster_uuid,
        "imageUuid": image_uuid,
        "hostUuid": host_uuid,
        "lastHostUuid": last_host_uuid,
        "instanceOfferingUuid": offering_uuid,
        "rootVolumeUuid": root,
        "platform": platform,
        "architecture": architecture,
        "defaultL3NetworkUuid": default_l3,
        "type": "UserVm",
        "hypervisorType": "KVM",
        "memorySize": memory_size,
        "reservedMemorySize": 0,
        "cpuNum": cpu_num,
        "cpuSpeed": 0,
        "allocatorStrategy": strategy,
        "createDate": created,
        "lastOpDate": last,
        "state": state,
        "vmNics": nics,
        "allVolumes": volumes,
        "vmCdRoms": [],
    }
    if guest_os_type:  # _text(guest_os_type): null when empty
        inventory["guestOsType"] = guest_os_type
    if description is None:
        del inventory["description"]
    if host_uuid is None:
        del inventory["hostUuid"]
    if last_host_uuid is None:
        del inventory["lastHostUuid"]
    if default_l3 is None:
        del inventory["defaultL3NetworkUuid"]
    if (  # null only when set so by hand
        uuid is None
        or name is None
        or zone_uuid is None
        or cluster_uuid is None
        or image_uuid is None
        or offering_uuid is None
        or root is None
        or platform is None
        or architecture is None
        or memory_size is None
        or cpu_num is None
        or strategy is None
        or state is None
    ):
        compact(inventory)
    return inventory


# The top-level fields of vm_inventory read from a Vm without rendering it (the query
# engine filters, sorts and picks fields with these; tests compare them with the renderer).
VM_FIELDS: dict[str, Field] = {
    "uuid": attribute("uuid"),
    "name": attribute("name"),
    "description": derived(lambda cloud, vm: _text(vm.description), str),
    "zoneUuid": attribute("zone_uuid"),
    "clusterUuid": attribute("cluster_uuid"),
    "imageUuid": attribute("image_uuid"),
    "hostUuid": attribute("host_uuid"),
    "lastHostUuid": attribute("last_host_uuid"),
    "instanceOfferingUuid": attribute("instance_offering_uuid"),
    "rootVolumeUuid": attribute("root_volume_uuid"),
    "platform": attribute("platform"),
    "architecture": attribute("architecture"),
    "defaultL3NetworkUuid": derived(
        lambda cloud, vm: vm.l3_network_uuids[0] if vm.l3_network_uuids else None, str
    ),
    "type": derived(lambda cloud, vm: "UserVm", str),
    "hypervisorType": derived(lambda cloud, vm: "KVM", str),
    "memorySize": attribute("memory_size", int, nullable=False),
    "reservedMemorySize": derived(lambda cloud, vm: 0, int),
    "cpuNum": attribute("cpu_num", int, nullable=False),
    "cpuSpeed": derived(lambda cloud, vm: 0, int),
    "allocatorStrategy": derived(
        lambda cloud, vm: vm.allocator_strategy or cloud.settings.default_allocator_strategy, str
    ),
    "createDate": derived(lambda cloud, vm: _dates(vm)[0], str),
    "lastOpDate": derived(lambda cloud, vm: _dates(vm)[1], str),
    "state": attribute("state"),
    "guestOsType": derived(lambda cloud, vm: _text(vm.guest_os_type), str),
}

# How a sort on a VM field walks the model's order index instead of sorting every VM: the
# attribute(s) the index reads and its key, a pure function of their values that orders
# them as ``_sort_key`` orders the rendered field; None: the field is the same for every VM
# (the sorted order is the collection's, both ways).  allocatorStrategy reads the cloud's
# settings: not here.
VM_ORDERS: dict[str, tuple[str | tuple[str, ...], Callable[[Any], Any]] | None] = {
    **{name: (field.attr, _sort_key) for name, field in VM_FIELDS.items() if field.attr is not None},
    "createDate": ("create_date", date_sort_key),
    "lastOpDate": (("last_op_date", "create_date"), last_op_sort_key),
    "description": ("description", lambda value: _sort_key(_text(value))),
    "guestOsType": ("guest_os_type", lambda value: _sort_key(_text(value))),
    "defaultL3NetworkUuid": ("l3_network_uuids", lambda uuids: _sort_key(uuids[0] if uuids else None)),
    "type": None,
    "hypervisorType": None,
    "reservedMemorySize": None,
    "cpuSpeed": None,
}


HARDWARE_STATUS_FIELDS = (
    "cpuStatus",
    "memoryStatus",
    "diskStatus",
    "nicStatus",
    "gpuStatus",
    "powerSupplyStatus",
    "fanStatus",
    "raidStatus",
    "temperatureStatus",
)


def host_hardware_status(host) -> dict[str, str]:
    """The hardware health the agent reports: Normal while the host is connected, Unknown
    when nothing is heard from it."""
    status = "Normal" if host.status == "Connected" else "Unknown"
    return dict.fromkeys(HARDWARE_STATUS_FIELDS, status)


def host_inventory(cloud, host) -> dict[str, Any]:
    created, last = _dates(host)
    return compact(
        {
            "zoneUuid": host.zone_uuid,
            "name": host.name,
            "uuid": host.uuid,
            "clusterUuid": host.cluster_uuid,
            "description": _text(host.description),
            "managementIp": host.management_ip,
            "hypervisorType": "KVM",
            "state": host.state,
            "status": host.status,
            "totalCpuCapacity": host.total_cpu,
            "availableCpuCapacity": host.available_cpu,
            "cpuSockets": host.cpu_sockets,
            "totalMemoryCapacity": host.total_memory,
            "availableMemoryCapacity": host.available_memory,
            "cpuNum": host.cpu_num,
            "architecture": host.architecture,
            # no BMC is configured: ipmiAddress, ipmiUsername, ipmiPort, ipmiPowerStatus are null
            **host_hardware_status(host),
            "createDate": created,
            "lastOpDate": last,
            "username": "root",
            "sshPort": 22,
            "osDistribution": "centos",
            "osRelease": "core",
            "osVersion": "7.6.1810",
        }
    )


def _ps_mount_path(ps) -> str | None:
    if ps_type(ps) in ("LocalStorage", "SharedMountPoint"):
        return ps.url
    if ps_type(ps) == "NFS":
        return f"/opt/zstack/nfsprimarystorage/prim-{ps.uuid}"
    return None


def primary_storage_inventory(cloud, ps) -> dict[str, Any]:
    created, last = _dates(ps)
    return compact(
        {
            "uuid": ps.uuid,
            "zoneUuid": ps.zone_uuid,
            "name": ps.name,
            "url": ps.url,
            "description": _text(ps.description),
            "totalCapacity": ps.total_capacity,
            "availableCapacity": ps.available_capacity,
            "totalPhysicalCapacity": ps.total_physical_capacity,
            "availablePhysicalCapacity": ps.available_physical_capacity,
            "type": ps_type(ps),
            "state": ps.state,
            "status": ps.status,
            "mountPath": _ps_mount_path(ps),
            "createDate": created,
            "lastOpDate": last,
            "attachedClusterUuids": list(ps.cluster_uuids),
        }
    )


def backup_storage_inventory(cloud, bs) -> dict[str, Any]:
    created, last = _dates(bs)
    data = {
        "uuid": bs.uuid,
        "name": bs.name,
        "url": bs.url or "/zstack_bs",  # the image store's default folder
        "description": _text(bs.description),
        "totalCapacity": bs.total_capacity,
        "availableCapacity": bs.available_capacity,
        "type": bs_type(bs),
        "state": bs.state,
        "status": bs.status,
        "createDate": created,
        "lastOpDate": last,
        "attachedZoneUuids": list(bs.zone_uuids),
    }
    if bs_type(bs) == IMAGE_STORE:
        data.update({"hostname": bs.hostname, "username": "root", "sshPort": 22})
    return compact(data)


def image_md5(image) -> str:
    """The image's checksum as the backup storage computed it: a stable 32-hex digest of
    the image (the fake has no bytes to hash).  exportUrl / exportMd5Sum of its refs stay
    null (omitted) until it is exported; 5.2.1 refs carry no ``id``."""
    return hashlib.md5(f"image:{image.uuid}:{image.actual_size}".encode()).hexdigest()


def image_inventory(cloud, image) -> dict[str, Any]:
    created, last = _dates(image)
    refs = [
        compact(
            {
                "imageUuid": image.uuid,
                "backupStorageUuid": ref["backup_storage_uuid"],
                "installPath": image_install_path(image, ref),
                "status": ref.get("status", "Ready"),
                "createDate": created,
                "lastOpDate": last,
            }
        )
        for ref in image.backup_storage_refs
    ]
    return compact(
        {
            "uuid": image.uuid,
            "name": image.name,
            "description": _text(image.description),
            "state": image.state,
            "status": image.status,
            "size": image.virtual_size,
            "actualSize": image.actual_size,
            "url": image_url(cloud, image),
            "mediaType": media_type(image),
            "guestOsType": _text(image.guest_os_type),
            "type": "zstack",
            "platform": image.platform,
            "architecture": image.architecture,
            "format": image.format,
            "system": image.system,
            "virtio": image.virtio,
            "md5Sum": image_md5(image),
            "createDate": created,
            "lastOpDate": last,
            "backupStorageRefs": refs,
            "systemTags": resource_tags(cloud, image.uuid, "__systemTag__") or None,
        }
    )


def zone_inventory(cloud, zone) -> dict[str, Any]:
    created, last = _dates(zone)
    return compact(
        {
            "uuid": zone.uuid,
            "name": zone.name,
            "description": _text(zone.description),
            "state": zone.state,
            "type": "zstack",
            "isDefault": False,
            "createDate": created,
            "lastOpDate": last,
        }
    )


def cluster_inventory(cloud, cluster) -> dict[str, Any]:
    created, last = _dates(cluster)
    return compact(
        {
            "name": cluster.name,
            "uuid": cluster.uuid,
            "description": _text(cluster.description),
            "state": cluster.state,
            "hypervisorType": cluster.hypervisor_type,
            "createDate": created,
            "lastOpDate": last,
            "zoneUuid": cluster.zone_uuid,
            "type": "zstack",
            "architecture": cluster.architecture,
        }
    )


def l3_network_inventory(cloud, l3) -> dict[str, Any]:
    created, last = _dates(l3)
    network = ipaddress.IPv4Network(l3.cidr)
    ip_range = {
        "uuid": derived_uuid("iprange", l3.uuid),
        "l3NetworkUuid": l3.uuid,
        "name": f"{l3.name}-range",
        "startIp": str(ipaddress.IPv4Address(l3.first_ip)),
        "endIp": str(ipaddress.IPv4Address(l3.last_ip)),
        "netmask": l3.netmask,
        "gateway": l3.gateway,
        "networkCidr": l3.cidr,
        "ipVersion": 4,
        "prefixLen": network.prefixlen,
        "createDate": created,
        "lastOpDate": last,
    }
    return compact(
        {
            "uuid": l3.uuid,
            "name": l3.name,
            "description": _text(l3.description),
            "type": "L3BasicNetwork",
            "zoneUuid": l3.zone_uuid,
            "l2NetworkUuid": derived_uuid("l2", l3.uuid),
            "state": "Enabled",
            "system": False,
            "category": "Private",
            "ipVersion": 4,
            "enableIPAM": True,
            "isolated": False,
            "createDate": created,
            "lastOpDate": last,
            "dns": [],
            "ipRanges": [ip_range],
            "networkServices": [],
            "hostRoute": [],
            "reservedIpRanges": [],
        }
    )


def instance_offering_inventory(cloud, offering) -> dict[str, Any]:
    created, last = _dates(offering)
    return compact(
        {
            "uuid": offering.uuid,
            "name": offering.name,
            "description": _text(offering.description),
            "cpuNum": offering.cpu_num,
            "cpuSpeed": 0,
            "memorySize": offering.memory_size,
            "reservedMemorySize": 0,
            "type": "UserVm",
            "allocatorStrategy": offering.allocator_strategy or cloud.settings.default_allocator_strategy,
            "sortKey": 0,
            "createDate": created,
            "lastOpDate": last,
            "state": offering.state,
        }
    )


def disk_offering_inventory(cloud, offering) -> dict[str, Any]:
    created, last = _dates(offering)
    return compact(
        {
            "uuid": offering.uuid,
            "name": offering.name,
            "description": _text(offering.description),
            "diskSize": offering.disk_size,
            "sortKey": 0,
            "state": offering.state,
            "type": "DefaultDiskOfferingType",
            "createDate": created,
            "lastOpDate": last,
            "allocatorStrategy": "DefaultPrimaryStorageAllocationStrategy",
        }
    )


def snapshot_tree_uuid(cloud, snap) -> str:
    """One tree per chain of snapshots: named after its root (ZStack draws a tree uuid when
    a chain starts; the model keeps none)."""
    return derived_uuid("tree", cloud.snapshot_root(snap).uuid)


def snapshot_inventory(cloud, snap) -> dict[str, Any]:
    created, last = _dates(snap)
    node = cloud.nodes.by_uuid(snap.node_uuid)
    volume = cloud.volumes.by_uuid(snap.volume_uuid)
    return compact(
        {
            "uuid": snap.uuid,
            "name": snap.name,
            "description": _text(snap.description),
            "type": "Hypervisor",
            "volumeUuid": snap.volume_uuid,
            "treeUuid": snapshot_tree_uuid(cloud, snap),
            "parentUuid": snap.parent_uuid,
            "primaryStorageUuid": snap.primary_storage_uuid,
            "primaryStorageInstallPath": f"snapshot-{snap.uuid}.qcow2",
            "volumeType": snap.volume_type,
            "format": "qcow2",
            "latest": volume is not None and volume.latest_snapshot_uuid == snap.uuid,
            "size": node.actual_size if node is not None else snap.size,
            "distance": snap.distance,
            "state": snap.state,
            "status": snap.status,
            "createDate": created,
            "lastOpDate": last,
            "backupStorageRefs": [],
            "groupUuid": snap.group_uuid,
        }
    )


def snapshot_tree_inventory(cloud, root) -> dict[str, Any]:
    """A VolumeSnapshotTreeInventory: the chain of snapshots from ``root``, nested."""
    forest = {tree[0].uuid: tree for tree in cloud.volume_snapshot_forest(root.volume_uuid)}

    def leaf(node, parent_uuid):
        snap, children = node
        return compact(
            {
                "inventory": snapshot_inventory(cloud, snap),
                "parentUuid": parent_uuid,
                "children": [leaf(c, snap.uuid) for c in children],
            }
        )

    volume = cloud.volumes.by_uuid(root.volume_uuid)
    latest = cloud.volume_snapshots.by_uuid(volume.latest_snapshot_uuid) if volume is not None else None
    created, last = _dates(root)
    return compact(
        {
            "uuid": snapshot_tree_uuid(cloud, root),
            "volumeUuid": root.volume_uuid,
            "current": latest is not None and cloud.snapshot_root(latest).uuid == root.uuid,
            "status": "Completed",
            "tree": leaf(forest[root.uuid], None),
            "createDate": created,
            "lastOpDate": last,
        }
    )


# -- query collections ---------------------------------------------------------------

USED_IP = QuerySource(
    USED_IP_CLASS,
    fields=(
        "uuid",
        "ipRangeUuid",
        "l3NetworkUuid",
        "ipVersion",
        "ip",
        "netmask",
        "gateway",
        "ipInLong",
        "vmNicUuid",
        "createDate",
        "lastOpDate",
    ),
)
NIC = QuerySource(
    NIC_CLASS,
    fields=(
        "uuid",
        "vmInstanceUuid",
        "l3NetworkUuid",
        "ip",
        "mac",
        "hypervisorType",
        "netmask",
        "gateway",
        "metaData",
        "ipVersion",
        "driverType",
        "internalName",
        "deviceId",
        "type",
        "state",
        "usedIps",
        "createDate",
        "lastOpDate",
    ),
    nested={"usedIps": USED_IP},
)
VOLUME = QuerySource(
    VOLUME_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "primaryStorageUuid",
        "vmInstanceUuid",
        "diskOfferingUuid",
        "rootImageUuid",
        "installPath",
        "type",
        "format",
        "size",
        "actualSize",
        "deviceId",
        "state",
        "status",
        "createDate",
        "lastOpDate",
        "isShareable",
        "volumeQos",
        "lastDetachDate",
        "lastVmInstanceUuid",
        "lastAttachDate",
        "protocol",
    ),
)
VM = QuerySource(
    VM_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "zoneUuid",
        "clusterUuid",
        "imageUuid",
        "hostUuid",
        "lastHostUuid",
        "instanceOfferingUuid",
        "rootVolumeUuid",
        "platform",
        "architecture",
        "defaultL3NetworkUuid",
        "type",
        "hypervisorType",
        "memorySize",
        "reservedMemorySize",
        "cpuNum",
        "cpuSpeed",
        "allocatorStrategy",
        "createDate",
        "lastOpDate",
        "state",
        "vmNics",
        "allVolumes",
        "vmCdRoms",
        "guestOsType",
    ),
    nested={"vmNics": NIC, "allVolumes": VOLUME},
)
_NIC_PLAN = plan_of(NIC)
_VOLUME_PLAN = plan_of(VOLUME)


def vm_schema_walk(record: dict, path: str, schema: dict[str, str]) -> None:
    """The schema walk below a VM inventory (``query._walk_plan`` over VM's nested
    classes) spelled out: its NICs, each with its used IPs, then its volumes.  Rows that
    are not lists of dicts take the plain walk (tests/zstack/test_zstack_render_equivalence.py
    compares the two)."""
    nics = record.get("vmNics")
    if nics.__class__ is list:
        for i, nic in enumerate(nics):
            if nic.__class__ is dict:
                at = f"{path}.vmNics[{i}]"
                schema[at] = NIC_CLASS
                ips = nic.get("usedIps")
                if ips.__class__ is list:
                    for k, ip in enumerate(ips):
                        if ip.__class__ is dict or isinstance(ip, dict):
                            schema[f"{at}.usedIps[{k}]"] = USED_IP_CLASS
                elif ips is not None:
                    walk_plan(nic, _NIC_PLAN, at, schema)
            elif isinstance(nic, dict):
                at = f"{path}.vmNics[{i}]"
                schema[at] = NIC_CLASS
                walk_plan(nic, _NIC_PLAN, at, schema)
    elif nics is not None:
        walk_plan({"vmNics": nics}, [("vmNics", NIC_CLASS, _NIC_PLAN)], path, schema)
    volumes = record.get("allVolumes")
    if volumes.__class__ is list:
        for i, volume in enumerate(volumes):
            if volume.__class__ is dict or isinstance(volume, dict):
                schema[f"{path}.allVolumes[{i}]"] = VOLUME_CLASS
    elif volumes is not None:
        walk_plan({"allVolumes": volumes}, [("allVolumes", VOLUME_CLASS, _VOLUME_PLAN)], path, schema)


VM.walk = vm_schema_walk
HOST = QuerySource(
    HOST_CLASS,
    fields=(
        "zoneUuid",
        "name",
        "uuid",
        "clusterUuid",
        "description",
        "managementIp",
        "hypervisorType",
        "state",
        "status",
        "totalCpuCapacity",
        "availableCpuCapacity",
        "cpuSockets",
        "totalMemoryCapacity",
        "availableMemoryCapacity",
        "cpuNum",
        "ipmiAddress",
        "ipmiUsername",
        "ipmiPort",
        "ipmiPowerStatus",
        "cpuStatus",
        "memoryStatus",
        "diskStatus",
        "nicStatus",
        "gpuStatus",
        "powerSupplyStatus",
        "fanStatus",
        "raidStatus",
        "temperatureStatus",
        "architecture",
        "createDate",
        "lastOpDate",
        "username",
        "sshPort",
        "osDistribution",
        "osRelease",
        "osVersion",
    ),
)
PRIMARY_STORAGE = QuerySource(
    PS_CLASS,
    fields=(
        "uuid",
        "zoneUuid",
        "name",
        "url",
        "description",
        "totalCapacity",
        "availableCapacity",
        "totalPhysicalCapacity",
        "availablePhysicalCapacity",
        "systemUsedCapacity",
        "type",
        "state",
        "status",
        "mountPath",
        "createDate",
        "lastOpDate",
        "attachedClusterUuids",
    ),
)
BACKUP_STORAGE = QuerySource(
    BS_CLASS,
    fields=(
        "uuid",
        "name",
        "url",
        "description",
        "totalCapacity",
        "availableCapacity",
        "type",
        "state",
        "status",
        "createDate",
        "lastOpDate",
        "attachedZoneUuids",
        "hostname",
        "username",
        "sshPort",
    ),
)
IMAGE_REF = QuerySource(
    IMAGE_REF_CLASS,
    fields=(
        "imageUuid",
        "backupStorageUuid",
        "installPath",
        "status",
        "exportMd5Sum",
        "exportUrl",
        "createDate",
        "lastOpDate",
    ),
)
IMAGE = QuerySource(
    IMAGE_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "state",
        "status",
        "size",
        "actualSize",
        "md5Sum",
        "url",
        "mediaType",
        "guestOsType",
        "type",
        "platform",
        "architecture",
        "format",
        "system",
        "virtio",
        "createDate",
        "lastOpDate",
        "backupStorageRefs",
        "systemTags",
    ),
    nested={"backupStorageRefs": IMAGE_REF},
)
ZONE = QuerySource(
    ZONE_CLASS,
    fields=("uuid", "name", "description", "state", "type", "isDefault", "createDate", "lastOpDate"),
)
CLUSTER = QuerySource(
    CLUSTER_CLASS,
    fields=(
        "name",
        "uuid",
        "description",
        "state",
        "hypervisorType",
        "createDate",
        "lastOpDate",
        "zoneUuid",
        "type",
        "architecture",
    ),
)
IP_RANGE = QuerySource(
    IP_RANGE_CLASS,
    fields=(
        "uuid",
        "l3NetworkUuid",
        "name",
        "description",
        "startIp",
        "endIp",
        "netmask",
        "gateway",
        "networkCidr",
        "ipVersion",
        "addressMode",
        "prefixLen",
        "createDate",
        "lastOpDate",
    ),
)
L3_NETWORK = QuerySource(
    L3_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "type",
        "zoneUuid",
        "l2NetworkUuid",
        "state",
        "dnsDomain",
        "system",
        "category",
        "ipVersion",
        "enableIPAM",
        "isolated",
        "createDate",
        "lastOpDate",
        "dns",
        "ipRanges",
        "networkServices",
        "hostRoute",
        "reservedIpRanges",
    ),
    nested={"ipRanges": IP_RANGE},
)
INSTANCE_OFFERING = QuerySource(
    INSTANCE_OFFERING_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "cpuNum",
        "cpuSpeed",
        "memorySize",
        "reservedMemorySize",
        "type",
        "allocatorStrategy",
        "sortKey",
        "createDate",
        "lastOpDate",
        "state",
    ),
)
DISK_OFFERING = QuerySource(
    DISK_OFFERING_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "diskSize",
        "sortKey",
        "state",
        "type",
        "createDate",
        "lastOpDate",
        "allocatorStrategy",
    ),
)
SNAPSHOT = QuerySource(
    SNAPSHOT_CLASS,
    fields=(
        "uuid",
        "name",
        "description",
        "type",
        "volumeUuid",
        "treeUuid",
        "parentUuid",
        "primaryStorageUuid",
        "primaryStorageInstallPath",
        "volumeType",
        "format",
        "latest",
        "size",
        "distance",
        "state",
        "status",
        "createDate",
        "lastOpDate",
        "backupStorageRefs",
        "groupUuid",
    ),
)
SNAPSHOT_LEAF = QuerySource(
    SNAPSHOT_LEAF_CLASS, fields=("inventory", "parentUuid", "children"), nested={"inventory": SNAPSHOT}
)
SNAPSHOT_LEAF.nested["children"] = SNAPSHOT_LEAF  # a leaf's children are leaves
SNAPSHOT_TREE = QuerySource(
    SNAPSHOT_TREE_CLASS,
    fields=("uuid", "volumeUuid", "current", "status", "tree", "createDate", "lastOpDate"),
    nested={"tree": SNAPSHOT_LEAF},
)
BACKUP_REF = QuerySource(
    BACKUP_REF_CLASS,
    fields=("volumeBackupUuid", "backupStorageUuid", "installPath", "status", "createDate", "lastOpDate"),
)
BACKUP = QuerySource(
    BACKUP_CLASS,
    fields=(
        "uuid",
        "volumeUuid",
        "name",
        "description",
        "type",
        "state",
        "status",
        "size",
        "metadata",
        "groupUuid",
        "mode",
        "vmInstanceUuid",
        "createDate",
        "lastOpDate",
        "backupStorageRefs",
    ),
    nested={"backupStorageRefs": BACKUP_REF},
)


class Source:
    """One queryable resource: where its entities live and how to render one."""

    def __init__(
        self,
        collection: QuerySource,
        attr: str,
        render: Callable,
        keep: Callable[[Any], bool] | None = None,
        class_of: Callable | None = None,
        fields: dict[str, Field] | None = None,
        compact: bool = False,
        indexed: tuple[str, ...] = (),
        ordered: dict[str, Any] | None = None,
    ) -> None:
        self.collection = collection
        self.attr = attr
        self.render = render
        self.keep = keep
        self.class_of = class_of
        # top-level fields readable from the entity; ``compact``: the renderer omits nulls
        self.fields = fields or {}
        self.compact = compact
        # fields (attributes of ``fields``) that the model's indexes group by, and order
        # by (field -> (attribute(s), key) or None: see VM_ORDERS, indexed_query)
        self.indexed = indexed
        self.ordered = ordered or {}

    def entities(self, cloud) -> list:
        items = getattr(cloud, self.attr)
        return items.values() if self.keep is None else [e for e in items if self.keep(e)]

    def live(self, cloud):
        """The entities, in order, without copying the model's collection into a list (for a
        query that may stop early); a filtered or derived source lists its ``entities``."""
        if self.keep is not None:
            return self.entities(cloud)
        return getattr(cloud, self.attr).view()


class _SnapshotTree:
    """A tree of snapshots as a queryable thing: its uuid and its root snapshot."""

    __slots__ = ("uuid", "root")

    def __init__(self, uuid: str, root) -> None:
        self.uuid = uuid
        self.root = root


class _SnapshotTreeSource(Source):
    """The trees are not model entities: one per root snapshot, built when queried."""

    def __init__(self) -> None:
        super().__init__(
            SNAPSHOT_TREE,
            "volume_snapshots",
            lambda cloud, tree: snapshot_tree_inventory(cloud, tree.root),
            keep=lambda snap: snap.parent_uuid is None,
        )

    def entities(self, cloud) -> list:
        return [
            _SnapshotTree(derived_uuid("tree", s.uuid), s)
            for s in cloud.volume_snapshots
            if s.parent_uuid is None
        ]


def _related(cloud, attr: str, render: Callable, key: str) -> Callable[[dict], list[dict]]:
    def related(record: dict) -> list[dict]:
        uuid = record.get(key)
        if not uuid:
            return []
        entity = getattr(cloud, attr).by_uuid(uuid)
        return [render(cloud, entity)] if entity is not None else []

    return related


def resource_tags(cloud, uuid: str, kind: str) -> list[str]:
    """System or user tags given when the resource was created through this dialect."""
    stored = cloud.dialect_state("zstack").get("tags", {}).get(uuid)
    if not stored:
        return []
    return list(stored.get("system" if kind == "__systemTag__" else "user", []))


def sources(cloud) -> dict[str, Source]:
    """Query API name -> its source (joins and tag lookups are bound to this cloud)."""

    def tags(record: dict, kind: str) -> list[str]:
        uuid = record.get("uuid")
        return resource_tags(cloud, uuid, kind) if uuid else []

    found = _sources(cloud)
    for source in found.values():
        source.collection = dataclasses.replace(source.collection, tags=tags)
    return found


def _sources(cloud) -> dict[str, Source]:
    vm = QuerySource(
        VM.class_name,
        VM.fields,
        dict(VM.nested),
        joins={
            "host": (HOST, _related(cloud, "hosts", host_inventory, "hostUuid")),
            "zone": (ZONE, _related(cloud, "zones", zone_inventory, "zoneUuid")),
            "cluster": (CLUSTER, _related(cloud, "clusters", cluster_inventory, "clusterUuid")),
            "image": (IMAGE, _related(cloud, "images", image_inventory, "imageUuid")),
            "instanceOffering": (
                INSTANCE_OFFERING,
                _related(cloud, "instance_offerings", instance_offering_inventory, "instanceOfferingUuid"),
            ),
        },
        walk=VM.walk,
    )
    volume = QuerySource(
        VOLUME.class_name,
        VOLUME.fields,
        {},
        {
            "vmInstance": (VM, _related(cloud, "vms", vm_inventory, "vmInstanceUuid")),
            "primaryStorage": (
                PRIMARY_STORAGE,
                _related(cloud, "primary_storages", primary_storage_inventory, "primaryStorageUuid"),
            ),
        },
    )
    host = QuerySource(
        HOST.class_name,
        HOST.fields,
        {},
        {
            "zone": (ZONE, _related(cloud, "zones", zone_inventory, "zoneUuid")),
            "cluster": (CLUSTER, _related(cloud, "clusters", cluster_inventory, "clusterUuid")),
        },
    )
    return {
        "QueryVmInstance": Source(
            vm,
            "vms",
            vm_inventory,
            fields=VM_FIELDS,
            compact=True,
            indexed=("state", "hostUuid", "lastHostUuid", "cpuNum", "memorySize"),
            ordered=VM_ORDERS,
        ),
        "QueryVmNic": Source(NIC, "nics", nic_inventory),
        "QueryVolume": Source(volume, "volumes", volume_inventory),
        "QueryHost": Source(host, "hosts", host_inventory),
        "QueryPrimaryStorage": Source(PRIMARY_STORAGE, "primary_storages", primary_storage_inventory),
        "QueryBackupStorage": Source(
            BACKUP_STORAGE,
            "backup_storages",
            backup_storage_inventory,
            class_of=lambda bs: IMAGE_STORE_CLASS if bs.get("type") == IMAGE_STORE else BS_CLASS,
        ),
        "QueryImageStoreBackupStorage": Source(
            QuerySource(IMAGE_STORE_CLASS, BACKUP_STORAGE.fields),
            "backup_storages",
            backup_storage_inventory,
            keep=lambda bs: bs_type(bs) == IMAGE_STORE,
        ),
        "QueryImage": Source(IMAGE, "images", image_inventory),
        "QueryZone": Source(ZONE, "zones", zone_inventory),
        "QueryCluster": Source(CLUSTER, "clusters", cluster_inventory),
        "QueryL3Network": Source(L3_NETWORK, "l3_networks", l3_network_inventory),
        "QueryInstanceOffering": Source(INSTANCE_OFFERING, "instance_offerings", instance_offering_inventory),
        "QueryDiskOffering": Source(DISK_OFFERING, "disk_offerings", disk_offering_inventory),
        "QueryVolumeSnapshot": Source(SNAPSHOT, "volume_snapshots", snapshot_inventory),
        "QueryVolumeSnapshotTree": _SnapshotTreeSource(),
        "QueryVolumeBackup": Source(BACKUP, "backups", backup_inventory),
    }


# -- volume backups ------------------------------------------------------------------

# The model's backup metadata keys -> the names ZStack's VolumeMetaDataMaker writes.
_METADATA_NAMES = (
    ("volume_name", "name"),
    ("volume_description", "description"),
    ("volume_type", "type"),
    ("root_image_uuid", "rootImageUuid"),
    ("vm_uuid", "vmInstanceUuid"),
    ("vm_name", "vmName"),
    ("vm_description", "vmDescription"),
    ("instance_offering_uuid", "instanceOfferingUuid"),
    ("cpu_num", "cpuNum"),
    ("memory_size", "memorySize"),
    ("platform", "platform"),
    ("guest_os_type", "guestOsType"),
    ("virtio", "virtio"),
    ("cluster_uuid", "clusterUuid"),
    ("primary_storage_uuid", "primaryStorageUuid"),
    ("default_l3_network_uuid", "defaultL3NetworkUuid"),
    ("data_volume_uuids", "dataVolumeUuids"),
    ("actual_size", "actualSize"),
    ("virtual_size", "size"),
    ("format", "format"),
    ("device_id", "deviceId"),
    ("shareable", "shareable"),
    ("architecture", "architecture"),
)


def backup_metadata_text(record) -> str:
    meta = record.metadata or {}
    out: dict[str, Any] = {}
    for model_key, zstack_key in _METADATA_NAMES:
        value = meta.get(model_key)
        if value not in (None, ""):
            out[zstack_key] = value
    out["attachedVmUuid"] = meta.get("vm_uuid")
    out["ownerAccountUuid"] = ADMIN_ACCOUNT_UUID
    out["vmNics"] = [
        compact(
            {
                "uuid": n.get("uuid"),
                "l3NetworkUuid": n.get("l3_network_uuid"),
                "ip": n.get("ip"),
                "mac": n.get("mac"),
                "deviceId": n.get("device_id"),
            }
        )
        for n in meta.get("nics", [])
    ]
    return json.dumps(compact(out), separators=(",", ":"))


def backup_inventory(cloud, record) -> dict[str, Any]:
    created, last = _dates(record)
    refs = [
        compact(
            {
                "volumeBackupUuid": record.uuid,
                "backupStorageUuid": ref["backup_storage_uuid"],
                "installPath": backup_install_path(record, ref),
                "status": ref.get("status", "Ready"),
                "createDate": format_date(ref.get("create_date", record.create_date)),
                "lastOpDate": format_date(ref.get("last_op_date", record.last_op_date)),
            }
        )
        for ref in record.backup_storage_refs
    ]
    return compact(
        {
            "uuid": record.uuid,
            "volumeUuid": record.volume_uuid,
            "name": backup_name(record),
            "description": _text(record.description),
            "type": record.type,
            "state": record.state,
            "status": record.status,
            "size": record.size,
            "metadata": backup_metadata_text(record),
            "groupUuid": record.group_uuid,
            "mode": record.mode,
            "vmInstanceUuid": record.vm_uuid,
            "createDate": created,
            "lastOpDate": last,
            "backupStorageRefs": refs,
        }
    )
