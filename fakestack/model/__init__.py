"""The simulator: pure Python, no HTTP, no dialect words."""
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

__all__ = [
    "ALLOWED", "CapacityExhausted", "Clock", "CloneEntry", "CloneResult", "Cloud", "Conflict",
    "DomainError", "FaultEffects", "InjectedFailure", "InvalidArgument", "InvalidState",
    "InvariantViolation", "ManualClock", "NotFound", "SystemClock", "Timeout", "Topology",
    "TopologyError", "Unreachable", "load_topology",
]
