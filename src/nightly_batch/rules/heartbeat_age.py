"""How old the last heartbeat is, in the one set of words /healthz, status and the checks use.

A heartbeat stamped in the future (the clock was stepped back after it was written) is neither
fresh nor stale: it proves nothing about now, so every reader says so instead of "-1485 s ago".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Seconds a stamp may lie ahead of this reader's clock and still count: processes read the
# clock at different moments.
FUTURE_TOLERANCE = timedelta(seconds=5)


class BeatState(StrEnum):
    NONE = "none"
    FRESH = "fresh"
    STALE = "stale"
    FUTURE = "future"


@dataclass(frozen=True, slots=True)
class HeartbeatAge:
    state: BeatState
    seconds: float  # now minus the stamp; negative when it lies in the future
    text: str


def heartbeat_age(stamp: datetime | None, now: datetime, limit: timedelta) -> HeartbeatAge:
    """The state of a heartbeat stamped at `stamp`, read at `now`, stale after `limit`."""
    if stamp is None:
        return HeartbeatAge(BeatState.NONE, 0.0, "no heartbeat recorded yet")
    age = now - stamp
    seconds = age.total_seconds()
    if age < -FUTURE_TOLERANCE:
        return HeartbeatAge(
            BeatState.FUTURE,
            seconds,
            f"the last heartbeat is stamped {-seconds:.0f} s in the future "
            "(the clock was stepped back?)",
        )
    if age > limit:
        return HeartbeatAge(
            BeatState.STALE,
            seconds,
            f"the last heartbeat was {seconds:.0f} s ago (limit {limit.total_seconds():.0f} s)",
        )
    return HeartbeatAge(
        BeatState.FRESH, seconds, f"the last heartbeat was {max(seconds, 0):.0f} s ago"
    )
