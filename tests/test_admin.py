"""The /_fakestack admin API, through werkzeug's test client on make_app(cloud)."""

from __future__ import annotations

import json
import sys
import types

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

import fakestack
from fakestack import Cloud, ManualClock, load_topology
from fakestack import app as app_module
from fakestack.admin import AdminError, register_admin_route, unregister_admin_route
from fakestack.app import make_app

START = 1_767_225_600.0  # ManualClock's default start: 2026-01-01T00:00:00Z


class StubDialect:
    """A tiny dialect: /stub/echo answers the body back, /stub/stop/<vm> stops a VM."""

    name = "stub"
    prefixes = ("/stub",)

    def __init__(self, cloud) -> None:
        self.cloud = cloud

    def handle(self, request):
        if request.path == "/stub/echo":
            return Response(request.get_data(), status=201, mimetype="text/plain")
        if request.path.startswith("/stub/stop/"):
            vm = self.cloud.stop_vm(self.cloud.vms.get(request.path.rsplit("/", 1)[1]))
            return Response(json.dumps({"state": vm.state}), mimetype="application/json")
        if request.path == "/stub/crash":
            raise RuntimeError("stub bug")
        return Response('{"detail": "Not Found"}', status=404, mimetype="application/json")


@pytest.fixture
def cloud():
    return Cloud("demo", seed=0, clock=ManualClock())


@pytest.fixture
def app(cloud):
    return make_app(cloud, dialects=[StubDialect(cloud)])


@pytest.fixture
def client(app):
    return Client(app)


def get_json(client, path, **kw):
    response = client.get(path, **kw)
    return response.status_code, response.get_json()


def post_json(client, path, body, method="POST"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = client.open(path, method=method, data=data, content_type="application/json")
    return response.status_code, response.get_json()


# -- health, state, capacity ------------------------------------------------------------


def test_health_names_version_topology_seed_and_dialects(client):
    status, body = get_json(client, "/_fakestack/health")
    assert status == 200
    assert body == {
        "status": "ok",
        "version": fakestack.__version__,
        "topology": "demo",
        "seed": 0,
        "dialects": ["stub"],
    }


def test_every_admin_answer_is_json(client):
    for path in ("/_fakestack/health", "/_fakestack/nope", "/_fakestack/clock"):
        assert client.get(path).mimetype == "application/json"


def test_health_answers_with_a_trailing_slash_too(client):
    assert get_json(client, "/_fakestack/health/")[0] == 200


def test_state_is_the_snapshot_and_restores_to_the_same_state(client, cloud):
    status, body = get_json(client, "/_fakestack/state")
    assert status == 200
    assert body == json.loads(json.dumps(cloud.snapshot()))
    assert Cloud.restore(body).snapshot() == body
    assert [vm["name"] for vm in Cloud.snapshot_records(body, "vms")] == ["golden"]


def test_capacity_is_the_cloud_capacity_table(client, cloud):
    status, body = get_json(client, "/_fakestack/capacity")
    assert status == 200
    assert body == cloud.capacity()
    host3 = next(h for h in body["hosts"] if h["name"] == "host-3")
    assert (host3["used_cpu"], host3["used_memory"], host3["vms"]) == (2, 4 * 1024**3, 1)


def test_index_lists_the_builtin_endpoints(client):
    status, body = get_json(client, "/_fakestack")
    assert status == 200
    listed = [(e["method"], e["path"]) for e in body["endpoints"]]
    assert listed[:10] == [
        ("GET", "/_fakestack/"),
        ("GET", "/_fakestack/health"),
        ("GET", "/_fakestack/state"),
        ("POST", "/_fakestack/reset"),
        ("GET", "/_fakestack/clock"),
        ("POST", "/_fakestack/clock"),
        ("GET", "/_fakestack/journal"),
        ("DELETE", "/_fakestack/journal"),
        ("GET", "/_fakestack/invariants"),
        ("GET", "/_fakestack/capacity"),
    ]
    assert body["endpoints"][1]["summary"] == "Liveness, version, topology, seed and the mounted dialects."


# -- reset ------------------------------------------------------------------------------


def test_reset_goes_back_to_the_initial_topology_and_seed(client, cloud):
    initial = cloud.snapshot()
    cloud.clone_vm("golden", ["c1", "c2"])
    assert len(cloud.vms) == 3
    status, body = post_json(client, "/_fakestack/reset", "")
    assert (status, body) == (200, {"ok": True, "topology": "demo", "seed": 0})
    assert [vm.name for vm in cloud.vms] == ["golden"]
    assert cloud.snapshot() == initial


def test_reset_keeps_the_clock(client, cloud):
    cloud.tick(60)
    post_json(client, "/_fakestack/reset", "")
    assert cloud.clock.now() == START + 60


def test_reset_rebuilds_dialects_made_by_the_factories(cloud, monkeypatch):
    built = []

    def factory(c):
        dialect = StubDialect(c)
        built.append(dialect)
        c.dialect_state("stub").setdefault("accounts", ["admin"])  # set up in the constructor
        return dialect

    module = types.ModuleType("fakestack_admin_test_factory")
    module.create_dialect = factory
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(app_module, "DIALECT_FACTORIES", (f"{module.__name__}:create_dialect",))
    app = make_app(cloud)
    client = Client(app)
    cloud.dialect_state("stub")["accounts"].append("alice")
    assert post_json(client, "/_fakestack/reset", "")[0] == 200
    assert len(built) == 2 and app.dialects == [built[1]]
    assert cloud.dialect_state("stub") == {"accounts": ["admin"]}


# -- clock ------------------------------------------------------------------------------


def test_clock_reads_the_simulated_time(client):
    assert get_json(client, "/_fakestack/clock") == (
        200,
        {"now": START, "iso": "2026-01-01T00:00:00Z", "kind": "manual", "offset": 0.0},
    )


def test_clock_advances_by_seconds(client, cloud):
    status, body = post_json(client, "/_fakestack/clock", {"advance": 90})
    assert (status, body) == (
        200,
        {"now": START + 90, "iso": "2026-01-01T00:01:30Z", "kind": "manual", "offset": 90.0},
    )
    assert cloud.clock.now() == START + 90


def test_clock_moves_to_an_iso_time_or_epoch_seconds(client):
    status, body = post_json(client, "/_fakestack/clock", {"to": "2026-01-01T01:00:00Z"})
    assert (status, body["now"], body["iso"]) == (200, START + 3600, "2026-01-01T01:00:00Z")
    status, body = post_json(client, "/_fakestack/clock", {"to": START + 3600.5})
    assert (status, body["iso"]) == (200, "2026-01-01T01:00:00.500Z")


def test_advancing_the_clock_completes_jobs(client):
    topology = load_topology("demo")
    topology.settings.job_durations["test.op"] = 30.0
    cloud = Cloud(topology, clock=ManualClock())
    client = Client(make_app(cloud, dialects=[]))
    job = cloud.submit("test.op", lambda: "done")
    assert cloud.job_state(job) == "Running"
    post_json(client, "/_fakestack/clock", {"advance": 29})
    assert cloud.job_state(job) == "Running"
    post_json(client, "/_fakestack/clock", {"advance": 1})
    assert cloud.job_state(job) == "Succeeded"


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "give exactly one of 'advance' (seconds) or 'to' (a time)"),
        ({"advance": 1, "to": START}, "give exactly one of 'advance' (seconds) or 'to' (a time)"),
        ({"advance": -1}, "'advance' must not be negative: the clock only moves forward"),
        ({"advance": "10"}, "'advance' must be a number of seconds"),
        ({"advance": True}, "'advance' must be a number of seconds"),
        ({"seconds": 10}, "unknown field 'seconds' (expected 'advance' or 'to')"),
        ({"to": "yesterday"}, "'to' is not an ISO-8601 time: 'yesterday'"),
        ({"to": [1]}, "'to' must be epoch seconds or an ISO-8601 time"),
        ('{"advance": NaN}', "'advance' must be a finite number of seconds"),
        ('{"advance": Infinity}', "'advance' must be a finite number of seconds"),
        ('{"to": NaN}', "'to' must be a finite number of epoch seconds"),
        ('{"to": Infinity}', "'to' must be a finite number of epoch seconds"),
        (
            {"to": "2025-12-31T23:59:59Z"},
            "'to' (2025-12-31T23:59:59Z) is in the past "
            "(now 2026-01-01T00:00:00Z): the clock only moves forward",
        ),
        ("[1, 2]", "request body must be a JSON object, not an array"),
        ("", "this endpoint needs a JSON object body"),
        (
            "{not json",
            "request body is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        ),
    ],
)
def test_bad_clock_requests_answer_400_naming_the_problem(client, cloud, body, message):
    assert post_json(client, "/_fakestack/clock", body) == (400, {"error": "bad_request", "message": message})
    assert cloud.clock.now() == START


# -- journal ----------------------------------------------------------------------------


def test_journal_records_dialect_requests_and_model_operations(client):
    client.post("/stub/echo", data=b'{"hello": "world"}')
    client.post("/stub/stop/golden")
    client.get("/_fakestack/health")  # admin reads are not kept
    status, body = get_json(client, "/_fakestack/journal")
    assert status == 200
    assert body["requests"] == [
        {
            "seq": 1,
            "time": START,
            "dialect": "stub",
            "method": "POST",
            "path": "/stub/echo",
            "query": "",
            "request_body": '{"hello": "world"}',
            "status": 201,
            "response_body": '{"hello": "world"}',
            "remote_addr": None,
        },  # no socket in-process
        {
            "seq": 2,
            "time": START,
            "dialect": "stub",
            "method": "POST",
            "path": "/stub/stop/golden",
            "query": "",
            "request_body": "",
            "status": 200,
            "response_body": '{"state": "Stopped"}',
            "remote_addr": None,
        },
    ]
    assert body["requests_total"] == 3
    assert [op["operation"] for op in body["operations"]] == ["vm.stop"]
    assert body["operations_total"] == 1


def test_journal_keeps_admin_changes_and_query_strings(client):
    post_json(client, "/_fakestack/clock", {"advance": 5})
    client.get("/stub/missing?x=1&y=2")
    requests = get_json(client, "/_fakestack/journal")[1]["requests"]
    assert [(r["dialect"], r["method"], r["path"], r["query"], r["status"]) for r in requests] == [
        ("admin", "POST", "/_fakestack/clock", "", 200),
        ("stub", "GET", "/stub/missing", "x=1&y=2", 404),
    ]
    assert requests[1]["time"] == START + 5


def test_journal_bounds_body_excerpts(client):
    client.post("/stub/echo", data=b"x" * 5000)
    entry = get_json(client, "/_fakestack/journal")[1]["requests"][0]
    assert entry["request_body"] == "x" * 2048 + "... [5000 bytes]"
    assert entry["response_body"] == "x" * 2048 + "... [5000 bytes]"


def test_journal_keeps_the_last_n_requests(cloud):
    client = Client(make_app(cloud, dialects=[StubDialect(cloud)], request_journal_size=3))
    for i in range(5):
        client.post("/stub/echo", data=str(i).encode())
    body = get_json(client, "/_fakestack/journal")[1]
    assert [r["request_body"] for r in body["requests"]] == ["2", "3", "4"]
    assert body["requests_total"] == 5
    assert [r["request_body"] for r in get_json(client, "/_fakestack/journal?limit=2")[1]["requests"]] == [
        "3",
        "4",
    ]
    assert get_json(client, "/_fakestack/journal?limit=0")[1]["requests"] == []


def test_journal_limit_must_be_a_non_negative_integer(client):
    assert get_json(client, "/_fakestack/journal?limit=ten") == (
        400,
        {"error": "bad_request", "message": "query parameter 'limit' must be an integer, got 'ten'"},
    )
    assert get_json(client, "/_fakestack/journal?limit=-1") == (
        400,
        {"error": "bad_request", "message": "query parameter 'limit' must be >= 0, got -1"},
    )


def test_delete_journal_forgets_both_journals(client):
    client.post("/stub/stop/golden")
    assert client.delete("/_fakestack/journal").get_json() == {"ok": True}
    body = get_json(client, "/_fakestack/journal")[1]
    assert (body["requests"], body["operations"]) == ([], [])


# -- invariants -------------------------------------------------------------------------


def test_invariants_hold_on_a_fresh_cloud(client):
    assert get_json(client, "/_fakestack/invariants") == (200, {"ok": True, "breaches": []})


def test_a_broken_invariant_answers_409_with_every_breach(client, cloud):
    cloud.hosts.get("host-3").used_cpu += 1
    cloud.hosts.get("host-1").vm_count += 1
    assert get_json(client, "/_fakestack/invariants") == (
        409,
        {
            "ok": False,
            "breaches": [
                "host host-1: vm count 1 != 0",
                "host host-3: used cpu 3 != held 2",
            ],
        },
    )


# -- routing errors ---------------------------------------------------------------------


def test_unknown_admin_path_is_a_json_404(client):
    assert get_json(client, "/_fakestack/nope") == (
        404,
        {
            "error": "not_found",
            "message": "no admin endpoint GET /_fakestack/nope (GET /_fakestack/ lists them)",
        },
    )


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.put("/_fakestack/clock")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.get_json() == {
        "error": "method_not_allowed",
        "message": "PUT is not allowed on /_fakestack/clock",
        "allowed": ["GET", "POST"],
    }


def test_paths_outside_every_dialect_are_a_json_404(client):
    assert get_json(client, "/nowhere") == (
        404,
        {"error": "not_found", "message": "no dialect serves /nowhere"},
    )


def test_a_crashing_dialect_answers_json_500_not_a_traceback(client):
    assert get_json(client, "/stub/crash") == (
        500,
        {"error": "internal_error", "message": "RuntimeError: stub bug"},
    )


# -- the extension point ----------------------------------------------------------------


@pytest.fixture
def extension_routes():
    added = []

    def add(method, path, handler, **kw):
        register_admin_route(method, path, handler, **kw)
        added.append((method, path))

    yield add
    for method, path in added:
        unregister_admin_route(method, path)


def test_other_modules_add_admin_routes_with_placeholders(client, extension_routes):
    def show(call):
        """Show a thing."""
        return {"name": call.params["name"], "vms": len(call.cloud.vms)}

    def create(call):
        body = call.json(required=True)
        if "name" not in body:
            raise AdminError(422, "invalid_thing", "a thing needs a name")
        return {"created": body["name"]}, 201

    extension_routes("GET", "/things/{name}", show)
    extension_routes("POST", "/things", create)
    assert get_json(client, "/_fakestack/things/alpha") == (200, {"name": "alpha", "vms": 1})
    assert post_json(client, "/_fakestack/things", {"name": "beta"}) == (201, {"created": "beta"})
    assert post_json(client, "/_fakestack/things", {}) == (
        422,
        {"error": "invalid_thing", "message": "a thing needs a name"},
    )
    assert post_json(client, "/_fakestack/things", "{") == (
        400,
        {
            "error": "bad_request",
            "message": "request body is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        },
    )
    index = get_json(client, "/_fakestack/")[1]["endpoints"]
    assert {"method": "GET", "path": "/_fakestack/things/{name}", "summary": "Show a thing."} in index


def test_a_route_registered_twice_is_refused(extension_routes):
    extension_routes("GET", "/twice", lambda call: {})
    with pytest.raises(ValueError, match="already registered"):
        register_admin_route("GET", "/_fakestack/twice", lambda call: {})


def test_a_crashing_admin_handler_answers_json_500(client, extension_routes):
    def broken(call):
        raise KeyError("oops")

    extension_routes("GET", "/broken", broken)
    assert get_json(client, "/_fakestack/broken") == (
        500,
        {"error": "internal_error", "message": "KeyError: 'oops'"},
    )


def test_mutation_listeners_see_mutating_requests_only(app, client, extension_routes):
    seen = []
    app.mutation_listeners.append(
        lambda a, request, response: seen.append((request.method, request.path, response.status_code))
    )
    extension_routes("POST", "/dry-run", lambda call: {}, mutating=False)
    client.get("/_fakestack/state")
    client.get("/stub/missing")
    client.delete("/_fakestack/journal")  # journals are not state
    client.post("/_fakestack/dry-run")  # flagged not mutating
    client.put("/_fakestack/clock")  # 405: nothing ran
    client.post("/stub/stop/golden")
    post_json(client, "/_fakestack/clock", {"advance": 1})
    assert seen == [("POST", "/stub/stop/golden", 200), ("POST", "/_fakestack/clock", 200)]


def test_request_listeners_see_every_request(app, client):
    seen = []
    app.request_listeners.append(
        lambda entry: seen.append((entry["method"], entry["path"], entry["status"], entry["dialect"]))
    )
    client.get("/_fakestack/health")
    client.get("/nowhere")
    assert seen == [("GET", "/_fakestack/health", 200, "admin"), ("GET", "/nowhere", 404, None)]


def test_a_broken_request_listener_does_not_cost_the_answer(app, client):
    def broken(entry):
        raise OSError("stdout closed")

    app.request_listeners.append(broken)
    assert get_json(client, "/_fakestack/health")[0] == 200
