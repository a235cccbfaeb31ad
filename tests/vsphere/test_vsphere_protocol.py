"""Error shapes, statuses, routing errors and the JSON-RPC envelope (reference §3, §7)."""

import pytest
from vsphere_support import basic, client_for, rest_login, rpc, small_cloud

from fakestack.dialects.vsphere.errors import STATUS, VapiError, message


def test_status_table_matches_the_reference():
    assert {
        name: STATUS[name]
        for name in (
            "already_exists",
            "invalid_argument",
            "not_found",
            "unauthenticated",
            "unauthorized",
            "error",
            "resource_inaccessible",
            "unable_to_allocate_resource",
            "service_unavailable",
            "resource_busy",
            "timed_out",
            "concurrent_change",
            "operation_not_found",
        )
    } == {
        "already_exists": (400, 400),
        "invalid_argument": (400, 400),
        "not_found": (404, 404),
        "unauthenticated": (401, 401),
        "unauthorized": (403, 403),
        "error": (500, 500),
        "resource_inaccessible": (500, 500),
        "unable_to_allocate_resource": (500, 500),
        "service_unavailable": (503, 503),
        "resource_busy": (400, 500),
        "timed_out": (504, 504),
        "concurrent_change": (409, 409),
        "operation_not_found": (404, 404),
    }


@pytest.mark.parametrize("name", ["error", "resource_inaccessible", "unable_to_allocate_resource"])
def test_rest_spec_statuses_flag_flips_three_rows_to_400(name):
    err = VapiError(name, [])
    assert err.status("rest") == 500
    assert err.status("rest", rest_spec_statuses=True) == 400
    assert err.status("api", rest_spec_statuses=True) == 500
    assert VapiError("not_found").status("rest", rest_spec_statuses=True) == 404


def test_the_three_error_shapes():
    err = VapiError("not_found", [message("vm_not_found", "vm-999")])
    msg = {
        "args": ["vm-999"],
        "default_message": "Virtual machine with identifier 'vm-999' does not exist.",
        "id": "com.vmware.api.vcenter.vm.not_found",
    }
    assert err.rest_body() == {
        "type": "com.vmware.vapi.std.errors.not_found",
        "value": {"error_type": "NOT_FOUND", "messages": [msg]},
    }
    assert err.rest_body(error_type_in_value=False) == {
        "type": "com.vmware.vapi.std.errors.not_found",
        "value": {"messages": [msg]},
    }
    assert err.api_body() == {"error_type": "NOT_FOUND", "messages": [msg]}
    assert err.rpc_value() == {
        "ERROR": {
            "com.vmware.vapi.std.errors.not_found": {
                "messages": [
                    {
                        "STRUCTURE": {
                            "com.vmware.vapi.std.localizable_message": {
                                "id": msg["id"],
                                "default_message": msg["default_message"],
                                "args": ["vm-999"],
                            }
                        }
                    }
                ],
                "data": {"OPTIONAL": None},
                "error_type": {"OPTIONAL": "NOT_FOUND"},
            }
        }
    }


def test_unknown_names_are_refused():
    with pytest.raises(ValueError):
        VapiError("no_such_error")


def test_object_not_found_messages_name_the_kind():
    assert message("object_not_found", "datastore-9", kind="datastore") == message(
        "object_not_found", "datastore-9", kind="datastore"
    )
    m = message("object_not_found", "datastore-9", kind="datastore")
    assert (m.id, m.default_message, m.args) == (
        "com.vmware.api.vcenter.datastore.not_found",
        "Datastore with identifier 'datastore-9' does not exist.",
        ("datastore-9",),
    )
    m = message("object_not_found", "resgroup-4", kind="resource_pool")
    assert (m.id, m.default_message, m.args) == (
        "com.vmware.api.vcenter.resource_pool.not_found",
        "Resource pool with identifier 'resgroup-4' does not exist.",
        ("resgroup-4",),
    )


def test_unknown_rest_url_answers_404_operations_for_url_not_found():
    client = client_for(small_cloud())
    response = client.get("/rest/com/vmware/vcenter/lcm/x")
    assert response.status_code == 404
    assert response.get_json() == {
        "type": "com.vmware.vapi.std.errors.not_found",
        "value": {
            "error_type": "NOT_FOUND",
            "messages": [
                {
                    "args": ["/com/vmware/vcenter/lcm/x"],
                    "default_message": "Unable to find operations for URL: /com/vmware/vcenter/lcm/x.",
                    "id": "com.vmware.vapi.rest.operationsForUrlNotFound",
                }
            ],
        },
    }


def test_known_path_with_unsupported_method_answers_404_and_so_does_an_unserved_sub_path():
    # (GET by id of hosts, served since issue 17, was the unserved path here)
    client = client_for(small_cloud())
    assert client.put("/rest/com/vmware/cis/session").status_code == 404
    response = client.get("/api/vcenter/host/host-1/networking")
    assert response.status_code == 404
    assert response.get_json()["messages"][0]["id"] == "com.vmware.vapi.rest.operationsForUrlNotFound"


def test_unknown_query_parameter_answers_400_unexpected_input():
    client = client_for(small_cloud())
    token = rest_login(client)
    response = client.post(
        "/rest/com/vmware/cis/session?~action=get&verbose=1", headers={"vmware-api-session-id": token}
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "com.vmware.vapi.std.errors.unexpected_input",
        "value": {
            "error_type": "UNEXPECTED_INPUT",
            "messages": [
                {
                    "args": ["[verbose]", "operation-input"],
                    "default_message": "Found unexpected fields [verbose] in structure 'operation-input'.",
                    "id": "vapi.data.structure.field.unexpected",
                }
            ],
        },
    }


def test_unknown_action_answers_unexpected_input_like_6_7_did():
    client = client_for(small_cloud())
    token = rest_login(client)
    response = client.post(
        "/rest/com/vmware/cis/session?~action=refresh", headers={"vmware-api-session-id": token}
    )
    assert response.status_code == 400
    assert response.get_json()["value"]["messages"][0]["args"] == ["[~action]", "operation-input"]


def test_unauthenticated_comes_before_input_checks():
    client = client_for(small_cloud())
    response = client.post("/rest/com/vmware/cis/session?~action=get&verbose=1")
    assert response.status_code == 401


def test_error_type_in_rest_value_can_be_turned_off():
    client = client_for(small_cloud(), rest_error_type_in_value=False)
    response = client.post("/rest/com/vmware/cis/session", headers=basic(password="x"))
    assert response.get_json()["value"] == {
        "messages": [
            {
                "args": [],
                "default_message": "Authentication required.",
                "id": "com.vmware.vapi.endpoint.method.authentication.required",
            }
        ]
    }


# --- JSON-RPC envelope ------------------------------------------------------------------


def post_raw(client, data):
    response = client.post("/api", data=data, content_type="application/json")
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize(
    "data, code, message_text",
    [
        (b"{not json", -32700, "Parse error."),
        (b"[1, 2]", -32600, "Invalid Request."),
        (b'{"method": "invoke", "id": "1", "params": {}}', -32600, "Invalid Request."),
        (b'{"jsonrpc": "2.0", "id": "1", "params": {}}', -32600, "Invalid Request."),
    ],
)
def test_malformed_envelopes_answer_json_rpc_errors_with_null_id(data, code, message_text):
    assert post_raw(client_for(small_cloud()), data) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": code, "message": message_text},
    }


def test_other_methods_and_bad_params_echo_the_id():
    client = client_for(small_cloud())
    assert post_raw(client, b'{"jsonrpc":"2.0","method":"call","id":"7","params":{}}') == {
        "jsonrpc": "2.0",
        "id": "7",
        "error": {"code": -32601, "message": "Method not found."},
    }
    answer = post_raw(client, b'{"jsonrpc":"2.0","method":"invoke","id":"8","params":{"serviceId":"x"}}')
    assert answer == {"jsonrpc": "2.0", "id": "8", "error": {"code": -32602, "message": "Invalid params."}}
    answer = post_raw(
        client,
        b'{"jsonrpc":"2.0","method":"invoke","id":"9","params":{"serviceId":"x",'
        b'"operationId":"y","input":{"STRUCTURE":{"a":{},"b":{}}}}}',
    )
    assert answer["error"]["code"] == -32602 and answer["id"] == "9"


def test_unknown_service_or_operation_answers_operation_not_found():
    client = client_for(small_cloud())
    for service, operation in (
        ("com.vmware.vcenter.Nope", "list"),
        ("com.vmware.cis.session", "refresh"),
        ("com.vmware.vcenter.VM", "clone$task"),
    ):
        answer = rpc(client, service, operation, token="x")
        assert list(answer["result"]["error"]["ERROR"]) == ["com.vmware.vapi.std.errors.operation_not_found"]
        body = answer["result"]["error"]["ERROR"]["com.vmware.vapi.std.errors.operation_not_found"]
        assert body["error_type"] == {"OPTIONAL": "OPERATION_NOT_FOUND"}


def test_rpc_unexpected_input_field_with_a_value_but_unset_optional_is_ignored():
    client = client_for(small_cloud())
    token = rest_login(client)
    answer = rpc(client, "com.vmware.cis.session", "get", {"extra": {"OPTIONAL": None}}, token=token)
    assert "output" in answer["result"]
    answer = rpc(client, "com.vmware.cis.session", "get", {"extra": 1}, token=token)
    assert list(answer["result"]["error"]["ERROR"]) == ["com.vmware.vapi.std.errors.unexpected_input"]


def test_body_fields_on_a_call_without_input_are_unexpected():
    client = client_for(small_cloud())
    token = rest_login(client)
    response = client.post(
        "/rest/com/vmware/cis/session?~action=get",
        json={"verbose": True},
        headers={"vmware-api-session-id": token},
    )
    assert response.status_code == 400
    assert response.get_json()["value"]["messages"][0]["args"] == ["[verbose]", "operation-input"]
    response = client.post(
        "/rest/com/vmware/cis/session?~action=get", json={}, headers={"vmware-api-session-id": token}
    )
    assert response.status_code == 200
