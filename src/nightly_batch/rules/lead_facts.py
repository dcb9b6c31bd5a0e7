"""What grouping (rules/duplicates) reads of the selected leads, from either batch path: dicts
(the reference path) or the leads' bytes (the fast path, which decodes only these fields, a
thousand leads per call, and keeps of each lead only its post, its author and the words of what
it asks)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec

from nightly_batch.rules.duplicates import Leads
from nightly_batch.rules.fastmark import NotFast
from nightly_batch.rules.freshness import CREATED_KEYS, QUEUED_KEY, lead_time
from nightly_batch.rules.lead_keys import (
    author_of,
    canonical_post,
    post_of,
    title_of,
    title_words,
    titles_words,
)
from nightly_batch.rules.queue_layout import as_read

TIME_KEYS = (*CREATED_KEYS, QUEUED_KEY)


def dict_leads(entries: Sequence[dict[str, Any]], *, with_times: bool) -> Leads:
    """The leads of the reference path; their post times when `with_times`."""
    posts = [
        post_of(entry.get("link"), entry.get("url"), entry.get("permalink"), entry.get("id"))
        for entry in entries
    ]
    return Leads(
        posts,
        [author_of(entry.get("author")) for entry in entries],
        [lead_time(entry) for entry in entries] if with_times else None,
        [title_words(title_of(entry.get("title"), entry.get("question"))) for entry in entries],
        lambda positions: [
            _other(entries[at].get("subreddit"), entries[at].get("id")) for at in positions
        ],
    )


class _Keys(msgspec.Struct):
    """The fields every selected lead is read for; msgspec skips the rest (its body, above
    all)."""

    id: Any = None
    link: Any = None
    url: Any = None
    permalink: Any = None
    author: Any = None
    title: Any = None
    question: Any = None
    alsoIn: Any = msgspec.UNSET  # noqa: N815  (only whether the lead has one)


class _Timed(_Keys):
    """The same and the post times, when a maximum age is set."""

    createdUtc: Any = None  # noqa: N815  (the sweeper's key)
    created_utc: Any = None
    createdAt: Any = None  # noqa: N815
    queuedAt: Any = None  # noqa: N815


class _Said(msgspec.Struct):
    subreddit: Any = None
    id: Any = None


# Leads decoded per call: one C call a thousand leads, with a copy of only those leads.
GROUP = 1000


def raw_leads(pieces: Sequence[Any], indices: Sequence[int], *, with_times: bool) -> Leads:
    """The leads of fastmark's pieces at `indices` (the selected leads, in queue order), in
    that order; their post times when `with_times`. A piece is the lead as read or its
    rewritten bytes: either holds every field read here (a suffix holds only marking's own).

    Read in queue order, a thousand leads per decode, and left in it: the digest's order
    visits a 480 MB queue at random (reading the same leads in file order takes a third of
    the time), and putting their keys in it would cost a third of a second a field.

    A lead that already holds an `alsoIn` (the sweeper's, or a copied digest's) is NotFast:
    the reference path places the digest's own as a dict would, where that key stands.
    """
    posts: list[str | None] = []
    authors: list[str | None] = []
    titles: list[Any] = []
    posted: list[Any] = []
    unset, canonical = msgspec.UNSET, canonical_post
    people: dict[str, str] = {}  # one str per person, however many leads they wrote
    decoder = _timed if with_times else _keys
    # A comprehension a field over each thousand leads: 40 % less than one loop over the
    # leads assigning each field in turn.
    for reads in _decoded(pieces, indices, decoder):
        if any(read.alsoIn is not unset for read in reads):
            raise NotFast("a selected lead holds alsoIn")
        # The common lead: its link in Reddit's usual form, one match.
        found = [canonical(read.link) if type(read.link) is str else None for read in reads]
        posts += [
            post[1].lower() if post is not None else post_of(r.link, r.url, r.permalink, r.id)
            for post, r in zip(found, reads, strict=True)
        ]
        who = [
            people.setdefault(author, author)
            if (author := author_of(read.author)) is not None
            else None
            for read in reads
        ]
        authors += who
        # Only a person's titles can make one question.
        titles += titles_words(
            [
                None if author is None else title_of(read.title, read.question)
                for author, read in zip(who, reads, strict=True)
            ]
        )
        if with_times:
            posted += [lead_time({key: getattr(r, key) for key in TIME_KEYS}) for r in reads]
    return Leads(posts, authors, posted if with_times else None, titles, _Others(pieces, indices))


class _Others:
    """What `alsoIn` says of the leads at some positions (the ones grouped under another),
    decoded when asked for."""

    def __init__(self, pieces: Sequence[Any], indices: Sequence[int]) -> None:
        self.pieces, self.indices = pieces, indices

    def __call__(self, positions: Sequence[int]) -> list[dict[str, Any]]:
        found: list[Any] = [None] * len(positions)  # each one filled in below
        at = {position: number for number, position in enumerate(positions)}
        for chosen, reads in _in_file_order(self.pieces, self.indices, positions, _others):
            for position, read in zip(chosen, reads, strict=True):
                found[at[position]] = _other(read.subreddit, read.id)
        return found


_keys = msgspec.json.Decoder(list[_Keys])
_timed = msgspec.json.Decoder(list[_Timed])
_others = msgspec.json.Decoder(list[_Said])


def _in_file_order(
    pieces: Sequence[Any], indices: Sequence[int], positions: Iterable[int], decoder: Any
) -> Iterator[tuple[list[int], list[Any]]]:
    """The leads at `positions` (into `indices`, which index `pieces`), decoded by `decoder`
    a group at a time in the order they stand in the file; each group with its positions."""
    ordered = sorted(positions, key=indices.__getitem__)
    for start in range(0, len(ordered), GROUP):
        group = ordered[start : start + GROUP]
        yield group, _decode(decoder, pieces, [indices[position] for position in group])


def _decoded(pieces: Sequence[Any], indices: Sequence[int], decoder: Any) -> Iterator[list[Any]]:
    """The leads at `indices` (in file order), decoded by `decoder` a group at a time."""
    for start in range(0, len(indices), GROUP):
        yield _decode(decoder, pieces, indices[start : start + GROUP])


def _decode(decoder: Any, pieces: Sequence[Any], indices: Iterable[int]) -> list[Any]:
    try:
        return decoder.decode(as_read(pieces, indices))  # type: ignore[no-any-return]
    except (msgspec.DecodeError, RecursionError) as error:
        raise NotFast(str(error)) from None


def _other(subreddit: Any, lead_id: Any) -> dict[str, Any]:
    """What an `alsoIn` entry says of a lead. Only text, as plain str: a number, or a
    string's escapes as written, is kept by the reference path's literals
    (core/json_literals) and not by the fast path."""
    said = {}
    for key, value in (("subreddit", subreddit), ("id", lead_id)):
        if isinstance(value, str):
            said[key] = str(value)
    return said
