"""Defects 2, 3 and 5: unpaired surrogates, deep nesting, NaN/Infinity and numbers too big
for a float are refused at the boundary of every dialect (and the admin API), each in the
dialect's own shape, and nothing is stored."""

from __future__ import annotations

import pytest
from support import INSTAVM_KEY, ZSTACK_PASSWORD, Fake

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 70 + b"1" + b"}" * 70  # parses in Python, still deeper than allowed


def post(fake, path, raw: bytes, headers=None, method="POST"):
    return fake.client.open(path, method=method, data=raw, headers={**JSON, **(headers or {})})


# -- unpaired surrogates (defect 2) ------------------------------------------------------


def test_instavm_snapshot_with_a_surrogate_is_a_422_and_is_not_stored():
    fake = Fake()
    before = fake.client.get("/v1/snapshots", headers=INSTAVM_KEY).get_json()
    response = post(fake, "/v1/snapshots", b'{"oci_image": "\\ud800"}', INSTAVM_KEY)
    assert response.status_code == 422
    assert response.get_json() == {
        "detail": [
            {
                "type": "string_unicode",
                "loc": ["body", "oci_image"],
                "msg": "Input should be a valid string, unable to parse raw data as a unicode string",
                "input": "\\ud800",
            }
        ]
    }
    after = fake.client.get("/v1/snapshots", headers=INSTAVM_KEY)
    assert after.status_code == 200
    assert after.get_json() == before


def test_instavm_raw_surrogate_bytes_and_surrogate_keys_are_refused_too():
    fake = Fake()
    raw = b'{"oci_image": "x", "name": "' + b"\xed\xa0\x80" + b'"}'
    response = post(fake, "/v1/snapshots", raw, INSTAVM_KEY)
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "name"]
    response = post(fake, "/v1/vms", b'{"metadata": {"\\udfff": 1}}', INSTAVM_KEY)
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "metadata", "\\udfff"]


def test_zstack_rest_surrogate_in_a_param_is_a_plain_text_400():
    fake = Fake()
    auth = fake.zstack_auth()
    response = post(fake, "/zstack/v1/vm-instances", b'{"params": {"name": "vm", "cpuNum": "\\ud800"}}', auth)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "[params.cpuNum] holds an unpaired UTF-16 surrogate (\\ud800)" in response.get_data(as_text=True)


def test_zstack_legacy_surrogate_is_answered_as_an_undecodable_message():
    fake = Fake()
    session = fake.zstack_session()
    raw = (
        '{"org.zstack.header.vm.APIQueryVmInstanceMsg": {"session": {"uuid": "'
        + session
        + '"}, "conditions": [{"name": "name", "op": "=", "value": "\\ud800"}]}}'
    ).encode()
    response = post(fake, "/zstack/api/", raw)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("Unable to decode the API message:")
    assert "unpaired UTF-16 surrogate" in response.get_data(as_text=True)


def test_vsphere_rest_and_jsonrpc_answer_invalid_argument_for_a_surrogate():
    fake = Fake()
    auth = fake.vsphere_auth()
    response = post(
        fake, "/api/vcenter/vm?action=instant-clone", b'{"source": "vm-1", "name": "\\ud800"}', auth
    )
    assert response.status_code == 400
    assert response.get_json()["error_type"] == "INVALID_ARGUMENT"
    raw = (
        b'{"jsonrpc": "2.0", "id": "7", "method": "invoke", "params": {"serviceId": '
        b'"com.vmware.vcenter.VM", "operationId": "list", "input": {"x": "\\ud800"}, "ctx": {}}}'
    )
    response = post(fake, "/api", raw)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "7"
    assert "com.vmware.vapi.std.errors.invalid_argument" in body["result"]["error"]["ERROR"]


def test_admin_refuses_a_surrogate_with_400():
    fake = Fake()
    response = post(fake, "/_fakestack/clock", b'{"to": "\\ud800"}')
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


# -- deep nesting (defect 3) -------------------------------------------------------------


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT], ids=["100000-arrays", "70-objects"])
def test_deep_nesting_is_each_dialects_parse_error(raw):
    fake = Fake()
    zs = post(fake, "/zstack/v1/vm-instances", raw, fake.zstack_auth())
    assert zs.status_code == 400 and zs.mimetype == "text/plain"
    assert zs.get_data(as_text=True).startswith("the body is not valid JSON")
    legacy = post(fake, "/zstack/api/", raw)
    assert legacy.status_code == 200
    assert legacy.get_data(as_text=True).startswith("Unable to decode the API message")
    rest = post(fake, "/rest/vcenter/vm?action=instant-clone", raw, fake.vsphere_auth())
    assert rest.status_code == 400
    assert rest.get_json()["type"] == "com.vmware.vapi.std.errors.invalid_request"
    rpc = post(fake, "/api", raw)
    assert rpc.status_code == 200
    assert rpc.get_json()["error"]["code"] == -32700
    insta = post(fake, "/v1/vms", raw, INSTAVM_KEY)
    assert insta.status_code == 422
    assert insta.get_json()["detail"][0]["type"] == "json_invalid"
    admin = post(fake, "/_fakestack/faults", raw)
    assert admin.status_code == 400
    admin = post(fake, "/_fakestack/clock", raw)
    assert admin.status_code == 400
    fake.admin_ok()


# -- NaN, Infinity, huge numbers (defect 5) ----------------------------------------------


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_instavm_non_finite_numbers_are_a_422_at_the_field(literal):
    fake = Fake()
    response = post(fake, "/v1/vms", b'{"memory_mb": ' + literal + b"}", INSTAVM_KEY)
    assert response.status_code == 422
    assert response.get_json() == {
        "detail": [
            {
                "type": "finite_number",
                "loc": ["body", "memory_mb"],
                "msg": "Input should be a finite number",
                "input": None,
            }
        ]
    }
    response = post(fake, "/v1/vms", b'{"metadata": {"x": [1, ' + literal + b"]}}", INSTAVM_KEY)
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "metadata", "x", 1]
    assert fake.client.get("/v1/vms/", headers=INSTAVM_KEY).status_code == 200


def test_non_finite_numbers_in_the_other_dialects():
    fake = Fake()
    zs = post(fake, "/zstack/v1/vm-instances", b'{"params": {"cpuNum": NaN}}', fake.zstack_auth())
    assert zs.status_code == 400 and "[params.cpuNum] is nan" in zs.get_data(as_text=True)
    api = post(fake, "/api/vcenter/vm?action=instant-clone", b'{"source": Infinity}', fake.vsphere_auth())
    assert api.status_code == 400 and api.get_json()["error_type"] == "INVALID_ARGUMENT"
    login = fake.client.put(
        "/zstack/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": ZSTACK_PASSWORD}},
    )
    assert login.status_code == 200
