"""The structlog processors of every log line: context, level, time, redaction, renderers.

SHARED_PROCESSORS build the event dict the same way for our events (structlog's chain) and for
the standard library's records (ProcessorFormatter's foreign_pre_chain). The rest run in each
handler's formatter: redaction, then one renderer per output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from nightly_batch.core.jsonio import to_text
from nightly_batch.observability.redact import Redactor

# syslog priorities: journald reads a "<N>" line prefix, so `journalctl -p err` filters.
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}

SHARED_PROCESSORS: tuple[Processor, ...] = (
    # Fields a caller bound with events.run_context (the task's run) join every event.
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    # Fixed width, microseconds always present (isoformat() drops them when they are zero).
    structlog.processors.TimeStamper(fmt="%Y-%m-%dT%H:%M:%S.%fZ", utc=True),
    # A traceback becomes text here, so the redaction after it sees the text.
    structlog.processors.format_exc_info,
)


def library_event(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """A library's record as an event of ours: `library.log` with the logger and its sentence
    (uvicorn's "Started server process [42]" is not an event name), and uvicorn's access line
    as `http.request` with its parts as fields."""
    record = event.get("_record")
    if record is None or event.get("_from_structlog"):
        return event
    sentence = event.pop("event", "")
    arguments = event.pop("positional_args", ())
    if record.name == "uvicorn.access" and isinstance(arguments, tuple) and len(arguments) == 5:
        client, method, path, version, status = arguments
        return {
            **event,
            "event": "http.request",
            "method": method,
            "path": path,
            "status": status,
            "client": client,
            "http": version,
        }
    return {**event, "event": "library.log", "library": record.name, "message": sentence}


class RedactSecrets:
    """Replaces secret values and credential shapes anywhere in the event, traceback included."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def __call__(self, _logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        redacted: dict[str, Any] = self.redactor.value(dict(event))
        return redacted


def event_first(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The event name leads the line: the file reads `{"event":"task.finished",...}`."""
    return {"event": event.pop("event", ""), **event}


def render_json(event: Any, **_: Any) -> str:
    """JSONRenderer's serializer: msgspec, or the standard library for what msgspec refuses."""
    try:
        return to_text(event)
    except (UnicodeEncodeError, TypeError, ValueError):
        # A lone surrogate from a hostile lead id, say: the standard library escapes it.
        return json.dumps(event, default=str)


def plain_values(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Values a console can print: containers as compact JSON, unencodable text escaped.

    The renderers would otherwise print a dict as Python's repr, and a lone surrogate (from a
    hostile lead id) would make the stream's UTF-8 encoder fail the whole line.
    """
    return {key: _plain(value) for key, value in event.items()}


# Control characters but tab and line feed (which logfmt quoting escapes itself): an ANSI or
# OSC escape in a lead's id must not recolour the terminal or forge a line of the journal.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        value = render_json(value)
    if isinstance(value, str):
        if not value.isascii():
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", value)
    return value


def quoted(value: object) -> str:
    """A terminal's field value as logfmt writes it: bare if one word, else in double quotes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text and not any(c in text for c in ' "=\\\t\r\n'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


Render = Callable[[WrappedLogger, str, EventDict], str]


class SyslogPriority:
    """Puts `<N>` before each line `render` makes, N the syslog priority of the event's level."""

    def __init__(self, render: Render) -> None:
        self.render = render

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> str:
        priority = PRIORITIES.get(str(event.get("level")), 6)
        return f"<{priority}>{self.render(logger, method, event)}"
