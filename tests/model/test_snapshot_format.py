"""The snapshot format (version 2: collections as tables of columns) and its readers.

Old snapshots (version 1: one dict per entity) still restore: ``snapshots_v1/`` holds some,
written by the code of the time (see its README).  Round trips are fixed points: a cloud's
snapshot, through JSON and ``Cloud.restore``, gives the same snapshot byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import test_backup_properties as backup_props
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from test_issue16_properties import NEW_OPS, apply_new
from test_properties import OPS, PRELUDE, SETTINGS, topologies

from fakestack import Cloud, ManualClock
from fakestack.model import presets, tables
from fakestack.model.cloud import COLLECTIONS
from fakestack.model.presets import scale, scale_document
from fakestack.model.topology import Topology, parse_topology
from fakestack.model.trusted_topology import construct

V1 = Path(__file__).parent / "snapshots_v1"
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
V1_FILES = sorted(V1.glob("*.json"))


def round_trip(cloud: Cloud) -> tuple[str, Cloud]:
    """The cloud's snapshot as JSON, and the cloud restored from that JSON."""
    text = json.dumps(cloud.snapshot())
    return text, Cloud.restore(json.loads(text))


# -- version 1 --------------------------------------------------------------------------


def test_the_version_1_fixtures_are_what_the_old_format_wrote():
    assert [p.stem for p in V1_FILES] == [
        "demo",
        "instavm-clone-with-and-without-kept-snapshot",
        "model-ops",
        "vsphere-instant-clone-until-host-memory-runs-out",
        "zstack-backup-storage-fills-mid-group",
    ]
    for path in V1_FILES:
        data = json.loads(path.read_text())
        assert data["version"] == 1 and isinstance(data["vms"], list) and isinstance(data["vms"][0], dict)


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_a_version_1_snapshot_restores_to_the_same_state(path):
    old = json.loads(path.read_text())
    cloud = Cloud.restore(old)
    cloud.check_invariants()
    new = json.loads(json.dumps(cloud.snapshot()))
    assert new["version"] == 2
    # every entity, field for field, and everything else as it was
    for kind, _ in COLLECTIONS:
        assert Cloud.snapshot_records(new, kind) == old[kind], kind
        assert Cloud.snapshot_records(old, kind) == old[kind], kind
    assert cloud.topology == Topology.model_validate(old["topology"])
    assert cloud.topology.model_dump(mode="json") == old["topology"]
    others = set(old) - {kind for kind, _ in COLLECTIONS} - {"version", "topology"}
    assert {k: new[k] for k in others} == {k: old[k] for k in others}
    # and the cloud carries on exactly as one restored from the new format
    again = Cloud.restore(new)
    for c in (cloud, again):
        c.tick(10)
        c.stop_vm(c.vms.values()[0])
        c.create_vm("after", image=c.images.values()[0], instance_offering=c.instance_offerings.values()[0])
    assert json.dumps(cloud.snapshot()) == json.dumps(again.snapshot())


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_a_snapshot_in_version_1_is_what_the_old_format_wrote_byte_for_byte(path):
    text = path.read_text().rstrip("\n")
    cloud = Cloud.restore(json.loads(text))
    assert json.dumps(Cloud.snapshot_version_1(cloud.snapshot()), separators=(",", ":")) == text


@pytest.mark.parametrize("name", [p.stem for p in V1_FILES if (SCENARIOS / f"{p.stem}.yaml").exists()])
def test_a_transcript_hashes_the_state_as_before_the_format_changed(name):
    from fakestack.scenarios.replaying import replay

    old = json.loads((V1 / f"{name}.json").read_text())  # the final state, as written then
    expected = hashlib.sha256(
        json.dumps(old, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    assert json.loads(replay(SCENARIOS / f"{name}.yaml").transcript)["final_state_sha256"] == expected


def test_the_demo_fixture_is_a_new_demo_cloud():
    old = json.loads((V1 / "demo.json").read_text())
    assert Cloud.restore(old).snapshot() == Cloud("demo").snapshot()


def test_an_unknown_version_is_refused_naming_the_versions_read():
    with pytest.raises(
        ValueError, match=r"unsupported snapshot version 3 \(this fakestack reads versions 1, 2\)"
    ):
        Cloud.restore({"version": 3})


# -- version 2 --------------------------------------------------------------------------


def test_a_collection_is_a_table_of_columns_with_shared_values_once_and_defaults_left_out():
    cloud = Cloud(scale(2, 30), clock=ManualClock())
    data = json.loads(json.dumps(cloud.snapshot()))
    vms = data["vms"]
    assert vms["count"] == 30
    assert [vm.name for vm in cloud.vms] == vms["columns"]["name"]
    assert vms["same"]["state"] == "Running" and vms["same"]["cpu_num"] == 1
    assert "frozen" not in vms["columns"] and "frozen" not in vms["same"]  # False: the default
    assert data["topology"]["vms"] == {
        "count": 30,
        "columns": {"name": [f"vm-{i}" for i in range(1, 31)]},
        "same": {"instance_offering": "unit", "image": "base"},
    }
    assert data["volume_snapshots"] == {"count": 0, "columns": {}, "same": {}}
    records = Cloud.snapshot_records(data, "vms")
    assert [r["name"] for r in records] == [vm.name for vm in cloud.vms]
    assert records[0] == {f: getattr(cloud.vms.values()[0], f) for f in records[0]}
    assert records[0]["frozen"] is False and records[0]["data_volume_uuids"] == []


def test_a_snapshot_shares_no_list_or_dict_with_the_cloud_nor_a_restored_cloud_with_it():
    cloud = Cloud("demo", clock=ManualClock())
    cloud.clone_vm("golden", ["a", "b"])
    cloud.dialect_state("t")["x"] = {"y": [1]}
    cloud.submit("vm.stop", cloud.stop_vm, "no such vm")  # a failed job: its error a dict once restored
    cloud.timed_job("image.build", 5, result={"sizes": [1, 2]})
    before = json.dumps(cloud.snapshot())
    dump = cloud.snapshot()
    _scribble(dump)
    assert json.dumps(cloud.snapshot()) == before
    dump = json.loads(before)
    first, second = Cloud.restore(dump), Cloud.restore(dump)
    _scribble(first.snapshot())
    assert json.dumps(first.snapshot()) == before
    for vm in first.vms:
        vm.nic_uuids.append("x")
        vm.l3_network_uuids.clear()
    first.l3_networks.values()[0].used.clear()
    first.images.values()[0].backup_storage_refs[0]["status"] = "x"
    first.dialect_state("t")["x"]["y"].append(2)
    first.jobs.values()[-2].error["scribbled"] = True
    first.jobs.values()[-1].result["sizes"].append(3)
    assert json.dumps(dump) == before
    assert json.dumps(second.snapshot()) == before


def _scribble(value: Any) -> None:
    """Change every list and dict inside ``value``."""
    if isinstance(value, dict):
        for v in list(value.values()):
            _scribble(v)
        value["scribbled"] = True
    elif isinstance(value, list):
        for v in value:
            _scribble(v)
        value.append("scribbled")


def test_restore_names_a_table_that_does_not_fit():
    data = json.loads(json.dumps(Cloud("demo").snapshot()))
    bad = json.loads(json.dumps(data))
    bad["nodes"]["same"]["colour"] = "red"
    with pytest.raises(ValueError, match="nodes: unknown field 'colour'"):
        Cloud.restore(bad)
    bad = json.loads(json.dumps(data))
    bad["nodes"]["columns"]["uuid"].pop()
    with pytest.raises(ValueError, match="nodes: column 'uuid' does not hold 5 values"):
        Cloud.restore(bad)
    bad = json.loads(json.dumps(data))
    bad["hosts"] = [{"uuid": "x"}]
    with pytest.raises(ValueError, match=r"hosts: not a table \(count, columns, same\)"):
        Cloud.restore(bad)


def test_many_host_and_vm_specs_restore_validated_column_by_column():
    cloud = Cloud(scale(150, 300, hosts_per_cluster=40), clock=ManualClock())
    text, restored = round_trip(cloud)
    assert restored.topology == cloud.topology == parse_topology(scale_document(150, 300, 40))
    assert json.dumps(restored.snapshot()) == text
    bad = json.loads(text)
    bad["topology"]["vms"]["columns"]["name"][7] = ""
    with pytest.raises(ValidationError, match="at least 1 character"):
        Cloud.restore(bad)
    bad = json.loads(text)
    bad["topology"]["hosts"]["same"]["cpu_num"] = 0
    with pytest.raises(ValidationError, match="greater than 0"):
        Cloud.restore(bad)
    bad = json.loads(text)
    bad["topology"]["vms"]["same"]["image"] = "nope"
    with pytest.raises(ValueError, match=r"^vms\[0\]\.image: unknown image 'nope'; vms\[1\]"):
        Cloud.restore(bad)
    bad = json.loads(text)
    bad["topology"]["vms"]["columns"]["name"][9] = "vm-1"
    with pytest.raises(ValueError, match=r"vms\[9\]\.name: duplicate name 'vm-1'"):
        Cloud.restore(bad)


@SETTINGS
@given(st.integers(1, 60), st.integers(0, 200), st.integers(1, 25), st.booleans())
def test_scale_is_its_document_validated(hosts, vms, per_cluster, constructed):
    if constructed:  # as a fresh process makes it (no validator built yet: see trusted_topology)
        real_trusted, presets.trusted = presets.trusted, construct
        try:
            built = scale(hosts, vms, per_cluster)
        finally:
            presets.trusted = real_trusted
    else:
        built = scale(hosts, vms, per_cluster)
    validated = parse_topology(scale_document(hosts, vms, per_cluster))
    assert built == validated
    assert json.dumps(built.model_dump(mode="json")) == json.dumps(validated.model_dump(mode="json"))
    assert [s.model_fields_set for s in built.hosts + built.vms] == [
        s.model_fields_set for s in validated.hosts + validated.vms
    ]
    # each spec's lists are its own
    if len(built.vms) > 1:
        built.vms[0].data_disks.append("d")
        assert built.vms[1].data_disks == []


# -- round trips over random operations -------------------------------------------------

JOB_OPS = st.one_of(
    st.tuples(st.just("job"), st.integers(0, 50), st.sampled_from(["stop_vm", "start_vm", "missing"])),
    st.tuples(st.just("timed_job"), st.floats(0, 100, allow_nan=False), st.booleans()),
    st.tuples(st.just("tick"), st.sampled_from([0.5, 1, 30])),
    st.tuples(st.just("dialect"), st.text(max_size=5), st.integers(-5, 5)),
)


def apply_any(cloud: Cloud, op) -> None:
    kind = op[0]
    vms = cloud.vms.values()
    if kind == "job":  # a job that succeeds (its result a VM) or fails (its error a dict)
        if vms:
            missing = lambda vm: cloud.vms.get("no such vm")  # noqa: E731
            cloud.submit(f"vm.{op[2]}", getattr(cloud, op[2], missing), vms[op[1] % len(vms)])
    elif kind == "timed_job":
        cloud.timed_job("image.build", op[1], result={"ok": op[2], "sizes": [1, 2.5]} if op[2] else None)
    elif kind == "tick":
        cloud.tick(op[1])
    elif kind == "dialect":
        cloud.dialect_state("t").setdefault("seen", {})[op[1]] = [op[2], {"n": op[2] / 2}]
    else:
        apply_new(cloud, op)


@SETTINGS
@given(topologies(), st.lists(st.one_of(OPS, NEW_OPS, JOB_OPS), max_size=30))
def test_snapshot_json_restore_snapshot_is_a_fixed_point(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in PRELUDE + ops:
        apply_any(cloud, op)
    text, restored = round_trip(cloud)
    assert json.dumps(restored.snapshot()) == text
    assert restored.snapshot() == json.loads(text)
    restored.check_invariants()
    # written in the old format, it restores to the same cloud too
    old = json.loads(json.dumps(Cloud.snapshot_version_1(json.loads(text))))
    assert json.dumps(Cloud.restore(old).snapshot()) == text
    # the same cloud, snapshotted again: the same bytes (deterministic, nothing consumed)
    assert json.dumps(cloud.snapshot()) == text
    # and the restored cloud goes on as the original does
    for op in ops[:5]:
        apply_any(cloud, op)
        apply_any(restored, op)
    assert json.dumps(restored.snapshot()) == json.dumps(cloud.snapshot())


@SETTINGS
@given(backup_props.topologies(), st.lists(backup_props.OPS, max_size=20))
def test_a_backup_heavy_cloud_round_trips_as_a_fixed_point(topology, ops):
    cloud = Cloud(topology, clock=ManualClock())
    for op in backup_props.PRELUDE + ops:
        backup_props.apply(cloud, op)
        cloud.tick(1)
    text, restored = round_trip(cloud)
    assert json.dumps(restored.snapshot()) == text
    restored.check_invariants()


# -- the table codec --------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    uuid: str
    size: float
    count: int = 0
    flag: bool = False
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    extra: dict[str, Any] | None = None


LAYOUT = tables.Layout.of_dataclass(Row)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False))
ROWS = st.builds(
    Row,
    uuid=st.sampled_from(["a", "b"]),
    size=st.one_of(st.sampled_from([0.0, 1.0, 0, 1, True]), st.floats(allow_nan=False, allow_infinity=False)),
    count=st.sampled_from([0, 1, 0.0, False, 2]),
    flag=st.sampled_from([False, True, 0]),
    note=st.one_of(st.none(), st.sampled_from(["", "x", "None"])),
    tags=st.lists(st.sampled_from(["t", "u"]), max_size=2),
    extra=st.one_of(st.none(), st.dictionaries(st.sampled_from(["k", "l"]), SCALARS, max_size=2)),
)


def exact(value: Any) -> Any:
    """``value`` with the type of every number kept (so that 1, 1.0 and True differ)."""
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact(v) for v in value]
    return (type(value).__name__, repr(value))


@SETTINGS
@given(st.lists(ROWS, max_size=40))
def test_a_table_through_json_gives_back_the_records_value_and_type(rows):
    text = json.dumps(tables.encode(rows, LAYOUT))
    back = tables.decode(json.loads(text), LAYOUT, Row, "rows")
    assert exact([LAYOUT.row(r) for r in back]) == exact([LAYOUT.row(r) for r in rows])
    assert json.dumps(tables.encode(back, LAYOUT)) == text
    as_dicts = [dict(zip(LAYOUT.fields, LAYOUT.row(r))) for r in rows]
    assert exact(tables.records(json.loads(text), LAYOUT, "rows")) == exact(as_dicts)
    # a table shares no list or dict with its records, nor records made from a table with it
    _scribble(tables.encode(rows, LAYOUT))
    assert json.dumps(tables.encode(rows, LAYOUT)) == text
    table = json.loads(text)
    for r in tables.decode(table, LAYOUT, Row, "rows"):
        r.tags.append("new")
        if r.extra is not None:
            r.extra["new"] = 1
    assert json.dumps(table) == text


def test_equal_values_that_json_writes_apart_are_not_shared():
    rows = [Row("a", 1.0, 1, True, extra={"k": 1}), Row("a", 1, True, 1, extra={"k": True})]
    table = json.loads(json.dumps(tables.encode(rows, LAYOUT)))
    assert table["columns"] == {
        "size": [1.0, 1],
        "count": [1, True],
        "flag": [True, 1],
        "extra": [{"k": 1}, {"k": True}],
    }
    back = tables.decode(table, LAYOUT, Row, "rows")
    assert exact([LAYOUT.row(r) for r in back]) == exact([LAYOUT.row(r) for r in rows])
    rows = [Row("a", 0.0), Row("a", -0.0)]
    assert tables.encode(rows, LAYOUT)["columns"] == {"size": [0.0, -0.0]}
    assert tables.encode([Row("a", -0.0)], LAYOUT)["same"] == {"uuid": "a", "size": -0.0}


def test_a_field_at_its_default_everywhere_is_left_out_and_one_shared_is_kept_once():
    rows = [Row("a", 2.5, tags=["t"]), Row("b", 2.5, tags=["t"], count=0.0)]
    assert tables.encode(rows, LAYOUT) == {
        "count": 2,
        "columns": {"uuid": ["a", "b"], "count": [0, 0.0]},
        "same": {"size": 2.5, "tags": ["t"]},
    }
    back = tables.decode(tables.encode(rows, LAYOUT), LAYOUT, Row, "rows")
    back[0].tags.append("u")
    assert back[1].tags == ["t"] and rows[0].tags == ["t"]


def test_a_big_cloud_snapshot_is_small():
    cloud = Cloud(scale(20, 2000), clock=ManualClock())
    size = len(json.dumps(cloud.snapshot()))
    records = sum(len(getattr(cloud, kind)) for kind, _ in COLLECTIONS)
    assert size < 200 * records  # version 1: ~600 bytes a record
    text, restored = round_trip(cloud)
    assert json.dumps(restored.snapshot()) == text
