"""Where the InstaVM dialect is mounted: the path prefixes it owns.

Apart from the route table (``routes``), which loads the request models and is built at
the dialect's first request, not when the app mounts it.
"""

from __future__ import annotations

PREFIXES = (
    "/v1/vms",
    # shared with ZStack's /v1 alias (its volumes API): claimed by the credentials
    "/v1/volumes",
    "/v1/snapshots",
    "/v1/sessions",
    "/v1/executions",
    "/v1/egress",
    # SDK paths no other dialect has (ZStack's /v1 alias has none of these segments)
    "/v1/api-keys",
    "/v1/audit",
    "/v1/computeruse",
    "/v1/credits",
    "/v1/custom-domains",
    "/v1/recordings",
    "/v1/shares",
    "/v1/tapes",
    "/v1/templates",
    "/v1/users",
    "/v1/vaults",
    "/v1/webhooks",
    "/execute",
    "/execute_async",
    "/kill",
    "/upload",
    "/download",
    "/openapi.json",  # the dialect's OpenAPI document, where FastAPI serves it
)

# Prefixes ZStack's REST API serves too (under /v1): InstaVM takes a request there only
# when it carries an InstaVM key (``InstaVMDialect.accepts``).
SHARED_PREFIXES = ("/v1/volumes",)
