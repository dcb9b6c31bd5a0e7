"""The runtime store in embedded SQLite (WAL), in `logsDir`: the CLI reads while the daemon writes.

The store is assembled from one class per group of tables, all on one connection
(sqlite_schema); storage/port.py is the contract it fulfils.
"""

from __future__ import annotations

from nightly_batch.storage.sqlite_alerts import SqliteAlerts
from nightly_batch.storage.sqlite_deliveries import SqliteDeliveries
from nightly_batch.storage.sqlite_runs import SqliteRuns


class SqliteStore(SqliteRuns, SqliteDeliveries):
    """RuntimeStore on one SQLite file; one connection shared by the threads under a lock."""

    @property
    def alerts(self) -> SqliteAlerts:
        """The alert tables, on the same connection and lock."""
        return SqliteAlerts(self._db, self._lock, self.path)
