"""The database under the runtime store, whichever one runs it (SQLite on one host, PostgreSQL
for two): transactions, rows as dicts, and the few statements the two write differently.

The store's SQL (sql_runs, sql_deliveries, sql_alerts) is written once, with `?` placeholders
and the syntax both accept (ON CONFLICT upserts, RETURNING); a database translates the
placeholders and supplies what has no common spelling.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Parameters = Sequence[Any]


@dataclass(frozen=True, slots=True)
class Result:
    """What one statement gave: its rows (when it returns any) and how many it changed."""

    rows: list[dict[str, Any]]
    changed: int


class Execute(Protocol):
    """Runs one statement inside the open transaction."""

    def __call__(self, sql: str, parameters: Parameters = ()) -> Result: ...


class Database(ABC):
    """One runtime store's database: every call is one transaction, all of it or none."""

    # Names the database in a message: the SQLite file, or PostgreSQL's host and database.
    where: str
    # The column that orders heartbeats as they were written (SQLite's rowid).
    heartbeat_order: str

    @abstractmethod
    def transaction(
        self, *, exclusive_key: str | None = None, decides: bool = False
    ) -> AbstractContextManager[Execute]:
        """One transaction. `exclusive_key`: no other transaction with the same key runs
        until this one ends (a compare and set that starts with a read). `decides`: the
        write decides something (a slot claim, a run, a delivery, an alert), so a fenced
        daemon (one that lost the leader lease) must not make it."""

    @property
    def process(self) -> str | None:
        """This process among several hosts' (node/start token); None on one host."""
        return None

    @property
    def epoch(self) -> int | None:
        """The leader epoch this process writes under (None: one host, or not the daemon)."""
        return None

    @abstractmethod
    def close(self) -> None: ...

    def read(self, sql: str, parameters: Parameters = ()) -> list[dict[str, Any]]:
        with self.transaction() as execute:
            return execute(sql, parameters).rows

    def write(
        self, sql: str, parameters: Parameters, *, decides: bool = True
    ) -> list[dict[str, Any]]:
        """One write; its RETURNING rows, if it has any."""
        with self.transaction(decides=decides) as execute:
            return execute(sql, parameters).rows

    def changed(self, sql: str, parameters: Parameters, *, decides: bool = True) -> int:
        """One write and how many rows it changed: compare and set in one statement (0 when
        the row was no longer what the caller expected)."""
        with self.transaction(decides=decides) as execute:
            return execute(sql, parameters).changed

    def write_all(self, *statements: tuple[str, Parameters], decides: bool = True) -> list[int]:
        """Several statements in one transaction; how many rows each changed."""
        with self.transaction(decides=decides) as execute:
            return [execute(sql, parameters).changed for sql, parameters in statements]


def placeholders_for_psycopg(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (the store's SQL holds no literal `?` or `%`)."""
    return sql.replace("%", "%%").replace("?", "%s")
