"""``fakestack.mock`` at the transport: what a client sees in process is what it sees
through a real server (werkzeug's, on 127.0.0.1), and the patches come and go cleanly."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
import requests
import urllib3
from urllib3.connectionpool import HTTPConnectionPool
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import fakestack
from fakestack import Cloud, faults


@Request.application
def probe(request: Request) -> Response:
    """Echoes what a server saw; sets a cookie; redirects; streams without a length."""
    if request.path == "/redirect":
        return Response("", status=302, headers={"Location": "/echo?from=redirect"})
    if request.path == "/login":
        response = Response("in")
        response.set_cookie("sid", "s-1", path="/")
        return response
    if request.path == "/stream":
        return Response((f"part-{i};" for i in range(3)), mimetype="text/plain")  # chunked
    seen = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode(),
        "host": request.host,
        "url": request.url,
        "cookie": request.cookies.get("sid"),
        "transfer_encoding": request.headers.get("Transfer-Encoding"),
        "content_length": request.headers.get("Content-Length"),
        "user_agent_is_default": request.headers.get("User-Agent", "").startswith(("python-", "python/")),
        "body": request.get_data(as_text=True),
    }
    return Response(json.dumps(seen), mimetype="application/json")


def client_story(base: str) -> list:
    """One client's view of ``probe``: requests (cookies, redirects, chunked upload,
    streamed download, HEAD), urllib3 and httpx."""
    seen = []
    with requests.Session() as session:
        session.trust_env = False
        seen.append(session.get(f"{base}/login").cookies.get_dict())
        followed = session.get(f"{base}/redirect")
        seen.append(([r.status_code for r in followed.history], followed.status_code, followed.json()))
        seen.append(session.post(f"{base}/echo?x=1", data=(c for c in [b"ab", b"cd"])).json())
        seen.append(session.put(f"{base}/echo", json={"a": "é"}).json())
        streamed = session.get(f"{base}/stream", stream=True)
        seen.append((streamed.headers.get("Transfer-Encoding"), list(streamed.iter_content(4))))
        head = session.head(f"{base}/echo")
        seen.append((head.status_code, head.content))
    pool = urllib3.PoolManager()
    answer = pool.request("GET", f"{base}/redirect")  # urllib3 follows redirects itself
    seen.append((answer.status, json.loads(answer.data)["query"]))
    with httpx.Client(base_url=base, follow_redirects=True) as http:
        seen.append(http.get("/login").cookies.get("sid"))
        echoed = http.get("/redirect").json()
        seen.append((echoed["cookie"], echoed["host"], echoed["query"]))
        seen.append(http.post("/echo", content=iter([b"x", b"y"])).json())
    return seen


def test_in_process_answers_equal_a_real_servers():
    httpd = make_server("127.0.0.1", 0, probe, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        over_the_network = client_story(base)
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
    # the same URL, now answered in process (the server is gone: a socket would fail)
    with fakestack.mock(app=probe, urls=[base]):
        in_process = client_story(base)
    assert in_process == over_the_network
    assert (in_process[2]["transfer_encoding"], in_process[2]["body"]) == ("chunked", "abcd")
    assert in_process[4] == ("chunked", [b"part", b"-0;", b"part", b"-1;", b"part", b"-2;"])
    assert in_process[0] == {"sid": "s-1"} and in_process[8][0] == "s-1"


def test_https_needs_no_certificate_and_host_builds_absolute_urls():
    with fakestack.mock(app=probe, urls=["https://vcenter.example"]):
        seen = requests.get("https://vcenter.example/echo").json()
        assert (seen["host"], seen["url"]) == ("vcenter.example", "https://vcenter.example/echo")
        assert httpx.get("https://vcenter.example/echo").json()["url"] == "https://vcenter.example/echo"


def test_a_zstack_job_location_is_built_from_the_host_and_followed():
    with fakestack.mock(urls=["http://zstack.example:8080"]) as fake:
        golden = fake.cloud.vms.get("golden").uuid
        with requests.Session() as http:
            login = http.put(
                "http://zstack.example:8080/zstack/v1/accounts/login",
                json={"logInByAccount": {"accountName": "admin", "password": _sha512("password")}},
            )
            http.headers["Authorization"] = f"OAuth {login.json()['inventory']['uuid']}"
            clone = f"http://zstack.example:8080/zstack/v1/vm-instances/{golden}/actions"
            started = http.put(clone, json={"cloneVmInstance": {"names": ["web-1"]}})
            assert started.status_code == 202
            location = started.json()["location"]
            assert location.startswith("http://zstack.example:8080/zstack/v1/api-jobs/")
            done = http.get(location)
            assert done.status_code == 200
            assert [i["inventory"]["name"] for i in done.json()["result"]["inventories"]] == ["web-1"]
            # a fault in the middle: the next clone's connection drops as a real one would
            faults.add(fake.cloud, faults.drop_connection("vm.clone", nth=1))
            with pytest.raises(requests.ConnectionError, match="Remote end closed connection"):
                http.put(clone, json={"cloneVmInstance": {"names": ["web-2"]}})
            with httpx.Client(headers={"Authorization": http.headers["Authorization"]}) as client:
                faults.add(fake.cloud, faults.drop_connection("vm.clone", nth=1))
                with pytest.raises(httpx.RemoteProtocolError):
                    client.put(clone, json={"cloneVmInstance": {"names": ["web-3"]}})
            again = http.put(clone, json={"cloneVmInstance": {"names": ["web-4"]}})
            assert http.get(again.json()["location"]).status_code == 200


def test_over_https_the_job_location_keeps_the_scheme_and_is_followed():
    with fakestack.mock(urls=["https://zstack.example"]) as fake, requests.Session() as http:
        login = http.put(
            "https://zstack.example/zstack/v1/accounts/login",
            json={"logInByAccount": {"accountName": "admin", "password": _sha512("password")}},
        )
        http.headers["Authorization"] = f"OAuth {login.json()['inventory']['uuid']}"
        golden = fake.cloud.vms.get("golden").uuid
        started = http.put(
            f"https://zstack.example/zstack/v1/vm-instances/{golden}/actions",
            json={"cloneVmInstance": {"names": ["web-1"]}},
        )
        location = started.json()["location"]
        assert location.startswith("https://zstack.example:443/zstack/v1/api-jobs/")
        assert http.get(location).json()["result"]["numberOfClonedVm"] == 1


def _sha512(text: str) -> str:
    import hashlib

    return hashlib.sha512(text.encode()).hexdigest()


# -- matching, nesting, restoring ------------------------------------------------------------
def originals():
    return (
        HTTPConnectionPool.__dict__["_make_request"],
        httpx.HTTPTransport.__dict__["handle_request"],
        httpx.AsyncHTTPTransport.__dict__["handle_async_request"],
    )


def test_an_unmatched_url_fails_loudly_naming_it():
    before = originals()
    with fakestack.mock(urls=["https://vcenter.example", "http://zstack.example:8080"]):
        with pytest.raises(fakestack.UnmatchedRequest) as info:
            requests.get("http://zstack.example:9090/zstack/v1/zones")
        assert str(info.value).startswith(
            "fakestack.mock does not serve http://zstack.example:9090/zstack/v1/zones (it serves "
            "https://vcenter.example, http://zstack.example:8080)"
        )
        with pytest.raises(fakestack.UnmatchedRequest, match="https://api.example/v1/vms"):
            httpx.get("https://api.example/v1/vms")
        with pytest.raises(fakestack.UnmatchedRequest, match="http://vcenter.example/"):
            requests.get("http://vcenter.example/")  # another scheme is another URL
    assert originals() == before


def test_passthrough_lets_other_urls_reach_the_network():
    cloud = Cloud("tiny", seed=0)
    from fakestack.server import start_server

    with start_server(cloud) as live:
        with fakestack.mock(urls=["http://zstack.example"], passthrough=True) as fake:
            assert requests.get(f"{live.url}/_fakestack/health").json()["topology"] == "tiny"
            assert httpx.get(f"{live.url}/_fakestack/health").json()["topology"] == "tiny"
            assert requests.get("http://zstack.example/_fakestack/health").json()["topology"] == "demo"
            assert fake.cloud is not cloud


def test_nested_mocks_the_innermost_that_serves_answers_and_patches_go_at_the_last_exit():
    before = originals()
    outer = fakestack.mock(Cloud("tiny", seed=1))
    inner = fakestack.mock(Cloud("demo", seed=2), urls=["http://inner.example"])
    health = "/_fakestack/health"
    with outer:
        with inner:
            assert requests.get("http://inner.example" + health).json()["seed"] == 2
            assert requests.get("http://other.example" + health).json()["seed"] == 1
            with outer:  # reentrant: the same mock again
                assert requests.get("http://inner.example" + health).json()["seed"] == 1
            assert requests.get("http://inner.example" + health).json()["seed"] == 2
        assert requests.get("http://inner.example" + health).json()["seed"] == 1
        assert originals() != before
    assert originals() == before


def test_the_patches_are_restored_when_the_block_raises():
    before = originals()
    with pytest.raises(KeyError):
        with fakestack.mock():
            with fakestack.mock(urls=["http://a.example"]):
                raise KeyError("boom")
    assert originals() == before
    with pytest.raises(RuntimeError, match="without start"):
        fakestack.mock().stop()


def test_a_failed_start_leaves_no_patch_and_no_active_mock(monkeypatch):
    from fakestack import interception

    before = originals()
    real_patch = interception._patch

    def patch_then_fail(owner, name, replacement):
        if owner is httpx.AsyncHTTPTransport:
            raise RuntimeError("cannot patch")
        real_patch(owner, name, replacement)

    monkeypatch.setattr(interception, "_patch", patch_then_fail)
    with pytest.raises(RuntimeError, match="cannot patch"):
        with fakestack.mock(urls=["http://a.example"]):
            pass  # never reached
    assert originals() == before
    assert fakestack.Mock.current() is None
    monkeypatch.undo()
    with fakestack.mock(urls=["http://a.example"]) as fake:  # a later start works
        assert fakestack.Mock.current() is fake
    assert originals() == before


def test_as_a_decorator_each_call_gets_a_fresh_cloud():
    @fakestack.mock
    def clone_once():
        fake = fakestack.Mock.current()
        golden = fake.cloud.vms.get("golden")
        fake.cloud.clone_vm(golden, ["web-1"])
        return requests.get("http://any.example/_fakestack/capacity").json(), len(fake.cloud.vms)

    @fakestack.mock(urls=["https://vc.example"])
    async def async_health():
        async with httpx.AsyncClient() as http:
            return (await http.get("https://vc.example/_fakestack/health")).json()["topology"]

    assert clone_once()[1] == clone_once()[1] == 2
    assert asyncio.run(async_health()) == "demo"
    assert fakestack.Mock.current() is None


def test_a_topology_name_builds_the_cloud_and_nonsense_is_refused():
    with fakestack.mock("tiny", seed=3) as fake:
        assert requests.get("http://any.example/_fakestack/health").json()["seed"] == 3
        assert fake.cloud.topology.name == "tiny"
    with pytest.raises(TypeError, match="neither a Cloud nor a WSGI app"):
        fakestack.mock(42).start()


def test_bad_base_urls_are_refused():
    with pytest.raises(ValueError, match="not a base URL"):
        fakestack.mock(urls=["vcenter.example"])
    with pytest.raises(ValueError, match="serves nothing"):
        fakestack.mock(urls=[])


def test_import_fakestack_loads_no_http_client_until_mock_is_used():
    import subprocess
    import sys

    code = (
        "import sys, fakestack\n"
        "names = ('urllib3', 'httpx', 'requests', 'fakestack.interception')\n"
        "loaded = [m for m in names if m in sys.modules]\n"
        "assert loaded == [], loaded\n"
        "assert fakestack.mock is fakestack.interception.mock\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
