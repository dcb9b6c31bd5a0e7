"""The store port: the interfaces any runtime store implements, shaped by what callers need.

Runs and slots, deliveries, heartbeats and facts (`RuntimeStore`), and the alert tables
(`AlertStore`). Callers above storage/ name only these and the records of storage/records.py;
an import-linter contract keeps them off the SQLite modules, so a second store (PostgreSQL for
two hosts) is one new module chosen by storage/opening.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nightly_batch.core.names import RunResult
from nightly_batch.storage.records import (
    AlertRecord,
    AttemptOutcome,
    DeliveryRecord,
    NotificationRecord,
    PendingNotice,
    RunRecord,
    SharedDigest,
    SilenceRecord,
)

if TYPE_CHECKING:
    from nightly_batch.storage.postgres_lease import LeaderLease, LeaseView


class AlertStore(Protocol):
    """The alerts, their notification log, silences and failure streaks."""

    def get(self, fingerprint: str) -> AlertRecord | None: ...

    def transition(
        self, expected: AlertRecord | None, new: AlertRecord, notice: PendingNotice | None
    ) -> int | bool | None:
        """Write `new` (and log `notice`) only if the alert is still `expected`, atomically:
        the notification's id (None without a notice), or False when it changed meanwhile."""
        ...

    def all(self, *, since: str | None = None) -> list[AlertRecord]: ...

    def firing(self) -> list[AlertRecord]: ...

    def purge_resolved(self, before: str) -> int: ...

    def finish_notification(
        self, ident: int, status: str, channel: str | None, error: str | None
    ) -> None: ...

    def notifications(
        self, *, since: str | None = None, status: str | None = None
    ) -> list[NotificationRecord]: ...

    def sent_since(self, since: str) -> int: ...

    def add_silence(self, silence: SilenceRecord) -> None: ...

    def remove_silence(self, ident: str) -> bool: ...

    def silences(self, now: str) -> list[SilenceRecord]: ...

    def count_failure(self, task: str, at: str) -> int: ...

    def reset_failures(self, task: str) -> None: ...


class RuntimeStore(Protocol):
    """The daemon's own bookkeeping: runs, deliveries, heartbeats and a few facts."""

    def start_run(
        self, task: str, trigger: str, started_at: str, pid: int, slot: str | None = None
    ) -> str: ...

    def claim_slot(self, task: str, slot: str, at: str, trigger: str) -> bool: ...

    def slot_claim(self, task: str, slot: str) -> str | None: ...

    def slot_run(self, task: str, slot: str) -> RunRecord | None: ...

    def reclaim_slot(
        self, task: str, slot: str, claimed_at: str, at: str, trigger: str
    ) -> bool: ...

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

    def first_activity(self) -> str | None: ...

    def running_runs(self) -> list[RunRecord]: ...

    def daily_results(self, since: str) -> list[tuple[str, str, str, int, float]]: ...

    def counters(self, name: str) -> list[tuple[tuple[str, ...], int]]: ...

    def delivery_counts(self) -> list[tuple[str, str, int]]: ...

    @property
    def alerts(self) -> AlertStore: ...

    def delivery(self, batch_id: str, channel: str) -> DeliveryRecord | None: ...

    def deliveries_on(self, digest_date: str) -> list[DeliveryRecord]: ...

    def deliveries_for(self, batch_id: str) -> list[DeliveryRecord]: ...

    def begin_delivery(
        self,
        batch_id: str,
        channel: str,
        digest_date: str,
        digest_file: str,
        now: str,
        kind: str = ...,
    ) -> DeliveryRecord: ...

    def finish_delivery(
        self, batch_id: str, channel: str, outcome: AttemptOutcome, now: str
    ) -> None: ...

    def resolve_ambiguous(self, batch_id: str, channel: str, status: str, note: str) -> bool: ...

    def ambiguous_dates(self, since_date: str) -> list[str]: ...

    def leader_epoch(self) -> int | None:
        """The leader epoch this process writes under: None on one host, or outside the daemon."""
        ...

    def last_delivered_at(self) -> str | None: ...

    def unsent_deliveries(self, since_date: str) -> list[DeliveryRecord]: ...

    def record_heartbeat(self, at: str, pid: int) -> None: ...

    def last_heartbeat(self) -> str | None: ...

    def set_fact(self, key: str, value: Any, now: str) -> None: ...

    def fact(self, key: str) -> Any: ...

    def prune(self, *, heartbeats_before: str, runs_before: str) -> int: ...

    def leader_lease(
        self,
        node: str,
        monotonic: Callable[[], float],
        lease_seconds: float,
        *,
        batch_host: bool = False,
    ) -> LeaderLease | None:
        """This daemon's side of the leader lease, when the store is shared by several hosts
        (PostgreSQL); None on one host, where the daemon always leads."""
        ...

    # True when several hosts' daemons share the store (PostgreSQL), one of them leading.
    shared_by_hosts: bool

    def share_digest(
        self, path: Path, batch_id: str, digest_date: str, now: str, keep_after: str
    ) -> None:
        """Keep a copy of the digest file at `path` for the other host (two hosts only)."""
        ...

    def shared_digests(self, since_date: str) -> list[SharedDigest]:
        """The digests kept for the hosts, dated `since_date` or later (none on one host)."""
        ...

    def digest_bytes(self, batch_id: str) -> Iterator[bytes]:
        """A kept digest's bytes, a chunk at a time."""
        ...

    def live_processes(self, within_seconds: float) -> set[str]:
        """The daemons of two hosts seen in the database within `within_seconds` (none on
        one host)."""
        ...

    def lease_view(self) -> LeaseView | None:
        """The leader lease as the database holds it now; None on one host (or before anyone
        led)."""
        ...

    def close(self) -> None: ...
