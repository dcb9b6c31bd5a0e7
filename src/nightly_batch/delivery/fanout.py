"""Delivering one digest to its channels: records before and after, fan-out, fallback, notices.

A delivery is recorded `pending` before the attempt and `sent`, `failed` or `ambiguous` after
it. A crash between a POST and its record leaves `pending`, and that one message may be sent
again later: the one documented case of a repeat. What each channel gets is decided from the
date's delivery (storage/delivery_state.py): nothing if it has the newest version or may have
it (ambiguous), only the new leads if it had an earlier version, the digest otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.names import DeliveryKind, DeliveryStatus, RecordStatus
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.digest_messages import ChannelMessages
from nightly_batch.delivery.updates import new_leads, since_text
from nightly_batch.errors import ConfigError
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.message import DigestMessage, update_message
from nightly_batch.runtime.app import App
from nightly_batch.storage.delivery_state import ChannelDelivery, ChannelState, delivery_of
from nightly_batch.storage.records import AttemptOutcome, DeliveryRecord

# A `pending` record this old belongs to a process that died mid-send.
PENDING_STALE = timedelta(minutes=10)
POSSIBLE_DUPLICATE = "possible duplicate"


def orphaned(record: DeliveryRecord, epoch: int | None) -> bool:
    """A pending attempt of an earlier leader's (two hosts: its epoch below ours)."""
    return (
        record.status == RecordStatus.PENDING
        and epoch is not None
        and record.epoch is not None
        and record.epoch < epoch
    )


log = get_logger(__name__)


@dataclass
class FanOut:
    """What happened on each channel for one digest."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # channel -> redacted reason
    misconfigured: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # it has this version already
    ambiguous: list[str] = field(default_factory=list)  # it may have it: the operator decides
    nothing_new: list[str] = field(default_factory=list)  # a re-run brought it no new lead
    updates: dict[str, str] = field(default_factory=dict)  # sent an update: what it carried
    notes: dict[str, str] = field(default_factory=dict)  # delivered, with a remark


def plan(channel: ChannelDelivery, *, force: bool = False) -> DeliveryKind | str:
    """What `channel` gets of the newest version: a kind of delivery, or why nothing. A channel
    that had an earlier version only ever gets the leads it has not seen: after a dead
    update's pending record and on a resend of an update too."""
    state = channel.state
    an_update = bool(channel.delivered_before) and state not in (
        ChannelState.SENT,
        ChannelState.NOTHING_NEW,
    )
    if force:
        return DeliveryKind.UPDATE if an_update else DeliveryKind.RESEND
    if state in (ChannelState.SENT, ChannelState.NOTHING_NEW):
        return "already sent"
    if state == ChannelState.AMBIGUOUS:
        # The service may have posted it; Slack and Discord cannot tell us, so never guess.
        return "an earlier attempt may have been posted (ambiguous); confirm or resend it"
    # A pending record here is a dead process's: send-digest runs hold the task's lock, and
    # the heartbeat retries only while holding it too, once a record is PENDING_STALE old.
    # Sending again is the one documented repeat.
    return DeliveryKind.UPDATE if an_update else DeliveryKind.DIGEST


def deliver(
    app: App,
    channel_name: str,
    message: DigestMessage,
    *,
    kind: DeliveryKind = DeliveryKind.DIGEST,
    retries: bool = True,
    note: str | None = None,
) -> tuple[str, str | None]:
    """Send `message` to one channel with records around it; returns (outcome, redacted error).

    The outcome is `sent`, `ambiguous`, or the failure class (transient, rate-limited,
    configuration, payload).
    """
    store = app.store
    now = iso_utc(app.clock.now())
    before = store.delivery(message.batch_id, channel_name)
    if before is not None and orphaned(before, store.leader_epoch()):
        # The previous leader died (or was fenced) between its POST and its record: the
        # channel may have this already. Sent again, and said so (docs/HIGH_AVAILABILITY.md).
        message = replace(message, title=f"{message.title} ({POSSIBLE_DUPLICATE})")
        orphan = f"{POSSIBLE_DUPLICATE}: the leader of epoch {before.epoch} died mid-send"
        note = f"{orphan}; {note}" if note else orphan
        log.warning(
            "delivery.orphaned",
            channel=channel_name,
            batch_id=message.batch_id,
            epoch=before.epoch,
            action="sending again, labelled as a possible duplicate",
        )
    record = store.begin_delivery(
        message.batch_id, channel_name, message.digest_date, message.digest_file, now, kind
    )
    try:
        result = app.channel(channel_name, retries=retries).send(message)
    except ConfigError as problem:
        result = Delivery(DeliveryStatus.CONFIGURATION, error=str(problem))
    error = app.redactor.text(result.error) if result.error else None
    if result.delivered:
        outcome = AttemptOutcome(RecordStatus.SENT, result.provider_id, error, note=note)
    elif result.status == DeliveryStatus.AMBIGUOUS:
        outcome = AttemptOutcome(RecordStatus.AMBIGUOUS, None, error, DeliveryStatus.AMBIGUOUS)
    else:
        outcome = AttemptOutcome(RecordStatus.FAILED, None, error, result.status)
    if before is not None and before.status == RecordStatus.SENT and not result.delivered:
        # A resend that failed takes nothing away: the channel still has the earlier send.
        outcome = AttemptOutcome(
            RecordStatus.SENT,
            before.provider_id,
            error,
            outcome.failure,
            note=f"a resend failed ({outcome.failure})",
            attempt=str(RecordStatus.FAILED),
        )
    store.finish_delivery(message.batch_id, channel_name, outcome, iso_utc(app.clock.now()))
    # A failed or ambiguous attempt is a warning: `jq 'select(.level == "warning" ...)'` and
    # `journalctl -p warning` must show it.
    emit = log.info if outcome.failure is None else log.warning
    emit(
        "delivery.finished",
        channel=channel_name,
        batch_id=message.batch_id,
        kind=str(kind),
        status=str(outcome.status),
        failure=outcome.failure,
        attempt=record.attempts,
        error=error,
    )
    return (outcome.failure or str(outcome.status)), error


def deliver_planned(
    app: App, channel: ChannelDelivery, messages: ChannelMessages, kind: DeliveryKind
) -> tuple[str, str | None, str | None]:
    """The delivery `plan` chose: an update carries only the leads the channel has not seen,
    and one with none is recorded as nothing new, with no message; so is a digest whose
    route (`digestRoutes`) takes none of its leads, unless sendEmptyDigest. Returns (outcome,
    redacted error, what an update carried)."""
    message = messages.of(channel.channel)
    keep = messages.keep(channel.channel)
    if kind != DeliveryKind.UPDATE:
        if keep is not None and not message.total and not app.config.send_empty_digest:
            note = "no lead of this digest is in the channel's route (digestRoutes)"
            return _nothing_new(app, channel, message, kind, note), None, note
        return (*deliver(app, channel.channel, message, kind=kind), None)
    fresh, count = new_leads(app, message, channel.delivered_before, keep)
    since = since_text(app, channel.delivered_before)
    if not count:
        note = f"no new lead since {since}"
        return _nothing_new(app, channel, message, kind, note), None, note
    update = update_message(message, fresh, since, count)
    note = f"{count:,} new {'lead' if count == 1 else 'leads'} since {since}"
    return (*deliver(app, channel.channel, update, kind=kind, note=note), note)


def _nothing_new(
    app: App, channel: ChannelDelivery, message: DigestMessage, kind: DeliveryKind, note: str
) -> str:
    """Recorded as delivered with nothing to say: no message is sent."""
    now = iso_utc(app.clock.now())
    store = app.store
    store.begin_delivery(
        message.batch_id, channel.channel, message.digest_date, message.digest_file, now, kind
    )
    store.finish_delivery(
        message.batch_id, channel.channel, AttemptOutcome(RecordStatus.NOTHING_NEW, note=note), now
    )
    log.info(
        "delivery.nothing_new", channel=channel.channel, batch_id=message.batch_id, reason=note
    )
    return str(RecordStatus.NOTHING_NEW)


def fan_out(
    app: App,
    messages: ChannelMessages,
    channels: list[str],
    fallback: str | None,
    *,
    force: bool = False,
) -> FanOut:
    """Deliver to every channel that still lacks the digest; the fallback when all of them failed."""
    message = messages.whole
    outcome = FanOut()
    state = delivery_of(
        app.store,
        message.digest_date,
        message.batch_id,
        [*channels, *([fallback] if fallback else [])],
    )
    for name in channels:
        _one(app, outcome, state.channels[name], messages, force=force)
    # Only when every primary failed for this digest version: a channel that already has it
    # (skipped) or may have it (ambiguous) means the digest got out.
    every_primary_failed = bool(channels) and all(name in outcome.failed for name in channels)
    if fallback and every_primary_failed and fallback not in channels:
        log.warning("delivery.fallback", channel=fallback, failed=sorted(outcome.failed))
        _one(app, outcome, state.channels[fallback], messages, force=force)
    report_misconfigured(app, outcome)
    return outcome


def _one(
    app: App, outcome: FanOut, channel: ChannelDelivery, messages: ChannelMessages, *, force: bool
) -> None:
    decided = plan(channel, force=force)
    if not isinstance(decided, DeliveryKind):
        log.info(
            "delivery.skipped",
            channel=channel.channel,
            batch_id=messages.whole.batch_id,
            reason=decided,
        )
        kept = outcome.ambiguous if channel.state == ChannelState.AMBIGUOUS else outcome.skipped
        kept.append(channel.channel)
        return
    _record(outcome, channel.channel, *deliver_planned(app, channel, messages, decided))


def _record(
    outcome: FanOut, name: str, status: str, error: str | None, update: str | None = None
) -> None:
    if status == RecordStatus.SENT:
        if update:
            outcome.updates[name] = update
        outcome.sent.append(name)
        if error:
            outcome.notes[name] = error
        return
    if status == RecordStatus.NOTHING_NEW:
        outcome.nothing_new.append(name)
        return
    if status == DeliveryStatus.AMBIGUOUS:
        outcome.ambiguous.append(name)
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
