"""Model errors and fault effects -> vAPI errors (reference §3.5): the one table."""
from __future__ import annotations

from fakestack.model.errors import (
    CapacityExhausted,
    Conflict,
    DomainError,
    InjectedFailure,
    InvalidArgument,
    InvalidState,
    NotFound,
    Timeout,
    Unreachable,
)

from .errors import STATUS, VapiError, message, not_found, vapi_error
from .inventory import MiB, power_state

# model resource kind -> (inventory kind, vSphere object kind for messages)
KINDS = {
    "vm": "vm",
    "host": "host",
    "primary_storage": "datastore",
    "cluster": "cluster",
    "zone": "datacenter",
    "l3_network": "network",
    "l3": "network",
}


def _moid(call, model_kind: str, uuid: str | None) -> str:
    kind = KINDS.get(model_kind)
    if kind is None or uuid is None:
        return uuid or "unknown"
    if kind == "vm" and call.cloud.vms.find(uuid) is None:
        return uuid
    return call.inventory.moid(kind, uuid)


def _capacity(call, exc: CapacityExhausted) -> VapiError:
    # An injected shortage already reads like a real one: the model reports no room.
    resource = exc.resource
    available = exc.available
    if resource == "chain_depth":
        subject = call.subject or exc.resource_uuid
        return vapi_error("delta_chain_limit", subject)
    if resource in ("host.memory", "host.cpu"):
        host = _moid(call, "host", exc.resource_uuid) if exc.resource_uuid else "any"
        if resource == "host.memory":
            return vapi_error("insufficient_memory", host, exc.needed // MiB, available // MiB)
        return vapi_error("insufficient_cpu", host, exc.needed, available)
    if resource.startswith("primary_storage"):
        datastore = _moid(call, "primary_storage", exc.resource_uuid) if exc.resource_uuid else "any"
        return vapi_error("insufficient_space", datastore, exc.needed, available)
    return vapi_error("insufficient_hosts", resource, exc.needed, available)


def translate(call, exc: BaseException) -> VapiError | None:
    if not isinstance(exc, DomainError):
        return None
    if isinstance(exc, CapacityExhausted):
        return _capacity(call, exc)
    if isinstance(exc, Unreachable):
        if exc.resource_kind == "host":
            return vapi_error("host_inaccessible", _moid(call, "host", exc.uuid))
        if exc.resource_kind == "primary_storage":
            return vapi_error("datastore_inaccessible", _moid(call, "primary_storage", exc.uuid))
        return vapi_error("general", exc.message, name="resource_inaccessible")
    if isinstance(exc, InvalidState):
        if exc.resource_kind == "host":
            # §4.2 row 11: a host in maintenance or disabled is inaccessible for new VMs.
            return vapi_error("host_inaccessible", _moid(call, "host", exc.uuid))
        if exc.resource_kind == "vm":
            vm = call.cloud.vms.find(exc.uuid)
            shown = power_state(vm) if vm is not None else exc.state
            return vapi_error("vm_power_state", _moid(call, "vm", exc.uuid), shown)
        return vapi_error("general", exc.message, name="not_allowed_in_current_state")
    if isinstance(exc, NotFound):
        kind = KINDS.get(exc.resource_kind, exc.resource_kind)
        return not_found(kind, exc.key)
    if isinstance(exc, Conflict):
        return vapi_error("vm_name_taken", exc.key) if exc.resource_kind == "vm" else vapi_error(
            "general", exc.message, name="already_exists")
    if isinstance(exc, InvalidArgument):
        return VapiError("invalid_argument", [message("field_invalid", "operation-input", exc.field, exc.reason)])
    if isinstance(exc, Timeout):
        return vapi_error("timed_out", exc.operation, exc.seconds)
    if isinstance(exc, InjectedFailure):
        name = (exc.code or "").lower()
        name = name[len("com.vmware.vapi.std.errors."):] if name.startswith("com.vmware.vapi.std.errors.") else name
        return vapi_error("general", exc.message, name=name if name in STATUS else "error")
    return vapi_error("general", exc.message)
