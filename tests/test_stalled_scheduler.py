"""A scheduler stalled on purpose: one critical stale-heartbeat alert, and systemd's pings stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES

from conftest import Project
from daemon_process import wait_for
from fakes import RecordingChannel
from nightly_batch.alerts.manager import AlertManager
from nightly_batch.alerts.sender import AlertSender
from nightly_batch.daemon.sdnotify import SystemdNotifier
from nightly_batch.daemon.service import Daemon


class RecordingNotifier(SystemdNotifier):
    """What systemd would be told, kept in a list."""

    def __init__(self) -> None:
        super().__init__({})
        self.watchdog_seconds = 0.5
        self.messages: list[dict[str, str]] = []

    def notify(self, **fields: str) -> bool:
        self.messages.append(fields)
        return True

    def pings(self) -> int:
        return sum(1 for message in self.messages if message.get("WATCHDOG") == "1")


def test_a_stalled_scheduler_raises_one_critical_alert_and_stops_the_watchdog_pings(
    project: Project,
) -> None:
    """Every worker blocked: heartbeats stop, the watchdog thread alerts once, WATCHDOG=1 stops."""
    project.write_config(alertGroupWaitSeconds=0)
    # APScheduler runs on the real clock; the stall jobs are due "now" on it. The fake clock
    # starts level with it, and only the watchdog's heartbeat age reads the fake one after.
    project.clock.set(datetime.now(UTC))
    app = project.app()
    slack = RecordingChannel("slack")
    sender = AlertSender(
        lambda: {"slack": slack}, app.store.alerts, app.clock, group_wait=0, per_hour=20
    )
    app.alerts = AlertManager(
        app.store.alerts, app.clock, app.config, app.environment, app.redactor, sender.submit
    )
    sender.manager, app.alert_sender = app.alerts, sender
    notifier = RecordingNotifier()
    daemon = Daemon(app, notifier)
    release = threading.Event()
    stalled: list[str] = []
    refused: list[str] = []
    daemon.start()

    def stall(number: int) -> None:
        stalled.append(f"stall-{number}")
        release.wait()

    daemon.scheduler.add_listener(
        lambda event: refused.append(event.job_id), EVENT_JOB_MAX_INSTANCES
    )
    try:
        wait_for(lambda: notifier.pings() >= 1, 20, "the first WATCHDOG=1")
        for number in range(6):  # as many as the pool has workers
            daemon.scheduler.add_job(
                stall, args=[number], id=f"stall-{number}", next_run_time=datetime.now(UTC)
            )
        # All six running means every worker is taken: no ping can run from here on.
        wait_for(lambda: len(stalled) == 6, 20, "the six stalling jobs to hold every worker")
        pings_when_stalled = notifier.pings()
        project.clock.advance(timedelta(minutes=20))
        first = daemon.watchdog.check()
        second = daemon.watchdog.check()
        # The ping job came due twice more and was refused (its one instance waits for a
        # worker): time for pings passed, and none was sent.
        wait_for(lambda: refused.count("watchdog") >= 2, 20, "two refused watchdog runs")
        pings_later = notifier.pings()
    finally:
        release.set()
        app.stop.set()
        daemon.shutdown()

    sender.flush(10)
    assert (first, second) == (False, False)
    assert pings_later == pings_when_stalled
    assert slack.notices == [
        "[CRITICAL] heartbeat_stale (heartbeat): no heartbeat processed for 20 min; the scheduler may be stalled"
    ]


def test_a_stalled_scheduler_behind_a_stepped_back_clock_is_still_noticed(
    project: Project,
) -> None:
    """The clock stepped back an hour, then the scheduler stalled: the last stamp lies in the
    future for an hour, and the watchdog took that for fresh. A future stamp that does not
    change for heartbeatStaleMinutes (15) is stale."""
    from nightly_batch.alerts.watchdog import Watchdog  # noqa: PLC0415
    from nightly_batch.tasks.runner import run_task  # noqa: PLC0415

    app = project.app()
    run_task(app, "heartbeat", "schedule")
    project.clock.current -= timedelta(hours=1)  # stepped back; no heartbeat runs again
    watchdog = Watchdog(app, app.clock.now())

    first = watchdog.check()
    project.clock.advance(timedelta(minutes=10))
    still = watchdog.check()
    project.clock.advance(timedelta(minutes=6))
    stalled = watchdog.check()

    assert (first, still, stalled) == (True, True, False)
