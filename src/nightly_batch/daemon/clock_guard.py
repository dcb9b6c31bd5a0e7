"""Notices the wall clock jumping (a suspend, an NTP step, an operator's `date -s`).

APScheduler trusts the wall clock: after a jump back by an hour it would sleep an hour before
the next heartbeat, and systemd's watchdog would kill us meanwhile. A jump is wall time moving
unlike elapsed time. One `check()` is one look, so a test drives it with a fake clock; the
daemon calls it every few seconds on a thread of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from nightly_batch.core.clock import Clock

JUMP_SECONDS = 30.0


class ClockGuard:
    """Compares wall time with elapsed time; calls `on_jump(seconds)` when they part."""

    def __init__(self, clock: Clock, on_jump: Callable[[float], None]) -> None:
        self.clock = clock
        self.on_jump = on_jump
        self.baseline = self._offset()

    def _offset(self) -> float:
        return self.clock.now().timestamp() - self.clock.monotonic()

    def check(self) -> float | None:
        """The jump in seconds since the last one noticed (after calling `on_jump`), or None."""
        offset = self._offset()
        jump = offset - self.baseline
        if abs(jump) <= JUMP_SECONDS:
            return None
        self.baseline = offset
        self.on_jump(jump)
        return jump
