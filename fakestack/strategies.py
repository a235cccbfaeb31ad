"""Hypothesis strategies for fakestack: topologies, requests, write sizes and fault plans.

    from hypothesis import given
    from fakestack import strategies as fs

    @given(topology=fs.topologies(tight=True), seed=fs.seeds(), request=fs.clone_requests())
    def test_clone_never_breaks_the_ledgers(topology, seed, request):
        cloud = fakestack.Cloud(topology, seed=seed, clock=fakestack.ManualClock())
        cloud.clone_vm("golden", **request)
        cloud.check_invariants()

Every strategy draws plain data (dicts, ints, ``FaultRule``s), so a failing example prints
as something you can paste into a test.  Topologies always hold one zone, an image on an
image store, an offering, a network and a running ``golden`` VM, so that clones and
backups have a source.
"""

from __future__ import annotations

from hypothesis import strategies as st

from .faults import EXHAUSTIBLE, FAIL_KINDS, FaultPlan, FaultRule
from .model import FAULT_POINTS
from .model.cloud import START_POLICIES

GiB = 1024**3
MiB = 1024**2

# Neutral operations that pass a fault point (see fakestack.model).
# The model's fault points (every neutral operation a rule can match).
NEUTRAL_OPERATIONS = FAULT_POINTS
# Effects that leave the cloud usable without a test's help (no hang, no dropped socket).
GENTLE_EFFECTS = ("exhaust", "fail", "latency", "disconnect", "reconnect")
ALL_EFFECTS = GENTLE_EFFECTS + ("hang", "drop_connection")


def seeds() -> st.SearchStrategy[int]:
    """A cloud seed (ids, allocator and probabilistic faults derive from it)."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def names(prefix: str = "vm") -> st.SearchStrategy[str]:
    """Short VM names (``vm-0`` ... ``vm-99``): collisions happen, as in real life."""
    return st.integers(0, 99).map(lambda i: f"{prefix}-{i}")


@st.composite
def topologies(draw, *, tight: bool = False, max_hosts: int = 4) -> dict:
    """A topology dict for ``Cloud(topology)``.

    ``tight=True`` draws hosts and storages with room for only a few more VMs, so that
    every kind of exhaustion (host CPU, host memory, virtual and physical storage,
    backup storage) is within a handful of operations.
    """
    n_clusters = draw(st.integers(1, 2))
    clusters = [{"name": f"cluster-{i + 1}", "zone": "zone-1"} for i in range(n_clusters)]
    n_hosts = draw(st.integers(n_clusters, max(n_clusters, max_hosts)))
    hosts = []
    for i in range(n_hosts):
        if tight:
            cpu = draw(st.integers(1, 4))
            memory = draw(st.integers(3, 8)) * GiB
            ratio = draw(st.sampled_from([1.0, 2.0]))
        else:
            cpu = draw(st.sampled_from([8, 16, 32, 64]))
            memory = draw(st.sampled_from([32, 64, 128, 256])) * GiB
            ratio = draw(st.sampled_from([1.0, 4.0, 10.0]))
        hosts.append(
            {
                "name": f"host-{i + 1}",
                "cluster": clusters[i % n_clusters]["name"],
                "cpu_num": cpu,
                "memory": memory,
                "cpu_overprovisioning_ratio": ratio,
                "reserved_memory": GiB,
            }
        )
    image_virtual = draw(st.sampled_from([4, 8, 10])) * GiB
    if tight:
        # room for the golden VM (even thick) and a few more, not many
        virtual = image_virtual * draw(st.integers(2, 6))
        physical = image_virtual * draw(st.integers(2, 6))
        backup = draw(st.integers(3, 16)) * GiB
    else:
        virtual = draw(st.sampled_from([1024, 2048, 4096])) * GiB
        physical = virtual
        backup = draw(st.sampled_from([512, 1024, 2048])) * GiB
    primary = [
        {
            "name": "ps-1",
            "type": "NFS",
            "zone": "zone-1",
            "clusters": [c["name"] for c in clusters],
            "total_capacity": virtual,
            "physical_capacity": physical,
            "provisioning": draw(st.sampled_from(["thin", "thin", "thick"])),
            "overprovisioning_ratio": draw(st.sampled_from([1.0, 1.0, 2.0])),
            "reserved_capacity": 0,
        }
    ]
    topology = {
        "name": "drawn-tight" if tight else "drawn",
        "zones": [{"name": "zone-1"}],
        "clusters": clusters,
        "hosts": hosts,
        "primary_storages": primary,
        "backup_storages": [
            {"name": "imagestore", "zones": ["zone-1"], "total_capacity": backup, "reserved_capacity": 0}
        ],
        "images": [
            {
                "name": "base",
                "backup_storages": ["imagestore"],
                "virtual_size": image_virtual,
                "actual_size": GiB,
            }
        ],
        "instance_offerings": [
            {"name": "unit", "cpu_num": 1, "memory_size": GiB},
            {"name": "double", "cpu_num": 2, "memory_size": 2 * GiB},
        ],
        "disk_offerings": [{"name": "disk-2G", "disk_size": 2 * GiB}],
        "l3_networks": [{"name": "l3-1", "zone": "zone-1", "cidr": "192.168.10.0/24"}],
        "vms": [
            {
                "name": "golden",
                "instance_offering": "unit",
                "image": "base",
                "written": draw(st.sampled_from([0, 64 * MiB, 512 * MiB])),
            }
        ],
    }
    return topology


def clone_requests(*, max_names: int = 5, strategies=START_POLICIES) -> st.SearchStrategy[dict]:
    """Keyword arguments for ``cloud.clone_vm(source, **request)``."""
    return st.fixed_dictionaries(
        {
            "names": st.lists(names("clone"), min_size=1, max_size=max_names),
            "strategy": st.sampled_from(tuple(strategies)),
        },
        optional={"full": st.booleans()},
    )


def backup_requests() -> st.SearchStrategy[dict]:
    """Keyword arguments for ``cloud.create_vm_backup(vm, backup_storage, **request)``."""
    return st.fixed_dictionaries(
        {"name": names("backup")},
        optional={"mode": st.just("full"), "description": st.text(max_size=20)},
    )


def backup_delete_requests() -> st.SearchStrategy[dict]:
    """Keyword arguments for ``cloud.delete_backup_group(group, **request)``."""
    return st.fixed_dictionaries(
        {"mode": st.sampled_from(["Permissive", "Enforcing"])},
        optional={"handle_dependency": st.booleans()},
    )


def write_sizes(max_size: int = 16 * GiB) -> st.SearchStrategy[int]:
    """Guest write sizes: zero, small, around a leaf's initial size, and up to large."""
    return st.one_of(
        st.just(0),
        st.integers(1, MiB),
        st.integers(MiB, 256 * MiB),
        st.integers(256 * MiB, max(256 * MiB, max_size)),
    )


def ticks(max_seconds: float = 3600) -> st.SearchStrategy[float]:
    """Clock moves in whole seconds (``cloud.tick``)."""
    return st.integers(0, int(max_seconds)).map(float)


@st.composite
def _when(draw) -> dict:
    kind = draw(st.sampled_from(["always", "nth", "after", "every", "times", "probability"]))
    if kind == "nth":
        return {"nth": draw(st.integers(1, 3))}
    if kind == "after":
        return {"after": draw(st.integers(0, 3))}
    if kind == "every":
        return {"every": draw(st.integers(1, 3))}
    if kind == "times":
        return {"times": draw(st.integers(1, 3))}
    if kind == "probability":
        return {"probability": draw(st.sampled_from([0.1, 0.25, 0.5, 0.9]))}
    return {}


@st.composite
def _effect(draw, effects) -> dict:
    kind = draw(st.sampled_from(tuple(effects)))
    if kind == "exhaust":
        return {"type": "exhaust", "resource": draw(st.sampled_from(EXHAUSTIBLE))}
    if kind == "fail":
        return {
            "type": "fail",
            "kind": draw(st.sampled_from(FAIL_KINDS)),
            "message": "injected by hypothesis",
        }
    if kind == "latency":
        return {"type": "latency", "seconds": float(draw(st.integers(1, 120)))}
    if kind in ("disconnect", "reconnect"):
        return {"type": kind, "kind": draw(st.sampled_from(["host", "primary_storage", "backup_storage"]))}
    return {"type": kind}


@st.composite
def fault_rules(draw, *, operations=NEUTRAL_OPERATIONS, effects=GENTLE_EFFECTS, resources=()) -> FaultRule:
    """One ``FaultRule``.  ``operations`` are match strings (neutral or dialect);
    ``resources`` optional resource filters (uuids or names) to draw from; the default
    effects leave out ``hang`` and ``drop_connection`` (pass ``ALL_EFFECTS`` for those)."""
    data = {
        "match": draw(st.sampled_from(tuple(operations))),
        "when": draw(_when()),
        "effect": draw(_effect(effects)),
    }
    if resources:
        resource = draw(st.none() | st.sampled_from(tuple(resources)))
        if resource is not None:
            data["resource"] = resource
    return FaultRule.model_validate(data)


def fault_plans(*, max_rules: int = 3, **rule_options) -> st.SearchStrategy[FaultPlan]:
    """A ``FaultPlan`` of up to ``max_rules`` rules (see ``fault_rules``)."""
    return st.lists(fault_rules(**rule_options), max_size=max_rules).map(lambda rules: FaultPlan(rules=rules))
