"""The value types of the config file that need more than pydantic's own types and ranges.

Time zones, cron lines, channel lists and paths are checked here. A refusal of ours is a
PydanticCustomError of type `config_check` whose context holds, under `reason`, the words an
operator reads after the key and the value ("is not a known IANA time zone ..."); messages.py
builds the sentence from that context, never from the rendered message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from nightly_batch.core.channels import channel_names

OWN_CHECK = "config_check"
# A value outside a set of choices that only the registries know (the sentence lists them).
NOT_A_CHOICE = "not_a_choice"


def refusal(reason: str) -> PydanticCustomError:
    """A refusal whose `reason` completes "<key> = <value> ..." ("is not ...", "must ...")."""
    return PydanticCustomError(OWN_CHECK, "{reason}", {"reason": reason})


def check_zone(value: str) -> str:
    """An IANA time zone name that zoneinfo can load."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise refusal(
            'is not a known IANA time zone (for example "UTC" or "Europe/Berlin")'
        ) from None
    return value


def check_cron(value: str) -> str:
    """A five-field cron line (minute hour day month weekday) that cronsim accepts."""
    if len(value.split()) != 5:
        raise refusal("is not a cron expression of five fields (minute hour day month weekday)")
    from cronsim import CronSim, CronSimError  # noqa: PLC0415  (only needed to validate)

    try:
        CronSim(value, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise refusal(f"is not a valid cron expression ({str(error).lower()})") from None
    return value


def check_channel(name: str) -> str:
    """A channel of the registry (core/channels.py), so a registered one is accepted too."""
    if name not in channel_names():
        raise PydanticCustomError(NOT_A_CHOICE, "not a registered channel")
    return name


def check_channels(names: list[str]) -> list[str]:
    """At least one channel, none twice (each name has been checked on its own)."""
    if not names:
        raise refusal(f"must name at least one channel: {either(list(channel_names()), 'or')}")
    if len(set(names)) != len(names):
        raise refusal("names a channel twice")
    return names


def either(words: list[str], conjunction: str) -> str:
    """ "a", "a or b", "a, b or c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


@dataclass(frozen=True)
class Choices:
    """Marks a string field whose allowed values a registry holds; read when a sentence is built."""

    values: Callable[[], tuple[str, ...]]


@dataclass(frozen=True)
class Described:
    """What a checked type allows, in words, where its base type would say too little ("a string")."""

    one: str
    several: str


class OneOrMany:
    """Marks a list field whose single item may be written without the list around it."""

    @staticmethod
    def wrap(value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def check_path(value: Any) -> Any:
    """A non-empty string without NUL: pydantic's Path would take "" as the current directory."""
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value or "\0" in value:
        raise PydanticCustomError("path_type", "Input is not a path")
    return value


def refuse_booleans(value: Any) -> Any:
    """`true` where a number belongs is a mistake, although lax mode would read it as 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "A boolean is not a number")
    return value


ZoneName = Annotated[
    str,
    AfterValidator(check_zone),
    Described("an IANA time zone name", "IANA time zone names"),
]
CronLine = Annotated[
    str,
    AfterValidator(check_cron),
    Described("a five-field cron expression", "five-field cron expressions"),
]
ChannelName = Annotated[str, AfterValidator(check_channel), Choices(channel_names)]
ChannelList = Annotated[
    list[ChannelName],
    OneOrMany(),
    BeforeValidator(OneOrMany.wrap),
    AfterValidator(check_channels),
]
FilePath = Annotated[
    Path,
    BeforeValidator(check_path),
    Described("a path (a non-empty string)", "paths (non-empty strings)"),
]


def check_archive_keep(value: Any) -> str:
    """How many replaced digests to keep: a count ("10", 10) or an age in days ("14d")."""
    text = (
        str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    )
    count, days = re.fullmatch(r"\d{1,6}", text), re.fullmatch(r"(\d{1,4})\s*d", text)
    if count is not None:
        return str(int(text))
    if days is not None and 1 <= int(days.group(1)) <= 3650:
        return f"{int(days.group(1))}d"
    raise refusal('must be a count of versions (10) or an age in days from "1d" to "3650d"')


ArchiveKeep = Annotated[
    str,
    BeforeValidator(check_archive_keep),
    Described("a count of versions or an age in days", "counts of versions or ages in days"),
]
WholeNumber = Annotated[int, BeforeValidator(refuse_booleans)]
Number = Annotated[float, BeforeValidator(refuse_booleans)]
