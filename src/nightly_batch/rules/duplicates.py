"""One lead per question: the same Reddit post reached by different URLs, or the same author
asking a near-identical title in several subreddits, is listed once in the digest, with the
others in its `alsoIn` (issue 19). Leads older than maxLeadAgeHours are left out first.

Only the digest is grouped: every lead stays in the state as it was marked.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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


# The common form, as Reddit's API and the sweeper write it, read by one match; every other
# form goes the long way (post_id_of), to the same id.
_CANONICAL = re.compile(
    r"https?://(?:www\.|old\.|new\.|np\.|m\.)?reddit\.com/r/[^/?#\s]+/comments/"
    r"(?:t3_)?([0-9a-zA-Z]{1,16})(?:[/?#]|$)"
)


def post_id_of(url: str) -> str | None:
    """The post id in any form of a Reddit post's URL: www., old., new., np., m., none; the
    redd.it short form; a bare path; any case, query string, fragment or trailing slash.

    A match or plain string operations, not urlsplit: this runs for every selected lead of
    the night (a quarter of a million at a million leads).
    """
    canonical = _CANONICAL.match(url)
    if canonical is not None:
        return canonical.group(1).lower()
    text = url.strip().lower()
    if text.startswith("/"):
        host, path = REDDIT_DOMAIN, text
    else:
        _, found, rest = text.partition("://")
        host, _, path = (rest if found else text).partition("/")
        host = host.rpartition("@")[2].partition(":")[0]
    segments = [
        segment for segment in path.partition("?")[0].partition("#")[0].split("/") if segment
    ]
    if host == SHORT_HOST:
        candidate = segments[0] if segments else ""
    elif host == REDDIT_DOMAIN or host.endswith("." + REDDIT_DOMAIN):
        # /r/<name>/comments/<id>, /user/<name>/comments/<id>, /comments/<id>, /gallery/<id>:
        # a subreddit or a user may itself be called "comments".
        after = 2 if segments[:1] in (["r"], ["user"], ["u"]) else 0
        if "comments" in segments[after:-1]:
            candidate = segments[segments.index("comments", after) + 1]
        elif len(segments) >= 2 and segments[0] == "gallery":
            candidate = segments[1]
        else:
            return None
    else:
        return None
    candidate = candidate.removeprefix("t3_")
    return candidate if POST_ID.match(candidate) else None


def author_of(author: Any) -> str | None:
    """The author as compared (case folded); None for no one in particular."""
    if not isinstance(author, str):
        return None
    who = author.strip().casefold()
    return None if who in NO_AUTHOR else who


def title_key(author: Any, title: Any) -> str | None:
    """The author and the title's words, case folded: the same question asked twice."""
    who = author_of(author)
    if who is None or not isinstance(title, str):
        return None
    words = title.casefold().translate(_SPACES).split()
    if len(words) < TITLE_WORDS_MIN:
        return None
    return f"{who}\0{' '.join(words)}"


# Punctuation is not part of a question's words ("back-up" reads as "back up").
_SPACES = str.maketrans(
    dict.fromkeys(
        string.punctuation + "\u00bf\u00a1\u201c\u201d\u2018\u2019\u00ab\u00bb\u2026\u2013\u2014",
        " ",
    )
)
TIME_KEYS = ("createdUtc", "created_utc", "createdAt", "queuedAt")


@dataclass(slots=True)
class Facts:
    """What grouping reads of one selected lead: its post and author, worked out for every
    lead; the rest (the title's words, the post time, what `alsoIn` says of it) read from
    `get` only where it can matter."""

    post: str | None  # the Reddit post it is
    author: str | None  # as compared
    get: Callable[[str], Any]  # the lead's value of a key (None when it has none)

    @property
    def title(self) -> Any:
        """Its title, else its question."""
        title = self.get("title")
        return title if isinstance(title, str) and title.strip() else self.get("question")

    @property
    def posted(self) -> datetime | None:
        return lead_time({name: self.get(name) for name in TIME_KEYS})

    @property
    def other(self) -> dict[str, Any]:
        """What an `alsoIn` entry says of it. Only text, as plain str: a number, or a
        string's escapes as written, is kept by the reference path's literals
        (core/json_literals) and not by the fast path."""
        said = {}
        for name, key in (("subreddit", "subreddit"), ("id", "id")):
            value = self.get(key)
            if isinstance(value, str):
                said[name] = str(value)
        return said


def facts(
    link: Any, url: Any, permalink: Any, lead_id: Any, author: Any, get: Callable[[str], Any]
) -> Facts:
    """A lead's facts: the first of its link, url and permalink that names a post (else a
    t3_ id) gives the post; `get` reads the rest when it is needed."""
    post = None
    for given in (link, url, permalink):
        if isinstance(given, str) and (post := post_id_of(given)) is not None:
            break
    else:
        if isinstance(lead_id, str):
            match = FULLNAME.match(lead_id.strip().lower())
            post = match.group(1) if match else None
    return Facts(post, author_of(author), get)


def facts_of(get: Callable[[str], Any]) -> Facts:
    """A lead's facts through `get` (a dict's get)."""
    return facts(get("link"), get("url"), get("permalink"), get("id"), get("author"), get)


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
    leads: Sequence[Facts],
    now: datetime,
    max_age_hours: float | None = None,
    stamps: Sequence[str] | None = None,
) -> Grouping:
    """`leads` in the digest's order: those older than `max_age_hours` at `now` left out,
    the rest grouped where any key is shared (transitively), each group listed once, at the
    lead selected first (`stamps`: their selectedAt; then the digest's order), which names
    the others in `alsoIn` in the digest's order. The lead selected first stays the one
    listed night after night, so a new cross-post never displaces a lead already sent."""
    result = Grouping()
    fresh = []
    oldest = now - timedelta(hours=max_age_hours) if max_age_hours is not None else None
    for position, lead in enumerate(leads):
        posted = lead.posted if oldest is not None else None
        if oldest is not None and posted is not None and posted < oldest:
            result.stale += 1
        else:
            fresh.append(position)
    involved, shared_authors = _sharing(leads, fresh)
    # The common night: no lead shares a post or an author with another, nothing to unite.
    top_of = _tops(leads, involved, shared_authors, stamps) if involved else {}
    for position in fresh:
        top = top_of.get(position, position)
        if top == position:
            result.kept.append(position)
        else:
            result.duplicate += 1
            result.also_in.setdefault(top, []).append(leads[position].other)
    return result


def _tops(
    leads: Sequence[Facts],
    involved: set[int],
    shared_authors: set[str],
    stamps: Sequence[str] | None,
) -> dict[int, int]:
    """Each involved lead's group, as the position of the group's first lead: a union-find
    over the keys they share (the post; the title, read only when its author asked twice)."""
    parent = {position: position for position in involved}

    def rank(position: int) -> tuple[str, int]:
        return (stamps[position] if stamps is not None else "", position)

    def root(position: int) -> int:
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    holder: dict[str, int] = {}
    for position in sorted(involved):
        lead = leads[position]
        keys = [f"post:{lead.post}"] if lead.post is not None else []
        if lead.author in shared_authors and (asked := title_key(lead.author, lead.title)):
            keys.append(f"title:{asked}")
        for key in keys:
            first = holder.setdefault(key, position)
            if first != position:
                # The lead selected first leads the group; on a tie, the earlier in the digest.
                low, high = sorted((root(first), root(position)), key=rank)
                parent[high] = low
    return {position: root(position) for position in involved}


def _sharing(leads: Sequence[Facts], fresh: list[int]) -> tuple[set[int], set[str]]:
    """The leads that share a post or an author with another (the only ones grouping has to
    look at), and the authors shared."""
    by_post: dict[str, int] = {}
    by_author: dict[str, int] = {}
    involved: set[int] = set()
    shared_authors: set[str] = set()
    for position in fresh:
        lead = leads[position]
        if lead.post is not None:
            first = by_post.setdefault(lead.post, position)
            if first != position:
                involved.update((first, position))
        if lead.author is not None:
            first = by_author.setdefault(lead.author, position)
            if first != position:
                involved.update((first, position))
                shared_authors.add(lead.author)
    return involved, shared_authors
