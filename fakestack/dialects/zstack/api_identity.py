"""Login, sessions, access keys, version (reference §2)."""

from __future__ import annotations

from . import sessions
from .errors import resource_not_found
from .query import QuerySource, run_query, schema_for
from .registry import Call, api

ACCESS_KEY_COLLECTION = QuerySource(
    class_name="org.zstack.header.identity.AccessKeyInventory",
    fields=(
        "uuid",
        "description",
        "accountUuid",
        "userUuid",
        "AccessKeyID",
        "AccessKeySecret",
        "state",
        "createDate",
        "lastOpDate",
    ),
)

VERSION = "5.2.1"


@api("LogInByAccount")
def log_in_by_account(call: Call) -> dict:
    dialect = call.dialect
    session = sessions.log_in(
        dialect.state,
        call.fields["accountName"],
        call.fields["password"],
        dialect.now(),
        dialect.new_uuid,
    )
    return {"inventory": sessions.session_inventory(session)}


@api("LogOut")
def log_out(call: Call) -> dict:
    uuid = call.fields.get("sessionUuid") or call.session_uuid
    sessions.log_out(call.dialect.state, uuid)
    return {}


@api("ValidateSession")
def validate_session(call: Call) -> dict:
    dialect = call.dialect
    return {"valid": sessions.is_valid(dialect.state, call.fields["sessionUuid"], dialect.now())}


@api("RenewSession")
def renew_session(call: Call) -> dict:
    dialect = call.dialect
    duration = call.fields.get("duration") or sessions.SESSION_TIMEOUT
    session = sessions.renew(dialect.state, call.fields["sessionUuid"], float(duration), dialect.now())
    return {"inventory": sessions.session_inventory(session)}


@api("GetVersion")
def get_version(call: Call) -> dict:
    return {"version": VERSION, "success": True}  # fieldsTo={"all"}: "success" included


@api("CreateAccessKey")
def create_access_key(call: Call) -> dict:
    dialect = call.dialect
    key = sessions.create_access_key(dialect.state, call.fields, dialect.now(), dialect.new_uuid)
    return {"inventory": sessions.access_key_inventory(key)}


@api("QueryAccessKey")
def query_access_key(call: Call) -> dict:
    sessions.ensure_defaults(call.dialect.state)
    rows = [sessions.access_key_inventory(k) for k in call.dialect.state["accessKeys"].values()]
    reply = run_query(rows, call.query, ACCESS_KEY_COLLECTION)
    call.schema = schema_for(reply.get("inventories", []), ACCESS_KEY_COLLECTION)
    return reply


@api("DeleteAccessKey")
def delete_access_key(call: Call) -> dict:
    keys = call.dialect.state["accessKeys"]
    for key_id, key in list(keys.items()):
        if key["uuid"] == call.fields["uuid"]:
            del keys[key_id]
            return {}
    raise resource_not_found("uuid", call.fields["uuid"], "AccessKeyVO")
