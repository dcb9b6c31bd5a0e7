"""`schedule`: the next fire times of each job, computed by the triggers the daemon uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nightly_batch.core.clock import iso_utc
from nightly_batch.errors import ConfigError
from nightly_batch.rules.jobs import daily_jobs
from nightly_batch.settings.config import Config


def parse_from(text: str | None, now: datetime) -> datetime:
    """--from as a datetime; one without an offset is read as local time in `digestTimeZone`."""
    if text is None:
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--from '{text}' is not an ISO time (for example 2026-03-08T01:30 or "
            "2026-03-08T01:30:00+01:00)."
        ) from None
    return moment


def upcoming(config: Config, start: datetime, count: int) -> list[dict[str, str]]:
    """The next `count` fires of every job after `start` (naive `start` means local time)."""
    zone = config.zone
    if start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    rows = []
    for job in daily_jobs(config):
        fire = job.next_after(start)
        for _ in range(count):
            rows.append(_row(job.task, fire, zone, job.slot_at(fire).key))
            fire = job.next_after(fire)
    beat = start
    for _ in range(count):
        beat += timedelta(minutes=config.heartbeat_minutes)
        rows.append(_row("heartbeat", beat, zone, None))
    return rows


def _row(task: str, moment: datetime, zone: ZoneInfo, slot: str | None) -> dict[str, str]:
    local = moment.astimezone(zone)
    row = {"task": task, "local": local.isoformat(), "utc": iso_utc(moment)}
    if slot:
        row["slot"] = slot
    return row


def render(rows: list[dict[str, str]], zone_name: str) -> str:
    lines = [f"{'task':<14} {'local (' + zone_name + ')':<32} utc"]
    lines += [f"{row['task']:<14} {row['local']:<32} {row['utc']}" for row in rows]
    return "\n".join(lines)
