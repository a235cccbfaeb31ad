"""The built-in presets are constructed without pydantic's validation
(``fakestack.model.trusted_topology``): what comes out must be what validating the same
document gives, value for value, type for type, and in the snapshot's JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakestack import strategies as fs
from fakestack.model import presets
from fakestack.model.topology import Topology, parse_topology
from fakestack.model.trusted_topology import construct

BUILT_IN = ("demo", "tiny", "shared")


def _differences(made, validated, path: str = "topology") -> list[str]:
    """Where two values differ in type, value or the fields a model was given."""
    if type(made) is not type(validated):
        return [f"{path}: {type(made).__name__} != {type(validated).__name__}"]
    if isinstance(made, list):
        if len(made) != len(validated):
            return [f"{path}: {len(made)} items != {len(validated)}"]
        return [
            d for i, (a, b) in enumerate(zip(made, validated)) for d in _differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(made, dict):
        if list(made) != list(validated):
            return [f"{path}: keys {list(made)} != {list(validated)}"]
        return [d for k in made for d in _differences(made[k], validated[k], f"{path}.{k}")]
    if hasattr(type(made), "model_fields"):
        found = []
        if made.model_fields_set != validated.model_fields_set:
            found.append(
                f"{path}: given {sorted(made.model_fields_set)} != {sorted(validated.model_fields_set)}"
            )
        for name in type(made).model_fields:
            found += _differences(getattr(made, name), getattr(validated, name), f"{path}.{name}")
        return found
    return [] if made == validated else [f"{path}: {made!r} != {validated!r}"]


def _dump(topology: Topology) -> str:
    return json.dumps(topology.model_dump(mode="json"))


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_preset_is_what_validating_its_document_gives(name):
    validated = parse_topology(presets.document(name))
    # constructed (a fresh process: serve), and as presets() gives it (here, the
    # validator exists: validated)
    for made in (construct(Topology, presets.document(name)), presets.preset(name)):
        assert _differences(made, validated) == []
        assert made == validated
        assert _dump(made) == _dump(validated)


def test_a_fresh_process_constructs_the_preset_and_builds_no_validator():
    code = (
        "import sys\n"
        "from fakestack.model.presets import demo\n"
        "from fakestack.model.topology import Topology\n"
        "topology = demo()\n"
        "assert not Topology.__pydantic_complete__\n"
        "assert 'pydantic.plugin._loader' not in sys.modules\n"
        "print(topology.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "demo"), done.stderr


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_preset_shares_nothing_with_its_document_or_another_copy(name):
    first = construct(Topology, presets._document(name))
    first.zones[0].name = "changed"
    first.primary_storages[0].clusters.append("changed")
    first.images[0].backup_storages.append("changed")
    first.settings.job_durations["vm.clone"] = 5.0
    second = construct(Topology, presets._document(name))
    assert _dump(second) == _dump(parse_topology(presets.document(name)))


def test_an_l3_network_without_a_gateway_gets_the_first_address_as_validating_does():
    made = construct(Topology, presets.document("tiny"))
    assert made.l3_networks[0].gateway == "192.168.10.1"


_UNITS = {"G": 1024**3, "M": 1024**2}


def _size_text(draw, value: int):
    """``value`` as given, or spelled with a unit when it is a whole number of them."""
    for unit, size in _UNITS.items():
        if value and value % size == 0 and draw(st.booleans()):
            return f"{value // size}{unit}"
    return value


@st.composite
def documents(draw) -> dict:
    """Valid topology documents, written every way a file may write them: sizes with
    units, whole floats as integers, optional sizes and nested settings given or not."""
    document = draw(fs.topologies(tight=draw(st.booleans())))
    for host in document["hosts"]:
        host["memory"] = _size_text(draw, host["memory"])
        if draw(st.booleans()):
            host["cpu_overprovisioning_ratio"] = int(host["cpu_overprovisioning_ratio"])
    for ps in document["primary_storages"]:
        ps["physical_capacity"] = _size_text(draw, ps["physical_capacity"])
        ps["type"] = draw(st.sampled_from(["NFS", "network_share", "local", "LocalStorage"]))
        if draw(st.booleans()):
            ps["overprovisioning_ratio"] = int(ps["overprovisioning_ratio"])
    for image in document["images"]:
        image["virtual_size"] = _size_text(draw, image["virtual_size"])
        image["media_type"] = draw(st.sampled_from(["root_template", "RootVolumeTemplate", "iso"]))
    if draw(st.booleans()):
        document["l3_networks"][0]["gateway"] = "192.168.10.254"
    if draw(st.booleans()):
        document["instance_offerings"][0]["allocator_strategy"] = "MinimumCPUUsageHostAllocatorStrategy"
    if draw(st.booleans()):
        document["settings"] = {
            "new_leaf_size": _size_text(draw, 2 * 1024**2),
            "job_durations": {"vm.clone": draw(st.sampled_from([0, 3, 2.5]))},
            "image_catalogue": [
                {"url": "http://images/a.qcow2", "virtual_size": "8G", "actual_size": 1024**3},
                {
                    "url": "http://images/b.iso",
                    "virtual_size": "1G",
                    "actual_size": "1G",
                    "download_seconds": 2,
                },
            ][: draw(st.integers(0, 2))],
            "default_download_size": draw(st.sampled_from([None, "4G", 1024])),
        }
    return document


@settings(max_examples=80, deadline=None)
@given(document=documents())
def test_constructing_any_valid_document_gives_what_validating_it_gives(document):
    validated = parse_topology(json.loads(json.dumps(document)))
    made = construct(Topology, json.loads(json.dumps(document)))
    assert _differences(made, validated) == []
    assert _dump(made) == _dump(validated)
