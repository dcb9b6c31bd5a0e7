"""The SQLite file under the runtime store: its schema migrations and the shared connection.

One connection serves every thread of the process, under one lock; WAL lets the CLI read while
the daemon writes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from nightly_batch.errors import StoreError
from nightly_batch.storage.sql_database import Database, Execute, Parameters, Result

DATABASE_MODE = 0o600

# Each entry moves the schema one version up; PRAGMA user_version says how far a file has come.
MIGRATIONS = (
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        trigger TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_s REAL,
        result TEXT NOT NULL,
        message TEXT,
        error TEXT,
        pid INTEGER,
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_by_task ON runs (task, started_at);
    CREATE TABLE deliveries (
        batch_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        digest_file TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        provider_id TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (batch_id, channel)
    );
    CREATE INDEX deliveries_by_date ON deliveries (digest_date, channel, status);
    CREATE TABLE heartbeats (at TEXT NOT NULL, pid INTEGER NOT NULL);
    CREATE INDEX heartbeats_by_time ON heartbeats (at);
    CREATE TABLE facts (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
    """,
    # The ledger: a (task, scheduled slot) row exists once the slot's run has started, so a
    # duplicate fire, a restart or a catch-up can never run the same slot twice.
    """
    ALTER TABLE runs ADD COLUMN slot TEXT;
    CREATE TABLE slots (
        task TEXT NOT NULL,
        slot TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        trigger TEXT NOT NULL,
        PRIMARY KEY (task, slot)
    );
    """,
    # Why a delivery failed (transient, rate-limited, configuration, payload): it decides
    # whether a heartbeat tries again.
    """
    ALTER TABLE deliveries ADD COLUMN failure TEXT;
    """,
    # Alerts as state machines (fingerprint = name + task), the notification log that makes
    # dedup and repeat intervals survive restarts, silences, and consecutive failures per task.
    """
    CREATE TABLE alerts (
        fingerprint TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        task TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        summary TEXT NOT NULL,
        run_id TEXT,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        resolved_at TEXT,
        last_notified_at TEXT,
        notified_severity TEXT
    );
    CREATE TABLE alert_notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        fingerprint TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        text TEXT NOT NULL,
        channel TEXT,
        status TEXT NOT NULL,
        error TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX alert_notifications_by_time ON alert_notifications (at);
    CREATE TABLE silences (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        task TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE task_failures (
        task TEXT PRIMARY KEY,
        consecutive INTEGER NOT NULL,
        last_failure_at TEXT NOT NULL
    );
    """,
    # Runs per day, task and result, kept up to date as runs finish, so the dashboard's 90-day
    # history reads a few hundred rows however many runs the store holds.
    """
    CREATE TABLE run_days (
        day TEXT NOT NULL,
        task TEXT NOT NULL,
        result TEXT NOT NULL,
        runs INTEGER NOT NULL,
        seconds REAL NOT NULL,
        PRIMARY KEY (day, task, result)
    );
    INSERT INTO run_days (day, task, result, runs, seconds)
        SELECT substr(started_at, 1, 10), task, result, COUNT(*), COALESCE(SUM(duration_s), 0)
        FROM runs WHERE result != 'running' GROUP BY 1, 2, 3;
    """,
    # Event counters for Prometheus: incremented with the event they count, in its transaction,
    # never pruned or rewritten, so a counter never goes down (a COUNT(*) over runs that are
    # pruned, or deliveries whose status changes, did). They start at this migration.
    """
    CREATE TABLE counters (
        name TEXT NOT NULL,
        labels TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (name, labels)
    );
    """,
    # What a record announced (the digest, an update with only new leads, a resend), and a
    # note for the reader (who confirmed an ambiguous one, how many leads were new).
    """
    ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'digest';
    ALTER TABLE deliveries ADD COLUMN note TEXT;
    """,
    # The leader epoch a run or a delivery attempt was made under (PostgreSQL's two hosts;
    # always NULL here), so that the schema is one and `store migrate` copies every column.
    """
    ALTER TABLE deliveries ADD COLUMN epoch INTEGER;
    ALTER TABLE runs ADD COLUMN epoch INTEGER;
    """,
    # Which daemon of two hosts made a run (its node and start), so the other host judges it
    # alive by that daemon's presence, not by a pid of another machine (always NULL here).
    """
    ALTER TABLE runs ADD COLUMN instance TEXT;
    """,
)


class SqliteDatabase(Database):
    """The open file: migrated on open, read and written under the lock."""

    heartbeat_order = "rowid"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._lock = threading.Lock()
        try:
            if not path.exists():
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, DATABASE_MODE))
            self._db = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
            self._db.row_factory = _as_dict
            self._use_wal()
            # FULL: a committed delivery record must survive a power cut, or a digest could be
            # sent twice after a reboot.
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"{path}: the runtime store cannot be opened ({error}).") from None

    def _use_wal(self) -> None:
        # Switching a new file to WAL needs it alone, and SQLite answers "locked" at once, without
        # its busy timeout, while another process is switching it too; so the switch is retried
        # for up to the same ten seconds. On a file already in WAL it is a no-op.
        for _ in range(200):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
                # A timed Event wait: time.sleep fails under libfaketime 0.9.10 (make test-year-ahead).
                threading.Event().wait(0.05)
            else:
                return
        self._db.execute("PRAGMA journal_mode=WAL")

    def _migrate(self) -> None:
        # A new store can be opened by two processes at once (the daemon and `status`, or a
        # test polling it). Both read version 0; the write lock (BEGIN IMMEDIATE) lets one
        # migrate while the other waits, and the other's script then fails on the tables made
        # meanwhile: it rolls back, reads the version again and goes on from there.
        while (version := self._version()) < len(MIGRATIONS):
            script = MIGRATIONS[version]
            try:
                with self._db:
                    self._db.executescript(
                        f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {version + 1};"
                    )
            except sqlite3.OperationalError:
                if self._version() == version:  # nobody else moved it on: a real failure
                    raise

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()["user_version"])

    def transaction(
        self,
        *,
        exclusive_key: str | None = None,
        decides: bool = False,  # noqa: ARG002  (one host: nothing to fence)
    ) -> AbstractContextManager[Execute]:
        # One host: nothing to fence. An exclusive transaction takes SQLite's write lock at once
        # (BEGIN IMMEDIATE), so no other process slips a change between its read and its write.
        return self._transaction(exclusive=exclusive_key is not None)

    @contextmanager
    def _transaction(self, *, exclusive: bool) -> Iterator[Execute]:
        def execute(sql: str, parameters: Parameters = ()) -> Result:
            cursor = self._db.execute(sql, parameters)
            return Result(cursor.fetchall(), cursor.rowcount)

        with self._lock:
            try:
                with self._db:
                    if exclusive:
                        self._db.execute("BEGIN IMMEDIATE")
                    yield execute
            except sqlite3.Error as error:
                raise StoreError(
                    f"{self.path}: the runtime store cannot be used ({error})."
                ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _as_dict(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}
