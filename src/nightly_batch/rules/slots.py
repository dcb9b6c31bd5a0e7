"""Daily schedules with Debian cron's DST semantics: next and latest slots, their business days.

APScheduler's own CronTrigger runs 23:00 twice on the autumn change in some zones (Santiago,
Cairo, Beirut, Nuuk) and skips midnights after the spring change. cronsim follows Debian cron:
a time in a spring gap runs right after the gap, a time in a repeated hour runs once, and no
day is skipped. The daemon's trigger (triggers.py) wraps these; heartbeat, status and catch-up
use them without loading the scheduler.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim


def next_fire(expression: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first scheduled moment strictly after `after`, in UTC."""
    # cronsim starts from the minute of `after` and returns later minutes only.
    return next(CronSim(expression, after.astimezone(zone))).astimezone(UTC)


def latest_slot(expression: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The most recent scheduled moment at or before `now`, in UTC."""
    # Reverse iteration returns minutes strictly before its start, so start one minute on.
    start = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return next(CronSim(expression, start.astimezone(zone), reverse=True)).astimezone(UTC)


def slot_day(expression: str, zone: ZoneInfo, slot: datetime) -> date:
    """The local date a slot was scheduled for; its business date.

    Usually the slot's own local date. But when a spring gap swallowed the scheduled wall time,
    Debian cron runs the job at the end of the gap, which can be on the next day: 23:00 in
    America/Nuuk on its spring day fires at 00:00 of the next day, yet belongs to the day before.
    """
    local = slot.astimezone(zone)
    wall_time = _fixed_wall_time(expression)
    if wall_time is None or (local.hour, local.minute) == wall_time:
        return local.date()
    before = (slot - timedelta(minutes=1)).astimezone(zone)
    intended = datetime.combine(before.date(), time(*wall_time))
    return before.date() if intended > before.replace(tzinfo=None) else local.date()


def _fixed_wall_time(expression: str) -> tuple[int, int] | None:
    minute, hour = expression.split()[:2]
    if minute.isdigit() and hour.isdigit():
        return int(hour), int(minute)
    return None


def slot_key(expression: str, zone: ZoneInfo, slot: datetime) -> str:
    """The ledger key of a slot: its scheduled local day and wall time.

    Both folds of a repeated hour, and a run moved past a gap, map to one key.
    """
    wall_time = _fixed_wall_time(expression)
    local = slot.astimezone(zone)
    hour, minute = wall_time or (local.hour, local.minute)
    return f"{slot_day(expression, zone, slot).isoformat()}T{hour:02d}:{minute:02d}"
