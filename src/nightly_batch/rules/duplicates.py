"""One lead per question: the same Reddit post reached by different URLs, or the same author
asking a near-identical title in several subreddits, is listed once in the digest, with the
others in its `alsoIn` (issue 19). Leads older than maxLeadAgeHours are left out first.

Only the digest is grouped: every lead stays in the state as it was marked. What identifies a
post or a question is rules/lead_keys; how the leads are read (dicts or bytes), lead_facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nightly_batch.rules.lead_keys import title_words


@dataclass(slots=True)
class Leads:
    """The digest's selected leads in its order, as grouping reads them: the post and the
    author of every lead; the rest only for the leads that need it, read in one call."""

    posts: list[str | None]
    authors: list[str | None]  # as compared (lead_keys.author_of)
    # When each was posted (else queued); read only when a maximum age is set.
    posted: list[datetime | None] | None
    # What each asks (lead_keys.title_of): its words are worked out only where its author
    # asked twice (the fast path leaves it None for a lead of no author, never read).
    titles: list[Any]
    # What an `alsoIn` entry says of the leads at some positions: their subreddit and id.
    others: Callable[[Sequence[int]], Iterable[dict[str, Any]]]


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
    leads: Leads,
    now: datetime,
    max_age_hours: float | None = None,
    stamps: Sequence[str] | None = None,
) -> Grouping:
    """`leads` with those older than `max_age_hours` at `now` left out, the rest grouped
    where any key is shared (transitively), each group listed once, at the lead selected
    first (`stamps`: their selectedAt; then the digest's order), which names the others in
    `alsoIn` in the digest's order. The lead selected first stays the one listed night after
    night, so a new cross-post never displaces a lead already sent."""
    result = Grouping()
    fresh = list(range(len(leads.posts)))
    if max_age_hours is not None:
        if leads.posted is None:
            raise ValueError("a maximum age needs the leads' post times")
        oldest = now - timedelta(hours=max_age_hours)
        posted = leads.posted
        fresh = [at for at in fresh if (moment := posted[at]) is None or moment >= oldest]
        result.stale = len(posted) - len(fresh)
    reposted, titled = _sharing(leads, fresh)
    # The common night: no lead shares a post or an author with another, nothing to unite.
    top_of = _tops(leads, reposted, titled, stamps) if reposted or titled else {}
    grouped = []
    for position in fresh:
        top = top_of.get(position, position)
        if top == position:
            result.kept.append(position)
        else:
            grouped.append((top, position))
    result.duplicate = len(grouped)
    others = leads.others([position for _, position in grouped])
    for (top, _), other in zip(grouped, others, strict=True):
        result.also_in.setdefault(top, []).append(other)
    return result


def _tops(
    leads: Leads, reposted: list[int], titled: list[int], stamps: Sequence[str] | None
) -> dict[int, int]:
    """The group of each lead that joined one, as the position of the group's first lead: a
    union-find over the keys they share (the post, of the `reposted` leads; the title, read
    only for the `titled` ones, whose author asked twice). A lead never united is its own
    group and is left out."""
    groups = _Groups(stamps)
    first_of: dict[str | None, int] = {}
    posts = leads.posts
    for position in reposted:
        if (first := first_of.setdefault(posts[position], position)) != position:
            groups.unite(first, position)
    del first_of  # a dict of every shared post, not needed while the titles are read
    # Keyed by the hash of (author, words), not by the words: those of half a million titles
    # would be held at once. A hit is checked against the first lead's words; a hash that two
    # questions happen to share falls back to the words themselves as the key.
    by_hash: dict[int, int] = {}
    exact: dict[tuple[str | None, bytes], int] = {}
    authors, titles = leads.authors, leads.titles
    for position in titled:
        if (words := title_words(titles[position])) is None:
            continue
        asked = (authors[position], words)
        first = by_hash.setdefault(_question_hash(asked), position)
        if first != position and (authors[first], title_words(titles[first])) != asked:
            first = exact.setdefault(asked, position)
        if first != position:
            groups.unite(first, position)
    return groups.tops()


_question_hash = hash  # a seam: the tests make every question share one hash


class _Groups:
    """A union-find over positions, holding only those ever united; each group's root is
    its lead selected first (`stamps`), on a tie the earlier in the digest."""

    def __init__(self, stamps: Sequence[str] | None) -> None:
        self.stamps = stamps
        self.parent: dict[int, int] = {}

    def root(self, position: int) -> int:
        parent = self.parent
        while (up := parent.get(position, position)) != position:
            parent[position] = position = parent.get(up, up)  # path halving
        return position

    def unite(self, first: int, position: int) -> None:
        low, high = sorted((self.root(first), self.root(position)), key=self._rank)
        if low != high:
            self.parent[high] = low

    def tops(self) -> dict[int, int]:
        return {position: self.root(position) for position in list(self.parent)}

    def _rank(self, position: int) -> tuple[str, int]:
        return (self.stamps[position] if self.stamps is not None else "", position)


def _sharing(leads: Leads, fresh: list[int]) -> tuple[list[int], list[int]]:
    """The leads that share their post with another, and those that share their author (whose
    titles grouping has to read), each in the digest's order: the only ones grouping has to
    look at. Counted in C (Counter), as most leads share nothing."""
    posts, authors = leads.posts, leads.authors
    every = len(fresh) == len(posts)  # no lead too old: the common night
    per_post = Counter(posts if every else [posts[position] for position in fresh])
    per_author = Counter(authors if every else [authors[position] for position in fresh])
    per_post.pop(None, None)
    per_author.pop(None, None)
    shared_posts = {post for post, count in per_post.items() if count > 1}
    shared_authors = {author for author, count in per_author.items() if count > 1}
    reposted = [position for position in fresh if posts[position] in shared_posts]
    titled = [position for position in fresh if authors[position] in shared_authors]
    return reposted, titled
