"""Wire helpers: ZStack's JSON (compact, UTF-8, integers for longs) and plain-text
transport errors.  The JSON goes through the kit's one builder."""
from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..kit.responses import JsonStyle

JSON_MIMETYPE = "application/json;charset=utf-8"
TEXT_MIMETYPE = "text/plain;charset=utf-8"

ZSTACK_JSON = JsonStyle(separators=(",", ":"), ensure_ascii=False, content_type=JSON_MIMETYPE)
dumps = ZSTACK_JSON.dumps


def json_response(data: Any, status: int = 200) -> Response:
    return ZSTACK_JSON.response(data, status)


def text_response(text: str, status: int) -> Response:
    return Response(text, status=status, content_type=TEXT_MIMETYPE)
