"""The digest's lead lines from the fast path's selection (rules/fastmark): one compact lead
per line, in marking.digest_entries order, each with its confidence breakdown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

import msgspec

from nightly_batch.core.json_literals import dump_literal
from nightly_batch.rules.confidence import DECIMALS, Scored
from nightly_batch.rules.fastmark import RawSelection, literal_lead
from nightly_batch.rules.queue_layout import GROUP, all_but_last, format_json, joined, lead_bytes

_encode = msgspec.json.Encoder().encode

LEAD_SEPARATOR = b",\n    "  # the digest lists one lead per line, indented under its key


def digest_positions(selected: list[tuple[int, str, float, Scored]]) -> list[int]:
    """The order marking.digest_entries lists `selected` (in queue order) in: newest
    selectedAt first, then highest confidence, then queue order; as the place in `selected`
    of each digest position, so what was read of the leads in queue order follows it.

    Two stable sorts on one field each give that order without a key tuple per lead (the
    later sort decides, the earlier one breaks its ties, and queue order breaks the rest:
    `reverse` keeps equal entries in their order).
    """
    confidences = [entry[2] for entry in selected]
    stamps = [entry[1] for entry in selected]
    positions = sorted(range(len(selected)), key=confidences.__getitem__, reverse=True)
    positions.sort(key=stamps.__getitem__, reverse=True)
    return positions


def digest_lead_lines(
    selection: RawSelection,
    weights: Any,
    ordered: list[tuple[int, str, float, Scored]],
    also_in: dict[int, list[dict[str, Any]]],
) -> Iterator[bytes | bytearray | memoryview]:
    """The digest's leads (`ordered`: the selection in digest_positions' order, after
    grouping), one per line, with breakdowns and, for a lead that stands for others, their
    `alsoIn` (by queue index): a thousand lines at a time, so the digest is written as it is
    made, never held whole.

    Raises NotFast (fastmark.literal_lead) at a lead only the reference path can read.
    """
    endings = _Endings(_encode({"keyword": weights.keyword, "model": weights.model}))
    pieces, suffixes = selection.pieces, selection.suffixes
    for start in range(0, len(ordered), GROUP):
        group = ordered[start : start + GROUP]
        indices = [entry[0] for entry in group]
        lines: bytes | bytearray | None
        if selection.compact:
            leads = [pieces[index] for index in indices]
            lines = _inline_lines(group, leads, suffixes, also_in, endings.after_suffix)
            if lines is None:
                lines = bytearray()
                _compact_group(group, pieces, suffixes, endings, lines, also_in)
        else:
            # Copied from an indented state: made compact again a group at a time (a JSON
            # string cannot hold a raw line break, so every one is layout).
            leads = _leads.decode(format_json(joined(pieces, suffixes, indices), -1))
            lines = _inline_lines(group, leads, suffixes, also_in, endings.after_fields)
            if lines is None:
                lines = bytearray()
                for (index, _, _, scored), lead in zip(group, leads, strict=True):
                    _append_lead(lines, bytes(lead), scored, endings, also_in.get(index))
        if start + GROUP < len(ordered):
            yield lines
        else:
            yield memoryview(lines)[: len(lines) - len(LEAD_SEPARATOR)]  # none after the last


def _inline_lines(
    group: list[tuple[int, str, float, Scored]],
    leads: list[Any],
    suffixes: list[bytes],
    also_in: dict[int, list[dict[str, Any]]],
    ending: Callable[[bytes, Scored], bytes],
) -> bytes | None:
    """The group's lines joined in C, when every lead in it is fastmark's inline case (its
    suffix more than the last byte: no breakdown of its own) and stands for no other; else
    None, and the group is laid out lead by lead. `ending` ends a lead (`leads`: its bytes)
    by its suffix and its Scored (both keep each suffix's ending: they take a handful)."""
    ends = [suffixes[entry[0]] for entry in group]
    if min(map(len, ends), default=2) == 1 or (
        also_in and any(entry[0] in also_in for entry in group)
    ):
        return None
    ends = [ending(suffix, entry[3]) for suffix, entry in zip(ends, group, strict=True)]
    return b"".join(chain.from_iterable(zip(all_but_last(leads), ends, strict=True)))


_leads = msgspec.json.Decoder(list[msgspec.Raw])


class _Endings:
    """The bytes that end a lead with its breakdown and start the next line, encoded once
    per keyword-only confidence (they take a handful of values) and once per shared suffix."""

    def __init__(self, weights_bytes: bytes) -> None:
        self.weights_bytes = weights_bytes
        self.by_keyword: dict[float, tuple[bytes, bytes]] = {}
        self.by_suffix: dict[bytes, bytes] = {}
        self.by_fields: dict[bytes, bytes] = {}

    def of(self, scored: Scored) -> tuple[bytes, bytes]:
        """(the breakdown, the bytes that end a lead with it and start the next line)."""
        keyword = scored.keyword
        plain = scored.model is None and type(keyword) is float and keyword != 0  # 0.0 == -0.0
        known = self.by_keyword.get(keyword) if plain else None
        if known is None:
            parts = (_encode(round(keyword, DECIMALS)), _encode(scored.model), self.weights_bytes)
            value = b'{"keyword":%b,"model":%b,"weights":%b}' % parts
            known = (value, b',"confidenceBreakdown":%b}%b' % (value, LEAD_SEPARATOR))
            if plain:
                self.by_keyword[keyword] = known
        return known

    def after_fields(self, suffix: bytes, scored: Scored) -> bytes:
        """The ending of an inline lead whose bytes hold its fields already (an indented lead,
        made compact with them), kept by its suffix as after_suffix's is."""
        ending = self.by_fields.get(suffix)
        if ending is None:
            ending = self.by_fields[suffix] = self.of(scored)[1]
        return ending

    def after_suffix(self, suffix: bytes, scored: Scored) -> bytes:
        """A suffix of fastmark's inline case (shared by every lead of one score: the
        breakdown follows from it) without its closing brace, then the ending."""
        ending = self.by_suffix.get(suffix)
        if ending is None:
            ending = self.by_suffix[suffix] = suffix[:-1] + self.of(scored)[1]
        return ending


def _compact_group(
    group: list[Any],
    pieces: list[Any],
    suffixes: list[bytes],
    endings: _Endings,
    lines: bytearray,
    also_in: dict[int, list[dict[str, Any]]],
) -> None:
    for index, _, _, scored in group:
        piece, suffix = pieces[index], suffixes[index]
        others = also_in.get(index) if also_in else None
        if len(suffix) > 1 and others is None:
            # fastmark's inline case (a suffix more than the last byte): no line break, and
            # no breakdown of its own.
            lines += memoryview(piece)[:-1]
            lines += endings.after_suffix(suffix, scored)
        else:
            _append_lead(lines, lead_bytes(piece, suffix), scored, endings, others)


_CLOSE = len(b"}") + len(LEAD_SEPARATOR)


def _append_lead(
    lines: bytearray,
    lead: bytes,
    scored: Scored,
    endings: _Endings,
    others: list[dict[str, Any]] | None = None,
) -> None:
    """A compact lead with its breakdown (and `alsoIn` when it stands for `others`), and the
    separator; the keys follow the lead's own, as marking.digest_entries adds them."""
    known = endings.of(scored)
    if b'"confidenceBreakdown"' not in lead:
        lines += memoryview(lead)[:-1]
        if others is None:
            lines += known[1]
        else:
            lines += memoryview(known[1])[:-_CLOSE]
            lines += b',"alsoIn":%b}%b' % (dump_literal(others), LEAD_SEPARATOR)
    else:
        # Already has one (an old or foreign key): replace it in place, as a dict would.
        item = literal_lead(lead)
        item["confidenceBreakdown"] = msgspec.json.decode(known[0])
        if others is not None:
            item["alsoIn"] = others
        lines += dump_literal(item)
        lines += LEAD_SEPARATOR
