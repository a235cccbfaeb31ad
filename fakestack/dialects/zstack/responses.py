"""Wire helpers: ZStack's JSON (compact, integers for longs) and plain-text transport errors."""
from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

JSON_MIMETYPE = "application/json;charset=utf-8"
TEXT_MIMETYPE = "text/plain;charset=utf-8"


# One encoder for every response (json.dumps would build one per call for these options).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(data: Any) -> str:
    return _ENCODER.encode(data)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status=status, content_type=JSON_MIMETYPE)


def text_response(text: str, status: int) -> Response:
    return Response(text, status=status, content_type=TEXT_MIMETYPE)
