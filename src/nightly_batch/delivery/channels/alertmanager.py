"""Alertmanager: every alert posted to its API v2 (`POST /api/v2/alerts`), for operators who
route, group, silence and page with the Alertmanager they already run.

Labels `alertname`, `task`, `severity`, `instance` (this host); annotations `summary`,
`description` and `runbook` (the alert's row in docs/ERROR_ALERTS.md, a URL under
ALERT_RUNBOOK_URL when set). A firing alert's `endsAt` is set HOLD_BEATS heartbeats (or watchdog
passes, the slower) ahead and each of them posts every firing alert again, muted or not (the
watchdog goes on while the scheduler is stalled), so Alertmanager never resolves one on its own
(it would, after its resolve timeout, for an alert that is not re-posted); a resolved alert is
posted with `endsAt` now, which ends it at once.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from nightly_batch.core.clock import Clock, iso_utc
from nightly_batch.core.names import SEVERITIES, DeliveryStatus
from nightly_batch.delivery.building import BuildContext, poster
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.http import HttpPoster, classify_status
from nightly_batch.delivery.urls import LOOPBACK, check_url
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from nightly_batch.rules.message import DigestMessage

API_PATH = "/api/v2/alerts"
# A firing alert stays firing in Alertmanager this many heartbeats after its last post.
HOLD_BEATS = 3
RUNBOOK = "docs/ERROR_ALERTS.md#every-alert"


@dataclass
class AlertmanagerChannel:
    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    url: str  # .../api/v2/alerts
    instance: str
    hold: timedelta
    runbook: str = RUNBOOK
    name: str = "alertmanager"
    receives_every_alert: bool = True

    def notify_alerts(self, _text: str, alerts: list[dict[str, Any]]) -> Delivery:
        """Each notification as an alert: the text is the alerts' own, label by label. The
        severity is a label, so part of the alert's identity there: an escalated alert ends
        its copies under the other severities, or they would linger and resolve later."""
        now = self.clock.now()
        posted = []
        for alert in alerts:
            posted.append(self._alert(alert, now))
            if alert.get("kind") == "escalated":
                ended = {**alert, "kind": "resolved"}
                posted.extend(
                    self._alert({**ended, "severity": severity}, now)
                    for severity in SEVERITIES
                    if severity != alert.get("severity")
                )
        return self._post(posted)

    def repost(self, firing: list[dict[str, Any]]) -> Delivery:
        """Every alert still firing, posted again before Alertmanager would resolve it."""
        if not firing:
            return Delivery(DeliveryStatus.DELIVERED)
        now = self.clock.now()
        return self._post([self._alert({**alert, "kind": "firing"}, now) for alert in firing])

    def notify(self, text: str) -> Delivery:
        """test-notify: an info alert that ends by itself a minute later."""
        now = self.clock.now()
        test = {
            "alertname": "nightly_batch_test_notify",
            "task": "test-notify",
            "severity": "info",
            "summary": text,
            "kind": "firing",
            "startedAt": iso_utc(now),
        }
        alert = self._alert(test, now)
        alert["endsAt"] = iso_utc(now + timedelta(minutes=1))
        return self._post([alert])

    def send(self, _message: DigestMessage) -> Delivery:
        raise ConfigError("alertmanager is an alert channel only; it cannot carry a digest.")

    def _alert(self, alert: dict[str, Any], now: datetime) -> dict[str, Any]:
        summary = str(alert.get("summary") or alert.get("text", ""))
        posted: dict[str, Any] = {
            "labels": {
                "alertname": str(alert["alertname"]),
                "task": str(alert["task"]),
                "severity": str(alert["severity"]),
                "instance": self.instance,
            },
            "annotations": {
                "summary": summary,
                "description": str(alert.get("text", summary)),
                "runbook": self.runbook,
            },
        }
        if alert.get("startedAt"):
            posted["startsAt"] = str(alert["startedAt"])
        resolved = alert.get("kind") == "resolved"
        posted["endsAt"] = iso_utc(now if resolved else now + self.hold)
        return posted

    def _post(self, alerts: list[dict[str, Any]]) -> Delivery:
        body = json.dumps(alerts).encode()

        def classify(response: httpx.Response) -> Delivery:
            return classify_status(response, self.redactor, self.clock.now())

        return self.poster.post(
            self.url, classify, content=body, headers={"Content-Type": "application/json"}
        )


def instance_of(database_url: str | None, node: str | None) -> str:
    """The `instance` label: this host (NIGHTLY_BATCH_NODE, else its name); for two hosts on
    one PostgreSQL store, the store's host and database, the same on both, so an alert that
    moves to the other host at a takeover stays one alert there instead of one resolving."""
    if database_url:
        parts = urlsplit(database_url)
        return f"{parts.hostname or 'localhost'}{parts.path or ''}"
    return node or socket.gethostname()


def build_alerts(context: BuildContext, url: str, *, retries: bool = True) -> AlertmanagerChannel:
    """The Alertmanager channel on ALERTMANAGER_URL: https, or plain http on this host (where
    Alertmanager usually listens) or a host in allowedWebhookHosts."""
    host = urlsplit(url).hostname or ""
    extra = tuple(context.config.allowed_webhook_hosts) + (LOOPBACK if host in LOOPBACK else ())
    base = check_url("ALERTMANAGER_URL", url, None, extra).rstrip("/")
    env = context.environment
    runbook_base = env.get("ALERT_RUNBOOK_URL")
    runbook = f"{runbook_base.rstrip('/')}#every-alert" if runbook_base else RUNBOOK
    return AlertmanagerChannel(
        poster(context, "alert-alertmanager", retries=retries),
        context.redactor,
        context.clock,
        base if base.endswith(API_PATH) else base + API_PATH,
        instance_of(env.database_url, env.get("NIGHTLY_BATCH_NODE")),
        # Re-posted by each heartbeat and each watchdog pass (the watchdog goes on while the
        # scheduler is stalled): three of the slower of the two pass before it would end.
        timedelta(
            minutes=HOLD_BEATS
            * max(context.config.heartbeat_minutes, context.config.watchdog_check_minutes)
        ),
        runbook,
    )
