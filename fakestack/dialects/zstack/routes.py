"""Path templates -> APIs, as ZStack's RestServer matches them (reference §1.2).

The kit's route table with ZStack's options: the most specific template wins (per
segment, a literal beats a variable), one trailing slash is ignored, and every API of a
template stays a candidate (``PUT .../actions`` APIs are told apart by the body's
wrapper, in ``dialect._select``).  A Query API also answers ``GET <path>/{uuid}``.
"""
from __future__ import annotations

from ..kit.routing import Router
from .catalog import APIS
from .registry import BINDINGS


def route_table() -> Router:
    """Every bound API's path, relative to ``/v1``; targets are API names."""
    routes = Router(order="specific", trailing_slash="optional")
    for name in BINDINGS:
        api = APIS[name]
        routes.add(api["method"], api["path"], name)
        if name.startswith("Query"):
            routes.add(api["method"], api["path"] + "/{uuid}", name)
    return routes
