"""Times as a person reads them on the dashboard: how long ago (or how soon), and the local
time in digestTimeZone, with the exact instant (UTC, to the millisecond) on hover."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from nightly_batch.core.clock import iso_utc, parse_iso
from nightly_batch.rules.freshness import age_text, span_text


def relative(moment: datetime, now: datetime) -> str:
    """ "40 min ago", "9 h ago", "in 6 h", "just now"."""
    if moment <= now:
        return age_text(moment, now)
    minutes = (moment - now).total_seconds() / 60
    return "in a moment" if minutes < 1 else f"in {span_text(minutes)}"


def when(value: Any, now: datetime, zone: ZoneInfo) -> Markup:
    """`value` (an ISO-8601 instant) as `<time>`: "9 h ago · Sat 28 Nov 23:00 CET", the exact
    UTC instant as its title; anything unreadable is shown as it is."""
    if not isinstance(value, str) or not value:
        return Markup(escape(value)) if value not in (None, "") else Markup("-")  # noqa: S704
    try:
        moment = parse_iso(value)
        local = moment.astimezone(zone)
        shown = f"{relative(moment, now)} · {local:%a %d %b %H:%M} {local.tzname()}"
    except (ValueError, OverflowError):  # not a time, or one beyond what datetime holds
        return Markup(escape(value))  # noqa: S704  (escaped)
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(iso_utc(moment), shown)
