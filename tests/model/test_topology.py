import json
from pathlib import Path

import pytest
import yaml
from model_helpers import GiB, small_topology

from fakestack import Cloud, TopologyError, load_topology
from fakestack.model.kinds import BackupStorageKind, ImageKind, PrimaryStorageKind
from fakestack.model.presets import scale


def test_demo_preset_has_the_promised_shape():
    cloud = Cloud()
    assert [z.name for z in cloud.zones] == ["zone-1"]
    assert [c.name for c in cloud.clusters] == ["cluster-local", "cluster-shared"]
    assert [(h.name, h.cpu_num, h.total_memory // GiB) for h in cloud.hosts] == [
        ("host-1", 32, 128),
        ("host-2", 16, 64),
        ("host-3", 64, 256),
        ("host-4", 8, 32),
    ]
    assert [(p.name, p.type) for p in cloud.primary_storages] == [
        ("local-ps", PrimaryStorageKind.LOCAL),
        ("nfs-ps", PrimaryStorageKind.NETWORK_SHARE),
    ]
    assert [b.type for b in cloud.backup_storages] == [BackupStorageKind.BACKUP_STORE]
    assert len(cloud.images) == 2
    golden = cloud.vms.get("golden")
    assert golden.state == "Running"
    assert cloud.hosts.get(golden.host_uuid).name == "host-3"
    assert len(golden.data_volume_uuids) == 1


def test_tiny_preset_is_one_host():
    cloud = Cloud("tiny")
    assert len(cloud.hosts) == 1
    assert cloud.vms.get("golden").state == "Running"


def test_scale_generator_places_every_vm():
    cloud = Cloud(scale(50, 200))
    assert len(cloud.hosts) == 50
    assert sum(1 for vm in cloud.vms if vm.state == "Running") == 200
    cloud.check_invariants()


def test_topology_from_yaml_and_json_files(tmp_path):
    data = small_topology()
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "t.json").write_text(json.dumps(data))
    for name in ("t.yaml", "t.json"):
        cloud = Cloud(str(tmp_path / name))
        assert cloud.hosts.get("h1").total_memory == 32 * GiB


def test_sizes_accept_units():
    topo = load_topology(
        small_topology(hosts=[{"name": "h1", "cluster": "c", "cpu_num": 1, "memory": "1.5G"}])
    )
    assert topo.hosts[0].memory == int(1.5 * GiB)


@pytest.mark.parametrize(
    "change, field, reason",
    [
        (
            {"hosts": [{"name": "h1", "cluster": "nope", "cpu_num": 1, "memory": "1G"}]},
            "hosts[0].cluster",
            "unknown cluster 'nope'",
        ),
        (
            {"hosts": [{"name": "h1", "cluster": "c", "cpu_num": 0, "memory": "1G"}]},
            "hosts[0].cpu_num",
            "greater than 0",
        ),
        (
            {"hosts": [{"name": "h1", "cluster": "c", "cpu_num": 1, "memory": "lots"}]},
            "hosts[0].memory",
            "cannot read 'lots' as a size",
        ),
        (
            {
                "images": [
                    {"name": "img", "backup_storages": ["bs"], "virtual_size": "1G", "actual_size": "2G"}
                ]
            },
            "images[0]",
            "actual_size (2147483648) is larger than virtual_size (1073741824)",
        ),
        (
            {"l3_networks": [{"name": "net", "zone": "z", "cidr": "10.0.0.0/24", "gateway": "10.1.0.1"}]},
            "l3_networks[0]",
            "gateway 10.1.0.1 is outside cidr 10.0.0.0/24",
        ),
        (
            {"vms": [{"name": "v", "instance_offering": "o1", "image": "missing"}]},
            "vms[0].image",
            "unknown image 'missing'",
        ),
        (
            {
                "primary_storages": [
                    {"name": "ps", "type": "Floppy", "clusters": ["c"], "total_capacity": "1G"}
                ]
            },
            "primary_storages[0].type",
            "Input should be",
        ),
    ],
)
def test_bad_topologies_name_the_field_and_reason(change, field, reason):
    with pytest.raises(TopologyError) as info:
        load_topology(small_topology(**change))
    matches = [r for f, r in info.value.errors if f == field]
    assert matches, info.value.errors
    assert reason in matches[0]
    assert field in str(info.value)


def test_unknown_preset_or_missing_file():
    with pytest.raises(TopologyError) as info:
        Cloud("no-such-topology")
    assert "neither a preset" in str(info.value)


# -- storage and image kinds: neutral in the model, old spellings still read ---------------
OLD_AND_NEW = [
    ("primary_storages", "type", "LocalStorage", "local", PrimaryStorageKind.LOCAL),
    ("primary_storages", "type", "NFS", "network_share", PrimaryStorageKind.NETWORK_SHARE),
    ("primary_storages", "type", "SharedMountPoint", "shared_mount", PrimaryStorageKind.SHARED_MOUNT),
    ("primary_storages", "type", "Ceph", "distributed", PrimaryStorageKind.DISTRIBUTED),
    ("primary_storages", "type", "SharedBlock", "shared_block", PrimaryStorageKind.SHARED_BLOCK),
    ("backup_storages", "type", "ImageStoreBackupStorage", "backup_store", BackupStorageKind.BACKUP_STORE),
    ("backup_storages", "type", "SftpBackupStorage", "file_server", BackupStorageKind.FILE_SERVER),
    ("backup_storages", "type", "CephBackupStorage", "distributed", BackupStorageKind.DISTRIBUTED),
    ("images", "media_type", "RootVolumeTemplate", "root_template", ImageKind.ROOT_TEMPLATE),
    ("images", "media_type", "DataVolumeTemplate", "data_template", ImageKind.DATA_TEMPLATE),
    ("images", "media_type", "ISO", "iso", ImageKind.ISO),
]


@pytest.mark.parametrize("section, field, old, new, kind", OLD_AND_NEW)
def test_kinds_read_in_the_old_spelling_or_the_neutral_one(section, field, old, new, kind):
    for spelling in (old, new):
        data = small_topology()
        data[section][0][field] = spelling
        topo = load_topology(data)
        assert getattr(getattr(topo, section)[0], field) is kind
        assert topo.model_dump(mode="json")[section][0][field] == new
        cloud = Cloud(topo)
        entity = getattr(cloud, section).get(data[section][0]["name"])
        assert getattr(entity, field) is kind
        assert Cloud.snapshot_records(json.loads(json.dumps(cloud.snapshot())), section)[0][field] == new


def test_kinds_print_as_their_neutral_value():
    shown = str(PrimaryStorageKind.LOCAL), f"{ImageKind.ISO:>5}", json.dumps([BackupStorageKind.BACKUP_STORE])
    assert shown == ("local", "  iso", '["backup_store"]')
    assert {"local": 1}[PrimaryStorageKind.LOCAL] == 1 and PrimaryStorageKind.LOCAL == "local"


def test_an_old_snapshot_with_old_spellings_restores_to_neutral_kinds():
    cloud = Cloud("demo")
    # a snapshot of the same cloud in the format of the time (version 1, see
    # snapshots_v1/README.md), with what a snapshot taken before the kinds went neutral held
    old = {
        "local": "LocalStorage",
        "network_share": "NFS",
        "backup_store": "ImageStoreBackupStorage",
        "root_template": "RootVolumeTemplate",
    }
    data = json.loads((Path(__file__).parent / "snapshots_v1" / "demo.json").read_text())
    kinds = (("primary_storages", "type"), ("backup_storages", "type"), ("images", "media_type"))
    for section, field in kinds:
        for item in data[section] + data["topology"][section]:
            item[field] = old[item[field]]
    restored = Cloud.restore(data)
    assert [p.type for p in restored.primary_storages] == [
        PrimaryStorageKind.LOCAL,
        PrimaryStorageKind.NETWORK_SHARE,
    ]
    assert [b.type for b in restored.backup_storages] == [BackupStorageKind.BACKUP_STORE]
    assert {i.media_type for i in restored.images} == {ImageKind.ROOT_TEMPLATE}
    assert all(type(i.media_type) is ImageKind for i in restored.images)
    assert restored.snapshot() == cloud.snapshot()
    restored.check_invariants()


def test_an_unknown_kind_is_refused_naming_the_neutral_values():
    data = small_topology()
    data["images"][0]["media_type"] = "Floppy"
    with pytest.raises(TopologyError) as info:
        load_topology(data)
    [(field, reason)] = info.value.errors
    assert field == "images[0].media_type"
    assert "'root_template', 'data_template' or 'iso'" in reason


def test_the_placement_strategies_are_the_ones_a_topology_may_name():
    from fakestack.model.placement import STRATEGIES
    from fakestack.model.topology import ALLOCATOR_STRATEGIES

    assert STRATEGIES == ALLOCATOR_STRATEGIES
