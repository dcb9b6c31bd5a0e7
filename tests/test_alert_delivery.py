"""Alerts leaving the process: separate CLI runs, Slack down so e-mail carries it, pings, CLI."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest
import respx
from aiosmtpd.smtp import SMTP, Envelope, Session

from conftest import Project
from daemon_process import wait_for
from fakes import hours
from nightly_batch.alerts.wiring import attach_alerting, flush
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.errors import TaskError
from nightly_batch.tasks.result import RunInfo, TaskResult
from nightly_batch.tasks.runner import run_task
from servers import smtp_server, webhook_server

ALERT_HOOK = "https://hooks.slack.com/services/T0/B0/ALERTHOOKSECRET"


@pytest.fixture
def relay() -> Iterator[tuple[int, list[tuple[str, bytes]]]]:
    with webhook_server() as served:
        yield served


def test_separate_run_once_processes_escalate_without_repeating(
    project: Project, relay: tuple[int, list[tuple[str, bytes]]]
) -> None:
    """Three failing `run-once send-digest` processes: one error alert, then one critical."""
    port, received = relay
    project.write_config(allowedWebhookHosts=[f"127.0.0.1:{port}"])
    project.digests.mkdir(parents=True)
    (project.digests / "digest-2099-01-01.json").write_text("{broken")
    environ = {**os.environ, "SLACK_ERROR_WEBHOOK": f"http://127.0.0.1:{port}/alerts"}

    codes = [
        subprocess.run(
            project.command("send-digest"),
            env=environ,
            capture_output=True,
            check=False,
        ).returncode
        for _ in range(3)
    ]

    texts = [parse_json(body)["text"] for _, body in received]
    assert codes == [1, 1, 1]
    assert len(texts) == 2
    assert texts[0].startswith("[ERROR] task_failed (send-digest): send-digest failed: ")
    assert "digest-2099-01-01.json: not valid JSON" in texts[0]
    assert texts[1].startswith(
        "[CRITICAL] task_failed (send-digest): send-digest failed (3 runs in a row)"
    )
    assert "Traceback" not in "".join(texts)


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    with smtp_server(box) as port:
        yield port, box


def failing(_app: object, _run: RunInfo) -> TaskResult:
    raise TaskError("every channel failed (slack: transient: HTTP 503)")


@respx.mock
def test_slack_alert_webhook_down_so_the_alert_arrives_by_email(
    project: Project, mailbox: tuple[int, Mailbox]
) -> None:
    """Slack answers 500 to everything: e-mail carries the alert, and Slack hears nothing of its own failure."""
    slack = respx.post(ALERT_HOOK).respond(500)
    port, box = mailbox
    project.write_config(alertGroupWaitSeconds=0)
    app = project.app(
        {
            "SLACK_ERROR_WEBHOOK": ALERT_HOOK,
            "ALERT_EMAIL_TO": "oncall@example.com",
            "EMAIL_FROM": "nightly-batch@example.com",
            "SMTP_URL": f"smtp://127.0.0.1:{port}?starttls=false",
        }
    )
    attach_alerting(app)

    try:
        run_task(app, "send-digest", "schedule", handler=failing)
        wait_for(lambda: len(box.mails) >= 2, 20, "the alert and the slack failure notice by mail")
    finally:
        # The sender thread must not outlive respx's mock, or its next POST escapes it.
        flush(app)

    subjects = [mail["Subject"] for mail in box.mails]
    slack_texts = [parse_json(call.request.content)["text"] for call in slack.calls]
    assert subjects[0].startswith("[ERROR] task_failed (send-digest)")
    assert any(
        s.startswith(
            "[ERROR] alert_channel_failed (slack): alerts could not be sent through slack: HTTP 500"
        )
        for s in subjects
    )
    assert slack.call_count == 3  # the one alert, tried three times
    assert all("task_failed" in text for text in slack_texts)
    assert not any("alert_channel_failed" in text for text in slack_texts)
    assert "ALERTHOOKSECRET" not in " ".join(subjects)


@respx.mock
def test_heartbeat_ping_url_gets_start_and_success_or_fail(project: Project) -> None:
    """Healthchecks-style: /start before the job, the bare URL after success, /fail after failure."""
    base = "https://hc-ping.example.com/0f8e2b6a-1111-2222-3333-444455556666"
    start = respx.post(f"{base}/start").respond(200)
    success = respx.post(base).respond(200)
    fail = respx.post(f"{base}/fail").respond(200)
    app = project.app({"HEARTBEAT_PING_URL": base})
    attach_alerting(app)

    good = run_task(app, "heartbeat", "schedule")
    bad = run_task(app, "send-digest", "schedule", handler=failing)
    flush(app)

    assert (start.call_count, success.call_count, fail.call_count) == (2, 1, 1)
    assert success.calls[0].request.url.params["rid"] == good.run_id
    assert fail.calls[0].request.url.params["rid"] == bad.run_id


@respx.mock
def test_a_dead_ping_service_never_fails_or_holds_a_job(project: Project) -> None:
    """Ping errors are logged; the run's outcome is untouched."""
    respx.post(url__startswith="https://hc-ping.example.com/").mock(
        side_effect=httpx.ConnectError("down")
    )
    app = project.app({"HEARTBEAT_PING_URL": "https://hc-ping.example.com/abc"})
    attach_alerting(app)

    outcome = run_task(app, "heartbeat", "schedule")
    flush(app)

    assert outcome.ok


def test_alerts_cli_lists_and_silences(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """`alerts --json` shows alerts with their notifications; silence and unsilence work by id."""
    app = project.app()
    attach_alerting(app)
    run_task(app, "send-digest", "schedule", handler=failing)
    flush(app)
    app.store.close()
    # Later the same day, on the test's own clock: the alerts are inside the default --since 24h.
    project.clock.advance(hours(1))

    assert (
        main(
            project.main_args(
                "alerts",
                "silence",
                "--name",
                "task_failed",
                "--for",
                "2h",
                "--reason",
                "fixing slack",
            )
        )
        == 0
    )
    silenced = capsys.readouterr().out.splitlines()[-1]
    ident = silenced.split()[1].rstrip(":")
    assert main(project.main_args("alerts", "--json")) == 0
    listed = parse_json(capsys.readouterr().out.encode())
    assert main(project.main_args("alerts", "unsilence", ident)) == 0
    assert main(project.main_args("alerts", "unsilence", ident)) == 2

    [alert] = listed["alerts"]
    assert (alert["name"], alert["task"], alert["state"], alert["severity"]) == (
        "task_failed",
        "send-digest",
        "firing",
        "error",
    )
    assert [n["kind"] for n in listed["notifications"]] == ["firing"]
    assert (
        listed["notifications"][0]["status"] == "logged"
    )  # no alert channel configured: the log only
    assert [s["reason"] for s in listed["silences"]] == ["fixing slack"]
    assert "no silence with id" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "duration", "sentence"),
    [
        (
            "task_faild",
            "2h",
            (
                "--name 'task_faild' matches no alert; the alerts are task_failed, no_recent_success, "
                "digest_missing, digest_undelivered, empty_batch, invalid_leads, delivery_ambiguous, task_hung, "
                "heartbeat_stale, batch_host_down, clock_jump, low_disk, alert_channel_failed (* and ? match any text)."
            ),
        ),
        (
            "task_failed",
            "0m",
            (
                "--for '0m' must be longer than nothing and at most 30 days (a longer silence would "
                "outlive the reason for it)."
            ),
        ),
        (
            "digest_*",
            "31d",
            (
                "--for '31d' must be longer than nothing and at most 30 days (a longer silence would "
                "outlive the reason for it)."
            ),
        ),
    ],
)
def test_a_silence_for_no_alert_or_of_no_length_is_refused_in_one_sentence(
    project: Project, capsys: pytest.CaptureFixture[str], name: str, duration: str, sentence: str
) -> None:
    arguments = ("alerts", "silence", "--name", name, "--for", duration, "--reason", "r")

    code = main(project.main_args(*arguments))

    assert code == 2
    assert capsys.readouterr().err.strip() == f"nightly-batch: {sentence}"
    assert main(project.main_args("alerts", "--json")) == 0
    assert parse_json(capsys.readouterr().out.encode())["silences"] == []


def test_a_wildcard_silence_that_matches_alerts_is_taken(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ("alerts", "silence", "--name", "digest_*", "--for", "30d", "--reason", "r")

    assert main(project.main_args(*arguments)) == 0
    assert "digest_* (*) until" in capsys.readouterr().out
