"""InstaVM wire protocol: routing, auth, FastAPI-shaped errors.

Echoing handlers isolate the dialect's own layer; what is asserted is exactly what a FastAPI
server puts on the wire.
"""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from fakestack import Cloud, ManualClock
from fakestack.app import make_app
from fakestack.dialects.instavm import InstaVMDialect
from fakestack.dialects.instavm.errors import http_error
from fakestack.dialects.instavm.ids import (
    SESSION_ID,
    SNAPSHOT_ID,
    VM_ID,
    is_uuid_text,
    new_session_id,
    new_snapshot_id,
    new_vm_id,
)
from fakestack.model.errors import (
    CapacityExhausted,
    Conflict,
    InjectedFailure,
    InvalidArgument,
    InvalidState,
    NotFound,
    Timeout,
)
from fakestack.model.ids import IdGenerator

KEY = {"X-API-Key": "instavm_sk_fakestack"}


class EchoHandlers:
    def before(self):
        pass

    def __getattr__(self, name):
        def echo(call):
            body = call.body.model_dump(exclude_none=True) if call.body is not None else None
            return {"handler": name, "path": call.path, "query": call.query, "body": body}

        return echo


@pytest.fixture
def cloud():
    return Cloud("tiny", seed=0, clock=ManualClock())


@pytest.fixture
def client(cloud):
    return Client(make_app(cloud, dialects=[InstaVMDialect(cloud, EchoHandlers())]))


def post(client, path, body=b"{}", headers=KEY, content_type="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = dict(headers)
    if content_type:
        hdrs["Content-Type"] = content_type
    return client.post(path, data=data, headers=hdrs)


# --- authentication ----------------------------------------------------------------


def test_missing_key_is_401_not_authenticated_with_bearer_challenge(client):
    response = client.get("/v1/vms")
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Content-Type"] == "application/json"


def test_wrong_key_is_401_invalid_api_key(client):
    response = client.get("/v1/vms", headers={"X-API-Key": "instavm_sk_wrong"})
    assert response.status_code == 401
    assert response.get_data() == b'{"detail":"Invalid API key"}'
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_token_is_accepted_like_x_api_key(client):
    response = client.get("/v1/vms", headers={"Authorization": "Bearer instavm_sk_fakestack"})
    assert response.status_code == 200
    assert response.get_json()["handler"] == "list_running_vms"


def test_non_bearer_authorization_counts_as_missing(client):
    response = client.get("/v1/vms", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}


def test_keys_configured_in_dialect_state_replace_the_default(cloud, client):
    cloud.dialect_state("instavm")["api_keys"] = ["instavm_sk_team"]
    assert client.get("/v1/vms", headers={"X-API-Key": "instavm_sk_team"}).status_code == 200
    denied = client.get("/v1/vms", headers=KEY)
    assert denied.status_code == 401
    assert denied.get_json() == {"detail": "Invalid API key"}


def test_session_create_takes_its_key_from_the_body_not_a_header(client):
    response = post(client, "/v1/sessions/session", {"api_key": "instavm_sk_fakestack"}, headers={})
    assert response.status_code == 200
    assert response.get_json()["handler"] == "create_session"


# --- order of checks ---------------------------------------------------------------


def test_bad_json_is_reported_before_authentication(client):
    response = post(client, "/v1/vms/vm_1/clone", b'{"snapshot_name": ', headers={})
    assert response.status_code == 422
    assert response.get_json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 18],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting value"},
            }
        ]
    }


def test_authentication_comes_before_parameter_validation(client):
    response = post(client, "/v1/vms/vm_1/clone?wait=maybe", b"[1]", headers={})
    assert response.status_code == 401


def test_query_and_body_errors_are_reported_together_query_first(client):
    response = post(client, "/v1/vms/vm_1/clone?wait=maybe", {"snapshot_name": 5})
    assert response.status_code == 422
    assert response.get_json() == {
        "detail": [
            {
                "type": "bool_parsing",
                "loc": ["query", "wait"],
                "msg": "Input should be a valid boolean, unable to interpret input",
                "input": "maybe",
            },
            {
                "type": "string_type",
                "loc": ["body", "snapshot_name"],
                "msg": "Input should be a valid string",
                "input": 5,
            },
        ]
    }


# --- wait ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("YES", True),
        ("no", False),
        ("On", True),
        ("off", False),
        ("t", True),
        ("F", False),
        ("y", True),
        ("n", False),
    ],
)
def test_wait_accepts_pydantic_booleans(client, text, value):
    response = post(client, f"/v1/vms/vm_1/clone?wait={text}")
    assert response.status_code == 200
    assert response.get_json()["query"] == {"wait": value}


def test_wait_defaults_to_true(client):
    assert post(client, "/v1/vms/vm_1/snapshot").get_json()["query"] == {"wait": True}


@pytest.mark.parametrize("text", ["", "maybe", "2", "truee"])
def test_wait_rejects_anything_else(client, text):
    response = post(client, f"/v1/vms?wait={text}")
    assert response.status_code == 422
    assert response.get_json()["detail"] == [
        {
            "type": "bool_parsing",
            "loc": ["query", "wait"],
            "msg": "Input should be a valid boolean, unable to interpret input",
            "input": text,
        }
    ]


def test_last_wait_value_wins_as_in_starlette(client):
    assert post(client, "/v1/vms?wait=maybe&wait=false").get_json()["query"] == {"wait": False}


# --- body validation ---------------------------------------------------------------


def test_absent_body_is_missing_with_null_input(client):
    response = post(client, "/v1/vms/vm_1/clone", b"")
    assert response.status_code == 422
    assert response.get_json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }


@pytest.mark.parametrize("raw, echoed", [(b"[1]", [1]), (b"null", None), (b'"x"', "x")])
def test_body_that_is_not_an_object(client, raw, echoed):
    response = post(client, "/v1/vms/vm_1/clone", raw)
    assert response.status_code == 422
    assert response.get_json()["detail"] == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": echoed,
        }
    ]


def test_body_without_json_content_type_is_not_decoded(client):
    response = post(client, "/v1/vms/vm_1/clone", b"{}", content_type="text/plain")
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["type"] == "model_attributes_type"
    assert response.get_json()["detail"][0]["input"] == "{}"


def test_json_suffix_content_type_is_decoded(client):
    response = post(client, "/v1/vms/vm_1/clone", b"{}", content_type="application/vnd.x+json")
    assert response.status_code == 200


def test_undecodable_body_is_400(client):
    response = post(client, "/v1/vms/vm_1/clone", b"\xff\xfe{")
    assert response.status_code == 400
    assert response.get_json() == {"detail": "There was an error parsing the body"}


def test_required_field_missing_echoes_the_whole_body(client):
    response = post(client, "/v1/sessions/session", {"vm_lifetime_seconds": 60}, headers={})
    assert response.status_code == 422
    assert response.get_json()["detail"] == [
        {
            "type": "missing",
            "loc": ["body", "api_key"],
            "msg": "Field required",
            "input": {"vm_lifetime_seconds": 60},
        }
    ]


def test_create_vm_limits(client):
    response = post(client, "/v1/vms", {"vm_lifetime_seconds": 5, "memory_mb": 100000, "vcpu_count": 3})
    assert response.status_code == 422
    assert response.get_json()["detail"] == [
        {
            "type": "greater_than_equal",
            "loc": ["body", "vm_lifetime_seconds"],
            "msg": "Input should be greater than or equal to 20",
            "input": 5,
            "ctx": {"ge": 20},
        },
        {
            "type": "less_than_equal",
            "loc": ["body", "memory_mb"],
            "msg": "Input should be less than or equal to 8192",
            "input": 100000,
            "ctx": {"le": 8192},
        },
        {
            "type": "value_error",
            "loc": ["body", "vcpu_count"],
            "msg": "Value error, vcpu_count must be one of 1, 2, 4, 6, 8",
            "input": 3,
            "ctx": {"error": {}},
        },
    ]


def test_integers_are_lax_but_not_fractional(client):
    ok = post(client, "/v1/vms", {"memory_mb": "1024", "vcpu_count": True})
    assert ok.status_code == 200
    assert ok.get_json()["body"] == {"memory_mb": 1024, "vcpu_count": 1}
    bad = post(client, "/v1/vms", {"memory_mb": 512.5})
    assert bad.get_json()["detail"] == [
        {
            "type": "int_from_float",
            "loc": ["body", "memory_mb"],
            "msg": "Input should be a valid integer, got a number with a fractional part",
            "input": 512.5,
        }
    ]


def test_nested_errors_carry_the_full_location(client):
    response = post(
        client,
        "/v1/snapshots",
        {"oci_image": "python:3.12", "type": "team", "build_args": {"disk_size_gb": 40}},
    )
    assert response.get_json()["detail"] == [
        {
            "type": "literal_error",
            "loc": ["body", "type"],
            "msg": "Input should be 'user' or 'system'",
            "input": "team",
            "ctx": {"expected": "'user' or 'system'"},
        },
        {
            "type": "less_than_equal",
            "loc": ["body", "build_args", "disk_size_gb"],
            "msg": "Input should be less than or equal to 16",
            "input": 40,
            "ctx": {"le": 16},
        },
    ]


def test_unknown_body_fields_are_ignored(client):
    response = post(client, "/v1/vms/vm_1/clone", {"foo": 1, "snapshot_name": "golden"})
    assert response.status_code == 200
    assert response.get_json()["body"] == {"snapshot_name": "golden"}


# --- routing -----------------------------------------------------------------------


def test_vms_with_and_without_slash_are_two_endpoints(client):
    assert client.get("/v1/vms", headers=KEY).get_json()["handler"] == "list_running_vms"
    assert client.get("/v1/vms/", headers=KEY).get_json()["handler"] == "list_all_vms"


def test_path_parameters_reach_the_handler(client):
    body = client.get("/v1/vms/vm_0123456789ab", headers=KEY).get_json()
    assert body == {"handler": "get_vm", "path": {"vm_id": "vm_0123456789ab"}, "query": {}, "body": None}


def test_unknown_path_under_a_prefix_is_fastapi_404(client):
    response = client.get("/v1/vms/vm_1/nothing", headers=KEY)
    assert response.status_code == 404
    assert response.get_data() == b'{"detail":"Not Found"}'


def test_unknown_path_is_404_even_without_a_key(client):
    assert client.get("/v1/sessions").status_code == 404


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/v1/vms/vm_1", headers=KEY)
    assert response.status_code == 405
    assert response.get_json() == {"detail": "Method Not Allowed"}
    assert response.headers["Allow"] == "GET, HEAD, PATCH, DELETE"


def test_trailing_slash_redirects_like_starlette(client):
    response = client.get("/v1/snapshots/?type=user", headers=KEY)
    assert response.status_code == 307
    assert response.headers["Location"] == "http://localhost/v1/snapshots?type=user"
    assert response.get_data() == b""


@pytest.mark.parametrize(
    "method, path",
    # (issue 17 serves suspend/resume, executions, usage: see their own tests)
    [
        ("POST", "/upload"),
        ("POST", "/download"),
        ("POST", "/v1/vms/vm_1/stage-env"),
        ("GET", "/v1/sessions/app-url/abc"),
        ("GET", "/v1/sessions/session/abc"),
    ],
)
def test_out_of_scope_endpoints_answer_501(client, method, path):
    response = client.open(path, method=method, headers=KEY, data=b"{}", content_type="application/json")
    assert response.status_code == 501
    assert response.get_json() == {"detail": f"{method} {path} is not implemented by fakestack"}


def test_out_of_scope_endpoints_still_need_a_key(client):
    assert client.post("/execute", json={"command": "ls"}).status_code == 401


# --- ids ---------------------------------------------------------------------------


def test_id_formats():
    ids = IdGenerator(0)
    assert VM_ID.match(new_vm_id(ids))
    assert SNAPSHOT_ID.match(new_snapshot_id(ids))
    session = new_session_id(ids)
    assert SESSION_ID.match(session)
    assert is_uuid_text(session)
    assert not is_uuid_text("not-a-uuid")


def test_ids_are_deterministic_per_seed_and_avoid_taken_ones():
    first = [new_vm_id(IdGenerator(7)) for _ in range(2)]
    assert first[0] == first[1]
    taken = {new_vm_id(IdGenerator(7))}
    assert new_vm_id(IdGenerator(7), taken) not in taken


# --- domain error table ------------------------------------------------------------


def test_domain_errors_map_to_instavm_answers():
    cap = http_error(CapacityExhausted("host.memory", 536870912, 268435456))
    assert (cap.status, cap.detail) == (
        503,
        "Insufficient capacity: host_memory (needed 536870912, available 268435456)",
    )
    assert http_error(NotFound("vm", "x")).detail == "VM not found"
    assert http_error(NotFound("snapshot", "x")).status == 404
    state = http_error(
        InvalidState("vm", "u", "Stopped", "clone"), conflict_detail="VM vm_1 is not active (status: stopped)"
    )
    assert (state.status, state.detail) == (409, "VM vm_1 is not active (status: stopped)")
    assert http_error(Conflict("vm", "x")).status == 409
    assert http_error(Timeout("clone", 30)).status == 504
    assert http_error(InjectedFailure("vm.clone", "boom")).status == 500
    assert http_error(InjectedFailure("vm.clone", "Rate limit exceeded", code="rate_limit")).status == 429
    assert http_error(InjectedFailure("vm.clone", "tier", code="forbidden")).status == 403
    arg = http_error(InvalidArgument("memory_mb", "too large"), body={"memory_mb": 9000})
    assert arg.status == 422
    assert arg.detail == [
        {
            "type": "value_error",
            "loc": ["body", "memory_mb"],
            "msg": "Value error, too large",
            "input": 9000,
            "ctx": {"error": {}},
        }
    ]
