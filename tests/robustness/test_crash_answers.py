"""Defect 6: a bug of the fake (an exception nobody expected) is answered in the dialect's
own shape: ZStack an ErrorCode (SYS.1000), vSphere REST/API vAPI internal_server_error,
JSON-RPC HTTP 200 with result.error internal_server_error, InstaVM FastAPI's 500."""

from __future__ import annotations

import pytest
from support import INSTAVM_KEY, Fake

from fakestack.dialects.instavm.dialect import InstaVMDialect
from fakestack.dialects.vsphere import jsonrpc
from fakestack.dialects.vsphere.dialect import VsphereDialect
from fakestack.dialects.zstack.dialect import ZStackDialect


def _boom(*args, **kwargs):
    raise RuntimeError("simulated bug")


@pytest.mark.parametrize("path", ["/zstack/v1/vm-instances", "/v1/vm-instances"])
def test_zstack_crash_is_a_sys_1000_error_code(monkeypatch, path):
    fake = Fake()
    auth = fake.zstack_auth()
    monkeypatch.setattr(ZStackDialect, "_rest_api", _boom)
    response = fake.client.get(path, headers=auth)
    assert response.status_code == 503
    assert response.get_json() == {
        "error": {
            "code": "SYS.1000",
            "description": "An internal error happened in system",
            "details": "RuntimeError: simulated bug",
        }
    }


def test_instavm_crash_is_fastapis_500(monkeypatch):
    fake = Fake()
    monkeypatch.setattr(InstaVMDialect, "_handle", _boom)
    response = fake.client.get("/v1/vms", headers=INSTAVM_KEY)
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert response.get_data() == b"Internal Server Error"


@pytest.mark.parametrize("surface", ["rest", "api"])
def test_vsphere_rest_crash_is_internal_server_error(monkeypatch, surface):
    fake = Fake()
    auth = fake.vsphere_auth()
    monkeypatch.setattr(VsphereDialect, "handle_rest", _boom)
    response = fake.client.get(f"/{surface}/vcenter/vm", headers=auth)
    assert response.status_code == 500
    body = response.get_json()
    if surface == "rest":
        assert body["type"] == "com.vmware.vapi.std.errors.internal_server_error"
        messages = body["value"]["messages"]
    else:
        assert body["error_type"] == "INTERNAL_SERVER_ERROR"
        messages = body["messages"]
    assert messages[0]["default_message"] == "Internal server error: RuntimeError: simulated bug"


def _rpc(fake, request_id="42"):
    return fake.client.post(
        "/api",
        json={
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "invoke",
            "params": {
                "serviceId": "com.vmware.vcenter.VM",
                "operationId": "list",
                "input": {"STRUCTURE": {"operation-input": {}}},
                "ctx": {},
            },
        },
    )


def test_jsonrpc_crash_in_an_operation_is_http_200_internal_server_error(monkeypatch):
    fake = Fake()
    monkeypatch.setattr(VsphereDialect, "_authenticate_rpc", _boom)
    response = _rpc(fake)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "42"
    error = body["result"]["error"]["ERROR"]["com.vmware.vapi.std.errors.internal_server_error"]
    assert error["error_type"] == {"OPTIONAL": "INTERNAL_SERVER_ERROR"}


def test_jsonrpc_crash_before_the_envelope_is_read_is_still_http_200(monkeypatch):
    fake = Fake()
    monkeypatch.setattr(VsphereDialect, "handle_jsonrpc", _boom)
    response = _rpc(fake, "7")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "7"
    assert "com.vmware.vapi.std.errors.internal_server_error" in body["result"]["error"]["ERROR"]
    monkeypatch.setattr(jsonrpc, "parse_invocation", _boom)
    response = _rpc(fake, "8")
    assert response.status_code == 200 and response.get_json()["id"] is None
