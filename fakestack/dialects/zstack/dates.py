"""ZStack's date text: Gson's default ``java.sql.Timestamp`` form under Java 8, en_US.

``Oct 17, 2024 5:43:35 AM``: month abbreviation, unpadded day, unpadded 12-hour hour, no
offset.  The fake's management node runs on UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=8192)
def format_date(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    hour12 = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year} "
        f"{hour12}:{moment.minute:02d}:{moment.second:02d} {half}"
    )


@lru_cache(maxsize=8192)
def parse_date(text: str) -> float | None:
    """Inverse of :func:`format_date` (used to compare and sort dates in queries, row after
    row: cached like the formatter); None if not a date."""
    if text.__class__ is not str or text[-2:].upper() not in ("AM", "PM"):
        return None  # cannot match the format's closing %p (and a failed strptime is slow)
    try:
        moment = datetime.strptime(text, "%b %d, %Y %I:%M:%S %p")
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=timezone.utc).timestamp()


@lru_cache(maxsize=8192)
def sql_timestamp(epoch: float) -> str:
    """``java.sql.Timestamp.toString()`` text of an epoch time, in UTC, millisecond precision
    (``2024-10-17 05:43:35.123``; trailing zeros dropped, ``.0`` for a whole second)."""
    ms = int(round(epoch * 1000))
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}.{(f'{millis:03d}'.rstrip('0') or '0')}"
