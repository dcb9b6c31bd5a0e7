"""Which tasks are running in this process, so a stop can wait for them with a deadline."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator


class ActiveRuns:
    """A thread-safe count of running tasks."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running: Counter[str] = Counter()

    @contextlib.contextmanager
    def running(self, task: str) -> Iterator[None]:
        with self._changed:
            self._running[task] += 1
        try:
            yield
        finally:
            with self._changed:
                self._running[task] -= 1
                self._running += Counter()  # drop zero counts
                self._changed.notify_all()

    def names(self) -> list[str]:
        with self._changed:
            return sorted(self._running)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing runs; False if something still runs after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True
