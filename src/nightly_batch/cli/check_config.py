"""`check-config`: every problem of the config, the environment and the state file in one run,
and warnings about setups that work but will surprise (alerts nobody receives, an open
dashboard)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from nightly_batch.cli.notify import check_channels
from nightly_batch.core.jsonio import to_text
from nightly_batch.delivery.factory import alert_variables_text
from nightly_batch.delivery.urls import LOOPBACK
from nightly_batch.errors import ConfigError, StoreError
from nightly_batch.runtime.app import Settings

STATE_HEAD = 4096


def check_config(settings: Settings) -> int:
    config, environment = settings.config, settings.environment
    problems: list[str] = []
    try:
        channels, alert_channels = check_channels(config, environment)
    except ConfigError as error:
        problems.append(str(error))
        channels, alert_channels = [], []
    problems += [problem for problem in (_ping_url(settings), _state_head(settings)) if problem]
    from nightly_batch.storage.opening import describe_store  # noqa: PLC0415

    try:
        store = describe_store(config, environment)
    except StoreError as error:
        problems.append(str(error))
    if problems:
        raise ConfigError(" ".join(problems))
    warnings = [*settings.warnings, *_surprises(settings, alert_channels)]
    shown = {
        "configFile": str(config.config_path),
        "config": config.shown(),
        "environment": environment.masked(),
        "channels": channels,
        "alertChannels": alert_channels if environment.alerts_enabled else "disabled",
        "store": store,
        "warnings": warnings,
    }
    sys.stdout.write(to_text(shown, indent=True) + "\n")
    for warning in warnings[len(settings.warnings) :]:
        print(f"nightly-batch: warning: {warning}", file=sys.stderr)
    print(f"nightly-batch: {config.config_path} is valid.", file=sys.stderr)
    return 0


def _ping_url(settings: Settings) -> str | None:
    """The dead man's switch carries no secret in its path only if it is https (or listed)."""
    url = settings.environment.get("HEARTBEAT_PING_URL")
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    allowed = settings.config.allowed_webhook_hosts
    listed = host in allowed or (parts.port is not None and f"{host}:{parts.port}" in allowed)
    if parts.scheme not in ("http", "https") or not host:
        return "HEARTBEAT_PING_URL is not an http(s) URL."
    if parts.scheme == "http" and not listed:
        return (
            f"HEARTBEAT_PING_URL must use https (plain http only for hosts in "
            f"allowedWebhookHosts): http://{parts.netloc.rpartition('@')[2]}/..."
        )
    return None


def _state_head(settings: Settings) -> str | None:
    """The state file's first bytes: readable, and the start of a JSON object (a missing file
    is an empty queue). The whole file is the batch's to read: it may be 500 MB."""
    path = settings.config.state_file
    try:
        with path.open("rb") as handle:
            head = handle.read(STATE_HEAD)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{path}: the state file cannot be read ({error.strerror})."
    if head.strip() and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return f"{path}: the state file does not hold a JSON object."
    return None


def _surprises(settings: Settings, alert_channels: list[str]) -> list[str]:
    config, environment = settings.config, settings.environment
    found = []
    if not config.state_file.parent.is_dir():
        # Made at the first run (systemd's StateDirectory= makes the deployed one), but a
        # typo would have the batch read an empty queue there every night.
        found.append(
            f"stateFile's directory {config.state_file.parent} does not exist yet: the first "
            "run makes it, and until the sweeper writes there the queue is empty."
        )
    if environment.alerts_enabled and not alert_channels:
        found.append(f"alerts go only to the log: set {alert_variables_text(' or ')} to be told.")
    if (
        config.dashboard_port is not None
        and config.dashboard_host not in LOOPBACK
        and not environment.get("DASHBOARD_TOKEN")
    ):
        found.append(
            f"the dashboard listens on {config.dashboard_host}, beyond this host, without "
            "DASHBOARD_TOKEN: anyone who can reach it reads the leads."
        )
    return found
