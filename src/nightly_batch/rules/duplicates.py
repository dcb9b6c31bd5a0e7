"""One lead per question: the same Reddit post reached by different URLs, or the same author
asking a near-identical title in several subreddits, is listed once in the digest, with the
others in its `alsoIn` (issue 19). Leads older than maxLeadAgeHours are left out first.

Only the digest is grouped: every lead stays in the state as it was marked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from nightly_batch.rules.freshness import lead_time

# The hosts a Reddit post is reached by; `redd.it/<id>` is the short form.
REDDIT_DOMAIN = "reddit.com"
SHORT_HOST = "redd.it"
# A post id is base36; Reddit's "fullname" of a post prefixes it with t3_.
POST_ID = re.compile(r"^[0-9a-z]{1,16}$")
FULLNAME = re.compile(r"^t3_([0-9a-z]{1,16})$")
# A title of fewer words says too little to call two posts one question.
TITLE_WORDS_MIN = 3
# Not a person: posts under these names are never grouped by author and title.
NO_AUTHOR = frozenset({"", "[deleted]", "[removed]", "automoderator"})
WORD = re.compile(r"\w+")


def post_key(get: Callable[[str], Any]) -> str | None:
    """The Reddit post a lead is, from its link, url or permalink, else a t3_ id: its id in
    lower case, however the URL is written; None for a lead that names no Reddit post."""
    for name in ("link", "url", "permalink"):
        value = get(name)
        if isinstance(value, str) and (found := post_id_of(value)) is not None:
            return found
    lead_id = get("id")
    if isinstance(lead_id, str) and (match := FULLNAME.match(lead_id.strip().lower())):
        return match.group(1)
    return None


def post_id_of(url: str) -> str | None:
    """The post id in any form of a Reddit post's URL: www., old., new., np., m., none; the
    redd.it short form; a bare path; any case, query string, fragment or trailing slash."""
    text = url.strip()
    if text.startswith("/"):
        text = f"https://www.{REDDIT_DOMAIN}{text}"
    elif "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    segments = [segment for segment in parts.path.lower().split("/") if segment]
    if host == SHORT_HOST:
        candidate = segments[0] if segments else ""
    elif host == REDDIT_DOMAIN or host.endswith("." + REDDIT_DOMAIN):
        if "comments" in segments[:-1]:
            candidate = segments[segments.index("comments") + 1]
        elif len(segments) >= 2 and segments[0] == "gallery":
            candidate = segments[1]
        else:
            return None
    else:
        return None
    candidate = candidate.removeprefix("t3_")
    return candidate if POST_ID.match(candidate) else None


def title_key(get: Callable[[str], Any]) -> str | None:
    """The author and the title's words, case folded: the same question asked twice."""
    author, title = get("author"), get("title")
    if not isinstance(title, str) or not title.strip():
        title = get("question")
    if not isinstance(author, str) or not isinstance(title, str):
        return None
    who = author.strip().casefold()
    words = WORD.findall(title.casefold())
    if who in NO_AUTHOR or len(words) < TITLE_WORDS_MIN:
        return None
    return f"{who}\0{' '.join(words)}"


@dataclass(frozen=True, slots=True)
class Facts:
    """What grouping reads of one selected lead."""

    keys: tuple[str, ...]
    other: dict[str, Any]  # what an `alsoIn` entry says of it
    posted: datetime | None


def facts_of(get: Callable[[str], Any]) -> Facts:
    keys = []
    if (post := post_key(get)) is not None:
        keys.append("post:" + post)
    if (asked := title_key(get)) is not None:
        keys.append("title:" + asked)
    # Only text is copied, as plain str: a number, or a string's escapes as written, is kept
    # by the reference path's literals (core/json_literals) and not by the fast path.
    other = {
        name: str(value) for name in ("subreddit", "id") if isinstance(value := get(name), str)
    }
    return Facts(tuple(keys), other, lead_time({name: get(name) for name in _TIME_KEYS}))


_TIME_KEYS = ("createdUtc", "created_utc", "createdAt", "queuedAt")


@dataclass(slots=True)
class Grouping:
    """The digest's leads after grouping: positions into the list it was given."""

    kept: list[int] = field(default_factory=list)
    also_in: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    duplicate: int = 0
    stale: int = 0

    @property
    def selected(self) -> int:
        """Every lead it was given: those kept, grouped under another, or too old."""
        return len(self.kept) + self.duplicate + self.stale


def group_leads(
    leads: Sequence[Facts], now: datetime, max_age_hours: float | None = None
) -> Grouping:
    """`leads` in the digest's order: those older than `max_age_hours` at `now` left out,
    the rest grouped where any key is shared (transitively), each group listed once, at its
    first lead, which names the others in `alsoIn` in the digest's order."""
    result = Grouping()
    oldest = now - timedelta(hours=max_age_hours) if max_age_hours is not None else None
    fresh = []
    for position, lead in enumerate(leads):
        if oldest is not None and lead.posted is not None and lead.posted < oldest:
            result.stale += 1
        else:
            fresh.append(position)
    parent = {position: position for position in fresh}

    def root(position: int) -> int:
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    holder: dict[str, int] = {}
    for position in fresh:
        for key in leads[position].keys:
            first = holder.setdefault(key, position)
            if first != position:
                low, high = sorted((root(first), root(position)))
                parent[high] = low  # the earlier lead leads the group
    for position in fresh:
        top = root(position)
        if top == position:
            result.kept.append(position)
        else:
            result.duplicate += 1
            result.also_in.setdefault(top, []).append(leads[position].other)
    return result
