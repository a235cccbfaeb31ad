"""``com.vmware.vcenter.resource_pool`` create / update / delete (issue 17: "if cheap").

The model has one root pool per cluster; pools created through the API are kept in the
dialect state (name, parent, cluster) and hold no allocations of their own: CPU and
memory shares, reservations and limits are accepted and not enforced.  A VM placed in a
pool (create, clone, instant clone, relocate, register) is listed in it while it stays in
that pool's cluster.  Deleting a pool moves its VMs and child pools to its parent, as
vCenter does; a cluster's root pool cannot be deleted (``unsupported``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import field_validator

from .api_vcenter import _get
from .errors import vapi_error
from .registry import operation
from .specs import Schema, _check_vm_name, get_input
from .vapi_types import STRING, VOID

SERVICE = "com.vmware.vcenter.resource_pool"


class ResourcePoolCreateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.resource_pool.create_spec"
    name: str
    parent: str
    cpu_allocation: dict[str, Any] | None = None  # accepted, not enforced
    memory_allocation: dict[str, Any] | None = None

    _name = field_validator("name")(lambda cls, v: _check_vm_name(v))


class ResourcePoolUpdateSpec(Schema):
    vapi_name: ClassVar[str] = "com.vmware.vcenter.resource_pool.update_spec"
    name: str | None = None
    cpu_allocation: dict[str, Any] | None = None
    memory_allocation: dict[str, Any] | None = None

    _name = field_validator("name")(lambda cls, v: None if v is None else _check_vm_name(v))


class CreateInput(Schema):
    spec: ResourcePoolCreateSpec


class UpdateInput(Schema):
    resource_pool: str
    spec: ResourcePoolUpdateSpec


def _check_name_free(inv, parent: str, name: str, but: str | None = None) -> None:
    for sibling in inv.pool_children(parent):
        if sibling != but and inv.pool_name(sibling) == name:
            raise vapi_error("pool_name_taken", name, parent)


@operation(SERVICE, "create", CreateInput, STRING)
def pool_create(call, inp):
    spec = inp.spec
    inv = call.inventory
    cluster = _get(call, "resource_pool", spec.parent)
    _check_name_free(inv, spec.parent, spec.name)
    call.fault_point(name=spec.name)
    return inv.add_child_pool(spec.name, spec.parent, cluster.uuid)


@operation(SERVICE, "update", UpdateInput, VOID)
def pool_update(call, inp):
    inv = call.inventory
    _get(call, "resource_pool", inp.resource_pool)
    pool = inv.child_pools().get(inp.resource_pool)
    if inp.spec.name is not None:
        if pool is None:
            raise vapi_error("unsupported", "The root resource pool of a cluster cannot be renamed.")
        _check_name_free(inv, pool["parent"], inp.spec.name, but=inp.resource_pool)
    call.fault_point(name=inp.spec.name)
    if pool is not None and inp.spec.name is not None:
        pool["name"] = inp.spec.name
    return None


@operation(SERVICE, "delete", get_input("resource_pool"), VOID)
def pool_delete(call, inp):
    inv = call.inventory
    _get(call, "resource_pool", inp.resource_pool)
    pool = inv.child_pools().get(inp.resource_pool)
    if pool is None:
        raise vapi_error("unsupported", "The root resource pool of a cluster cannot be deleted.")
    call.fault_point()
    parent = pool["parent"]
    for child in inv.pool_children(inp.resource_pool):
        inv.child_pools()[child]["parent"] = parent
    for record in call.state.get("vms", {}).values():
        if record.get("pool") == inp.resource_pool:
            if parent in inv.child_pools():
                record["pool"] = parent
            else:
                del record["pool"]
    inv.remove_child_pool(inp.resource_pool)
    return None
