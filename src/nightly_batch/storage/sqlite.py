"""The runtime store in embedded SQLite (WAL), in `logsDir`: the CLI reads while the daemon writes.

One host's store: the SQL of sql_runs, sql_deliveries and sql_alerts on one SQLite file
(sqlite_schema); storage/port.py is the contract it fulfils.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from nightly_batch.errors import StoreError
from nightly_batch.storage.records import SharedDigest
from nightly_batch.storage.sql_store import SqlStore
from nightly_batch.storage.sqlite_schema import SqliteDatabase

if TYPE_CHECKING:
    from nightly_batch.storage.postgres_lease import LeaderLease, LeaseView


class SqliteStore(SqlStore):
    """RuntimeStore on one SQLite file; one connection shared by the threads under a lock."""

    shared_by_hosts = False

    def __init__(self, path: Path) -> None:
        super().__init__(SqliteDatabase(path))
        self.path = path

    def leader_lease(
        self,
        node: str,  # noqa: ARG002
        monotonic: Callable[[], float],  # noqa: ARG002
        lease_seconds: float,  # noqa: ARG002
        *,
        batch_host: bool = False,  # noqa: ARG002
    ) -> LeaderLease | None:
        """One host's store: no lease, its daemon always leads."""
        return None

    def lease_view(self) -> LeaseView | None:
        return None

    def share_digest(
        self,
        path: Path,
        batch_id: str,
        digest_date: str,
        now: str,
        keep_after: str,
    ) -> None:
        """One host: the digest folder is the only copy needed."""

    def shared_digests(self, since_date: str) -> list[SharedDigest]:  # noqa: ARG002
        return []

    def digest_bytes(self, batch_id: str) -> Iterator[bytes]:
        raise StoreError(f"one host's store keeps no digest (asked for {batch_id}).")

    def live_processes(self, within_seconds: float) -> set[str]:  # noqa: ARG002
        return set()
