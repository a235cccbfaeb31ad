"""Property: no input to any served API, on either endpoint, crashes the dialect.

A crash would be an HTTP 500 or an internal error (SYS.1000) carrying a Python exception;
SYS.1000 is legitimate only for the query engine's "has no field" / "unknown QueryOp".
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zstack_support import auth, cloud_client, poll

from fakestack.dialects.zstack.catalog import APIS
from fakestack.dialects.zstack.registry import BINDINGS

CLOUD, CLIENT, SESSION = cloud_client("demo")
GOLDEN = CLOUD.vms.get("golden")
UUIDS = [GOLDEN.uuid, GOLDEN.root_volume_uuid, CLOUD.backup_storages.get("imagestore").uuid, "0" * 32, "x"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(UUIDS),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
API_NAMES = sorted(BINDINGS)


def crashed(response) -> bool:
    """A 500, or an internal-error code (SYS.1000) other than the query errors that
    legitimately carry it.  The code is read from the error, not searched in the body, since
    an error message may echo the (generated) input."""
    if response.status_code == 500:
        return True
    try:
        payload = json.loads(response.get_data(as_text=True))
    except ValueError:
        return False
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict) or error.get("code") != "SYS.1000":
        return False
    details = str(error.get("details", ""))
    return "has no field" not in details and "unknown QueryOp" not in details


@st.composite
def calls(draw):
    name = draw(st.sampled_from(API_NAMES))
    api = APIS[name]
    names = [p["name"] for p in api["params"]]
    fields = draw(st.dictionaries(st.sampled_from(names), values, max_size=4)) if names else {}
    path = re.sub(r"\{[^}]+\}", lambda m: draw(st.sampled_from(UUIDS)), api["path"])
    return name, api, path, fields


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(call=calls())
def test_rest_never_crashes(call):
    name, api, path, fields = call
    url = "/zstack/v1" + path
    if api["method"] in ("POST", "PUT"):
        response = CLIENT.open(
            url, method=api["method"], json={api["wrapper"] or "null": fields}, headers=auth(SESSION)
        )
    else:
        query = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()]
        response = CLIENT.open(url, method=api["method"], query_string=query, headers=auth(SESSION))
    if response.status_code == 202:
        response = poll(CLIENT, response)
    assert not crashed(response), (name, fields, response.get_data(as_text=True)[:300])


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    call=calls(),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "conditions",
                "limit",
                "start",
                "sortBy",
                "sortDirection",
                "fields",
                "count",
                "systemTags",
                "userTags",
            ]
        ),
        values,
        max_size=3,
    ),
)
def test_legacy_never_crashes(call, extra):
    name, api, _, fields = call
    message = dict(fields, **extra, session={"uuid": SESSION})
    response = CLIENT.post("/zstack/api/", json={api["message"]: message})
    assert response.status_code == 200
    if response.is_json and response.get_json().get("state") == "Processing":
        response = CLIENT.get("/zstack/api/result/" + response.get_json()["uuid"])
    assert not crashed(response), (name, message, response.get_data(as_text=True)[:300])
