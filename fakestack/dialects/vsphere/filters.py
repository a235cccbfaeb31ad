"""List filters from query parameters (reference §6.1).

``/rest`` uses ``filter.<field>``, repeated (``filter.names=a&filter.names=b``) or indexed
(``filter.names.1=a&filter.names.2=b``); ``/api`` uses the bare field names, repeated.
The result is the plain filter dict that ``specs`` validates, the same as JSON-RPC's.
"""

from __future__ import annotations

from collections.abc import Iterable

from .specs import Schema, is_bool_field, is_list_field, unexpected

REST_PREFIX = "filter."


def _convert(model: type[Schema], name: str, raw: str):
    if is_bool_field(model, name):
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return raw


def parse_filter(
    model: type[Schema],
    params: Iterable[tuple[str, str]],
    *,
    prefix: str,
    allowed_other: Iterable[str] = (),
) -> dict | None:
    """Query pairs -> filter dict (``None`` if no filter parameter was given).

    Raises ``unexpected_input`` for a parameter that is neither a filter field nor in
    ``allowed_other``.  With ``prefix=""`` (``/api``) a ``filter.``-prefixed parameter is
    unexpected too (§9 #7).
    """
    allowed_other = set(allowed_other)
    repeated: dict[str, list[tuple[int, int, str]]] = {}
    bad: list[str] = []
    for order, (key, value) in enumerate(params):
        if key in allowed_other:
            continue
        if prefix and not key.startswith(prefix):
            bad.append(key)
            continue
        rest = key[len(prefix) :]
        name, _, index = rest.partition(".")
        if name not in model.model_fields or (index and not (index.isdigit() and is_list_field(model, name))):
            bad.append(key)
            continue
        repeated.setdefault(name, []).append((int(index) if index else 0, order, value))
    if bad:
        raise unexpected(bad)
    if not repeated:
        return None
    result: dict = {}
    for name in model.model_fields:  # the model's field order, not the query's
        if name not in repeated:
            continue
        values = [_convert(model, name, v) for _, _, v in sorted(repeated[name])]
        result[name] = values if is_list_field(model, name) else values[-1]
    return result
