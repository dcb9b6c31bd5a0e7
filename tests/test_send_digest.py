"""send-digest: the newest fresh digest, once per channel, and honest about failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from structlog.testing import capture_logs

from conftest import Project
from fakes import RecordingChannel, at, dated, hours
from nightly_batch.tasks.runner import run_task

Lead = Callable[..., dict[str, Any]]


def night(project: Project, lead: Lead, *leads: tuple[str, float]) -> None:
    project.write_state({"redditQueue": [lead(i, s) for i, s in leads]})
    run_task(project.app(), "nightly-batch", "schedule")


def test_nothing_to_send_is_a_recorded_success(project: Project) -> None:
    """With no digest at all, send-digest says so and succeeds; the state notes the run."""
    project.write_state({})

    outcome = run_task(project.app(), "send-digest", "schedule")

    assert outcome.ok
    assert outcome.message == f"nothing to send: no digest in {project.digests}"
    history = project.read_state()["taskHistory"]
    assert [(h["type"], h["result"], h["message"]) for h in history] == [
        ("send-digest", "ok", outcome.message)
    ]
    assert "lastDigestNotificationAt" not in project.read_state()


def test_delivery_moves_last_notification_time_and_sends_the_leads(
    project: Project, lead: Lead
) -> None:
    """A successful send carries the leads in digest order and sets lastDigestNotificationAt."""
    night(project, lead, ("a", 0.8), ("b", 0.95), ("c", 0.1))
    project.clock.set(at(dated("2026-11-29T06:00:00Z")))

    outcome = run_task(
        project.app({"APP_URL": "https://leads.example.com/"}), "send-digest", "schedule"
    )

    message = project.channels["log"].sent[0]
    assert outcome.message == "digest notification sent (2 leads) to log"
    assert message.title == "🚀 2 Reddit Leads Ready for Review"
    assert [lead.id for lead in message.leads] == ["b", "a"]
    assert message.url == dated("https://leads.example.com/digests/digest-2026-11-28.json")
    assert project.read_state()["lastDigestNotificationAt"] == dated("2026-11-29T06:00:00.000Z")


def test_a_digest_older_than_the_limit_is_not_sent(project: Project, lead: Lead) -> None:
    """A stale digest is never re-sent morning after morning (the original did that)."""
    night(project, lead, ("a", 0.9))
    project.clock.advance(hours(24.5))

    outcome = run_task(project.app(), "send-digest", "schedule")

    assert outcome.ok
    assert outcome.message == (
        dated("nothing to send: the newest digest digest-2026-11-28.json is 24.5 h old, ")
        + "older than digestMaxAgeHours (24)"
    )
    assert "log" not in project.channels


def test_an_empty_digest_is_not_sent_and_warns(project: Project, lead: Lead) -> None:
    """No leads, no message (unless sendEmptyDigest); a warning says why."""
    night(project, lead, ("a", 0.1))

    with capture_logs() as logs:
        outcome = run_task(project.app(), "send-digest", "schedule")

    assert outcome.message == dated(
        "not sent: digest-2026-11-28.json holds no leads (sendEmptyDigest is false)"
    )
    assert {
        "event": "digest.empty",
        "digest": dated("digest-2026-11-28.json"),
        "reason": "sendEmptyDigest is false",
        "log_level": "warning",
    } in logs


def test_an_empty_digest_is_sent_when_configured(project: Project, lead: Lead) -> None:
    """sendEmptyDigest=true delivers the empty digest."""
    project.write_config(sendEmptyDigest=True)
    night(project, lead, ("a", 0.1))

    outcome = run_task(project.app(), "send-digest", "schedule")

    assert outcome.message == "digest notification sent (0 leads) to log"


def test_every_channel_failing_fails_the_run_and_keeps_the_timestamp(
    project: Project, lead: Lead
) -> None:
    """lastDigestNotificationAt moves only on success; the run is a failure (exit code 1)."""
    night(project, lead, ("a", 0.9))
    project.channels["log"] = RecordingChannel(
        "log", status="transient", error="connection refused"
    )
    app = project.app()

    outcome = run_task(app, "send-digest", "schedule")

    assert not outcome.ok
    assert outcome.exit_code == 1
    assert outcome.message == "every channel failed (log: transient: connection refused)"
    assert "lastDigestNotificationAt" not in project.read_state()
    assert project.read_state()["taskHistory"][-1]["result"] == "error"
    record = app.store.deliveries_for(project.channels["log"].sent[0].batch_id)[0]
    assert (record.status, record.attempts, record.last_error) == (
        "failed",
        1,
        "connection refused",
    )

    project.channels["log"].status = "delivered"
    retried = run_task(app, "send-digest", "manual")

    assert retried.ok
    assert app.store.deliveries_for(record.batch_id)[0].attempts == 2


def test_fan_out_sends_to_each_channel_once(project: Project, lead: Lead) -> None:
    """With several channels, one failing does not stop the others, and no channel gets two."""
    project.write_config(digestNotificationChannel=["log", "slack"])
    night(project, lead, ("a", 0.9))
    project.channels["slack"] = RecordingChannel("slack", status="transient", error="503")
    app = project.app()

    first = run_task(app, "send-digest", "schedule")
    project.channels["slack"].status = "delivered"
    second = run_task(app, "send-digest", "manual")
    third = run_task(app, "send-digest", "manual")

    assert (
        first.message == "digest notification sent (1 lead) to log; failed on slack: transient: 503"
    )
    assert second.message == "digest notification sent (1 lead) to slack"
    assert third.message == dated("digest-2026-11-28.json was already delivered to log, slack")
    assert len(project.channels["log"].sent) == 1
    assert len(project.channels["slack"].sent) == 2


def test_a_secret_in_a_channel_error_is_redacted_everywhere(project: Project, lead: Lead) -> None:
    """A failure message that quotes a webhook URL is stored and logged without its token."""
    night(project, lead, ("a", 0.9))
    secret = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"
    project.channels["log"] = RecordingChannel(
        "log", status="configuration", error=f"404 from {secret}"
    )
    app = project.app({"SLACK_WEBHOOK_URL": secret})

    with capture_logs() as logs:
        outcome = run_task(app, "send-digest", "schedule")

    record = app.store.deliveries_for(project.channels["log"].sent[0].batch_id)[0]
    assert "XXXXSECRETXXXX" not in outcome.message
    assert "XXXXSECRETXXXX" not in (record.last_error or "")
    assert "XXXXSECRETXXXX" not in repr(logs)
    assert "XXXXSECRETXXXX" not in project.state_path.read_text()


def test_the_fallback_is_not_used_while_a_primary_has_the_digest(
    project: Project, lead: Lead
) -> None:
    """Channels [slack, discord] with the log fallback: Slack delivered, Discord keeps failing.
    The second send left Slack alone (it has the digest) and used the fallback although Slack
    had delivered; now the fallback waits for every primary to fail."""
    project.write_config(
        digestNotificationChannel=["slack", "discord"], digestFallbackChannel="log"
    )
    night(project, lead, ("a", 0.9))
    project.channels["discord"] = RecordingChannel("discord", status="transient", error="502")
    app = project.app()

    first = run_task(app, "send-digest", "schedule")
    second = run_task(app, "send-digest", "manual")

    assert [len(project.channels[name].sent) for name in ("slack", "discord")] == [1, 2]
    assert "log" not in project.channels or project.channels["log"].sent == []
    assert first.ok
    assert second.ok  # the date is delivered (on Slack); Discord's failure is reported
    assert second.message == (
        dated("digest-2026-11-28.json was already delivered to slack")
        + "; failed on discord: transient: 502"
    )


def test_a_lead_linked_by_url_or_permalink_is_sent_with_its_link(
    project: Project, lead: Lead
) -> None:
    """Leads whose link is in `url` (not `link`) were sent with no link at all."""
    project.write_state(
        {
            "redditQueue": [
                {**lead("u", 0.9), "link": None, "url": "https://old.reddit.com/r/x/comments/u/"},
                {**lead("p", 0.9), "link": None, "permalink": "/r/x/comments/p/"},
                {**lead("n", 0.9), "link": None},
            ]
        }
    )
    run_task(project.app(), "nightly-batch", "schedule")

    assert run_task(project.app(), "send-digest", "schedule").ok

    [message] = project.channels["log"].sent
    assert {lead.id: lead.link for lead in message.leads} == {
        "u": "https://old.reddit.com/r/x/comments/u/",
        "p": "https://www.reddit.com/r/x/comments/p/",
        "n": None,  # listed without a link, not dropped
    }
