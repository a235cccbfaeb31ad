"""The VM, volume and NIC renderers and the schema walk, spelled out for speed, give what
their plain forms give (kept here as they were written), byte for byte, for entities set
by hand to anything (null fields, empty texts, numbers of other types)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fakestack import Cloud, ManualClock
from fakestack.dialects.zstack import render
from fakestack.dialects.zstack.dates import format_date
from fakestack.dialects.zstack.query import QuerySource, schema_for, schema_of
from fakestack.dialects.zstack.render import (
    NIC,
    VM,
    VOLUME,
    compact,
    derived_uuid,
    nic_internal_name,
    volume_install_path,
)

# -- the plain forms ---------------------------------------------------------------------


def _text(value):
    return value or None


def _dates(entity) -> tuple[str, str]:
    created = getattr(entity, "create_date", 0.0)
    last = getattr(entity, "last_op_date", None) or created
    return format_date(created), format_date(last)


def plain_volume_inventory(cloud, volume) -> dict[str, Any]:
    created, last = _dates(volume)
    ps = cloud.primary_storages.by_uuid(volume.primary_storage_uuid)
    node = cloud.nodes.by_uuid(volume.node_uuid) if volume.node_uuid else None
    actual = node.actual_size if node is not None else 0
    return compact(
        {
            "uuid": volume.uuid,
            "name": volume.name,
            "description": _text(volume.description),
            "primaryStorageUuid": volume.primary_storage_uuid,
            "vmInstanceUuid": volume.vm_uuid,
            "diskOfferingUuid": volume.disk_offering_uuid,
            "rootImageUuid": volume.root_image_uuid,
            "installPath": volume_install_path(ps, volume) if ps is not None and volume.node_uuid else None,
            "type": volume.type,
            "format": volume.format,
            "size": volume.virtual_size,
            "actualSize": actual,
            "deviceId": volume.device_id if volume.vm_uuid else None,
            "state": volume.state,
            "status": volume.status,
            "createDate": created,
            "lastOpDate": last,
            "isShareable": False,
            "lastVmInstanceUuid": volume.last_vm_uuid,
            "lastAttachDate": format_date(volume.last_attach_date)
            if volume.last_attach_date is not None
            else None,
            "lastDetachDate": format_date(volume.last_detach_date)
            if volume.last_detach_date is not None
            else None,
        }
    )


def plain_nic_inventory(cloud, nic) -> dict[str, Any]:
    created = format_date(nic.create_date)
    ip_long = render._ip_in_long(nic.ip)
    used_ip = {
        "uuid": derived_uuid("usedip", nic.uuid),
        "ipRangeUuid": derived_uuid("iprange", nic.l3_network_uuid),
        "l3NetworkUuid": nic.l3_network_uuid,
        "ipVersion": 4,
        "ip": nic.ip,
        "netmask": nic.netmask,
        "gateway": nic.gateway,
        "ipInLong": ip_long,
        "vmNicUuid": nic.uuid,
        "createDate": created,
        "lastOpDate": created,
    }
    inventory = {
        "uuid": nic.uuid,
        "vmInstanceUuid": nic.vm_uuid,
        "l3NetworkUuid": nic.l3_network_uuid,
        "ip": nic.ip,
        "mac": nic.mac,
        "hypervisorType": "KVM",
        "netmask": nic.netmask,
        "gateway": nic.gateway,
        "ipVersion": 4,
        "driverType": "virtio",
        "internalName": nic_internal_name(nic),
        "deviceId": nic.device_id,
        "type": "VNIC",
        "state": "enable",
        "usedIps": [used_ip],
        "createDate": created,
        "lastOpDate": created,
    }
    if nic.vm_uuid is None:
        del inventory["vmInstanceUuid"]
        del inventory["internalName"]
    return inventory


def plain_vm_inventory(cloud, vm) -> dict[str, Any]:
    created, last = _dates(vm)
    volumes = []
    by_uuid = cloud.volumes.by_uuid
    if vm.root_volume_uuid:
        volume = by_uuid(vm.root_volume_uuid)
        if volume is not None:
            volumes.append(plain_volume_inventory(cloud, volume))
    for uuid in vm.data_volume_uuids:
        volume = by_uuid(uuid)
        if volume is not None:
            volumes.append(plain_volume_inventory(cloud, volume))
    nics = []
    by_uuid = cloud.nics.by_uuid
    for uuid in vm.nic_uuids:
        nic = by_uuid(uuid)
        if nic is not None:
            nics.append(plain_nic_inventory(cloud, nic))
    return compact(
        {
            "uuid": vm.uuid,
            "name": vm.name,
            "description": _text(vm.description),
            "zoneUuid": vm.zone_uuid,
            "clusterUuid": vm.cluster_uuid,
            "imageUuid": vm.image_uuid,
            "hostUuid": vm.host_uuid,
            "lastHostUuid": vm.last_host_uuid,
            "instanceOfferingUuid": vm.instance_offering_uuid,
            "rootVolumeUuid": vm.root_volume_uuid,
            "platform": vm.platform,
            "architecture": vm.architecture,
            "defaultL3NetworkUuid": vm.l3_network_uuids[0] if vm.l3_network_uuids else None,
            "type": "UserVm",
            "hypervisorType": "KVM",
            "memorySize": vm.memory_size,
            "reservedMemorySize": 0,
            "cpuNum": vm.cpu_num,
            "cpuSpeed": 0,
            "allocatorStrategy": vm.allocator_strategy or cloud.settings.default_allocator_strategy,
            "createDate": created,
            "lastOpDate": last,
            "state": vm.state,
            "vmNics": nics,
            "allVolumes": volumes,
            "vmCdRoms": [],
            "guestOsType": _text(vm.guest_os_type),
        }
    )


def plain_schema_for(inventories, collection, prefix="inventories", class_of=None) -> dict[str, str]:
    schema: dict[str, str] = {}
    for index, record in enumerate(inventories):
        _plain_walk(record, collection, f"{prefix}[{index}]", schema, class_of)
    return schema


def _plain_walk(record, collection, path, schema, class_of=None) -> None:
    schema[path] = class_of(record) if class_of else collection.class_name
    for name, child in collection.nested.items():
        value = record.get(name)
        if isinstance(value, list):
            for i, row in enumerate(value):
                if isinstance(row, dict):
                    _plain_walk(row, child, f"{path}.{name}[{i}]", schema)
        elif isinstance(value, dict):
            _plain_walk(value, child, f"{path}.{name}", schema)


# -- entities set by hand ----------------------------------------------------------------

TEXTS = st.one_of(st.none(), st.sampled_from(["", "x", "vm-1", "ü", "0", "e-1"]))
SOME_NUMBERS = st.sampled_from([0, 1, 2, -1, 1.0, 0.0, -0.0, 2.5, True, False, 10**20, 1e-5, "1"])
NUMBERS = st.none() | SOME_NUMBERS
SOME_DATES = st.sampled_from([0.0, 0, 1.0, 1, 1700000000.5, 1767225599.75, 86400])
DATES = st.none() | SOME_DATES


def _cloud() -> Cloud:
    return Cloud("demo", seed=0, clock=ManualClock())


def _poke(data, entity, fields: dict[str, Any]) -> None:
    for name, value in data.draw(st.fixed_dictionaries({}, optional=fields)).items():
        setattr(entity, name, value)


VM_FIELDS = {
    "uuid": TEXTS,
    "name": TEXTS,
    "description": TEXTS,
    "zone_uuid": TEXTS,
    "cluster_uuid": TEXTS,
    "image_uuid": TEXTS,
    "host_uuid": TEXTS,
    "last_host_uuid": TEXTS,
    "instance_offering_uuid": TEXTS,
    "platform": TEXTS,
    "architecture": TEXTS,
    "guest_os_type": TEXTS,
    "allocator_strategy": TEXTS,
    "state": TEXTS,
    "memory_size": NUMBERS,
    "cpu_num": NUMBERS,
    "create_date": SOME_DATES,
    "last_op_date": DATES,
}
VOLUME_FIELDS = {
    "uuid": TEXTS,
    "name": TEXTS,
    "description": TEXTS,
    "vm_uuid": TEXTS,
    "last_vm_uuid": TEXTS,
    "disk_offering_uuid": TEXTS,
    "root_image_uuid": TEXTS,
    "type": st.sampled_from(["Root", "Data", None]),
    "format": TEXTS,
    "status": TEXTS,
    "state": TEXTS,
    "virtual_size": NUMBERS,
    "device_id": NUMBERS,
    "create_date": SOME_DATES,
    "last_op_date": DATES,
    "last_attach_date": DATES,
    "last_detach_date": DATES,
}
NIC_FIELDS = {
    "vm_uuid": st.one_of(st.none(), st.sampled_from(["abcde" + "0" * 27, "fffff", "00000x"])),
    "device_id": SOME_NUMBERS,
    "mac": TEXTS,
    "create_date": SOME_DATES,
}


def _dump(data) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_vm_renders_as_its_plain_form(data):
    cloud = _cloud()
    names = data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    for name in names:
        cloud.create_vm(
            name,
            instance_offering="small",
            image="centos-7",
            l3_networks=["l3-private"] * data.draw(st.integers(1, 3)),
            data_disk_offerings=["disk-20G"] * data.draw(st.integers(0, 2)),
        )
    vms = list(cloud.vms)
    for vm in vms:
        if data.draw(st.booleans()) and vm.state == "Running":
            cloud.stop_vm(vm.uuid)
    volumes = list(cloud.volumes)
    nics = list(cloud.nics)
    if data.draw(st.booleans()):
        cloud.settings.default_allocator_strategy = data.draw(TEXTS)
    for vm in vms:
        _poke(data, vm, VM_FIELDS)
    for volume in volumes:
        _poke(data, volume, VOLUME_FIELDS)
    for nic in nics:
        _poke(data, nic, NIC_FIELDS)
    for volume in volumes:
        assert _dump(render.volume_inventory(cloud, volume)) == _dump(plain_volume_inventory(cloud, volume))
    for nic in nics:
        assert _outcome(render.nic_inventory, cloud, nic) == _outcome(plain_nic_inventory, cloud, nic)
    for vm in vms:
        assert _outcome(render.vm_inventory, cloud, vm) == _outcome(plain_vm_inventory, cloud, vm)


def _outcome(renderer, cloud, entity) -> str:
    """The rendered inventory as JSON text, or the name of the ValueError it raised."""
    try:
        return _dump(renderer(cloud, entity))
    except ValueError as exc:
        return type(exc).__name__


class _List(list):
    pass


class _Dict(dict):
    pass


def _containers(inner):
    lists = st.lists(inner, max_size=3)
    dicts = st.dictionaries(st.sampled_from(["usedIps", "x"]), inner, max_size=2)
    return lists | lists.map(_List) | dicts | dicts.map(_Dict)


ROWS = st.recursive(st.one_of(st.none(), st.integers(0, 3), st.text(max_size=2)), _containers, max_leaves=8)
RECORDS = st.dictionaries(
    st.sampled_from(["uuid", "vmNics", "allVolumes", "usedIps", "other"]), ROWS, max_size=4
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(RECORDS, max_size=4),
    st.sampled_from(
        [
            VM,
            render.sources(Cloud("demo", seed=0))["QueryVmInstance"].collection,
            NIC,
            VOLUME,
            render.SNAPSHOT_TREE,
            render.IMAGE,
        ]
    ),
)
def test_the_schema_walk_gives_what_the_plain_walk_gives(inventories, collection: QuerySource):
    for record in inventories:
        # rows as the renderers make them too: lists of dicts
        if isinstance(record.get("vmNics"), list):
            record["vmNics"].extend(
                [
                    {"usedIps": [{}, {"usedIps": []}]},
                    {"usedIps": {"usedIps": []}},
                    _Dict(usedIps=_List([{}, 1, _Dict()])),
                    {"usedIps": _Dict()},
                ]
            )
        if isinstance(record.get("allVolumes"), list):
            record["allVolumes"].extend([{}, _Dict(), 2])
    expected = plain_schema_for(inventories, collection)
    assert list(schema_for(inventories, collection).items()) == list(expected.items())
    assert list(schema_for(inventories, collection, "p", class_of=lambda r: str(len(r))).items()) == list(
        plain_schema_for(inventories, collection, "p", class_of=lambda r: str(len(r))).items()
    )
    if collection.class_name == VM.class_name:
        assert collection.walk is render.vm_schema_walk  # the walk spelled out is the one compared
    for record in inventories:
        plain: dict[str, str] = {}
        _plain_walk(record, collection, "inventory", plain)
        assert list(schema_of(record, collection).items()) == list(plain.items())
