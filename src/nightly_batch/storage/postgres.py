"""The runtime store in PostgreSQL, for two hosts (docs/HIGH_AVAILABILITY.md): the SQL of
sql_runs, sql_deliveries and sql_alerts on a connection pool (postgres_schema)."""

from __future__ import annotations

from nightly_batch.storage.postgres_schema import PostgresDatabase
from nightly_batch.storage.sql_store import SqlStore


class PostgresStore(SqlStore):
    """RuntimeStore on one PostgreSQL database, shared by the daemons of every host."""

    def __init__(self, url: str, node: str) -> None:
        self.postgres = PostgresDatabase(url, node)
        super().__init__(self.postgres)
