"""Delivery end to end: the CLI against a real local server, notices, owed retries, no leaks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from conftest import Project
from fakes import dated, hours
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.delivery.channels.discord import DiscordChannel
from nightly_batch.delivery.channels.slack import SlackChannel
from nightly_batch.observability.setup import configure_logging
from nightly_batch.tasks.runner import run_task
from servers import webhook_server

Lead = Callable[..., dict[str, Any]]
HOOK = "https://hooks.slack.com/services/T000/B000/XXXXSLACKSECRET"


@pytest.fixture
def webhook() -> Iterator[tuple[int, list[tuple[str, bytes]]]]:
    with webhook_server() as served:
        yield served


def night(project: Project, lead: Lead, count: int = 2) -> None:
    project.write_state({"redditQueue": [lead(f"l{i}", 0.9) for i in range(count)]})
    run_task(project.app(), "nightly-batch", "schedule")


def test_cli_send_digest_posts_to_a_real_local_webhook(
    project: Project,
    lead: Lead,
    webhook: tuple[int, list[tuple[str, bytes]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A host in allowedWebhookHosts receives the digest over plain http, exactly once."""
    port, received = webhook
    project.write_config(
        digestNotificationChannel="slack", allowedWebhookHosts=[f"127.0.0.1:{port}"]
    )
    project.write_state({"redditQueue": [lead("a", 0.9, question="Self-host <b>mail</b>?")]})
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:{port}/hooks/relay-token")
    monkeypatch.setenv("APP_URL", "https://leads.example.com")
    config = ["--config", str(project.config_path)]

    assert main(["run-once", "nightly-batch", *config]) == 0
    assert main(["run-once", "send-digest", *config]) == 0
    assert main(["run-once", "send-digest", *config]) == 0

    out = capsys.readouterr().out
    [(path, raw)] = received
    payload = parse_json(raw)
    assert path == "/hooks/relay-token"
    assert payload["text"].startswith("🚀 1 Reddit Leads Ready for Review")
    assert "Self-host &lt;b&gt;mail&lt;/b&gt;?" in payload["blocks"][2]["text"]["text"]
    assert payload["blocks"][-1]["elements"][0]["url"].startswith(
        "https://leads.example.com/digests/digest-"
    )
    assert "send-digest: ok" in out
    assert "was already delivered to slack" in out


def test_a_host_not_listed_is_refused_before_anything_is_sent(
    project: Project,
    lead: Lead,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """check-config refuses a webhook on a foreign host, naming the variable but not the URL's secret."""
    project.write_config(digestNotificationChannel="slack")
    monkeypatch.setenv(
        "SLACK_WEBHOOK_URL", "https://hooks.slack.com.evil.example/services/T/B/TOKEN123"
    )

    code = main(["check-config", "--config", str(project.config_path)])

    err = capsys.readouterr().err
    assert code == 2
    assert (
        "SLACK_WEBHOOK_URL points at hooks.slack.com.evil.example, which is not one of hooks.slack.com, hooks.slack-gov.com"
        in err
    )
    assert "TOKEN123" not in err


@respx.mock
def test_a_404_channel_is_reported_through_the_other_channel(project: Project, lead: Lead) -> None:
    """Slack answers 404: not retried, and the log channel carries the notice, Slack does not."""
    project.write_config(digestNotificationChannel=["slack", "log"])
    route = respx.post(HOOK).respond(404, text="no_service")
    night(project, lead)
    app = project.app({"SLACK_WEBHOOK_URL": HOOK}, real_channels=True)

    with capture_logs() as logs:
        outcome = run_task(app, "send-digest", "schedule")

    assert outcome.ok
    assert route.call_count == 1
    notices = [entry for entry in logs if entry["event"] == "notice"]
    assert len(notices) == 1
    assert notices[0]["text"].startswith(
        "nightly-batch could not deliver the digest to slack: configuration: HTTP 404: no_service."
    )
    assert "XXXXSLACKSECRET" not in repr(logs)


@respx.mock
def test_the_fallback_channel_is_used_when_every_primary_fails(
    project: Project, lead: Lead
) -> None:
    """Slack down (500s): the fallback (log) delivers, and the run succeeds."""
    project.write_config(digestNotificationChannel="slack", digestFallbackChannel="log")
    respx.post(HOOK).respond(503)
    night(project, lead)
    app = project.app({"SLACK_WEBHOOK_URL": HOOK}, real_channels=True)

    outcome = run_task(app, "send-digest", "schedule")

    assert outcome.ok
    assert outcome.message.startswith(
        "digest notification sent (2 leads) to log; failed on slack: transient: HTTP 503"
    )


@respx.mock
def test_owed_deliveries_are_retried_by_heartbeats_until_they_succeed(
    project: Project, lead: Lead
) -> None:
    """A transient failure is retried by a later heartbeat (after back-off), then never again."""
    project.write_config(digestNotificationChannel="slack")
    route = respx.post(HOOK).mock(
        side_effect=[httpx.Response(503)] * 3 + [httpx.Response(200, text="ok")]
    )
    night(project, lead)
    app = project.app({"SLACK_WEBHOOK_URL": HOOK}, real_channels=True)
    assert not run_task(app, "send-digest", "schedule").ok

    project.clock.advance(timedelta(minutes=1))
    early = run_task(app, "heartbeat", "schedule")
    project.clock.advance(timedelta(minutes=5))
    due = run_task(app, "heartbeat", "schedule")
    project.clock.advance(timedelta(minutes=30))
    after = run_task(app, "heartbeat", "schedule")

    assert early.message == "heartbeat ok"
    assert due.message == "heartbeat ok; retried owed deliveries: slack sent"
    assert after.message == "heartbeat ok"
    assert route.call_count == 4


def test_a_crash_between_post_and_record_resends_only_that_message(
    project: Project, lead: Lead
) -> None:
    """A `pending` record left by a killed process is resent once; after success, nothing more."""
    night(project, lead)
    app = project.app()
    digest = parse_json((project.digests / dated("digest-2026-11-28.json")).read_bytes())
    # What a process killed right after its POST leaves behind.
    app.store.begin_delivery(
        digest["batchId"],
        "log",
        dated("2026-11-28"),
        dated("digest-2026-11-28.json"),
        dated("2026-11-28T23:00:00.000Z"),
    )

    project.clock.advance(timedelta(minutes=11))
    retried = run_task(app, "heartbeat", "schedule")
    project.clock.advance(hours(1))
    rerun = run_task(app, "send-digest", "manual")
    later = run_task(app, "heartbeat", "schedule")

    assert retried.message == "heartbeat ok; retried owed deliveries: log sent"
    assert rerun.message == dated("digest-2026-11-28.json was already delivered to log")
    assert later.message == "heartbeat ok"
    assert len(project.channels["log"].sent) == 1


SECRETS = {
    "SLACK_WEBHOOK_URL": HOOK,
    "DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/42/DISCORDTOKENSECRET",
    "EMAIL_API_KEY": "SG.abcdefghijkl.SENDGRIDSECRETKEY",
    "EMAIL_PROVIDER": "sendgrid",
    "EMAIL_FROM": "leads@example.com",
}


@pytest.mark.parametrize("failure", [500, 401, 429, "timeout", "connect"])
@respx.mock
def test_no_secret_reaches_logs_records_or_messages_on_any_failure(
    project: Project, lead: Lead, failure: object
) -> None:
    """Every channel failing every way, logged at DEBUG: no token, key or webhook path anywhere."""
    project.write_config(
        digestNotificationChannel=["slack", "discord", "email"],
        digestNotificationTarget="ops@example.com",
    )
    for url in (
        HOOK,
        "https://discord.com/api/webhooks/42/DISCORDTOKENSECRET?wait=true",
        "https://api.sendgrid.com/v3/mail/send",
    ):
        route = respx.post(url)
        if failure == "timeout":
            route.mock(side_effect=httpx.ReadTimeout(f"read timeout for {url}"))
        elif failure == "connect":
            route.mock(side_effect=httpx.ConnectError(f"cannot connect to {url}"))
        else:
            route.respond(
                int(str(failure)),
                text=f"error at {url} token=SG.abcdefghijkl.SENDGRIDSECRETKEY",
                headers={"Retry-After": "9999"},
            )
    night(project, lead)
    app = project.app(SECRETS, real_channels=True)
    log_file = project.logs / "orchestrator.log"
    configure_logging(level="debug", log_file=log_file, redactor=app.redactor)

    outcome = run_task(app, "send-digest", "schedule")

    stored = [
        d.last_error or ""
        for d in app.store.deliveries_for(
            parse_json((project.digests / dated("digest-2026-11-28.json")).read_bytes())["batchId"]
        )
    ]
    everything = (
        log_file.read_text() + outcome.message + " ".join(stored) + project.state_path.read_text()
    )
    # A read timeout is ambiguous (it may have arrived), not a failure: the run says so.
    assert outcome.ok == (failure == "timeout")
    for secret in ("XXXXSLACKSECRET", "DISCORDTOKENSECRET", "SENDGRIDSECRETKEY"):
        assert secret not in everything


@respx.mock
def test_every_channel_of_an_app_posts_on_one_http_client_closed_with_the_app(
    project: Project, lead: Lead
) -> None:
    """Slack and Discord share the App's one client (no client per build left open), and
    closing the App closes it."""
    project.write_config(digestNotificationChannel=["slack", "discord"])
    slack = respx.post(HOOK).respond(200, text="ok")
    discord = respx.post(url__startswith=SECRETS["DISCORD_WEBHOOK_URL"]).respond(
        200, json={"id": "1"}
    )
    night(project, lead)
    app = project.app(SECRETS, real_channels=True)

    assert run_task(app, "send-digest", "schedule").ok
    built_slack, built_discord = app.channel("slack"), app.channel("discord")
    assert isinstance(built_slack, SlackChannel)
    assert isinstance(built_discord, DiscordChannel)
    clients = {built_slack.poster.client, built_discord.poster.client}

    assert (slack.call_count, discord.call_count) == (1, 1)
    [client] = clients
    assert not client.is_closed
    app.close()
    assert client.is_closed
