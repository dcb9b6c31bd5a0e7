"""Catch-up, like a systemd timer with Persistent=true: a missed daily slot runs once, late.

A slot counts as missed when it lies within `catchUpHours`, the ledger has no claim for it, and
it came after the install (a fresh install does not replay yesterday's schedule, but a task
whose first slot was missed is owed that slot like any other).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from nightly_batch.core.names import RunResult
from nightly_batch.core.processes import process_alive
from nightly_batch.rules.jobs import DailyJob, Slot
from nightly_batch.storage.installation import installed_at
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import RunRecord
from nightly_batch.storage.run_liveness import RunLiveness

# A slot this young, while the daemon was up, is the trigger's to run: it is firing right now.
FIRING_GRACE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class MissedSlot:
    """A slot to run now, and why it did not run on time."""

    slot: Slot
    cause: str
    # For a slot whose run was interrupted: the claim to take over (compare and set).
    claimed_at: str | None = None


def missed_slots(
    jobs: tuple[DailyJob, ...],
    store: RuntimeStore,
    now: datetime,
    window_hours: float,
    daemon_started: datetime,
    firing_grace: timedelta = FIRING_GRACE,
    liveness: RunLiveness | None = None,
) -> list[MissedSlot]:
    """The slots that should have run and did not, oldest first (a slot younger than
    `firing_grace` is left to its own trigger, which is firing now)."""
    installed = installed_at(store)
    alive = liveness.alive if liveness is not None else lambda run: process_alive(run.pid)
    missed = []
    for job in jobs:
        slot = job.latest(now)
        late = now - slot.moment
        if late > timedelta(hours=window_hours):
            continue
        if slot.moment >= daemon_started and late < firing_grace:
            continue
        if installed is None or slot.moment <= installed:  # nothing was owed before it began
            continue
        claimed_at = store.slot_claim(job.task, slot.key)
        if claimed_at is not None:
            interrupted = _interrupted(store, job.task, slot.key, alive)
            if interrupted:
                missed.append(MissedSlot(slot, interrupted, claimed_at))
            continue
        local = slot.moment.astimezone(job.zone).strftime("%Y-%m-%d %H:%M %Z")
        if slot.moment < daemon_started:
            cause = f"the daemon was not running at {local}"
        else:
            cause = f"the run due at {local} did not start (a missed fire or a clock change)"
        missed.append(MissedSlot(slot, cause))
    return sorted(missed, key=lambda entry: entry.slot.moment)


def _interrupted(
    store: RuntimeStore, task: str, key: str, alive: Callable[[RunRecord], bool]
) -> str | None:
    """Why a claimed slot's run never finished (killed, power cut), or None if it did or is
    still going. Both daily tasks are safe to run again: the batch writes its state and digest
    atomically, and send-digest's delivery records keep a channel from getting it twice."""
    run = store.slot_run(task, key)
    if run is None:
        return "its slot was claimed but no run started (the process was stopped in between)"
    epoch = store.leader_epoch()
    if run.result == RunResult.RUNNING and run.epoch is not None and epoch is not None:
        # Two hosts: the run's pid is another host's. A run of an earlier leader's died with
        # it, or was fenced (it can record nothing more).
        if run.epoch < epoch:
            return f"its run {run.id} was the previous leader's (epoch {run.epoch})"
        return None
    if run.result == RunResult.RUNNING and not alive(run):
        where = f"{run.node}'s daemon" if run.node else f"process {run.pid}"
        return f"its run {run.id} was interrupted ({where} is gone)"
    return None
