"""A topology's VMs built in bulk (fakestack/model/bulk.py) make the same cloud as one
create_vm each: equal snapshots, for the presets and for topologies with every kind of VM."""

from __future__ import annotations

import pytest

from fakestack import Cloud, ManualClock
from fakestack.model import bulk
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
