"""When a lead was posted, as far as the state tells: the post's creation time if the sweeper
wrote one, else when it was queued. Messages show a lead's age from it; near misses are listed
newest first by it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

# Reddit's API names the creation time `created_utc` (seconds since the epoch); a sweeper may
# also write it camel-cased, or as an ISO-8601 instant.
CREATED_KEYS = ("createdUtc", "created_utc", "createdAt")
QUEUED_KEY = "queuedAt"


def lead_time(item: dict[str, Any]) -> datetime | None:
    """The lead's post time (else its queue time) as an aware UTC datetime; None if neither
    is written, or neither can be read."""
    for key in (*CREATED_KEYS, QUEUED_KEY):
        moment = _instant(item.get(key))
        if moment is not None:
            return moment
    return None


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    return None


def age_text(posted: datetime, now: datetime) -> str:
    """A lead's age as a person reads it: "just now", "40 min ago", "9 h ago", "3 d ago"."""
    minutes = max((now - posted).total_seconds(), 0) / 60
    return "just now" if minutes < 1 else f"{span_text(minutes)} ago"


def span_text(minutes: float) -> str:
    """A span of at least a minute in its largest fitting unit: "40 min", "9 h", "3 d"."""
    if minutes < 60:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / 1440:.0f} d"


def _from_epoch(value: float) -> datetime | None:
    try:
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
        # Milliseconds, as JavaScript's Date.now() gives them, are told by their size.
        return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
