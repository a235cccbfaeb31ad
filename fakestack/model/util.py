"""Small helpers shared by the model's modules (public here, imported from here)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def key_of(value: Any) -> Any:
    """An entity as its uuid (lists element-wise); any other value as is."""
    if isinstance(value, (list, tuple)):
        return [key_of(v) for v in value]
    uuid = getattr(value, "uuid", None)
    return uuid if uuid is not None else value


def copy_json(value: Any) -> Any:
    """A deep copy of nested dicts and lists (other values are shared)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk step allocates its (acyclic) objects:
    each collection would walk every object made so far (half a 100,000-VM restore)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
