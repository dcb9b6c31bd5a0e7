"""SMS for the alerts that must wake someone, through Twilio's Messages API.

A form POST to `/2010-04-01/Accounts/{AccountSid}/Messages.json` with basic auth (the account
SID and TWILIO_AUTH_TOKEN), one per number in ALERT_SMS_TO. Only alerts at or above
ALERT_SMS_SEVERITY (default critical) are texted, one text per firing, escalation and
resolution (reminders only with ALERT_SMS_REMINDERS=true), each cut to one segment
(rules/sms_text); the sender holds them to ALERT_SMS_PER_DAY.

Twilio's own error codes say more than the HTTP status: an invalid or unreachable number is
the setup's fault (configuration), 20429 and HTTP 429 mean slow down (rate-limited).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from nightly_batch.core.clock import Clock
from nightly_batch.core.names import DeliveryStatus, severity_rank
from nightly_batch.delivery.building import BuildContext, poster
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.http import HttpPoster, classify_status, error_text, json_field
from nightly_batch.delivery.urls import check_url
from nightly_batch.errors import ConfigError
from nightly_batch.observability.events import get_logger
from nightly_batch.observability.redact import Redactor
from nightly_batch.rules.message import DigestMessage
from nightly_batch.rules.sms_text import one_segment

log = get_logger(__name__)

API_URL = "https://api.twilio.com"
HOSTS = ("api.twilio.com",)
# Twilio error codes (its REST API's error dictionary) that are the setup's fault: a bad 'To'
# or 'From' number, a number that cannot take texts, a region not enabled, an opted-out
# recipient, bad credentials, an unknown account.
CONFIGURATION_CODES = frozenset(
    {20003, 20404, 21211, 21212, 21214, 21401, 21408, 21606, 21608, 21610, 21612, 21614, 21659}
)
RATE_LIMIT_CODES = frozenset({20429, 14107})
PAYLOAD_CODES = frozenset({21602, 21617})  # no body; body too long


@dataclass
class SmsChannel:
    """Texts alert notices to every number in `to`."""

    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    url: str  # the account's Messages.json
    account_sid: str
    token: str
    sender: str
    to: tuple[str, ...]
    severity: str = "critical"
    reminders: bool = False
    per_day: int = 10
    name: str = "sms"
    # Tried for every alert group, not only when the channels before it failed: it decides
    # itself which alerts are worth a text.
    receives_every_alert: bool = True

    def wants(self, alert: dict[str, Any]) -> bool:
        """An alert worth a text: severe enough, and not a reminder unless asked."""
        if alert.get("kind") == "reminder" and not self.reminders:
            return False
        return severity_rank(str(alert.get("severity"))) >= severity_rank(self.severity)

    def notify_alerts(self, text: str, alerts: list[dict[str, Any]]) -> Delivery:
        """One text per wanted alert, to every number."""
        bodies = [one_segment(str(a.get("text", text))) for a in alerts if self.wants(a)]
        return self._to_everyone(bodies)

    def notify(self, text: str) -> Delivery:
        """A plain text (test-notify), to every number."""
        return self._to_everyone([one_segment(text)])

    def _to_everyone(self, bodies: list[str]) -> Delivery:
        """Each body to every number, whatever one number answers: an opted-out or mistyped
        number never keeps the alert from the others. Delivered when any number got every
        body; a number that did not is logged (alert.sms_number_failed) with Twilio's reason;
        when none did, the first failure is the result."""
        reached, failures = 0, []
        for number in self.to:
            results = [self._text(number, body) for body in bodies]
            failed = next((result for result in results if not result.delivered), None)
            if failed is None:
                reached += 1
                continue
            failures.append(failed)
            log.error("alert.sms_number_failed", number=_masked(number), error=failed.error)
        if reached or not failures:
            texts = reached * len(bodies)
            return Delivery(
                DeliveryStatus.DELIVERED, provider_id=f"{texts} text{'s' * (texts != 1)}"
            )
        return failures[0]

    def send(self, _message: DigestMessage) -> Delivery:
        """Never a digest channel: SMS is for alerts only."""
        raise ConfigError("sms is an alert channel only; it cannot carry a digest.")

    def _text(self, number: str, body: str) -> Delivery:
        return self.poster.post(
            self.url,
            self._classify,
            data={"To": number, "From": self.sender, "Body": body},
            auth=(self.account_sid, self.token),
        )

    def _classify(self, response: httpx.Response) -> Delivery:
        if 200 <= response.status_code < 300:
            return Delivery(DeliveryStatus.DELIVERED, provider_id=json_field(response, "sid"))
        result = classify_status(response, self.redactor, self.clock.now())
        try:
            code = int(response.json().get("code"))
        except (ValueError, TypeError, AttributeError):
            return result
        error = f"Twilio error {code}: {error_text(response, self.redactor)}"
        if code in RATE_LIMIT_CODES:
            return Delivery(
                DeliveryStatus.RATE_LIMITED, error=error, retry_after=result.retry_after or 1.0
            )
        if code in CONFIGURATION_CODES:
            return Delivery(DeliveryStatus.CONFIGURATION, error=error)
        if code in PAYLOAD_CODES:
            return Delivery(DeliveryStatus.PAYLOAD, error=error)
        return Delivery(result.status, error=error, retry_after=result.retry_after)


def _masked(number: str) -> str:
    """A phone number as the log shows it: enough to tell which, not enough to dial."""
    return number[:3] + "*" * max(len(number) - 5, 0) + number[-2:]


def build_alerts(context: BuildContext, recipients: str, *, retries: bool = True) -> SmsChannel:
    """The SMS alert channel, from the TWILIO_* and ALERT_SMS_* variables."""
    env = context.environment
    sid, token, sender = (
        env.get("TWILIO_ACCOUNT_SID"),
        env.get("TWILIO_AUTH_TOKEN"),
        env.get("ALERT_SMS_FROM"),
    )
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", sid),
            ("TWILIO_AUTH_TOKEN", token),
            ("ALERT_SMS_FROM", sender),
        )
        if not value
    ]
    if missing or sid is None or token is None or sender is None:
        raise ConfigError(f"ALERT_SMS_TO needs {', '.join(missing)}.")
    to = tuple(number.strip() for number in recipients.split(",") if number.strip())
    base = check_url(
        "TWILIO_API_URL",
        env.get("TWILIO_API_URL") or API_URL,
        HOSTS,
        tuple(context.config.allowed_webhook_hosts),
    ).rstrip("/")
    return SmsChannel(
        poster(context, "alert-sms", retries=retries),
        context.redactor,
        context.clock,
        f"{base}/2010-04-01/Accounts/{sid}/Messages.json",
        sid,
        token,
        sender,
        to,
        severity=env.ALERT_SMS_SEVERITY,
        reminders=env.ALERT_SMS_REMINDERS,
        per_day=env.ALERT_SMS_PER_DAY,
    )
