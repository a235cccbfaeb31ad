"""What the submit path skips or does faster gives what the plain way gives.

* The ``schema`` map of an API reply is built only when the reply shows it
  (``X-JSON-Schema: true``); built then, it is the one the reply's inventories give, entry
  by entry, as the handler used to build it eagerly.  Without the header nothing builds it,
  and the reply, the poll and the cloud are what they are with it, the schema aside (the
  poll answers the payload the submit stored: it builds no schema of its own).
* The 202 of a submit is written directly: the bytes ``json_response`` writes.
* A job URL's part before the uuid is kept per place requests come in by, and what a path,
  method and body keys select is kept per route table: the answers are the request's own.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zstack_support import auth, cloud_client, poll

from fakestack.dialects.zstack import query as zstack_query
from fakestack.dialects.zstack.query import schema_of
from fakestack.dialects.zstack.render import VM, accepted_response, json_response


def eager_clone_schema(result: dict) -> dict[str, str]:
    """CloneVmInstance's schema as the handler built it before it was deferred."""
    schema = {"result": "org.zstack.header.vm.CloneVmInstanceResults"}
    for index, item in enumerate(result["inventories"]):
        path = f"result.inventories[{index}]"
        schema[path] = "org.zstack.header.vm.CloneVmInstanceInventory"
        if "inventory" in item:
            schema.update(schema_of(item["inventory"], VM, f"{path}.inventory"))
    return schema


def without_schemas(snapshot: dict) -> dict:
    """The snapshot, with the schema maps the jobs keep for their polls taken out."""
    for job in snapshot["dialect_state"]["zstack"]["jobs"].values():
        if job["payload"]:
            job["payload"].pop("schema", None)
    return snapshot


def _submit(client, session, path: str, body: dict, schema: bool):
    headers = auth(session, **({"X-JSON-Schema": "true"} if schema else {}))
    return client.put(path, json=body, headers=headers)


# 120 names on demo, which has room for 115 more VMs: entries with errors too.
CALLS = [
    ("clone", {"cloneVmInstance": {"names": ["a"]}}),
    ("clone", {"cloneVmInstance": {"names": [f"n{i}" for i in range(120)]}}),
    ("clone", {"cloneVmInstance": {"names": ["s1", "s2"], "strategy": "JustCreate"}}),
    ("stop", {"stopVmInstance": {}}),
    ("start", {"startVmInstance": {}}),
]


@pytest.mark.parametrize("kind,body", CALLS)
def test_a_deferred_schema_is_the_eager_one_and_only_the_schema_differs(kind, body):
    replies = {}
    snapshots = {}
    for schema in (True, False):
        cloud, client, session = cloud_client("demo")
        golden = cloud.vms.get("golden").uuid
        if kind == "start":
            poll(
                client,
                _submit(
                    client,
                    session,
                    f"/zstack/v1/vm-instances/{golden}/actions",
                    {"stopVmInstance": {}},
                    False,
                ),
            )
        submitted = _submit(client, session, f"/zstack/v1/vm-instances/{golden}/actions", body, schema)
        assert submitted.status_code == 202
        replies[schema] = poll(client, submitted).get_json()
        snapshots[schema] = without_schemas(cloud.snapshot())
    shown = replies[True].pop("schema")
    assert "schema" not in replies[False]
    assert replies[True] == replies[False]
    assert snapshots[True] == snapshots[False]
    if kind == "clone":
        assert shown == eager_clone_schema(replies[False]["result"])
        assert any("error" in item for item in replies[False]["result"]["inventories"]) == (
            len(body["cloneVmInstance"]["names"]) == 120
        )
    else:
        assert shown == schema_of(replies[False]["inventory"], VM)


def test_no_schema_is_built_for_a_reply_that_shows_none(monkeypatch):
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden").uuid
    walks = []
    real = zstack_query._walk_schema
    monkeypatch.setattr(zstack_query, "_walk_schema", lambda *a, **k: walks.append(a) or real(*a, **k))
    for body in ({"cloneVmInstance": {"names": ["a", "b"]}}, {"stopVmInstance": {}}):
        poll(client, _submit(client, session, f"/zstack/v1/vm-instances/{golden}/actions", body, False))
    assert walks == []
    poll(
        client,
        _submit(
            client,
            session,
            f"/zstack/v1/vm-instances/{golden}/actions",
            {"cloneVmInstance": {"names": ["c"]}},
            True,
        ),
    )
    assert walks


def _answer(make):
    try:
        response = make()
    except Exception as exc:  # the same failure either way
        return type(exc)
    return response.status, list(response.headers), response.get_data()


@settings(max_examples=400, deadline=None)
@given(
    st.text() | st.sampled_from(["http://localhost:80/zstack/v1/api-jobs/" + "a" * 32, 'x"\\\n\u2028é']),
    st.integers() | st.none() | st.booleans() | st.floats() | st.sampled_from([129_600_000, 1_800_000]),
)
def test_the_202_of_a_submit_is_the_json_response_of_its_body(location, api_timeout):
    assert _answer(lambda: accepted_response(location, api_timeout)) == _answer(
        lambda: json_response({"location": location, "apiTimeout": api_timeout}, 202)
    )


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["http", "https"]),
    st.none()
    | st.sampled_from(["localhost", "localhost:80", "h:8080", "[::1]:443", "[::1]", "bad host", "é"]),
    st.sampled_from(["localhost", "::1", "10.0.0.1"]),
    st.sampled_from(["80", "443", "8080", None]),
    st.sampled_from(["", "/zstack"]),
)
def test_a_job_url_is_the_one_its_request_gives_whatever_came_before(scheme, host, server, port, context):
    """``_location`` keeps the part of a job URL before the uuid for each place a request
    comes in by: what it gives is what the request itself gives, first time or not."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from fakestack.dialects.zstack.dialect import ZStackDialect

    environ = EnvironBuilder(path="/zstack/v1/vm-instances", base_url=f"{scheme}://localhost/").get_environ()
    environ["SERVER_NAME"] = server
    environ.pop("HTTP_HOST", None)
    environ.pop("SERVER_PORT", None)
    if host is not None:
        environ["HTTP_HOST"] = host
    if port is not None:
        environ["SERVER_PORT"] = port
    for uuid in ("a" * 32, "b" * 32):
        expected = ZStackDialect._job_url_prefix(Request(dict(environ)), context) + uuid
        assert ZStackDialect._location(Request(dict(environ)), context, uuid) == expected


def _zstack_dialect():
    from fakestack.app import make_app
    from fakestack.model import Cloud, ManualClock

    app = make_app(Cloud("tiny", clock=ManualClock()))
    return next(d for d in app.dialects if d.name == "zstack")


def _selection(select, method: str, relative: str, body: dict):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from fakestack.dialects.zstack.errors import TransportError

    request = Request(EnvironBuilder(path="/zstack/v1" + relative, method=method).get_environ())
    try:
        return select(request, relative, body)
    except TransportError as exc:
        return exc.status, exc.text


def _route_paths():
    from fakestack.dialects.zstack.catalog import APIS

    return sorted({api["path"] for api in APIS.values() if api.get("path")})


def _uncached(dialect):
    def select(request, relative, body):
        name, names, values = dialect._select_route(request, relative, body)
        return name, dict(zip(names, values))

    return select


_WRAPPERS = ["cloneVmInstance", "stopVmInstance", "startVmInstance", "logInByAccount", "params", "x"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_route_paths()) | st.text(st.sampled_from("/ab{}"), max_size=8),
    st.sampled_from(["a" * 32, "b", "{x}"]),
    st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"]),
    st.lists(st.sampled_from(_WRAPPERS), max_size=3),
)
def test_a_remembered_selection_is_the_one_the_route_table_makes(template, value, method, keys):
    """``_select`` keeps what a path, method and body keys selected: the first answer and
    every later one are what the route table gives (an API and its URL variables, or the
    REST layer's refusal)."""
    import re

    dialect = _zstack_dialect()
    relative = re.sub(r"\{[^}/]*\}", value, template)
    if not relative.startswith("/"):
        relative = "/" + relative
    body = {key: {} for key in keys}
    expected = _selection(_uncached(dialect), method, relative, body)
    for _ in range(2):
        assert _selection(dialect._select, method, relative, body) == expected


def test_a_selection_follows_a_change_of_the_route_table():
    from fakestack.dialects.zstack import routes as zstack_routes

    dialect = _zstack_dialect()
    shared = zstack_routes._CACHE
    zstack_routes._CACHE = None
    try:
        dialect.routes = zstack_routes.route_table()  # a table of its own, to change
    finally:
        zstack_routes._CACHE = shared
    relative = "/vm-instances/" + "a" * 32 + "/actions"
    body = {"cloneVmInstance": {}}
    assert _selection(dialect._select, "PUT", relative, body)[0] == "CloneVmInstance"
    routes = dialect.routes
    version = routes.version
    clone = next(route for route in routes if route.target == "CloneVmInstance")
    routes.remove("PUT", clone.pattern)
    assert routes.version != version
    selected = _selection(dialect._select, "PUT", relative, body)
    assert selected == _selection(_uncached(dialect), "PUT", relative, body)
    assert selected[0] != "CloneVmInstance"
