"""The one place that reads time.

``SystemClock`` reads ``time.time()`` at call time (so freezegun / time-machine control
it) plus an offset moved by ``advance``; ``ManualClock`` only moves when told.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

# The latest time the clock may show.  Every dialect renders dates through ``datetime``
# (year 9999 at most); a year of headroom keeps the dates computed ahead of now (session
# expiry, job ends, retention) renderable too.  Past it the clock refuses to move and
# changes nothing.
LATEST_EPOCH = datetime(9999, 1, 1, tzinfo=timezone.utc).timestamp()


class ClockOutOfRange(ValueError):
    """A move that would take the clock past ``LATEST_EPOCH`` (or to a non-finite time)."""


def check_within_range(epoch_seconds: float) -> float:
    """``epoch_seconds`` if the clock can show it, else ``ClockOutOfRange``."""
    if not (epoch_seconds <= LATEST_EPOCH):  # also NaN
        raise ClockOutOfRange(
            f"the clock cannot go past {LATEST_EPOCH:.0f} (9999-01-01T00:00:00Z): "
            "the dialects could not render such dates"
        )
    return epoch_seconds


class Clock:
    kind = "abstract"

    def __init__(self) -> None:
        self.offset = 0.0

    def _base(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def now(self) -> float:
        """Seconds since the epoch, as a float."""
        return self._base() + self.offset

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        check_within_range(self.now() + seconds)
        self.offset += seconds
        return self.now()

    def move_to(self, epoch_seconds: float) -> float:
        now = self.now()
        if epoch_seconds < now:
            raise ValueError("the clock only moves forward")
        check_within_range(epoch_seconds)
        self.offset += epoch_seconds - now
        return self.now()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": self.offset}


class SystemClock(Clock):
    kind = "system"

    def _base(self) -> float:
        return time.time()


# Where every manual clock starts unless told otherwise: 2026-01-01T00:00:00Z.
MANUAL_CLOCK_START = 1_767_225_600.0


class ManualClock(Clock):
    kind = "manual"

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        super().__init__()
        self.start = float(start)

    def _base(self) -> float:
        return self.start

    def now(self) -> float:
        # ``Clock.now`` without the call to ``_base``: operations read the clock often
        return self.start + self.offset

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": self.offset, "start": self.start}


def make_clock(clock: Clock | str | None) -> Clock:
    """A cloud's clock from its ``clock`` argument: a ``Clock`` as is; ``None`` or
    ``"manual"`` a ``ManualClock`` at ``MANUAL_CLOCK_START`` (deterministic: two clouds fed
    the same operations have equal snapshots); ``"system"`` a ``SystemClock`` (the real
    time, or freezegun's)."""
    if isinstance(clock, Clock):
        return clock
    if clock is None or clock == "manual":
        return ManualClock()
    if clock == "system":
        return SystemClock()
    raise ValueError(f"clock must be a Clock, 'manual' or 'system', not {clock!r}")


def clock_from_dict(data: dict[str, Any]) -> Clock:
    if data.get("kind") == "manual":
        clock: Clock = ManualClock(data.get("start", 0.0))
    else:
        clock = SystemClock()
    clock.offset = float(data.get("offset", 0.0))
    check_within_range(clock.now())
    return clock
