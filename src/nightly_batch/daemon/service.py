"""The long-running daemon: APScheduler in UTC, a main thread waiting on a stop event.

Signal handlers only set the stop event. The main thread then says STOPPING=1, stops the
scheduler, waits for running jobs up to `shutdownTimeoutSeconds`, and exits 0; a job still
stuck at that deadline gets every thread's stack dumped and a non-zero exit, before systemd's
SIGKILL would lose the chance to say why.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from nightly_batch.alerts.watchdog import Watchdog
from nightly_batch.alerts.wiring import announce, flush, resend_unsent
from nightly_batch.core.clock import iso_utc
from nightly_batch.core.locks import FileLock
from nightly_batch.core.names import TaskName
from nightly_batch.daemon.clock_guard import ClockGuard
from nightly_batch.daemon.leadership import EXIT_FENCED, Leadership
from nightly_batch.daemon.sdnotify import SystemdNotifier
from nightly_batch.daemon.slot_runner import SlotRunner
from nightly_batch.daemon.triggers import trigger_for
from nightly_batch.errors import InstanceError
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.jobs import DailyJob, daily_jobs
from nightly_batch.runtime.app import App
from nightly_batch.storage.installation import remember_install
from nightly_batch.tasks.active_runs import ActiveRuns
from nightly_batch.tasks.runner import run_task

if TYPE_CHECKING:
    from nightly_batch.web.metrics import MetricsServer
    from nightly_batch.web.server import DashboardThread

HEARTBEAT_GRACE_SECONDS = 120
STATUS_EVERY_SECONDS = 30.0
# CPython runs signal handlers in the main thread, and the kernel may hand SIGTERM to any
# thread: a main thread asleep in one long wait would act on it only when that wait ends
# (seen: a SIGINT 30 s unanswered). It wakes this often to look.
SIGNAL_CHECK_SECONDS = 0.5
CLOCK_GUARD_SECONDS = 5.0
EXIT_STUCK = 1

log = get_logger(__name__)


class Daemon:
    """Schedules the jobs of one config and runs them until asked to stop."""

    def __init__(self, app: App, notifier: SystemdNotifier) -> None:
        self.app = app
        self.notifier = notifier
        self.jobs = daily_jobs(app.config)
        self.daily_ids = {job.task for job in self.jobs}
        self.active = ActiveRuns()
        self.started = app.clock.now()
        self.last_heartbeat: float | None = None
        self.leadership = Leadership(app, self._now_leading)
        may_start = self.leadership.may_start
        self.watchdog = Watchdog(app, self.started, may_start)
        self.slots = SlotRunner(app, self.jobs, self.started, self.active, self.leadership.may_run)
        self.metrics: MetricsServer | None = None
        self.dashboard: DashboardThread | None = None
        self.instance_lock = FileLock(
            app.config.state_file.with_name(app.config.state_file.name + ".daemon.lock")
        )
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=6)},
            # coalesce: a backlog of missed fires runs once; max_instances: never overlapping.
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    def start(self) -> None:
        """Take the instance lock, schedule every job, catch up, and tell systemd we are ready."""
        if not self.instance_lock.acquire(0, record_pid=True):
            raise InstanceError(
                f"another nightly-batch daemon (pid {self.instance_lock.holder()}) is already "
                f"running for {self.app.config.state_file}; this one exits."
            )
        self.schedule_jobs()
        config = self.app.config
        # The lease first: the scheduler's first heartbeat, due at once, then knows the role.
        self.leadership.start()
        self.scheduler.start()
        self.watchdog.start()
        threading.Thread(target=self._guard_clock, name="clock-guard", daemon=True).start()
        if config.metrics_port is not None:
            from nightly_batch.web.metrics import MetricsServer  # noqa: PLC0415

            self.metrics = MetricsServer(
                self.app, config.metrics_host, config.metrics_port, self.leadership.may_start
            )
            self.metrics.start()
            log.info("metrics.serving", host=config.metrics_host, port=self.metrics.port)
        if config.dashboard_port is not None:
            from nightly_batch.web.server import DashboardThread  # noqa: PLC0415

            self.dashboard = DashboardThread(self.app, config.dashboard_host, config.dashboard_port)
            self.dashboard.start()
            log.info("dashboard.serving", host=config.dashboard_host, port=config.dashboard_port)
        if self.app.alerts is not None and self.leadership.may_start():
            announce(self.app)
            resend_unsent(self.app)
        self._catch_up_soon("start")
        for job in self.jobs:
            self._log_next(job)
        self.notifier.notify(READY="1", STATUS=self.status_line())
        log.info(
            "daemon.ready",
            pid=os.getpid(),
            state=str(config.state_file),
            zone=config.digest_time_zone,
            role=self.leadership.role,
        )

    def schedule_jobs(self) -> None:
        """Add every job, first fires computed on the app's clock; starts nothing (a test then
        starts the scheduler paused and drives the jobs itself)."""
        config, now = self.app.config, self.app.clock.now()
        remember_install(self.app.store, now)
        for job in self.jobs:
            trigger = trigger_for(job)
            self.scheduler.add_job(
                self._fire,
                trigger,
                args=(job,),
                id=job.task,
                name=job.task,
                next_run_time=trigger.get_next_fire_time(None, now),
                # A daily run delayed by a busy pool or a pause still runs, up to the catch-up
                # window; never the 1 s default, which silently drops a late run.
                misfire_grace_time=max(int(config.catch_up_hours * 3600), 60),
            )
        self.scheduler.add_job(
            self._heartbeat,
            IntervalTrigger(minutes=config.heartbeat_minutes, timezone=UTC),
            id="heartbeat",
            name="heartbeat",
            next_run_time=now,
            misfire_grace_time=HEARTBEAT_GRACE_SECONDS,
        )
        if self.notifier.watchdog_seconds:
            every = max(self.notifier.watchdog_seconds / 2, 1)
            self.scheduler.add_job(
                self._watchdog,
                IntervalTrigger(seconds=every, timezone=UTC),
                id="watchdog",
                name="watchdog",
                next_run_time=now + timedelta(seconds=every),  # after the first heartbeat
                misfire_grace_time=30,
            )

    def serve(self) -> None:
        """Block until the stop event is set, keeping systemd's STATUS= line current."""
        told = time.monotonic()
        while not self.app.stop.wait(SIGNAL_CHECK_SECONDS):
            if time.monotonic() - told >= STATUS_EVERY_SECONDS:
                self.notifier.notify(STATUS=self.status_line())
                told = time.monotonic()

    def shutdown(self) -> int:
        """Stop scheduling, let running jobs finish within the deadline; returns the exit code."""
        deadline = self.app.config.shutdown_timeout_seconds
        self.notifier.notify(STOPPING="1", STATUS="stopping")
        log.info("daemon.stopping", running=self.active.names(), deadline_s=deadline)
        self.app.stop.set()
        self.scheduler.shutdown(wait=False)
        if not self.active.wait_idle(deadline):
            log.error("daemon.stop_timeout", running=self.active.names(), deadline_s=deadline)
            sys.stderr.write(
                f"nightly-batch: still running after {deadline:g} s: "
                f"{', '.join(self.active.names())}; thread stacks follow.\n"
            )
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            sys.stderr.flush()
            # Pool threads are joined at interpreter exit; a stuck one would hang us until
            # systemd's SIGKILL, so leave at once. Every file was written atomically.
            os._exit(EXIT_STUCK)
        for server in (self.metrics, self.dashboard):
            if server is not None:
                server.stop()
        flush(self.app, timeout=10)
        self.leadership.stop()
        self.instance_lock.release()
        self.app.close()
        if self.leadership.fenced:
            log.error("daemon.stopped", reason="fenced: another daemon leads now")
            return EXIT_FENCED
        log.info("daemon.stopped")
        return 0

    def status_line(self) -> str:
        parts = []
        for job in self.scheduler.get_jobs():
            if job.id in self.daily_ids and job.next_run_time:
                local = job.next_run_time.astimezone(self.app.config.zone)
                parts.append(f"{job.id} {local:%Y-%m-%d %H:%M %Z}")
        running = self.active.names()
        prefix = f"running {', '.join(running)}; " if running else ""
        return f"{prefix}next: {'; '.join(parts)}"

    def _fire(self, job: DailyJob) -> None:
        """A scheduled fire: run the slot it belongs to, unless the ledger says it ran."""
        self.slots.run(job.latest(self.app.clock.now()), "schedule")
        self._log_next(job)

    def _heartbeat(self) -> None:
        if not self.leadership.may_start():
            # A standby: the leader's heartbeat does the work; ours says the scheduler runs,
            # and the batch's host still catches up on a batch it owes.
            self.last_heartbeat = self.app.clock.monotonic()
            if self.leadership.may_run(TaskName.NIGHTLY_BATCH):
                self._catch_up_soon("heartbeat")
            return
        with self.active.running("heartbeat"):
            outcome = run_task(self.app, "heartbeat", "schedule", lock_wait=60)
        if outcome.ok:
            self.last_heartbeat = self.app.clock.monotonic()
        self._catch_up_soon("heartbeat")

    def _guard_clock(self) -> None:
        guard = ClockGuard(self.app.clock, self._rescheduled_after_jump)
        while not self.app.stop.wait(CLOCK_GUARD_SECONDS):
            guard.check()

    def _rescheduled_after_jump(self, seconds: float) -> None:
        """Run the interval jobs now; the daily jobs keep their absolute times, which stay
        right, and the slot ledger stops any slot from running twice."""
        log.warning("clock.jumped", seconds=round(seconds), action="rescheduling the heartbeat")
        now = self.app.clock.now()
        for job_id in ("heartbeat", "watchdog"):
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.modify_job(job_id, next_run_time=now)
        self.scheduler.wakeup()

    def _catch_up_soon(self, reason: str) -> None:
        # A one-off job, so a long catch-up never holds up the heartbeat; a pending one is kept
        # (the start's check stays), a running one makes max_instances skip. No flag of ours:
        # a job APScheduler dropped as missed would never clear it.
        try:
            self.scheduler.add_job(
                self._catch_up,
                args=(reason,),
                id="catch-up",
                name="catch-up",
                next_run_time=self.app.clock.now(),
                replace_existing=False,
                max_instances=1,
                misfire_grace_time=HEARTBEAT_GRACE_SECONDS,
            )
        except ConflictingIdError:
            log.debug("schedule.catch_up_pending", reason=reason)

    def _now_leading(self, reason: str) -> None:
        """Taken over (or the store is back): what the previous leader owed the channels and
        the schedule is done now."""
        if self.app.alerts is not None:
            resend_unsent(self.app)  # notices it recorded and never sent
        self._catch_up_soon(reason)

    def _catch_up(self, reason: str) -> None:
        owed = self.slots.catch_up(reason)
        if reason == "start":
            # Once per start, so an operator (and a test) sees the restart's check finish.
            log.info("schedule.start_checked", owed=owed)

    def _watchdog(self) -> None:
        """Ping systemd only while heartbeats really run: a stalled scheduler stops the pings."""
        limit = self.app.config.heartbeat_minutes * 60 * 2 + HEARTBEAT_GRACE_SECONDS
        fresh = (
            self.last_heartbeat is not None
            and self.app.clock.monotonic() - self.last_heartbeat <= limit
            and (not self.leadership.may_start() or self.watchdog.check())
        )
        if fresh:
            self.notifier.notify(WATCHDOG="1")
        else:
            log.warning("systemd.watchdog_withheld", reason="no recent heartbeat")

    def _log_next(self, job: DailyJob) -> None:
        scheduled = self.scheduler.get_job(job.task)
        if scheduled is None or scheduled.next_run_time is None:
            return
        moment: datetime = scheduled.next_run_time
        log.info(
            "schedule.next",
            task=job.task,
            local=moment.astimezone(job.zone).isoformat(),
            utc=iso_utc(moment),
            zone=job.zone.key,
        )


def run_daemon(app: App, notifier: SystemdNotifier) -> int:
    """Start, serve until the stop event is set, shut down; returns the exit code."""
    daemon = Daemon(app, notifier)
    daemon.start()
    try:
        daemon.serve()
    finally:
        code = daemon.shutdown()
    return code
