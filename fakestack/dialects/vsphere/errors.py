"""vAPI standard errors: the one table of names and statuses, messages, and renderers.

A handler raises ``VapiError``; each surface renders it in its own shape:

* ``/rest``: HTTP status from ``STATUS``, ``{"type": "com.vmware.vapi.std.errors.<name>",
  "value": {"error_type": "<NAME>", "messages": [...]}}``;
* ``/api``: HTTP status from ``STATUS``, the ``value`` object alone;
* JSON-RPC: HTTP 200, ``result.error`` = ``{"ERROR": {...}}``.

``translate`` (at the end) is the one table from model errors and fault effects to vAPI
errors (reference §3.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

from .inventory import MiB, power_state

ERROR_PREFIX = "com.vmware.vapi.std.errors."

# name -> (/rest status, /api status).  Reference §3.2, "fake default" column for /rest.
STATUS: dict[str, tuple[int, int]] = {
    "already_exists": (400, 400),
    "already_in_desired_state": (400, 400),
    "invalid_argument": (400, 400),
    "invalid_request": (400, 400),
    "unexpected_input": (400, 400),
    "not_allowed_in_current_state": (400, 400),
    "resource_busy": (400, 500),
    "resource_in_use": (400, 400),
    "unsupported": (400, 400),
    "not_found": (404, 404),
    "operation_not_found": (404, 404),
    "unauthenticated": (401, 401),
    "unauthorized": (403, 403),
    "concurrent_change": (409, 409),
    "error": (500, 500),
    "resource_inaccessible": (500, 500),
    "unable_to_allocate_resource": (500, 500),
    "service_unavailable": (503, 503),
    "timed_out": (504, 504),
    # The remaining standard errors of the 7.0.3 specification; no operation of the
    # fake raises them on its own, but a fault plan may name them.
    "canceled": (500, 500),
    "feature_in_use": (400, 400),
    "internal_server_error": (500, 500),
    "unverified_peer": (500, 500),
    "invalid_element_configuration": (400, 400),
    "invalid_element_type": (400, 400),
}

# Choice §9 #1: VMware's generated /rest spec answers these three with 400, the seed 500.
REST_SPEC_STATUS_OVERRIDES = {"error": 400, "resource_inaccessible": 400, "unable_to_allocate_resource": 400}


@dataclass(frozen=True)
class Message:
    id: str
    default_message: str
    args: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        # Key order of the real /rest captures.
        return {"args": list(self.args), "default_message": self.default_message, "id": self.id}

    def as_rpc(self) -> dict[str, Any]:
        return {
            "STRUCTURE": {
                "com.vmware.vapi.std.localizable_message": {
                    "id": self.id,
                    "default_message": self.default_message,
                    "args": list(self.args),
                }
            }
        }


@dataclass
class VapiError(Exception):
    name: str
    messages: list[Message] = field(default_factory=list)
    challenge: str | None = None

    def __post_init__(self) -> None:
        if self.name not in STATUS:
            raise ValueError(f"not a vAPI standard error: {self.name}")
        Exception.__init__(self, self.name, [m.default_message for m in self.messages])

    @property
    def error_type(self) -> str:
        return self.name.upper()

    @property
    def type_name(self) -> str:
        return ERROR_PREFIX + self.name

    def status(self, surface: str, rest_spec_statuses: bool = False) -> int:
        rest, api = STATUS[self.name]
        if surface == "api":
            return api
        if rest_spec_statuses and self.name in REST_SPEC_STATUS_OVERRIDES:
            return REST_SPEC_STATUS_OVERRIDES[self.name]
        return rest

    def api_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error_type": self.error_type,
            "messages": [m.as_dict() for m in self.messages],
        }
        if self.challenge is not None:
            body["challenge"] = self.challenge
        return body

    def rest_body(self, error_type_in_value: bool = True) -> dict[str, Any]:
        value: dict[str, Any] = {}
        if error_type_in_value:
            value["error_type"] = self.error_type
        value["messages"] = [m.as_dict() for m in self.messages]
        return {"type": self.type_name, "value": value}

    def rpc_value(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": [m.as_rpc() for m in self.messages],
            "data": {"OPTIONAL": None},
            "error_type": {"OPTIONAL": self.error_type},
        }
        if self.challenge is not None:
            body["challenge"] = {"OPTIONAL": self.challenge}
        return {"ERROR": {self.type_name: body}}


# --- message catalogue (reference §3.3, §3.4) ------------------------------------------
# key -> (error name, message id, default message template with {0}, {1}, ...)
MESSAGES: dict[str, tuple[str, str, str]] = {
    "login_failed": (
        "unauthenticated",
        "com.vmware.vapi.endpoint.method.authentication.required",
        "Authentication required.",
    ),
    "no_session": (
        "unauthenticated",
        "vapi.method.authentication.required",
        "This method requires authentication.",
    ),
    "not_authorized": (
        "unauthorized",
        "vapi.security.authorization.invalid",
        "Unable to authorize user",
    ),
    "url_not_found": (
        "not_found",
        "com.vmware.vapi.rest.operationsForUrlNotFound",
        "Unable to find operations for URL: {0}.",
    ),
    "operation_not_found": (
        "operation_not_found",
        "vapi.method.input.invalid.interface",
        "Cannot find service '{0}' or operation '{1}'.",
    ),
    "field_missing": (
        "invalid_argument",
        "vapi.data.structure.field.missing",
        "Structure '{0}' is missing a value for field '{1}'.",
    ),
    "field_invalid": (
        "invalid_argument",
        "vapi.data.structure.field.invalid",
        "Field '{1}' of structure '{0}' is invalid: {2}",
    ),
    "field_unexpected": (
        "unexpected_input",
        "vapi.data.structure.field.unexpected",
        "Found unexpected fields {0} in structure '{1}'.",
    ),
    "body_not_json": (
        "invalid_request",
        "vapi.rest.request.body.invalid",
        "The request body is not valid JSON: {0}",
    ),
    "body_too_large": (
        "invalid_request",
        "vapi.rest.request.body.too_large",
        "The request body exceeds the limit of {0} bytes.",
    ),
    "value_invalid": (
        "invalid_argument",
        "vapi.data.value.invalid",
        "The input is not valid: {0}",
    ),
    "vm_not_found": (
        "not_found",
        "com.vmware.api.vcenter.vm.not_found",
        "Virtual machine with identifier '{0}' does not exist.",
    ),
    "object_not_found": (
        "not_found",
        "com.vmware.api.vcenter.{kind}.not_found",
        "{Kind} with identifier '{0}' does not exist.",
    ),
    "vm_name_taken": (
        "already_exists",
        "com.vmware.api.vcenter.vm.already_exists",
        "Virtual machine with name '{0}' already exists.",
    ),
    "vm_power_state": (
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.invalid_power_state",
        "Virtual machine '{0}' is in power state {1}.",
    ),
    "vm_frozen": (
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.instant_clone_frozen",
        "Virtual machine '{0}' is frozen for instant clone.",
    ),
    "vm_already_in_state": (
        "already_in_desired_state",
        "com.vmware.api.vcenter.vm.power.already_in_state",
        "Virtual machine '{0}' is already {1}.",
    ),
    "pool_name_taken": (
        "already_exists",
        "com.vmware.api.vcenter.resource_pool.already_exists",
        "A resource pool named '{0}' already exists in '{1}'.",
    ),
    "file_not_found": (
        "not_found",
        "com.vmware.api.vcenter.vm.file_not_found",
        "File '{0}' was not found.",
    ),
    "placement_disjoint": (
        "invalid_argument",
        "com.vmware.api.vcenter.vm.placement.disjoint",
        "Placement {0} '{1}' is not compatible with host '{2}'.",
    ),
    "placement_invalid": (
        "invalid_argument",
        "com.vmware.api.vcenter.vm.placement.invalid",
        "Placement {0} '{1}' cannot be used: {2}",
    ),
    "device_not_found": (
        "invalid_argument",
        "com.vmware.api.vcenter.vm.device.not_found",
        "Virtual machine '{0}' has no {1} with key '{2}'.",
    ),
    "device_missing": (
        "not_found",
        "com.vmware.api.vcenter.vm.hardware.device.not_found",
        "Virtual machine '{0}' has no {1} with key '{2}'.",
    ),
    "powered_on_change": (
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.hardware.powered_on",
        "Virtual machine '{0}' is powered on: {1}.",
    ),
    "delta_disk": (
        "not_allowed_in_current_state",
        "com.vmware.api.vcenter.vm.hardware.disk.delta",
        "Disk '{1}' of virtual machine '{0}' is a delta disk of an instant clone and cannot be removed.",
    ),
    "device_already": (
        "already_in_desired_state",
        "com.vmware.api.vcenter.vm.hardware.already_in_state",
        "The {1} '{2}' of virtual machine '{0}' is already {3}.",
    ),
    "hardware_version": (
        "already_in_desired_state",
        "com.vmware.api.vcenter.vm.hardware.upgrade.already_at_version",
        "Virtual machine '{0}' already has hardware version {1}.",
    ),
    "tools_not_running": (
        "service_unavailable",
        "com.vmware.api.vcenter.vm.guest.tools_not_running",
        "VMware Tools is not running in the guest of virtual machine '{0}'.",
    ),
    "host_inaccessible": (
        "resource_inaccessible",
        "com.vmware.api.vcenter.vm.host_inaccessible",
        "Host '{0}' is not accessible.",
    ),
    "datastore_inaccessible": (
        "resource_inaccessible",
        "com.vmware.api.vcenter.vm.datastore_inaccessible",
        "Datastore '{0}' is not accessible.",
    ),
    "delta_chain_limit": (
        "error",
        "com.vmware.api.vcenter.vm.instant_clone.delta_chain_limit",
        "A general system error occurred: Unable to prepare migration. "
        "Delta disk chain of '{0}' would exceed 255.",
    ),
    "insufficient_memory": (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_memory",
        "Insufficient memory on host '{0}': needed {1} MiB, available {2} MiB.",
    ),
    "insufficient_cpu": (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_cpu",
        "Insufficient CPU on host '{0}': needed {1} vCPUs, available {2} vCPUs.",
    ),
    "insufficient_space": (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_space",
        "Insufficient space on datastore '{0}': needed {1} bytes, available {2} bytes.",
    ),
    "insufficient_hosts": (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.vm.insufficient_resources",
        "No host has enough resources: needed {1}, available {2}.",
    ),
    "list_too_large": (
        "unable_to_allocate_resource",
        "com.vmware.api.vcenter.{kind}.list.too_many",
        "The list would return more than {0} {kinds}.",
    ),
    "unsupported": (
        "unsupported",
        "com.vmware.api.vcenter.unsupported",
        "{0}",
    ),
    "timed_out": (
        "timed_out",
        "com.vmware.api.vcenter.vm.timed_out",
        "The operation '{0}' did not complete within {1} seconds.",
    ),
    "general": ("error", "com.vmware.api.vcenter.general_error", "A general system error occurred: {0}"),
    # A bug of the fake (an exception no handler expected): vAPI's own server-side error.
    "internal": ("internal_server_error", "vapi.server.internal.error", "Internal server error: {0}"),
}

_KIND_TITLES = {
    "datastore": "Datastore",
    "resource_pool": "Resource pool",
    "folder": "Folder",
    "network": "Network",
    "host": "Host",
    "cluster": "Cluster",
    "datacenter": "Datacenter",
    "vm": "Virtual machine",
}


def message(key: str, *args: Any, kind: str | None = None) -> Message:
    _, msg_id, template = MESSAGES[key]
    text_args = tuple(str(a) for a in args)
    if kind is not None:
        msg_id = msg_id.replace("{kind}", kind)
        template = template.replace("{Kind}", _KIND_TITLES.get(kind, kind)).replace("{kinds}", kind + "s")
    return Message(msg_id, template.format(*text_args), text_args)


def vapi_error(key: str, *args: Any, kind: str | None = None, name: str | None = None) -> VapiError:
    """The error of catalogue entry ``key``; ``name`` overrides the error (fault plans)."""
    return VapiError(name or MESSAGES[key][0], [message(key, *args, kind=kind)])


def not_found(kind: str, ident: str) -> VapiError:
    if kind == "vm":
        return vapi_error("vm_not_found", ident)
    return vapi_error("object_not_found", ident, kind=kind)


# --- model errors and fault effects -> vAPI errors (reference §3.5) -----------------------
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
        return (
            vapi_error("vm_name_taken", exc.key)
            if exc.resource_kind == "vm"
            else vapi_error("general", exc.message, name="already_exists")
        )
    if isinstance(exc, InvalidArgument):
        return VapiError(
            "invalid_argument", [message("field_invalid", "operation-input", exc.field, exc.reason)]
        )
    if isinstance(exc, Timeout):
        return vapi_error("timed_out", exc.operation, exc.seconds)
    if isinstance(exc, InjectedFailure):
        name = (exc.code or "").lower()
        name = (
            name[len("com.vmware.vapi.std.errors.") :]
            if name.startswith("com.vmware.vapi.std.errors.")
            else name
        )
        return vapi_error("general", exc.message, name=name if name in STATUS else "error")
    return vapi_error("general", exc.message)
