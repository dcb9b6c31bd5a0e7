"""The parts of a lead line and the notes below the leads that every channel words alike;
`text` escapes plain text for the channel and `link` makes its link syntax (rules/escape)."""

from __future__ import annotations

from collections.abc import Callable

from nightly_batch.rules import escape
from nightly_batch.rules.message import DigestMessage, Lead

# A question cross-posted to many subreddits names the first few; the rest are counted.
ALSO_IN_SHOWN = 5
NEAR_MISS_TITLE_MAX = 120


def lead_facts(lead: Lead, text: Callable[[str], str]) -> str:
    """ " · 0.91 · 9 h ago · also in r/a, r/b": what follows a lead's title and subreddit."""
    facts = (lead.confidence_text, lead.age, also_in_text(lead, text))
    return "".join(f" · {fact}" for fact in facts if fact)


def also_in_text(lead: Lead, text: Callable[[str], str]) -> str | None:
    """ "also in r/a, r/b +3" for a lead merged with its cross-posts; None for the others."""
    if not lead.also_in:
        return None
    names = ", ".join(f"r/{text(name)}" for name in lead.also_in[:ALSO_IN_SHOWN])
    more = len(lead.also_in) - ALSO_IN_SHOWN
    return f"also in {names}" + (f" +{more}" if more > 0 else "")


def note_lines(
    message: DigestMessage,
    text: Callable[[str], str],
    link: Callable[[str | None, str], str],
) -> list[str]:
    """The near-miss line and the precision line, those the message has."""
    lines = []
    near = message.near_miss_line
    if near is not None:
        intro, best = near
        where = f" — r/{text(best.subreddit)}" if best.subreddit else ""
        title = escape.shorten(best.title, NEAR_MISS_TITLE_MAX)
        lines.append(f"{text(intro)}{link(best.link, title)}{where}")
    if message.precision:
        lines.append(text(message.precision))
    return lines
