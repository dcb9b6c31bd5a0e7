"""The one retry policy: exponential back-off with full jitter, run by tenacity.

Every retry loop of the project goes through here: HTTP channels, SMTP, the runner's retries
of a failed task, and (through `Backoff.ceiling`) the heartbeat's re-deliveries. Full jitter
(a wait drawn from 0 up to base * 2^(n-1), capped) keeps two writers or two daemons that failed
together from retrying together. What counts as worth another attempt stays with each caller
(429, ambiguous and permanent failures are classified by the delivery code, not here); so does
the pause, which wakes when the daemon is asked to stop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import Future, RetryCallState, Retrying, stop_after_attempt, wait_random_exponential

T = TypeVar("T")
Decide = Callable[[RetryCallState], bool]
Wait = Callable[[RetryCallState], float]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits of at most `base` seconds after the first failure, doubling, never over `cap`."""

    base: float
    cap: float

    def ceiling(self, failures: int) -> float:
        """The longest wait after `failures` failed attempts, with no jitter: a not-before time
        for work retried on a later heartbeat rather than in a loop."""
        return min(self.cap, self.base * 2.0 ** max(failures - 1, 0))

    def jittered(self) -> Wait:
        """A random wait from 0 up to the ceiling (AWS's "full jitter")."""
        return wait_random_exponential(multiplier=self.base, max=self.cap)


def call_with_retries(
    call: Callable[[], T],
    *,
    attempts: int,
    again: Decide,
    wait: Wait,
    pause: Callable[[float], object],
    before_pause: Callable[[RetryCallState], None] | None = None,
) -> T:
    """Call `call` until `again` says no or `attempts` are spent.

    Returns the last result, or raises the last exception, exactly as the final attempt ended.
    `again` sees each attempt's outcome; `wait` says how long to pause before the next one.
    """

    def sleep(seconds: float) -> None:
        pause(seconds)

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=again,
        sleep=sleep,
        before_sleep=before_pause,
        retry_error_callback=_last_outcome,
    )
    result: T = retrying(call)
    return result


def outcome_of(state: RetryCallState) -> Future:
    """How the attempt just made ended (tenacity asks `again`, `wait` and the rest only after one)."""
    if state.outcome is None:
        raise RuntimeError("no attempt has been made yet")
    return state.outcome


def _last_outcome(state: RetryCallState) -> object:
    return outcome_of(state).result()  # the last result, or the last exception raised again
