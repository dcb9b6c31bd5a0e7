"""The one logging setup: JSON lines to `logs/orchestrator.log`, readable lines on the console.

Every record, a structlog event of ours or a library's standard-library record, is formatted by
a structlog ProcessorFormatter: the library's records first take the same processors as our
events (level, time, context, traceback as text), then each handler redacts and renders:

- the file: one JSON object per line, `event` first;
- the console under journald or on a pipe: one logfmt line (with journald's `<N>` priority
  prefix when JOURNAL_STREAM is set), the traceback escaped onto the same line;
- a terminal: time, level and event in columns, the fields as logfmt, the traceback below.

The file handler is a WatchedFileHandler, so logrotate can move the file away (no copytruncate
needed) and the next record opens a fresh one.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import TextIO

from structlog.dev import (
    BRIGHT,
    CYAN,
    DIM,
    MAGENTA,
    RESET_ALL,
    Column,
    ConsoleRenderer,
    KeyValueColumnFormatter,
    LogLevelColumnFormatter,
    plain_traceback,
)
from structlog.processors import JSONRenderer, LogfmtRenderer
from structlog.stdlib import ProcessorFormatter
from structlog.typing import Processor

from nightly_batch.observability.processors import (
    PRIORITIES,
    SHARED_PROCESSORS,
    RedactSecrets,
    SyslogPriority,
    event_first,
    library_event,
    plain_values,
    quoted,
    render_json,
)
from nightly_batch.observability.redact import Redactor

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
# Libraries that log full request URLs (which carry webhook tokens) at INFO.
NOISY_LIBRARIES = ("httpx", "httpcore", "apscheduler", "hpack")
# A terminal's event column: the longest of our event names fit, so the fields line up.
EVENT_WIDTH = 24


def _formatter(redactor: Redactor, *render: Processor) -> ProcessorFormatter:
    return ProcessorFormatter(
        foreign_pre_chain=(*SHARED_PROCESSORS, library_event),
        # The record's arguments, for library_event: uvicorn's access line is made of them.
        pass_foreign_args=True,
        processors=[
            ProcessorFormatter.remove_processors_meta,
            # Before any renderer, and after the traceback was turned into text.
            RedactSecrets(redactor),
            *render,
        ],
    )


def _for_journal_or_pipe(*, journal: bool) -> Processor:
    """level=info event=task.finished task=heartbeat ...: one plain line per event."""
    logfmt = LogfmtRenderer(key_order=["level", "event"], bool_as_flag=False)
    return SyslogPriority(logfmt) if journal else logfmt


def _for_people(*, colors: bool) -> ConsoleRenderer:
    """2026-11-28T23:00:00.000000Z [info    ] task.finished            task=heartbeat ...

    In colour (structlog's own level colours, dim keys, a bright event name) unless NO_COLOR
    is set (no-color.org); the text is the same either way.
    """
    none = ""
    reset = RESET_ALL if colors else none
    levels = ConsoleRenderer.get_default_level_styles(colors=colors)
    # The level column pads to the longest name among these keys: "critical".
    levels = {name: levels.get(name, none) for name in PRIORITIES}

    def column(key: str, width: int = 0, style: str = none) -> Column:
        formatter = KeyValueColumnFormatter(
            key_style=None,
            value_style=style if colors else none,
            reset_style=reset,
            value_repr=str,
            width=width,
        )
        return Column(key, formatter)

    fields = KeyValueColumnFormatter(
        key_style=CYAN if colors else none,
        value_style=MAGENTA if colors else none,
        reset_style=reset,
        value_repr=quoted,
    )
    return ConsoleRenderer(
        columns=[
            column("timestamp", style=DIM),
            Column("level", LogLevelColumnFormatter(levels, reset_style=reset)),
            column("event", EVENT_WIDTH, style=BRIGHT),
            Column("", fields),  # every other key, in the order it was logged
        ],
        sort_keys=False,
        # The traceback arrives as text already (format_exc_info, then redaction); this only
        # keeps rich's renderer out should an exc_info ever reach the console.
        exception_formatter=plain_traceback,
    )


def configure_logging(
    *,
    level: str = "info",
    log_file: Path | None = None,
    redactor: Redactor | None = None,
    console: TextIO | None = None,
    journal: bool | None = None,
    console_level: str | None = None,
) -> None:
    """Send every record through the redactor to the file (at `level`) and the console (at
    `console_level`: -q makes it "warning", -v "debug"; by default `level` too)."""
    redactor = redactor or Redactor()
    console = console or sys.stderr
    terminal = console.isatty()
    if journal is None:
        journal = "JOURNAL_STREAM" in os.environ
    if terminal:
        console_render: Processor = _for_people(colors=not os.environ.get("NO_COLOR"))
    else:
        console_render = _for_journal_or_pipe(journal=journal)
    console_handler = logging.StreamHandler(console)
    console_handler.setLevel(LEVELS[console_level or level])
    console_handler.setFormatter(_formatter(redactor, plain_values, console_render))
    handlers: list[logging.Handler] = [console_handler]
    if log_file is not None:
        file_handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
        file_handler.setLevel(LEVELS[level])
        file_handler.setFormatter(
            _formatter(redactor, event_first, JSONRenderer(serializer=render_json))
        )
        handlers.append(file_handler)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(min(LEVELS[level], LEVELS[console_level or level]))
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
