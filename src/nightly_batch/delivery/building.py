"""What every channel factory shares: the context it builds from, its poster, its URL check.

A factory is named by the channel's registry entry (core/channels.py) and called as
`build(context, spec, retries)`; it raises ConfigError, naming the variable, for anything it
cannot build from, which is what check-config reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from nightly_batch.core.channels import ChannelSpec
from nightly_batch.core.clock import Clock
from nightly_batch.delivery.urls import check_url
from nightly_batch.observability.redact import Redactor
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment

if TYPE_CHECKING:
    from nightly_batch.delivery.http import HttpPoster

Resource = TypeVar("Resource")


class BuildContext(Protocol):
    """What building a channel needs (the App has it; check-config builds a light one)."""

    config: Config
    environment: Environment
    redactor: Redactor
    clock: Clock

    def pause(self, seconds: float) -> None: ...

    def shared(self, key: str, make: Callable[[], Resource]) -> Resource:
        """One `make()` for the context's lifetime, closed with it."""
        ...


def poster(
    context: BuildContext, name: str, retries: bool, *, resend_ambiguous_once: bool = False
) -> HttpPoster:
    """An HTTP poster with the shared retry policy (one attempt when `retries` is false), on
    the context's one HTTP client, which the App closes when it is done."""
    # Imported here: building the log channel, or only checking names, never loads httpx.
    from nightly_batch.delivery.http import HttpPoster, RetryPolicy, make_client  # noqa: PLC0415

    policy = RetryPolicy(
        attempts=3 if retries else 1, resend_ambiguous_once=resend_ambiguous_once and retries
    )
    return HttpPoster(name, context.shared("http-client", make_client), context.pause, policy)


def allowed_url(
    context: BuildContext, spec: ChannelSpec, purpose: str, variable: str, url: str
) -> str:
    """`url` if it may carry the channel's secret: on the hosts its entry lists for `purpose`."""
    return check_url(
        variable, url, spec.hosts.get(purpose, ()), tuple(context.config.allowed_webhook_hosts)
    )
