# ruff: noqa: F811, I001
# (the docs page's blocks as written, each with its own imports)
"""docs/mock.md: "Any HTTP client in process: fakestack.mock" and its ``fakestack_factory``
example, as written there (a test below checks that the page still shows this code)."""

import hashlib

import requests


def clone_web_servers(base_url, names):
    """Log in to ZStack, clone the golden VM once per name; {name: state or error code}."""
    with requests.Session() as http:
        login = http.put(
            f"{base_url}/zstack/v1/accounts/login",
            json={
                "logInByAccount": {
                    "accountName": "admin",
                    "password": hashlib.sha512(b"password").hexdigest(),
                }
            },
        )
        http.headers["Authorization"] = f"OAuth {login.json()['inventory']['uuid']}"
        golden = http.get(f"{base_url}/zstack/v1/vm-instances", params={"q": "name=golden"})
        golden = golden.json()["inventories"][0]["uuid"]
        made = {}
        for name in names:
            job = http.put(
                f"{base_url}/zstack/v1/vm-instances/{golden}/actions",
                json={"cloneVmInstance": {"names": [name]}},
            )
            entry = http.get(job.json()["location"]).json()["result"]["inventories"][0]
            made[name] = entry["error"]["code"] if entry.get("error") else entry["inventory"]["state"]
        return made


import fakestack
from fakestack import faults


def test_the_second_clone_finds_no_host_cpu():
    with fakestack.mock(urls=["http://zstack.example:8080"]) as fake:
        faults.add(fake.cloud, faults.exhaust("vm.clone", "host.cpu", nth=2))
        assert clone_web_servers("http://zstack.example:8080", ["web-1", "web-2", "web-3"]) == {
            "web-1": "Running",
            "web-2": "VM.1001",
            "web-3": "Running",
        }


import requests
from hypothesis import given, settings, strategies as st

from fakestack import faults


@settings(deadline=None)  # a dozen HTTP requests per example: no 200 ms limit on a busy machine
@given(names=st.lists(st.sampled_from(["web-1", "web-2", "web-3"]), min_size=1, max_size=3, unique=True))
def test_a_full_host_fails_every_clone_and_leaves_nothing(fakestack_factory, names):
    fresh = fakestack_factory()
    faults.add(fresh.cloud, faults.exhaust("vm.clone", "host.cpu"))
    with fresh.mock(urls=["http://zstack.example"]):
        made = clone_web_servers("http://zstack.example", names)
    assert made == {name: "VM.1001" for name in names}
    assert [vm.name for vm in fresh.cloud.vms] == ["golden"]


def test_the_readme_shows_this_code():
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "docs" / "mock.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    source = Path(__file__).read_text()
    shown = [b for b in blocks if "def clone_web_servers" in b or "clone_web_servers(" in b]
    assert len(shown) == 3
    assert all(block in source for block in shown)
