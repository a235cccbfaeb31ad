"""README example 1: the ``fakestack`` fixture with an exhaustion fault, in process."""

import httpx
import pytest
from example_clonepool import ClonePool

from fakestack import faults


@pytest.mark.fakestack(topology="demo", seed=0)
def test_pool_reports_the_clone_that_found_no_host(fakestack, fakestack_app):
    # the 2nd clone of the call finds no host with free CPU, exactly as a real shortage
    faults.add(fakestack, faults.exhaust("vm.clone", "host.cpu", nth=2))
    http = httpx.Client(transport=httpx.WSGITransport(app=fakestack_app), base_url="http://fakestack")
    pool = ClonePool(http, golden=fakestack.vms.get("golden").uuid)

    failed = pool.grow(["web-1", "web-2", "web-3"])

    assert failed == {"web-2": "VM.1001"}
    assert len(pool.members) == 2
    assert sorted(vm.name for vm in fakestack.vms) == ["golden", "web-1", "web-3"]
