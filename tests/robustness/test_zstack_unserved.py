"""Defect 13: a ZStack API the fake does not serve answers as the real server answers an
unknown path (404 plain text), never as another API that a less specific template matches."""

from __future__ import annotations

import pytest
from support import Fake

from fakestack.dialects.zstack.known_paths import KNOWN_PATHS


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/vm-instances/appliances"),  # would match QueryVmInstance /{uuid}
        ("GET", "/hosts/hypervisor-types"),  # QueryHost /{uuid}
        ("GET", "/volume-snapshots/group"),  # QueryVolumeSnapshot /{uuid}
        ("POST", "/hosts/kvm"),  # only a GET /hosts/{uuid} is served
        ("PUT", "/volume-snapshots/batch-delete"),
        ("DELETE", "/vm-instances/cdroms/" + "a" * 32),  # DestroyVmInstance is /vm-instances/{uuid}
    ],
)
@pytest.mark.parametrize("context", ["/zstack/v1", "/v1"])
def test_an_unserved_api_is_an_unknown_path(context, method, path):
    fake = Fake()
    response = fake.client.open(
        context + path,
        method=method,
        headers=fake.zstack_auth(),
        json={"params": {}} if method in ("POST", "PUT") else None,
    )
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"no api mapping to /v1{path}"


def test_served_apis_still_match_their_templates():
    fake = Fake()
    auth = fake.zstack_auth()
    vms = fake.client.get("/zstack/v1/vm-instances", headers=auth).get_json()["inventories"]
    uuid = vms[0]["uuid"]
    one = fake.client.get(f"/zstack/v1/vm-instances/{uuid}", headers=auth)
    assert one.status_code == 200 and one.get_json()["inventories"][0]["uuid"] == uuid
    missing = fake.client.get("/zstack/v1/vm-instances/" + "b" * 32, headers=auth)
    assert missing.status_code == 200 and missing.get_json()["inventories"] == []
    nics = fake.client.get("/zstack/v1/vm-instances/nics", headers=auth)
    assert nics.status_code == 200


def test_the_known_paths_are_the_real_catalogue():
    assert len(KNOWN_PATHS) == len(set(KNOWN_PATHS)) > 1400
    assert "/vm-instances/appliances" in KNOWN_PATHS
    assert "/vm-instances/{}/actions" in KNOWN_PATHS
