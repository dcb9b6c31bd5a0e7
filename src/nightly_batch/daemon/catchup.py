"""Catch-up, like a systemd timer with Persistent=true: a missed daily slot runs once, late.

A slot counts as missed when it lies within `catchUpHours`, the ledger has no claim for it, and
it came after the install (a fresh install does not replay yesterday's schedule, but a task
whose first slot was missed is owed that slot like any other).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from nightly_batch.rules.jobs import DailyJob, Slot
from nightly_batch.storage.installation import installed_at
from nightly_batch.storage.port import RuntimeStore

# A slot this young, while the daemon was up, is the trigger's to run: it is firing right now.
FIRING_GRACE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class MissedSlot:
    """A slot to run now, and why it did not run on time."""

    slot: Slot
    cause: str


def missed_slots(
    jobs: tuple[DailyJob, ...],
    store: RuntimeStore,
    now: datetime,
    window_hours: float,
    daemon_started: datetime,
) -> list[MissedSlot]:
    """The slots that should have run and did not, oldest first."""
    installed = installed_at(store)
    missed = []
    for job in jobs:
        slot = job.latest(now)
        late = now - slot.moment
        if late > timedelta(hours=window_hours):
            continue
        if slot.moment >= daemon_started and late < FIRING_GRACE:
            continue
        if installed is None or slot.moment < installed or store.slot_claimed(job.task, slot.key):
            continue
        local = slot.moment.astimezone(job.zone).strftime("%Y-%m-%d %H:%M %Z")
        if slot.moment < daemon_started:
            cause = f"the daemon was not running at {local}"
        else:
            cause = f"the run due at {local} did not start (a missed fire or a clock change)"
        missed.append(MissedSlot(slot, cause))
    return sorted(missed, key=lambda entry: entry.slot.moment)
