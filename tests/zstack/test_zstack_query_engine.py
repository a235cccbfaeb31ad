"""The query language (§3) over plain inventory dicts, and REST query-parameter parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from fakestack.dialects.zstack.errors import ApiError, TransportError
from fakestack.dialects.zstack.query import (
    Condition,
    QuerySource,
    QuerySpec,
    parse_legacy_condition,
    parse_rest_condition,
    run_query,
    schema_for,
    spec_from_legacy,
    spec_from_rest,
)

NIC = QuerySource("org.zstack.header.vm.VmNicInventory", fields=("uuid", "ip", "vmInstanceUuid"))
HOST = QuerySource("org.zstack.header.host.HostInventory", fields=("uuid", "managementIp"))
HOSTS = [{"uuid": "h1", "managementIp": "10.0.0.1"}, {"uuid": "h2", "managementIp": "10.0.0.2"}]
VM = QuerySource(
    "org.zstack.header.vm.VmInstanceInventory",
    fields=("uuid", "name", "state", "cpuNum", "memorySize", "hostUuid", "createDate", "vmNics"),
    nested={"vmNics": NIC},
    joins={"host": (HOST, lambda r: [h for h in HOSTS if h["uuid"] == r.get("hostUuid")])},
    tags=lambda r, kind: {"__systemTag__": {"v1": ["ha::NeverStop"]}}.get(kind, {}).get(r["uuid"], []),
)
VMS = [
    {
        "uuid": "v1",
        "name": "web-1",
        "state": "Running",
        "cpuNum": 4,
        "memorySize": 8589934592,
        "hostUuid": "h1",
        "createDate": "Jan 1, 2026 12:00:00 AM",
        "vmNics": [{"uuid": "n1", "ip": "192.168.0.10", "vmInstanceUuid": "v1"}],
    },
    {
        "uuid": "v2",
        "name": "web-2",
        "state": "Stopped",
        "cpuNum": 2,
        "memorySize": 4294967296,
        "createDate": "Jan 2, 2026 12:00:00 AM",
        "vmNics": [],
    },
    {
        "uuid": "v3",
        "name": "db_1",
        "state": "Running",
        "cpuNum": 8,
        "memorySize": 17179869184,
        "hostUuid": "h2",
        "createDate": "Jan 3, 2026 1:30:00 PM",
        "vmNics": [{"uuid": "n3", "ip": "192.168.0.30", "vmInstanceUuid": "v3"}],
    },
]


def names(q: str, **spec) -> list[str]:
    query = QuerySpec(conditions=[parse_rest_condition(part) for part in q.split("&") if part], **spec)
    return [r["name"] for r in run_query(VMS, query, VM)["inventories"]]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("state=Running", ["web-1", "db_1"]),
        ("state!=Running", ["web-2"]),
        ("cpuNum>2", ["web-1", "db_1"]),
        ("cpuNum>=4", ["web-1", "db_1"]),
        ("cpuNum<4", ["web-2"]),
        ("cpuNum<=4", ["web-1", "web-2"]),
        ("name?=web-1,db_1", ["web-1", "db_1"]),
        ("name!?=web-1,db_1", ["web-2"]),
        ("name~=web%", ["web-1", "web-2"]),
        ("name~=db_1", ["db_1"]),
        ("name~=db\\_%", ["db_1"]),
        ("name~=web\\_%", []),
        ("name!~=web%", ["db_1"]),
        ("hostUuid is null", ["web-2"]),
        ("hostUuid not null", ["web-1", "db_1"]),
        ("hostUuid!=h1", ["db_1"]),  # SQL: NULL != 'h1' is not true
        ("vmNics.ip=192.168.0.30", ["db_1"]),
        ("vmNics.ip~=192.168.0.%", ["web-1", "db_1"]),
        ("host.managementIp=10.0.0.1", ["web-1"]),
        ("__systemTag__=ha::NeverStop", ["web-1"]),
        ("state=Running&cpuNum>4", ["db_1"]),
        ("createDate>Jan 2, 2026 12:00:00 AM", ["db_1"]),
        ("createDate>=2026-01-02 00:00:00", ["web-2", "db_1"]),
        ("memorySize=8589934592", ["web-1"]),
    ],
)
def test_every_operator(q, expected):
    assert names(q) == expected


def test_operator_precedence_follows_the_server_order():
    assert parse_rest_condition("a!=b") == Condition("a", "!=", "b")
    assert parse_rest_condition("a>=b") == Condition("a", ">=", "b")
    assert parse_rest_condition("a!?=b,c") == Condition("a", "not in", "b,c")
    assert parse_rest_condition("a!~=%b") == Condition("a", "not like", "%b")
    assert parse_rest_condition("name=a=b") == Condition("name", "=", "a=b")
    assert parse_rest_condition("x is null") == Condition("x", "is null")
    assert parse_rest_condition("x not null") == Condition("x", "is not null")
    with pytest.raises(TransportError) as info:
        parse_rest_condition("nooperator")
    assert info.value.status == 400


def test_unknown_field_is_sys_1000_naming_the_inventory_class():
    for q in ("colour=red", "vmNics.mac=x", "host.nothing=1"):
        with pytest.raises(ApiError) as info:
            names(q)
        assert info.value.error.code == "SYS.1000"
    with pytest.raises(ApiError) as info:
        names("colour=red")
    assert (
        info.value.error.details
        == "inventory class[org.zstack.header.vm.VmInstanceInventory] has no field[colour]"
    )


def test_paging_sorting_counting_and_fields():
    assert names("", limit=1, start=1) == ["web-2"]
    assert names("", sort_by="cpuNum", sort_direction="desc") == ["db_1", "web-1", "web-2"]
    assert names("", sort_by="hostUuid") == ["web-2", "web-1", "db_1"]  # NULL first when ascending
    counted = run_query(VMS, QuerySpec(count=True, conditions=[parse_rest_condition("state=Running")]), VM)
    assert counted == {"total": 2}
    both = run_query(VMS, QuerySpec(reply_with_count=True, limit=1), VM)
    assert both["total"] == 3 and len(both["inventories"]) == 1
    picked = run_query(VMS, QuerySpec(fields=["uuid", "hostUuid"]), VM)["inventories"]
    assert picked == [{"uuid": "v1", "hostUuid": "h1"}, {"uuid": "v2"}, {"uuid": "v3", "hostUuid": "h2"}]
    with pytest.raises(ApiError):
        run_query(VMS, QuerySpec(sort_by="colour"), VM)


def test_rest_parameters():
    spec = spec_from_rest(
        MultiDict(
            [
                ("q", "name?=a,b"),
                ("q", "state=Running"),
                ("limit", "10"),
                ("start", "2"),
                ("replyWithCount", "true"),
                ("sort", " name"),
                ("fields", "uuid,name"),
                ("fields", "ignored"),
                ("groupBy", "state"),
            ]
        )
    )
    assert spec.conditions == [Condition("name", "in", "a,b"), Condition("state", "=", "Running")]
    assert (spec.limit, spec.start, spec.reply_with_count, spec.count) == (10, 2, True, False)
    assert (spec.sort_by, spec.sort_direction, spec.fields, spec.group_by) == (
        "name",
        "asc",
        ["uuid", "name"],
        "state",
    )
    assert spec_from_rest(MultiDict([("sort", "-cpuNum")])).sort_direction == "desc"
    assert spec_from_rest(MultiDict([])).limit == 1000
    for bad, message in (
        (("limit", "ten"), "Invalid query parameter. 'limit' must be an integer"),
        (("start", "x"), "Invalid query parameter. 'start' must be an integer"),
        (("fields", ","), "Invalid query parameter. 'fields' must not be empty"),
    ):
        with pytest.raises(TransportError) as info:
            spec_from_rest(MultiDict([bad]))
        assert (info.value.status, info.value.text) == (400, message)


def test_legacy_conditions():
    spec = spec_from_legacy(
        {
            "conditions": [
                {"name": "state", "op": "=", "value": "Running"},
                {"name": "name", "op": "not in", "value": "web-1"},
            ],
            "limit": 50,
            "replyWithCount": True,
            "sortBy": "cpuNum",
            "sortDirection": "desc",
            "fields": ["name"],
        }
    )
    reply = run_query(VMS, spec, VM)
    assert reply == {"inventories": [{"name": "db_1"}], "total": 1}
    with pytest.raises(ApiError) as info:
        parse_legacy_condition({"name": "state", "op": "~~", "value": "x"})
    assert info.value.error.details == "unknown QueryOp type[~~]"


def test_schema_names_every_nested_object():
    reply = run_query(VMS, QuerySpec(conditions=[parse_rest_condition("name=web-1")]), VM)
    assert schema_for(reply["inventories"], VM) == {
        "inventories[0]": "org.zstack.header.vm.VmInstanceInventory",
        "inventories[0].vmNics[0]": "org.zstack.header.vm.VmNicInventory",
    }


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="q=&;%+ab0é\x80\udc80/?#, ", max_size=30).map(lambda s: s.encode("latin-1", "replace"))
)
def test_query_args_are_what_werkzeugs_request_args_hold(raw):
    """The REST query parameters are parsed as ``request.args`` parses them (its parse, its
    errors), without its MultiDict."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from fakestack.dialects.zstack.query import query_args

    environ = EnvironBuilder(path="/v1/vm-instances").get_environ()
    environ["QUERY_STRING"] = raw.decode("latin-1")
    request = Request(environ)
    try:
        expected = {key: request.args.getlist(key) for key in request.args.keys()}
    except UnicodeDecodeError as exc:
        expected = type(exc)
    try:
        got = query_args(request.query_string)
    except UnicodeDecodeError as exc:
        got = type(exc)
    assert got == expected
