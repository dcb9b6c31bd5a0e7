"""The one reading of whether a date's digest got out: every reader derives it from here.

The delivery records hold one row per digest version (batchId) and channel. A channel's state
for a date is that of the newest version's row, unless it has none: then a channel that had
an earlier version is owed an update (only the leads it has not seen), and one with an earlier
ambiguous attempt stays ambiguous until the operator settles it. `status`, `digests list`, the
dashboard, the alerts, send-digest and `lastDigestNotificationAt` all read `date_delivery`, so
they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from nightly_batch.core.names import RecordStatus
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import DeliveryRecord

DELIVERED = (RecordStatus.SENT, RecordStatus.NOTHING_NEW)


class ChannelState(StrEnum):
    SENT = "sent"  # the newest version reached it
    NOTHING_NEW = "nothing-new"  # it had an earlier version, and the newest brought no lead
    AMBIGUOUS = "ambiguous"  # may have arrived: the operator confirms or resends
    PENDING = "pending"  # an attempt is under way, or its process died mid-send
    UPDATE_OWED = "update owed"  # it had an earlier version; the newest's new leads are owed
    FAILED = "failed"
    NOT_SENT = "not sent"


@dataclass(frozen=True, slots=True)
class ChannelDelivery:
    channel: str
    state: ChannelState
    record: DeliveryRecord | None  # the newest version's, or the earlier one that decides
    delivered_before: tuple[DeliveryRecord, ...]  # earlier versions that reached it

    @property
    def delivered(self) -> bool:
        return self.state in (ChannelState.SENT, ChannelState.NOTHING_NEW)


@dataclass(frozen=True, slots=True)
class DateDelivery:
    digest_date: str
    batch_id: str | None  # the newest version
    channels: dict[str, ChannelDelivery]
    delivered_at: str | None  # the last message of the date that reached a channel

    @property
    def delivered(self) -> bool:
        """The newest version reached at least one channel (an update counts)."""
        return any(channel.delivered for channel in self.channels.values())

    @property
    def ambiguous(self) -> list[str]:
        return [name for name, c in self.channels.items() if c.state == ChannelState.AMBIGUOUS]

    @property
    def state(self) -> str:
        """One word for the date: delivered, else ambiguous, pending, update owed, failed or
        not sent (each channel's own state stays visible beside it)."""
        if self.delivered:
            return "delivered"
        states = {channel.state for channel in self.channels.values()}
        for state in (
            ChannelState.AMBIGUOUS,
            ChannelState.PENDING,
            ChannelState.UPDATE_OWED,
            ChannelState.FAILED,
        ):
            if state in states:
                return str(state)
        return str(ChannelState.NOT_SENT)


def date_delivery(
    records: Iterable[DeliveryRecord],
    digest_date: str,
    batch_id: str | None,
    channels: Iterable[str] = (),
) -> DateDelivery:
    """The date's delivery from its records; `channels` (the configured ones) are listed even
    without a record, as not sent."""
    mine = [record for record in records if record.digest_date == digest_date]
    names = list(dict.fromkeys([*channels, *(record.channel for record in mine)]))
    shown = {name: _channel(name, mine, batch_id) for name in names}
    # A nothing-new record sent no message: it settles the date but notifies nobody.
    delivered = [record.updated_at for record in mine if record.status == RecordStatus.SENT]
    return DateDelivery(digest_date, batch_id, shown, max(delivered, default=None))


def delivery_of(
    store: RuntimeStore, digest_date: str, batch_id: str | None, channels: Iterable[str] = ()
) -> DateDelivery:
    """`date_delivery` read from the store."""
    return date_delivery(store.deliveries_on(digest_date), digest_date, batch_id, channels)


def _channel(name: str, records: list[DeliveryRecord], batch_id: str | None) -> ChannelDelivery:
    here = [record for record in records if record.channel == name]
    newest = next((record for record in here if record.batch_id == batch_id), None)
    earlier = [record for record in here if record.batch_id != batch_id]
    before = tuple(record for record in earlier if record.status in DELIVERED)
    if newest is not None and newest.status != RecordStatus.FAILED:
        return ChannelDelivery(name, ChannelState(str(newest.status)), newest, before)
    # An earlier version that may have arrived is settled first: until then nobody can say
    # which leads the channel has seen.
    unsettled = next((r for r in reversed(earlier) if r.status == RecordStatus.AMBIGUOUS), None)
    if unsettled is not None:
        return ChannelDelivery(name, ChannelState.AMBIGUOUS, unsettled, before)
    if before:
        return ChannelDelivery(name, ChannelState.UPDATE_OWED, newest or before[-1], before)
    if newest is not None:
        return ChannelDelivery(name, ChannelState.FAILED, newest, before)
    return ChannelDelivery(name, ChannelState.NOT_SENT, None, before)


def settle_hint(digest_date: str, channel: str, config_path: object) -> str:
    """The two commands that settle an ambiguous delivery, as every reader words them, with
    the config they need to run as printed."""
    where = f"--channel {channel} --config {config_path}"
    return (
        f"it may have arrived: `nightly-batch deliveries confirm {digest_date} {where}` if it "
        f"did, `nightly-batch deliveries resend {digest_date} {where}` if not"
    )


def last_success(store: RuntimeStore, task: str) -> str | None:
    """When `task` last succeeded; for send-digest also when a heartbeat delivered an owed
    digest, which is the same success (the alerts and the metrics read this)."""
    ran = store.last_success(task)
    if task != "send-digest":
        return ran
    delivered = store.last_delivered_at()
    return max((moment for moment in (ran, delivered) if moment), default=None)
