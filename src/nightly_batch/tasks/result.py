"""What a task handler hands back to the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class Resend:
    """A deliberate resend (`send-digest --force`, `deliveries resend`): of the digest of `day`
    (None: the newest), to `channel` (None: every configured channel)."""

    channel: str | None = None
    day: date | None = None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Why a run happens: its trigger and, for a scheduled daily run, the slot it belongs to."""

    trigger: str = "manual"
    slot: str | None = None
    # The business date of a scheduled slot; a late or catch-up batch is filed under it.
    business_day: date | None = None
    resend: Resend | None = None


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A finished task: its one-line message, details for the run record, and state changes.

    `state_updates` are written to the shared state together with the `taskHistory` entry, in
    one locked write; a handler that already wrote its entry sets `history_written`.
    """

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    state_updates: dict[str, Any] = field(default_factory=dict)
    history_written: bool = False
