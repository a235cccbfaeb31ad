"""The simulator: pure Python, no HTTP, no dialect words.

The names below load with their module on first use (``fakestack.model.Cloud`` imports
``cloud``, pydantic's topology models with it), not with the package: importing one light
module of the model (``kinds``, ``errors``) does not build the whole simulator.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backups import BackupMixin, SyncCounts
    from .clock import Clock, ManualClock, SystemClock
    from .cloud import ALLOWED, START_POLICIES, CloneEntry, CloneResult, Cloud, FaultEffects, StartPolicy
    from .entities import Backup, BackupGroup
    from .errors import (
        CapacityExhausted,
        Conflict,
        DomainError,
        InjectedFailure,
        InvalidArgument,
        InvalidState,
        InvariantViolation,
        NotFound,
        Timeout,
        Unreachable,
    )
    from .loader import load_topology
    from .topology import Topology, TopologyError
    from .transactions import FAULT_POINTS

_HOMES = {
    name: module
    for module, names in (
        ("backups", "BackupMixin SyncCounts"),
        ("clock", "Clock ManualClock SystemClock"),
        ("cloud", "ALLOWED START_POLICIES Cloud CloneEntry CloneResult FaultEffects StartPolicy"),
        ("entities", "Backup BackupGroup"),
        (
            "errors",
            "CapacityExhausted Conflict DomainError InjectedFailure InvalidArgument InvalidState "
            "InvariantViolation NotFound Timeout Unreachable",
        ),
        ("loader", "load_topology"),
        ("topology", "Topology TopologyError"),
        ("transactions", "FAULT_POINTS"),
    )
    for name in names.split()
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    # Explicit imports (not importlib), so that readers and the import-layer test see them.
    if home == "backups":
        from . import backups

        return _keep(name, backups)
    elif home == "clock":
        from . import clock

        return _keep(name, clock)
    elif home == "cloud":
        from . import cloud

        return _keep(name, cloud)
    elif home == "entities":
        from . import entities

        return _keep(name, entities)
    elif home == "errors":
        from . import errors

        return _keep(name, errors)
    elif home == "loader":
        from . import loader

        return _keep(name, loader)
    elif home == "topology":
        from . import topology

        return _keep(name, topology)
    elif home == "transactions":
        from . import transactions

        return _keep(name, transactions)
    raise AttributeError(f"module 'fakestack.model' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The package's names with those not loaded yet (for completion and ``help``)."""
    return sorted(set(globals()) | set(_HOMES))


def _keep(name: str, module: ModuleType) -> Any:
    value = getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "ALLOWED",
    "Backup",
    "BackupGroup",
    "BackupMixin",
    "CapacityExhausted",
    "Clock",
    "CloneEntry",
    "CloneResult",
    "Cloud",
    "Conflict",
    "DomainError",
    "FAULT_POINTS",
    "FaultEffects",
    "InjectedFailure",
    "InvalidArgument",
    "InvalidState",
    "InvariantViolation",
    "ManualClock",
    "NotFound",
    "START_POLICIES",
    "StartPolicy",
    "SyncCounts",
    "SystemClock",
    "Timeout",
    "Topology",
    "TopologyError",
    "Unreachable",
    "load_topology",
]
