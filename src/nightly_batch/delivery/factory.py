"""Builds each channel by the registry entry of its name, and says plainly what is missing."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from nightly_batch.core.channels import REGISTRY, ChannelSpec, spec_of
from nightly_batch.core.names import ChannelName
from nightly_batch.delivery.building import BuildContext
from nightly_batch.delivery.channel import Channel
from nightly_batch.errors import ConfigError

Factory = Callable[[BuildContext, ChannelSpec, bool], Channel]


def registered(name: str) -> ChannelSpec:
    """The registry entry of `name` (ConfigError naming the registered channels if none)."""
    spec = spec_of(name)
    if spec is None:
        raise ConfigError(f"'{name}' is not a channel: use one of {', '.join(REGISTRY)}.")
    return spec


def factory_of(spec: ChannelSpec) -> Factory:
    """The factory the entry names, imported only when its channel is built."""
    module, _, function = spec.factory.partition(":")
    factory: Factory = getattr(importlib.import_module(module), function)
    return factory


def build_channel(name: str, app: BuildContext, *, retries: bool = True) -> Channel:
    """The channel registered under `name`, configured from the app (ConfigError if it cannot be).

    `retries=False` makes one attempt only, as `test-notify` wants.
    """
    spec = registered(name)
    return factory_of(spec)(app, spec, retries)


# What turns on an alert channel, each of them (build_alert_channels reads them).
ALERT_VARIABLES = (
    "SLACK_ERROR_WEBHOOK",
    "ALERT_EMAIL_TO",
    "ALERT_WEBHOOK_URL",
    "ALERT_SMS_TO",
    "ALERTMANAGER_URL",
)


# The alert channels by name, as build_alert_channels keys them: an alert about one of them
# (alert_channel_failed) has its name for a task.
ALERT_CHANNEL_NAMES = ("slack", "email", "webhook", "sms", "alertmanager")


def alert_variables_text(joiner: str) -> str:
    """ "A, B, C{joiner}D": every variable that turns on an alert channel."""
    return ", ".join(ALERT_VARIABLES[:-1]) + f"{joiner}{ALERT_VARIABLES[-1]}"


def build_alert_channels(app: BuildContext, *, retries: bool = True) -> dict[str, Channel]:
    """The alert channels, in order of preference: Slack (SLACK_ERROR_WEBHOOK), then e-mail;
    the signed webhook (ALERT_WEBHOOK_URL) besides, which gets every alert, SMS (ALERT_SMS_TO),
    which texts those at or above ALERT_SMS_SEVERITY, and Alertmanager (ALERTMANAGER_URL);
    `alertDelivery` keeps only Alertmanager, or only ours. `retries=False` (test-notify):
    one attempt each."""
    env = app.environment
    mode = app.config.alert_delivery
    manager_url = env.get("ALERTMANAGER_URL")
    if mode == "alertmanager" and not manager_url:
        raise ConfigError('alertDelivery "alertmanager" needs ALERTMANAGER_URL.')
    channels = _own_alert_channels(app, retries) if mode != "alertmanager" else {}
    if manager_url and mode != "own":
        from nightly_batch.delivery.channels import alertmanager  # noqa: PLC0415

        channels["alertmanager"] = alertmanager.build_alerts(app, manager_url, retries=retries)
    return channels


def _own_alert_channels(app: BuildContext, retries: bool) -> dict[str, Channel]:
    env = app.environment
    channels: dict[str, Channel] = {}
    webhook = env.get("SLACK_ERROR_WEBHOOK")
    if webhook:
        # Imported here: with no alert webhook, alerts never load the HTTP client.
        from nightly_batch.delivery.channels.slack import build_alerts  # noqa: PLC0415

        channels["slack"] = build_alerts(
            app, registered(ChannelName.SLACK), webhook, retries=retries
        )
    recipients = env.get("ALERT_EMAIL_TO")
    if recipients:
        from nightly_batch.delivery.channels.email.build import build_to  # noqa: PLC0415

        channels["email"] = build_to(
            app, registered(ChannelName.EMAIL), recipients, "ALERT_EMAIL_TO", retries=retries
        )
    hook = env.get("ALERT_WEBHOOK_URL")
    if hook:
        from nightly_batch.delivery.channels import webhook as signed  # noqa: PLC0415

        channels["webhook"] = signed.build_alerts(app, hook, retries=retries)
    numbers = env.get("ALERT_SMS_TO")
    if numbers:
        from nightly_batch.delivery.channels import sms  # noqa: PLC0415

        channels["sms"] = sms.build_alerts(app, numbers, retries=retries)
    return channels
