"""Builds the e-mail channel: the sender address, the recipients and the provider behind them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from nightly_batch.core.channels import ChannelSpec
from nightly_batch.delivery.building import BuildContext, allowed_url, poster
from nightly_batch.delivery.channels.email.channel import EmailChannel
from nightly_batch.errors import ConfigError

if TYPE_CHECKING:
    from nightly_batch.delivery.channels.email.channel import EmailSender

EMAIL_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
SENDGRID_URLS = {
    "us": "https://api.sendgrid.com/v3/mail/send",
    "eu": "https://api.eu.sendgrid.com/v3/mail/send",
}


def email_recipients(text: str | None, source: str) -> list[str]:
    """Comma-separated addresses, each checked, duplicates dropped (order kept)."""
    addresses = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not addresses:
        raise ConfigError(f"the email channel needs recipient addresses in {source}.")
    for address in addresses:
        if not EMAIL_ADDRESS.match(address):
            raise ConfigError(f"{source} holds '{address}', which is not an e-mail address.")
    return list(dict.fromkeys(address.lower() for address in addresses))


def build(context: BuildContext, spec: ChannelSpec, retries: bool) -> EmailChannel:
    """The digest's e-mail channel, to the addresses in digestNotificationTarget."""
    target = context.config.digest_notification_target
    return build_to(context, spec, target, "digestNotificationTarget", retries=retries)


def build_to(
    context: BuildContext,
    spec: ChannelSpec,
    recipients_text: str | None,
    source: str,
    *,
    retries: bool,
) -> EmailChannel:
    """An e-mail channel to the addresses in `recipients_text` (alerts use ALERT_EMAIL_TO)."""
    sender_address = context.environment.get("EMAIL_FROM")
    if not sender_address or not EMAIL_ADDRESS.match(
        sender_address.split("<")[-1].rstrip(">").strip()
    ):
        raise ConfigError("the email channel needs EMAIL_FROM, the sender address.")
    recipients = email_recipients(recipients_text, source)
    return EmailChannel(_sender(context, spec, retries), sender_address, recipients)


def _sender(context: BuildContext, spec: ChannelSpec, retries: bool) -> EmailSender:
    env = context.environment
    provider = (env.get("EMAIL_PROVIDER") or "").lower() or ("smtp" if env.get("SMTP_URL") else "")
    if provider == "smtp":
        from nightly_batch.delivery.channels.email.smtp import SmtpSender, parse_smtp_url  # noqa: PLC0415

        url = env.get("SMTP_URL")
        if not url:
            raise ConfigError("EMAIL_PROVIDER=smtp needs SMTP_URL.")
        return SmtpSender(parse_smtp_url(url), context.pause, attempts=3 if retries else 1)
    key = env.get("EMAIL_API_KEY")
    if provider not in ("sendgrid", "mailgun") or not key:
        raise ConfigError(
            "the email channel needs EMAIL_PROVIDER (sendgrid, mailgun or smtp) with EMAIL_API_KEY, "
            "or SMTP_URL."
        )
    region = context.config.email_region
    api_url = env.get("EMAIL_API_URL")
    # An ambiguous e-mail is resent once, with the same Message-ID, so a mail client can
    # fold a duplicate; Slack and Discord have no such key and are never resent.
    http = poster(context, spec.name, retries, resend_ambiguous_once=True)
    if provider == "sendgrid":
        from nightly_batch.delivery.channels.email.sendgrid import SendGridSender  # noqa: PLC0415

        url = allowed_url(
            context, spec, "sendgrid", "EMAIL_API_URL", api_url or SENDGRID_URLS[region]
        )
        return SendGridSender(http, context.redactor, context.clock, key, url)
    from nightly_batch.delivery.channels.email.mailgun import BASE_URLS, MailgunSender  # noqa: PLC0415

    domain = env.get("MAILGUN_DOMAIN")
    if not domain:
        raise ConfigError("EMAIL_PROVIDER=mailgun needs MAILGUN_DOMAIN.")
    base = allowed_url(context, spec, "mailgun", "EMAIL_API_URL", api_url or BASE_URLS[region])
    return MailgunSender(http, context.redactor, context.clock, key, domain, base.rstrip("/"))
