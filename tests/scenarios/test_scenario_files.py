"""Scenario files: schema errors, replay pass/fail, determinism, record -> replay, CLI, pytest."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.test import Client

from fakestack import scenarios
from fakestack.cli import main
from fakestack.model import NotFound

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scenarios"
PASSWORD_HASH = hashlib.sha512(b"password").hexdigest()


def errors_of(text: str) -> list[str]:
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.loads(text, "broken.yaml")
    return info.value.problems


# -- schema errors name the step, the field and why ------------------------------------
def test_a_step_without_an_action_names_the_step_and_its_line():
    problems = errors_of("name: x\nsteps:\n  - name: first\n    op: capacity\n  - name: empty\n")
    assert problems == [
        "step 2 (empty), line 5: a step has exactly one of http, op, fault, clock, write (found: none)"
    ]


def test_two_actions_in_one_step_are_refused():
    problems = errors_of("name: x\nsteps:\n  - op: capacity\n    clock: {tick: 1}\n")
    assert problems == [
        "step 1, line 3: a step has exactly one of http, op, fault, clock, write (found: op, clock)"
    ]


def test_an_unknown_operation_suggests_the_close_one():
    problems = errors_of("name: x\nsteps:\n  - op: clone_vms\n")
    assert problems == [
        "step 1, line 3: op: unknown simulator operation 'clone_vms' (did you mean clone_vm?)"
    ]


def test_a_bad_http_field_names_the_field():
    problems = errors_of("name: x\nsteps:\n  - http: {method: FETCH, path: /v1/vms}\n")
    assert len(problems) == 1
    assert problems[0].startswith("step 1, line 3: http.method: Input should be 'GET'")
    problems = errors_of("name: x\nsteps:\n  - http: {method: GET, path: v1/vms}\n")
    assert problems == [
        "step 1, line 3: http.path: must start with '/' (a path such as "
        "/zstack/v1/vm-instances), be a full http:// URL, or be a ${variable}"
    ]


def test_unknown_keys_missing_steps_and_bad_fault_rules():
    assert errors_of("name: x\nsteps:\n  - op: capacity\n    expectt: {ok: true}\n") == [
        "step 1, line 3: expectt: Extra inputs are not permitted"
    ]
    assert errors_of("name: x\n") == ["steps: Field required"]
    problems = errors_of(
        "name: x\nfaults: [{match: vm.clone, effect: {type: explode}}]\nsteps: [{op: capacity}]\n"
    )
    assert len(problems) == 1 and problems[0].startswith("faults: fault rule 0: effect: ")


def test_bad_yaml_and_bad_sizes_and_clock_moves():
    assert errors_of("name: [x\n")[0].startswith("line 2, column 1: not valid YAML")
    assert errors_of("name: x\nsteps:\n  - write: {vm: golden, bytes: lots}\n")[0].startswith(
        "step 1, line 3: write: "
    )
    assert errors_of("name: x\nsteps:\n  - clock: {}\n") == [
        "step 1, line 3: clock: a clock step has exactly one of tick (seconds) or to (a time)"
    ]


def test_the_shipped_json_schema_is_the_exported_one():
    assert (SHIPPED / "schema.json").read_text() == scenarios.json_schema_text()
    schema = json.loads(scenarios.json_schema_text())
    assert schema["required"] == ["name", "steps"]
    assert "Step" in schema["$defs"] and "http" in schema["$defs"]["Step"]["properties"]


# -- replay ----------------------------------------------------------------------------
LOGIN = {"logInByAccount": {"accountName": "admin", "password": PASSWORD_HASH}}


def zstack_story(expected_clones: int) -> scenarios.Scenario:
    return scenarios.parse_scenario(
        {
            "name": "tiny-clone",
            "topology": "tiny",
            "steps": [
                {
                    "http": {"method": "PUT", "path": "/zstack/v1/accounts/login", "json": LOGIN},
                    "expect": {"status": 200},
                    "save": {"session": "inventory.uuid"},
                },
                {
                    "op": "clone_vm",
                    "args": {"source": "golden", "names": ["a", "b", "c", "d"]},
                    "expect": {"ok": True},
                },
                {
                    "http": {
                        "method": "GET",
                        "path": "/zstack/v1/vm-instances",
                        "query": {"q": "name?=a,b,c,d", "replyWithCount": "true", "fields": "name"},
                        "headers": {"Authorization": "OAuth ${session}"},
                    },
                    "expect": {"status": 200, "subset": {"total": expected_clones}},
                },
            ],
        }
    )


def test_a_passing_replay_saves_and_substitutes_variables():
    result = scenarios.replay(zstack_story(3))
    assert result.passed, result.report()
    assert len(result.variables["session"]) == 32
    steps = result.transcript_data["steps"]
    assert steps[2]["request"]["headers"] == {"Authorization": f"OAuth {result.variables['session']}"}
    assert steps[2]["response"]["body"]["total"] == 3


def test_a_failing_replay_stops_there_with_a_readable_diff():
    result = scenarios.replay(zstack_story(4), source="story.yaml")
    assert not result.passed
    assert [s.passed for s in result.steps] == [True, True, False]
    report = result.report()
    assert report.splitlines()[:2] == [
        "scenario tiny-clone (story.yaml) failed",
        "step 3 GET /zstack/v1/vm-instances [http]:",
    ]
    assert '-  "total": 4' in report and '+  "total": 3' in report


def test_expectations_on_ops_capacity_and_clock():
    scenario = scenarios.parse_scenario(
        {
            "name": "ops",
            "topology": "tiny",
            "clock_start": "2026-03-01T00:00:00Z",
            "steps": [
                {
                    "op": "create_vm",
                    "args": {
                        "name": "big",
                        "image": "tiny-linux",
                        "instance_offering": "vm-2g",
                        "l3_networks": ["l3-private"],
                    },
                    "expect": {"ok": True, "capacity": {"hosts.host-1.used_memory": "4G"}},
                },
                {"op": "stop_vm", "args": {"vm": "nope"}, "expect": {"ok": False, "error_code": "NotFound"}},
                {"clock": {"tick": 90}, "expect": {"body": {"now": 1772323290.0}}},
                {"write": {"vm": "big", "bytes": "1G"}, "expect": {"body": {"grown": 1073741824}}},
            ],
        }
    )
    result = scenarios.replay(scenario)
    assert result.passed, result.report()
    bad = scenarios.parse_scenario(
        {
            "name": "bad",
            "topology": "tiny",
            "steps": [{"op": "capacity", "expect": {"capacity": {"hosts.host-1.used_memory": 1}}}],
        }
    )
    report = scenarios.replay(bad).report()
    assert "capacity hosts.host-1.used_memory: expected 1, got 2147483648 (off by +2147483647)" in report


def test_fault_steps_change_the_plan():
    scenario = scenarios.parse_scenario(
        {
            "name": "faults",
            "topology": "tiny",
            "steps": [
                {
                    "fault": {
                        "add": [
                            {
                                "id": "no-mem",
                                "match": "vm.clone",
                                "effect": {"type": "exhaust", "resource": "host.memory"},
                            }
                        ]
                    },
                    "expect": {"subset": {"active": ["no-mem"]}},
                },
                {
                    "op": "clone_vm",
                    "args": {"source": "golden", "names": ["a"]},
                    "expect": {
                        "ok": True,
                        "subset": {
                            "entries": [
                                {
                                    "name": "a",
                                    "error": {"error": "CapacityExhausted", "resource": "host.memory"},
                                }
                            ]
                        },
                    },
                },
                {"fault": {"remove": "no-mem"}},
                {"op": "clone_vm", "args": {"source": "golden", "names": ["a"]}, "expect": {"ok": True}},
            ],
        }
    )
    result = scenarios.replay(scenario)
    assert result.passed, result.report()


def test_an_unset_variable_fails_the_step_naming_it():
    scenario = scenarios.parse_scenario(
        {"name": "v", "steps": [{"http": {"method": "GET", "path": "/v1/vms/${vm}"}}]}
    )
    result = scenarios.replay(scenario)
    assert result.steps[0].message == "variable ${vm} is not set (saved so far: none yet)"


# -- determinism -----------------------------------------------------------------------
def test_every_shipped_scenario_passes_and_replays_byte_identically():
    files = scenarios.discover([SHIPPED])
    assert len(files) >= 10
    for path in files:
        first = scenarios.replay(path)
        assert first.passed, first.report()
        assert scenarios.replay(path).transcript == first.transcript, path.name


def test_every_shipped_scenario_says_what_a_client_should_learn():
    for path in scenarios.discover([SHIPPED]):
        scenario = scenarios.load(path)
        assert scenario.name == path.stem
        assert "should learn" in " ".join(scenario.description.split()), path.name


# -- record -> replay, per dialect -----------------------------------------------------
class FakeWall:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def recording(tmp_path, topology="demo"):
    wall = FakeWall(1_767_225_600.0)
    cloud = scenarios.recording_cloud(topology, start=wall.now)
    path = tmp_path / "recorded.yaml"
    app = scenarios.record_app(cloud, path, wall_clock=wall)
    return wall, Client(app), path


def assert_round_trip(path: Path, recorded_steps: int):
    scenario = scenarios.load(path)
    assert sum(1 for s in scenario.steps if s.http is not None) == recorded_steps
    first = scenarios.replay(path)
    assert first.passed, first.report()
    assert scenarios.replay(path).transcript == first.transcript


def test_record_then_replay_zstack(tmp_path):
    wall, client, path = recording(tmp_path, "tiny")
    session = client.put("/zstack/v1/accounts/login", json=LOGIN).get_json()["inventory"]["uuid"]
    headers = {"Authorization": f"OAuth {session}"}
    golden = client.get(
        "/zstack/v1/vm-instances", query_string={"q": "name=golden"}, headers=headers
    ).get_json()["inventories"][0]["uuid"]
    wall.now += 12.5
    accepted = client.put(
        f"/zstack/v1/vm-instances/{golden}/actions",
        headers=headers,
        json={"cloneVmInstance": {"names": ["r1", "r2", "r3", "r4"]}},
    )
    assert accepted.status_code == 202
    done = client.get(accepted.get_json()["location"])
    assert done.get_json()["result"]["numberOfClonedVm"] == 3
    scenario = scenarios.load(path)
    assert scenario.steps[0].http.path == "/zstack/v1/accounts/login"
    assert any(s.clock is not None and s.clock.tick == 12 for s in scenario.steps)  # whole seconds, relative
    assert_round_trip(path, 4)


def test_record_then_replay_instavm(tmp_path):
    wall, client, path = recording(tmp_path, "tiny")
    key = {"X-API-Key": "instavm_sk_fakestack"}
    vm = client.post("/v1/vms?wait=true", json={"memory_mb": 512}, headers=key).get_json()["vm_id"]
    wall.now += 3
    clone = client.post(f"/v1/vms/{vm}/clone?wait=true", json={"snapshot_name": "keep"}, headers=key)
    assert clone.status_code == 200
    assert client.get("/v1/snapshots", headers=key).status_code == 200
    assert client.get("/v1/vms/vm_missing", headers=key).status_code == 404
    assert_round_trip(path, 4)


def test_record_then_replay_vsphere(tmp_path):
    wall, client, path = recording(tmp_path)
    token = base64.b64encode(b"administrator@vsphere.local:password").decode()
    login = client.post("/rest/com/vmware/cis/session", headers={"Authorization": f"Basic {token}"})
    assert login.status_code == 200
    session = {"vmware-api-session-id": login.get_json()["value"]}
    wall.now += 1
    assert client.get("/rest/vcenter/vm", headers=session).status_code == 200
    assert client.get("/rest/vcenter/host", headers=session).status_code == 200
    assert client.get("/rest/vcenter/vm/vm-999", headers=session).status_code == 404
    assert_round_trip(path, 4)


def test_a_recorded_scenario_detects_a_changed_answer(tmp_path):
    wall, client, path = recording(tmp_path, "tiny")
    client.put("/zstack/v1/accounts/login", json=LOGIN)
    text = path.read_text().replace("topology: tiny", "topology: tiny\nseed: 7", 1)
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("seed: 0\n", "", 1))
    result = scenarios.replay(changed)
    assert not result.passed and "body differs" in result.report()


def test_recorder_writes_a_state_machine_run(tmp_path):
    from fakestack import Cloud, ManualClock

    cloud = Cloud("tiny", seed=3, clock=ManualClock())
    rec = scenarios.Recorder.for_cloud(cloud, name="machine-run")
    rec.call("clone_vm", source="golden", names=["a", "b"])
    with pytest.raises(NotFound):
        rec.call("stop_vm", vm="missing")
    rec.tick(30)
    rec.write("golden", 1024 * 1024, vm=True)
    rec.check_invariants()
    path = rec.save(tmp_path / "run.yaml")
    scenario = scenarios.load(path)
    assert (scenario.topology, scenario.seed) == ("tiny", 3)
    assert [s.kind for s in scenario.steps] == ["op", "op", "clock", "write", "op"]
    assert scenario.steps[1].expect.error_code == "NotFound"
    result = scenarios.replay(path)
    assert result.passed, result.report()


# -- the command line and pytest -------------------------------------------------------
def test_replay_command_table_exit_codes_and_transcripts(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(scenarios.dumps(zstack_story(3)))
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenarios.dumps(zstack_story(4)))
    assert main(["replay", str(good), "--transcript", str(tmp_path / "t1"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and out.rstrip().endswith("1 passed, 0 failed")
    assert main(["replay", str(tmp_path), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and '+  "total": 3' in out and "1 passed, 1 failed" in out
    assert main(["replay", str(good), "--transcript", str(tmp_path / "t2"), "--no-progress"]) == 0
    assert (tmp_path / "t1" / "good.transcript.json").read_bytes() == (
        tmp_path / "t2" / "good.transcript.json"
    ).read_bytes()
    assert main(["replay", str(tmp_path / "missing")]) == 2


def test_pytest_collects_one_item_per_scenario_with_the_diff_as_message(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "good.yaml").write_text(scenarios.dumps(zstack_story(3)))
    (folder / "bad.yaml").write_text(
        scenarios.dumps(zstack_story(4)).replace("name: tiny-clone", "name: tiny-clone-wrong")
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scenarios"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "scenario: tiny-clone-wrong" in run.stdout
    assert '+  "total": 3' in run.stdout


def test_the_ini_option_adds_scenario_folders_to_a_run_without_paths(tmp_path):
    (tmp_path / "repro").mkdir()
    (tmp_path / "repro" / "story.yaml").write_text(scenarios.dumps(zstack_story(3)))
    (tmp_path / "repro" / "broken.yml").write_text("name: broken\nsteps: []\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfakestack_scenarios = repro\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "steps: List should have at least 1 item" in run.stdout


def test_a_topology_file_beside_the_scenario_and_an_invalid_file_in_the_table(tmp_path, capsys):
    from fakestack.model.presets import tiny

    (tmp_path / "cloud.json").write_text(json.dumps(tiny().model_dump(mode="json")))
    story = scenarios.scenario_dict(zstack_story(3))
    story["topology"] = "cloud.json"
    (tmp_path / "story.yaml").write_text(scenarios.dumps(story))
    (tmp_path / "bad.yaml").write_text("name: bad\nsteps:\n  - op: nope\n")
    assert main(["replay", str(tmp_path / "story.yaml"), str(tmp_path / "bad.yaml"), "--no-progress"]) == 1
    out = capsys.readouterr().out
    rows = [line.split()[-1] for line in out.splitlines()[1:3]]
    assert rows == ["PASS", "INVALID"]
    assert "step 1, line 3: op: unknown simulator operation 'nope'" in out


def test_recorder_note_call_names_positional_arguments(tmp_path):
    from fakestack import Cloud, ManualClock, faults

    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    rec = scenarios.Recorder.for_cloud(cloud, name="noted")
    cloud.clone_vm(cloud.vms.get("golden"), ["n1"])  # as a state machine calls it
    rec.note_call("clone_vm", cloud.vms.get("golden"), ["n1"])
    rule = faults.exhaust("vm.create", "host.memory", id="no-mem")
    faults.add(cloud, rule)
    rec.note_faults(rule)
    try:
        cloud.create_vm("n2", image="tiny-linux", instance_offering="vm-2g")
    except Exception as exc:  # noqa: BLE001 - whatever the model raised is recorded
        rec.note_call(cloud.create_vm, "n2", image="tiny-linux", instance_offering="vm-2g", error=exc)
    cloud.tick(5)
    rec.note_tick(5)
    rec.check_invariants()
    steps = rec.as_dict()["steps"]
    assert steps[0] == {
        "op": "clone_vm",
        "args": {"source": cloud.vms.get("golden").uuid, "names": ["n1"]},
        "expect": {"ok": True},
    }
    assert steps[2]["expect"] == {"ok": False, "error_code": "CapacityExhausted"}
    result = scenarios.replay(rec.save(tmp_path / "noted.yaml"))
    assert result.passed, result.report()


def test_a_recording_file_is_the_whole_scenario_after_every_request(tmp_path):
    wall, client, path = recording(tmp_path, "tiny")
    recorder = client.application.recorder
    for _ in range(3):
        wall.now += 1
        client.put("/zstack/v1/accounts/login", json=LOGIN)
        assert path.read_text() == scenarios.dumps(recorder.as_dict())
    assert len(scenarios.load(path).steps) == 6  # a clock move and a request each time
    # A step replaced after it was written is written anew.
    recorder.steps[1] = {"clock": {"tick": 1}}
    recorder.save(path)
    assert path.read_text() == scenarios.dumps(recorder.as_dict())
    assert scenarios.load(path).steps[1].clock.tick == 1


def test_serve_record_writes_a_scenario_whose_replay_passes(tmp_path):
    import re
    import urllib.request

    path = tmp_path / "live.yaml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fakestack.cli",
            "serve",
            "--port",
            "0",
            "--topology",
            "tiny",
            "--record",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        for _ in range(50):
            line = proc.stdout.readline()
            found = re.search(r"serving at (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "the server did not start"

        def call(method, route, body=None, headers=None):
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(
                url + route,
                data=data,
                method=method,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status, json.loads(answer.read() or b"null")
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read() or b"null")

        status, body = call("PUT", "/zstack/v1/accounts/login", LOGIN)
        assert status == 200
        auth = {"Authorization": f"OAuth {body['inventory']['uuid']}"}
        status, body = call("GET", "/zstack/v1/vm-instances?q=name%3Dgolden", headers=auth)
        golden = body["inventories"][0]["uuid"]
        status, body = call(
            "PUT",
            f"/zstack/v1/vm-instances/{golden}/actions",
            {"cloneVmInstance": {"names": ["x1", "x2", "x3", "x4"]}},
            auth,
        )
        assert status == 202
        status, body = call("GET", body["location"][len(url) :])
        assert body["result"]["numberOfClonedVm"] == 3
        status, _ = call("GET", "/v1/vms/vm_nope", headers={"X-API-Key": "instavm_sk_fakestack"})
        assert status == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
    scenario = scenarios.load(path)
    assert scenario.base_url == url
    assert sum(1 for s in scenario.steps if s.http is not None) == 5
    first = scenarios.replay(path)
    assert first.passed, first.report()
    assert scenarios.replay(path).transcript == first.transcript
