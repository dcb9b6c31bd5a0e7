"""SMTP: `smtps://user:pass@host:465` (implicit TLS) or `smtp://user:pass@host:587` (STARTTLS).

`?starttls=false` turns STARTTLS off, and is accepted only for a relay on this host: credentials
and leads never cross a network in clear text. The Message-ID is derived from the batch id, so
every retry, and a resend after an ambiguous failure, is recognisably the same mail.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from tenacity import RetryCallState

from nightly_batch.core.names import DeliveryStatus
from nightly_batch.core.retrying import Backoff, call_with_retries, outcome_of
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.channels.email.content import EmailContent
from nightly_batch.delivery.urls import LOOPBACK
from nightly_batch.errors import ConfigError

TIMEOUT_SECONDS = 30
ATTEMPTS = 3
# At most 2 s before the second attempt and 4 s before the third, drawn at random.
SMTP_BACKOFF = Backoff(base=2.0, cap=30.0)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """SMTP_URL as a server; a ConfigError (without the password) when it is not usable."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "SMTP_URL must look like smtps://user:pass@host:465 or smtp://user:pass@host:587."
        )
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    starttls = parts.scheme == "smtp" and options.get("starttls", "true") != "false"
    if parts.scheme == "smtp" and not starttls and parts.hostname not in LOOPBACK:
        raise ConfigError(
            f"SMTP_URL turns STARTTLS off for {parts.hostname}; that is allowed only for a relay "
            "on this host (localhost, 127.0.0.1 or ::1)."
        )
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 587),
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def build_mime(content: EmailContent, sender: str, recipients: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = content.subject
    mail["From"] = sender
    # Several recipients go in the envelope only: a To: listing them all would show each one
    # the others' addresses (the API providers send each a copy of its own).
    mail["To"] = recipients[0] if len(recipients) == 1 else "undisclosed-recipients:;"
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = content.message_id
    mail["X-Digest-Id"] = content.digest_id
    mail.set_content(content.text)
    mail.add_alternative(content.html, subtype="html")
    return mail


@dataclass
class SmtpSender:
    server: SmtpServer
    pause: Callable[[float], object]
    attempts: int = ATTEMPTS

    def send(self, content: EmailContent, sender: str, recipients: list[str]) -> Delivery:
        mail = build_mime(content, sender, recipients)

        def again(state: RetryCallState) -> bool:
            result: Delivery = outcome_of(state).result()
            return result.status in ("transient", "rate-limited")

        return call_with_retries(
            lambda: self._attempt(mail, recipients),
            attempts=self.attempts,
            again=again,
            wait=SMTP_BACKOFF.jittered(),
            pause=self.pause,
        )

    def _attempt(self, mail: EmailMessage, recipients: list[str]) -> Delivery:
        server = self.server
        context = ssl.create_default_context()
        try:
            if server.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
                )
            else:
                client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
            with client:
                if server.starttls:
                    client.starttls(context=context)
                if server.username and server.password:
                    client.login(server.username, server.password)
                refused = client.send_message(mail, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as error:
            return smtp_failure(error)
        message_id = str(mail["Message-ID"])
        if refused:
            # Some recipients got it: that is a delivery, with the refusals reported.
            return Delivery(
                DeliveryStatus.DELIVERED,
                provider_id=message_id,
                error=f"refused: {_refusals(refused)}",
            )
        return Delivery(DeliveryStatus.DELIVERED, provider_id=message_id)


def smtp_failure(error: smtplib.SMTPException | OSError) -> Delivery:
    """The class of an SMTP failure: 4xx replies and lost connections may pass, 5xx will not."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Delivery(
            DeliveryStatus.CONFIGURATION, error=f"SMTP login refused ({error.smtp_code})"
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return Delivery(
            DeliveryStatus.CONFIGURATION,
            error=f"every recipient was refused: {_refusals(error.recipients)}",
        )
    if isinstance(error, smtplib.SMTPResponseException):
        kind = (
            DeliveryStatus.TRANSIENT
            if 400 <= error.smtp_code < 500
            else DeliveryStatus.CONFIGURATION
        )
        return Delivery(kind, error=f"SMTP {error.smtp_code}: {_text(error.smtp_error)}")
    if isinstance(error, ssl.SSLError):
        return Delivery(
            DeliveryStatus.CONFIGURATION,
            error=f"TLS failed ({error.reason or type(error).__name__})",
        )
    return Delivery(
        DeliveryStatus.TRANSIENT, error=f"SMTP connection failed ({type(error).__name__})"
    )


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {_text(reason)})" for address, (code, reason) in refused.items()
    )
