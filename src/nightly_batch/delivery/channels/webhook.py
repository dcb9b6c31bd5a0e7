"""A signed webhook: the digest (the `webhook` channel, at WEBHOOK_URL) and every alert (at
ALERT_WEBHOOK_URL) as JSON for automation (n8n, a relay, a pager bridge) that must trust it.

Each request carries `X-Nightly-Batch-Timestamp` (Unix seconds) and
`X-Nightly-Batch-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with
WEBHOOK_SECRET>`; the body has a `version` and an `idempotencyKey` (also a header) that stays
the same on every resend of one message, so a receiver can drop a repeat. docs/ERROR_ALERTS.md
shows a receiver's check in Python and with openssl.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import httpx

from nightly_batch.core.channels import ChannelSpec
from nightly_batch.core.clock import Clock
from nightly_batch.delivery.building import BuildContext, poster
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.http import HttpPoster, classify_status
from nightly_batch.delivery.urls import check_url
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from nightly_batch.rules.message import DigestMessage, Lead

VERSION = 1
TIMESTAMP_HEADER = "X-Nightly-Batch-Timestamp"
SIGNATURE_HEADER = "X-Nightly-Batch-Signature"
KEY_HEADER = "X-Nightly-Batch-Idempotency-Key"
# Shorter keys are guessable: an HMAC is only as strong as its key.
SECRET_MIN = 16


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _lead(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "title": lead.title,
        "link": lead.link,
        "subreddit": lead.subreddit,
        "confidence": lead.confidence,
        "age": lead.age,
        "alsoIn": list(lead.also_in),
    }


def digest_body(message: DigestMessage, channel: str) -> dict[str, Any]:
    """The digest as the receiver gets it: what every other channel shows, as data."""
    return {
        "version": VERSION,
        "type": "digest",
        "idempotencyKey": f"{message.batch_id}:{channel}",
        "digest": {
            "date": message.digest_date,
            "batchId": message.batch_id,
            "file": message.digest_file,
            "url": message.url,
            "title": message.title,
            "summary": message.summary,
            "total": message.total,
            "leads": [_lead(lead) for lead in message.leads],
            "unlisted": message.unlisted,
            "nearMisses": [_lead(lead) for lead in message.near_misses],
            "precision": message.precision,
            "leftOut": message.left_out,
        },
    }


def alerts_body(text: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """Alert notifications (firing, resolved, reminders), keyed by their notification ids."""
    ids = "-".join(str(alert["id"]) for alert in alerts)
    # Each alert also carries its own key: after a restart, unsent notices may leave grouped
    # otherwise, and a receiver still drops each one it has.
    alerts = [{**alert, "idempotencyKey": f"alert:{alert['id']}"} for alert in alerts]
    return {
        "version": VERSION,
        "type": "alert",
        "idempotencyKey": f"alert:{ids}",
        "alerts": alerts,
        "text": text,
    }


@dataclass
class WebhookChannel:
    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    url: str
    secret: str
    name: str = "webhook"
    # An alert webhook gets every alert, not only those the channels before it failed to send:
    # automation wants the whole stream.
    receives_every_alert: bool = False

    def send(self, message: DigestMessage) -> Delivery:
        return self._post(digest_body(message, self.name))

    def notify(self, text: str) -> Delivery:
        stamp = str(int(self.clock.now().timestamp()))
        key = "notice:" + hashlib.sha256(f"{stamp}\0{text}".encode()).hexdigest()[:24]
        return self._post(
            {"version": VERSION, "type": "notice", "idempotencyKey": key, "text": text}
        )

    def notify_alerts(self, text: str, alerts: list[dict[str, Any]]) -> Delivery:
        return self._post(alerts_body(text, alerts))

    def _post(self, payload: dict[str, Any]) -> Delivery:
        # The bytes signed are the bytes sent: the body is encoded once, here.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = str(int(self.clock.now().timestamp()))
        key = str(payload["idempotencyKey"])
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(self.secret, stamp, body),
            KEY_HEADER: key,
        }

        def classify(response: httpx.Response) -> Delivery:
            return classify_status(response, self.redactor, self.clock.now(), provider_id=key)

        return self.poster.post(self.url, classify, content=body, headers=headers)


def _secret(context: BuildContext, needed_by: str) -> str:
    secret = context.environment.get("WEBHOOK_SECRET")
    if not secret:
        raise ConfigError(f"{needed_by} needs WEBHOOK_SECRET: its messages are signed with it.")
    if len(secret) < SECRET_MIN:
        raise ConfigError(f"WEBHOOK_SECRET must be at least {SECRET_MIN} characters long.")
    return secret


def _checked(context: BuildContext, variable: str, url: str) -> str:
    return check_url(variable, url, None, tuple(context.config.allowed_webhook_hosts))


def build(context: BuildContext, spec: ChannelSpec, retries: bool) -> WebhookChannel:
    """The digest's webhook channel on WEBHOOK_URL."""
    url = context.environment.get("WEBHOOK_URL")
    if not url:
        raise ConfigError("the webhook channel needs WEBHOOK_URL.")
    secret = _secret(context, "the webhook channel")
    # A receiver drops a repeat by its idempotency key, so an ambiguous attempt is sent again.
    sender = poster(context, spec.name, retries, resend_ambiguous_once=True)
    return WebhookChannel(
        sender, context.redactor, context.clock, _checked(context, "WEBHOOK_URL", url), secret
    )


def build_alerts(context: BuildContext, url: str, *, retries: bool = True) -> WebhookChannel:
    """The alert webhook on ALERT_WEBHOOK_URL (with retries, but for test-notify: an alert
    must get out)."""
    secret = _secret(context, "ALERT_WEBHOOK_URL")
    return WebhookChannel(
        poster(context, "alert-webhook", retries=retries, resend_ambiguous_once=True),
        context.redactor,
        context.clock,
        _checked(context, "ALERT_WEBHOOK_URL", url),
        secret,
        receives_every_alert=True,
    )
