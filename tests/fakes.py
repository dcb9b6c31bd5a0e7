"""Real, small implementations that tests use instead of mocks."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx

from nightly_batch.core.channels import ChannelSpec
from nightly_batch.core.names import DeliveryStatus
from nightly_batch.delivery.building import BuildContext, allowed_url, poster
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.http import HttpPoster
from nightly_batch.errors import ConfigError
from nightly_batch.rules.message import DigestMessage
from nightly_batch.tasks.result import TaskResult

# The instant the tests were written against: their dates read as if the fake clock started here.
REFERENCE_EPOCH = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)


def _test_epoch() -> datetime:
    """The instant every fake clock starts at: `NIGHTLY_BATCH_TEST_EPOCH` (ISO 8601), or the reference.

    CI runs the suite with it years in the past and years in the future, so a test that lets
    the real clock meet data made on the fake one fails on the day it is written, not a year
    later. It moves by whole years only: 28 November at 23:00 UTC, the batch's slot the tests
    start in, in the season whose daylight-saving rules the zone tests rely on (CET in Berlin).
    """
    text = os.environ.get("NIGHTLY_BATCH_TEST_EPOCH")
    if not text:
        return REFERENCE_EPOCH
    moment = datetime.fromisoformat(text)
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if moment != REFERENCE_EPOCH.replace(year=moment.year):
        raise ValueError(f"NIGHTLY_BATCH_TEST_EPOCH={text} must be YYYY-11-28T23:00:00Z")
    return moment


EPOCH = _test_epoch()
_SHIFT = EPOCH.date() - REFERENCE_EPOCH.date()
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})")


def dated(text: str) -> str:
    """`text` with every YYYY-MM-DD in it moved from the reference epoch's timeline to EPOCH's.

    Tests write their dates as they read on the reference timeline ("the morning after" is
    2026-11-29T06:00) and wrap them in dated(); under another epoch they move along.
    """

    def move(found: re.Match[str]) -> str:
        year, month, day_of_month = (int(part) for part in found.groups())
        return (date(year, month, day_of_month) + _SHIFT).isoformat()

    return _DATE.sub(move, text)


def day(offset_days: int = 0) -> str:
    """The UTC business date `offset_days` after the epoch's, as YYYY-MM-DD."""
    return (EPOCH + timedelta(days=offset_days)).date().isoformat()


class FakeClock:
    """A clock that moves only when told to; it starts at EPOCH unless given a start."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or EPOCH
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
    status: str = "delivered"  # a DeliveryStatus value (a misspelt one fails the test)
    error: str | None = None
    sent: list[DigestMessage] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def send(self, message: DigestMessage) -> Delivery:
        self.sent.append(message)
        if self.status == DeliveryStatus.DELIVERED:
            return Delivery(DeliveryStatus.DELIVERED, provider_id=f"{self.name}-{len(self.sent)}")
        return Delivery(DeliveryStatus(self.status), error=self.error)

    def notify(self, text: str) -> Delivery:
        self.notices.append(text)
        return Delivery(DeliveryStatus(self.status), error=self.error)


def at(text: str) -> datetime:
    """An aware UTC datetime from an ISO string (a Z suffix or an offset allowed)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def message(
    count: int = 2, *, title: str = "Question {i}?", url: str | None = None, notes: bool = False
) -> DigestMessage:
    """A digest message with `count` leads, as send-digest would build it; with `notes`, each
    lead has an age and cross-posts, and the message its near misses, precision and footer."""
    from nightly_batch.rules.message import Lead  # noqa: PLC0415

    leads = tuple(
        Lead(
            id=f"t3_{i}",
            title=title.format(i=i),
            link=f"https://www.reddit.com/r/selfhosted/comments/{i}/",
            subreddit="selfhosted",
            confidence=0.9 - i / 10_000,
            age="9 h ago" if notes else None,
            also_in=tuple(f"homelab_{n}" for n in range(7)) if notes and i % 3 == 0 else (),
        )
        for i in range(count)
    )
    near = tuple(
        Lead(
            id=f"t3_n{i}",
            title=title.format(i=i),
            link=f"https://www.reddit.com/r/homelab/comments/n{i}/",
            subreddit="homelab",
            confidence=0.73 - i / 100,
            threshold=0.75,
        )
        for i in range(10 if notes else 0)
    )
    return DigestMessage(
        near_misses=near,
        near_miss_count=len(near),
        precision=(
            "62 % of the last 30 days' selections were drafted, n=140; suggested threshold 0.8 "
            "(not applied)."
            if notes
            else None
        ),
        left_out=(
            "Left out: 81,200 below the threshold, 3 invalid, 40 already drafted, 5 duplicates, "
            "2 stale."
            if notes
            else None
        ),
        title=f"🚀 {count} Reddit Leads Ready for Review",
        summary=f"The nightly sweep holds 140 leads; {count} scored above 0.75 and are ready for drafting (1 new tonight).",
        leads=leads,
        digest_file=f"digest-{day()}.json",
        digest_date=day(),
        batch_id="b-1",
        url=url,
    )


class Pauses:
    """Records the waits a channel asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fake_task(_app: object, _info: object) -> TaskResult:
    """The handler of a task a test registers in the task registry."""
    return TaskResult("fake task done")


@dataclass
class PagerChannel:
    """A channel a test registers in the channel registry: posts the title to PAGER_URL."""

    poster: HttpPoster
    url: str
    name: str = "pager"

    def send(self, message: DigestMessage) -> Delivery:
        return self.notify(message.title)

    def notify(self, text: str) -> Delivery:
        def classify(response: httpx.Response) -> Delivery:
            if response.is_success:
                return Delivery(DeliveryStatus.DELIVERED, provider_id="pager")
            return Delivery(DeliveryStatus.CONFIGURATION, error=f"HTTP {response.status_code}")

        return self.poster.post(self.url, classify, json={"text": text})


def build_pager(context: BuildContext, spec: ChannelSpec, retries: bool) -> PagerChannel:
    """The pager's factory, named by its registry entry: the variable and the host rules."""
    url = context.environment.get("PAGER_URL")
    if not url:
        raise ConfigError("the pager channel needs PAGER_URL.")
    checked = allowed_url(context, spec, "webhook", "PAGER_URL", url)
    return PagerChannel(poster(context, spec.name, retries), checked)
