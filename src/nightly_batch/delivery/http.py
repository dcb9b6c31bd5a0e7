"""One POST with the retry policy every HTTP channel shares.

- 429: wait what the service asked (Retry-After in seconds or as an HTTP date, or a JSON
  `retry_after`), capped; a longer wait is left to a later heartbeat.
- Connect errors and 5xx: exponential back-off with full jitter, a few attempts (the shared
  policy of core.retrying).
- No answer after the request was sent: ambiguous. Slack and Discord have no idempotency key,
  so such a message is not resent (it may have been posted); e-mail is resent once with the
  same message id, which lets the receiving side drop the copy.
- 400/413/422: the payload is wrong; 401/403/404/410: the channel is wrong. Neither is retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState

from nightly_batch import __version__
from nightly_batch.core.names import DeliveryStatus
from nightly_batch.core.retrying import Backoff, call_with_retries, outcome_of
from nightly_batch.delivery.channel import Delivery
from nightly_batch.observability.events import get_logger
from nightly_batch.observability.redact import Redactor

USER_AGENT = f"nightly-batch/{__version__}"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
ERROR_BODY_CHARACTERS = 200

Classifier = Callable[[httpx.Response], Delivery]
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    longest_rate_limit_wait: float = 60.0
    resend_ambiguous_once: bool = False


def make_client() -> httpx.Client:
    # follow_redirects=False: a redirect would carry the secret URL's request elsewhere.
    # No keep-alive: a server that closed an idle connection would make the retry after a 429
    # fail on the reused socket, which would look ambiguous; a handful of posts a day can
    # afford a fresh connection each.
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    """The wait a 429 asks for, from the JSON body or the Retry-After header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(float(body["retry_after"]), 0.0)
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)


def json_field(response: httpx.Response, key: str) -> str | None:
    """A field of a JSON object answer (a provider's message id), or None."""
    try:
        value = response.json().get(key)
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def error_text(response: httpx.Response, redactor: Redactor) -> str:
    """'HTTP 404: <the start of the body>', redacted; never the request URL."""
    body = " ".join(response.text.split())[:ERROR_BODY_CHARACTERS]
    return redactor.text(
        f"HTTP {response.status_code}: {body}" if body else f"HTTP {response.status_code}"
    )


def classify_status(
    response: httpx.Response, redactor: Redactor, now: datetime, provider_id: str | None = None
) -> Delivery:
    """The common meaning of an HTTP status; channels refine it where their service differs."""
    status = response.status_code
    if 200 <= status < 300:
        return Delivery(DeliveryStatus.DELIVERED, provider_id=provider_id)
    error = error_text(response, redactor)
    if status == 429:
        return Delivery(
            DeliveryStatus.RATE_LIMITED, error=error, retry_after=retry_after(response, now)
        )
    if status >= 500:
        return Delivery(DeliveryStatus.TRANSIENT, error=error)
    if status in (400, 413, 422):
        return Delivery(DeliveryStatus.PAYLOAD, error=error)
    if 300 <= status < 400:
        return Delivery(DeliveryStatus.CONFIGURATION, error=f"{error} (a redirect, not followed)")
    return Delivery(DeliveryStatus.CONFIGURATION, error=error)


class HttpPoster:
    """POSTs for one channel, with the shared retry policy and a stop-aware pause."""

    def __init__(
        self,
        channel: str,
        client: httpx.Client,
        pause: Callable[[float], object],
        policy: RetryPolicy | None = None,
    ) -> None:
        self.channel = channel
        self.client = client
        self.pause = pause
        self.policy = policy or RetryPolicy()

    def post(self, url: str, classify: Classifier, **request: Any) -> Delivery:
        policy = self.policy
        attempts = iter(range(1, policy.attempts + 1))
        ambiguous_resent = False

        def attempt() -> Delivery:
            number = next(attempts)
            started = time.monotonic()
            result, http_status = self._attempt(url, classify, request)
            log.info(
                "delivery.attempt",
                channel=self.channel,
                attempt=number,
                status=result.status,
                http_status=http_status,
                elapsed_s=round(time.monotonic() - started, 3),
                error=result.error,
            )
            return result

        def again(state: RetryCallState) -> bool:
            nonlocal ambiguous_resent
            result: Delivery = _outcome(state)
            if result.status in ("delivered", "payload", "configuration"):
                return False
            if result.status == DeliveryStatus.AMBIGUOUS:
                if not policy.resend_ambiguous_once or ambiguous_resent:
                    return False
                ambiguous_resent = True
            # A long rate-limit wait is left to a later heartbeat.
            return not (
                result.status == DeliveryStatus.RATE_LIMITED
                and result.retry_after is not None
                and result.retry_after > policy.longest_rate_limit_wait
            )

        backoff = Backoff(policy.backoff_base, policy.backoff_cap).jittered()

        def wait(state: RetryCallState) -> float:
            result: Delivery = _outcome(state)
            if result.status == DeliveryStatus.RATE_LIMITED and result.retry_after is not None:
                return result.retry_after + random.uniform(0, 0.25)  # noqa: S311
            return backoff(state)

        return call_with_retries(
            attempt, attempts=policy.attempts, again=again, wait=wait, pause=self.pause
        )

    def _attempt(
        self, url: str, classify: Classifier, request: dict[str, Any]
    ) -> tuple[Delivery, int | None]:
        try:
            response = self.client.post(url, **request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # Nothing reached the service: safe to send again.
            return Delivery(
                DeliveryStatus.TRANSIENT, error=f"could not connect ({type(error).__name__})"
            ), None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            return (
                Delivery(
                    DeliveryStatus.AMBIGUOUS,
                    error=f"no answer after sending ({type(error).__name__})",
                ),
                None,
            )
        except httpx.HTTPError as error:
            return Delivery(DeliveryStatus.TRANSIENT, error=type(error).__name__), None
        return classify(response), response.status_code


def _outcome(state: RetryCallState) -> Delivery:
    result: Delivery = outcome_of(state).result()  # an attempt returns; it never raises
    return result
