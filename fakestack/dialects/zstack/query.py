"""ZStack's query language over lists of inventory dicts (reference §3, §1.9).

REST ``q=`` strings and legacy ``conditions`` both become :class:`Condition` objects; a
:class:`QuerySpec` adds paging, sorting, field selection and counting.  Matching follows
SQL: a comparison against a missing (null) value is false, and a condition on a nested list
(``vmNics.ip``) or a joined resource (``host.managementIp``) holds when *any* related row
matches, as ZStack's subqueries do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler query_args uses

from .dates import format_date, parse_date
from .errors import ApiError, TransportError, error_code
from .params import java_text

# REST operators, in the order the server tests them (first hit wins).
REST_OPERATORS: tuple[tuple[str, str], ...] = (
    ("!=", "!="),
    (">=", ">="),
    ("<=", "<="),
    ("!?=", "not in"),
    ("!~=", "not like"),
    ("~=", "like"),
    ("?=", "in"),
    ("=", "="),
    (">", ">"),
    ("<", "<"),
    ("is null", "is null"),
    ("not null", "is not null"),
)

LEGACY_OPERATORS = (
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "in",
    "not in",
    "is null",
    "is not null",
    "like",
    "not like",
)


@dataclass(frozen=True)
class Condition:
    name: str
    op: str  # legacy QueryOp text
    value: Any = None


@lru_cache(maxsize=4096)
def parse_rest_condition(text: str) -> Condition:
    """``q=text`` as a Condition (cached: a Condition is immutable, and clients repeat
    their queries)."""
    for token, op in REST_OPERATORS:
        index = text.find(token)
        if index < 0:
            continue
        name = text[:index].strip()
        value = text[index + len(token) :]
        if op in ("is null", "is not null"):
            return Condition(name, op)
        return Condition(name, op, value)
    raise TransportError(
        400,
        f"Invalid query parameter[q={text}], no operator found. Valid operators are "
        + ", ".join(token for token, _ in REST_OPERATORS),
    )


def parse_legacy_condition(raw: Any) -> Condition:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ApiError(
            error_code("SYS.1007", f"invalid query condition[{raw}], it must have a name and an op"),
            stage="interceptor",
        )
    op = str(raw.get("op", "")).strip()
    if op not in LEGACY_OPERATORS:
        raise ApiError(error_code("SYS.1000", f"unknown QueryOp type[{op}]"))
    value = raw.get("value")
    return Condition(raw["name"], op, value)


@dataclass
class QuerySource:
    """What the query engine needs to know about one inventory class.

    ``fields``: every field of the inventory class (present or null); ``nested``: field
    -> QuerySource for nested inventories (``vmNics``); ``joins``: name -> (QuerySource,
    function record -> related records) for dotted joins to other resources.
    """

    class_name: str
    fields: tuple[str, ...]
    nested: dict[str, QuerySource] = field(default_factory=dict)
    joins: dict[str, tuple[QuerySource, Callable[[dict], list[dict]]]] = field(default_factory=dict)
    # (record, "__systemTag__" | "__userTag__") -> tags of that resource
    tags: Callable[[dict, str], list[str]] | None = None
    # (record, path, schema) -> None: the schema walk below a record spelled out for speed
    # (what ``_walk_plan`` over ``nested`` writes; see render.vm_schema_walk)
    walk: Callable[[dict, str, dict[str, str]], None] | None = None

    def short_name(self) -> str:
        return self.class_name.rsplit(".", 1)[-1]


def _unknown_field(collection: QuerySource, name: str) -> ApiError:
    return ApiError(error_code("SYS.1000", f"inventory class[{collection.class_name}] has no field[{name}]"))


def _values_at(record: dict, path: list[str], collection: QuerySource, full: str) -> list[Any]:
    """Every value at ``path`` (a list because of nested lists and joins); [None] if null."""
    head, rest = path[0], path[1:]
    if head in ("__systemTag__", "__userTag__"):
        found = collection.tags(record, head) if collection.tags else []
        return list(found) or [None]
    if not rest:
        if head not in collection.fields:
            raise _unknown_field(collection, full)
        return [record.get(head)]
    if head in collection.nested:
        child = collection.nested[head]
        raw = record.get(head)
        rows = raw if isinstance(raw, list) else ([raw] if isinstance(raw, dict) else [])
        out: list[Any] = []
        for row in rows:
            out.extend(_values_at(row, rest, child, full))
        if not rows:
            _check_path(child, rest, full)
        return out
    if head in collection.joins:
        child, related = collection.joins[head]
        rows = related(record)
        out = []
        for row in rows:
            out.extend(_values_at(row, rest, child, full))
        if not rows:
            _check_path(child, rest, full)
        return out
    raise _unknown_field(collection, full)


def _check_path(collection: QuerySource, path: list[str], full: str) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        if head not in collection.fields:
            raise _unknown_field(collection, full)
        return
    if head in collection.nested:
        return _check_path(collection.nested[head], rest, full)
    if head in collection.joins:
        return _check_path(collection.joins[head][0], rest, full)
    raise _unknown_field(collection, full)


def _coerce(sample: Any, text: Any) -> Any:
    """Bring the condition's text to the type of the stored value."""
    if text is None:
        return None
    if isinstance(sample, bool):
        return str(text).strip().lower() == "true"
    if isinstance(sample, (int, float)):
        try:
            return type(sample)(str(text).strip()) if isinstance(sample, int) else float(text)
        except ValueError:
            try:
                return float(str(text).strip())
            except ValueError:
                return str(text)
    return str(text)


def _date_key(value: Any) -> Any:
    if isinstance(value, str):
        parsed = parse_date(value)
        if parsed is not None:
            return parsed
    return value


@lru_cache(maxsize=1024)
def _like(pattern: str) -> re.Pattern:
    out = []
    escaped = False
    for ch in pattern:
        if escaped:  # MySQL's default escape character is the backslash
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def _compare(op: str, stored: Any, wanted: Any) -> bool:
    if op == "is null":
        return stored is None
    if op == "is not null":
        return stored is not None
    if stored is None:
        return False  # SQL: a comparison with NULL is never true
    if op in ("in", "not in"):
        raw = wanted if isinstance(wanted, list) else str(wanted).split(",")
        candidates = [_coerce(stored, item) for item in raw]
        found = stored in candidates
        return found if op == "in" else not found
    if op in ("like", "not like"):
        hit = _like(str(wanted)).fullmatch(java_text(stored)) is not None
        return hit if op == "like" else not hit
    target = _coerce(stored, wanted)
    if op == "=":
        return stored == target
    if op == "!=":
        return stored != target
    left, right = _date_key(stored), _date_key(target)
    if left is not stored and isinstance(right, str):  # a stored date against other date text
        right = _loose_date(right)
    try:
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
    except TypeError:
        return False
    return False


@lru_cache(maxsize=1024)
def _loose_date(text: str) -> Any:
    """A date condition given as epoch milliseconds or ``yyyy-MM-dd HH:mm:ss`` (read once per
    query, not once per row)."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped) / 1000.0
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d"):
        try:
            return datetime.strptime(stripped, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return text


def matches(record: dict, condition: Condition, collection: QuerySource) -> bool:
    values = _values_at(record, condition.name.split("."), collection, condition.name)
    return any(_compare(condition.op, value, condition.value) for value in values)


@dataclass
class QuerySpec:
    conditions: list[Condition] = field(default_factory=list)
    limit: int = 1000
    start: int = 0
    count: bool = False
    reply_with_count: bool = False
    sort_by: str | None = None
    sort_direction: str = "asc"
    fields: list[str] | None = None
    group_by: str | None = None


def _sort_key(value: Any) -> tuple:
    value = _date_key(value)
    if value is None:
        return (0, 0, "")  # MySQL puts NULLs first when ascending
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    return (2, 0, str(value))


_EXACT: list[bool] = []  # whether the shortcut below reads dates as parse_date does here


@lru_cache(maxsize=8192)
def date_sort_key(epoch: Any) -> tuple:
    """``_sort_key(format_date(epoch))``: how a sort orders a rendered date (a pure function
    of the model's epoch seconds, for an order index), without the text's round trip
    where the moment's whole second is what parsing the text gives back."""
    if not _EXACT:
        sample = 1767225599.75  # Dec 31, 2025 11:59:59 PM (and a fraction)
        _EXACT.append(_sort_key(format_date(sample)) == (1, 1767225599.0, ""))
    if _EXACT[0] and (epoch.__class__ is float or epoch.__class__ is int):
        try:
            moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            return _sort_key(format_date(epoch))
        if 1000 <= moment.year <= 9999:  # four digits: what ``%Y`` parses
            return (1, moment.replace(microsecond=0).timestamp(), "")
    return _sort_key(format_date(epoch))


def last_op_sort_key(dates: tuple[Any, Any]) -> tuple:
    """``date_sort_key`` of a last-operation date that falls back on the creation date:
    ``dates`` is (last_op_date, create_date)."""
    return date_sort_key(dates[0] or dates[1])


def check_reply_names(spec: QuerySpec, collection: QuerySource) -> None:
    """The error for a ``sortBy`` or ``fields`` name the collection does not have (raised
    once the conditions have run: a condition's own error comes first)."""
    if spec.sort_by and spec.sort_by not in collection.fields:
        raise _unknown_field(collection, spec.sort_by)
    for name in spec.fields or ():
        if name not in collection.fields:
            raise _unknown_field(collection, name)


def run_query(records: Iterable[dict], spec: QuerySpec, collection: QuerySource) -> dict[str, Any]:
    """Apply a query; returns the reply fields (``inventories`` and/or ``total``)."""
    rows = [r for r in records if all(matches(r, c, collection) for c in spec.conditions)]
    check_reply_names(spec, collection)
    if spec.sort_by:
        rows.sort(key=lambda r: _sort_key(r.get(spec.sort_by)), reverse=spec.sort_direction == "desc")
    total = len(rows)
    if spec.count:
        return {"total": total}
    start = max(spec.start, 0)
    page = rows[start : start + spec.limit] if spec.limit >= 0 else rows[start:]
    if spec.fields is not None:
        page = [{k: r[k] for k in spec.fields if k in r} for r in page]
    reply: dict[str, Any] = {"inventories": page}
    if spec.reply_with_count:
        reply["total"] = total
    return reply


def schema_for(
    inventories: list[dict],
    collection: QuerySource,
    prefix: str = "inventories",
    class_of: Callable[[dict], str] | None = None,
) -> dict[str, str]:
    """The ``schema`` map: the runtime class of every (nested) inventory object."""
    schema: dict[str, str] = {}
    walk = collection.walk
    plan = _plan(collection, {}) if walk is None else None
    name = collection.class_name
    for index, record in enumerate(inventories):
        path = f"{prefix}[{index}]"
        schema[path] = class_of(record) if class_of else name
        if walk is not None:
            walk(record, path, schema)
        elif plan:
            _walk_plan(record, plan, path, schema)
    return schema


def schema_of(record: dict, collection: QuerySource, path: str = "inventory") -> dict[str, str]:
    """The ``schema`` map of one inventory object at ``path`` (``inventory`` for single replies)."""
    schema: dict[str, str] = {}
    _walk_schema(record, collection, path, schema)
    return schema


def _walk_schema(
    record: dict,
    collection: QuerySource,
    path: str,
    schema: dict[str, str],
    class_of: Callable[[dict], str] | None = None,
) -> None:
    schema[path] = class_of(record) if class_of else collection.class_name
    if collection.walk is not None:
        collection.walk(record, path, schema)
        return
    plan = _plan(collection, {})
    if plan:
        _walk_plan(record, plan, path, schema)


# A collection's nested inventories as the walk reads them: [(field, class name, the
# nested class's own plan)], read from the collections once per walk (``memo``: plans by
# collection, so that a collection nested in itself, as snapshot tree leaves are, ends).
_Plan = list[tuple[str, str, "_Plan"]]


def plan_of(collection: QuerySource) -> _Plan:
    """The plan of the nested inventories of ``collection``."""
    return _plan(collection, {})


def walk_plan(record: dict, plan: _Plan, path: str, schema: dict[str, str]) -> None:
    """The schema walk below ``record`` (at ``path``) along ``plan``."""
    _walk_plan(record, plan, path, schema)


def _plan(collection: QuerySource, memo: dict[int, _Plan]) -> _Plan:
    plan = memo.get(id(collection))
    if plan is None:
        plan = memo[id(collection)] = []
        for name, child in collection.nested.items():
            plan.append((name, child.class_name, _plan(child, memo)))
    return plan


def _walk_plan(record: dict, plan: _Plan, path: str, schema: dict[str, str]) -> None:
    """The nested inventories of ``record`` (at ``path``) into ``schema``."""
    get = record.get
    for name, class_name, below in plan:
        value = get(name)
        if value.__class__ is list or isinstance(value, list):
            for i, row in enumerate(value):
                if row.__class__ is dict or isinstance(row, dict):
                    at = f"{path}.{name}[{i}]"
                    schema[at] = class_name
                    if below:
                        _walk_plan(row, below, at, schema)
        elif isinstance(value, dict):
            at = f"{path}.{name}"
            schema[at] = class_name
            if below:
                _walk_plan(value, below, at, schema)


# -- REST query parameters ------------------------------------------------------------


def _int_param(args: dict[str, list[str]], name: str, default: int) -> int:
    raw = args.get(name)
    if not raw:
        return default
    try:
        return int(raw[0].strip())
    except ValueError:
        raise TransportError(400, f"Invalid query parameter. '{name}' must be an integer") from None


def _bool_param(args: dict[str, list[str]], name: str) -> bool:
    raw = args.get(name)
    return bool(raw) and raw[0].strip().lower() == "true"


def spec_from_rest(multidict) -> QuerySpec:
    """Parse ``q``, ``limit``, ``start``, ``count``, ``replyWithCount``, ``sort``, ``fields``, ``groupBy``."""
    # one pass over the MultiDict: its get() raises (and builds) an exception per missing key
    return spec_from_args({key: multidict.getlist(key) for key in multidict.keys()})


def query_args(query_string: bytes) -> dict[str, list[str]]:
    """A query string's parameters, each with its values in order: what werkzeug's
    ``request.args`` holds (its very parse), as a plain dict, without the MultiDict."""
    args: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string.decode(), keep_blank_values=True, errors="werkzeug.url_quote"):
        values = args.get(key)
        if values is None:
            args[key] = [value]
        else:
            values.append(value)
    return args


def spec_from_args(args: dict[str, list[str]]) -> QuerySpec:
    """``spec_from_rest`` of the parameters as ``query_args`` gives them."""
    spec = QuerySpec()
    spec.conditions = [parse_rest_condition(q) for q in args.get("q", ())]
    spec.limit = _int_param(args, "limit", 1000)
    spec.start = _int_param(args, "start", 0)
    spec.count = _bool_param(args, "count")
    spec.reply_with_count = _bool_param(args, "replyWithCount")
    sort = (args.get("sort") or [None])[0]
    if sort is not None and sort.strip():
        sort = sort.strip() if sort.startswith(" ") else sort
        if sort[0] in "+-":
            spec.sort_direction = "desc" if sort[0] == "-" else "asc"
            sort = sort[1:]
        spec.sort_by = sort.strip()
    fields_values = args.get("fields")
    if fields_values:
        names = [f.strip() for f in fields_values[0].split(",") if f.strip()]
        if not names:
            raise TransportError(400, "Invalid query parameter. 'fields' must not be empty")
        spec.fields = names
    spec.group_by = (args.get("groupBy") or [None])[0]
    return spec


def spec_from_legacy(fields: dict[str, Any]) -> QuerySpec:
    """The legacy ``APIQueryMessage`` fields (conditions, sortBy, sortDirection...)."""
    spec = QuerySpec()
    conditions = fields.get("conditions") or []
    if not isinstance(conditions, list):
        raise ApiError(error_code("SYS.1007", "field[conditions] must be a list"), stage="interceptor")
    spec.conditions = [parse_legacy_condition(c) for c in conditions]

    def integer(name: str, default: int) -> int:
        value = fields.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ApiError(
                error_code("SYS.1007", f"field[{name}] must be an integer, but was [{value}]"),
                stage="interceptor",
            )
        try:
            return int(value)
        except ValueError:
            raise ApiError(
                error_code("SYS.1007", f"field[{name}] must be an integer, but was [{value}]"),
                stage="interceptor",
            ) from None

    spec.limit = integer("limit", 1000)
    spec.start = integer("start", 0)
    spec.count = bool(fields.get("count"))
    spec.reply_with_count = bool(fields.get("replyWithCount"))
    if fields.get("sortBy"):
        spec.sort_by = str(fields["sortBy"])
        direction = str(fields.get("sortDirection") or "asc").lower()
        if direction not in ("asc", "desc"):
            raise ApiError(
                error_code(
                    "SYS.1007", f"valid value for field[sortDirection] are [asc, desc], but {direction} found"
                ),
                stage="interceptor",
            )
        spec.sort_direction = direction
    if fields.get("fields"):
        raw = fields["fields"]
        spec.fields = (
            [str(f) for f in raw]
            if isinstance(raw, list)
            else [f.strip() for f in str(raw).split(",") if f.strip()]
        )
    spec.group_by = fields.get("groupBy")
    return spec
