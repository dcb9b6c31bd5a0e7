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
from pathlib import Path
from typing import Any, TextIO

import structlog

from nightly_batch.jsonio import to_text
from nightly_batch.redact import Redactor

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
# Libraries that log full request URLs (which carry webhook tokens) at INFO.
NOISY_LIBRARIES = ("httpx", "httpcore", "apscheduler", "hpack")


def _json(event: dict[str, Any], **_: Any) -> str:
    try:
        return to_text(event)
    except (UnicodeEncodeError, TypeError, ValueError):
        # A lone surrogate from a hostile lead id, say: the standard library escapes it.
        return json.dumps(event, default=str)


# syslog priorities: journald reads a "<N>" line prefix, so `journalctl -p err` filters.
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}


def _with_priority(render: Any) -> Any:
    def prefixed(logger: Any, method: str, event: dict[str, Any]) -> str:
        priority = PRIORITIES.get(str(event.get("level", "info")), 6)
        return f"<{priority}>{render(logger, method, event)}"

    return prefixed


def configure_logging(
    *,
    level: str = "info",
    log_file: Path | None = None,
    redactor: Redactor | None = None,
    console: TextIO | None = None,
    journal: bool | None = None,
) -> None:
    """Send structlog and stdlib logging through the redactor to the file and the console."""
    redactor = redactor or Redactor()
    console = console or sys.stderr
    stamp: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Redaction comes last, after tracebacks have been turned into text.
    finish: list[Any] = [structlog.processors.format_exc_info, redactor]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *stamp,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *finish,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    foreign = [*stamp, structlog.stdlib.ExtraAdder(), *finish]
    handlers: list[logging.Handler] = []
    terminal = console.isatty()
    console_renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=terminal)
        if terminal
        # Under journald or a pipe: one plain line per event, no colours, no padding.
        else structlog.processors.KeyValueRenderer(key_order=["level", "event"], drop_missing=True)
    )
    if journal is None:
        journal = "JOURNAL_STREAM" in os.environ
    if journal and not terminal:
        console_renderer = _with_priority(console_renderer)
    console_handler = logging.StreamHandler(console)
    console_handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                console_renderer,
            ],
            foreign_pre_chain=foreign,
        )
    )
    handlers.append(console_handler)
    if log_file is not None:
        file_handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(serializer=_json),
                ],
                foreign_pre_chain=foreign,
            )
        )
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
