"""Delivery records in the runtime store's SQL: one row per digest and channel."""

from __future__ import annotations

from typing import Any

from nightly_batch.core.names import DeliveryKind, RecordStatus
from nightly_batch.storage.records import AttemptOutcome, DeliveryRecord
from nightly_batch.storage.sql_database import Database

COUNT_EVENT = (
    "INSERT INTO counters (name, labels, value) VALUES (?, ?, 1) "
    "ON CONFLICT (name, labels) DO UPDATE SET value = counters.value + 1"
)

UPDATE_DELIVERY = (
    "UPDATE deliveries SET status = ?, provider_id = ?, last_error = ?, updated_at = ?, "
    "failure = ?, note = ? WHERE batch_id = ? AND channel = ?"
)


class SqlDeliveries:
    """Each delivery recorded before and after its attempt."""

    _sql: Database

    def delivery(self, batch_id: str, channel: str) -> DeliveryRecord | None:
        rows = self._sql.read(
            "SELECT * FROM deliveries WHERE batch_id = ? AND channel = ?", (batch_id, channel)
        )
        return _delivery(rows[0]) if rows else None

    def deliveries_on(self, digest_date: str) -> list[DeliveryRecord]:
        """Every record of the digests of `digest_date` (each version, each channel), oldest
        first: what storage/delivery_state.py reads the date's delivery from."""
        rows = self._sql.read(
            "SELECT * FROM deliveries WHERE digest_date = ? ORDER BY created_at, channel",
            (digest_date,),
        )
        return [_delivery(row) for row in rows]

    def deliveries_for(self, batch_id: str) -> list[DeliveryRecord]:
        rows = self._sql.read(
            "SELECT * FROM deliveries WHERE batch_id = ? ORDER BY channel", (batch_id,)
        )
        return [_delivery(row) for row in rows]

    def begin_delivery(
        self,
        batch_id: str,
        channel: str,
        digest_date: str,
        digest_file: str,
        now: str,
        kind: str = DeliveryKind.DIGEST,
    ) -> DeliveryRecord:
        self._sql.write(
            "INSERT INTO deliveries (batch_id, channel, digest_date, digest_file, status, "
            "attempts, created_at, updated_at, kind, epoch) "
            "VALUES (?, ?, ?, ?, 'pending', 1, ?, ?, ?, ?) "
            "ON CONFLICT (batch_id, channel) DO UPDATE SET status = 'pending', "
            "attempts = deliveries.attempts + 1, updated_at = excluded.updated_at, "
            "kind = excluded.kind, epoch = excluded.epoch",
            (batch_id, channel, digest_date, digest_file, now, now, kind, self._sql.epoch),
        )
        record = self.delivery(batch_id, channel)
        assert record is not None  # noqa: S101  (written just above)
        return record

    def finish_delivery(
        self, batch_id: str, channel: str, outcome: AttemptOutcome, now: str
    ) -> None:
        self._sql.write_all(
            (
                UPDATE_DELIVERY,
                (
                    outcome.status,
                    outcome.provider_id,
                    outcome.error,
                    now,
                    outcome.failure,
                    outcome.note,
                    batch_id,
                    channel,
                ),
            ),
            # One outcome of one attempt, counted once: the metric's `result`.
            (COUNT_EVENT, ("deliveries", f"{channel}|{outcome.attempt or outcome.status}")),
        )

    def resolve_ambiguous(self, batch_id: str, channel: str, status: str, note: str) -> bool:
        """Settle an ambiguous record (the operator saw the message arrive), only if it is
        still ambiguous: compare and set. Its time stays the attempt's: when it was sent."""
        return (
            self._sql.changed(
                "UPDATE deliveries SET status = ?, note = ? "
                "WHERE batch_id = ? AND channel = ? AND status = 'ambiguous'",
                (status, note, batch_id, channel),
            )
            == 1
        )

    def leader_epoch(self) -> int | None:
        """The leader epoch this process writes under: None on one host, or outside the daemon."""
        return self._sql.epoch

    def ambiguous_dates(self, since_date: str) -> list[str]:
        """The dates since `since_date` with an ambiguous record, settled or not by a later one."""
        rows = self._sql.read(
            "SELECT DISTINCT digest_date FROM deliveries WHERE status = 'ambiguous' "
            "AND digest_date >= ? ORDER BY digest_date",
            (since_date,),
        )
        return [str(row["digest_date"]) for row in rows]

    def last_delivered_at(self) -> str | None:
        """When a message last reached a channel, whichever run sent it."""
        rows = self._sql.read("SELECT MAX(updated_at) AS at FROM deliveries WHERE status = 'sent'")
        return rows[0]["at"] if rows else None

    def unsent_deliveries(self, since_date: str) -> list[DeliveryRecord]:
        """Pending and failed deliveries of digests dated `since_date` or later."""
        rows = self._sql.read(
            "SELECT * FROM deliveries WHERE status IN ('pending', 'failed') AND digest_date >= ? "
            "ORDER BY digest_date, channel",
            (since_date,),
        )
        return [_delivery(row) for row in rows]


def _delivery(fields: dict[str, Any]) -> DeliveryRecord:
    return DeliveryRecord(
        **{
            **fields,
            "status": RecordStatus(fields["status"]),
            "kind": DeliveryKind(fields["kind"]),
        }
    )
