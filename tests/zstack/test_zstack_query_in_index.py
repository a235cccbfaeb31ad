"""``q=uuid?=a,b`` and ``q=name?=a,b`` pick their VMs from the collection's own uuid and
name indexes (no scan of every VM), and answer exactly what filtering a scan answers: the
same VMs, in the collection's order, through renames, removals and undone removals."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zstack_support import auth, cloud_client

from fakestack.model.collection import Collection
from fakestack.model.errors import DomainError

NAMES = ["a", "b", "c", "a-1", "B"]


def _query(client, session, *q: str, **params) -> list[dict]:
    query = [("q", c) for c in q] + list(params.items())
    response = client.get("/zstack/v1/vm-instances", query_string=query, headers=auth(session))
    assert response.status_code == 200, response.text
    return response.get_json()["inventories"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    clones=st.lists(st.sampled_from(NAMES), min_size=1, max_size=8),
    renames=st.lists(st.tuples(st.integers(0, 7), st.sampled_from(NAMES)), max_size=3),
    failed_expunges=st.lists(st.integers(0, 7), max_size=2),
    wanted=st.lists(st.sampled_from([*NAMES, "nobody"]), min_size=1, max_size=3),
    pick=st.lists(st.integers(0, 7), min_size=1, max_size=3),
)
def test_in_on_name_and_uuid_equals_a_scan(clones, renames, failed_expunges, wanted, pick):
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden")
    made = [e.vm for e in cloud.clone_vm(golden, clones).entries if e.vm is not None]
    for i, name in renames:
        cloud.update_vm(made[i % len(made)], name=name)
    for i in failed_expunges:
        # a removal undone by its operation's rollback: the VM keeps its place
        vm = made[i % len(made)]
        try:
            with cloud.atomic():
                cloud.destroy_vm(vm)
                cloud.expunge_vm(vm)
                raise DomainError("roll back")
        except DomainError:
            pass
    names = ",".join(wanted)
    expected = [vm.uuid for vm in cloud.vms if vm.name in set(wanted)]
    assert [r["uuid"] for r in _query(client, session, f"name?={names}")] == expected

    uuids = [made[i % len(made)].uuid for i in pick]
    expected = [vm.uuid for vm in cloud.vms if vm.uuid in set(uuids)]
    assert [r["uuid"] for r in _query(client, session, "uuid?=" + ",".join(uuids))] == expected
    # with a second condition and a page
    expected = [vm.uuid for vm in cloud.vms if vm.uuid in set(uuids) and vm.state == "Running"][1:3]
    got = _query(client, session, "uuid?=" + ",".join(uuids), "state=Running", limit="2", start="1")
    assert [r["uuid"] for r in got] == expected


def test_in_on_name_does_not_scan_the_vms(monkeypatch):
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden")
    cloud.clone_vm(golden, ["x1", "x2", "x3", "x1"])
    expected = [vm.uuid for vm in cloud.vms if vm.name in ("x1", "x3")]

    def no_scan(self):
        raise AssertionError(f"{self.kind}: a scan of every entity")

    for method in ("__iter__", "values", "view"):
        monkeypatch.setattr(Collection, method, no_scan)
    assert [r["uuid"] for r in _query(client, session, "name?=x1,x3,nobody")] == expected
    assert [r["uuid"] for r in _query(client, session, f"uuid?={expected[1]},{expected[0]}")] == expected[:2]


@pytest.mark.parametrize("q", ["name?=", "uuid?=,", "name?=golden,golden"])
def test_in_with_empty_or_repeated_values(q):
    cloud, client, session = cloud_client("demo")
    expected = [vm.uuid for vm in cloud.vms if vm.name == "golden"] if "golden" in q else []
    assert [r["uuid"] for r in _query(client, session, q)] == expected


@pytest.mark.parametrize("field", ["uuid", "name", "state"])
@pytest.mark.parametrize("value", [[{}], [[1]], [1, None], ["golden", {}]])
def test_legacy_in_with_values_that_are_not_texts(field, value):
    # a legacy message may list any JSON value: what is not a text matches no uuid, name
    # or state (it was SYS.1000 on uuid and name: a set of unhashable values)
    cloud, client, session = cloud_client("demo")
    message = {"session": {"uuid": session}, "conditions": [{"name": field, "op": "in", "value": value}]}
    response = client.post("/zstack/api/", json={"org.zstack.header.vm.APIQueryVmInstanceMsg": message})
    assert response.status_code == 200
    result = response.get_json()  # a query is answered at once
    assert result["state"] == "Done"
    reply = json.loads(result["result"])["org.zstack.header.vm.APIQueryVmInstanceReply"]
    assert reply["success"] is True
    expected = ["golden"] if field == "name" and "golden" in value else []
    assert [inventory["name"] for inventory in reply["inventories"]] == expected
