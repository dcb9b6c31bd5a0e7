"""The one runner every task run goes through, scheduled or by hand.

It records start and end in the runtime store, retries a failure that may pass (a busy lock, an
I/O hiccup) with bounded exponential back-off, writes the `taskHistory` entry, and logs one
`task.finished` event with the duration and result.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.locks import FileLock
from nightly_batch.core.names import RunResult
from nightly_batch.core.retrying import Backoff, call_with_retries, outcome_of
from nightly_batch.core.tasks import REGISTRY, spec_of
from nightly_batch.errors import BusyError, ConfigError, NightlyBatchError, StateError
from nightly_batch.observability.events import EventLogger, get_logger, run_context
from nightly_batch.rules.history import append_history
from nightly_batch.runtime.app import App
from nightly_batch.tasks.result import RunInfo, TaskResult

Handler = Callable[[App, RunInfo], TaskResult]

log = get_logger(__name__)
# The longest pause between two attempts of a failed task, whatever retryBackoffMs doubles to.
RETRY_LONGEST_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one run ended; `exit_code` follows the CLI contract (0 ok, 1 failed, 2 config)."""

    run_id: str
    task: str
    ok: bool
    message: str
    duration_s: float
    exit_code: int


def handler_for(task: str) -> Handler:
    """The handler the task registry names for `task`, imported only when that task runs."""
    spec = spec_of(task)
    if spec is None:
        raise ConfigError(f"'{task}' is not a task: use one of {', '.join(REGISTRY)}.")
    module, _, function = spec.handler.partition(":")
    handler: Handler = getattr(importlib.import_module(module), function)
    return handler


def _writes_history(task: str) -> bool:
    spec = spec_of(task)
    return spec is not None and spec.writes_history


def _retryable(error: Exception) -> bool:
    return isinstance(error, BusyError | OSError)


def run_task(
    app: App,
    task: str,
    trigger: str,
    *,
    info: RunInfo | None = None,
    handler: Handler | None = None,
    lock_wait: float = 0.0,
) -> Outcome:
    """Run `task` once (with in-run retries) and record everything about it.

    A task never runs twice at once, whether the daemon or `run-once` started it: the run holds
    `logsDir/<task>.lock`, waiting up to `lock_wait` seconds for another holder to finish.
    """
    handler = handler or handler_for(task)
    lock = FileLock(app.config.logs_dir / f"{task}.lock")
    if not lock.acquire(lock_wait, record_pid=True):
        message = (
            f"{task} is already running in another process (pid {lock.holder()}); "
            "this run was not started."
        )
        log.warning("task.busy", task=task, trigger=trigger, reason=message)
        return Outcome("", task, ok=False, message=message, duration_s=0.0, exit_code=1)
    try:
        return _run_locked(app, task, trigger, info or RunInfo(trigger), handler)
    finally:
        lock.release()


def _run_locked(app: App, task: str, trigger: str, info: RunInfo, handler: Handler) -> Outcome:
    started = app.clock.monotonic()
    run_id = app.store.start_run(task, trigger, iso_utc(app.clock.now()), os.getpid(), info.slot)
    bound = log.bind(task=task, run_id=run_id, trigger=trigger)
    if info.slot:
        bound = bound.bind(slot=info.slot)
    bound.info("task.started")
    if app.pinger is not None:
        app.pinger.started(run_id)
    # Every event of the run, whichever module or library logs it, carries the run's id.
    with run_context(task=task, run_id=run_id):
        result, error = _attempts(app, handler, info, bound)
    if result is not None:
        message = app.redactor.text(result.message)
        if _writes_history(task) and not result.history_written:
            try:
                _write_history(app, task, ok=True, message=message, updates=result.state_updates)
            except NightlyBatchError as failure:
                error = failure
                message = f"{message}, but the state file was not updated: {failure}"
    else:
        message = app.redactor.text(_describe(error))
        # A state that is itself at fault is never written to, not even to log the failure.
        if _writes_history(task) and not isinstance(error, StateError):
            _try_history(app, task, message)
    duration = app.clock.monotonic() - started
    ok = error is None
    app.store.finish_run(
        run_id,
        ended_at=iso_utc(app.clock.now()),
        duration_s=round(duration, 6),
        result=RunResult.OK if ok else RunResult.ERROR,
        message=message,
        error=None if ok else message,
        details=result.details if result is not None else {},
    )
    if ok:
        bound.info("task.finished", result="ok", duration_s=round(duration, 3), message=message)
    else:
        _log_failure(bound, error, duration, message)
    if app.pinger is not None:
        app.pinger.finished(run_id, ok=ok)
    if app.alerts is not None:
        app.alerts.observe_run(task, ok=ok, message=message, run_id=run_id)
    exit_code = 0 if ok else (2 if isinstance(error, ConfigError | StateError) else 1)
    return Outcome(run_id, task, ok, message, duration, exit_code)


def _attempts(
    app: App, handler: Handler, info: RunInfo, bound: EventLogger
) -> tuple[TaskResult | None, Exception | None]:
    """Run the handler, retrying the failures worth retrying with the shared back-off."""

    def again(state: RetryCallState) -> bool:
        failure = outcome_of(state).exception()
        return isinstance(failure, Exception) and _retryable(failure) and not app.stop.is_set()

    def announce(state: RetryCallState) -> None:
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        bound.warning(
            "task.retrying",
            attempt=state.attempt_number,
            delay_s=round(delay, 3),
            error=app.redactor.text(_describe(outcome_of(state).exception())),
        )

    base = app.config.retry_backoff_ms / 1000
    try:
        result = call_with_retries(
            lambda: handler(app, info),
            attempts=app.config.retry_max_attempts + 1,
            again=again,
            wait=Backoff(base, cap=max(base, RETRY_LONGEST_SECONDS)).jittered(),
            pause=app.pause,
            before_pause=announce,
        )
    except Exception as failure:  # noqa: BLE001  (every failure is recorded, then reported)
        return None, failure
    return result, None


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "the task returned no result"
    if isinstance(error, NightlyBatchError):
        return str(error)
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def _log_failure(
    bound: EventLogger,
    error: BaseException | None,
    duration: float,
    message: str,
) -> None:
    fields = {"result": "error", "duration_s": round(duration, 3), "error": message}
    if isinstance(error, NightlyBatchError):
        bound.error("task.finished", **fields)
    else:
        # An unexpected exception is a bug: its traceback goes to the log, never to chat.
        bound.error("task.finished", exc_info=error, **fields)


def _write_history(
    app: App, task: str, *, ok: bool, message: str, updates: dict[str, object]
) -> None:
    """Add the run to `taskHistory`, together with the task's state updates, in one write."""
    with app.state.transaction() as transaction:
        state = transaction.read_keys("taskHistory")
        state.update(updates)
        append_history(
            state,
            task=task,
            handled_at=iso_utc(app.clock.now()),
            ok=ok,
            message=message,
            limit=app.config.task_history_limit,
            path=app.config.state_file,
        )
        transaction.write_keys(state)


def _try_history(app: App, task: str, message: str) -> None:
    """Record a failed run in `taskHistory` if the state can be read; never on a corrupt file."""
    try:
        _write_history(app, task, ok=False, message=message, updates={})
    except NightlyBatchError as failure:
        log.warning("history.not_written", task=task, reason=str(failure))
