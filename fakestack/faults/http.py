"""Faults over HTTP: dropping a client's connection (server mode) and the fault routes
of the admin API (``/_fakestack/faults``), which ``fakestack.admin`` mounts."""

from __future__ import annotations

import socket

from pydantic import ValidationError

from ..dialects.kit.json_input import JsonInputError, parse_json
from ..model import errors as domain
from .injection import DropConnection, add, clear, list_rules, remove
from .plan import FaultRule, validation_errors


class ConnectionDropped(ConnectionAbortedError):
    """What an in-process caller sees when a rule dropped its connection."""


# -- server mode -----------------------------------------------------------------------
def abort_connection(environ: dict, exc: BaseException | None = None):
    """Close the client's socket without a response (werkzeug's server exposes it as
    ``werkzeug.socket``), then raise ``ConnectionDropped``, which werkzeug's server treats
    as a dropped connection (nothing written) and in-process callers see as an error."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionDropped(str(exc) if exc else "connection dropped by a fault rule")


def connection_dropping(app):
    """WSGI middleware: turn ``DropConnection`` into a closed socket (see ``abort_connection``)."""

    def wrapped(environ, start_response):
        try:
            return app(environ, start_response)
        except DropConnection as exc:
            abort_connection(environ, exc)

    wrapped.__wrapped__ = app
    return wrapped


# -- HTTP admin API --------------------------------------------------------------------
def handle_admin_request(cloud, method: str, subpath: str, body: bytes | None):
    """``/_fakestack/faults[/<id>]``: returns ``(status, json_data)``.

    GET lists the rules with hit counts; POST adds a rule, a list or a plan (201);
    DELETE clears (or removes one rule by id).  A bad plan answers 400 with every field
    at fault: ``{"error": "invalid_fault_plan", "message": ..., "errors": [{"field", "message"}]}``.
    """
    subpath = subpath.strip("/")
    with cloud.lock:
        if method == "GET":
            if subpath:
                for rule in list_rules(cloud):
                    if rule["id"] == subpath:
                        return 200, rule
                return 404, {"error": "not_found", "message": f"no fault rule [{subpath}]"}
            return 200, {"rules": list_rules(cloud)}
        if method == "DELETE":
            if subpath:
                try:
                    remove(cloud, subpath)
                except domain.NotFound:
                    return 404, {"error": "not_found", "message": f"no fault rule [{subpath}]"}
                return 200, {"rules": list_rules(cloud)}
            clear(cloud)
            return 200, {"rules": []}
        if method == "POST" and not subpath:
            try:
                data = parse_json(body or b"null")
            except JsonInputError as exc:  # not JSON, too deep, NaN, unpaired surrogates
                return 400, {
                    "error": "invalid_json",
                    "message": f"the body is not JSON: {exc}",
                    "errors": [{"field": "body", "message": str(exc)}],
                }
            if not isinstance(data, (dict, list)):
                return 400, {
                    "error": "invalid_fault_plan",
                    "message": 'send a rule, a list of rules or {"rules": [...]}',
                    "errors": [{"field": "body", "message": "must be an object or a list"}],
                }
            try:
                added = add(cloud, data)
            except ValidationError as exc:
                errors = validation_errors(exc)
                if isinstance(data, list):
                    errors = _list_errors(data, exc)
                return 400, {
                    "error": "invalid_fault_plan",
                    "message": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                    "errors": errors,
                }
            except domain.Conflict as exc:
                return 409, {"error": "conflict", "message": exc.message}
            ids = {r.id for r in added}
            return 201, {
                "added": [r for r in list_rules(cloud) if r["id"] in ids],
                "rules": list_rules(cloud),
            }
        return 405, {
            "error": "method_not_allowed",
            "message": f"{method} is not allowed here (GET, POST, DELETE)",
        }


def _list_errors(data: list, exc: ValidationError) -> list[dict]:
    # parse_rules validates a list item by item; name the item's index.
    for i, item in enumerate(data):
        try:
            FaultRule.model_validate(item) if not isinstance(item, FaultRule) else item
        except ValidationError as item_exc:
            return validation_errors(item_exc, prefix=f"{i}.")
    return validation_errors(exc)


# -- the routes the admin API mounts ------------------------------------------------------
def admin_handler(call):
    """Fault rules with hit counts (GET), add (POST), clear or remove one (DELETE)."""
    status, data = handle_admin_request(
        call.cloud, call.request.method, call.params.get("rule_id", ""), call.request.get_data(cache=True)
    )
    return data, status


# ``(method, path under /_fakestack, handler, mutating, summary)``, mounted by fakestack.admin.
ADMIN_ROUTES = (
    ("GET", "/faults", admin_handler, False, "The fault plan: every rule with its calls and hits."),
    ("POST", "/faults", admin_handler, True, 'Add a fault rule, a list of rules or {"rules": [...]} (201).'),
    ("DELETE", "/faults", admin_handler, True, "Remove every fault rule (hung jobs are released)."),
    ("GET", "/faults/{rule_id}", admin_handler, False, "One fault rule with its calls and hits."),
    ("DELETE", "/faults/{rule_id}", admin_handler, True, "Remove one fault rule."),
)
