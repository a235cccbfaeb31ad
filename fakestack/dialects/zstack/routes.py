"""Path templates -> APIs, as ZStack's RestServer matches them (reference §1.2).

The kit's route table with ZStack's options: the most specific template wins (per
segment, a literal beats a variable), one trailing slash is ignored, and every API of a
template stays a candidate (``PUT .../actions`` APIs are told apart by the body's
wrapper, in ``dialect._select``).  A Query API also answers ``GET <path>/{uuid}``.
"""

from __future__ import annotations

import re

from ..kit.routing import Router
from .catalog import APIS
from .known_paths import KNOWN_PATHS
from .registry import BINDINGS

_CACHE: tuple[int, Router] | None = None


def route_table() -> Router:
    """Every bound API's path, relative to ``/v1``; targets are API names.  Every other
    path of the real API (``known_paths``) is in the table too, under the method ``*``
    with the target None: a path whose most specific template is one of those is an API
    the fake does not serve, answered as an unknown path (never by a less specific API
    that also matches).  Built once (until a handler is registered after it) and
    shared: a reset rebuilds the dialects, and 1 400 templates are not rebuilt per cloud."""
    global _CACHE
    if _CACHE is not None and _CACHE[0] == len(BINDINGS):
        return _CACHE[1]
    routes = Router(order="specific", trailing_slash="optional")
    served: set[str] = set()
    for name in BINDINGS:
        api = APIS[name]
        for path in (api["path"], api["path"] + "/{uuid}") if name.startswith("Query") else (api["path"],):
            routes.add(api["method"], path, name)
            served.add(_shape(path))
    for path in KNOWN_PATHS:
        if _shape(path) not in served:
            routes.add(UNSERVED, path.replace("{}", "{var}"), None)
    _CACHE = (len(BINDINGS), routes)
    return routes


UNSERVED = "*"  # the method of the real API's paths the fake does not serve


def _shape(path: str) -> str:
    return re.sub(r"\{[^}/]*\}", "{}", path)
