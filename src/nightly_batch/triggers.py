"""Daily schedules with Debian cron's DST semantics, as APScheduler triggers.

APScheduler's own CronTrigger runs 23:00 twice on the autumn change in some zones (Santiago,
Cairo, Beirut, Nuuk) and skips midnights after the spring change. cronsim follows Debian cron:
a time in a spring gap runs right after the gap, a time in a repeated hour runs once, and no
day is skipped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from cronsim import CronSim


class DebianCronTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler ships no type hints
    """Fires at the times `expression` names in `zone`; the times it returns are in UTC."""

    def __init__(self, expression: str, zone: ZoneInfo) -> None:
        self.expression = expression
        self.zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        start = previous_fire_time or now
        return next_fire(self.expression, self.zone, start)

    def __str__(self) -> str:
        return f"cron[{self.expression} {self.zone.key}]"


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
