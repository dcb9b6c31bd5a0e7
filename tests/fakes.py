"""Real, small implementations that tests use instead of mocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from nightly_batch.channels import Delivery
from nightly_batch.message import DigestMessage


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
        self.ticks = 0.0

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, delta: timedelta) -> None:
        self.current += delta
        self.ticks += delta.total_seconds()

    def set(self, moment: datetime) -> None:
        self.ticks += max((moment - self.current).total_seconds(), 0)
        self.current = moment


@dataclass
class RecordingChannel:
    """Keeps every message it is asked to send; answers with a fixed delivery status."""

    name: str
    status: str = "delivered"
    error: str | None = None
    sent: list[DigestMessage] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def send(self, message: DigestMessage) -> Delivery:
        self.sent.append(message)
        if self.status == "delivered":
            return Delivery("delivered", provider_id=f"{self.name}-{len(self.sent)}")
        return Delivery(self.status, error=self.error)

    def notify(self, text: str) -> Delivery:
        self.notices.append(text)
        return Delivery(
            "delivered" if self.status == "delivered" else self.status, error=self.error
        )


def at(text: str) -> datetime:
    """An aware UTC datetime from an ISO string (a Z suffix or an offset allowed)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def message(
    count: int = 2, *, title: str = "Question {i}?", url: str | None = None
) -> DigestMessage:
    """A digest message with `count` leads, as send-digest would build it."""
    from nightly_batch.message import Lead  # noqa: PLC0415

    leads = tuple(
        Lead(
            id=f"t3_{i}",
            title=title.format(i=i),
            link=f"https://www.reddit.com/r/selfhosted/comments/{i}/",
            subreddit="selfhosted",
            confidence=0.9 - i / 10_000,
        )
        for i in range(count)
    )
    return DigestMessage(
        title=f"🚀 {count} Reddit Leads Ready for Review",
        summary=f"The nightly sweep holds 140 leads; {count} scored above 0.75 and are ready for drafting (1 new tonight).",
        leads=leads,
        digest_file="digest-2026-11-28.json",
        digest_date="2026-11-28",
        batch_id="b-1",
        url=url,
    )


class Pauses:
    """Records the waits a channel asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
