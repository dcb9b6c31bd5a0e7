"""Digests kept in the PostgreSQL store too, so the leader sends one that the other host's
batch wrote (docs/HIGH_AVAILABILITY.md).

A digest is stored as zlib-compressed chunks of about a megabyte, written and read one chunk
at a time: a 180 MB digest of a million leads is never held whole, compressed or not.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from nightly_batch.storage.records import SharedDigest
from nightly_batch.storage.sql_database import Database

CHUNK = 1 << 20


class PostgresDigests:
    """The digest tables of the PostgreSQL store."""

    _sql: Database

    def share_digest(
        self, path: Path, batch_id: str, digest_date: str, now: str, keep_after: str
    ) -> None:
        """Store the digest file at `path` (replacing an earlier copy of the same version);
        versions dated before `keep_after` are dropped. An observation, not a decision: the
        batch's host stores it whether or not it leads."""
        size = 0
        with self._sql.transaction() as execute, path.open("rb") as source:
            execute(
                "DELETE FROM digests WHERE batch_id = ? OR digest_date < ?", (batch_id, keep_after)
            )
            execute(
                "INSERT INTO digests (batch_id, digest_date, file, bytes, stored_at) "
                "VALUES (?, ?, ?, 0, ?)",
                (batch_id, digest_date, path.name, now),
            )
            packer = zlib.compressobj(1)
            pending = bytearray()
            seq = 0
            while block := source.read(CHUNK):
                size += len(block)
                pending += packer.compress(block)
                if len(pending) >= CHUNK:
                    execute(
                        "INSERT INTO digest_chunks (batch_id, seq, data) VALUES (?, ?, ?)",
                        (batch_id, seq, bytes(pending)),
                    )
                    seq, pending = seq + 1, bytearray()
            pending += packer.flush()
            execute(
                "INSERT INTO digest_chunks (batch_id, seq, data) VALUES (?, ?, ?)",
                (batch_id, seq, bytes(pending)),
            )
            execute("UPDATE digests SET bytes = ? WHERE batch_id = ?", (size, batch_id))

    def shared_digests(self, since_date: str) -> list[SharedDigest]:
        rows = self._sql.read(
            "SELECT batch_id, digest_date, file, bytes, stored_at FROM digests "
            "WHERE digest_date >= ? ORDER BY digest_date, stored_at",
            (since_date,),
        )
        return [SharedDigest(**row) for row in rows]

    def digest_bytes(self, batch_id: str) -> Iterator[bytes]:
        """The stored digest's bytes, a chunk at a time."""
        unpacker = zlib.decompressobj()
        seq = 0
        while rows := self._sql.read(
            "SELECT data FROM digest_chunks WHERE batch_id = ? AND seq = ?", (batch_id, seq)
        ):
            yield unpacker.decompress(bytes(rows[0]["data"]))
            seq += 1
        yield unpacker.flush()
