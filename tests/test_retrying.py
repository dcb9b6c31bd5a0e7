"""The one retry policy (core/retrying.py): full-jitter waits, the last outcome kept, a pause
that is the caller's, and the runner's retries of a failed task going through it."""

from __future__ import annotations

import pytest
from tenacity import RetryCallState

from conftest import Project
from fakes import Pauses
from nightly_batch.core.retrying import Backoff, call_with_retries, outcome_of
from nightly_batch.errors import BusyError
from nightly_batch.tasks.result import RunInfo, TaskResult
from nightly_batch.tasks.runner import run_task


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base=300, cap=3600)

    assert [backoff.ceiling(n) for n in range(1, 7)] == [300, 600, 1200, 2400, 3600, 3600]
    assert backoff.ceiling(0) == 300


def test_jittered_waits_stay_between_zero_and_the_ceiling() -> None:
    """Full jitter: each wait drawn from [0, min(cap, base * 2^(n-1))]."""
    pauses = Pauses()
    calls = []

    def failing() -> str:
        calls.append(1)
        return "no"

    for _ in range(50):
        call_with_retries(
            failing,
            attempts=4,
            again=lambda state: outcome_of(state).result() == "no",
            wait=Backoff(base=1.0, cap=3.0).jittered(),
            pause=pauses,
        )

    assert len(calls) == 200
    firsts, seconds, thirds = pauses.waits[0::3], pauses.waits[1::3], pauses.waits[2::3]
    assert all(0 <= w <= 1.0 for w in firsts)
    assert all(0 <= w <= 2.0 for w in seconds)
    assert all(0 <= w <= 3.0 for w in thirds)  # capped, not 4
    assert len(set(pauses.waits)) > 100  # drawn at random, not fixed


def test_the_last_result_is_returned_and_the_last_error_raised() -> None:
    results = iter(["a", "b", "c"])
    assert (
        call_with_retries(
            lambda: next(results),
            attempts=3,
            again=lambda _: True,
            wait=lambda _: 0,
            pause=Pauses(),
        )
        == "c"
    )

    errors = iter([ValueError("first"), KeyError("second")])

    def raising() -> str:
        raise next(errors)

    with pytest.raises(KeyError, match="second"):
        call_with_retries(
            raising, attempts=2, again=lambda _: True, wait=lambda _: 0, pause=Pauses()
        )


def test_no_retry_when_the_caller_says_the_outcome_is_final() -> None:
    pauses = Pauses()
    calls = []

    def once() -> str:
        calls.append(1)
        return "delivered"

    def again(state: RetryCallState) -> bool:
        return bool(outcome_of(state).result() != "delivered")

    assert call_with_retries(once, attempts=5, again=again, wait=lambda _: 1, pause=pauses) == (
        "delivered"
    )
    assert calls == [1]
    assert pauses.waits == []


def test_a_failed_task_is_retried_with_jittered_waits_then_reported(project: Project) -> None:
    """retryMaxAttempts 2 and retryBackoffMs 1000: three attempts, waits within 1 s and 2 s."""
    project.write_config(retryMaxAttempts=2, retryBackoffMs=1000)
    waits: list[float] = []
    app = project.app(wait=waits.append)
    attempts = []

    def busy(_app: object, _info: RunInfo) -> TaskResult:
        attempts.append(1)
        raise BusyError("the state is locked by another writer")

    outcome = run_task(app, "send-digest", "manual", handler=busy)

    assert not outcome.ok
    assert len(attempts) == 3
    assert len(waits) == 2
    assert 0 <= waits[0] <= 1.0
    assert 0 <= waits[1] <= 2.0


def test_a_stop_request_ends_the_retries(project: Project) -> None:
    """Once the daemon is asked to stop, a failing task is not tried again."""
    project.write_config(retryMaxAttempts=5, retryBackoffMs=1000)
    app = project.app()
    attempts = []

    def busy_then_stop(_app: object, _info: RunInfo) -> TaskResult:
        attempts.append(1)
        app.stop.set()
        raise BusyError("the state is locked by another writer")

    outcome = run_task(app, "send-digest", "manual", handler=busy_then_stop)

    assert not outcome.ok
    assert attempts == [1]
