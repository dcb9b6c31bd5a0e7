"""Delivering one digest to its channels: records before and after, fan-out, fallback, notices.

A delivery is recorded `pending` before the attempt and `sent`, `failed` or `ambiguous` after
it. A crash between a POST and its record leaves `pending`, and that one message may be sent
again later: the one documented case of a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nightly_batch.core.clock import iso_utc, parse_iso
from nightly_batch.core.names import DeliveryStatus, RecordStatus
from nightly_batch.core.retrying import Backoff
from nightly_batch.delivery.channel import Delivery
from nightly_batch.errors import ConfigError, DigestError
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.message import DigestMessage, build_message
from nightly_batch.runtime.app import App
from nightly_batch.storage.digests import read_digest
from nightly_batch.storage.records import DeliveryRecord

# A `pending` record this old belongs to a process that died mid-send.
PENDING_STALE = timedelta(minutes=10)
# A delivery owed after a transient failure is retried by a later heartbeat, no sooner than
# this: 5 minutes after the first failure, doubling, at most an hour.
REDELIVERY = Backoff(
    base=timedelta(minutes=5).total_seconds(), cap=timedelta(hours=1).total_seconds()
)

log = get_logger(__name__)


@dataclass
class FanOut:
    """What happened on each channel for one digest."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # channel -> redacted reason
    misconfigured: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # delivered, with a remark


def already_handled(app: App, message: DigestMessage, channel: str) -> str | None:
    """Why `channel` must not get this digest again, or None if it may."""
    record = app.store.delivery(message.batch_id, channel)
    if record is not None and record.status == RecordStatus.SENT:
        return "already sent"
    if record is not None and record.status == RecordStatus.AMBIGUOUS:
        # The service may have posted it; Slack and Discord cannot tell us, so never guess.
        return "an earlier attempt may have been posted (ambiguous); not resent automatically"
    earlier = app.store.sent_for_date(message.digest_date, channel)
    if earlier is not None:
        return f"the digest of {message.digest_date} was already sent as batch {earlier.batch_id}"
    return None


def deliver(
    app: App, channel_name: str, message: DigestMessage, *, retries: bool = True
) -> tuple[str, str | None]:
    """Send `message` to one channel with records around it; returns (outcome, redacted error).

    The outcome is `sent`, `ambiguous`, or the failure class (transient, rate-limited,
    configuration, payload).
    """
    store = app.store
    record = store.begin_delivery(
        message.batch_id,
        channel_name,
        message.digest_date,
        message.digest_file,
        iso_utc(app.clock.now()),
    )
    try:
        result = app.channel(channel_name, retries=retries).send(message)
    except ConfigError as problem:
        result = Delivery(DeliveryStatus.CONFIGURATION, error=str(problem))
    error = app.redactor.text(result.error) if result.error else None
    failure: str | None
    if result.delivered:
        status, failure = RecordStatus.SENT, None
    elif result.status == DeliveryStatus.AMBIGUOUS:
        status, failure = RecordStatus.AMBIGUOUS, DeliveryStatus.AMBIGUOUS
    else:
        status, failure = RecordStatus.FAILED, result.status
    store.finish_delivery(
        message.batch_id,
        channel_name,
        status=status,
        provider_id=result.provider_id,
        error=error,
        now=iso_utc(app.clock.now()),
        failure=failure,
    )
    log.info(
        "delivery.finished",
        channel=channel_name,
        batch_id=message.batch_id,
        status=status,
        failure=failure,
        attempt=record.attempts,
        error=error,
    )
    return (failure or status), error


def fan_out(app: App, message: DigestMessage, channels: list[str], fallback: str | None) -> FanOut:
    """Deliver to every channel that still lacks the digest; the fallback when all of them failed."""
    outcome = FanOut()
    for name in channels:
        reason = already_handled(app, message, name)
        if reason:
            log.info("delivery.skipped", channel=name, batch_id=message.batch_id, reason=reason)
            outcome.skipped.append(name)
            continue
        _record(outcome, name, *deliver(app, name, message))
    # Only when every primary failed for this digest version: a channel that already has it
    # (skipped) or may have it (ambiguous) means the digest got out.
    every_primary_failed = bool(channels) and all(name in outcome.failed for name in channels)
    if (
        fallback
        and every_primary_failed
        and fallback not in channels
        and not already_handled(app, message, fallback)
    ):
        log.warning("delivery.fallback", channel=fallback, failed=sorted(outcome.failed))
        _record(outcome, fallback, *deliver(app, fallback, message))
    report_misconfigured(app, outcome)
    return outcome


def _record(outcome: FanOut, name: str, status: str, error: str | None) -> None:
    if status == RecordStatus.SENT:
        outcome.sent.append(name)
        if error:
            outcome.notes[name] = error
        return
    outcome.failed[name] = f"{status}: {error}" if error else status
    if status == DeliveryStatus.CONFIGURATION:
        outcome.misconfigured.append(name)


def report_misconfigured(app: App, outcome: FanOut) -> None:
    """Tell the operator through a channel that works; never through the one that failed."""
    for broken in outcome.misconfigured:
        text = (
            f"nightly-batch could not deliver the digest to {broken}: {outcome.failed[broken]}. "
            f"Check that channel's settings; it is not retried until they change."
        )
        log.error("delivery.channel_misconfigured", channel=broken, reason=outcome.failed[broken])
        for working in outcome.sent:
            if working != broken:
                app.channel(working).notify(app.redactor.text(text))


def _due(record: DeliveryRecord, now: datetime) -> bool:
    updated = parse_iso(record.updated_at)
    if record.status == RecordStatus.PENDING:
        return now - updated >= PENDING_STALE
    if record.failure not in (DeliveryStatus.TRANSIENT, DeliveryStatus.RATE_LIMITED):
        # A wrong setting or payload needs a person: a changed config and a manual run.
        return False
    return now - updated >= timedelta(seconds=REDELIVERY.ceiling(record.attempts))


def retry_owed(app: App) -> list[str]:
    """Retry deliveries still owed (heartbeat): transient failures with back-off, stale pending.

    Only for digests younger than `digestMaxAgeHours` and channels still configured.
    """
    config = app.config
    now = app.clock.now()
    channels = {*config.digest_notification_channel, config.digest_fallback_channel}
    oldest = (now - timedelta(hours=config.digest_max_age_hours + 24)).date().isoformat()
    done = []
    for record in app.store.unsent_deliveries(oldest):
        if record.channel not in channels or not _due(record, now):
            continue
        try:
            digest = read_digest(config.digests / record.digest_file)
        except DigestError:
            continue
        age = now - parse_iso(str(digest["generatedAt"]))
        if digest["batchId"] != record.batch_id or age > timedelta(
            hours=config.digest_max_age_hours
        ):
            continue  # replaced by a re-run, or too old to be worth sending
        message = build_message(digest, record.digest_file, app.environment.get("APP_URL"))
        if already_handled(app, message, record.channel):
            continue
        log.info(
            "delivery.retrying",
            channel=record.channel,
            batch_id=record.batch_id,
            attempts=record.attempts,
        )
        status, _ = deliver(app, record.channel, message)
        done.append(f"{record.channel} {status}")
    return done
