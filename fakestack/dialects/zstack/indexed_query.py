"""Queries that start from the model's secondary indexes, so that their cost follows the
size of the answer, not the number of entities.

A condition on a field the source declares ``indexed`` (``state``, ``hostUuid``...) is
answered by the groups of the model's index on that attribute whose value meets it
(``_compare`` on each value: the very test the reference makes on each row); the smallest
such set of groups gives the candidates, in collection order, and every other condition
filters them; a condition that every entity meets is dropped (nothing to test: a page
after ``start`` rows is then a slice).  A count with no other condition is the groups'
size.  A sort on a field the
source declares ``ordered`` (``name``, ``createDate``, ``lastOpDate``, ``cpuNum``...: see
render.VM_ORDERS) walks the model's index ordered by that field's sort key of the
attribute(s) it is read from (equal keys in collection order, both ways: a stable sort) and
stops once the page is full; when the candidates are few, sorting them is cheaper and the
generic path does it.

Anything else returns None: the caller takes the generic path (``entity_query``), whose
answer is the reference's.  tests/zstack/test_zstack_query_equivalence.py compares both.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from itertools import islice
from typing import Any

from .entity_query import _path_is_safe, _Rows, _run, filtered, page_reply
from .query import Condition, QuerySpec, _coerce, _compare, check_reply_names

# A condition other than = and in is tested on every distinct value of the attribute: only
# when there are few (states, yes; hosts of a large cloud, no).
_FEW_VALUES = 64


def run_indexed_query(cloud, models, spec: QuerySpec, conditions: list[Condition], source) -> dict | None:
    """The reply of ``run_entity_query`` over every entity of ``models`` (the model's
    collection), or None when no index helps."""
    collection, fields = source.collection, source.fields
    if not all(_path_is_safe(collection, c.name.split(".")) for c in conditions):
        return None  # the generic path reports what the reference reports, in its order
    everything = len(models)
    driver = None
    kept = []  # the conditions still to test
    for condition in conditions:
        picked = _pick(models, condition, source) if condition.name in source.indexed else None
        if picked is not None and picked[0] == everything:
            continue  # every entity meets it: nothing to test, nothing to narrow
        kept.append(condition)
        if picked is not None and (driver is None or picked[0] < driver[0]):
            driver = (picked[0], condition, picked[1], picked[2])
    size = everything if driver is None else driver[0]
    others = kept if driver is None else [c for c in kept if c is not driver[1]]
    narrowed = driver is not None or len(kept) < len(conditions)

    def candidates(start: int = 0):
        """The entities the conditions left to test, from the ``start``-th on, in order."""
        if driver is None:
            return islice(models.view(), min(start, sys.maxsize), None)
        return models.entities_of(driver[2].numbers(driver[3], start))

    rows = _Rows(cloud, source.render)
    if spec.count:
        if not others:
            check_reply_names(spec, collection)
            return {"total": size}
        if not narrowed:
            return None
        return _run(cloud, candidates(), spec, others, collection, rows, fields, source.compact)
    order = _order_of(models, spec, source)
    start = max(spec.start, 0)
    if order is not None and _walk_is_cheaper(spec, size, everything):
        # the sorted walk: entities in the page's order, tested until the page is full
        matched = filtered(cloud, order, kept, collection, rows, fields)
        page = list(islice(matched, min(start, sys.maxsize), min(start + spec.limit, sys.maxsize)))
        check_reply_names(spec, collection)
        total = 0
        if spec.reply_with_count:
            total = size if not others else _count(cloud, candidates(), others, source, rows)
        return page_reply(cloud, page, spec, total, rows, fields, source.compact)
    if not others and not spec.sort_by and spec.limit >= 0:
        # the page straight from the candidates: nothing to test, their number is the total
        check_reply_names(spec, collection)
        page = list(islice(candidates(start), min(spec.limit, sys.maxsize)))
        return page_reply(cloud, page, spec, size, rows, fields, source.compact)
    if not narrowed:
        return None
    return _run(cloud, candidates(), spec, others, collection, rows, fields, source.compact)


def _pick(models, condition: Condition, source) -> tuple[int, Any, list] | None:
    """(how many, the index, its values) for the entities meeting ``condition`` on an
    indexed field, or None when its values are too many to test each."""
    field = source.fields[condition.name]
    index = models.group_index(field.attr)
    values = _values_meeting(index, condition, _SAMPLES.get(field.kind, ""))
    if values is None:
        return None
    return sum(map(index.count, values)), index, values


_SAMPLES: dict[Any, Any] = {str: "", int: 0}


def _values_meeting(index, condition: Condition, sample) -> list | None:
    """The values of ``index`` that meet ``condition`` as ``_compare`` tests a stored value
    (each value tested when they are few; else = and in look their values up, coerced as
    ``_compare`` coerces them to a stored value of the field's type), or None."""
    op, wanted = condition.op, condition.value
    if len(index.groups) <= _FEW_VALUES:
        stored: Iterable = index.values()
    elif op == "=":
        stored = () if wanted is None else (_coerce(sample, wanted),)
    elif op == "in":
        raw = wanted if isinstance(wanted, list) else str(wanted).split(",")
        stored = dict.fromkeys(_coerce(sample, item) for item in raw if item is not None)
    else:
        return None
    return [v for v in stored if index.count(v) and _compare(op, v, wanted)]


def _order_of(models, spec: QuerySpec, source) -> Any:
    """The entities in the order the query sorts them in, from the model's order index on
    the field's attribute(s) (or the collection's order for a field every entity has alike),
    or None when the sort is not on an ordered field."""
    if not spec.sort_by or spec.sort_by not in source.ordered or spec.limit < 0:
        return None
    order = source.ordered[spec.sort_by]
    if order is None:
        return models.view()  # a stable sort, either way, of equal keys
    attr, key = order
    return models.entities_of(models.order_index(attr, key).numbers(descending=spec.sort_direction == "desc"))


def _walk_is_cheaper(spec: QuerySpec, size: int, everything: int) -> bool:
    """Whether walking the sorted index (about ``(start + limit) * everything / size``
    entities until the page is full) beats sorting the ``size`` candidates."""
    if size == 0:
        return True
    wanted = max(spec.start, 0) + spec.limit
    return wanted * everything <= size * size


def _count(cloud, entities, conditions, source, rows) -> int:
    return sum(1 for _ in filtered(cloud, entities, conditions, source.collection, rows, source.fields))
