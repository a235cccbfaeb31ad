"""Snapshot and restore: the whole state as JSON, and back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from .entities import (
    Job,
)
from .errors import (
    DomainError,
)

if TYPE_CHECKING:
    from .cloud import Cloud
from .clock import Clock, clock_from_dict
from .ids import rng_from_json, rng_to_json
from .kinds import BackupStorageKind, ImageKind, PrimaryStorageKind
from .state import CloudState
from .topology import Topology

SNAPSHOT_VERSION = 1


class PersistenceMixin(CloudState):
    # -- snapshot / restore ------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A JSON-able dump of the whole state; ``Cloud.restore`` is its inverse."""
        with gc_paused():
            return self._dump_state()

    def _dump_state(self) -> dict[str, Any]:
        data = {
            "version": SNAPSHOT_VERSION,
            "seed": self.seed,
            "topology": self.topology.model_dump(mode="json"),
            "clock": self.clock.to_dict(),
            "ids": self.ids.to_dict(),
            "rng": rng_to_json(self.rng),
            "fault_rng": rng_to_json(self.fault_rng),
            "image_caches": dict(self.image_caches),
            "dialect_state": _json_copy(self._dialect_state),
        }
        for attr, _cls in self.COLLECTIONS:
            if attr == "jobs":
                data["jobs"] = [_job_to_json(j) for j in self.jobs]
            else:
                data[attr] = [e.to_dict() for e in getattr(self, attr).view()]
        data.update(self._extra_snapshot())
        return data

    def _extra_snapshot(self) -> dict[str, Any]:
        return self._backup_snapshot()

    def _extra_restore(self, data: dict[str, Any]) -> None:
        self._backup_restore(data)

    @classmethod
    def restore(cls, data: dict[str, Any], clock: Clock | None = None) -> Cloud:
        with gc_paused():
            return cls._load_state(data, clock)

    @classmethod
    def _load_state(cls, data: dict[str, Any], clock: Clock | None = None) -> Cloud:
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {data.get('version')!r}")
        cloud_cls = cast("type[Cloud]", cls)
        cloud = cloud_cls.__new__(cloud_cls)
        topology = Topology.model_validate(data["topology"])
        cloud._init_empty(topology, data["seed"], clock or clock_from_dict(data["clock"]))
        cloud.ids.load(data["ids"])
        rng_from_json(cloud.rng, data["rng"])
        if "fault_rng" in data:
            rng_from_json(cloud.fault_rng, data["fault_rng"])
        cloud.image_caches = dict(data["image_caches"])
        cloud._dialect_state = _json_copy(data.get("dialect_state", {}))
        for attr, entity_cls in cloud_cls.COLLECTIONS:
            collection = getattr(cloud, attr)
            for item in data.get(attr, []):
                collection.add(entity_cls.from_dict(item))
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk step allocates its (acyclic) objects:
    each collection would walk every object made so far (half a 100,000-VM restore)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _normalize_kinds(cloud: Cloud) -> None:
    """Kinds as members: a snapshot holds neutral values, an older one a dialect's spelling."""
    for ps in cloud.primary_storages:
        ps.type = PrimaryStorageKind.coerce(ps.type)
    for bs in cloud.backup_storages:
        bs.type = BackupStorageKind.coerce(bs.type)
    for image in cloud.images:
        image.media_type = ImageKind.coerce(image.media_type)


def _json_copy(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))


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


def _job_to_json(job: Job) -> dict[str, Any]:
    return {
        "uuid": job.uuid,
        "operation": job.operation,
        "start": job.start,
        "end": job.end,
        "result": _jsonable(job.result),
        "error": job.error.to_dict() if isinstance(job.error, DomainError) else job.error,
        "args": _jsonable(job.args),
        "cancelled": job.cancelled,
    }
