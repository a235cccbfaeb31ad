"""Every fault effect and match kind seen through the ZStack API: an injected failure must
look on the wire exactly like the real one."""

import hashlib
import http.client
import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client

import fakestack
from fakestack import faults
from fakestack.model import ManualClock

GiB = 1024**3
PASSWORD = hashlib.sha512(b"password").hexdigest()


class ZStack:
    """Just enough of a ZStack client for these tests: login, async calls, polling."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.http = Client(fakestack.make_app(cloud))
        r = self.http.put(
            "/zstack/v1/accounts/login",
            json={"logInByAccount": {"accountName": "admin", "password": PASSWORD}},
        )
        assert r.status_code == 200, r.get_data(as_text=True)
        self.headers = {"Authorization": "OAuth " + r.get_json()["inventory"]["uuid"]}

    def send(self, method, path, body=None):
        return self.http.open("/zstack/v1/" + path, method=method, json=body, headers=self.headers)

    def poll(self, response):
        assert response.status_code == 202, response.get_data(as_text=True)
        location = response.get_json()["location"]
        return self.http.get("/" + location.split("://", 1)[1].split("/", 1)[1])

    def call(self, method, path, body=None):
        return self.poll(self.send(method, path, body))

    def clone(self, vm, names, **params):
        return self.call("PUT", f"vm-instances/{vm}/actions", {"cloneVmInstance": {"names": names, **params}})

    def create_vm(self, name, **params):
        cloud = self.cloud
        image = next(iter(cloud.images)).uuid
        offering = next(iter(cloud.instance_offerings)).uuid
        return self.call(
            "POST",
            "vm-instances",
            {"params": {"name": name, "imageUuid": image, "instanceOfferingUuid": offering, **params}},
        )

    def action(self, vm, action, **params):
        return self.call("PUT", f"vm-instances/{vm}/actions", {action: params})

    def backup(self, vm, name="nightly"):
        vm = self.cloud.vms.get(vm)
        bs = next(iter(self.cloud.backup_storages)).uuid
        return self.call(
            "POST",
            f"volumes/{vm.root_volume_uuid}/vm-backups",
            {"params": {"backupStorageUuid": bs, "name": name}},
        )


def zstack(topology="tiny", seed=0):
    return ZStack(fakestack.Cloud(topology, seed=seed, clock=ManualClock()))


def golden(z):
    return z.cloud.vms.get("golden").uuid


def clone_errors(response):
    body = response.get_json()["result"]
    return body["numberOfClonedVm"], [e.get("error") for e in body["inventories"]]


def small_storage_topology(ps_gib=12, bs_gib=3, written="2G"):
    return {
        "name": "small-storage",
        "zones": [{"name": "zone-1"}],
        "clusters": [{"name": "cluster-1", "zone": "zone-1"}],
        "hosts": [{"name": "host-1", "cluster": "cluster-1", "cpu_num": 8, "memory": "64G"}],
        "primary_storages": [
            {
                "name": "nfs-ps",
                "type": "NFS",
                "zone": "zone-1",
                "clusters": ["cluster-1"],
                "total_capacity": f"{ps_gib}G",
                "reserved_capacity": 0,
            }
        ],
        "backup_storages": [
            {
                "name": "imagestore",
                "zones": ["zone-1"],
                "total_capacity": f"{bs_gib}G",
                "reserved_capacity": 0,
            }
        ],
        "images": [
            {"name": "img", "backup_storages": ["imagestore"], "virtual_size": "10G", "actual_size": "1G"}
        ],
        "instance_offerings": [{"name": "unit", "cpu_num": 1, "memory_size": "1G"}],
        "l3_networks": [{"name": "l3", "zone": "zone-1", "cidr": "192.168.1.0/24"}],
        "vms": [{"name": "golden", "instance_offering": "unit", "image": "img", "written": written}],
    }


# -- exhaust: the injected shortage is byte-identical to the real one ----------------------
def test_exhausting_host_cpu_on_the_second_clone_reports_one_real_error_entry():
    real = zstack("tiny")  # golden + room for exactly 3 more
    count, errors = clone_errors(real.clone(golden(real), ["a", "b", "c", "d"]))
    assert (count, [e is not None for e in errors]) == (3, [False, False, False, True])
    real_error = errors[3]

    z = zstack("tiny")
    faults.add(z.cloud, faults.exhaust("vm.clone", "host.cpu", nth=2))
    count, errors = clone_errors(z.clone(golden(z), ["a", "b", "c"]))
    assert count == 2
    assert [e is not None for e in errors] == [False, True, False]
    assert errors[1] == real_error
    assert errors[1]["code"] == "VM.1001"
    assert errors[1]["cause"]["cause"]["code"] == "HOST_ALLOCATION.1000"
    assert z.cloud.vms.find("b") is None
    z.cloud.check_invariants()


def test_exhausting_host_memory_on_create_matches_a_real_shortage():
    real = zstack("tiny")
    for name in ("a", "b", "c"):
        assert real.create_vm(name).status_code == 200
    real_response = real.create_vm("d")

    z = zstack("tiny")
    faults.add(z.cloud, faults.exhaust("vm.create", "host.memory"))
    response = z.create_vm("d")
    assert (response.status_code, response.get_json()) == (
        real_response.status_code,
        real_response.get_json(),
    )
    assert response.status_code == 503


@pytest.mark.parametrize("resource", ["primary_storage.virtual", "primary_storage.physical"])
def test_exhausting_primary_storage_on_create_uses_the_storage_shortage_code(resource):
    # a real virtual shortage: 12 GiB storage, golden holds 10 + 1 GiB, a new VM needs 10 GiB
    real = zstack(small_storage_topology(ps_gib=12))
    real_error = real.create_vm("big").get_json()["error"]

    z = zstack(small_storage_topology(ps_gib=500))
    faults.add(z.cloud, faults.exhaust("vm.create", resource))
    before = z.cloud.capacity()
    response = z.create_vm("big")
    error = response.get_json()["error"]
    assert response.status_code == 503
    assert (error["code"], error["description"]) == (real_error["code"], real_error["description"])
    assert _codes(error) == _codes(real_error) == ["SYS.1006", "HOST_ALLOCATION.1000"]
    if resource == "primary_storage.virtual":  # the same 10 GiB request: the same words
        assert error == real_error
    assert z.cloud.capacity() == before


def _codes(error):
    out = []
    while error:
        out.append(error["code"])
        error = error.get("cause")
    return out


def test_exhausting_backup_storage_on_backup_matches_a_real_shortage():
    # a real shortage: the 3 GiB image store holds the 1 GiB image; golden's backup needs 3+ GiB
    real = zstack(small_storage_topology(bs_gib=3, written="2G"))
    real_response = real.backup("golden")
    assert real_response.status_code == 503

    z = zstack(small_storage_topology(bs_gib=500, written="2G"))
    faults.add(z.cloud, faults.exhaust("backup.create", "backup_storage"))
    response = z.backup("golden")
    assert response.status_code == 503
    assert _codes(response.get_json()["error"]) == _codes(real_response.get_json()["error"])
    assert len(z.cloud.backups) == 0
    z.cloud.check_invariants()


# -- fail -----------------------------------------------------------------------------------
def test_fail_with_a_neutral_kind_renders_like_that_kind():
    z = zstack("tiny")
    faults.add(z.cloud, faults.fail("vm.stop", "host agent lost", kind="unreachable"))
    error = z.action(golden(z), "stopVmInstance").get_json()["error"]
    assert error == {
        "code": "VM.1002",
        "description": "Unable to stop a vm",
        "details": "host agent lost",
        "cause": {"code": "SYS.1006", "description": "An operation failed", "details": "host agent lost"},
    }
    assert z.cloud.vms.get("golden").state == "Running"


def test_fail_with_a_dialect_code_on_the_zstack_operation():
    z = zstack("tiny")
    faults.add(z.cloud, faults.fail("zstack:StopVmInstance", "no stopping", code="VM.1002"))
    response = z.action(golden(z), "stopVmInstance")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "VM.1002" and "no stopping" in json.dumps(error)


# -- latency and hang ------------------------------------------------------------------------
def test_latency_on_clone_keeps_the_job_running_for_that_long():
    z = zstack("tiny")
    faults.add(z.cloud, faults.latency("vm.clone", 90))
    submitted = z.send("PUT", f"vm-instances/{golden(z)}/actions", {"cloneVmInstance": {"names": ["a"]}})
    assert z.poll(submitted).status_code == 202
    z.cloud.tick(89)
    assert z.poll(submitted).status_code == 202
    z.cloud.tick(1)
    assert z.poll(submitted).get_json()["result"]["numberOfClonedVm"] == 1


def test_hang_until_the_rule_is_deleted_over_http():
    z = zstack("tiny")
    r = z.http.post(
        "/_fakestack/faults", json={"match": "zstack:CloneVmInstance", "effect": {"type": "hang"}}
    )
    rule_id = r.get_json()["added"][0]["id"]
    submitted = z.send("PUT", f"vm-instances/{golden(z)}/actions", {"cloneVmInstance": {"names": ["a"]}})
    z.cloud.tick(86400)
    assert z.poll(submitted).status_code == 202
    assert z.http.delete(f"/_fakestack/faults/{rule_id}").status_code == 200
    assert z.poll(submitted).status_code == 200


# -- disconnect / reconnect ------------------------------------------------------------------
def test_disconnecting_the_host_on_start_matches_a_real_disconnection():
    real = zstack("tiny")
    real.action(golden(real), "stopVmInstance")
    real.cloud.set_host_status("host-1", "Disconnected")
    real_response = real.action(golden(real), "startVmInstance")
    assert real_response.status_code == 503

    z = zstack("tiny")
    z.action(golden(z), "stopVmInstance")
    faults.add(z.cloud, faults.disconnect("vm.start", "host-1"))
    response = z.action(golden(z), "startVmInstance")
    assert response.get_json() == real_response.get_json()
    assert z.cloud.hosts.get("host-1").status == "Disconnected"


def test_reconnect_restores_service():
    z = zstack("tiny")
    z.action(golden(z), "stopVmInstance")
    z.cloud.set_host_status("host-1", "Disconnected")
    faults.add(z.cloud, faults.reconnect("zstack:StartVmInstance", "host-1"))
    response = z.action(golden(z), "startVmInstance")
    assert response.status_code == 200
    assert response.get_json()["inventory"]["state"] == "Running"


def test_disconnecting_primary_storage_during_backup():
    z = zstack("tiny")
    faults.add(z.cloud, faults.disconnect("backup.create", "imagestore", kind="backup_storage"))
    response = z.backup("golden")
    assert response.status_code == 503
    assert z.cloud.backup_storages.get("imagestore").status == "Disconnected"
    assert len(z.cloud.backups) == 0


# -- match kinds -----------------------------------------------------------------------------
def reboot_statuses(z, calls=6, vm="golden"):
    return [z.action(z.cloud.vms.get(vm).uuid, "rebootVmInstance").status_code for _ in range(calls)]


@pytest.mark.parametrize(
    "when,expected",
    [
        ({"nth": 2}, [200, 503, 200, 200, 200, 200]),
        ({"after": 4}, [200, 200, 200, 200, 503, 503]),
        ({"every": 2}, [200, 503, 200, 503, 200, 503]),
        ({"times": 2}, [503, 503, 200, 200, 200, 200]),
        ({"probability": 0.0}, [200] * 6),
    ],
)
def test_when_conditions_through_the_api(when, expected):
    z = zstack("tiny")
    faults.add(z.cloud, faults.fail("vm.reboot", **when))
    assert reboot_statuses(z) == expected


def test_probability_through_the_api_depends_on_the_seed_only():
    def run(seed):
        z = zstack("tiny", seed=seed)
        faults.add(z.cloud, faults.fail("zstack:RebootVmInstance", probability=0.5))
        return reboot_statuses(z, calls=16)

    assert run(3) == run(3)
    assert 0 < run(3).count(503) < 16


def test_resource_filter_on_a_clone_name():
    z = zstack("tiny")
    faults.add(z.cloud, faults.exhaust("vm.clone", "host.memory", on="b"))
    count, errors = clone_errors(z.clone(golden(z), ["a", "b", "c"]))
    assert count == 2 and [e is not None for e in errors] == [False, True, False]


def test_resource_filter_on_the_dialect_operations_vm():
    z = zstack("tiny")
    other = z.create_vm("other").get_json()["inventory"]["uuid"]
    faults.add(z.cloud, faults.fail("zstack:RebootVmInstance", on="golden"))
    assert z.action(other, "rebootVmInstance").status_code == 200
    assert z.action(golden(z), "rebootVmInstance").status_code == 503


def test_wildcard_dialect_match_and_hit_counts_over_http():
    z = zstack("tiny")
    z.http.post(
        "/_fakestack/faults",
        json={
            "match": "zstack:*VmInstance",
            "when": {"every": 2},
            "effect": {"type": "latency", "seconds": 5},
        },
    )
    z.action(golden(z), "rebootVmInstance")
    z.action(golden(z), "rebootVmInstance")
    z.clone(golden(z), ["a"])
    rule = z.http.get("/_fakestack/faults").get_json()["rules"][0]
    assert (rule["calls"], rule["hits"]) == (3, 1)


# -- drop_connection (server mode) -------------------------------------------------------------
def test_drop_connection_over_a_live_socket_leaves_nothing_done():
    cloud = fakestack.Cloud("tiny", clock=ManualClock())
    z = ZStack(cloud)  # logs in through the test client; the session is in the cloud
    app = faults.connection_dropping(fakestack.make_app(cloud))
    faults.add(cloud, faults.drop_connection("zstack:CloneVmInstance", nth=1))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    body = json.dumps({"cloneVmInstance": {"names": ["a"]}})
    headers = dict(z.headers, **{"Content-Type": "application/json"})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=5)
        conn.request("PUT", f"/zstack/v1/vm-instances/{golden(z)}/actions", body, headers)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()
        conn.close()
        assert cloud.vms.find("a") is None
        conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=5)
        conn.request("PUT", f"/zstack/v1/vm-instances/{golden(z)}/actions", body, headers)
        assert conn.getresponse().status == 202
        conn.close()
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
