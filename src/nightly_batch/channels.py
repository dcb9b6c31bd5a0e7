"""Delivery channels behind one contract: `send(message) -> Delivery`.

This holds the contract, the registry and the log channel; the HTTP and e-mail channels join
the registry when they are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from nightly_batch.app import App
from nightly_batch.errors import ConfigError
from nightly_batch.message import DigestMessage

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one send: `status` is delivered, or why it was not."""

    status: str  # delivered | rate-limited | transient | ambiguous | configuration | payload
    provider_id: str | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == "delivered"


class Channel(Protocol):
    """Sends a digest message somewhere; never raises for a delivery failure."""

    name: str

    def send(self, message: DigestMessage) -> Delivery: ...


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
        return Delivery("delivered", provider_id=f"log:{message.batch_id}")


CHANNELS: dict[str, Callable[[App], Channel]] = {"log": lambda _app: LogChannel()}


def build_channel(name: str, app: App) -> Channel:
    """The channel registered under `name`, configured from the app."""
    try:
        factory = CHANNELS[name]
    except KeyError:
        raise ConfigError(
            f"digestNotificationChannel '{name}' is not available yet in this version; "
            f"use one of: {', '.join(sorted(CHANNELS))}."
        ) from None
    return factory(app)
