"""Times as the admin API and the dashboard write them (ISO-8601 UTC, ``Z``)."""

from __future__ import annotations

from datetime import datetime, timezone


def clock_view(clock) -> dict:
    now = clock.now()
    return {"now": now, "iso": iso_utc(now), "kind": clock.kind, "offset": clock.offset}


def iso_utc(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")
