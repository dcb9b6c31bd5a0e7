"""The task registry: one entry per task, the only place a task's facts are written.

An entry is data (the handler is named, not imported), so `status`, `schedule` and the
configuration can read it without loading any task's code; tasks/runner.py imports a handler
only when its task runs. Adding a task: its module under tasks/ and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from nightly_batch.core.names import TaskName
from nightly_batch.core.registry import Registry


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What the daemon, the runner and the commands need to know about one task."""

    name: str
    # "module:function", called with (app, run info) and returning a TaskResult.
    handler: str
    # Whether a run leaves a taskHistory entry in the shared state.
    writes_history: bool
    # The config attribute holding its daily cron line; None for the interval heartbeat.
    schedule_key: str | None
    # Minutes a run may take before it counts as hung (maxRuntimeMinutes overrides it).
    max_runtime_minutes: float = 60.0


REGISTRY: Registry[TaskSpec] = Registry()
register = REGISTRY.register
unregister = REGISTRY.unregister


spec_of = REGISTRY.get


def task_names() -> tuple[str, ...]:
    """Every registered task, in registry order: what status, the dashboard and metrics list."""
    return REGISTRY.names()


def daily_tasks() -> list[TaskSpec]:
    """The tasks the daemon schedules by a cron line, in registry order."""
    return [spec for spec in REGISTRY.values() if spec.schedule_key is not None]


register(
    TaskSpec(
        TaskName.NIGHTLY_BATCH,
        "nightly_batch.tasks.nightly:run_nightly_batch",
        writes_history=True,
        schedule_key="nightly_batch_schedule",
        max_runtime_minutes=60.0,
    )
)
register(
    TaskSpec(
        TaskName.SEND_DIGEST,
        "nightly_batch.tasks.send_digest:run_send_digest",
        writes_history=True,
        schedule_key="morning_notification_schedule",
        max_runtime_minutes=15.0,
    )
)
register(
    TaskSpec(
        TaskName.HEARTBEAT,
        "nightly_batch.tasks.heartbeat:run_heartbeat",
        writes_history=False,
        schedule_key=None,
        max_runtime_minutes=5.0,
    )
)
