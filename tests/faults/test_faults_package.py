"""The faults package's layout: the admin API mounts its routes (nothing registers itself
on import), and the package keeps the one-module API it had."""

from werkzeug.test import Client

import fakestack
from fakestack import faults
from fakestack.app import make_app
from fakestack.model import ManualClock


def test_the_admin_index_lists_the_fault_routes_after_the_builtin_ones():
    client = Client(make_app(fakestack.Cloud("tiny", seed=0, clock=ManualClock())))
    endpoints = client.get("/_fakestack/").get_json()["endpoints"]
    listed = [(e["method"], e["path"]) for e in endpoints]
    assert listed[10:15] == [
        ("GET", "/_fakestack/faults"),
        ("POST", "/_fakestack/faults"),
        ("DELETE", "/_fakestack/faults"),
        ("GET", "/_fakestack/faults/{rule_id}"),
        ("DELETE", "/_fakestack/faults/{rule_id}"),
    ]
    assert endpoints[10]["summary"] == "The fault plan: every rule with its calls and hits."


def test_the_package_answers_every_name_of_its_public_api():
    for name in faults.__all__:
        assert hasattr(faults, name), name
    # ``injector`` is the function (the module holding it is ``faults.injection``).
    cloud = fakestack.Cloud("tiny", seed=0, clock=ManualClock())
    assert isinstance(faults.injector(cloud), faults.FaultInjector)
    from fakestack.faults.http import connection_dropping
    from fakestack.faults.injection import FaultInjector
    from fakestack.faults.plan import FaultRule

    assert (faults.FaultInjector, faults.FaultRule, faults.connection_dropping) == (
        FaultInjector,
        FaultRule,
        connection_dropping,
    )
