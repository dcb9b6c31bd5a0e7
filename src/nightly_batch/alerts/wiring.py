"""Wires alerting into an App: the manager, its sender thread, the dead man's switch pinger."""

from __future__ import annotations

from nightly_batch.alerts.manager import AlertManager, Notice
from nightly_batch.alerts.sender import AlertSender
from nightly_batch.delivery.factory import alert_variables_text, build_alert_channels
from nightly_batch.observability.events import get_logger
from nightly_batch.runtime.app import App

log = get_logger(__name__)


def attach_alerting(app: App) -> None:
    """Give `app` an alert manager and sender, and a pinger when HEARTBEAT_PING_URL is set."""
    store = app.store.alerts
    config = app.config
    sender = AlertSender(
        lambda: build_alert_channels(app),
        store,
        app.clock,
        group_wait=config.alert_group_wait_seconds,
        per_hour=config.alerts_per_hour,
    )
    manager = AlertManager(store, app.clock, config, app.environment, app.redactor, sender.submit)
    sender.manager = manager
    manager.reposter = sender.submit_repost
    app.alerts, app.alert_sender = manager, sender
    ping_url = app.environment.get("HEARTBEAT_PING_URL")
    if ping_url:
        from nightly_batch.alerts.pinger import Pinger  # noqa: PLC0415

        app.pinger = Pinger(ping_url, app.redactor)


def announce(app: App) -> None:
    """Say at start-up where alerts go, or that they are off."""
    if not app.environment.alerts_enabled:
        log.warning(
            "alerts.disabled",
            reason="ALERTS_ENABLED=false: alerts are recorded and logged, never sent",
        )
        return
    assert app.alert_sender is not None  # noqa: S101
    channels = sorted(app.alert_sender.channels())
    if channels:
        log.info(
            "alerts.enabled", channels=channels, threshold=app.environment.alert_severity_threshold
        )
    else:
        log.warning(
            "alerts.log_only",
            reason=f"none of {alert_variables_text(' and ')} is set",
        )


def resend_unsent(app: App) -> int:
    """Queue again the notices a previous process decided on but did not get out."""
    if app.alert_sender is None:
        return 0
    pending = app.store.alerts.notifications(status="queued")
    for record in pending:
        app.alert_sender.submit(
            Notice(record.id, record.fingerprint, record.kind, record.severity, record.text)
        )
    return len(pending)


def flush(app: App, timeout: float = 30.0) -> None:
    """Before the process exits: send what is queued, ping what is owed."""
    if app.alert_sender is not None:
        app.alert_sender.flush(timeout)
    if app.pinger is not None:
        app.pinger.flush(min(timeout, 15.0))
