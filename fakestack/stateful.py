"""``CloudStateMachine``: let hypothesis search for operation sequences that break things.

The machine builds a cloud from a drawn seed, then runs rules for the neutral
operations (create, clone, start, stop, reboot, destroy, expunge, guest writes, backups,
backup deletes, syncs, images from backups), fault rules (add, clear, heal), and clock
ticks.  After every step ``cloud.check_invariants()`` runs, then your own ``check()``.

Run it as a test::

    TestCloud = CloudStateMachine.TestCase

Plug your own code in by subclassing:

``topology``
    preset name, file, dict, or a hypothesis strategy of topologies (default ``"tiny"``).
``operations``
    the built-in rules to run (a subset of ``ALL_OPERATIONS``); e.g. leave out
    ``"destroy"`` when your client assumes nobody else deletes its VMs.
``fault_operations`` / ``fault_effects``
    what drawn fault rules may match and do (see ``fakestack.strategies.fault_rules``).
``setup(self)``
    called once the cloud exists: build your client here (``self.cloud``, ``self.app``,
    ``self.client``, a werkzeug test client on the app, are ready).
``do_<operation>(...)``
    how each built-in rule performs its operation.  The defaults call the model and
    return what they made (VM uuids, backup group uuids) or ``None`` when the cloud refused
    (the refusal is in ``self.last_error``).  Override one to route it through your client.
``check(self)``
    your properties, asserted after every step (after the model's invariants).
Your own ``@rule``s
    add them to the subclass as usual; ``self.vms`` is the bundle of VM uuids.

Reproducing: everything random in the cloud derives from the seed drawn in
``create_cloud`` (ids, allocators, probabilistic faults) and the clock is manual, so a
failing example is replayed exactly from hypothesis' seed: decorate the machine with
``@hypothesis.seed(N)`` (or run pytest with ``--hypothesis-seed=N``).  The steps print
as ``note`` lines (``cloud = Cloud('tiny', seed=...)``, then one line per operation).

Writing a failing run as a scenario (a file to hand to a colleague, replayed with
``fakestack replay FILE`` or collected by the pytest plugin): set ``record_to``::

    class MyMachine(CloudStateMachine):
        record_to = "failing-run.yaml"

Each example then records into ``self.recorder`` (a ``fakestack.scenarios.Recorder``
made from the fresh cloud: topology, seed, clock start, fault plan): every built-in
operation as an ``op`` step expecting its outcome (success, or the domain error's class),
each tick as a ``clock`` step, fault rules added or cleared as ``fault`` steps, and every
request sent through ``self.app`` / ``self.client`` as an ``http`` step expecting the
status and body it got.  ``teardown`` ends the file with a ``check_invariants`` step and
writes it.  Hypothesis runs the shrunk failing example last, so after a failure the file
holds the minimal failing run (after a passing test, the last example).  What the file
reproduces (its description says which case it is): a broken model invariant fails the
replay on that last step for as long as the bug is there; a failure of your own
``check()`` is not in the file (only the cloud's side is: requests and operations with
the answers they got), so its replay passes and ``fakestack.scenarios.replay(path).cloud``
is the cloud in the state that failed the check.  An overridden ``do_<operation>`` that calls the model
itself records with ``self.recorder.note_call(method, *args, **kwargs)``;
requests that bypass ``self.app`` are not recorded.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from hypothesis.strategies import SearchStrategy

from . import faults
from .model import Cloud, DomainError, ManualClock
from .strategies import (
    GENTLE_EFFECTS,
    backup_delete_requests,
    backup_requests,
    clone_requests,
    fault_rules,
    names,
    seeds,
    ticks,
    write_sizes,
)

ALL_OPERATIONS = frozenset(
    {
        "create",
        "clone",
        "start",
        "stop",
        "reboot",
        "destroy",
        "expunge",
        "write",
        "backup",
        "delete_backup",
        "sync",
        "image_from_backup",
        "tick",
        "faults",
    }
)
MAX_RULES = 3
# What drawn fault rules match by default: the allocating operations the built-in rules
# perform (where exhaustion, latency and lost storage matter most).
MACHINE_OPERATIONS = (
    "vm.create",
    "vm.start",
    "vm.clone",
    "vm.clone.prepare",
    "volume.write",
    "backup.create",
    "backup.create.volume",
    "image.create_from_backup",
)

# Short defaults for every CloudStateMachine's TestCase (assign ``MyMachine.TestCase.settings``
# to change them): the explain phase re-runs a failing example many times, for little news.
QUICK = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)


def _enabled(name: str):
    return precondition(lambda self: self.cloud is not None and name in self.operations)


def _fault_rule_count(cloud) -> int:
    # Asked before every step: count the rules instead of building faults.list_rules' report.
    return 0 if cloud is None or cloud.faults is None else len(cloud.faults)


class CloudStateMachine(RuleBasedStateMachine):
    """A state machine over one fakestack cloud.  See the module docstring for the hooks."""

    topology: Any = "tiny"
    operations: frozenset = ALL_OPERATIONS
    fault_operations: tuple = MACHINE_OPERATIONS
    fault_effects: tuple = GENTLE_EFFECTS
    max_clone_names: int = 3
    record_to: str | os.PathLike[str] | None = None

    vms = Bundle("vms")
    backup_groups = Bundle("backup_groups")

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.TestCase.settings = QUICK

    def __init__(self) -> None:
        super().__init__()
        self.cloud: Cloud | None = None
        self._app = None
        self._client = None
        self.last_error: DomainError | None = None
        self.recorder = None  # a fakestack.scenarios.Recorder when ``record_to`` is set
        self._failure: tuple[str, str] | None = None  # what failed this example, if anything

    @property
    def app(self):
        """The WSGI app on ``self.cloud`` (built on first use; recording its requests
        when ``record_to`` is set)."""
        if self._app is None and self.cloud is not None:
            from .app import make_app

            self._app = make_app(self.cloud)
            if self.recorder is not None:
                from .scenarios import RecordingMiddleware

                self._app = RecordingMiddleware(self._app, self.recorder, sync_clock=False)
        return self._app

    @property
    def client(self):
        """A werkzeug test client on ``self.app`` (built on first use)."""
        if self._client is None and self.app is not None:
            from werkzeug.test import Client

            self._client = Client(self.app)
        return self._client

    # -- hooks ---------------------------------------------------------------------------
    def setup(self) -> None:
        """Called once the cloud, ``self.app`` and ``self.client`` exist."""

    def check(self) -> None:
        """Your properties, asserted after every step."""

    def teardown(self) -> None:
        """Write the recorded run (when ``record_to`` is set).  Overrides call super()."""
        if self.recorder is not None:
            # Not run here: the machine already checked the invariants after every step.
            self.recorder.note_op("check_invariants", {}, name="invariants hold")
            if self._failure is not None:
                self.recorder.description += "\n" + _failure_note(*self._failure)
            self.recorder.save(self.record_to)

    def _attempt(self, label: str, fn, *args, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except DomainError as exc:
            self.last_error = exc
            note(f"{label} -> {exc.kind}: {exc.message}")
            self._note_call(fn, args, kwargs, exc)
            return None
        self.last_error = None
        self._note_call(fn, args, kwargs)
        return result

    def _note_call(self, fn, args, kwargs, error: DomainError | None = None) -> None:
        if self.recorder is not None:
            self.recorder.note_call(fn, *args, error=error, **kwargs)

    def do_create_vm(self, name: str) -> str | None:
        image = next(iter(self.cloud.images)).uuid
        offering = next(iter(self.cloud.instance_offerings)).uuid
        vm = self._attempt(
            f"create_vm({name!r})", self.cloud.create_vm, name, image=image, instance_offering=offering
        )
        return vm.uuid if vm is not None else None

    def do_clone(self, source: str, request: dict) -> list[str]:
        result = self._attempt(f"clone_vm({source!r}, **{request!r})", self.cloud.clone_vm, source, **request)
        if result is None:
            return []
        for entry in result.failed:
            note(f"  clone {entry.name!r} -> {entry.error.kind}: {entry.error.message}")
        return [vm.uuid for vm in result.succeeded]

    def do_start(self, vm: str) -> None:
        self._attempt(f"start_vm({vm!r})", self.cloud.start_vm, vm)

    def do_stop(self, vm: str) -> None:
        self._attempt(f"stop_vm({vm!r})", self.cloud.stop_vm, vm)

    def do_reboot(self, vm: str) -> None:
        self._attempt(f"reboot_vm({vm!r})", self.cloud.reboot_vm, vm)

    def do_destroy(self, vm: str) -> None:
        self._attempt(f"destroy_vm({vm!r})", self.cloud.destroy_vm, vm)

    def do_expunge(self, vm: str) -> None:
        self._attempt(f"expunge_vm({vm!r})", self.cloud.expunge_vm, vm)

    def do_write(self, vm: str, nbytes: int) -> None:
        found = self.cloud.vms.find(vm)
        if found is None or found.root_volume_uuid is None:
            return
        self._attempt(
            f"write({found.root_volume_uuid!r}, {nbytes})", self.cloud.write, found.root_volume_uuid, nbytes
        )

    def do_backup(self, vm: str, request: dict) -> str | None:
        bs = next(iter(self.cloud.backup_storages)).uuid
        backups = self._attempt(
            f"create_vm_backup({vm!r}, {bs!r}, **{request!r})", self.cloud.create_vm_backup, vm, bs, **request
        )
        if not backups:
            return None
        return backups[0].group_uuid

    def do_delete_backup(self, group: str, request: dict) -> None:
        self._attempt(
            f"delete_backup_group({group!r}, **{request!r})", self.cloud.delete_backup_group, group, **request
        )

    def do_sync(self) -> None:
        for bs in self.cloud.backup_storages:
            self._attempt(f"sync_backup_storage({bs.name!r})", self.cloud.sync_backup_storage, bs.uuid)

    def do_image_from_backup(self, group: str, name: str) -> None:
        members = [b for b in self.cloud.backups if b.group_uuid == group]
        if not members:
            return
        bs = next(iter(self.cloud.backup_storages)).uuid
        self._attempt(
            f"create_image_from_backup({members[0].uuid!r}, {bs!r}, {name!r})",
            self.cloud.create_image_from_backup,
            members[0].uuid,
            bs,
            name,
        )

    def do_tick(self, seconds: float) -> None:
        note(f"tick({seconds})")
        self.cloud.tick(seconds)
        if self.recorder is not None:
            self.recorder.note_tick(seconds)

    # -- the cloud -------------------------------------------------------------------------
    @initialize(target=vms, seed=seeds(), data=st.data())
    def create_cloud(self, seed, data):
        topology = self.topology
        if isinstance(topology, SearchStrategy):
            topology = data.draw(topology, label="topology")
        self.cloud = Cloud(topology, seed=seed, clock=ManualClock())
        shown = topology if isinstance(topology, str) else self.cloud.topology.name
        note(f"cloud = Cloud({shown!r}, seed={seed}, clock=ManualClock())")
        if self.record_to is not None:
            from .scenarios import Recorder

            self.recorder = Recorder.for_cloud(
                self.cloud,
                name=os.path.splitext(os.path.basename(self.record_to))[0],
                description=f"a failing run of {type(self).__name__}, written by fakestack.stateful",
            )
        self.setup()
        return multiple(*[vm.uuid for vm in self.cloud.vms])

    # -- rules -----------------------------------------------------------------------------
    @_enabled("create")
    @rule(target=vms, name=names("vm"))
    def create_vm(self, name):
        uuid = self.do_create_vm(name)
        return uuid if uuid is not None else multiple()

    @_enabled("clone")
    @rule(target=vms, source=vms, request=st.deferred(lambda: clone_requests(max_names=3)))
    def clone(self, source, request):
        request = dict(request, names=request["names"][: self.max_clone_names])
        return multiple(*self.do_clone(source, request))

    @_enabled("start")
    @rule(vm=vms)
    def start(self, vm):
        self.do_start(vm)

    @_enabled("stop")
    @rule(vm=vms)
    def stop(self, vm):
        self.do_stop(vm)

    @_enabled("reboot")
    @rule(vm=vms)
    def reboot(self, vm):
        self.do_reboot(vm)

    @_enabled("destroy")
    @rule(vm=vms)
    def destroy(self, vm):
        self.do_destroy(vm)

    @_enabled("expunge")
    @rule(vm=consumes(vms))
    def expunge(self, vm):
        found = self.cloud.vms.find(vm)
        if found is not None and found.state == "Destroyed":
            self.do_expunge(vm)

    @_enabled("write")
    @rule(vm=vms, nbytes=write_sizes(4 * 1024**3))
    def write(self, vm, nbytes):
        self.do_write(vm, nbytes)

    @_enabled("backup")
    @rule(target=backup_groups, vm=vms, request=backup_requests())
    def backup(self, vm, request):
        group = self.do_backup(vm, request)
        return group if group is not None else multiple()

    @_enabled("delete_backup")
    @rule(group=consumes(backup_groups), request=backup_delete_requests())
    def delete_backup(self, group, request):
        self.do_delete_backup(group, request)

    @_enabled("sync")
    @rule()
    def sync(self):
        self.do_sync()

    @_enabled("image_from_backup")
    @rule(group=backup_groups, name=names("image"))
    def image_from_backup(self, group, name):
        self.do_image_from_backup(group, name)

    @_enabled("tick")
    @rule(seconds=ticks(600))
    def tick(self, seconds):
        self.do_tick(seconds)

    @_enabled("faults")
    @precondition(lambda self: self.cloud is not None and _fault_rule_count(self.cloud) < MAX_RULES)
    @rule(data=st.data())
    def add_fault(self, data):
        rule_ = data.draw(
            fault_rules(operations=self.fault_operations, effects=self.fault_effects), label="fault"
        )
        added = faults.add(self.cloud, rule_)
        note(f"faults.add(cloud, {rule_.model_dump(mode='json', exclude_none=True)!r})")
        if self.recorder is not None:
            self.recorder.note_faults(*added)

    @_enabled("faults")
    @precondition(lambda self: _fault_rule_count(self.cloud) > 0)
    @rule()
    def clear_faults(self):
        note("faults.clear(cloud)")
        faults.clear(self.cloud)
        if self.recorder is not None:
            self.recorder.note_faults(clear=True)

    @_enabled("faults")
    @rule()
    def heal(self):
        """Reconnect every host and storage a fault disconnected."""
        for host in self.cloud.hosts:
            if host.status != "Connected":
                self.cloud.set_host_status(host.uuid, "Connected")
                self._note_call(self.cloud.set_host_status, (host.uuid, "Connected"), {})
        for store in list(self.cloud.primary_storages) + list(self.cloud.backup_storages):
            if store.status != "Connected":
                self.cloud.set_storage_status(store.uuid, "Connected")
                self._note_call(self.cloud.set_storage_status, (store.uuid, "Connected"), {})

    # -- checks ----------------------------------------------------------------------------
    @invariant()
    def invariants_hold(self):
        if self.cloud is None:
            return
        try:
            self.cloud.check_invariants()
        except Exception as exc:
            self._failure = ("invariant", f"{type(exc).__name__}: {exc}")
            raise
        try:
            self.check()
        except Exception as exc:
            self._failure = ("check", f"{type(exc).__name__}: {exc}".strip())
            raise


CloudStateMachine.TestCase.settings = QUICK


def _failure_note(kind: str, message: str) -> str:
    """What the recording of a failed example reproduces, said in the file itself."""
    if kind == "invariant":
        return (
            f"A cloud invariant broke: {message}. Replaying this file fails on its last "
            "step (invariants hold) for as long as that bug is there."
        )
    return (
        f"The client's check() failed: {message}. This file holds the cloud's side only "
        "(the requests and operations, with the answers they got): its replay passes and "
        "ends with the cloud in the state that failed the check; run the check against "
        "fakestack.scenarios.replay(path).cloud to see it fail again."
    )
