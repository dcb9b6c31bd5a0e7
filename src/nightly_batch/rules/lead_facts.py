"""What grouping (rules/duplicates) reads of a selected lead, from either batch path: a dict
(the reference path) or the lead's bytes (the fast path, which decodes only these fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from nightly_batch.rules.duplicates import Facts, facts, facts_of
from nightly_batch.rules.fastmark import NotFast
from nightly_batch.rules.queue_layout import joined


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
_decode_many = msgspec.json.Decoder(list[_Read]).decode
# Leads decoded per call: one C call a thousand leads, with a copy of only those leads.
GROUP = 1000


def dict_facts(item: dict[str, Any]) -> Facts:
    return facts_of(item.get)


def raw_facts(pieces: Sequence[Any], indices: Sequence[int]) -> list[Facts]:
    """The facts of fastmark's leads at `indices` (pieces: the lead as read, its bytes, or
    the (bytes, suffix) of the inline case, whose suffix holds only marking's own fields).

    Only the post and the author are kept of each; the rest is decoded again for the few
    leads that need it (those sharing a post or an author), so a quarter of a million
    selected leads hold a few dozen bytes each, not their decoded fields.

    A lead that already holds an `alsoIn` (the sweeper's, or a copied digest's) is NotFast:
    the reference path places the digest's own as a dict would, where that key stands.
    """
    found: list[Facts] = []
    for start in range(0, len(indices), GROUP):
        group = indices[start : start + GROUP]
        try:
            reads = _decode_many(joined(pieces, group))
        except msgspec.DecodeError as error:
            raise NotFast(str(error)) from None
        for index, read in zip(group, reads, strict=True):
            if read.alsoIn is not msgspec.UNSET:
                raise NotFast("a selected lead holds alsoIn")
            later = _Later(pieces, index)
            found.append(facts(read.link, read.url, read.permalink, read.id, read.author, later))
    return found


class _Later:
    """A lead's fields, decoded again when first asked for."""

    __slots__ = ("_index", "_pieces", "_read")

    def __init__(self, pieces: Sequence[Any], index: int) -> None:
        self._pieces, self._index = pieces, index
        self._read: _Read | None = None

    def __call__(self, name: str) -> Any:
        if self._read is None:
            piece = self._pieces[self._index]
            self._read = _decode(piece[0] if type(piece) is tuple else piece)
        return getattr(self._read, name)
