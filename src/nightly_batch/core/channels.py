"""The channel registry: one entry per delivery channel, the only place a channel's facts are written.

An entry is data (the factory is named, not imported), so the config can check channel names,
the environment can read the channel's variables and check-config can list them without
loading any channel's code or the HTTP client; delivery/factory.py imports a factory only when
its channel is built. Adding a channel: its module under delivery/channels/ and one entry here
(or `register(...)` from a test or a plug-in before the config is read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nightly_batch.core.names import ChannelName
from nightly_batch.core.registry import Registry


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """What the config, the environment, the factory and check-config need to know of a channel."""

    name: str
    # "module:function", called with (app, this spec, retries) and returning a Channel;
    # building validates every variable and URL, so it is also the channel's check-config check.
    factory: str
    # The environment variables it reads (each also as NAME_FILE). Variables the Environment
    # model does not declare are read as secrets: masked by check-config, redacted from logs.
    variables: tuple[str, ...] = ()
    # The hosts a secret may be sent to, by what the URL is for ("webhook", "sendgrid", ...);
    # allowedWebhookHosts adds the operator's own.
    hosts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


REGISTRY: Registry[ChannelSpec] = Registry()
register = REGISTRY.register
unregister = REGISTRY.unregister


spec_of = REGISTRY.get


def channel_names() -> tuple[str, ...]:
    """Every registered channel, in registry order: the names the config accepts."""
    return REGISTRY.names()


def channel_variables() -> tuple[str, ...]:
    """Every variable some registered channel reads, each once, in registry order."""
    return tuple(dict.fromkeys(name for spec in REGISTRY.values() for name in spec.variables))


SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")

register(
    ChannelSpec(
        ChannelName.SLACK,
        "nightly_batch.delivery.channels.slack:build",
        variables=("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN"),
        hosts={"webhook": SLACK_HOSTS},
    )
)
register(
    ChannelSpec(
        ChannelName.DISCORD,
        "nightly_batch.delivery.channels.discord:build",
        variables=("DISCORD_WEBHOOK_URL",),
        hosts={"webhook": ("discord.com", "ptb.discord.com", "canary.discord.com")},
    )
)
register(
    ChannelSpec(
        ChannelName.EMAIL,
        "nightly_batch.delivery.channels.email.build:build",
        variables=(
            "EMAIL_PROVIDER",
            "EMAIL_API_KEY",
            "EMAIL_API_URL",
            "EMAIL_FROM",
            "MAILGUN_DOMAIN",
            "SMTP_URL",
        ),
        hosts={
            "sendgrid": ("api.sendgrid.com", "api.eu.sendgrid.com"),
            "mailgun": ("api.mailgun.net", "api.eu.mailgun.net"),
        },
    )
)
register(
    ChannelSpec(
        ChannelName.WEBHOOK,
        "nightly_batch.delivery.channels.webhook:build",
        variables=("WEBHOOK_URL", "WEBHOOK_SECRET"),
        # Any host over https: the receiver is the operator's own, and gets only a signature.
    )
)
register(ChannelSpec(ChannelName.LOG, "nightly_batch.delivery.channel:build_log"))
