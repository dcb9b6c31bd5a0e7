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

    A lead that already holds an `alsoIn` (the sweeper's, or a copied digest's) is NotFast:
    the reference path places the digest's own as a dict would, where that key stands.
    """
    found: list[Facts] = []
    for start in range(0, len(indices), GROUP):
        try:
            reads = _decode_many(joined(pieces, indices[start : start + GROUP]))
        except msgspec.DecodeError as error:
            raise NotFast(str(error)) from None
        for read in reads:
            if read.alsoIn is not msgspec.UNSET:
                raise NotFast("a selected lead holds alsoIn")
            # Every key grouping asks for is a field of _Read, so the attribute is there.
            found.append(facts(read.link, read.url, read.permalink, read.__getattribute__))
    return found
