"""The REST route tables of ``/rest`` and ``/api`` (reference §2, §6).

One kit route table per surface, mounted at its prefix, in table order: the routes of a
path and method are every candidate, and the request's ``action`` picks one of them
(``dialect._match``).  A method a path does not serve is ``url_not_found``, as a path
nobody serves (vAPI answers no 405).

Each route names the vAPI operation it serves, how its input is gathered (path
parameters, a filter from the query, a body) and its success status.  GET by id for
hosts, folders and networks, absent from the real API (§9 #14), is served since issue 17
asked for it (it answers the list's summary of one object).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kit.routing import Router
from . import specs

REST, API = "rest", "api"

SESSION = "com.vmware.cis.session"
VM = "com.vmware.vcenter.VM"
POWER = "com.vmware.vcenter.vm.power"


@dataclass(frozen=True)
class Route:
    surface: str
    method: str
    pattern: str
    service: str
    operation: str
    action: str | None = None
    body: bool = False  # the operation takes a body
    # /api: the input field the bare body is (None: the body's fields are the input's)
    body_field: str | None = "spec"
    filter: type[specs.Schema] | None = None
    status: int = 200  # success status with a body
    void_status: int = 200  # success status of a void operation


INVENTORY = (
    # (path segment, service, filter, get served)
    ("host", "com.vmware.vcenter.host", specs.HostFilter, True),
    ("datastore", "com.vmware.vcenter.datastore", specs.DatastoreFilter, True),
    ("resource-pool", "com.vmware.vcenter.resource_pool", specs.ResourcePoolFilter, True),
    ("folder", "com.vmware.vcenter.folder", specs.FolderFilter, True),
    ("cluster", "com.vmware.vcenter.cluster", specs.ClusterFilter, True),
    ("datacenter", "com.vmware.vcenter.datacenter", specs.DatacenterFilter, True),
    ("network", "com.vmware.vcenter.network", specs.NetworkFilter, True),
)

POWER_ACTIONS = ("start", "stop", "suspend", "reset")


def _vm_and_inventory_routes(surface: str) -> list[Route]:
    """The routes both surfaces share, with the same paths (power actions and statuses differ)."""
    void = 204 if surface == API else 200
    routes = [
        Route(surface, "GET", "/vcenter/vm", VM, "list", filter=specs.VmFilter),
        Route(surface, "POST", "/vcenter/vm", VM, "instant_clone", action="instant-clone", body=True),
        Route(surface, "POST", "/vcenter/vm", VM, "clone", action="clone", body=True),
        Route(surface, "GET", "/vcenter/vm/{vm}", VM, "get"),
        Route(surface, "DELETE", "/vcenter/vm/{vm}", VM, "delete", void_status=void),
        Route(surface, "GET", "/vcenter/vm/{vm}/power", POWER, "get"),
    ]
    if surface == REST:
        routes += [Route(REST, "POST", f"/vcenter/vm/{{vm}}/power/{a}", POWER, a) for a in POWER_ACTIONS]
    else:
        routes += [
            Route(API, "POST", "/vcenter/vm/{vm}/power", POWER, a, action=a, void_status=204)
            for a in POWER_ACTIONS
        ]
    routes += _vm_service_routes(surface)
    for segment, service, filter_model, has_get in INVENTORY:
        routes.append(Route(surface, "GET", f"/vcenter/{segment}", service, "list", filter=filter_model))
        if has_get:
            param = segment.replace("-", "_")
            routes.append(Route(surface, "GET", f"/vcenter/{segment}/{{{param}}}", service, "get"))
    return routes


HARDWARE = "com.vmware.vcenter.vm.hardware"
GUEST = "com.vmware.vcenter.vm.guest"
POOL = "com.vmware.vcenter.resource_pool"
DEVICE_ROUTES = (
    # (path segment, service, path parameter, served operations)
    ("disk", f"{HARDWARE}.disk", "disk", ("list", "get", "create", "update", "delete")),
    (
        "ethernet",
        f"{HARDWARE}.ethernet",
        "nic",
        ("list", "get", "create", "update", "delete", "connect", "disconnect"),
    ),
    ("cdrom", f"{HARDWARE}.cdrom", "cdrom", ("list", "get")),
)


def _vm_service_routes(surface: str) -> list[Route]:
    """VM create / relocate / register / unregister, vm.hardware.* and vm.guest.* (issue 17;
    paths, actions and statuses of the 7.0.3 specification)."""
    api = surface == API
    void = 204 if api else 200
    created = 201 if api else 200
    vm_path = "/vcenter/vm/{vm}"
    routes = [
        Route(surface, "POST", "/vcenter/vm", VM, "create", body=True, status=created),
        Route(surface, "POST", "/vcenter/vm", VM, "register", action="register", body=True),
        Route(surface, "POST", vm_path, VM, "relocate", action="relocate", body=True, void_status=void),
        Route(surface, "POST", vm_path, VM, "unregister", action="unregister", void_status=void),
        Route(surface, "GET", f"{vm_path}/hardware", HARDWARE, "get"),
        Route(surface, "PATCH", f"{vm_path}/hardware", HARDWARE, "update", body=True, void_status=void),
        Route(
            surface,
            "POST",
            f"{vm_path}/hardware" + ("" if api else "/action/upgrade"),
            HARDWARE,
            "upgrade",
            action="upgrade" if api else None,
            body=True,
            body_field=None,
            void_status=void,
        ),
    ]
    for segment in ("cpu", "memory", "boot"):
        service = f"{HARDWARE}.{segment}"
        routes += [
            Route(surface, "GET", f"{vm_path}/hardware/{segment}", service, "get"),
            Route(
                surface,
                "PATCH",
                f"{vm_path}/hardware/{segment}",
                service,
                "update",
                body=True,
                void_status=void,
            ),
        ]
    for segment, service, param, served in DEVICE_ROUTES:
        collection = f"{vm_path}/hardware/{segment}"
        item = f"{collection}/{{{param}}}"
        table = {
            "list": Route(surface, "GET", collection, service, "list"),
            "create": Route(surface, "POST", collection, service, "create", body=True, status=created),
            "get": Route(surface, "GET", item, service, "get"),
            "update": Route(surface, "PATCH", item, service, "update", body=True, void_status=void),
            "delete": Route(surface, "DELETE", item, service, "delete", void_status=void),
        }
        for action in ("connect", "disconnect"):
            table[action] = (
                Route(API, "POST", item, service, action, action=action, void_status=204)
                if api
                else Route(REST, "POST", f"{item}/{action}", service, action)
            )
        routes += [table[name] for name in served]
    guest = f"{vm_path}/guest"
    routes += [
        Route(surface, "GET", f"{guest}/identity", f"{GUEST}.identity", "get"),
        Route(surface, "GET", f"{guest}/local-filesystem", f"{GUEST}.local_filesystem", "get"),
        Route(surface, "GET", f"{guest}/networking", f"{GUEST}.networking", "get"),
        Route(surface, "GET", f"{guest}/networking/interfaces", f"{GUEST}.networking.interfaces", "list"),
        Route(surface, "GET", f"{guest}/power", f"{GUEST}.power", "get"),
        *[
            Route(
                surface, "POST", f"{guest}/power", f"{GUEST}.power", action, action=action, void_status=void
            )
            for action in ("shutdown", "reboot", "standby")
        ],
        Route(surface, "POST", "/vcenter/resource-pool", POOL, "create", body=True, status=created),
        Route(
            surface,
            "PATCH",
            "/vcenter/resource-pool/{resource_pool}",
            POOL,
            "update",
            body=True,
            void_status=void,
        ),
        Route(surface, "DELETE", "/vcenter/resource-pool/{resource_pool}", POOL, "delete", void_status=void),
    ]
    return routes


ROUTES: dict[str, list[Route]] = {
    REST: [
        Route(REST, "POST", "/com/vmware/cis/session", SESSION, "create"),
        Route(REST, "POST", "/com/vmware/cis/session", SESSION, "get", action="get"),
        Route(REST, "DELETE", "/com/vmware/cis/session", SESSION, "delete"),
        *_vm_and_inventory_routes(REST),
    ],
    API: [
        Route(API, "POST", "/session", SESSION, "create", status=201),
        Route(API, "GET", "/session", SESSION, "get"),
        Route(API, "DELETE", "/session", SESSION, "delete", void_status=204),
        *_vm_and_inventory_routes(API),
    ],
}


PREFIXES = {REST: "/rest", API: "/api"}


def route_table(surface: str) -> Router:
    """The surface's routes, relative to its prefix; targets are ``Route``s."""
    table = Router(order="table", trailing_slash="strict", prefix=PREFIXES[surface])
    for route in ROUTES[surface]:
        table.add(route.method, route.pattern, route)
    return table


ROUTE_TABLES: dict[str, Router] = {surface: route_table(surface) for surface in ROUTES}
