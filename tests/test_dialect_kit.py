"""The dialect kit's contracts: what the dialects share (route table, JSON builder, the
view of the cloud).  The dialects' own tests check the same behaviour through HTTP."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from fakestack.app import make_app
from fakestack.dialects.kit.cloud import CloudServices, DialectCloud
from fakestack.dialects.kit.responses import JsonStyle, json_response
from fakestack.dialects.kit.routing import Router, allow_header
from fakestack.model import Cloud, ManualClock


def test_the_model_cloud_is_what_dialects_may_use():
    cloud = Cloud("tiny", clock=ManualClock())
    assert isinstance(cloud, DialectCloud) and isinstance(cloud, CloudServices)


def test_every_mounted_dialect_is_built_on_a_dialect_cloud():
    cloud = Cloud("tiny", clock=ManualClock())
    app = make_app(cloud)
    assert sorted(d.name for d in app.dialects) == ["instavm", "vsphere", "zstack"]
    assert all(isinstance(d.cloud, DialectCloud) for d in app.dialects)


# -- route table ------------------------------------------------------------------------


def test_table_order_first_route_wins_and_405_lists_the_paths_methods():
    table = Router(head_as_get=True)
    table.add("GET", "/v1/vms/{vm_id}", "get")
    table.add("GET", "/v1/vms/special", "special")
    table.add("DELETE", "/v1/vms/{vm_id}", "delete")
    assert (table.match("GET", "/v1/vms/special").target, table.match("GET", "/v1/vms/special").params) == (
        "get",
        {"vm_id": "special"},
    )
    assert table.match("HEAD", "/v1/vms/a").target == "get"
    refused = table.match("POST", "/v1/vms/a")
    assert (refused.route, refused.allowed) == (None, ("GET", "DELETE"))
    assert allow_header(refused.allowed) == ["GET", "HEAD", "DELETE"]
    assert table.match("GET", "/v1/other") == table.match("GET", "/v1/vms/a/b")


def test_specific_order_prefers_a_literal_segment_and_keeps_every_candidate():
    table = Router(order="specific", trailing_slash="optional")
    table.add("PUT", "/vm-instances/{uuid}/actions", "StartVmInstance")
    table.add("PUT", "/vm-instances/{vmInstanceUuid}/actions", "CloneVmInstance")
    table.add("GET", "/vm-instances/{uuid}", "QueryVmInstance")
    table.add("GET", "/vm-instances/nics", "QueryVmNic")
    assert [r.target for r, _ in table.candidates("/vm-instances/nics/")] == ["QueryVmNic", "QueryVmInstance"]
    assert [(r.target, p) for r, p in table.matches("PUT", "/vm-instances/abc/actions")] == [
        ("StartVmInstance", {"uuid": "abc"}),
        ("CloneVmInstance", {"vmInstanceUuid": "abc"}),
    ]
    assert table.candidates("/vm-instances/abc//") == []


def test_a_path_known_only_with_the_other_trailing_slash_redirects():
    table = Router(trailing_slash="redirect")
    table.add("GET", "/v1/snapshots", "list")
    assert table.match("GET", "/v1/snapshots/").redirect == "/v1/snapshots"
    assert table.match("GET", "/v1/snapshots").target == "list"
    assert table.match("GET", "/").redirect is None


def test_a_prefixed_table_with_collapsed_slashes():
    table = Router(prefix="/_fakestack", collapse_slashes=True)
    table.add("GET", "/health", "health")
    table.add("GET", "/", "index")
    assert table.match("GET", "/_fakestack//health/").target == "health"
    assert table.match("GET", "/_fakestack").target == "index"
    assert table.match("GET", "/elsewhere/health").route is None
    table.remove("GET", "/health")
    assert table.match("GET", "/_fakestack/health").route is None


# -- JSON builder -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "style, body, content_type",
    [
        (
            JsonStyle(
                separators=(",", ":"), ensure_ascii=False, content_type="application/json;charset=utf-8"
            ),
            '{"name":"é","n":[1,2]}',
            "application/json;charset=utf-8",
        ),
        (JsonStyle(separators=(",", ":")), '{"name":"\\u00e9","n":[1,2]}', "application/json"),
        (JsonStyle(separators=(", ", ": ")), '{"name": "\\u00e9", "n": [1, 2]}', "application/json"),
    ],
)
def test_a_json_style_writes_its_separators_escapes_and_content_type(style, body, content_type):
    response = style.response({"name": "é", "n": [1, 2]}, 201, {"Allow": "GET"})
    assert (response.status_code, response.get_data(as_text=True)) == (201, body)
    assert (response.headers["Content-Type"], response.headers["Allow"]) == (content_type, "GET")


def test_json_response_renders_what_json_cannot_with_default():
    response = json_response({"names": {"b"}}, default=sorted)
    assert response.get_data(as_text=True) == '{"names": ["b"]}'
    with pytest.raises(ValueError):
        JsonStyle(allow_nan=False).dumps(float("nan"))


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-1e-3, max_value=1e-3)
    | st.sampled_from([1e-05, 1.5e-07, 1e16, 1e-4, 123456789012345.6, -0.0, 5e-324])
    | st.text()
    | st.sampled_from(
        ["None", "nan", "inf", "-inf", "e-", "0.0000", "\x7f", "é", "\u2028", "\ud800", "\x00\x1f"]
    )
)
JSON_KEYS = st.text() | st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
JSON_DATA = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(JSON_KEYS, inner, max_size=5),
    max_leaves=30,
)
STYLES = [
    JsonStyle(separators=(",", ":"), ensure_ascii=False),
    JsonStyle(separators=(",", ":"), ensure_ascii=True),
    JsonStyle(separators=(",", ":"), ensure_ascii=False, allow_nan=False),
    JsonStyle(separators=(", ", ": ")),
]


def _json_bytes_or_error(style, data):
    try:
        return json.dumps(
            data, separators=style.separators, ensure_ascii=style.ensure_ascii, allow_nan=style.allow_nan
        ).encode()
    except (ValueError, UnicodeEncodeError) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(JSON_DATA, st.sampled_from(range(len(STYLES))))
def test_a_response_body_is_the_bytes_json_writes(data, which):
    """Bodies are written by pydantic's encoder when it is sure to write json's bytes, else
    by json: either way they are json's bytes (or json's error)."""
    style = STYLES[which]
    expected = _json_bytes_or_error(style, data)
    try:
        got = style.encode(data)
    except (ValueError, UnicodeEncodeError) as exc:
        got = type(exc)
    assert got == expected


def test_the_admin_api_answers_in_fakestacks_json():
    client = Client(make_app(Cloud("tiny", clock=ManualClock())))
    response = client.get("/_fakestack/clock")
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_data(as_text=True).startswith('{"now": ')


def _deep(depth: int):
    doc: object = []
    for _ in range(depth):
        doc = [doc]
    return doc


@settings(max_examples=400, deadline=None)
@given(
    JSON_DATA
    | st.integers(1, 80).map(_deep)
    | st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, "\ud800", {"\udc80": 1}]),
    st.sampled_from(["ascii", "utf-8", "digits", "utf-16"]),
)
def test_a_body_parse_skips_the_document_walk_only_when_the_walk_would_pass(data, spelling):
    """``parse_json`` skips ``check_document`` for a small plain body: whenever it does,
    the walk would have accepted the document."""
    from fakestack.dialects.kit.json_input import JsonInputError, _surely_checked, check_document

    try:
        text = json.dumps(data, ensure_ascii=spelling == "ascii")
    except (ValueError, RecursionError):
        return
    if spelling == "digits":
        text = text.replace("1", "1" * 320)  # long numbers (a float past the largest one)
    raw = text.encode("utf-16" if spelling == "utf-16" else "utf-8", "surrogatepass")
    if not _surely_checked(raw):
        return
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return
    try:
        check_document(document)
    except JsonInputError as exc:
        raise AssertionError(f"the walk refuses what the skip let through: {exc}") from None


def _loads_outcome(raw):
    try:
        return "ok", json.loads(raw)
    except ValueError as exc:
        return type(exc), str(exc)


@settings(max_examples=400, deadline=None)
@given(
    JSON_DATA.map(json.dumps).map(str.encode)
    | st.binary(max_size=60)
    | st.text(st.characters(max_codepoint=127), max_size=40).map(str.encode)
)
def test_a_plain_body_decodes_as_json_loads_decodes_it(raw):
    """``parse_json`` decodes a body its skip accepts itself (ASCII, no NUL): whatever
    the bytes, ``json.loads`` gives the same document, or the same error, either way."""
    from fakestack.dialects.kit.json_input import JsonInputError, _surely_checked, parse_json

    if not _surely_checked(raw):
        return
    expected = _loads_outcome(raw)
    assert _loads_outcome(raw.decode()) == expected
    try:
        got = "ok", parse_json(raw)
    except JsonInputError as exc:
        got = exc.reason, exc.position
    if expected[0] == "ok":
        assert got == expected
    else:
        assert got[0] in ("not_json", "too_deep")


class _Trickle:
    """A WSGI input that hands out at most ``step`` bytes a read (then fails, if told)."""

    def __init__(self, data: bytes, step: int, fail: bool) -> None:
        self.data, self.step, self.fail = data, step, fail

    def read(self, size: int = -1) -> bytes:
        if not self.data and self.fail:
            raise OSError("connection reset")
        n = self.step if size < 0 else min(size, self.step)
        out, self.data = self.data[:n], self.data[n:]
        return out


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300),
    st.one_of(st.none(), st.integers(-5, 400).map(str), st.sampled_from(["", "abc", "1_0", " 7", "+3"])),
    st.sampled_from([None, "chunked", "gzip"]),
    st.booleans(),
    st.integers(1, 70_000),
    st.booleans(),
)
def test_a_body_is_read_as_get_data_reads_it(data, length, encoding, terminated, step, fail):
    """``request_data`` gives what ``request.get_data(cache=True)`` gives (or raises what it
    raises), and leaves the same cached body behind."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from fakestack.dialects.kit.body import request_data

    def request() -> Request:
        environ = EnvironBuilder(path="/v1/x", method="PUT").get_environ()
        environ.pop("CONTENT_LENGTH", None)
        if length is not None:
            environ["CONTENT_LENGTH"] = length
        if encoding is not None:
            environ["HTTP_TRANSFER_ENCODING"] = encoding
        if terminated:
            environ["wsgi.input_terminated"] = True
        environ["wsgi.input"] = _Trickle(data, step, fail)
        return Request(environ)

    def outcome(read):
        r = request()
        try:
            return read(r), r.get_data(cache=True)
        except Exception as exc:  # the exception's type is the outcome
            return type(exc)

    assert outcome(request_data) == outcome(lambda r: r.get_data(cache=True))


# -- JsonResponse: the same response as werkzeug's, with less work -------------------------


def _wsgi_output(response, method: str) -> tuple[str, list, bytes]:
    """What a WSGI server gets from ``response``: the status line, the headers, the body."""
    started: list = []
    iterable = response(
        {"REQUEST_METHOD": method, "SERVER_NAME": "localhost", "SERVER_PORT": "80"},
        lambda status, headers, exc_info=None: started.append((status, headers)),
    )
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return started[0][0], started[0][1], body


STATUSES = st.sampled_from([100, 200, 201, 202, 204, 299, 304, 400, 404, 413, 503, 599, 999])
HEADER_NAMES = st.sampled_from(["Location", "content-location", "Content-Length", "X-Job", "Content-Type"])


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=40),
    STATUSES,
    st.sampled_from(["GET", "HEAD", "PUT", "POST"]),
    st.lists(st.tuples(HEADER_NAMES, st.sampled_from(["/x", "http://h/ä", "3", "text/plain"])), max_size=3),
    st.sampled_from(["none", "headers", "set_data", "on_close", "passthrough", "remove_length"]),
)
def test_a_json_response_is_the_werkzeug_response_it_stands_for(body, status, method, headers, change):
    """``JsonResponse.whole`` is the object ``Response(body, ...)`` is, and a JsonResponse
    sends what werkzeug's ``Response.__call__`` sends, whatever was changed on it since."""
    from werkzeug.wrappers import Response

    from fakestack.dialects.kit.responses import JsonResponse

    content_type = "application/json;charset=utf-8"
    fast = JsonResponse.whole(body, status, content_type)
    plain = Response(body, status=status, content_type=content_type)
    assert type(fast) is JsonResponse
    assert list(fast.headers) == list(plain.headers)
    assert {k: v for k, v in vars(fast).items() if k != "headers"} == {
        k: v for k, v in vars(plain).items() if k != "headers"
    }
    closed: list = []
    for response in (fast, plain):
        if change == "headers":
            for key, value in headers:
                response.headers.add(key, value)
        elif change == "set_data":
            response.set_data(body + b"!")
        elif change == "on_close":
            response.call_on_close(lambda: closed.append(1))
        elif change == "passthrough":
            response.direct_passthrough = True
        elif change == "remove_length":
            del response.headers["Content-Length"]
    assert _wsgi_output(fast, method) == _wsgi_output(plain, method)
    assert len(closed) in (0, 2)  # both closed, or neither had anything to close


def test_json_response_builds_json_responses_with_or_without_headers():
    from fakestack.dialects.kit.responses import JsonResponse

    for headers in (None, {"X-Job": "1"}):
        response = json_response({"a": 1}, 202, headers)
        assert type(response) is JsonResponse
        assert response.status == "202 ACCEPTED"
        assert response.get_data() == b'{"a": 1}'
    assert list(json_response({}, 202, {"X-Job": "1"}).headers) == [
        ("X-Job", "1"),
        ("Content-Type", "application/json"),
        ("Content-Length", "2"),
    ]


@settings(max_examples=400, deadline=None)
@given(
    st.none()
    | st.integers(0, 10**20).map(str)
    | st.text(st.sampled_from("0123456789 -+²٣\t"), max_size=6)
    | st.text(max_size=6),
    st.sampled_from([None, "chunked", "gzip", "Chunked"]),
)
def test_a_content_length_reads_as_werkzeug_reads_it(declared, transfer_encoding):
    from werkzeug.wsgi import get_content_length

    from fakestack.dialects.kit.body import content_length

    environ = {}
    if declared is not None:
        environ["CONTENT_LENGTH"] = declared
    if transfer_encoding is not None:
        environ["HTTP_TRANSFER_ENCODING"] = transfer_encoding
    assert content_length(environ) == get_content_length(environ)


def test_keys_pydantic_spells_otherwise_are_written_by_json():
    """A None, NaN or infinite key (pydantic: ``"None"``, ``"nan"``, ``"inf"``, ``"-inf"``),
    alone or deep in a body, is written as json writes it."""
    style = JsonStyle(separators=(",", ":"), ensure_ascii=False)
    for key in (None, float("nan"), float("inf"), float("-inf")):
        for data in ({key: 1}, {"a": [1, {"b": {key: "x"}}]}):
            assert style.encode(data) == json.dumps(data, separators=(",", ":")).encode()
