"""Debian-cron DST semantics: exactly one run per local day, in every zone, for three years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from nightly_batch.daemon.triggers import DebianCronTrigger
from nightly_batch.rules.slots import latest_slot, slot_day, slot_key

ZONES = (
    "America/Santiago",
    "Africa/Cairo",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Havana",
    "Asia/Beirut",
    "America/Nuuk",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Europe/London",
)
TIMES = ((23, 0), (6, 0), (0, 0), (2, 30), (1, 30))
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2029, 1, 1, tzinfo=UTC)


def walk(trigger: DebianCronTrigger) -> list[datetime]:
    """Fire times as APScheduler asks for them: each from the previous one."""
    fires = []
    fire = trigger.get_next_fire_time(None, START)
    while fire is not None and fire < END:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return fires


def exists(day: date, hour: int, minute: int, zone: ZoneInfo) -> bool:
    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    back = wall.astimezone(UTC).astimezone(zone)
    return (back.hour, back.minute) == (hour, minute)


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize(("hour", "minute"), TIMES)
def test_one_fire_per_local_day(zone_name: str, hour: int, minute: int) -> None:
    """No day skipped, none doubled; a time inside a spring gap runs right after the gap."""
    zone = ZoneInfo(zone_name)

    fires = walk(DebianCronTrigger(f"{minute} {hour} * * *", zone))

    days = []
    for fire in fires:
        local = fire.astimezone(zone)
        if (local.hour, local.minute) == (hour, minute):
            days.append(local.date())
            continue
        # Moved: the wall time did not exist that day, and the run is the first minute after the
        # gap, which may fall on the next day (23:00 in Nuuk); the slot stays with its own day.
        before = (fire - timedelta(minutes=1)).astimezone(zone)
        day = (
            before.date()
            if datetime.combine(before.date(), time(hour, minute)) > before.replace(tzinfo=None)
            else local.date()
        )
        assert not exists(day, hour, minute, zone), local
        assert (
            before.replace(tzinfo=None)
            < datetime.combine(day, time(hour, minute))
            < local.replace(tzinfo=None)
        )
        assert slot_day(f"{minute} {hour} * * *", zone, fire) == day
        days.append(day)
    first = days[0]
    assert days == [first + timedelta(days=n) for n in range(len(days))]
    assert len(days) >= 3 * 365


def test_the_repeated_autumn_hour_runs_once_and_is_one_ledger_slot() -> None:
    """01:30 on New York's fall-back day exists twice; it fires once, keyed by wall time."""
    zone = ZoneInfo("America/New_York")
    trigger = DebianCronTrigger("30 1 * * *", zone)

    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    after = trigger.get_next_fire_time(fire, fire)

    assert fire == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # the first 01:30 (EDT)
    assert after == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    second_fold = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert (
        slot_key("30 1 * * *", zone, second_fold)
        == slot_key("30 1 * * *", zone, fire)
        == "2026-11-01T01:30"
    )
    assert latest_slot("30 1 * * *", zone, second_fold) == fire


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        ("2026-11-28T21:59:59.900+00:00", "2026-11-27T22:00:00+00:00"),
        ("2026-11-28T22:00:00+00:00", "2026-11-28T22:00:00+00:00"),
        ("2026-11-28T22:00:30.500+00:00", "2026-11-28T22:00:00+00:00"),
        ("2026-11-29T05:00:00+00:00", "2026-11-28T22:00:00+00:00"),
    ],
)
def test_latest_slot_is_the_most_recent_scheduled_moment(now: str, slot: str) -> None:
    """The slot a late or catch-up run belongs to (23:00 in Berlin is 22:00 UTC in winter)."""
    zone = ZoneInfo("Europe/Berlin")

    assert latest_slot("0 23 * * *", zone, datetime.fromisoformat(now)) == datetime.fromisoformat(
        slot
    )


def test_a_slot_pushed_past_midnight_by_a_gap_keeps_its_day() -> None:
    """Nuuk's 23:00 on its spring day runs at 00:00 the next day but is that day's slot."""
    zone = ZoneInfo("America/Nuuk")
    trigger = DebianCronTrigger("0 23 * * *", zone)

    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))

    assert fire.astimezone(zone).isoformat() == "2026-03-29T00:00:00-01:00"
    assert slot_day("0 23 * * *", zone, fire) == date(2026, 3, 28)
    assert slot_key("0 23 * * *", zone, fire) == "2026-03-28T23:00"
