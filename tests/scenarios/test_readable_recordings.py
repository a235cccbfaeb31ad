"""Recordings a person can read: named steps, relative clock ticks, saved variables, one
line per body; their replay still passes byte for byte."""

from __future__ import annotations

import hashlib

import requests
import yaml

import fakestack
from fakestack import faults, scenarios

ZSTACK = "http://zstack.example:8080"


class FakeWall:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def record_in_process(tmp_path, topology="tiny"):
    """A recording app answering ``fakestack.mock`` (what ``serve --record`` does, no socket)."""
    wall = FakeWall(1_767_225_600.0)
    cloud = scenarios.recording_cloud(topology, start=wall.now)
    path = tmp_path / "session.yaml"
    return wall, cloud, path, scenarios.record_app(cloud, path, wall_clock=wall)


def assert_replays_byte_for_byte(path):
    first = scenarios.replay(path)
    assert first.passed, first.report()
    assert scenarios.replay(path).transcript == first.transcript


def test_six_zstack_requests_make_a_few_dozen_readable_lines(tmp_path):
    wall, cloud, path, app = record_in_process(tmp_path)
    with fakestack.mock(app=app, urls=[ZSTACK]), requests.Session() as http:
        login = http.put(
            f"{ZSTACK}/zstack/v1/accounts/login",
            json={
                "logInByAccount": {
                    "accountName": "admin",
                    "password": hashlib.sha512(b"password").hexdigest(),
                }
            },
        )
        session = login.json()["inventory"]["uuid"]
        http.headers["Authorization"] = f"OAuth {session}"
        golden = http.get(f"{ZSTACK}/zstack/v1/vm-instances", params={"q": "name=golden"}).json()
        golden = golden["inventories"][0]["uuid"]
        wall.now += 30
        job = http.put(
            f"{ZSTACK}/zstack/v1/vm-instances/{golden}/actions",
            json={"cloneVmInstance": {"names": ["web-1"]}},
        ).json()["location"]
        assert http.get(job).status_code == 200
        wall.now += 0.5  # less than a second: no clock step
        assert http.get(f"{ZSTACK}/zstack/v1/vm-instances", params={"q": "name=web-1"}).status_code == 200
        assert http.delete(f"{ZSTACK}/zstack/v1/accounts/sessions/{session}").status_code == 200

    text = path.read_text()
    assert len(text.splitlines()) <= 70, text  # was 411 with a block per body
    steps = yaml.safe_load(text)["steps"]
    assert [s.get("name") or s["clock"] for s in steps] == [
        "LogInByAccount",
        "QueryVmInstance name=golden",
        {"tick": 30},
        "CloneVmInstance web-1",
        "poll job",
        "QueryVmInstance name=web-1",
        "LogOut",
    ]
    assert "- clock: {tick: 30}\n" in text
    assert steps[0]["save"] == {"session": "inventory.uuid"}
    assert steps[1]["save"] == {"golden_uuid": "inventories.0.uuid"}
    assert steps[1]["http"]["headers"] == {"Authorization": "OAuth ${session}"}
    assert steps[3]["http"]["path"] == "/zstack/v1/vm-instances/${golden_uuid}/actions"
    assert steps[3]["save"] == {"job": "location"}
    assert steps[4]["http"]["path"] == "${job}"
    assert steps[6]["http"]["path"] == "/zstack/v1/accounts/sessions/${session}"
    assert session not in text.replace(f"uuid: {session}", "")  # only in the login's answer
    assert_replays_byte_for_byte(path)


def test_a_vsphere_sdk_session_is_saved_once_and_sent_as_a_variable(tmp_path):
    from com.vmware.vcenter_client import VM
    from vmware.vapi.vsphere.client import create_vsphere_client

    wall, cloud, path, app = record_in_process(tmp_path)
    with fakestack.mock(app=app, urls=["https://vcenter.example"]):
        client = create_vsphere_client(
            server="vcenter.example",
            username="administrator@vsphere.local",
            password="password",
            session=requests.Session(),
        )
        client.vcenter.VM.list()
        wall.now += 5
        assert client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-1")) == "vm-2"
    steps = yaml.safe_load(path.read_text())["steps"]
    names = [s.get("name") for s in steps if "http" in s]
    assert names == ["session.create", "VM.list", "VM.instant_clone ic-1"]
    assert steps[0]["save"] == {"session": "result.output.SECRET"}
    text = path.read_text()
    token = steps[0]["expect"]["body"]["result"]["output"]["SECRET"]
    assert text.count("${session}") == 2 and text.count(token) == 1
    assert {"clock": {"tick": 5}} in steps
    assert_replays_byte_for_byte(path)


def test_a_changed_answer_still_fails_the_replay(tmp_path):
    wall, cloud, path, app = record_in_process(tmp_path)
    with fakestack.mock(app=app, urls=[ZSTACK]):
        requests.get(f"{ZSTACK}/_fakestack/capacity")
    changed = tmp_path / "changed.yaml"
    changed.write_text(path.read_text().replace("topology: tiny", "topology: demo"))
    result = scenarios.replay(changed)
    assert not result.passed and "body differs" in result.report()


def test_note_faults_takes_what_faults_add_returns(tmp_path):
    cloud = fakestack.Cloud("tiny", seed=0)
    rec = scenarios.Recorder.for_cloud(cloud, name="noted")
    rule = faults.add(cloud, faults.exhaust("vm.clone", "host.memory"))  # a list of one rule
    rec.note_faults(rule)
    rec.tick(30)
    assert rec.as_dict()["steps"] == [
        {
            "fault": {
                "add": [
                    {
                        "match": "vm.clone",
                        "when": {},
                        "effect": {"type": "exhaust", "resource": "host.memory"},
                        "id": rule[0].id,
                    }
                ]
            }
        },
        {"clock": {"tick": 30}},
    ]
    assert "- clock: {tick: 30}\n" in rec.dumps()
    result = scenarios.replay(rec.save(tmp_path / "noted.yaml"))
    assert result.passed, result.report()
