"""Sessions: one store for /rest, /api and JSON-RPC (reference §2)."""

import re

from vsphere_support import (
    PASSWORD,
    USER,
    api_login,
    basic,
    client_for,
    rest_login,
    rpc,
    rpc_login,
    small_cloud,
)

SESSION_URL = "/rest/com/vmware/cis/session"
LOGIN_FAILED = {
    "type": "com.vmware.vapi.std.errors.unauthenticated",
    "value": {
        "error_type": "UNAUTHENTICATED",
        "messages": [
            {
                "args": [],
                "default_message": "Authentication required.",
                "id": "com.vmware.vapi.endpoint.method.authentication.required",
            }
        ],
    },
}
NO_SESSION = {
    "type": "com.vmware.vapi.std.errors.unauthenticated",
    "value": {
        "error_type": "UNAUTHENTICATED",
        "messages": [
            {
                "args": [],
                "default_message": "This method requires authentication.",
                "id": "vapi.method.authentication.required",
            }
        ],
    },
}


def session_info_rest(client, token):
    return client.post(SESSION_URL + "?~action=get", headers={"vmware-api-session-id": token})


def test_rest_login_returns_a_32_hex_token_and_sets_the_cookie():
    client = client_for(small_cloud())
    response = client.post(SESSION_URL, headers=basic())
    assert response.status_code == 200
    token = response.get_json()["value"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert response.headers["Set-Cookie"] == f"vmware-api-session-id={token}; Path=/; HttpOnly"


def test_rest_login_with_header_authn_sets_no_cookie():
    client = client_for(small_cloud())
    response = client.post(SESSION_URL, headers={**basic(), "vmware-use-header-authn": "true"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_wrong_password_unknown_user_and_missing_authorization_answer_401_login_failed():
    client = client_for(small_cloud())
    for headers in (
        basic(password="wrong"),
        basic(user="root@vsphere.local"),
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic !!!"},
    ):
        response = client.post(SESSION_URL, headers=headers)
        assert response.status_code == 401
        assert response.get_json() == LOGIN_FAILED


def test_user_name_is_case_insensitive_password_is_not():
    client = client_for(small_cloud())
    assert client.post(SESSION_URL, headers=basic(user="Administrator@VSPHERE.local")).status_code == 200
    assert client.post(SESSION_URL, headers=basic(password="Password")).status_code == 401


def test_session_info_on_rest_and_api():
    cloud = small_cloud()
    client = client_for(cloud)
    token = rest_login(client)
    cloud.clock.advance(1.25)
    response = session_info_rest(client, token)
    assert response.status_code == 200
    assert response.get_json() == {
        "value": {
            "user": "VSPHERE.LOCAL\\Administrator",
            "created_time": "2026-01-01T00:00:00.000Z",
            "last_accessed_time": "2026-01-01T00:00:01.250Z",
        }
    }
    response = client.get("/api/session", headers={"vmware-api-session-id": token})
    assert response.status_code == 200
    assert response.get_json()["user"] == "VSPHERE.LOCAL\\Administrator"


def test_the_cookie_authenticates_rest_and_api():
    client = client_for(small_cloud())
    token = rest_login(client)
    client.set_cookie("vmware-api-session-id", token, path="/")
    assert client.post(SESSION_URL + "?~action=get").status_code == 200
    assert client.get("/api/session").status_code == 200


def test_a_token_from_any_surface_works_on_the_other_two():
    client = client_for(small_cloud())
    for token in (rest_login(client), api_login(client), rpc_login(client)):
        assert session_info_rest(client, token).status_code == 200
        assert client.get("/api/session", headers={"vmware-api-session-id": token}).status_code == 200
        answer = rpc(client, "com.vmware.cis.session", "get", token=token)
        assert answer["result"]["output"]["STRUCTURE"]["com.vmware.cis.session.info"]["user"] == (
            "VSPHERE.LOCAL\\Administrator"
        )


def test_api_login_answers_201_with_a_bare_string():
    client = client_for(small_cloud())
    response = client.post("/api/session", headers=basic())
    assert response.status_code == 201
    assert re.fullmatch(r"[0-9a-f]{32}", response.get_json())


def test_rest_logout_answers_200_empty_and_ends_the_session_everywhere():
    client = client_for(small_cloud())
    token = rest_login(client)
    response = client.delete(SESSION_URL, headers={"vmware-api-session-id": token})
    assert (response.status_code, response.get_data()) == (200, b"")
    response = session_info_rest(client, token)
    assert response.status_code == 401
    assert response.get_json() == NO_SESSION
    assert rpc(client, "com.vmware.cis.session", "get", token=token)["result"]["error"]["ERROR"].keys() == {
        "com.vmware.vapi.std.errors.unauthenticated"
    }


def test_api_logout_answers_204_and_api_401_carries_the_challenge():
    client = client_for(small_cloud())
    token = api_login(client)
    response = client.delete("/api/session", headers={"vmware-api-session-id": token})
    assert (response.status_code, response.get_data()) == (204, b"")
    response = client.get("/api/session", headers={"vmware-api-session-id": token})
    assert response.status_code == 401
    assert response.get_json() == {
        "error_type": "UNAUTHENTICATED",
        "messages": [
            {
                "args": [],
                "default_message": "This method requires authentication.",
                "id": "vapi.method.authentication.required",
            }
        ],
        "challenge": 'Basic realm="VAPI endpoint"',
    }


def test_rpc_logout_answers_null_output():
    client = client_for(small_cloud())
    token = rpc_login(client)
    assert rpc(client, "com.vmware.cis.session", "delete", token=token) == {
        "jsonrpc": "2.0",
        "id": "1",
        "result": {"output": None},
    }
    assert "error" in rpc(client, "com.vmware.cis.session", "get", token=token)["result"]


def test_sessions_expire_after_1800_idle_seconds_on_the_cloud_clock():
    cloud = small_cloud()
    client = client_for(cloud)
    token = rest_login(client)
    cloud.clock.advance(1800)
    assert session_info_rest(client, token).status_code == 200  # refreshes last access
    cloud.clock.advance(1800.5)
    response = session_info_rest(client, token)
    assert response.status_code == 401
    assert response.get_json() == NO_SESSION


def test_credentials_and_idle_timeout_are_configurable():
    cloud = small_cloud()
    client = client_for(cloud, username="ops@corp.local", password="s3cret", session_idle_timeout_s=10)
    assert client.post(SESSION_URL, headers=basic()).status_code == 401
    response = client.post(SESSION_URL, headers=basic("ops@corp.local", "s3cret"))
    assert response.status_code == 200
    token = response.get_json()["value"]
    assert session_info_rest(client, token).get_json()["value"]["user"] == "CORP.LOCAL\\Ops"
    cloud.clock.advance(11)
    assert session_info_rest(client, token).status_code == 401


def test_choices_in_dialect_state_override_the_defaults():
    cloud = small_cloud()
    client = client_for(cloud)
    cloud.dialect_state("vsphere")["choices"] = {"password": "changed"}
    assert client.post(SESSION_URL, headers=basic()).status_code == 401
    assert client.post(SESSION_URL, headers=basic(password="changed")).status_code == 200


def test_tokens_are_deterministic_per_seed_and_live_in_dialect_state():
    tokens = [rest_login(client_for(small_cloud(seed=7))) for _ in range(2)]
    assert tokens[0] == tokens[1]
    assert rest_login(client_for(small_cloud(seed=8))) != tokens[0]
    cloud = small_cloud()
    client = client_for(cloud)
    first, second = rest_login(client), rest_login(client)
    assert first != second
    assert list(cloud.dialect_state("vsphere")["sessions"]) == [first, second]


def test_rpc_login_answers_a_secret_and_rejects_bad_credentials():
    client = client_for(small_cloud())
    answer = rpc(
        client,
        "com.vmware.cis.session",
        "create",
        request_id="0",
        security={
            "schemeId": "com.vmware.vapi.std.security.user_pass",
            "userName": USER,
            "password": PASSWORD,
        },
    )
    assert answer["id"] == "0"
    assert re.fullmatch(r"[0-9a-f]{32}", answer["result"]["output"]["SECRET"])
    answer = rpc(
        client,
        "com.vmware.cis.session",
        "create",
        security={"schemeId": "com.vmware.vapi.std.security.user_pass", "userName": USER, "password": "nope"},
    )
    assert answer["result"]["error"] == {
        "ERROR": {
            "com.vmware.vapi.std.errors.unauthenticated": {
                "messages": [
                    {
                        "STRUCTURE": {
                            "com.vmware.vapi.std.localizable_message": {
                                "id": "com.vmware.vapi.endpoint.method.authentication.required",
                                "default_message": "Authentication required.",
                                "args": [],
                            }
                        }
                    }
                ],
                "data": {"OPTIONAL": None},
                "error_type": {"OPTIONAL": "UNAUTHENTICATED"},
            }
        }
    }


def test_rpc_user_pass_is_valid_only_for_session_create():
    client = client_for(small_cloud())
    answer = rpc(
        client,
        "com.vmware.cis.session",
        "get",
        security={
            "schemeId": "com.vmware.vapi.std.security.user_pass",
            "userName": USER,
            "password": PASSWORD,
        },
    )
    error = answer["result"]["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"]
    assert error["messages"][0]["STRUCTURE"]["com.vmware.vapi.std.localizable_message"]["id"] == (
        "vapi.method.authentication.required"
    )


def test_rpc_ignores_http_auth_headers():
    client = client_for(small_cloud())
    token = rest_login(client)
    envelope = {
        "jsonrpc": "2.0",
        "method": "invoke",
        "id": "5",
        "params": {
            "serviceId": "com.vmware.cis.session",
            "operationId": "get",
            "input": {"STRUCTURE": {"operation-input": {}}},
            "ctx": {"appCtx": {}},
        },
    }
    response = client.post("/api", json=envelope, headers={"vmware-api-session-id": token})
    assert "com.vmware.vapi.std.errors.unauthenticated" in response.get_json()["result"]["error"]["ERROR"]


def test_default_credentials_follow_the_configuration():
    from fakestack.dialects.vsphere import create_dialect

    assert create_dialect(small_cloud()).default_credentials() == {
        "username": "administrator@vsphere.local",
        "password": "password",
    }
    assert create_dialect(small_cloud(), username="ops@corp.local", password="x").default_credentials() == {
        "username": "ops@corp.local",
        "password": "x",
    }
