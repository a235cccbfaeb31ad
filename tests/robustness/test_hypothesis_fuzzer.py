"""A hypothesis fuzzer for what schemathesis does not generate: unpaired surrogates, deep
nesting, huge numbers, wrong content types, bodies that are not JSON, and the ZStack
``q=`` query language.  Every answer must be the dialect's own (never a crash in its
terms, see ``fuzz_support.crash_in``), the cloud's invariants must hold, and the dialect
must still serve a plain read afterwards."""

from __future__ import annotations

import json

from fuzz_support import Target, crash_in, poller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakestack.dialects.kit.json_input import MAX_DEPTH

FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))

TARGETS = {name: Target(name) for name in ("zstack", "vsphere", "instavm", "admin")}

# (dialect, method, path): endpoints that read a body, per dialect
BODY_ENDPOINTS = [
    ("zstack", "POST", "/zstack/v1/vm-instances"),
    ("zstack", "POST", "/zstack/v1/volumes/data"),
    ("zstack", "PUT", "/zstack/v1/accounts/login"),
    ("zstack", "PUT", "/zstack/v1/vm-instances/{vm}/actions"),
    ("zstack", "POST", "/zstack/api/"),
    ("vsphere", "POST", "/api/vcenter/vm?action=instant-clone"),
    ("vsphere", "POST", "/rest/vcenter/vm?action=clone"),
    ("vsphere", "POST", "/api"),
    ("instavm", "POST", "/v1/vms"),
    ("instavm", "POST", "/v1/snapshots"),
    ("instavm", "PATCH", "/v1/vms/{vm}"),
    ("instavm", "POST", "/v1/sessions/session"),
    ("admin", "POST", "/_fakestack/clock"),
    ("admin", "POST", "/_fakestack/faults"),
]
PLAIN_READS = {
    "zstack": ["/zstack/v1/vm-instances", "/zstack/v1/volumes"],
    "vsphere": ["/api/vcenter/vm"],
    "instavm": ["/v1/vms/", "/v1/snapshots"],
    "admin": ["/_fakestack/health", "/_fakestack/clock", "/_fakestack/faults"],
}


def _vm_of(target: Target) -> str:
    if target.dialect == "zstack":
        answer = target.client.get("/zstack/v1/vm-instances", headers=target.headers())
        return answer.get_json()["inventories"][0]["uuid"]
    answer = target.client.post("/v1/vms?wait=true", json={}, headers=target.headers())
    return answer.get_json().get("vm_id", "vm_missing")


def _send(dialect: str, method: str, path: str, body: bytes, content_type: str | None):
    target = TARGETS[dialect]
    if "{vm}" in path:
        path = path.replace("{vm}", _vm_of(target))
    headers = target.headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = target.client.open(path, method=method, data=body, headers=headers)
    target.after(response)
    reason = crash_in(dialect, response.status_code, response.get_data(), poller(target))
    assert reason is None, (reason, method, path, body[:200], response.get_data()[:300])
    target.check_invariants()
    for path in PLAIN_READS[dialect]:
        read = target.client.get(path, headers=target.headers())
        assert read.status_code == 200, (dialect, path, read.get_data()[:300])
    return response


# -- JSON documents with something wrong inside ------------------------------------------

SURROGATE = st.integers(0xD800, 0xDFFF).map(lambda c: f"\\u{c:04x}")
HUGE_NUMBERS = st.sampled_from(
    [
        "1e400",
        "-1e400",
        "1e308",
        "NaN",
        "Infinity",
        "-Infinity",
        "-0",
        "0.0000000000000000001",
        str(2**63),
        str(-(2**63) - 1),
        str(2**31),
        "9" * 300,
        "1" + "0" * 5000,
        "123456789012345678901234567890.5",
        "1E+2147483648",
    ]
)
KEYS = st.sampled_from(
    [
        "params",
        "name",
        "cpuNum",
        "memory_mb",
        "oci_image",
        "spec",
        "source",
        "logInByAccount",
        "cloneVmInstance",
        "advance",
        "to",
        "vcpu_count",
        "jsonrpc",
        "id",
        "method",
        "params",
        "input",
        "x",
    ]
)


def _text_json(value) -> str:
    """JSON text of ``value``, where a ``("raw", text)`` pair is spliced in unquoted."""
    if isinstance(value, tuple) and value[0] == "raw":
        return value[1]
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_text_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text_json(v) for v in value) + "]"
    return json.dumps(value)


ODD_LEAVES = st.one_of(
    SURROGATE.map(lambda s: ("raw", f'"a{s}b"')),
    HUGE_NUMBERS.map(lambda n: ("raw", n)),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
ODD_DOCUMENTS = st.recursive(
    ODD_LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=12,
)


@FUZZ
@given(endpoint=st.sampled_from(BODY_ENDPOINTS), document=ODD_DOCUMENTS)
def test_odd_json_bodies_are_answered_in_the_dialects_shape(endpoint, document):
    _send(*endpoint, _text_json(document).encode("utf-8"), "application/json")


@FUZZ
@given(
    endpoint=st.sampled_from(BODY_ENDPOINTS),
    depth=st.integers(MAX_DEPTH + 1, 20_000),
    opener=st.sampled_from(["[", '{"a":', '{"params":']),
)
def test_deep_nesting_is_a_parse_error_everywhere(endpoint, depth, opener):
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "1" + closer * depth).encode()
    response = _send(*endpoint, body, "application/json")
    assert response.status_code in (200, 400, 422), response.status_code


@FUZZ
@given(
    endpoint=st.sampled_from(BODY_ENDPOINTS),
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from(
            [
                b"",
                b"{",
                b"}",
                b"[1,",
                b"\xff\xfe{\x00",
                b"null",
                b'"x"',
                b'{"a": 1} trailing',
                b"\xef\xbb\xbf{}",
                b"1" * 5000,
            ]
        ),
    ),
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "text/plain",
            "application/xml",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin-1",
            "application/vnd.api+json",
            "application/json\x00",
            "*/*",
            "",
        ]
    ),
)
def test_bodies_that_are_not_json_or_wrongly_typed_are_refused_cleanly(endpoint, body, content_type):
    _send(*endpoint, body, content_type)


# -- the ZStack q= language --------------------------------------------------------------

FIELDS = st.sampled_from(
    [
        "name",
        "uuid",
        "state",
        "cpuNum",
        "memorySize",
        "hostUuid",
        "vmNics.ip",
        "allVolumes.uuid",
        "allVolumes.size",
        "nosuchfield",
        "vmNics.nosuch",
        "",
        " ",
        "name.",
        ".name",
        "__systemTag__",
        "__userTag__",
        "createDate",
        "lastOpDate",
    ]
)
OPERATORS = st.sampled_from(
    ["=", "!=", ">", "<", ">=", "<=", "?=", "!?=", "~=", "!~=", " is null", " not null", "==", "=>", "", "<>"]
)
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "a,b,c",
            ",",
            "%",
            "%vm%",
            "_",
            "1e400",
            "-1",
            "9" * 40,
            "Running",
            "null",
            "2026-01-01",
            "\u00e9\u4e2d",
            "a=b",
            "'x'",
            '"x"',
        ]
    ),
)


@FUZZ
@given(
    conditions=st.lists(st.tuples(FIELDS, OPERATORS, VALUES), max_size=4),
    extra=st.dictionaries(
        st.sampled_from(["limit", "start", "count", "replyWithCount", "sort", "fields", "groupBy"]),
        st.one_of(
            st.integers(-10, 10**20).map(str),
            st.text(max_size=8),
            st.sampled_from(["true", "false", "+name", "-cpuNum", "name,uuid", ",", "nosuch"]),
        ),
        max_size=4,
    ),
    resource=st.sampled_from(
        [
            "vm-instances",
            "volumes",
            "hosts",
            "images",
            "primary-storage",
            "volume-snapshots",
            "vm-instances/nics",
            "l3-networks",
        ]
    ),
)
def test_the_zstack_query_language_never_crashes(conditions, extra, resource):
    target = TARGETS["zstack"]
    query = [("q", f"{f}{op}{v}") for f, op, v in conditions] + list(extra.items())
    response = target.client.get(f"/zstack/v1/{resource}", query_string=query, headers=target.headers())
    target.after(response)
    assert crash_in("zstack", response.status_code, response.get_data()) is None, (
        query,
        response.get_data()[:300],
    )
    assert response.status_code in (200, 400, 503)
    if response.status_code == 200:
        body = response.get_json()
        assert isinstance(body.get("inventories", []), list) and ("inventories" in body or "total" in body)
    elif response.status_code == 400:
        assert response.mimetype == "text/plain"
    else:
        assert response.get_json()["error"]["code"] in ("SYS.1000", "SYS.1007")
    target.check_invariants()


@FUZZ
@given(
    conditions=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.one_of(FIELDS, st.integers(), st.none()),
                "op": st.one_of(
                    st.sampled_from(
                        ["=", "!=", "in", "not in", "like", "is null", "is not null", ">", "bogus", ""]
                    ),
                    st.integers(),
                ),
                "value": st.one_of(
                    VALUES, st.integers(), st.lists(st.text(max_size=4), max_size=3), st.none()
                ),
            },
        ),
        max_size=3,
    ),
    limit=st.one_of(st.none(), st.integers(-5, 10**12), st.text(max_size=5)),
)
def test_the_legacy_query_conditions_never_crash(conditions, limit):
    target = TARGETS["zstack"]
    session = target.headers()["Authorization"].split()[1]
    message = {"session": {"uuid": session}, "conditions": conditions}
    if limit is not None:
        message["limit"] = limit
    response = target.client.post(
        "/zstack/api/", json={"org.zstack.header.vm.APIQueryVmInstanceMsg": message}
    )
    target.after(response)
    assert response.status_code == 200
    assert crash_in("zstack", 200, response.get_data()) is None, response.get_data()[:300]
