"""Plain records read from the runtime store, and the interface any store implements.

The interface keeps the door open for a PostgreSQL store when an operator runs two hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nightly_batch.core.names import RecordStatus, RunResult

if TYPE_CHECKING:
    from nightly_batch.storage.sqlite_alerts import AlertStore


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a task as the runner recorded it."""

    id: str
    task: str
    trigger: str
    started_at: str
    ended_at: str | None
    duration_s: float | None
    result: RunResult
    message: str | None
    error: str | None
    pid: int | None
    details: dict[str, Any]
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """The state of one digest on one channel."""

    batch_id: str
    channel: str
    digest_date: str
    digest_file: str
    status: RecordStatus
    attempts: int
    provider_id: str | None
    last_error: str | None
    created_at: str
    updated_at: str
    failure: str | None = None


class RuntimeStore(Protocol):
    """The daemon's own bookkeeping: runs, deliveries, heartbeats and a few facts."""

    def start_run(
        self, task: str, trigger: str, started_at: str, pid: int, slot: str | None = None
    ) -> str: ...

    def claim_slot(self, task: str, slot: str, at: str, trigger: str) -> bool: ...

    def slot_claimed(self, task: str, slot: str) -> bool: ...

    def has_history(self, task: str) -> bool: ...

    def finish_run(
        self,
        run_id: str,
        *,
        ended_at: str,
        duration_s: float,
        result: RunResult,
        message: str | None,
        error: str | None,
        details: dict[str, Any],
    ) -> None: ...

    def last_runs(self) -> dict[str, RunRecord]: ...

    def recent_runs(self, limit: int, task: str | None = None) -> list[RunRecord]: ...

    def last_success(self, task: str) -> str | None: ...

    def first_run(self, task: str) -> str | None: ...

    def running_runs(self) -> list[RunRecord]: ...

    def daily_results(self, since: str) -> list[tuple[str, str, str, int, float]]: ...

    def run_counts(self) -> list[tuple[str, str, int]]: ...

    def delivery_counts(self) -> list[tuple[str, str, int]]: ...

    @property
    def alerts(self) -> AlertStore: ...

    def delivery(self, batch_id: str, channel: str) -> DeliveryRecord | None: ...

    def sent_for_date(self, digest_date: str, channel: str) -> DeliveryRecord | None: ...

    def deliveries_for(self, batch_id: str) -> list[DeliveryRecord]: ...

    def begin_delivery(
        self, batch_id: str, channel: str, digest_date: str, digest_file: str, now: str
    ) -> DeliveryRecord: ...

    def finish_delivery(
        self,
        batch_id: str,
        channel: str,
        *,
        status: RecordStatus,
        provider_id: str | None,
        error: str | None,
        now: str,
        failure: str | None = None,
    ) -> None: ...

    def unsent_deliveries(self, since_date: str) -> list[DeliveryRecord]: ...

    def record_heartbeat(self, at: str, pid: int) -> None: ...

    def last_heartbeat(self) -> str | None: ...

    def set_fact(self, key: str, value: Any, now: str) -> None: ...

    def fact(self, key: str) -> Any: ...

    def prune(self, *, heartbeats_before: str, runs_before: str) -> int: ...

    def close(self) -> None: ...
