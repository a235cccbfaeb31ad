"""ZStack transport protocol: routing, wrappers, transport errors, sessions, async jobs, legacy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from freezegun import freeze_time
from zstack_support import (
    ADMIN_PASSWORD_HASH,
    StubCloud,
    auth,
    legacy,
    legacy_result,
    login,
    poll,
    stub_client,
)

from fakestack.model.clock import SystemClock


@pytest.fixture
def env():
    cloud, client = stub_client()
    return cloud, client


def text(response) -> str:
    return response.get_data(as_text=True)


# -- routing and transport errors -----------------------------------------------------


@pytest.mark.parametrize("prefix", ["/zstack/v1", "/v1"])
def test_login_works_under_both_context_paths(env, prefix):
    _, client = env
    response = client.put(
        f"{prefix}/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": ADMIN_PASSWORD_HASH}},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    inventory = response.get_json()["inventory"]
    assert inventory["accountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert inventory["userUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert inventory["userType"] == "AccountVO"
    assert inventory["createDate"] == "Jan 1, 2026 12:00:00 AM"
    assert inventory["expiredDate"] == "Jan 1, 2026 2:00:00 AM"
    assert len(inventory["uuid"]) == 32
    assert "location" not in response.get_json()


def test_unknown_path_is_404_plain_text(env):
    _, client = env
    response = client.get("/zstack/v1/no-such-things")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    assert text(response) == "no api mapping to /v1/no-such-things"
    assert client.get("/zstack/elsewhere").status_code == 404


def test_wrong_method_is_405(env):
    _, client = env
    response = client.patch("/v1/accounts/login", json={})
    assert response.status_code == 405
    assert text(response) == "The method[PATCH] is not allowed for the path[/v1/accounts/login]"


def test_put_without_action_key_is_400(env):
    _, client = env
    response = client.put("/zstack/v1/accounts/login", json={"somethingElse": {}})
    assert response.status_code == 400
    assert text(response) == "the body doesn't contain action mapping to the URL[/zstack/v1/accounts/login]"


def test_malformed_json_is_a_plain_text_400_not_a_crash(env):
    _, client = env
    response = client.put("/zstack/v1/accounts/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert text(response).startswith("the body is not valid JSON: ")
    response = client.put("/zstack/v1/accounts/login", json=[1, 2])
    assert (response.status_code, text(response)) == (400, "the body must be a JSON object")


def test_wrapper_that_is_not_an_object_is_400(env):
    _, client = env
    response = client.put("/zstack/v1/accounts/login", json={"logInByAccount": "admin"})
    assert response.status_code == 400
    assert text(response) == "the value of [logInByAccount] in the body must be a JSON object"


def test_type_mismatch_is_the_type_verifier_400(env):
    _, client = env
    session = login(client)
    response = client.put(
        f"/zstack/v1/accounts/sessions/{session}/renew",
        json={"renewSession": {"duration": "abc"}},
        headers=auth(session),
    )
    assert response.status_code == 400
    assert text(response) == "[duration] field is excepted an int or long, but was [abc]."


def test_missing_required_parameter_is_sys_1007_naming_it(env):
    _, client = env
    response = client.put("/zstack/v1/accounts/login", json={"logInByAccount": {"accountName": "admin"}})
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {
            "code": "SYS.1007",
            "description": "One or more API argument is invalid",
            "details": "field[password] of message[org.zstack.header.identity.APILogInByAccountMsg] "
            "is mandatory, can not be null",
        }
    }


def test_number_range_is_sys_1007(env):
    _, client = env
    session = login(client)
    response = client.put(
        f"/zstack/v1/accounts/sessions/{session}/renew",
        json={"renewSession": {"duration": 5}},
        headers=auth(session),
    )
    result = poll(client, response)
    assert result.status_code == 503
    assert result.get_json()["error"]["code"] == "SYS.1007"
    assert result.get_json()["error"]["details"] == "field[duration] must be in range of [60, 31536000]"


# -- authentication -----------------------------------------------------------------


def test_wrong_password_is_id_1000(env):
    _, client = env
    response = client.put(
        "/zstack/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": hashlib.sha512(b"nope").hexdigest()}},
    )
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {
            "code": "ID.1000",
            "description": "Unable to authenticate a user",
            "details": "wrong account name or password",
        }
    }


def test_configured_account_password(env):
    cloud, client = env
    client.application.dialects[0].set_account("admin", "s3cret")
    login(client, password_hash=hashlib.sha512(b"s3cret").hexdigest())
    response = client.put(
        "/zstack/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": ADMIN_PASSWORD_HASH}},
    )
    assert response.get_json()["error"]["code"] == "ID.1000"


def test_missing_and_foreign_authorization_are_400(env):
    _, client = env
    response = client.get("/zstack/v1/accesskeys")
    assert (response.status_code, text(response)) == (400, "missing header 'Authorization'")
    response = client.get("/zstack/v1/accesskeys", headers={"Authorization": "Bearer x"})
    assert (response.status_code, text(response)) == (400, "Authorization type must be 'OAuth'")


def test_unknown_session_is_id_1001_as_json_503(env):
    _, client = env
    response = client.get("/zstack/v1/accesskeys", headers=auth("0" * 32))
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {
            "code": "ID.1001",
            "description": "The session is invalid, either wrong session id or the session has been expired",
            "details": "Session expired",
        }
    }


def test_session_expiry_slides_with_the_clock():
    with freeze_time("2026-03-01 08:00:00") as frozen:
        cloud = StubCloud(clock=SystemClock())
        _, client = stub_client(cloud)
        session = login(client)
        frozen.tick(7000)
        assert client.get("/zstack/v1/accesskeys", headers=auth(session)).status_code == 200
        frozen.tick(7000)  # 14000 s after login, 7000 s after the last call: still valid
        assert client.get("/zstack/v1/accesskeys", headers=auth(session)).status_code == 200
        valid = client.get(f"/zstack/v1/accounts/sessions/{session}/valid")
        assert valid.get_json() == {"valid": True}
        frozen.tick(7201)
        response = client.get("/zstack/v1/accesskeys", headers=auth(session))
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "ID.1001"
        assert client.get(f"/zstack/v1/accounts/sessions/{session}/valid").get_json() == {"valid": False}


def test_logout_ends_the_session_and_unknown_logout_succeeds(env):
    _, client = env
    session = login(client)
    response = client.delete(f"/zstack/v1/accounts/sessions/{session}")
    assert (response.status_code, response.get_json()) == (200, {})
    assert client.get(f"/v1/accounts/sessions/{session}/valid").get_json() == {"valid": False}
    assert client.delete("/zstack/v1/accounts/sessions/" + "f" * 32).status_code == 200


def test_parameter_errors_come_before_session_errors(env):
    _, client = env
    response = client.put(
        "/zstack/v1/accounts/sessions/" + "a" * 32 + "/renew",
        json={"renewSession": {"duration": 1}},
        headers=auth("0" * 32),
    )
    assert poll(client, response).get_json()["error"]["code"] == "SYS.1007"


def _signed_headers(key_id, secret, method, uri, date="Thu, 01 Jan 2026 00:05:00 UTC"):
    signature = base64.b64encode(
        hmac.new(secret.encode(), f"{method}\n{date}\n{uri}".encode(), hashlib.sha1).digest()
    ).decode()
    return {"Authorization": f"ZStack {key_id}:{signature}", "Date": date}


def test_access_key_signature_scheme(env):
    _, client = env
    session = login(client)
    created = client.post(
        "/zstack/v1/accesskeys",
        json={
            "params": {
                "accountUuid": "36c27e8ff05c4780bf6d2fa65700f22e",
                "userUuid": "36c27e8ff05c4780bf6d2fa65700f22e",
                "AccessKeyID": "KEYID0001",
                "AccessKeySecret": "topsecret",
            }
        },
        headers=auth(session),
    )
    inventory = poll(client, created).get_json()["inventory"]
    assert inventory["AccessKeyID"] == "KEYID0001" and inventory["state"] == "Enabled"
    good = _signed_headers("KEYID0001", "topsecret", "GET", "/v1/accesskeys")
    response = client.get("/zstack/v1/accesskeys", headers=good)
    assert response.status_code == 200
    assert [k["AccessKeyID"] for k in response.get_json()["inventories"]] == ["KEYID0001"]
    bad = _signed_headers("KEYID0001", "wrong", "GET", "/v1/accesskeys")
    assert (
        client.get("/zstack/v1/accesskeys", headers=bad).status_code,
        text(client.get("/zstack/v1/accesskeys", headers=bad)),
    ) == (403, "wrong accessKey signature")
    unknown = _signed_headers("NOPE", "x", "GET", "/v1/accesskeys")
    assert (
        text(client.get("/zstack/v1/accesskeys", headers=unknown))
        == "access key id: NOPE does not existed or disabled"
    )
    skewed = _signed_headers(
        "KEYID0001", "topsecret", "GET", "/v1/accesskeys", date="Thu, 01 Jan 2026 01:00:00 UTC"
    )
    response = client.get("/zstack/v1/accesskeys", headers=skewed)
    assert (response.status_code, text(response)) == (403, "requestTimeTooSkewed")
    response = client.get("/zstack/v1/accesskeys", headers={"Authorization": "ZStack KEYID0001:abc"})
    assert (response.status_code, text(response)) == (400, "'Date' must be incuded in request header")
    response = client.get("/zstack/v1/accesskeys", headers={"Authorization": "ZStack garbage"})
    assert (response.status_code, text(response)) == (
        400,
        "accessKey format is 'ZStack AccessKeyId:Signature'",
    )


# -- async jobs -------------------------------------------------------------------


def test_async_api_answers_202_with_location_from_host_and_client_job_uuid(env):
    _, client = env
    session = login(client)
    job = "0e9f6d8a2b7c4c1e8f5a3d2c1b0a9f8e"
    response = client.put(
        f"/zstack/v1/accounts/sessions/{session}/renew",
        json={"renewSession": {"duration": 600}},
        headers=auth(session, **{"X-Job-UUID": job, "Host": "127.0.0.1:8080"}),
    )
    assert response.status_code == 202
    assert response.get_json() == {
        "location": f"http://127.0.0.1:8080/zstack/v1/api-jobs/{job}",
        "apiTimeout": 1800000,
    }
    # without context path, and with a Host lacking a port
    response = client.put(
        f"/v1/accounts/sessions/{session}/renew",
        json={"renewSession": {"duration": 600}},
        headers=auth(session, Host="fake.example"),
    )
    assert response.get_json()["location"].startswith("http://fake.example:80/v1/api-jobs/")
    result = client.get(f"/v1/api-jobs/{job}")
    assert result.status_code == 200
    assert result.get_json()["inventory"]["uuid"] == session


def test_duplicate_and_malformed_job_uuid_are_400(env):
    _, client = env
    session = login(client)
    job = "1" * 32
    body = {"renewSession": {"duration": 600}}
    url = f"/zstack/v1/accounts/sessions/{session}/renew"
    assert client.put(url, json=body, headers=auth(session, **{"X-Job-UUID": job})).status_code == 202
    response = client.put(url, json=body, headers=auth(session, **{"X-Job-UUID": job}))
    assert (response.status_code, text(response)) == (400, f"Duplicate job uuid[{job}]")
    response = client.put(url, json=body, headers=auth(session, **{"X-Job-UUID": "short"}))
    assert (response.status_code, text(response)) == (
        400,
        "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped",
    )


def test_async_errors_are_202_then_503_on_poll(env):
    _, client = env
    response = client.put(
        "/zstack/v1/accounts/sessions/" + "a" * 32 + "/renew",
        json={"renewSession": {"duration": 600}},
        headers=auth("b" * 32),
    )
    result = poll(client, response)
    assert result.status_code == 503
    assert result.get_json()["error"]["code"] == "ID.1001"


def test_job_poll_unknown_expired_and_wrong_method(env):
    cloud, client = env
    response = client.get("/zstack/v1/api-jobs/" + "9" * 32)
    assert (response.status_code, text(response)) == (404, "the job has been expired")
    response = client.delete("/zstack/v1/api-jobs/" + "9" * 32)
    assert (response.status_code, text(response)) == (
        405,
        "only GET method is allowed for querying job status",
    )
    session = login(client)
    job = "2" * 32
    client.put(
        f"/zstack/v1/accounts/sessions/{session}/renew",
        json={"renewSession": {"duration": 600}},
        headers=auth(session, **{"X-Job-UUID": job}),
    )
    assert client.get(f"/zstack/v1/api-jobs/{job}").status_code == 200
    cloud.clock.advance(10801)
    assert client.get(f"/zstack/v1/api-jobs/{job}").status_code == 404


def test_a_job_with_simulated_duration_is_202_until_the_clock_reaches_it(env):
    from fakestack.dialects.zstack import jobs

    cloud, client = env
    dialect = client.application.dialects[0]
    now = cloud.clock.now()
    jobs.record(
        dialect.state,
        "3" * 32,
        api="RenewSession",
        now=now,
        ready_at=now + 30,
        ok=True,
        payload={"inventory": {"uuid": "x"}},
        error=None,
        stage="handler",
    )
    first = client.get("/zstack/v1/api-jobs/" + "3" * 32)
    assert (first.status_code, first.get_json()) == (202, {})
    cloud.clock.advance(30)
    assert client.get("/zstack/v1/api-jobs/" + "3" * 32).get_json() == {"inventory": {"uuid": "x"}}


# -- legacy endpoint ------------------------------------------------------------


def test_legacy_login_is_200_done_with_result_string(env):
    _, client = env
    response = legacy(
        client,
        "org.zstack.header.identity.APILogInByAccountMsg",
        {"accountName": "admin", "password": ADMIN_PASSWORD_HASH},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "Done" and "uuid" not in body
    assert body["createdDate"] == body["finishedDate"] == "Jan 1, 2026 12:00:00 AM"
    reply = legacy_result(response)["org.zstack.header.identity.APILogInReply"]
    assert reply["success"] is True
    assert reply["inventory"]["accountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"


def test_legacy_errors_keep_http_200(env):
    _, client = env
    response = legacy(
        client, "org.zstack.header.identity.APILogInByAccountMsg", {"accountName": "admin", "password": "x"}
    )
    assert response.status_code == 200
    reply = legacy_result(response)["org.zstack.header.identity.APILogInReply"]
    assert reply == {
        "success": False,
        "error": {
            "code": "ID.1000",
            "description": "Unable to authenticate a user",
            "details": "wrong account name or password",
        },
    }
    # interceptor errors use the generic class
    response = legacy(client, "org.zstack.accessKey.APIQueryAccessKeyMsg", {"session": {"uuid": "0" * 32}})
    reply = legacy_result(response)["org.zstack.header.message.APIReply"]
    assert reply["error"]["code"] == "ID.1001"


def test_legacy_async_message_is_processing_then_done(env):
    _, client = env
    session = login(client)
    response = legacy(
        client,
        "org.zstack.header.identity.APIRenewSessionMsg",
        {"sessionUuid": session, "duration": 300, "session": {"uuid": session}},
    )
    body = response.get_json()
    assert body["state"] == "Processing" and len(body["uuid"]) == 32 and "result" not in body
    done = client.get(f"/zstack/api/result/{body['uuid']}")
    assert done.get_json()["state"] == "Done"
    event = json.loads(done.get_json()["result"])["org.zstack.header.identity.APIRenewSessionEvent"]
    assert event["success"] is True and event["inventory"]["uuid"] == session


def test_legacy_validate_session_uses_the_raw_java_field(env):
    _, client = env
    session = login(client)
    response = legacy(client, "org.zstack.header.identity.APIValidateSessionMsg", {"sessionUuid": session})
    assert legacy_result(response)["org.zstack.header.identity.APIValidateSessionReply"] == {
        "validSession": True,
        "success": True,
    }


def test_legacy_bad_inputs(env):
    _, client = env
    response = client.post("/zstack/api/", json={"org.zstack.Foo": {}})
    assert (response.status_code, text(response)) == (200, "Unable to deserialize class org.zstack.Foo")
    response = client.post("/zstack/api", data="{oops", content_type="application/json")
    assert response.status_code == 200 and text(response).startswith("Unable to decode the API message")
    response = client.post(
        "/zstack/api/", json={"org.zstack.header.identity.APILogOutMsg": {"systemTags": 5}}
    )
    assert (response.status_code, text(response)) == (
        200,
        "Unable to deserialize class org.zstack.header.identity.APILogOutMsg: [systemTags] must be a list",
    )
    response = client.get("/zstack/api/result/" + "4" * 32)
    assert (response.status_code, text(response)) == (404, f"No api result[uuid:{'4' * 32}] found")
    assert client.get("/zstack/api/").status_code == 405


def test_api_timeout_header_overrides_and_a_bad_one_runs_nothing(env):
    cloud, client = env
    session = login(client)
    url = f"/zstack/v1/accounts/sessions/{session}/renew"
    body = {"renewSession": {"duration": 600}}
    response = client.put(url, json=body, headers=auth(session, **{"X-API-Timeout": "60"}))
    assert response.get_json()["apiTimeout"] == 60000
    jobs_before = len(cloud.dialect_state("zstack")["jobs"])
    response = client.put(url, json=body, headers=auth(session, **{"X-API-Timeout": "soon"}))
    assert (response.status_code, text(response)) == (
        400,
        "Invalid header[X-API-Timeout], it must be a number but was [soon]",
    )
    assert len(cloud.dialect_state("zstack")["jobs"]) == jobs_before


def test_a_deleted_access_key_no_longer_signs_and_an_unknown_one_is_sys_1003(env):
    _, client = env
    session = login(client)
    created = client.post(
        "/zstack/v1/accesskeys",
        json={
            "params": {
                "accountUuid": "36c27e8ff05c4780bf6d2fa65700f22e",
                "userUuid": "36c27e8ff05c4780bf6d2fa65700f22e",
                "AccessKeyID": "KEYID0002",
                "AccessKeySecret": "gone-soon",
            }
        },
        headers=auth(session),
    )
    uuid = poll(client, created).get_json()["inventory"]["uuid"]
    signed = _signed_headers("KEYID0002", "gone-soon", "GET", "/v1/accesskeys")
    assert client.get("/zstack/v1/accesskeys", headers=signed).status_code == 200
    deleted = poll(client, client.delete(f"/zstack/v1/accesskeys/{uuid}", headers=auth(session)))
    assert (deleted.status_code, deleted.get_json()) == (200, {})
    response = client.get("/zstack/v1/accesskeys", headers=signed)
    assert (response.status_code, text(response)) == (
        403,
        "access key id: KEYID0002 does not existed or disabled",
    )
    again = poll(client, client.delete(f"/zstack/v1/accesskeys/{uuid}", headers=auth(session)))
    assert (again.status_code, again.get_json()) == (
        503,
        {
            "error": {
                "code": "SYS.1003",
                "description": "A resource can not be found",
                "details": f"invalid field[uuid], resource[uuid:{uuid}, type:AccessKeyVO] not found",
            }
        },
    )


def test_get_version_needs_no_session_and_includes_success(env):
    _, client = env
    response = client.put("/zstack/v1/management-nodes/actions", json={"getVersion": {}})
    assert (response.status_code, response.get_json()) == (200, {"version": "5.2.1", "success": True})
