"""InstaVM's objects (VM records, snapshots, sessions) kept in the dialect state, and the
model operations behind them, by concern: ``records`` (state, lookups, status, the
lifecycle), ``vms``, ``suspension``, ``snapshots``, ``sessions``, ``executions``, ``volumes``, ``account`` (user, usage, templates, egress).

The model does the work (placement, capacity, copy-on-write trees); these modules
sequence the model's neutral operations the way InstaVM's endpoints do.

Time-driven changes (``creating`` -> ``active`` after an asynchronous boot, clean-up of a
clone's temporary snapshot, lifetime expiry) are applied by ``settle()``: before every
InstaVM request, and from the cloud's ``Settler`` (a ``cloud.on_time`` listener) after a
``cloud.tick()`` or before any request, but there only once one of them has come due:
otherwise a comparison with the clock, not a pass over InstaVM's records.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from ...kit.cloud import DialectCloud
from .account import AccountOperations
from .executions import ExecutionOperations
from .records import DEFAULT_SETTINGS, LIVE, MODEL_STATUS, STATE_NAME, MiB, Records
from .sessions import SessionOperations
from .snapshots import SnapshotOperations
from .suspension import SuspensionOperations  # noqa: F401 (a mixin of InstaVMService, re-exported)
from .vms import VmOperations

__all__ = [
    "DEFAULT_SETTINGS",
    "LIVE",
    "MODEL_STATUS",
    "STATE_NAME",
    "InstaVMService",
    "MiB",
    "Records",
    "SETTLE_KEY",
    "Settler",
    "settler_for",
]


class InstaVMService(
    ExecutionOperations, AccountOperations, VmOperations, SnapshotOperations, SessionOperations
):
    """Every InstaVM operation on one cloud."""


# One listener per cloud: a rebuilt dialect's settler replaces its predecessor's.
SETTLE_KEY = "fakestack.dialects.instavm.settle"


class Settler:
    """The dialect's ``cloud.on_time`` listener: settles InstaVM's records when a change
    has come due.  It remembers when that is for the state it last looked at; an InstaVM
    request (which may add records) makes it look again (``forget``), as does a state
    replaced by a reset or restore.  Clouds where InstaVM has no records are left untouched
    (a tick never adds InstaVM's keys to a snapshot)."""

    def __init__(self) -> None:
        self._state: dict | None = None
        self._due: float | None = None

    def forget(self) -> None:
        self._state = None

    def __call__(self, cloud: DialectCloud) -> None:
        state = cloud.dialect_state(STATE_NAME)
        if state is self._state and (self._due is None or cloud.clock.now() < self._due):
            return
        self._state, self._due = state, None
        if state.get("vms") or state.get("snapshots"):
            service = InstaVMService(cloud)
            service.settle()
            self._due = service.settle_due_at()


_SETTLERS: WeakKeyDictionary = WeakKeyDictionary()


def settler_for(cloud: DialectCloud) -> Settler:
    """The cloud's one ``Settler`` (every InstaVM dialect mounted on it shares it)."""
    settler = _SETTLERS.get(cloud)
    if settler is None:
        settler = _SETTLERS[cloud] = Settler()
    return settler
