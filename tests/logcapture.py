"""Events as the code logged them, before rendering: what a test asserts about the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nightly_batch.observability.events import FIELDS


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, FIELDS, None)
        if fields is not None:  # our events, not the libraries' records
            level = record.levelname.lower()
            self.entries.append({"event": record.getMessage(), **fields, "log_level": level})


@contextmanager
def capture_logs() -> Iterator[list[dict[str, Any]]]:
    """Every event logged inside the block, at any level: {"event", fields..., "log_level"}."""
    root = logging.getLogger()
    collect = _Collect()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        yield collect.entries
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
