"""The runtime store in embedded SQLite (WAL), in `logsDir`: the CLI reads while the daemon writes."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from nightly_batch.core.jsonio import parse_json, to_text
from nightly_batch.errors import StoreError
from nightly_batch.storage.port import DeliveryRecord, RunRecord
from nightly_batch.storage.sqlite_alerts import AlertStore

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
)


class SqliteStore:
    """RuntimeStore on one SQLite file; one connection shared by the threads under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            if not path.exists():
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, DATABASE_MODE))
            self._db = sqlite3.connect(path, timeout=10.0, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
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
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _write(self, sql: str, parameters: tuple[Any, ...] | dict[str, Any]) -> None:
        with self._lock:
            try:
                with self._db:
                    self._db.execute(sql, parameters)
            except sqlite3.Error as failure:
                raise StoreError(
                    f"{self.path}: the runtime store cannot be written ({failure})."
                ) from None

    def _read(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, parameters).fetchall()
            except sqlite3.Error as error:
                raise StoreError(
                    f"{self.path}: the runtime store cannot be read ({error})."
                ) from None

    def start_run(
        self, task: str, trigger: str, started_at: str, pid: int, slot: str | None = None
    ) -> str:
        run_id = str(uuid.uuid4())
        self._write(
            "INSERT INTO runs (id, task, trigger, started_at, result, pid, slot) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?)",
            (run_id, task, trigger, started_at, pid, slot),
        )
        return run_id

    def claim_slot(self, task: str, slot: str, at: str, trigger: str) -> bool:
        """Record that `slot` of `task` runs now; False if it was claimed before."""
        with self._lock:
            try:
                with self._db:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO slots (task, slot, claimed_at, trigger) "
                        "VALUES (?, ?, ?, ?)",
                        (task, slot, at, trigger),
                    )
                    return cursor.rowcount == 1
            except sqlite3.Error as error:
                raise StoreError(
                    f"{self.path}: the slot ledger cannot be written ({error})."
                ) from None

    def slot_claimed(self, task: str, slot: str) -> bool:
        return bool(self._read("SELECT 1 FROM slots WHERE task = ? AND slot = ?", (task, slot)))

    def has_history(self, task: str) -> bool:
        """Whether `task` ever ran here (catch-up only makes up for runs of a known schedule)."""
        return bool(
            self._read("SELECT 1 FROM slots WHERE task = ? LIMIT 1", (task,))
            or self._read("SELECT 1 FROM runs WHERE task = ? LIMIT 1", (task,))
        )

    def finish_run(
        self,
        run_id: str,
        *,
        ended_at: str,
        duration_s: float,
        result: str,
        message: str | None,
        error: str | None,
        details: dict[str, Any],
    ) -> None:
        with self._lock:
            try:
                with self._db:
                    self._db.execute(
                        "UPDATE runs SET ended_at = ?, duration_s = ?, result = ?, message = ?, "
                        "error = ?, details = ? WHERE id = ?",
                        (ended_at, duration_s, result, message, error, to_text(details), run_id),
                    )
                    self._db.execute(
                        "INSERT INTO run_days (day, task, result, runs, seconds) "
                        "SELECT substr(started_at, 1, 10), task, ?, 1, ? FROM runs WHERE id = ? "
                        "ON CONFLICT (day, task, result) DO UPDATE SET runs = runs + 1, "
                        "seconds = seconds + excluded.seconds",
                        (result, duration_s, run_id),
                    )
            except sqlite3.Error as failure:
                raise StoreError(
                    f"{self.path}: the runtime store cannot be written ({failure})."
                ) from None

    def last_runs(self) -> dict[str, RunRecord]:
        # One indexed lookup per task: flat however many runs are kept.
        tasks = [row["task"] for row in self._read("SELECT DISTINCT task FROM runs")]
        last = {}
        for task in sorted(tasks):
            rows = self._read(
                "SELECT * FROM runs WHERE task = ? ORDER BY started_at DESC LIMIT 1", (task,)
            )
            if rows:
                last[task] = _run(rows[0])
        return last

    def recent_runs(self, limit: int, task: str | None = None) -> list[RunRecord]:
        if task is None:
            rows = self._read("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))
        else:
            rows = self._read(
                "SELECT * FROM runs WHERE task = ? ORDER BY started_at DESC LIMIT ?", (task, limit)
            )
        return [_run(row) for row in rows]

    def last_success(self, task: str) -> str | None:
        rows = self._read(
            "SELECT MAX(started_at) AS at FROM runs WHERE task = ? AND result = 'ok'", (task,)
        )
        return rows[0]["at"] if rows else None

    def first_run(self, task: str) -> str | None:
        rows = self._read("SELECT MIN(started_at) AS at FROM runs WHERE task = ?", (task,))
        return rows[0]["at"] if rows else None

    def run_counts(self) -> list[tuple[str, str, int]]:
        """(task, result, count) over the runs still kept."""
        rows = self._read("SELECT task, result, COUNT(*) AS n FROM runs GROUP BY task, result")
        return [(row["task"], row["result"], int(row["n"])) for row in rows]

    def delivery_counts(self) -> list[tuple[str, str, int]]:
        """(channel, status, count) over all delivery records."""
        rows = self._read(
            "SELECT channel, status, COUNT(*) AS n FROM deliveries GROUP BY channel, status"
        )
        return [(row["channel"], row["status"], int(row["n"])) for row in rows]

    def daily_results(self, since: str) -> list[tuple[str, str, str, int, float]]:
        """(day, task, result, runs, mean duration) per UTC day since `since`."""
        rows = self._read(
            "SELECT day, task, result, runs, seconds FROM run_days WHERE day >= ? ORDER BY day",
            (since[:10],),
        )
        return [
            (
                r["day"],
                r["task"],
                r["result"],
                int(r["runs"]),
                float(r["seconds"]) / max(r["runs"], 1),
            )
            for r in rows
        ]

    def running_runs(self) -> list[RunRecord]:
        rows = self._read("SELECT * FROM runs WHERE result = 'running' ORDER BY started_at")
        return [_run(row) for row in rows]

    def delivery(self, batch_id: str, channel: str) -> DeliveryRecord | None:
        rows = self._read(
            "SELECT * FROM deliveries WHERE batch_id = ? AND channel = ?", (batch_id, channel)
        )
        return _delivery(rows[0]) if rows else None

    def sent_for_date(self, digest_date: str, channel: str) -> DeliveryRecord | None:
        rows = self._read(
            "SELECT * FROM deliveries WHERE digest_date = ? AND channel = ? AND status = 'sent' "
            "ORDER BY updated_at DESC LIMIT 1",
            (digest_date, channel),
        )
        return _delivery(rows[0]) if rows else None

    def deliveries_for(self, batch_id: str) -> list[DeliveryRecord]:
        rows = self._read(
            "SELECT * FROM deliveries WHERE batch_id = ? ORDER BY channel", (batch_id,)
        )
        return [_delivery(row) for row in rows]

    def begin_delivery(
        self, batch_id: str, channel: str, digest_date: str, digest_file: str, now: str
    ) -> DeliveryRecord:
        self._write(
            "INSERT INTO deliveries (batch_id, channel, digest_date, digest_file, status, "
            "attempts, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 1, ?, ?) "
            "ON CONFLICT (batch_id, channel) DO UPDATE SET status = 'pending', "
            "attempts = attempts + 1, updated_at = excluded.updated_at",
            (batch_id, channel, digest_date, digest_file, now, now),
        )
        record = self.delivery(batch_id, channel)
        assert record is not None  # noqa: S101  (written just above)
        return record

    def finish_delivery(
        self,
        batch_id: str,
        channel: str,
        *,
        status: str,
        provider_id: str | None,
        error: str | None,
        now: str,
        failure: str | None = None,
    ) -> None:
        self._write(
            "UPDATE deliveries SET status = ?, provider_id = ?, last_error = ?, updated_at = ?, "
            "failure = ? WHERE batch_id = ? AND channel = ?",
            (status, provider_id, error, now, failure, batch_id, channel),
        )

    def unsent_deliveries(self, since_date: str) -> list[DeliveryRecord]:
        """Pending and failed deliveries of digests dated `since_date` or later."""
        rows = self._read(
            "SELECT * FROM deliveries WHERE status IN ('pending', 'failed') AND digest_date >= ? "
            "ORDER BY digest_date, channel",
            (since_date,),
        )
        return [_delivery(row) for row in rows]

    def record_heartbeat(self, at: str, pid: int) -> None:
        self._write("INSERT INTO heartbeats (at, pid) VALUES (?, ?)", (at, pid))

    def last_heartbeat(self) -> str | None:
        rows = self._read("SELECT MAX(at) AS at FROM heartbeats")
        return rows[0]["at"] if rows else None

    def set_fact(self, key: str, value: Any, now: str) -> None:
        self._write(
            "INSERT INTO facts (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, to_text(value), now),
        )

    def fact(self, key: str) -> Any:
        rows = self._read("SELECT value FROM facts WHERE key = ?", (key,))
        return parse_json(rows[0]["value"]) if rows else None

    def prune(self, *, heartbeats_before: str, runs_before: str) -> int:
        """Forget old heartbeats (and heartbeat runs) and old finished runs; returns rows removed."""
        with self._lock:
            try:
                with self._db:
                    counts = [
                        self._db.execute(sql, (cutoff,)).rowcount
                        for sql, cutoff in (
                            ("DELETE FROM heartbeats WHERE at < ?", heartbeats_before),
                            (
                                (
                                    "DELETE FROM runs WHERE task = 'heartbeat' AND started_at < ? "
                                    "AND result != 'running'"
                                ),
                                heartbeats_before,
                            ),
                            (
                                "DELETE FROM runs WHERE started_at < ? AND result != 'running'",
                                runs_before,
                            ),
                            ("DELETE FROM run_days WHERE day < substr(?, 1, 10)", runs_before),
                        )
                    ]
                    return sum(counts)
            except sqlite3.Error as error:
                raise StoreError(
                    f"{self.path}: the runtime store cannot be pruned ({error})."
                ) from None

    @property
    def alerts(self) -> AlertStore:
        """The alert tables, on the same connection and lock."""
        return AlertStore(self._db, self._lock, self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        task=row["task"],
        trigger=row["trigger"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        result=row["result"],
        message=row["message"],
        error=row["error"],
        pid=row["pid"],
        details=parse_json(row["details"]),
        slot=row["slot"],
    )


def _delivery(row: sqlite3.Row) -> DeliveryRecord:
    return DeliveryRecord(**{key: row[key] for key in row.keys()})  # noqa: SIM118
