"""Instant clone on /rest, /api and JSON-RPC: success, effects and every row of the
reference's precondition table (§4.2)."""

import pytest
from vsphere_support import Surfaces, api_outcome, rest_outcome

from fakestack.model import CapacityExhausted, Cloud, FaultEffects, InjectedFailure, ManualClock
from fakestack.model.presets import demo, tiny

SURFACES = ("rest", "api", "rpc")


def demo_cloud(**settings) -> Cloud:
    topology = demo()
    for key, value in settings.items():
        setattr(topology.settings, key, value)
    return Cloud(topology, seed=0, clock=ManualClock())


@pytest.fixture
def cloud():
    return demo_cloud()


@pytest.fixture
def surfaces(cloud):
    return Surfaces(cloud)


def without_sessions(snapshot: dict) -> dict:
    data = dict(snapshot)
    state = dict(data["dialect_state"].get("vsphere", {}))
    state.pop("sessions", None)
    data["dialect_state"] = state
    data.pop("journal", None)
    return data


# --- success ----------------------------------------------------------------------------


def test_rest_instant_clone_answers_200_value_vm_id(surfaces):
    response = surfaces.client.post(
        "/rest/vcenter/vm?action=instant-clone",
        headers=surfaces.headers,
        json={"spec": {"source": "vm-1", "name": "ic-1"}},
    )
    assert response.status_code == 200
    assert response.get_json() == {"value": "vm-2"}


def test_api_instant_clone_answers_200_bare_vm_id(surfaces):
    response = surfaces.client.post(
        "/api/vcenter/vm?action=instant-clone",
        headers=surfaces.headers,
        json={"source": "vm-1", "name": "ic-1"},
    )
    assert response.status_code == 200
    assert response.get_json() == "vm-2"


def test_rpc_instant_clone_answers_output_vm_id(surfaces):
    outcome = surfaces.instant_clone("rpc", {"source": "vm-1", "name": "ic-1"})
    assert outcome.raw == {"jsonrpc": "2.0", "id": "1", "result": {"output": "vm-2"}}


@pytest.mark.parametrize("surface", SURFACES)
def test_the_clone_runs_at_once_on_the_source_host_with_new_deltas(surface, surfaces):
    assert surfaces.instant_clone(surface, {"source": "vm-1", "name": "ic-1"}).value == "vm-2"
    client, headers = surfaces.client, surfaces.headers
    listed = client.get("/api/vcenter/vm?hosts=host-3&power_states=POWERED_ON", headers=headers).get_json()
    assert listed == [
        {
            "vm": "vm-1",
            "name": "golden",
            "power_state": "POWERED_ON",
            "cpu_count": 2,
            "memory_size_MiB": 4096,
        },
        {"vm": "vm-2", "name": "ic-1", "power_state": "POWERED_ON", "cpu_count": 2, "memory_size_MiB": 4096},
    ]
    clone = client.get("/api/vcenter/vm/vm-2", headers=headers).get_json()
    assert clone["instant_clone_frozen"] is False
    assert [d["backing"]["vmdk_file"] for d in clone["disks"].values()] == [
        "[nfs-ps] ic-1/ic-1-000001.vmdk",
        "[nfs-ps] ic-1/ic-1_1-000001.vmdk",
    ]
    source = client.get("/api/vcenter/vm/vm-1", headers=headers).get_json()
    assert [d["backing"]["vmdk_file"] for d in source["disks"].values()] == [
        "[nfs-ps] golden/golden-000001.vmdk",
        "[nfs-ps] golden/golden_1-000001.vmdk",
    ]
    host = surfaces.cloud.hosts.get("host-3")
    assert host.used_memory == 2 * 4 * 1024**3 and host.used_cpu == 4


def test_each_clone_grows_the_source_chain_and_a_clone_of_a_clone_inherits_it(surfaces):
    for name in ("a", "b"):
        assert surfaces.instant_clone("api", {"source": "vm-1", "name": name}).ok
    assert surfaces.instant_clone("api", {"source": "vm-3", "name": "c"}).value == "vm-4"
    get = lambda vm: surfaces.client.get(f"/api/vcenter/vm/{vm}", headers=surfaces.headers).get_json()
    assert get("vm-1")["disks"]["2000"]["backing"]["vmdk_file"] == "[nfs-ps] golden/golden-000002.vmdk"
    assert get("vm-3")["disks"]["2000"]["backing"]["vmdk_file"] == "[nfs-ps] b/b-000003.vmdk"
    assert get("vm-4")["disks"]["2000"]["backing"]["vmdk_file"] == "[nfs-ps] c/c-000003.vmdk"


def test_a_frozen_source_does_not_grow(cloud, surfaces):
    cloud.freeze_vm("golden")
    get = lambda vm: surfaces.client.get(f"/api/vcenter/vm/{vm}", headers=surfaces.headers).get_json()
    before = get("vm-1")
    assert before["instant_clone_frozen"] is True
    for name in ("f1", "f2"):
        assert surfaces.instant_clone("rest", {"source": "vm-1", "name": name}).ok
    assert get("vm-1")["disks"] == before["disks"]
    assert get("vm-2")["disks"]["2000"]["backing"]["vmdk_file"] == get("vm-3")["disks"]["2000"]["backing"][
        "vmdk_file"
    ].replace("f2", "f1")


def test_stop_unfreezes_the_source(cloud, surfaces):
    cloud.freeze_vm("golden")
    assert surfaces.power("rest", "vm-1", "stop").status == 200
    response = surfaces.client.get("/api/vcenter/vm/vm-1", headers=surfaces.headers)
    assert response.get_json()["instant_clone_frozen"] is False


def test_placement_given_explicitly_and_bios_uuid(surfaces):
    spec = {
        "source": "vm-1",
        "name": "placed",
        "bios_uuid": "12345678-ABCD-1234-cdef-123456789abc",
        "placement": {"folder": "group-v1", "resource_pool": "resgroup-2", "datastore": "datastore-2"},
    }
    assert surfaces.instant_clone("api", spec).value == "vm-2"
    info = surfaces.client.get("/api/vcenter/vm/vm-2", headers=surfaces.headers).get_json()
    assert info["identity"]["bios_uuid"] == "12345678-abcd-1234-cdef-123456789abc"
    assert info["identity"]["instance_uuid"].startswith("50")
    listed = surfaces.client.get(
        "/rest/vcenter/vm?filter.resource_pools=resgroup-2&filter.folders=group-v1"
        "&filter.datacenters=datacenter-1&filter.clusters=domain-c2",
        headers=surfaces.headers,
    ).get_json()["value"]
    assert [v["vm"] for v in listed] == ["vm-1", "vm-2"]


@pytest.mark.parametrize("surface", SURFACES)
def test_nic_updates_then_disconnect_all(surface, surfaces):
    spec = {
        "source": "vm-1",
        "name": "nics",
        "disconnect_all_nics": True,
        "nics_to_update": {
            "4000": {
                "backing": {"type": "STANDARD_PORTGROUP", "network": "network-1"},
                "start_connected": True,
                "mac_type": "MANUAL",
                "mac_address": "00:50:56:01:02:03",
            }
        },
    }
    assert surfaces.instant_clone(surface, spec).ok
    nic = surfaces.client.get("/api/vcenter/vm/vm-2", headers=surfaces.headers).get_json()["nics"]["4000"]
    assert (nic["state"], nic["start_connected"], nic["mac_type"], nic["mac_address"]) == (
        "NOT_CONNECTED",
        False,
        "MANUAL",
        "00:50:56:01:02:03",
    )
    assert nic["backing"] == {
        "type": "STANDARD_PORTGROUP",
        "network": "network-1",
        "network_name": "l3-private",
    }


def test_without_nic_options_the_clone_nic_is_connected_with_a_new_mac(surfaces):
    assert surfaces.instant_clone("rest", {"source": "vm-1", "name": "n"}).ok
    get = lambda vm: surfaces.client.get(f"/api/vcenter/vm/{vm}", headers=surfaces.headers).get_json()
    clone_nic, source_nic = get("vm-2")["nics"]["4000"], get("vm-1")["nics"]["4000"]
    assert (clone_nic["state"], clone_nic["start_connected"], clone_nic["mac_type"]) == (
        "CONNECTED",
        True,
        "ASSIGNED",
    )
    assert clone_nic["mac_address"].startswith("00:50:56:")
    assert clone_nic["mac_address"] != source_nic["mac_address"]


# --- preconditions (§4.2), all three surfaces ---------------------------------------------

# (case, spec, rest status, api status, error, message id, args)
CASES = [
    (
        "source missing",
        {"name": "x"},
        400,
        400,
        "invalid_argument",
        "vapi.data.structure.field.missing",
        ["com.vmware.vcenter.VM.instant_clone_spec", "source"],
    ),
    (
        "name missing",
        {"source": "vm-1"},
        400,
        400,
        "invalid_argument",
        "vapi.data.structure.field.missing",
        ["com.vmware.vcenter.VM.instant_clone_spec", "name"],
    ),
    (
        "unknown field",
        {"source": "vm-1", "name": "x", "power_on": True},
        400,
        400,
        "unexpected_input",
        "vapi.data.structure.field.unexpected",
        ["[power_on]", "com.vmware.vcenter.VM.instant_clone_spec"],
    ),
    (
        "bad bios uuid",
        {"source": "vm-1", "name": "x", "bios_uuid": "nope"},
        400,
        400,
        "invalid_argument",
        "vapi.data.structure.field.invalid",
        None,
    ),
    (
        "empty name",
        {"source": "vm-1", "name": ""},
        400,
        400,
        "invalid_argument",
        "vapi.data.structure.field.invalid",
        None,
    ),
    (
        "long name",
        {"source": "vm-1", "name": "n" * 81},
        400,
        400,
        "invalid_argument",
        "vapi.data.structure.field.invalid",
        None,
    ),
    (
        "manual mac without address",
        {"source": "vm-1", "name": "x", "nics_to_update": {"4000": {"mac_type": "MANUAL"}}},
        400,
        400,
        "invalid_argument",
        "vapi.data.structure.field.invalid",
        None,
    ),
    (
        "unknown source",
        {"source": "vm-99", "name": "x"},
        404,
        404,
        "not_found",
        "com.vmware.api.vcenter.vm.not_found",
        ["vm-99"],
    ),
    (
        "unknown folder",
        {"source": "vm-1", "name": "x", "placement": {"folder": "group-v9"}},
        404,
        404,
        "not_found",
        "com.vmware.api.vcenter.folder.not_found",
        ["group-v9"],
    ),
    (
        "unknown pool",
        {"source": "vm-1", "name": "x", "placement": {"resource_pool": "resgroup-9"}},
        404,
        404,
        "not_found",
        "com.vmware.api.vcenter.resource_pool.not_found",
        ["resgroup-9"],
    ),
    (
        "unknown datastore",
        {"source": "vm-1", "name": "x", "placement": {"datastore": "datastore-9"}},
        404,
        404,
        "not_found",
        "com.vmware.api.vcenter.datastore.not_found",
        ["datastore-9"],
    ),
    (
        "unknown network",
        {
            "source": "vm-1",
            "name": "x",
            "nics_to_update": {"4000": {"backing": {"type": "STANDARD_PORTGROUP", "network": "network-9"}}},
        },
        404,
        404,
        "not_found",
        "com.vmware.api.vcenter.network.not_found",
        ["network-9"],
    ),
    (
        "unknown nic key",
        {"source": "vm-1", "name": "x", "nics_to_update": {"4001": {"start_connected": False}}},
        400,
        400,
        "invalid_argument",
        "com.vmware.api.vcenter.vm.device.not_found",
        ["vm-1", "network adapter", "4001"],
    ),
    (
        "name taken",
        {"source": "vm-1", "name": "golden"},
        400,
        400,
        "already_exists",
        "com.vmware.api.vcenter.vm.already_exists",
        ["golden"],
    ),
    (
        "folder not a vm folder",
        {"source": "vm-1", "name": "x", "placement": {"folder": "group-h1"}},
        400,
        400,
        "invalid_argument",
        "com.vmware.api.vcenter.vm.placement.disjoint",
        ["folder", "group-h1", "host-3"],
    ),
    (
        "pool of another cluster",
        {"source": "vm-1", "name": "x", "placement": {"resource_pool": "resgroup-1"}},
        400,
        400,
        "invalid_argument",
        "com.vmware.api.vcenter.vm.placement.disjoint",
        ["resource_pool", "resgroup-1", "host-3"],
    ),
    (
        "datastore not mounted",
        {"source": "vm-1", "name": "x", "placement": {"datastore": "datastore-1"}},
        400,
        400,
        "invalid_argument",
        "com.vmware.api.vcenter.vm.placement.disjoint",
        ["datastore", "datastore-1", "host-3"],
    ),
]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_precondition_rows_answer_the_same_error_on_every_surface(surface, case, cloud, surfaces):
    _, spec, rest_status, api_status, error, message_id, args = case
    assert surfaces.vm_ids() == ["vm-1"]  # the first call numbers the inventory
    before = without_sessions(cloud.snapshot())
    outcome = surfaces.instant_clone(surface, spec)
    expected_status = {"rest": rest_status, "api": api_status, "rpc": 200}[surface]
    assert (outcome.status, outcome.error, outcome.message_id) == (expected_status, error, message_id)
    if args is not None:
        assert outcome.args == args
    assert without_sessions(cloud.snapshot()) == before  # nothing changed, no id used
    assert surfaces.instant_clone(surface, {"source": "vm-1", "name": "after"}).value == "vm-2"


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("power_call, state", [("stop_vm", "POWERED_OFF"), ("pause_vm", "SUSPENDED")])
def test_source_not_powered_on_is_not_allowed_in_current_state(surface, power_call, state, cloud, surfaces):
    getattr(cloud, power_call)("golden")
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        {"rest": 400, "api": 400, "rpc": 200}[surface],
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.invalid_power_state",
        ["vm-1", state],
    )


def test_row_1_no_session_answers_401_on_rest_and_api_and_unauthenticated_on_rpc(surfaces):
    surfaces.token = "0" * 32
    for surface, status in (("rest", 401), ("api", 401), ("rpc", 200)):
        outcome = surfaces.instant_clone(surface, {"source": "vm-99"})  # auth is checked first
        assert (outcome.status, outcome.error, outcome.message_id) == (
            status,
            "unauthenticated",
            "vapi.method.authentication.required",
        )


@pytest.mark.parametrize("prefix", ["/rest", "/api"])
def test_row_2_body_not_json_is_invalid_request(prefix, surfaces):
    response = surfaces.client.post(
        f"{prefix}/vcenter/vm?action=instant-clone",
        headers=surfaces.headers,
        data=b"{nope",
        content_type="application/json",
    )
    outcome = rest_outcome(response) if prefix == "/rest" else api_outcome(response)
    assert (outcome.status, outcome.error) == (400, "invalid_request")


def test_row_2_rest_without_spec_wrapper_is_invalid_argument(surfaces):
    response = surfaces.client.post(
        "/rest/vcenter/vm?action=instant-clone",
        headers=surfaces.headers,
        json={"source": "vm-1", "name": "x"},
    )
    outcome = rest_outcome(response)
    # the unwrapped fields are unexpected in operation-input, and spec is missing: missing wins
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        400,
        "invalid_argument",
        "vapi.data.structure.field.missing",
        ["operation-input", "spec"],
    )


@pytest.mark.parametrize("prefix", ["/rest", "/api"])
def test_row_3_unknown_query_parameter_is_unexpected_input(prefix, surfaces):
    response = surfaces.client.post(
        f"{prefix}/vcenter/vm?action=instant-clone&vmw-task=true",
        headers=surfaces.headers,
        json={"spec": {"source": "vm-1", "name": "x"}}
        if prefix == "/rest"
        else {"source": "vm-1", "name": "x"},
    )
    outcome = rest_outcome(response) if prefix == "/rest" else api_outcome(response)
    assert (outcome.status, outcome.error, outcome.args) == (
        400,
        "unexpected_input",
        ["[vmw-task]", "operation-input"],
    )


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("how", ["disconnected", "maintenance"])
def test_row_11_source_host_inaccessible(surface, how, cloud, surfaces):
    if how == "disconnected":
        cloud.set_host_status("host-3", "Disconnected")
    else:
        cloud.set_host_state("host-3", "Maintenance")
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        {"rest": 500, "api": 500, "rpc": 200}[surface],
        "resource_inaccessible",
        "com.vmware.api.vcenter.vm.host_inaccessible",
        ["host-3"],
    )


@pytest.mark.parametrize("surface", SURFACES)
def test_row_11_datastore_inaccessible(surface, cloud, surfaces):
    cloud.set_storage_status("nfs-ps", "Disconnected")
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        {"rest": 500, "api": 500, "rpc": 200}[surface],
        "resource_inaccessible",
        "com.vmware.api.vcenter.vm.datastore_inaccessible",
        ["datastore-2"],
    )


@pytest.mark.parametrize("surface", SURFACES)
def test_row_12_delta_chain_limit_is_a_general_error(surface):
    cloud = demo_cloud(max_chain_depth=4)
    surfaces = Surfaces(cloud)
    assert surfaces.instant_clone(surface, {"source": "vm-1", "name": "c1"}).ok  # depth 3
    assert surfaces.instant_clone(surface, {"source": "vm-1", "name": "c2"}).ok  # depth 4
    before = without_sessions(cloud.snapshot())
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "c3"})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        {"rest": 500, "api": 500, "rpc": 200}[surface],
        "error",
        "com.vmware.api.vcenter.vm.instant_clone.delta_chain_limit",
        ["vm-1"],
    )
    after = without_sessions(cloud.snapshot())
    # the model's id stream moves on (it drew the clone's uuid) and the failed job is on
    # record; nothing else changes
    assert Cloud.snapshot_records(after, "jobs")[-1]["error"]["resource"] == "chain_depth"
    ignored = ("ids", "jobs")
    assert {k: v for k, v in after.items() if k not in ignored} == {
        k: v for k, v in before.items() if k not in ignored
    }
    assert surfaces.vm_ids() == ["vm-1", "vm-2", "vm-3"]


@pytest.mark.parametrize("surface", SURFACES)
def test_row_13_host_memory_runs_out(surface):
    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    surfaces = Surfaces(cloud)
    ids = [surfaces.instant_clone(surface, {"source": "vm-1", "name": f"ic-{i}"}).value for i in range(3)]
    assert ids == ["vm-2", "vm-3", "vm-4"]
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "ic-3"})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        {"rest": 500, "api": 500, "rpc": 200}[surface],
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_memory",
        ["host-1", "2048", "1024"],
    )
    assert outcome.raw if surface == "rpc" else True
    if surface == "rpc":  # a vAPI error rides in an HTTP 200 answer that echoes the request id
        assert (outcome.raw["id"], list(outcome.raw["result"])) == ("1", ["error"])
    assert surfaces.vm_ids() == ["vm-1", "vm-2", "vm-3", "vm-4"]
    # freeing memory makes room again; the failed clone used no id
    assert surfaces.power("api", "vm-4", "stop").status == 204
    assert surfaces.instant_clone(surface, {"source": "vm-1", "name": "ic-3"}).value == "vm-5"


def test_row_13_rest_spec_statuses_flag_answers_400():
    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    surfaces = Surfaces(cloud, rest_spec_statuses=True)
    for i in range(3):
        surfaces.instant_clone("rest", {"source": "vm-1", "name": f"ic-{i}"})
    assert surfaces.instant_clone("rest", {"source": "vm-1", "name": "x"}).status == 400
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "x"}).status == 500


@pytest.mark.parametrize("surface", SURFACES)
def test_row_13_datastore_space_runs_out(surface):
    topology = tiny()
    topology.hosts[0].memory = 1024 * 1024**3
    topology.hosts[0].cpu_num = 64
    cloud = Cloud(topology, seed=0, clock=ManualClock())
    surfaces = Surfaces(cloud)
    outcome = None
    for i in range(40):
        outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": f"ic-{i}"})
        if not outcome.ok:
            break
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args[0]) == (
        {"rest": 500, "api": 500, "rpc": 200}[surface],
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_space",
        "datastore-1",
    )
    cloud.check_invariants()


class OneShotFaults:
    """Stands in for a fault plan: answers the model's fault point once."""

    def __init__(self, operation: str, effects: FaultEffects) -> None:
        self.operation, self.effects, self.fired = operation, effects, False

    def on_operation(self, cloud, operation, targets):
        if operation == self.operation and not self.fired:
            self.fired = True
            return self.effects
        return None


@pytest.mark.parametrize("surface", SURFACES)
def test_row_14_injected_exhaustion_looks_like_a_real_one(surface, cloud, surfaces):
    real = CapacityExhausted(
        "host.memory", 4 * 1024**3, 1024**3, resource_uuid=cloud.hosts.get("host-3").uuid, injected=True
    )
    cloud.faults = OneShotFaults("vm.instant_clone", FaultEffects(error=real))
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        {"rest": 500, "api": 500, "rpc": 200}[surface],
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_memory",
        ["host-3", "4096", "1024"],
    )


@pytest.mark.parametrize("surface", SURFACES)
def test_row_14_injected_storage_exhaustion(surface, cloud, surfaces):
    cloud.faults = OneShotFaults("vm.instant_clone", FaultEffects(exhaust=("primary_storage.virtual",)))
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.error, outcome.message_id, outcome.args[0]) == (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_space",
        "datastore-2",
    )
    assert surfaces.vm_ids() == ["vm-1"]


@pytest.mark.parametrize(
    "code, error, status",
    [
        ("service_unavailable", "service_unavailable", 503),
        ("com.vmware.vapi.std.errors.unauthorized", "unauthorized", 403),
        ("SOMETHING_ELSE", "error", 500),
    ],
)
def test_row_14_injected_failures_name_their_vapi_error(code, error, status, cloud, surfaces):
    cloud.faults = OneShotFaults(
        "vm.instant_clone",
        FaultEffects(error=InjectedFailure("vm.instant_clone", "injected by the test", code=code)),
    )
    outcome = surfaces.instant_clone("rest", {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error) == (status, error)
    assert outcome.raw["value"]["messages"][0]["default_message"] == (
        "A general system error occurred: injected by the test"
    )


# --- fault plans (fakestack.faults) ---------------------------------------------------------


@pytest.mark.parametrize("surface, status", [("rest", 503), ("api", 503), ("rpc", 200)])
def test_a_fault_rule_on_the_vsphere_operation_name_fails_the_call(surface, status, cloud, surfaces):
    from fakestack import faults

    faults.add(
        cloud,
        faults.fail(
            "vsphere:*VM?instant_clone", code="service_unavailable", message="maintenance window", nth=1
        ),
    )
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error, outcome.args) == (
        status,
        "service_unavailable",
        ["maintenance window"],
    )
    assert surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"}).value == "vm-2"


def test_the_dialect_fault_point_comes_after_the_preconditions(cloud, surfaces):
    from fakestack import faults

    faults.add(cloud, faults.fail("vsphere:*", code="service_unavailable"))
    outcome = surfaces.instant_clone("api", {"source": "vm-99", "name": "x"})
    assert (outcome.status, outcome.error) == (404, "not_found")


@pytest.mark.parametrize("surface", SURFACES)
def test_an_exhaust_rule_on_the_neutral_operation_reads_like_a_real_shortage(surface, cloud, surfaces):
    from fakestack import faults

    faults.add(cloud, faults.exhaust("vm.instant_clone", "primary_storage.virtual"))
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x"})
    assert (outcome.error, outcome.message_id, outcome.args[0]) == (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_space",
        "datastore-2",
    )
    needed, available = int(outcome.args[1]), int(outcome.args[2])
    assert available < needed
    assert surfaces.vm_ids() == ["vm-1"]
    cloud.check_invariants()


# --- synchronous calls and job durations (§9 #20) ------------------------------------------


def test_a_job_duration_is_waited_for_on_the_cloud_clock():
    cloud = demo_cloud(job_durations={"vm.instant_clone": 5.0})
    surfaces = Surfaces(cloud)
    start = cloud.clock.now()
    assert surfaces.instant_clone("rest", {"source": "vm-1", "name": "slow"}).value == "vm-2"
    assert cloud.clock.now() == start + 5.0


@pytest.mark.parametrize("surface, status", [("rest", 504), ("api", 504), ("rpc", 200)])
def test_a_job_longer_than_the_sync_timeout_answers_timed_out_and_leaves_nothing(surface, status):
    cloud = demo_cloud(job_durations={"vm.instant_clone": 120.0})
    surfaces = Surfaces(cloud)
    assert surfaces.vm_ids() == ["vm-1"]
    host_before = cloud.hosts.get("host-3").to_dict()
    start = cloud.clock.now()
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "slow"})
    assert (outcome.status, outcome.error, outcome.args) == (
        status,
        "timed_out",
        ["vsphere:com.vmware.vcenter.VM.instant_clone", "60.0"],
    )
    assert cloud.clock.now() == start + 60.0
    assert surfaces.vm_ids() == ["vm-1"]
    assert cloud.hosts.get("host-3").to_dict() == host_before
    cloud.check_invariants()


def test_the_sync_timeout_is_configurable():
    cloud = demo_cloud(job_durations={"vm.instant_clone": 120.0})
    surfaces = Surfaces(cloud, sync_timeout_s=300)
    assert surfaces.instant_clone("api", {"source": "vm-1", "name": "slow"}).value == "vm-2"


@pytest.mark.parametrize("rule", ["latency", "hang"])
def test_fault_latency_and_hang_time_the_call_out(rule, cloud, surfaces):
    from fakestack import faults

    faults.add(
        cloud,
        faults.latency("vm.instant_clone", 90) if rule == "latency" else faults.hang("vm.instant_clone"),
    )
    outcome = surfaces.instant_clone("rest", {"source": "vm-1", "name": "x"})
    assert (outcome.status, outcome.error) == (504, "timed_out")
    assert surfaces.vm_ids() == ["vm-1"]
    faults.clear(cloud)
    assert surfaces.instant_clone("rest", {"source": "vm-1", "name": "x"}).value == "vm-2"


@pytest.mark.parametrize("prefix", ["/rest", "/api"])
def test_a_missing_field_answers_before_an_unknown_query_parameter(prefix, surfaces):
    body = {"spec": {"source": "vm-1"}} if prefix == "/rest" else {"source": "vm-1"}
    response = surfaces.client.post(
        f"{prefix}/vcenter/vm?action=instant-clone&verbose=1", headers=surfaces.headers, json=body
    )
    outcome = rest_outcome(response) if prefix == "/rest" else api_outcome(response)
    assert (outcome.status, outcome.error, outcome.args) == (
        400,
        "invalid_argument",
        ["com.vmware.vcenter.VM.instant_clone_spec", "name"],
    )


@pytest.mark.parametrize("surface", ["rest", "api"])
@pytest.mark.parametrize(
    "field, label", [("serial_ports_to_update", "serial port"), ("parallel_ports_to_update", "parallel port")]
)
def test_row_7_port_keys_name_devices_the_source_does_not_have(surface, field, label, surfaces):
    outcome = surfaces.instant_clone(surface, {"source": "vm-1", "name": "x", field: {"9000": {}}})
    assert (outcome.status, outcome.error, outcome.message_id, outcome.args) == (
        400,
        "invalid_argument",
        "com.vmware.api.vcenter.vm.device.not_found",
        ["vm-1", label, "9000"],
    )
    assert surfaces.vm_ids() == ["vm-1"]
