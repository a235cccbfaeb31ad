"""Sorting QueryVmInstance on a text field orders by the texts themselves when no value is
null or ends as a date may (entity_query's C path); otherwise by ``_sort_key``.  A world
whose names include dates, ``am``/``PM`` endings and plain texts; the answer must be the
render-then-filter path's (test_zstack_query_equivalence.reference)."""

from __future__ import annotations

from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_zstack_query_equivalence import _parsed_back, _rest_params, reference
from zstack_support import auth, cloud_client

from fakestack.dialects.zstack.query import Condition, QuerySpec
from fakestack.dialects.zstack.render import VM_FIELDS

NAMES = [
    "web-1",
    "Jan 2, 2026 1:00:00 PM",
    "Dec 31, 2025 11:59:59 PM",
    "spam",
    "PROGRAM",
    "Jan 1, 2026 12:00:00 AM",
    "alpha",
    "Zeta",
    "10",
    "9",
    "web-1",
]


@lru_cache(maxsize=1)
def _world():
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden")
    cloud.clone_vm(golden, NAMES)
    cloud.stop_vm(cloud.vms.by_name("spam")[0])
    cloud.stop_vm(cloud.vms.by_name("10")[0])
    return cloud, client, session


TEXT_FIELDS = sorted(name for name, field in VM_FIELDS.items() if field.kind is str)


@st.composite
def specs(draw):
    conditions = []
    if draw(st.booleans()):
        conditions.append(Condition("state", "=", draw(st.sampled_from(["Running", "Stopped"]))))
    if draw(st.booleans()):
        conditions.append(
            Condition(
                "name",
                "in",
                ",".join(draw(st.lists(st.sampled_from(NAMES + ["golden"]), min_size=1, max_size=4))),
            )
        )
    spec = QuerySpec(conditions=conditions)
    spec.sort_by = draw(st.sampled_from(TEXT_FIELDS))
    spec.sort_direction = draw(st.sampled_from(["asc", "desc"]))
    spec.limit = draw(st.sampled_from([1000, 1, 2, 3, 5, -1]))
    spec.start = draw(st.sampled_from([0, 1, 2, 4]))
    spec.reply_with_count = draw(st.booleans())
    return spec


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_a_sorted_vm_query_answers_as_the_render_then_filter_path(spec):
    cloud, client, session = _world()
    response = client.get("/zstack/v1/vm-instances", query_string=_rest_params(spec), headers=auth(session))
    wanted = reference(cloud, _parsed_back(spec))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == wanted, spec


def test_dates_among_the_names_sort_as_dates():
    cloud, client, session = _world()
    response = client.get(
        "/zstack/v1/vm-instances", query_string=[("sort", "+name"), ("limit", "100")], headers=auth(session)
    )
    names = [vm["name"] for vm in response.get_json()["inventories"]]
    # the three dates come before every text (dates sort as numbers, before texts)
    assert names[:3] == ["Dec 31, 2025 11:59:59 PM", "Jan 1, 2026 12:00:00 AM", "Jan 2, 2026 1:00:00 PM"]
