"""The clone's hot paths spell out general helpers (grep "spelled out" in fakestack/model);
each spelled-out path gives what the general one gives."""

import copy
import random
import re
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import GiB
from test_bulk_build import host_sets
from test_properties import OPS, PRELUDE, apply, topologies

from fakestack import Cloud, DomainError, ManualClock
from fakestack.model.clones import CloneMixin
from fakestack.model.errors import CapacityExhausted
from fakestack.model.placement import LAST_HOST, LEAST_VM, MIN_CPU, MIN_MEMORY, STRATEGIES, HostIndex, _ok
from fakestack.model.vms import StartPolicy, VmMixin

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_choose(index, strategy, cpu, memory, clusters=None, last_host=None, exclude=()):
    """``HostIndex.choose`` as it was written before its tests were spelled out: every
    host tested by one function."""
    excluded = set(exclude)

    def ok(h):
        return _ok(h, cpu, memory, clusters, excluded)

    if strategy == LAST_HOST and last_host is not None and last_host.seq in index._hosts:
        if ok(last_host):
            return last_host
    hosts = index._hosts
    if strategy in (MIN_MEMORY, MIN_CPU):
        items, floor = (
            (index._sorted["memory"], memory) if strategy == MIN_MEMORY else (index._index("cpu"), cpu)
        )
        for key, seq in reversed(items):
            if key < floor:
                break
            if ok(hosts[seq]):
                return hosts[seq]
    elif strategy == LEAST_VM:
        for _, seq in index._index("vms"):
            if ok(hosts[seq]):
                return hosts[seq]
    else:
        items = index._sorted["memory"]
        lo = next((i for i, (key, _) in enumerate(items) if key >= memory), len(items))
        span = len(items) - lo
        if span > 0:
            rng = index._rng
            for _ in range(6):
                seq = items[lo + rng.randrange(span)][1]
                if ok(hosts[seq]):
                    return hosts[seq]
            start = rng.randrange(span)
            for j in range(span):
                seq = items[lo + (start + j) % span][1]
                if ok(hosts[seq]):
                    return hosts[seq]
    raise index.shortage(cpu, memory)


@settings(max_examples=80, deadline=None)
@given(
    host_sets(),
    st.lists(
        st.tuples(
            st.sampled_from(STRATEGIES),
            st.integers(1, 4),
            st.integers(1, 3),
            st.sampled_from([None, "c0", "c1"]),
            st.integers(0, 8),
            st.integers(0, 8),
        ),
        max_size=30,
    ),
    st.integers(0, 2**16),
)
def test_choose_picks_what_a_test_of_each_host_picks_and_rekey_is_remove_change_add(hosts, requests, seed):
    twins = [copy.copy(h) for h in hosts]
    index, reference = HostIndex(random.Random(seed)), HostIndex(random.Random(seed))
    for h in hosts:
        index.add(h)
    for h in twins:
        reference.add(h)
    for strategy, cpu, memory, cluster, last, excluded in requests:
        clusters = frozenset({cluster}) if cluster else None
        last_host = hosts[last] if last < len(hosts) else None
        last_twin = twins[last] if last < len(twins) else None
        exclude = [f"h{excluded}"]
        try:
            host = index.choose(strategy, cpu, memory * GiB, clusters, last_host, exclude)
        except CapacityExhausted as exc:
            with pytest.raises(CapacityExhausted, match=re.escape(str(exc))):
                reference_choose(reference, strategy, cpu, memory * GiB, clusters, last_twin, exclude)
            continue
        twin = reference_choose(reference, strategy, cpu, memory * GiB, clusters, last_twin, exclude)
        assert host.uuid == twin.uuid
        assert index._rng.getstate() == reference._rng.getstate()
        # hold it: ``rekey`` after the change, ``remove`` / change / ``add`` on the twin
        host.used_cpu, host.used_memory, host.vm_count = (
            host.used_cpu + cpu,
            host.used_memory + memory * GiB,
            host.vm_count + 1,
        )
        index.rekey(host)
        reference.remove(twin)
        twin.used_cpu, twin.used_memory, twin.vm_count = host.used_cpu, host.used_memory, host.vm_count
        reference.add(twin)
        assert index._sorted == reference._sorted and index._keys == reference._keys
        assert sorted(index._hosts) == sorted(reference._hosts)


def prepared(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        apply(cloud, op)
    return cloud


CLONE_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "provisioning": st.sampled_from(["thin", "thick", "sparse"]),
        "host": st.integers(0, 3),
        "cluster": st.sampled_from(["c0", "c1"]),
        "primary_storage_for_root": st.sampled_from(["ps0", "ps1"]),
        "description": st.just("d"),
        "strategy": st.sampled_from(["start", "stopped", "none"]),
    },
)


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=12), st.integers(0, 50), st.integers(1, 3), CLONE_OPTIONS)
def test_a_clones_spelled_out_record_shape_is_vm_shape(topology, ops, source, count, options):
    """``_clone_shape`` gives what ``_vm_shape`` gives for a clone's record (or None, and
    the clone asks ``_vm_shape``)."""
    cloud = prepared(topology, ops)
    if "host" in options:
        hosts = cloud.hosts.values()
        options["host"] = hosts[options["host"] % len(hosts)]
    spelled_out = CloneMixin._clone_shape

    def both(self, *args):
        fast = spelled_out(self, *args)
        (
            vm,
            image,
            networks,
            hint_host,
            hint_cluster,
            ps_root,
            ps_data,
            allocator,
            provisioning,
            description,
        ) = args
        try:
            general = VmMixin._vm_shape(
                self,
                image.uuid,
                vm.instance_offering_uuid,
                vm.cpu_num,
                vm.memory_size,
                networks,
                None,
                vm.zone_uuid,
                hint_host,
                hint_cluster,
                ps_root,
                ps_data,
                (),
                [],
                StartPolicy.NONE,
                allocator,
                provisioning,
                description,
                None,
            )
        except DomainError:
            general = None
        if fast is not None:
            assert fast == general
        return fast

    cloud._clone_shape = types.MethodType(both, cloud)
    vms = cloud.vms.values()
    if not vms:
        return
    try:
        cloud.clone_vm(vms[source % len(vms)], [f"n{i}" for i in range(count)], **options)
    except DomainError:
        pass
    cloud.check_invariants()


@SETTINGS
@given(topologies(), st.lists(OPS, max_size=20))
def test_the_storage_plans_spelled_out_need_is_storage_need(topology, ops):
    """``_storage_plan`` decides a usable storage with no injected shortage inline; with a
    shortage marker that names no resource every storage goes through
    ``_pick_primary_storage`` and ``_storage_need``: the same storages, order and clusters
    (or the same error)."""
    plan = VmMixin._storage_plan

    def both(self, *args):
        def outcome(marker):
            saved = self._exhausted
            self._exhausted = marker
            try:
                fitting, clusters = plan(self, *args)
                return [ps.uuid for ps in fitting], sorted(clusters)
            except DomainError as exc:
                return type(exc).__name__, str(exc)
            finally:
                self._exhausted = saved

        if not self._exhausted:
            assert outcome(frozenset()) == outcome(frozenset({"no.such.resource"}))
        return plan(self, *args)

    cloud = Cloud(topology, clock=ManualClock())
    cloud._storage_plan = types.MethodType(both, cloud)
    for op in PRELUDE + ops:
        apply(cloud, op)
    cloud.check_invariants()
