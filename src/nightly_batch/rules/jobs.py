"""The daemon's daily jobs and their slots, shared by the scheduler, catch-up and `schedule`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from nightly_batch.core.tasks import daily_tasks
from nightly_batch.rules.slots import latest_slot, next_fire, slot_day, slot_key
from nightly_batch.settings.config import Config


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled occurrence of a daily job."""

    task: str
    moment: datetime  # when it fires, UTC
    key: str  # the ledger key: scheduled local day and wall time
    day: date  # the business date it belongs to


@dataclass(frozen=True, slots=True)
class DailyJob:
    """A task that runs at a cron schedule in `digestTimeZone`."""

    task: str
    expression: str
    zone: ZoneInfo

    def next_after(self, moment: datetime) -> datetime:
        """The first fire strictly after `moment`, in UTC: what the daemon's trigger returns."""
        return next_fire(self.expression, self.zone, moment)

    def slot_at(self, moment: datetime) -> Slot:
        return Slot(
            self.task,
            moment,
            slot_key(self.expression, self.zone, moment),
            slot_day(self.expression, self.zone, moment),
        )

    def latest(self, now: datetime) -> Slot:
        """The most recent slot at or before `now`."""
        return self.slot_at(latest_slot(self.expression, self.zone, now))


def daily_jobs(config: Config) -> tuple[DailyJob, ...]:
    zone = config.zone
    return tuple(
        DailyJob(spec.name, getattr(config, spec.schedule_key), zone)
        for spec in daily_tasks()
        if spec.schedule_key is not None
    )
