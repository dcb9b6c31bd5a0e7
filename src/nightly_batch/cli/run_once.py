"""`run-once TASK`: one task now through the daemon's own runner, and its one-line outcome."""

from __future__ import annotations

import signal
import sys

from nightly_batch.alerts.wiring import flush
from nightly_batch.core.names import TaskName
from nightly_batch.errors import ConfigError, SignalledError
from nightly_batch.runtime.app import App
from nightly_batch.tasks.result import RunInfo
from nightly_batch.tasks.runner import Outcome, run_task


def run_once(app: App, task: str, info: RunInfo) -> int:
    """Run one task now; SIGTERM stops it as a recorded failure and exits 143."""
    refuse_beside_the_leader(app, task)

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


def refuse_beside_the_leader(app: App, task: str) -> None:
    """On two hosts, a task runs where the daemons would run it: the batch on its host
    (`batchNode`), everything else on the leader's. The task locks are one host's files, so a
    run on the other host could send or write beside the daemon's own."""
    store = app.store
    if not store.shared_by_hosts:
        return
    node, batch_node = app.environment.node, app.config.batch_node
    if task == TaskName.NIGHTLY_BATCH and batch_node is not None:
        if node != batch_node:
            raise ConfigError(
                f"the nightly batch runs on {batch_node} (batchNode), where the state file is: "
                "run it there."
            )
        return
    view = store.lease_view()
    if view is not None and view.expires_in_s > 0 and view.holder != node:
        raise ConfigError(
            f"{view.holder} leads the hosts that share this store: run {task} there (a run "
            f"here, on {node}, could send or write beside the leader's own)."
        )


def _print_outcome(outcome: Outcome) -> None:
    if outcome.ok:
        print(f"{outcome.task}: ok in {outcome.duration_s:.2f} s: {outcome.message}")
    else:
        print(
            f"{outcome.task}: failed after {outcome.duration_s:.2f} s: {outcome.message}",
            file=sys.stderr,
        )
