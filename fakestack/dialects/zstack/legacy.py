"""ZStack's legacy message endpoint ``/zstack/api`` (reference §1.9), on the same handlers.

``POST /zstack/api/`` with ``{"<message class>": {fields..., "session": {"uuid": ...}}}``
answers a ``RestAPIResponse`` (always HTTP 200 for API outcomes): sync messages at once
with ``state: Done`` and ``result`` (a JSON string keyed by the reply class), async ones
with ``state: Processing`` and a ``uuid`` to read from ``/zstack/api/result/{uuid}``.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from ..kit.json_input import JsonInputError, parse_json
from . import jobs
from .catalog import APIS
from .dates import format_date
from .errors import ApiError, TransportError, text_response
from .params import java_text, normalize, param_specs, verify_types
from .query import spec_from_legacy
from .registry import BINDINGS, Call
from .render import dumps, json_response

_RESULT_PATH = re.compile(r"^/zstack/api/result/([^/]+)/?$")

GENERIC_REPLY = "org.zstack.header.message.APIReply"
GENERIC_EVENT = "org.zstack.header.message.APIEvent"

# Reply classes whose names do not follow API<Name>Reply / API<Name>Event.
REPLY_CLASSES = {
    "LogInByAccount": "org.zstack.header.identity.APILogInReply",
}

# REST body keys that differ from the reply class's raw Java fields.
RAW_FIELD_NAMES = {
    "ValidateSession": {"valid": "validSession"},
}


def reply_class(name: str) -> str:
    if name in REPLY_CLASSES:
        return REPLY_CLASSES[name]
    api = APIS[name]
    package, _, simple = api["message"].rpartition(".")
    base = simple[:-3] if simple.endswith("Msg") else simple
    return f"{package}.{base}{'Event' if api['async'] else 'Reply'}"


def api_name_for(message_class: str) -> str | None:
    simple = message_class.rsplit(".", 1)[-1]
    if simple.startswith("API"):
        simple = simple[3:]
    if simple.endswith("Msg"):
        simple = simple[:-3]
    return simple if simple in BINDINGS else None


class LegacyEndpoint:
    def __init__(self, dialect) -> None:
        self.dialect = dialect

    def handle(self, request: Request) -> Response:
        result = _RESULT_PATH.match(request.path)
        if result:
            if request.method not in ("GET", "PUT", "HEAD"):
                raise TransportError(
                    405, f"The method[{request.method}] is not allowed for the path[{request.path}]"
                )
            return self._result(result.group(1))
        if request.path.rstrip("/") != "/zstack/api":
            raise TransportError(404, f"no api mapping to {request.path}")
        if request.method not in ("POST", "PUT"):
            raise TransportError(
                405, f"The method[{request.method}] is not allowed for the path[{request.path}]"
            )
        return self._message(request)

    # -- helpers -----------------------------------------------------------------------
    def _envelope(
        self, *, uuid: str | None, created: float, finished: float | None, result: dict | None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if uuid is not None:
            data["uuid"] = uuid
        data["state"] = "Done" if result is not None else "Processing"
        data["createdDate"] = format_date(created)
        if finished is not None:
            data["finishedDate"] = format_date(finished)
        if result is not None:
            data["result"] = dumps(result)
        return data

    def _reply(self, name: str, ok: bool, data: dict | None, stage: str) -> dict:
        if ok:
            body = dict(data or {})
            body.pop("schema", None)
            for rest_key, raw_key in RAW_FIELD_NAMES.get(name, {}).items():
                if rest_key in body:
                    body[raw_key] = body.pop(rest_key)
            body["success"] = True
            return {reply_class(name): body}
        if stage == "interceptor":
            cls = GENERIC_EVENT if APIS[name]["async"] else GENERIC_REPLY
        else:
            cls = reply_class(name)
        return {cls: {"success": False, "error": data}}

    def _message(self, request: Request) -> Response:
        raw = request.get_data(cache=True)
        try:
            body = parse_json(raw) if raw.strip() else None
        except JsonInputError as exc:
            return text_response(f"Unable to decode the API message: {exc}", 200)
        if not isinstance(body, dict) or not body:
            return text_response(
                "Unable to decode the API message: the body must be a JSON object keyed by the message class",
                200,
            )
        message_class, fields = next(iter(body.items()))
        name = api_name_for(message_class)
        if name is None:
            return text_response(f"Unable to deserialize class {message_class}", 200)
        if fields is None:
            fields = {}
        if not isinstance(fields, dict):
            return text_response(
                f"Unable to deserialize class {message_class}: the message must be a JSON object", 200
            )
        fields = dict(fields)
        session = fields.pop("session", None)
        if session is not None and not isinstance(session, dict):
            return text_response(
                f"Unable to deserialize class {message_class}: [session] field is "
                f"excepted a SessionInventory, but was [{java_text(session)}].",
                200,
            )
        session_uuid = session.get("uuid") if isinstance(session, dict) else None
        if session_uuid is not None and not isinstance(session_uuid, str):
            return text_response(
                f"Unable to deserialize class {message_class}: [session.uuid] field is "
                f"excepted a string, but was [{java_text(session_uuid)}].",
                200,
            )
        api = APIS[name]
        request.environ["fakestack.operation"] = name  # named in recordings
        if not api["async"] and name.startswith(("Query", "Get", "Validate")):
            request.environ["fakestack.mutating"] = False  # a read: no state-file write
        specs = param_specs(api)
        tags = {}
        for key in ("systemTags", "userTags"):
            value = fields.pop(key, None)
            if value is not None and not isinstance(value, list):
                return text_response(
                    f"Unable to deserialize class {message_class}: [{key}] must be a list", 200
                )
            tags[key] = [str(t) for t in value or []]
        system_tags, user_tags = tags["systemTags"], tags["userTags"]
        if name.startswith("Query"):
            query_fields = {
                k: fields.pop(k)
                for k in list(fields)
                if k
                in (
                    "conditions",
                    "limit",
                    "start",
                    "count",
                    "replyWithCount",
                    "groupBy",
                    "filterName",
                    "sortBy",
                    "sortDirection",
                    "fields",
                )
            }
        try:
            verify_types(fields, specs)
        except TransportError as exc:
            return text_response(f"Unable to deserialize class {message_class}: {exc.text}", 200)
        fields = normalize(fields, specs)
        call = Call(
            dialect=self.dialect,
            name=name,
            api=api,
            fields=fields,
            system_tags=system_tags,
            user_tags=user_tags,
            session_uuid=session_uuid,
        )
        dialect = self.dialect
        now = dialect.now()
        if name.startswith("Query"):
            try:
                call.query = spec_from_legacy(query_fields)
            except ApiError as exc:
                reply = self._reply(name, False, exc.error.to_dict(), exc.stage)
                return json_response(self._envelope(uuid=None, created=now, finished=now, result=reply))
        outcome = dialect.execute(call)
        if not api["async"]:
            reply = self._reply(
                name, outcome.ok, outcome.payload if outcome.ok else outcome.error, outcome.stage
            )
            return json_response(self._envelope(uuid=None, created=now, finished=dialect.now(), result=reply))
        uuid = dialect.new_uuid()
        jobs.record(
            dialect.state,
            uuid,
            api=name,
            now=now,
            model_job=call.model_job,
            ok=outcome.ok,
            payload=outcome.payload,
            error=outcome.error,
            stage=outcome.stage,
            cloud=dialect.cloud,
        )
        return json_response(self._envelope(uuid=uuid, created=now, finished=None, result=None))

    def _result(self, uuid: str) -> Response:
        dialect = self.dialect
        now = dialect.now()
        job = jobs.lookup(dialect.state, uuid, now, dialect.cloud)
        if job is None:
            return text_response(f"No api result[uuid:{uuid}] found", 404)
        if jobs.is_running(job, now, dialect.cloud):
            return json_response(
                self._envelope(uuid=uuid, created=job["createdAt"], finished=None, result=None)
            )
        ok, data = jobs.outcome(job)
        reply = self._reply(job["api"], ok, data, job["stage"])
        finished = jobs.end_of(job, dialect.cloud)
        return json_response(
            self._envelope(uuid=uuid, created=job["createdAt"], finished=finished, result=reply)
        )
