"""Delivery channels behind one contract: `send(message) -> Delivery`.

This holds the contract and the log channel; `delivery.factory` builds every channel by the
registry entry of its name (core/channels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from nightly_batch.core.names import DeliveryStatus
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.message import DigestMessage

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


class LogChannel:
    """Writes the whole digest, every lead, as structured log events."""

    name = "log"

    def send(self, message: DigestMessage) -> Delivery:
        log.info(
            "digest.notification",
            title=message.title,
            summary=message.summary,
            digest=message.digest_file,
            batch_id=message.batch_id,
            leads=len(message.leads),
            url=message.url,
        )
        for rank, lead in enumerate(message.leads, start=1):
            log.info(
                "digest.lead",
                rank=rank,
                lead=lead.id,
                title=lead.title,
                subreddit=lead.subreddit,
                confidence=lead.confidence,
                link=lead.link,
            )
        return Delivery(DeliveryStatus.DELIVERED, provider_id=f"log:{message.batch_id}")

    def notify(self, text: str) -> Delivery:
        log.warning("notice", text=text)
        return Delivery(DeliveryStatus.DELIVERED, provider_id="log")


def build_log(_context: object, _spec: object, _retries: bool) -> LogChannel:
    """The log channel needs nothing: it is the default, so a fresh install works."""
    return LogChannel()
