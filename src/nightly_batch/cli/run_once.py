"""`run-once TASK`: one task now through the daemon's own runner, and its one-line outcome."""

from __future__ import annotations

import signal
import sys

from nightly_batch.alerts.wiring import flush
from nightly_batch.errors import SignalledError
from nightly_batch.runtime.app import App
from nightly_batch.tasks.result import RunInfo
from nightly_batch.tasks.runner import Outcome, run_task


def run_once(app: App, task: str, info: RunInfo) -> int:
    """Run one task now; SIGTERM stops it as a recorded failure and exits 143."""

    signalled: list[int] = []

    def interrupted(signum: int, _frame: object) -> None:
        # Raised where the run stands: the runner records it and every lock is let go; the
        # state and the digest are written atomically, so a half-done write leaves no trace.
        # (Not app.stop: the alert sender still has to send the failure before we exit.)
        signalled.append(signum)
        raise SignalledError(f"interrupted by {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupted)
    try:
        outcome = run_task(app, task, info.trigger, info=info)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_outcome(outcome)
    flush(app)
    if signalled and not outcome.ok:
        return 128 + signalled[0]
    return int(outcome.exit_code)


def _print_outcome(outcome: Outcome) -> None:
    if outcome.ok:
        print(f"{outcome.task}: ok in {outcome.duration_s:.2f} s: {outcome.message}")
    else:
        print(
            f"{outcome.task}: failed after {outcome.duration_s:.2f} s: {outcome.message}",
            file=sys.stderr,
        )
