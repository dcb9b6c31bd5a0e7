"""What grouping (rules/duplicates) reads of a selected lead, from either batch path: a dict
(the reference path) or the lead's bytes (the fast path, which decodes only these fields)."""

from __future__ import annotations

from typing import Any

import msgspec

from nightly_batch.rules.duplicates import Facts, facts, facts_of
from nightly_batch.rules.fastmark import NotFast


class _Read(msgspec.Struct):
    """The fields grouping reads; msgspec skips the rest of the lead (its body, above all)."""

    id: Any = None
    link: Any = None
    url: Any = None
    permalink: Any = None
    author: Any = None
    title: Any = None
    question: Any = None
    subreddit: Any = None
    createdUtc: Any = None  # noqa: N815  (the sweeper's key)
    created_utc: Any = None
    createdAt: Any = None  # noqa: N815
    queuedAt: Any = None  # noqa: N815
    alsoIn: Any = msgspec.UNSET  # noqa: N815  (only whether the lead has one)


_decode = msgspec.json.Decoder(_Read).decode


def dict_facts(item: dict[str, Any]) -> Facts:
    return facts_of(item.get)


def raw_facts(piece: Any) -> Facts:
    """A piece of fastmark's selection: the lead as read (its bytes, or the (bytes, suffix)
    of the inline case, whose suffix holds only marking's own fields).

    A lead that already holds an `alsoIn` (the sweeper's, or a copied digest's) is NotFast:
    the reference path places the digest's own as a dict would, where that key stands.
    """
    raw = piece[0] if type(piece) is tuple else piece
    try:
        read = _decode(raw)
    except msgspec.DecodeError as error:
        raise NotFast(str(error)) from None
    if read.alsoIn is not msgspec.UNSET:
        raise NotFast("a selected lead holds alsoIn")
    title = read.title
    if not isinstance(title, str) or not title.strip():
        title = read.question
    return facts(
        (read.link, read.url, read.permalink),
        read.id,
        read.author,
        title,
        read.subreddit,
        (read.createdUtc, read.created_utc, read.createdAt, read.queuedAt),
    )
