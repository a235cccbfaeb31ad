"""Fault plans: rules that make chosen operations fail, slow down, hang or lose their host.

A plan is data (pydantic), so the same plan can be built in Python, posted to
``/_fakestack/faults``, written in a scenario file or drawn by a hypothesis strategy::

    from fakestack import faults

    faults.add(cloud, faults.exhaust("vm.clone", "host.cpu", nth=2))
    with faults.inject(cloud, faults.fail("backup.create", message="disk on fire")):
        ...

A rule has three parts:

* ``match``: a neutral operation (``vm.clone``, ``vm.create``, ``backup.create``,
  ``volume.write``...) or a dialect operation (``zstack:CloneVmInstance``); shell-style
  wildcards are allowed (``vm.*``, ``zstack:*``).  ``resource`` narrows it to calls whose
  targets name that uuid or name (a VM, host, storage, image, or a clone's new name).
* ``when``: ``nth`` call only, every call ``after`` the first n, ``every`` k-th call, at
  most ``times`` fires, with ``probability`` p drawn from the cloud's seeded fault RNG
  (``cloud.fault_rng``, a stream apart from placement's, so a rule never moves VMs).  The
  conditions combine (all must hold); with none, every matching call fires.  Calls are
  counted per rule, after the ``resource`` filter.
* ``effect`` (``type``): ``exhaust`` a resource (the operation then fails exactly where a
  real shortage fails, with the same error; an operation that allocates none of that
  resource is not affected, though the hit counts), ``fail`` with a neutral error, add job
  ``latency``, ``hang`` the job until the rule is removed (or ``release`` is called),
  ``disconnect`` / ``reconnect`` a host, primary or backup storage (the change sticks even
  when the operation fails), ``drop_connection`` (server mode: the socket closes without a
  response; in process the caller gets ``ConnectionDropped``).

Where rules are evaluated
-------------------------
The model calls ``cloud.faults.on_operation(cloud, op, targets)`` at each neutral
operation's fault point.  Dialects add their own operations with one line at the start
of each API handler, before any model call::

    fakestack.faults.dialect_point(cloud, "zstack:CloneVmInstance", {"vm": uuid, "names": names})

It raises the rule's error (a ``DomainError``, which the dialect renders like any model
error) or ``DropConnection``; ``exhaust``, ``latency`` and ``hang`` are carried to the next
model operation of the same request, so that the shortage surfaces at the real place.

Server mode: ``DropConnection`` derives from ``BaseException`` so that no dialect's
catch-all turns it into a 500; wrap the WSGI app with :func:`connection_dropping` (or
call :func:`abort_connection` where the app catches it) so that the socket is closed.

State: the plan and its hit counts live on the ``FaultInjector`` installed as
``cloud.faults``.  They are *not* part of ``cloud.snapshot()`` (a snapshot is the cloud's
state, a plan is a test's intent); ``Cloud.reset()`` keeps the injector.  Persist a plan
with ``injector.plan().model_dump()`` and load it with ``install(cloud, plan)``.

The package: ``plan`` (the rule schema and builders), ``injection`` (the injector and the
functions above), ``http`` (connection dropping and the ``/_fakestack/faults`` routes,
which the admin API mounts).  Everything public is importable from ``fakestack.faults``.
"""

from __future__ import annotations

from .http import (
    ADMIN_ROUTES,
    ConnectionDropped,
    abort_connection,
    connection_dropping,
    handle_admin_request,
)
from .injection import (
    DropConnection,
    FaultInjector,
    add,
    clear,
    dialect_point,
    hits,
    inject,
    injector,
    install,
    list_rules,
    release,
    remove,
)
from .plan import (
    EXHAUSTIBLE,
    FAIL_KINDS,
    STORAGE_KINDS,
    DisconnectEffect,
    DropConnectionEffect,
    Effect,
    ExhaustEffect,
    FailEffect,
    FaultPlan,
    FaultRule,
    HangEffect,
    LatencyEffect,
    ReconnectEffect,
    StatusEffect,
    When,
    disconnect,
    drop_connection,
    exhaust,
    fail,
    hang,
    latency,
    parse_rules,
    reconnect,
    validation_errors,
)

__all__ = [
    # the plan (fakestack.faults.plan)
    "EXHAUSTIBLE",
    "FAIL_KINDS",
    "STORAGE_KINDS",
    "DisconnectEffect",
    "DropConnectionEffect",
    "Effect",
    "ExhaustEffect",
    "FailEffect",
    "FaultPlan",
    "FaultRule",
    "HangEffect",
    "LatencyEffect",
    "ReconnectEffect",
    "StatusEffect",
    "When",
    "disconnect",
    "drop_connection",
    "exhaust",
    "fail",
    "hang",
    "latency",
    "parse_rules",
    "reconnect",
    "validation_errors",
    # the injector (fakestack.faults.injection)
    "DropConnection",
    "FaultInjector",
    "add",
    "clear",
    "dialect_point",
    "hits",
    "inject",
    "injector",
    "install",
    "list_rules",
    "release",
    "remove",
    # HTTP (fakestack.faults.http)
    "ADMIN_ROUTES",
    "ConnectionDropped",
    "abort_connection",
    "connection_dropping",
    "handle_admin_request",
]
