"""SQL for alerts, their notification log, silences and failure streaks."""

from __future__ import annotations

from typing import Any

from nightly_batch.storage.records import (
    AlertRecord,
    NotificationRecord,
    PendingNotice,
    SilenceRecord,
)
from nightly_batch.storage.sql_database import Database


class SqlAlerts:
    """The alert tables of the runtime store (storage.port.AlertStore)."""

    def __init__(self, database: Database) -> None:
        self._sql = database

    def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        # The operator's own changes (silences) and housekeeping: not decisions a fenced
        # daemon must be kept from; transition() is.
        return self._sql.write(sql, parameters, decides=False)

    def get(self, fingerprint: str) -> AlertRecord | None:
        rows = self._run("SELECT * FROM alerts WHERE fingerprint = ?", (fingerprint,))
        return AlertRecord(**rows[0]) if rows else None

    def transition(
        self, expected: AlertRecord | None, new: AlertRecord, notice: PendingNotice | None
    ) -> int | bool | None:
        """Write `new` (and log `notice`) only if the alert is still `expected`: compare and set.

        One immediate transaction, so neither a thread of this process nor another process can
        slip a change in between. Returns the notification's id (None without a notice), or
        False when the alert changed meanwhile: the caller reads it again and decides anew.
        """
        fields = AlertRecord.__slots__
        updates = ", ".join(
            f"{field} = excluded.{field}" for field in fields if field != "fingerprint"
        )
        with self._sql.transaction(exclusive_key=new.fingerprint, decides=True) as execute:
            rows = execute("SELECT * FROM alerts WHERE fingerprint = ?", (new.fingerprint,)).rows
            if (AlertRecord(**rows[0]) if rows else None) != expected:
                return False
            execute(
                f"INSERT INTO alerts ({', '.join(fields)}) "  # noqa: S608  (our own field names)
                f"VALUES ({', '.join('?' for _ in fields)}) "
                f"ON CONFLICT (fingerprint) DO UPDATE SET {updates}",
                tuple(getattr(new, field) for field in fields),
            )
            if notice is None:
                return None
            added = execute(
                "INSERT INTO alert_notifications (fingerprint, kind, severity, text, status, at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (new.fingerprint, *notice),
            ).rows
            return int(added[0]["id"])

    def all(self, *, since: str | None = None) -> list[AlertRecord]:
        if since is None:
            rows = self._run("SELECT * FROM alerts ORDER BY updated_at DESC")
        else:
            rows = self._run(
                "SELECT * FROM alerts WHERE state = 'firing' OR updated_at >= ? "
                "ORDER BY updated_at DESC",
                (since,),
            )
        return [AlertRecord(**row) for row in rows]

    def firing(self) -> list[AlertRecord]:
        rows = self._run("SELECT * FROM alerts WHERE state = 'firing' ORDER BY started_at")
        return [AlertRecord(**row) for row in rows]

    def purge_resolved(self, before: str) -> int:
        """Forget resolved alerts last changed before `before`; firing ones are never purged."""
        rows = self._run(
            "DELETE FROM alerts WHERE state = 'resolved' AND updated_at < ? RETURNING fingerprint",
            (before,),
        )
        self._run("DELETE FROM alert_notifications WHERE at < ?", (before,))
        self._run("DELETE FROM silences WHERE expires_at <= ?", (before,))
        return len(rows)

    def finish_notification(
        self, ident: int, status: str, channel: str | None, error: str | None
    ) -> None:
        self._run(
            "UPDATE alert_notifications SET status = ?, channel = ?, error = ? WHERE id = ?",
            (status, channel, error, ident),
        )

    def notifications(
        self, *, since: str | None = None, status: str | None = None
    ) -> list[NotificationRecord]:
        clauses, parameters = [], []
        if since is not None:
            clauses.append("at >= ?")
            parameters.append(since)
        if status is not None:
            clauses.append("status = ?")
            parameters.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT * FROM alert_notifications {where} ORDER BY id"  # noqa: S608  (fixed clauses)
        rows = self._run(query, tuple(parameters))
        return [NotificationRecord(**row) for row in rows]

    def sent_since(self, since: str) -> int:
        rows = self._run(
            "SELECT COUNT(*) AS n FROM alert_notifications WHERE status = 'sent' AND at >= ?",
            (since,),
        )
        return int(rows[0]["n"])

    def add_silence(self, silence: SilenceRecord) -> None:
        self._run(
            "INSERT INTO silences (id, name, task, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                silence.id,
                silence.name,
                silence.task,
                silence.reason,
                silence.created_at,
                silence.expires_at,
            ),
        )

    def remove_silence(self, ident: str) -> bool:
        return bool(self._run("DELETE FROM silences WHERE id = ? RETURNING id", (ident,)))

    def silences(self, now: str) -> list[SilenceRecord]:
        """Silences still in force at `now` (read only: the heartbeat's purge drops old ones,
        so the dashboard and the CLI never write)."""
        rows = self._run("SELECT * FROM silences WHERE expires_at > ? ORDER BY expires_at", (now,))
        return [SilenceRecord(**row) for row in rows]

    def count_failure(self, task: str, at: str) -> int:
        """One more failed run in a row for `task`; returns the streak."""
        rows = self._run(
            "INSERT INTO task_failures (task, consecutive, last_failure_at) VALUES (?, 1, ?) "
            "ON CONFLICT (task) DO UPDATE SET consecutive = task_failures.consecutive + 1, "
            "last_failure_at = excluded.last_failure_at RETURNING consecutive",
            (task, at),
        )
        return int(rows[0]["consecutive"])

    def reset_failures(self, task: str) -> None:
        self._run("DELETE FROM task_failures WHERE task = ?", (task,))
