"""The dashboard's admin endpoints, through the werkzeug test client: the page and its
assets, the JSON views (ledgers, trees) and the rendered panels."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from fakestack import Cloud, ManualClock, faults
from fakestack.app import make_app

GiB = 1024**3


@pytest.fixture
def cloud():
    return Cloud("tiny", seed=0, clock=ManualClock())


@pytest.fixture
def client(cloud):
    return Client(make_app(cloud))


def get_json(client, path):
    response = client.get(path)
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response.status_code, response.get_json()


def walk(tree):
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])


def test_the_page_and_its_assets_are_served_without_anything_external(client):
    page = client.get("/_fakestack/ui")
    assert (page.status_code, page.mimetype) == (200, "text/html")
    html = page.get_data(as_text=True)
    assert 'href="/_fakestack/ui/assets/dashboard.css"' in html
    assert 'src="/_fakestack/ui/assets/dashboard.js"' in html
    assert "//" not in html.replace('="/_fakestack', "").split("<body", 1)[0].split("<title>")[1]
    for name, mimetype in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")):
        asset = client.get(f"/_fakestack/ui/assets/{name}")
        assert (asset.status_code, asset.mimetype) == (200, mimetype)
        assert "http://" not in asset.get_data(as_text=True)
        assert "https://" not in asset.get_data(as_text=True)
    assert get_json(client, "/_fakestack/ui/assets/../admin.py")[0] == 404
    status, body = get_json(client, "/_fakestack/ui/assets/jquery.js")
    assert (status, body["error"]) == (404, "not_found")


def test_the_admin_index_links_the_dashboard_and_answers_a_browser_in_html(client):
    status, body = get_json(client, "/_fakestack/")
    assert status == 200 and body["dashboard"] == "/_fakestack/ui"
    paths = {(e["method"], e["path"]) for e in body["endpoints"]}
    assert {
        ("GET", "/_fakestack/ui"),
        ("GET", "/_fakestack/ledgers"),
        ("GET", "/_fakestack/trees/{kind}/{key}"),
    } <= paths
    browser = client.get(
        "/_fakestack/", headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    )
    assert browser.mimetype == "text/html"
    assert '<a href="/_fakestack/ui">Open the dashboard</a>' in browser.get_data(as_text=True)
    assert client.get("/_fakestack/", headers={"Accept": "*/*"}).mimetype == "application/json"


def test_ledgers_mark_the_host_full_when_no_offering_fits(cloud, client):
    status, before = get_json(client, "/_fakestack/ledgers")
    assert status == 200
    [host] = before["hosts"]
    assert (host["full"], host["memory"]["placeable"]) == (False, 7 * GiB)
    cloud.clone_vm("golden", ["a", "b", "c", "d"])
    [host] = get_json(client, "/_fakestack/ledgers")[1]["hosts"]
    assert host["full"] is True
    assert host["memory"] == {
        "total": 10 * GiB,
        "used": 8 * GiB,
        "available": 2 * GiB,
        "reserved": GiB,
        "placeable": GiB,
        "injected": [],
    }
    [ps] = get_json(client, "/_fakestack/ledgers")[1]["primary_storages"]
    assert ps["physical"]["threshold"] == 0.9
    assert ps["physical"]["limit"] == round(ps["physical"]["total"] * 0.9)
    assert ps["virtual"]["overprovisioning"] == 1.0


def test_injected_exhaustion_is_marked_on_the_ledger_it_empties(cloud, client):
    faults.add(
        cloud,
        faults.exhaust("vm.clone", "host.memory", on="host-1", id="mem"),
        faults.exhaust("vm.create", "backup_storage", id="bs"),
        faults.exhaust("vm.clone", "primary_storage.physical", on="golden", id="ps"),
    )
    view = get_json(client, "/_fakestack/ledgers")[1]
    [host], [ps], [bs] = view["hosts"], view["primary_storages"], view["backup_storages"]
    assert host["memory"]["injected"] == [{"rule": "mem", "match": "vm.clone", "hits": 0, "on": "host-1"}]
    assert host["cpu"]["injected"] == []
    assert [m["rule"] for m in bs["capacity"]["injected"]] == ["bs"]
    # a filter naming a VM narrows the calls, not the storage: every storage is marked
    assert [m["rule"] for m in ps["physical"]["injected"]] == ["ps"]
    assert ps["virtual"]["injected"] == []
    faults.add(cloud, faults.exhaust("vm.clone", "host.cpu", on="some-other-host", id="cpu"))
    # a filter naming no host or storage of this cloud applies to all of them
    [host] = get_json(client, "/_fakestack/ledgers")[1]["hosts"]
    assert [m["rule"] for m in host["cpu"]["injected"]] == ["cpu"]
    for rule in ("cpu", "ps", "mem"):
        faults.remove(cloud, rule)
    faults.add(cloud, faults.exhaust("vm.clone", "host.memory", id="any-host"))
    result = cloud.clone_vm("golden", ["x"])
    assert result.entries[0].error.to_dict()["injected"] is True
    marks = get_json(client, "/_fakestack/ledgers")[1]["hosts"][0]["memory"]["injected"]
    assert marks == [{"rule": "any-host", "match": "vm.clone", "hits": 1, "on": None}]


def test_the_tree_of_a_vm_shows_its_chain_frozen_source_clones_and_backups(cloud, client):
    cloud.instant_clone("golden", "gen-1")
    cloud.instant_clone("gen-1", "gen-2")
    cloud.create_vm_backup("golden", "imagestore", "nightly")
    cloud.write(cloud.vms.get("golden").root_volume_uuid, 64 * 1024 * 1024)
    cloud.create_vm_backup("golden", "imagestore", "nightly-2")
    status, view = get_json(client, "/_fakestack/trees/vm/golden")
    assert status == 200
    assert view["subject"] == {
        "kind": "vm",
        "uuid": cloud.vms.get("golden").uuid,
        "name": "golden",
        "state": "Running",
    }
    primary, *backups = view["trees"]
    kinds = [(n["kind"], n["label"], n["depth"]) for n in walk(primary)]
    assert kinds[0] == ("image-cache", "tiny-linux", 1)
    assert sorted(k for k in kinds if k[0] == "leaf") == [
        ("leaf", "gen-1 root", 4),
        ("leaf", "gen-2 root", 4),
        ("leaf", "golden root", 3),
    ]
    assert [k[0] for k in kinds].count("frozen") == 2  # golden's leaf, then gen-1's
    assert [n["label"] for n in walk(primary) if n["subject"]] == ["golden root"]
    assert view["deepest"] == 4 and view["max_chain_depth"] == 255
    chain = [(n["kind"], n["subject"]) for n in walk(backups[0])]
    assert chain == [("backup-full", True), ("backup-incremental", True)]
    assert [(g["name"], [b["mode"] for b in g["backups"]]) for g in view["backup_groups"]] == [
        ("nightly", ["full"]),
        ("nightly-2", ["incremental"]),
    ]


def test_a_deleted_parent_stays_as_a_hidden_node(cloud, client):
    cloud.create_vm_backup("golden", "imagestore", "first")
    cloud.write(cloud.vms.get("golden").root_volume_uuid, 1024 * 1024)
    cloud.create_vm_backup("golden", "imagestore", "second")
    first = next(g for g in cloud.backup_groups if g.name == "first")
    cloud.delete_backup_group(first, mode="Enforcing")
    view = get_json(client, "/_fakestack/trees/storage/imagestore")[1]
    backup_tree = next(t for t in view["trees"] if t["role"] == "backup")
    assert [(n["kind"], n["hidden"]) for n in walk(backup_tree)] == [
        ("hidden", True),
        ("backup-incremental", False),
    ]
    assert [g["name"] for g in view["backup_groups"]] == ["second"]


def test_trees_are_cut_at_the_limit_and_say_so(cloud, client):
    cloud.clone_vm("golden", ["a", "b", "c"])
    nfs = cloud.primary_storages.get("nfs-ps").uuid
    full = get_json(client, f"/_fakestack/trees/storage/{nfs}")[1]
    assert (full["nodes"], full["truncated"]) == (7, False)
    cut = get_json(client, f"/_fakestack/trees/storage/{nfs}?limit=5")[1]
    assert (cut["nodes"], cut["truncated"]) == (5, True)
    assert sum(n["omitted"] for t in cut["trees"] for n in walk(t)) == 2
    panel = get_json(client, f"/_fakestack/ui/panels?tree=storage:{nfs}")[1]["panels"]["trees"]
    assert "+2 more not drawn" not in panel  # the page draws up to 400
    from fakestack.dashboard import render

    assert ">+2 more not drawn</text>" in render.trees_html(cut)


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/_fakestack/trees/vm/nobody", 404, "not_found"),
        ("/_fakestack/trees/host/host-1", 404, "not_found"),
        ("/_fakestack/trees/vm/golden?limit=0", 400, "bad_request"),
        ("/_fakestack/ui/panels?tree=golden", 400, "bad_request"),
        ("/_fakestack/ui/panels?outcome=maybe", 400, "bad_request"),
        ("/_fakestack/ui/panels?limit=x", 400, "bad_request"),
    ],
)
def test_client_mistakes_are_json_errors(client, path, status, code):
    got_status, body = get_json(client, path)
    assert (got_status, body["error"]) == (status, code)


def test_subjects_list_what_a_tree_can_be_drawn_for(cloud, client):
    view = get_json(client, "/_fakestack/trees")[1]
    assert [v["name"] for v in view["vms"]] == ["golden"]
    assert [i["name"] for i in view["images"]] == ["tiny-linux"]
    assert [(s["name"], s["kind"]) for s in view["storages"]] == [
        ("nfs-ps", "primary_storage"),
        ("imagestore", "backup_storage"),
    ]


def test_panels_render_the_filtered_journal_and_the_fault_plan(cloud, client):
    cloud.clone_vm("golden", ["a", "b", "c", "d"])
    cloud.stop_vm("a")
    faults.add(cloud, faults.fail("vm.start", id="no-start"))
    status, body = get_json(client, "/_fakestack/ui/panels?operation=clone&outcome=error")
    assert status == 200
    journal = body["panels"]["journal"]
    assert journal.count('data-op="vm.clone"') == 1 and 'data-op="vm.stop"' not in journal
    assert "3 of 4 done" in journal
    assert body["operation_names"] == ["vm.clone", "vm.stop"]
    ok_only = get_json(client, "/_fakestack/ui/panels?outcome=ok")[1]["panels"]["journal"]
    assert 'data-op="vm.stop"' in ok_only and 'data-op="vm.clone"' not in ok_only
    assert '<tr data-rule="no-start">' in body["panels"]["faults"]
    assert "is-full" not in body["panels"]["capacity"]  # stopping "a" made room again
    assert body["tree"] == f"storage:{cloud.primary_storages.get('nfs-ps').uuid}"
    assert 'data-label="c root"' in body["panels"]["trees"]
    assert body["clock"]["iso"] == "2026-01-01T00:00:00Z"


def test_names_from_the_cloud_are_escaped(cloud, client):
    cloud.clone_vm("golden", ["<script>alert(1)</script>"])
    body = get_json(client, "/_fakestack/ui/panels?tree=vm:golden")[1]
    panels = "".join(body["panels"].values())
    assert "<script>" not in panels
    all_nodes = get_json(client, "/_fakestack/ui/panels")[1]["panels"]["trees"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; root" in all_nodes


def test_a_subject_that_went_away_is_said_not_drawn(cloud, client):
    cloud.clone_vm("golden", ["gone"])
    uuid = cloud.vms.get("gone").uuid
    cloud.destroy_vm(uuid)
    cloud.expunge_vm(uuid)
    status, body = get_json(client, f"/_fakestack/ui/panels?tree=vm:{uuid}")
    assert status == 200 and body["tree"] is None
    assert f"no vm &#x27;{uuid}&#x27;" in body["panels"]["trees"]


def test_reading_the_dashboard_changes_nothing_and_is_not_journaled(cloud, client):
    cloud.clone_vm("golden", ["a"])
    before = cloud.snapshot()
    for path in (
        "/_fakestack/ui",
        "/_fakestack/ui/panels",
        "/_fakestack/ledgers",
        "/_fakestack/trees",
        "/_fakestack/trees/vm/golden",
    ):
        assert client.get(path).status_code == 200
    assert cloud.snapshot() == before
    assert get_json(client, "/_fakestack/journal")[1]["requests"] == []


def test_a_poll_with_the_last_token_gets_unchanged_until_something_moves(cloud, client):
    first = get_json(client, "/_fakestack/ui/panels")[1]
    again = get_json(client, f"/_fakestack/ui/panels?since={first['token']}")[1]
    assert again == {
        "unchanged": True,
        "token": first["token"],
        "clock": first["clock"],
        "panels": {"clock": first["panels"]["clock"]},
    }
    cloud.tick(30)  # only the clock moved: still unchanged, with the new time
    later = get_json(client, f"/_fakestack/ui/panels?since={first['token']}")[1]
    assert later["unchanged"] and later["clock"]["iso"] == "2026-01-01T00:00:30Z"
    for change in (
        lambda: cloud.clone_vm("golden", ["a"]),
        lambda: faults.add(cloud, faults.fail("vm.stop", id="x")),
        lambda: client.delete("/_fakestack/journal"),
    ):
        token = get_json(client, "/_fakestack/ui/panels")[1]["token"]
        change()
        moved = get_json(client, f"/_fakestack/ui/panels?since={token}")[1]
        assert "unchanged" not in moved and moved["token"] != token


def test_a_big_cloud_draws_its_notable_hosts_first_and_at_most_48():
    cloud = Cloud("scale:100:10", seed=0, clock=ManualClock())
    last = list(cloud.hosts)[-1]
    cloud.set_host_state(last, "Disabled")
    client = Client(make_app(cloud))
    capacity = get_json(client, "/_fakestack/ui/panels")[1]["panels"]["capacity"]
    assert capacity.count('class="card host') == 48
    assert last.name == "host-100"  # disabled: drawn first, then the others in order
    assert (
        capacity.index('data-name="host-100"')
        < capacity.index('data-name="host-1"')
        < capacity.index('data-name="host-47"')
    )
    assert 'data-name="host-48"' not in capacity
    assert "48 of 100 hosts drawn (0 full); every host is in /_fakestack/ledgers" in capacity
    assert len(get_json(client, "/_fakestack/ledgers")[1]["hosts"]) == 100


def test_a_recording_server_does_not_record_the_dashboard_looking(cloud, tmp_path):
    from fakestack import scenarios

    path = tmp_path / "session.yaml"
    client = Client(scenarios.record_app(cloud, path, wall_clock=lambda: 1_767_225_700.0))
    for _ in range(3):
        assert client.get("/_fakestack/ui/panels").status_code == 200
    assert client.get("/_fakestack/ui").status_code == 200
    assert client.get("/_fakestack/capacity").status_code == 200  # the admin API is recorded
    steps = scenarios.load(path).steps
    assert [s.http.path for s in steps if s.http is not None] == ["/_fakestack/capacity"]


def test_a_page_opened_with_a_token_asks_for_its_files_with_it(client):
    html = client.get("/_fakestack/ui", query_string={"token": 's3cret&"x'}).get_data(as_text=True)
    assert 'href="/_fakestack/ui/assets/dashboard.css?token=s3cret%26%22x"' in html
    assert 'src="/_fakestack/ui/assets/dashboard.js?token=s3cret%26%22x"' in html
    script = client.get("/_fakestack/ui/assets/dashboard.js").get_data(as_text=True)
    assert 'headers["X-Fakestack-Admin-Token"] = token_' in script
