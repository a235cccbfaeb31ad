"""The JSON response the app and the admin API answer with (one builder, no imports of
either, so that both can use it without importing each other)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response


def json_response(data: Any, status: int = 200, headers: dict | None = None, *,
                  default: Callable[[Any], Any] | None = None) -> Response:
    """A JSON response; ``default`` renders what ``json`` cannot (as in ``json.dumps``)."""
    return Response(
        json.dumps(data, sort_keys=False, separators=(", ", ": "), default=default),
        status=status,
        headers=headers,
        mimetype="application/json",
    )
