"""Queries that start from the model's secondary indexes, so that their cost follows the
size of the answer, not the number of entities.

A condition on a field the source declares ``indexed`` (``state``, ``hostUuid``...) is
answered by the groups of the model's index on that attribute whose value meets it
(``_compare`` on each value: the very test the reference makes on each row); the smallest
such set of groups gives the candidates, in collection order, and every other condition
filters them.  A count with no other condition is the groups' size.  A sort on a field the
source declares ``ordered`` (``name``) walks the model's index ordered by ``_sort_key`` of
that attribute (equal keys in collection order, both ways: a stable sort) and stops once
the page is full; when the candidates are few, sorting them is cheaper and the generic
path does it.

Anything else returns None: the caller takes the generic path (``entity_query``), whose
answer is the reference's.  tests/zstack/test_zstack_query_equivalence.py compares both.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from .entity_query import _path_is_safe, _Rows, _run, filtered, page_reply
from .query import Condition, QuerySpec, _compare, _sort_key, check_reply_names

# A condition other than = and in is tested on every distinct value of the attribute: only
# when there are few (states, yes; hosts of a large cloud, no).
_FEW_VALUES = 64


def run_indexed_query(cloud, models, spec: QuerySpec, conditions: list[Condition], source) -> dict | None:
    """The reply of ``run_entity_query`` over every entity of ``models`` (the model's
    collection), or None when no index helps."""
    collection, fields = source.collection, source.fields
    if not all(_path_is_safe(collection, c.name.split(".")) for c in conditions):
        return None  # the generic path reports what the reference reports, in its order
    driver = None
    for condition in conditions:
        if condition.name not in source.indexed:
            continue
        index = models.group_index(fields[condition.name].attr)
        values = _values_meeting(index, condition)
        if values is None:
            continue
        size = sum(map(index.count, values))
        if driver is None or size < driver[0]:
            driver = (size, condition, index, values)
    size = len(models) if driver is None else driver[0]
    others = conditions if driver is None else [c for c in conditions if c is not driver[1]]
    order = _order_of(models, spec, source)
    if driver is None and order is None:
        return None

    rows = _Rows(cloud, source.render)
    if spec.count:
        if not others:
            check_reply_names(spec, collection)
            return {"total": size}
        if driver is None:
            return None
        candidates = models.entities_of(driver[2].numbers(driver[3]))
        return _run(cloud, candidates, spec, others, collection, rows, fields, source.compact)
    start = max(spec.start, 0)
    if order is not None and _walk_is_cheaper(spec, size, len(models)):
        # the sorted walk: entities in the page's order, tested until the page is full
        matched = filtered(cloud, models.entities_of(order), conditions, collection, rows, fields)
        page = list(islice(matched, start, start + spec.limit))
        check_reply_names(spec, collection)
        total = 0
        if spec.reply_with_count:
            total = size if not others else _count(cloud, models, driver, others, source, rows)
        return page_reply(cloud, page, spec, total, rows, fields, source.compact)
    if driver is None:
        return None
    if not others and not spec.sort_by and spec.limit >= 0:
        # the page straight from the groups: nothing to test, the groups' size is the total
        check_reply_names(spec, collection)
        page = list(islice(models.entities_of(driver[2].numbers(driver[3], start)), spec.limit))
        return page_reply(cloud, page, spec, size, rows, fields, source.compact)
    candidates = models.entities_of(driver[2].numbers(driver[3]))
    return _run(cloud, candidates, spec, others, collection, rows, fields, source.compact)


def _values_meeting(index, condition: Condition) -> list | None:
    """The values of ``index`` that meet ``condition`` (as ``_compare`` tests a stored
    value), or None when there are too many values to test each."""
    op, wanted = condition.op, condition.value
    if op == "=":
        candidates: Iterable = () if wanted is None else (str(wanted),)
    elif op == "in":
        raw = wanted if isinstance(wanted, list) else str(wanted).split(",")
        candidates = dict.fromkeys(str(item) for item in raw if item is not None)
    elif len(index.groups) <= _FEW_VALUES:
        candidates = index.values()
    else:
        return None
    # the test itself decides (a stored text against the condition's value, as the
    # reference tests each row's): = and in only narrowed down what is worth testing
    return [v for v in candidates if index.count(v) and _compare(op, v, wanted)]


def _order_of(models, spec: QuerySpec, source) -> Any:
    """The insertion numbers in the order the query sorts in, from the model's index, or
    None when the sort is not on an ordered field."""
    if not spec.sort_by or spec.sort_by not in source.ordered or spec.limit < 0:
        return None
    attr = source.fields[spec.sort_by].attr
    return models.order_index(attr, _sort_key).numbers(descending=spec.sort_direction == "desc")


def _walk_is_cheaper(spec: QuerySpec, size: int, everything: int) -> bool:
    """Whether walking the sorted index (about ``(start + limit) * everything / size``
    entities until the page is full) beats sorting the ``size`` candidates."""
    if size == 0:
        return True
    wanted = max(spec.start, 0) + spec.limit
    return wanted * everything <= size * size


def _count(cloud, models, driver, others, source, rows) -> int:
    everything = models.view() if driver is None else models.entities_of(driver[2].numbers(driver[3]))
    return sum(1 for _ in filtered(cloud, everything, others, source.collection, rows, source.fields))
