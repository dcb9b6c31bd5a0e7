"""Delivery channels behind one contract: `send(message) -> Delivery`.

This holds the contract and the log channel; `delivery.factory` builds every channel by the
registry entry of its name (core/channels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from nightly_batch.core.names import DeliveryStatus
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.message import DigestMessage

if TYPE_CHECKING:
    from nightly_batch.delivery.building import BuildContext

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one send: `status` is delivered, or why it was not."""

    status: DeliveryStatus
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the service asked us to wait (rate-limited)

    @property
    def delivered(self) -> bool:
        return self.status == DeliveryStatus.DELIVERED


class Channel(Protocol):
    """Sends a digest message somewhere; never raises for a delivery failure."""

    name: str

    def send(self, message: DigestMessage) -> Delivery: ...

    def notify(self, text: str) -> Delivery:
        """A short plain message (a test, or a notice that another channel failed)."""
        ...


@runtime_checkable
class TakesAlerts(Protocol):
    """A channel that takes alert notifications as data, not only as text (the webhook)."""

    def notify_alerts(self, text: str, alerts: list[dict[str, Any]]) -> Delivery: ...


# The leads the log channel writes one event each: the top of the digest, not all of it (a
# million-lead night would write a quarter of a million lines); the file has the rest.
LOG_LEADS_MAX = 10


class LogChannel:
    """Writes the digest's summary, its top leads and where the whole digest is to the log."""

    name = "log"

    def __init__(self, digests: Path | None = None) -> None:
        self.digests = digests

    def send(self, message: DigestMessage) -> Delivery:
        where = self.digests / message.digest_file if self.digests else Path(message.digest_file)
        log.info(
            "digest.notification",
            title=message.title,
            summary=message.summary,
            digest=str(where),
            batch_id=message.batch_id,
            leads=message.total,
            url=message.url,
            near_misses=message.near_miss_count,
            precision=message.precision,
            left_out=message.left_out,
        )
        for rank, lead in enumerate(message.leads[:LOG_LEADS_MAX], start=1):
            log.info(
                "digest.lead",
                rank=rank,
                lead=lead.id,
                title=lead.title,
                subreddit=lead.subreddit,
                confidence=lead.confidence,
                link=lead.link,
                age=lead.age,
                also_in=list(lead.also_in) or None,
            )
        return Delivery(DeliveryStatus.DELIVERED, provider_id=f"log:{message.batch_id}")

    def notify(self, text: str) -> Delivery:
        log.warning("notice", text=text)
        return Delivery(DeliveryStatus.DELIVERED, provider_id="log")


def build_log(context: BuildContext, _spec: object, _retries: bool) -> LogChannel:
    """The log channel needs no secret: it is the default, so a fresh install works."""
    return LogChannel(context.config.digests)
