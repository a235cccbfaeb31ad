"""Accounts, sessions (sliding expiry on the cloud's clock) and access keys (reference §2).

Everything lives in ``cloud.dialect_state("zstack")`` so that it survives snapshot/restore.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from typing import Any

from .dates import format_date
from .errors import ApiError, TransportError, error_code

ADMIN_ACCOUNT_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
DEFAULT_USER_NAME = "user"
DEFAULT_USER_UUID = "5b2c0b6e1d7a4f0c9e3a8d4b6f1e2a7c"
SESSION_TIMEOUT = 7200.0  # identity.session.timeout
MAX_CONCURRENT_SESSIONS = 500  # identity.session.maxConcurrent
DATE_SKEW = 15 * 60.0


def sha512_hex(text: str) -> str:
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


def ensure_defaults(state: dict) -> None:
    accounts = state.setdefault("accounts", {})
    if not accounts:
        accounts["admin"] = {"uuid": ADMIN_ACCOUNT_UUID, "password": sha512_hex("password")}
    state.setdefault("sessions", {})
    state.setdefault("accessKeys", {})
    if "users" not in state:  # one user of the default account: user / password
        state["users"] = {
            DEFAULT_USER_NAME: {
                "uuid": DEFAULT_USER_UUID,
                "accountUuid": ADMIN_ACCOUNT_UUID,
                "password": sha512_hex("password"),
            }
        }


def set_account(state: dict, name: str, password: str, uuid: str | None = None) -> None:
    """Add an account or change its password (``password`` in clear; stored as sha512 hex)."""
    ensure_defaults(state)
    existing = state["accounts"].get(name, {})
    state["accounts"][name] = {
        "uuid": uuid or existing.get("uuid") or ADMIN_ACCOUNT_UUID,
        "password": sha512_hex(password),
    }


def set_user(state: dict, name: str, password: str, account: str = "admin", uuid: str | None = None) -> None:
    """Add a user to an account (by name) or change its password (in clear; stored as
    sha512 hex).  Users are named per account; this fake keeps one name space."""
    ensure_defaults(state)
    owner = state["accounts"].get(account)
    if owner is None:
        raise KeyError(f"no account named {account!r}")
    existing = state["users"].get(name, {})
    state["users"][name] = {
        "uuid": uuid or existing.get("uuid") or hashlib.md5(f"user:{account}:{name}".encode()).hexdigest(),
        "accountUuid": owner["uuid"],
        "password": sha512_hex(password),
    }


def session_expired() -> ApiError:
    return ApiError(error_code("ID.1001", "Session expired"), stage="interceptor")


def session_inventory(session: dict) -> dict[str, Any]:
    return {
        "uuid": session["uuid"],
        "accountUuid": session["accountUuid"],
        "userUuid": session["userUuid"],
        "userType": session.get("userType", "AccountVO"),
        "expiredDate": format_date(session["expiresAt"]),
        "createDate": format_date(session["createdAt"]),
    }


def _live_sessions(state: dict, now: float) -> list[dict]:
    return [s for s in state["sessions"].values() if s["expiresAt"] > now]


def log_in(state: dict, account_name: str, password: str, now: float, new_uuid) -> dict:
    ensure_defaults(state)
    account = state["accounts"].get(account_name)
    if account is None or account["password"] != password:
        raise ApiError(error_code("ID.1000", "wrong account name or password"))
    return _open_session(state, account["uuid"], account["uuid"], "AccountVO", now, new_uuid)


def log_in_user(
    state: dict,
    user_name: str,
    password: str,
    now: float,
    new_uuid,
    *,
    account_name: str | None = None,
    account_uuid: str | None = None,
) -> dict:
    """A session for a user of an account named by name or uuid (ID.1000 when the account,
    the user or the password is wrong)."""
    ensure_defaults(state)
    if account_name is None and account_uuid is None:
        raise ApiError(
            error_code("SYS.1007", "accountName and accountUuid cannot both be null"), stage="interceptor"
        )
    if account_name is not None:
        account = state["accounts"].get(account_name)
        owner = account["uuid"] if account is not None else None
    else:
        owner = account_uuid if any(a["uuid"] == account_uuid for a in state["accounts"].values()) else None
    user = state["users"].get(user_name)
    if owner is None or user is None or user["accountUuid"] != owner or user["password"] != password:
        raise ApiError(error_code("ID.1000", "wrong account or username or password"))
    return _open_session(state, owner, user["uuid"], "UserVO", now, new_uuid)


def _open_session(
    state: dict, account_uuid: str, user_uuid: str, user_type: str, now: float, new_uuid
) -> dict:
    # forget expired sessions so the table does not grow without bound
    for uuid in [u for u, s in state["sessions"].items() if s["expiresAt"] <= now]:
        del state["sessions"][uuid]
    mine = [s for s in _live_sessions(state, now) if s["accountUuid"] == account_uuid]
    if len(mine) >= MAX_CONCURRENT_SESSIONS:
        raise ApiError(
            error_code(
                "ID.1006",
                f"Login sessions hit limit of max allowed concurrent login sessions, max allowed: {MAX_CONCURRENT_SESSIONS}",
            )
        )
    session = {
        "uuid": new_uuid(),
        "accountUuid": account_uuid,
        "userUuid": user_uuid,
        "userType": user_type,
        "createdAt": now,
        "expiresAt": now + SESSION_TIMEOUT,
    }
    state["sessions"][session["uuid"]] = session
    return session


def check_session(state: dict, uuid: str | None, now: float) -> dict:
    """The session for ``uuid``, renewed (sliding expiry); ID.1001 when unknown or expired."""
    ensure_defaults(state)
    if not uuid:
        raise ApiError(error_code("ID.1001", "session uuid is null"), stage="interceptor")
    session = state["sessions"].get(uuid)
    if session is None or session["expiresAt"] <= now:
        raise session_expired()
    session["expiresAt"] = now + SESSION_TIMEOUT
    return session


def is_valid(state: dict, uuid: str, now: float) -> bool:
    ensure_defaults(state)
    session = state["sessions"].get(uuid)
    return session is not None and session["expiresAt"] > now


def log_out(state: dict, uuid: str | None) -> None:
    ensure_defaults(state)
    if uuid:
        state["sessions"].pop(uuid, None)


def renew(state: dict, uuid: str, duration: float, now: float) -> dict:
    session = state["sessions"].get(uuid)
    if session is None or session["expiresAt"] <= now:
        raise session_expired()
    session["expiresAt"] = now + duration
    return session


# -- access keys (§2.5) ---------------------------------------------------------------

_DATE_FORMAT = "%a, %d %b %Y %H:%M:%S"


def _parse_http_date(text: str) -> float:
    """``EEE, dd MMM yyyy HH:mm:ss z``; the zone is ignored (``rest.checkTimeZone=false``)."""
    text = text.strip()
    try:  # a client whose %Z came out empty sends no zone at all
        moment = datetime.strptime(text, _DATE_FORMAT)
    except ValueError:
        head = text.rsplit(" ", 1)
        if len(head) != 2:
            raise
        moment = datetime.strptime(head[0], _DATE_FORMAT)
    return moment.replace(tzinfo=timezone.utc).timestamp()


def sign(secret: str, method: str, date: str, uri: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{method}\n{date}\n{uri}".encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def check_access_key(
    state: dict, authorization: str, date: str | None, method: str, uris: list[str], now: float
) -> dict:
    """Verify ``ZStack <keyId>:<signature>``; returns a pseudo-session for the key's account.

    ``uris`` are the strings accepted as signed URI (the actual path after the context
    path, then the unsubstituted template the Java SDK signs for some calls).
    """
    ensure_defaults(state)
    credentials = authorization[len("ZStack ") :].strip()
    key_id, sep, signature = credentials.partition(":")
    if not sep or not key_id or not signature:
        raise TransportError(400, "accessKey format is 'ZStack AccessKeyId:Signature'")
    if not date:
        raise TransportError(400, "'Date' must be incuded in request header")
    try:
        sent_at = _parse_http_date(date)
    except ValueError:
        raise TransportError(
            400, "'Date' format error, correct format is 'EEE, dd MMM yyyy HH:mm:ss z'"
        ) from None
    key = state["accessKeys"].get(key_id)
    if key is None or key.get("state") != "Enabled":
        raise TransportError(403, f"access key id: {key_id} does not existed or disabled")
    if not any(hmac.compare_digest(sign(key["secret"], method, date, uri), signature) for uri in uris):
        raise TransportError(403, "wrong accessKey signature")
    if abs(now - sent_at) > DATE_SKEW:
        raise TransportError(403, "requestTimeTooSkewed")
    return {"uuid": None, "accountUuid": key["accountUuid"], "userUuid": key["userUuid"], "accessKey": key_id}


def create_access_key(state: dict, fields: dict, now: float, new_uuid) -> dict:
    ensure_defaults(state)
    uuid = fields.get("resourceUuid") or new_uuid()
    key_id = fields.get("AccessKeyID") or new_uuid()[:20]
    secret = fields.get("AccessKeySecret") or (new_uuid() + new_uuid())[:40]
    key = {
        "uuid": uuid,
        "description": fields.get("description"),
        "accountUuid": fields["accountUuid"],
        "userUuid": fields["userUuid"],
        "AccessKeyID": key_id,
        "secret": secret,
        "state": "Enabled",
        "createdAt": now,
    }
    state["accessKeys"][key_id] = key
    return key


def access_key_inventory(key: dict) -> dict[str, Any]:
    data = {
        "uuid": key["uuid"],
        "description": key.get("description"),
        "accountUuid": key["accountUuid"],
        "userUuid": key["userUuid"],
        "AccessKeyID": key["AccessKeyID"],
        "AccessKeySecret": key["secret"],
        "state": key["state"],
        "createDate": format_date(key["createdAt"]),
        "lastOpDate": format_date(key["createdAt"]),
    }
    return {k: v for k, v in data.items() if v is not None}
