"""InstaVM's VM lists through HTTP (issue 18): after any sequence of creations, kills,
clones, suspensions, resumes, expiries, model-side destroys and recoveries and cloud
restores, ``GET /v1/vms/`` answers every record in (created_at, vm_id) order and
``GET /v1/vms`` the live ones among them, as sorting the whole history does; and a list
reads the records it may answer with, not the killed ones history holds."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instavm_support import InstaVM

from fakestack import DomainError
from fakestack.dialects.instavm.render import vm_record
from fakestack.dialects.instavm.service import InstaVMService
from fakestack.dialects.instavm.service import records as records_module

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.booleans(), st.sampled_from([None, 30, 60])),
        st.tuples(st.just("kill"), st.integers(0, 50)),
        st.tuples(st.just("clone"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("suspend"), st.integers(0, 50)),
        st.tuples(st.just("resume"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 30.0, 61.0])),
        st.tuples(st.just("model_destroy"), st.integers(0, 50)),
        st.tuples(st.just("model_recover"), st.integers(0, 50)),
        st.tuples(st.just("restore")),
        st.tuples(st.just("list")),
    ),
    max_size=25,
)


def wanted_lists(fake: InstaVM) -> tuple[list, list]:
    """Every record rendered, sorted from scratch; the live ones among them."""
    service = InstaVMService(fake.cloud)
    everything = sorted(service.vms.values(), key=lambda r: (r["created_at"], r["vm_id"]))
    rendered = [(vm_record(r, service.status(r), service.sizing(r)), service.status(r)) for r in everything]
    return [r for r, _ in rendered], [r for r, status in rendered if status in ("creating", "active")]


def assert_lists_as_a_full_sort(fake: InstaVM) -> None:
    listed_all = fake.ok(fake.get("/v1/vms/"))
    listed_live = fake.ok(fake.get("/v1/vms"))
    every, live = wanted_lists(fake)  # the requests settled: the state is as they saw it
    assert listed_all == json.loads(json.dumps(every))
    assert listed_live == json.loads(json.dumps(live))


def _pick(fake: InstaVM, index: int) -> str | None:
    ids = list(fake.cloud.dialect_state("instavm").get("vms", {}))
    return ids[index % len(ids)] if ids else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_the_vm_lists_answer_as_a_sort_of_every_record(ops):
    fake = InstaVM()
    fake.ok(fake.get("/v1/vms"))  # adopt the topology's VMs
    for op in ops:
        kind = op[0]
        vm_id = _pick(fake, op[1]) if len(op) > 1 and isinstance(op[1], int) else None
        if kind == "create":
            body = {} if op[2] is None else {"vm_lifetime_seconds": op[2]}
            fake.post(f"/v1/vms?wait={str(op[1]).lower()}", body)
        elif kind == "kill" and vm_id:
            fake.delete(f"/v1/vms/{vm_id}")
        elif kind == "clone" and vm_id:
            fake.clone(vm_id, wait=op[2])
        elif kind == "suspend" and vm_id:
            fake.post(f"/v1/vms/{vm_id}/suspend")
        elif kind == "resume" and vm_id:
            fake.post(f"/v1/vms/{vm_id}/resume?wait={str(op[2]).lower()}")
        elif kind == "advance":
            fake.cloud.clock.advance(op[1])
        elif kind in ("model_destroy", "model_recover") and vm_id:
            uuid = fake.cloud.dialect_state("instavm")["vms"][vm_id]["uuid"]
            if uuid and fake.cloud.vms.by_uuid(uuid) is not None:
                try:
                    (fake.cloud.destroy_vm if kind == "model_destroy" else fake.cloud.recover_vm)(uuid)
                except DomainError:
                    pass
        elif kind == "restore":
            fake.cloud.load_snapshot(json.loads(json.dumps(fake.cloud.snapshot())))
        elif kind == "list":
            assert_lists_as_a_full_sort(fake)
    assert_lists_as_a_full_sort(fake)


def test_a_live_list_reads_the_live_records_not_the_killed_ones(monkeypatch):
    fake = InstaVM()
    made = []
    for _ in range(10):  # one at a time: the tiny cloud has room for few
        made.append(fake.create_vm()["vm_id"])
        fake.ok(fake.delete(f"/v1/vms/{made[-1]}"))
    made += [fake.create_vm()["vm_id"] for _ in range(2)]
    fake.ok(fake.get("/v1/vms"))  # files what changed
    asked: list[str] = []
    status = records_module.Records.status

    def counting(self, rec):
        asked.append(rec["vm_id"])
        return status(self, rec)

    monkeypatch.setattr(records_module.Records, "status", counting)
    listed = fake.ok(fake.get("/v1/vms"))
    assert made[10] in [vm["vm_id"] for vm in listed] and made[11] in [vm["vm_id"] for vm in listed]
    assert not set(asked) & set(made[:10])  # the killed records were not even looked at
    assert len(fake.ok(fake.get("/v1/vms/"))) >= 12  # they are all in the full list
