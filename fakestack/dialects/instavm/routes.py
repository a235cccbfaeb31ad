"""The route table: the kit's router with Starlette's options.

Starlette semantics kept: ``{param}`` matches one non-empty segment; the first route
whose path and method match wins; a path that matches only with other methods is a 405
with ``Allow``; an unmatched path is retried with its trailing slash removed (or added)
and, if that matches, answered with a 307 redirect. ``/v1/vms`` and ``/v1/vms/`` are two
routes, so neither redirects to the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..kit.routing import Match, Router
from . import schemas
from .mount import PREFIXES, SHARED_PREFIXES  # noqa: F401 - re-exported (where they were)
from .validation import Param

WAIT = Param("wait", bool, True)
REFRESH = Param("refresh_usage", bool, False)  # usage is always current here


@dataclass(frozen=True)
class Endpoint:
    method: str
    pattern: str
    handler: str
    query: tuple[Param, ...] = ()
    body: Any = None  # the body model; a body is then required
    auth: str = "header"  # "header": X-API-Key/Bearer; "body": api_key in the JSON body; "none"


E = Endpoint
ENDPOINTS: tuple[Endpoint, ...] = (
    # VMs
    E("POST", "/v1/vms", "create_vm", (WAIT,), schemas.VMCreateRequest),
    E("GET", "/v1/vms", "list_running_vms"),
    E("GET", "/v1/vms/", "list_all_vms"),
    E("GET", "/v1/vms/{vm_id}", "get_vm"),
    E("PATCH", "/v1/vms/{vm_id}", "update_vm", (), schemas.VMUpdateRequest),
    E("DELETE", "/v1/vms/{vm_id}", "delete_vm"),
    E("POST", "/v1/vms/{vm_id}/snapshot", "snapshot_vm", (WAIT,), schemas.VMSnapshotRequest),
    E("POST", "/v1/vms/{vm_id}/clone", "clone_vm", (WAIT,), schemas.VMCloneRequest),
    E("POST", "/v1/vms/{vm_id}/suspend", "suspend_vm"),
    E("POST", "/v1/vms/{vm_id}/resume", "resume_vm", (WAIT,)),
    E("GET", "/v1/vms/{vm_id}/volumes", "list_vm_volumes"),
    E("POST", "/v1/vms/{vm_id}/volumes", "mount_volume", (WAIT,), schemas.VolumeMountRequest),
    E(
        "DELETE",
        "/v1/vms/{vm_id}/volumes/{volume_id}",
        "unmount_volume",
        (Param("mount_path", str | None, None), WAIT),
    ),
    # volumes
    E("POST", "/v1/volumes", "create_volume", (), schemas.VolumeCreateRequest),
    E("GET", "/v1/volumes", "list_volumes", (REFRESH,)),
    E("GET", "/v1/volumes/{volume_id}", "get_volume", (REFRESH,)),
    E("DELETE", "/v1/volumes/{volume_id}", "delete_volume"),
    # snapshots
    E("POST", "/v1/snapshots", "create_snapshot", (), schemas.SnapshotCreateRequest),
    E("GET", "/v1/snapshots", "list_snapshots", (Param("type", str | None, None),)),
    E("GET", "/v1/snapshots/{snapshot_id}", "get_snapshot"),
    E("DELETE", "/v1/snapshots/{snapshot_id}", "delete_snapshot"),
    # sessions
    E("POST", "/v1/sessions/session", "create_session", (), schemas.CreateSessionRequest, auth="body"),
    E("GET", "/v1/sessions/status/{session_id}", "session_status"),
    E("POST", "/kill", "kill", (), schemas.KillRequest),
    # account
    E("GET", "/v1/users/me", "current_user"),
    E("GET", "/v1/sessions/usage/{session_id}", "session_usage"),
    E("GET", "/v1/templates", "list_templates", auth="none"),
    E("GET", "/v1/templates/{slug}", "get_template", auth="none"),
    E("GET", "/v1/egress/vm/{vm_id}", "vm_egress"),
    E("POST", "/v1/egress/vm/{vm_id}", "set_vm_egress", (), schemas.EgressPolicy),
    E("GET", "/v1/egress/session/{session_id}", "session_egress"),
    E("POST", "/v1/egress/session/{session_id}", "set_session_egress", (), schemas.EgressPolicy),
    # executions (answered by the test's handler: executions.on_execute)
    E("POST", "/execute", "execute", (), schemas.ExecuteRequest),
    E("POST", "/execute_async", "execute_async", (), schemas.ExecuteRequest),
    E("GET", "/v1/executions/{task_id}", "task_result"),
)

# Known InstaVM endpoints outside fakestack's scope (execution, files, volumes, ...):
# answered 501 after authentication, never a 500.
OUT_OF_SCOPE: tuple[Endpoint, ...] = tuple(
    E(method, pattern, "not_implemented")
    for method, pattern in (
        ("POST", "/upload"),
        ("POST", "/download"),
        ("POST", "/v1/vms/{vm_id}/stage-env"),
        ("PATCH", "/v1/volumes/{volume_id}"),
        ("GET", "/v1/volumes/{volume_id}/checkpoints"),
        ("POST", "/v1/volumes/{volume_id}/checkpoints"),
        ("DELETE", "/v1/volumes/{volume_id}/checkpoints/{checkpoint_id}"),
        ("GET", "/v1/volumes/{volume_id}/files"),
        ("POST", "/v1/volumes/{volume_id}/files"),
        ("DELETE", "/v1/volumes/{volume_id}/files"),
        ("GET", "/v1/vms/{vm_id}/pty/sessions"),
        ("POST", "/v1/vms/{vm_id}/pty/sessions"),
        ("GET", "/v1/vms/{vm_id}/pty/sessions/{pty_id}"),
        ("DELETE", "/v1/vms/{vm_id}/pty/sessions/{pty_id}"),
        ("POST", "/v1/vms/{vm_id}/pty/sessions/{pty_id}/resize"),
        ("GET", "/v1/sessions/session/{session_id}"),
        ("GET", "/v1/sessions/app-url/{session_id}"),
        ("GET", "/v1/sessions/sandboxes"),
        ("POST", "/v1/sessions/{session_id}/tape/start"),
        ("GET", "/v1/sessions/{session_id}/pty/sessions"),
        ("POST", "/v1/sessions/{session_id}/pty/sessions"),
        ("GET", "/v1/sessions/{session_id}/pty/sessions/{pty_id}"),
        ("DELETE", "/v1/sessions/{session_id}/pty/sessions/{pty_id}"),
        ("POST", "/v1/sessions/{session_id}/pty/sessions/{pty_id}/resize"),
        # the rest of the instavm 0.26.1 SDK's paths (account, volumes, tapes, vaults, ...)
        ("GET", "/v1/api-keys/"),
        ("POST", "/v1/api-keys/"),
        ("GET", "/v1/api-keys/{key_id}"),
        ("PATCH", "/v1/api-keys/{key_id}"),
        ("DELETE", "/v1/api-keys/{key_id}"),
        ("GET", "/v1/audit/catalog"),
        ("GET", "/v1/audit/events"),
        ("GET", "/v1/audit/events/{event_id}"),
        ("GET", "/v1/computeruse/{session_id}/viewer-url"),
        ("GET", "/v1/computeruse/{session_id}/vnc/websockify"),
        ("GET", "/v1/credits/allocation"),
        ("GET", "/v1/credits/check"),
        ("GET", "/v1/credits/rates"),
        ("GET", "/v1/credits/summary"),
        ("GET", "/v1/credits/usage"),
        ("GET", "/v1/credits/usage/forecasting"),
        ("GET", "/v1/credits/usage/trends"),
        ("GET", "/v1/custom-domains"),
        ("POST", "/v1/custom-domains"),
        ("GET", "/v1/custom-domains/{domain_id}"),
        ("DELETE", "/v1/custom-domains/{domain_id}"),
        ("GET", "/v1/custom-domains/{domain_id}/health"),
        ("POST", "/v1/custom-domains/{domain_id}/verify"),
        ("GET", "/v1/recordings"),
        ("GET", "/v1/recordings/{recording_id}"),
        ("DELETE", "/v1/recordings/{recording_id}"),
        ("POST", "/v1/shares"),
        ("PATCH", "/v1/shares/{share_id}"),
        ("GET", "/v1/tapes"),
        ("GET", "/v1/tapes/{tape_id}"),
        ("DELETE", "/v1/tapes/{tape_id}"),
        ("POST", "/v1/tapes/{tape_id}/branch"),
        ("GET", "/v1/tapes/{tape_id}/diff"),
        ("GET", "/v1/tapes/{tape_id}/events"),
        ("POST", "/v1/tapes/{tape_id}/events"),
        ("GET", "/v1/tapes/{tape_id}/export"),
        ("GET", "/v1/tapes/{tape_id}/lanes"),
        ("POST", "/v1/tapes/{tape_id}/stop"),
        ("POST", "/v1/templates"),
        ("POST", "/v1/templates/{slug}/runs"),
        ("GET", "/v1/users/me/usage-breakdown"),
        ("GET", "/v1/vaults"),
        ("POST", "/v1/vaults"),
        ("GET", "/v1/vaults/catalog"),
        ("GET", "/v1/vaults/{vault_id}"),
        ("PATCH", "/v1/vaults/{vault_id}"),
        ("DELETE", "/v1/vaults/{vault_id}"),
        ("GET", "/v1/vaults/{vault_id}/credentials"),
        ("POST", "/v1/vaults/{vault_id}/credentials"),
        ("POST", "/v1/vaults/{vault_id}/discover"),
        ("GET", "/v1/vaults/{vault_id}/request-logs"),
        ("GET", "/v1/vaults/{vault_id}/services"),
        ("POST", "/v1/vaults/{vault_id}/services"),
        ("POST", "/v1/vaults/{vault_id}/services:from_template"),
        ("POST", "/v1/volumes/{volume_id}/files/download"),
        ("GET", "/v1/webhooks/deliveries"),
        ("POST", "/v1/webhooks/deliveries/{delivery_id}/replay"),
        ("GET", "/v1/webhooks/endpoints"),
        ("POST", "/v1/webhooks/endpoints"),
        ("GET", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/test"),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/verify"),
    )
)

ALL_ENDPOINTS = ENDPOINTS + OUT_OF_SCOPE


def route_table() -> Router:
    """Every endpoint, in table order; targets are ``Endpoint``s."""
    table = Router(order="table", trailing_slash="redirect", head_as_get=True)
    for endpoint in ALL_ENDPOINTS:
        table.add(endpoint.method, endpoint.pattern, endpoint)
    return table


ROUTE_TABLE = route_table()


def resolve(method: str, path: str) -> Match:
    """The endpoint (``match.target``), the methods the path allows, or a redirect."""
    return ROUTE_TABLE.match(method, path)
