"""The one route table of every dialect and of the admin API.

A ``Router`` maps ``(method, path)`` to what a route names (its ``target``: an API name,
an operation, a handler) and answers, in one place, one of:

* the route and the path's placeholders (``{name}`` matches one non-empty segment);
* the methods the path allows (405: the path is known, the method is not);
* a redirect (the path with its trailing slash toggled, when only that one is known);
* nothing (404).

Each API's quirks are options of the table, not code of its own:

``order``
    ``"table"``: the first route added wins (Starlette, vAPI REST, the admin API);
    ``"specific"``: per segment, a literal beats a placeholder, then the first added
    (ZStack's RestServer).
``trailing_slash``
    ``"strict"``: ``/a/`` is another path than ``/a``; ``"optional"``: one trailing
    slash is ignored (ZStack); ``"redirect"``: strict, and an unknown path whose twin
    with the trailing slash toggled is known redirects there (Starlette's 307).
``head_as_get``
    a ``HEAD`` request is served by the ``GET`` route.
``collapse_slashes``
    empty segments are ignored (``//a/`` is ``/a``: the admin API).
``prefix``
    the table's paths are relative to it (vSphere's ``/rest`` and ``/api`` tables; the
    admin API's ``/_fakestack``); a path outside it matches nothing.

Several routes may share a path and a method (ZStack's ``PUT .../actions`` APIs, vAPI's
``?action=`` operations): ``matches`` lists them all, in order, for the dialect to pick.

A path is tried only against the patterns with its number of segments and its first
segment (or a placeholder there), so a request costs a handful of regex matches however
many routes the table holds.  Why not werkzeug's ``routing.Map``: measured in
``benchmarks/bench_routing.py`` (this table answers in a fraction of Map's time, which
also builds a ``MapAdapter`` per request), and Map returns one route where ZStack and
vAPI need every route of a path, and redirects with 308 where Starlette uses 307.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

Order = Literal["table", "specific"]
TrailingSlash = Literal["strict", "optional", "redirect"]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    target: Any
    names: tuple[str, ...]  # placeholder names, in path order
    seq: int = field(compare=False)


@dataclass
class _Shape:
    """Every route of one pattern shape (placeholders unnamed)."""

    key: str
    source: str  # the regex, compiled on the first match it is tried for
    rank: tuple  # sort key: (specificity, seq) or (seq,)
    routes: list[Route] = field(default_factory=list)

    # Compiled when first needed: a table of 1 700 shapes (ZStack's) would spend tens of
    # milliseconds compiling at start, and a request tries only the few of its bucket.
    @cached_property
    def regex(self) -> re.Pattern:
        return re.compile(self.source)


@dataclass
class Match:
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()  # path known, method not: the routes' methods, in order
    redirect: str | None = None  # the path (within the table) to redirect to

    @property
    def target(self) -> Any:
        return None if self.route is None else self.route.target


def allow_header(methods: tuple[str, ...] | list[str], *, head: bool = True) -> list[str]:
    """The methods of an ``Allow`` header, ``HEAD`` after ``GET`` when GET serves HEAD."""
    allowed: list[str] = []
    for method in methods:
        for name in ("GET", "HEAD") if head and method == "GET" else (method,):
            if name not in allowed:
                allowed.append(name)
    return allowed


class Router:
    def __init__(
        self,
        *,
        order: Order = "table",
        trailing_slash: TrailingSlash = "strict",
        head_as_get: bool = False,
        collapse_slashes: bool = False,
        prefix: str = "",
    ) -> None:
        self.order = order
        self.trailing_slash = trailing_slash
        self.head_as_get = head_as_get
        self.collapse_slashes = collapse_slashes
        self.prefix = prefix.rstrip("/")
        self._routes: list[Route] = []
        self._shapes: dict[str, _Shape] = {}
        # (segment count, first segment or None for a placeholder) -> shapes, in order
        self._index: dict[tuple[int, str | None], list[_Shape]] = {}
        # (segment count, first segment or None) -> the shapes a path can match there, by
        # its last segment: {literal: shapes}, and the shapes for any other last segment
        # (built from _index when first asked, dropped when a route is added)
        self._by_last: dict[tuple[int, str | None], tuple[dict[str, list[_Shape]], list[_Shape]]] = {}
        self._seq = 0
        # Changes with every route added or removed: a caller that keeps what a path
        # matched keys it by this (``version``).
        self._version = 0

    @property
    def version(self) -> int:
        """A number that changes whenever a route is added or removed."""
        return self._version

    # -- building ----------------------------------------------------------------------
    def add(self, method: str, pattern: str, target: Any) -> Route:
        pattern = self.normalise(pattern)
        self._seq += 1
        self._version += 1
        route = Route(method.upper(), pattern, target, tuple(_PLACEHOLDER.findall(pattern)), self._seq)
        key = _PLACEHOLDER.sub("{}", pattern)
        shape = self._shapes.get(key)
        if shape is None:
            self._by_last.clear()
            segments = key[1:].split("/")
            regex = "^/" + "/".join("([^/]+)" if s == "{}" else re.escape(s) for s in segments) + "$"
            rank: tuple = (self._seq,)
            if self.order == "specific":
                rank = (tuple(1 if s == "{}" else 0 for s in segments), self._seq)
            shape = _Shape(key, regex, rank)
            self._shapes[key] = shape
            first = None if segments[0] == "{}" else segments[0]
            bucket = self._index.setdefault((len(segments), first), [])
            bucket.append(shape)
            bucket.sort(key=lambda s: s.rank)
        shape.routes.append(route)
        self._routes.append(route)
        return route

    def remove(self, method: str, pattern: str) -> None:
        """Drop the routes of ``method`` and ``pattern``."""
        method, pattern = method.upper(), self.normalise(pattern)
        self._version += 1
        self._routes = [r for r in self._routes if not (r.method == method and r.pattern == pattern)]
        shape = self._shapes.get(_PLACEHOLDER.sub("{}", pattern))
        if shape is not None:
            shape.routes = [r for r in shape.routes if not (r.method == method and r.pattern == pattern)]

    def find(self, method: str, pattern: str) -> Route | None:
        """The first route added for exactly ``method`` and ``pattern``."""
        method, pattern = method.upper(), self.normalise(pattern)
        return next((r for r in self._routes if r.method == method and r.pattern == pattern), None)

    def __iter__(self) -> Iterator[Route]:
        return iter(list(self._routes))

    def __len__(self) -> int:
        return len(self._routes)

    def normalise(self, path: str) -> str:
        """A path as the table compares it: relative to the prefix, slashes per options."""
        if self.collapse_slashes:
            return "/" + "/".join(part for part in path.split("/") if part)
        if self.trailing_slash == "optional" and len(path) > 1 and path.endswith("/"):
            return path[:-1]
        return path

    # -- matching ----------------------------------------------------------------------
    def relative(self, path: str) -> str | None:
        """``path`` without the table's prefix (None: outside it)."""
        prefix = self.prefix
        if not prefix:
            return path
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
        return None

    def candidates(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        """Every route whose pattern matches ``path`` (within the table), whatever its
        method, in the table's order."""
        return [(route, dict(zip(route.names, values))) for route, values in self.candidate_values(path)]

    def candidate_values(self, path: str) -> list[tuple[Route, tuple[str, ...]]]:
        """``candidates`` with each route's placeholder values as a tuple (in the order of
        ``route.names``): for a caller that builds the params of the one route it picks
        (fifty ZStack ``PUT .../actions`` APIs share a path)."""
        path = self.normalise(path)
        if not path.startswith("/"):
            return []
        segments = path[1:].split("/")
        count = len(segments)
        first = segments[0] if (count, segments[0]) in self._index else None
        table = self._by_last.get((count, first))
        if table is None:
            table = self._by_last[(count, first)] = self._last_segment_table(count, first)
        literal, other = table
        shapes = literal.get(segments[-1], other)
        if not shapes:
            return []
        found = []
        for shape in shapes:
            m = shape.regex.match(path)
            if m is not None:
                values = m.groups()
                for route in shape.routes:
                    found.append((route, values))
        return found

    def _last_segment_table(
        self, count: int, first: str | None
    ) -> tuple[dict[str, list[_Shape]], list[_Shape]]:
        """The shapes of ``count`` segments a path starting with ``first`` (None: with no
        first segment of its own in the table) can match, in order, split by their last
        segment: a path is then tried only on the shapes whose last segment is its own or a
        placeholder (a handful of regex matches where a busy bucket holds fifty)."""
        shapes = list(self._index.get((count, first), [])) if first is not None else []
        loose = self._index.get((count, None))
        if loose:
            shapes = sorted(shapes + loose, key=lambda s: s.rank)
        last = [s.key.rsplit("/", 1)[-1] for s in shapes]
        other = [s for s, end in zip(shapes, last) if end == "{}"]
        literal = {
            end: [s for s, e in zip(shapes, last) if e in (end, "{}")] for end in set(last) if end != "{}"
        }
        return literal, other

    def _serves(self, route: Route, method: str) -> bool:
        return route.method == method or (self.head_as_get and method == "HEAD" and route.method == "GET")

    def matches(self, method: str, path: str) -> list[tuple[Route, dict[str, str]]]:
        """Every route of ``method`` for ``path`` (within the table), in order."""
        return [(r, p) for r, p in self.candidates(path) if self._serves(r, method)]

    def match(self, method: str, path: str) -> Match:
        """The first route for ``method`` and ``path`` (a full path: the prefix is
        stripped here), or the allowed methods, or a redirect, or nothing."""
        relative = self.relative(path)
        if relative is None:
            return Match()
        found = self.candidates(relative)
        allowed: list[str] = []
        for route, params in found:
            if self._serves(route, method):
                return Match(route, params)
            if route.method not in allowed:
                allowed.append(route.method)
        if allowed:
            return Match(allowed=tuple(allowed))
        if self.trailing_slash == "redirect" and relative != "/":
            other = relative.rstrip("/") if relative.endswith("/") else relative + "/"
            if other and self.candidates(other):
                return Match(redirect=self.prefix + other)
        return Match()
