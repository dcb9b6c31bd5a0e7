"""Secrets and switches from the environment: the only place secrets come from.

Every variable also accepts `NAME_FILE`, the path of a file holding the value (systemd
credentials, Docker secrets), so a secret never has to sit in a unit file. The variables are
collected first (`NAME` or the file `NAME_FILE` names), then validated by the pydantic model
`Environment`; secrets are `SecretStr`, so printing the model never shows them.

pydantic-settings is not used: it has no `NAME_FILE` indirection (its `secrets_dir` reads files
named after the variables from one directory), so the collection step would stay anyway, and
importing it costs about 0.1 s more than pydantic alone and loads asyncio, which the quick
commands must not (tests/test_imports.py).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
)
from pydantic_core import ErrorDetails

from nightly_batch.core.names import Severity
from nightly_batch.errors import ConfigError
from nightly_batch.settings.allowed import field_kind, optional_inner
from nightly_batch.settings.checks import WholeNumber
from nightly_batch.settings.messages import show_value

EmailProvider = Literal["sendgrid", "mailgun", "smtp"]
EMAIL_PROVIDERS: tuple[EmailProvider, ...] = get_args(EmailProvider)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def is_secret(kind: Any) -> bool:
    """A variable whose value grants access to something (declared as `SecretStr | None`)."""
    return optional_inner(kind) is SecretStr


class Environment(BaseModel):
    """The variables nightly-batch reads, after `_FILE` indirection and validation."""

    # Field names are the variables' own; other variables of the process are not ours to refuse.
    model_config = ConfigDict(frozen=True, extra="ignore")

    SLACK_WEBHOOK_URL: SecretStr | None = Field(
        None, description="the digest's Slack incoming webhook"
    )
    SLACK_BOT_TOKEN: SecretStr | None = Field(
        None,
        description="a Slack bot token (`chat.postMessage`), with the channel id in "
        "`digestNotificationTarget`",
    )
    DISCORD_WEBHOOK_URL: SecretStr | None = Field(None, description="the digest's Discord webhook")
    EMAIL_API_KEY: SecretStr | None = Field(None, description="the SendGrid or Mailgun API key")
    SMTP_URL: SecretStr | None = Field(
        None,
        description="`smtps://user:pass@host:465` (implicit TLS) or "
        "`smtp://user:pass@host:587` (STARTTLS)",
    )
    SLACK_ERROR_WEBHOOK: SecretStr | None = Field(
        None, description="a Slack incoming webhook for alerts"
    )
    WEBHOOK_URL: SecretStr | None = Field(
        None, description="the `webhook` channel's receiver: the digest as signed JSON"
    )
    ALERT_WEBHOOK_URL: SecretStr | None = Field(
        None, description="a receiver of every alert as signed JSON (n8n, a relay, a pager bridge)"
    )
    WEBHOOK_SECRET: SecretStr | None = Field(
        None,
        description="the key of the webhooks' HMAC-SHA256 signature (16 characters or more); "
        "never sent",
    )
    HEARTBEAT_PING_URL: SecretStr | None = Field(
        None,
        description="an external dead man's switch, Healthchecks.io style: pinged as each job "
        "starts, succeeds or fails",
    )
    DASHBOARD_TOKEN: SecretStr | None = Field(
        None,
        description="when set, every dashboard request needs `Authorization: Bearer <token>` (or basic "
        "auth with the token as the password)",
    )
    EMAIL_PROVIDER: Annotated[EmailProvider | None, BeforeValidator(_lower)] = Field(
        None, description="the e-mail service (unset: `smtp` when `SMTP_URL` is set)"
    )
    EMAIL_API_URL: str | None = Field(
        None,
        description="the provider's API address instead of its default one (on the provider's "
        "hosts or in `allowedWebhookHosts`)",
    )
    EMAIL_FROM: str | None = Field(
        None, description="the sender address of digest and alert e-mail"
    )
    MAILGUN_DOMAIN: str | None = Field(None, description="the Mailgun sending domain")
    APP_URL: str | None = Field(
        None, description="the dashboard's public address; notifications link to the digest there"
    )
    ALERTS_ENABLED: bool = Field(
        default=True, description="`false` records and logs alerts but sends none"
    )
    ALERT_EMAIL_TO: str | None = Field(None, description="alert recipients, comma-separated")
    ALERT_SEVERITY_THRESHOLD: Annotated[Severity, BeforeValidator(_lower)] = Field(
        "warning", description="alerts below this severity are ignored entirely"
    )

    TWILIO_ACCOUNT_SID: str | None = Field(
        None,
        description="the Twilio account that texts critical alerts (`AC` and 32 hex digits)",
        pattern=r"^AC[0-9a-fA-F]{32}$",
        examples=["AC0123456789abcdef0123456789abcdef"],
    )
    TWILIO_AUTH_TOKEN: SecretStr | None = Field(None, description="the Twilio account's auth token")
    TWILIO_API_URL: SecretStr | None = Field(
        None,
        description="Twilio's API address instead of `https://api.twilio.com` (a relay: on a "
        "host in `allowedWebhookHosts`)",
    )
    ALERT_SMS_FROM: str | None = Field(
        None,
        description="the Twilio number alerts are texted from, as +15551234567",
        pattern=r"^\+[1-9][0-9]{6,14}$",
        examples=["+15551234567"],
    )
    ALERT_SMS_TO: str | None = Field(
        None,
        description="the numbers alerts are texted to, comma-separated, each as +15551234567",
        pattern=r"^\s*\+[1-9][0-9]{6,14}\s*(,\s*\+[1-9][0-9]{6,14}\s*)*$",
        examples=["+15551234567,+15557654321"],
    )
    ALERT_SMS_SEVERITY: Annotated[Severity, BeforeValidator(_lower)] = Field(
        "critical", description="alerts below this severity are never texted"
    )
    ALERT_SMS_REMINDERS: bool = Field(
        default=False, description="`true` texts the reminders of a firing alert too"
    )
    ALERT_SMS_PER_DAY: WholeNumber = Field(
        10,
        ge=1,
        le=1000,
        description="the most alerts texted in 24 hours (each to every number); the rest are "
        "logged",
    )

    ALERTMANAGER_URL: SecretStr | None = Field(
        None,
        description="an Alertmanager (`http://127.0.0.1:9093`) that gets every alert through its "
        "API v2",
    )
    ALERT_RUNBOOK_URL: str | None = Field(
        None,
        description="where docs/ERROR_ALERTS.md is published: Alertmanager alerts link their "
        "runbook there",
    )

    NIGHTLY_BATCH_DATABASE_URL: SecretStr | None = Field(
        None,
        description="a PostgreSQL URL (`postgresql://user:pass@host/db`): the runtime store of "
        "two hosts, one leading (docs/HIGH_AVAILABILITY.md); unset, SQLite in `logsDir`",
    )
    NIGHTLY_BATCH_LOG_LEVEL: (
        Annotated[Literal["debug", "info", "warning", "error"], BeforeValidator(_lower)] | None
    ) = Field(None, description="the log level, over the config's `logLevel`")
    NIGHTLY_BATCH_NODE: str | None = Field(
        None,
        description="this host's name among the daemons sharing a PostgreSQL store (default: "
        "the host name)",
        max_length=63,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    )

    # Variables a registered channel reads that no field declares (a plug-in's, a test's):
    # kept as text and treated as secrets, since nothing says they are not.
    _undeclared: dict[str, str] = PrivateAttr(default_factory=dict)

    def get(self, name: str) -> str | None:
        """A variable's value as text (a secret's too), None when it is not set."""
        if name in self._undeclared:
            return self._undeclared[name]
        value = getattr(self, name) if name in type(self).model_fields else None
        if value is None or name not in self.model_fields_set:
            return None
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return str(value).lower() if isinstance(value, bool) else str(value)

    @property
    def database_url(self) -> str | None:
        url = self.NIGHTLY_BATCH_DATABASE_URL
        return url.get_secret_value() if url is not None else None

    @property
    def node(self) -> str:
        return self.NIGHTLY_BATCH_NODE or socket.gethostname()

    @property
    def alerts_enabled(self) -> bool:
        return self.ALERTS_ENABLED

    @property
    def alert_severity_threshold(self) -> str:
        return self.ALERT_SEVERITY_THRESHOLD

    def secret_values(self) -> list[str]:
        """Every secret that is set, plus the parts of it worth hiding on their own."""
        found = []
        for name in (*SECRET_NAMES, *self._undeclared):
            value = self.get(name)
            if not value:
                continue
            found.append(value)
            # libpq's key/value form (NIGHTLY_BATCH_DATABASE_URL may be one): its password.
            found += re.findall(r"(?:^|\s)password\s*=\s*'?([^'\s]+)", value)
            try:
                parts = urlsplit(value)
            except ValueError:  # not a URL ("http://[bad"): the whole value is hidden still
                continue
            if parts.password:
                found.append(parts.password)
            if parts.path and parts.path.strip("/") and parts.hostname:
                found.append(parts.path)
        return found

    def masked(self) -> dict[str, str]:
        """Every variable that is set, secrets masked (what check-config prints)."""
        shown = {}
        for name in (*SECRET_NAMES, *PLAIN_NAMES, *self._undeclared):
            value = self.get(name)
            if value is not None:
                shown[name] = value if name in PLAIN_NAMES else mask(value)
        return shown


# Values that grant access to something: never printed, always redacted from logs.
SECRET_NAMES = tuple(
    name for name, field in Environment.model_fields.items() if is_secret(field.annotation)
)
PLAIN_NAMES = tuple(name for name in Environment.model_fields if name not in SECRET_NAMES)


def mask(value: str) -> str:
    """Hide a secret but keep enough to recognise which service it points at: the scheme,
    the host and the port (a relay on :2525 and the provider on :465 are different setups)."""
    try:
        parts = urlsplit(value)
    except ValueError:  # not a URL: nothing of it is shown
        return "*** (set)"
    if parts.scheme and parts.hostname:
        try:
            port = f":{parts.port}" if parts.port is not None else ""
        except ValueError:  # a port that is not a number: not shown, still masked
            port = ""
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"{parts.scheme}://{host}{port}/*** (set)"
    return "*** (set)"


def read_environment(
    environ: Mapping[str, str] | None = None, also: Iterable[str] = ()
) -> Environment:
    """Collect and check the variables; a bad one is a ConfigError naming it.

    `also` names more variables to read (the composition root passes those the registered
    channels read); the ones the model does not declare are kept as they are.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in dict.fromkeys((*Environment.model_fields, *also)):
        value = _read_one(name, environ)
        if value is not None and value != "":
            values[name] = value
    undeclared = {
        name: values.pop(name) for name in list(values) if name not in SECRET_NAMES + PLAIN_NAMES
    }
    try:
        environment = Environment.model_validate(values)
    except ValidationError as error:
        raise ConfigError(describe_environment_error(values, error)) from None
    environment._undeclared.update(undeclared)  # noqa: SLF001  (its own module fills it)
    return environment


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


def describe_environment_error(values: Mapping[str, str], error: ValidationError) -> str:
    """One sentence per refused variable: its value as given and the values it allows."""
    return " ".join(_sentence(values, problem) for problem in error.errors(include_url=False))


def _sentence(values: Mapping[str, str], problem: ErrorDetails) -> str:
    name = str(problem["loc"][0])
    shown = show_value(values.get(name, problem["input"]))
    return f"{name} = {shown} is not allowed: use {describe_allowed(name)}."


def describe_allowed(name: str) -> str:
    """The values a variable takes, in the words of its error sentence and of the docs."""
    kind, _ = field_kind(Environment.model_fields[name])
    kind = optional_inner(kind) or kind
    if get_origin(kind) is Annotated:  # a validator on an optional variable's values
        kind = get_args(kind)[0]
    if get_origin(kind) is Literal:
        return f"one of {', '.join(get_args(kind))}"
    if kind is int:
        low, high = _bounds(Environment.model_fields[name])
        return f"a whole number from {low} to {high}" if low is not None else "a whole number"
    examples = Environment.model_fields[name].examples
    if kind is str and examples:
        return f"text like {examples[0]}"
    return "true or false" if kind is bool else "text"


def _bounds(field: Any) -> tuple[Any, Any]:
    """The `ge` and `le` a numeric variable declares, (None, None) when it declares none."""
    low = high = None
    for rule in field.metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return low, high
