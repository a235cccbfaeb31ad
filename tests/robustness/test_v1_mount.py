"""Defect 12: ``/v1/...`` is mounted by ZStack (its alias) and by InstaVM.  The mount is
decided by the request: InstaVM owns the path segments only its SDK uses; on the one
both use (``/v1/volumes``) a request with InstaVM credentials is InstaVM's, any other
ZStack's.  Every path of the InstaVM SDK is checked with an InstaVM key."""

from __future__ import annotations

import re

import pytest
from support import INSTAVM_KEY, Fake

from fakestack.dialects.instavm.routes import ALL_ENDPOINTS

_VAR = re.compile(r"\{(\w+)\}")


def _last_dialect(fake) -> str:
    return fake.app.request_journal[-1]["dialect"]


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=lambda e: f"{e.method} {e.pattern}")
@pytest.mark.parametrize(
    "credentials",
    [INSTAVM_KEY, {"Authorization": "Bearer instavm_sk_fakestack"}],
    ids=["x-api-key", "bearer"],
)
def test_every_instavm_sdk_path_with_an_instavm_key_is_answered_by_instavm(endpoint, credentials):
    fake = Fake()
    path = _VAR.sub("x1", endpoint.pattern)
    body = {} if endpoint.body is not None else None
    if endpoint.auth == "body":
        body = {"api_key": "instavm_sk_fakestack"}
    response = fake.client.open(path, method=endpoint.method, json=body, headers=credentials)
    assert _last_dialect(fake) == "instavm", (endpoint, response.get_data()[:200])
    assert response.status_code != 401
    if endpoint.handler == "not_implemented":
        assert response.status_code == 501
        assert response.get_json() == {"detail": f"{endpoint.method} {path} is not implemented by fakestack"}


def test_instavm_volumes_are_instavms_with_its_key_and_zstacks_otherwise():
    fake = Fake()
    insta = fake.client.get("/v1/volumes", headers=INSTAVM_KEY)
    assert (insta.status_code, _last_dialect(fake)) == (200, "instavm")
    assert isinstance(insta.get_json(), (list, dict))
    zstack = fake.client.get("/v1/volumes", headers=fake.zstack_auth())
    assert (zstack.status_code, _last_dialect(fake)) == (200, "zstack")
    assert isinstance(zstack.get_json()["inventories"], list)
    bare = fake.client.get("/v1/volumes")
    assert (bare.status_code, bare.get_data(as_text=True), _last_dialect(fake)) == (
        400,
        "missing header 'Authorization'",
        "zstack",
    )
    uuid = zstack.get_json()["inventories"][0]["uuid"]
    one = fake.client.get(f"/v1/volumes/{uuid}", headers=fake.zstack_auth())
    assert one.get_json()["inventories"][0]["uuid"] == uuid


def test_zstack_alias_paths_stay_zstacks():
    fake = Fake()
    auth = fake.zstack_auth()
    for path in ("/v1/vm-instances", "/v1/hosts", "/v1/volume-snapshots", "/v1/images"):
        response = fake.client.get(path, headers=auth)
        assert (response.status_code, _last_dialect(fake)) == (200, "zstack"), path
