"""The runtime store on a SQL database: the port's tables, assembled on one Database."""

from __future__ import annotations

from nightly_batch.storage.sql_alerts import SqlAlerts
from nightly_batch.storage.sql_database import Database
from nightly_batch.storage.sql_deliveries import SqlDeliveries
from nightly_batch.storage.sql_runs import SqlRuns


class SqlStore(SqlRuns, SqlDeliveries):
    """RuntimeStore on one database (storage/port.py is the contract it fulfils)."""

    def __init__(self, database: Database) -> None:
        self._sql = database

    @property
    def database(self) -> Database:
        return self._sql

    @property
    def alerts(self) -> SqlAlerts:
        """The alert tables, in the same database."""
        return SqlAlerts(self._sql)

    def close(self) -> None:
        self._sql.close()
