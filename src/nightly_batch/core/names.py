"""The project's vocabularies, each defined once.

StrEnum members are their strings, so they go into JSON, SQL and log lines as they are and
compare equal to the strings other programs wrote; mypy catches a misspelt member.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class TaskName(StrEnum):
    NIGHTLY_BATCH = "nightly-batch"
    SEND_DIGEST = "send-digest"
    HEARTBEAT = "heartbeat"


TASKS: tuple[TaskName, ...] = tuple(TaskName)


class ChannelName(StrEnum):
    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"
    WEBHOOK = "webhook"
    LOG = "log"


# Alert severities, lowest first; a Literal because the config file spells them.
Severity = Literal["info", "warning", "error", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


def severity_rank(severity: str) -> int:
    """0 for info up to 3 for critical (ValueError for anything else)."""
    return list[str](SEVERITIES).index(severity)


class AlertState(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class RunResult(StrEnum):
    """How a recorded run ended (`running` until it does)."""

    RUNNING = "running"
    OK = "ok"
    ERROR = "error"


class DeliveryStatus(StrEnum):
    """What one send to a channel came to: delivered, or the class of its failure."""

    DELIVERED = "delivered"
    RATE_LIMITED = "rate-limited"  # the service asked us to wait (429)
    TRANSIENT = "transient"  # connection errors, 5xx: worth retrying
    AMBIGUOUS = "ambiguous"  # the request went out and no answer came: it may have arrived
    CONFIGURATION = "configuration"  # 401/403/404/410, a bad address: the setup's fault
    PAYLOAD = "payload"  # the service refused the message itself (400)


class RecordStatus(StrEnum):
    """The state of one digest on one channel in the delivery record."""

    PENDING = "pending"  # written before the send: a crash mid-send leaves it visible
    SENT = "sent"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"  # may have arrived: until the operator confirms or resends
    NOTHING_NEW = "nothing-new"  # a re-run of a delivered date brought no lead: no message


class DeliveryKind(StrEnum):
    """What a delivery record announced."""

    DIGEST = "digest"  # the digest of a date
    UPDATE = "update"  # only the leads a channel had not seen, after a re-run of its date
    RESEND = "resend"  # a deliberate resend (send-digest --force, deliveries resend)


class AlertName(StrEnum):
    """Every alert the daemon raises (docs/ERROR_ALERTS.md has a row for each)."""

    TASK_FAILED = "task_failed"
    NO_RECENT_SUCCESS = "no_recent_success"
    DIGEST_MISSING = "digest_missing"
    DIGEST_UNDELIVERED = "digest_undelivered"
    EMPTY_BATCH = "empty_batch"
    INVALID_LEADS = "invalid_leads"
    DELIVERY_AMBIGUOUS = "delivery_ambiguous"
    TASK_HUNG = "task_hung"
    HEARTBEAT_STALE = "heartbeat_stale"
    BATCH_HOST_DOWN = "batch_host_down"
    CLOCK_JUMP = "clock_jump"
    LOW_DISK = "low_disk"
    ALERT_CHANNEL_FAILED = "alert_channel_failed"
