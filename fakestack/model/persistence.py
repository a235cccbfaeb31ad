"""Snapshot and restore: the whole state as JSON, and back.

A snapshot (version 2) is a dict of plain JSON values::

    {
      "version": 2,
      "seed": 0,
      "topology": {"name": ..., "description": ..., "zones": TABLE, ..., "vms": TABLE,
                   "settings": {...}},
      "clock": {...}, "ids": {...}, "rng": [...], "fault_rng": [...],
      "image_caches": {"<image>:<storage>": node uuid},
      "dialect_state": {dialect: {...}},
      "zones": TABLE, "clusters": TABLE, ..., "nodes": TABLE, "jobs": TABLE,
      "backup_seq": n, "backup_catalogs": {...}
    }

where every collection (and every list of specs in the topology) is a *table* (see
``tables``): ``{"count": n, "columns": {field: [n values]}, "same": {field: value}}``,
fields at their default in every record left out.  ``Cloud.snapshot_records(snapshot,
"vms")`` reads a table back as one dict per entity, for any version.

Version 1 (what fakestack wrote before) kept each collection as a list of one dict per
entity; ``Cloud.restore`` still reads it, and ``Cloud.snapshot_version_1`` writes it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from . import tables
from .entities import Job
from .errors import DomainError
from .util import copy_json, gc_paused

if TYPE_CHECKING:
    from .cloud import Cloud
from .clock import Clock, clock_from_dict
from .ids import rng_from_json, rng_to_json
from .kinds import BackupStorageKind, ImageKind, PrimaryStorageKind
from .state import CloudState
from .topology import Topology, reference_problems, specs_like, validated_column

__all__ = ["SNAPSHOT_VERSION", "PersistenceMixin", "gc_paused"]

SNAPSHOT_VERSION = 2
READABLE_VERSIONS = (1, 2)


class PersistenceMixin(CloudState):
    # -- snapshot / restore ------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A JSON-able dump of the whole state; ``Cloud.restore`` is its inverse.

        Plain JSON values only (``json.dumps`` writes it as is), sharing no list or dict
        with the cloud, and deterministic: the same cloud gives byte-identical JSON.
        Format version 2: each collection is a table of columns (``{"count", "columns",
        "same"}``, see ``fakestack.model.persistence``); ``Cloud.snapshot_records(snapshot,
        kind)`` reads one as a list of dicts.  ``Cloud.restore`` also reads version 1."""
        with gc_paused():
            return self._dump_state()

    def _dump_state(self) -> dict[str, Any]:
        data = {
            "version": SNAPSHOT_VERSION,
            "seed": self.seed,
            "topology": _topology_to_json(self.topology),
            "clock": self.clock.to_dict(),
            "ids": self.ids.to_dict(),
            "rng": rng_to_json(self.rng),
            "fault_rng": rng_to_json(self.fault_rng),
            "image_caches": dict(self.image_caches),
            "dialect_state": _json_copy(self._dialect_state),
        }
        for attr, entity_cls in self.COLLECTIONS:
            entities = getattr(self, attr).view()
            if attr == "jobs":
                data[attr] = _jobs_table(entities)
            else:
                data[attr] = tables.encode(entities, _layout(entity_cls))
        data.update(self._extra_snapshot())
        return data

    def _extra_snapshot(self) -> dict[str, Any]:
        return self._backup_snapshot()

    def _extra_restore(self, data: dict[str, Any]) -> None:
        self._backup_restore(data)

    @classmethod
    def restore(cls, data: dict[str, Any], clock: Clock | None = None) -> Cloud:
        """The cloud ``data`` (a ``snapshot()``, of format version 1 or 2) holds; ``clock``
        replaces the snapshot's clock."""
        with gc_paused():
            return cls._load_state(data, clock)

    @classmethod
    def snapshot_records(cls, data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        """The entities of ``kind`` (a collection: ``"vms"``, ``"hosts"``, ``"jobs"``...) in
        the snapshot ``data``, one dict each (field -> value, every field), in order; for a
        snapshot of any version."""
        entity_cls = dict(cast("type[Cloud]", cls).COLLECTIONS).get(kind)
        if entity_cls is None:
            raise KeyError(f"no collection {kind!r} in a snapshot")
        value = data.get(kind)
        if value is None:
            return []
        if data.get("version") == 1:
            return [copy_json(item) for item in value]
        return tables.records(value, _layout(entity_cls), kind)

    @classmethod
    def snapshot_version_1(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The snapshot ``data`` in format version 1 (each collection and each list of the
        topology's specs a list of one dict per record, every field written): what an
        older fakestack reads, and what a hash of the state that must not change with the
        encoding is taken of (a scenario transcript's)."""
        if data.get("version") == 1:
            return cast("dict[str, Any]", copy_json(data))
        kinds = dict(cast("type[Cloud]", cls).COLLECTIONS)
        old: dict[str, Any] = {}
        for key, value in data.items():
            if key == "version":
                old[key] = 1
            elif key == "topology":
                old[key] = {
                    name: tables.records(part, _layout(_SPEC_LISTS[name]), f"topology.{name}")
                    if name in _SPEC_LISTS
                    else copy_json(part)
                    for name, part in value.items()
                }
            elif key in kinds:
                old[key] = tables.records(value, _layout(kinds[key]), key)
            else:
                old[key] = copy_json(value)
        return old

    @classmethod
    def _load_state(cls, data: dict[str, Any], clock: Clock | None = None) -> Cloud:
        version = data.get("version")
        if version not in READABLE_VERSIONS:
            raise ValueError(
                f"unsupported snapshot version {version!r} (this fakestack reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))})"
            )
        cloud_cls = cast("type[Cloud]", cls)
        cloud = cloud_cls.__new__(cloud_cls)
        if version == 1:
            topology = Topology.model_validate(data["topology"])
        else:
            topology = _topology_from_json(data["topology"])
        cloud._init_empty(topology, data["seed"], clock or clock_from_dict(data["clock"]))
        cloud.ids.load(data["ids"])
        rng_from_json(cloud.rng, data["rng"])
        if "fault_rng" in data:
            rng_from_json(cloud.fault_rng, data["fault_rng"])
        cloud.image_caches = dict(data["image_caches"])
        cloud._dialect_state = _json_copy(data.get("dialect_state", {}))
        for attr, entity_cls in cloud_cls.COLLECTIONS:
            collection = getattr(cloud, attr)
            if version == 1:
                collection.extend([entity_cls.from_dict(item) for item in data.get(attr, [])])
            elif attr in data:
                collection.extend(tables.decode(data[attr], _layout(entity_cls), entity_cls, attr))
        _normalize_kinds(cloud)
        for host in cloud.hosts:
            cloud.host_index.add(host)
        cloud._host_seq = len(cloud.hosts)
        cloud._extra_restore(data)
        return cloud

    def reset(self) -> None:
        """Back to the initial topology and seed (the clock keeps its time)."""
        cloud_cls = cast("type[Cloud]", type(self))
        self._become(cloud_cls(self.topology, self.seed, self.clock))

    def load_snapshot(self, data: dict[str, Any]) -> None:
        """Make this cloud hold the state of ``data`` (a ``snapshot()``) in place, so that
        every holder of the object sees it; its lock, fault plan and time listeners stay."""
        self._become(self.restore(data))

    def _become(self, other: Cloud) -> None:
        kept = self.lock, self.faults, self._time_listeners
        self.__dict__.clear()
        self.__dict__.update(other.__dict__)
        self.lock, self.faults, self._time_listeners = kept


# -- entities ---------------------------------------------------------------------------

_LAYOUTS: dict[type, tables.Layout] = {}


def _layout(cls: type) -> tables.Layout:
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = (
            tables.Layout.of_model(cls) if hasattr(cls, "model_fields") else tables.Layout.of_dataclass(cls)
        )
    return layout


def _normalize_kinds(cloud: Cloud) -> None:
    """Kinds as members: a snapshot holds neutral values, an older one a dialect's spelling."""
    for ps in cloud.primary_storages:
        ps.type = PrimaryStorageKind.coerce(ps.type)
    for bs in cloud.backup_storages:
        bs.type = BackupStorageKind.coerce(bs.type)
    for image in cloud.images:
        image.media_type = ImageKind.coerce(image.media_type)


def _json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


# -- jobs: their results, errors and arguments as JSON ---------------------------------


def _jobs_table(jobs: Any) -> dict[str, Any]:
    layout = _layout(Job)
    as_json = {"result": _jsonable, "error": _error_json, "args": _jsonable}
    columns = [
        list(map(as_json[name], map(getter, jobs))) if name in as_json else list(map(getter, jobs))
        for name, getter in zip(layout.fields, layout.getters)
    ]
    # (the values made above are the table's own: no second copy)
    return tables.encode_columns(len(jobs), columns, layout, fresh=True)


def _error_json(error: Any) -> Any:
    return error.to_dict() if isinstance(error, DomainError) else copy_json(error)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "entries") and hasattr(value, "source_uuid"):  # a clone result
        return {
            "source_uuid": value.source_uuid,
            "entries": [
                {
                    "name": e.name,
                    "vm_uuid": e.vm.uuid if e.vm else None,
                    "error": e.error.to_dict() if e.error else None,
                }
                for e in value.entries
            ],
        }
    uuid = getattr(value, "uuid", None)
    if uuid is not None:
        return {"uuid": uuid}
    return repr(value)


# -- the topology -----------------------------------------------------------------------
# Its lists of specs are tables too.  A snapshot's many hosts and VMs (up to 100,000) are
# read back as copies of one validated spec with the fields that differ validated column by
# column (``specs_like``), not one spec at a time (half a second for 100,000 VMs), then
# checked against the rest of the topology as validating it does.

_SPEC_LISTS = {
    name: info.annotation.__args__[0]  # type: ignore[union-attr]
    for name, info in Topology.model_fields.items()
    if getattr(info.annotation, "__origin__", None) is list
}
_MANY_SPECS = ("hosts", "vms")
_FEW_SPECS = 100  # up to this many, validated one by one with the rest of the topology


def _topology_to_json(topology: Topology) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in Topology.model_fields:
        value = getattr(topology, name)
        spec_cls = _SPEC_LISTS.get(name)
        if spec_cls is not None:
            data[name] = tables.encode(value, _layout(spec_cls))
        elif hasattr(value, "model_dump"):
            data[name] = value.model_dump(mode="json")
        else:
            data[name] = value
    return data


def _topology_from_json(data: dict[str, Any]) -> Topology:
    if not isinstance(data, dict):
        raise ValueError("topology: not a mapping")
    document: dict[str, Any] = {}
    many: dict[str, tuple[type, dict[str, Any]]] = {}
    for name, value in data.items():
        spec_cls = _SPEC_LISTS.get(name)
        if spec_cls is None:
            document[name] = value
        elif name in _MANY_SPECS and isinstance(value, dict) and value.get("count", 0) > _FEW_SPECS:
            many[name] = spec_cls, value
            document[name] = []
        else:
            document[name] = tables.records(value, _layout(spec_cls), f"topology.{name}", complete=False)
    topology = Topology.model_validate(document)
    for name, (spec_cls, table) in many.items():
        setattr(topology, name, _many_specs(spec_cls, table, f"topology.{name}"))
    if many:  # their references (names unique, offerings, images... known), as validated
        problems = reference_problems(topology)
        if problems:
            raise ValueError("; ".join(problems))
    return topology


def _many_specs(spec_cls: Any, table: dict[str, Any], what: str) -> list[Any]:
    """The table's specs: its first record validated as a whole, every other record a copy
    of it with the fields that differ validated column by column."""
    layout = _layout(spec_cls)
    count, values = tables.decode_columns(table, layout, what)
    if not count:
        return []
    prototype = spec_cls.model_validate(dict(zip(layout.fields, next(zip(*values)))))
    varying = {name: validated_column(spec_cls, name, column) for name, column in table["columns"].items()}
    return specs_like(prototype, count, varying)
