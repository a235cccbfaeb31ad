"""Defect 1: the admin clock refuses times the dialects' date formats cannot render,
with a 400, and changes nothing."""

from __future__ import annotations

import pytest
from support import INSTAVM_KEY, Fake


@pytest.mark.parametrize(
    "body",
    [
        {"advance": 1e20},
        {"to": 1e18},
        {"advance": 1e308},
        {"to": "9999-12-31T23:59:59Z"},
        {"to": 253402300800},
    ],
)
def test_clock_refuses_times_past_what_dates_render_and_changes_nothing(body):
    fake = Fake()
    before = fake.client.get("/_fakestack/clock").get_json()
    response = fake.client.post("/_fakestack/clock", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert "9999-01-01T00:00:00Z" in response.get_json()["message"]
    assert fake.client.get("/_fakestack/clock").get_json() == before
    # every dialect still renders its dates
    assert (
        fake.client.put(
            "/zstack/v1/accounts/login",
            json={
                "logInByAccount": {"accountName": "admin", "password": __import__("support").ZSTACK_PASSWORD}
            },
        ).status_code
        == 200
    )
    assert fake.client.get("/v1/snapshots", headers=INSTAVM_KEY).status_code == 200
    assert fake.client.post("/_fakestack/reset").status_code == 200


def test_clock_moves_up_to_the_last_renderable_day():
    fake = Fake()
    response = fake.client.post("/_fakestack/clock", json={"to": "9998-12-31T00:00:00Z"})
    assert response.status_code == 200
    assert response.get_json()["iso"] == "9998-12-31T00:00:00Z"
    session = fake.zstack_session()  # its expiry date (2 h later) still renders
    listed = fake.client.get("/zstack/v1/vm-instances", headers={"Authorization": f"OAuth {session}"})
    assert listed.status_code == 200
    assert fake.client.get("/v1/vms/", headers=INSTAVM_KEY).status_code == 200
    fake.vsphere_session()


@pytest.mark.parametrize("to", [-3.143431410270688e16, -1, "0001-01-01T00:00:00Z"])
def test_clock_refuses_times_before_1970_or_unrenderable_with_400(to):
    """Found by schemathesis: a far negative 'to' crashed the past-time message."""
    fake = Fake()
    response = fake.client.post("/_fakestack/clock", json={"to": to})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
