"""The official vSphere Automation SDK for Python (``vmware-vcenter``), unmodified, against a
live fakestack server on 127.0.0.1 (reference §7.6, path 1: plain HTTP)."""

import pytest
import requests
from com.vmware.vapi.std.errors_client import (
    AlreadyExists,
    NotFound,
    UnableToAllocateResource,
    Unauthenticated,
)
from com.vmware.vcenter.vm_client import Power
from com.vmware.vcenter_client import VM, Datastore, Host
from sdk_support import PASSWORD, USER, connect
from vmware.vapi.vsphere.client import create_vsphere_client

from fakestack.model import Cloud, ManualClock
from fakestack.server import start_server


@pytest.fixture
def server():
    running = start_server(Cloud("tiny", seed=0, clock=ManualClock()), host="127.0.0.1", port=0)
    yield running
    running.stop()


def test_log_in_list_instant_clone_until_memory_runs_out_and_log_out(server):
    client = connect(server)
    token = client.get_session_id()

    vms = client.vcenter.VM.list()
    assert [(s.vm, s.name, s.power_state, s.cpu_count, s.memory_size_mib) for s in vms] == [
        ("vm-1", "golden", Power.State.POWERED_ON, 1, 2048)
    ]
    running = client.vcenter.VM.list(VM.FilterSpec(names={"golden"}, power_states={Power.State.POWERED_ON}))
    assert [s.vm for s in running] == ["vm-1"]
    assert [
        h.host
        for h in client.vcenter.Host.list(Host.FilterSpec(connection_states={Host.ConnectionState.CONNECTED}))
    ] == ["host-1"]
    assert [d.type for d in client.vcenter.Datastore.list()] == [Datastore.Type.NFS]

    clones = []
    with pytest.raises(UnableToAllocateResource) as info:
        for i in range(10):
            clones.append(client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name=f"ic-{i}")))
    assert clones == ["vm-2", "vm-3", "vm-4"]  # 10 GiB host, 1 GiB reserved, 2 GiB VMs
    error = info.value
    assert error.error_type == UnableToAllocateResource.Type.UNABLE_TO_ALLOCATE_RESOURCE
    assert (error.messages[0].id, error.messages[0].args) == (
        "com.vmware.api.vcenter.vm.insufficient_memory",
        ["host-1", "2048", "1024"],
    )

    info = client.vcenter.VM.get("vm-4")
    assert (info.name, info.power_state, info.memory.size_mib, info.instant_clone_frozen) == (
        "ic-2",
        Power.State.POWERED_ON,
        2048,
        False,
    )
    assert info.disks["2000"].backing.vmdk_file == "[nfs-ps] ic-2/ic-2-000003.vmdk"  # third clone: chain 3
    assert info.nics["4000"].backing.network == "network-1"

    client.vcenter.vm.Power.stop("vm-4")
    assert client.vcenter.vm.Power.get("vm-4").clean_power_off is True
    client.vcenter.VM.delete("vm-4")
    with pytest.raises(NotFound):
        client.vcenter.VM.get("vm-4")
    assert client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-again")) == "vm-5"
    with pytest.raises(AlreadyExists):
        client.vcenter.VM.instant_clone(VM.InstantCloneSpec(source="vm-1", name="ic-again"))

    client.session_svc.delete()  # log out
    with pytest.raises(Unauthenticated):
        client.vcenter.VM.list()
    response = requests.get(f"{server.url}/api/vcenter/vm", headers={"vmware-api-session-id": token})
    assert response.status_code == 401


def test_bad_password_raises_unauthenticated(server):
    with pytest.raises(Unauthenticated) as info:
        connect(server, password="wrong")
    assert info.value.messages[0].default_message == "Authentication required."


def test_sdk_and_rest_share_sessions_and_ids(server):
    client = connect(server)
    response = requests.post(
        f"{server.url}/rest/vcenter/vm?action=instant-clone",
        headers={"vmware-api-session-id": client.get_session_id()},
        json={"spec": {"source": "vm-1", "name": "from-curl"}},
    )
    assert response.json() == {"value": "vm-2"}
    assert [s.name for s in client.vcenter.VM.list(VM.FilterSpec(vms={"vm-2"}))] == ["from-curl"]
    info = client.vcenter.VM.get("vm-1")
    assert info.identity.bios_uuid.startswith("42") and info.scsi_adapters["1000"].scsi.unit == 7
    client.session_svc.delete()


def test_unmodified_client_over_tls_with_a_self_signed_certificate():
    """Reference §7.6 path 2: no adapter, only ``verify=False``."""
    import threading

    from werkzeug.serving import make_server

    from fakestack.app import make_app

    cloud = Cloud("tiny", seed=0, clock=ManualClock())
    httpd = make_server("127.0.0.1", 0, make_app(cloud), threaded=True, ssl_context="adhoc")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        session = requests.Session()
        session.trust_env = False
        session.verify = False
        client = create_vsphere_client(
            server=f"127.0.0.1:{httpd.server_port}", username=USER, password=PASSWORD, session=session
        )
        assert [s.name for s in client.vcenter.VM.list()] == ["golden"]
        client.session_svc.delete()
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
