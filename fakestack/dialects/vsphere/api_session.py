"""``com.vmware.cis.session``: create, get, delete (reference §2)."""

from __future__ import annotations

from .registry import LOGIN, operation
from .specs import NoInput
from .structures import SESSION_INFO, SESSION_TOKEN
from .vapi_types import VOID

SERVICE = "com.vmware.cis.session"


@operation(SERVICE, "create", NoInput, SESSION_TOKEN, auth=LOGIN)
def create(call, inp):
    # The surface has already checked the credentials and opened the session.
    return call.token


@operation(SERVICE, "get", NoInput, SESSION_INFO)
def get(call, inp):
    return call.sessions.info(call.token)


@operation(SERVICE, "delete", NoInput, VOID)
def delete(call, inp):
    call.sessions.logout(call.token)
    return None
