"""README example 2: the live endpoint with a plain HTTP client."""

import httpx
from example_clonepool import ClonePool


def test_pool_against_the_live_endpoint(fakestack_server):
    with httpx.Client(base_url=fakestack_server.url, timeout=10) as http:
        # steer the fake over HTTP, as a colleague could with curl
        rule = {
            "match": "vm.clone",
            "when": {"nth": 2},
            "effect": {"type": "exhaust", "resource": "host.memory"},
        }
        assert http.post("/_fakestack/faults", json=rule).status_code == 201

        pool = ClonePool(http, golden=fakestack_server.cloud.vms.get("golden").uuid)
        assert pool.grow(["a", "b", "c"]) == {"b": "VM.1001"}

        vms = pool.call("GET", "/zstack/v1/vm-instances?q=name=b")
        assert vms["inventories"] == []
        assert http.get("/_fakestack/faults").json()["rules"][0]["hits"] == 1
