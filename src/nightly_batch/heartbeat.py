"""The heartbeat task: prove liveness and keep the runtime store small.

It never reads or rewrites the shared state, so its cost does not grow with the queue.
"""

from __future__ import annotations

import os
from datetime import timedelta

from nightly_batch.app import App
from nightly_batch.clock import iso_utc
from nightly_batch.task_result import RunInfo, TaskResult

TASK = "heartbeat"
HEARTBEAT_RETENTION = timedelta(days=7)
RUN_RETENTION = timedelta(days=400)


def run_heartbeat(app: App, _run: RunInfo) -> TaskResult:
    """Record a heartbeat and prune old records."""
    now = app.clock.now()
    app.store.record_heartbeat(iso_utc(now), os.getpid())
    pruned = app.store.prune(
        heartbeats_before=iso_utc(now - HEARTBEAT_RETENTION),
        runs_before=iso_utc(now - RUN_RETENTION),
    )
    return TaskResult("heartbeat ok", {"pruned": pruned})
