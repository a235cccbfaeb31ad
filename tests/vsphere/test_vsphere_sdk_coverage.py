"""Which operations of the SDK's VM family (``com.vmware.vcenter.VM`` and
``com.vmware.vcenter.vm.*``) the fake serves, with operation ids read from the bindings.

Issue 17 measured 10 of 136 before; the list below is what is served now (45).  A new
operation changes this test on purpose; an id that drifts from the bindings fails it."""

import importlib
import inspect
import pkgutil

import com.vmware.vcenter.vm as vm_package
import requests
from vmware.vapi.bindings.stub import VapiInterface
from vmware.vapi.lib.connect import get_requests_connector
from vmware.vapi.stdlib.client.factories import StubConfigurationFactory

from fakestack.dialects.vsphere import create_dialect
from fakestack.dialects.vsphere.registry import OPERATIONS
from fakestack.model import Cloud


def sdk_vm_family() -> dict[str, list[str]]:
    """service id -> operation ids, from the bindings' own stubs (nothing is sent)."""
    config = StubConfigurationFactory.new_std_configuration(
        get_requests_connector(session=requests.Session(), url="http://127.0.0.1:9/api")
    )
    modules = ["com.vmware.vcenter_client", "com.vmware.vcenter.vm_client"]
    modules += [
        m.name
        for m in pkgutil.walk_packages(vm_package.__path__, "com.vmware.vcenter.vm.")
        if m.name.endswith("_client")
    ]
    family = {}
    for name in modules:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, VapiInterface) and cls.__module__ == name and hasattr(cls, "_VAPI_SERVICE_ID"):
                service = cls._VAPI_SERVICE_ID
                if service == "com.vmware.vcenter.VM" or service.startswith("com.vmware.vcenter.vm."):
                    family[service] = list(cls(config)._api_interface._operations)
    return family


SERVED = {
    "com.vmware.vcenter.VM": [
        "create",
        "clone",
        "relocate",
        "instant_clone",
        "get",
        "delete",
        "list",
        "register",
        "unregister",
    ],
    "com.vmware.vcenter.vm.power": ["get", "start", "stop", "suspend", "reset"],
    "com.vmware.vcenter.vm.hardware": ["get", "update", "upgrade"],
    "com.vmware.vcenter.vm.hardware.boot": ["get", "update"],
    "com.vmware.vcenter.vm.hardware.cpu": ["get", "update"],
    "com.vmware.vcenter.vm.hardware.memory": ["get", "update"],
    "com.vmware.vcenter.vm.hardware.disk": ["list", "get", "create", "update", "delete"],
    "com.vmware.vcenter.vm.hardware.ethernet": [
        "list",
        "get",
        "create",
        "update",
        "delete",
        "connect",
        "disconnect",
    ],
    "com.vmware.vcenter.vm.hardware.cdrom": ["list", "get"],
    "com.vmware.vcenter.vm.guest.identity": ["get"],
    "com.vmware.vcenter.vm.guest.power": ["get", "shutdown", "reboot", "standby"],
    "com.vmware.vcenter.vm.guest.networking": ["get"],
    "com.vmware.vcenter.vm.guest.networking.interfaces": ["list"],
    "com.vmware.vcenter.vm.guest.local_filesystem": ["get"],
}


def test_served_vm_family_operations_are_named_as_in_the_bindings():
    create_dialect(Cloud("tiny"))  # registers every operation module
    family = sdk_vm_family()
    served = {service: [op for op in ops if (service, op) in OPERATIONS] for service, ops in family.items()}
    served = {service: ops for service, ops in served.items() if ops}
    assert served == SERVED
    total = sum(len(ops) for ops in family.values())
    assert (sum(len(ops) for ops in served.values()), total) == (45, 136)
    registered = {
        key
        for key in OPERATIONS
        if key[0] == "com.vmware.vcenter.VM" or key[0].startswith("com.vmware.vcenter.vm.")
    }
    assert registered == {(service, op) for service, ops in SERVED.items() for op in ops}
