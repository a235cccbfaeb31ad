"""Issue 17 over the /api REST surface (bare bodies, 201 / 204, error_type bodies) and a
few /rest shapes (wrapped bodies, maps as key/value lists)."""

import pytest
from vsphere_support import api_login, basic, client_for, rest_login, vcenter_topology

from fakestack import faults
from fakestack.model import Cloud, ManualClock

GiB, MiB = 1024**3, 1024**2


@pytest.fixture
def cloud():
    return Cloud(vcenter_topology(), clock=ManualClock())


@pytest.fixture
def api(cloud):
    client = client_for(cloud)
    token = api_login(client)

    class Api:
        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = dict(kwargs.pop("headers", {}), **{"vmware-api-session-id": token})
                return getattr(client, method)("/api" + path, headers=headers, **kwargs)

            return call

    return Api()


CREATE = {
    "guest_OS": "RHEL_9_64",
    "name": "db-1",
    "placement": {"folder": "group-v1", "cluster": "domain-c1", "datastore": "datastore-1"},
    "cpu": {"count": 2},
    "memory": {"size_MiB": 2048},
    "disks": [{"new_vmdk": {"capacity": 100 * GiB}}],
    "nics": [{"start_connected": True, "backing": {"type": "STANDARD_PORTGROUP", "network": "network-2"}}],
}


def error_of(response):
    body = response.get_json()
    return response.status_code, body["error_type"], body["messages"][0]["id"]


def test_create_answers_201_and_its_errors_in_the_api_shape(api, cloud):
    ds1 = cloud.primary_storages.get("ds-1")
    used = ds1.used_physical
    response = api.post("/vcenter/vm", json=CREATE)
    assert (response.status_code, response.get_json()) == (201, "vm-2")
    assert ds1.used_physical - used == MiB
    assert api.get("/vcenter/vm/vm-2").get_json()["disks"]["2000"]["capacity"] == 100 * GiB
    assert error_of(api.post("/vcenter/vm", json=CREATE)) == (
        400,
        "ALREADY_EXISTS",
        "com.vmware.api.vcenter.vm.already_exists",
    )
    assert error_of(api.post("/vcenter/vm", json=dict(CREATE, name="x", memory={"size_MiB": 2**20}))) == (
        500,
        "UNABLE_TO_ALLOCATE_RESOURCE",
        "com.vmware.api.vcenter.vm.insufficient_memory",
    )
    bad = dict(CREATE, name="y", nics=[{"backing": {"type": "STANDARD_PORTGROUP", "network": "network-9"}}])
    assert error_of(api.post("/vcenter/vm", json=bad)) == (
        404,
        "NOT_FOUND",
        "com.vmware.api.vcenter.network.not_found",
    )
    assert error_of(api.post("/vcenter/vm", json=dict(CREATE, colour="red"))) == (
        400,
        "UNEXPECTED_INPUT",
        "vapi.data.structure.field.unexpected",
    )
    assert [vm.name for vm in cloud.vms] == ["golden", "db-1"]


def test_relocate_register_and_unregister_answer_204_and_200(api, cloud):
    vm = api.post("/vcenter/vm", json=CREATE).get_json()
    assert api.post(f"/vcenter/vm/{vm}/power?action=start").status_code == 204
    esx2 = cloud.hosts.get("esx-2")
    response = api.post(f"/vcenter/vm/{vm}?action=relocate", json={"placement": {"host": "host-2"}})
    assert (response.status_code, response.get_data()) == (204, b"")
    assert esx2.used_memory == 2 * GiB
    response = api.post(f"/vcenter/vm/{vm}?action=relocate", json={"placement": {"datastore": "datastore-9"}})
    assert error_of(response) == (404, "NOT_FOUND", "com.vmware.api.vcenter.datastore.not_found")
    assert error_of(api.post(f"/vcenter/vm/{vm}?action=unregister")) == (
        400,
        "NOT_ALLOWED_IN_CURRENT_STATE",
        "com.vmware.api.vcenter.vm.invalid_power_state",
    )
    api.post(f"/vcenter/vm/{vm}/power?action=stop")
    assert api.post(f"/vcenter/vm/{vm}?action=unregister").status_code == 204
    response = api.post("/vcenter/vm?action=register", json={"datastore_path": "[ds-1] db-1/db-1.vmx"})
    assert (response.status_code, response.get_json()) == (200, "vm-3")
    assert api.get("/vcenter/vm/vm-3").get_json()["nics"]["4000"]["backing"]["network"] == "network-2"


def test_hardware_devices_over_api(api, cloud):
    vm = api.post("/vcenter/vm", json=CREATE).get_json()
    assert (
        api.patch(f"/vcenter/vm/{vm}/hardware/cpu", json={"count": 4, "hot_add_enabled": True}).status_code
        == 204
    )
    assert api.get(f"/vcenter/vm/{vm}/hardware/cpu").get_json() == {
        "count": 4,
        "cores_per_socket": 1,
        "hot_add_enabled": True,
        "hot_remove_enabled": False,
    }
    assert api.get(f"/vcenter/vm/{vm}/hardware/memory").get_json() == {
        "size_MiB": 2048,
        "hot_add_enabled": False,
    }
    response = api.post(f"/vcenter/vm/{vm}/hardware/disk", json={"new_vmdk": {"capacity": 8 * GiB}})
    assert (response.status_code, response.get_json()) == (201, "2001")
    assert api.get(f"/vcenter/vm/{vm}/hardware/disk").get_json() == [{"disk": "2000"}, {"disk": "2001"}]
    assert api.delete(f"/vcenter/vm/{vm}/hardware/disk/2001").status_code == 204
    assert error_of(api.get(f"/vcenter/vm/{vm}/hardware/disk/2001")) == (
        404,
        "NOT_FOUND",
        "com.vmware.api.vcenter.vm.hardware.device.not_found",
    )
    response = api.post(
        f"/vcenter/vm/{vm}/hardware/ethernet",
        json={"backing": {"type": "STANDARD_PORTGROUP", "network": "network-1"}},
    )
    assert (response.status_code, response.get_json()) == (201, "4001")
    assert error_of(api.post(f"/vcenter/vm/{vm}/hardware/ethernet/4001?action=connect")) == (
        400,
        "NOT_ALLOWED_IN_CURRENT_STATE",
        "com.vmware.api.vcenter.vm.invalid_power_state",
    )
    api.post(f"/vcenter/vm/{vm}/power?action=start")
    assert api.post(f"/vcenter/vm/{vm}/hardware/ethernet/4001?action=connect").status_code == 204
    assert api.get(f"/vcenter/vm/{vm}/hardware/ethernet/4001").get_json()["state"] == "CONNECTED"
    assert (
        api.post(f"/vcenter/vm/{vm}/hardware?action=upgrade", json={"version": "VMX_21"}).status_code == 400
    )
    assert api.get(f"/vcenter/vm/{vm}/hardware/cdrom").get_json() == []
    assert api.get(f"/vcenter/vm/{vm}/hardware/boot").get_json()["type"] == "BIOS"
    assert api.get(f"/vcenter/vm/{vm}/hardware").get_json() == {
        "version": "VMX_19",
        "upgrade_policy": "NEVER",
        "upgrade_status": "NONE",
    }


def test_guest_over_api_waits_for_tools_on_the_cloud_clock(api, cloud):
    vm = api.post("/vcenter/vm", json=CREATE).get_json()
    api.post(f"/vcenter/vm/{vm}/power?action=start")
    assert error_of(api.get(f"/vcenter/vm/{vm}/guest/identity")) == (
        503,
        "SERVICE_UNAVAILABLE",
        "com.vmware.api.vcenter.vm.guest.tools_not_running",
    )
    cloud.tick(30)
    identity = api.get(f"/vcenter/vm/{vm}/guest/identity").get_json()
    assert (identity["ip_address"], identity["family"], identity["host_name"]) == (
        "10.20.0.2",
        "LINUX",
        "db-1",
    )
    assert api.get(f"/vcenter/vm/{vm}/guest/local-filesystem").get_json()["/"]["capacity"] == 100 * GiB
    assert api.get(f"/vcenter/vm/{vm}/guest/power").get_json() == {
        "state": "RUNNING",
        "operations_ready": True,
    }
    assert api.post(f"/vcenter/vm/{vm}/guest/power?action=shutdown").status_code == 204
    assert cloud.vms.get("db-1").state == "Stopped"


def test_rest_wraps_bodies_and_writes_maps_as_key_value_lists(cloud):
    client = client_for(cloud)
    headers = {"vmware-api-session-id": rest_login(client)}
    response = client.post("/rest/vcenter/vm", json={"spec": CREATE}, headers=headers)
    assert (response.status_code, response.get_json()) == (200, {"value": "vm-2"})
    response = client.post(
        "/rest/vcenter/vm/vm-2/hardware/disk", json={"spec": {"new_vmdk": {}}}, headers=headers
    )
    assert response.get_json() == {"value": "2001"}
    response = client.post(
        "/rest/vcenter/vm/vm-2/hardware/action/upgrade", json={"version": "VMX_20"}, headers=headers
    )
    assert (response.status_code, response.get_data()) == (200, b"")
    client.post("/rest/vcenter/vm/vm-2/power/start", headers=headers)
    cloud.tick(30)
    fs = client.get("/rest/vcenter/vm/vm-2/guest/local-filesystem", headers=headers).get_json()["value"]
    assert [entry["key"] for entry in fs] == ["/", "/data1"]
    response = client.post("/rest/vcenter/vm/vm-2/hardware/ethernet/4000/disconnect", headers=headers)
    assert response.status_code == 200
    response = client.post("/rest/vcenter/vm/vm-2/guest/power?action=reboot", headers=headers)
    assert response.status_code == 200


def test_read_only_user_gets_403_and_a_fault_disconnected_datastore_500(cloud):
    client = client_for(cloud)
    token = client.post("/api/session", headers=basic("readonly@vsphere.local", "password")).get_json()
    headers = {"vmware-api-session-id": token}
    assert client.get("/api/vcenter/vm/vm-1/hardware/cpu", headers=headers).status_code == 200
    response = client.patch("/api/vcenter/vm/vm-1/hardware/cpu", json={"count": 2}, headers=headers)
    assert error_of(response) == (403, "UNAUTHORIZED", "vapi.security.authorization.invalid")
    admin = {"vmware-api-session-id": api_login(client)}
    faults.add(
        cloud,
        faults.disconnect(
            "vsphere:com.vmware.vcenter.vm.hardware.disk.create", "ds-1", kind="primary_storage"
        ),
    )
    response = client.post(
        "/api/vcenter/vm/vm-1/hardware/disk", json={"new_vmdk": {"capacity": GiB}}, headers=admin
    )
    assert error_of(response) == (
        500,
        "RESOURCE_INACCESSIBLE",
        "com.vmware.api.vcenter.vm.datastore_inaccessible",
    )
    assert len(cloud.vms.get("golden").data_volume_uuids) == 0


# --- one operation, three surfaces --------------------------------------------------------


def cpu_update(surface, client, token, vm, count):
    from vsphere_support import api_outcome, rest_outcome, rpc, rpc_outcome, rpc_struct

    headers = {"vmware-api-session-id": token}
    if surface == "rest":
        return rest_outcome(
            client.patch(
                f"/rest/vcenter/vm/{vm}/hardware/cpu", json={"spec": {"count": count}}, headers=headers
            )
        )
    if surface == "api":
        return api_outcome(
            client.patch(f"/api/vcenter/vm/{vm}/hardware/cpu", json={"count": count}, headers=headers)
        )
    spec = rpc_struct("com.vmware.vcenter.vm.hardware.cpu.update_spec", {"count": {"OPTIONAL": count}})
    return rpc_outcome(
        rpc(client, "com.vmware.vcenter.vm.hardware.cpu", "update", {"vm": vm, "spec": spec}, token=token)
    )


@pytest.mark.parametrize(
    "surface, ok_status, error_status", [("rest", 200, 400), ("api", 204, 400), ("rpc", 200, 200)]
)
def test_cpu_update_answers_alike_on_the_three_surfaces(cloud, surface, ok_status, error_status):
    client = client_for(cloud)
    token = rest_login(client)
    grown = cpu_update(surface, client, token, "vm-1", 3)  # golden is on: no CPU hot add
    assert (grown.status, grown.error, grown.message_id, grown.args) == (
        error_status,
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.hardware.powered_on",
        ["vm-1", "CPU hot add is not enabled"],
    )
    client.post("/api/vcenter/vm/vm-1/power?action=stop", headers={"vmware-api-session-id": token})
    done = cpu_update(surface, client, token, "vm-1", 3)
    assert (done.status, done.error, done.value) == (ok_status, None, None)
    assert cloud.vms.get("golden").cpu_num == 3
    missing = cpu_update(surface, client, token, "vm-9", 3)
    assert (missing.error, missing.message_id) == ("not_found", "com.vmware.api.vcenter.vm.not_found")


def test_resource_pool_create_update_delete_over_api(api):
    response = api.post("/vcenter/resource-pool", json={"name": "batch", "parent": "resgroup-2"})
    assert (response.status_code, response.get_json()) == (201, "resgroup-3")
    assert api.patch("/vcenter/resource-pool/resgroup-3", json={"name": "batch-2"}).status_code == 204
    assert api.get("/vcenter/resource-pool/resgroup-3").get_json() == {
        "name": "batch-2",
        "resource_pools": [],
    }
    assert api.get("/vcenter/resource-pool?clusters=domain-c2").get_json() == [
        {"resource_pool": "resgroup-2", "name": "Resources"},
        {"resource_pool": "resgroup-3", "name": "batch-2"},
    ]
    assert api.delete("/vcenter/resource-pool/resgroup-3").status_code == 204
    assert error_of(api.delete("/vcenter/resource-pool/resgroup-2")) == (
        400,
        "UNSUPPORTED",
        "com.vmware.api.vcenter.unsupported",
    )
