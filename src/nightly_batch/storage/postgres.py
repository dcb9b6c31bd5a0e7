"""The runtime store in PostgreSQL, for two hosts (docs/HIGH_AVAILABILITY.md): the SQL of
sql_runs, sql_deliveries and sql_alerts on a connection pool (postgres_schema)."""

from __future__ import annotations

from collections.abc import Callable

from nightly_batch.storage.postgres_digests import PostgresDigests
from nightly_batch.storage.postgres_lease import LEASE_NAME, VIEW, LeaderLease, LeaseView
from nightly_batch.storage.postgres_schema import PostgresDatabase
from nightly_batch.storage.sql_store import SqlStore


class PostgresStore(PostgresDigests, SqlStore):
    """RuntimeStore on one PostgreSQL database, shared by the daemons of every host."""

    shared_by_hosts = True

    def __init__(self, url: str, node: str) -> None:
        self.postgres = PostgresDatabase(url, node)
        super().__init__(self.postgres)

    def leader_lease(
        self,
        node: str,
        monotonic: Callable[[], float],
        lease_seconds: float,
        *,
        batch_host: bool = False,
    ) -> LeaderLease:
        """The lease on a connection of its own; while this daemon leads, the pool's decisive
        writes carry its fence. A standby decides nothing, unless it is the batch's host
        (`batchNode`): then its batch writes unfenced, and the ledger's key keeps each slot
        to one run."""

        def fence_writes(lease: LeaderLease) -> None:
            unfenced = batch_host and lease.epoch is None
            self.postgres.fence = None if unfenced else lease.fence()

        return LeaderLease(
            self.postgres.conninfo,
            node,
            monotonic,
            lease_seconds=lease_seconds,
            on_change=fence_writes,
            instance=self.postgres.instance,  # the runs this daemon records carry it too
        )

    def lease_view(self) -> LeaseView | None:
        rows = self.postgres.read(VIEW, (LEASE_NAME,))
        return LeaseView(**rows[0]) if rows else None

    def live_processes(self, within_seconds: float) -> set[str]:
        rows = self.postgres.read(
            "SELECT instance FROM cluster_nodes WHERE instance IS NOT NULL "
            "AND seen_at > now() - make_interval(secs => ?)",
            (within_seconds,),
        )
        return {str(row["instance"]) for row in rows}
