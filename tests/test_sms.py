"""SMS for critical alerts through Twilio's Messages API, checked against its documented
request (a form POST with basic auth to /2010-04-01/Accounts/{AccountSid}/Messages.json) and
its documented errors (a JSON body with Twilio's own `code`)."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from conftest import Cli, Project
from nightly_batch.alerts.wiring import attach_alerting, flush
from nightly_batch.errors import ConfigError
from nightly_batch.rules.sms_text import is_gsm, one_segment, septets, ucs2_units
from nightly_batch.runtime.app import App
from nightly_batch.settings.config import load_config

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-secret"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
SMS_ENV = {
    "TWILIO_ACCOUNT_SID": SID,
    "TWILIO_AUTH_TOKEN": TOKEN,
    "ALERT_SMS_FROM": "+15005550006",
    "ALERT_SMS_TO": "+15551230001, +15551230002",
}
CREATED = {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}


def alerting(project: Project, **environ: str) -> App:
    project.write_config(alertGroupWaitSeconds=0)
    app = project.app({**SMS_ENV, **environ})
    attach_alerting(app)
    return app


def texts(route: respx.Route) -> list[dict[str, str]]:
    sent = []
    for call in route.calls:
        form = parse_qs(call.request.content.decode())
        sent.append({key: values[0] for key, values in form.items()})
    return sent


@respx.mock
def test_a_critical_alert_is_texted_to_every_number_and_so_is_its_resolution(
    project: Project,
) -> None:
    route = respx.post(MESSAGES).respond(201, json=CREATED)
    app = alerting(project)
    assert app.alerts is not None

    try:
        app.alerts.fire("scheduler_hung", "scheduler", "critical", "no job has run for 75 min")
        app.alerts.fire("task_failed", "heartbeat", "error", "an error alert is not texted")
        flush(app)
        attach_alerting(app)  # a fresh sender thread, as the next process would have
        app.alerts.resolve("scheduler_hung", "scheduler")
    finally:
        flush(app)

    sent = texts(route)
    assert [(text["To"], text["From"]) for text in sent] == [
        ("+15551230001", "+15005550006"),
        ("+15551230002", "+15005550006"),
    ] * 2
    assert sent[0]["Body"].startswith("[CRITICAL] scheduler_hung (scheduler)")
    assert sent[2]["Body"].startswith("[RESOLVED] scheduler_hung (scheduler)")
    assert not any("an error alert" in text["Body"] for text in sent)
    request = route.calls[0].request
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    for text in sent:
        assert is_gsm(text["Body"])
        assert septets(text["Body"]) <= 160


def test_a_text_fits_one_segment_in_gsm_7_or_ucs_2() -> None:
    long_gsm = one_segment("[CRITICAL] task_failed (nightly-batch): " + "the disk is full " * 20)
    assert is_gsm(long_gsm)
    assert septets(long_gsm) <= 160
    assert long_gsm.endswith("...")
    braces = one_segment("{[~]}" * 40)  # two septets each
    assert septets(braces) <= 160
    wide = one_segment("[CRITICAL] Übertragung fehlgeschlagen 🚀 " + "ж" * 100)
    assert not is_gsm(wide)
    assert ucs2_units(wide) <= 70
    assert wide.endswith("…")
    assert one_segment("short  and\n plain") == "short and plain"  # one line on a phone


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (
            httpx.Response(400, json={"code": 21211, "message": "The 'To' number is not valid."}),
            "configuration",
        ),
        (
            httpx.Response(400, json={"code": 21614, "message": "'To' is not a mobile number"}),
            "configuration",
        ),
        (httpx.Response(401, json={"code": 20003, "message": "Authenticate"}), "configuration"),
        (httpx.Response(429, json={"code": 20429, "message": "Too Many Requests"}), "rate-limited"),
        (httpx.Response(429, text="slow down"), "rate-limited"),
        (httpx.Response(400, json={"code": 21617, "message": "body exceeds 1600"}), "payload"),
        (httpx.Response(503, text="unavailable"), "transient"),
    ],
)
def test_twilio_errors_are_classified_by_their_code(
    project: Project, response: httpx.Response, status: str
) -> None:
    from nightly_batch.delivery.channels.sms import build_alerts  # noqa: PLC0415

    app = project.app(SMS_ENV)
    with respx.mock:
        respx.post(MESSAGES).mock(return_value=response)
        result = build_alerts(app, "+15551230001").notify("test")

    assert str(result.status) == status
    if "json" in response.headers.get("content-type", ""):
        assert result.error is not None
        assert result.error.startswith(f"Twilio error {response.json()['code']}: HTTP ")


@respx.mock
def test_when_slack_and_email_both_fail_the_critical_alert_still_arrives_by_text(
    project: Project,
) -> None:
    """The last resort: Slack answers 500, the mail server refuses; the text goes out."""
    slack = respx.post("https://hooks.slack.com/services/T0/B0/x").respond(500)
    mail = respx.post("https://api.sendgrid.com/v3/mail/send").respond(503)
    sms = respx.post(MESSAGES).respond(201, json=CREATED)
    app = alerting(
        project,
        SLACK_ERROR_WEBHOOK="https://hooks.slack.com/services/T0/B0/x",
        ALERT_EMAIL_TO="oncall@example.com",
        EMAIL_FROM="nightly-batch@example.com",
        EMAIL_PROVIDER="sendgrid",
        EMAIL_API_KEY="SG.key",
        ALERT_SMS_TO="+15551230001",
    )
    assert app.alerts is not None
    try:
        app.alerts.fire("state_unreadable", "nightly-batch", "critical", "the state is corrupt")
    finally:
        flush(app)

    assert slack.called
    assert mail.called
    assert [text["Body"][:29] for text in texts(sms)][:1] == ["[CRITICAL] state_unreadable ("]
    notice = app.store.alerts.notifications()[0]
    assert (notice.status, notice.channel) == ("sent", "sms")


@respx.mock
def test_texts_are_capped_per_day_across_processes(project: Project) -> None:
    route = respx.post(MESSAGES).respond(201, json=CREATED)
    app = alerting(project, ALERT_SMS_PER_DAY="2", ALERT_SMS_TO="+15551230001")
    assert app.alerts is not None
    with capture_logs() as logs:
        try:
            for number in range(3):
                app.alerts.fire(f"alert_{number}", "scheduler", "critical", f"number {number}")
                flush(app)
                attach_alerting(app)
        finally:
            flush(app)

    assert [text["Body"].split(":")[-1].strip() for text in texts(route)] == [
        "number 0",
        "number 1",
    ]
    capped = [entry for entry in logs if entry["event"] == "alert.capped"]
    assert capped[0]["channel"] == "sms"
    assert capped[0]["per_day"] == 2
    project.clock.advance(timedelta(hours=25))
    try:
        app.alerts.fire("alert_3", "scheduler", "critical", "a day later")
    finally:
        flush(app)
    assert len(route.calls) == 3


@respx.mock
def test_reminders_are_texted_only_when_asked(project: Project) -> None:
    route = respx.post(MESSAGES).respond(201, json=CREATED)
    quiet = alerting(project, ALERT_SMS_TO="+15551230001")
    assert quiet.alerts is not None
    try:
        quiet.alerts.fire("scheduler_hung", "scheduler", "critical", "stuck")
        flush(quiet)
        attach_alerting(quiet)
        project.clock.advance(timedelta(minutes=61))
        quiet.alerts.remind_and_purge()
    finally:
        flush(quiet)
    assert len(route.calls) == 1  # the firing only

    attach_alerting(quiet)
    loud = project.app({**SMS_ENV, "ALERT_SMS_TO": "+15551230001", "ALERT_SMS_REMINDERS": "true"})
    attach_alerting(loud)
    assert loud.alerts is not None
    try:
        project.clock.advance(timedelta(minutes=61))
        loud.alerts.remind_and_purge()
    finally:
        flush(loud)
    assert len(route.calls) == 2
    assert texts(route)[1]["Body"].startswith("[CRITICAL]")


@pytest.mark.parametrize(
    ("environ", "sentence"),
    [
        (
            {"ALERT_SMS_TO": "+15551230001"},
            "ALERT_SMS_TO needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ALERT_SMS_FROM.",
        ),
        ({**SMS_ENV, "ALERT_SMS_TO": "5551230001"}, "ALERT_SMS_TO"),
        ({**SMS_ENV, "TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
        (
            {**SMS_ENV, "TWILIO_API_URL": "https://relay.example.net"},
            "TWILIO_API_URL points at relay.example.net, which is not one of api.twilio.com",
        ),
    ],
)
def test_check_config_says_what_sms_lacks_in_one_sentence(
    cli: Cli, environ: dict[str, str], sentence: str
) -> None:
    said = cli("check-config", environ)

    assert said.code == 2
    assert sentence in said.err
    assert TOKEN not in said.err


@respx.mock
def test_test_notify_texts_each_number(cli: Cli) -> None:
    route = respx.post(MESSAGES).respond(201, json=CREATED)

    said = cli("test-notify", SMS_ENV)

    assert said.code == 0
    assert "alerts via sms: delivered (2 texts)" in said.out
    assert len(route.calls) == 2
    assert all(septets(text["Body"]) <= 160 for text in texts(route))


def test_sms_never_carries_a_digest(project: Project) -> None:
    """SMS is an alert channel only: the config refuses it as a digest channel."""
    project.write_config(digestNotificationChannel=["sms"])
    with pytest.raises(ConfigError, match=r'digestNotificationChannel\[0\] = "sms" must be one of'):
        load_config(project.config_path)


@respx.mock
def test_one_opted_out_number_never_keeps_the_alert_from_the_others(project: Project) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if parse_qs(request.content.decode())["To"] == ["+15551230001"]:
            return httpx.Response(400, json={"code": 21610, "message": "unsubscribed"})
        return httpx.Response(201, json=CREATED)

    route = respx.post(MESSAGES).mock(side_effect=answer)
    app = alerting(project)
    assert app.alerts is not None
    with capture_logs() as logs:
        try:
            app.alerts.fire("scheduler_hung", "scheduler", "critical", "stuck")
        finally:
            flush(app)

    assert [text["To"] for text in texts(route)] == ["+15551230001", "+15551230002"]
    failed = [entry for entry in logs if entry["event"] == "alert.sms_number_failed"]
    assert failed[0]["number"] == "+15*******01"
    assert failed[0]["error"].startswith("Twilio error 21610")
    notice = app.store.alerts.notifications()[0]
    assert (notice.status, notice.channel) == ("sent", "sms")


@respx.mock
def test_a_burst_beyond_the_cap_texts_the_most_severe_that_fit(project: Project) -> None:
    route = respx.post(MESSAGES).respond(201, json=CREATED)
    project.write_config(alertGroupWaitSeconds=5)  # the three leave as one group
    app = project.app(
        {
            **SMS_ENV,
            "ALERT_SMS_PER_DAY": "2",
            "ALERT_SMS_TO": "+15551230001",
            "ALERT_SMS_SEVERITY": "error",
        }
    )
    attach_alerting(app)
    assert app.alerts is not None
    try:
        app.alerts.fire("task_failed", "heartbeat", "error", "an error")
        app.alerts.fire("scheduler_hung", "scheduler", "critical", "stuck")
        app.alerts.fire("state_unreadable", "nightly-batch", "critical", "corrupt")
    finally:
        flush(app)

    bodies = sorted(text["Body"].split(" ")[0] for text in texts(route))
    assert bodies == ["[CRITICAL]", "[CRITICAL]"]  # one group of three: the two critical fit
    statuses = {n.fingerprint: n.status for n in app.store.alerts.notifications()}
    assert statuses["task_failed:heartbeat"] == "logged"  # declined by the cap, not failed


@respx.mock
def test_test_notify_makes_one_attempt(cli: Cli) -> None:
    """A 5xx is not retried by test-notify (a retried text could arrive twice)."""
    route = respx.post(MESSAGES).respond(503, text="unavailable")

    said = cli("test-notify", SMS_ENV)

    assert said.code == 1
    assert "alerts via sms: failed (transient): HTTP 503" in said.err
    assert len(route.calls) == 2  # one a number
