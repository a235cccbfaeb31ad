"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by playwright's
Python API; playwright's own browser downloads are never used).

A served cloud is filled through the ZStack HTTP API while the page is open; the page
must show, by itself polling, the full host, the new clone-tree nodes, the journal entry
and the fault plan's injected exhaustion.  A screenshot is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

# playwright is in the test extra: a missing package is an error, not a skip
from playwright.sync_api import expect, sync_playwright

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
if CHROMIUM is None:
    pytest.skip(
        "the dashboard browser test needs Debian's chromium (apt-get install -y chromium); "
        "it is not installed here",
        allow_module_level=True,
    )

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 10_000  # the page polls every second


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # The fake must work offline: any request that leaves 127.0.0.1 fails the test.
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith("http://127.0.0.1") else outside.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert outside == [], f"the dashboard reached outside the fake: {outside}"
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture
def artifacts(request) -> Path:
    folder = Path(request.config.rootpath) / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def zstack_login(http: httpx.Client) -> str:
    password = hashlib.sha512(b"password").hexdigest()
    response = http.put(
        "/zstack/v1/accounts/login", json={"logInByAccount": {"accountName": "admin", "password": password}}
    )
    assert response.status_code == 200, response.text
    return response.json()["inventory"]["uuid"]


def zstack_clone(http: httpx.Client, session: str, vm_uuid: str, names: list[str]) -> dict:
    response = http.put(
        f"/zstack/v1/vm-instances/{vm_uuid}/actions",
        json={"cloneVmInstance": {"names": names, "strategy": "InstantStart"}},
        headers={"Authorization": f"OAuth {session}"},
    )
    assert response.status_code == 202, response.text
    location = response.json()["location"]
    done = http.get("/" + location.split("://", 1)[1].split("/", 1)[1])
    assert done.status_code == 200, done.text
    return done.json()["result"]


@pytest.mark.fakestack(topology="tiny")
def test_the_dashboard_shows_a_host_filling_up_its_clone_tree_and_the_journal(
    fakestack_server, page, artifacts
):
    cloud = fakestack_server.cloud
    page.goto(fakestack_server.url + "/_fakestack/ui")
    host = page.locator('#capacity-panel .card.host[data-name="host-1"]')
    expect(host).to_be_visible(timeout=WAIT_MS)
    expect(host).not_to_have_class(re.compile(r"\bis-full\b"))
    expect(page.locator("#capacity-panel .card.primary[data-name='nfs-ps']")).to_be_visible()
    expect(page.locator("#capacity-panel .card.backup[data-name='imagestore']")).to_be_visible()
    tree = page.locator("#trees-panel svg.tree")
    expect(tree.locator('g.node[data-label="golden root"]')).to_have_count(1)
    expect(tree.locator('g.node[data-label="c1 root"]')).to_have_count(0)

    with httpx.Client(base_url=fakestack_server.url, timeout=10) as http:
        session = zstack_login(http)
        golden = cloud.vms.get("golden").uuid
        # tiny's host has room for three more 2 GiB VMs: the fourth name gets an error
        result = zstack_clone(http, session, golden, ["c1", "c2", "c3", "c4"])
    assert result["numberOfClonedVm"] == 3

    # the full host: the page polls, nobody reloads it
    expect(host.locator(".badge.full")).to_have_text("FULL", timeout=WAIT_MS)
    expect(host).to_have_class(re.compile(r"\bis-full\b"))
    expect(host.locator('[data-ledger="memory"] .ledger-text')).to_contain_text("8 GiB / 10 GiB")
    expect(host.locator('[data-ledger="memory"] .ledger-text')).to_contain_text("placeable 1 GiB")
    # the new tree nodes: three writable leaves on the clone template's cache
    for name in ("c1", "c2", "c3"):
        node = tree.locator(f'g.node.kind-leaf[data-label="{name} root"]')
        expect(node).to_have_count(1)
    expect(tree.locator('g.node[data-label="c4 root"]')).to_have_count(0)
    expect(tree.locator("g.node.kind-frozen")).to_have_count(1)  # golden's frozen source
    # the journal entry: one clone, three of four names done
    clone_row = page.locator('#journal-panel table.ops tr[data-op="vm.clone"]')
    expect(clone_row).to_have_count(1)
    expect(clone_row.locator("td.outcome")).to_have_text("partial")
    expect(clone_row).to_contain_text("3 of 4 done")
    expect(page.locator("#journal-panel table.requests")).to_contain_text("/zstack/v1/vm-instances/")

    # filters: by operation and by outcome
    page.fill("#journal-operation", "vm.start")
    expect(clone_row).to_have_count(0, timeout=WAIT_MS)
    page.fill("#journal-operation", "clone")
    page.select_option("#journal-outcome", "error")
    expect(clone_row).to_have_count(1, timeout=WAIT_MS)
    page.select_option("#journal-outcome", "ok")
    expect(clone_row).to_have_count(0, timeout=WAIT_MS)
    page.select_option("#journal-outcome", "")
    page.fill("#journal-operation", "")

    # a fault plan: injected exhaustion of the primary storage is marked on its bar
    with httpx.Client(base_url=fakestack_server.url, timeout=10) as http:
        added = http.post(
            "/_fakestack/faults",
            json={
                "id": "ps-full",
                "match": "vm.create",
                "effect": {"type": "exhaust", "resource": "primary_storage.physical"},
            },
        )
        assert added.status_code == 201, added.text
    physical = page.locator('#capacity-panel .card.primary[data-name="nfs-ps"] [data-ledger="physical"]')
    expect(physical.locator(".bar.exhausted")).to_have_count(1, timeout=WAIT_MS)
    expect(physical.locator(".badge.injected")).to_contain_text("ps-full on vm.create")
    expect(page.locator('#faults-panel tr[data-rule="ps-full"] td.hits')).to_have_text("0")

    # choosing a VM draws its own trees, its disk highlighted
    c1 = cloud.vms.get("c1").uuid
    page.select_option("#tree-subject", f"vm:{c1}")
    expect(page.locator(f'#trees-panel .tree-head[data-subject="vm:{c1}"]')).to_be_visible(timeout=WAIT_MS)
    expect(tree.locator('g.node.subject[data-label="c1 root"]')).to_have_count(1)
    expect(page.locator("#trees-panel .tree-head")).to_contain_text("deepest chain 2 of 255 levels")
    nfs = cloud.primary_storages.get("nfs-ps").uuid
    page.select_option("#tree-subject", f"storage:{nfs}")  # back to everything on nfs-ps
    expect(tree.locator('g.node[data-label="c2 root"]')).to_have_count(1, timeout=WAIT_MS)

    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    assert (artifacts / "dashboard.png").stat().st_size > 10_000
