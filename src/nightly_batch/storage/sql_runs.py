"""Runs, slot claims, heartbeats, facts and pruning in the runtime store's SQL."""

from __future__ import annotations

import uuid
from typing import Any

from nightly_batch.core.jsonio import parse_json, to_text
from nightly_batch.core.names import RunResult
from nightly_batch.storage.records import RunRecord
from nightly_batch.storage.sql_database import Database


class SqlRuns:
    """The run ledger: what ran, when, and which slots are taken."""

    _sql: Database

    def start_run(
        self, task: str, trigger: str, started_at: str, pid: int, slot: str | None = None
    ) -> str:
        run_id = str(uuid.uuid4())
        self._sql.write(
            "INSERT INTO runs (id, task, trigger, started_at, result, pid, slot, epoch, instance) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            (run_id, task, trigger, started_at, pid, slot, self._sql.epoch, self._sql.process),
        )
        return run_id

    def claim_slot(self, task: str, slot: str, at: str, trigger: str) -> bool:
        """Record that `slot` of `task` runs now; False if it was claimed before."""
        return (
            self._sql.changed(
                "INSERT INTO slots (task, slot, claimed_at, trigger) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (task, slot) DO NOTHING",
                (task, slot, at, trigger),
            )
            == 1
        )

    def slot_claim(self, task: str, slot: str) -> str | None:
        """When `slot` of `task` was claimed (None: never)."""
        rows = self._sql.read(
            "SELECT claimed_at FROM slots WHERE task = ? AND slot = ?", (task, slot)
        )
        return str(rows[0]["claimed_at"]) if rows else None

    def slot_run(self, task: str, slot: str) -> RunRecord | None:
        """The latest run recorded for `slot` of `task`."""
        rows = self._sql.read(
            "SELECT * FROM runs WHERE task = ? AND slot = ? ORDER BY started_at DESC LIMIT 1",
            (task, slot),
        )
        return _run(rows[0]) if rows else None

    def reclaim_slot(self, task: str, slot: str, claimed_at: str, at: str, trigger: str) -> bool:
        """Take over a claim whose run was interrupted, only if it is still the claim made at
        `claimed_at` (compare and set: of two daemons, one reruns it)."""
        return (
            self._sql.changed(
                "UPDATE slots SET claimed_at = ?, trigger = ? "
                "WHERE task = ? AND slot = ? AND claimed_at = ?",
                (at, trigger, task, slot, claimed_at),
            )
            == 1
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
        self._sql.write_all(
            (
                (
                    "UPDATE runs SET ended_at = ?, duration_s = ?, result = ?, message = ?, "
                    "error = ?, details = ? WHERE id = ?"
                ),
                (ended_at, duration_s, result, message, error, to_text(details), run_id),
            ),
            (
                (
                    "INSERT INTO run_days (day, task, result, runs, seconds) "
                    "SELECT substr(started_at, 1, 10), task, ?, 1, ? FROM runs WHERE id = ? "
                    "ON CONFLICT (day, task, result) DO UPDATE SET runs = run_days.runs + 1, "
                    "seconds = run_days.seconds + excluded.seconds"
                ),
                (result, duration_s, run_id),
            ),
            # The event counter, in the same transaction: a finished run counted once.
            (
                (
                    "INSERT INTO counters (name, labels, value) "
                    "SELECT 'runs', task || '|' || ?, 1 FROM runs WHERE id = ? "
                    "ON CONFLICT (name, labels) DO UPDATE SET value = counters.value + 1"
                ),
                (result, run_id),
            ),
        )

    def last_runs(self) -> dict[str, RunRecord]:
        # One indexed lookup per task: flat however many runs are kept.
        tasks = [row["task"] for row in self._sql.read("SELECT DISTINCT task FROM runs")]
        last = {}
        for task in sorted(tasks):
            rows = self._sql.read(
                "SELECT * FROM runs WHERE task = ? ORDER BY started_at DESC LIMIT 1", (task,)
            )
            if rows:
                last[task] = _run(rows[0])
        return last

    def recent_runs(self, limit: int, task: str | None = None) -> list[RunRecord]:
        if task is None:
            rows = self._sql.read("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))
        else:
            rows = self._sql.read(
                "SELECT * FROM runs WHERE task = ? ORDER BY started_at DESC LIMIT ?", (task, limit)
            )
        return [_run(row) for row in rows]

    def last_success(self, task: str) -> str | None:
        rows = self._sql.read(
            "SELECT MAX(started_at) AS at FROM runs WHERE task = ? AND result = 'ok'", (task,)
        )
        return rows[0]["at"] if rows else None

    def first_activity(self) -> str | None:
        """The earliest run start or slot claim still kept, of any task."""
        rows = self._sql.read(
            "SELECT MIN(at) AS at FROM (SELECT MIN(started_at) AS at FROM runs "
            "UNION ALL SELECT MIN(claimed_at) FROM slots) AS activity"
        )
        return rows[0]["at"] if rows else None

    def first_run(self, task: str) -> str | None:
        rows = self._sql.read("SELECT MIN(started_at) AS at FROM runs WHERE task = ?", (task,))
        return rows[0]["at"] if rows else None

    def counters(self, name: str) -> list[tuple[tuple[str, ...], int]]:
        """(label values, count) of the event counter `name` (runs, deliveries): never less
        than at any earlier read."""
        rows = self._sql.read("SELECT labels, value FROM counters WHERE name = ?", (name,))
        return [(tuple(row["labels"].split("|")), int(row["value"])) for row in rows]

    def delivery_counts(self) -> list[tuple[str, str, int]]:
        """(channel, status, count) of the delivery records as they stand now: a gauge."""
        rows = self._sql.read(
            "SELECT channel, status, COUNT(*) AS n FROM deliveries GROUP BY channel, status"
        )
        return [(row["channel"], row["status"], int(row["n"])) for row in rows]

    def daily_results(self, since: str) -> list[tuple[str, str, str, int, float]]:
        """(day, task, result, runs, mean duration) per UTC day since `since`."""
        rows = self._sql.read(
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
        rows = self._sql.read("SELECT * FROM runs WHERE result = 'running' ORDER BY started_at")
        return [_run(row) for row in rows]

    def record_heartbeat(self, at: str, pid: int) -> None:
        self._sql.write("INSERT INTO heartbeats (at, pid) VALUES (?, ?)", (at, pid))

    def last_heartbeat(self) -> str | None:
        """The stamp of the heartbeat written last: after the clock is stepped back, the next
        heartbeat is the truth, not an earlier stamp that now lies in the future."""
        order = self._sql.heartbeat_order
        rows = self._sql.read(f"SELECT at FROM heartbeats ORDER BY {order} DESC LIMIT 1")  # noqa: S608
        return rows[0]["at"] if rows else None

    def set_fact(self, key: str, value: Any, now: str) -> None:
        """A fact (when the install began, the queue's size): what was seen, not a decision,
        so any host may write one."""
        self._sql.write(
            "INSERT INTO facts (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, to_text(value), now),
            decides=False,
        )

    def fact(self, key: str) -> Any:
        rows = self._sql.read("SELECT value FROM facts WHERE key = ?", (key,))
        return parse_json(rows[0]["value"]) if rows else None

    def prune(self, *, heartbeats_before: str, runs_before: str) -> int:
        """Forget old heartbeats (and heartbeat runs) and old finished runs; returns rows removed."""
        # Housekeeping, not a decision: a standby may prune too.
        counts = self._sql.write_all(
            ("DELETE FROM heartbeats WHERE at < ?", (heartbeats_before,)),
            (
                (
                    "DELETE FROM runs WHERE task = 'heartbeat' AND started_at < ? "
                    "AND result != 'running'"
                ),
                (heartbeats_before,),
            ),
            ("DELETE FROM runs WHERE started_at < ? AND result != 'running'", (runs_before,)),
            ("DELETE FROM run_days WHERE day < substr(?, 1, 10)", (runs_before,)),
            decides=False,
        )
        return sum(counts)


def _run(row: dict[str, Any]) -> RunRecord:
    return RunRecord(
        id=row["id"],
        task=row["task"],
        trigger=row["trigger"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_s=row["duration_s"],
        result=RunResult(row["result"]),
        message=row["message"],
        error=row["error"],
        pid=row["pid"],
        details=parse_json(row["details"]),
        slot=row["slot"],
        epoch=row["epoch"],
        instance=row["instance"],
    )
