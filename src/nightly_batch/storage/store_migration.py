"""`nightly-batch store migrate`: one host's SQLite history copied into the PostgreSQL store of
two hosts, in one transaction (all of it or none), into an empty store only.

Both stores have the same tables and columns (sqlite_schema, postgres_schema), so each row is
copied as it stands; the notification log keeps its ids, and PostgreSQL's sequence then
continues after them.
"""

from __future__ import annotations

from pathlib import Path

from nightly_batch.errors import StoreError
from nightly_batch.storage.postgres_schema import PostgresDatabase
from nightly_batch.storage.sqlite_schema import SqliteDatabase

# Parents before what refers to them; heartbeats without SQLite's rowid (PostgreSQL numbers them).
TABLES = (
    "runs",
    "slots",
    "deliveries",
    "heartbeats",
    "facts",
    "alerts",
    "alert_notifications",
    "silences",
    "task_failures",
    "run_days",
    "counters",
)
_HELD = ("runs", "deliveries", "alerts", "slots")


def migrate_store(source: Path, url: str, node: str) -> tuple[str, dict[str, int]]:
    """Copy every table of the SQLite store at `source` into the PostgreSQL store at `url`;
    returns the target (without its password) and the rows copied per table. Refuses a
    target that already holds a history."""
    if not source.exists():
        raise StoreError(f"{source}: there is no SQLite store to migrate.")
    sqlite = SqliteDatabase(source)
    try:
        postgres = PostgresDatabase(url, node)
        try:
            return postgres.where, _copy(sqlite, postgres)
        finally:
            postgres.close()
    finally:
        sqlite.close()


def _copy(sqlite: SqliteDatabase, postgres: PostgresDatabase) -> dict[str, int]:
    copied = {}
    with postgres.transaction(exclusive_key="store migrate") as execute:
        held = {
            table: int(execute(f"SELECT COUNT(*) AS n FROM {table}").rows[0]["n"])  # noqa: S608
            for table in _HELD
        }
        if any(held.values()):
            listed = ", ".join(f"{table}: {count:,}" for table, count in held.items() if count)
            raise StoreError(
                f"{postgres.where} already holds a history ({listed}); `store migrate` copies "
                "into an empty store only, so nothing was copied."
            )
        for table in TABLES:
            rows = sqlite.read(f"SELECT * FROM {table}")  # noqa: S608  (our own table names)
            for row in rows:
                if table == "heartbeats":
                    row.pop("rowid", None)
                columns = list(row)
                # A daemon started on PostgreSQL first has noted facts of its own (installedAt):
                # the history's, older, win.
                upsert = (
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at"
                    if table == "facts"
                    else ""
                )
                execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' for _ in columns)}){upsert}",
                    tuple(row.values()),
                )
            copied[table] = len(rows)
        execute(
            "SELECT setval(pg_get_serial_sequence('alert_notifications', 'id'), "
            "COALESCE(MAX(id), 0) + 1, false) FROM alert_notifications"
        )
    return copied
