"""Config checks that need more than a type and a range: time zones, cron lines, channel lists.

They run in Config.__post_init__ and raise ValueError with the words an operator reads after
the key and the value ("is not a known IANA time zone ..."). Paths reach msgspec as strings
and become `Path`s through `decode_hook`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ChannelName = Literal["slack", "discord", "email", "log"]


def check_zone(value: str) -> None:
    """An IANA time zone name that zoneinfo can load."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "is not a known IANA time zone (for example 'UTC' or 'Europe/Berlin')"
        ) from None


def check_cron(value: str) -> None:
    """A five-field cron line (minute hour day month weekday) that cronsim accepts."""
    if len(value.split()) != 5:
        raise ValueError("is not a cron expression of five fields (minute hour day month weekday)")
    from cronsim import CronSim, CronSimError  # noqa: PLC0415  (only needed to validate)

    try:
        CronSim(value, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ValueError(f"is not a valid cron expression ({str(error).lower()})") from None


def check_channels(names: list[str]) -> None:
    """At least one channel, none twice (msgspec has checked each name)."""
    if not names:
        raise ValueError("must name at least one channel: slack, discord, email or log")
    if len(set(names)) != len(names):
        raise ValueError("names a channel twice")


def one_or_many(value: Any) -> Any:
    """A single channel name may be written without the list around it."""
    return [value] if isinstance(value, str) else value


def decode_hook(kind: type, value: Any) -> Any:
    """msgspec's dec_hook: a path from its string."""
    if kind is Path:
        if not isinstance(value, str) or not value or "\0" in value:
            raise TypeError("must be a path (a non-empty string)")
        return Path(value)
    raise NotImplementedError(f"no decoder for {kind!r}")


def encode_hook(value: Any) -> Any:
    """msgspec's enc_hook, for showing a config: paths as strings."""
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError(f"cannot show {type(value).__name__}")
