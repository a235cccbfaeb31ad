"""Defect 4: a value of the wrong type anywhere is the dialect's argument error, never an
internal error answered as success."""

from __future__ import annotations

import pytest
from support import Fake

QUERY_VMS = "org.zstack.header.vm.APIQueryVmInstanceMsg"


@pytest.mark.parametrize("uuid", [1, ["a"], {"x": 1}, True, 1.5])
def test_legacy_non_string_session_uuid_is_a_deserialization_error(uuid):
    fake = Fake()
    response = fake.client.post("/zstack/api/", json={QUERY_VMS: {"session": {"uuid": uuid}}})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith(
        f"Unable to deserialize class {QUERY_VMS}: [session.uuid] field is excepted a string"
    )
    assert "SYS.1000" not in text


@pytest.mark.parametrize("session", ["abc", 1, ["x"]])
def test_legacy_session_that_is_not_an_object_is_a_deserialization_error(session):
    fake = Fake()
    response = fake.client.post("/zstack/api/", json={QUERY_VMS: {"session": session}})
    assert response.status_code == 200
    assert "[session] field is excepted a SessionInventory" in response.get_data(as_text=True)


def test_legacy_with_a_valid_session_still_answers():
    fake = Fake()
    session = fake.zstack_session()
    response = fake.client.post("/zstack/api/", json={QUERY_VMS: {"session": {"uuid": session}}})
    assert response.status_code == 200
    assert response.get_json()["state"] == "Done"
    assert '"success": true' in response.get_json()["result"].replace('":true', '": true')


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 10**30])
def test_zstack_int_outside_the_java_field_is_a_type_error(value):
    fake = Fake()
    response = fake.client.post(
        "/zstack/v1/vm-instances",
        headers=fake.zstack_auth(),
        json={"params": {"name": "big", "cpuNum": value, "memorySize": 1024}},
    )
    assert response.status_code == 400
    assert response.get_data(as_text=True) == (
        f"[cpuNum] field is excepted an int or long, but was [{value}]."
    )


@pytest.mark.parametrize("timeout", ["inf", "nan", "1e400", "x"])
def test_zstack_api_timeout_header_that_is_no_number_is_400(timeout):
    fake = Fake()
    response = fake.client.post(
        "/zstack/v1/vm-instances",
        headers={**fake.zstack_auth(), "X-API-Timeout": timeout},
        json={"params": {"name": "o", "cpuNum": 1, "memorySize": 1024}},
    )
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("Invalid header[X-API-Timeout]")
