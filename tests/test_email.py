"""E-mail: SendGrid and Mailgun request shapes (respx), SMTP against a real local server."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from aiosmtpd.smtp import SMTP, Envelope, Session

from fakes import FakeClock, Pauses, message
from nightly_batch.core.jsonio import parse_json
from nightly_batch.delivery.channels.email.channel import EmailChannel
from nightly_batch.delivery.channels.email.content import build_email
from nightly_batch.delivery.channels.email.mailgun import MailgunSender
from nightly_batch.delivery.channels.email.sendgrid import SendGridSender
from nightly_batch.delivery.channels.email.smtp import SmtpSender, parse_smtp_url
from nightly_batch.delivery.http import HttpPoster, RetryPolicy, make_client
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from servers import refused_port, smtp_server

EMAIL_POLICY = RetryPolicy(resend_ambiguous_once=True)


def http_email(sender: Any) -> EmailChannel:
    return EmailChannel(sender, "leads@example.com", ["ops@example.com", "owner@example.com"])


@respx.mock
def test_sendgrid_request_has_personalizations_text_and_html() -> None:
    """One personalization per recipient, text/plain then text/html, 202 is success."""
    route = respx.post("https://api.sendgrid.com/v3/mail/send").respond(
        202, headers={"X-Message-Id": "sg-1"}
    )
    poster = HttpPoster("email", make_client(), Pauses(), EMAIL_POLICY)
    channel = http_email(SendGridSender(poster, Redactor(), FakeClock(), "SG.key.SECRET"))

    result = channel.send(message(1, title="Caf\u00e9 <script>alert(1)</script> {i}"))

    assert (result.status, result.provider_id) == ("delivered", "sg-1")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer SG.key.SECRET"
    payload = parse_json(request.content)
    assert payload["personalizations"] == [
        {"to": [{"email": "ops@example.com"}]},
        {"to": [{"email": "owner@example.com"}]},
    ]
    assert payload["from"] == {"email": "leads@example.com"}
    assert payload["subject"] == "🚀 1 Reddit Leads Ready for Review"
    assert [part["type"] for part in payload["content"]] == ["text/plain", "text/html"]
    assert (
        "Caf\u00e9 <script>alert(1)</script> 0 (r/selfhosted, confidence 0.90)"
        in payload["content"][0]["value"]
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in payload["content"][1]["value"]
    assert "<script>" not in payload["content"][1]["value"]
    assert payload["headers"] == {"Message-ID": "<digest-b-1@nightly-batch>", "X-Digest-Id": "b-1"}


@respx.mock
def test_sendgrid_body_is_what_the_sendgrid_librarys_mail_helper_builds() -> None:
    """Field by field against sendgrid's own Mail helper: a display name in EMAIL_FROM goes in
    "name" (it was sent inside "email"), and the Message-ID rides in the headers."""
    from sendgrid.helpers.mail import (  # noqa: PLC0415
        Content,
        CustomArg,
        From,
        Header,
        Mail,
        Personalization,
        To,
    )

    route = respx.post("https://api.sendgrid.com/v3/mail/send").respond(202)
    poster = HttpPoster("email", make_client(), Pauses(), EMAIL_POLICY)
    sender = SendGridSender(poster, Redactor(), FakeClock(), "SG.key.SECRET")
    recipients = ["ops@example.com", "owner@example.com"]
    channel = EmailChannel(sender, "Nightly Bätch <digest@example.com>", recipients)
    digest = message(2)

    assert channel.send(digest).delivered

    ours = parse_json(route.calls.last.request.content)
    content = build_email(digest)
    theirs = Mail()
    theirs.from_email = From("digest@example.com", "Nightly Bätch")
    theirs.subject = content.subject
    for address in recipients:
        personalization = Personalization()
        personalization.add_to(To(address))
        theirs.add_personalization(personalization)
    theirs.add_content(Content("text/plain", content.text))
    theirs.add_content(Content("text/html", content.html))
    theirs.add_header(Header("Message-ID", "<digest-b-1@nightly-batch>"))
    theirs.add_header(Header("X-Digest-Id", "b-1"))
    theirs.add_custom_arg(CustomArg("digest_id", "b-1"))
    expected = theirs.get()
    # The helper puts each new personalization first; their order means nothing to SendGrid.
    ours["personalizations"].sort(key=str)
    expected["personalizations"].sort(key=str)
    assert sorted(ours) == sorted(expected)
    for field in expected:
        assert ours[field] == expected[field], field


@respx.mock
def test_mailgun_form_with_basic_auth_and_an_ambiguous_5xx_resent_once() -> None:
    """Form fields, `api:KEY` basic auth; a 5xx may have delivered, so one resend, same id."""
    url = "https://api.eu.mailgun.net/v3/mg.example.com/messages"
    route = respx.post(url).mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(
                200, json={"id": "<mg-1@mg.example.com>", "message": "Queued. Thank you."}
            ),
        ]
    )
    poster = HttpPoster("email", make_client(), Pauses(), EMAIL_POLICY)
    channel = http_email(
        MailgunSender(
            poster,
            Redactor(),
            FakeClock(),
            "key-SECRET",
            "mg.example.com",
            "https://api.eu.mailgun.net",
        )
    )

    result = channel.send(message(1))

    assert (result.status, result.provider_id) == ("delivered", "<mg-1@mg.example.com>")
    assert route.call_count == 2
    request = route.calls.last.request
    assert (
        request.headers["Authorization"]
        == "Basic " + __import__("base64").b64encode(b"api:key-SECRET").decode()
    )
    form = parse_qs(request.content.decode())
    assert form["to"] == ["ops@example.com", "owner@example.com"]
    assert form["from"] == ["leads@example.com"]
    assert form["h:X-Digest-Id"] == ["b-1"]
    assert form["h:Message-Id"] == ["<digest-b-1@nightly-batch>"]  # the same on the resend
    assert parse_json(form["recipient-variables"][0].encode()) == {
        "ops@example.com": {},
        "owner@example.com": {},
    }
    assert "text" in form
    assert "html" in form


class Recorder:
    """An aiosmtpd handler that keeps what it receives and refuses one address.

    aiosmtpd calls the hooks by these names with these arguments.
    """

    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield port, recorder


def smtp_channel(port: int, recipients: list[str]) -> EmailChannel:
    server = parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=false")
    return EmailChannel(SmtpSender(server, Pauses()), "leads@example.com", recipients)


def test_smtp_delivers_a_multipart_alternative_digest(
    smtp: tuple[int, Recorder],
) -> None:
    """A real SMTP server receives text and HTML parts with the right From, To and Subject."""
    port, recorder = smtp

    result = smtp_channel(port, ["ops@example.com"]).send(message(2))

    assert result.delivered
    assert result.provider_id == "<digest-b-1@nightly-batch>"
    [envelope] = recorder.received
    assert envelope.rcpt_tos == ["ops@example.com"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
    assert mail["From"] == "leads@example.com"
    assert mail["To"] == "ops@example.com"
    assert mail["Subject"] == "🚀 2 Reddit Leads Ready for Review"
    assert mail["Message-ID"] == "<digest-b-1@nightly-batch>"
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]


def test_smtp_does_not_show_recipients_each_other(smtp: tuple[int, Recorder]) -> None:
    """Two recipients: both in the envelope, neither in a header the other reads."""
    port, recorder = smtp

    assert smtp_channel(port, ["ops@example.com", "owner@example.com"]).send(message(1)).delivered

    [envelope] = recorder.received
    assert envelope.rcpt_tos == ["ops@example.com", "owner@example.com"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
    assert mail["To"] == "undisclosed-recipients:;"
    headers = "".join(f"{name}: {value}\n" for name, value in mail.items())
    assert "ops@example.com" not in headers
    assert "owner@example.com" not in headers


def test_smtp_reports_a_refused_recipient(smtp: tuple[int, Recorder]) -> None:
    """When one recipient is refused, the others get the mail and the refusal is reported."""
    port, recorder = smtp

    result = smtp_channel(port, ["ops@example.com", "refused@example.com"]).send(message(1))

    assert result.delivered
    assert result.error == "refused: refused@example.com (550 5.1.1 no such user)"
    assert recorder.received[0].rcpt_tos == ["ops@example.com"]


def test_smtp_with_every_recipient_refused_is_a_configuration_failure(
    smtp: tuple[int, Recorder],
) -> None:
    """Nobody accepted the mail: a failure naming the refusals."""
    port, _ = smtp

    result = smtp_channel(port, ["refused@example.com"]).send(message(1))

    assert result.status == "configuration"
    assert (
        result.error == "every recipient was refused: refused@example.com (550 5.1.1 no such user)"
    )


def test_smtp_connection_refused_is_transient_and_retried() -> None:
    """Nothing listening: three attempts with back-off, then a transient failure."""
    pauses = Pauses()
    with refused_port() as port:
        channel = EmailChannel(
            SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=false"), pauses),
            "a@example.com",
            ["b@example.com"],
        )

        result = channel.send(message(1))

    assert result.status == "transient"
    # The shared back-off with full jitter: at most 2 s, then at most 4 s.
    assert len(pauses.waits) == 2
    assert 0 <= pauses.waits[0] <= 2.0
    assert 0 <= pauses.waits[1] <= 4.0


@pytest.mark.parametrize(
    ("url", "text"),
    [
        (
            "smtp://user:pw@mail.example.com:587?starttls=false",
            "SMTP_URL turns STARTTLS off for mail.example.com; that is allowed only for a relay on this host",
        ),
        (
            "https://mail.example.com",
            "SMTP_URL must look like smtps://user:pass@host:465 or smtp://user:pass@host:587.",
        ),
    ],
)
def test_bad_smtp_urls_are_refused_without_showing_the_password(url: str, text: str) -> None:
    """A plain-text connection to another host, or a wrong scheme, is a config error."""
    with pytest.raises(ConfigError) as raised:
        parse_smtp_url(url)

    assert text in str(raised.value)
    assert "pw" not in str(raised.value)


def test_smtps_and_starttls_defaults() -> None:
    """smtps means implicit TLS on 465; smtp means STARTTLS on 587, credentials decoded."""
    implicit = parse_smtp_url("smtps://bob:p%40ss@mail.example.com")
    starttls = parse_smtp_url("smtp://bob:pw@mail.example.com")

    assert (implicit.port, implicit.implicit_tls, implicit.starttls, implicit.password) == (
        465,
        True,
        False,
        "p@ss",
    )
    assert (starttls.port, starttls.implicit_tls, starttls.starttls) == (587, False, True)
