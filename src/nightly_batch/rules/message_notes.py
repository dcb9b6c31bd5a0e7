"""The lines a digest message adds below its leads (issue 19): the near misses, the measured
precision, and what was left out and why. Worded once here; each channel only escapes them."""

from __future__ import annotations

from typing import Any

# summary.suppressed's reasons, as the footer names them, in the order it lists them.
LEFT_OUT_REASONS = (
    ("belowThreshold", "below the threshold"),
    ("invalid", "invalid"),
    ("alreadyDrafted", "already drafted"),
    ("duplicate", "duplicates"),
    ("stale", "stale"),
)


def left_out_line(summary: dict[str, Any]) -> str | None:
    """ "Left out: 812 below the threshold, 40 already drafted, 5 duplicates" (the reasons
    that count any); None when nothing was left out, or the digest predates the counts."""
    counts = summary.get("suppressed")
    if not isinstance(counts, dict):
        return None
    parts = [
        f"{count:,} {label}"
        for key, label in LEFT_OUT_REASONS
        if isinstance(count := counts.get(key), int) and not isinstance(count, bool) and count > 0
    ]
    return f"Left out: {', '.join(parts)}." if parts else None


def precision_line(precision: Any) -> str | None:
    """ "62 % of the last 30 days' selections were drafted, n=140", and the suggested
    threshold when there is one; None before anything was selected in the window."""
    if not isinstance(precision, dict):
        return None
    selected, drafted, days = (
        _count(precision.get(key)) for key in ("selected", "drafted", "windowDays")
    )
    if selected is None or drafted is None or days is None or selected <= 0:
        return None
    period = "day's" if days == 1 else f"{days} days'"
    share = round(100 * drafted / selected)
    line = f"{share} % of the last {period} selections were drafted, n={selected:,}"
    suggested = precision.get("suggestedThreshold")
    if isinstance(suggested, int | float) and not isinstance(suggested, bool):
        line += f"; suggested threshold {suggested:g} (not applied)"
    return line + "."


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def near_miss_intro(count: int, best: str) -> str:
    """ "3 near misses, best 0.73: " (the best one's title follows, linked by the channel)."""
    noun = "near miss" if count == 1 else "near misses"
    return f"{count} {noun}, best {best}: "
