"""The digest's lead lines from the fast path's selection (rules/fastmark): one compact lead
per line, in marking.digest_entries order, each with its confidence breakdown."""

from __future__ import annotations

from typing import Any

import msgspec

from nightly_batch.core.json_literals import dump_literal
from nightly_batch.rules.confidence import DECIMALS
from nightly_batch.rules.fastmark import RawSelection, literal_lead

_encode = msgspec.json.Encoder().encode

LEAD_SEPARATOR = b",\n    "  # the digest lists one lead per line, indented under its key


def digest_lead_lines(
    selection: RawSelection, weights: Any, lines: bytearray | None = None
) -> bytearray:
    """The digest's leads, one per line, in marking.digest_entries order, with breakdowns,
    appended to `lines` (the digest so far) or to a new buffer; returns it."""
    ordered = sorted(
        selection.selected, key=lambda entry: (entry[1], entry[2], -entry[0]), reverse=True
    )
    weights_bytes = _encode({"keyword": weights.keyword, "model": weights.model})
    # Keyword-only confidences take a handful of values: each breakdown is encoded once, as
    # (its value, the bytes that end a lead with it and start the next line).
    breakdowns: dict[float, tuple[bytes, bytes]] = {}
    lines = bytearray() if lines is None else lines
    for index, _, _, scored in ordered:
        keyword, model = scored.keyword, scored.model
        plain = model is None and type(keyword) is float and keyword != 0  # 0.0 == -0.0
        known = breakdowns.get(keyword) if plain else None
        if known is None:
            parts = (_encode(round(keyword, DECIMALS)), _encode(model), weights_bytes)
            value = b'{"keyword":%b,"model":%b,"weights":%b}' % parts
            known = (value, b',"confidenceBreakdown":%b}%b' % (value, LEAD_SEPARATOR))
            if plain:
                breakdowns[keyword] = known
        lead = selection.lead(index)
        if b"\n" in lead or b"\r" in lead:
            # Copied from an indented state: made compact again (a JSON string cannot hold a
            # raw line break, so every one is layout).
            lead = msgspec.json.format(lead, indent=-1)
        if b'"confidenceBreakdown"' not in lead:
            lines += memoryview(lead)[:-1]
            lines += known[1]
        else:
            # Already has one (an old or foreign key): replace it in place, as a dict would.
            item = literal_lead(lead)
            item["confidenceBreakdown"] = msgspec.json.decode(known[0])
            lines += dump_literal(item)
            lines += LEAD_SEPARATOR
    del lines[len(lines) - len(LEAD_SEPARATOR) :]  # no separator after the last lead
    return lines
