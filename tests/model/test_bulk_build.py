"""A topology's VMs built in bulk (fakestack/model/bulk.py) make the same cloud as one
create_vm each: equal snapshots, for the presets and for topologies with every kind of VM."""

from __future__ import annotations

import copy
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import GiB

from fakestack import Cloud, ManualClock
from fakestack.model import bulk
from fakestack.model.entities import Host
from fakestack.model.errors import CapacityExhausted
from fakestack.model.placement import HostIndex
from fakestack.model.presets import scale


def one_by_one(monkeypatch, topology, **kwargs) -> dict:
    with monkeypatch.context() as m:
        m.setattr(bulk, "_plain", lambda spec: False)
        return Cloud(topology, clock=ManualClock(), **kwargs).snapshot()


@pytest.mark.parametrize(
    "topology", ["demo", "tiny", "shared", "scale:1:10", "scale:3:200", "scale:40:2000", "scale:1200:3000"]
)
def test_bulk_build_equals_one_create_vm_each(monkeypatch, topology):
    bulk_cloud = Cloud(topology, clock=ManualClock())
    assert bulk_cloud.snapshot() == one_by_one(monkeypatch, topology)
    bulk_cloud.check_invariants()


def test_bulk_build_with_another_seed(monkeypatch):
    assert Cloud("scale:7:300", seed=5, clock=ManualClock()).snapshot() == one_by_one(
        monkeypatch, "scale:7:300", seed=5
    )


def test_bulk_build_mixes_plain_and_hinted_vms(monkeypatch):
    data = scale(4, 40).model_dump(mode="json")
    data["disk_offerings"] = [{"name": "disk-10g", "disk_size": "10G"}]
    data["l3_networks"].append({"name": "l3-other", "zone": "zone-1", "cidr": "10.0.0.0/24"})
    vms = data["vms"]
    vms[3]["host"] = data["hosts"][2]["name"]
    vms[4]["l3_networks"] = ["l3-other", "l3-scale"]
    vms[5]["state"] = "Stopped"
    vms[6]["state"] = "Created"
    vms[7]["state"] = "Paused"
    vms[8]["written"] = 1024**3
    vms[9]["data_disks"] = ["disk-10g"]
    vms[10]["primary_storage"] = data["primary_storages"][0]["name"]
    built = Cloud(data, clock=ManualClock())
    assert built.snapshot() == one_by_one(monkeypatch, data)
    built.check_invariants()
    assert len(built.vms) == 40 and built.vms.get("vm-10").data_volume_uuids
    assert built.vms.get("vm-7").state == "Created"


def test_a_full_build_fails_as_one_by_one(monkeypatch):
    # more VMs than the hosts hold: the same shortage either way
    with pytest.raises(Exception) as bulk_error:
        Cloud(scale(1, 2000), clock=ManualClock())
    with monkeypatch.context() as m:
        m.setattr(bulk, "_plain", lambda spec: False)
        with pytest.raises(Exception) as general_error:
            Cloud(scale(1, 2000), clock=ManualClock())
    assert type(bulk_error.value) is type(general_error.value)
    assert str(bulk_error.value) == str(general_error.value)


STRATEGIES = [
    None,
    "DefaultHostAllocatorStrategy",
    "LeastVmPreferredHostAllocatorStrategy",
    "MinimumMemoryUsageHostAllocatorStrategy",
    "LastHostPreferredAllocatorStrategy",
]


@st.composite
def mixed_topologies(draw):
    """A scale document whose VMs are mostly plain, in runs broken by every kind of VM the
    short path leaves to ``create_vm`` (hints, data disks, other states, writes, another
    offering or image), on storage and hosts that may run out part way."""
    hosts = draw(st.integers(1, 6))
    data = scale(hosts, 0).model_dump(mode="json")
    data["hosts"] = [
        dict(h, memory=draw(st.sampled_from(["4G", "8G", "64G"])), cpu_num=draw(st.integers(1, 8)))
        for h in data["hosts"]
    ]
    data["primary_storages"][0]["total_capacity"] = draw(st.sampled_from(["60G", "200G", "4T"]))
    data["images"].append(dict(data["images"][0], name="other"))
    data["instance_offerings"].append(
        {
            "name": "big",
            "cpu_num": 2,
            "memory_size": "2G",
            "allocator_strategy": draw(st.sampled_from(STRATEGIES)),
        }
    )
    data["disk_offerings"] = [{"name": "disk", "disk_size": "5G"}]
    data["settings"] = {"default_allocator_strategy": draw(st.sampled_from(STRATEGIES[1:]))}
    kinds = st.sampled_from(
        ["plain"] * 8 + ["big", "other", "host", "disk", "Stopped", "Paused", "Created", "written", "l3"]
    )
    vms = []
    for i, kind in enumerate(draw(st.lists(kinds, min_size=3, max_size=60))):
        vm = {"name": f"vm-{i}", "instance_offering": "unit", "image": "base"}
        if kind == "big":
            vm["instance_offering"] = "big"
        elif kind == "other":
            vm["image"] = "other"
        elif kind == "host":
            vm["host"] = data["hosts"][i % hosts]["name"]
        elif kind == "disk":
            vm["data_disks"] = ["disk"]
        elif kind in ("Stopped", "Paused", "Created"):
            vm["state"] = kind
        elif kind == "written":
            vm["written"] = "100M"
        elif kind == "l3":
            vm["l3_networks"] = ["l3-scale"]
        vms.append(vm)
    data["vms"] = vms
    return data


def build_or_error(topology):
    try:
        return Cloud(topology, clock=ManualClock()).snapshot()
    except Exception as exc:  # a shortage part way: the same error either way
        return (type(exc).__name__, str(exc))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mixed_topologies())
def test_bulk_build_of_any_mix_equals_one_create_vm_each(monkeypatch, topology):
    built = build_or_error(topology)
    with monkeypatch.context() as m:
        m.setattr(bulk, "_plain", lambda spec: False)
        assert build_or_error(topology) == built


@st.composite
def host_sets(draw):
    hosts = []
    for i in range(draw(st.integers(1, 8))):
        host = Host(
            f"h{i}",
            f"h{i}",
            "z",
            draw(st.sampled_from(["c0", "c1"])),
            "10.0.0.1",
            8,
            1,
            1.0,
            8,
            draw(st.integers(1, 16)) * GiB,
            GiB,
            seq=i,
        )
        host.used_memory = draw(st.integers(0, 4)) * GiB
        host.state = draw(st.sampled_from(["Enabled", "Enabled", "Disabled"]))
        hosts.append(host)
    return hosts


@settings(max_examples=60, deadline=None)
@given(
    host_sets(),
    st.lists(
        st.tuples(st.sampled_from(STRATEGIES[1:]), st.integers(1, 4), st.integers(1, 3), st.booleans()),
        max_size=30,
    ),
    st.integers(0, 2**16),
)
def test_place_is_choose_then_hold(hosts, requests, seed):
    """``HostIndex.place`` (the bulk build's) picks the host ``choose`` picks and leaves the
    index as ``remove``, the usage and ``add`` do, the RNG drawn alike."""
    twins = [copy.copy(h) for h in hosts]
    placed, chosen = HostIndex(random.Random(seed)), HostIndex(random.Random(seed))
    for h in hosts:
        placed.add(h)
    for h in twins:
        chosen.add(h)
    for strategy, cpu, memory, one_cluster in requests:
        clusters = frozenset({"c0"}) if one_cluster else None
        try:
            host = placed.place(strategy, cpu, memory * GiB, clusters)
        except CapacityExhausted as exc:
            with pytest.raises(CapacityExhausted, match=re.escape(str(exc))):
                chosen.choose(strategy, cpu, memory * GiB, clusters)
            continue
        twin = chosen.choose(strategy, cpu, memory * GiB, clusters)
        chosen.remove(twin)
        twin.used_cpu += cpu
        twin.used_memory += memory * GiB
        twin.vm_count += 1
        chosen.add(twin)
        assert host.uuid == twin.uuid
        assert placed._sorted == chosen._sorted and placed._keys == chosen._keys
        assert placed._rng.getstate() == chosen._rng.getstate()
    assert [(h.used_cpu, h.used_memory, h.vm_count) for h in hosts] == [
        (h.used_cpu, h.used_memory, h.vm_count) for h in twins
    ]
