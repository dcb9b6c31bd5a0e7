"""Alerts: transitions, escalation, reminders, resolution, silences, inhibition, the cap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from conftest import Project
from fakes import EPOCH, RecordingChannel, dated, hours
from nightly_batch.alerts.manager import AlertManager
from nightly_batch.alerts.sender import AlertSender
from nightly_batch.alerts.watchdog import Watchdog
from nightly_batch.alerts.wiring import announce
from nightly_batch.errors import TaskError
from nightly_batch.runtime.app import App
from nightly_batch.tasks.result import RunInfo, TaskResult
from nightly_batch.tasks.runner import run_task

Lead = Callable[..., dict[str, Any]]


class Alerting:
    """An App with alerting wired to recording Slack and e-mail channels."""

    def __init__(
        self, project: Project, environ: dict[str, str] | None = None, **config: Any
    ) -> None:
        project.write_config(alertGroupWaitSeconds=0, **config)
        self.project = project
        self.slack = RecordingChannel("slack")
        self.email = RecordingChannel("email")
        self.app = self.attach(project.app(environ))

    def attach(self, app: App) -> App:
        store = app.store.alerts
        sender = AlertSender(
            lambda: {"slack": self.slack, "email": self.email},
            store,
            app.clock,
            group_wait=0,
            per_hour=app.config.alerts_per_hour,
        )
        manager = AlertManager(
            store, app.clock, app.config, app.environment, app.redactor, sender.submit
        )
        sender.manager = manager
        app.alerts, app.alert_sender = manager, sender
        return app

    def sent(self) -> list[str]:
        assert self.app.alert_sender is not None
        self.app.alert_sender.flush(10)
        return self.slack.notices

    def alert_lines(self) -> list[str]:
        """Every alert line sent, whether it went alone or grouped with others.

        Alerts raised together may leave as one grouped message or one by one, as the sender
        thread happens to wake (the group wait is 0 here); a test about which alerts fired
        reads their lines, never the grouping.
        """
        lines = []
        for notice in self.sent():
            head, _, rest = notice.partition("\n")
            if head.startswith("nightly-batch: ") and head.endswith(" alerts"):
                lines += [line.removeprefix("• ") for line in rest.splitlines()]
            else:
                lines.append(notice)
        return lines

    def restart(self) -> None:
        """A new process on the same files."""
        self.app.store.close()
        self.app = self.attach(self.project.app())


def failing(_app: App, _run: RunInfo) -> TaskResult:
    raise TaskError("every channel failed (slack: configuration: HTTP 404)")


def succeeding(_app: App, _run: RunInfo) -> TaskResult:
    return TaskResult("digest notification sent (3 leads) to slack")


def test_failures_escalate_remind_and_resolve_once_each(project: Project) -> None:
    """1st failure: error. 2nd: nothing. 3rd: critical. Then reminders only; success: resolved."""
    alerting = Alerting(project)
    app = alerting.app

    run_task(app, "send-digest", "schedule", handler=failing)
    first = list(alerting.sent())
    run_task(app, "send-digest", "schedule", handler=failing)
    second = list(alerting.sent())
    run_task(app, "send-digest", "schedule", handler=failing)
    third = list(alerting.sent())
    run_task(app, "send-digest", "schedule", handler=failing)
    fourth = list(alerting.sent())

    assert len(first) == 1
    assert first[0].startswith(
        "[ERROR] task_failed (send-digest): send-digest failed: every channel failed"
    )
    assert second == first
    assert len(third) == 2
    assert third[1].startswith(
        "[CRITICAL] task_failed (send-digest): send-digest failed (3 runs in a row)"
    )
    assert fourth == third
    assert alerting.email.notices == [third[1]]  # critical goes to every alert channel

    project.clock.advance(timedelta(minutes=30))
    app.alerts.remind_and_purge()  # type: ignore[union-attr]
    assert len(alerting.sent()) == 2
    project.clock.advance(timedelta(minutes=31))
    app.alerts.remind_and_purge()  # type: ignore[union-attr]
    reminded = list(alerting.sent())
    run_task(app, "send-digest", "schedule", handler=succeeding)
    resolved = alerting.sent()

    assert len(reminded) == 3
    assert reminded[2].startswith("[CRITICAL] task_failed (send-digest)")
    assert len(resolved) == 4
    assert resolved[3].startswith("[RESOLVED] task_failed (send-digest)")


def test_a_restart_neither_loses_nor_repeats(project: Project) -> None:
    """The streak and what was notified live in the runtime store, not in memory."""
    alerting = Alerting(project)
    run_task(alerting.app, "send-digest", "schedule", handler=failing)
    run_task(alerting.app, "send-digest", "schedule", handler=failing)
    before = list(alerting.sent())

    alerting.restart()
    run_task(alerting.app, "send-digest", "schedule", handler=failing)
    after = alerting.sent()

    assert len(before) == 1
    assert len(after) == 2
    assert after[1].startswith(
        "[CRITICAL] task_failed (send-digest): send-digest failed (3 runs in a row)"
    )


def test_retries_inside_a_run_do_not_count_as_failed_runs(project: Project) -> None:
    """A run that fails after its in-run retries is one failure, not three."""
    alerting = Alerting(project, retryMaxAttempts=2)
    calls = []

    def busy(_app: App, _run: RunInfo) -> TaskResult:
        calls.append(1)
        raise OSError(5, "Input/output error", "/state.json")

    run_task(alerting.app, "nightly-batch", "schedule", handler=busy)

    assert len(calls) == 3
    assert [n.split(":")[0] for n in alerting.sent()] == ["[ERROR] task_failed (nightly-batch)"]


def test_a_burst_within_the_group_wait_is_one_message(project: Project) -> None:
    """Several alerts raised together go out as one message."""
    alerting = Alerting(project)
    sender = alerting.app.alert_sender
    assert sender is not None
    # Real seconds (the sender waits on a queue): long enough that a busy machine cannot split
    # the burst; sent() flushes at once, so the test does not wait it out.
    sender.group_wait = 600.0
    manager = alerting.app.alerts
    assert manager is not None

    for name in ("low_disk", "clock_jump", "empty_batch"):
        manager.fire(name, "-", "warning", f"{name} happened")

    [message] = alerting.sent()
    assert message.startswith("nightly-batch: 3 alerts\n")
    assert message.count("\n• [WARNING]") == 3


def test_at_most_the_hourly_cap_of_messages_goes_out(project: Project) -> None:
    """100 alerts within a minute: no more messages than alertsPerHour; the rest are recorded."""
    alerting = Alerting(project, alertsPerHour=5)
    manager = alerting.app.alerts
    assert manager is not None

    for number in range(100):
        manager.fire(f"burst_{number}", "-", "error", "something failed")
        alerting.sent()
        project.clock.advance(timedelta(seconds=0.5))

    assert len(alerting.slack.notices) == 5
    statuses = [n.status for n in alerting.app.store.alerts.notifications()]
    assert statuses.count("sent") == 5
    assert statuses.count("suppressed") == 95


def test_alerts_disabled_sends_nothing_and_says_so(project: Project) -> None:
    """ALERTS_ENABLED=false records and logs alerts but sends none; start-up says so."""
    alerting = Alerting(project, environ={"ALERTS_ENABLED": "false"})

    with capture_logs() as logs:
        announce(alerting.app)
        run_task(alerting.app, "send-digest", "schedule", handler=failing)

    assert alerting.sent() == []
    assert alerting.email.notices == []
    assert any(entry["event"] == "alerts.disabled" for entry in logs)
    assert [n.status for n in alerting.app.store.alerts.notifications()] == ["disabled"]
    assert any(entry["event"] == "alert.firing" and entry["status"] == "disabled" for entry in logs)


def test_below_the_severity_threshold_nothing_is_recorded(project: Project) -> None:
    """ALERT_SEVERITY_THRESHOLD=error ignores warnings."""
    alerting = Alerting(project, environ={"ALERT_SEVERITY_THRESHOLD": "error"})
    manager = alerting.app.alerts
    assert manager is not None

    manager.fire("low_disk", "-", "warning", "4% free")
    manager.fire("task_failed", "send-digest", "error", "boom")

    assert [n.split(" ")[0] for n in alerting.sent()] == ["[ERROR]"]
    assert [a.name for a in alerting.app.store.alerts.all()] == ["task_failed"]


def test_a_silence_mutes_until_it_expires(project: Project) -> None:
    """A silenced alert is recorded as muted; after expiry its reminders flow again."""
    alerting = Alerting(project)
    store = alerting.app.store.alerts
    from nightly_batch.storage.records import SilenceRecord  # noqa: PLC0415

    store.add_silence(
        SilenceRecord(
            "s1",
            "task_*",
            "*",
            "deploy",
            dated("2026-11-28T23:00:00.000Z"),
            dated("2026-11-29T01:00:00.000Z"),
        )
    )
    run_task(alerting.app, "send-digest", "schedule", handler=failing)
    muted = list(alerting.sent())
    project.clock.advance(hours(4.5))
    alerting.app.alerts.remind_and_purge()  # type: ignore[union-attr]

    assert muted == []
    assert [n.status for n in store.notifications()][:1] == ["muted"]
    assert [n.split(" ")[0] for n in alerting.sent()] == ["[ERROR]"]


def test_a_stale_heartbeat_is_one_critical_alert_and_mutes_task_alerts(project: Project) -> None:
    """The watchdog fires once while the heartbeat stays stale; task failures are inhibited."""
    alerting = Alerting(project)
    app = alerting.app
    run_task(app, "heartbeat", "schedule")
    watchdog = Watchdog(app, app.clock.now())

    assert watchdog.check() is True
    project.clock.advance(timedelta(minutes=20))
    assert watchdog.check() is False
    assert watchdog.check() is False
    run_task(app, "send-digest", "schedule", handler=failing)
    sent = list(alerting.sent())

    assert sent == [
        "[CRITICAL] heartbeat_stale (heartbeat): no heartbeat processed for 20 min; the scheduler may be stalled"
    ]
    assert [n.status for n in app.store.alerts.notifications()] == ["sent", "muted"]

    run_task(app, "heartbeat", "schedule")
    watchdog.check()
    assert alerting.alert_lines()[-1].startswith("[RESOLVED] heartbeat_stale")


def test_resolved_alerts_are_purged_after_48_hours_firing_ones_never(project: Project) -> None:
    """Retention: resolved and older than 48 h goes; firing stays whatever its age."""
    alerting = Alerting(project)
    manager = alerting.app.alerts
    assert manager is not None
    manager.fire("low_disk", "-", "warning", "4% free")
    manager.fire("clock_jump", "-", "warning", "jumped")
    manager.resolve("clock_jump", "-")

    project.clock.advance(hours(49))
    manager.remind_and_purge()

    assert [(a.name, a.state) for a in alerting.app.store.alerts.all()] == [("low_disk", "firing")]


def test_time_based_watch_of_the_daily_jobs(project: Project, lead: Lead) -> None:
    """No successful nightly batch for 26 h is an error, for 50 h critical; a success resolves."""
    from nightly_batch.alerts.checks import check_health  # noqa: PLC0415

    alerting = Alerting(project)
    app = alerting.app
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(app, "nightly-batch", "schedule")
    (
        project.digests / dated("digest-2026-11-28.json")
    ).unlink()  # keep digest checks quiet: only time counts
    run_task(app, "send-digest", "schedule", handler=succeeding)

    project.clock.advance(hours(27))
    check_health(app, app.clock.now())
    after_27 = [n for n in alerting.alert_lines() if "no_recent_success (nightly-batch)" in n]
    project.clock.advance(hours(24))
    check_health(app, app.clock.now())
    after_51 = [n for n in alerting.alert_lines() if "no_recent_success (nightly-batch)" in n]

    due = dated("2026-11-29 23:00 UTC")
    assert after_27 == [
        (
            "[ERROR] no_recent_success (nightly-batch): no successful nightly-batch for 27 h "
            f"(one was due at {due})"
        )
    ]
    assert after_51[-1] == (
        "[CRITICAL] no_recent_success (nightly-batch): no successful nightly-batch for 51 h "
        f"(one was due at {due})"
    )


def test_a_weekly_batch_is_not_overdue_the_next_day(project: Project, lead: Lead) -> None:
    """nightlyBatchSchedule once a week: no alert a day later (the 26 h limit was fixed and
    fired every day); an error only 2 h past the next week's fire, critical past the one after."""
    from nightly_batch.alerts.checks import check_health  # noqa: PLC0415

    weekday = EPOCH.isoweekday() % 7  # cron counts Sunday as 0
    alerting = Alerting(project, nightlyBatchSchedule=f"0 23 * * {weekday}")
    app = alerting.app
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(app, "nightly-batch", "schedule")

    def batch_alerts_after(elapsed: float) -> list[str]:
        project.clock.set(EPOCH + hours(elapsed))
        check_health(app, app.clock.now())
        return [n for n in alerting.alert_lines() if "no_recent_success (nightly-batch)" in n]

    assert batch_alerts_after(27) == []
    assert batch_alerts_after(7 * 24 + 1) == []
    assert [line.split(":")[0] for line in batch_alerts_after(7 * 24 + 3)] == [
        "[ERROR] no_recent_success (nightly-batch)"
    ]
    assert batch_alerts_after(14 * 24 + 3)[-1].startswith(
        "[CRITICAL] no_recent_success (nightly-batch): no successful nightly-batch for 339 h"
    )


def test_an_empty_batch_is_a_warning(project: Project, lead: Lead) -> None:
    """A nightly batch that selects nothing warns; the next one that selects leads resolves it."""
    alerting = Alerting(project)
    project.write_state({"redditQueue": [lead("a", 0.1)]})
    run_task(alerting.app, "nightly-batch", "schedule")
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    project.clock.advance(hours(24))
    run_task(alerting.app, "nightly-batch", "schedule")

    assert alerting.alert_lines() == [
        "[WARNING] empty_batch (nightly-batch): the nightly batch selected no lead (1 queued, 0 invalid)",
        "[RESOLVED] empty_batch (nightly-batch): the nightly batch selected no lead (1 queued, 0 invalid)",
    ]


@pytest.mark.parametrize(
    ("jump", "expected"),
    [(timedelta(days=1), "forward by 86400 s"), (-timedelta(hours=1), "back by 3600 s")],
)
def test_a_clock_jump_between_heartbeats_is_a_warning(
    project: Project, jump: timedelta, expected: str
) -> None:
    """Wall time moving unlike monotonic time between two heartbeats raises clock_jump."""
    alerting = Alerting(project)
    app = alerting.app
    run_task(app, "heartbeat", "schedule")
    project.clock.current += jump  # the wall clock only
    project.clock.ticks += 300
    project.clock.current += timedelta(seconds=300)

    run_task(app, "heartbeat", "schedule")

    assert any(
        n.startswith("[WARNING] clock_jump (-): the wall clock jumped " + expected)
        for n in alerting.alert_lines()
    )


def test_a_fresh_install_owes_no_digest_for_a_slot_from_before_it(
    project: Project, lead: Lead
) -> None:
    """Installed at 14:00, a batch by hand at 17:30: the heartbeat after it raised
    digest_missing for the 23:00 slot of the night before the install."""
    from nightly_batch.alerts.checks import check_health  # noqa: PLC0415

    project.clock.set(EPOCH + hours(15))  # 14:00 the next day
    alerting = Alerting(project)
    app = alerting.app
    run_task(app, "heartbeat", "schedule")
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    project.clock.advance(hours(3.5))
    run_task(app, "nightly-batch", "manual")
    project.clock.advance(hours(5 / 60))
    check_health(app, app.clock.now())

    assert [line for line in alerting.alert_lines() if "digest_missing" in line] == []


def test_a_failed_send_names_the_task_once_in_its_alert(project: Project, lead: Lead) -> None:
    """The real send-digest failing on every channel: the alert read "send-digest failed:
    send-digest failed: ..."."""
    alerting = Alerting(project)
    project.channels["log"] = RecordingChannel("log", status="transient", error="down")
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(alerting.app, "nightly-batch", "schedule")

    run_task(alerting.app, "send-digest", "schedule")

    [line] = [n for n in alerting.alert_lines() if "task_failed (send-digest)" in n]
    assert line.startswith(
        "[ERROR] task_failed (send-digest): send-digest failed: every channel failed "
        "(log: transient: down) [run "
    )


def test_a_heartbeat_that_delivers_an_owed_digest_does_what_send_digest_would(
    project: Project, lead: Lead
) -> None:
    """06:00 answered 429, a heartbeat later delivered: lastDigestNotificationAt stayed null
    and task_failed (send-digest) kept firing, with reminders. Now both follow the delivery."""
    alerting = Alerting(project)
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(alerting.app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))
    project.channels["log"] = RecordingChannel("log", status="rate-limited", error="HTTP 429")
    assert not run_task(alerting.app, "send-digest", "schedule").ok

    project.channels["log"] = RecordingChannel("log")
    project.clock.advance(hours(1))
    beat = run_task(alerting.app, "heartbeat", "schedule")

    assert beat.message == "heartbeat ok; retried owed deliveries: log sent"
    assert project.read_state()["lastDigestNotificationAt"] == dated("2026-11-29T07:00:00.000Z")
    lines = [n for n in alerting.alert_lines() if "task_failed (send-digest)" in n]
    assert [line.split(":")[0] for line in lines] == [
        "[ERROR] task_failed (send-digest)",
        "[RESOLVED] task_failed (send-digest)",
    ]


def test_a_batch_with_too_many_invalid_leads_warns_with_the_count(
    project: Project, lead: Lead
) -> None:
    """3 of 10 leads invalid is above invalidLeadAlertRatio (0.2): a warning naming the count
    and the first reason; a clean batch resolves it."""
    alerting = Alerting(project)
    good = [lead(f"g{i}", 0.9) for i in range(7)]
    bad = [lead("b0", "high"), lead("b1", -1), lead("b2", None)]
    project.write_state({"redditQueue": good + bad})
    run_task(alerting.app, "nightly-batch", "schedule")
    project.write_state({"redditQueue": good})
    project.clock.advance(hours(24))
    run_task(alerting.app, "nightly-batch", "schedule")

    lines = [n for n in alerting.alert_lines() if "invalid_leads" in n]
    assert lines == [
        (
            "[WARNING] invalid_leads (nightly-batch): 3 of 10 leads are invalid (30%), above "
            "invalidLeadAlertRatio (0.2); the first: b0: score 'high' is not a finite number"
        ),
        (
            "[RESOLVED] invalid_leads (nightly-batch): 3 of 10 leads are invalid (30%), above "
            "invalidLeadAlertRatio (0.2); the first: b0: score 'high' is not a finite number"
        ),
    ]


def test_a_heartbeats_delivery_counts_as_the_mornings_success(project: Project, lead: Lead) -> None:
    """Yesterday's send succeeded; today's 06:00 got a 429 and a heartbeat delivered at 07:00.
    no_recent_success (send-digest) fired at 08:00 all the same (only send-digest runs were
    counted) and stayed until the next morning."""
    from nightly_batch.alerts.checks import check_health  # noqa: PLC0415

    alerting = Alerting(project)
    app = alerting.app
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))
    assert run_task(app, "send-digest", "schedule").ok  # d1 06:00
    project.clock.advance(hours(17))
    run_task(app, "nightly-batch", "schedule")  # d1 23:00
    project.clock.advance(hours(7))
    project.channels["log"] = RecordingChannel("log", status="rate-limited", error="HTTP 429")
    assert not run_task(app, "send-digest", "schedule").ok  # d2 06:00
    project.channels["log"] = RecordingChannel("log")
    project.clock.advance(hours(1))
    run_task(app, "heartbeat", "schedule")  # d2 07:00: delivered
    project.clock.advance(hours(1.5))
    check_health(app, app.clock.now())

    assert not [n for n in alerting.alert_lines() if "no_recent_success (send-digest)" in n]


def test_a_critical_alert_is_logged_at_critical(project: Project) -> None:
    """A critical alert was logged at error, so `journalctl -p crit` (and the seed's
    `grep CRITICAL`) could never find one."""
    from structlog.testing import capture_logs  # noqa: PLC0415

    alerting = Alerting(project)
    assert alerting.app.alerts is not None
    with capture_logs() as logs:
        alerting.app.alerts.fire("low_disk", "-", "critical", "0.5% free")
        alerting.app.alerts.fire("clock_jump", "-", "warning", "moved 300 s")

    levels = {
        entry["alert"]: entry["log_level"] for entry in logs if entry["event"] == "alert.firing"
    }
    assert levels == {"low_disk": "critical", "clock_jump": "warning"}
