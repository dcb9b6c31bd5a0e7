"""An operator's week, on the test clock through the real runner, store and channels, with a
local HTTP server as Slack and a local SMTP server for the alerts: after every step, status,
the alerts, /metrics and the state file must tell the same story. The table below is the
specification: one row per step; then a real hang (ambiguous, confirmed) and two days of
Slack down."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Project
from fakes import EPOCH, dated, hours
from nightly_batch.alerts.wiring import attach_alerting, flush
from nightly_batch.cli.main import main
from nightly_batch.delivery.http import TIMEOUT
from nightly_batch.runtime.app import App
from nightly_batch.storage.status import gather_status
from nightly_batch.tasks.runner import run_task
from nightly_batch.web.metrics import StoreCollector
from servers import OK, Answer, smtp_server, webhook_server

Lead = Callable[..., dict[str, Any]]
TOO_MANY: Answer = (429, {"Retry-After": "9999"}, b"rate_limited")  # over a minute: a heartbeat's
DOWN: Answer = (503, {}, b"service unavailable")


@dataclass(frozen=True)
class Story:
    """What every reader says after a step."""

    delivery: str  # status --json: lastDigest.delivery
    slack: str  # status --json: the slack channel's state
    alerts: tuple[str, ...]  # alerts --json: the firing ones
    notified: str | None  # the state file: lastDigestNotificationAt
    posts: int  # what the Slack server received
    sent_total: float  # /metrics: nightly_batch_deliveries_total{result="sent"}
    failed_total: float  # /metrics: nightly_batch_deliveries_total{result="failed"}


class Week:
    def __init__(
        self, project: Project, port: int, received: list[tuple[str, bytes]], smtp_port: int
    ) -> None:
        self.project = project
        self.received = received
        project.write_config(
            digestNotificationChannel="slack",
            allowedWebhookHosts=[f"127.0.0.1:{port}"],
            digestTimeZone="UTC",
            alertGroupWaitSeconds=0,
        )
        self.app = project.app(
            {
                "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
                # Alerts by e-mail through a real local SMTP server.
                "ALERT_EMAIL_TO": "oncall@example.com",
                "EMAIL_FROM": "nightly-batch@example.com",
                "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?starttls=false",
            },
            real_channels=True,
        )
        attach_alerting(self.app)

    def at(self, moment: str) -> None:
        self.project.clock.set(EPOCH + (hours(0) if moment == "" else _offset(moment)))

    def run(self, task: str, trigger: str = "schedule") -> str:
        return run_task(self.app, task, trigger).message

    def story(self) -> Story:
        app: App = self.app
        status = gather_status(app.config, app.store, app.clock.now())
        digest = status["lastDigest"] or {"delivery": "-", "deliveries": []}
        slack = next((d["status"] for d in digest["deliveries"] if d["channel"] == "slack"), "-")
        totals = _delivery_totals(app)
        return Story(
            delivery=digest["delivery"],
            slack=slack,
            alerts=tuple(sorted(f"{a['name']} ({a['task']})" for a in status["alerts"])),
            notified=self.project.read_state().get("lastDigestNotificationAt"),
            posts=len(self.received),
            sent_total=totals.get("sent", 0.0),
            failed_total=totals.get("failed", 0.0),
        )


def _offset(moment: str) -> timedelta:
    """ "d1 06:00" is the epoch's next day at 06:00 UTC (the epoch is 23:00 of day 0)."""
    day, _, clock = moment.partition(" ")
    hour, minute = (int(part) for part in clock.split(":"))
    return timedelta(days=int(day[1:]), hours=hour - 23, minutes=minute)


def _delivery_totals(app: App) -> dict[str, float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(app))
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name == "nightly_batch_deliveries_total":
                result = sample.labels["result"]
                totals[result] = totals.get(result, 0.0) + sample.value
    return totals


@pytest.fixture
def slack() -> Iterator[tuple[int, list[tuple[str, bytes]], list[Any]]]:
    answers: list[Any] = [OK]

    def answer() -> Answer:
        chosen = answers[0]
        return chosen() if callable(chosen) else chosen  # type: ignore[no-any-return]

    with webhook_server(answer) as (port, received):
        yield port, received, answers


class Mailbox:
    """aiosmtpd's handler hook, by its name: keeps each alert mail's subject."""

    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.subjects.append(str(mail["Subject"]))
        return "250 Message accepted"


def hang() -> Answer:
    """Slack took the request and never answered in time: past the client's read timeout."""
    time.sleep(TIMEOUT.read + 1 if TIMEOUT.read else 16)
    return OK


@pytest.mark.slow  # the hang waits out the client's read timeout
def test_an_operators_week_tells_one_story(
    project: Project,
    lead: Lead,
    slack: tuple[int, list[tuple[str, bytes]], list[Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, received, answers = slack
    mailbox = Mailbox()
    with smtp_server(mailbox) as smtp_port:
        week = Week(project, port, received, smtp_port)
        _the_week(project, lead, week, received, answers, capsys)
        flush(week.app)
    assert any("task_failed" in subject for subject in mailbox.subjects), mailbox.subjects
    assert any("delivery_ambiguous" in subject for subject in mailbox.subjects)


def _the_week(
    project: Project,
    lead: Lead,
    week: Week,
    received: list[tuple[str, bytes]],
    answers: list[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The original system's state: its own keys, a last batch, and a queue.
    project.write_state(
        {
            "lastNightlyBatchAt": dated("2026-11-27T23:00:00.000Z"),
            "approvals": [],
            "redditQueue": [lead("a", 0.9), lead("b", 0.8)],
        }
    )
    d0, d1, d2 = (dated(f"2026-11-{day}T{{}}:00.000Z") for day in ("28", "29", "30"))

    def add_leads(*new: dict[str, Any]) -> bytes:
        state = project.read_state()
        return project.write_state({**state, "redditQueue": [*state["redditQueue"], *new]})

    steps: list[tuple[str, Callable[[], object], Story]] = [
        (
            "d0 14:00 installed: the first heartbeat",
            lambda: week.run("heartbeat"),
            Story("-", "-", (), None, 0, 0, 0),
        ),
        (
            "d0 17:30 a batch and a send by hand",
            lambda: (week.run("nightly-batch", "manual"), week.run("send-digest", "manual")),
            Story("delivered", "sent", (), d0.format("17:30"), 1, 1, 0),
        ),
        (
            "d0 23:00 the scheduled batch of the same date, two new leads",
            lambda: (add_leads(lead("c", 0.95), lead("d", 0.85)), week.run("nightly-batch")),
            Story("update owed", "update owed", (), d0.format("17:30"), 1, 1, 0),
        ),
        (
            "d1 06:00 the morning: an update with only the two",
            lambda: week.run("send-digest"),
            Story("delivered", "sent", (), d1.format("06:00"), 2, 2, 0),
        ),
        (
            "d1 23:00 the next night's batch",
            lambda: (add_leads(lead("e", 0.9)), week.run("nightly-batch")),
            Story("not sent", "not sent", (), d1.format("06:00"), 2, 2, 0),
        ),
        (
            "d2 06:00 Slack answers 429 with a long Retry-After",
            lambda: (answers.__setitem__(0, TOO_MANY), week.run("send-digest")),
            Story(
                "failed",
                "failed",
                ("task_failed (send-digest)",),
                d1.format("06:00"),
                3,
                2,
                1,
            ),
        ),
        (
            "d2 06:10 a heartbeat delivers it",
            lambda: (answers.__setitem__(0, OK), week.run("heartbeat")),
            Story("delivered", "sent", (), d2.format("06:10"), 4, 3, 1),
        ),
    ]
    for name, act, expected in steps:
        week.at(name.split(" ", 2)[0] + " " + name.split(" ", 2)[1])
        act()
        assert week.story() == expected, name

    # A hang: the request went out, no answer came. Ambiguous everywhere until the operator,
    # who sees the message in the channel, confirms it.
    week.at("d2 23:00")
    week.run("nightly-batch")
    answers[0] = hang
    week.at("d3 06:00")
    week.run("send-digest")
    answers[0] = OK
    ambiguous = week.story()
    week.at("d3 07:00")
    assert (
        main(project.main_args("deliveries", "confirm", dated("2026-11-30"), "--channel", "slack"))
        == 0
    )
    capsys.readouterr()
    week.run("heartbeat")
    confirmed = week.story()

    assert (ambiguous.delivery, ambiguous.slack, ambiguous.posts) == ("ambiguous", "ambiguous", 5)
    assert "delivery_ambiguous (send-digest)" in ambiguous.alerts
    assert "task_failed (send-digest)" not in ambiguous.alerts
    assert (confirmed.delivery, confirmed.slack, confirmed.posts) == ("delivered", "sent", 5)
    assert "delivery_ambiguous (send-digest)" not in confirmed.alerts

    # Slack down from the next morning on: retried by heartbeats with back-off while the digest
    # is younger than digestMaxAgeHours (24), never after; digest_undelivered fires past the
    # deadline (06:00 + digestDeadlineHours) while the digest is still worth sending.
    week.at("d3 23:00")
    week.run("nightly-batch")
    answers[0] = DOWN
    week.at("d4 06:00")
    week.run("send-digest")
    stories = {}
    for hour in range(6, 6 + 30):
        week.at(f"d{4 + (hour // 24)} {hour % 24:02d}:30")
        week.run("heartbeat")
        stories[hour] = week.story()
    attempts = len(received) - 5
    week.at("d6 06:30")
    week.run("heartbeat")

    assert stories[7].delivery == "failed"
    assert "digest_undelivered (send-digest)" not in stories[7].alerts  # before the deadline
    assert "digest_undelivered (send-digest)" in stories[12].alerts
    assert stories[12].sent_total == 3  # attempts: the confirmed one finished as ambiguous
    assert stories[12].failed_total > stories[7].failed_total > 1  # retried, and counted
    assert 3 <= attempts <= 3 * 30  # the heartbeat's retries, each the channel's own attempts
    assert len(received) - 5 == attempts  # older than digestMaxAgeHours: left alone
