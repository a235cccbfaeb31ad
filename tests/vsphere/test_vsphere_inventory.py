"""VM list / get / delete / power / clone and the inventory calls, on the three surfaces."""

import pytest
from vsphere_support import Surfaces, rest_outcome, rpc, rpc_optional, rpc_outcome, rpc_struct

from fakestack.model import Cloud, ManualClock

SURFACES = ("rest", "api", "rpc")


@pytest.fixture
def cloud():
    cloud = Cloud("demo", seed=0, clock=ManualClock())
    # a second VM, powered off, on the local cluster
    cloud.create_vm(
        "web", image="ubuntu-22.04", instance_offering="small", l3_networks=["l3-private"], host="host-1"
    )
    cloud.stop_vm("web")
    return cloud


@pytest.fixture
def surfaces(cloud):
    return Surfaces(cloud)


def list_vms(surfaces, surface: str, filters: dict) -> list[str]:
    """``filters``: field -> list of values, sent in each surface's own form."""
    if surface == "rest":
        query = "&".join(f"filter.{k}={v}" for k, vs in filters.items() for v in vs)
        body = surfaces.client.get(f"/rest/vcenter/vm?{query}", headers=surfaces.headers).get_json()
        return [s["vm"] for s in body["value"]]
    if surface == "api":
        query = "&".join(f"{k}={v}" for k, vs in filters.items() for v in vs)
        return [
            s["vm"]
            for s in surfaces.client.get(f"/api/vcenter/vm?{query}", headers=surfaces.headers).get_json()
        ]
    fields = {k: rpc_optional(list(v)) for k, v in filters.items()}
    filter_value = (
        rpc_optional(rpc_struct("com.vmware.vcenter.VM.filter_spec", fields))
        if filters
        else rpc_optional(None)
    )
    answer = rpc(
        surfaces.client, "com.vmware.vcenter.VM", "list", {"filter": filter_value}, token=surfaces.token
    )
    return [s["STRUCTURE"]["com.vmware.vcenter.VM.summary"]["vm"] for s in answer["result"]["output"]]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    "filters, expected",
    [
        ({}, ["vm-1", "vm-2"]),
        ({"names": ["web"]}, ["vm-2"]),
        ({"names": ["web", "golden"]}, ["vm-1", "vm-2"]),
        ({"power_states": ["POWERED_ON"]}, ["vm-1"]),
        ({"power_states": ["POWERED_OFF"], "names": ["golden"]}, []),
        ({"hosts": ["host-1"]}, ["vm-2"]),  # powered off: matched by its last host
        ({"clusters": ["domain-c2"]}, ["vm-1"]),
        ({"resource_pools": ["resgroup-1"]}, ["vm-2"]),
        ({"datacenters": ["datacenter-1"], "folders": ["group-v1"]}, ["vm-1", "vm-2"]),
        ({"folders": ["group-h1"]}, []),
        ({"vms": ["vm-2", "vm-77"]}, ["vm-2"]),
    ],
)
def test_vm_list_filters(surface, filters, expected, surfaces):
    assert list_vms(surfaces, surface, filters) == expected


def test_rest_indexed_filter_form(surfaces):
    response = surfaces.client.get(
        "/rest/vcenter/vm?filter.hosts.1=host-3&filter.power_states.1=POWERED_ON"
        "&filter.names.2=golden&filter.names.1=web",
        headers=surfaces.headers,
    )
    assert response.get_json() == {
        "value": [
            {
                "vm": "vm-1",
                "name": "golden",
                "power_state": "POWERED_ON",
                "cpu_count": 2,
                "memory_size_MiB": 4096,
            }
        ]
    }


def test_bad_filters(surfaces):
    client, headers = surfaces.client, surfaces.headers
    outcome = rest_outcome(client.get("/rest/vcenter/vm?filter.power_states=ON", headers=headers))
    assert (outcome.status, outcome.error, outcome.args[:2]) == (
        400,
        "invalid_argument",
        ["com.vmware.vcenter.VM.filter_spec", "power_states"],
    )
    outcome = rest_outcome(client.get("/rest/vcenter/vm?filter.colour=red", headers=headers))
    assert (outcome.status, outcome.error, outcome.args) == (
        400,
        "unexpected_input",
        ["[filter.colour]", "operation-input"],
    )
    response = client.get("/api/vcenter/vm?filter.names=web", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error_type"] == "UNEXPECTED_INPUT"


def test_vm_get_rest_form_uses_key_value_lists(surfaces):
    body = surfaces.client.get("/rest/vcenter/vm/vm-1", headers=surfaces.headers).get_json()["value"]
    assert body["scsi_adapters"] == [
        {
            "key": "1000",
            "value": {
                "label": "SCSI controller 0",
                "type": "PVSCSI",
                "scsi": {"bus": 0, "unit": 7},
                "pci_slot_number": 160,
                "sharing": "NONE",
            },
        }
    ]
    assert [d["key"] for d in body["disks"]] == ["2000", "2001"]
    assert body["cdroms"] == [] and body["cpu"] == {
        "count": 2,
        "cores_per_socket": 1,
        "hot_add_enabled": False,
        "hot_remove_enabled": False,
    }
    assert body["identity"]["bios_uuid"].startswith("42")


def test_vm_get_api_form(surfaces):
    body = surfaces.client.get("/api/vcenter/vm/vm-2", headers=surfaces.headers).get_json()
    assert body["power_state"] == "POWERED_OFF"
    assert body["memory"] == {"size_MiB": 1024, "hot_add_enabled": False}
    assert body["disks"] == {
        "2000": {
            "label": "Hard disk 1",
            "type": "SCSI",
            "scsi": {"bus": 0, "unit": 0},
            "backing": {"type": "VMDK_FILE", "vmdk_file": "[local-ps] web/web.vmdk"},
            "capacity": 20 * 1024**3,
        }
    }
    assert body["nics"]["4000"]["state"] == "NOT_CONNECTED"


@pytest.mark.parametrize("surface, status", [("rest", 404), ("api", 404)])
def test_unknown_vm_answers_404_not_found(surface, status, surfaces):
    response = surfaces.client.get(f"/{surface}/vcenter/vm/vm-42", headers=surfaces.headers)
    assert response.status_code == status
    body = response.get_json()
    value = body["value"] if surface == "rest" else body
    assert value["messages"] == [
        {
            "args": ["vm-42"],
            "id": "com.vmware.api.vcenter.vm.not_found",
            "default_message": "Virtual machine with identifier 'vm-42' does not exist.",
        }
    ]


# --- power ------------------------------------------------------------------------------

VOID_STATUS = {"rest": 200, "api": 204, "rpc": 200}
ERROR_STATUS = {"rest": 400, "api": 400, "rpc": 200}


@pytest.mark.parametrize("surface", SURFACES)
def test_power_cycle(surface, surfaces):
    steps = [
        ("start", "POWERED_ON"),
        ("suspend", "SUSPENDED"),
        ("start", "POWERED_ON"),
        ("reset", "POWERED_ON"),
        ("stop", "POWERED_OFF"),
    ]
    for action, state in steps:
        outcome = surfaces.power(surface, "vm-2", action)
        assert (outcome.status, outcome.error) == (VOID_STATUS[surface], None), action
        assert surfaces.power_state("vm-2") == state


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    "vm, action, error, message_id",
    [
        ("vm-1", "start", "already_in_desired_state", "com.vmware.api.vcenter.vm.power.already_in_state"),
        ("vm-2", "stop", "already_in_desired_state", "com.vmware.api.vcenter.vm.power.already_in_state"),
        ("vm-2", "suspend", "not_allowed_in_current_state", "com.vmware.api.vcenter.vm.invalid_power_state"),
        ("vm-2", "reset", "not_allowed_in_current_state", "com.vmware.api.vcenter.vm.invalid_power_state"),
    ],
)
def test_power_refusals(surface, vm, action, error, message_id, surfaces):
    outcome = surfaces.power(surface, vm, action)
    assert (outcome.status, outcome.error, outcome.message_id) == (ERROR_STATUS[surface], error, message_id)


def test_power_get_shapes(surfaces):
    client, headers = surfaces.client, surfaces.headers
    assert client.get("/rest/vcenter/vm/vm-2/power", headers=headers).get_json() == {
        "value": {"state": "POWERED_OFF", "clean_power_off": True}
    }
    assert client.get("/api/vcenter/vm/vm-1/power", headers=headers).get_json() == {"state": "POWERED_ON"}
    answer = rpc(client, "com.vmware.vcenter.vm.power", "get", {"vm": "vm-1"}, token=surfaces.token)
    assert answer["result"]["output"] == {
        "STRUCTURE": {
            "com.vmware.vcenter.vm.power.info": {"state": "POWERED_ON", "clean_power_off": {"OPTIONAL": None}}
        }
    }


def test_start_without_room_is_unable_to_allocate_resource():
    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    surfaces = Surfaces(cloud)
    for i in range(3):
        assert surfaces.instant_clone("api", {"source": "vm-1", "name": f"c{i}"}).ok
    assert surfaces.power("api", "vm-4", "stop").status == 204
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "c3"}).value == "vm-5"
    outcome = surfaces.power("api", "vm-4", "start")
    assert (outcome.status, outcome.error) == (500, "unable_to_allocate_resource")


@pytest.mark.parametrize("surface", SURFACES)
def test_delete(surface, surfaces):
    # powered on: refused
    outcome = delete(surfaces, surface, "vm-1")
    assert (outcome.status, outcome.error, outcome.args) == (
        ERROR_STATUS[surface],
        "not_allowed_in_current_state",
        ["vm-1", "POWERED_ON"],
    )
    outcome = delete(surfaces, surface, "vm-2")
    assert (outcome.status, outcome.error) == (VOID_STATUS[surface], None)
    assert surfaces.vm_ids() == ["vm-1"]
    assert delete(surfaces, surface, "vm-2").error == "not_found"
    surfaces.cloud.check_invariants()


def delete(surfaces, surface, vm):
    if surface == "rest":
        response = surfaces.client.delete(f"/rest/vcenter/vm/{vm}", headers=surfaces.headers)
        if response.status_code == 200:
            assert response.get_data() == b""
        return rest_outcome(response)
    if surface == "api":
        response = surfaces.client.delete(f"/api/vcenter/vm/{vm}", headers=surfaces.headers)
        from vsphere_support import api_outcome

        return api_outcome(response)
    return rpc_outcome(
        rpc(surfaces.client, "com.vmware.vcenter.VM", "delete", {"vm": vm}, token=surfaces.token)
    )


def test_ids_are_never_reused(surfaces):
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "a"}).value == "vm-3"
    assert surfaces.power("api", "vm-3", "stop").status == 204
    assert delete(surfaces, "api", "vm-3").status == 204
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "b"}).value == "vm-4"


# --- regular clone --------------------------------------------------------------------------


def clone(surfaces, spec, prefix="/api"):
    if prefix == "/rest":
        return rest_outcome(
            surfaces.client.post(
                "/rest/vcenter/vm?action=clone", json={"spec": spec}, headers=surfaces.headers
            )
        )
    from vsphere_support import api_outcome

    return api_outcome(
        surfaces.client.post("/api/vcenter/vm?action=clone", json=spec, headers=surfaces.headers)
    )


def test_clone_a_powered_off_vm_stays_off_and_does_not_touch_the_source(surfaces):
    source_before = surfaces.client.get("/api/vcenter/vm/vm-2", headers=surfaces.headers).get_json()
    outcome = clone(surfaces, {"source": "vm-2", "name": "web-copy"}, prefix="/rest")
    assert (outcome.status, outcome.value) == (200, "vm-3")
    assert surfaces.power_state("vm-3") == "POWERED_OFF"
    assert surfaces.client.get("/api/vcenter/vm/vm-2", headers=surfaces.headers).get_json() == source_before
    info = surfaces.client.get("/api/vcenter/vm/vm-3", headers=surfaces.headers).get_json()
    assert info["disks"]["2000"]["backing"]["vmdk_file"] == "[local-ps] web-copy/web-copy.vmdk"


def test_clone_power_on_with_host_placement(surfaces):
    outcome = clone(
        surfaces,
        {
            "source": "vm-1",
            "name": "g2",
            "power_on": True,
            "placement": {"host": "host-4", "datastore": "datastore-2"},
        },
    )
    assert (outcome.status, outcome.value) == (200, "vm-3")
    assert list_vms(surfaces, "api", {"hosts": ["host-4"]}) == ["vm-3"]


@pytest.mark.parametrize(
    "placement, error, message_id",
    [
        (
            {"host": "host-1", "resource_pool": "resgroup-2"},
            "invalid_argument",
            "com.vmware.api.vcenter.vm.placement.disjoint",
        ),
        (
            {"host": "host-1", "cluster": "domain-c2"},
            "invalid_argument",
            "com.vmware.api.vcenter.vm.placement.disjoint",
        ),
        (
            {"host": "host-1", "datastore": "datastore-2"},
            "invalid_argument",
            "com.vmware.api.vcenter.vm.placement.disjoint",
        ),
        ({"host": "host-9"}, "not_found", "com.vmware.api.vcenter.host.not_found"),
        ({"cluster": "domain-c9"}, "not_found", "com.vmware.api.vcenter.cluster.not_found"),
    ],
)
def test_clone_placement_errors(placement, error, message_id, surfaces):
    outcome = clone(surfaces, {"source": "vm-1", "name": "x", "placement": placement})
    assert (outcome.error, outcome.message_id) == (error, message_id)


def test_clone_name_conflict_and_vmw_task(surfaces):
    outcome = clone(surfaces, {"source": "vm-1", "name": "web"})
    assert (outcome.status, outcome.error) == (400, "already_exists")
    response = surfaces.client.post(
        "/api/vcenter/vm?action=clone&vmw-task=true",
        json={"source": "vm-1", "name": "t"},
        headers=surfaces.headers,
    )
    assert (response.status_code, response.get_json()["error_type"]) == (400, "UNSUPPORTED")
    response = surfaces.client.post(
        "/rest/vcenter/vm?action=clone&vmw-task=true",
        json={"spec": {"source": "vm-1", "name": "t"}},
        headers=surfaces.headers,
    )
    assert (response.status_code, response.get_json()["type"]) == (
        400,
        "com.vmware.vapi.std.errors.unexpected_input",
    )


# --- inventory ------------------------------------------------------------------------------


def test_inventory_lists_on_rest(surfaces):
    get = lambda path: surfaces.client.get(f"/rest/vcenter/{path}", headers=surfaces.headers).get_json()[
        "value"
    ]
    assert get("host?filter.clusters=domain-c1") == [
        {"host": "host-1", "name": "host-1", "connection_state": "CONNECTED", "power_state": "POWERED_ON"},
        {"host": "host-2", "name": "host-2", "connection_state": "CONNECTED", "power_state": "POWERED_ON"},
    ]
    assert get("datastore?filter.types=NFS") == [
        {
            "datastore": "datastore-2",
            "name": "nfs-ps",
            "type": "NFS",
            "free_space": surfaces.cloud.primary_storages.get("nfs-ps").available_physical_capacity,
            "capacity": 4 * 1024**4,
        }
    ]
    assert get("cluster") == [
        {"cluster": "domain-c1", "name": "cluster-local", "ha_enabled": False, "drs_enabled": True},
        {"cluster": "domain-c2", "name": "cluster-shared", "ha_enabled": False, "drs_enabled": True},
    ]
    assert get("resource-pool?filter.hosts=host-4") == [{"resource_pool": "resgroup-2", "name": "Resources"}]
    assert get("folder?filter.type=VIRTUAL_MACHINE") == [
        {"folder": "group-v1", "name": "vm", "type": "VIRTUAL_MACHINE"}
    ]
    assert get("datacenter") == [{"datacenter": "datacenter-1", "name": "zone-1"}]
    assert get("network") == [{"network": "network-1", "name": "l3-private", "type": "STANDARD_PORTGROUP"}]
    assert get("host?filter.standalone=true") == []


def test_disconnected_host_has_no_power_state(cloud, surfaces):
    cloud.set_host_status("host-2", "Disconnected")
    hosts = surfaces.client.get(
        "/api/vcenter/host?connection_states=DISCONNECTED", headers=surfaces.headers
    ).get_json()
    assert hosts == [{"host": "host-2", "name": "host-2", "connection_state": "DISCONNECTED"}]


def test_inventory_gets_on_api(surfaces):
    get = lambda path: surfaces.client.get(f"/api/vcenter/{path}", headers=surfaces.headers)
    assert get("datastore/datastore-1").get_json() == {
        "name": "local-ps",
        "type": "VMFS",
        "accessible": True,
        "free_space": surfaces.cloud.primary_storages.get("local-ps").available_physical_capacity,
        "multiple_host_access": False,
        "thin_provisioning_supported": True,
    }
    assert get("datastore/datastore-2").get_json()["multiple_host_access"] is True
    assert get("cluster/domain-c2").get_json() == {"name": "cluster-shared", "resource_pool": "resgroup-2"}
    assert get("resource-pool/resgroup-1").get_json() == {"name": "Resources", "resource_pools": []}
    assert get("datacenter/datacenter-1").get_json() == {
        "name": "zone-1",
        "datastore_folder": "group-s1",
        "host_folder": "group-h1",
        "network_folder": "group-n1",
        "vm_folder": "group-v1",
    }
    response = get("cluster/domain-c7")
    assert response.status_code == 404
    assert (
        response.get_json()["messages"][0]["default_message"]
        == "Cluster with identifier 'domain-c7' does not exist."
    )


def test_inventory_over_rpc(surfaces):
    answer = rpc(
        surfaces.client,
        "com.vmware.vcenter.host",
        "list",
        {"filter": rpc_optional(None)},
        token=surfaces.token,
    )
    first = answer["result"]["output"][0]["STRUCTURE"]["com.vmware.vcenter.host.summary"]
    assert first == {
        "host": "host-1",
        "name": "host-1",
        "connection_state": "CONNECTED",
        "power_state": {"OPTIONAL": "POWERED_ON"},
        "host_uuid": {"OPTIONAL": None},
    }
    answer = rpc(
        surfaces.client,
        "com.vmware.vcenter.datacenter",
        "get",
        {"datacenter": "datacenter-1"},
        token=surfaces.token,
    )
    assert (
        answer["result"]["output"]["STRUCTURE"]["com.vmware.vcenter.datacenter.info"]["vm_folder"]
        == "group-v1"
    )


# --- determinism and snapshots ----------------------------------------------------------------


def test_same_seed_same_operations_same_bytes():
    bodies = []
    for _ in range(2):
        surfaces = Surfaces(Cloud("demo", seed=3, clock=ManualClock()))
        assert surfaces.instant_clone("rest", {"source": "vm-1", "name": "a"}).value == "vm-2"
        response = surfaces.client.get("/rest/vcenter/vm/vm-2", headers=surfaces.headers)
        assert response.status_code == 200
        bodies.append(response.get_data())
    assert bodies[0] == bodies[1]


def test_ids_and_sessions_survive_snapshot_and_restore(cloud, surfaces):
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "a"}).value == "vm-3"
    info = surfaces.client.get("/api/vcenter/vm/vm-3", headers=surfaces.headers).get_json()
    restored = Cloud.restore(cloud.snapshot())
    again = Surfaces(restored)
    again.token = surfaces.token  # the old session is still valid on the restored cloud
    assert again.client.get("/api/vcenter/vm/vm-3", headers=again.headers).get_json() == info
    assert again.instant_clone("api", {"source": "vm-1", "name": "b"}).value == "vm-4"


def test_suspending_a_frozen_vm_is_not_allowed(cloud, surfaces):
    cloud.freeze_vm("golden")
    outcome = surfaces.power("api", "vm-1", "suspend")
    assert (outcome.status, outcome.error, outcome.message_id) == (
        400,
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.instant_clone_frozen",
    )
    assert surfaces.power("api", "vm-1", "reset").status == 204
    info = surfaces.client.get("/api/vcenter/vm/vm-1", headers=surfaces.headers).get_json()
    assert info["instant_clone_frozen"] is False


def test_rpc_clone_and_get_round_trip(surfaces):
    spec = rpc_struct(
        "com.vmware.vcenter.VM.clone_spec",
        {
            "source": "vm-2",
            "name": "web-2",
            "power_on": rpc_optional(True),
            "placement": rpc_optional(
                rpc_struct(
                    "com.vmware.vcenter.VM.clone_placement_spec",
                    {
                        "host": rpc_optional("host-2"),
                        "folder": rpc_optional(None),
                        "resource_pool": rpc_optional(None),
                        "cluster": rpc_optional(None),
                        "datastore": rpc_optional(None),
                    },
                )
            ),
            "disks_to_remove": rpc_optional(None),
            "disks_to_update": rpc_optional(None),
            "guest_customization_spec": rpc_optional(None),
        },
    )
    answer = rpc(surfaces.client, "com.vmware.vcenter.VM", "clone", {"spec": spec}, token=surfaces.token)
    assert answer["result"] == {"output": "vm-3"}
    answer = rpc(surfaces.client, "com.vmware.vcenter.VM", "get", {"vm": "vm-3"}, token=surfaces.token)
    info = answer["result"]["output"]["STRUCTURE"]["com.vmware.vcenter.VM.info"]
    assert info["power_state"] == "POWERED_ON" and info["nvme_adapters"] == {"OPTIONAL": []}
    assert list_vms(surfaces, "rpc", {"hosts": ["host-2"]}) == ["vm-3"]


def test_two_datacenters_number_their_folders_per_kind():
    from fakestack.model.presets import demo

    topology = demo().model_dump()
    topology["zones"].append({"name": "zone-2"})
    topology["clusters"].append({"name": "cluster-2", "zone": "zone-2"})
    topology["hosts"].append(
        {"name": "far-host", "cluster": "cluster-2", "cpu_num": 8, "memory": 32 * 1024**3}
    )
    surfaces = Surfaces(Cloud(topology, seed=0, clock=ManualClock()))
    get = lambda path: surfaces.client.get(f"/api/vcenter/{path}", headers=surfaces.headers).get_json()
    assert get("datacenter") == [
        {"datacenter": "datacenter-1", "name": "zone-1"},
        {"datacenter": "datacenter-2", "name": "zone-2"},
    ]
    assert get("datacenter/datacenter-2") == {
        "name": "zone-2",
        "datastore_folder": "group-s2",
        "host_folder": "group-h2",
        "network_folder": "group-n2",
        "vm_folder": "group-v2",
    }
    assert [f["folder"] for f in get("folder?datacenters=datacenter-2")] == [
        "group-v2",
        "group-h2",
        "group-s2",
        "group-n2",
    ]
    assert [h["host"] for h in get("host?folders=group-h2")] == ["host-5"]
    assert [c["cluster"] for c in get("cluster?datacenters=datacenter-2")] == ["domain-c3"]
    assert get("folder?names=Datacenters") == [
        {"folder": "group-d1", "name": "Datacenters", "type": "DATACENTER"}
    ]
    # instant clone into the other datacenter's VM folder is disjoint
    outcome = surfaces.instant_clone(
        "api", {"source": "vm-1", "name": "x", "placement": {"folder": "group-v2"}}
    )
    assert (outcome.error, outcome.args) == ("invalid_argument", ["folder", "group-v2", "host-3"])


def test_a_vm_the_model_creates_between_two_requests_is_numbered_on_the_next(cloud, surfaces):
    assert surfaces.vm_ids() == ["vm-1", "vm-2"]
    cloud.create_vm(
        "db", image="ubuntu-22.04", instance_offering="small", l3_networks=["l3-private"], host="host-1"
    )
    response = surfaces.client.get("/api/vcenter/vm/vm-3", headers=surfaces.headers)
    assert (response.status_code, response.get_json()["name"]) == (200, "db")


def test_a_cloud_restored_in_place_answers_with_its_own_ids(cloud, surfaces):
    saved = cloud.snapshot()
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "a"}).value == "vm-3"
    cloud.load_snapshot(saved)
    assert surfaces.vm_ids() == ["vm-1", "vm-2"]
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "b"}).value == "vm-3"


def test_reading_vms_leaves_the_dialect_state_as_it_is(cloud, surfaces):
    import json

    def kept():  # the sessions' last access moves with every call
        return json.dumps(
            {k: v for k, v in cloud.dialect_state("vsphere").items() if k != "sessions"}, sort_keys=True
        )

    assert surfaces.vm_ids() == ["vm-1", "vm-2"]
    before = kept()
    for vm in ("vm-1", "vm-2"):
        first = surfaces.client.get(f"/api/vcenter/vm/{vm}", headers=surfaces.headers).get_json()
        assert surfaces.client.get(f"/api/vcenter/vm/{vm}", headers=surfaces.headers).get_json() == first
    assert kept() == before


@pytest.mark.parametrize(
    "spec, status, error, message_id, args",
    [
        (
            {"disks_to_remove": ["2009"]},
            400,
            "invalid_argument",
            "com.vmware.api.vcenter.vm.device.not_found",
            ["vm-1", "disk", "2009"],
        ),
        (
            {"disks_to_update": {"2005": {"datastore": "datastore-2"}}},
            400,
            "invalid_argument",
            "com.vmware.api.vcenter.vm.device.not_found",
            ["vm-1", "disk", "2005"],
        ),
        (
            {"disks_to_remove": ["2001"]},
            400,
            "unsupported",
            "com.vmware.api.vcenter.unsupported",
            ["disks_to_remove is not supported by this endpoint."],
        ),
        (
            {"disks_to_update": {"2000": {"datastore": "datastore-1"}}},
            400,
            "unsupported",
            "com.vmware.api.vcenter.unsupported",
            ["disks_to_update to a datastore other than the clone's is not supported."],
        ),
    ],
)
def test_clone_disk_options_the_fake_refuses(spec, status, error, message_id, args, cloud, surfaces):
    before = surfaces.vm_ids()
    outcome = clone(surfaces, {"source": "vm-1", "name": "x", **spec})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        status,
        error,
        message_id,
        args,
    )
    assert surfaces.vm_ids() == before


def test_clone_into_a_pool_without_a_host_needs_drs(cloud):
    surfaces = Surfaces(cloud, cluster_drs_enabled=False)
    outcome = clone(surfaces, {"source": "vm-1", "name": "x", "placement": {"resource_pool": "resgroup-2"}})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        400,
        "invalid_argument",
        "com.vmware.api.vcenter.vm.placement.invalid",
        ["resource_pool", "resgroup-2", "its cluster has DRS disabled; name a host"],
    )
    assert (
        surfaces.client.get("/api/vcenter/cluster", headers=surfaces.headers).get_json()[1]["drs_enabled"]
        is False
    )
    outcome = clone(
        surfaces,
        {"source": "vm-1", "name": "x", "placement": {"resource_pool": "resgroup-2", "host": "host-4"}},
    )
    assert (outcome.status, outcome.value) == (200, "vm-3")


def test_every_primary_storage_kind_shows_its_datastore_type():
    # the model's kinds are neutral; the vSphere dialect names them (reference §9 #9)
    from vsphere_support import api_login, client_for

    from fakestack.model.presets import document

    topology = document("demo")
    for name, kind in (
        ("ceph-ps", "distributed"),
        ("smp-ps", "SharedMountPoint"),
        ("blk-ps", "shared_block"),
    ):
        topology["primary_storages"].append(
            {
                "name": name,
                "type": kind,
                "zone": "zone-1",
                "clusters": ["cluster-shared"],
                "total_capacity": "1T",
            }
        )
    client = client_for(Cloud(topology, clock=ManualClock()))
    listed = client.get("/api/vcenter/datastore", headers={"vmware-api-session-id": api_login(client)})
    assert [(d["name"], d["type"]) for d in listed.get_json()] == [
        ("local-ps", "VMFS"),
        ("nfs-ps", "NFS"),
        ("ceph-ps", "VSAN"),
        ("smp-ps", "VMFS"),
        ("blk-ps", "VMFS"),
    ]
