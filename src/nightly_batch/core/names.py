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
