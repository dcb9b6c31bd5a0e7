"""The one logging setup: JSON lines to `logs/orchestrator.log`, readable lines on the console.

The file handler is a WatchedFileHandler, so logrotate can move the file away (no copytruncate
needed) and the next record opens a fresh one. Every record, ours or a library's, passes the
redactor before it is rendered.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from nightly_batch.core.jsonio import to_text
from nightly_batch.observability.events import FIELDS
from nightly_batch.observability.redact import Redactor

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
# Libraries that log full request URLs (which carry webhook tokens) at INFO.
NOISY_LIBRARIES = ("httpx", "httpcore", "apscheduler", "hpack")
# syslog priorities: journald reads a "<N>" line prefix, so `journalctl -p err` filters.
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}

Render = Callable[[dict[str, Any]], str]


def render_json(event: dict[str, Any]) -> str:
    try:
        return to_text(event)
    except (UnicodeEncodeError, TypeError, ValueError):
        # A lone surrogate from a hostile lead id, say: the standard library escapes it.
        return json.dumps(event, default=str)


def render_key_values(event: dict[str, Any]) -> str:
    """level='info' event='task.finished' task='heartbeat' ...: one plain line, for journald."""
    return " ".join(f"{key}={value!r}" for key, value in _level_first(event).items())


def render_for_people(event: dict[str, Any]) -> str:
    """A terminal: time, level and event in columns, then the fields."""
    rest = {k: v for k, v in event.items() if k not in ("timestamp", "level", "event")}
    trace = rest.pop("exception", None)
    fields = " ".join(f"{k}={v if isinstance(v, str) else repr(v)}" for k, v in rest.items())
    line = f"{event['timestamp']} [{event['level']:<8}] {event['event']:<24} {fields}".rstrip()
    return f"{line}\n{trace}" if trace else line


def _level_first(event: dict[str, Any]) -> dict[str, Any]:
    return {"level": event["level"], "event": event["event"], **event}


class EventFormatter(logging.Formatter):
    """A record as an event dict (event, fields, level, timestamp), redacted, then rendered."""

    def __init__(self, render: Render, redactor: Redactor, *, priority: bool = False) -> None:
        super().__init__()
        self.render = render
        self.redactor = redactor
        self.priority = priority

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {"event": record.getMessage()}
        event.update(getattr(record, FIELDS, None) or {})
        level = record.levelname.lower()
        event["level"] = level
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds")
        event["timestamp"] = stamp.replace("+00:00", "Z")
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        # Redaction last, after the traceback has been turned into text.
        text = self.render(self.redactor.value(event))
        return f"<{PRIORITIES.get(level, 6)}>{text}" if self.priority else text


def configure_logging(
    *,
    level: str = "info",
    log_file: Path | None = None,
    redactor: Redactor | None = None,
    console: TextIO | None = None,
    journal: bool | None = None,
) -> None:
    """Send every record through the redactor to the file and the console."""
    redactor = redactor or Redactor()
    console = console or sys.stderr
    terminal = console.isatty()
    if journal is None:
        journal = "JOURNAL_STREAM" in os.environ
    # Under journald or a pipe: one plain line per event, no padding.
    render = render_for_people if terminal else render_key_values
    console_handler = logging.StreamHandler(console)
    console_handler.setFormatter(
        EventFormatter(render, redactor, priority=journal and not terminal)
    )
    handlers: list[logging.Handler] = [console_handler]
    if log_file is not None:
        file_handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(EventFormatter(render_json, redactor))
        handlers.append(file_handler)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(LEVELS[level])
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
