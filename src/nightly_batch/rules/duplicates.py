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
from operator import countOf
from typing import Any


@dataclass(slots=True)
class Leads:
    """The selected leads as grouping reads them, in the digest's order or in another (the
    fast path's: the queue's), with the digest's then given to group_leads as `order`: the
    post, the author and the words of every lead; what an `alsoIn` says of them only for
    those grouped under another, read in one call."""

    posts: list[str | None]
    authors: list[str | None]  # as compared (lead_keys.author_of)
    # When each was posted (else queued); read only when a maximum age is set.
    posted: list[datetime | None] | None
    # The words of what each asks (lead_keys.title_words of title_of); None for too few
    # words, and for a lead of no author in the fast path (never compared).
    titles: list[bytes | None]
    # What an `alsoIn` entry says of the leads at some positions: their subreddit and id.
    others: Callable[[Sequence[int]], Iterable[dict[str, Any]]]


@dataclass(slots=True)
class Grouping:
    """The digest's leads after grouping: positions into the leads it was given, listed in
    the digest's order."""

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
    order: Sequence[int] | None = None,
) -> Grouping:
    """`leads` with those older than `max_age_hours` at `now` left out, the rest grouped
    where two share a post, or an author and the words of what they ask (transitively: a
    lead joined to two others joins their groups), each group listed once, at the lead
    selected first (`stamps`: their selectedAt; then the digest's order), which names the
    others in `alsoIn` in the digest's order. The lead selected first stays the one listed
    night after night, so a new cross-post never displaces a lead already sent.

    `order` is the digest's order as positions into `leads`, when they are given in another
    (the fast path reads them in queue order: putting half a million leads' keys in the
    digest's order would cost more than grouping them); None when they are in it already.
    """
    result = Grouping()
    count = len(leads.posts)
    listing: Sequence[int] = range(count) if order is None else order
    fresh: Sequence[int] = range(count)
    old: list[bool] | None = None
    if max_age_hours is not None:
        if leads.posted is None:
            raise ValueError("a maximum age needs the leads' post times")
        oldest = now - timedelta(hours=max_age_hours)
        old = [moment is not None and moment < oldest for moment in leads.posted]
        fresh = [position for position in fresh if not old[position]]
        result.stale = count - len(fresh)
    reposted, titled = _sharing(leads, fresh)
    # The common night: no lead shares a post or an author with another, nothing to unite.
    if not (reposted or titled or result.stale):
        result.kept = list(listing)
        return result
    top_of = _tops(leads, reposted, titled, _Ranks(stamps, order)) if reposted or titled else {}
    grouped = []
    for position in listing:
        if old is not None and old[position]:
            continue
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


class _Ranks:
    """Which of two leads a group is listed at: the one selected first (`stamps`), on a tie
    the earlier in the digest (`order`, as group_leads takes it)."""

    def __init__(self, stamps: Sequence[str] | None, order: Sequence[int] | None) -> None:
        self.stamps, self.order = stamps, order
        self.place: list[int] | None = None  # worked out at the first group formed

    def __call__(self, position: int) -> tuple[str, int]:
        stamp = self.stamps[position] if self.stamps is not None else ""
        if self.order is None:
            return (stamp, position)
        if self.place is None:
            self.place = [0] * len(self.order)
            for number, at in enumerate(self.order):
                self.place[at] = number
        return (stamp, self.place[position])


def _tops(
    leads: Leads, reposted: list[int], titled: list[int], ranks: Callable[[int], Any]
) -> dict[int, int]:
    """The group of each lead that joined one, as the position of the group's first lead: a
    union-find over the keys they share: the post, of the `reposted` leads; an author's same
    words, of the `titled` ones (whose author has another lead) whose words another titled
    lead has too. A lead never united is its own group and is left out."""
    groups = _Groups(ranks)
    first_of: dict[str | None, int] = {}
    posts = leads.posts
    for position in reposted:
        if (first := first_of.setdefault(posts[position], position)) != position:
            groups.unite(first, position)
    del first_of  # a dict of every shared post, not needed while the titles are read
    # Only the titles whose words another titled lead has too are compared, one person's at
    # a time. At 1M leads, 50 % selected (every author posting five times, no one asking the
    # same twice), grouping took 0.78 to 0.94 s with a dict of words for every author's
    # leads, and takes 0.36 to 0.70 s with the set of _worded_alike, which leaves none.
    asking: dict[str | None, list[int]] = {}
    authors, titles = leads.authors, leads.titles
    for position in _worded_alike(titles, titled):
        asking.setdefault(authors[position], []).append(position)
    for positions in asking.values():
        first_asked: dict[bytes, int] = {}
        for position in positions:
            if (words := titles[position]) is not None and (
                first := first_asked.setdefault(words, position)
            ) != position:
                groups.unite(first, position)
    return groups.tops()


class _Groups:
    """A union-find over positions, holding only those ever united; each group's root is
    the first of its leads by `ranks`."""

    def __init__(self, ranks: Callable[[int], Any]) -> None:
        self.ranks = ranks
        self.parent: dict[int, int] = {}

    def root(self, position: int) -> int:
        parent = self.parent
        while (up := parent.get(position, position)) != position:
            parent[position] = position = parent.get(up, up)  # path halving
        return position

    def unite(self, first: int, position: int) -> None:
        low, high = sorted((self.root(first), self.root(position)), key=self.ranks)
        if low != high:
            self.parent[high] = low

    def tops(self) -> dict[int, int]:
        return {position: self.root(position) for position in list(self.parent)}


def _sharing(leads: Leads, fresh: Sequence[int]) -> tuple[list[int], list[int]]:
    """The leads that share their post with another, and those that share their author (whose
    titles grouping has to read): the only ones grouping has to look at. Counted in C
    (Counter), as most leads share nothing."""
    posts, authors = leads.posts, leads.authors
    every = len(fresh) == len(posts)  # no lead too old: the common night
    read_posts = posts if every else [posts[position] for position in fresh]
    read_authors = authors if every else [authors[position] for position in fresh]
    return _sharers(read_posts, fresh), _sharers(read_authors, fresh)


def _worded_alike(titles: list[bytes | None], titled: list[int]) -> list[int]:
    """The `titled` positions whose words another of them has too, whoever its author: the
    only ones a title can unite (an author's same words), compared one person at a time by
    the caller. As most questions are asked once, a set of the words tells in C that none is,
    before any list is built (its table of the titles' own bytes is about 10 MB at 500,000
    titles; a set of (author, words) pairs, a new tuple each, held 32 MB more)."""
    words = titles.__getitem__
    nones = countOf(map(words, titled), None)
    if len(set(map(words, titled))) - (nones > 0) == len(titled) - nones:  # no words twice
        return []
    return _sharers([words(position) for position in titled], titled)


def _sharers(keys: list[Any], positions: Sequence[int]) -> list[int]:
    """The `positions` whose key (`keys`, one per position; None is no key) another of them
    has too. A set first, as one key a lead is the common case and a set holds each in half a
    Counter's time."""
    nones = keys.count(None)
    if len(set(keys)) - (nones > 0) == len(keys) - nones:  # no key twice
        return []
    counted = Counter(keys)
    counted.pop(None, None)
    shared = {key for key, count in counted.items() if count > 1}
    return [position for position, key in zip(positions, keys, strict=True) if key in shared]
