"""More ZStack behaviour: full clones, tags in queries, session limits, state that survives
a snapshot/restore, paging over a large cloud."""

from __future__ import annotations

from werkzeug.test import Client
from zstack_support import ADMIN_PASSWORD_HASH, auth, call_async, clone, cloud_client, login, query

from fakestack.app import make_app
from fakestack.dialects.zstack import sessions
from fakestack.model import Cloud, ManualClock


def test_full_clone_copies_data_volumes():
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden")
    body = clone(client, session, golden.uuid, ["full-1"], full=True).get_json()["result"]
    inventory = body["inventories"][0]["inventory"]
    assert [v["type"] for v in inventory["allVolumes"]] == ["Root", "Data"]
    source_ps = cloud.volumes.get(golden.root_volume_uuid).primary_storage_uuid
    assert inventory["allVolumes"][0]["primaryStorageUuid"] == source_ps  # pinned for full clones
    plain = clone(client, session, golden.uuid, ["plain-1"]).get_json()["result"]["inventories"][0]
    assert [v["type"] for v in plain["inventory"]["allVolumes"]] == ["Root"]


def test_system_and_user_tags_are_queryable():
    cloud, client, session = cloud_client("demo")
    params = {
        "name": "tagged",
        "instanceOfferingUuid": cloud.instance_offerings.get("small").uuid,
        "imageUuid": cloud.images.get("centos-7").uuid,
    }
    call_async(
        client,
        "POST",
        "/zstack/v1/vm-instances",
        session,
        json={"params": params, "systemTags": ["ha::NeverStop"], "userTags": ["team-a"]},
    )
    clone(client, session, cloud.vms.get("golden").uuid, ["tagged-clone"])
    names = lambda **q: [
        v["name"] for v in query(client, session, "vm-instances", **q).get_json()["inventories"]
    ]
    assert names(q="__systemTag__=ha::NeverStop") == ["tagged"]
    assert names(q="__userTag__~=team-%") == ["tagged"]
    assert names(q="__userTag__=team-b") == []


def test_the_session_limit_is_id_1006():
    cloud, client, session = cloud_client("demo")
    for _ in range(sessions.MAX_CONCURRENT_SESSIONS - 1):
        login(client)
    response = client.put(
        "/zstack/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": ADMIN_PASSWORD_HASH}},
    )
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "ID.1006"
    client.delete(f"/zstack/v1/accounts/sessions/{session}")
    login(client)


def test_sessions_and_jobs_survive_snapshot_and_restore():
    cloud, client, session = cloud_client("demo")
    golden = cloud.vms.get("golden").uuid
    response = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"cloneVmInstance": {"names": ["kept"]}},
        headers=auth(session, **{"X-Job-UUID": "6" * 32}),
    )
    assert response.status_code == 202
    restored = Cloud.restore(cloud.snapshot(), clock=ManualClock())
    other = Client(make_app(restored))
    result = other.get("/zstack/v1/api-jobs/" + "6" * 32)
    assert result.status_code == 200 and result.get_json()["result"]["numberOfClonedVm"] == 1
    listed = other.get("/zstack/v1/vm-instances", query_string={"q": "name=kept"}, headers=auth(session))
    assert [v["name"] for v in listed.get_json()["inventories"]] == ["kept"]


def test_paging_over_a_large_cloud():
    cloud = Cloud("scale:20:300", seed=1, clock=ManualClock())
    client = Client(make_app(cloud))
    session = login(client)
    page = query(client, session, "vm-instances", limit="50", start="100", replyWithCount="true").get_json()
    assert page["total"] == 300
    assert [v["name"] for v in page["inventories"]] == [f"vm-{i}" for i in range(101, 151)]
    assert query(client, session, "vm-instances", count="true").get_json() == {"total": 300, "schema": {}}
    one = query(client, session, "vm-instances", q="name=vm-299").get_json()["inventories"]
    assert [v["name"] for v in one] == ["vm-299"]
    sorted_page = query(client, session, "hosts", sort="-name", limit="2").get_json()["inventories"]
    assert [h["name"] for h in sorted_page] == ["host-9", "host-8"]


def test_query_string_list_forms_all_name_the_same_storages():
    from werkzeug.datastructures import MultiDict

    from fakestack.dialects.zstack.catalog import APIS
    from fakestack.dialects.zstack.params import param_specs, params_from_query

    specs = param_specs(APIS["DeleteVmBackup"])
    forms = [
        MultiDict([("backupStorageUuids", "a"), ("backupStorageUuids", "b")]),
        MultiDict([("backupStorageUuids.1", "b"), ("backupStorageUuids.0", "a")]),
        MultiDict([("backupStorageUuids", "['a', 'b']")]),
        MultiDict([("backupStorageUuids", "a,b")]),
    ]
    for form in forms:
        assert params_from_query(form, specs)["backupStorageUuids"] == ["a", "b"]
    parsed = params_from_query(MultiDict([("handleDependency", "TRUE"), ("unknown", "x")]), specs)
    assert parsed == {"handleDependency": True}


def test_delete_image_on_named_storages_through_the_python_sdk_list_form():
    cloud, client, session = cloud_client("demo")
    image = cloud.images.get("ubuntu-22.04").uuid
    bs = cloud.backup_storages.get("imagestore").uuid
    response = call_async(
        client,
        "DELETE",
        f"/zstack/v1/images/{image}",
        session,
        query_string={"backupStorageUuids": f"['{bs}']", "deleteMode": "Permissive"},
    )
    assert response.get_json() == {}
    assert cloud.images.get(image).status == "Deleted"
    wrong = client.delete(
        f"/zstack/v1/images/{image}", query_string={"backupStorageUuids": "x" * 32}, headers=auth(session)
    )
    from zstack_support import poll

    assert poll(client, wrong).get_json()["error"]["details"] == (
        f"invalid field[backupStorageUuids], resource[uuids:[{'x' * 32}], type:BackupStorageVO] not found"
    )


def test_tags_inside_the_wrapper_count_too():
    cloud, client, session = cloud_client("demo")
    params = {
        "name": "inner",
        "instanceOfferingUuid": cloud.instance_offerings.get("small").uuid,
        "imageUuid": cloud.images.get("centos-7").uuid,
        "systemTags": ["inner::tag"],
    }
    call_async(client, "POST", "/zstack/v1/vm-instances", session, json={"params": params})
    listed = query(client, session, "vm-instances", q="__systemTag__=inner::tag").get_json()["inventories"]
    assert [v["name"] for v in listed] == ["inner"]


def test_session_expiry_on_a_model_cloud_with_freezegun():
    from freezegun import freeze_time

    with freeze_time("2026-05-01 12:00:00") as frozen:
        cloud = Cloud("tiny", seed=0, clock="system")  # reads time.time(): freezegun drives it
        client = Client(make_app(cloud))
        session = login(client)
        frozen.tick(7199)
        assert query(client, session, "zones").status_code == 200
        frozen.tick(7201)
        expired = query(client, session, "zones")
        assert (expired.status_code, expired.get_json()["error"]["details"]) == (503, "Session expired")


def test_web_hook_receives_the_result_when_the_job_completes():
    cloud, client, session = cloud_client("tiny")
    sent = []
    client.application.dialects[0].webhook_sender = lambda url, body, headers: sent.append(
        (url, body, headers)
    )
    cloud.settings.job_durations["vm.clone"] = 5.0
    golden = cloud.vms.get("golden").uuid
    response = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"cloneVmInstance": {"names": ["w1", "w2", "w3", "w4", "w5"]}},
        headers=auth(session, **{"X-Web-Hook": "http://127.0.0.1:9/hook", "X-Job-UUID": "c" * 32}),
    )
    assert response.status_code == 202 and sent == []
    cloud.tick(4)
    assert sent == []
    cloud.tick(1)  # the clock completes the job: the hook is called
    assert len(sent) == 1
    url, body, headers = sent[0]
    assert url == "http://127.0.0.1:9/hook"
    assert headers == {"X-Job-UUID": "c" * 32, "X-Job-Success": "true", "X-Job-Batch": "PARTIAL"}
    import json

    assert json.loads(body)["result"]["numberOfClonedVm"] == 3
    # the 202/poll path still works
    assert client.get("/zstack/v1/api-jobs/" + "c" * 32).status_code == 200


def test_web_hook_of_a_job_the_clock_ended_goes_out_on_the_next_request():
    cloud, client, session = cloud_client("tiny")
    sent = []
    client.application.dialects[0].webhook_sender = lambda url, body, headers: sent.append(headers)
    cloud.settings.job_durations["vm.stop"] = 5.0
    golden = cloud.vms.get("golden").uuid
    client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        json={"stopVmInstance": {}},
        headers=auth(session, **{"X-Web-Hook": "http://127.0.0.1:9/hook", "X-Job-UUID": "d" * 32}),
    )
    cloud.clock.advance(5)  # the clock alone: no tick, so no time listener has run yet
    assert sent == []
    query(client, session, "zones")  # any request: the app settles the cloud first
    assert sent == [{"X-Job-UUID": "d" * 32, "X-Job-Success": "true"}]
