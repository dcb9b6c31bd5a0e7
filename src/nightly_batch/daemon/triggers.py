"""The daily schedules of rules.slots as an APScheduler trigger, for the daemon alone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from nightly_batch.rules.jobs import DailyJob
from nightly_batch.rules.slots import next_fire


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


def trigger_for(job: DailyJob) -> DebianCronTrigger:
    """The trigger the daemon schedules `job` with."""
    return DebianCronTrigger(job.expression, job.zone)
