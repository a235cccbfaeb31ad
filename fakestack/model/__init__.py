"""The simulator: pure Python, no HTTP, no dialect words."""
from .backups import Backup, BackupGroup, BackupMixin, SyncCounts
from .clock import Clock, ManualClock, SystemClock
from .cloud import ALLOWED, Cloud, CloneEntry, CloneResult, FaultEffects
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
from .topology import Topology, TopologyError, load_topology
from .transactions import FAULT_POINTS

__all__ = [
    "ALLOWED", "Backup", "BackupGroup", "BackupMixin", "CapacityExhausted", "Clock", "CloneEntry",
    "CloneResult", "Cloud", "Conflict", "DomainError", "FAULT_POINTS", "FaultEffects", "InjectedFailure",
    "InvalidArgument", "InvalidState", "InvariantViolation", "ManualClock", "NotFound",
    "SyncCounts", "SystemClock", "Timeout", "Topology", "TopologyError", "Unreachable",
    "load_topology",
]
