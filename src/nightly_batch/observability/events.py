"""Structured events with structlog: `log = get_logger(__name__)`, `log.info("task.finished", task=...)`.

An event is a short dotted name and keyword fields. structlog builds the event dict (bound
fields, the call's fields, context variables, level, timestamp) and hands it to the standard
library's logging, where `setup.configure_logging`'s handlers redact and render it. Records from
libraries (httpx, uvicorn, apscheduler) reach the same handlers, so every line of every output
goes through the same processors.

The routing below does not depend on configure_logging's arguments, so it is set once, when
this module is first imported. Before configure_logging (or in a test that never calls it) an
event is a standard-library record without handlers: warnings and up reach logging's last
resort, stderr, as the raw event dict.

structlog's import loads asyncio and ssl (structlog._native and structlog.stdlib import asyncio
for their async methods); tests/test_imports.py records which commands pay for that.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import structlog
from structlog.stdlib import BoundLogger

from nightly_batch.observability.processors import SHARED_PROCESSORS

# What a module's `log` is; functions that take a bound logger annotate with it.
EventLogger = BoundLogger

structlog.configure(
    processors=[
        # First, so a debug event below the level costs no further work.
        structlog.stdlib.filter_by_level,
        *SHARED_PROCESSORS,
        # Hands the event dict to logging; ProcessorFormatter renders it per handler.
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=BoundLogger,
    # Modules take their logger at import time; uncached, each event reads the configuration
    # of the moment, which is what lets structlog.testing.capture_logs see them.
    cache_logger_on_first_use=False,
)


def get_logger(name: str) -> EventLogger:
    return structlog.stdlib.get_logger(name)


def run_context(**fields: Any) -> AbstractContextManager[None]:
    """Adds `fields` to every event logged in this thread inside the block, libraries' too."""
    return structlog.contextvars.bound_contextvars(**fields)
