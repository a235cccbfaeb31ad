"""The fault plan over HTTP: /_fakestack/faults, and drop_connection on a live socket."""

import http.client
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Response

import fakestack
from fakestack import faults
from fakestack.app import make_app
from fakestack.model import DomainError, ManualClock


class RebootDialect:
    """A one-route dialect: POST /t/reboot/<vm> reboots a VM (fault point ``t:Reboot``)."""

    name = "t"
    prefixes = ("/t",)

    def __init__(self, cloud):
        self.cloud = cloud

    def handle(self, request):
        vm = request.path.rsplit("/", 1)[-1]
        try:
            faults.dialect_point(self.cloud, "t:Reboot", {"vm": vm})
            self.cloud.reboot_vm(vm)
        except DomainError as exc:
            return Response(json.dumps(exc.to_dict()), 503, mimetype="application/json")
        except Exception as exc:  # like real dialects: a catch-all that must not see drops
            return Response(json.dumps({"bug": repr(exc)}), 500, mimetype="application/json")
        return Response(json.dumps({"ok": vm}), 200, mimetype="application/json")


@pytest.fixture
def cloud():
    return fakestack.Cloud("demo", seed=0, clock=ManualClock())


@pytest.fixture
def client(cloud):
    return Client(fakestack.make_app(cloud))


RULE = {"match": "vm.clone", "when": {"nth": 2}, "effect": {"type": "exhaust", "resource": "host.cpu"}}


def test_post_a_rule_then_list_it_with_hit_counts(client, cloud):
    r = client.post("/_fakestack/faults", json=RULE)
    assert r.status_code == 201
    stored = dict(RULE, id="f1", calls=0, hits=0)
    assert r.get_json() == {"added": [stored], "rules": [stored]}
    cloud.clone_vm("golden", ["a", "b", "c"])
    r = client.get("/_fakestack/faults")
    assert r.status_code == 200
    assert r.get_json() == {"rules": [dict(stored, calls=3, hits=1)]}
    assert client.get("/_fakestack/faults/f1").get_json() == dict(stored, calls=3, hits=1)


def test_post_a_plan_and_a_list(client):
    r = client.post("/_fakestack/faults", json={"rules": [RULE, dict(RULE, id="mine")]})
    assert r.status_code == 201
    assert [x["id"] for x in r.get_json()["added"]] == ["f1", "mine"]
    r = client.post("/_fakestack/faults", json=[{"match": "vm.stop", "effect": {"type": "hang"}}])
    assert [x["id"] for x in r.get_json()["rules"]] == ["f1", "mine", "f2"]


def test_delete_one_rule_and_all(client):
    client.post("/_fakestack/faults", json={"rules": [RULE, RULE]})
    r = client.delete("/_fakestack/faults/f1")
    assert r.status_code == 200
    assert [x["id"] for x in r.get_json()["rules"]] == ["f2"]
    r = client.delete("/_fakestack/faults/f1")
    assert r.status_code == 404
    assert r.get_json() == {"error": "not_found", "message": "no fault rule [f1]"}
    assert client.get("/_fakestack/faults/f9").status_code == 404
    assert client.delete("/_fakestack/faults").get_json() == {"rules": []}
    assert client.get("/_fakestack/faults").get_json() == {"rules": []}


def test_delete_releases_hung_jobs(client, cloud):
    client.post("/_fakestack/faults", json={"match": "vm.stop", "effect": {"type": "hang"}})
    job = cloud.submit("vm.stop", cloud.stop_vm, "golden")
    assert cloud.job_state(job) == "Running"
    client.delete("/_fakestack/faults")
    assert cloud.job_state(job) == "Succeeded"


@pytest.mark.parametrize(
    "body,field",
    [
        (
            {"match": "vm.clone", "effect": {"type": "exhaust", "resource": "host.disk"}},
            "effect.exhaust.resource",
        ),
        (
            {"rules": [RULE, {"match": "vm.clone", "when": {"every": 0}, "effect": {"type": "hang"}}]},
            "rules.1.when.every",
        ),
        ([RULE, {"match": "vm.clone"}], "1.effect"),
        ({"match": "vm clone", "effect": {"type": "hang"}}, "match"),
        ({"rules": "all of them"}, "rules"),
    ],
)
def test_bad_plans_answer_400_naming_the_field(client, body, field):
    r = client.post("/_fakestack/faults", json=body)
    assert r.status_code == 400
    data = r.get_json()
    assert data["error"] == "invalid_fault_plan"
    assert field in [e["field"] for e in data["errors"]]
    assert field in data["message"]
    assert client.get("/_fakestack/faults").get_json() == {"rules": []}  # nothing half-added


def test_not_json_and_not_an_object(client):
    r = client.post("/_fakestack/faults", data=b"{nope", content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["error"] == "invalid_json"
    r = client.post("/_fakestack/faults", json="hang everything")
    assert r.status_code == 400
    assert r.get_json()["errors"] == [{"field": "body", "message": "must be an object or a list"}]


def test_duplicate_id_is_a_conflict(client):
    client.post("/_fakestack/faults", json=dict(RULE, id="x"))
    r = client.post("/_fakestack/faults", json=dict(RULE, id="x"))
    assert r.status_code == 409
    assert r.get_json() == {"error": "conflict", "message": "fault rule [x] already exists"}


def test_wrong_method(client):
    r = client.put("/_fakestack/faults", json=RULE)
    assert r.status_code == 405


def test_dialect_fault_over_the_test_client(cloud):
    app = make_app(cloud, dialects=[RebootDialect(cloud)])
    client = Client(app)
    faults.add(cloud, faults.fail("t:Reboot", "no reboots today", code="X.1", nth=2))
    assert client.post("/t/reboot/golden").status_code == 200
    r = client.post("/t/reboot/golden")
    assert r.status_code == 503
    assert r.get_json() == {
        "kind": "injected",
        "message": "no reboots today",
        "operation": "t:Reboot",
        "code": "X.1",
    }


def test_drop_connection_in_process_raises_connection_dropped(cloud):
    app = faults.connection_dropping(make_app(cloud, dialects=[RebootDialect(cloud)]))
    faults.add(cloud, faults.drop_connection("vm.reboot"))
    with pytest.raises(faults.ConnectionDropped):
        Client(app).post("/t/reboot/golden")
    assert not any(e["operation"] == "vm.reboot" and "ok" in e for e in cloud.journal)


def test_drop_connection_closes_the_socket_without_a_response(cloud):
    app = faults.connection_dropping(make_app(cloud, dialects=[RebootDialect(cloud)]))
    faults.add(cloud, faults.drop_connection("t:Reboot", nth=1))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=5)
        conn.request("POST", "/t/reboot/golden")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=5)
        conn.request("POST", "/t/reboot/golden")
        assert conn.getresponse().status == 200  # the 2nd call is not dropped
        conn.close()
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
    assert faults.list_rules(cloud)[0]["hits"] == 1


def test_drop_connection_through_the_fakestack_server(cloud):
    from fakestack.server import start_server

    app = make_app(cloud, dialects=[RebootDialect(cloud)])
    faults.add(cloud, faults.drop_connection("vm.reboot", nth=1))
    with start_server(cloud, "127.0.0.1", 0, app=app) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/t/reboot/golden")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/t/reboot/golden")
        assert conn.getresponse().status == 200
        conn.close()
    statuses = [e["status"] for e in app.request_journal]
    assert statuses == [None, 200]


def test_the_client_fixture_style_wrapper_turns_a_drop_into_connection_dropped(cloud):
    app = faults.connection_dropping(make_app(cloud, dialects=[RebootDialect(cloud)]))
    faults.add(cloud, faults.drop_connection("t:Reboot"))
    with pytest.raises(ConnectionError):
        Client(app).post("/t/reboot/golden")
