"""Builds each channel from the config and the environment, and says plainly what is missing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from nightly_batch.core.clock import Clock
from nightly_batch.delivery.channel import Channel, LogChannel
from nightly_batch.delivery.urls import (
    DISCORD_HOSTS,
    MAILGUN_HOSTS,
    SENDGRID_HOSTS,
    SLACK_HOSTS,
    check_url,
)
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment

if TYPE_CHECKING:
    from nightly_batch.delivery.channels.email.channel import EmailSender
    from nightly_batch.delivery.http import HttpPoster


class App(Protocol):
    """What building a channel needs (the App has it; check-config builds a light one)."""

    config: Config
    environment: Environment
    redactor: Redactor
    clock: Clock

    def pause(self, seconds: float) -> None: ...


EMAIL_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _poster(
    app: App, name: str, retries: bool, *, resend_ambiguous_once: bool = False
) -> HttpPoster:
    from nightly_batch.delivery.http import HttpPoster, RetryPolicy, make_client  # noqa: PLC0415

    policy = RetryPolicy(
        attempts=3 if retries else 1, resend_ambiguous_once=resend_ambiguous_once and retries
    )
    return HttpPoster(name, make_client(), app.pause, policy)


def _extra_hosts(app: App) -> tuple[str, ...]:
    return tuple(app.config.allowed_webhook_hosts)


def build_slack(app: App, retries: bool = True) -> Channel:
    from nightly_batch.delivery.channels.slack import CHANNEL_ID, SlackChannel  # noqa: PLC0415

    env = app.environment
    target = (app.config.digest_notification_target or "").strip()
    token = env.get("SLACK_BOT_TOKEN")
    webhook = env.get("SLACK_WEBHOOK_URL")
    if token and CHANNEL_ID.match(target):
        return SlackChannel(
            _poster(app, "slack", retries),
            app.redactor,
            app.clock,
            bot_token=token,
            channel_id=target,
        )
    if not webhook:
        raise ConfigError(
            "the slack channel needs SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with a channel id "
            "(like C0123456789) in digestNotificationTarget."
        )
    url = check_url("SLACK_WEBHOOK_URL", webhook, SLACK_HOSTS, _extra_hosts(app))
    return SlackChannel(_poster(app, "slack", retries), app.redactor, app.clock, webhook_url=url)


def build_discord(app: App, retries: bool = True) -> Channel:
    from nightly_batch.delivery.channels.discord import DiscordChannel, webhook_url  # noqa: PLC0415

    url = app.environment.get("DISCORD_WEBHOOK_URL")
    if not url:
        raise ConfigError("the discord channel needs DISCORD_WEBHOOK_URL.")
    checked = check_url("DISCORD_WEBHOOK_URL", webhook_url(url), DISCORD_HOSTS, _extra_hosts(app))
    return DiscordChannel(_poster(app, "discord", retries), app.redactor, app.clock, checked)


def email_recipients(text: str | None, source: str) -> list[str]:
    """Comma-separated addresses, each checked, duplicates dropped (order kept)."""
    addresses = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not addresses:
        raise ConfigError(f"the email channel needs recipient addresses in {source}.")
    for address in addresses:
        if not EMAIL_ADDRESS.match(address):
            raise ConfigError(f"{source} holds '{address}', which is not an e-mail address.")
    return list(dict.fromkeys(address.lower() for address in addresses))


def build_email_channel(
    app: App,
    retries: bool = True,
    recipients_text: str | None = None,
    source: str = "digestNotificationTarget",
) -> Channel:
    from nightly_batch.delivery.channels.email.channel import EmailChannel  # noqa: PLC0415

    env = app.environment
    sender_address = env.get("EMAIL_FROM")
    if not sender_address or not EMAIL_ADDRESS.match(
        sender_address.split("<")[-1].rstrip(">").strip()
    ):
        raise ConfigError("the email channel needs EMAIL_FROM, the sender address.")
    recipients = email_recipients(
        recipients_text if recipients_text is not None else app.config.digest_notification_target,
        source,
    )
    return EmailChannel(_email_sender(app, retries), sender_address, recipients)


def _email_sender(app: App, retries: bool) -> EmailSender:
    env = app.environment
    provider = (env.get("EMAIL_PROVIDER") or "").lower() or ("smtp" if env.get("SMTP_URL") else "")
    if provider == "smtp":
        from nightly_batch.delivery.channels.email.smtp import SmtpSender, parse_smtp_url  # noqa: PLC0415

        url = env.get("SMTP_URL")
        if not url:
            raise ConfigError("EMAIL_PROVIDER=smtp needs SMTP_URL.")
        return SmtpSender(parse_smtp_url(url), app.pause, attempts=3 if retries else 1)
    key = env.get("EMAIL_API_KEY")
    if provider not in ("sendgrid", "mailgun") or not key:
        raise ConfigError(
            "the email channel needs EMAIL_PROVIDER (sendgrid, mailgun or smtp) with EMAIL_API_KEY, "
            "or SMTP_URL."
        )
    region = app.config.email_region
    if provider == "sendgrid":
        from nightly_batch.delivery.channels.email.sendgrid import SendGridSender  # noqa: PLC0415

        default = (
            "https://api.eu.sendgrid.com/v3/mail/send"
            if region == "eu"
            else "https://api.sendgrid.com/v3/mail/send"
        )
        url = check_url(
            "EMAIL_API_URL", env.get("EMAIL_API_URL") or default, SENDGRID_HOSTS, _extra_hosts(app)
        )
        return SendGridSender(
            _poster(app, "email", retries, resend_ambiguous_once=True),
            app.redactor,
            app.clock,
            key,
            url,
        )
    from nightly_batch.delivery.channels.email.mailgun import BASE_URLS, MailgunSender  # noqa: PLC0415

    domain = env.get("MAILGUN_DOMAIN")
    if not domain:
        raise ConfigError("EMAIL_PROVIDER=mailgun needs MAILGUN_DOMAIN.")
    base = check_url(
        "EMAIL_API_URL",
        env.get("EMAIL_API_URL") or BASE_URLS[region],
        MAILGUN_HOSTS,
        _extra_hosts(app),
    )
    return MailgunSender(
        _poster(app, "email", retries, resend_ambiguous_once=True),
        app.redactor,
        app.clock,
        key,
        domain,
        base.rstrip("/"),
    )


CHANNELS: dict[str, Callable[[App, bool], Channel]] = {
    "slack": build_slack,
    "discord": build_discord,
    "email": build_email_channel,
    "log": lambda _app, _retries: LogChannel(),
}


def build_channel(name: str, app: App, *, retries: bool = True) -> Channel:
    """The channel registered under `name`, configured from the app (ConfigError if it cannot be).

    `retries=False` makes one attempt only, as `test-notify` wants.
    """
    try:
        factory = CHANNELS[name]
    except KeyError:
        raise ConfigError(f"'{name}' is not a channel: use one of {', '.join(CHANNELS)}.") from None
    return factory(app, retries)


def build_alert_channels(app: App) -> dict[str, Channel]:
    """The alert channels, in order of preference: Slack (SLACK_ERROR_WEBHOOK), then e-mail."""
    env = app.environment
    channels: dict[str, Channel] = {}
    webhook = env.get("SLACK_ERROR_WEBHOOK")
    if webhook:
        # Imported here: with no alert webhook, alerts never load the HTTP client.
        from nightly_batch.delivery.channels.slack import SlackChannel  # noqa: PLC0415

        url = check_url("SLACK_ERROR_WEBHOOK", webhook, SLACK_HOSTS, _extra_hosts(app))
        channels["slack"] = SlackChannel(
            _poster(app, "alert-slack", retries=True), app.redactor, app.clock, webhook_url=url
        )
    if env.get("ALERT_EMAIL_TO"):
        channels["email"] = build_email_channel(
            app, retries=True, recipients_text=env.get("ALERT_EMAIL_TO"), source="ALERT_EMAIL_TO"
        )
    return channels
