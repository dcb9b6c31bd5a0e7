"""`test-notify`: a short message through each real channel, one attempt, one line per channel.

Also the channel check of `check-config`, which builds every configured channel (validating its
variables and URLs) without sending anything.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from nightly_batch.core.clock import Clock, SystemClock, iso_utc
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.factory import build_alert_channels, build_channel
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment

Resource = TypeVar("Resource")


@dataclass
class ChannelCheck:
    """Enough of an App to build channels, opening nothing."""

    config: Config
    environment: Environment
    redactor: Redactor
    clock: Clock

    def pause(self, seconds: float) -> None:
        """Never called while only building."""

    made: dict[str, object] = field(default_factory=dict)

    def shared(self, key: str, make: Callable[[], Resource]) -> Resource:
        """One per key, as the App does; `close` closes them."""
        if key not in self.made:
            self.made[key] = make()
        return cast("Resource", self.made[key])

    def close(self) -> None:
        for resource in self.made.values():
            closer = getattr(resource, "close", None)
            if callable(closer):
                closer()
        self.made.clear()


def configured_channels(config: Config, only: str | None = None) -> list[str]:
    if only is not None:
        return [only]
    return config.delivery_channels


def check_channels(config: Config, environment: Environment) -> tuple[list[str], list[str]]:
    """Build each digest and alert channel; every one that cannot be built is named in one
    ConfigError (one sentence each), so a single run shows all that is missing."""
    context = ChannelCheck(
        config, environment, Redactor(environment.secret_values()), SystemClock()
    )
    names = configured_channels(config)
    problems: list[str] = []
    alert_channels: list[str] = []
    try:
        for name in names:
            try:
                build_channel(name, context)
            except ConfigError as error:
                problems.append(str(error))
        try:
            alert_channels = sorted(build_alert_channels(context))
        except ConfigError as error:
            problems.append(str(error))
    finally:
        context.close()
    if problems:
        raise ConfigError(" ".join(problems))
    return names, alert_channels


def test_notify(app: ChannelCheck, only: str | None) -> tuple[int, list[str]]:
    """Send the test message through each digest channel and, unless one channel is asked
    for, each alert channel (`alerts via NAME`); returns the exit code and one line each."""
    text = (
        f"nightly-batch test message from {socket.gethostname()} at {iso_utc(app.clock.now())}: "
        "if you can read this, this channel works."
    )
    lines, code = [], 0
    for name in configured_channels(app.config, only):
        try:
            result = build_channel(name, app, retries=False).notify(text)
        except ConfigError as error:
            lines.append(f"{name}: not configured: {app.redactor.text(str(error))}")
            code = max(code, 2)
            continue
        code = max(code, _said(app, name, result, lines))
    if only is None:
        try:
            alert_channels = build_alert_channels(app, retries=False)
        except ConfigError as error:
            lines.append(f"alerts: not configured: {app.redactor.text(str(error))}")
            return max(code, 2), lines
        for name, channel in alert_channels.items():
            code = max(code, _said(app, f"alerts via {name}", channel.notify(text), lines))
    return code, lines


def _said(app: ChannelCheck, label: str, result: Delivery, lines: list[str]) -> int:
    """The result's line; the exit code it calls for (1 for a failure)."""
    if result.delivered:
        lines.append(
            f"{label}: delivered" + (f" ({result.provider_id})" if result.provider_id else "")
        )
        return 0
    reason = app.redactor.text(result.error or "no reason given")
    lines.append(f"{label}: failed ({result.status}): {reason}")
    return 1
