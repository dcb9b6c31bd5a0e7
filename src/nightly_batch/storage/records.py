"""The plain records the runtime store returns: what every implementation reads and writes.

Frozen dataclasses with the vocabularies of core/names.py, so a caller never sees a row type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nightly_batch.core.names import DeliveryKind, RecordStatus, RunResult


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
    epoch: int | None = None  # the leader epoch it ran under (two hosts only)
    instance: str | None = None  # the process that ran it, `node/token` (two hosts only)

    @property
    def node(self) -> str | None:
        return self.instance.split("/", 1)[0] if self.instance else None


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
    kind: DeliveryKind = DeliveryKind.DIGEST
    note: str | None = None  # "confirmed by the operator", "2 new leads", ...
    epoch: int | None = None  # the leader epoch of the attempt (two hosts only)


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """How one delivery attempt ended, as its record keeps it."""

    status: RecordStatus
    provider_id: str | None = None
    error: str | None = None
    failure: str | None = None  # the DeliveryStatus of a failed or ambiguous attempt
    note: str | None = None
    # What the attempt itself came to, for the counters, when the record keeps another status
    # (a failed resend leaves the earlier send standing).
    attempt: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    fingerprint: str
    name: str
    task: str
    severity: str
    state: str  # firing | resolved
    summary: str
    run_id: str | None
    started_at: str
    updated_at: str
    resolved_at: str | None
    last_notified_at: str | None
    notified_severity: str | None


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: int
    fingerprint: str
    kind: str  # firing | escalated | reminder | resolved
    severity: str
    text: str
    channel: str | None
    status: str  # queued | sent | failed | suppressed | muted
    error: str | None
    at: str


# A notification to log with a transition: kind, severity, text, status, at.
PendingNotice = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class SharedDigest:
    """A digest kept in the store of two hosts, for the host that did not write it."""

    batch_id: str
    digest_date: str
    file: str
    bytes: int
    stored_at: str


@dataclass(frozen=True, slots=True)
class SilenceRecord:
    id: str
    name: str
    task: str
    reason: str
    created_at: str
    expires_at: str
