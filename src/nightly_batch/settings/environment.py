"""Secrets and switches from the environment: the only place secrets come from.

Every variable also accepts `NAME_FILE`, the path of a file holding the value (systemd
credentials, Docker secrets), so a secret never has to sit in a unit file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from nightly_batch.core.names import SEVERITIES
from nightly_batch.errors import ConfigError

# Values that grant access to something: never printed, always redacted from logs.
SECRET_NAMES = (
    "SLACK_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "DISCORD_WEBHOOK_URL",
    "EMAIL_API_KEY",
    "SMTP_URL",
    "SLACK_ERROR_WEBHOOK",
    "HEARTBEAT_PING_URL",
    "DASHBOARD_TOKEN",
)
PLAIN_NAMES = (
    "EMAIL_PROVIDER",
    "EMAIL_API_URL",
    "EMAIL_FROM",
    "MAILGUN_DOMAIN",
    "APP_URL",
    "ALERTS_ENABLED",
    "ALERT_EMAIL_TO",
    "ALERT_SEVERITY_THRESHOLD",
)
EMAIL_PROVIDERS = ("sendgrid", "mailgun", "smtp")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Environment:
    """The variables nightly-batch reads, after `_FILE` indirection and validation."""

    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    @property
    def alerts_enabled(self) -> bool:
        return self.values.get("ALERTS_ENABLED", "true").lower() in _TRUE

    @property
    def alert_severity_threshold(self) -> str:
        return self.values.get("ALERT_SEVERITY_THRESHOLD", "warning").lower()

    def secret_values(self) -> list[str]:
        """Every secret that is set, plus the parts of it worth hiding on their own."""
        found = []
        for name in SECRET_NAMES:
            value = self.values.get(name)
            if not value:
                continue
            found.append(value)
            parts = urlsplit(value)
            if parts.password:
                found.append(parts.password)
            if parts.path and parts.path.strip("/") and parts.hostname:
                found.append(parts.path)
        return found

    def masked(self) -> dict[str, str]:
        """Every variable that is set, secrets masked (what check-config prints)."""
        shown = {}
        for name in (*SECRET_NAMES, *PLAIN_NAMES):
            value = self.values.get(name)
            if value is None:
                continue
            shown[name] = mask(value) if name in SECRET_NAMES else value
        return shown


def mask(value: str) -> str:
    """Hide a secret but keep enough to recognise which service it points at."""
    parts = urlsplit(value)
    if parts.scheme and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}/*** (set)"
    return "*** (set)"


def read_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """Collect and check the variables; a bad one is a ConfigError naming it."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in (*SECRET_NAMES, *PLAIN_NAMES):
        value = _read_one(name, environ)
        if value is not None and value != "":
            values[name] = value
    _check_choices(values)
    return Environment(values)


def _read_one(name: str, environ: Mapping[str, str]) -> str | None:
    direct = environ.get(name)
    file_name = environ.get(f"{name}_FILE")
    if file_name is None:
        return direct.strip() if direct is not None else None
    if direct:
        raise ConfigError(f"{name} and {name}_FILE are both set; set only one of them.")
    try:
        return Path(file_name).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"{name}_FILE = '{file_name}' cannot be read ({error.strerror or error})."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}_FILE = '{file_name}' is not UTF-8 text.") from None


def _check_choices(values: Mapping[str, str]) -> None:
    provider = values.get("EMAIL_PROVIDER")
    if provider is not None and provider.lower() not in EMAIL_PROVIDERS:
        raise ConfigError(
            f"EMAIL_PROVIDER = '{provider}' is not allowed: use one of {', '.join(EMAIL_PROVIDERS)}."
        )
    enabled = values.get("ALERTS_ENABLED")
    if enabled is not None and enabled.lower() not in (*_TRUE, *_FALSE):
        raise ConfigError(f"ALERTS_ENABLED = '{enabled}' is not allowed: use true or false.")
    threshold = values.get("ALERT_SEVERITY_THRESHOLD")
    if threshold is not None and threshold.lower() not in SEVERITIES:
        raise ConfigError(
            f"ALERT_SEVERITY_THRESHOLD = '{threshold}' is not allowed: "
            f"use one of {', '.join(SEVERITIES)}."
        )
