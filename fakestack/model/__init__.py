"""The simulator: pure Python, no HTTP, no dialect words."""
from .backups import BackupMixin, SyncCounts
from .clock import Clock, ManualClock, SystemClock
from .cloud import ALLOWED, START_POLICIES, Cloud, CloneEntry, CloneResult, FaultEffects, StartPolicy
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

__all__ = [
    "ALLOWED", "Backup", "BackupGroup", "BackupMixin", "CapacityExhausted", "Clock", "CloneEntry",
    "CloneResult", "Cloud", "Conflict", "DomainError", "FAULT_POINTS", "FaultEffects", "InjectedFailure",
    "InvalidArgument", "InvalidState", "InvariantViolation", "ManualClock", "NotFound",
    "START_POLICIES", "StartPolicy", "SyncCounts", "SystemClock", "Timeout", "Topology", "TopologyError", "Unreachable",
    "load_topology",
]
