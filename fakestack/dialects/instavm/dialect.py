"""The InstaVM dialect: one request's way through FastAPI's order of checks.

route (404 / 405 / 307) -> body decoding (422 json_invalid, 400) -> authentication (401)
-> query, path and body validation, all items in one 422 -> the handler.

The handler's ``before()`` hook settles InstaVM's records (their time-driven changes)
and adopts the topology's VMs at the first InstaVM request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from fakestack.model.errors import DomainError

from ..kit.cloud import DialectCloud
from ..kit.routing import allow_header
from .auth import check_key, configured_keys, presented_keys
from .errors import (
    HttpError,
    RequestValidationFailed,
    http_error,
    method_not_allowed,
    not_implemented,
    route_not_found,
)
from .mount import PREFIXES, SHARED_PREFIXES
from .render import json_response
from .service import SETTLE_KEY, settler_for

if TYPE_CHECKING:
    from .routes import Endpoint

NAME = "instavm"


@dataclass
class Call:
    """A validated request, as a handler receives it."""

    request: Request
    endpoint: Endpoint
    path: dict[str, str]
    query: dict[str, Any]
    body: Any  # the validated pydantic model, or None
    raw_body: Any  # the decoded JSON (for echoing inputs in errors)


class InstaVMDialect:
    name = NAME
    openapi_path = "/openapi.json"  # its OpenAPI 3.1 document
    prefixes = PREFIXES

    def __init__(self, cloud: DialectCloud, handlers=None) -> None:
        self.cloud = cloud
        if handlers is None:
            from .handlers import Handlers

            handlers = Handlers(cloud)
        self.handlers = handlers

    @property
    def state(self) -> dict:
        return self.cloud.dialect_state(NAME)

    def accepts(self, request: Request) -> bool:
        """``/v1/volumes`` is ZStack's path too: InstaVM takes it only with an InstaVM
        credential (``X-API-Key`` or a Bearer token); ZStack's requests (an OAuth session,
        an access key, or none) go on to ZStack."""
        path = request.path
        if not any(path == p or path.startswith(p + "/") for p in SHARED_PREFIXES):
            return True
        return bool(presented_keys(request.headers))

    def default_credentials(self) -> dict:
        """Shown by ``fakestack serve``: the first key the cloud accepts."""
        return {"api_key": configured_keys(self.state)[0]}

    def payload_too_large(self, request: Request, limit: int) -> Response:
        """FastAPI's HTTPException shape."""
        return HttpError(413, f"Request body exceeds the limit of {limit} bytes").to_response()

    def handle(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except HttpError as exc:
            return exc.to_response()
        except Exception as exc:  # a bug of the fake
            return self.internal_error(request, exc)
        finally:
            # The request may have added or changed records: the cloud's settler looks
            # again at its next call (after a tick, before the next request).
            settler_for(self.cloud).forget()

    def internal_error(self, request: Request, exc: Exception) -> Response:
        """What a FastAPI server answers for an unhandled exception (Starlette's
        ``ServerErrorMiddleware``): 500, ``text/plain``, ``Internal Server Error``."""
        return Response(b"Internal Server Error", status=500, mimetype="text/plain")

    def _handle(self, request: Request) -> Response:
        # The route table and the request models load at the first request, not when the
        # app mounts the dialect (``fakestack serve`` answers sooner).
        from .routes import resolve
        from .validation import MISSING, read_body, validate_body

        if request.path == "/openapi.json" and request.method in ("GET", "HEAD"):
            from .openapi import openapi_document

            return json_response(openapi_document())
        match = resolve(request.method, request.path)
        if match.redirect is not None:
            location = request.host_url.rstrip("/") + match.redirect
            query = request.query_string.decode("latin-1")
            if query:
                location += "?" + query
            redirect = Response(b"", status=307, headers={"Location": location})
            del redirect.headers["Content-Type"]
            return redirect
        if match.allowed:
            raise method_not_allowed(allow_header(match.allowed))
        endpoint = match.target
        if endpoint is None:
            raise route_not_found()
        request.environ["fakestack.operation"] = endpoint.handler  # named in recordings

        raw_body = MISSING
        if endpoint.body is not None:
            raw_body = read_body(request.get_data(), request.headers.get("Content-Type"))
        if endpoint.auth == "header":
            check_key(presented_keys(request.headers), configured_keys(self.state))

        errors: list[dict[str, Any]] = []
        query: dict[str, Any] = {}
        for param in endpoint.query:
            values = request.args.getlist(param.name)
            value, items = param.validate("query", values[-1] if values else None)
            query[param.name] = value
            errors.extend(items)
        body = None
        if endpoint.body is not None:
            body, items = validate_body(endpoint.body, raw_body)
            errors.extend(items)
        if errors:
            raise RequestValidationFailed(errors)

        if endpoint.handler == "not_implemented":
            raise not_implemented(request.method, request.path)
        call = Call(
            request=request,
            endpoint=endpoint,
            path=match.params,
            query=query,
            body=body,
            raw_body=None if raw_body is MISSING else raw_body,
        )
        before = getattr(self.handlers, "before", None)
        try:
            if before is not None:
                before()
            result = getattr(self.handlers, endpoint.handler)(call)
        except DomainError as exc:
            raise http_error(exc, body=call.raw_body) from None
        if isinstance(result, Response):
            return result
        return json_response(result)


def create_dialect(cloud: DialectCloud) -> InstaVMDialect:
    """The dialect as the app mounts it. Its time-driven work (asynchronous boots, clean-up
    of a clone's snapshot, lifetime expiry) runs before its own requests and from a
    ``cloud.on_time`` listener when it comes due, so a bare ``cloud.tick()`` applies it
    without any InstaVM request."""
    cloud.dialect_state(NAME)  # exists from mounting on: a tick never adds it to snapshots
    cloud.on_time(settler_for(cloud), key=SETTLE_KEY)
    return InstaVMDialect(cloud)
