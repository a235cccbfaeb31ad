"""A clone of several names checks its records' inputs once (no fault plan active); with
an injector installed every name goes the whole way.  Both give the same clones, errors,
ids and state."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import OPS, PRELUDE, apply, topologies

from fakestack import Cloud, DomainError, ManualClock, faults


def clone_outcome(cloud: Cloud, source_index: int, names: list[str], strategy: str):
    vms = cloud.vms.values()
    if not vms:
        return None
    source = vms[source_index % len(vms)]
    try:
        result = cloud.clone_vm(source, names, strategy=strategy)
    except DomainError as exc:
        return ("failed", type(exc).__name__, str(exc))
    return [
        (e.name, e.vm.to_dict() if e.vm is not None else None, type(e.error).__name__, str(e.error))
        for e in result.entries
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    topologies(),
    st.lists(OPS, max_size=12),
    st.integers(0, 50),
    st.integers(1, 6),
    st.sampled_from(["start", "stopped", "none"]),
)
def test_a_clone_of_several_names_is_the_same_with_its_checks_made_once(
    topology, ops, source, count, strategy
):
    once = Cloud(topology, clock=ManualClock())
    each = Cloud(topology, clock=ManualClock())
    faults.install(each)  # no rule: nothing happens, but every name takes the whole way
    for cloud in (once, each):
        for op in PRELUDE + ops:
            apply(cloud, op)
    names = [f"n{i}" for i in range(count)]
    assert clone_outcome(once, source, names, strategy) == clone_outcome(each, source, names, strategy)
    once.check_invariants()
    a, b = once.snapshot(), each.snapshot()
    a.pop("journal", None), b.pop("journal", None)
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
