"""The signed webhook, for the digest and for alerts: what it posts, and its signature checked
by the receiver recipes of docs/ERROR_ALERTS.md (openssl in a shell, and Python's hmac)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from conftest import Cli, Project
from fakes import at, dated
from nightly_batch.alerts.wiring import attach_alerting, flush
from nightly_batch.core.jsonio import parse_json
from nightly_batch.errors import ConfigError
from nightly_batch.tasks.result import RunInfo, TaskResult
from nightly_batch.tasks.runner import run_task

Lead = Callable[..., dict[str, Any]]
HOOK = "https://hooks.example.net/nightly/digest"
ALERTS = "https://hooks.example.net/nightly/alerts"
SECRET = "webhook-secret-of-32-characters!"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "ERROR_ALERTS.md"


def recipe(marker: str) -> str:
    """The code block under `<!-- marker -->` in docs/ERROR_ALERTS.md, as printed."""
    text = DOCS.read_text()
    found = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/ERROR_ALERTS.md has no {marker} block"
    return found.group(1)


def shell_check(tmp_path: Path, request: httpx.Request, secret: str = SECRET, late: int = 0) -> str:
    """The docs' openssl recipe, run by bash on the request as received, `late` seconds
    after it was sent."""
    (tmp_path / "body.json").write_bytes(request.content)
    result = subprocess.run(
        ["bash", "-c", recipe("webhook-verify-shell")],
        cwd=tmp_path,
        env={
            **os.environ,
            "TIMESTAMP": request.headers["X-Nightly-Batch-Timestamp"],
            "SIGNATURE": request.headers["X-Nightly-Batch-Signature"],
            "WEBHOOK_SECRET": secret,
            "NOW": str(int(request.headers["X-Nightly-Batch-Timestamp"]) + late),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def python_check(request: httpx.Request, secret: str = SECRET, now: float | None = None) -> bool:
    """The docs' Python recipe, run as printed (with its clock moved to `now`)."""
    scope: dict[str, Any] = {}
    exec(recipe("webhook-verify-python"), scope)  # noqa: S102  (our own docs, as printed)
    if now is not None:
        scope["time"] = type("Clock", (), {"time": staticmethod(lambda: now)})
    verified: Callable[[str, str, str, bytes], bool] = scope["verified"]
    return verified(
        secret,
        request.headers["X-Nightly-Batch-Timestamp"],
        request.headers["X-Nightly-Batch-Signature"],
        request.content,
    )


@respx.mock
def test_the_digest_arrives_signed_and_the_docs_recipes_verify_it(
    project: Project, lead: Lead, tmp_path: Path
) -> None:
    project.write_config(digestNotificationChannel=["webhook"])
    route = respx.post(HOOK).respond(202)
    project.write_state(
        {
            "redditQueue": [
                lead("a", 9, question="Which proxy — für zwei Domains?"),
                lead("b", 8, subreddit="homelab"),
                lead("n", 0.7),
            ]
        }
    )
    app = project.app({"WEBHOOK_URL": HOOK, "WEBHOOK_SECRET": SECRET}, real_channels=True)
    run_task(app, "nightly-batch", "schedule")
    project.clock.set(at(dated("2026-11-29T07:00:00Z")))

    outcome = run_task(app, "send-digest", "schedule")

    assert outcome.message == "digest notification sent (2 leads) to webhook"
    request = route.calls.last.request
    body = parse_json(request.content)
    batch = body["digest"]["batchId"]
    assert body["version"] == 1
    assert body["type"] == "digest"
    assert body["idempotencyKey"] == f"{batch}:webhook"
    assert request.headers["X-Nightly-Batch-Idempotency-Key"] == f"{batch}:webhook"
    assert request.headers["Content-Type"] == "application/json"
    assert [item["id"] for item in body["digest"]["leads"]] == ["a", "b"]
    assert body["digest"]["leads"][0]["title"] == "Which proxy — für zwei Domains?"
    assert body["digest"]["leads"][0]["age"] == "21 h ago"
    assert body["digest"]["nearMisses"][0]["id"] == "n"
    assert body["digest"]["leftOut"] == "Left out: 1 below the threshold."
    assert request.headers["X-Nightly-Batch-Timestamp"] == str(int(project.clock.now().timestamp()))
    assert shell_check(tmp_path, request) == "signature valid"
    assert python_check(request, now=project.clock.now().timestamp())
    assert SECRET not in request.content.decode() + str(request.headers)


@respx.mock
def test_a_changed_body_or_another_key_fails_both_recipes(
    project: Project, lead: Lead, tmp_path: Path
) -> None:
    """The checks can fail: one byte of the body changed, the wrong key, an old timestamp."""
    project.write_config(digestNotificationChannel=["webhook"])
    route = respx.post(HOOK).respond(200)
    project.write_state({"redditQueue": [lead("a", 9)]})
    app = project.app({"WEBHOOK_URL": HOOK, "WEBHOOK_SECRET": SECRET}, real_channels=True)
    run_task(app, "nightly-batch", "schedule")
    run_task(app, "send-digest", "schedule")
    sent = route.calls.last.request
    now = project.clock.now().timestamp()
    tampered = httpx.Request(
        "POST", HOOK, headers=sent.headers, content=sent.content.replace(b'"a"', b'"z"')
    )

    assert shell_check(tmp_path, tampered) == "signature INVALID"
    assert not python_check(tampered, now=now)
    assert shell_check(tmp_path, sent, secret="another-secret-of-32-characters") == (
        "signature INVALID"
    )
    assert not python_check(sent, now=now + 301)  # a replay, five minutes on
    assert python_check(sent, now=now + 299)
    assert shell_check(tmp_path, sent, late=301) == "signature INVALID"
    assert shell_check(tmp_path, sent, late=299) == "signature valid"


@respx.mock
def test_every_alert_reaches_the_webhook_even_when_slack_took_it(project: Project) -> None:
    """Slack delivers the error alert, so e-mail is not used; the webhook gets it regardless,
    as data, with its notification id as the idempotency key."""
    slack = respx.post("https://hooks.slack.com/services/T0/B0/x").respond(200, text="ok")
    hook = respx.post(ALERTS).respond(204)
    project.write_config(alertGroupWaitSeconds=0)
    app = project.app(
        {
            "SLACK_ERROR_WEBHOOK": "https://hooks.slack.com/services/T0/B0/x",
            "ALERT_WEBHOOK_URL": ALERTS,
            "WEBHOOK_SECRET": SECRET,
        }
    )
    attach_alerting(app)

    def failing(_app: object, _run: RunInfo) -> TaskResult:
        raise RuntimeError("the disk is full")

    try:
        run_task(app, "send-digest", "schedule", handler=failing)
    finally:
        flush(app)

    assert slack.call_count == 1
    body = parse_json(hook.calls.last.request.content)
    (alert,) = body["alerts"]
    assert body["type"] == "alert"
    assert body["idempotencyKey"] == f"alert:{alert['id']}"
    assert alert["idempotencyKey"] == f"alert:{alert['id']}"  # each alert's own, too
    assert (alert["alertname"], alert["task"], alert["kind"], alert["severity"]) == (
        "task_failed",
        "send-digest",
        "firing",
        "error",
    )
    assert "the disk is full" in alert["text"]
    assert python_check(hook.calls.last.request, now=project.clock.now().timestamp())


@respx.mock
def test_an_ambiguous_attempt_is_sent_once_more_with_the_same_key(
    project: Project, lead: Lead
) -> None:
    """A read timeout after the request went out: the receiver drops a repeat by its key."""
    project.write_config(digestNotificationChannel=["webhook"])
    route = respx.post(HOOK).mock(side_effect=[httpx.ReadTimeout("no answer"), httpx.Response(200)])
    project.write_state({"redditQueue": [lead("a", 9)]})
    app = project.app({"WEBHOOK_URL": HOOK, "WEBHOOK_SECRET": SECRET}, real_channels=True)
    run_task(app, "nightly-batch", "schedule")

    outcome = run_task(app, "send-digest", "schedule")

    assert outcome.message == "digest notification sent (1 lead) to webhook"
    first, second = (call.request for call in route.calls)
    assert first.content == second.content
    assert (
        first.headers["X-Nightly-Batch-Idempotency-Key"]
        == (second.headers["X-Nightly-Batch-Idempotency-Key"])
    )


@pytest.mark.parametrize(
    ("environ", "sentence"),
    [
        (
            {"WEBHOOK_URL": HOOK},
            "the webhook channel needs WEBHOOK_SECRET: its messages are signed with it.",
        ),
        (
            {"WEBHOOK_URL": HOOK, "WEBHOOK_SECRET": "short"},
            "WEBHOOK_SECRET must be at least 16 characters long.",
        ),
        ({"WEBHOOK_SECRET": SECRET}, "the webhook channel needs WEBHOOK_URL."),
        (
            {"WEBHOOK_URL": "http://hooks.example.net/x", "WEBHOOK_SECRET": SECRET},
            (
                "WEBHOOK_URL must use https (plain http only for hosts in allowedWebhookHosts): "
                "http://hooks.example.net/..."
            ),
        ),
        (
            {"WEBHOOK_URL": HOOK, "ALERT_WEBHOOK_URL": ALERTS},
            "ALERT_WEBHOOK_URL needs WEBHOOK_SECRET: its messages are signed with it.",
        ),
    ],
)
def test_check_config_refuses_what_the_webhook_cannot_sign_or_reach(
    project: Project, cli: Cli, environ: dict[str, str], sentence: str
) -> None:
    project.write_config(digestNotificationChannel=["webhook"])

    said = cli("check-config", environ)

    assert said.code == 2
    assert sentence in said.err
    assert SECRET not in said.err


@respx.mock
def test_test_notify_posts_a_signed_notice_through_each_webhook(
    project: Project, cli: Cli, tmp_path: Path
) -> None:
    project.write_config(digestNotificationChannel=["webhook"])
    digest = respx.post(HOOK).respond(200)
    alerts = respx.post(ALERTS).respond(200)

    said = cli(
        "test-notify", {"WEBHOOK_URL": HOOK, "ALERT_WEBHOOK_URL": ALERTS, "WEBHOOK_SECRET": SECRET}
    )

    out = said.out
    assert said.code == 0
    assert re.search(r"^webhook: delivered \(notice:[0-9a-f]{24}\)$", out, re.MULTILINE)
    assert re.search(r"^alerts via webhook: delivered \(notice:[0-9a-f]{24}\)$", out, re.MULTILINE)
    for route in (digest, alerts):
        request = route.calls.last.request
        assert parse_json(request.content)["type"] == "notice"
        assert shell_check(tmp_path, request) == "signature valid"


def test_a_config_without_webhooks_needs_no_secret(project: Project) -> None:
    """The log channel alone still needs nothing (a fresh install works); the webhook
    channel is refused without its secret."""
    assert project.app(real_channels=True).channel("log").name == "log"
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        project.app({"WEBHOOK_URL": HOOK}, real_channels=True).channel("webhook")
