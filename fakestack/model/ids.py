"""Seeded id generation: every id the cloud hands out comes from here."""

from __future__ import annotations

import random
from typing import Any

_V4_MASK = ~(0xF << 76) & ~(0x3 << 62) & ((1 << 128) - 1)
_V4_BITS = (0x4 << 76) | (0x2 << 62)


class IdGenerator:
    """32-hex ids that match the uuid-v4 pattern, plus per-kind counters (``vm-7``)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"fakestack-ids:{seed}")
        self.counters: dict[str, int] = {}

    def uuid(self) -> str:
        # the 32 hex digits of the 16 bytes (``f"{n:032x}"``, twice as fast)
        return ((self._rng.getrandbits(128) & _V4_MASK) | _V4_BITS).to_bytes(16, "big").hex()

    def hex(self, digits: int) -> str:
        return f"{self._rng.getrandbits(4 * digits):0{digits}x}"

    def hex_pairs(self, count: int) -> str:
        """``hex(2 * count)`` (the same draw) written as ``count`` colon-separated pairs."""
        return self._rng.getrandbits(8 * count).to_bytes(count, "big").hex(":")

    def counter(self, kind: str) -> int:
        value = self.counters.get(kind, 0) + 1
        self.counters[kind] = value
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"rng": _state_to_json(self._rng.getstate()), "counters": dict(self.counters)}

    def load(self, data: dict[str, Any]) -> None:
        self._rng.setstate(_state_from_json(data["rng"]))
        self.counters = dict(data.get("counters", {}))


def _state_to_json(state: tuple[Any, ...]) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _state_from_json(data: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)


def rng_to_json(rng: random.Random) -> list[Any]:
    return _state_to_json(rng.getstate())


def rng_from_json(rng: random.Random, data: list[Any]) -> None:
    rng.setstate(_state_from_json(data))
