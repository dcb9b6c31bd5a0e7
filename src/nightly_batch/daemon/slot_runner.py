"""Runs daily slots: claimed in the ledger, one at a time, in the order their digests need.

The lane serialises every daily run with its claim, so a catch-up never sees a claim of this
daemon's own half made, and a morning's send-digest runs after any batch still owed (after a
suspend or a late start both fire at once: send-digest would find only the previous digest).
A slot whose run was interrupted (claimed, never finished) is taken over and run again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.names import TaskName
from nightly_batch.daemon.catchup import FIRING_GRACE, MissedSlot, missed_slots
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.jobs import DailyJob, Slot
from nightly_batch.runtime.app import App
from nightly_batch.storage.run_liveness import RunLiveness
from nightly_batch.tasks.active_runs import ActiveRuns
from nightly_batch.tasks.result import RunInfo
from nightly_batch.tasks.runner import run_task

# How long a scheduled run waits for a manual run of the same task.
SCHEDULED_LOCK_WAIT_SECONDS = 15 * 60

log = get_logger(__name__)


class SlotRunner:
    """The daemon's daily runs: scheduled fires and catch-ups go through `run`."""

    def __init__(
        self,
        app: App,
        jobs: tuple[DailyJob, ...],
        started: datetime,
        active: ActiveRuns,
        may_start: Callable[[str], bool] = lambda _task: True,
    ) -> None:
        self.app = app
        # Whether a task's slot may start here: on two hosts, not on a standby (bar the batch
        # on the batch's host), nor on a leader unsure of its lease: fail closed.
        self.may_start = may_start
        self.jobs = jobs
        self.started = started
        self.active = active
        # Re-entrant: a send-digest runs an owed batch first from inside the lane.
        self.lane = threading.RLock()

    def run(self, missed: MissedSlot | Slot, trigger: str, noticed: str = "") -> None:
        """Claim the slot (or take over an interrupted claim) and run it, unless it ran."""
        slot = missed.slot if isinstance(missed, MissedSlot) else missed
        if not self.may_start(slot.task):
            log.info("cluster.not_leading", task=slot.task, slot=slot.key, trigger=trigger)
            return
        with self.lane:
            if slot.task == TaskName.SEND_DIGEST:
                self._owed_batch_first()
            now, store = iso_utc(self.app.clock.now()), self.app.store
            taken_over = isinstance(missed, MissedSlot) and missed.claimed_at is not None
            if isinstance(missed, MissedSlot) and missed.claimed_at is not None:
                claimed = store.reclaim_slot(slot.task, slot.key, missed.claimed_at, now, trigger)
            else:
                claimed = store.claim_slot(slot.task, slot.key, now, trigger)
            if not claimed:
                log.warning(
                    "schedule.duplicate_skipped", task=slot.task, slot=slot.key, trigger=trigger
                )
                return
            if isinstance(missed, MissedSlot):
                event = "schedule.rerun_interrupted" if taken_over else "schedule.catch_up"
                log.warning(event, task=slot.task, slot=slot.key, cause=missed.cause + noticed)
            info = RunInfo(trigger, slot.key, slot.day)
            with self.active.running(slot.task):
                run_task(
                    self.app, slot.task, trigger, info=info, lock_wait=SCHEDULED_LOCK_WAIT_SECONDS
                )

    def catch_up(self, reason: str) -> int:
        """Run every slot owed now, oldest first; returns how many were owed."""
        jobs = tuple(job for job in self.jobs if self.may_start(job.task))
        if not jobs:
            return 0
        config, now = self.app.config, self.app.clock.now()
        # A slot that fired a moment ago is left to its own trigger, except on a takeover:
        # this daemon's trigger fired while it stood by, and skipped it.
        grace = timedelta(0) if reason == "leadership" else FIRING_GRACE
        with self.lane:
            liveness = RunLiveness(
                self.app.store, self.app.environment.node, config.leader_lease_seconds
            )
            owed = missed_slots(
                jobs, self.app.store, now, config.catch_up_hours, self.started, grace, liveness
            )
            for missed in owed:
                if self.app.stop.is_set():
                    break
                self.run(missed, "catch-up", f" (noticed at {reason})")
        return len(owed)

    def _owed_batch_first(self) -> None:
        config, now = self.app.config, self.app.clock.now()
        # No firing grace: a batch due this very minute also runs before the morning's send.
        owed = missed_slots(
            self.jobs, self.app.store, now, config.catch_up_hours, self.started, timedelta(0)
        )
        for missed in owed:
            if missed.slot.task == TaskName.NIGHTLY_BATCH:
                self.run(missed, "catch-up", " (run before send-digest, which needs its digest)")
