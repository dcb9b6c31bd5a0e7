"""Deliveries still owed, retried by the heartbeat: transient failures with back-off, and
attempts whose process died mid-send (`pending` for longer than PENDING_STALE, or at once when
an earlier leader of two hosts made it: that leader is known dead or fenced).

An orphaned attempt may have been posted before its leader died: fanout.deliver sends it again
labelled as a possible duplicate (docs/HIGH_AVAILABILITY.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from nightly_batch.core.clock import parse_iso
from nightly_batch.core.locks import FileLock
from nightly_batch.core.names import DeliveryKind, DeliveryStatus, RecordStatus
from nightly_batch.core.retrying import Backoff
from nightly_batch.delivery.digest_messages import ChannelMessages
from nightly_batch.delivery.fanout import PENDING_STALE, deliver_planned, orphaned, plan
from nightly_batch.errors import DigestError
from nightly_batch.observability.events import get_logger
from nightly_batch.runtime.app import App
from nightly_batch.storage.delivery_state import delivery_of
from nightly_batch.storage.digest_reader import open_digest
from nightly_batch.storage.digest_sharing import bring_digests_here
from nightly_batch.storage.records import DeliveryRecord

# A delivery owed after a transient failure is retried by a later heartbeat, no sooner than
# this: 5 minutes after the first failure, doubling, at most an hour.
REDELIVERY = Backoff(
    base=timedelta(minutes=5).total_seconds(), cap=timedelta(hours=1).total_seconds()
)

log = get_logger(__name__)


def _due(record: DeliveryRecord, now: datetime, epoch: int | None) -> bool:
    updated = parse_iso(record.updated_at)
    if record.status == RecordStatus.PENDING:
        return orphaned(record, epoch) or now - updated >= PENDING_STALE
    if record.failure not in (DeliveryStatus.TRANSIENT, DeliveryStatus.RATE_LIMITED):
        # A wrong setting or payload needs a person: a changed config and a manual run.
        return False
    return now - updated >= timedelta(seconds=REDELIVERY.ceiling(record.attempts))


def retry_owed(app: App) -> list[str]:
    """Retry deliveries still owed; returns "<channel> <outcome>" for each attempt.

    Only for digests younger than `digestMaxAgeHours` and channels still configured.
    """
    # A send-digest run (a manual one, a catch-up) may be sending the same records now: the
    # heartbeat then leaves them to it rather than post a second copy.
    lock = FileLock(app.config.logs_dir / "send-digest.lock")
    if not lock.acquire(0):
        log.info("delivery.retry_deferred", reason="send-digest is running")
        return []
    try:
        return _retry(app)
    finally:
        lock.release()


def _retry(app: App) -> list[str]:
    config = app.config
    now = app.clock.now()
    channels = config.delivery_channels
    oldest = (now - timedelta(hours=config.digest_max_age_hours + 24)).date().isoformat()
    bring_digests_here(app.store, config.digests, oldest)  # two hosts: the other's batch
    done = []
    epoch = app.store.leader_epoch()
    for record in app.store.unsent_deliveries(oldest):
        if record.channel not in channels or not _due(record, now, epoch):
            continue
        try:
            view = open_digest(config.digests / record.digest_file)
            age = now - parse_iso(str(view.head["generatedAt"]))
        except (DigestError, ValueError):
            continue
        if view.head["batchId"] != record.batch_id or age > timedelta(
            hours=config.digest_max_age_hours
        ):
            continue  # replaced by a re-run, or too old to be worth sending
        messages = ChannelMessages(view, app.environment.get("APP_URL"), now, config.digest_routes)
        state = delivery_of(app.store, record.digest_date, record.batch_id, channels)
        channel = state.channels[record.channel]
        decided = plan(channel)
        if not isinstance(decided, DeliveryKind):
            continue
        log.info(
            "delivery.retrying",
            channel=record.channel,
            batch_id=record.batch_id,
            attempts=record.attempts,
            kind=str(decided),
        )
        status, _, _ = deliver_planned(app, channel, messages, decided)
        done.append(f"{record.channel} {status}")
    return done
