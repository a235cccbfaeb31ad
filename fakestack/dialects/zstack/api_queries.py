"""Query* APIs over the model's collections, and the capacity read APIs (§3)."""

from __future__ import annotations

from .entity_query import run_entity_query
from .indexed_query import run_indexed_query
from .query import schema_for
from .registry import Call, api


def _query(call: Call) -> dict:
    cloud = call.cloud
    source = call.dialect.sources[call.name]
    collection = source.collection
    spec = call.query
    # Equality on uuid or name (GET /resources/{uuid}, q=name=x) selects entities through
    # the collection's indexes; else a condition on an indexed field or a sort on an
    # ordered one may start from the model's secondary indexes (see indexed_query); every
    # other condition is tested on the entities, rendering only what the reply shows (see
    # entity_query).
    entities = None
    remaining = []
    for condition in spec.conditions:
        if not (
            condition.name in ("uuid", "name")
            and condition.name in collection.fields
            and condition.op in ("=", "in")
        ):
            remaining.append(condition)
            continue
        attr = condition.name
        if condition.op == "=" and entities is None and source.keep is None:
            entities = _indexed(cloud, source, attr, condition.value)
            continue
        if condition.op == "=":
            if entities is None:
                entities = source.entities(cloud)
            entities = [e for e in entities if getattr(e, attr, None) == condition.value]
            continue
        raw = condition.value
        # only texts can equal a uuid or a name (a legacy message may list any JSON value,
        # some of them unhashable: they match nothing, as on any other field)
        values = {v for v in (raw if isinstance(raw, list) else str(raw).split(",")) if isinstance(v, str)}
        if entities is None and source.keep is None:
            entities = _indexed_in(cloud, source, attr, values)
            continue
        if entities is None:
            entities = source.entities(cloud)
        entities = [e for e in entities if getattr(e, attr, None) in values]
    reply = None
    if entities is None and source.keep is None and (source.indexed or source.ordered):
        reply = run_indexed_query(cloud, getattr(cloud, source.attr), spec, remaining, source)
    if reply is None:
        if entities is None:
            entities = source.live(cloud)
        reply = run_entity_query(
            cloud,
            entities,
            spec,
            collection,
            source.render,
            source.fields,
            source.compact,
            conditions=remaining,
        )
    if "inventories" in reply:
        call.schema = schema_for(reply["inventories"], collection, class_of=source.class_of)
    return reply


def _indexed(cloud, source, attr: str, value) -> list:
    """Entities whose uuid or name equals ``value``, from the collection's own indexes."""
    collection = getattr(cloud, source.attr)
    if attr == "name":
        return collection.by_name(value) if isinstance(value, str) else []
    found = collection.by_uuid(value) if isinstance(value, str) else None
    return [found] if found is not None else []


def _indexed_in(cloud, source, attr: str, values: set) -> list:
    """Entities whose uuid or name is one of ``values``, from the collection's own
    indexes, in the collection's order (what filtering a scan gives)."""
    collection = getattr(cloud, source.attr)
    found: dict[str, object] = {}
    for value in values:
        for entity in _indexed(cloud, source, attr, value):
            found[entity.uuid] = entity
    return collection.in_order(found.values())


QUERY_APIS = (
    "QueryVmInstance",
    "QueryVmNic",
    "QueryVolume",
    "QueryHost",
    "QueryPrimaryStorage",
    "QueryBackupStorage",
    "QueryImageStoreBackupStorage",
    "QueryImage",
    "QueryZone",
    "QueryCluster",
    "QueryL3Network",
    "QueryInstanceOffering",
    "QueryDiskOffering",
    "QueryVolumeSnapshot",
    "QueryVolumeBackup",
    "QueryVolumeSnapshotTree",
)
for _name in QUERY_APIS:
    api(_name, operation="query")(_query)


def _in_scope(items, fields: dict, scopes: dict) -> list:
    """The items in any scope the request names (every item when it names none, or sets
    ``all``); ``scopes``: parameter -> the uuids an item belongs to under that parameter."""
    wanted = {name: set(fields[name]) for name in scopes if fields.get(name)}
    if fields.get("all") or not wanted:
        return list(items)
    return [item for item in items if any(wanted[name] & scopes[name](item) for name in wanted)]


@api(
    "GetCpuMemoryCapacity",
    operation="query",
    resources={"zoneUuids": "zone", "clusterUuids": "cluster", "hostUuids": "host"},
)
def get_cpu_memory_capacity(call: Call) -> dict:
    f = call.fields
    chosen = _in_scope(
        call.cloud.hosts,
        f,
        {
            "zoneUuids": lambda h: {h.zone_uuid},
            "clusterUuids": lambda h: {h.cluster_uuid},
            "hostUuids": lambda h: {h.uuid},
        },
    )

    def totals(group) -> dict:
        return {
            "totalCpu": sum(h.total_cpu for h in group),
            "availableCpu": sum(h.available_cpu for h in group),
            "totalMemory": sum(h.total_memory for h in group),
            "availableMemory": sum(h.available_memory for h in group),
            "managedCpuNum": sum(h.cpu_num for h in group),
        }

    if f.get("hostUuids"):
        resource_type, keys, key_of = "HostVO", f["hostUuids"], (lambda h: h.uuid)
    elif f.get("clusterUuids"):
        resource_type, keys, key_of = "ClusterVO", f["clusterUuids"], (lambda h: h.cluster_uuid)
    elif f.get("zoneUuids"):
        resource_type, keys, key_of = "ZoneVO", f["zoneUuids"], (lambda h: h.zone_uuid)
    else:
        resource_type, keys, key_of = None, [], None
    capacity_data = [
        dict(resourceUuid=key, **totals([h for h in chosen if key_of(h) == key])) for key in keys
    ]
    reply = totals(chosen)
    reply["capacityData"] = capacity_data
    if resource_type:
        reply["resourceType"] = resource_type
    reply["success"] = True
    return reply


@api(
    "GetPrimaryStorageCapacity",
    operation="query",
    resources={"zoneUuids": "zone", "clusterUuids": "cluster", "primaryStorageUuids": "primary_storage"},
)
def get_primary_storage_capacity(call: Call) -> dict:
    chosen = _in_scope(
        call.cloud.primary_storages,
        call.fields,
        {
            "zoneUuids": lambda ps: {ps.zone_uuid},
            "clusterUuids": lambda ps: set(ps.cluster_uuids),
            "primaryStorageUuids": lambda ps: {ps.uuid},
        },
    )
    return {
        "totalCapacity": sum(ps.total_capacity for ps in chosen),
        "availableCapacity": sum(ps.available_capacity for ps in chosen),
        "totalPhysicalCapacity": sum(ps.total_physical_capacity for ps in chosen),
        "availablePhysicalCapacity": sum(ps.available_physical_capacity for ps in chosen),
        "success": True,
    }


@api(
    "GetBackupStorageCapacity",
    operation="query",
    resources={"zoneUuids": "zone", "backupStorageUuids": "backup_storage"},
)
def get_backup_storage_capacity(call: Call) -> dict:
    chosen = _in_scope(
        call.cloud.backup_storages,
        call.fields,
        {"zoneUuids": lambda bs: set(bs.zone_uuids), "backupStorageUuids": lambda bs: {bs.uuid}},
    )
    return {
        "totalCapacity": sum(bs.total_capacity for bs in chosen),
        "availableCapacity": sum(bs.available_capacity for bs in chosen),
        "success": True,
    }
